//! Time-series forecasting with recurrent layers: the next value of a noisy signal from a
//! window of its past, by an `Lstm`, a `Gru`, a plain `Rnn`, a stack of strided `Conv1d`s and,
//! for comparison, a dense network on the same window, against the persistence forecast
//! (tomorrow as today).
//!
//! Data (synthetic, seeded): `s_t = sin(0.3·t) + 0.5·sin(0.05·t + 1) + noise`, noise
//! N(0, 0.05²), 1,600 points. Each sample is a window of 16 consecutive values (16 steps of
//! one feature: a 16 × 1 column, the recurrent layers' `(input·steps) × batch` layout) and its
//! target the value after it. The first 80 % of the windows train, the last 20 % test
//! (chronologically: no test target is seen in training; the first test windows reach back
//! into the training series, as windowed data does). The best possible test MSE is the noise's
//! variance, 0.0025.

use crate::Error;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Chain, Conv1d, Dense, Gru, Layer, Lstm, Rnn};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// Steps in each window.
const WINDOW: usize = 16;

/// Test mean squared errors, in the signal's units squared.
#[derive(Clone, Debug)]
pub struct Report {
    /// The LSTM (16 hidden features, final state into a dense read-out).
    pub lstm_mse: f64,
    /// The GRU (same sizes).
    pub gru_mse: f64,
    /// The plain recurrent layer (tanh, same sizes).
    pub rnn_mse: f64,
    /// A dense network on the window (16 → 32 tanh → 1).
    pub dense_mse: f64,
    /// Four convolutions of kernel 2 and stride 2 (1 → 16 → 16 → 16 → 16 channels, ReLU),
    /// halving the steps from 16 to 1 (a receptive field of the whole window), then a dense
    /// read-out.
    pub conv_mse: f64,
    /// Predicting each window's last value.
    pub persistence_mse: f64,
    /// The number of test windows.
    pub test_windows: usize,
}

/// The windows (`WINDOW × n`) and next values (`1 × n`) of a seeded series of `points`.
fn windows(points: usize, seed: u64) -> Result<(DMatrix<f32>, DMatrix<f32>), Error> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0_f64, 0.05)?;
    let series: Vec<f64> = (0..points)
        .map(|t| {
            let t = t as f64;
            (0.3 * t).sin() + 0.5 * (0.05 * t + 1.0).sin() + noise.sample(&mut rng)
        })
        .collect();
    let n = points - WINDOW;
    let x = DMatrix::from_fn(WINDOW, n, |r, c| series[c + r] as f32);
    let y = DMatrix::from_fn(1, n, |_, c| series[c + WINDOW] as f32);
    Ok((x, y))
}

/// Mean squared error of `predicted` against `target` (both `1 × n`), in `f64`.
fn mean_squared(predicted: &DMatrix<f32>, target: &DMatrix<f32>) -> f64 {
    let n = target.ncols().max(1) as f64;
    predicted
        .zip_map(target, |p, t| f64::from(p - t).powi(2))
        .sum()
        / n
}

/// Trains `model` for `epochs` epochs (Adam, batches of 32, shuffled) and returns its test
/// MSE.
fn fit(
    mut model: Chain<f32>,
    data: (&DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>, &DMatrix<f32>),
    epochs: usize,
    learning_rate: f64,
    seed: u64,
) -> Result<f64, Error> {
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
    Ok(mean_squared(&model.predict(x_test)?, y_test))
}

/// Trains the five models for `epochs` epochs each with Adam's learning rate `learning_rate`
/// and compares their test errors.
///
/// # Errors
/// If the data or training fail.
pub fn run(epochs: usize, learning_rate: f64, seed: u64) -> Result<Report, Error> {
    let (x, y) = windows(1600, seed)?;
    let split = x.ncols() * 4 / 5;
    let n_test = x.ncols() - split;
    let (x_train, x_test) = (
        x.columns(0, split).into_owned(),
        x.columns(split, n_test).into_owned(),
    );
    let (y_train, y_test) = (
        y.columns(0, split).into_owned(),
        y.columns(split, n_test).into_owned(),
    );
    let data = (&x_train, &y_train, &x_test, &y_test);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let readout = |rng: &mut rand::rngs::StdRng| Dense::new(16, 1, Activation::Identity, rng);
    let lstm = Chain::new()
        .push(Lstm::new(1, 16, &mut rng).last_only())
        .push(readout(&mut rng));
    let gru = Chain::new()
        .push(Gru::new(1, 16, &mut rng).last_only())
        .push(readout(&mut rng));
    let dense = Chain::new()
        .push(Dense::new(WINDOW, 32, Activation::Tanh, &mut rng))
        .push(Dense::new(32, 1, Activation::Identity, &mut rng));
    // Built last, so that the other models' weights are those of the runs before it existed.
    let rnn = Chain::new()
        .push(Rnn::new(1, 16, Activation::Tanh, &mut rng).last_only())
        .push(readout(&mut rng));
    // Likewise after the RNN.
    let mut conv = Chain::new();
    for input in [1, 16, 16, 16] {
        conv = conv.push(Conv1d::new(input, 16, 2, Activation::Relu, &mut rng)?.stride(2));
    }
    let conv = conv.push(readout(&mut rng));
    Ok(Report {
        lstm_mse: fit(lstm, data, epochs, learning_rate, seed)?,
        gru_mse: fit(gru, data, epochs, learning_rate, seed)?,
        rnn_mse: fit(rnn, data, epochs, learning_rate, seed)?,
        dense_mse: fit(dense, data, epochs, learning_rate, seed)?,
        conv_mse: fit(conv, data, epochs, learning_rate, seed)?,
        persistence_mse: mean_squared(&x_test.rows(WINDOW - 1, 1).into_owned(), &y_test),
        test_windows: n_test,
    })
}
