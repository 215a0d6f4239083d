//! The classic example: `Dense` 3 → 2 with sigmoid, input 3 × 1, target [0.2, 0.8], MSE loss;
//! gradients of weight and bias equal the hand-derived formulas and finite differences, both
//! explicitly (model-shaped) and implicitly (collected parameters).

use adroit_check::fd;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Dense, Layer, gradient, params};
use adroit_reverse::matrix::MatVar;
use nalgebra::{DMatrix, dmatrix};

fn setup() -> (Dense<f64>, DMatrix<f64>, DMatrix<f64>) {
    let w = dmatrix![0.1, -0.2, 0.3; 0.4, 0.5, -0.6];
    let b = dmatrix![0.05; -0.05];
    let layer = Dense::from_parts(w, Some(b), Activation::Sigmoid).unwrap();
    (layer, dmatrix![1.0; 2.0; -1.0], dmatrix![0.2; 0.8])
}

/// Hand-derived: a = σ(Wx + b), L = mean((a − y)²) = ½Σ(a − y)² for 2 outputs;
/// δ = ∂L/∂z = (a − y)·a·(1 − a) (the ½·2 cancel); ∂L/∂W = δ·xᵀ, ∂L/∂b = δ.
fn hand_derived(
    layer: &Dense<f64>,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let z = &layer.weight * x + layer.bias.as_ref().unwrap();
    let a = z.map(|v| 1.0 / (1.0 + (-v).exp()));
    let delta = (&a - y).component_mul(&a.map(|v| v * (1.0 - v)));
    (&delta * x.transpose(), delta)
}

fn loss_at(w: &[f64], b: &[f64], x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let w = DMatrix::from_column_slice(2, 3, w);
    let b = DMatrix::from_column_slice(2, 1, b);
    let a = (w * x + b).map(|v| 1.0 / (1.0 + (-v).exp()));
    (a - y).map(|v| v * v).mean()
}

#[test]
fn explicit_and_implicit_gradients_match_hand_derived_and_finite_differences() {
    let (layer, x, y) = setup();
    let (dw, db) = hand_derived(&layer, &x, &y);

    let (loss, grads) = gradient(&layer, |m, ctx| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    })
    .unwrap();
    assert!(
        (loss
            - loss_at(
                layer.weight.as_slice(),
                layer.bias.as_ref().unwrap().as_slice(),
                &x,
                &y
            ))
        .abs()
            < 1e-15
    );
    assert!(
        (&grads.weight - &dw).amax() < 1e-15,
        "{} vs {dw}",
        grads.weight
    );
    assert!((grads.bias.as_ref().unwrap() - &db).amax() < 1e-15);

    let ps = params(&layer);
    assert_eq!(ps.names().collect::<Vec<_>>(), ["weight", "bias"]);
    assert_eq!((ps.len(), ps.is_empty()), (2, false));
    let (_, implicit) = ps
        .gradient(|ctx| {
            mse(
                layer.forward(MatVar::constant(x.clone()), ctx),
                &y,
                Agg::Mean,
            )
        })
        .unwrap();
    assert_eq!(implicit[&layer.weight], grads.weight);
    assert_eq!(
        &implicit[layer.bias.as_ref().unwrap()],
        grads.bias.as_ref().unwrap()
    );

    let b = layer.bias.clone().unwrap();
    let fd_w = fd::gradient(
        |w: &[f64]| loss_at(w, b.as_slice(), &x, &y),
        layer.weight.as_slice(),
    );
    let fd_b = fd::gradient(
        |bv: &[f64]| loss_at(layer.weight.as_slice(), bv, &x, &y),
        b.as_slice(),
    );
    for (g, f) in grads
        .weight
        .iter()
        .zip(&fd_w)
        .chain(grads.bias.as_ref().unwrap().iter().zip(&fd_b))
    {
        assert!((g - f).abs() < 1e-10, "{g} vs fd {f}");
    }
}

#[test]
fn loss_shape_mismatch_is_a_typed_error() {
    let (layer, x, _) = setup();
    let err = gradient(&layer, |m, ctx| {
        mse(
            m.forward(MatVar::constant(x.clone()), ctx),
            &dmatrix![1.0; 2.0; 3.0],
            Agg::Mean,
        )
    })
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "shape mismatch in mse: prediction and target shapes must agree (expected: the target's, found: the prediction's): expected 3×1, found 2×1"
    );
}

#[test]
fn predict_validates_the_input_features() {
    let (layer, _, _) = setup();
    let err = layer.predict(&DMatrix::zeros(4, 2)).unwrap_err();
    assert!(err.to_string().contains("expected 3×2, found 4×2"), "{err}");
    assert_eq!(
        layer.predict(&DMatrix::zeros(3, 5)).unwrap().shape(),
        (2, 5)
    );
}
