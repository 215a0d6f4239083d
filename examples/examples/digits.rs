//! Handwritten digits: a small convolutional network against a dense one.
//!
//! Run: `cargo run --release --example digits -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Classify the 8 × 8 UCI handwritten digits (bundled) with a convolutional and a dense network.
#[derive(Parser)]
struct Args {
    /// Passes over the training images, for each model (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 40)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.005)]
    lr: f64,
    /// Seed of the split, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::digits::run(args.epochs, args.lr, args.seed).and_then(|r| {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "test accuracy on {} images ({} trained on):",
            r.test_images, r.train_images
        )?;
        writeln!(
            out,
            "  conv 3×3 (16) → max pool → dense  {:.3}",
            r.cnn_accuracy
        )?;
        writeln!(
            out,
            "  dense 64 → 40 → 10                {:.3}",
            r.dense_accuracy
        )?;
        Ok(())
    });
    adroit_examples::exit_code(result)
}
