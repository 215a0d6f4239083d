//! The checkers find wrong derivatives and say where.

use adroit_check::{
    Comparison, GenericFn, Mode, Options, Tolerance, generic_fn, gradcheck, hessian_check,
    rule_check,
};
use adroit_reverse::{Var, custom_rule, custom_scalar};
use num_traits::Float;

/// `f(x) = (x₀·x₁, x₁²)` whose reverse mode goes through a custom rule with a *wrong* pullback
/// for ∂f₀/∂x₁ (x₀ + 1 instead of x₀).
struct WrongRule;

impl GenericFn for WrongRule {
    fn eval<S: Float>(&self, x: &[S]) -> Vec<S> {
        vec![x[0] * x[1], x[1] * x[1]]
    }
}

#[test]
fn gradcheck_passes_correct_functions_in_both_modes() {
    let f = generic_fn!(|x| vec![x[0].sin() * x[1], (x[0] * x[1]).exp(), x[1].atan2(x[0])]);
    let full = gradcheck(&f, &[0.4, -0.9], &Options::for_precision::<f64>()).unwrap();
    assert_eq!(full.comparisons, 3 * 2 * 3);
    assert!(
        full.max_ad_error < 1e-14 && full.max_fd_error < 1e-9,
        "{full:?}"
    );
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 5 });
    assert_eq!(gradcheck(&f, &[0.4, -0.9], &fast).unwrap().comparisons, 15);
    let f32_report = gradcheck(&f, &[0.4f32, -0.9], &Options::for_precision::<f32>()).unwrap();
    assert!(f32_report.max_fd_error < 1e-5, "{f32_report:?}");
}

#[test]
fn checks_run_on_code_using_erf_and_erfc() {
    // The exact GELU x·½·erfc(−x/√2) and erf of a product: generic_fn! bodies may call erf
    // and erfc, and every mode (duals, tape, second order) differentiates them.
    let f = generic_fn!(|x| {
        let half = S::from(0.5).unwrap();
        let gelu = x[0] * half * (-x[0] * S::from(std::f64::consts::FRAC_1_SQRT_2).unwrap()).erfc();
        vec![gelu, (x[0] * x[1]).erf()]
    });
    let x = [0.7, -0.4];
    let report = gradcheck(&f, &x, &Options::for_precision::<f64>()).unwrap();
    assert!(report.max_fd_error < 1e-9, "{report:?}");
    let f32_report = gradcheck(&f, &[0.7f32, -0.4], &Options::for_precision::<f32>()).unwrap();
    assert!(f32_report.max_fd_error < 1e-4, "{f32_report:?}");
    hessian_check(&f, &x, &Options::for_precision::<f64>()).unwrap();
    // The GELU's derivative Φ(x) + x·φ(x), from its analytic form.
    let g = adroit_reverse::gradient(|v| f.eval(v).remove(0), &x);
    let (pdf, cdf) = (
        (-0.49_f64 / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt(),
        0.758_036_347_776_927_5, // Φ(0.7)
    );
    assert!((g[0] - (cdf + 0.7 * pdf)).abs() < 1e-12, "{g:?}");
}

#[test]
fn rule_check_finds_a_wrong_pullback_and_names_it() {
    let recorded = |x: &[Var<f64>]| {
        let (a, b) = (x[0].value(), x[1].value());
        // Wrong: ∂(ab)/∂b is a, not a + 1.
        custom_rule(x, &[a * b], move |w| vec![w[0] * b, w[0] * (a + 1.0)])
    };
    let primal = |x: &[f64]| WrongRule.eval(x)[..1].to_vec();
    let err = rule_check(
        primal,
        recorded,
        &[2.0, 3.0],
        3,
        7,
        &Options::for_precision::<f64>(),
    )
    .unwrap_err();
    assert_eq!(err.comparison, Comparison::ReverseVsFiniteDifference);
    assert_eq!(err.input, Some(1));
    assert!(err.abs_error > 0.01);
    let text = err.to_string();
    assert!(text.contains("reverse vs finite differences"), "{text}");
    assert!(text.contains("input[1]"), "{text}");
    assert!(text.contains("tolerance atol"), "{text}");
    // The correct rule passes.
    let correct = |x: &[Var<f64>]| {
        let (a, b) = (x[0].value(), x[1].value());
        vec![custom_scalar(x, a * b, &[b, a])]
    };
    assert!(
        rule_check(
            primal,
            correct,
            &[2.0, 3.0],
            3,
            7,
            &Options::for_precision::<f64>()
        )
        .is_ok()
    );
}

#[test]
fn rule_check_finds_a_wrong_value() {
    let recorded = |x: &[Var<f64>]| custom_rule(x, &[x[0].value() + 1.0], |w| vec![w[0]]);
    let err = rule_check(
        |x: &[f64]| vec![x[0]],
        recorded,
        &[2.0],
        1,
        0,
        &Options::for_precision::<f64>(),
    )
    .unwrap_err();
    assert_eq!((err.comparison, err.output), (Comparison::Value, Some(0)));
}

/// A function whose forward and reverse derivatives disagree on purpose: the reverse path
/// records x₀² through a custom rule with a wrong pullback.
struct Inconsistent;

impl GenericFn for Inconsistent {
    fn eval<S: Float>(&self, x: &[S]) -> Vec<S> {
        // Only `Var<f64>` takes the custom path (detected through its type name).
        if std::any::type_name::<S>().contains("Var<f64>") {
            let y = x[0] * x[0];
            let bad = with_derivative_times_one_and_a_half::<S>(y);
            return vec![bad];
        }
        vec![x[0] * x[0]]
    }
}

/// Returns the value of `y` with 1.5 times its derivative: y + ½y − (½y as a constant).
fn with_derivative_times_one_and_a_half<S: Float>(y: S) -> S {
    y + y * S::from(0.5).unwrap() - y.to_f64().map(|v| S::from(v * 0.5).unwrap()).unwrap()
}

#[test]
fn gradcheck_reports_forward_vs_reverse_disagreement() {
    let err = gradcheck(&Inconsistent, &[2.0], &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(err.comparison, Comparison::ForwardVsReverse);
    assert_eq!((err.input, err.output), (Some(0), Some(0)));
    assert_eq!((err.forward, err.reverse), (Some(4.0), Some(6.0)));
    assert!(err.to_string().contains("forward vs reverse"));
}

#[test]
fn hessian_check_passes_and_detects_tolerance_violations() {
    let f = generic_fn!(|x| vec![x[0] * x[0] * x[1] + (x[0] * x[1]).sin() + x[1].powi(3)]);
    let report = hessian_check(&f, &[0.3, -0.8], &Options::for_precision::<f64>()).unwrap();
    // per entry: the two modes, forward-over-reverse against the differences, the symmetry
    assert_eq!(report.comparisons, 3 * 4);
    let strict = Options::for_precision::<f64>().with_fd_tolerance(Tolerance::new(0.0, 0.0));
    let err = hessian_check(&f, &[0.3, -0.8], &strict).unwrap_err();
    assert_eq!(err.comparison, Comparison::ReverseVsFiniteDifference);
}

#[test]
fn hessian_check_fast_mode_compares_random_directions() {
    // It ignored the mode (n² finite differences: seconds at n = 200); now 4 comparisons per
    // trial: vᵀHu three ways and the symmetry vᵀ(Hu) = uᵀ(Hv).
    let lse = generic_fn!(|x| {
        let m = x.iter().fold(S::neg_infinity(), |a, &b| a.max(b));
        vec![
            m + x
                .iter()
                .map(|&v| (v - m).exp())
                .fold(S::zero(), |a, b| a + b)
                .ln(),
        ]
    });
    let x: Vec<f64> = (0..200).map(|i| (f64::from(i) * 0.37).sin()).collect();
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 9, trials: 3 });
    let report = hessian_check(&lse, &x, &fast).unwrap();
    assert_eq!(report.comparisons, 4 * 3);
    // A program whose second derivative AD cannot see (a special case at 0: sin(x)/x's
    // branch x = 0 returns the constant 1, whose second derivative is 0, not −⅓) is caught.
    let sinc = generic_fn!(|x| vec![if x[0] == S::zero() {
        S::one()
    } else {
        x[0].sin() / x[0]
    }]);
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 2 });
    let err = hessian_check(&sinc, &[0.0], &fast).unwrap_err();
    assert_eq!(err.comparison, Comparison::ForwardVsFiniteDifference);
    // AD: 0; finite differences: −⅓·u·v for the random pair. The message says it is a
    // second derivative and what "forward" and "reverse" mean there.
    assert_eq!(err.forward, Some(0.0));
    assert!(err.finite_difference.unwrap().abs() > 1e-3, "{err}");
    assert!(err.second_order);
    assert!(
        err.to_string().starts_with(
            "second-derivative mismatch (forward-over-forward vs finite differences of the \
             gradient) at a random direction pair (vᵀ·H·u; Mode::Full names the entry):"
        ),
        "{err}"
    );
    let err = hessian_check(&sinc, &[0.0], &Options::for_precision::<f64>()).unwrap_err();
    assert!(err.to_string().contains("at ∂²f/∂x[0]∂x[0]:"), "{err}");
}

#[test]
fn a_function_undefined_at_the_point_is_named_as_such() {
    // √x at −1: every value is NaN; the message used to read as a forward/reverse mismatch.
    let f = generic_fn!(|x| vec![x[0].sqrt()]);
    let m = gradcheck(&f, &[-1.0], &Options::for_precision::<f64>()).unwrap_err();
    let text = m.to_string();
    assert!(
        text.contains("f itself is NaN at this point: it lies outside the function's domain"),
        "{text}"
    );
    // A finite mismatch (a custom rule's wrong slope) does not carry the note.
    let recorded = |x: &[Var<f64>]| custom_rule(x, &[x[0].value() * x[0].value()], |w| vec![w[0]]);
    let options = Options::for_precision::<f64>();
    let m = rule_check(
        |x: &[f64]| vec![x[0] * x[0]],
        recorded,
        &[3.0],
        1,
        0,
        &options,
    )
    .unwrap_err();
    assert!(!m.to_string().contains("NaN"), "{m}");
}

#[test]
fn a_finite_difference_outside_the_domain_is_named_as_such() {
    // √(x − 1)·y at x = 1 + 4ε: no step the stencil can take (at least an ulp of x) stays
    // above 1; AD is finite. (At 1e-12 from a boundary at 0 the adaptive step now fits.)
    let f = generic_fn!(|x| vec![(x[0] - S::one()).sqrt() * x[1]]);
    let at = [1.0 + 4.0 * f64::EPSILON, 2.0];
    let m = gradcheck(&f, &at, &Options::for_precision::<f64>()).unwrap_err();
    assert!(m.finite_difference.unwrap().is_nan(), "{m}");
    // f is finite at the point itself (and shown): the stencil's hint, not the domain's.
    assert!(m.primal.unwrap().is_finite(), "{m}");
    assert!(
        m.to_string()
            .contains("did its stencil leave the function's domain"),
        "{m}"
    );
}

#[test]
#[should_panic(expected = "gradcheck: Mode::Fast with 0 trials would check nothing")]
fn fast_gradcheck_with_no_trial_panics() {
    let f = generic_fn!(|x| vec![x[0] * x[0]]);
    let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 0, trials: 0 });
    let _ = gradcheck(&f, &[1.0], &options);
}

#[test]
#[should_panic(expected = "hessian_check: Mode::Fast with 0 trials would check nothing")]
fn fast_hessian_check_with_no_trial_panics() {
    let f = generic_fn!(|x| vec![x[0] * x[0]]);
    let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 0, trials: 0 });
    let _ = hessian_check(&f, &[1.0], &options);
}

#[test]
#[should_panic(expected = "rule_check: 0 trials would never call the pullback")]
fn rule_check_with_no_trial_panics() {
    // A wrong pullback (slope 1 for x²) that 0 trials would have passed.
    let recorded = |x: &[Var<f64>]| custom_rule(x, &[x[0].value() * x[0].value()], |w| vec![w[0]]);
    let _ = rule_check(
        |x: &[f64]| vec![x[0] * x[0]],
        recorded,
        &[3.0],
        0,
        0,
        &Options::for_precision::<f64>(),
    );
}

#[test]
#[should_panic(expected = "gradcheck: nothing to compare (0 inputs)")]
fn gradcheck_of_no_inputs_panics() {
    let f = generic_fn!(|_x| vec![S::one()]);
    let _ = gradcheck::<f64, _>(&f, &[], &Options::for_precision::<f64>());
}

#[test]
#[should_panic(expected = "gradcheck: nothing to compare (0 inputs)")]
fn gradcheck_of_no_inputs_panics_before_calling_f() {
    // A hunt: f indexing its inputs panicked first, with "index out of bounds".
    let f = generic_fn!(|x| vec![x[0] * x[0]]);
    let _ = gradcheck::<f64, _>(&f, &[], &Options::for_precision::<f64>());
}

#[test]
#[should_panic(expected = "gradcheck: nothing to compare (1 inputs, 0 outputs)")]
fn gradcheck_of_no_outputs_panics() {
    let f = generic_fn!(|_x| Vec::<S>::new());
    let _ = gradcheck(&f, &[1.0], &Options::for_precision::<f64>());
}

// From a user trial: settings and inputs that made every check fail, or compared the wrong
// derivative, with a message blaming the derivatives.

#[test]
#[should_panic(expected = "Tolerance::new: atol and rtol must be finite and ≥ 0")]
fn a_negative_tolerance_is_refused() {
    let _ = Tolerance::new(-1.0, 0.0);
}

#[test]
#[should_panic(expected = "Tolerance::new: atol and rtol must be finite and ≥ 0")]
fn a_nan_tolerance_is_refused() {
    let _ = Tolerance::new(0.0, f64::NAN);
}

#[test]
#[should_panic(expected = "Tolerance::new: atol and rtol must be finite and ≥ 0")]
fn an_infinite_tolerance_is_refused() {
    // A hunt: it was accepted, passed a derivative off by 100 and reported 0 % of it used.
    let _ = Tolerance::new(f64::INFINITY, 0.0);
}

#[test]
#[should_panic(expected = "the stencil estimates derivative order 2")]
fn a_second_derivative_stencil_is_refused() {
    let fd = adroit_check::fd::FiniteDifference::central(3, 2);
    let _ = Options::for_precision::<f64>().with_fd(fd);
}

#[test]
#[should_panic(expected = "gradcheck: input 0 is not finite")]
fn gradcheck_refuses_a_nan_input() {
    let f = generic_fn!(|x| vec![x[0] * x[1]]);
    let _ = gradcheck(&f, &[f64::NAN, 1.0], &Options::for_precision::<f64>());
}

#[test]
#[should_panic(expected = "hessian_check: input 1 is not finite")]
fn hessian_check_refuses_an_infinite_input() {
    let f = generic_fn!(|x| vec![x[0] * x[1]]);
    let _ = hessian_check(&f, &[1.0, f64::INFINITY], &Options::for_precision::<f64>());
}

#[test]
#[should_panic(expected = "rule_check: input 0 is not finite")]
fn rule_check_refuses_a_nan_input() {
    let _ = rule_check(
        |x: &[f64]| vec![x[0].sin()],
        |x: &[Var<f64>]| vec![x[0].sin()],
        &[f64::NAN],
        1,
        0,
        &Options::for_precision::<f64>(),
    );
}

#[test]
fn polynomials_check_at_large_inputs() {
    // A hunt: from |x| ≈ 7e13 the unit-scale probe step no longer moved x, the step search
    // stopped there, and the floor step left x² and x³ off by 0.1 % (gradcheck) and x³'s
    // Hessian by 0.25 %.
    let options = Options::for_precision::<f64>();
    for x0 in [8e13, 1e14, -3e15, 1e20] {
        let square = generic_fn!(|x| vec![x[0] * x[0]]);
        let cube = generic_fn!(|x| vec![x[0] * x[0] * x[0]]);
        assert!(gradcheck(&square, &[x0], &options).is_ok(), "x² at {x0:e}");
        assert!(gradcheck(&cube, &[x0], &options).is_ok(), "x³ at {x0:e}");
        assert!(
            hessian_check(&cube, &[x0], &options).is_ok(),
            "x³'' at {x0:e}"
        );
    }
}

#[test]
fn report_gives_the_share_of_the_tolerance_used() {
    let f = generic_fn!(|x| vec![x[0].exp() * x[1], x[1].sin()]);
    let x = [0.3, -1.2];
    // With an absolute tolerance alone the share is the largest error over that tolerance.
    let atol = 1e-6;
    let options = Options::for_precision::<f64>().with_fd_tolerance(Tolerance::new(atol, 0.0));
    let report = gradcheck(&f, &x, &options).unwrap();
    assert!(report.max_fd_error > 0.0, "{report:?}");
    assert_eq!(report.max_fd_tolerance_used, report.max_fd_error / atol);
    // A passing check used at most all of each tolerance...
    assert!(report.max_fd_tolerance_used <= 1.0 && report.max_ad_tolerance_used <= 1.0);
    // ...and a tolerance half the largest error fails: the share said how near it was.
    let tight = Tolerance::new(report.max_fd_error / 2.0, 0.0);
    let err = gradcheck(
        &f,
        &x,
        &Options::for_precision::<f64>().with_fd_tolerance(tight),
    );
    assert!(err.is_err());
    // Forward and reverse agree exactly on a product: nothing of their tolerance is used.
    let product = generic_fn!(|x| vec![x[0] * x[1]]);
    let exact = gradcheck(&product, &[2.0, 3.0], &Options::for_precision::<f64>()).unwrap();
    assert_eq!(
        (exact.max_ad_error, exact.max_ad_tolerance_used),
        (0.0, 0.0)
    );
}

/// `rule_check`'s documented scale caveat: a softplus rule off by 2× in its tail (slope
/// 1.4e-11 at −25) passes the default absolute tolerance and fails a relative one; with the
/// bounded step the docs give, the correct rule passes at −25 and −30 (with the relative
/// tolerance alone the adaptive step, 0.15, was 1.5e-5 off and failed it: a subagent's hunt).
#[test]
fn rule_check_tails_need_a_relative_tolerance() {
    use adroit_check::Tolerance;
    use adroit_check::fd::FiniteDifference;
    let recorded = |factor: f64| {
        move |x: &[Var<f64>]| {
            let v = x[0].value();
            let sigma = 1.0 / (1.0 + (-v).exp());
            custom_rule(x, &[v.max(0.0) + (-v.abs()).exp().ln_1p()], move |w| {
                vec![w[0] * sigma * factor]
            })
        }
    };
    let (right, wrong) = (recorded(1.0), recorded(2.0));
    let primal = |x: &[f64]| vec![x[0].max(0.0) + (-x[0].abs()).exp().ln_1p()];
    let options = Options::for_precision::<f64>();
    assert!(rule_check(primal, wrong, &[-25.0], 4, 1, &options).is_ok());
    let relative_only = options.with_fd_tolerance(Tolerance::new(0.0, 1e-6));
    // Without the bound the correct rule fails (the pitfall the docs warn of).
    assert!(rule_check(primal, right, &[-25.0], 4, 1, &relative_only).is_err());
    let relative = relative_only.with_fd(FiniteDifference::default().with_max_range(1e-2));
    for x in [-25.0, -30.0] {
        assert!(rule_check(primal, wrong, &[x], 4, 1, &relative).is_err());
        let report = rule_check(primal, right, &[x], 4, 1, &relative);
        assert!(report.is_ok(), "{x}: {report:?}");
    }
}

/// A smooth function of order-1 values whose evaluation rounds at 1e-10 (review finding: the
/// adaptive step shrank into that noise and the correct gradient failed, 1.4e-3 off).
#[test]
fn gradcheck_passes_a_function_rounding_beyond_its_value() {
    let f = generic_fn!(|x| {
        let b = S::from(1e6).unwrap();
        vec![(x[0] + b).sin() * (x[1] + b).cos()]
    });
    let report = gradcheck(&f, &[0.3, 0.4], &Options::for_precision::<f64>()).unwrap();
    assert!(report.max_fd_error < 1e-7, "{report:?}");
}

/// `hessian_check` allows for the gradient's rounding in its differences, as the other
/// second-order checks (a review found `x₀²⁰ + x₀x₁` at `(1e3, 1)` failing: the differences
/// of `∂f/∂x₀ ≈ 2e58` along `x₁` are 0, not 1) — and still sees a wrong cross entry there,
/// and at the origin, where the allowance is 0.
#[test]
fn hessian_check_allows_for_a_steep_gradients_rounding() {
    let f = generic_fn!(|x| vec![x[0].powi(20) + x[0] * x[1]]);
    let options = Options::for_precision::<f64>();
    let report = hessian_check(&f, &[1e3, 1.0], &options);
    assert!(report.is_ok(), "{report:?}");
    // The cross second derivative 1.001 (value and gradient exact): caught where ∂f/∂x₁ = x₀
    // is differenced along x₀.
    let wrong = generic_fn!(|x| {
        let (d0, d1) = (x[0] - x[0].stop_gradient(), x[1] - x[1].stop_gradient());
        vec![x[0].powi(20) + x[0] * x[1] + d0 * d1 * S::from(1e-3).unwrap()]
    });
    let m = hessian_check(&wrong, &[1e3, 1.0], &options).unwrap_err();
    assert_eq!((m.output, m.input), (Some(1), Some(0)), "{m}");
    // Its note adds the rounding allowance to the options' atol, unscaled: `hessian_check`
    // does not scale by the row (the note said it did, "× 1e0 (the largest second derivative
    // in the entry's row …)" where that is 1.001; a subagent's hunt).
    let note = m.note.as_deref().unwrap_or_default();
    assert!(
        note.contains("atol 1e-7 + ") && !note.contains('×'),
        "{note}"
    );
    // Where the gradient is 0 (the origin), its rounding allowance is 0 and the tolerance the
    // options' own: the report gives the forward-over-reverse value and the finite difference
    // it failed against, and no note.
    let m = hessian_check(&wrong, &[0.0, 0.0], &options).unwrap_err();
    assert_eq!(m.comparison, Comparison::ReverseVsFiniteDifference, "{m}");
    assert!((m.reverse.unwrap() - 1.001).abs() < 1e-12, "{m}");
    assert!((m.finite_difference.unwrap() - 1.0).abs() < 1e-9, "{m}");
    assert_eq!(m.note, None, "{m}");
    // fast mode allows for it too: a steep linear term beside curvature of order 1
    let steep = generic_fn!(|x| vec![x[0] * S::from(1e20).unwrap() + x[0] * x[1]]);
    let fast = options.clone().with_mode(Mode::Fast { seed: 2, trials: 4 });
    for options in [&options, &fast] {
        let report = hessian_check(&steep, &[0.5, 1.0], options);
        assert!(report.is_ok(), "{report:?}");
    }
}

/// A rule of two outputs of very different scales, the small one's derivative wrong (a
/// review's case: with random cotangents alone, 10 % off passed, the tolerance being relative
/// to the 1e6 output's share). Each output's own cotangent catches it, and names it.
#[test]
fn rule_check_sees_a_wrong_output_beside_a_large_one() {
    let recorded = |factor: f64| {
        move |x: &[Var<f64>]| {
            let a = x[0].value();
            custom_rule(x, &[1e6 * a, a.sin()], move |w| {
                vec![w[0] * 1e6 + w[1] * a.cos() * factor]
            })
        }
    };
    let primal = |x: &[f64]| vec![1e6 * x[0], x[0].sin()];
    let options = Options::for_precision::<f64>();
    for factor in [1.1, 1.0 + 1e-4] {
        let m = rule_check(primal, recorded(factor), &[0.7], 3, 0, &options).unwrap_err();
        assert_eq!(m.cotangent, Some(vec![0.0, 1.0]), "{m}");
    }
    let report = rule_check(primal, recorded(1.0), &[0.7], 3, 0, &options).unwrap();
    assert_eq!(report.comparisons, 2 + 3 + 2); // the values, 3 random cotangents, 2 basis ones
}

/// `hessian_check` of a function of two outputs whose reverse mode alone has a wrong cross
/// second derivative in its first output (`+ ½·δx₀·δx₁`, zero in value and gradient): the
/// report names the Hessian's entry (row 1, column 0), and the values it compares are the second
/// derivatives of `wᵀf` for the output weights `w` it reports (`review5.rs` checks that it
/// reports them) — checked against the formulas `∂²(x₀²x₁)/∂x₁∂x₀ = 2x₀`,
/// `∂²(x₁ sin x₀)/∂x₁∂x₀ = cos x₀`.
#[test]
fn hessian_check_names_the_entry_and_weighs_the_outputs_by_the_reported_weights() {
    let f = generic_fn!(|x| {
        let mut y = vec![x[0] * x[0] * x[1], x[0].sin() * x[1]];
        if std::any::type_name::<S>().contains("Var<") {
            let (d0, d1) = (x[0] - x[0].stop_gradient(), x[1] - x[1].stop_gradient());
            y[0] = y[0] + d0 * d1 * S::from(0.5).unwrap();
        }
        y
    });
    let x = [0.3, -0.8];
    let m = hessian_check(&f, &x, &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(m.comparison, Comparison::ForwardVsReverse, "{m}");
    assert_eq!((m.output, m.input), (Some(1), Some(0)), "{m}");
    let w = m.cotangent.clone().expect("the output weights");
    let exact = w[0] * 2.0 * x[0] + w[1] * x[0].cos();
    let (forward, reverse) = (m.forward.unwrap(), m.reverse.unwrap());
    assert!((forward - exact).abs() < 1e-12, "{forward} against {exact}");
    assert!(
        (reverse - exact - 0.5 * w[0]).abs() < 1e-12,
        "{reverse} against {exact}"
    );
    assert!((m.abs_error - 0.5 * w[0].abs()).abs() < 1e-12, "{m}");
    // The message names the entry and gives the finite relative error (∞ is for a zero
    // reference).
    let text = m.to_string();
    assert!(text.contains("at ∂²f/∂x[1]∂x[0]:"), "{text}");
    let relative = format!(
        "|error| = {:.1e}, relative {:.1e}, ",
        m.abs_error, m.rel_error
    );
    assert!(
        m.rel_error.is_finite() && text.contains(&relative),
        "{text}"
    );
}
