//! Checkpointing and resuming a training run exactly: train the Iris MLP with AdamW (decay on
//! the weight matrices only, a warm-up/cosine schedule), dropout and shuffled batches, early
//! stopping on a validation loss and the best model kept; stop after some epochs with a
//! checkpoint; a later run — a new process — continues from it and ends as an uninterrupted
//! run would: the same weights, bit for bit, the same stopping epoch and the same best model.
//!
//! A checkpoint after `n` epochs is five files in one directory, each written atomically:
//! - `weights-n.safetensors`: the model ([`io::save_safetensors`]);
//! - `optimizer-n.json`: AdamW with its moments, step count, schedule position and mask
//!   (serde);
//! - `best-n.safetensors`: the model of the best validation loss so far ([`KeepBest`]);
//! - `callbacks-n.json`: [`EarlyStopping`] (serde: its best score and the epochs waited, so
//!   also whether it has ended the run) and the best model's score and epoch;
//! - `progress.json`, written last: `n` (the epochs the loader had drawn) and the seeds (the
//!   split and shuffle seed, and [`TrainConfig::seed`] of the dropout masks), checked on
//!   resume. Until it is replaced it names the previous complete set of files, so a run
//!   killed while writing a checkpoint resumes from the one before; the files of other
//!   epoch counts are removed once it names the new set.
//!
//! Everything else (data, splits, scaling, batch size) is rebuilt from the same seed; the
//! loader is advanced past the epochs already done with [`DataLoader::skip_epochs`]. The
//! learning-rate schedule travels with the optimiser: a resumed run keeps the horizon the
//! checkpointed run was started with.

use crate::Error;
use crate::iris::load;
use adroit_nn::data::{DataLoader, Standardizer, onecold, onehot, train_test_split};
use adroit_nn::io;
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::optim::{AdamW, Schedule, mask};
use adroit_nn::rand::SeedableRng;
use adroit_nn::rand::rngs::StdRng;
use adroit_nn::{
    Activation, Chain, Dense, Dropout, EarlyStopping, KeepBest, TrainConfig, Validation, train,
};
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

/// The callbacks' state in a checkpoint.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Callbacks {
    /// Its settings, best score and epochs without improvement; whether it has stopped the run.
    early_stopping: EarlyStopping,
    /// The best model's score and epoch (the model itself is a weight file).
    best: Option<Best>,
}

/// [`KeepBest::best_score`] and [`KeepBest::best_epoch`].
#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Best {
    /// The validation loss.
    val_loss: f64,
    /// The epoch it was measured after.
    epoch: usize,
}

/// The contents of the JSON file `path`, with the file named in the error.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, Error> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a checkpoint file of this example ({e}); remove the directory to start \
             afresh",
            path.display()
        )
        .into()
    })
}

/// The numbered checkpoint files, `{stem}-{n}.{extension}` with `n` the epochs done; the one
/// place their names are spelt (written, read and cleaned up through it).
#[derive(Clone, Copy, Debug)]
enum Checkpoint {
    /// The model.
    Weights,
    /// The optimiser with its state.
    Optimizer,
    /// The best model so far.
    Best,
    /// The callbacks' state.
    Callbacks,
}

impl Checkpoint {
    /// Every kind.
    const ALL: [Checkpoint; 4] = [
        Checkpoint::Weights,
        Checkpoint::Optimizer,
        Checkpoint::Best,
        Checkpoint::Callbacks,
    ];

    /// The file name's stem and extension.
    fn parts(self) -> (&'static str, &'static str) {
        match self {
            Checkpoint::Weights => ("weights", "safetensors"),
            Checkpoint::Optimizer => ("optimizer", "json"),
            Checkpoint::Best => ("best", "safetensors"),
            Checkpoint::Callbacks => ("callbacks", "json"),
        }
    }

    /// The file for `n` epochs done, in `dir`.
    fn path(self, dir: &Path, n: usize) -> PathBuf {
        let (stem, extension) = self.parts();
        dir.join(format!("{stem}-{n}.{extension}"))
    }

    /// The epochs done that `name` is a file of this kind for, if it is one.
    fn epochs_of(self, name: &str) -> Option<usize> {
        let (stem, extension) = self.parts();
        let rest = name.strip_prefix(stem)?.strip_prefix('-')?;
        rest.strip_suffix(extension)?
            .strip_suffix('.')?
            .parse()
            .ok()
    }
}

/// Removes the checkpoint files in `dir` of any epoch count but `keep` (left by the run
/// before, or by a run killed before its `progress.json` named them). Best effort: a leftover
/// costs disk space, not correctness.
fn remove_other_checkpoints(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let numbered = Checkpoint::ALL.iter().find_map(|kind| kind.epochs_of(name));
        if numbered.is_some_and(|n| n != keep) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
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
    /// Early stopping has ended the run (in this call or before).
    pub stopped_early: bool,
    /// The epoch of the best validation loss so far, and the weight file of that model.
    pub best: Option<(usize, PathBuf)>,
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
    let weights_file = |n: usize| Checkpoint::Weights.path(dir, n);
    let optimizer_file = |n: usize| Checkpoint::Optimizer.path(dir, n);
    let best_file = |n: usize| Checkpoint::Best.path(dir, n);
    let callbacks_file = |n: usize| Checkpoint::Callbacks.path(dir, n);
    let progress_file = dir.join("progress.json");
    let dropout_seed = seed.wrapping_mul(31).wrapping_add(7);

    // The data, split, scaling and loader are rebuilt from the seed on every run.
    let (x, labels) = load();
    let y: DMatrix<f32> = onehot(&labels, 3)?;
    let split = train_test_split(&x, &y, 0.2, seed, Some(&labels))?;
    // A validation part of the training part, for early stopping (the test part stays unseen).
    let train_labels = onecold(&split.y_train);
    let fit = train_test_split(
        &split.x_train,
        &split.y_train,
        0.2,
        seed,
        Some(&train_labels),
    )?;
    let scaler = Standardizer::fit(&fit.x_train)?;
    let (x_train, x_val) = (
        scaler.transform(&fit.x_train)?,
        scaler.transform(&fit.x_test)?,
    );
    let mut loader = DataLoader::new(x_train, fit.y_train, 16)?.shuffle(seed);
    let total_steps = total_epochs.saturating_mul(loader.batches_per_epoch());

    let mut net = model(seed)?;
    let mut opt = optimizer(&net, total_steps);
    let loss = |p, t: &DMatrix<f32>| logitcrossentropy(p, t, Agg::Mean);
    let mut validation = Validation::new(&net, x_val, fit.y_test, loss)?;
    let mut stop = EarlyStopping::new(4, 1e-3).monitor("val_loss", false);
    let mut best = KeepBest::new().monitor("val_loss", false);
    let mut resumed_from = 0;
    if progress_file.exists() {
        let progress: Progress = read_json(&progress_file)?;
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
        opt = read_json(&optimizer_file(n))?;
        loader.skip_epochs(n);
        let callbacks: Callbacks = read_json(&callbacks_file(n))?;
        stop = callbacks.early_stopping;
        if let Some(Best { val_loss, epoch }) = callbacks.best {
            let mut kept = model(seed)?;
            io::load_safetensors(&mut kept, best_file(n))?;
            best = best.restore(val_loss, epoch, kept)?;
        }
        resumed_from = progress.epochs_drawn;
    }
    // A run that early stopping ended is over.
    let stopped_before = stop.stopped();

    let remaining = if stopped_before {
        0
    } else {
        total_epochs.saturating_sub(resumed_from)
    };
    let epochs = stop_after.map_or(remaining, |n| n.min(remaining));
    let config = TrainConfig {
        epochs,
        seed: dropout_seed,
        ..TrainConfig::default()
    };
    let history = train(
        &mut net,
        &mut loader,
        loss,
        &mut opt,
        &config,
        &mut [&mut validation, &mut stop, &mut best],
    )?;
    // Early stopping has ended the run, in this call or before.
    let stopped_early = stop.stopped();

    // The checkpoint: weights, optimiser and callbacks under the new epoch count, then the
    // progress file naming them (each written atomically); then the previous set is removed.
    let n = loader.epochs_drawn();
    io::save_safetensors(&net, weights_file(n))?;
    io::write_atomically(optimizer_file(n), serde_json::to_string(&opt)?.as_bytes())?;
    if let Some(kept) = best.model() {
        io::save_safetensors(kept, best_file(n))?;
    }
    let best_state = best
        .best_score()
        .zip(best.best_epoch())
        .map(|(val_loss, epoch)| Best { val_loss, epoch });
    let callbacks = Callbacks {
        early_stopping: stop,
        best: best_state,
    };
    io::write_atomically(
        callbacks_file(n),
        serde_json::to_string(&callbacks)?.as_bytes(),
    )?;
    let progress = Progress {
        epochs_drawn: n,
        seed,
        dropout_seed,
    };
    io::write_atomically(&progress_file, serde_json::to_string(&progress)?.as_bytes())?;
    remove_other_checkpoints(dir, n);
    Ok(Report {
        resumed_from,
        epochs_done: n,
        epochs: history.epochs.iter().map(|e| e.epoch).collect(),
        weights: weights_file(n),
        stopped_early,
        best: best_state.map(|b| (b.epoch, best_file(n))),
    })
}
