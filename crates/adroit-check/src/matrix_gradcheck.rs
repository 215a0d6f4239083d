//! [`matrix_gradcheck`]: array code on adroit-reverse's matrix tape against finite differences
//! of the same code.

use crate::directions::{dot, random_vector, snapped_step};
use crate::fd::Step;
use crate::mismatch::{Checker, Entry};
use crate::{CheckScalar, Comparison, MatrixFn, Mismatch, Mode, Options, Report};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;

/// Checks the gradient of a scalar loss written with matrix operations (`f` returns a 1 × 1
/// [`MatVar`]) against finite differences of the same `f` (central unless `options.fd` says
/// otherwise, see [`Options::with_fd`](crate::Options::with_fd)) — PyTorch's `gradcheck` on
/// tensor functions, for adroit-reverse's [`matrix`] API. The values for the finite
/// differences come from `f` itself (recorded without a backward sweep), so no second copy of
/// the function is needed.
///
/// `inputs`: the matrices `f` is differentiated with respect to, in `f64` (code generic over
/// `T: MatScalar` is checked at `T = f64`: finite differences need the precision). A
/// [`Mismatch`] names the entry as `matrix_entry = (k, i, j)` (row `i`, column `j` of the
/// `k`-th input) and also numbers it in `input` as one list: the first matrix's entries in
/// column-major order, then the second's, and so on; `output` is 0.
///
/// [`Mode::Full`] compares every entry of every input's gradient (one finite difference each);
/// [`Mode::Fast`] compares `Σₖ ⟨∇ₖf, Uₖ⟩` with the finite difference of `t ↦ f(X + t·U)` for
/// `trials` random directions `U` of the inputs' shapes, as [`gradcheck`](crate::gradcheck)'s
/// fast mode and JAX's `check_grads` do. Tolerances: `options.fd_tolerance`, as
/// [`Tolerance::ad_vs_fd`](crate::Tolerance::ad_vs_fd). Only reverse mode is compared (the
/// matrix tape has no forward mode), so the [`Report`]'s `max_ad_error` is 0 and
/// `max_fd_error` is the largest reverse-vs-finite-difference error; in fast mode a mismatch
/// names no entry ("a random direction": the directional derivative `⟨∇f, U⟩`).
///
/// To check a function with a matrix result (a custom rule), use
/// [`matrix_vjp_check`](crate::matrix_vjp_check) rather than this of its `.sum()`: a sum seeds
/// every entry of the result with 1, which a pullback ignoring or transposing its cotangent
/// gets right by chance.
///
/// # Errors
/// The first [`Mismatch`] ([`Comparison::ReverseVsFiniteDifference`]); a pair that is NaN on
/// both sides fails (it proves nothing).
///
/// # Panics
/// If `f` does not return a 1 × 1 matrix (as [`matrix::gradient`]), if the inputs have no
/// entries (nothing to compare), if an entry is NaN or infinite (there is no derivative to
/// check there), with [`Mode::Fast`] and `trials: 0`, or on
/// `options` holding a tolerance or stencil its builders refuse (see [`Options`]).
///
/// # Example
/// ```
/// use adroit_check::nalgebra::{self, dmatrix};
/// use adroit_check::{Options, matrix_gradcheck};
/// use adroit_check::adroit_reverse::matrix::MatVar;
/// // ‖tanh(W x + b)‖² with respect to W and b
/// let x = dmatrix![0.5; -1.0];
/// let loss = |p: &[MatVar<f64>]| {
///     let h = (p[0] * MatVar::constant(x.clone()) + p[1]).tanh();
///     h.component_mul(h).sum()
/// };
/// let (w, b) = (dmatrix![0.1, -0.2; 0.3, 0.4], dmatrix![0.0; 0.1]);
/// let report = matrix_gradcheck(loss, &[w, b], &Options::for_precision::<f64>()).unwrap();
/// assert_eq!(report.comparisons, 6); // 4 + 2 entries
/// ```
#[track_caller]
pub fn matrix_gradcheck<F>(
    f: F,
    inputs: &[DMatrix<f64>],
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    F: Fn(&[MatVar<f64>]) -> MatVar<f64>,
{
    options.mode.check_trials("matrix_gradcheck");
    options.check("matrix_gradcheck");
    assert_checkable("matrix_gradcheck", inputs);
    let (_, grads) = matrix::value_and_gradient(|m| f(m), inputs);
    check_gradients("matrix_gradcheck", f, inputs, &grads, options)
}

/// [`matrix_gradcheck`] in the precision of the inputs: the gradient of `f` taken on the
/// matrix tape in `T` (`f32` or `f64`: the kernels, sums and rules of that element type) against
/// finite differences of the same `f` in `f64` at the same points, as
/// [`gradcheck`](crate::gradcheck) checks `f32` code. `f` is a [`MatrixFn`] (written once for
/// every element type, e.g. by [`matrix_fn!`](crate::matrix_fn)), so that it runs in both.
///
/// `inputs`: the matrices in `T`; use [`Options::for_precision`]`::<T>()`, whose tolerances
/// allow `T`'s rounding. Entries, modes, mismatches, errors and panics as [`matrix_gradcheck`]
/// (the gradient reported is the `T` one, converted exactly to `f64`).
///
/// # Example
/// ```
/// use adroit_check::nalgebra::{self, dmatrix};
/// use adroit_check::{Options, matrix_fn, matrix_gradcheck_generic};
/// // ‖softmax(W·x)‖² in f32, against f64 finite differences
/// let loss = matrix_fn!(|m| {
///     let x = adroit_check::adroit_reverse::matrix::MatVar::constant(
///         nalgebra::dmatrix![0.5; -1.0; 2.0].cast(),
///     );
///     let p = m[0].matmul(x).softmax(adroit_check::adroit_reverse::matrix::Along::Rows);
///     p.component_mul(p).sum()
/// });
/// let w = dmatrix![0.1_f32, -0.2, 0.3; 0.4, 0.0, -0.5];
/// let report = matrix_gradcheck_generic(&loss, &[w], &Options::for_precision::<f32>()).unwrap();
/// assert_eq!(report.comparisons, 6);
/// ```
#[track_caller]
pub fn matrix_gradcheck_generic<T, F>(
    f: &F,
    inputs: &[DMatrix<T>],
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar + MatScalar,
    F: MatrixFn,
{
    let who = "matrix_gradcheck_generic";
    options.mode.check_trials(who);
    options.check(who);
    let wide = widened(inputs);
    assert_checkable(who, &wide);
    let (_, grads) = matrix::value_and_gradient(|m| f.eval(m), inputs);
    let grads: Vec<DMatrix<f64>> = grads
        .iter()
        .map(|g| g.map(CheckScalar::to_f64_lossless))
        .collect();
    check_gradients(who, |m| f.eval(m), &wide, &grads, options)
        .map_err(|m| options.note_precision::<T>(m))
}

/// `inputs` in `f64`, exactly.
pub(crate) fn widened<T: CheckScalar>(inputs: &[DMatrix<T>]) -> Vec<DMatrix<f64>> {
    inputs
        .iter()
        .map(|m| m.map(CheckScalar::to_f64_lossless))
        .collect()
}

/// The comparisons of [`matrix_gradcheck`] (named `who` in panics): the gradients `grads` of
/// `f` at `inputs` against finite differences of `f`.
#[track_caller]
fn check_gradients<F>(
    who: &str,
    f: F,
    inputs: &[DMatrix<f64>],
    grads: &[DMatrix<f64>],
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    F: Fn(&[MatVar<f64>]) -> MatVar<f64>,
{
    let point = RefCell::new(inputs.to_vec());
    // f at the current `point`, for its value alone (no backward rule kept, the point read in
    // place).
    let value = || -> f64 {
        let y = matrix::evaluate(|m| f(m), &point.borrow());
        assert_eq!(
            y.shape(),
            (1, 1),
            "{who}: the function must return a 1×1 matrix (a scalar loss), got {}×{}",
            y.nrows(),
            y.ncols()
        );
        y[(0, 0)]
    };
    let mut checker = Checker::default();
    match options.mode {
        Mode::Full => {
            let mut flat = 0;
            for (k, grad) in grads.iter().enumerate() {
                for e in 0..grad.len() {
                    let x0 = inputs[k][e];
                    let fd = options.fd.estimate(
                        |t: f64| {
                            point.borrow_mut()[k][e] = t;
                            value()
                        },
                        x0,
                    );
                    point.borrow_mut()[k][e] = x0;
                    compare(&mut checker, Some(flat), grad[e], fd, options).map_err(|mut m| {
                        let rows = grad.nrows().max(1);
                        m.matrix_entry = Some((k, e % rows, e / rows));
                        m
                    })?;
                    flat += 1;
                }
            }
        }
        Mode::Fast { seed, trials } => {
            let mut rng = StdRng::seed_from_u64(seed);
            let x: Vec<f64> = inputs.iter().flat_map(|m| m.iter().copied()).collect();
            let g: Vec<f64> = grads.iter().flat_map(|m| m.iter().copied()).collect();
            // f at x + t·direction (flattened as the entries are numbered).
            let along = |direction: &[f64], t: f64| -> f64 {
                let mut at = 0;
                for m in point.borrow_mut().iter_mut() {
                    for v in m.iter_mut() {
                        *v = x[at] + t * direction[at];
                        at += 1;
                    }
                }
                value()
            };
            for _ in 0..trials {
                let u = random_vector(&mut rng, x.len());
                let (h, u, s) = snapped_step(options, &x, &u, &along);
                let fixed = options.fd.clone().with_step(Step::Fixed(h));
                let fd = fixed.estimate(|tau| along(&u, tau - s), s);
                // A random direction: no entry index (as gradcheck's fast mode).
                compare(&mut checker, None, dot(&g, &u), fd, options).map_err(|mut m| {
                    m.direction = Some(u.clone());
                    m
                })?;
            }
        }
    }
    Ok(checker.finish())
}

/// Panics, naming `who`, unless the inputs have an entry and every entry is finite.
#[track_caller]
pub(crate) fn assert_checkable(who: &str, inputs: &[DMatrix<f64>]) {
    assert!(
        inputs.iter().any(|m| !m.is_empty()),
        "{who}: nothing to compare (the inputs have no entries)"
    );
    for (k, m) in inputs.iter().enumerate() {
        if let Some(e) = m.iter().position(|v| !v.is_finite()) {
            let rows = m.nrows().max(1);
            panic!(
                "{who}: entry ({}, {}) of input {k} is not finite; check at finite points",
                e % rows,
                e / rows
            );
        }
    }
}

/// The entries `flat` (column-major, one matrix after another) as matrices of the shapes of
/// `like`.
pub(crate) fn shaped_like(flat: &[f64], like: &[DMatrix<f64>]) -> Vec<DMatrix<f64>> {
    let mut rest = flat;
    like.iter()
        .map(|m| {
            let (part, tail) = rest.split_at(m.len());
            rest = tail;
            DMatrix::from_column_slice(m.nrows(), m.ncols(), part)
        })
        .collect()
}

/// A gradient entry (`input`: its number, output 0) or a directional derivative (`None`: no
/// index) against its finite difference.
fn compare(
    checker: &mut Checker,
    input: Option<usize>,
    reverse: f64,
    fd: f64,
    options: &Options,
) -> Result<(), Box<Mismatch>> {
    let entry = Entry {
        input,
        output: input.map(|_| 0),
        reverse: Some(reverse),
        finite_difference: Some(fd),
        ..Entry::default()
    };
    checker.compare(
        Comparison::ReverseVsFiniteDifference,
        entry,
        reverse,
        fd,
        options.fd_tolerance,
    )
}
