//! [`matrix_hessian_check`]: second derivatives of array code on adroit-reverse's matrix tape
//! against finite differences of its gradient.

use crate::matrix_gradcheck::{assert_checkable, shaped_like};
use crate::second_order::{self, Scale};
use crate::{MatrixFn, Mismatch, Mode, Options, Report};
use adroit_reverse::matrix;
use nalgebra::DMatrix;

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
/// is 0) — in full mode, for entry `(i, j)` against the differences of the gradient's entry
/// `gᵢ`, the largest entry of row `i` by either method (so a block a million times stiffer
/// elsewhere does not hide a wrong entry here, nor a stiff entry beside it in its row: of a
/// symmetric error's two entries, the one in the other row is held to that row's scale), with
/// the differences' rounding `4ε·|gᵢ|/h` added for the entry's step `h` (a steep gradient's
/// digits are lost in its differences); for its symmetry, the larger of rows `i` and `j`; in
/// fast mode the largest entry
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
/// check there), with [`Mode::Fast`] and `trials: 0`, or on
/// `options` holding a tolerance or stencil its builders refuse (see [`Options`]).
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
    options.check("matrix_hessian_check");
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
        Mode::Full => {
            let hessian = matrix::hessian(|m| f.eval(m), inputs);
            second_order::full(&hessian, &x, &gradient_at, options, Scale::Rows)
        }
        Mode::Fast { seed, trials } => {
            let hvp =
                |w: &[f64]| flat(&matrix::hvp(|m| f.eval(m), inputs, &shaped_like(w, inputs)));
            second_order::fast(&hvp, &x, &gradient_at, options, (seed, trials))
        }
    };
    result.map_err(|mut m| {
        m.second_order = true;
        // Full mode's row and column, as entries of the input matrices.
        m.matrix_entry = m.input.and_then(|col| entry_of(col, inputs));
        m.matrix_row_entry = m.output.and_then(|row| entry_of(row, inputs));
        m
    })
}

/// Entry `flat` of the inputs in order as `(k, i, j)`: row `i`, column `j` of matrix `k`.
fn entry_of(mut flat: usize, inputs: &[DMatrix<f64>]) -> Option<(usize, usize, usize)> {
    for (k, m) in inputs.iter().enumerate() {
        if flat < m.len() {
            return Some((k, flat % m.nrows(), flat / m.nrows()));
        }
        flat -= m.len();
    }
    None
}

/// The entries of `matrices`, one after another, each in column-major order.
fn flat(matrices: &[DMatrix<f64>]) -> Vec<f64> {
    matrices.iter().flat_map(|m| m.iter().copied()).collect()
}
