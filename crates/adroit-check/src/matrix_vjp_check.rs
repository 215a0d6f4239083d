//! [`matrix_vjp_check`]: the pullback of a matrix-valued function on adroit-reverse's matrix
//! tape, with random output cotangents, against finite differences.

use crate::{
    CheckScalar, MatrixFn, Mismatch, Options, Report, matrix_gradcheck, matrix_gradcheck_generic,
};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Checks the pullback (vector-Jacobian product) of a function from matrices to a matrix on the
/// matrix tape — a [`matrix::custom_rule`] or any array code — for `trials` random output
/// cotangents `W` (entries uniform in `[−1, 1)`, seeded by `seed`, of the output's shape): the
/// gradient of `X ↦ Σ W ⊙ f(X)` is compared with finite differences of the same `f` as
/// [`matrix_gradcheck`] compares a loss, entry by entry ([`Mode::Full`](crate::Mode::Full)) or
/// along random directions ([`Mode::Fast`](crate::Mode::Fast)). ChainRulesTestUtils'
/// `test_rrule` and [`rule_check`](crate::rule_check) do the same for scalar rules. For a
/// result of 2 to 16 entries, each entry's own cotangent `eₖ` (1 at entry `k`, 0 elsewhere) is
/// checked too, after the random ones, as `rule_check` does: a random cotangent weighs an
/// entry with small derivatives beside one with large derivatives, and the tolerance, relative
/// to the weighted sum, can hide an error in the small one (a pullback with `1.1·cos x` for
/// `sin x` beside `1e6·x` passed random cotangents). For a larger result it cannot (a check per
/// entry would cost that many gradient checks): check such outputs apart, or scale them alike.
///
/// Prefer it to `matrix_gradcheck` of `f(X).sum()` for a rule: a sum seeds every output entry
/// with 1, so a pullback that ignores its cotangent, or transposes a square one, passes that.
///
/// `inputs`: the matrices, in `f64` (as `matrix_gradcheck`). The [`Report`] adds up the
/// checks' comparisons (only reverse mode against finite differences: its `max_ad_error` and
/// `max_ad_tolerance_used` are 0, nothing having been compared between AD modes); a
/// [`Mismatch`] names the entry as `matrix_entry` and carries the trial's cotangent,
/// column-major, in [`Mismatch::cotangent`].
///
/// # Errors
/// The first [`Mismatch`] ([`Comparison::ReverseVsFiniteDifference`](crate::Comparison)).
///
/// # Panics
/// If `trials` is 0 (the pullback would never be called), if `f`'s result has no entries
/// (nothing to compare), and as `matrix_gradcheck` (inputs without entries, or with NaN or
/// infinite ones, or `options` holding a tolerance or stencil its builders refuse (see [`Options`](crate::Options))).
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
    options.check("matrix_vjp_check");
    matrix_gradcheck::assert_checkable("matrix_vjp_check", inputs);
    let (y, _) = matrix::pullback(|m| f(m), inputs);
    over_cotangents(
        "matrix_vjp_check",
        trials,
        seed,
        y.shape(),
        |w| w,
        |w| {
            let weighted =
                |m: &[MatVar<f64>]| f(m).component_mul(MatVar::constant(w.clone())).sum();
            matrix_gradcheck(weighted, inputs, options)
        },
    )
}

/// [`matrix_vjp_check`] in the precision of the inputs: the pullback of `f` taken on the
/// matrix tape in `T` (`f32` or `f64`) against finite differences of the same `f` in `f64`,
/// as [`matrix_gradcheck_generic`] checks a loss. `f` is a [`MatrixFn`] whose result may have
/// any shape here (written once for every element type, e.g. by
/// [`matrix_fn!`](crate::matrix_fn)). Each trial's cotangent is drawn as in
/// `matrix_vjp_check` and rounded to `T`, so that both precisions weight `f`'s entries by the
/// same numbers; the reported [`Mismatch::cotangent`] holds those rounded values.
///
/// `inputs`: the matrices in `T`; use [`Options::for_precision`]`::<T>()`, whose tolerances
/// allow `T`'s rounding. Errors and panics as [`matrix_vjp_check`].
///
/// # Errors
/// The first [`Mismatch`] ([`Comparison::ReverseVsFiniteDifference`](crate::Comparison)).
///
/// # Panics
/// As [`matrix_vjp_check`]: `trials` 0, a result without entries, inputs without entries or
/// with NaN or infinite ones, or bad `options`.
///
/// # Example
/// ```
/// use adroit_check::nalgebra::{self, dmatrix};
/// use adroit_check::{Options, matrix_fn, matrix_vjp_check_generic};
/// // softmax along each column in f32: a 3 × 2 result
/// let f = matrix_fn!(|m| m[0].softmax(adroit_check::adroit_reverse::matrix::Along::Rows));
/// let x = dmatrix![0.5_f32, -1.0; 2.0, 0.25; -0.75, 1.5];
/// let report = matrix_vjp_check_generic(&f, &[x], 3, 7, &Options::for_precision::<f32>()).unwrap();
/// // 3 random cotangents and the 6 entries' own, each compared at the 6 input entries
/// assert_eq!(report.comparisons, (3 + 6) * 6);
/// ```
#[track_caller]
pub fn matrix_vjp_check_generic<T, F>(
    f: &F,
    inputs: &[DMatrix<T>],
    trials: usize,
    seed: u64,
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar + MatScalar,
    F: MatrixFn,
{
    let who = "matrix_vjp_check_generic";
    assert!(trials > 0, "{who}: 0 trials would never call the pullback");
    options.check(who);
    matrix_gradcheck::assert_checkable(who, &matrix_gradcheck::widened(inputs));
    let (y, _) = matrix::pullback(|m| f.eval(m), inputs);
    let rounded = |w: DMatrix<f64>| w.map(|v| T::from_f64_rounded(v).to_f64_lossless());
    over_cotangents(who, trials, seed, y.shape(), rounded, |w| {
        let weighted = Weighted { f, w: w.clone() };
        matrix_gradcheck_generic(&weighted, inputs, options)
    })
}

/// `Σ W ⊙ f(X)` as a [`MatrixFn`]: the loss whose gradient is `f`'s pullback of `W`.
struct Weighted<'a, F> {
    f: &'a F,
    /// The cotangent, exactly representable in every precision checked.
    w: DMatrix<f64>,
}

impl<F: MatrixFn> MatrixFn for Weighted<'_, F> {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let w = MatVar::constant(self.w.clone().cast::<T>());
        self.f.eval(m).component_mul(w).sum()
    }
}

/// The largest result, in entries, whose entries [`matrix_vjp_check`] also checks one by one
/// (each with its own cotangent `eₖ`, after the random ones).
const BASIS_ENTRIES: usize = 16;

/// Runs `check` for `trials` random cotangents of the result's `shape` (entries uniform in
/// `[−1, 1)` from `seed`), then, for a result of 2 to [`BASIS_ENTRIES`] entries, for each
/// entry's own cotangent `eₖ` (each passed through `prepare`), naming the cotangent in a
/// mismatch and adding up the reports (`who` names the checker in the panic).
#[track_caller]
fn over_cotangents(
    who: &str,
    trials: usize,
    seed: u64,
    (rows, cols): (usize, usize),
    prepare: impl Fn(DMatrix<f64>) -> DMatrix<f64>,
    mut check: impl FnMut(&DMatrix<f64>) -> Result<Report, Box<Mismatch>>,
) -> Result<Report, Box<Mismatch>> {
    assert!(
        rows * cols > 0,
        "{who}: the function's result is {rows}×{cols}: nothing to compare"
    );
    let mut rng = StdRng::seed_from_u64(seed);
    let random: Vec<DMatrix<f64>> = (0..trials)
        .map(|_| DMatrix::from_fn(rows, cols, |_, _| rng.random_range(-1.0..1.0)))
        .collect();
    // With a few output entries, each one's own cotangent too (as `rule_check`): a random one
    // weighs an entry with small derivatives beside another's large ones, and the tolerance,
    // relative to the sum, hid a wrong one (1.1·cos x beside 1e6·x passed).
    let entries = rows * cols;
    let basis = (0..entries)
        .filter(|_| (2..=BASIS_ENTRIES).contains(&entries))
        .map(|k| DMatrix::from_fn(rows, cols, |i, j| if i + j * rows == k { 1.0 } else { 0.0 }));
    let mut total: Option<Report> = None;
    for w in random.into_iter().chain(basis) {
        let w = prepare(w);
        let report = check(&w).map_err(|mut m| {
            m.cotangent = Some(w.as_slice().to_vec());
            m
        })?;
        total = Some(match total {
            None => report,
            Some(t) => t.merged(report),
        });
    }
    Ok(total.expect("at least one trial"))
}
