//! Why a transformer needs positions: a `TransformerEncoderLayer` asked to repeat each
//! sequence's first value at every step, with and without a `PositionalEncoding`.
//!
//! Data (synthetic, seeded): 2,000 sequences of 8 steps of one feature, each value uniform in
//! ±[0.1, 1]: an 8 × 1 column each, the `(dim·steps) × batch` layout of the sequence layers.
//! The target is the first value, at every step (8 × 1). 80 % train, 20 % test. Attention
//! treats a sequence's steps as a set: without positions no layer after it can tell which
//! value came first (reversing a sequence reverses its outputs), so the best it can do is a
//! guess from the set; with the encoding added, a step can attend to step 0.

use crate::Error;
use adroit_nn::data::train_test_split;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{
    Activation, Chain, Dense, Dropout, Layer, PositionalEncoding, TimeDistributed,
    TransformerEncoderLayer,
};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};

/// The steps of a sequence.
const STEPS: usize = 8;

/// The features of a step inside the model.
const DIM: usize = 16;

/// Test mean squared errors of the repeated first value.
#[derive(Clone, Debug)]
pub struct Report {
    /// The encoder with the positional encoding.
    pub with_positions_mse: f64,
    /// The same encoder (same initial weights) without it.
    pub without_positions_mse: f64,
    /// Predicting each sequence's mean at every step.
    pub mean_mse: f64,
    /// Predicting 0 (the targets' mean square).
    pub zero_mse: f64,
    /// The number of test sequences.
    pub test_sequences: usize,
}

/// `n` sequences (`STEPS × n`) and their first values repeated at every step (`STEPS × n`).
fn sequences(n: usize, seed: u64) -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(STEPS, n, |_, _| {
        let magnitude: f32 = rng.random_range(0.1..=1.0);
        if rng.random_bool(0.5) {
            magnitude
        } else {
            -magnitude
        }
    });
    let first = DMatrix::from_fn(STEPS, n, |_, c| x[(0, c)]);
    (x, first)
}

/// Mean squared error per entry of `predicted` against `target`, in `f64`.
fn mean_squared(predicted: &DMatrix<f32>, target: &DMatrix<f32>) -> f64 {
    let n = target.len().max(1) as f64;
    predicted
        .zip_map(target, |p, t| f64::from(p - t).powi(2))
        .sum()
        / n
}

/// The encoder: each step lifted to `DIM` features, one transformer encoder layer (2 heads,
/// a feed-forward width of 32, no dropout), a read-out of each step; with the positional
/// encoding after the lift when `positions`.
fn encoder(positions: bool, seed: u64) -> Result<Chain<f32>, Error> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let lift = TimeDistributed::new(Dense::new(1, DIM, Activation::Identity, &mut rng))?;
    let mut layer = TransformerEncoderLayer::new(DIM, 2, 32, &mut rng)?;
    layer.dropout = Dropout::new(0.0)?;
    let read_out = TimeDistributed::new(Dense::new(DIM, 1, Activation::Identity, &mut rng))?;
    let mut model = Chain::new().push(lift);
    if positions {
        model = model.push(PositionalEncoding::new(DIM)?);
    }
    Ok(model.push(layer).push(read_out))
}

/// Trains both encoders for `epochs` epochs each (Adam with learning rate `learning_rate`,
/// batches of 32) and scores them on the test sequences.
///
/// # Errors
/// If the data or training fail.
pub fn run(epochs: usize, learning_rate: f64, seed: u64) -> Result<Report, Error> {
    let (x, y) = sequences(2000, seed);
    let split = train_test_split(&x, &y, 0.2, seed, None)?;
    let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
    let mut scores = [0.0; 2];
    for (score, positions) in scores.iter_mut().zip([true, false]) {
        let mut model = encoder(positions, seed)?;
        crate::fit_adam(
            &mut model,
            (&split.x_train, &split.y_train),
            loss,
            epochs,
            learning_rate,
            seed,
        )?;
        *score = mean_squared(&model.predict(&split.x_test)?, &split.y_test);
    }
    let means = DMatrix::from_fn(STEPS, split.x_test.ncols(), |_, c| {
        split.x_test.column(c).mean()
    });
    let zeros = DMatrix::zeros(STEPS, split.y_test.ncols());
    Ok(Report {
        with_positions_mse: scores[0],
        without_positions_mse: scores[1],
        mean_mse: mean_squared(&means, &split.y_test),
        zero_mse: mean_squared(&zeros, &split.y_test),
        test_sequences: split.y_test.ncols(),
    })
}
