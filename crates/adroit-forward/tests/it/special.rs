//! `erf` and `erfc` ([`SpecialFunctions`]) on every dual type, in f64 and f32: values, first
//! and second derivatives against mpmath references (`tools/gen_special_reference.py`), through
//! `Dual`, `DualVec`, the hyper-dual `second_derivative` and nested `Dual<Dual<T>>`; the edge
//! conventions at ±∞ and NaN.

use crate::special_reference::SPECIAL;
use adroit_forward::{
    Dual, DualVec, HyperDual, SpecialFunctions, derivative, hessian, second_derivative,
};
use num_traits::Float;
use std::fmt::Debug;

/// `|a − b| ≤ atol + rtol·|b|`; `atol` covers values below the precision's normal range
/// (`erf'(26) ≈ 1e-294` is 0 in f32).
#[track_caller]
fn close<T: Float + Debug>(a: T, b: f64, what: &str) {
    let (atol, rtol) = if T::epsilon().to_f64().unwrap() > 1e-10 {
        (1e-30, 2e-6)
    } else {
        (1e-300, 1e-14)
    };
    let a = a.to_f64().unwrap();
    assert!(
        (a - b).abs() <= atol + rtol * b.abs(),
        "{what}: {a:e} vs reference {b:e}"
    );
}

fn against_references<T: Float + SpecialFunctions + Debug>() {
    type F<S> = fn(S) -> S;
    /// A function's name, its forms on `Dual` and `HyperDual`, and its references.
    type Case<T> = (&'static str, F<Dual<T>>, F<HyperDual<T>>, [f64; 3]);
    let mut checked = 0;
    for (x64, [erf, erf1, erf2, erfc, erfc1, erfc2]) in SPECIAL {
        // the f32 points are the f64 ones rounded; compare where the rounding moves little
        let x = T::from(x64).unwrap();
        let rounding = (x.to_f64().unwrap() - x64).abs();
        let moves =
            |value: f64, slope: f64| (slope * rounding).abs() > 1e-7 * value.abs().max(1e-30);
        if rounding > 0.0 && (moves(erf, erf1) || moves(erfc, erfc1)) {
            continue;
        }
        checked += 1;
        let cases: [Case<T>; 2] = [
            ("erf", |v| v.erf(), |v| v.erf(), [erf, erf1, erf2]),
            ("erfc", |v| v.erfc(), |v| v.erfc(), [erfc, erfc1, erfc2]),
        ];
        for (name, on_dual, on_hyper, [value, d1, d2]) in cases {
            let what = |route: &str| format!("{name}({x64}) {route}");
            let y = on_dual(Dual::variable(x));
            close(y.value(), value, &what("value"));
            close(y.tangent(), d1, &what("Dual derivative"));
            close(derivative(on_dual, x), d1, &what("derivative()"));
            // DualVec: the tangent in lane 1 of 3, the others untouched
            let y = match name {
                "erf" => DualVec::<T, 3>::variable(x, 1).erf(),
                _ => DualVec::<T, 3>::variable(x, 1).erfc(),
            };
            close(y.tangents()[1], d1, &what("DualVec lane"));
            assert_eq!((y.tangents()[0], y.tangents()[2]), (T::zero(), T::zero()));
            close(second_derivative(on_hyper, x), d2, &what("hyper-dual f''"));
            // nested: the derivative of the derivative
            let nested = derivative(
                |u: Dual<T>| match name {
                    "erf" => derivative(|v: Dual<Dual<T>>| v.erf(), u),
                    _ => derivative(|v: Dual<Dual<T>>| v.erfc(), u),
                },
                x,
            );
            close(nested, d2, &what("nested Dual<Dual> f''"));
        }
    }
    assert!(
        checked >= 10,
        "{checked} of {} points checked",
        SPECIAL.len()
    );
}

fn edges<T: Float + SpecialFunctions + Debug>() {
    let inf = T::infinity();
    // flat at ±1 (erfc: 0 and 2) with derivative 0 at ±∞
    let at = |x: T| {
        let (a, b) = (Dual::variable(x).erf(), Dual::variable(x).erfc());
        (a.value(), a.tangent(), b.value(), b.tangent())
    };
    let one = T::one();
    assert_eq!(at(inf), (one, T::zero(), T::zero(), T::zero()));
    assert_eq!(at(-inf), (-one, T::zero(), one + one, T::zero()));
    assert_eq!(second_derivative(|v: HyperDual<T>| v.erf(), inf), T::zero());
    // NaN propagates to value and derivatives
    let n = at(T::nan());
    assert!(n.0.is_nan() && n.1.is_nan() && n.2.is_nan() && n.3.is_nan());
    // odd / reflection symmetry of the values, exact in libm
    for x in [0.25, 1.5, 4.0] {
        let x = T::from(x).unwrap();
        assert_eq!((-x).erf(), -x.erf());
        close(x.erfc() + (-x).erfc(), 2.0, "erfc(x) + erfc(−x) = 2");
    }
}

fn mixed_partials<T: Float + SpecialFunctions + Debug + nalgebra::Scalar>() {
    // f(x, y) = erf(x·y) + erfc(x − y): ∂²f/∂x∂y = erf'(xy) + xy·erf''(xy) + erf''(x − y)
    // (erfc'' = −erf'' and ∂²(x − y)/∂x∂y carries −1).
    let (x, y) = (0.6, -0.4);
    let slope = |t: f64| 2.0 / std::f64::consts::PI.sqrt() * (-t * t).exp();
    let curve = |t: f64| -2.0 * t * slope(t);
    let expected = slope(x * y) + x * y * curve(x * y) + curve(x - y);
    let point = [T::from(x).unwrap(), T::from(y).unwrap()];
    let h = hessian(|v| (v[0] * v[1]).erf() + (v[0] - v[1]).erfc(), &point);
    close(h[(0, 1)], expected, "∂²f/∂x∂y");
    assert_eq!(h[(0, 1)], h[(1, 0)]);
}

both_precisions! {
    erf_and_erfc_match_the_references => against_references;
    erf_and_erfc_edges => edges;
    erf_and_erfc_mixed_partials => mixed_partials;
}

/// In `f64` the slopes keep a few ulps relative far into the tail, where `x²` is not an `f64`
/// (`erf'(26.0733) ≈ −6.5e-296` lost 250 ulps when `x²` was rounded before `e^(−x²)`): the
/// first derivative within 4ε, the second within 8ε, through `Dual`, the hyper-dual and
/// nested duals.
#[test]
fn erf_slopes_are_relatively_accurate_in_the_tail() {
    let eps = f64::EPSILON;
    let within = |got: f64, want: f64, k: f64, what: &str| {
        assert!(
            (got - want).abs() <= k * eps * want.abs(),
            "{what}: {got:e} vs reference {want:e} ({:.1} ulps)",
            (got - want).abs() / (eps * want.abs())
        );
    };
    let mut tail = 0;
    for (x, [_, erf1, erf2, _, erfc1, erfc2]) in SPECIAL {
        if erf1 == 0.0 {
            continue;
        }
        tail += usize::from(x.abs() > 5.0);
        within(
            derivative(|v: Dual<f64>| v.erf(), x),
            erf1,
            4.0,
            &format!("erf'({x})"),
        );
        within(
            derivative(|v: Dual<f64>| v.erfc(), x),
            erfc1,
            4.0,
            &format!("erfc'({x})"),
        );
        let hyper = second_derivative(|v: HyperDual<f64>| v.erf(), x);
        within(hyper, erf2, 8.0, &format!("erf''({x}) hyper-dual"));
        let nested = derivative(
            |u: Dual<f64>| derivative(|v: Dual<Dual<f64>>| v.erfc(), u),
            x,
        );
        within(nested, erfc2, 8.0, &format!("erfc''({x}) nested"));
    }
    assert!(tail >= 6, "{tail} tail points");
}
