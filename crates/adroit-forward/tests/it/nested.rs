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
