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
