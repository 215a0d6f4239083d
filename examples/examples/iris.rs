//! The main job: train an MLP on the Iris dataset, plot its training curves, save and reload
//! its weights.
//!
//! Run: `cargo run --release --example iris -- --help`.

use adroit_examples::iris::{Options, run};
use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Train an MLP on the Iris dataset with adroit.
#[derive(Parser)]
struct Args {
    /// Passes over the training set (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 150)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the split, the initial weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 42)]
    seed: u64,
    /// Directory for the training-curve plot and the weight file.
    #[arg(long, default_value = "target/iris")]
    out_dir: PathBuf,
    /// No progress bar and no per-epoch lines.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let options = Options {
        epochs: args.epochs,
        learning_rate: args.lr,
        seed: args.seed,
        out_dir: args.out_dir,
        verbose: !args.quiet,
    };
    let result = run(&options).and_then(|report| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "test accuracy: {:.1} %", 100.0 * report.test_accuracy)?;
        writeln!(out, "training curves: {}", report.plot.display())?;
        writeln!(out, "weights: {}", report.weights.display())?;
        let same = if report.reloaded_identical {
            "identical"
        } else {
            "DIFFERENT"
        };
        writeln!(out, "reloaded into a fresh model: predictions {same}")?;
        Ok(report.reloaded_identical)
    });
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) if adroit_examples::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
