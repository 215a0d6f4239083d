//! Tabular regression with a categorical feature: a category id routed to an `Embedding`
//! beside standardised numeric features (`Parallel::push_rows`), residual blocks with batch
//! normalisation (`SkipConnection`, `BatchNorm`), early stopping on a held-out set with the
//! best model kept, and a weight file (parameters and running statistics) reloaded into a
//! fresh model.
//!
//! Data (synthetic, seeded): 12 categories with effects `e_c` drawn from N(0, 1); a
//! measurement `u` around 5,000 with spread 1,000 and one `v` around 0 with spread 0.01
//! (wildly different scales, which the standardiser and batch normalisation absorb);
//! `y = e_c + sin(z_u) + 2·z_v·z_u + noise` with `z` the standardised values and noise
//! N(0, 0.1²). The best possible test MSE is therefore about 0.01; predicting the mean gives
//! the variance of `y`.

use crate::Error;
use adroit_nn::data::{DataLoader, Standardizer, train_test_split};
use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, BatchNorm, Chain, Connection, Dense, EarlyStopping, Embedding, KeepBest, Layer,
    Parallel, SkipConnection, TrainConfig, Validation, io, train,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// The number of categories.
const CATEGORIES: usize = 12;

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// Mean squared error on the test set, in `y`'s units.
    pub test_mse: f64,
    /// The test MSE of predicting the training mean (the trivial baseline).
    pub baseline_mse: f64,
    /// The epoch whose model was kept (best validation loss).
    pub best_epoch: usize,
    /// The number of epochs trained before early stopping (or the limit).
    pub epochs_run: usize,
    /// The largest difference between the kept model's test predictions and those of a
    /// fresh model loaded from its weight file (0: parameters and running statistics saved).
    pub reload_difference: f64,
}

/// `n` samples: rows `[category id; u; v]` (3 × n) and targets (1 × n).
fn synthetic(n: usize, seed: u64) -> Result<(DMatrix<f32>, DMatrix<f32>), Error> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0_f64, 1.0)?;
    let effects: Vec<f64> = (0..CATEGORIES).map(|_| normal.sample(&mut rng)).collect();
    let mut x = DMatrix::zeros(3, n);
    let mut y = DMatrix::zeros(1, n);
    for j in 0..n {
        let c = j % CATEGORIES;
        let (zu, zv) = (normal.sample(&mut rng), normal.sample(&mut rng));
        let noise = 0.1 * normal.sample(&mut rng);
        x[(0, j)] = c as f32;
        x[(1, j)] = (5000.0 + 1000.0 * zu) as f32;
        x[(2, j)] = (0.01 * zv) as f32;
        y[(0, j)] = (effects[c] + zu.sin() + 2.0 * zv * zu + noise) as f32;
    }
    Ok((x, y))
}

/// The model: [Embedding(12 → 4) of row 0; rows 1..3] → Dense(6 → 32, relu) → two residual
/// blocks x + Dense(relu(BatchNorm(Dense(x)))) → Dense(32 → 1).
fn model(seed: u64) -> Chain<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let inputs = Parallel::new(Connection::Concat)
        .push_rows(0..1, Embedding::new(CATEGORIES, 4, &mut rng))
        .push_rows(1..3, Activation::Identity);
    let mut net = Chain::new()
        .push(inputs)
        .push(Dense::new(6, 32, Activation::Relu, &mut rng));
    for _ in 0..2 {
        let block = Chain::new()
            .push(Dense::new(32, 32, Activation::Identity, &mut rng))
            .push(BatchNorm::new(32))
            .push(Activation::Relu)
            .push(Dense::new(32, 32, Activation::Identity, &mut rng));
        net = net.push(SkipConnection::new(block, Connection::Add));
    }
    net.push(Dense::new(32, 1, Activation::Identity, &mut rng))
}

/// Trains for at most `epochs` epochs (early stopping after 15 without a better validation
/// loss) with Adam's learning rate `learning_rate`, on 1,500 samples split 60/20/20.
///
/// # Errors
/// If the data, training or the weight file fail.
pub fn run(epochs: usize, learning_rate: f64, seed: u64, verbose: bool) -> Result<Report, Error> {
    let (x, y) = synthetic(1500, seed)?;
    let held = train_test_split(&x, &y, 0.4, seed, None)?;
    let halves = train_test_split(&held.x_test, &held.y_test, 0.5, seed + 1, None)?;
    // Standardise the measurements; the ids (row 0) pass through unchanged.
    let scaler = Standardizer::fit(&held.x_train)?.passthrough(&[0])?;
    let x_train = scaler.transform(&held.x_train)?;
    let (x_val, x_test) = (
        scaler.transform(&halves.x_train)?,
        scaler.transform(&halves.x_test)?,
    );
    let mut net = model(seed);
    let loss = |p, t: &DMatrix<f32>| mse(p, t, Agg::Mean);
    // Batch normalisation needs two samples per batch: drop a last batch of one.
    let mut loader = DataLoader::new(x_train, held.y_train.clone(), 32)?
        .shuffle(seed)
        .drop_last(true);
    let mut validation = Validation::new(&net, x_val, halves.y_train.clone(), loss)?;
    let mut stop = EarlyStopping::new(15, 0.0).monitor("val_loss", false);
    let mut best = KeepBest::new().monitor("val_loss", false);
    let config = TrainConfig {
        epochs,
        progress: verbose,
        log: false,
        seed,
    };
    let history = train(
        &mut net,
        &mut loader,
        loss,
        &mut Adam::new(learning_rate),
        &config,
        &mut [&mut validation, &mut stop, &mut best],
    )
    .map_err(|e| e.error)?;
    let best_epoch = best.best_epoch().unwrap_or(0);
    let net = best.into_model().unwrap_or(net);

    let predicted = net.predict(&x_test)?;
    let y_test = &halves.y_test;
    let n = y_test.ncols() as f64;
    let test_mse = predicted
        .zip_map(y_test, |p, t| f64::from((p - t) * (p - t)))
        .sum()
        / n;
    let mean = held.y_train.mean();
    let baseline_mse = y_test.map(|t| f64::from((t - mean) * (t - mean))).sum() / n;

    // The weight file holds the running statistics too: a fresh model predicts the same.
    let bytes = io::to_safetensors_bytes(&net)?;
    let mut fresh = model(seed + 100);
    io::load_safetensors_bytes(&mut fresh, &bytes)?;
    let reload_difference = f64::from((fresh.predict(&x_test)? - &predicted).amax());
    Ok(Report {
        test_mse,
        baseline_mse,
        best_epoch,
        epochs_run: history.epochs.len(),
        reload_difference,
    })
}
