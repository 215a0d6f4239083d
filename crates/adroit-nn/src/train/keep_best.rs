//! [`KeepBest`]: a copy of the model at its best epoch, to restore after training (Keras's
//! `restore_best_weights`, an in-memory `ModelCheckpoint(save_best_only=True)`).

use super::monitor::Monitor;
use super::{Callback, Control, EpochMetrics};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;

/// Keeps a copy of the model from the epoch with the best monitored score: the training loss
/// (lower is better) unless [`KeepBest::monitor`] names another metric. Never stops training;
/// put it after the callbacks that add the metric it monitors and, to keep the best model of
/// a run that [`EarlyStopping`](super::EarlyStopping) ends, anywhere in the list.
///
/// A NaN or infinite score is never the best. It never starts afresh (`EarlyStopping` does
/// when a call of [`train`](crate::train) begins on a new loader): the best model across
/// calls is kept.
/// An epoch's training loss is measured during the epoch (before its steps are all taken), so
/// with it the kept model is the one at the end of the epoch with the best loss (Keras's
/// convention), and its own loss can be worse — the example below shows such a case. Monitor
/// a validation metric added by an earlier callback (e.g. `val_loss` from
/// [`Validation`](super::Validation)), which scores the kept model itself.
///
/// An interrupted run resumes with its best model by [`KeepBest::restore`].
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Dense, KeepBest, TrainConfig, train};
/// // Learn y = 2x with a step size that overshoots more and more (η = 0.3: w − 2 is
/// // multiplied by 1 − 7·0.3 = −1.1 each epoch): the loss grows, epoch 0 scores best, and
/// // the model kept is the one at the end of epoch 0.
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let mut model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
/// let mut best = KeepBest::new();
/// let config = TrainConfig { epochs: 5, ..TrainConfig::default() };
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let history =
///     train(&mut model, &mut loader, loss, &mut Descent::new(0.3), &config, &mut [&mut best])
///         .unwrap();
/// assert_eq!(best.best_epoch(), Some(0));
/// assert_eq!(best.best_score(), Some(history.epochs[0].loss));
/// let model = best.into_model().unwrap_or(model); // restore
/// assert!((model.weight[(0, 0)] - 3.1).abs() < 1e-12); // 2 + (−1.1)·(1 − 2)
/// ```
#[derive(Clone, Debug)]
pub struct KeepBest<M> {
    monitor: Monitor,
    /// The best value of the metric (as measured, not signed), its epoch and the model then.
    best: Option<(f64, usize, M)>,
}

impl<M> KeepBest<M> {
    /// Keeps the model of the lowest training loss.
    ///
    /// # Example
    /// ```
    /// let best = adroit_nn::KeepBest::<()>::new();
    /// assert_eq!(best.best_epoch(), None); // nothing seen yet
    /// ```
    pub fn new() -> Self {
        Self {
            monitor: Monitor::loss(),
            best: None,
        }
    }

    /// Monitors the extra metric `name` (added by an earlier callback, e.g. `val_loss` from
    /// [`Validation`](super::Validation)) instead; `higher_is_better` for scores like
    /// accuracy. The name `"loss"` is the training loss, the default (as Keras's
    /// `monitor="loss"`), unless a callback adds an extra metric of that name; with
    /// `higher_is_better` it is refused as a missing name is.
    ///
    /// An epoch whose metrics have no `name` when they reach this callback makes
    /// [`train`](super::train) stop with [`NnError::InvalidConfig`] listing the metrics there
    /// are (as [`EarlyStopping::monitor`](super::EarlyStopping::monitor)).
    ///
    /// # Panics
    /// In [`on_epoch_end`](Callback::on_epoch_end) called by hand on such metrics, with the
    /// same message.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, EpochMetrics, KeepBest};
    /// let mut best = KeepBest::new().monitor("accuracy", true);
    /// for (epoch, accuracy, model) in [(0, 0.5, 'a'), (1, 0.9, 'b'), (2, 0.7, 'c')] {
    ///     let extra = vec![("accuracy".to_string(), accuracy)];
    ///     let mut metrics = EpochMetrics { epoch, loss: 0.0, extra };
    ///     Callback::<f64, char>::on_epoch_end(&mut best, &model, &mut metrics);
    /// }
    /// assert_eq!((best.best_epoch(), best.model()), (Some(1), Some(&'b')));
    /// ```
    pub fn monitor(mut self, name: &str, higher_is_better: bool) -> Self {
        self.monitor = Monitor::metric(name, higher_is_better);
        self
    }

    /// The best score seen (the metric's value, not negated), if any epoch had a finite one.
    ///
    /// # Example
    /// ```
    /// assert_eq!(adroit_nn::KeepBest::<()>::new().best_score(), None);
    /// ```
    pub fn best_score(&self) -> Option<f64> {
        self.best.as_ref().map(|(score, _, _)| *score)
    }

    /// The epoch of the best score, as [`train`](super::train) numbered it
    /// ([`EpochMetrics::epoch`]: counted on over calls on one loader and after
    /// [`DataLoader::skip_epochs`](crate::data::DataLoader::skip_epochs)).
    ///
    /// # Example
    /// ```
    /// assert_eq!(adroit_nn::KeepBest::<()>::new().best_epoch(), None);
    /// ```
    pub fn best_epoch(&self) -> Option<usize> {
        self.best.as_ref().map(|(_, epoch, _)| *epoch)
    }

    /// The kept model.
    ///
    /// # Example
    /// ```
    /// assert!(adroit_nn::KeepBest::<()>::new().model().is_none());
    /// ```
    pub fn model(&self) -> Option<&M> {
        self.best.as_ref().map(|(_, _, m)| m)
    }

    /// The callback with `model` kept as the best so far, scored `score` (the monitored
    /// metric's value, as [`best_score`](Self::best_score) gives it) at epoch `epoch`: to
    /// resume an interrupted run without losing the best model seen before the interruption.
    /// Save [`model`](Self::model) with the checkpoint (e.g. [`io::save_safetensors`]), and
    /// `best_score` and `best_epoch` beside it; read them back into a new `KeepBest` with the
    /// same monitor. Later epochs replace the model only if they score better. Nothing here
    /// can check that `model` has the trained model's architecture or that `epoch` is in the
    /// past: pass what the checkpoint recorded.
    ///
    /// [`io::save_safetensors`]: crate::io::save_safetensors
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `score` is NaN or infinite (a best score is finite).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, EpochMetrics, KeepBest};
    /// // Resumed with model 'a', scored a loss of 0.5 at epoch 3 before the interruption.
    /// let mut best = KeepBest::new().restore(0.5, 3, 'a').unwrap();
    /// let mut metrics = EpochMetrics { epoch: 4, loss: 0.7, extra: vec![] };
    /// Callback::<f64, char>::on_epoch_end(&mut best, &'b', &mut metrics); // worse: not kept
    /// assert_eq!((best.best_epoch(), best.model()), (Some(3), Some(&'a')));
    /// assert!(KeepBest::new().restore(f64::NAN, 3, 'a').is_err());
    /// ```
    pub fn restore(mut self, score: f64, epoch: usize, model: M) -> Result<Self, NnError> {
        if !score.is_finite() {
            return Err(NnError::InvalidConfig {
                name: "best score",
                reason: format!("KeepBest's is {score}; it must be finite"),
            });
        }
        self.best = Some((score, epoch, model));
        Ok(self)
    }

    /// The kept model, by value (to restore it: `model = best.into_model().unwrap_or(model)`).
    ///
    /// # Example
    /// ```
    /// assert!(adroit_nn::KeepBest::<()>::new().into_model().is_none());
    /// ```
    pub fn into_model(self) -> Option<M> {
        self.best.map(|(_, _, m)| m)
    }
}

impl<M> Default for KeepBest<M> {
    /// [`KeepBest::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl<T: MatScalar, M: Clone> Callback<T, M> for KeepBest<M> {
    /// Refuses an epoch without the monitored metric ([`NnError::InvalidConfig`]).
    fn check_metrics(&self, metrics: &EpochMetrics) -> Result<(), NnError> {
        self.monitor.check(metrics, "KeepBest")
    }

    fn on_epoch_end(&mut self, model: &M, metrics: &mut EpochMetrics) -> Control {
        let score = self.monitor.score(metrics, "KeepBest");
        let improved = match &self.best {
            _ if !score.is_finite() => false,
            None => true,
            Some((best, _, _)) => score > self.monitor.signed(*best),
        };
        if improved {
            let value = self.monitor.signed(score);
            self.best = Some((value, metrics.epoch, model.clone()));
        }
        Control::Continue
    }
}
