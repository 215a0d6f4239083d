//! `losses::evaluate` (imported as `evaluate`): a loss's value at a plain prediction, against
//! the value the gradient call computes, for every loss of the module; its errors and its one
//! panic.

use super::losses::{every_loss, probs};
use adroit_nn::NnError;
use adroit_nn::losses::*;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

#[test]
fn equals_the_gradient_calls_value_for_every_loss() {
    let (prediction, target) = probs();
    for (name, loss) in every_loss() {
        let (recorded, _) = matrix::value_and_gradient(
            |p| loss(p[0], &target).unwrap(),
            std::slice::from_ref(&prediction),
        );
        let evaluated = evaluate(loss, &prediction, &target).unwrap();
        assert_eq!(evaluated.to_bits(), recorded.to_bits(), "{name}");
        assert!(evaluated.is_finite(), "{name}");
    }
}

/// The loss's errors come back as they are: a shape mismatch naming both shapes, a setting
/// out of range.
#[test]
fn returns_the_losss_errors() {
    let prediction = dmatrix![0.5, 0.5];
    let err = evaluate(
        |p, t| mse(p, t, Agg::Mean),
        &prediction,
        &dmatrix![1.0; 0.0],
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            NnError::ShapeMismatch {
                expected: (2, 1),
                found: (1, 2),
                ..
            }
        ),
        "{err:?}"
    );
    let err = evaluate(
        |p, t| focal_loss(p, t, -1.0, Agg::Mean),
        &prediction,
        &dmatrix![1.0, 0.0],
    )
    .unwrap_err();
    assert!(matches!(err, NnError::InvalidConfig { .. }), "{err:?}");
    // And the next call works: a failed one leaves nothing behind.
    let ok = evaluate(|p, t| mse(p, t, Agg::Sum), &prediction, &dmatrix![1.0, 0.0]);
    assert_eq!(ok.unwrap(), 0.5);
}

#[test]
#[should_panic(expected = "losses::evaluate: the loss must return a 1 × 1 matrix")]
fn a_loss_that_is_not_a_scalar_panics() {
    let p = DMatrix::<f64>::zeros(2, 3);
    let _ = evaluate(|p, t| Ok(p - MatVar::constant(t.clone())), &p, &p);
}

/// With `Layer::predict` (now on the same evaluation): a model's error before training, on
/// plain matrices.
#[test]
fn a_models_error_on_plain_matrices() {
    use adroit_nn::{Activation, Dense, Layer};
    let model = Dense::from_parts(
        dmatrix![1.0, -1.0],
        Some(dmatrix![0.5]),
        Activation::Sigmoid,
    )
    .unwrap();
    let x = dmatrix![1.0, 0.0, 2.0; 0.0, 1.0, 1.0];
    let y = dmatrix![1.0, 0.0, 1.0];
    let prediction = model.predict(&x).unwrap();
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    let expected = DMatrix::from_fn(1, 3, |_, j| sigmoid(x[(0, j)] - x[(1, j)] + 0.5));
    assert!((&prediction - &expected).amax() < 1e-15);
    let error = evaluate(|p, t| binarycrossentropy(p, t, Agg::Mean), &prediction, &y);
    let by_hand = (0..3)
        .map(|j| {
            let (q, t) = (expected[(0, j)], y[(0, j)]);
            -(t * (q + f64::EPSILON).ln() + (1.0 - t) * (1.0 - q + f64::EPSILON).ln())
        })
        .sum::<f64>()
        / 3.0;
    assert!((error.unwrap() - by_hand).abs() < 1e-14);
}
