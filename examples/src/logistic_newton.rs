//! Logistic regression fitted by Newton's method on adroit's matrix tape: the loss written
//! once, generic over the element type, its gradient and Hessian from
//! `matrix::value_gradient_and_hessian`, standard errors from the inverse Hessian (the
//! observed Fisher information, as a statistics package reports them), and the same step by
//! Newton-CG from Hessian-vector products (`matrix::hvp`) — each checked against the closed
//! forms `∇ = X(σ − y)`, `H = X·diag(σ(1 − σ))·Xᵀ`.
//!
//! Data: `samples` points with three standard-normal features and an intercept (features ×
//! samples, as the nn crate's layout), labels drawn from the model with known coefficients
//! [`TRUE_WEIGHTS`], seeded.

use adroit_forward::log_exp::log1p_exp;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

/// The coefficients the labels are drawn with: intercept, then the three features'.
pub const TRUE_WEIGHTS: [f64; 4] = [-0.5, 1.5, -2.0, 0.75];

/// What a fit found: each Newton step's loss and gradient norm, the coefficients, their
/// standard errors, and the largest differences from the closed forms and between the dense
/// and conjugate-gradient Newton steps.
#[derive(Debug)]
pub struct Fit {
    /// `(loss, ‖∇‖∞)` before each Newton step, then at the end.
    pub steps: Vec<(f64, f64)>,
    /// The fitted coefficients (intercept first), `4 × 1`.
    pub weights: DMatrix<f64>,
    /// `√diag(H⁻¹)` at the fit.
    pub standard_errors: DVector<f64>,
    /// Largest difference of adroit's gradient and Hessian from the closed forms, over the
    /// steps, relative to the closed forms' largest entries.
    pub closed_form_error: f64,
    /// Largest difference, relative, between the first Newton step solved densely and by four
    /// conjugate-gradient iterations on `matrix::hvp` (exact in four, up to rounding).
    pub cg_step_error: f64,
}

/// The negative log-likelihood `Σ softplus(wᵀx) − y·wᵀx` of coefficients `w` (`4 × 1`) for
/// data `x` (`4 × samples`, first row ones) and labels `y` (`1 × samples`), written once for
/// every element type (`f64`, and the duals of the Hessian).
pub fn loss<T: MatScalar>(w: MatVar<T>, x: &DMatrix<f64>, y: &DMatrix<f64>) -> MatVar<T> {
    let z = w.transpose().matmul(MatVar::constant(x.clone().cast()));
    let softplus = z.map(log1p_exp);
    (softplus - z.component_mul(MatVar::constant(y.clone().cast()))).sum()
}

/// Seeded data: `(x, y)`, `x` `4 × samples` with a first row of ones.
pub fn data(samples: usize, seed: u64) -> (DMatrix<f64>, DMatrix<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(4, samples, |i, _| {
        if i == 0 {
            1.0
        } else {
            StandardNormal.sample(&mut rng)
        }
    });
    let truth = DMatrix::from_column_slice(4, 1, &TRUE_WEIGHTS);
    let z = truth.transpose() * &x;
    let y = z.map(|v| {
        let p = 1.0 / (1.0 + (-v).exp());
        if rng.random::<f64>() < p { 1.0 } else { 0.0 }
    });
    (x, y)
}

/// The closed-form gradient `X(σ − y)ᵀ` and Hessian `X·diag(σ(1 − σ))·Xᵀ` at `w`.
fn closed_forms(
    w: &DMatrix<f64>,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> (DMatrix<f64>, DMatrix<f64>) {
    let s = (w.transpose() * x).map(|v| 1.0 / (1.0 + (-v).exp()));
    let gradient = x * (&s - y).transpose();
    let weights = s.map(|p| p * (1.0 - p));
    let mut scaled = x.clone();
    for (mut column, &d) in scaled.column_iter_mut().zip(weights.iter()) {
        column *= d;
    }
    (gradient, scaled * x.transpose())
}

/// `H·v` for `v` a `4 × 1` direction, from one recording on duals.
fn hessian_times(
    w: &DMatrix<f64>,
    v: &DVector<f64>,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> DVector<f64> {
    let direction = DMatrix::from_column_slice(4, 1, v.as_slice());
    let hv = matrix::hvp(|m| loss(m[0], x, y), &[w], &[direction]);
    DVector::from_column_slice(hv[0].as_slice())
}

/// Solves `H·s = g` by conjugate gradients with `H·v` from [`hessian_times`], `iterations`
/// steps from 0.
fn conjugate_gradient(
    w: &DMatrix<f64>,
    g: &DVector<f64>,
    iterations: usize,
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> DVector<f64> {
    let mut s = DVector::zeros(g.len());
    let (mut r, mut p) = (g.clone(), g.clone());
    for _ in 0..iterations {
        let hp = hessian_times(w, &p, x, y);
        let rr = r.dot(&r);
        if rr == 0.0 {
            break;
        }
        let alpha = rr / p.dot(&hp);
        s += alpha * &p;
        r -= alpha * hp;
        p = &r + (r.dot(&r) / rr) * p;
    }
    s
}

/// Fits the model to `samples` seeded points by `newton_steps` Newton steps from zero.
///
/// # Panics
/// If a Hessian is not invertible (the data separable, `samples` too small).
pub fn run(samples: usize, seed: u64, newton_steps: usize) -> Fit {
    let (x, y) = data(samples, seed);
    let mut w = DMatrix::zeros(4, 1);
    let (mut steps, mut closed_form_error, mut cg_step_error) = (Vec::new(), 0.0_f64, 0.0);
    let covariance = loop {
        let (value, grad, hess) = matrix::value_gradient_and_hessian(|m| loss(m[0], &x, &y), &[&w]);
        let (g_closed, h_closed) = closed_forms(&w, &x, &y);
        closed_form_error = closed_form_error
            .max((&grad[0] - &g_closed).amax() / g_closed.amax().max(1.0))
            .max((&hess - &h_closed).amax() / h_closed.amax());
        steps.push((value, grad[0].amax()));
        if steps.len() > newton_steps {
            // at the fit: the inverse Hessian is the coefficients' covariance
            break hess.try_inverse().expect("an invertible Hessian");
        }
        let g = DVector::from_column_slice(grad[0].as_slice());
        let newton = hess.lu().solve(&g).expect("an invertible Hessian");
        if steps.len() == 1 {
            let cg = conjugate_gradient(&w, &g, 4, &x, &y);
            cg_step_error = (&cg - &newton).amax() / newton.amax();
        }
        w -= DMatrix::from_column_slice(4, 1, newton.as_slice());
    };
    let standard_errors = covariance.diagonal().map(f64::sqrt);
    Fit {
        steps,
        weights: w,
        standard_errors,
        closed_form_error,
        cg_step_error,
    }
}
