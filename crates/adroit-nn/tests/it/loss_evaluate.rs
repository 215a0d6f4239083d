//! `losses::evaluate` (imported as `evaluate`): a loss's value at a plain prediction, against
//! the value the gradient call computes, for every loss of the module; its errors and its one
//! panic.

use adroit_nn::NnError;
use adroit_nn::losses::*;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

type Loss = Box<dyn Fn(MatVar<f64>, &DMatrix<f64>) -> Result<MatVar<f64>, NnError>>;

/// Every loss with its settings, on probabilities in (0, 1) and targets in {0, 1} (valid
/// for each of them: one-hot columns for the class losses).
fn every_loss() -> Vec<(&'static str, Loss)> {
    vec![
        ("mse", Box::new(|p, t| mse(p, t, Agg::Mean))),
        ("mae", Box::new(|p, t| mae(p, t, Agg::Sum))),
        ("msle", Box::new(|p, t| msle(p, t, Agg::Mean))),
        (
            "huber",
            Box::new(|p, t| huber_loss(p, t, HUBER_DELTA, Agg::Mean)),
        ),
        ("poisson", Box::new(|p, t| poisson_loss(p, t, Agg::Mean))),
        (
            "crossentropy",
            Box::new(|p, t| crossentropy(p, t, Agg::Mean)),
        ),
        (
            "logitcrossentropy",
            Box::new(|p, t| logitcrossentropy(p, t, Agg::Mean)),
        ),
        (
            "binarycrossentropy",
            Box::new(|p, t| binarycrossentropy(p, t, Agg::Mean)),
        ),
        (
            "logitbinarycrossentropy",
            Box::new(|p, t| logitbinarycrossentropy(p, t, Agg::Sum)),
        ),
        (
            "kldivergence",
            Box::new(|p, t| kldivergence(p, t, Agg::Mean)),
        ),
        ("hinge", Box::new(|p, t| hinge_loss(p, t, Agg::Mean))),
        (
            "squared_hinge",
            Box::new(|p, t| squared_hinge_loss(p, t, Agg::Mean)),
        ),
        (
            "focal",
            Box::new(|p, t| focal_loss(p, t, FOCAL_GAMMA, Agg::Mean)),
        ),
        (
            "binary_focal",
            Box::new(|p, t| binary_focal_loss(p, t, FOCAL_GAMMA, Agg::Mean)),
        ),
        ("dice", Box::new(|p, t| dice_coeff_loss(p, t, DICE_SMOOTH))),
        ("tversky", Box::new(|p, t| tversky_loss(p, t, TVERSKY_BETA))),
        (
            "siamese_contrastive",
            Box::new(|p, t| siamese_contrastive_loss(p, t, SIAMESE_MARGIN, Agg::Mean)),
        ),
    ]
}

#[test]
fn equals_the_gradient_calls_value_for_every_loss() {
    let prediction = dmatrix![0.7, 0.2, 0.4; 0.3, 0.8, 0.6];
    let target = dmatrix![1.0, 0.0, 0.0; 0.0, 1.0, 1.0];
    for (name, loss) in every_loss() {
        let (recorded, _) = matrix::value_and_gradient(
            |p| loss(p[0], &target).unwrap(),
            std::slice::from_ref(&prediction),
        );
        let evaluated = evaluate(&loss, &prediction, &target).unwrap();
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
