//! [`Callback`]s run at the end of every epoch.

use super::EpochMetrics;
use crate::NnError;
use adroit_reverse::matrix::MatScalar;

/// What training does after a callback.
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
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
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
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

    /// Called once when [`train`](super::train) starts, before the first epoch (Keras's
    /// `on_train_begin`): a callback keeping state across epochs resets it here, so one
    /// callback can serve several runs. Does nothing by default.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
    /// let mut stop = EarlyStopping::new(1, 0.0);
    /// let mut epoch_end = |stop: &mut EarlyStopping, loss| {
    ///     let mut metrics = EpochMetrics { epoch: 0, loss, extra: vec![] };
    ///     Callback::<f64, ()>::on_epoch_end(stop, &(), &mut metrics)
    /// };
    /// assert_eq!(epoch_end(&mut stop, 0.1), Control::Continue);
    /// // A new run starts: the best loss of the last one (0.1) is forgotten.
    /// Callback::<f64, ()>::on_train_begin(&mut stop, &());
    /// assert_eq!(epoch_end(&mut stop, 5.0), Control::Continue);
    /// assert_eq!(epoch_end(&mut stop, 6.0), Control::Stop);
    /// ```
    fn on_train_begin(&mut self, model: &M) {
        let _ = model;
    }

    /// Checks that this callback can run on the epoch's `metrics` as they reach it (the
    /// callbacks before it have added theirs): [`train`](super::train) calls it before
    /// [`on_epoch_end`](Self::on_epoch_end) and stops with its error, the epoch's metrics in
    /// the history. A configuration mistake that would otherwise stop the run mid-way with a
    /// panic — [`EarlyStopping`](super::EarlyStopping) or [`KeepBest`](super::KeepBest)
    /// monitoring a metric the epoch does not have — is reported here. Accepts every epoch by
    /// default: a callback wrapping another should forward it, as it forwards
    /// `on_epoch_end`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] (by convention) naming what is wrong.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, EarlyStopping, EpochMetrics, NnError};
    /// let stop = EarlyStopping::new(3, 0.0).monitor("val_los", false); // misspelt
    /// let extra = vec![("val_loss".to_string(), 0.5)];
    /// let metrics = EpochMetrics { epoch: 0, loss: 1.0, extra };
    /// let err = Callback::<f64, ()>::check_metrics(&stop, &metrics).unwrap_err();
    /// assert!(matches!(err, NnError::InvalidConfig { name: "monitored metric", .. }));
    /// assert!(err.to_string().contains("the epoch's metrics are: loss, val_loss"));
    /// ```
    fn check_metrics(&self, metrics: &EpochMetrics) -> Result<(), NnError> {
        let _ = metrics;
        Ok(())
    }
}

impl<T: MatScalar, M, F: FnMut(&M, &mut EpochMetrics) -> Control> Callback<T, M> for F {
    fn on_epoch_end(&mut self, model: &M, metrics: &mut EpochMetrics) -> Control {
        self(model, metrics)
    }
}
