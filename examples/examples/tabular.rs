//! Tabular regression with a categorical feature: an `Embedding` beside standardised
//! measurements, residual blocks with batch normalisation, early stopping, a weight file.
//!
//! Run: `cargo run --release --example tabular -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Fit a residual network with an embedded category to synthetic tabular data.
#[derive(Parser)]
struct Args {
    /// The most passes over the training set (at least 1); early stopping may end sooner.
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 200)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.003)]
    lr: f64,
    /// Seed of the data, the split, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 5)]
    seed: u64,
    /// No progress bar.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::tabular::run(args.epochs, args.lr, args.seed, !args.quiet)
        .and_then(|r| {
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "{} epochs run, the model of epoch {} kept (best validation loss)",
                r.epochs_run, r.best_epoch
            )?;
            writeln!(
                out,
                "test MSE {:.4} (predicting the mean: {:.4}; the noise alone: 0.01)",
                r.test_mse, r.baseline_mse
            )?;
            writeln!(
                out,
                "reloaded from its weight file, the model predicts the same (largest difference {:e})",
                r.reload_difference
            )?;
            Ok(())
        });
    adroit_examples::exit_code(result)
}
