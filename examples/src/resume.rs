//! Checkpointing and resuming a training run exactly: train the Iris MLP with AdamW (decay on
//! the weight matrices only, a warm-up/cosine schedule), dropout and shuffled batches; stop
//! after some epochs with a checkpoint; a later run — a new process — continues from it and
//! ends with the weights an uninterrupted run would have, bit for bit.
//!
//! A checkpoint after `n` epochs is three files in one directory, each written atomically:
//! - `weights-n.safetensors`: the model ([`io::save_safetensors`]);
//! - `optimizer-n.json`: AdamW with its moments, step count, schedule position and mask
//!   (serde);
//! - `progress.json`, written last: `n` (the epochs the loader had drawn) and the seeds (the
//!   split and shuffle seed, and [`TrainConfig::seed`] of the dropout masks), checked on
//!   resume. Until it is replaced it names the previous complete pair of files, so a run
//!   killed while writing a checkpoint resumes from the one before.
//!
//! Everything else (data, split, scaling, batch size) is rebuilt from the same seed; the
//! loader is advanced past the epochs already done with [`DataLoader::skip_epochs`]. The
//! learning-rate schedule travels with the optimiser: a resumed run keeps the horizon the
//! checkpointed run was started with.

use crate::Error;
use crate::iris::load;
use adroit_nn::data::{DataLoader, Standardizer, onehot, train_test_split};
use adroit_nn::io;
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::optim::{AdamW, Schedule, mask};
use adroit_nn::rand::SeedableRng;
use adroit_nn::rand::rngs::StdRng;
use adroit_nn::{Activation, Chain, Dense, Dropout, TrainConfig, train};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a checkpoint records besides the weights and the optimiser.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Epochs trained (drawn from the loader).
    pub epochs_drawn: usize,
    /// Seed of the split, the initial weights and the shuffling.
    pub seed: u64,
    /// Seed of the dropout masks ([`TrainConfig::seed`]).
    pub dropout_seed: u64,
}

/// The outcome of one run.
#[derive(Debug)]
pub struct Report {
    /// Epochs done before this run (0 when it started afresh).
    pub resumed_from: usize,
    /// Epochs done after it.
    pub epochs_done: usize,
    /// The epoch numbers this run trained (they continue a resumed run's).
    pub epochs: Vec<usize>,
    /// The weight file of the checkpoint written at the end.
    pub weights: PathBuf,
}

/// The model: 4 → 16 (ReLU) → dropout 0.2 → 3 logits.
fn model(seed: u64) -> Result<Chain<f32>, Error> {
    let mut rng = StdRng::seed_from_u64(seed);
    Ok(Chain::new()
        .push(Dense::new(4, 16, Activation::Relu, &mut rng))
        .push(Dropout::new(0.2)?)
        .push(Dense::new(16, 3, Activation::Identity, &mut rng)))
}

/// AdamW, warm-up then cosine decay over `total_steps`, weight decay on the weights only.
fn optimizer(net: &Chain<f32>, total_steps: usize) -> AdamW<f32> {
    let schedule = Schedule::Warmup {
        steps: 10,
        then: Box::new(Schedule::Cosine {
            init: 0.02,
            decay_steps: total_steps,
            alpha: 0.05,
        }),
    };
    let weights_only = mask(net, |name, _| name.ends_with("weight"));
    AdamW::with(schedule, 1e-3, 0.9, 0.999, 1e-8).with_decay_mask(weights_only)
}

/// Trains until `total_epochs` are done or `stop_after` epochs have run in this call
/// (whichever comes first), resuming from the checkpoint in `dir` if there is one, and writes
/// the checkpoint there at the end.
///
/// # Errors
/// If the checkpoint cannot be read or written, was made with other seeds, or training fails.
pub fn run(
    dir: &Path,
    total_epochs: usize,
    stop_after: Option<usize>,
    seed: u64,
) -> Result<Report, Error> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create the directory {}: {e}", dir.display()))?;
    let weights_file = |n: usize| dir.join(format!("weights-{n}.safetensors"));
    let optimizer_file = |n: usize| dir.join(format!("optimizer-{n}.json"));
    let progress_file = dir.join("progress.json");
    let dropout_seed = seed.wrapping_mul(31).wrapping_add(7);

    // The data, split, scaling and loader are rebuilt from the seed on every run.
    let (x, labels) = load();
    let y: DMatrix<f32> = onehot(&labels, 3)?;
    let split = train_test_split(&x, &y, 0.2, seed, Some(&labels))?;
    let x_train = Standardizer::fit(&split.x_train)?.transform(&split.x_train)?;
    let mut loader = DataLoader::new(x_train, split.y_train, 16)?.shuffle(seed);
    let total_steps = total_epochs.saturating_mul(loader.batches_per_epoch());

    let mut net = model(seed)?;
    let mut opt = optimizer(&net, total_steps);
    let mut resumed_from = 0;
    if progress_file.exists() {
        let progress: Progress = serde_json::from_str(&std::fs::read_to_string(&progress_file)?)?;
        if (progress.seed, progress.dropout_seed) != (seed, dropout_seed) {
            return Err(format!(
                "the checkpoint in {} was made with seed {}, not {seed}",
                dir.display(),
                progress.seed
            )
            .into());
        }
        let n = progress.epochs_drawn;
        io::load_safetensors(&mut net, weights_file(n))?;
        opt = serde_json::from_str(&std::fs::read_to_string(optimizer_file(n))?)?;
        loader.skip_epochs(n);
        resumed_from = progress.epochs_drawn;
    }

    let remaining = total_epochs.saturating_sub(resumed_from);
    let epochs = stop_after.map_or(remaining, |n| n.min(remaining));
    let config = TrainConfig {
        epochs,
        seed: dropout_seed,
        ..TrainConfig::default()
    };
    let history = train(
        &mut net,
        &mut loader,
        |p, t| logitcrossentropy(p, t, Agg::Mean),
        &mut opt,
        &config,
        &mut [],
    )?;

    // The checkpoint: weights and optimiser under the new epoch count, then the progress
    // file naming them (each written atomically); then the previous pair is removed.
    let n = loader.epochs_drawn();
    io::save_safetensors(&net, weights_file(n))?;
    io::write_atomically(optimizer_file(n), serde_json::to_string(&opt)?.as_bytes())?;
    let progress = Progress {
        epochs_drawn: n,
        seed,
        dropout_seed,
    };
    io::write_atomically(&progress_file, serde_json::to_string(&progress)?.as_bytes())?;
    if resumed_from != n && progress_file.exists() {
        // Best effort: a leftover old pair costs disk space, not correctness.
        let _ = std::fs::remove_file(weights_file(resumed_from));
        let _ = std::fs::remove_file(optimizer_file(resumed_from));
    }
    Ok(Report {
        resumed_from,
        epochs_done: n,
        epochs: history.epochs.iter().map(|e| e.epoch).collect(),
        weights: weights_file(n),
    })
}
