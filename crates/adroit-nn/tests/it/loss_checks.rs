//! More losses: `mae` (away from its kink) and `squared_hinge_loss` against their formulas and
//! finite differences; `kldivergence` with soft (non-one-hot) targets against
//! `Σ y·ln(y/ŷ)` per sample and finite differences; `logitbinarycrossentropy` at logits of
//! ±1000 against the closed-form gradient `(σ(ŷ) − y)/N`.

use adroit_check::fd;
use adroit_nn::NnError;
use adroit_nn::losses::*;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

type Loss = fn(MatVar<f64>, &DMatrix<f64>) -> Result<MatVar<f64>, NnError>;

fn value(loss: Loss, y_hat: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    matrix::value_and_gradient(|p| loss(p[0], y).unwrap(), std::slice::from_ref(y_hat)).0
}

/// The analytic gradient of `loss` at `y_hat` and its value, against `expected` (the formula)
/// and against central finite differences of the loss value (steps capped at `range`).
fn check(
    name: &str,
    loss: Loss,
    y_hat: &DMatrix<f64>,
    y: &DMatrix<f64>,
    expected: f64,
    range: f64,
) {
    let (v, g) =
        matrix::value_and_gradient(|p| loss(p[0], y).unwrap(), std::slice::from_ref(y_hat));
    assert!(
        (v - expected).abs() < 1e-12 * (1.0 + expected.abs()),
        "{name}: value {v} vs formula {expected}"
    );
    let (r, c) = y_hat.shape();
    let numeric = fd::FiniteDifference::default()
        .with_max_range(range)
        .gradient(
            |p: &[f64]| value(loss, &DMatrix::from_column_slice(r, c, p), y),
            y_hat.as_slice(),
        );
    for (k, (a, b)) in g[0].iter().zip(&numeric).enumerate() {
        assert!(
            (a - b).abs() < 1e-7 * (1.0 + b.abs()),
            "{name} entry {k}: {a} vs finite difference {b}"
        );
    }
}

#[test]
fn mae_away_from_the_kink_matches_formula_and_finite_differences() {
    // Every |ŷ − y| ≥ 0.15, the finite-difference steps stay below 0.01: no kink in reach.
    let y_hat: DMatrix<f64> = dmatrix![0.7, -1.2, 2.0; 0.3, 0.5, -0.4];
    let y: DMatrix<f64> = dmatrix![0.2, -1.0, 1.5; 0.9, 0.0, 0.1];
    assert!((&y_hat - &y).iter().all(|d| d.abs() >= 0.15));
    let l1 = (&y_hat - &y).abs();
    check(
        "mae mean",
        |a, b| mae(a, b, Agg::Mean),
        &y_hat,
        &y,
        l1.mean(),
        0.01,
    );
    check(
        "mae sum",
        |a, b| mae(a, b, Agg::Sum),
        &y_hat,
        &y,
        l1.sum(),
        0.01,
    );
    // And the closed form: sign(ŷ − y)/N.
    let g = matrix::gradient(
        |p| mae(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = (&y_hat - &y).map(|d| d.signum() / 6.0);
    assert!((&g[0] - &expected).amax() < 1e-15, "{} vs {expected}", g[0]);
}

#[test]
fn squared_hinge_matches_formula_and_finite_differences() {
    // Targets ±1; margins 1 − ŷ·y at least 0.2 away from the kink at 0, both active (> 0)
    // and inactive (< 0) entries.
    let y_hat: DMatrix<f64> = dmatrix![0.3, -2.0, 1.5; -0.4, 0.6, -1.7];
    let y: DMatrix<f64> = dmatrix![1.0, -1.0, -1.0; 1.0, 1.0, -1.0];
    let margin = y_hat.zip_map(&y, |a, b| 1.0 - a * b);
    assert!(margin.iter().all(|m| m.abs() >= 0.2));
    assert!(margin.iter().any(|&m| m > 0.0) && margin.iter().any(|&m| m < 0.0));
    let sq = margin.map(|m| m.max(0.0).powi(2));
    check(
        "squared_hinge mean",
        |a, b| squared_hinge_loss(a, b, Agg::Mean),
        &y_hat,
        &y,
        sq.mean(),
        0.01,
    );
    check(
        "squared_hinge sum",
        |a, b| squared_hinge_loss(a, b, Agg::Sum),
        &y_hat,
        &y,
        sq.sum(),
        0.01,
    );
    // Closed form: −2·max(1 − ŷy, 0)·y/N.
    let g = matrix::gradient(
        |p| squared_hinge_loss(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = margin.zip_map(&y, |m, t| -2.0 * m.max(0.0) * t / 6.0);
    assert!((&g[0] - &expected).amax() < 1e-15, "{} vs {expected}", g[0]);
}

/// A NaN prediction makes the margin losses NaN (Flux's `max(0, 1 − ŷ·y)` and JAX's
/// `maximum` propagate it) instead of hiding it as a zero loss with a zero gradient.
#[test]
fn margin_losses_propagate_nan() {
    let y: DMatrix<f64> = dmatrix![1.0, -1.0];
    let y_hat: DMatrix<f64> = dmatrix![f64::NAN, 0.5];
    for (name, loss) in [
        ("hinge", (|a, b| hinge_loss(a, b, Agg::Sum)) as Loss),
        ("squared_hinge", |a, b| squared_hinge_loss(a, b, Agg::Sum)),
    ] {
        assert!(value(loss, &y_hat, &y).is_nan(), "{name}");
    }
}

#[test]
fn kldivergence_with_soft_targets() {
    // 3 classes × 3 samples: soft targets (one with a zero entry, 0·ln 0 = 0) and predictions,
    // every column a distribution.
    let y: DMatrix<f64> = dmatrix![0.2, 0.6, 1.0 / 3.0; 0.5, 0.4, 1.0 / 3.0; 0.3, 0.0, 1.0 / 3.0];
    let y_hat: DMatrix<f64> = dmatrix![0.1, 0.5, 0.2; 0.6, 0.3, 0.3; 0.3, 0.2, 0.5];
    for j in 0..3 {
        assert!((y.column(j).sum() - 1.0).abs() < 1e-15);
        assert!((y_hat.column(j).sum() - 1.0).abs() < 1e-15);
    }
    let per_sample: Vec<f64> = (0..3)
        .map(|j| {
            (0..3)
                .filter(|&i| y[(i, j)] > 0.0)
                .map(|i| y[(i, j)] * (y[(i, j)] / y_hat[(i, j)]).ln())
                .sum()
        })
        .collect();
    assert!(per_sample.iter().all(|&kl| kl > 0.0), "{per_sample:?}");
    let total: f64 = per_sample.iter().sum();
    // The loss offsets ŷ by machine ε inside the logarithm: a change of order y·ε/ŷ ≈ 1e-15.
    check(
        "kldivergence mean",
        |a, b| kldivergence(a, b, Agg::Mean),
        &y_hat,
        &y,
        total / 3.0,
        0.01,
    );
    check(
        "kldivergence sum",
        |a, b| kldivergence(a, b, Agg::Sum),
        &y_hat,
        &y,
        total,
        0.01,
    );
    // Closed form of the gradient: −y/ŷ/N (0 where y = 0).
    let g = matrix::gradient(
        |p| kldivergence(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = y.zip_map(&y_hat, |t, p| -t / p / 3.0);
    assert!((&g[0] - &expected).amax() < 1e-12, "{} vs {expected}", g[0]);
    // KL(y ‖ y) = 0.
    let zero = value(|a, b| kldivergence(a, b, Agg::Mean), &y, &y);
    assert!(zero.abs() < 1e-14, "{zero}");
}

#[test]
fn logitbinarycrossentropy_gradient_at_1000_is_sigmoid_minus_target() {
    // Logits ±1000 with targets 0, 1 and soft 0.3: every combination of saturation.
    let logits: DMatrix<f64> = dmatrix![1000.0, -1000.0, 1000.0; -1000.0, 1000.0, -1000.0];
    let y: DMatrix<f64> = dmatrix![1.0, 0.0, 0.3; 1.0, 0.0, 0.3];
    let sigma = |v: f64| if v > 0.0 { 1.0 } else { 0.0 }; // σ(±1000) in f64
    let n = y.len() as f64;
    let (v, g) = matrix::value_and_gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&logits),
    );
    let expected = logits.zip_map(&y, |a, t| (sigma(a) - t) / n);
    assert!(
        (&g[0] - &expected).amax() <= 1e-12,
        "{} vs (σ(ŷ) − y)/N = {expected}",
        g[0]
    );
    // The value: −y·lnσ(ŷ) − (1 − y)·ln(1 − σ(ŷ)) with lnσ(1000) = 0, lnσ(−1000) = −1000.
    let log_sigma = |a: f64| if a > 0.0 { 0.0 } else { a };
    let per_entry = logits.zip_map(&y, |a, t| -t * log_sigma(a) - (1.0 - t) * log_sigma(-a));
    assert!(
        (v - per_entry.mean()).abs() < 1e-12 * per_entry.mean(),
        "{v} vs {}",
        per_entry.mean()
    );
    // The same gradient in f32, and with the sum (no 1/N).
    let g32 = matrix::gradient(
        |m| logitbinarycrossentropy(m[0], &y.map(|t| t as f32), Agg::Sum).unwrap(),
        &[logits.map(|a| a as f32)],
    );
    let expected32 = logits.zip_map(&y, |a, t| (sigma(a) - t) as f32);
    assert!(
        (&g32[0] - &expected32).amax() <= 1e-6,
        "{} vs {expected32}",
        g32[0]
    );
}

#[test]
fn logitbinarycrossentropy_of_infinite_logits_on_their_labels_side_is_zero() {
    // +∞ with label 1 and −∞ with label 0 are certain and right: loss 0, gradient 0 (Flux's
    // and PyTorch's 0·∞ give NaN). On the wrong side the loss is +∞; a soft label makes both
    // terms count, so an infinite logit costs +∞ too; a NaN logit stays NaN.
    let inf = f64::INFINITY;
    let y: DMatrix<f64> = dmatrix![1.0, 0.0];
    let (v, g) = matrix::value_and_gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Sum).unwrap(),
        &[dmatrix![inf, -inf]],
    );
    assert_eq!((v, g[0].clone()), (0.0, dmatrix![0.0, 0.0]));
    // with an ordinary entry beside them, the loss is that entry's
    let y3: DMatrix<f64> = dmatrix![1.0, 0.0, 1.0];
    let v3 = value(
        |a, b| logitbinarycrossentropy(a, b, Agg::Mean),
        &dmatrix![inf, -inf, 0.0],
        &y3,
    );
    assert!((v3 - 2f64.ln() / 3.0).abs() < 1e-15, "{v3}");
    for (logit, label) in [(-inf, 1.0), (inf, 0.0), (inf, 0.3)] {
        let wrong = value(
            |a, b| logitbinarycrossentropy(a, b, Agg::Sum),
            &dmatrix![logit],
            &dmatrix![label],
        );
        assert_eq!(wrong, inf, "logit {logit}, label {label}");
    }
    let nan = value(
        |a, b| logitbinarycrossentropy(a, b, Agg::Sum),
        &dmatrix![f64::NAN, inf],
        &dmatrix![1.0, 1.0],
    );
    assert!(nan.is_nan());
}
