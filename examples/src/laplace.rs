//! A Laplace approximation for a small neural network (MacKay 1992; Daxberger et al. 2021,
//! "Laplace Redux"): train a 1-4-1 tanh network on noisy samples of `sin x` from `[−3, 3]`
//! (Adam, then damped Newton steps on the MAP objective with its exact Hessian, to a point
//! where the gradient vanishes and the Hessian is positive definite: Adam alone stops where it
//! has negative eigenvalues), take the exact Hessian with respect to all 13 parameters
//! (`matrix::hessian` through adroit-nn's `loss_with_params`, the network rebuilt on dual
//! numbers from its trained weights), form the posterior covariance `Σ = (H/σ² + λI)⁻¹`, and
//! the linearised predictive standard deviation `√(J Σ Jᵀ + σ²)` at test inputs, `J` the
//! network output's gradient with respect to the parameters — small where there were data,
//! growing away from them.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Chain, Dense, Layer, MatScalar, Mode, loss_with_params, param_values, train_step,
};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, DVector};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// The hidden layer's width.
pub const HIDDEN: usize = 4;

/// The observation noise's standard deviation `σ` of the data and of the likelihood.
pub const NOISE: f64 = 0.1;

/// The prior precision `λ` (a Gaussian prior `N(0, I/λ)` on every parameter).
pub const PRIOR_PRECISION: f64 = 1.0;

/// What the approximation found.
#[derive(Debug)]
pub struct Laplace {
    /// The training loss (mean squared error) at the MAP estimate.
    pub train_mse: f64,
    /// The MAP objective's largest gradient entry after the Newton steps.
    pub gradient_norm: f64,
    /// The eigenvalues of the MAP objective's Hessian (the posterior precision: the negative
    /// log-likelihood's Hessian plus `λI`), ascending.
    pub hessian_eigenvalues: DVector<f64>,
    /// Largest `|H − Hᵀ|` of that Hessian.
    pub asymmetry: f64,
    /// `(x, mean, predictive standard deviation)` at the test inputs.
    pub predictions: Vec<(f64, f64, f64)>,
}

/// The 1-[`HIDDEN`]-1 network with parameters `p` (weight `h × 1`, bias `h × 1`, weight `1 × h`, bias `1 × 1`,
/// as `param_values` lists them), for the element type `T`: `f64` to evaluate, a dual to
/// differentiate twice.
pub fn network<T: MatScalar>(p: &[DMatrix<f64>]) -> Chain<T> {
    let dense = |w: &DMatrix<f64>, b: &DMatrix<f64>, act| {
        Dense::from_parts(w.clone().cast(), Some(b.clone().cast()), act).expect("shapes fit")
    };
    Chain::new()
        .push(dense(&p[0], &p[1], Activation::Tanh))
        .push(dense(&p[2], &p[3], Activation::Identity))
}

/// The negative log-likelihood `Σ (f(x) − y)²/(2σ²)` of the network with parameters `params`
/// (tracked matrices of element type `T`) on data `x`, `y` (each `1 × n`), built on `T`.
fn negative_log_likelihood<T: MatScalar>(
    trained: &[DMatrix<f64>],
    params: &[MatVar<T>],
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> MatVar<T> {
    let model = network::<T>(trained);
    let (x, y): (DMatrix<T>, DMatrix<T>) = (x.clone().cast(), y.clone().cast());
    let scale = T::from(1.0 / (2.0 * NOISE * NOISE)).unwrap();
    loss_with_params(&model, params, Mode::Eval, 0, |m, ctx| {
        mse(m.forward(MatVar::constant(x), ctx), &y, Agg::Sum)
    })
    .expect("parameters of the model's shapes")
        * scale
}

/// The MAP objective: the negative log-likelihood plus the prior's `λ/2·‖θ‖²`.
fn map_objective<T: MatScalar>(
    structure: &[DMatrix<f64>],
    params: &[MatVar<T>],
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> MatVar<T> {
    let prior = params
        .iter()
        .map(|p| p.component_mul(*p).sum())
        .reduce(|a, b| a + b)
        .expect("parameters");
    negative_log_likelihood(structure, params, x, y)
        + prior * T::from(PRIOR_PRECISION / 2.0).unwrap()
}

/// Trains on `samples` points for `epochs` full-batch Adam steps and `newton_steps` damped
/// Newton steps on the MAP objective, then forms the approximation and predicts at
/// `test_inputs`.
///
/// # Panics
/// If training fails (a non-finite loss) or the posterior precision is not positive definite.
pub fn run(
    samples: usize,
    epochs: usize,
    newton_steps: usize,
    seed: u64,
    test_inputs: &[f64],
) -> Laplace {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = DMatrix::from_fn(1, samples, |_, _| rng.random_range(-3.0..3.0));
    let y = x.map(|v: f64| v.sin() + NOISE * (rng.random::<f64>() * 2.0 - 1.0) * 3f64.sqrt());
    let mut model = Chain::<f64>::new()
        .push(Dense::new(1, HIDDEN, Activation::Tanh, &mut rng))
        .push(Dense::new(HIDDEN, 1, Activation::Identity, &mut rng));
    let mut opt = Adam::new(0.01);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    for _ in 0..epochs {
        train_step(&mut model, &x, &y, &loss, &mut opt, 0).expect("finite training");
    }
    // Adam stops near a minimum, not at one (the Hessian there has negative eigenvalues, and
    // H + λI need not be positive definite): damped Newton steps on the MAP objective, with its
    // exact gradient and Hessian, finish the job (Levenberg–Marquardt damping μ, halved after
    // a step that lowers the objective, quadrupled and retried after one that does not).
    let mut trained = param_values(&model);
    let objective = |theta: &[DMatrix<f64>]| {
        matrix::value_gradient_and_hessian(|p| map_objective(theta, p, &x, &y), theta)
    };
    let (mut value, mut grad, mut hessian) = objective(&trained);
    let mut damping = 1e-3;
    for _ in 0..newton_steps {
        let g =
            DVector::from_iterator(hessian.nrows(), grad.iter().flat_map(|m| m.iter().copied()));
        let n = g.len();
        let damped = &hessian + DMatrix::identity(n, n) * damping;
        let Some(step) = damped.cholesky().map(|c| c.solve(&g)) else {
            damping *= 4.0;
            continue;
        };
        let mut flat = step.iter();
        let candidate: Vec<DMatrix<f64>> = trained
            .iter()
            .map(|m| m.map(|v| v - flat.next().copied().unwrap_or(0.0)))
            .collect();
        let next = objective(&candidate);
        if next.0 < value {
            (trained, value, grad, hessian) = (candidate, next.0, next.1, next.2);
            damping = (damping * 0.5).max(1e-12);
        } else {
            damping *= 4.0;
        }
    }
    let gradient_norm = grad.iter().fold(0.0_f64, |m, g| m.max(g.amax()));
    let asymmetry = (&hessian - hessian.transpose()).amax();
    let precision = (&hessian + hessian.transpose()) * 0.5;
    let hessian_eigenvalues = {
        let mut e: Vec<f64> = precision
            .clone()
            .symmetric_eigen()
            .eigenvalues
            .iter()
            .copied()
            .collect();
        e.sort_by(f64::total_cmp);
        DVector::from_vec(e)
    };
    let n = precision.nrows();
    let covariance = precision
        .cholesky()
        .expect("a positive definite posterior precision")
        .inverse();
    let model = network::<f64>(&trained);
    let train_mse = {
        let (y_hat, _) = matrix::pullback(
            |p| {
                loss_with_params(&model, p, Mode::Eval, 0, |m, ctx| {
                    mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
                })
                .expect("parameters of the model's shapes")
            },
            &trained,
        );
        y_hat[(0, 0)]
    };
    let predictions = test_inputs
        .iter()
        .map(|&t| {
            let point = DMatrix::from_element(1, 1, t);
            // the output and its gradient with respect to every parameter, flattened
            let (mean, grads) = matrix::value_and_gradient(
                |p| {
                    loss_with_params(&model, p, Mode::Eval, 0, |m, ctx| {
                        Ok(m.forward(MatVar::constant(point.clone()), ctx).sum())
                    })
                    .expect("parameters of the model's shapes")
                },
                &trained,
            );
            let j = DVector::from_iterator(n, grads.iter().flat_map(|g| g.iter().copied()));
            let variance = (j.transpose() * &covariance * &j)[(0, 0)] + NOISE * NOISE;
            (t, mean, variance.sqrt())
        })
        .collect();
    Laplace {
        train_mse,
        gradient_norm,
        hessian_eigenvalues,
        asymmetry,
        predictions,
    }
}
