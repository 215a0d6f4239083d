//! Regression tests for defects found in review (each names what was wrong).

use adroit_reverse::{Var, gradient, hessian};
use num_traits::Float;

#[test]
fn powf_mixed_second_derivative_is_symmetric() {
    // H01 was 0 and H10 0.5 at (2, 0); both are x^(p−1)(1 + p ln x) = 0.5.
    let h = hessian(|v| v[0].powf(v[1]), &[2.0, 0.0]);
    assert!(
        (h[(0, 1)] - 0.5).abs() < 1e-14 && (h[(1, 0)] - 0.5).abs() < 1e-14,
        "{h}"
    );
}

#[test]
fn zero_partial_against_infinite_adjoint() {
    // A zero partial times an infinite adjoint must contribute 0, not NaN.
    assert_eq!(gradient(|x| x[0].sqrt().floor(), &[0.0]), vec![0.0]);
    assert_eq!(
        gradient(|x| (x[0] * 0.0).sqrt() + x[1], &[1.0, 2.0]),
        vec![0.0, 1.0]
    );
}

#[test]
fn sinc_of_a_variable_at_zero() {
    let (v, g) = adroit_reverse::value_and_gradient(|x| nalgebra::ComplexField::sinc(x[0]), &[0.0]);
    assert_eq!((v, g), (1.0, vec![0.0]));
    let g = gradient(
        |x| nalgebra::ComplexField::sinc(x[0]) + Var::constant(0.0),
        &[0.5],
    );
    assert!((g[0] - (0.5_f64.cos() * 0.5 - 0.5_f64.sin()) / 0.25).abs() < 1e-15);
}
