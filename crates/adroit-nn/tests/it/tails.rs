//! Values and gradients in the tails, where a textbook formula cancels (found by a review in
//! the fifth session): GELU's negative tail, softsign's slope at large |x|, and the logit
//! binary cross-entropy's gradient for confident logits. References: mpmath at 50 digits
//! (`tools/gen_tail_reference.py`) and analytic formulas evaluated where they are well
//! conditioned.

use adroit_nn::activation::{gelu_erf_with_derivative, gelu_tanh, softsign};
use adroit_nn::losses::{Agg, logitbinarycrossentropy};
use adroit_reverse::matrix;
use nalgebra::dmatrix;

/// `|a − b| ≤ rtol·|b|`, with a message.
#[track_caller]
fn close(a: f64, b: f64, rtol: f64, what: &str) {
    assert!(
        (a - b).abs() <= rtol * b.abs(),
        "{what}: got {a:e}, expected {b:e} (relative error {:e})",
        ((a - b) / b).abs()
    );
}

/// `(x, value, derivative)` from `tools/gen_tail_reference.py`.
const GELU_TANH: [(f64, f64, f64); 3] = [
    (-5.0, -2.291796196629506e-07, -1.5463619875325946e-06),
    (-8.0, -3.1077829375011112e-21, -4.7147845041068414e-20),
    (-10.0, -1.2040923482098107e-37, -2.7576380638540315e-36),
];
const GELU_ERF: [(f64, f64, f64); 3] = [
    (-5.0, -1.4332578593959695e-06, -7.146946001792295e-06),
    (-8.0, -4.976768459417427e-15, -3.979607261086796e-14),
    (-10.0, -7.619853024160526e-23, -7.618400096464814e-22),
];

#[test]
fn gelu_tanh_negative_tail() {
    // ½x(1 + tanh u) lost all digits of 1 + tanh u there (f32: 30 % off at −5).
    for (x, value, slope) in GELU_TANH {
        close(gelu_tanh(x), value, 1e-13, "gelu_tanh");
        let g = adroit_reverse::gradient(|v| gelu_tanh(v[0]), &[x])[0];
        close(g, slope, 1e-12, "gelu_tanh'");
        if x > -10.0 {
            // −1.2e-37 is below f32's normal range
            close(
                f64::from(gelu_tanh(x as f32)),
                value,
                1e-5,
                "gelu_tanh (f32)",
            );
            let g = adroit_reverse::gradient(|v| gelu_tanh(v[0]), &[x as f32])[0];
            close(f64::from(g), slope, 1e-5, "gelu_tanh' (f32)");
        }
    }
}

#[test]
fn gelu_erf_negative_tail() {
    // ½x(1 + erf(x/√2)) was 1.8 % off at −8 and 0 at −10.
    for (x, value, slope) in GELU_ERF {
        let (v, d) = gelu_erf_with_derivative(x);
        close(v, value, 1e-13, "gelu_erf");
        close(d, slope, 1e-13, "gelu_erf'");
    }
}

#[test]
fn softsign_slope_at_large_arguments() {
    // softsign' = 1/(1 + |x|)²; through x/(1 + |x|) it cancelled (f32: 0 from 1e8).
    for x in [0.5_f64, -0.999, 1.0, 3.0, 1e6, -1e7, 1e8, 1e20] {
        let expected = (1.0 + x.abs()).powi(-2);
        let g = adroit_reverse::gradient(|v| softsign(v[0]), &[x])[0];
        close(g, expected, 1e-14, "softsign' (f64)");
        if expected > 1e-37 {
            // (1e-40 is subnormal in f32)
            let g = adroit_reverse::gradient(|v| softsign(v[0]), &[x as f32])[0];
            close(f64::from(g), expected, 1e-6, "softsign' (f32)");
        }
        close(softsign(x), x / (1.0 + x.abs()), 1e-15, "softsign");
    }
}

#[test]
fn logitbinarycrossentropy_gradient_for_confident_logits() {
    // ∂/∂ŷ = σ(ŷ) − y: σ(−20) = 2.06e-9 for y = 0 at ŷ = −20 and −σ(−20) for y = 1 at ŷ = 20.
    // (1 − y) − σ(−ŷ), the derivative of Flux's formula, gave 0 in f32 for the first.
    let s = 1.0 / (1.0 + 20f64.exp()); // σ(−20), no cancellation
    let y = dmatrix![0.0_f32, 1.0, 0.0, 1.0];
    let logits = dmatrix![-20.0_f32, 20.0, -30.0, 0.0];
    let g = matrix::gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Sum).unwrap(),
        std::slice::from_ref(&logits),
    );
    close(f64::from(g[0][0]), s, 1e-5, "σ(−20) − 0");
    close(f64::from(g[0][1]), -s, 1e-5, "σ(20) − 1");
    close(
        f64::from(g[0][2]),
        1.0 / (1.0 + 30f64.exp()),
        1e-5,
        "σ(−30) − 0",
    );
    close(f64::from(g[0][3]), -0.5, 1e-7, "σ(0) − 1");
}
