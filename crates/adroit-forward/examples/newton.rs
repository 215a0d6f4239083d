//! Minimise the extended Rosenbrock function with Newton's method, using exact gradients
//! (chunked forward mode) and exact Hessians (hyper-dual numbers) from `adroit-forward`.
//!
//! Run: `cargo run --release -p adroit-forward --example newton [n]` (n even, default 10).

use adroit_forward::nalgebra::DVector;
use adroit_forward::num_traits::Float;
use adroit_forward::{DEFAULT_CHUNK, gradient_chunked, hessian};

/// Extended Rosenbrock (Moré, Garbow & Hillstrom 1981): minimum 0 at (1, …, 1).
fn rosenbrock<S: Float>(x: &[S]) -> S {
    let hundred = S::from(100.0).unwrap_or_else(S::one);
    x.chunks_exact(2).fold(S::zero(), |acc, p| {
        let u = p[1] - p[0] * p[0];
        let v = S::one() - p[0];
        acc + hundred * u * u + v * v
    })
}

fn main() {
    let n: usize = match std::env::args().nth(1).map(|a| a.parse()) {
        None => 10,
        Some(Ok(n)) if n >= 2 && n % 2 == 0 => n,
        Some(_) => {
            eprintln!("usage: newton [n]   (n: an even number ≥ 2)");
            std::process::exit(2);
        }
    };
    // The classic starting point (-1.2, 1, -1.2, 1, ...).
    let mut x: Vec<f64> = (0..n)
        .map(|i| if i % 2 == 0 { -1.2 } else { 1.0 })
        .collect();
    println!("Newton's method on the extended Rosenbrock function, n = {n}");
    println!(
        "{:>4} {:>14} {:>12} {:>6}",
        "iter", "f(x)", "|grad|", "step"
    );
    for iter in 0..100 {
        let f = rosenbrock(&x);
        let g = DVector::from_vec(gradient_chunked::<DEFAULT_CHUNK, _, _>(rosenbrock, &x));
        println!("{iter:>4} {f:>14.6e} {:>12.3e}", g.norm());
        if g.norm() < 1e-10 {
            println!("converged: x = {:.6?}", &x[..x.len().min(6)]);
            return;
        }
        let h = hessian(rosenbrock, &x);
        let Some(step) = h.lu().solve(&(-&g)) else {
            eprintln!("singular Hessian at iteration {iter}");
            std::process::exit(1);
        };
        // Backtracking line search on the Newton direction.
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = x.iter().zip(step.iter()).map(|(a, d)| a + t * d).collect();
            if rosenbrock(&trial) <= f + 1e-4 * t * g.dot(&step) || t < 1e-8 {
                x = trial;
                break;
            }
            t *= 0.5;
        }
    }
    eprintln!("did not converge in 100 iterations");
    std::process::exit(1);
}
