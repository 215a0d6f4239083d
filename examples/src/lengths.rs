//! Sequences of different lengths in one batch: a `Gru` recalling each sequence's last value,
//! with `masking` (each sequence's own final state) and without (the padding read as data).
//!
//! Data (synthetic, seeded): 3,000 sequences of 2 to 16 steps of one feature, each value
//! uniform in ±[0.1, 1], padded at the end with 0 (a value no real step takes) to 16 steps: a
//! 16 × 1 column each, the recurrent layers' `(input·steps) × batch` layout. The target is the
//! sequence's last value, so a model must know where each sequence ends. 80 % train, 20 %
//! test. The test sequences are also scored padded to 64 steps, as a batch holding one longer
//! sequence would pad them: a masked model gives the same predictions, one that reads the
//! padding meets more of it than it was trained on.

use crate::Error;
use adroit_nn::data::train_test_split;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Chain, Dense, Gru, Layer};
use nalgebra::DMatrix;
use rand::{Rng, SeedableRng};

/// The longest sequence, and the length the training sequences are padded to.
const STEPS: usize = 16;

/// The length the test sequences are padded to the second time.
const LONGER: usize = 64;

/// The value marking padding steps.
const PADDING: f32 = 0.0;

/// Test mean squared errors of the recalled last value.
#[derive(Clone, Debug)]
pub struct Report {
    /// The GRU skipping the padding (`Gru::masking`), test sequences padded to 16 steps.
    pub masked_mse: f64,
    /// The same, padded to 64 steps.
    pub masked_longer_mse: f64,
    /// The same GRU (same initial weights) reading the padding as data, padded to 16 steps.
    pub unmasked_mse: f64,
    /// The same, padded to 64 steps.
    pub unmasked_longer_mse: f64,
    /// Predicting 0 (the targets' mean square).
    pub zero_mse: f64,
    /// The number of test sequences.
    pub test_sequences: usize,
}

/// `n` padded sequences (`STEPS × n`) and their last values (`1 × n`).
fn sequences(n: usize, seed: u64) -> (DMatrix<f32>, DMatrix<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = DMatrix::from_element(STEPS, n, PADDING);
    let mut last = DMatrix::zeros(1, n);
    for (j, mut column) in x.column_iter_mut().enumerate() {
        let length = rng.random_range(2..=STEPS);
        for step in column.iter_mut().take(length) {
            let magnitude: f32 = rng.random_range(0.1..=1.0);
            *step = if rng.random_bool(0.5) {
                magnitude
            } else {
                -magnitude
            };
        }
        last[j] = column[length - 1];
    }
    (x, last)
}

/// Mean squared error of `predicted` against `target` (both `1 × n`), in `f64`.
fn mean_squared(predicted: &DMatrix<f32>, target: &DMatrix<f32>) -> f64 {
    let n = target.ncols().max(1) as f64;
    predicted
        .zip_map(target, |p, t| f64::from(p - t).powi(2))
        .sum()
        / n
}

/// Trains `model` (Adam, batches of 32) and returns its test MSE with the test sequences
/// padded to 16 and to 64 steps.
fn fit(
    mut model: Chain<f32>,
    data: (&DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>),
    epochs: usize,
    learning_rate: f64,
    seed: u64,
) -> Result<(f64, f64), Error> {
    let (x_train, y_train, x_test, y_test) = data;
    let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
    crate::fit_adam(
        &mut model,
        (x_train, y_train),
        loss,
        epochs,
        learning_rate,
        seed,
    )?;
    let longer = x_test.clone().resize_vertically(LONGER, PADDING);
    Ok((
        mean_squared(&model.predict(x_test)?, y_test),
        mean_squared(&model.predict(&longer)?, y_test),
    ))
}

/// Trains the masked and the unmasked GRU (8 hidden features, the final state into a dense
/// read-out) for `epochs` epochs each with Adam's learning rate `learning_rate`.
///
/// # Errors
/// If the data or training fail.
pub fn run(epochs: usize, learning_rate: f64, seed: u64) -> Result<Report, Error> {
    let (x, y) = sequences(3000, seed);
    let split = train_test_split(&x, &y, 0.2, seed, None)?;
    let data = (&split.x_train, &split.y_train, &split.x_test, &split.y_test);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let gru = Gru::new(1, 8, &mut rng).last_only();
    let readout = Dense::new(8, 1, adroit_nn::Activation::Identity, &mut rng);
    let masked = Chain::new()
        .push(gru.clone().masking(f64::from(PADDING)))
        .push(readout.clone());
    let unmasked = Chain::new().push(gru).push(readout);
    let (masked_mse, masked_longer_mse) = fit(masked, data, epochs, learning_rate, seed)?;
    let (unmasked_mse, unmasked_longer_mse) = fit(unmasked, data, epochs, learning_rate, seed)?;
    let zeros = DMatrix::zeros(1, split.y_test.ncols());
    Ok(Report {
        masked_mse,
        masked_longer_mse,
        unmasked_mse,
        unmasked_longer_mse,
        zero_mse: mean_squared(&zeros, &split.y_test),
        test_sequences: split.y_test.ncols(),
    })
}
