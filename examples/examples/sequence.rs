//! Time-series forecasting: an `Lstm`, a `Gru`, an `Rnn` and strided `Conv1d`s against a
//! dense network and persistence.
//!
//! Run: `cargo run --release --example sequence -- --help`.

use clap::Parser;
use std::io::Write;
use std::process::ExitCode;

/// Forecast the next value of a noisy signal from its last 16 values.
#[derive(Parser)]
struct Args {
    /// Passes over the training windows, for each model (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 40)]
    epochs: usize,
    /// Adam's learning rate (a finite number > 0).
    #[arg(long, value_parser = adroit_examples::learning_rate, allow_negative_numbers = true, default_value_t = 0.01)]
    lr: f64,
    /// Seed of the noise, the weights and the shuffling.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 3)]
    seed: u64,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::sequence::run(args.epochs, args.lr, args.seed).and_then(|r| {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "test MSE over the last {} windows (the noise alone: 0.0025):",
            r.test_windows
        )?;
        writeln!(out, "  LSTM                      {:.4}", r.lstm_mse)?;
        writeln!(out, "  GRU                       {:.4}", r.gru_mse)?;
        writeln!(out, "  RNN (tanh)                {:.4}", r.rnn_mse)?;
        writeln!(out, "  strided Conv1d stack      {:.4}", r.conv_mse)?;
        writeln!(out, "  dense on the window       {:.4}", r.dense_mse)?;
        writeln!(out, "  persistence (last value) {:.4}", r.persistence_mse)?;
        Ok(())
    });
    adroit_examples::exit_code(result)
}
