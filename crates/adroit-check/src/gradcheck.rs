//! [`gradcheck`]: forward mode, reverse mode and finite differences must agree.

use crate::directions::{dot, random_vector, snapped_step};
use crate::fd::{Step, same_outputs};
use crate::mismatch::{Checker, Entry};
use crate::scalar::assert_finite_inputs;
use crate::{CheckScalar, GenericFn, Mismatch, Mode, Options, Report};
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Checks the derivatives of `f: ℝⁿ → ℝᵐ` at `x`: forward-mode and reverse-mode derivatives
/// must agree within `options.ad_tolerance`, and each must agree with finite differences (in
/// `f64`) within `options.fd_tolerance`.
///
/// In [`Mode::Full`] every Jacobian entry is compared; in [`Mode::Fast`] random directions
/// (see [`Mode`]). `x`: `n` inputs in the precision being checked (`f32` or `f64`).
///
/// Kinks and domain boundaries: finite differences evaluate `f` around `x` and are wrong
/// across a kink (`abs`, `max`, `relu`), a jump or a domain edge. The adaptive step shrinks
/// when its probe sees such a point nearby (a piecewise-linear function is estimated right to
/// within ~1e-3 of its kink), but where you know the distance `d` to the nearest one, bound
/// the reach: `options.with_fd(FiniteDifference::default().with_max_range(d / 4.0))`, as the
/// crate's own property tests do with [`Expr::input_margin`](crate::program::Expr::input_margin)
/// (see also [`strategy::float_away_from`](crate::strategy::float_away_from)).
///
/// # Errors
/// The first [`Mismatch`] found: which comparison, input and output index, the three values,
/// the errors and the tolerance. A pair that is NaN on both sides fails (it proves nothing,
/// e.g. `sqrt` at −1), as PyTorch's `gradcheck`.
///
/// Scale: the default finite-difference tolerance has an absolute part (`atol`, 1e-7 in f64),
/// so a derivative much smaller than it is hardly checked (a rule off by 2× at a slope of
/// 1e-8 passes, as in PyTorch's `gradcheck`): scale the function to order 1, or lower `atol`
/// with [`Options::with_fd_tolerance`]. A value much larger than its derivatives (`sin x +
/// 1e10`) leaves finite differences only rounding to measure.
///
/// Cancellation in `f32`: a derivative that is a sum of large terms cancelling to a small
/// result (a least-squares gradient over thousands of points, near the optimum) carries the
/// rounding of the terms, not of the result — both AD modes agree with each other and both
/// miss the `f64` finite difference, by more than the tolerance relative to the small result.
/// Check such points in `f64` (a rule wrong in both modes looks the same, which is why the
/// check cannot tell the two apart for you).
///
/// # Panics
/// If there is nothing to compare — no inputs, or `f` has no outputs at `x` (a vacuous pass,
/// which PyTorch's `gradcheck` refuses too) — with [`Mode::Fast`] and `trials: 0`, or if an
/// input is NaN or infinite (there is no derivative to check there), on
/// `options` holding a tolerance or stencil its builders refuse (see [`Options`]), or if `f`
/// returns another number of outputs at a point the finite differences evaluate than at `x`
/// (the number of outputs must not depend on the point).
///
/// # Example
/// ```
/// use adroit_check::{Options, generic_fn, gradcheck};
/// let f = generic_fn!(|x| vec![x[0] * x[1].sin(), x[1].exp()]);
/// let report = gradcheck(&f, &[0.5, 1.5], &Options::for_precision::<f64>()).unwrap();
/// assert_eq!(report.comparisons, 12);
/// ```
#[track_caller]
pub fn gradcheck<T, F>(f: &F, x: &[T], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    options.mode.check_trials("gradcheck");
    options.check("gradcheck");
    assert_finite_inputs("gradcheck", x);
    // Before calling `f`, which may index its inputs.
    assert!(!x.is_empty(), "gradcheck: nothing to compare (0 inputs)");
    let values = f.eval(&x.iter().map(|v| v.to_f64_lossless()).collect::<Vec<f64>>());
    assert!(
        !values.is_empty(),
        "gradcheck: nothing to compare ({} inputs, 0 outputs)",
        x.len()
    );
    let result = match options.mode {
        Mode::Full => full(f, x, &values, options),
        Mode::Fast { seed, trials } => fast(f, x, &values, options, seed, trials),
    };
    result.map_err(|m| options.note_precision::<T>(m))
}

/// `values`: `f(x)` in `f64`.
fn full<T, F>(f: &F, x: &[T], values: &[f64], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    let forward = T::forward_jacobian(f, x);
    let reverse = T::reverse_jacobian(f, x);
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let fd = options.fd.jacobian(|v: &[f64]| f.eval(v), &x64);
    let mut checker = Checker::default();
    checker.compare_matrices(
        (&forward, &reverse, &fd),
        Some(values),
        options.ad_tolerance,
        options.fd_tolerance,
    )?;
    Ok(checker.finish())
}

/// `values`: `f(x)` in `f64` (the primal reported as `wᵀf(x)`, in `f64` as in [`full`]).
fn fast<T, F>(
    f: &F,
    x: &[T],
    values: &[f64],
    options: &Options,
    seed: u64,
    trials: usize,
) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let (_, pullback) = T::reverse_pullback(f, x);
    let mut checker = Checker::default();
    for _ in 0..trials {
        let u = random_vector(&mut rng, x.len());
        let w = random_vector(&mut rng, values.len());
        // The finite difference of t ↦ wᵀf(x + t·u) takes one step h for all outputs, with
        // the direction snapped to it; all three sides then use the snapped u.
        let along = |direction: &[f64], t: f64| -> f64 {
            let point: Vec<f64> = x64.iter().zip(direction).map(|(a, b)| a + t * b).collect();
            // The same count check as full mode's finite differences (`dot` would zip them).
            dot(&w, &same_outputs("gradcheck", f.eval(&point), w.len()))
        };
        let (h, u, s) = snapped_step(options, &x64, &u, &along);
        let u_t: Vec<T> = u.iter().map(|&v| T::from_f64_rounded(v)).collect();
        let w_t: Vec<T> = w.iter().map(|&v| T::from_f64_rounded(v)).collect();
        let ju = T::forward_jvp(f, x, &u_t);
        let ju: Vec<f64> = ju.iter().map(|v| v.to_f64_lossless()).collect();
        let wj: Vec<f64> = pullback
            .call(&w_t)
            .iter()
            .map(|v| v.to_f64_lossless())
            .collect();
        let fixed = options.fd.clone().with_step(Step::Fixed(h));
        let fdv = fixed.estimate(|tau| along(&u, tau - s), s);
        let w_rounded: Vec<f64> = w_t.iter().map(|v| v.to_f64_lossless()).collect();
        let u_rounded: Vec<f64> = u_t.iter().map(|v| v.to_f64_lossless()).collect();
        let (fw, rv) = (dot(&w_rounded, &ju), dot(&wj, &u_rounded));
        let entry = Entry {
            forward: Some(fw),
            reverse: Some(rv),
            finite_difference: Some(fdv),
            primal: Some(dot(&w_rounded, values)),
            ..Entry::default()
        };
        checker
            .compare_modes(entry, options.ad_tolerance, options.fd_tolerance)
            .map_err(|mut m| {
                m.direction = Some(u_rounded.clone());
                m.cotangent = Some(w_rounded.clone());
                m
            })?;
    }
    Ok(checker.finish())
}
