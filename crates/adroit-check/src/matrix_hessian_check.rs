//! [`matrix_hessian_check`]: second derivatives of array code on adroit-reverse's matrix tape
//! against finite differences of its gradient.

use crate::directions::{dot, random_vector, snapped_step};
use crate::fd::Step;
use crate::matrix_gradcheck::{assert_checkable, shaped_like};
use crate::mismatch::{Checker, Entry};
use crate::{Comparison, MatrixFn, Mismatch, Mode, Options, Report, Tolerance};
use adroit_reverse::matrix;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::collections::HashMap;

/// Checks the second derivatives of a scalar loss of matrices (PyTorch's `gradgradcheck`, for
/// adroit-reverse's [`matrix`] API): the Hessian of [`matrix::hessian`] (forward-over-reverse
/// on `DualVec` entries, reported as "reverse") against finite differences of the `f64`
/// matrix gradient within `options.fd_tolerance`, and its symmetry `H[i][j] = H[j][i]` within
/// `options.ad_tolerance`. The gradient itself is not checked (the reference is differences of
/// it, so a wrong first derivative passes): run
/// [`matrix_gradcheck`](crate::matrix_gradcheck) too.
///
/// `inputs`: the matrices `f` is differentiated with respect to, in `f64`. Entries are numbered
/// as one list, as [`matrix_gradcheck`](crate::matrix_gradcheck) numbers them (the first
/// matrix's entries in column-major order, then the second's, …), and as
/// [`matrix::hessian`] orders its rows and columns: a [`Mismatch`] in full mode names
/// `∂²f/∂x[row]∂x[col]` by those numbers.
///
/// Tolerances scale with the loss: each comparison's absolute tolerance (`atol` of
/// `options.fd_tolerance` and `options.ad_tolerance`) is multiplied by a scale (1 where that
/// is 0) — in full mode, for entry `(i, j)`, the largest entry of row `i` or row `j` by either
/// method (so a block a million times stiffer elsewhere does not hide a wrong entry here),
/// with the differences' rounding `4ε·|gᵢ|/h` added for the gradient `g` and the entry's step
/// `h` (a steep gradient's digits are lost in its differences); in fast mode the largest entry
/// of the two Hessian-vector products and the difference compared, with `4ε·Σ|vᵢ·gᵢ|/h`
/// added — so a loss scaled by 1e-8 cannot pass a wrong second derivative under the fixed
/// `atol`, nor a loss scaled by 1e6 fail an exact zero against the differences' noise. A
/// random projection cannot see an error much smaller than the largest curvature along it (an
/// entry of 3 for 6 beside a block of 2e8 passes fast mode): check such a loss in full mode.
///
/// [`Mode::Full`] compares every entry: for each of the `N` entries `x[col]`, each entry of the
/// gradient is differenced along it with its own step (adaptive by default), and the gradients
/// at the points visited along `x[col]` are computed once and shared by the `N` entries of that
/// column — from `N` to a few dozen gradients per column, as the steps' points coincide or not
/// (a `12 × 12` input: 0.10 s in a release build, against 1.6 s with a gradient per entry and
/// point); [`Mode::Fast`] compares `vᵀHu` for random `u`, `v` — the Hessian-vector
/// product of [`matrix::hvp`] (on `Dual` entries) against the finite difference of
/// `t ↦ vᵀ∇f(X + t·U)` — and the symmetry `vᵀ(Hu) = uᵀ(Hv)`: 2 comparisons per trial, at a
/// cost linear in `N`.
///
/// # Errors
/// The first [`Mismatch`] (second order: "forward-over-reverse" against "finite differences
/// of the gradient", or the symmetry); a pair that is NaN on both sides fails (it proves
/// nothing).
///
/// # Panics
/// If `f` does not return a 1 × 1 matrix (as [`matrix::gradient`]), if the inputs have no
/// entries (nothing to compare), if an entry is NaN or infinite (there is no derivative to
/// check there), or with [`Mode::Fast`] and `trials: 0`.
///
/// # Example
/// ```
/// use adroit_check::{MatrixFn, Mode, Options, matrix_fn, matrix_hessian_check};
/// use adroit_check::adroit_reverse::matrix::{Along, MatVar};
/// use adroit_check::nalgebra::{self, DMatrix, dmatrix};
/// // Softmax cross-entropy of W·x (classes × batch) against labels 0 and 2
/// let x = dmatrix![1.0, -0.5; 0.5, 2.0];
/// let loss = matrix_fn!([x: DMatrix<f64>] |m| {
///     let logits = m[0].matmul(MatVar::constant(x.clone().cast()));
///     -logits.logsoftmax(Along::Rows).take_along(Along::Rows, &[0, 2]).mean()
/// });
/// let w = dmatrix![0.1, 0.2; -0.3, 0.4; 0.0, -0.1];
/// let report = matrix_hessian_check(&loss, &[w.clone()], &Options::for_precision::<f64>()).unwrap();
/// assert_eq!(report.comparisons, 2 * 6 * 6); // each entry against differences and its transpose
/// let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 4 });
/// assert_eq!(matrix_hessian_check(&loss, &[w], &fast).unwrap().comparisons, 2 * 4);
/// ```
#[track_caller]
pub fn matrix_hessian_check<F: MatrixFn>(
    f: &F,
    inputs: &[DMatrix<f64>],
    options: &Options,
) -> Result<Report, Box<Mismatch>> {
    options.mode.check_trials("matrix_hessian_check");
    assert_checkable("matrix_hessian_check", inputs);
    let x = flat(inputs);
    // The f64 gradient at flattened entries `point`, flattened the same way.
    let gradient_at = |point: &[f64]| -> Vec<f64> {
        flat(&matrix::gradient(
            |m| f.eval(m),
            &shaped_like(point, inputs),
        ))
    };
    let result = match options.mode {
        Mode::Full => full(f, inputs, &x, &gradient_at, options),
        Mode::Fast { seed, trials } => fast(f, inputs, &x, &gradient_at, options, seed, trials),
    };
    result.map_err(|mut m| {
        m.second_order = true;
        m
    })
}

/// [`Mode::Full`]: every entry against the differences of the gradient, and its transpose.
fn full<F: MatrixFn>(
    f: &F,
    inputs: &[DMatrix<f64>],
    x: &[f64],
    gradient_at: &impl Fn(&[f64]) -> Vec<f64>,
    options: &Options,
) -> Result<Report, Box<Mismatch>> {
    let hessian = matrix::hessian(|m| f.eval(m), inputs);
    let n = x.len();
    let g = gradient_at(x);
    // Entry (row, col) by differences of the gradient's entry `row` along `x[col]`, with the
    // step the options choose for it, kept for the rounding allowance.
    let mut fd = DMatrix::zeros(n, n);
    let mut steps = DMatrix::zeros(n, n);
    for col in 0..n {
        // The gradient at each point visited along x[col], kept for every row: one gradient
        // serves all N entries of a column wherever their steps' points coincide (the
        // adaptive step's probes and a fixed step's stencil).
        let visited: RefCell<HashMap<u64, Vec<f64>>> = RefCell::default();
        for row in 0..n {
            let along = |t: f64| {
                if let Some(g) = visited.borrow().get(&t.to_bits()) {
                    return g[row];
                }
                let mut point = x.to_vec();
                point[col] = t;
                let g = gradient_at(&point);
                let entry = g[row];
                visited.borrow_mut().insert(t.to_bits(), g);
                entry
            };
            let h = options.fd.step_at(&along, x[col]);
            fd[(row, col)] = options
                .fd
                .clone()
                .with_step(Step::Fixed(h))
                .estimate(along, x[col]);
            steps[(row, col)] = h;
        }
    }
    // Each row's largest entry by either method (the Hessian is symmetric: its column's too).
    let rows: Vec<f64> = (0..n)
        .map(|i| largest(hessian.row(i).iter().chain(fd.row(i).iter())))
        .collect();
    let mut checker = Checker::default();
    for col in 0..n {
        for row in 0..n {
            let (value, reference) = (hessian[(row, col)], fd[(row, col)]);
            let at = (Some(col), Some(row));
            let transposed = hessian[(col, row)];
            let atol = Allowance {
                scale: rows[row].max(rows[col]),
                rounding: finite_or_zero(4.0 * f64::EPSILON * g[row].abs() / steps[(row, col)]),
            };
            compare(
                &mut checker,
                at,
                (value, reference, transposed),
                atol,
                options,
            )?;
        }
    }
    Ok(checker.finish())
}

/// [`Mode::Fast`]: `vᵀHu` against differences and `vᵀ(Hu) = uᵀ(Hv)`, for `trials` random pairs.
fn fast<F: MatrixFn>(
    f: &F,
    inputs: &[DMatrix<f64>],
    x: &[f64],
    gradient_at: &impl Fn(&[f64]) -> Vec<f64>,
    options: &Options,
    seed: u64,
    trials: usize,
) -> Result<Report, Box<Mismatch>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut checker = Checker::default();
    let g = gradient_at(x);
    for _ in 0..trials {
        let u = random_vector(&mut rng, x.len());
        let v = random_vector(&mut rng, x.len());
        // t ↦ vᵀ∇f(x + t·direction)
        let along = |direction: &[f64], t: f64| -> f64 {
            let point: Vec<f64> = x.iter().zip(direction).map(|(a, b)| a + t * b).collect();
            dot(&v, &gradient_at(&point))
        };
        let (h, u, s) = snapped_step(options, x, &u, &along);
        let hvp = |w: &[f64]| flat(&matrix::hvp(|m| f.eval(m), inputs, &shaped_like(w, inputs)));
        let (hu, hv) = (hvp(&u), hvp(&v));
        let fixed = options.fd.clone().with_step(Step::Fixed(h));
        let reference = fixed.estimate(|tau| along(&u, tau - s), s);
        let value = dot(&v, &hu);
        let terms: f64 = v.iter().zip(&g).map(|(a, b)| (a * b).abs()).sum();
        let atol = Allowance {
            scale: largest(hu.iter().chain(&hv).chain([&reference])),
            rounding: finite_or_zero(4.0 * f64::EPSILON * terms / h),
        };
        compare(
            &mut checker,
            (None, None),
            (value, reference, dot(&u, &hv)),
            atol,
            options,
        )?;
    }
    Ok(checker.finish())
}

/// The entries of `matrices`, one after another, each in column-major order.
fn flat(matrices: &[DMatrix<f64>]) -> Vec<f64> {
    matrices.iter().flat_map(|m| m.iter().copied()).collect()
}

/// The largest magnitude among `values` that are finite, or 1 when that is 0 (or there are
/// none): the scale of a Hessian's tolerances.
fn largest<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    let m = values
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if m > 0.0 { m } else { 1.0 }
}

/// `v`, or 0 when it is not finite (a NaN or infinite gradient: nothing to allow for).
fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// How a comparison's absolute tolerances grow: `atol·scale + rounding`.
#[derive(Clone, Copy)]
struct Allowance {
    scale: f64,
    rounding: f64,
}

impl Allowance {
    /// `tolerance` with its absolute part `atol·scale + rounding`.
    fn apply(self, tolerance: Tolerance) -> Tolerance {
        Tolerance::new(tolerance.atol * self.scale + self.rounding, tolerance.rtol)
    }
}

/// A second derivative (`at`: its column and row, or none for `vᵀHu`) against its finite
/// difference within `options.fd_tolerance`, then against its transposed counterpart within
/// `options.ad_tolerance`, their absolute parts grown by `allowance`.
fn compare(
    checker: &mut Checker,
    (input, output): (Option<usize>, Option<usize>),
    (value, reference, transposed): (f64, f64, f64),
    allowance: Allowance,
    options: &Options,
) -> Result<(), Box<Mismatch>> {
    let entry = Entry {
        input,
        output,
        reverse: Some(value),
        finite_difference: Some(reference),
        ..Entry::default()
    };
    let comparison = Comparison::ReverseVsFiniteDifference;
    let fd = allowance.apply(options.fd_tolerance);
    checker.compare(comparison, entry, value, reference, fd)?;
    let entry = Entry {
        finite_difference: None,
        ..entry
    };
    let ad = Allowance {
        rounding: 0.0,
        ..allowance
    };
    checker.compare_symmetry(entry, value, transposed, ad.apply(options.ad_tolerance))
}
