//! Why a transformer needs positions: a `TransformerEncoderLayer` with and without a
//! `PositionalEncoding`.
//!
//! Run: `cargo run --release --example positions -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Repeat each sequence's first value at every step (sequences of 8 steps) by a transformer
/// encoder layer with and without a positional encoding.
#[derive(Parser)]
struct Args {
    /// Passes over the training sequences, for each model (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 30)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.003)]
    lr: f64,
    /// Seed of the data, the split, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::positions::run(args.epochs, args.lr, args.seed).and_then(|r| {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "test MSE of the first value repeated at every step, {} sequences of 8 steps:",
            r.test_sequences
        )?;
        writeln!(
            out,
            "  encoder with positional encoding     {:.6}",
            r.with_positions_mse
        )?;
        writeln!(
            out,
            "  encoder without it                   {:.6}",
            r.without_positions_mse
        )?;
        writeln!(
            out,
            "  predicting the sequence's mean       {:.6}",
            r.mean_mse
        )?;
        writeln!(
            out,
            "  predicting 0                         {:.6}",
            r.zero_mse
        )?;
        Ok(())
    });
    adroit_examples::exit_code(result)
}
