//! [`train`]: epochs of mini-batch optimisation with metrics, callbacks, an optional progress
//! bar, and a safe stop on non-finite values.

use crate::data::DataLoader;
use crate::gradient::gradients_of;
use crate::layer::check_input;
use crate::optim::{Optimizer, apply_gradients};
use crate::{Layer, Mode, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Settings of [`train`].
///
/// # Example
/// ```
/// use adroit_nn::TrainConfig;
/// // Set what you need and keep the defaults for the rest.
/// let config = TrainConfig { epochs: 50, seed: 7, ..TrainConfig::default() };
/// assert_eq!((config.epochs, config.seed, config.progress, config.log), (50, 7, false, false));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TrainConfig {
    /// Number of passes over the data.
    pub epochs: usize,
    /// Show a progress bar on stderr, drawn only when stderr is a terminal (off in
    /// [`TrainConfig::default`]; needs the cargo feature `progress`, which is on by default).
    pub progress: bool,
    /// Seed of the dropout masks (combined with the step number).
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

/// The metrics of one epoch.
///
/// # Example
/// ```
/// use adroit_nn::EpochMetrics;
/// let m = EpochMetrics { epoch: 3, loss: 0.25, extra: vec![("accuracy".to_string(), 0.9)] };
/// assert_eq!(m.get("accuracy"), Some(0.9));
/// // Displayed with the loss and each extra metric to 4 decimals.
/// assert!(m.to_string().ends_with("loss 0.2500  accuracy 0.9000"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// The epoch (from 0).
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub loss: f64,
    /// Further metrics added by callbacks (e.g. test accuracy), by name.
    pub extra: Vec<(String, f64)>,
}

impl EpochMetrics {
    /// The value of an extra metric.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::EpochMetrics;
    /// let m = EpochMetrics { epoch: 0, loss: 1.0, extra: vec![("val_loss".to_string(), 1.5)] };
    /// assert_eq!(m.get("val_loss"), Some(1.5));
    /// assert_eq!(m.get("loss"), None); // the training loss is the field `loss`, not an extra
    /// ```
    pub fn get(&self, name: &str) -> Option<f64> {
        self.extra.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }
}

impl std::fmt::Display for EpochMetrics {
    /// `epoch    3  loss 0.1234  accuracy 0.9667` (the epoch right-aligned in 4 columns).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {:>4}  loss {:.4}", self.epoch, self.loss)?;
        for (name, value) in &self.extra {
            write!(f, "  {name} {value:.4}")?;
        }
        Ok(())
    }
}

/// What training does after a callback.
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Control, Dense, EpochMetrics, TrainConfig, train};
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x, 2).unwrap();
/// // Stop after epoch 1, the second.
/// let mut stop_after_1 = |_: &Dense<f64>, m: &mut EpochMetrics| {
///     if m.epoch == 1 { Control::Stop } else { Control::Continue }
/// };
/// let config = TrainConfig { epochs: 10, ..TrainConfig::default() };
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let history =
///     train(&mut model, &mut loader, loss, &mut Descent::new(0.1), &config, &mut [&mut stop_after_1])
///         .unwrap();
/// assert_eq!((history.epochs.len(), history.stopped_early), (2, true));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop after this epoch.
    Stop,
}

/// Called after every epoch with the model and the epoch's metrics (which it may extend, e.g.
/// with a validation score).
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Callback, Control, Dense, EpochMetrics, TrainConfig, train};
/// /// Records the weight as a metric; stops once it is within 0.01 of `target`.
/// struct Watch {
///     target: f64,
/// }
/// impl Callback<f64, Dense<f64>> for Watch {
///     fn on_epoch_end(&mut self, model: &Dense<f64>, metrics: &mut EpochMetrics) -> Control {
///         let w = model.weight[(0, 0)];
///         metrics.extra.push(("weight".into(), w));
///         if (w - self.target).abs() < 0.01 { Control::Stop } else { Control::Continue }
///     }
/// }
/// // Learn y = 2x on x = 0, 1, 2, 3 from w = 0, one batch per epoch: mse = 3.5·(w − 2)² has
/// // gradient 7·(w − 2), so each step of η = 0.1 multiplies w − 2 by 0.3:
/// // |w − 2| = 2·0.3ᵏ after k epochs, first below 0.01 at k = 5.
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
/// let config = TrainConfig { epochs: 100, ..TrainConfig::default() };
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let mut watch = Watch { target: 2.0 };
/// let history =
///     train(&mut model, &mut loader, loss, &mut Descent::new(0.1), &config, &mut [&mut watch])
///         .unwrap();
/// assert!(history.stopped_early && history.epochs.len() == 5);
/// assert_eq!(history.epochs[4].get("weight"), Some(model.weight[(0, 0)]));
/// ```
pub trait Callback<T: MatScalar, M> {
    /// Inspects the epoch; returns whether to go on.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EpochMetrics};
    /// // Callbacks can be driven by hand (e.g. to test one); a closure is a callback too.
    /// let mut half_loss = |_: &(), m: &mut EpochMetrics| {
    ///     m.extra.push(("half_loss".into(), m.loss / 2.0));
    ///     Control::Continue
    /// };
    /// let mut metrics = EpochMetrics { epoch: 0, loss: 3.0, extra: vec![] };
    /// let decision = Callback::<f64, ()>::on_epoch_end(&mut half_loss, &(), &mut metrics);
    /// assert_eq!((decision, metrics.get("half_loss")), (Control::Continue, Some(1.5)));
    /// ```
    fn on_epoch_end(&mut self, model: &M, metrics: &mut EpochMetrics) -> Control;
}

impl<T: MatScalar, M, F: FnMut(&M, &mut EpochMetrics) -> Control> Callback<T, M> for F {
    fn on_epoch_end(&mut self, model: &M, metrics: &mut EpochMetrics) -> Control {
        self(model, metrics)
    }
}

/// Stops when a monitored metric has not improved by more than `min_delta` for `patience`
/// epochs (Keras/Flux `early_stopping`). Monitors the training loss (lower is better) unless
/// told otherwise.
///
/// # Example
/// ```
/// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
/// let mut stop = EarlyStopping::new(2, 0.0); // patience 2 on the training loss
/// let mut epoch_end = |epoch, loss| {
///     let mut metrics = EpochMetrics { epoch, loss, extra: vec![] };
///     Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics)
/// };
/// // The best is 0.5 at epoch 1; 0.6 is worse and 0.5 only ties it: two epochs without
/// // improvement.
/// assert_eq!(epoch_end(0, 1.0), Control::Continue);
/// assert_eq!(epoch_end(1, 0.5), Control::Continue);
/// assert_eq!(epoch_end(2, 0.6), Control::Continue);
/// assert_eq!(epoch_end(3, 0.5), Control::Stop);
/// ```
#[derive(Clone, Debug)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    monitor: Option<(String, bool)>,
    best: Option<f64>,
    waited: usize,
}

impl EarlyStopping {
    /// Early stopping on the training loss.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
    /// // An improvement must exceed min_delta = 0.1: 1.0 → 0.95 → 0.92 does not count.
    /// let mut stop = EarlyStopping::new(2, 0.1);
    /// let mut epoch_end = |loss| {
    ///     let mut metrics = EpochMetrics { epoch: 0, loss, extra: vec![] };
    ///     Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics)
    /// };
    /// assert_eq!(epoch_end(1.0), Control::Continue);
    /// assert_eq!(epoch_end(0.95), Control::Continue);
    /// assert_eq!(epoch_end(0.92), Control::Stop);
    /// ```
    pub fn new(patience: usize, min_delta: f64) -> Self {
        Self {
            patience,
            min_delta,
            monitor: None,
            best: None,
            waited: 0,
        }
    }

    /// Monitors the extra metric `name` instead (added by an earlier callback);
    /// `higher_is_better` for scores like accuracy.
    ///
    /// # Panics
    /// At the end of an epoch whose metrics have no `name` (a misspelt name, or the callback
    /// adding it placed after this one): a configuration mistake that would otherwise never
    /// stop training (Keras only warns). The message lists the metrics there are.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
    /// // Accuracy (added by an earlier callback) must rise; patience 1.
    /// let mut stop = EarlyStopping::new(1, 0.0).monitor("accuracy", true);
    /// let mut epoch_end = |accuracy| {
    ///     let extra = vec![("accuracy".to_string(), accuracy)];
    ///     let mut metrics = EpochMetrics { epoch: 0, loss: 0.0, extra };
    ///     Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics)
    /// };
    /// assert_eq!(epoch_end(0.5), Control::Continue);
    /// assert_eq!(epoch_end(0.7), Control::Continue);
    /// assert_eq!(epoch_end(0.7), Control::Stop); // no rise
    /// ```
    pub fn monitor(mut self, name: &str, higher_is_better: bool) -> Self {
        self.monitor = Some((name.to_string(), higher_is_better));
        self
    }
}

impl<T: MatScalar, M> Callback<T, M> for EarlyStopping {
    fn on_epoch_end(&mut self, _: &M, metrics: &mut EpochMetrics) -> Control {
        let (value, higher) = match &self.monitor {
            None => (Some(metrics.loss), false),
            Some((name, higher)) => (metrics.get(name), *higher),
        };
        let Some(value) = value else {
            let names: Vec<&str> = metrics.extra.iter().map(|(n, _)| n.as_str()).collect();
            panic!(
                "EarlyStopping monitors the metric {:?}, but the epoch's metrics are: loss{}{} \
                 (a callback adding it must come before EarlyStopping)",
                self.monitor.as_ref().map_or("", |(n, _)| n.as_str()),
                if names.is_empty() { "" } else { ", " },
                names.join(", ")
            );
        };
        let score = if higher { value } else { -value };
        if !score.is_finite() {
            // A NaN or infinite metric is no improvement (as Keras).
            self.waited += 1;
            return if self.waited >= self.patience {
                Control::Stop
            } else {
                Control::Continue
            };
        }
        match self.best {
            Some(best) if score <= best + self.min_delta => {
                self.waited += 1;
                if self.waited >= self.patience {
                    return Control::Stop;
                }
            }
            _ => {
                self.best = Some(score);
                self.waited = 0;
            }
        }
        Control::Continue
    }
}

/// The result of [`train`].
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Dense, TrainConfig, train};
/// // Learn y = 2x on x = 0, 1, 2, 3 from w = 0, one batch per epoch.
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
/// let config = TrainConfig { epochs: 3, ..TrainConfig::default() };
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let history = train(&mut model, &mut loader, loss, &mut Descent::new(0.1), &config, &mut []).unwrap();
/// assert!(!history.stopped_early);
/// assert_eq!(history.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(), [0, 1, 2]);
/// // mse = mean((w − 2)²·x²) = 3.5·(w − 2)² with gradient 7·(w − 2): each step of η = 0.1
/// // multiplies w − 2 by 0.3, so each epoch's loss (taken before its step) by 0.09.
/// assert!((history.epochs[0].loss - 14.0).abs() < 1e-12);
/// assert!((history.epochs[1].loss - 14.0 * 0.09).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    /// One entry per completed epoch.
    pub epochs: Vec<EpochMetrics>,
    /// True when a callback stopped training early.
    pub stopped_early: bool,
}

/// Trains `model` on the batches of `loader` for `config.epochs` epochs: for each batch, the
/// gradient of `loss(model(x), y)` ([`Mode::Train`]) and one step of `opt`.
///
/// `loss(ŷ, y)` is one of [`crate::losses`] (or any function returning a 1 × 1 loss).
///
/// # Errors
/// - [`NnError::ShapeMismatch`] if the data's features do not match the model's input, or the
///   loss reports a prediction/target mismatch;
/// - [`NnError::NonFinite`] if the loss or a gradient becomes NaN or infinite, or an update
///   would make a parameter so: training stops and the model keeps the parameters it had
///   before that step (the last good ones).
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
) -> Result<History, NnError>
where
    T: MatScalar,
    M: Layer<T> + Clone,
    O: Optimizer<T>,
    L: Fn(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
{
    if let Some(inputs) = model.input_size().filter(|&n| n != loader.features()) {
        return Err(NnError::ShapeMismatch {
            what: "training data (features × samples) for the model's inputs".to_string(),
            expected: (inputs, loader.len()),
            found: (loader.features(), loader.len()),
        });
    }
    if loader.batches_per_epoch() == 0 {
        return Err(NnError::EmptyData {
            what: "an epoch (fewer samples than one batch, and the last partial batch is dropped)"
                .into(),
        });
    }
    let steps = config.epochs.saturating_mul(loader.batches_per_epoch());
    let bar = ProgressBar::new(config.progress, steps);
    let mut history = History {
        epochs: Vec::new(),
        stopped_early: false,
    };
    let mut step_count: u64 = 0;
    for epoch in 0..config.epochs {
        let mut total = 0.0;
        let batches = loader.epoch();
        let n_batches = batches.len();
        for (batch, (x, y)) in batches.into_iter().enumerate() {
            step_count += 1;
            let seed = config
                .seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(step_count);
            let value = train_step(model, &x, &y, &loss, opt, seed).map_err(|e| {
                bar.finish();
                match e {
                    NnError::NonFinite { what, .. } => NnError::NonFinite { epoch, batch, what },
                    other => other,
                }
            })?;
            let value = value.to_f64().unwrap_or(f64::NAN);
            total += value;
            bar.advance(epoch, value);
        }
        let mut metrics = EpochMetrics {
            epoch,
            loss: total / n_batches.max(1) as f64,
            extra: Vec::new(),
        };
        let mut stop = false;
        for callback in callbacks.iter_mut() {
            stop |= callback.on_epoch_end(model, &mut metrics) == Control::Stop;
        }
        if config.log {
            bar.println(&metrics.to_string());
        }
        history.epochs.push(metrics);
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
/// model-shaped copy (what [`train`] runs per batch).
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `x` does not have the model's input size in rows; the
/// loss's error (e.g. a shape mismatch between prediction and target); [`NnError::NonFinite`]
/// (with `epoch` and `batch` 0) if the loss or a gradient is NaN or infinite, or the update
/// would make a parameter so — the model is then unchanged.
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{DMatrix, dmatrix};
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
    check_input(model.input_size(), x)?;
    let (value, grads) = {
        let mut params = Vec::new();
        model.visit_params(&mut |p| params.push(p));
        let model = &*model;
        gradients_of(&params, Mode::Train, seed, |ctx| {
            loss(model.forward(MatVar::constant(x.clone()), ctx), y)
        })?
    };
    if !num_traits::Float::is_finite(value) {
        return Err(NnError::NonFinite {
            epoch: 0,
            batch: 0,
            what: "loss".into(),
        });
    }
    apply_gradients(opt, model, grads)?;
    Ok(value)
}

/// The optional progress bar.
struct ProgressBar {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    #[allow(unused_variables)]
    fn new(show: bool, total: usize) -> Self {
        #[cfg(feature = "progress")]
        {
            let bar = show.then(|| {
                let bar = indicatif::ProgressBar::new(total as u64);
                if let Ok(style) =
                    indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} batches  {msg}")
                {
                    bar.set_style(style);
                }
                bar
            });
            Self { bar }
        }
        #[cfg(not(feature = "progress"))]
        Self {}
    }

    #[allow(unused_variables)]
    fn advance(&self, epoch: usize, loss: f64) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.set_message(format!("epoch {epoch}  loss {loss:.4}"));
            bar.inc(1);
        }
    }

    /// Prints a log line: above the bar when both share a terminal, otherwise to standard
    /// output (so redirected output gets every line). Best effort: a closed or full standard
    /// output loses the line rather than aborting training.
    fn println(&self, line: &str) {
        use std::io::Write;
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.as_ref().filter(|b| !b.is_hidden()) {
            if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                bar.println(line);
                return;
            }
        }
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
