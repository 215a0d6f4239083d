//! [`matrix_vjp_check`]: the pullback of a matrix-valued function on adroit-reverse's matrix
//! tape, with random output cotangents, against finite differences.

use crate::{Mismatch, Options, Report, matrix_gradcheck};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Checks the pullback (vector-Jacobian product) of a function from matrices to a matrix on the
/// matrix tape — a [`matrix::custom_rule`] or any array code — for `trials` random output
/// cotangents `W` (entries uniform in `[−1, 1)`, seeded by `seed`, of the output's shape): the
/// gradient of `X ↦ Σ W ⊙ f(X)` is compared with finite differences of the same `f` as
/// [`matrix_gradcheck`] compares a loss, entry by entry ([`Mode::Full`](crate::Mode::Full)) or
/// along random directions ([`Mode::Fast`](crate::Mode::Fast)). ChainRulesTestUtils'
/// `test_rrule` and [`rule_check`](crate::rule_check) do the same for scalar rules.
///
/// Prefer it to `matrix_gradcheck` of `f(X).sum()` for a rule: a sum seeds every output entry
/// with 1, so a pullback that ignores its cotangent, or transposes a square one, passes that.
///
/// `inputs`: the matrices, in `f64` (as `matrix_gradcheck`). The [`Report`] adds up the
/// trials' comparisons; a [`Mismatch`] names the entry as `matrix_entry` and carries the trial's
/// cotangent, column-major, in [`Mismatch::cotangent`].
///
/// # Errors
/// The first [`Mismatch`] ([`Comparison::ReverseVsFiniteDifference`](crate::Comparison)).
///
/// # Panics
/// If `trials` is 0 (the pullback would never be called), if `f`'s result has no entries
/// (nothing to compare), and as `matrix_gradcheck` (inputs without entries, or with NaN or
/// infinite ones).
///
/// # Example
/// A row-wise normalisation `yᵢ = xᵢ / ‖xᵢ‖` as a custom rule, its pullback
/// `x̄ᵢ = (ȳᵢ − yᵢ·⟨ȳᵢ, yᵢ⟩) / ‖xᵢ‖`; the same rule transposing its cotangent passes
/// `matrix_gradcheck` of a sum and fails here:
/// ```
/// use adroit_check::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_check::adroit_reverse::matrix::{self, MatVar};
/// use adroit_check::{Options, matrix_gradcheck, matrix_vjp_check};
/// fn normalise(x: MatVar<f64>, transposed_bug: bool) -> MatVar<f64> {
///     let v = x.value();
///     let norms: Vec<f64> = v.row_iter().map(|r| r.norm()).collect();
///     let y = DMatrix::from_fn(v.nrows(), v.ncols(), |i, j| v[(i, j)] / norms[i]);
///     let saved = y.clone();
///     matrix::custom_rule(&[x], y, move |g| {
///         let g = if transposed_bug { g.transpose() } else { g.clone() };
///         let dot: Vec<f64> = (0..saved.nrows()).map(|i| g.row(i).dot(&saved.row(i))).collect();
///         vec![DMatrix::from_fn(saved.nrows(), saved.ncols(), |i, j| {
///             (g[(i, j)] - saved[(i, j)] * dot[i]) / norms[i]
///         })]
///     })
/// }
/// let x = [dmatrix![1.0, 2.0; -0.5, 3.0]];
/// let options = Options::for_precision::<f64>();
/// assert!(matrix_vjp_check(|m| normalise(m[0], false), &x, 4, 1, &options).is_ok());
/// // the bug: invisible to a sum's all-ones cotangent, caught by random ones
/// assert!(matrix_gradcheck(|m| normalise(m[0], true).sum(), &x, &options).is_ok());
/// let m = matrix_vjp_check(|m| normalise(m[0], true), &x, 4, 1, &options).unwrap_err();
/// assert_eq!(m.cotangent.as_ref().map(Vec::len), Some(4));
/// ```
#[track_caller]
pub fn matrix_vjp_check<F>(
    f: F,
    inputs: &[DMatrix<f64>],
    trials: usize,
    seed: u64,
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    F: Fn(&[MatVar<f64>]) -> MatVar<f64>,
{
    assert!(
        trials > 0,
        "matrix_vjp_check: 0 trials would never call the pullback"
    );
    matrix_gradcheck::assert_checkable("matrix_vjp_check", inputs);
    let (y, _) = matrix::pullback(|m| f(m), inputs);
    let (rows, cols) = y.shape();
    assert!(
        rows * cols > 0,
        "matrix_vjp_check: the function's result is {rows}×{cols}: nothing to compare"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let mut total: Option<Report> = None;
    for _ in 0..trials {
        let w = DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0));
        let weighted = |m: &[MatVar<f64>]| f(m).component_mul(MatVar::constant(w.clone())).sum();
        let report = matrix_gradcheck(weighted, inputs, options).map_err(|mut m| {
            m.cotangent = Some(w.as_slice().to_vec());
            m
        })?;
        total = Some(match total {
            None => report,
            Some(t) => merged(t, report),
        });
    }
    Ok(total.expect("at least one trial"))
}

/// Two reports as one: comparisons added, the largest errors kept.
fn merged(a: Report, b: Report) -> Report {
    Report {
        comparisons: a.comparisons + b.comparisons,
        max_ad_error: a.max_ad_error.max(b.max_ad_error),
        max_fd_error: a.max_fd_error.max(b.max_fd_error),
        max_ad_tolerance_used: a.max_ad_tolerance_used.max(b.max_ad_tolerance_used),
        max_fd_tolerance_used: a.max_fd_tolerance_used.max(b.max_fd_tolerance_used),
    }
}
