//! The main job: an MLP classifying the Iris dataset (Fisher 1936; shipped in the
//! `linfa-datasets` crate, so nothing is downloaded at run time).
//!
//! Features are standardised with the training set's statistics, the split is stratified with a
//! fixed seed, the model (4 → 16 → 16 → 3, ReLU) is trained with Adam on the logit
//! cross-entropy, the training curves are drawn to an SVG file, and the weights are saved in
//! the safetensors format and reloaded into a fresh model to show that it predicts identically.

use crate::{Error, plot};
use adroit_nn::data::{DataLoader, Standardizer, accuracy, onecold, onehot, train_test_split};
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Chain, Control, Dense, EpochMetrics, History, Layer, TrainConfig, io, train,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use std::path::{Path, PathBuf};

/// Settings of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Passes over the training set.
    pub epochs: usize,
    /// Adam's learning rate.
    pub learning_rate: f64,
    /// Seed of the split, the initial weights and the shuffling.
    pub seed: u64,
    /// Where the plot and the weights go.
    pub out_dir: PathBuf,
    /// Show a progress bar and print each epoch's metrics.
    pub verbose: bool,
}

/// What a run produced.
#[derive(Clone, Debug)]
pub struct Report {
    /// Per-epoch training loss and test accuracy.
    pub history: History,
    /// Accuracy on the held-out test set after training.
    pub test_accuracy: f64,
    /// The SVG file with the training curves.
    pub plot: PathBuf,
    /// The safetensors weight file.
    pub weights: PathBuf,
    /// True when the reloaded model's predictions equal the trained model's exactly.
    pub reloaded_identical: bool,
}

/// The model: 4 → 16 → 16 → 3 with ReLU, logits out.
pub fn model(seed: u64) -> Chain<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Chain::new()
        .push(Dense::new(4, 16, Activation::Relu, &mut rng))
        .push(Dense::new(16, 16, Activation::Relu, &mut rng))
        .push(Dense::new(16, 3, Activation::Identity, &mut rng))
}

/// Loads Iris as `features × samples` (4 × 150, `f32`) and its class labels.
pub fn load() -> (DMatrix<f32>, Vec<usize>) {
    let dataset = linfa_datasets::iris();
    let records = dataset.records();
    let x = DMatrix::from_fn(records.ncols(), records.nrows(), |i, j| {
        records[[j, i]] as f32
    });
    (x, dataset.targets().iter().copied().collect())
}

/// Checks, before a run, that `files` in `dir` can be written: each is absent or a regular
/// file that is not read-only (what `io::write_atomically` refuses), and `dir` takes a new
/// file (a probe, removed at once).
fn check_writable(dir: &Path, files: &[&Path]) -> Result<(), Error> {
    for file in files {
        if let Ok(meta) = std::fs::metadata(file) {
            if !meta.is_file() {
                return Err(format!("cannot write {}: not a regular file", file.display()).into());
            }
            if meta.permissions().readonly() {
                return Err(
                    format!("cannot write {}: the file is read-only", file.display()).into(),
                );
            }
        }
    }
    let probe = dir.join(format!(".adroit-write-probe.{}", std::process::id()));
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            format!(
                "cannot write in the output directory {}: {e}",
                dir.display()
            )
        })?;
    Ok(())
}

/// Trains and evaluates; see the module documentation.
///
/// # Errors
/// If the output directory or files cannot be written, or training fails.
pub fn run(options: &Options) -> Result<Report, Error> {
    if options.out_dir.exists() && !options.out_dir.is_dir() {
        return Err(format!(
            "the output directory {} is a file, not a directory",
            options.out_dir.display()
        )
        .into());
    }
    std::fs::create_dir_all(&options.out_dir).map_err(|e| {
        format!(
            "cannot create the output directory {}: {e}",
            options.out_dir.display()
        )
    })?;
    let weights = options.out_dir.join("iris.safetensors");
    let plot_path = options.out_dir.join("iris_training.svg");
    // Before training: an output that cannot be written would otherwise cost the whole run.
    check_writable(&options.out_dir, &[&weights, &plot_path])?;
    let (x, labels) = load();
    let y: DMatrix<f32> = onehot(&labels, 3)?;
    let split = train_test_split(&x, &y, 0.2, options.seed, Some(&labels))?;
    let scaler = Standardizer::fit(&split.x_train)?;
    let (x_train, x_test) = (
        scaler.transform(&split.x_train)?,
        scaler.transform(&split.x_test)?,
    );
    let test_labels = onecold(&split.y_test);

    let mut net = model(options.seed);
    let mut loader = DataLoader::new(x_train, split.y_train, 16)?.shuffle(options.seed);
    let mut opt = Adam::new(options.learning_rate);
    let mut test_accuracy = |m: &Chain<f32>, metrics: &mut EpochMetrics| {
        // NaN rather than a plausible 0 if the evaluation failed (it cannot for these shapes)
        let acc = m
            .predict(&x_test)
            .and_then(|p| accuracy(&onecold(&p), &test_labels))
            .unwrap_or(f64::NAN);
        metrics.extra.push(("test_accuracy".into(), acc));
        Control::Continue
    };
    let config = TrainConfig {
        epochs: options.epochs,
        progress: options.verbose,
        log: options.verbose,
        seed: options.seed,
    };
    let history = train(
        &mut net,
        &mut loader,
        |p, t| logitcrossentropy(p, t, Agg::Mean),
        &mut opt,
        &config,
        &mut [&mut test_accuracy],
    )?;
    let final_accuracy = accuracy(&onecold(&net.predict(&x_test)?), &test_labels)?;

    let losses: Vec<f64> = history.epochs.iter().map(|e| e.loss).collect();
    let accuracies: Vec<f64> = history
        .epochs
        .iter()
        .filter_map(|e| e.get("test_accuracy"))
        .collect();
    // The weights first: a plot that cannot be written must not cost the trained model.
    io::save_safetensors(&net, &weights)?;
    let mut fresh = model(options.seed.wrapping_add(1));
    io::load_safetensors(&mut fresh, &weights)?;
    let reloaded_identical = fresh.predict(&x_test)? == net.predict(&x_test)?;

    plot::curves(
        &plot_path,
        &[("training loss", &losses), ("test accuracy", &accuracies)],
    )?;

    Ok(Report {
        history,
        test_accuracy: final_accuracy,
        plot: plot_path,
        weights,
        reloaded_identical,
    })
}
