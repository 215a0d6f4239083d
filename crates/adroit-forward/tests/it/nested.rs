//! Nested duals: derivatives of derivatives, and no perturbation confusion.

use adroit_forward::{Dual, HyperDual, derivative, second_derivative};
use num_traits::Float;

/// d/dx [ x · (d/dy (x + y) at y = 1) ] at x = 1 is 1 (Siskind & Pearlmutter's
/// perturbation-confusion example; a confused implementation gives 2).
fn perturbation_confusion<T: Float + std::fmt::Debug>() {
    let d = derivative(
        |x: Dual<T>| {
            let inner = derivative(
                |y: Dual<Dual<T>>| Dual::constant(x) + y,
                Dual::constant(T::one()),
            );
            x * inner
        },
        T::one(),
    );
    assert_eq!(d, T::one());
}

#[test]
fn no_perturbation_confusion_f64() {
    perturbation_confusion::<f64>();
}

#[test]
fn no_perturbation_confusion_f32() {
    perturbation_confusion::<f32>();
}

#[test]
fn nested_second_derivative_equals_hyperdual() {
    fn f<S: Float>(x: S) -> S {
        (x.sin() * x.exp()).powf(S::from(1.5).unwrap()) / (S::one() + x * x)
    }
    for x in [0.3, 0.7, 1.2] {
        let nested = derivative(|x: Dual<f64>| derivative(f, x), x);
        let hyper = second_derivative(f::<HyperDual<f64>>, x);
        assert!(
            (nested - hyper).abs() <= 1e-13 * hyper.abs(),
            "{nested} vs {hyper}"
        );
    }
}

#[test]
fn third_derivative_by_triple_nesting() {
    // d³/dx³ x⁴ = 24x, so 48 at x = 2.
    let third = derivative(
        |x: Dual<f64>| {
            derivative(
                |y: Dual<Dual<f64>>| derivative(|z: Dual<Dual<Dual<f64>>>| z.powi(4), y),
                x,
            )
        },
        2.0,
    );
    assert_eq!(third, 48.0);
}

/// `StopGradient` drops every perturbation of a nested dual, and one generic function runs on
/// plain floats and every dual type: f(x, y) = x·sg(x·y) + y has ∂x = sg(xy) = 6 at (2, 3),
/// ∂y = 1, and second derivatives ∂xx = 0, ∂xy = 0.
#[test]
fn stop_gradient_in_generic_code_at_every_order() {
    use adroit_forward::{DualVec, StopGradient, gradient, gradient_chunked, hessian};
    fn f<S: Float + StopGradient>(v: &[S]) -> S {
        v[0] * (v[0] * v[1]).stop_gradient() + v[1]
    }
    assert_eq!(f(&[2.0, 3.0]), 15.0);
    assert_eq!(gradient(|v| f(v), &[2.0, 3.0]), vec![6.0, 1.0]);
    assert_eq!(
        gradient_chunked::<2, _, _>(|v| f(v), &[2.0, 3.0]),
        vec![6.0, 1.0]
    );
    assert!(hessian(|v| f(v), &[2.0, 3.0]).iter().all(|e| *e == 0.0));
    // Nested: both levels of Dual<Dual<f64>> are cut, as is a DualVec's every lane.
    let x = Dual::new(Dual::new(3.0, 1.0), Dual::new(1.0, 1.0));
    let s = x.stop_gradient();
    assert_eq!(s, Dual::constant(Dual::constant(3.0)));
    assert_eq!(
        (
            s.value().tangent(),
            s.tangent().value(),
            s.tangent().tangent()
        ),
        (0.0, 0.0, 0.0)
    );
    let lanes = DualVec::<f64, 3>::new(1.5, [1.0, 2.0, 3.0]).stop_gradient();
    assert_eq!(lanes, DualVec::constant(1.5));
    // Reverse over forward's own nesting: d/dx of (d/dx f) with f = x·sg(x) is 0.
    let second = derivative(|x| derivative(|y| y * y.stop_gradient(), x), 3.0);
    assert_eq!(second, 0.0);
}

/// `f(y) = 3y² − 1/y + y/2 + 2(1 − y) + y % 2.5 + 7 % y + z` with `z` built by assign
/// operators (`(2(y + 1) − ½)/4`), written with plain literals around a nested dual;
/// `f''(y) = 6 − 2/y³` for `0 < y < 2.5`.
macro_rules! literal_body {
    ($y:expr) => {{
        let y = $y;
        let mut z = y + 1.0;
        z *= 2.0;
        z -= 0.5;
        z /= 4.0;
        z += 0.0;
        z %= 100.0;
        3.0 * y * y - 1.0 / y + y / 2.0 + (1.0 - y) * 2.0 + y % 2.5 + 7.0 % y + z
    }};
}

#[test]
fn plain_floats_on_both_sides_of_a_nested_dual() {
    let y0 = 1.2;
    let second = derivative(
        |x: Dual<f64>| derivative(|y: Dual<Dual<f64>>| literal_body!(y), x),
        y0,
    );
    assert!(
        (second - (6.0 - 2.0 / (y0 * y0 * y0))).abs() < 1e-12,
        "{second}"
    );
    // Values and first derivatives through the nested type's own operators (the second
    // derivative above misses the piecewise-linear terms): the plain-f64 value, and
    // 6y + 1/y² + ½ − 2 + 1 − trunc(7/y) + ½.
    let value = literal_body!(Dual::<Dual<f64>>::constant(Dual::constant(y0)));
    assert_eq!(value.value().value(), literal_body!(y0));
    let first = derivative(|y: Dual<Dual<f64>>| literal_body!(y), Dual::constant(y0));
    let want = 6.0 * y0 + 1.0 / (y0 * y0) + 0.5 - 2.0 + 1.0 - (7.0_f64 / y0).trunc() + 0.5;
    assert!((first.value() - want).abs() < 1e-12, "{first} vs {want}");
    let second32 = derivative(
        |x: Dual<f32>| derivative(|y: Dual<Dual<f32>>| literal_body!(y), x),
        1.2_f32,
    );
    assert!((second32 - (6.0 - 2.0 / 1.728)).abs() < 1e-5, "{second32}");
}
