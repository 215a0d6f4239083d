//! [`rule_check`]: a custom rule's pullback against finite differences of its primal function.

use crate::mismatch::{Checker, Comparison, Entry};
use crate::{CheckScalar, Mismatch, Options, Report};
use adroit_reverse::Var;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Checks a custom reverse-mode rule (one recorded with [`adroit_reverse::custom_rule`]), like
/// ChainRulesTestUtils' `test_rrule`: `recorded` runs the rule on variables, `primal` is the
/// same function on plain `f64`s. Checks that the recorded values equal the primal's (within
/// `options.ad_tolerance`) and that for `trials` random output cotangents `w` (seeded) — and,
/// for a rule of several outputs, for each output's own cotangent `eₖ` after them — the
/// pullback `wᵀJ` equals the finite-difference gradient of `x ↦ w·primal(x)` (within
/// `options.fd_tolerance`). (A random `w` alone mixes the outputs, and the tolerance,
/// relative to the mixture, hides an error in an output whose derivatives are small beside
/// another's: `cos x` returned as `1.1·cos x` beside an output `1e6·x` passed.) Each
/// cotangent costs one pullback and one finite-difference gradient: `(trials + m)·n`
/// comparisons for `m > 1` outputs and `n` inputs.
///
/// Scale: the default finite-difference tolerance has an absolute part (`atol`, 1e-7 in `f64`,
/// 1e-3 in `f32`), so a derivative far below it is hardly checked — the tails where stable
/// rules take their special branches (`softplus'(−25) ≈ 1.4·10⁻¹¹`: a rule off by 2× there
/// passes). Check such points with a relative tolerance only and a step bounded to the
/// function's own scale, `options.with_fd_tolerance(Tolerance::new(0.0, 1e-6))` and, for
/// softplus, `.with_fd(FiniteDifference::default().with_max_range(1e-2))`: the adaptive step
/// assumes values of order 1 (rounding of at least `ε`, see [`Step`](crate::fd::Step)), and at
/// values near 1e-11 takes a step of 0.15, whose truncation error (1.5e-5 relative at −25)
/// fails the correct rule (a subagent's hunt). Or scale the function to order 1 (as
/// [`gradcheck`](crate::gradcheck)'s "Scale"). `trials` and `seed` are this check's own:
/// `options.mode` is not read (every input entry is compared for each cotangent).
///
/// First derivatives only: a rule whose partials are built from plain numbers passes, though
/// under `adroit_reverse::hessian` it loses its own curvature (`custom_rule`'s docs, "Second
/// derivatives"). Check the second order with
/// [`reverse_hessian_check`](crate::reverse_hessian_check) (the rule written once, generic over
/// `T: TapeScalar`), which catches such a rule.
///
/// # Errors
/// The first [`Mismatch`]: [`Comparison::Value`](crate::Comparison::Value) with the output
/// index, or [`Comparison::ReverseVsFiniteDifference`](crate::Comparison::ReverseVsFiniteDifference)
/// with the input index. A value that is NaN on both sides fails too (it proves nothing).
///
/// # Panics
/// If the recorded rule and `primal` return different numbers of outputs, if there are no
/// inputs or no outputs (nothing to compare), if an input is NaN or infinite (there is no
/// derivative to check there), or if `trials` is 0 (the pullback would never be called, and
/// the check would pass), or on `options` holding a tolerance or stencil its builders refuse (see [`Options`](crate::Options)).
///
/// # Example
/// ```
/// use adroit_check::{Options, rule_check};
/// use adroit_check::adroit_reverse::custom_rule;
/// // y = x₀·x₁ with a hand-written pullback
/// let recorded = |x: &[adroit_check::adroit_reverse::Var<f64>]| {
///     let (a, b) = (x[0].value(), x[1].value());
///     custom_rule(x, &[a * b], move |w| vec![w[0] * b, w[0] * a])
/// };
/// let primal = |x: &[f64]| vec![x[0] * x[1]];
/// assert!(rule_check(primal, recorded, &[2.0, 3.0], 4, 1, &Options::for_precision::<f64>()).is_ok());
/// ```
#[track_caller]
pub fn rule_check<T, P, R>(
    primal: P,
    recorded: R,
    x: &[T],
    trials: usize,
    seed: u64,
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    P: Fn(&[f64]) -> Vec<f64>,
    R: FnOnce(&[Var<T>]) -> Vec<Var<T>>,
{
    assert!(
        trials > 0,
        "rule_check: 0 trials would never call the pullback"
    );
    options.check("rule_check");
    crate::scalar::assert_finite_inputs("rule_check", x);
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let (y, pullback) = adroit_reverse::pullback(recorded, x);
    let y_ref = primal(&x64);
    assert!(
        !x.is_empty() && !y_ref.is_empty(),
        "rule_check: nothing to compare ({} inputs, {} outputs)",
        x.len(),
        y_ref.len()
    );
    assert_eq!(
        y.len(),
        y_ref.len(),
        "rule_check: the recorded rule returned {} outputs, the primal {}",
        y.len(),
        y_ref.len()
    );
    let compare_all = || -> Result<Report, Box<Mismatch>> {
        let mut checker = Checker::default();
        for (k, (yk, rk)) in y.iter().zip(&y_ref).enumerate() {
            let v = yk.to_f64_lossless();
            let entry = Entry {
                output: Some(k),
                reverse: Some(v),
                primal: Some(*rk),
                ..Entry::default()
            };
            checker.compare(Comparison::Value, entry, v, *rk, options.ad_tolerance)?;
        }
        let mut rng = StdRng::seed_from_u64(seed);
        let random = (0..trials)
            .map(|_| {
                (0..y.len())
                    .map(|_| rng.random_range(-1.0..1.0))
                    .collect::<Vec<f64>>()
            })
            .collect::<Vec<_>>();
        // With several outputs, each one's own cotangent too: a random one weighs an output
        // with small derivatives beside another's large ones, and the tolerance, relative to
        // the sum, then hid a wrong one (cos for 1.1·cos beside 1e6 passed).
        let basis = (0..y.len()).filter(|_| y.len() > 1).map(|k| {
            let mut w = vec![0.0; y.len()];
            w[k] = 1.0;
            w
        });
        for w in random.into_iter().chain(basis) {
            let w_t: Vec<T> = w.iter().map(|&v| T::from_f64_rounded(v)).collect();
            let w_rounded: Vec<f64> = w_t.iter().map(|v| v.to_f64_lossless()).collect();
            let ct = pullback.call(&w_t);
            let reference = options.fd.gradient(
                |v: &[f64]| {
                    primal(v)
                        .iter()
                        .zip(&w_rounded)
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                },
                &x64,
            );
            for (j, (c, r)) in ct.iter().zip(&reference).enumerate() {
                let c = c.to_f64_lossless();
                let entry = Entry {
                    input: Some(j),
                    reverse: Some(c),
                    finite_difference: Some(*r),
                    ..Entry::default()
                };
                checker
                    .compare(
                        Comparison::ReverseVsFiniteDifference,
                        entry,
                        c,
                        *r,
                        options.fd_tolerance,
                    )
                    .map_err(|mut m| {
                        m.cotangent = Some(w_rounded.clone());
                        m
                    })?;
            }
        }
        Ok(checker.finish())
    };
    compare_all().map_err(|m| options.note_precision::<T>(m))
}
