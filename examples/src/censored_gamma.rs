//! Maximum likelihood for right-censored gamma data (survival times observed up to a
//! follow-up time), by Newton's method on the exact gradient and Hessian of the
//! log-likelihood — whose censored terms `ln Q(k, c/θ)` need the upper incomplete gamma
//! function's derivatives in its shape `k`, which adroit's `incomplete_gamma::gammaincc`
//! gives (forward mode, hyper-duals); standard errors from the inverse Hessian. The naive fit
//! that drops the censored times, for contrast, is biased.
//!
//! Model: lifetimes `T ~ Gamma(shape k, scale θ)`, observed as `min(T, c)` with the flag
//! `T > c`; parameters `(ln k, ln θ)` (unconstrained). Log-likelihood: for an observed time
//! `(k − 1) ln t − t/θ − ln Γ(k) − k ln θ`; for a censored one `ln Q(k, c/θ)`.

use adroit_forward::incomplete_gamma::gammaincc;
use adroit_forward::{SpecialFunctions, value_gradient_and_hessian};
use nalgebra::{DMatrix, Vector2};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Gamma};

/// The shape `k` the lifetimes are drawn with.
pub const TRUE_SHAPE: f64 = 2.5;

/// The scale `θ` the lifetimes are drawn with.
pub const TRUE_SCALE: f64 = 1.5;

/// The follow-up time `c`: lifetimes beyond it are censored (about 27 % of them).
pub const FOLLOW_UP: f64 = 5.0;

/// What the fits found.
#[derive(Debug)]
pub struct Fit {
    /// The share of censored observations.
    pub censored_share: f64,
    /// `(k, θ)` by maximum likelihood with the censored terms.
    pub estimate: (f64, f64),
    /// Standard errors of `(k, θ)` (delta method from the inverse Hessian in `(ln k, ln θ)`).
    pub standard_errors: (f64, f64),
    /// `(k, θ)` by maximum likelihood on the observed times alone (censored ones dropped).
    pub naive: (f64, f64),
    /// `‖∇‖∞` of the log-likelihood at the estimate.
    pub gradient_norm: f64,
    /// The number of Newton steps taken.
    pub steps: usize,
}

/// The log-likelihood at `p = (ln k, ln θ)` of the observed times `observed` and of
/// `censored` times censored at [`FOLLOW_UP`] (`include_censored: false` drops them), for any
/// number type (plain, dual, hyper-dual).
fn log_likelihood<S: SpecialFunctions>(
    p: &[S],
    observed: &[f64],
    censored: usize,
    include_censored: bool,
) -> S {
    let c = |v: f64| S::from(v).unwrap();
    let (k, theta) = (p[0].exp(), p[1].exp());
    let per_time = -k.ln_gamma() - k * p[1];
    let mut sum = S::zero();
    for &t in observed {
        sum = sum + (k - S::one()) * c(t.ln()) - c(t) / theta + per_time;
    }
    if include_censored && censored > 0 {
        sum = sum + gammaincc(k, c(FOLLOW_UP) / theta).ln() * c(censored as f64);
    }
    sum
}

/// Newton's method on `log_likelihood` from `start` (with step halving while the
/// log-likelihood does not increase); returns the point, its gradient, Hessian and the steps
/// taken.
fn maximise(
    observed: &[f64],
    censored: usize,
    include_censored: bool,
    start: [f64; 2],
) -> ([f64; 2], Vec<f64>, DMatrix<f64>, usize) {
    let f = |p: &[f64]| {
        value_gradient_and_hessian(
            |v| log_likelihood(v, observed, censored, include_censored),
            p,
        )
    };
    let mut p = start;
    let (mut value, mut grad, mut hess) = f(&p);
    let mut steps = 0;
    while steps < 50 && grad.iter().any(|g| g.abs() > 1e-9) {
        let g = Vector2::new(grad[0], grad[1]);
        let h = hess.fixed_view::<2, 2>(0, 0).into_owned();
        // ascent direction: −H⁻¹g where the Hessian is negative definite, else the gradient
        let direction = h
            .try_inverse()
            .map(|inv| -(inv * g))
            .filter(|d| d.dot(&g) > 0.0)
            .unwrap_or(g);
        let mut t = 1.0;
        loop {
            let candidate = [p[0] + t * direction[0], p[1] + t * direction[1]];
            let next = f(&candidate);
            // (an increase below the sum's rounding, 1e-12 relative, counts: near the
            // maximum Newton's predicted gain, about g·H⁻¹·g/2, falls below it)
            if next.0 >= value - 1e-12 * value.abs() || t < 1e-10 {
                (p, value, grad, hess) = (candidate, next.0, next.1, next.2);
                break;
            }
            t *= 0.5;
        }
        steps += 1;
    }
    (p, grad, hess, steps)
}

/// Draws `samples` lifetimes (seeded), censors them at [`FOLLOW_UP`], and fits both ways.
///
/// # Panics
/// If the Hessian at the estimate is not negative definite (no standard errors).
pub fn run(samples: usize, seed: u64) -> Fit {
    let mut rng = StdRng::seed_from_u64(seed);
    let gamma = Gamma::new(TRUE_SHAPE, TRUE_SCALE).expect("a valid gamma distribution");
    let times: Vec<f64> = (0..samples).map(|_| gamma.sample(&mut rng)).collect();
    let observed: Vec<f64> = times.iter().copied().filter(|&t| t <= FOLLOW_UP).collect();
    let censored = samples - observed.len();
    let (p, grad, hess, steps) = maximise(&observed, censored, true, [0.0, 0.0]);
    let (naive, ..) = maximise(&observed, 0, false, [0.0, 0.0]);
    // covariance of (ln k, ln θ) is (−H)⁻¹; of (k, θ) by the delta method, J = diag(k, θ)
    let covariance = (-hess)
        .cholesky()
        .expect("a negative definite Hessian at the maximum")
        .inverse();
    let (k, theta) = (p[0].exp(), p[1].exp());
    Fit {
        censored_share: censored as f64 / samples as f64,
        estimate: (k, theta),
        standard_errors: (
            k * covariance[(0, 0)].sqrt(),
            theta * covariance[(1, 1)].sqrt(),
        ),
        naive: (naive[0].exp(), naive[1].exp()),
        gradient_norm: grad.iter().fold(0.0_f64, |m, g| m.max(g.abs())),
        steps,
    }
}
