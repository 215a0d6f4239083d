//! Gaussian-process regression: the kernel's hyperparameters fitted by maximising the log
//! marginal likelihood with Newton's method, its gradient and Hessian from adroit-reverse's
//! matrix tape through a Cholesky factor (`MatVar::cholesky`, triangular solves), the gradient
//! checked against the closed form `½ tr((ααᵀ − K⁻¹) ∂K/∂θ)`; standard errors of the
//! hyperparameters from the Hessian, and predictions with their uncertainty.
//!
//! Model: `y = f(x) + ε`, `f ~ GP(0, k)` with the squared-exponential kernel
//! `k(x, x') = σ_f² exp(−(x − x')²/(2ℓ²))`, `ε ~ N(0, σ_n²)`; parameters
//! `θ = (ln σ_f², ln ℓ, ln σ_n²)` (unconstrained). Log marginal likelihood (Rasmussen &
//! Williams 2006, eq. 2.30): `−½ yᵀK⁻¹y − ½ ln det K − (n/2) ln 2π`, `K = k(X, X) + σ_n² I`.

use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

/// The noise standard deviation `σ_n` the data are drawn with.
pub const NOISE: f64 = 0.1;

/// The function the data sample, `sin 3x`.
pub fn truth(x: f64) -> f64 {
    (3.0 * x).sin()
}

/// What the fit found.
#[derive(Debug)]
pub struct Fit {
    /// `(σ_f², ℓ, σ_n)` at the maximum.
    pub hyperparameters: (f64, f64, f64),
    /// Standard errors of `θ = (ln σ_f², ln ℓ, ln σ_n²)` (Laplace: `(−H)⁻¹`).
    pub standard_errors: [f64; 3],
    /// The log marginal likelihood at the maximum.
    pub log_likelihood: f64,
    /// `‖∇‖∞` there.
    pub gradient_norm: f64,
    /// The largest difference `|a − b|/(1 + |b|)` between the matrix tape's gradient `a` and
    /// the closed form `b`, over every Newton iterate.
    pub gradient_check: f64,
    /// The number of Newton steps taken.
    pub steps: usize,
    /// `(x, mean, standard deviation of f(x))` at the test points.
    pub predictions: Vec<(f64, f64, f64)>,
    /// At `σ_n² = e⁻⁴⁰` (a numerically singular `K` of these data): whether `cholesky`
    /// refused it, and what the LU-based `solve`/`logabsdet` formula returned instead (a
    /// number, not to be trusted: with the seeds of the example, `+9.96·10¹⁴`, above the
    /// maximum).
    pub near_singular: (bool, f64),
}

/// `(X, y)`: `n` inputs drawn uniformly in `[−2, 2]` (seeded) with noisy [`truth`].
pub fn data(n: usize, seed: u64) -> (Vec<f64>, DVector<f64>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let noise = Normal::new(0.0, NOISE).expect("a valid normal distribution");
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let y = DVector::from_iterator(n, x.iter().map(|&x| truth(x) + noise.sample(&mut rng)));
    (x, y)
}

/// The matrix of squared distances `(xᵢ − xⱼ)²`.
fn squared_distances(a: &[f64], b: &[f64]) -> DMatrix<f64> {
    DMatrix::from_fn(a.len(), b.len(), |i, j| (a[i] - b[j]).powi(2))
}

/// `K(θ)` on the tape: `σ_f² exp(−D/(2ℓ²)) + σ_n² I` from the `3 × 1` parameter vector.
fn kernel<T: MatScalar>(theta: MatVar<T>, d: &DMatrix<f64>) -> MatVar<T> {
    let n = d.nrows();
    let c = |v: f64| T::from(v).expect("converts");
    let signal = theta.rows(0, 1).exp();
    let inverse_square_length = (theta.rows(1, 1) * c(-2.0)).exp();
    let noise = theta.rows(2, 1).exp();
    let shape = (MatVar::constant(d.map(|v| T::from(v).expect("converts")))
        .component_mul(inverse_square_length)
        * c(-0.5))
    .exp();
    shape.component_mul(signal) + MatVar::constant(DMatrix::identity(n, n)).component_mul(noise)
}

/// The log marginal likelihood at `θ` (a `3 × 1` input), generic so that the matrix tape's
/// Hessian can run it on dual numbers; `−∞` where `K` is not positive definite in floating
/// point (an optimiser steps back from there).
fn log_marginal_likelihood<T: MatScalar>(
    theta: MatVar<T>,
    d: &DMatrix<f64>,
    y: &DVector<f64>,
) -> MatVar<T> {
    let n = y.len();
    let Some(l) = kernel(theta, d).cholesky() else {
        return MatVar::constant(DMatrix::from_element(1, 1, T::neg_infinity()));
    };
    let y = DMatrix::from_iterator(n, 1, y.iter().map(|&v| T::from(v).expect("converts")));
    let z = l.solve_lower_triangular(MatVar::constant(y)); // L⁻¹y: yᵀK⁻¹y = ‖z‖²
    let log_det = l.diagonal().ln().sum() * T::from(2.0).expect("converts");
    let constant = T::from(0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()).expect("converts");
    (z.component_mul(z).sum() + log_det) * T::from(-0.5).expect("converts") - constant
}

/// The gradient written out by hand (plain `f64`, an independent check):
/// `∂/∂θₖ = ½ tr((ααᵀ − K⁻¹) ∂K/∂θₖ)`, `α = K⁻¹y`.
pub fn closed_form_gradient(theta: [f64; 3], d: &DMatrix<f64>, y: &DVector<f64>) -> [f64; 3] {
    let n = y.len();
    let (signal, length2, noise) = (theta[0].exp(), (2.0 * theta[1]).exp(), theta[2].exp());
    let shape = d.map(|v| (-v / (2.0 * length2)).exp());
    let k = &shape * signal + DMatrix::identity(n, n) * noise;
    let inverse = k.cholesky().expect("positive definite").inverse();
    let alpha = &inverse * y;
    let w = &alpha * alpha.transpose() - &inverse;
    let dk = [
        &shape * signal,                                 // ∂K/∂ln σ_f²
        (&shape * signal).component_mul(&(d / length2)), // ∂K/∂ln ℓ
        DMatrix::identity(n, n) * noise,                 // ∂K/∂ln σ_n²
    ];
    dk.map(|dk| 0.5 * w.component_mul(&dk).sum())
}

/// Fits `θ` to `n` seeded points by Newton's method from `θ = (0, 0, −2)`, then predicts at
/// `tests`.
///
/// # Panics
/// If the Hessian at the maximum is not negative definite (no standard errors).
pub fn run(n: usize, seed: u64, tests: &[f64]) -> Fit {
    let (x, y) = data(n, seed);
    let d = squared_distances(&x, &x);
    let value_and_gradient = |theta: &DVector<f64>| {
        let (value, g) = matrix::value_and_gradient(
            |m| log_marginal_likelihood(m[0], &d, &y),
            &[DMatrix::from_column_slice(3, 1, theta.as_slice())],
        );
        (value, DVector::from_column_slice(g[0].as_slice()))
    };
    let hessian = |theta: &DVector<f64>| {
        matrix::hessian(
            |m| log_marginal_likelihood(m[0], &d, &y),
            &[DMatrix::from_column_slice(3, 1, theta.as_slice())],
        )
    };
    let mut theta = DVector::from_vec(vec![0.0, 0.0, -2.0]);
    let (mut value, mut grad) = value_and_gradient(&theta);
    let mut gradient_check = 0.0_f64;
    let mut steps = 0;
    while steps < 100 && grad.amax() > 1e-8 {
        let closed = closed_form_gradient([theta[0], theta[1], theta[2]], &d, &y);
        for (a, b) in grad.iter().zip(closed) {
            gradient_check = gradient_check.max((a - b).abs() / (1.0 + b.abs()));
        }
        // ascent direction: −H⁻¹g where the Hessian is negative definite, else the gradient
        let direction = (-hessian(&theta))
            .cholesky()
            .map(|c| c.solve(&grad))
            .unwrap_or_else(|| grad.clone());
        let mut t = 1.0;
        loop {
            let candidate = &theta + &direction * t;
            let (next, next_grad) = value_and_gradient(&candidate);
            if next >= value - 1e-12 * value.abs() || t < 1e-10 {
                (theta, value, grad) = (candidate, next, next_grad);
                break;
            }
            t *= 0.5;
        }
        steps += 1;
    }
    let covariance = (-hessian(&theta))
        .cholesky()
        .expect("a negative definite Hessian at the maximum")
        .inverse();
    let predictions = predict([theta[0], theta[1], theta[2]], &x, &y, tests);
    Fit {
        hyperparameters: (theta[0].exp(), theta[1].exp(), (0.5 * theta[2]).exp()),
        standard_errors: [0, 1, 2].map(|i| covariance[(i, i)].sqrt()),
        log_likelihood: value,
        gradient_norm: grad.amax(),
        gradient_check,
        steps,
        predictions,
        near_singular: near_singular([theta[0], theta[1], -40.0], &d, &y),
    }
}

/// The posterior mean and standard deviation of `f` at `tests` (Rasmussen & Williams,
/// algorithm 2.1), in plain `f64`.
fn predict(theta: [f64; 3], x: &[f64], y: &DVector<f64>, tests: &[f64]) -> Vec<(f64, f64, f64)> {
    let (signal, length2, noise) = (theta[0].exp(), (2.0 * theta[1]).exp(), theta[2].exp());
    let k = squared_distances(x, x).map(|v| signal * (-v / (2.0 * length2)).exp())
        + DMatrix::identity(x.len(), x.len()) * noise;
    let factor = k.cholesky().expect("positive definite");
    let alpha = factor.solve(y);
    let cross = squared_distances(x, tests).map(|v| signal * (-v / (2.0 * length2)).exp());
    let v = factor
        .l()
        .solve_lower_triangular(&cross)
        .expect("positive diagonal");
    tests
        .iter()
        .enumerate()
        .map(|(j, &t)| {
            let mean = cross.column(j).dot(&alpha);
            let variance = (signal - v.column(j).norm_squared()).max(0.0);
            (t, mean, variance.sqrt())
        })
        .collect()
}

/// At a numerically singular `K`: whether `cholesky` refuses it, and the LU formula's value.
fn near_singular(theta: [f64; 3], d: &DMatrix<f64>, y: &DVector<f64>) -> (bool, f64) {
    let n = y.len();
    let theta = DMatrix::from_column_slice(3, 1, &theta);
    let mut refused = false;
    let (lu_value, _) = matrix::value_and_gradient(
        |m| {
            let k = kernel(m[0], d);
            refused = k.cholesky().is_none();
            let y = MatVar::constant(DMatrix::from_column_slice(n, 1, y.as_slice()));
            let quadratic = (y.transpose() * k.solve(y)).sum();
            (quadratic + k.logabsdet()) * -0.5 - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln()
        },
        &[theta],
    );
    (refused, lu_value)
}
