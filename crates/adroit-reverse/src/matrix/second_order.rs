//! Second derivatives of matrix code by forward-over-reverse: Hessian-vector products and
//! Hessians of a scalar loss with respect to every entry of its input matrices.
//!
//! The gradient sweep runs on dual numbers (the matrix tape records `Dual<T>` or
//! `DualVec<T, 12>` entries; matrix products run on the real kernel, two products per part),
//! seeded with a direction: the tangent of the gradient is the Hessian times that direction
//! (Pearlmutter 1994, "Fast exact multiplication by the Hessian"; JAX's `jvp(grad(f))`).

use super::api::value_and_gradient;
use super::{MatScalar, MatVar};
use crate::api::HESSIAN_CHUNK;
use adroit_forward::{Dual, DualVec};
use nalgebra::DMatrix;
use std::borrow::Borrow;

/// The Hessian-vector product `∇²f(X)·V` of a scalar loss of matrices, by forward-over-reverse
/// in one recording (the matrix gradient evaluated on `Dual`s seeded with `V`; its tangent is
/// the product).
///
/// `inputs`: `k` matrices `X₁ … X_k`; `directions`: `k` matrices `V₁ … V_k` of the same
/// shapes; returns `k` matrices of those shapes, the entries of `Σⱼ (∂²f/∂Xᵢ∂Xⱼ)·Vⱼ`. The
/// function's matrices are `MatVar<Dual<T>>`: write it generically over [`MatScalar`] (as
/// below) to use the same code for its value, gradient and Hessian, bring data in with
/// nalgebra's `cast` (`MatVar::constant(x.clone().cast())`, exact for a dual) and constants
/// as `T` (`m * T::from(0.5).unwrap()`: in generic code a float literal is not a `T`, so
/// `m * 0.5` does not compile, E0277; a closure over concrete duals may write `m * 0.5`).
/// `inputs` and `directions` may also be `&[&DMatrix<T>]` (matrices held elsewhere). To call
/// it many times with one function (Newton-CG), pass a reference to the closure (`&f`), or
/// get the gradient too from the same recording with [`value_gradient_and_hvp`].
///
/// Every matrix operation follows its first-order convention in the second order too: the
/// tied entries of a maximum or minimum share its tangent as they share its cotangent, a term
/// `0·∞` is 0 in every part, an undefined result (a singular `solve`) is NaN in every part; at
/// a kink (`relu` at 0) the second derivative is that of the branch taken, as in forward mode.
/// At repeated singular values, second derivatives through
/// [`singular_values`](MatVar::singular_values) are NaN (the singular vectors' tangents are
/// infinite there, as in JAX's rule), even for functions smooth there such as the nuclear norm.
///
/// A matrix read with [`value`](MatVar::value) inside `f` holds duals: made a constant again
/// it is constant to the reverse sweep, but still moves with the inputs along the direction,
/// so the result is the derivative of the gradient as computed (equal to finite differences of
/// [`gradient`](super::gradient)), not that of a value frozen in both orders (JAX's
/// `stop_gradient`): to freeze one in both, use [`MatVar::stop_gradient`].
/// This is what lets a [`custom_rule`](super::custom_rule)'s pullback, written in `T`'s
/// arithmetic on values it captured, carry its own derivative.
///
/// # Panics
/// If the counts or shapes of `inputs` and `directions` differ (the message names both), or as
/// [`gradient`](super::gradient): if `f` returns a matrix that is not 1 × 1. As the scalar
/// [`hvp`](crate::hvp), if `f` runs a forward-mode derivative seeding `Dual<T>` outside
/// `adroit_forward::independent` (a scalar `hvp` or another `matrix::hvp`, adroit-forward's
/// functions at plain `T` points, a [`MatVar::map`] in a `matrix::gradient`:
/// adroit-forward's perturbation-confusion guard).
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, DMatrix, dmatrix};
/// // Logistic regression: f(w) = Σ softplus(x·w) − y·(x·w), rows of x are samples.
/// fn loss<T: MatScalar>(w: MatVar<T>, x: &DMatrix<f64>, y: &DMatrix<f64>) -> MatVar<T> {
///     let z = MatVar::constant(x.clone().cast()).matmul(w);
///     let softplus = z.map(|v| adroit_reverse::adroit_forward::log_exp::log1p_exp(v));
///     (softplus - z.component_mul(MatVar::constant(y.clone().cast()))).sum()
/// }
/// let (x, y) = (dmatrix![1.0, 2.0; -1.0, 0.5; 0.0, 1.0], dmatrix![1.0; 0.0; 1.0]);
/// let w = dmatrix![0.1; -0.2];
/// let hv = matrix::hvp(|p| loss(p[0], &x, &y), &[w.clone()], &[dmatrix![1.0; 0.0]]);
/// // The Hessian is xᵀ·diag(σ(z)(1 − σ(z)))·x; its first column:
/// let z = &x * &w;
/// let s = z.map(|v| 1.0 / (1.0 + (-v).exp()));
/// let d = DMatrix::from_diagonal(&s.component_mul(&s.map(|p| 1.0 - p)).column(0));
/// let expected = (x.transpose() * d * &x).column(0).into_owned();
/// assert!((&hv[0] - expected).abs().max() < 1e-15);
/// // the same function's gradient:
/// let g = matrix::gradient(|p| loss(p[0], &x, &y), &[w]);
/// assert_eq!(g[0].shape(), (2, 1));
/// ```
#[track_caller]
pub fn hvp<T, M, V, F>(f: F, inputs: &[M], directions: &[V]) -> Vec<DMatrix<T>>
where
    T: MatScalar,
    Dual<T>: MatScalar,
    M: Borrow<DMatrix<T>>,
    V: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<Dual<T>>]) -> MatVar<Dual<T>>,
{
    let (_, grads) = dual_gradient(f, inputs, directions);
    grads.iter().map(|g| g.map(|d| d.tangent())).collect()
}

/// `(f(X), ∇f(X), ∇²f(X)·V)` from the one recording [`hvp`] makes: the value and the gradient
/// are the primal parts of its results (JAX's `jvp(grad(f), (x,), (v,))` returns the gradient
/// beside the product too), for Newton-CG and trust-region steps, which need both.
///
/// `inputs`, `directions`: as [`hvp`]; returns the value, `k` gradients and `k` products of the
/// inputs' shapes.
///
/// # Panics
/// As [`hvp`].
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// // f(w) = Σ w⁴/4 at w = (1, 2): gradient w³, Hessian diag(3w²)
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
///     m[0].powi(4).sum() * T::from(0.25).unwrap()
/// }
/// let w = dmatrix![1.0, 2.0];
/// let (value, grad, hv) = matrix::value_gradient_and_hvp(f, &[&w], &[dmatrix![1.0, 1.0]]);
/// assert_eq!((value, grad[0].clone(), hv[0].clone()), (4.25, dmatrix![1.0, 8.0], dmatrix![3.0, 12.0]));
/// ```
#[track_caller]
pub fn value_gradient_and_hvp<T, M, V, F>(
    f: F,
    inputs: &[M],
    directions: &[V],
) -> (T, Vec<DMatrix<T>>, Vec<DMatrix<T>>)
where
    T: MatScalar,
    Dual<T>: MatScalar,
    M: Borrow<DMatrix<T>>,
    V: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<Dual<T>>]) -> MatVar<Dual<T>>,
{
    let (value, grads) = dual_gradient(f, inputs, directions);
    let gradient = grads.iter().map(|g| g.map(|d| d.value())).collect();
    let product = grads.iter().map(|g| g.map(|d| d.tangent())).collect();
    (value.value(), gradient, product)
}

/// The matrix gradient of `f` at `inputs` on duals seeded with `directions` (after checking
/// their counts and shapes): its values are the value and gradient, its tangents the
/// Hessian-vector product.
#[track_caller]
fn dual_gradient<T, M, V, F>(
    f: F,
    inputs: &[M],
    directions: &[V],
) -> (Dual<T>, Vec<DMatrix<Dual<T>>>)
where
    T: MatScalar,
    Dual<T>: MatScalar,
    M: Borrow<DMatrix<T>>,
    V: Borrow<DMatrix<T>>,
    F: FnOnce(&[MatVar<Dual<T>>]) -> MatVar<Dual<T>>,
{
    assert!(
        inputs.len() == directions.len(),
        "matrix::hvp: {} inputs but {} directions",
        inputs.len(),
        directions.len()
    );
    for (k, (x, v)) in inputs.iter().zip(directions).enumerate() {
        let (x, v) = (x.borrow(), v.borrow());
        assert!(
            x.shape() == v.shape(),
            "matrix::hvp: input {k} is {}×{} but its direction is {}×{}",
            x.nrows(),
            x.ncols(),
            v.nrows(),
            v.ncols()
        );
    }
    // The inputs' duals carry a perturbation: recorded as adroit-forward's functions do, so
    // that `f` cannot confuse it with an enclosing forward-mode call's.
    let _nesting = adroit_forward::record_perturbation::<Dual<T>, F>();
    let point: Vec<DMatrix<Dual<T>>> = inputs
        .iter()
        .zip(directions)
        .map(|(x, v)| x.borrow().zip_map(v.borrow(), Dual::new))
        .collect();
    value_and_gradient(f, &point)
}

/// The Hessian of a scalar loss with respect to every entry of its input matrices, by
/// forward-over-reverse (another chunk size: [`hessian_chunked`]): `⌈N/12⌉` recordings on `DualVec<T, 12>` entries
/// ([`HESSIAN_CHUNK`](crate::HESSIAN_CHUNK)) for `N` entries in all, each seeded with 12
/// coordinate directions (the tangents of the gradient are 12 columns of the Hessian).
///
/// `inputs`: `k` matrices; returns the `N × N` matrix, `N` the inputs' total number of entries,
/// indexed by the entries flattened in order: input 0's entries in column-major order
/// (nalgebra's storage order, `as_slice()`), then input 1's, and so on — entry `(i, j)` of
/// an `r × c` input whose first entry is at `o` has index `o + j·r + i` (JAX's `hessian` of
/// the concatenated `ravel`s, with nalgebra's order). Symmetric up to rounding where `f` is
/// twice differentiable (conventions and exceptions: [`hvp`]). For one
/// product with a direction use [`hvp`] (one recording); the function takes
/// `MatVar<DualVec<T, 12>>` matrices (see [`hvp`] for writing it once for every type).
///
/// # Panics
/// As [`gradient`](super::gradient): if `f` returns a matrix that is not 1 × 1.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, DMatrix, dmatrix};
/// // f(A, b) = ‖A·b‖²: ∂²f/∂b² = 2AᵀA
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
///     let y = m[0].matmul(m[1]);
///     y.component_mul(y).sum()
/// }
/// let (a, b) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![0.5; -1.0]);
/// let h = matrix::hessian(f, &[a.clone(), b]);
/// assert_eq!(h.shape(), (6, 6)); // A's four entries, then b's two
/// assert_eq!(h.view((4, 4), (2, 2)), 2.0 * a.transpose() * &a);
/// assert_eq!(h, h.transpose());
/// ```
#[track_caller]
pub fn hessian<T, M, F>(f: F, inputs: &[M]) -> DMatrix<T>
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    DualVec<T, HESSIAN_CHUNK>: MatScalar,
    F: Fn(&[MatVar<DualVec<T, HESSIAN_CHUNK>>]) -> MatVar<DualVec<T, HESSIAN_CHUNK>>,
{
    value_gradient_and_hessian(f, inputs).2
}

/// [`hessian`] with a chosen chunk size `N` (one of [`HESSIAN_CHUNKS`](crate::HESSIAN_CHUNKS):
/// 1, 2, 4, 8, 12): `⌈N_total/N⌉` recordings on `DualVec<T, N>` entries, as adroit-reverse's
/// [`hessian_chunked`](crate::hessian_chunked). For inputs with few entries in all, the
/// smallest chunk of at least that many is the fastest (every entry of every matrix carries
/// `N` tangents).
///
/// `inputs`: `k` matrices; returns the Hessian of [`hessian`] (same order of entries), equal to
/// it up to rounding.
///
/// # Panics
/// As [`gradient`](super::gradient): if `f` returns a matrix that is not 1 × 1.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// // f(w) = ‖w‖⁴ for a 2-vector: Hessian 8wwᵀ + 4‖w‖²I, two entries: chunk 2
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
///     let s = m[0].component_mul(m[0]).sum();
///     s.component_mul(s)
/// }
/// let h = matrix::hessian_chunked::<2, _, _, _>(f, &[dmatrix![1.0; 2.0]]);
/// assert_eq!(h, dmatrix![28.0, 16.0; 16.0, 52.0]);
/// ```
/// A size outside [`HESSIAN_CHUNKS`](crate::HESSIAN_CHUNKS) does not compile:
/// ```compile_fail,E0277
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> { m[0].component_mul(m[0]).sum() }
/// let h = matrix::hessian_chunked::<3, _, _, _>(f, &[dmatrix![1.0; 2.0; 3.0]]);
/// ```
#[track_caller]
pub fn hessian_chunked<const N: usize, T, M, F>(f: F, inputs: &[M]) -> DMatrix<T>
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    DualVec<T, N>: MatScalar,
    F: Fn(&[MatVar<DualVec<T, N>>]) -> MatVar<DualVec<T, N>>,
{
    value_gradient_and_hessian_chunked::<N, T, M, F>(f, inputs).2
}

/// `(f(inputs), gradients, Hessian)` from the recordings [`hessian`] makes, at no extra cost:
/// the value and the gradients are the primal parts of its results (for Newton steps, which
/// need all three). With no input entries, `f` is recorded once, for the value.
///
/// `inputs`: `k` matrices; returns the value, `k` gradients of the inputs' shapes and the
/// `N × N` Hessian of [`hessian`].
///
/// # Panics
/// As [`gradient`](super::gradient): if `f` returns a matrix that is not 1 × 1.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// // One Newton step on f(w) = Σ (w − 3)⁴ / 4 + w²/2 from w = 0 (gradient −27, Hessian 28).
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
///     let c = |v: f64| T::from(v).unwrap(); // constants in generic code are `T`s
///     let d = m[0] - c(3.0);
///     d.map(|v| v * v * v * v).sum() * c(0.25) + m[0].component_mul(m[0]).sum() * c(0.5)
/// }
/// let (value, grad, hess) = matrix::value_gradient_and_hessian(f, &[dmatrix![0.0_f64]]);
/// assert_eq!((value, grad[0][0], hess[(0, 0)]), (20.25, -27.0, 28.0));
/// let step = hess.lu().solve(&grad[0]).unwrap();
/// assert!((step[0] + 27.0 / 28.0).abs() < 1e-15);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian<T, M, F>(f: F, inputs: &[M]) -> (T, Vec<DMatrix<T>>, DMatrix<T>)
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    DualVec<T, HESSIAN_CHUNK>: MatScalar,
    F: Fn(&[MatVar<DualVec<T, HESSIAN_CHUNK>>]) -> MatVar<DualVec<T, HESSIAN_CHUNK>>,
{
    value_gradient_and_hessian_chunked::<HESSIAN_CHUNK, T, M, F>(f, inputs)
}

/// [`value_gradient_and_hessian`] with a chosen chunk size `N`, as [`hessian_chunked`].
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
///     m[0].component_mul(m[0]).component_mul(m[0]).sum() // Σ w³
/// }
/// let (value, grad, hess) =
///     matrix::value_gradient_and_hessian_chunked::<1, _, _, _>(f, &[dmatrix![1.0, 2.0]]);
/// assert_eq!((value, grad[0].clone()), (9.0, dmatrix![3.0, 12.0]));
/// assert_eq!(hess, dmatrix![6.0, 0.0; 0.0, 12.0]);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian_chunked<const N: usize, T, M, F>(
    f: F,
    inputs: &[M],
) -> (T, Vec<DMatrix<T>>, DMatrix<T>)
where
    T: MatScalar,
    M: Borrow<DMatrix<T>>,
    DualVec<T, N>: MatScalar,
    F: Fn(&[MatVar<DualVec<T, N>>]) -> MatVar<DualVec<T, N>>,
{
    // Recorded as in `hvp`.
    let _nesting = adroit_forward::record_perturbation::<DualVec<T, N>, F>();
    let total: usize = inputs.iter().map(|x| x.borrow().len()).sum();
    let mut hess = DMatrix::from_element(total, total, T::zero());
    let mut primal = None;
    // Each chunk seeds the entries `start..start + N` of the flattened inputs.
    let mut start = 0;
    loop {
        let mut offset = 0;
        let point: Vec<DMatrix<DualVec<T, N>>> = inputs
            .iter()
            .map(|x| {
                let x = x.borrow();
                let first = offset;
                offset += x.len();
                DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
                    let index = first + j * x.nrows() + i;
                    if (start..start + N).contains(&index) {
                        DualVec::variable(x[(i, j)], index - start)
                    } else {
                        DualVec::constant(x[(i, j)])
                    }
                })
            })
            .collect();
        let (value, grads) = value_and_gradient(&f, &point);
        let width = N.min(total - start);
        let flat = grads.iter().flat_map(|g| g.iter());
        for (row, g) in flat.enumerate() {
            let t = g.tangents();
            for (l, &entry) in t.iter().enumerate().take(width) {
                hess[(row, start + l)] = entry;
            }
        }
        primal.get_or_insert_with(|| {
            let grads = grads.iter().map(|g| g.map(|d| d.value())).collect();
            (value.value(), grads)
        });
        start += N;
        if start >= total {
            break;
        }
    }
    let (value, grads) = primal.unwrap_or_else(|| unreachable!("recorded at least once"));
    (value, grads, hess)
}
