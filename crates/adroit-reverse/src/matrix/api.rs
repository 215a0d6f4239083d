//! Gradients of scalar losses computed from matrices, with respect to every matrix input.

use super::tape::{Adjoint, MatScope, MatTape};
use super::value::NodeValue;
use super::{MatScalar, MatVar};
use nalgebra::DMatrix;
use std::borrow::Borrow;

/// Inputs up to this count are passed to the user's function from the stack (more from a
/// `Vec`).
const STACK_INPUTS: usize = 8;

/// Records `f` on `n` input nodes, the `k`-th recorded by `input(tape, k)`, on a fresh tape.
pub(crate) fn record<T: MatScalar, R>(
    n: usize,
    mut input: impl FnMut(&mut MatTape<T>, usize) -> MatVar<T>,
    f: impl FnOnce(&[MatVar<T>]) -> R,
) -> (R, MatTape<T>) {
    let scope = MatScope::<T>::enter();
    let out = if n <= STACK_INPUTS {
        // Filled below before `f` sees them (a placeholder of tape 0 is never valid).
        let mut vars = [MatVar::new(0, 0, (0, 0)); STACK_INPUTS];
        T::with_mat_tapes(|stack| {
            for (k, var) in vars[..n].iter_mut().enumerate() {
                *var = input(stack.active(), k);
            }
        });
        f(&vars[..n])
    } else {
        let vars: Vec<_> =
            T::with_mat_tapes(|stack| (0..n).map(|k| input(stack.active(), k)).collect());
        f(&vars)
    };
    let mut tape = scope.finish();
    // Under `detect_anomaly`: the first operation whose result held NaN — in a recording around
    // this one if one met a NaN before this one started (its result may be what this one read).
    if let Some(own) = tape.take_anomaly() {
        drop(tape);
        let earlier = T::with_mat_tapes(|stack| stack.take_earliest_anomaly());
        crate::matrix::anomaly::matrix_nan(&earlier.unwrap_or(own));
    }
    (out, tape)
}

/// The gradient of a scalar loss `f(inputs)` (a 1 × 1 [`MatVar`]) with respect to every input
/// matrix: one recording, one backward sweep.
///
/// `inputs`: `k` matrices of any shapes (`&[DMatrix<T>]`, or `&[&DMatrix<T>]` for matrices
/// held elsewhere; they are read in place, not copied); returns `k` matrices of the same
/// shapes.
///
/// # Panics
/// If `f` returns a matrix that is not 1 × 1 or belongs to another scope.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::dmatrix;
/// // ∂/∂A sum(A ⊙ A) = 2A
/// let a = dmatrix![1.0, -2.0; 0.5, 3.0];
/// let g = matrix::gradient(|m| m[0].component_mul(m[0]).sum(), &[a.clone()]);
/// assert_eq!(g[0], 2.0 * a);
/// ```
#[track_caller]
pub fn gradient<T, M, F>(f: F, inputs: &[M]) -> Vec<DMatrix<T>>
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<T>]) -> MatVar<T>,
{
    value_and_gradient(f, inputs).1
}

/// `(f(inputs), gradients)`, as [`gradient`].
///
/// # Panics
/// As [`gradient`]: if `f` returns a matrix that is not 1 × 1 or belongs to another scope.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// let (v, g) = matrix::value_and_gradient(|m| m[0].sum(), &[nalgebra::DMatrix::from_element(2, 3, 1.0)]);
/// assert_eq!((v, g[0].clone()), (6.0, nalgebra::DMatrix::from_element(2, 3, 1.0)));
/// ```
#[track_caller]
#[allow(unsafe_code)] // borrowed input values, see `matrix::value`
pub fn value_and_gradient<T, M, F>(f: F, inputs: &[M]) -> (T, Vec<DMatrix<T>>)
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<T>]) -> MatVar<T>,
{
    let n_inputs = inputs.len();
    // SAFETY: the tape holding these values is `tape` below, a local dropped (or recycled
    // with its values cleared) before this function returns, and `inputs` stays borrowed for
    // the whole call.
    let leaf = |tape: &mut MatTape<T>, k: usize| {
        tape.borrowed_input(unsafe { NodeValue::borrowed(inputs[k].borrow()) })
    };
    let (y, mut tape) = record(n_inputs, leaf, f);
    assert!(
        y.shape() == (1, 1),
        "matrix::gradient: the function must return a 1×1 matrix (a scalar loss), got {}×{} \
         (reduce it with .sum() or .mean(); a reduction along one dimension keeps the other: \
         Along::Rows sums each column into one row, Along::Cols each row into one column)",
        y.nrows(),
        y.ncols()
    );
    tape.check(&y);
    let value = tape.value(&y)[(0, 0)];
    let seed = Adjoint::Uniform {
        value: T::one(),
        shape: (1, 1),
    };
    let grads = tape.backward_once(&y, seed, n_inputs);
    // Before `inputs`' borrow ends (the tape holds pointers to them): the borrowed values are
    // cleared with the rest when the buffers are kept for the next call.
    super::tape::recycle(tape);
    (value, grads)
}

/// `(f(inputs), gradients, aux)` for `f` returning `(loss, aux)`: `aux` is any extra output
/// passed through, not differentiated (JAX's `has_aux`), e.g. the predictions or a metric
/// computed on the way. Return plain values in `aux` (`v.value()`, an owned copy, not the
/// [`MatVar`] `v`: a variable used after the call panics). Gradients as [`gradient`].
///
/// # Panics
/// As [`gradient`].
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::dmatrix;
/// // loss = sum((W·x)²), with the prediction W·x as the auxiliary output
/// let (w, x) = (dmatrix![1.0, 2.0], dmatrix![3.0; 4.0]);
/// let (loss, g, prediction) = matrix::value_and_gradient_with_aux(
///     |m| {
///         let p = m[0].matmul(m[1]);
///         (p.component_mul(p).sum(), p.value())
///     },
///     &[&w, &x],
/// );
/// assert_eq!((loss, prediction), (121.0, dmatrix![11.0]));
/// assert_eq!(g[0], dmatrix![66.0, 88.0]); // 2·(W·x)·xᵀ
/// ```
#[track_caller]
pub fn value_and_gradient_with_aux<T, M, A, F>(f: F, inputs: &[M]) -> (T, Vec<DMatrix<T>>, A)
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<T>]) -> (MatVar<T>, A),
{
    let mut aux = None;
    let (value, grads) = value_and_gradient(
        |m| {
            let (loss, a) = f(m);
            aux = Some(a);
            loss
        },
        inputs,
    );
    // `f` has run once by now: `value_and_gradient` calls its function before returning.
    let aux = aux.unwrap_or_else(|| unreachable!("value_and_gradient called f"));
    (value, grads, aux)
}

/// `f(inputs)` alone: matrix code run for its value, with no derivatives (as calling a JAX
/// function, or PyTorch under `torch.no_grad()`). The inputs are constants: no operation keeps
/// a backward rule or the values it would need, so this costs the operations alone: a loss
/// or a network's output outside training, or any `MatVar` code on plain matrices.
///
/// `inputs`: `k` matrices of any shapes (`&[DMatrix<T>]`, or `&[&DMatrix<T>]`; read in place,
/// not copied); returns `f`'s result, of any shape (in a buffer of its size).
///
/// # Panics
/// If `f` returns a matrix of another scope (one recorded outside this call), or as `f` does.
///
/// # Example
/// ```
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// // The softmax of each column, and the mean squared distance of two matrices.
/// let p = matrix::evaluate(|m| m[0].softmax(matrix::Along::Rows), &[dmatrix![0.0; 0.0]]);
/// assert_eq!(p, dmatrix![0.5; 0.5]);
/// let (a, b) = (dmatrix![1.0, 2.0], dmatrix![1.0, 4.0]);
/// let d = matrix::evaluate(|m| { let e = m[0] - m[1]; e.component_mul(e).mean() }, &[&a, &b]);
/// assert_eq!(d, dmatrix![2.0]);
/// ```
#[track_caller]
#[allow(unsafe_code)] // borrowed input values, see `matrix::value`
pub fn evaluate<T, M, F>(f: F, inputs: &[M]) -> DMatrix<T>
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<T>]) -> MatVar<T>,
{
    // SAFETY: as in `value_and_gradient`: `tape` below is dropped or recycled before this
    // function returns, and `inputs` stays borrowed for the whole call.
    let leaf = |tape: &mut MatTape<T>, k: usize| {
        tape.borrowed_constant(unsafe { NodeValue::borrowed(inputs[k].borrow()) })
    };
    let (y, mut tape) = record(inputs.len(), leaf, f);
    let value = tape.take_value(&y);
    // Before `inputs`' borrow ends (the tape holds pointers to them).
    super::tape::recycle(tape);
    // A pooled buffer can be up to twice the result's size: the caller gets one of its size.
    super::pool::exact(value)
}

/// Records `f` once and returns `(f(inputs), pullback)`; the [`MatPullback`] maps a cotangent
/// of the output (same shape) to the cotangents of the inputs, any number of times.
///
/// `inputs`: `k` matrices, copied onto the tape, which the pullback keeps (unlike
/// [`value_and_gradient`], which reads its inputs in place and also takes `&[&DMatrix<T>]`).
///
/// # Panics
/// If `f` returns a matrix of another scope (one recorded outside this call).
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::dmatrix;
/// let (y, pb) = matrix::pullback(|m| m[0].transpose(), &[dmatrix![1.0, 2.0]]);
/// assert_eq!(y, dmatrix![1.0; 2.0]);
/// assert_eq!(pb.call(&dmatrix![5.0; 6.0])[0], dmatrix![5.0, 6.0]);
/// ```
#[track_caller]
pub fn pullback<T, F>(f: F, inputs: &[DMatrix<T>]) -> (DMatrix<T>, MatPullback<T>)
where
    T: MatScalar,
    F: FnOnce(&[MatVar<T>]) -> MatVar<T>,
{
    let leaf = |tape: &mut MatTape<T>, k: usize| tape.leaf(inputs[k].clone(), true);
    let (y, tape) = record(inputs.len(), leaf, f);
    let value = tape.value(&y).clone();
    (
        value,
        MatPullback {
            tape,
            output: y,
            n_inputs: inputs.len(),
        },
    )
}

/// The pullback of a matrix function recorded by [`pullback`]: output cotangent to input
/// cotangents (one backward sweep per call).
///
/// It is not `Send`: it holds its recording's tape, whose backward rules (custom rules'
/// pullbacks and checkpointed functions among them) need not be `Send`; call it on the thread
/// that recorded it.
/// ```compile_fail,E0277
/// use adroit_reverse::{matrix, nalgebra::DMatrix};
/// fn on_another_thread<S: Send>(_: S) {}
/// let (_, pb) = matrix::pullback(|m| m[0].sum(), &[DMatrix::from_element(2, 2, 1.0)]);
/// on_another_thread(pb);
/// ```
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix;
/// use adroit_reverse::nalgebra::dmatrix;
///
/// // y = A·B for a 1 × 2 row A and a 2 × 1 column B: ∂A = G·Bᵀ, ∂B = Aᵀ·G
/// let (y, pb) = matrix::pullback(|m| m[0] * m[1], &[dmatrix![1.0, 2.0], dmatrix![3.0; 4.0]]);
/// assert_eq!(y, dmatrix![11.0]);
/// let g = pb.call(&dmatrix![1.0]);
/// assert_eq!((g[0].clone(), g[1].clone()), (dmatrix![3.0, 4.0], dmatrix![1.0; 2.0]));
/// ```
pub struct MatPullback<T: MatScalar> {
    tape: MatTape<T>,
    output: MatVar<T>,
    n_inputs: usize,
}

/// Shows the output's shape, the number of inputs and of recorded nodes.
impl<T: MatScalar> std::fmt::Debug for MatPullback<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MatPullback")
            .field("output_shape", &self.output.shape())
            .field("n_inputs", &self.n_inputs)
            .field("tape_nodes", &self.tape.len())
            .finish()
    }
}

impl<T: MatScalar> Drop for MatPullback<T> {
    /// Gives the recording's buffers to the thread's pool (see
    /// [`release_buffers`](crate::matrix::release_buffers)).
    fn drop(&mut self) {
        let tape = std::mem::replace(&mut self.tape, MatTape::none());
        super::tape::recycle(tape);
    }
}

impl<T: MatScalar> MatPullback<T> {
    /// The input cotangents for output cotangent `cotangent`.
    ///
    /// # Panics
    /// If `cotangent` does not have the output's shape.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // y = A ⊙ B: the cotangents are G ⊙ B and G ⊙ A, for any G
    /// let (a, b) = (dmatrix![1.0, 2.0], dmatrix![3.0, 4.0]);
    /// let (_, pb) = matrix::pullback(|m| m[0].component_mul(m[1]), &[a, b]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 0.0]), vec![dmatrix![3.0, 0.0], dmatrix![1.0, 0.0]]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 10.0]), vec![dmatrix![3.0, 40.0], dmatrix![1.0, 20.0]]);
    /// ```
    #[track_caller]
    pub fn call(&self, cotangent: &DMatrix<T>) -> Vec<DMatrix<T>> {
        assert!(
            cotangent.shape() == self.output.shape(),
            "MatPullback::call: the cotangent is {}×{} but the output is {}×{}",
            cotangent.nrows(),
            cotangent.ncols(),
            self.output.nrows(),
            self.output.ncols()
        );
        self.tape.backward(
            &self.output,
            Adjoint::Dense(cotangent.clone()),
            self.n_inputs,
        )
    }
}
