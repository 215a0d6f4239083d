//! Gaussian-process regression: the kernel's hyperparameters by Newton's method on the log
//! marginal likelihood, its gradient and Hessian from the matrix tape through a Cholesky
//! factor; standard errors, predictions with uncertainty, and what LU gives at a numerically
//! singular kernel matrix.
//!
//! Run: `cargo run --release --example gaussian_process`.

use adroit_examples::gaussian_process::{NOISE, run, truth};
use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The run's results, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let tests = [-3.0, -1.5, -0.5, 0.0, 0.7, 1.9, 3.0];
    let fit = run(80, 7, &tests);
    writeln!(
        out,
        "log marginal likelihood {:.4} after {} Newton steps (max |gradient| {:.1e}; matrix \
         tape against the closed form: {:.1e})",
        fit.log_likelihood, fit.steps, fit.gradient_norm, fit.gradient_check
    )?;
    let (signal, length, noise) = fit.hyperparameters;
    let [s0, s1, s2] = fit.standard_errors;
    writeln!(out, "  σ_f² = {signal:.4}   (ln: ± {s0:.3})")?;
    writeln!(out, "  ℓ    = {length:.4}   (ln: ± {s1:.3})")?;
    writeln!(
        out,
        "  σ_n  = {noise:.4}   (ln σ_n²: ± {s2:.3}; drawn with {NOISE})"
    )?;
    writeln!(out, "     x     mean      std   sin 3x")?;
    for (x, mean, std) in &fit.predictions {
        writeln!(out, "{x:>6.2} {mean:>8.4} {std:>8.4} {:>8.4}", truth(*x))?;
    }
    let (refused, lu) = fit.near_singular;
    writeln!(
        out,
        "at σ_n² = e⁻⁴⁰: cholesky refused K: {refused}; the LU formula gave {lu:.4e}\n  \
         (K is singular in floating point: LU's value cannot be trusted)"
    )?;
    Ok(())
}
