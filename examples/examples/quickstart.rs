//! f(x) = 3x² + 2x + 1 has f'(5) = 32, in forward and reverse mode.
//!
//! Run: `cargo run --example quickstart`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The run's results, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let (forward, reverse) = adroit_examples::quickstart::run();
    writeln!(
        out,
        "f(x) = 3x² + 2x + 1, f'(5) = {forward} (forward mode) = {reverse} (reverse mode)"
    )?;
    Ok(())
}
