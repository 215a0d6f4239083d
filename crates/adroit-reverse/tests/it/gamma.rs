//! The gamma family (`gamma`, `ln_gamma`, `digamma`, `polygamma`) on tape variables: gradients
//! equal forward mode's (the same rules) in f64 and f32, forward-over-reverse Hessians and
//! HVPs equal the hyper-dual ones, the matrix tape's element-wise map gives `ψ`, and the pole
//! conventions carry over.

use adroit_forward::{Dual, SpecialFunctions};
use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{gradient, hessian};
use nalgebra::DMatrix;

/// `ln Γ(x·y) + Γ(x)·ψ(y) + ψ₂(x − y)`, generic over every number type with the gamma
/// functions.
fn f<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).ln_gamma() + v[0].gamma() * v[1].digamma() + (v[0] - v[1]).polygamma(2)
}

agree_with_forward_mode! {
    // positive and negative arguments, both sides of ψ's root, x·y < 0
    f at [(0.6, 2.3), (1.5, 1.1), (-1.5, 0.7), (3.0, -0.25), (-0.4, -2.6)];
    gradients_and_hessians_agree_with_forward_mode_f64: f64;
    gradients_and_hessians_agree_with_forward_mode_f32: f32;
}

/// A closed form through the tape: `∂²/∂x² ln Γ(x)` at `−2.5` is `ψ₁(−2.5) = π² − ψ₁(3.5)` (the
/// reflection formula), `ψ₁(3.5) = π²/2 − 4 − 4/9 − 4/25`.
#[test]
fn trigamma_at_a_negative_point_by_forward_over_reverse() {
    let pi2 = std::f64::consts::PI.powi(2);
    let want = pi2 - (pi2 / 2.0 - 4.0 - 4.0 / 9.0 - 4.0 / 25.0);
    let h = hessian(|v| v[0].ln_gamma(), &[-2.5_f64]);
    assert!(
        (h[(0, 0)] - want).abs() < 1e-14 * want,
        "{} vs {want}",
        h[(0, 0)]
    );
}

/// The matrix tape's element-wise map runs the same rules: the gradient of `Σ ln Γ(aᵢⱼ)` is
/// `ψ(aᵢⱼ)`.
#[test]
fn matrix_map_gives_the_digamma_function() {
    let a = DMatrix::from_row_slice(2, 2, &[0.5, 3.0, -1.5, 40.0_f64]);
    let g = matrix::gradient(
        |m: &[MatVar<f64>]| m[0].map(|x: Dual<f64>| x.ln_gamma()).sum(),
        std::slice::from_ref(&a),
    );
    for (got, x) in g[0].iter().zip(a.iter()) {
        assert_eq!(*got, x.digamma(), "ψ({x})");
    }
}

/// The conventions at the poles hold on the tape: `∂ ln|Γ|` is `ψ(±0) = ∓∞`, NaN at `−2`;
/// `Γ'(±0) = −∞`.
#[test]
fn pole_conventions_on_the_tape() {
    let d = |x: f64| gradient(|v| v[0].ln_gamma(), &[x])[0];
    assert_eq!(d(0.0), f64::NEG_INFINITY);
    assert_eq!(d(-0.0), f64::INFINITY);
    assert!(d(-2.0).is_nan());
    for x in [0.0, -0.0] {
        assert_eq!(
            gradient(|v| v[0].gamma(), &[x])[0],
            f64::NEG_INFINITY,
            "Γ'({x})"
        );
    }
}

/// `ln_beta` (generic code over `SpecialFunctions`) on the tape: gradients and Hessians equal
/// forward mode's across its branches (both arguments below 10, one above, both above, a ≪ b).
fn beta_terms<S: SpecialFunctions>(v: &[S]) -> S {
    adroit_forward::ln_beta(v[0], v[1]) + adroit_forward::ln_beta(v[0] * v[1], v[1] + v[1])
}

agree_with_forward_mode! {
    beta_terms at [(0.7, 2.5), (3.0, 40.0), (12.0, 30.0), (1e-3, 8.0), (25.0, 1e6)];
    ln_beta_agrees_with_forward_mode_f64: f64;
    ln_beta_agrees_with_forward_mode_f32: f32;
}
