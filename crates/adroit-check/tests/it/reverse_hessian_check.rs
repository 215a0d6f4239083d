//! `reverse_hessian_check`: second derivatives of code on `Var` only (custom rules) against
//! finite differences of the reverse gradient.

use adroit_check::{Comparison, Mode, Options, reverse_hessian_check};
use adroit_reverse::{TapeScalar, Var, custom_rule};
use num_traits::Float;

/// The real root of `y³ + p·y − q = 0` (`p > 0`) by Newton's method on `f64`.
fn cubic_root(p: f64, q: f64) -> f64 {
    let mut y = q.cbrt();
    for _ in 0..60 {
        y -= (y * y * y + p * y - q) / (3.0 * y * y + p);
    }
    y
}

/// `y(p, q)` as a custom rule with the implicit-function partials `∂y/∂p = −y/(3y² + p)`,
/// `∂y/∂q = 1/(3y² + p)`. With `newton_step`, `y` is carried back into `T` by one Newton step
/// from the solver's root (so it depends on `p`, `q` to every order); without, it is the
/// converted root, a constant to the second order.
fn root<T: TapeScalar>(x: &[Var<T>], newton_step: bool) -> Var<T> {
    let (p, q) = (x[0].value(), x[1].value());
    let y0 = T::from(cubic_root(p.to_f64().unwrap(), q.to_f64().unwrap())).unwrap();
    let three = T::from(3.0).unwrap();
    let y = if newton_step {
        y0 - (y0 * y0 * y0 + p * y0 - q) / (three * y0 * y0 + p)
    } else {
        y0
    };
    let slope = three * y * y + p;
    let (dp, dq) = (-y / slope, slope.recip());
    custom_rule(x, &[y], move |w| vec![w[0] * dp, w[0] * dq])[0]
}

/// `y(p, q)² + sin p`: the rule inside other operations.
fn loss<T: TapeScalar>(x: &[Var<T>], newton_step: bool) -> Var<T> {
    let y = root(x, newton_step);
    y * y + x[0].sin()
}

#[test]
fn a_rule_exact_to_second_order_passes_in_both_modes() {
    let options = Options::for_precision::<f64>();
    let x = [1.0, 2.0];
    let full = reverse_hessian_check(|v| loss(v, true), |v| loss(v, true), &x, &options)
        .expect("exact second derivatives");
    assert_eq!(full.comparisons, 2 * 2 * 2);
    assert!(full.max_fd_error < 1e-7, "{full:?}");
    let fast = options.with_mode(Mode::Fast { seed: 3, trials: 5 });
    let report = reverse_hessian_check(|v| loss(v, true), |v| loss(v, true), &x, &fast)
        .expect("exact second derivatives, fast mode");
    assert_eq!(report.comparisons, 2 * 5);
}

#[test]
fn a_rule_built_from_a_converted_solution_is_caught_in_both_modes() {
    // a trial's rule: y converted from the f64 solver has no second derivatives; its Hessian
    // is neither right nor symmetric
    let options = Options::for_precision::<f64>();
    let x = [1.0, 2.0];
    let m = reverse_hessian_check(|v| loss(v, false), |v| loss(v, false), &x, &options)
        .expect_err("a constant-to-second-order rule");
    assert!(m.second_order);
    assert_eq!(m.comparison, Comparison::ReverseVsFiniteDifference);
    assert!(m.to_string().contains("second-derivative mismatch"), "{m}");
    let fast = options.with_mode(Mode::Fast { seed: 3, trials: 5 });
    let m = reverse_hessian_check(|v| loss(v, false), |v| loss(v, false), &x, &fast)
        .expect_err("fast mode too");
    assert!(m.second_order && m.input.is_none());
}

/// ½·1e6·p² + p·q + ½q² as one rule whose partials are exact at the point but whose cross
/// second derivative is `1 + eps` (the partials' `eps·(q − q₀)` terms vanish in value).
fn stiff_rule<T: TapeScalar>(x: &[Var<T>], eps: f64) -> Var<T> {
    let (p, q) = (x[0].value(), x[1].value());
    let constant = |v: T| T::from(v.to_f64().unwrap()).unwrap();
    let (p0, q0) = (constant(p), constant(q));
    let c = |v: f64| T::from(v).unwrap();
    let value = c(5e5) * p * p + p * q + c(0.5) * q * q;
    let e = c(eps);
    let partials = [c(1e6) * p + q + e * (q - q0), p + q + e * (p - p0)];
    adroit_reverse::custom_scalar(x, value, &partials)
}

#[test]
fn a_stiff_entry_does_not_hide_a_wrong_entry_in_its_row() {
    // A review's case: 5 % and 0.1 % errors beside the stiff entry passed.
    let options = Options::for_precision::<f64>();
    for eps in [5e-2, 1e-4] {
        let m = reverse_hessian_check(
            |v| stiff_rule(v, eps),
            |v| stiff_rule(v, eps),
            &[0.3, -0.7],
            &options,
        )
        .expect_err("a wrong cross entry");
        assert_eq!((m.output, m.input), (Some(1), Some(0)), "{m}");
    }
    let exact = reverse_hessian_check(
        |v| stiff_rule(v, 0.0),
        |v| stiff_rule(v, 0.0),
        &[0.3, -0.7],
        &options,
    );
    assert!(exact.is_ok(), "{exact:?}");
}

#[test]
#[should_panic(expected = "reverse_hessian_check: no inputs (nothing to compare)")]
fn no_inputs_panic() {
    let options = Options::for_precision::<f64>();
    let _ = reverse_hessian_check(|v| loss(v, true), |v| loss(v, true), &[], &options);
}

#[test]
#[should_panic(expected = "reverse_hessian_check: input 1 is not finite")]
fn a_non_finite_input_panics() {
    let options = Options::for_precision::<f64>();
    let _ = reverse_hessian_check(
        |v| loss(v, true),
        |v| loss(v, true),
        &[1.0, f64::NAN],
        &options,
    );
}
