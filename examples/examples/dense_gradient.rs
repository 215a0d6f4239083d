//! The classic example: the gradients of a Dense 3 → 2 sigmoid layer under MSE, computed
//! explicitly, through collected parameters, and confirmed by finite differences.
//!
//! Run: `cargo run --example dense_gradient`.

use std::io::Write;
use std::process::ExitCode;

fn main() -> ExitCode {
    adroit_examples::report_to_stdout(report)
}

/// The gradients, written to `out`.
fn report(out: &mut dyn Write) -> Result<(), adroit_examples::Error> {
    let g = adroit_examples::classic::run()?;
    writeln!(out, "∂L/∂W (explicit, model-shaped):{}", g.explicit.0)?;
    writeln!(out, "∂L/∂b (explicit):{}", g.explicit.1)?;
    writeln!(
        out,
        "∂L/∂W (implicit, grads[&model.weight]):{}",
        g.implicit.0
    )?;
    writeln!(out, "∂L/∂b (implicit):{}", g.implicit.1)?;
    writeln!(out, "∂L/∂W (finite differences):{}", g.finite_differences.0)?;
    writeln!(out, "∂L/∂b (finite differences):{}", g.finite_differences.1)?;
    let diff = (&g.explicit.0 - &g.finite_differences.0)
        .amax()
        .max((&g.explicit.1 - &g.finite_differences.1).amax());
    writeln!(
        out,
        "largest difference from finite differences: {diff:.1e}"
    )?;
    Ok(())
}
