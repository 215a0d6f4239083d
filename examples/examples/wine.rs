//! Regression of red-wine quality with an MLP, compared with Cortez et al. (2009).
//!
//! Run: `cargo run --release --example wine -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Predict red-wine quality from physicochemical measurements.
#[derive(Parser)]
struct Args {
    /// Passes over the training set (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 100)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.003)]
    lr: f64,
    /// Seed of the split, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 7)]
    seed: u64,
    /// No progress bar and no per-epoch lines.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::wine::run(args.epochs, args.lr, args.seed, !args.quiet).and_then(|r| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{} training and {} test wines", r.sizes.0, r.sizes.1)?;
        writeln!(
            out,
            "test MAE {:.3} (predicting the mean: {:.3}; Cortez et al. 2009: ≈0.50 multiple regression, 0.46 SVM)",
            r.test_mae, r.baseline_mae
        )?;
        Ok(())
    });
    adroit_examples::exit_code(result)
}
