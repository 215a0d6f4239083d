//! Logistic regression by Newton's method with exact Hessians of matrix code: each step's loss
//! and gradient norm (quadratic convergence), the coefficients against the ones the data were
//! drawn with, their standard errors, and the checks against the closed forms and Newton-CG.
//!
//! Run: `cargo run --release --example logistic_newton`.

use adroit_examples::logistic_newton::{TRUE_WEIGHTS, run};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The run's results, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let fit = run(1000, 7, 8);
    for (k, (loss, grad)) in fit.steps.iter().enumerate() {
        writeln!(out, "step {k}: loss {loss:.12}, max |gradient| {grad:.3e}")?;
    }
    writeln!(out, "coefficient   fitted   std. error   true")?;
    let names = ["intercept", "x₁", "x₂", "x₃"];
    for (i, name) in names.iter().enumerate() {
        writeln!(
            out,
            "{name:<11} {:>8.4} {:>12.4} {:>6.2}",
            fit.weights[i], fit.standard_errors[i], TRUE_WEIGHTS[i]
        )?;
    }
    writeln!(
        out,
        "gradient and Hessian vs the closed forms: {:.1e} (relative)",
        fit.closed_form_error
    )?;
    writeln!(
        out,
        "Newton-CG on Hessian-vector products vs the dense step: {:.1e}",
        fit.cg_step_error
    )?;
    Ok(())
}
