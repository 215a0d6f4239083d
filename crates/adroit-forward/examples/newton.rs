//! Minimise the extended Rosenbrock function with Newton's method, using exact gradients and
//! Hessians from `adroit-forward` (one set of hyper-dual evaluations gives both).
//!
//! Run: `cargo run --release -p adroit-forward --example newton [n]` (n even, 2 to 2000,
//! default 10).

use adroit_forward::nalgebra::DVector;
use adroit_forward::num_traits::Float;
use adroit_forward::value_gradient_and_hessian;
use std::io::Write;

/// Extended Rosenbrock (Moré, Garbow & Hillstrom 1981): minimum 0 at (1, …, 1).
fn rosenbrock<S: Float>(x: &[S]) -> S {
    let hundred = S::from(100.0).unwrap_or_else(S::one);
    x.chunks_exact(2).fold(S::zero(), |acc, p| {
        let u = p[1] - p[0] * p[0];
        let v = S::one() - p[0];
        acc + hundred * u * u + v * v
    })
}

/// Largest n accepted: the dense Hessian takes 8·n² bytes (32 MB at 2000).
const MAX_N: usize = 2000;

fn main() {
    let arg = std::env::args().nth(1);
    if matches!(arg.as_deref(), Some("-h" | "--help")) {
        // (Ignored: a closed standard output ends the run quietly, as below.)
        let _ = writeln!(
            std::io::stdout(),
            "usage: newton [n]   (n: an even number from 2 to {MAX_N}; default 10)"
        );
        return;
    }
    if std::env::args().count() > 2 {
        eprintln!("usage: newton [n]   (one argument at most)");
        std::process::exit(2);
    }
    let n: usize = match arg.map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) if (2..=MAX_N).contains(&n) && n % 2 == 0 => n,
        Some(_) => {
            eprintln!("usage: newton [n]   (n: an even number from 2 to {MAX_N})");
            std::process::exit(2);
        }
    };
    if let Err(e) = minimise(n) {
        // A closed standard output (`| head`) ends the run quietly.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}

/// Runs Newton's method from the classic starting point, printing one line per iteration.
fn minimise(n: usize) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    // The classic starting point (-1.2, 1, -1.2, 1, ...).
    let mut x: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    writeln!(
        out,
        "Newton's method on the extended Rosenbrock function, n = {n}"
    )?;
    writeln!(
        out,
        "{:>4} {:>14} {:>12} {:>10}",
        "iter", "f(x)", "|grad|", "step t"
    )?;
    for iter in 0..100 {
        // Value, gradient and Hessian from the same hyper-dual evaluations.
        let (f, g, h) = value_gradient_and_hessian(rosenbrock, &x);
        let g = DVector::from_vec(g);
        if g.norm() < 1e-10 {
            writeln!(out, "{iter:>4} {f:>14.6e} {:>12.3e}", g.norm())?;
            writeln!(out, "converged: x = {x:.6?}")?;
            return Ok(());
        }
        let Some(step) = h.lu().solve(&(-&g)) else {
            eprintln!("singular Hessian at iteration {iter}");
            std::process::exit(1);
        };
        // Backtracking line search on the Newton direction: x ← x + t·step.
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = x.iter().zip(step.iter()).map(|(a, d)| a + t * d).collect();
            if rosenbrock(&trial) <= f + 1e-4 * t * g.dot(&step) || t < 1e-8 {
                x = trial;
                break;
            }
            t *= 0.5;
        }
        writeln!(out, "{iter:>4} {f:>14.6e} {:>12.3e} {t:>10.4}", g.norm())?;
    }
    eprintln!("did not converge in 100 iterations");
    std::process::exit(1);
}
