//! adroit-forward's `log_exp` functions on tape variables: gradients, forward-over-reverse
//! Hessians and HVPs equal forward mode's at ordinary points, ties and far tails, and a
//! Newton step on a logistic log-likelihood started at 0 (where the `max`/`abs` form of
//! softplus has no curvature) takes the true curvature.

use adroit_forward::log_exp::{
    log_logistic, log1m_exp, log1p_exp, logaddexp, logistic, logit, logsubexp, logsumexp,
};
use num_traits::Float;

/// Every function of the module in one expression of two inputs, `x > y` at the test points.
fn f<S: Float>(v: &[S]) -> S {
    let (x, y) = (v[0], v[1]);
    let half = S::from(0.5).unwrap();
    logaddexp(x, y)
        + logsubexp(x, y)
        + log1p_exp(x * y)
        + log_logistic(x - y)
        + log1m_exp(y - x)
        + logit(logistic(x) * half)
        + logsumexp(&[x, y, x * y])
}

agree_with_forward_mode! {
    f at [(0.5, 0.25), (3.0, -1.0), (40.0, 39.0), (0.001, 0.0), (-0.5, -30.0)];
    log_exp_functions_agree_with_forward_mode_f64: f64;
    log_exp_functions_agree_with_forward_mode_f32: f32;
}

/// The logistic regression log-likelihood `Σ yᵢ·ln σ(xᵢβ) + (1 − yᵢ)·ln σ(−xᵢβ)` has Hessian
/// `−Σ σ(xᵢβ)(1 − σ(xᵢβ))·xᵢ²`: at `β = 0`, `−¼·Σ xᵢ²`, which the reverse-mode Hessian gives.
#[test]
fn logistic_likelihood_has_its_curvature_at_zero() {
    fn log_likelihood<S: Float>(b: &[S]) -> S {
        [(1.0, 1.0), (-2.0, 0.0), (0.5, 1.0)]
            .iter()
            .map(|&(x, y)| {
                let eta = b[0] * S::from(x).unwrap();
                let y = S::from(y).unwrap();
                log_logistic(eta) * y + log_logistic(-eta) * (S::one() - y)
            })
            .fold(S::zero(), |a, t| a + t)
    }
    let h = adroit_reverse::hessian(|b| log_likelihood(b), &[0.0]);
    assert_eq!(h[(0, 0)], -0.25 * (1.0 + 4.0 + 0.25));
}

/// Outside a domain every derivative is NaN on the tape too, the Hessian's included.
#[test]
fn outside_the_domain_the_hessian_is_nan() {
    let h = adroit_reverse::hessian(|v| logit(v[0]) + logsubexp(v[1], v[2]), &[2.0, 1.0, 2.0]);
    // the two terms are separate: the mixed partials between them are 0; every other NaN
    let nan = |i: usize, j: usize| h[(i, j)].is_nan();
    assert!(
        nan(0, 0) && nan(1, 1) && nan(1, 2) && nan(2, 1) && nan(2, 2),
        "{h}"
    );
    assert_eq!((h[(0, 1)], h[(0, 2)]), (0.0, 0.0));
}

/// The documented difference at infinite ties: the scalar `logsumexp` splits the partials
/// (1/k each), the whole-matrix one gives NaN there, as JAX's and PyTorch's do.
#[test]
fn logsumexp_conventions_at_infinite_ties() {
    use adroit_reverse::matrix::{self, Along};
    let inf = f64::INFINITY;
    let scalar = adroit_reverse::gradient(|v| logsumexp(v), &[inf, inf, 1.0]);
    assert_eq!(scalar, vec![0.5, 0.5, 0.0]);
    let x = nalgebra::dmatrix![inf; inf; 1.0];
    let g = matrix::gradient(|m| m[0].logsumexp(Along::Rows).sum(), &[x]);
    assert!(g[0][0].is_nan() && g[0][1].is_nan(), "{}", g[0]);
}
