//! The classic gradient example: `Dense` 3 → 2 with sigmoid, input 3 × 1, target [0.2, 0.8],
//! MSE loss; the gradients of weight and bias explicitly (shaped like the model), through
//! collected parameters, and by finite differences.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Dense, Layer, gradient, params};
use adroit_reverse::matrix::MatVar;
use nalgebra::{DMatrix, dmatrix};

/// The three gradients of the weight and of the bias.
#[derive(Clone, Debug)]
pub struct Gradients {
    /// `(weight, bias)` from the model-shaped gradient.
    pub explicit: (DMatrix<f64>, DMatrix<f64>),
    /// `(weight, bias)` from `params(&model)`.
    pub implicit: (DMatrix<f64>, DMatrix<f64>),
    /// `(weight, bias)` by 5-point central differences.
    pub finite_differences: (DMatrix<f64>, DMatrix<f64>),
}

/// Computes the gradients; see the module documentation.
///
/// # Errors
/// Never for these shapes; the loss's shape check is propagated.
pub fn run() -> Result<Gradients, adroit_nn::NnError> {
    let layer = Dense::from_parts(
        dmatrix![0.1, -0.2, 0.3; 0.4, 0.5, -0.6],
        Some(dmatrix![0.05; -0.05]),
        Activation::Sigmoid,
    )?;
    let x = dmatrix![1.0; 2.0; -1.0];
    let y = dmatrix![0.2; 0.8];
    let loss = |m: &Dense<f64>, ctx: &mut adroit_nn::Context<f64>| {
        mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
    };

    let (_, g) = gradient(&layer, loss)?;
    let explicit = (g.weight, g.bias.unwrap_or_else(|| DMatrix::zeros(2, 1)));

    let ps = params(&layer);
    let (_, grads) = ps.gradient(|ctx| loss(&layer, ctx))?;
    let bias = layer.bias.as_ref().expect("the layer has a bias");
    let implicit = (grads[&layer.weight].clone(), grads[bias].clone());

    let value = |w: &[f64], b: &[f64]| -> f64 {
        let l = Dense::from_parts(
            DMatrix::from_column_slice(2, 3, w),
            Some(DMatrix::from_column_slice(2, 1, b)),
            Activation::Sigmoid,
        )
        .and_then(|l| l.predict(&x))
        .map(|p| (p - &y).map(|v| v * v).mean());
        l.unwrap_or(f64::NAN)
    };
    let fd_w = adroit_check::fd::gradient(
        |w: &[f64]| value(w, bias.as_slice()),
        layer.weight.as_slice(),
    );
    let fd_b = adroit_check::fd::gradient(
        |b: &[f64]| value(layer.weight.as_slice(), b),
        bias.as_slice(),
    );
    let finite_differences = (
        DMatrix::from_column_slice(2, 3, &fd_w),
        DMatrix::from_column_slice(2, 1, &fd_b),
    );
    Ok(Gradients {
        explicit,
        implicit,
        finite_differences,
    })
}
