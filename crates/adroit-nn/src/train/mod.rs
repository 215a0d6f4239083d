//! [`train`]: epochs of mini-batch optimisation with metrics, callbacks, an optional progress
//! bar, and a safe stop on non-finite values.

use crate::data::DataLoader;
use crate::gradient::{Usage, recorded_pass};
use crate::layer::param_names;
use crate::layer::{check_data, features_fit};
use crate::optim::{Optimizer, apply_checked_gradients, param_shapes};
use crate::{Layer, Mode, NnError, StateUpdates};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

mod callback;
mod early_stopping;
mod keep_best;
mod metrics;
mod monitor;
mod progress;
mod sample_mean;
mod validation;

pub use callback::{Callback, Control};
pub use early_stopping::EarlyStopping;
pub use keep_best::KeepBest;
pub use metrics::{EpochMetrics, History, TrainError};
use progress::ProgressBar;
use sample_mean::SampleMean;
pub use validation::Validation;

/// Settings of [`train`].
///
/// # Example
/// ```
/// use adroit_nn::TrainConfig;
/// // Set what you need and keep the defaults for the rest.
/// let config = TrainConfig { epochs: 50, seed: 7, ..TrainConfig::default() };
/// assert_eq!((config.epochs, config.seed, config.progress, config.log), (50, 7, false, false));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TrainConfig {
    /// Number of passes over the data in this call (a resumed run passes the epochs still to
    /// go: the total less [`DataLoader::epochs_drawn`]).
    pub epochs: usize,
    /// Show a progress bar on stderr, drawn only when stderr is a terminal (off in
    /// [`TrainConfig::default`]; needs the cargo feature `progress`, which is on by default).
    pub progress: bool,
    /// Seed of the dropout masks, combined with the step number. Steps are numbered from the
    /// batches the loader has already drawn ([`DataLoader::batches_drawn`]), so calling
    /// `train` once per epoch on the same loader draws fresh masks each time, as one call over
    /// all the epochs does; a new loader starts again from step 1 (so a run that must repeat
    /// an earlier run's masks needs a new loader).
    pub seed: u64,
    /// Print each epoch's metrics: above the progress bar when one is drawn and standard output
    /// is a terminal, otherwise to standard output (best effort: a closed standard output does
    /// not stop training).
    pub log: bool,
}

impl Default for TrainConfig {
    /// 10 epochs, no progress bar, no log, seed 0.
    fn default() -> Self {
        Self {
            epochs: 10,
            progress: false,
            seed: 0,
            log: false,
        }
    }
}

/// Trains `model` on the batches of `loader` for `config.epochs` epochs: for each batch, the
/// gradient of `loss(model(x), y)` ([`Mode::Train`]) and one step of `opt`.
///
/// `loss(ŷ, y)` is one of [`crate::losses`] (or any function returning a 1 × 1 loss). Written
/// inline in the call (`|p, t| mse(p, t, Agg::Mean)`) its types are inferred; a closure bound
/// to a variable first needs the target's type written out,
/// `let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);` — without it Rust gives `t` one
/// fixed lifetime and reports "implementation of `Fn` is not general enough" at the `train`
/// call. (A plain `fn` needs nothing.)
///
/// Epochs and steps are numbered from what the loader has drawn, so calling `train` once per
/// epoch on one loader is the same run as one call over all the epochs (losses, dropout
/// masks, epoch numbers). To resume an interrupted run exactly, save and restore the weights
/// ([`io::save_safetensors`](crate::io::save_safetensors),
/// [`io::load_safetensors`](crate::io::load_safetensors)), the optimiser (its state written
/// and read back with serde, see [`optim`](crate::optim#checkpoints)) and the loader's
/// position ([`DataLoader::epochs_drawn`], then [`DataLoader::skip_epochs`] on a loader
/// rebuilt with the same data, batch size, `drop_last` and shuffle seed); and call `train`
/// with the same [`TrainConfig::seed`] (the dropout masks'). Callbacks with state save theirs
/// too: an [`EarlyStopping`] (serde; read back, it continues its count of epochs without
/// improvement in a run that continues its epochs, and says whether it had already
/// [`stopped`](EarlyStopping::stopped) the run), and a [`KeepBest`]'s model, score and epoch
/// (put back by [`KeepBest::restore`]). The `resume` example does all of it.
///
/// # Errors
/// A [`TrainError`]: its `error` and the `history` of the epochs completed before it. `?`
/// turns it into the [`NnError`] alone in a function returning `Result<_, NnError>` (or
/// `Box<dyn Error>`); with an error type of your own that converts from `NnError`, write
/// `train(…).map_err(|e| e.error)?` or convert from `TrainError` too. The error is
/// - [`NnError::ShapeMismatch`] if the data's features do not match the model's input, or the
///   loss reports a prediction/target mismatch; [`NnError::InvalidData`] if, where no layer
///   states the input size, a layer cannot take the features the data give it;
/// - the error of the model's [`check_params`](crate::Layer::check_params), before the first
///   step: [`NnError::ShapeMismatch`] for a parameter set to a wrong shape,
///   [`NnError::InvalidConfig`] for layers whose sizes do not fit (a [`Chain`](crate::Chain)'s)
///   or a non-finite activation parameter;
/// - [`NnError::EmptyData`] if an epoch would have no batch;
/// - a callback's [`check_metrics`](Callback::check_metrics) error at the end of an epoch,
///   before its `on_epoch_end` (the callbacks before it have run theirs; the epoch's metrics
///   last in the history): [`NnError::InvalidConfig`] when an [`EarlyStopping`] or
///   [`KeepBest`](crate::KeepBest) monitors a metric the epoch does not have (misspelt, or
///   added by a callback placed after it: at the end of the first epoch), naming the metrics
///   there are, or when two [`Validation`](crate::Validation)s add metrics of one name;
/// - [`NnError::InvalidConfig`] if the optimiser's settings are refused
///   ([`Optimizer::check_config`](crate::optim::Optimizer::check_config): a negative learning
///   rate, say), before the first step or at the step where a schedule leaves the range, or
///   do not fit the model (a mask built for another model:
///   [`Optimizer::check_params`](crate::optim::Optimizer::check_params)); or if
///   the model cannot train: it has no parameters, or its forward pass leaves a parameter
///   unread through `ctx.param` (read as a constant: a zero gradient for ever) or reads a
///   matrix its `visit` does not list (see [`train_step`]);
/// - the first error a layer reported with [`Context::fail`](crate::Context::fail) (a
///   [`BatchNorm`](crate::BatchNorm) given a batch of one sample: drop the last partial batch,
///   [`DataLoader::drop_last`](crate::data::DataLoader::drop_last)), the model as before
///   that step (the steps before it kept); an [`NnError::InvalidData`] names the epoch and
///   batch at the end of its message;
/// - [`NnError::NonFinite`] if the loss or a gradient becomes NaN or infinite, or an update
///   would make a parameter or a state matrix (running statistics) so: training stops and
///   the model keeps the parameters and state it had before that step (the last good ones),
///   the optimiser its state (see [`Optimizer::undo_update`](crate::optim::Optimizer::undo_update)
///   for rules of your own), so the run can go on from there (the loader has drawn that
///   whole epoch, which [`DataLoader::epochs_drawn`] counts: to take the epoch again from its
///   first batch, rebuild the loader and [`skip_epochs`](DataLoader::skip_epochs) to the
///   error's `epoch`; the steps before the refused one are kept); the message counts the
///   batch's non-finite inputs and targets, if any. The data are not checked up front (a loss
///   of your own may mask missing targets stored as NaN): call
///   [`DataLoader::check_finite`](crate::data::DataLoader::check_finite) first to refuse such
///   data before any step, rather than stop at the first batch holding them. Only non-finite values
///   stop a run: one that diverges while staying finite (a learning rate far too large)
///   returns `Ok` with growing losses in its history — watch them, or stop it with
///   [`EarlyStopping`].
///
/// # Panics
/// If `loss` returns a matrix that is not 1 × 1 (a programmer error: reduce it with `sum` or
/// `mean`, as the losses of [`crate::losses`] do), or a rule of your own panics in its
/// `update` (a built-in rule used before on a model with other parameter shapes is an
/// [`NnError::InvalidConfig`] instead, from [`Optimizer::check_params`]).
///
/// # Example
/// ```
/// use adroit_nn::{nalgebra, rand};
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::optim::Adam;
/// use adroit_nn::{Activation, Dense, TrainConfig, train};
/// use adroit_nn::rand::SeedableRng;
///
/// // Learn y = 2x − 1.
/// let x = nalgebra::DMatrix::from_fn(1, 32, |_, j| j as f64 / 16.0 - 1.0);
/// let y = x.map(|v| 2.0 * v - 1.0);
/// let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rand::rngs::StdRng::seed_from_u64(0));
/// let mut loader = DataLoader::new(x, y, 8).unwrap().shuffle(1);
/// let config = TrainConfig { epochs: 200, ..TrainConfig::default() };
/// let history = train(&mut model, &mut loader, |p, t| mse(p, t, Agg::Mean), &mut Adam::new(0.05), &config, &mut []).unwrap();
/// assert!(history.epochs.last().unwrap().loss < 1e-4);
/// ```
pub fn train<T, M, O, L>(
    model: &mut M,
    loader: &mut DataLoader<T>,
    loss: L,
    opt: &mut O,
    config: &TrainConfig,
    callbacks: &mut [&mut dyn Callback<T, M>],
) -> Result<History, TrainError>
where
    T: MatScalar,
    M: Layer<T> + Clone,
    O: Optimizer<T>,
    L: Fn(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
{
    let mut history = History {
        epochs: Vec::new(),
        stopped_early: false,
    };
    let checked = model.check_params().and_then(|()| opt.check_config());
    if let Err(error) = checked.and_then(|()| opt.check_params(&param_shapes(model))) {
        return Err(TrainError { error, history });
    }
    if let Some(inputs) = model.input_size().filter(|&n| n != loader.features()) {
        let error = NnError::ShapeMismatch {
            what: "training data (features × samples) for the model's inputs".to_string(),
            expected: (inputs, loader.len()),
            found: (loader.features(), loader.len()),
        };
        return Err(TrainError { error, history });
    }
    if let Err(error) = features_fit(model, loader.features()) {
        return Err(TrainError { error, history });
    }
    if loader.batches_per_epoch() == 0 {
        let error = NnError::EmptyData {
            what: "an epoch (fewer samples than one batch, and the last partial batch is dropped)"
                .into(),
        };
        return Err(TrainError { error, history });
    }
    for callback in callbacks.iter_mut() {
        callback.on_train_begin(model);
    }
    let steps = config.epochs.saturating_mul(loader.batches_per_epoch());
    let bar = ProgressBar::new(config.progress, steps);
    // Steps are numbered across calls on one loader (from the batches it has drawn), so that a
    // loop calling `train` once per epoch, as Flux's `train!`, does not repeat its masks.
    let mut step_count: u64 = loader.batches_drawn();
    for _ in 0..config.epochs {
        // Epochs are numbered the same way, from the epochs the loader has drawn.
        let epoch = loader.epochs_drawn();
        let batches = loader.epoch();
        // The batches' losses weighted by their sample counts, as Keras averages, so a last
        // partial batch counts for its samples only.
        let mut total = SampleMean::over(batches.iter().map(|(x, _)| x.ncols()).sum());
        for (batch, (x, y)) in batches.into_iter().enumerate() {
            step_count += 1;
            let seed = config
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(step_count);
            let value = match train_step(model, &x, &y, &loss, opt, seed) {
                Ok(value) => value,
                Err(e) => {
                    bar.finish();
                    let error = match e {
                        NnError::NonFinite { what, .. } => NnError::NonFinite {
                            epoch,
                            batch,
                            what: what + &data_hint(&x, &y),
                        },
                        // Bad data a layer met (an id out of range, a batch of one sample for
                        // BatchNorm): where, as for a non-finite loss.
                        NnError::InvalidData { what } => NnError::InvalidData {
                            what: format!("{what} (epoch {epoch}, batch {batch})"),
                        },
                        other => other,
                    };
                    return Err(TrainError { error, history });
                }
            };
            let value = value.to_f64().unwrap_or(f64::NAN);
            total.add(value, x.ncols());
            bar.advance(epoch, value);
        }
        let mut metrics = EpochMetrics {
            epoch,
            loss: total.mean(),
            extra: Vec::new(),
        };
        let mut stop = false;
        let mut refused = None;
        for callback in callbacks.iter_mut() {
            if let Err(error) = callback.check_metrics(&metrics) {
                refused = Some(error);
                break;
            }
            stop |= callback.on_epoch_end(model, &mut metrics) == Control::Stop;
        }
        if config.log {
            bar.println(&metrics.to_string());
        }
        history.epochs.push(metrics);
        if let Some(error) = refused {
            bar.finish();
            return Err(TrainError { error, history });
        }
        if stop {
            history.stopped_early = true;
            break;
        }
    }
    bar.finish();
    Ok(history)
}

/// One training step on a batch (`x`: `inputs × batch`, `y`: `outputs × batch`): the gradient
/// of `loss(model(x), y)` in [`Mode::Train`] (dropout seeded with `seed`) and one step of
/// `opt`; returns the loss. Records the parameters once and applies the gradients without a
/// model-shaped copy (what [`train`] runs per batch). Then sets the new values the forward
/// pass proposed for the model's state (a [`BatchNorm`](crate::BatchNorm)'s running
/// statistics, see [`Context::update_state`](crate::Context::update_state)), only if the step
/// succeeded.
///
/// # Errors
/// The error of the model's [`check_params`](crate::Layer::check_params), checked first
/// (parameters set to wrong shapes, layers whose sizes do not fit, a non-finite activation
/// parameter); [`NnError::ShapeMismatch`] if `x` does not have the model's input size in rows
/// ([`NnError::InvalidData`] if, where no layer states it, a layer cannot take the features
/// `x` gives it);
/// [`NnError::InvalidConfig`] if the optimiser's settings are refused
/// ([`Optimizer::check_config`](crate::optim::Optimizer::check_config)) or do not fit the
/// model ([`Optimizer::check_params`](crate::optim::Optimizer::check_params)), if the model has no
/// parameters, or if the forward pass does not read every listed parameter through
/// [`Context::param`](crate::Context::param) (a parameter read as a constant, e.g. through
/// `MatVar::constant`, would get a zero gradient and never train) or reads through it a matrix
/// the model does not list in `visit`/`visit_params` (it would never train either) — as
/// PyTorch's `autograd.grad` refuses unused inputs; the loss's error (e.g. a shape mismatch between prediction and target); [`NnError::NonFinite`]
/// (with `epoch` and `batch` 0) if the loss or a gradient is NaN or infinite, or the update
/// would make a parameter or a state matrix so — the model (parameters and state) and the
/// optimiser's state are then unchanged (see [`step`](crate::optim::step)); the first error a layer reported with
/// [`Context::fail`](crate::Context::fail) (a [`BatchNorm`](crate::BatchNorm) given a batch of
/// one sample), the model unchanged.
///
/// # Panics
/// If `loss` returns a matrix that is not 1 × 1, or a rule of your own panics in its `update`
/// (as [`train`]).
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Dense, NnError, train_step};
/// let (w, b) = (dmatrix![1.0], Some(dmatrix![0.0]));
/// let mut model = Dense::from_parts(w, b, Activation::Identity).unwrap();
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let mut opt = Descent::new(0.25);
/// // mse(w·1 + b, 0) = 1 with gradient 2 for w and b: a step of η = 0.25 subtracts 0.5.
/// let value = train_step(&mut model, &dmatrix![1.0], &dmatrix![0.0], &loss, &mut opt, 0).unwrap();
/// assert_eq!(value, 1.0);
/// assert_eq!((model.weight.clone(), model.bias.clone()), (dmatrix![0.5], Some(dmatrix![-0.5])));
/// // A batch of 2 features for a layer of 1 input is refused; the model is unchanged.
/// let wrong = train_step(&mut model, &DMatrix::zeros(2, 1), &dmatrix![0.0], &loss, &mut opt, 0);
/// assert!(matches!(wrong, Err(NnError::ShapeMismatch { .. })));
/// assert_eq!(model.weight, dmatrix![0.5]);
/// ```
pub fn train_step<T, M, O, L>(
    model: &mut M,
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    loss: &L,
    opt: &mut O,
    seed: u64,
) -> Result<T, NnError>
where
    T: MatScalar,
    M: Layer<T>,
    O: Optimizer<T>,
    L: Fn(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
{
    model.check_params()?;
    opt.check_config()?;
    check_data(model, x)?;
    let shapes = param_shapes(model);
    opt.check_params(&shapes)?;
    let (value, grads, state) = {
        let mut params = Vec::new();
        model.visit_params(&mut |p| params.push(p));
        if params.is_empty() {
            return Err(NnError::InvalidConfig {
                name: "model",
                reason: "it has no parameters to train (does a layer of your own list them in \
                         `visit`, `visit_mut` and `visit_params`?)"
                    .into(),
            });
        }
        let model = &*model;
        let pass = recorded_pass(&params, Mode::Train, seed, |ctx| {
            loss(model.forward(MatVar::constant(x.clone()), ctx), y)
        })?;
        check_usage(model, pass.usage)?;
        let state = StateUpdates::collect(model, pass.state)?;
        (pass.value, pass.grads, state)
    };
    if !num_traits::Float::is_finite(value) {
        return Err(NnError::NonFinite {
            epoch: 0,
            batch: 0,
            what: "loss".into(),
        });
    }
    // The new state is checked before the parameters change, and set after they did: a step
    // that fails anywhere leaves both as they were.
    state.check_for(model)?;
    // The rule and its fit to the model were checked above, before the forward pass.
    apply_checked_gradients(opt, model, &shapes, grads)?;
    state.set(model);
    Ok(value)
}

/// Refuses a forward pass that left a parameter unread (read as a constant, e.g. through
/// `MatVar::constant`, or not at all: it would get a zero gradient and never train) or read a
/// matrix through `Context::param` that the model does not list (a layer's `visit` missing a
/// parameter: it would never train either). PyTorch's `autograd.grad` refuses unused inputs
/// likewise, unless told they may be.
fn check_usage<T: MatScalar, M: Layer<T>>(
    model: &M,
    (unread, unbound_reads): Usage,
) -> Result<(), NnError> {
    if let Some(&first) = unread.first() {
        let names = param_names(model);
        let listed: Vec<&str> = unread
            .iter()
            .filter_map(|&i| names.get(i).map(String::as_str))
            .collect();
        return Err(NnError::InvalidConfig {
            name: "model",
            reason: format!(
                "the forward pass did not read parameter{} {} through `ctx.param` (read as a \
                 constant, or not used), so {} would get a zero gradient and never train (a \
                 matrix not meant to train must not be listed in `visit`, or the optimiser \
                 would still update it, e.g. by weight decay)",
                if unread.len() == 1 { "" } else { "s" },
                if listed.is_empty() {
                    format!("#{first}")
                } else {
                    listed.join(", ")
                },
                if unread.len() == 1 { "it" } else { "they" },
            ),
        });
    }
    if unbound_reads > 0 {
        return Err(NnError::InvalidConfig {
            name: "model",
            reason: format!(
                "the forward pass read {unbound_reads} matri{} through `ctx.param` that the \
                 model does not list as parameters (a layer's `visit`, `visit_mut` and \
                 `visit_params` must list every one), so {} would never train",
                if unbound_reads == 1 { "x" } else { "ces" },
                if unbound_reads == 1 { "it" } else { "they" },
            ),
        });
    }
    Ok(())
}

/// `" (the batch's inputs hold 2 NaN or infinite entries)"` when the batch's data is not
/// finite (the likely cause of a non-finite loss), else nothing.
fn data_hint<T: MatScalar>(x: &DMatrix<T>, y: &DMatrix<T>) -> String {
    let count = |m: &DMatrix<T>| m.iter().filter(|v| !v.is_finite()).count();
    let entries = |n: usize| {
        let noun = if n == 1 { "entry" } else { "entries" };
        format!("{n} NaN or infinite {noun}")
    };
    match (count(x), count(y)) {
        (0, 0) => String::new(),
        (nx, 0) => format!(" (the batch's inputs hold {})", entries(nx)),
        (0, ny) => format!(" (the batch's targets hold {})", entries(ny)),
        (nx, ny) => format!(
            " (the batch's inputs hold {}, its targets {})",
            entries(nx),
            entries(ny)
        ),
    }
}
