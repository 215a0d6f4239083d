//! Logistic regression by Newton's method with exact Hessians of matrix code: each step's loss
//! and gradient norm (quadratic convergence), the coefficients against the ones the data were
//! drawn with, their standard errors, and the checks against the closed forms and Newton-CG.
//!
//! Run: `cargo run --release --example logistic_newton`.

use adroit_examples::logistic_newton::{TRUE_WEIGHTS, run};

fn main() {
    let fit = run(1000, 7, 8);
    for (k, (loss, grad)) in fit.steps.iter().enumerate() {
        println!("step {k}: loss {loss:.12}, max |gradient| {grad:.3e}");
    }
    println!("coefficient   fitted   std. error   true");
    let names = ["intercept", "x₁", "x₂", "x₃"];
    for (i, name) in names.iter().enumerate() {
        println!(
            "{name:<11} {:>8.4} {:>12.4} {:>6.2}",
            fit.weights[i], fit.standard_errors[i], TRUE_WEIGHTS[i]
        );
    }
    println!(
        "gradient and Hessian vs the closed forms: {:.1e} (relative)",
        fit.closed_form_error
    );
    println!(
        "Newton-CG on Hessian-vector products vs the dense step: {:.1e}",
        fit.cg_step_error
    );
}
