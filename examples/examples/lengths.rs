//! Variable-length sequences: a `Gru` with and without `masking`.
//!
//! Run: `cargo run --release --example lengths -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Recall the last value of sequences of 2 to 16 steps padded with 0, by a GRU with and
/// without masking.
#[derive(Parser)]
struct Args {
    /// Passes over the training sequences, for each model (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 20)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the data, the split, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 1)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::lengths::run(args.epochs, args.lr, args.seed).and_then(|r| {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "test MSE of the recalled last value, {} sequences, padded to 16 and to 64 steps:",
            r.test_sequences
        )?;
        writeln!(
            out,
            "  GRU with masking          {:.6}  {:.6}",
            r.masked_mse, r.masked_longer_mse
        )?;
        writeln!(
            out,
            "  GRU reading the padding   {:.6}  {:.6}",
            r.unmasked_mse, r.unmasked_longer_mse
        )?;
        writeln!(out, "  predicting 0              {:.6}", r.zero_mse)?;
        Ok(())
    });
    adroit_examples::exit_code(result)
}
