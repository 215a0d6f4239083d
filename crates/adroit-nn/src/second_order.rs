//! Second derivatives of a loss with respect to a model's parameters: the Hessian and
//! Hessian-vector products, by forward-over-reverse on the model [`Cast`] to a dual type
//! (Zygote's `hessian` and JAX's `jvp(grad(loss))` of a model's parameters).

use crate::visit_order::check_param_order;
use crate::{Cast, Context, Layer, Mode, NnError, loss_with_params, param_values};
use adroit_forward::{Dual, DualVec};
use adroit_reverse::HESSIAN_CHUNK;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use std::cell::Cell;

/// The element type [`hessian`]'s loss runs on: 12 tangents per entry
/// ([`HESSIAN_CHUNK`](adroit_reverse::HESSIAN_CHUNK)), 12 Hessian columns per recording.
pub type HessianScalar<T> = DualVec<T, HESSIAN_CHUNK>;

/// A copy of `model` whose parameters are `values`, in [`Layer::visit_params`] order.
///
/// # Errors
/// [`NnError::InvalidConfig`] if the model's [`Layer::visit_mut`] lists its parameters in
/// another order (the values would land in the wrong fields).
pub(crate) fn shaped_like<T: MatScalar, M: Layer<T> + Clone>(
    model: &M,
    values: Vec<DMatrix<T>>,
) -> Result<M, NnError> {
    let mut shaped = model.clone();
    check_param_order(&mut shaped)?;
    let mut next = values.into_iter();
    shaped.visit_mut(&mut |p| {
        if let Some(v) = next.next() {
            *p = v;
        }
    });
    Ok(shaped)
}

/// The loss, its gradient and its Hessian with respect to every parameter entry of `model`,
/// as Zygote's `hessian` of a loss in the parameters: `(loss, gradient shaped like the model,
/// H)`, `H` being `N × N` for the model's `N` parameter entries, indexed by the parameters in
/// [`Layer::visit_params`] order (a [`Dense`](crate::Dense)'s weight, then its bias; layer by
/// layer in a [`Chain`](crate::Chain)), each parameter's entries in column-major order (as
/// `matrix::hessian` of [`param_values`], and
/// [`parameters_to_vector`](crate::parameters_to_vector)). The forward pass runs in
/// [`Mode::Train`] with dropout seed 0, as [`gradient`](crate::gradient); for the curvature of
/// a trained model (Newton steps, a Laplace approximation) a model with dropout wants
/// [`hessian_with`] in [`Mode::Eval`].
///
/// The model is [`Cast`] to [`HessianScalar<T>`] (`DualVec<T, 12>`) once, and `loss` runs on
/// that copy ⌈N/12⌉ times (once for a model without parameters; forward-over-reverse: each
/// recording's gradient carries 12 Hessian columns; after an error the remaining recordings
/// skip `loss`), so `loss` is written for the dual model: bring data in with nalgebra's `cast`
/// (`MatVar::constant(x.clone().cast())`, `&y.clone().cast()`), or write the loss once as a
/// generic function and call it from [`crate::gradient`] too. Cost: about ⌈N/12⌉ gradients of
/// 12-lane duals and `N²` entries of memory: for the small models of curvature work (Newton
/// steps, Laplace approximations, the Gauss–Newton check of a fit), not for a large network
/// (use [`hvp`] there). At a kink (`relu` at 0) the second derivative is that of the branch
/// taken, as everywhere in adroit; `Mode::Train` dropout draws the same mask in every
/// recording.
///
/// # Errors
/// The model's [`check_params`](Layer::check_params) error; a model that cannot be cast (a
/// layer of your own without [`Layer::cast_into`]); the error `loss` returns; the first error
/// a layer reported with [`Context::fail`] (a [`BatchNorm`](crate::BatchNorm) in training
/// given a batch of one sample).
///
/// # Panics
/// As [`gradient`](crate::gradient): if `loss` returns a matrix that is not 1 × 1, or feeds the
/// model an input with another number of features than it takes.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, Layer, hessian};
/// // A linear layer under MSE: the Hessian in (w₁, w₂, b) is 2/n·[x; 1]·[x; 1]ᵀ summed over
/// // the n samples, whatever the parameters.
/// let layer = Dense::from_parts(dmatrix![0.5, -1.0], Some(dmatrix![0.25]), Activation::Identity).unwrap();
/// let (x, y) = (dmatrix![1.0, 2.0; 0.0, -1.0], dmatrix![1.0, 0.0]);
/// let (loss, grad, h) = hessian(&layer, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// })
/// .unwrap();
/// let a = dmatrix![1.0, 2.0; 0.0, -1.0; 1.0, 1.0]; // [x; 1]: one column per sample
/// assert_eq!(h, &a * a.transpose()); // 2/n = 1 here
/// let (expected, g) = adroit_nn::gradient(&layer, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
/// })
/// .unwrap();
/// assert_eq!((loss, grad), (expected, g));
/// ```
///
/// A loss closure is typed for one element type, so one closure cannot serve both
/// [`gradient`](crate::gradient) (on `T`) and `hessian` (on the dual type). Write the loss once
/// as a generic function and wrap it at each call:
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Activation, Context, Dense, Layer, MatScalar, NnError, gradient, hessian};
/// fn loss<T: MatScalar>(m: &Dense<T>, ctx: &mut Context<T>, x: &DMatrix<f64>, y: &DMatrix<f64>)
///     -> Result<MatVar<T>, NnError> {
///     // data in f64, cast to the model's element type (exact for the duals)
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// }
/// let layer = Dense::from_parts(dmatrix![0.3, -0.7], None, Activation::Tanh).unwrap();
/// let (x, y) = (dmatrix![1.0, 2.0; -1.0, 0.5], dmatrix![0.2, -0.1]);
/// let (l1, g1) = gradient(&layer, |m, ctx| loss(m, ctx, &x, &y)).unwrap();
/// let (l2, g2, h) = hessian(&layer, |m, ctx| loss(m, ctx, &x, &y)).unwrap();
/// assert_eq!((l1, g1), (l2, g2));
/// assert_eq!(h.shape(), (2, 2));
/// ```
#[allow(clippy::type_complexity)]
pub fn hessian<T, M, F>(model: &M, loss: F) -> Result<(T, M, DMatrix<T>), NnError>
where
    T: MatScalar,
    HessianScalar<T>: MatScalar,
    M: Layer<T> + Cast + Clone,
    F: Fn(
        &M::Output<HessianScalar<T>>,
        &mut Context<HessianScalar<T>>,
    ) -> Result<MatVar<HessianScalar<T>>, NnError>,
{
    hessian_with(model, Mode::Train, 0, loss)
}

/// [`hessian`] with a chosen [`Mode`] and dropout seed (the same mask in every recording).
///
/// # Errors
/// As [`hessian`].
///
/// # Panics
/// As [`hessian`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Dropout, Layer, Mode, hessian_with};
/// let mut rng = StdRng::seed_from_u64(1);
/// let model = Chain::<f64>::new()
///     .push(Dense::new(2, 3, Activation::Tanh, &mut rng))
///     .push(Dropout::new(0.5).unwrap())
///     .push(Dense::new(3, 1, Activation::Identity, &mut rng));
/// let (x, y) = (dmatrix![1.0, 0.5, -1.0; -1.0, 2.0, 0.0], dmatrix![0.3, -0.2, 0.1]);
/// // Evaluation mode (dropout off), e.g. the curvature of a Laplace approximation.
/// let (_, _, h) = hessian_with(&model, Mode::Eval, 0, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// })
/// .unwrap();
/// assert_eq!(h.shape(), (13, 13)); // 3·2 + 3 + 1·3 + 1 parameter entries
/// assert!((&h - h.transpose()).amax() < 1e-14);
/// ```
#[allow(clippy::type_complexity)]
pub fn hessian_with<T, M, F>(
    model: &M,
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<(T, M, DMatrix<T>), NnError>
where
    T: MatScalar,
    HessianScalar<T>: MatScalar,
    M: Layer<T> + Cast + Clone,
    F: Fn(
        &M::Output<HessianScalar<T>>,
        &mut Context<HessianScalar<T>>,
    ) -> Result<MatVar<HessianScalar<T>>, NnError>,
{
    model.check_params()?;
    let dual = model.cast::<HessianScalar<T>>()?;
    let error = Cell::new(None);
    let (value, grads, h) = matrix::value_gradient_and_hessian(
        |p| loss_or_record(&error, || loss_with_params(&dual, p, mode, seed, &loss)),
        &param_values(model),
    );
    match error.into_inner() {
        Some(e) => Err(e),
        None => Ok((value, shaped_like(model, grads)?, h)),
    }
}

/// The loss, its gradient and the Hessian-vector product `∇²loss·v` with respect to `model`'s
/// parameters, in one recording (JAX's `jvp(grad(loss))` of a model's parameters):
/// `(loss, gradient shaped like the model, H·v shaped like the model)`, `v` a direction shaped
/// like the model (a model of the same architecture whose parameters hold the direction, e.g.
/// a gradient from [`gradient`](crate::gradient), for Newton-CG or a curvature probe; its
/// parameters are paired with the model's in [`Layer::visit_params`] order, and only their
/// count and shapes are checked). Runs
/// in [`Mode::Train`] with dropout seed 0, as [`gradient`](crate::gradient); [`hvp_with`]
/// chooses.
///
/// The model is [`Cast`] to `Dual<T>` and `loss` runs once on that copy: write it for the
/// dual model as for [`hessian`]. Its cost is about two gradients, whatever the model's size.
///
/// # Errors
/// [`NnError::InvalidConfig`] (`name: "hvp direction"`) if `v` has another number of
/// parameters than the model, [`NnError::ShapeMismatch`] if one has another shape (naming
/// it); the model's [`check_params`](Layer::check_params) error;
/// a model that cannot be cast; the error `loss` returns; the first error a layer reported
/// with [`Context::fail`].
///
/// # Panics
/// As [`hessian`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Layer, hessian, hvp, parameters_to_vector};
/// let mut rng = StdRng::seed_from_u64(2);
/// let model = Chain::<f64>::new()
///     .push(Dense::new(2, 4, Activation::Softplus, &mut rng))
///     .push(Dense::new(4, 1, Activation::Identity, &mut rng));
/// let (x, y) = (dmatrix![1.0, 0.5; -1.0, 2.0], dmatrix![0.3, -0.2]);
/// // The direction v: the model's own parameters θ (any model of the same shapes).
/// let (_, g, hg) = hvp(&model, &model, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// })
/// .unwrap();
/// let (_, _, h) = hessian(&model, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &y.clone().cast(), Agg::Mean)
/// })
/// .unwrap();
/// // H·θ, shaped like the model, equals the dense Hessian times θ (flattened in its order).
/// let hv = parameters_to_vector(&hg);
/// assert!((hv - &h * parameters_to_vector(&model)).amax() < 1e-12);
/// assert_eq!(parameters_to_vector(&g).len(), 17);
/// ```
#[allow(clippy::type_complexity)]
pub fn hvp<T, M, F>(model: &M, v: &M, loss: F) -> Result<(T, M, M), NnError>
where
    T: MatScalar,
    Dual<T>: MatScalar,
    M: Layer<T> + Cast + Clone,
    F: FnOnce(&M::Output<Dual<T>>, &mut Context<Dual<T>>) -> Result<MatVar<Dual<T>>, NnError>,
{
    hvp_with(model, v, Mode::Train, 0, loss)
}

/// [`hvp`] with a chosen [`Mode`] and dropout seed.
///
/// # Errors
/// As [`hvp`].
///
/// # Panics
/// As [`hessian`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, Mode, NnError, hvp_with};
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], None, Activation::Identity).unwrap();
/// let x = dmatrix![1.0; 3.0];
/// let loss = |m: &Dense<_>, ctx: &mut _| {
///     use adroit_nn::Layer;
///     mse(m.forward(MatVar::constant(x.clone().cast()), ctx), &dmatrix![0.0].cast(), Agg::Sum)
/// };
/// // loss = (w·x)², so H = 2·x·xᵀ and H·v for v = [1, 0] is 2·x₀·x = [2, 6].
/// let v = Dense::from_parts(dmatrix![1.0, 0.0], None, Activation::Identity).unwrap();
/// let (_, _, hv) = hvp_with(&layer, &v, Mode::Eval, 0, loss).unwrap();
/// assert_eq!(hv.weight, dmatrix![2.0, 6.0]);
/// // A direction of another shape is an error naming the parameter.
/// let wrong = Dense::from_parts(dmatrix![1.0, 0.0, 0.0], None, Activation::Identity).unwrap();
/// let err = hvp_with(&layer, &wrong, Mode::Eval, 0, loss).unwrap_err();
/// assert!(matches!(err, NnError::ShapeMismatch { .. }) && err.to_string().contains("weight"));
/// ```
#[allow(clippy::type_complexity)]
pub fn hvp_with<T, M, F>(
    model: &M,
    v: &M,
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<(T, M, M), NnError>
where
    T: MatScalar,
    Dual<T>: MatScalar,
    M: Layer<T> + Cast + Clone,
    F: FnOnce(&M::Output<Dual<T>>, &mut Context<Dual<T>>) -> Result<MatVar<Dual<T>>, NnError>,
{
    model.check_params()?;
    check_direction(model, v)?;
    let dual = model.cast::<Dual<T>>()?;
    let error = Cell::new(None);
    let (value, grads, hv) = matrix::value_gradient_and_hvp(
        |p| loss_or_record(&error, || loss_with_params(&dual, p, mode, seed, loss)),
        &param_values(model),
        &param_values(v),
    );
    match error.into_inner() {
        Some(e) => Err(e),
        None => Ok((value, shaped_like(model, grads)?, shaped_like(model, hv)?)),
    }
}

/// The loss, or (after recording the error for the caller) a constant 1 × 1 zero so that the
/// recording completes; once an error is recorded, `loss` is not run again.
fn loss_or_record<S: MatScalar>(
    error: &Cell<Option<NnError>>,
    loss: impl FnOnce() -> Result<MatVar<S>, NnError>,
) -> MatVar<S> {
    let failed = error.take();
    let result = match failed {
        Some(e) => Err(e),
        None => loss(),
    };
    result.unwrap_or_else(|e| {
        error.set(Some(e));
        MatVar::constant(DMatrix::zeros(1, 1))
    })
}

/// `v` has `model`'s parameters' count and shapes.
fn check_direction<T: MatScalar, M: Layer<T>>(model: &M, v: &M) -> Result<(), NnError> {
    let mut own = Vec::new();
    model.visit("", &mut |name, p| own.push((name.to_string(), p.shape())));
    let mut given = Vec::new();
    v.visit_params(&mut |p| given.push(p.shape()));
    if own.len() != given.len() {
        return Err(NnError::InvalidConfig {
            name: "hvp direction",
            reason: format!(
                "{} parameters for the model's {} (a direction is shaped like the model)",
                given.len(),
                own.len()
            ),
        });
    }
    match own.iter().zip(&given).find(|((_, s), g)| s != *g) {
        None => Ok(()),
        Some(((name, expected), found)) => Err(NnError::ShapeMismatch {
            what: format!("hvp: the direction's {name}"),
            expected: *expected,
            found: *found,
        }),
    }
}
