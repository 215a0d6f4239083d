//! adroit-forward's `ImplicitFunction` on the tape: gradients, Jacobians, pullbacks and
//! forward-over-reverse Hessians of a solver's result, against a closed form of the same
//! function and against forward mode.

use adroit_forward::num_traits::Float;
use adroit_forward::{DerivativeOrder, ImplicitFunction, SolveError, SpecialFunctions};
use adroit_reverse::{Var, gradient, hessian, hvp, jacobian, pullback};

/// The intersection of the circle `y₀² + y₁² = p₀` with the line `y₀ − y₁ = p₁` (first
/// quadrant), by Newton's method on plain numbers.
struct Intersection;

impl ImplicitFunction for Intersection {
    fn residual<S: Float>(&self, y: &[S], p: &[S]) -> Vec<S> {
        vec![y[0] * y[0] + y[1] * y[1] - p[0], y[0] - y[1] - p[1]]
    }
    fn solve(&self, p: &[f64]) -> Result<Vec<f64>, SolveError> {
        let mut y = [1.0, 1.0];
        for _ in 0..60 {
            let f = self.residual(&y, p);
            let det = -2.0 * (y[0] + y[1]);
            y = [
                y[0] - (-f[0] - 2.0 * y[1] * f[1]) / det,
                y[1] - (-f[0] + 2.0 * y[0] * f[1]) / det,
            ];
        }
        Ok(y.to_vec())
    }
}

fn closed<S: Float>(p: &[S]) -> Vec<S> {
    let two = S::from(2.0).unwrap();
    let y0 = (p[1] + (two * p[0] - p[1] * p[1]).sqrt()) / two;
    vec![y0, y0 - p[1]]
}

fn implicit<S: SpecialFunctions + DerivativeOrder>(p: &[S]) -> Vec<S> {
    Intersection.eval(p).unwrap()
}

/// A scalar with mixed second derivatives in `p`.
fn scalar<S: Float>(y: &[S], p: &[S]) -> S {
    y[0] * y[0] * y[1] + y[1].sin() * p[0]
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-12 + 1e-11 * b.abs(),
        "{what}: {a} vs {b}"
    );
}

const POINTS: [[f64; 2]; 3] = [[5.0, 1.0], [3.0, -0.5], [10.0, 2.0]];

#[test]
fn gradient_and_jacobian_match_the_closed_form_and_forward_mode() {
    for p in POINTS {
        let g = gradient(|p| scalar(&implicit(p), p), &p);
        let g_closed = gradient(|p| scalar(&closed(p), p), &p);
        let g_forward = adroit_forward::gradient(|p| scalar(&implicit(p), p), &p);
        for ((a, b), c) in g.iter().zip(&g_closed).zip(&g_forward) {
            close(*a, *b, "gradient against the closed form");
            close(*a, *c, "gradient against forward mode");
        }
        let j = jacobian(|p| implicit(p), &p);
        let j_closed = jacobian(|p| closed(p), &p);
        for (a, b) in j.iter().zip(j_closed.iter()) {
            close(*a, *b, "Jacobian");
        }
    }
}

#[test]
fn forward_over_reverse_hessian_and_hvp_match_the_closed_form() {
    assert_eq!(
        <Var<adroit_forward::Dual<f64>> as DerivativeOrder>::ORDER,
        2
    );
    for p in POINTS {
        let h = hessian(|p| scalar(&implicit(p), p), &p);
        let h_closed = adroit_forward::hessian(|p| scalar(&closed(p), p), &p);
        for (a, b) in h.iter().zip(h_closed.iter()) {
            close(*a, *b, "Hessian");
        }
        assert_ne!(h[(0, 1)], 0.0, "a mixed partial is reached");
        let v = [0.5, -2.0];
        let hv = hvp(|p| scalar(&implicit(p), p), &p, &v);
        for i in 0..2 {
            close(
                hv[i],
                h_closed[(i, 0)] * v[0] + h_closed[(i, 1)] * v[1],
                "Hessian-vector product",
            );
        }
    }
}

#[test]
fn one_recording_serves_pullbacks_and_pushforwards() {
    let p = [5.0, 1.0];
    let (y, back) = pullback(|p| implicit(p), &p);
    assert_eq!(y, Intersection.solve(&p).unwrap());
    let j = jacobian(|p| closed(p), &p);
    for w in [[1.0, 0.0], [0.3, -2.0]] {
        let vjp = back.call(&w);
        for k in 0..2 {
            close(vjp[k], w[0] * j[(0, k)] + w[1] * j[(1, k)], "VJP");
        }
    }
    let t = [1.0, 0.5];
    let jvp = back.pushforward(&t);
    for i in 0..2 {
        close(jvp[i], j[(i, 0)] * t[0] + j[(i, 1)] * t[1], "JVP");
    }
}

#[test]
fn f32_gradient() {
    let p = [5.0_f32, 1.0];
    let g = gradient(|p| scalar(&implicit(p), p), &p);
    let g_closed = gradient(|p| scalar(&closed(p), p), &[5.0_f64, 1.0]);
    for (a, b) in g.iter().zip(&g_closed) {
        assert!(
            (f64::from(*a) - b).abs() <= 1e-5 + 1e-4 * b.abs(),
            "{a} vs {b}"
        );
    }
}
