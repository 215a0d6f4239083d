//! The main job: train an MLP on the Iris dataset, plot its training curves, save and reload
//! its weights.
//!
//! Run: `cargo run --release --example iris -- --help`.

use adroit_examples::iris::{Options, run};
use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

/// Train an MLP on the Iris dataset with adroit.
#[derive(Parser)]
struct Args {
    /// Passes over the training set.
    #[arg(long, default_value_t = 150)]
    epochs: usize,
    /// Adam's learning rate.
    #[arg(long, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the split, the initial weights and the shuffling.
    #[arg(long, default_value_t = 42)]
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
    match run(&options) {
        Ok(report) => {
            println!("test accuracy: {:.1} %", 100.0 * report.test_accuracy);
            println!("training curves: {}", report.plot.display());
            println!("weights: {}", report.weights.display());
            println!(
                "reloaded into a fresh model: predictions {}",
                if report.reloaded_identical {
                    "identical"
                } else {
                    "DIFFERENT"
                }
            );
            if report.reloaded_identical {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
