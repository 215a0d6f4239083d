//! Gradients with respect to a model's parameters, two ways: explicit (a gradient shaped like
//! the model, as Zygote/Flux today) and implicit (collected parameters indexed by parameter,
//! as classic Flux).

use crate::layer::key;
use crate::second_order::shaped_like;
use crate::{Context, Layer, Mode, NnError, StateUpdates};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use std::collections::HashMap;

/// Records `loss` with each of `params` bound to a tracked input (by address, see
/// [`Context::bind`]); returns the loss value and one gradient per parameter, in order.
pub(crate) fn gradients_of<T, F>(
    params: &[&DMatrix<T>],
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<(T, Vec<DMatrix<T>>), NnError>
where
    T: MatScalar,
    F: FnOnce(&mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    recorded_pass(params, mode, seed, loss).map(|pass| (pass.value, pass.grads))
}

/// [`Context::usage`] of a pass: the indices of the parameters never read, and the number of
/// reads of matrices not bound.
pub(crate) type Usage = (Vec<usize>, usize);

/// What one recorded pass gives: the loss, its gradients, how the parameters were read, and
/// the state values the layers proposed (by address, see [`Context::update_state`]).
pub(crate) struct Pass<T: MatScalar> {
    pub(crate) value: T,
    pub(crate) grads: Vec<DMatrix<T>>,
    pub(crate) usage: Usage,
    pub(crate) state: Vec<(usize, DMatrix<T>)>,
}

/// [`gradients_of`], with [`Context::usage`] of the pass (the indices of the parameters the
/// loss never read, and the number of reads of unlisted matrices) and the state values it
/// proposed.
///
/// # Errors
/// The error `loss` returns, else the first error a layer reported with [`Context::fail`].
pub(crate) fn recorded_pass<T, F>(
    params: &[&DMatrix<T>],
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<Pass<T>, NnError>
where
    T: MatScalar,
    F: FnOnce(&mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    let mut error = None;
    let mut usage = (Vec::new(), 0);
    let mut state = Vec::new();
    let (value, grads) = matrix::value_and_gradient(
        |vars| {
            let mut ctx = Context::new(mode, seed);
            for (p, v) in params.iter().zip(vars) {
                ctx.bind(p, *v);
            }
            let out = loss(&mut ctx).unwrap_or_else(|e| {
                error = Some(e);
                MatVar::constant(DMatrix::zeros(1, 1))
            });
            usage = ctx.usage();
            let (proposed, failure) = ctx.take_outcome();
            state = proposed;
            if error.is_none() {
                error = failure;
            }
            out
        },
        params,
    );
    match error {
        Some(e) => Err(e),
        None => Ok(Pass {
            value,
            grads,
            usage,
            state,
        }),
    }
}

/// The loss and its gradient with respect to every parameter of `model`, returned as a model of
/// the same type whose parameters hold the gradients (`grad.weight` for a [`Dense`](crate::Dense),
/// nested for a [`Chain`](crate::Chain)). The forward pass runs in [`Mode::Train`] with dropout
/// seed 0, the same masks at every call: a training loop with dropout should use
/// [`gradient_with`] and a new seed per step. New values the pass proposes for the model's
/// state (a [`BatchNorm`](crate::BatchNorm)'s running statistics) are dropped, the model being
/// borrowed: a training loop of your own with such layers uses [`gradient_with_state`].
///
/// `loss(model, ctx)` must return a 1 × 1 matrix (a scalar loss), e.g. from [`crate::losses`].
///
/// # Errors
/// The error of the model's [`check_params`](Layer::check_params) (parameters that do not fit
/// together, layers of a chain that do not fit), checked first; else the error `loss` returns
/// (e.g. a shape mismatch between prediction and target), else the first error a layer
/// reported with [`Context::fail`] (a [`BatchNorm`](crate::BatchNorm) in training given a
/// batch of one sample).
///
/// # Panics
/// If `loss` returns a matrix that is not 1 × 1 (a programmer error: reduce it with `sum` or
/// `mean`, as the losses of [`crate::losses`] do); inside the forward pass, if the closure
/// feeds the model an input with another number of features than it takes (the data are
/// not seen here: [`train_step`](crate::train_step) and [`train`](crate::train()) check
/// them against [`Layer::input_size`] first, or call [`Layer::predict`] to get the error).
///
/// # Example
/// ```
/// use adroit_nn::{Activation, Dense, Layer, losses};
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
/// let x = dmatrix![1.0; -1.0];
/// // mse(W·x + b, 0) = (−0.5)², gradient 2·(−0.5)·xᵀ and 2·(−0.5)
/// let (loss, grad) = adroit_nn::gradient(&layer, |m, ctx| {
///     losses::mse(m.forward(MatVar::constant(x.clone()), ctx), &dmatrix![0.0], losses::Agg::Mean)
/// }).unwrap();
/// assert_eq!(loss, 0.25);
/// assert_eq!(grad.weight, dmatrix![-1.0, 1.0]);
/// assert_eq!(grad.bias, Some(dmatrix![-1.0]));
/// ```
pub fn gradient<T, M, F>(model: &M, loss: F) -> Result<(T, M), NnError>
where
    T: MatScalar,
    M: Layer<T> + Clone,
    F: FnOnce(&M, &mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    gradient_with(model, Mode::Train, 0, loss)
}

/// [`gradient`] with a chosen [`Mode`] and dropout seed (new state values dropped as there:
/// see [`gradient_with_state`]).
///
/// # Errors
/// As [`gradient`]: the model's [`check_params`](Layer::check_params) error, else the error
/// `loss` returns.
///
/// # Panics
/// If `loss` returns a matrix that is not 1 × 1 (a programmer error: reduce it with `sum` or
/// `mean`, as the losses of [`crate::losses`] do); inside the forward pass, if the closure
/// feeds the model an input with another number of features than it takes (the data are
/// not seen here: [`train_step`](crate::train_step) and [`train`](crate::train()) check
/// them against [`Layer::input_size`] first, or call [`Layer::predict`] to get the error).
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Activation, Chain, Context, Dense, Dropout, Layer, Mode, NnError, gradient_with};
/// let model = Chain::<f64>::new()
///     .push(Dropout::new(0.5).unwrap())
///     .push(Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap());
/// let x = DMatrix::from_element(1, 8, 1.0); // 1 feature × 8 samples
/// let loss = |m: &Chain<f64>, ctx: &mut Context<f64>| -> Result<MatVar<f64>, NnError> {
///     Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
/// };
/// let weight_grad = |g: Chain<f64>| g.layer::<Dense<f64>>(1).unwrap().weight[(0, 0)];
/// // Eval: dropout is the identity; loss = Σ 2·xⱼ = 16 and ∂/∂w = Σ xⱼ = 8.
/// let (l, g) = gradient_with(&model, Mode::Eval, 0, loss).unwrap();
/// assert_eq!((l, weight_grad(g)), (16.0, 8.0));
/// // Train: each xⱼ is dropped or doubled (1/(1 − p) = 2), so the loss is 4 per kept sample
/// // and ∂/∂w = loss/2; the same seed draws the same mask.
/// let (l, g) = gradient_with(&model, Mode::Train, 7, loss).unwrap();
/// assert!(l % 4.0 == 0.0 && l <= 32.0 && weight_grad(g) == l / 2.0);
/// assert_eq!(gradient_with(&model, Mode::Train, 7, loss).unwrap().0, l);
/// ```
pub fn gradient_with<T, M, F>(model: &M, mode: Mode, seed: u64, loss: F) -> Result<(T, M), NnError>
where
    T: MatScalar,
    M: Layer<T> + Clone,
    F: FnOnce(&M, &mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    gradient_with_state(model, mode, seed, loss).map(|(value, grads, _)| (value, grads))
}

/// [`gradient_with`], also returning the new values the forward pass proposed for the model's
/// state matrices (a [`BatchNorm`](crate::BatchNorm)'s running statistics in
/// [`Mode::Train`]): for a training loop of your own, apply them with
/// [`StateUpdates::apply`] after the optimiser's step ([`gradient`] and [`gradient_with`]
/// borrow the model and drop them, so the running statistics of a loop built on those never
/// change; [`train_step`](crate::train_step) and [`train`](crate::train()) apply them).
///
/// # Errors
/// As [`gradient`], and the first error a layer reported ([`Context::fail`], e.g. a
/// [`BatchNorm`](crate::BatchNorm) in training given a batch of one sample);
/// [`NnError::InvalidConfig`] if a layer proposed a value for a matrix it does not list in
/// [`Layer::visit_state`], [`NnError::ShapeMismatch`] if the value has another shape.
///
/// # Panics
/// As [`gradient`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix};
/// use adroit_nn::optim::{self, Descent};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, BatchNorm, Chain, Dense, Layer, Mode, gradient_with_state};
/// let mut rng = StdRng::seed_from_u64(0);
/// let mut model = Chain::<f64>::new()
///     .push(Dense::new(2, 4, Activation::Identity, &mut rng))
///     .push(BatchNorm::new(4))
///     .push(Dense::new(4, 1, Activation::Identity, &mut rng));
/// let x = DMatrix::from_fn(2, 8, |i, j| (i + 2 * j) as f64); // features × batch
/// let y = DMatrix::from_fn(1, 8, |_, j| j as f64);
/// let mut opt = Descent::new(0.1);
/// // One step of a loop of your own: gradient, update, then the running statistics.
/// let (_, grads, state) = gradient_with_state(&model, Mode::Train, 0, |m, ctx| {
///     mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
/// })
/// .unwrap();
/// optim::step(&mut opt, &mut model, grads).unwrap();
/// state.apply(&mut model).unwrap();
/// assert_ne!(model.layer::<BatchNorm<f64>>(1).unwrap().running_mean, DMatrix::zeros(4, 1));
/// ```
pub fn gradient_with_state<T, M, F>(
    model: &M,
    mode: Mode,
    seed: u64,
    loss: F,
) -> Result<(T, M, StateUpdates<T>), NnError>
where
    T: MatScalar,
    M: Layer<T> + Clone,
    F: FnOnce(&M, &mut Context<T>) -> Result<MatVar<T>, NnError>,
{
    model.check_params()?;
    let mut params = Vec::new();
    model.visit_params(&mut |p| params.push(p));
    let pass = recorded_pass(&params, mode, seed, |ctx| loss(model, ctx))?;
    let state = StateUpdates::collect(model, pass.state)?;
    Ok((pass.value, shaped_like(model, pass.grads)?, state))
}

/// The parameters of a model, collected for implicit-style gradients (classic Flux's
/// `params(model)`), with their names; they borrow the model, and a parameter is identified by
/// its address.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Chain, Dense, params};
/// let model = Chain::<f64>::new()
///     .push(Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.0]), Activation::Tanh).unwrap())
///     .push(Dense::from_parts(dmatrix![3.0], None, Activation::Identity).unwrap());
/// let ps = params(&model);
/// assert_eq!(ps.len(), 3); // weight and bias of layer 0, weight of layer 1
/// let names: Vec<&str> = ps.names().collect();
/// assert_eq!(names, ["layers.0.weight", "layers.0.bias", "layers.1.weight"]);
/// ```
pub struct Params<'a, T> {
    entries: Vec<(String, &'a DMatrix<T>)>,
}

/// Shows each parameter's name and shape.
impl<T> std::fmt::Debug for Params<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(
                self.entries
                    .iter()
                    .map(|(name, m)| (name, format!("{}×{}", m.nrows(), m.ncols()))),
            )
            .finish()
    }
}

/// Collects the parameters of `model`.
///
/// # Example
/// ```
/// use adroit_nn::{Activation, Dense, Layer, losses, params};
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
/// let x = dmatrix![1.0; -1.0];
/// let ps = params(&layer);
/// let (_, grads) = ps
///     .gradient(|ctx| losses::mse(layer.forward(MatVar::constant(x.clone()), ctx), &dmatrix![0.0], losses::Agg::Mean))
///     .unwrap();
/// assert_eq!(grads[&layer.weight], dmatrix![-1.0, 1.0]);
/// assert_eq!(grads[layer.bias.as_ref().unwrap()], dmatrix![-1.0]);
/// ```
pub fn params<T: MatScalar, M: Layer<T>>(model: &M) -> Params<'_, T> {
    let mut entries = Vec::new();
    model.visit("", &mut |name, p| entries.push((name.to_string(), p)));
    Params { entries }
}

impl<'a, T: MatScalar> Params<'a, T> {
    /// Number of parameter arrays.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, params};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.0]), Activation::Identity).unwrap();
    /// assert_eq!(params(&layer).len(), 2); // weight and bias
    /// let layer = layer.without_bias();
    /// assert_eq!(params(&layer).len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the model has no parameters.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Dropout, params};
    /// let dropout = Dropout::new(0.5).unwrap();
    /// assert!(params::<f64, _>(&dropout).is_empty()); // dropout learns nothing
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The parameter names (`weight`, `layers.0.bias`, ...), in order.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Chain, Dense, Dropout, params};
    /// let model = Chain::<f64>::new()
    ///     .push(Dropout::new(0.1).unwrap())
    ///     .push(Dense::from_parts(dmatrix![1.0], Some(dmatrix![0.0]), Activation::Identity).unwrap());
    /// // Layer 0 (dropout) has no parameters; names carry the layer's index in the chain.
    /// let ps = params(&model);
    /// assert_eq!(ps.names().collect::<Vec<_>>(), ["layers.1.weight", "layers.1.bias"]);
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(n, _)| n.as_str())
    }

    /// The loss and its gradient with respect to every collected parameter; `loss(ctx)` runs
    /// the model (captured by the closure) in [`Mode::Train`] with dropout seed 0 (the same
    /// masks at every call: a training loop with dropout should use
    /// [`Params::gradient_with`] and a new seed per step). New values proposed for the
    /// model's state (a [`BatchNorm`](crate::BatchNorm)'s running statistics) are dropped:
    /// use [`gradient_with_state`] or [`train_step`](crate::train_step) to keep them.
    ///
    /// # Errors
    /// The error `loss` returns, else the first error a layer reported with
    /// [`Context::fail`].
    ///
    /// # Panics
    /// If `loss` returns a matrix that is not 1 × 1; inside the forward pass, if the model's
    /// layers do not fit together (the implicit form has no model to run
    /// [`check_params`](crate::Layer::check_params) on first: call it yourself, or use
    /// [`gradient`] or [`train`](crate::train()), which do).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, params};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
    /// let x = dmatrix![3.0; 4.0];
    /// // loss = W·x + b = 1·3 + 2·4 + 0.5, so ∂/∂W = xᵀ and ∂/∂b = 1.
    /// let (loss, grads) = params(&layer)
    ///     .gradient(|ctx| Ok(layer.forward(MatVar::constant(x.clone()), ctx).sum()))
    ///     .unwrap();
    /// assert_eq!(loss, 11.5);
    /// assert_eq!(grads[&layer.weight], dmatrix![3.0, 4.0]);
    /// assert_eq!(grads[layer.bias.as_ref().unwrap()], dmatrix![1.0]);
    /// ```
    pub fn gradient<F>(&self, loss: F) -> Result<(T, Grads<T>), NnError>
    where
        F: FnOnce(&mut Context<T>) -> Result<MatVar<T>, NnError>,
    {
        self.gradient_with(Mode::Train, 0, loss)
    }

    /// [`Params::gradient`] with a chosen [`Mode`] and dropout seed (as [`gradient_with`] for
    /// the explicit form): pass the step number, say, so that every step draws new masks.
    ///
    /// # Errors
    /// The error `loss` returns, else the first error a layer reported with
    /// [`Context::fail`].
    ///
    /// # Panics
    /// If `loss` returns a matrix that is not 1 × 1; inside the forward pass, if the model's
    /// layers do not fit together (the implicit form has no model to run
    /// [`check_params`](crate::Layer::check_params) on first: call it yourself, or use
    /// [`gradient`] or [`train`](crate::train()), which do).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Dropout, Layer, Mode, params};
    /// // Σ dropout(W·1) with p = ½ and W an 8 × 1 matrix of ones: each kept entry has
    /// // gradient 2, each dropped one 0; different seeds draw different masks.
    /// let layer = Dense::from_parts(nalgebra::DMatrix::from_element(8, 1, 1.0), None, Activation::Identity).unwrap();
    /// let drop = Dropout::new(0.5).unwrap();
    /// let loss = |ctx: &mut _| {
    ///     let h = layer.forward(MatVar::constant(dmatrix![1.0]), ctx);
    ///     Ok(drop.forward(h, ctx).sum())
    /// };
    /// let p = params(&layer);
    /// let mask = |mode, seed| p.gradient_with(mode, seed, loss).unwrap().1[&layer.weight].clone();
    /// assert!(mask(Mode::Train, 1).iter().all(|&v| v == 0.0 || v == 2.0));
    /// assert_ne!(mask(Mode::Train, 1), mask(Mode::Train, 2));
    /// // Eval mode: dropout is the identity.
    /// assert!(mask(Mode::Eval, 1).iter().all(|&v| v == 1.0));
    /// ```
    pub fn gradient_with<F>(&self, mode: Mode, seed: u64, loss: F) -> Result<(T, Grads<T>), NnError>
    where
        F: FnOnce(&mut Context<T>) -> Result<MatVar<T>, NnError>,
    {
        let params: Vec<&DMatrix<T>> = self.entries.iter().map(|(_, p)| *p).collect();
        let (value, grads) = gradients_of(&params, mode, seed, loss)?;
        let index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, (_, p))| (key(p), i))
            .collect();
        let names = self.entries.iter().map(|(n, _)| n.clone()).collect();
        Ok((
            value,
            Grads {
                index,
                names,
                grads,
            },
        ))
    }
}

/// Gradients indexed by parameter: `grads[&model.weight]`.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, Layer, params};
/// let layer = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
/// // loss = (w·x)² at x = 3: ∂/∂w = 2·(w·x)·x = 2·6·3 = 36.
/// let (_, grads) = params(&layer)
///     .gradient(|ctx| {
///         let y = layer.forward(MatVar::constant(dmatrix![3.0]), ctx);
///         Ok(y.component_mul(y).sum())
///     })
///     .unwrap();
/// assert_eq!(grads[&layer.weight], dmatrix![36.0]);
/// ```
#[derive(Clone, Debug)]
pub struct Grads<T> {
    index: HashMap<usize, usize>,
    names: Vec<String>,
    grads: Vec<DMatrix<T>>,
}

impl<T> Grads<T> {
    /// The gradient of `param`, if it was collected.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, params};
    /// let layer = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// // loss = w·x at x = 6: ∂/∂w = 6.
    /// let (_, grads) = params(&layer)
    ///     .gradient(|ctx| Ok(layer.forward(MatVar::constant(dmatrix![6.0]), ctx).sum()))
    ///     .unwrap();
    /// assert_eq!(grads.get(&layer.weight), Some(&dmatrix![6.0]));
    /// let copy = layer.clone(); // equal values at other addresses: not a collected parameter
    /// assert!(grads.get(&copy.weight).is_none());
    /// ```
    pub fn get(&self, param: &DMatrix<T>) -> Option<&DMatrix<T>> {
        self.index.get(&key(param)).map(|&i| &self.grads[i])
    }

    /// `(name, gradient)` pairs in parameter order.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, params};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.0]), Activation::Identity).unwrap();
    /// // loss = Σ(W·x + b) at x = [3; 4]: ∂/∂W = [3, 4] (sum 7), ∂/∂b = [1].
    /// let (_, grads) = params(&layer)
    ///     .gradient(|ctx| Ok(layer.forward(MatVar::constant(dmatrix![3.0; 4.0]), ctx).sum()))
    ///     .unwrap();
    /// let listed: Vec<(&str, f64)> = grads.iter().map(|(name, g)| (name, g.sum())).collect();
    /// assert_eq!(listed, [("weight", 7.0), ("bias", 1.0)]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DMatrix<T>)> {
        self.names.iter().map(String::as_str).zip(&self.grads)
    }
}

impl<T> std::ops::Index<&DMatrix<T>> for Grads<T> {
    type Output = DMatrix<T>;

    /// # Panics
    /// If `param` is not one of the collected parameters (compared by address).
    #[track_caller]
    fn index(&self, param: &DMatrix<T>) -> &DMatrix<T> {
        self.get(param).unwrap_or_else(|| {
            panic!(
                "Grads: this matrix is not one of the collected parameters (compared by address)"
            )
        })
    }
}
