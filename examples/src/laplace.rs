//! A Laplace approximation for a small neural network (MacKay 1992; Daxberger et al. 2021,
//! "Laplace Redux"): train a 1-4-1 tanh network on noisy samples of `sin x` from `[−3, 3]`
//! (Adam, then damped Newton steps on the MAP objective with its exact Hessian, to a point
//! where the gradient vanishes and the Hessian is positive definite: Adam alone stops where it
//! has negative eigenvalues), take the exact Hessian with respect to all 13 parameters
//! (adroit-nn's `hessian_with`, which runs the loss on the model cast to dual numbers), form
//! the posterior covariance `Σ = (H/σ² + λI)⁻¹`, and
//! the linearised predictive standard deviation `√(J Σ Jᵀ + σ²)` at test inputs, `J` the
//! network output's gradient with respect to the parameters — small where there were data,
//! growing away from them.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::Adam;
use adroit_nn::{
    Activation, Chain, Context, Dense, Layer, MatScalar, Mode, NnError, gradient_with,
    hessian_with, parameters_to_vector, train_step, vector_to_parameters,
};
use adroit_reverse::matrix::MatVar;
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

/// The MAP objective for a model over `T`: the negative log-likelihood `Σ (f(x) − y)²/(2σ²)`
/// on data `x`, `y` (each `1 × n`, cast to `T`) plus the prior's `λ/2·‖θ‖²`, every parameter
/// read through `ctx.param` (so that the derivatives reach the prior term too).
fn map_objective<T: MatScalar>(
    x: &DMatrix<f64>,
    y: &DMatrix<f64>,
) -> impl Fn(&Chain<T>, &mut Context<T>) -> Result<MatVar<T>, NnError> {
    let (x, y): (DMatrix<T>, DMatrix<T>) = (x.clone().cast(), y.clone().cast());
    let c = |v: f64| T::from(v).unwrap();
    move |m, ctx| {
        let nll = mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Sum)?
            * c(1.0 / (2.0 * NOISE * NOISE));
        let mut prior = MatVar::constant(DMatrix::zeros(1, 1));
        m.visit_params(&mut |p| {
            let p = ctx.param(p);
            prior = prior + p.component_mul(p).sum();
        });
        Ok(nll + prior * c(PRIOR_PRECISION / 2.0))
    }
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
    let objective = |m: &Chain<f64>| {
        hessian_with(m, Mode::Eval, 0, map_objective(&x, &y)).expect("the model's data")
    };
    let (mut value, mut grad, mut hessian) = objective(&model);
    let mut damping = 1e-3;
    for _ in 0..newton_steps {
        let n = hessian.nrows();
        let damped = &hessian + DMatrix::identity(n, n) * damping;
        let Some(step) = damped
            .cholesky()
            .map(|c| c.solve(&parameters_to_vector(&grad)))
        else {
            damping *= 4.0;
            continue;
        };
        let mut candidate = model.clone();
        let theta = parameters_to_vector(&model) - step;
        vector_to_parameters(&theta, &mut candidate).expect("one entry per parameter");
        let next = objective(&candidate);
        if next.0 < value {
            (model, value, grad, hessian) = (candidate, next.0, next.1, next.2);
            damping = (damping * 0.5).max(1e-12);
        } else {
            damping *= 4.0;
        }
    }
    let gradient_norm = parameters_to_vector(&grad).amax();
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
    let covariance = precision
        .cholesky()
        .expect("a positive definite posterior precision")
        .inverse();
    let train_mse = {
        let y_hat = model.predict(&x).expect("the model's data");
        (y_hat - &y).norm_squared() / samples as f64
    };
    let predictions = test_inputs
        .iter()
        .map(|&t| {
            let point = DMatrix::from_element(1, 1, t);
            // the output and its gradient with respect to every parameter, flattened
            let (mean, grads) = gradient_with(&model, Mode::Eval, 0, |m, ctx| {
                Ok(m.forward(MatVar::constant(point.clone()), ctx).sum())
            })
            .expect("a 1 × 1 input");
            let j = parameters_to_vector(&grads);
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
