//! Checkpoint a training run and resume it in a new process, bit for bit (early stopping and
//! the best model included): run it once with `--stop-after`, then again without, and compare
//! with an uninterrupted run in another directory (`cmp` the weight files).
//!
//! Run: `cargo run --release --example resume -- --help`.

use clap::Parser;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

/// Train the Iris MLP with checkpoints; a later run resumes from the last one.
#[derive(Parser)]
struct Args {
    /// Epochs to reach in total (at least 1).
    #[arg(long, value_parser = adroit_examples::epochs, allow_negative_numbers = true, default_value_t = 40)]
    epochs: usize,
    /// Stop after this many epochs in this run (a checkpoint is written either way).
    #[arg(long)]
    stop_after: Option<usize>,
    /// Seed of the split, the initial weights, the shuffling and the dropout masks.
    #[arg(long, value_parser = adroit_examples::seed, allow_negative_numbers = true, default_value_t = 42)]
    seed: u64,
    /// Directory of the checkpoint (resumed from if it holds one).
    #[arg(long, default_value = "target/resume")]
    dir: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = adroit_examples::resume::run(&args.dir, args.epochs, args.stop_after, args.seed)
        .and_then(|report| {
            // (A reader that closed the pipe early ends the program quietly: the checkpoint is
            // written by now.)
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "epochs {} → {} (trained {:?}); checkpoint: {}",
                report.resumed_from,
                report.epochs_done,
                report.epochs,
                report.weights.display()
            )?;
            if report.stopped_early {
                writeln!(
                    out,
                    "early stopping has ended the run (validation loss not improving)"
                )?;
            }
            if let Some((epoch, file)) = &report.best {
                writeln!(
                    out,
                    "best validation loss at epoch {epoch}: {}",
                    file.display()
                )?;
            }
            Ok(())
        });
    adroit_examples::exit_code(result)
}
