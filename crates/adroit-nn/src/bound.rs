//! A model's loss as a function of its parameters given as tracked matrices: the bridge from
//! a [`Layer`] to the matrix-level tools that take a function of input matrices
//! (adroit-check's `matrix_gradcheck`, `matrix::pullback`, Hessian-vector products of a loss).

use crate::{Context, Layer, Mode, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Copies of `model`'s parameters in [`Layer::visit_params`] order: the input matrices for
/// [`loss_with_params`].
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, param_values};
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
/// assert_eq!(param_values(&layer), vec![dmatrix![1.0, 2.0], dmatrix![0.5]]); // weight, bias
/// ```
pub fn param_values<T: MatScalar, M: Layer<T>>(model: &M) -> Vec<DMatrix<T>> {
    let mut values = Vec::new();
    model.visit_params(&mut |p| values.push(p.clone()));
    values
}

/// `loss(model, ctx)` with `model`'s parameters read from `params` (one tracked matrix per
/// parameter, in [`Layer::visit_params`] order, e.g. the inputs of a `matrix::gradient` or
/// `matrix_gradcheck` call started from [`param_values`]) instead of the model's own values;
/// `mode` and `seed` as for [`gradient_with`](crate::gradient_with).
///
/// So a whole model's gradient is checked against finite differences by adroit-check's
/// `matrix_gradcheck` (PyTorch's `gradcheck` of a module's parameters), and any matrix-level
/// tool sees the model as a function of its parameters. One mistake such a check cannot see:
/// a layer that reads a parameter as a constant (not through `ctx.param`) makes the function
/// not depend on it, so its zero gradient agrees with finite differences;
/// [`train_step`](crate::train_step) and [`train`](crate::train()) refuse such a layer.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `params` does not hold one matrix of each parameter's shape
/// (the message names the parameter); the error `loss` returns; the first error a layer
/// reported with [`Context::fail`]. New values proposed for state matrices (running
/// statistics) are dropped: the model is borrowed.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Layer, Mode, gradient, loss_with_params, param_values};
/// let mut rng = StdRng::seed_from_u64(3);
/// let model = Chain::<f64>::new()
///     .push(Dense::new(2, 3, Activation::Tanh, &mut rng))
///     .push(Dense::new(3, 1, Activation::Identity, &mut rng));
/// let (x, y) = (dmatrix![0.5, -1.0, 2.0; 1.5, 0.0, -0.5], dmatrix![1.0, 0.0, -1.0]);
/// let loss = |m: &Chain<f64>, ctx: &mut _| mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean);
/// // The model as a function of its four parameter matrices; with adroit-check,
/// // `matrix_gradcheck(f, &param_values(&model), &options)` checks every entry of its gradient.
/// let f = |p: &[MatVar<f64>]| loss_with_params(&model, p, Mode::Train, 0, loss).unwrap();
/// let (value, grads) = matrix::value_and_gradient(f, &param_values(&model));
/// let (expected, shaped) = gradient(&model, loss).unwrap();
/// assert_eq!((value, grads), (expected, param_values(&shaped)));
/// ```
///
/// Second derivatives (Newton steps, a Laplace approximation's curvature) of a whole model
/// come from [`hessian`](crate::hessian) and [`hvp`](crate::hvp), which do the following: the
/// model is [`Cast`](crate::Cast) to the dual type `matrix::hessian`/`matrix::hvp` run on,
/// and its parameters bound to their tracked matrices here (by hand, for a loss that is not a
/// model's: several models, or extra tracked inputs):
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Activation, Cast, Dense, Layer, Mode, loss_with_params, param_values};
/// let layer = Dense::from_parts(dmatrix![0.5, -0.25], Some(dmatrix![0.1]), Activation::Tanh).unwrap();
/// let dual: Dense<_> = layer.cast().unwrap(); // the element type is inferred below
/// let (x, y) = (dmatrix![1.0, 0.5; -1.0, 2.0], dmatrix![0.3, -0.2]);
/// let h = matrix::hessian(
///     |p| {
///         let (x, y) = (x.clone().cast(), y.clone().cast());
///         loss_with_params(&dual, p, Mode::Eval, 0, |m, ctx| {
///             mse(m.forward(MatVar::constant(x), ctx), &y, Agg::Mean)
///         })
///         .unwrap()
///     },
///     &param_values(&layer),
/// );
/// assert_eq!(h.shape(), (3, 3)); // weight's two entries, then the bias
/// assert!((&h - h.transpose()).amax() < 1e-15 && h[(2, 2)] > 0.0);
/// let (_, _, same) = adroit_nn::hessian_with(&layer, Mode::Eval, 0, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// })
/// .unwrap();
/// assert_eq!(h, same);
/// ```
pub fn loss_with_params<T, M, F>(
    model: &M,
    params: &[MatVar<T>],
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<MatVar<T>, NnError>
where
    T: MatScalar,
    M: Layer<T>,
    F: FnOnce(&M, &mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    let mut own = Vec::new();
    model.visit("", &mut |name, p| own.push((name.to_string(), p)));
    if own.len() != params.len() {
        let (name, expected) = own
            .get(params.len())
            .map_or(("(none)".to_string(), (0, 0)), |(n, p)| {
                (n.clone(), p.shape())
            });
        return Err(NnError::ShapeMismatch {
            what: format!(
                "loss_with_params: {} matrices for {} parameters (first unmatched: {name})",
                params.len(),
                own.len()
            ),
            expected,
            found: params.get(own.len()).map_or((0, 0), MatVar::shape),
        });
    }
    let mut ctx = Context::new(mode, seed);
    for ((name, p), v) in own.iter().zip(params) {
        if p.shape() != v.shape() {
            return Err(NnError::ShapeMismatch {
                what: format!("loss_with_params: the matrix given for {name}"),
                expected: p.shape(),
                found: v.shape(),
            });
        }
        ctx.bind(p, *v);
    }
    let out = loss(model, &mut ctx)?;
    match ctx.take_outcome().1 {
        Some(error) => Err(error),
        None => Ok(out),
    }
}
