//! A Laplace approximation for a 1-4-1 network trained on noisy `sin x`: the exact Hessian of
//! the MAP objective over all 13 parameters, its spectrum, and the predictive standard
//! deviation it gives inside and outside the data's range `[−3, 3]`.
//!
//! Run: `cargo run --release --example laplace`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The run's results, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let tests = [-6.0, -4.0, -3.0, -1.5, 0.0, 1.5, 3.0, 4.0, 6.0];
    let fit = adroit_examples::laplace::run(64, 3000, 40, 5, &tests);
    writeln!(
        out,
        "training mse {:.5}, MAP gradient {:.1e}",
        fit.train_mse, fit.gradient_norm
    )?;
    let e = &fit.hessian_eigenvalues;
    let n = e.len();
    writeln!(
        out,
        "posterior precision: {n} × {n}, asymmetry {:.1e}, eigenvalues from {:.3e} to {:.3e}",
        fit.asymmetry,
        e[0],
        e[e.len() - 1]
    )?;
    writeln!(out, "     x     mean   predictive std   sin x")?;
    for (x, mean, std) in &fit.predictions {
        writeln!(out, "{x:>6.2} {mean:>8.4} {std:>16.4} {:>7.4}", x.sin())?;
    }
    Ok(())
}
