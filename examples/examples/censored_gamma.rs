//! Right-censored gamma lifetimes fitted by maximum likelihood with Newton's method: the
//! censored terms `ln Q(k, c/θ)` differentiated in the shape `k` too (adroit-forward's
//! incomplete gamma), standard errors, and the biased fit that drops the censored times.
//!
//! Run: `cargo run --release --example censored_gamma`.

use adroit_examples::censored_gamma::{FOLLOW_UP, TRUE_SCALE, TRUE_SHAPE, run};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The run's results, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let fit = run(2000, 11);
    writeln!(
        out,
        "{:.1} % of 2000 lifetimes censored at t = {FOLLOW_UP}",
        100.0 * fit.censored_share
    )?;
    writeln!(
        out,
        "maximum likelihood ({} Newton steps, max |gradient| {:.1e}):",
        fit.steps, fit.gradient_norm
    )?;
    let (k, theta) = fit.estimate;
    let (sk, stheta) = fit.standard_errors;
    writeln!(out, "  shape k = {k:.4} ± {sk:.4}   (true {TRUE_SHAPE})")?;
    writeln!(
        out,
        "  scale θ = {theta:.4} ± {stheta:.4}   (true {TRUE_SCALE})"
    )?;
    let (nk, ntheta) = fit.naive;
    writeln!(
        out,
        "dropping the censored times instead: k = {nk:.4}, θ = {ntheta:.4} (biased)"
    )?;
    Ok(())
}
