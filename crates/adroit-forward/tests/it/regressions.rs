//! Regression tests for defects found in review (each names what was wrong).

use adroit_forward::{
    Dual, HyperDual, derivative, gradient, hessian, hvp, second_derivative, value_and_derivative,
};
use nalgebra::dmatrix;
use num_traits::{Float, Signed};

#[test]
fn powf_mixed_second_derivative_at_zero_exponent() {
    // ∂²(xᵖ)/∂x∂p = xᵖ⁻¹(1 + p·ln x): 0.5 at (2, 0), 2 at (0.5, 0). It was dropped (0).
    for (x, expected) in [(2.0, 0.5), (0.5, 2.0)] {
        let h = hessian(|v| v[0].powf(v[1]), &[x, 0.0]);
        assert!((h[(0, 1)] - expected).abs() < 1e-14, "{h}");
        assert!((h[(1, 0)] - expected).abs() < 1e-14, "{h}");
    }
}

#[test]
fn second_order_zero_times_infinite_is_zero() {
    // Zero second partials (of −x, +, ·) times infinite products of first-order parts were NaN.
    assert_eq!(second_derivative(|x| -x.sqrt(), 0.0), f64::INFINITY);
    assert_eq!(second_derivative(|x| x.sqrt() + x, 0.0), f64::NEG_INFINITY);
    let h = hessian(|v| v[0] * v[0] + v[1].sqrt(), &[1.0, 0.0]);
    assert_eq!(h, dmatrix![2.0, 0.0; 0.0, f64::NEG_INFINITY]);
    assert_eq!(
        hvp(|v| v[0] * v[0] + v[1].sqrt(), &[1.0, 0.0], &[1.0, 0.0]),
        vec![2.0, 0.0]
    );
    let h = hessian(|v| v[0] * v[1].sqrt(), &[2.0, 0.0]);
    assert_eq!(
        h,
        dmatrix![0.0, f64::INFINITY; f64::INFINITY, f64::NEG_INFINITY]
    );
}

#[test]
fn scaling_by_zero_or_infinite_constants_keeps_zero_tangents() {
    // x/0 and x·∞ with a plain float: the unperturbed direction was NaN.
    assert_eq!(
        gradient(|v| v[0] / 0.0 + v[1], &[1.0, 2.0]),
        vec![f64::INFINITY, 1.0]
    );
    assert_eq!(
        gradient(|v| v[0] * f64::INFINITY + v[1], &[1.0, 2.0]),
        vec![f64::INFINITY, 1.0]
    );
    assert_eq!(
        gradient(|v| f64::INFINITY * v[0] + v[1], &[1.0, 2.0]),
        vec![f64::INFINITY, 1.0]
    );
    let h = hessian(|v| v[0] / 0.0 + v[1] * v[1], &[1.0, 2.0]);
    assert_eq!(h[(1, 1)], 2.0);
    assert_eq!(h[(0, 1)], 0.0);
}

#[test]
fn zero_partial_times_infinite_tangent_is_zero() {
    // floor has derivative 0 even of something with an infinite derivative; was NaN.
    assert_eq!(derivative(|x| x.sqrt().floor(), 0.0), 0.0);
    assert_eq!(derivative(|x| x.sqrt().max(Dual::constant(1.0)), 0.0), 0.0);
    assert_eq!(derivative(|x| x.sqrt() * 0.0, 0.0), 0.0);
    assert_eq!(second_derivative(|x| x.sqrt().floor(), 0.0), 0.0);
}

#[test]
fn derivatives_at_negative_zero() {
    // sqrt'(−0) and ln'(−0) were −∞.
    assert_eq!(derivative(|x| x.sqrt(), -0.0), f64::INFINITY);
    assert_eq!(derivative(|x| x.ln(), -0.0), f64::INFINITY);
    assert_eq!(derivative(|x| (-x).sqrt(), 0.0), f64::NEG_INFINITY);
    assert_eq!(derivative(|x| x.log2(), -0.0), f64::INFINITY);
}

#[test]
fn atan2_and_acosh_at_extreme_magnitudes() {
    // x² + y² under/overflowed, so the partials vanished.
    let g = gradient(|v| v[0].atan2(v[1]), &[1e-170, 1e-170]);
    assert!(
        (g[0] / 5e169 - 1.0).abs() < 1e-14 && (g[1] / -5e169 - 1.0).abs() < 1e-14,
        "{g:?}"
    );
    let g = gradient(|v| v[0].atan2(v[1]), &[1e160, 1e160]);
    assert!(
        (g[0] / 5e-161 - 1.0).abs() < 1e-14 && (g[1] / -5e-161 - 1.0).abs() < 1e-14,
        "{g:?}"
    );
    let d = derivative(|x| x.acosh(), 1e160);
    assert!((d / 1e-160 - 1.0).abs() < 1e-14, "{d}");
}

#[test]
fn rem_partial_matches_the_branch_taken() {
    // 1.0 % 0.1 = 1 − 9·0.1 (not 10·0.1), so ∂y = −9.
    assert_eq!(gradient(|v| v[0] % v[1], &[1.0, 0.1]), vec![1.0, -9.0]);
    assert_eq!(gradient(|v| v[0] % v[1], &[7.5, 2.0]), vec![1.0, -3.0]);
}

#[test]
fn cardinal_functions_at_a_perturbed_zero() {
    // simba's default sinc tests is_zero (false for a perturbed 0) and returned NaN.
    let y = nalgebra::ComplexField::sinc(Dual::variable(0.0_f64));
    assert_eq!((y.value(), y.tangent()), (1.0, 0.0));
    let y = nalgebra::ComplexField::sinc(HyperDual::variable(0.0_f64));
    assert!((y.eps12()[0][0] + 1.0 / 3.0).abs() < 1e-15);
    let y = nalgebra::ComplexField::sinhc(HyperDual::variable(0.0_f64));
    assert!((y.eps12()[0][0] - 1.0 / 3.0).abs() < 1e-15);
    let y = nalgebra::ComplexField::sinc(Dual::variable(0.5_f64));
    assert!((y.tangent() - (0.5_f64.cos() * 0.5 - 0.5_f64.sin()) / 0.25).abs() < 1e-15);
    assert_eq!(
        nalgebra::ComplexField::signum(Dual::variable(-0.0_f64)).value(),
        -1.0
    );
}

#[test]
fn powi_with_the_most_negative_exponent() {
    // n − 1 overflowed for n = i32::MIN.
    let (v, d) = value_and_derivative(|x| x.powi(i32::MIN), 1.0_f64);
    assert_eq!((v, d), (1.0, f64::from(i32::MIN)));
}

#[test]
fn abs_sub_propagates_nan() {
    assert!(Signed::abs_sub(&Dual::<f64>::nan(), &Dual::constant(1.0)).is_nan());
    assert!(Float::abs_sub(Dual::<f64>::nan(), Dual::constant(1.0)).is_nan());
}

#[test]
fn gradient_of_no_inputs_does_not_call_the_function() {
    // As documented: empty, and f not called (it was, and `x[0]` panicked).
    assert!(gradient(|x: &[Dual<f64>]| x[0], &[]).is_empty());
}
