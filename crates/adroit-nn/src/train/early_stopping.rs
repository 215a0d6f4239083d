//! [`EarlyStopping`]: stop training when a monitored metric stops improving.

use super::monitor::Monitor;
use super::{Callback, Control, EpochMetrics};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;

/// Stops when a monitored metric has not improved by more than `min_delta` for `patience`
/// epochs (Keras/Flux `early_stopping`). Monitors the training loss (lower is better) unless
/// told otherwise.
///
/// A NaN or infinite score is never an improvement: it counts as an epoch without one, the
/// first epoch too (with patience 1, a NaN first score stops the run). Keras differs there
/// twice: an infinity in the better direction (−∞ for a loss) improves on any score, and it
/// never stops at epoch 0.
///
/// A run of [`train`](super::train) whose first epoch is not after the last epoch the
/// callback saw (epochs are numbered by the loader: a new loader starts at 0) starts it afresh,
/// as Keras's `on_train_begin` does, so one callback can serve several runs. A run that does
/// continue the numbering continues the count: a loop calling `train` once per epoch on one
/// loader stops where one call over all the epochs would, and so does a run resumed from a
/// checkpoint (the loader advanced by
/// [`DataLoader::skip_epochs`](crate::data::DataLoader::skip_epochs)) or after a step refused
/// for a NaN (the loader has drawn that epoch, which the callback never saw end). The rule
/// reads the epoch numbers alone: another loader whose next epoch is past the last one seen
/// (one advanced by `skip_epochs`) continues the count too — call
/// [`reset`](Self::reset) before such a run.
///
/// To resume an interrupted run, save the callback with the checkpoint (cargo feature `serde`,
/// on by default: settings, best score, epochs without improvement and the last epoch seen, as
/// PyTorch Lightning's `EarlyStopping` state). A checkpoint written after it stopped the run
/// reads back [`stopped`](Self::stopped): the run is over, do not call `train` again (a further
/// call would train at least one more epoch).
///
/// ```
/// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
/// let mut stop = EarlyStopping::new(2, 0.0);
/// let mut epoch_end = |stop: &mut EarlyStopping, epoch, loss| {
///     let mut metrics = EpochMetrics { epoch, loss, extra: vec![] };
///     Callback::<f64, ()>::on_epoch_end(stop, &(), &mut metrics)
/// };
/// epoch_end(&mut stop, 0, 0.5);
/// epoch_end(&mut stop, 1, 0.7); // one epoch without improvement: a checkpoint now
/// let saved = serde_json::to_string(&stop).unwrap();
/// assert_eq!(
///     saved,
///     r#"{"patience":2,"min_delta":0.0,"monitor":null,"higher_is_better":false,"best":0.5,"epochs_without_improvement":1,"last_epoch":1}"#
/// );
/// // The resumed run continues at epoch 2: the next epoch without improvement stops it.
/// let mut resumed: EarlyStopping = serde_json::from_str(&saved).unwrap();
/// Callback::<f64, ()>::on_train_begin(&mut resumed, &());
/// assert_eq!(epoch_end(&mut resumed, 2, 0.6), Control::Stop);
/// assert!(resumed.stopped());
/// // A new run (a new loader: epoch 0) starts afresh.
/// Callback::<f64, ()>::on_train_begin(&mut resumed, &());
/// assert_eq!(epoch_end(&mut resumed, 0, 0.6), Control::Continue);
/// ```
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
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(
    feature = "serde",
    serde(into = "EarlyStoppingState", try_from = "EarlyStoppingState")
)]
pub struct EarlyStopping {
    patience: usize,
    min_delta: f64,
    monitor: Monitor,
    /// The best score so far, signed so that higher is better (see [`Monitor::score`]).
    best: Option<f64>,
    waited: usize,
    /// The number of the last epoch seen.
    last_epoch: Option<usize>,
    /// A run of `train` has begun and its first epoch is still to come: that epoch decides
    /// whether the run continues the last one.
    run_begun: bool,
}

/// [`EarlyStopping`] as saved: the monitored metric by name and the best score as measured
/// (not negated), so that the file reads as the settings do.
#[cfg(feature = "serde")]
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct EarlyStoppingState {
    patience: usize,
    min_delta: f64,
    /// The metric watched; `None` for the training loss.
    monitor: Option<String>,
    higher_is_better: bool,
    /// The best value of the metric so far (`None` before the first finite one).
    best: Option<f64>,
    /// Epochs since the last improvement.
    epochs_without_improvement: usize,
    /// The number of the last epoch seen (a run continuing it keeps the count).
    last_epoch: Option<usize>,
}

#[cfg(feature = "serde")]
impl From<EarlyStopping> for EarlyStoppingState {
    fn from(e: EarlyStopping) -> Self {
        Self {
            patience: e.patience,
            min_delta: e.min_delta,
            monitor: e.monitor.name().map(str::to_string),
            higher_is_better: e.monitor.higher_is_better(),
            best: e.best.map(|b| e.monitor.signed(b)),
            epochs_without_improvement: e.waited,
            last_epoch: e.last_epoch,
        }
    }
}

#[cfg(feature = "serde")]
impl TryFrom<EarlyStoppingState> for EarlyStopping {
    type Error = String;

    /// Refuses what [`EarlyStopping::new`] and a run cannot make: a negative or non-finite
    /// `min_delta`, a non-finite best score, the training loss with `higher_is_better`.
    fn try_from(s: EarlyStoppingState) -> Result<Self, String> {
        if !(s.min_delta.is_finite() && s.min_delta >= 0.0) {
            return Err(format!(
                "EarlyStopping: min_delta is {}, it must be a finite number ≥ 0",
                s.min_delta
            ));
        }
        if let Some(best) = s.best.filter(|b| !b.is_finite()) {
            return Err(format!(
                "EarlyStopping: the best score is {best}, it must be finite"
            ));
        }
        let monitor = Monitor::from_parts(s.monitor, s.higher_is_better)
            .map_err(|e| format!("EarlyStopping: {e}"))?;
        Ok(Self {
            patience: s.patience,
            min_delta: s.min_delta,
            best: s.best.map(|b| monitor.signed(b)),
            monitor,
            waited: s.epochs_without_improvement,
            last_epoch: s.last_epoch,
            run_begun: false,
        })
    }
}

impl EarlyStopping {
    /// Early stopping on the training loss. The sign of `min_delta` is ignored (Keras takes
    /// `|min_delta|`: a negative one would count every slightly worse epoch as an improvement).
    ///
    /// # Panics
    /// If `min_delta` is NaN or infinite (no epoch could be compared with a NaN; an infinite
    /// one would count no epoch as an improvement, and a checkpoint could not hold it).
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
    #[track_caller]
    pub fn new(patience: usize, min_delta: f64) -> Self {
        assert!(
            min_delta.is_finite(),
            "EarlyStopping: min_delta is {min_delta}; it must be finite"
        );
        Self {
            patience,
            min_delta: min_delta.abs(),
            monitor: Monitor::loss(),
            best: None,
            waited: 0,
            last_epoch: None,
            run_begun: false,
        }
    }

    /// Monitors the extra metric `name` instead (added by an earlier callback, e.g. `val_loss`
    /// from [`Validation`](super::Validation)); `higher_is_better` for scores like accuracy.
    /// The name `"loss"` is the training loss, the default (as Keras's `monitor="loss"`),
    /// unless a callback adds an extra metric of that name; with `higher_is_better` it is
    /// refused as the misspelt names below are.
    ///
    /// An epoch whose metrics have no `name` when they reach this callback (a misspelt name,
    /// or the callback adding it placed after this one) is a configuration mistake that would
    /// otherwise never stop training (Keras only warns): [`train`](super::train) stops at the
    /// end of the first epoch with [`NnError::InvalidConfig`] listing the metrics there are
    /// (see [`Callback::check_metrics`]).
    ///
    /// # Panics
    /// In [`on_epoch_end`](Callback::on_epoch_end) called by hand on such metrics, with the
    /// same message.
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
        self.monitor = Monitor::metric(name, higher_is_better);
        self
    }

    /// True when the last epoch it saw made it stop the run (`patience` epochs without
    /// improvement), until it sees an epoch of a new run. For a checkpoint written after the
    /// stop: the run it was read back for is over.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
    /// let mut stop = EarlyStopping::new(1, 0.0);
    /// for loss in [1.0, 2.0] {
    ///     let mut metrics = EpochMetrics { epoch: 0, loss, extra: vec![] };
    ///     Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics);
    /// }
    /// assert!(stop.stopped());
    /// Callback::<f64, ()>::on_train_begin(&mut stop, &()); // a new run, from epoch 0
    /// let mut metrics = EpochMetrics { epoch: 0, loss: 3.0, extra: vec![] };
    /// Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics);
    /// assert!(!stop.stopped());
    /// ```
    pub fn stopped(&self) -> bool {
        self.waited > 0 && self.waited >= self.patience
    }

    /// Forgets the run — best score, epochs without improvement, last epoch seen — keeping
    /// the settings: the next epoch starts the count afresh whatever its number.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Callback, Control, EarlyStopping, EpochMetrics};
    /// let mut stop = EarlyStopping::new(1, 0.0);
    /// let mut epoch_end = |stop: &mut EarlyStopping, epoch, loss| {
    ///     let mut metrics = EpochMetrics { epoch, loss, extra: vec![] };
    ///     Callback::<f64, ()>::on_epoch_end(stop, &(), &mut metrics)
    /// };
    /// epoch_end(&mut stop, 0, 1.0);
    /// stop.reset();
    /// // Epoch 7 of another loader: 2.0 is not compared with the forgotten 1.0.
    /// Callback::<f64, ()>::on_train_begin(&mut stop, &());
    /// assert_eq!(epoch_end(&mut stop, 7, 2.0), Control::Continue);
    /// assert!(!stop.stopped());
    /// ```
    pub fn reset(&mut self) {
        self.best = None;
        self.waited = 0;
        self.last_epoch = None;
    }
}

impl<T: MatScalar, M> Callback<T, M> for EarlyStopping {
    /// Notes that a run begins: its first epoch starts the count afresh unless it comes after
    /// the last epoch seen.
    fn on_train_begin(&mut self, _: &M) {
        self.run_begun = true;
    }

    /// Refuses an epoch without the monitored metric ([`NnError::InvalidConfig`]).
    fn check_metrics(&self, metrics: &EpochMetrics) -> Result<(), NnError> {
        self.monitor.check(metrics, "EarlyStopping")
    }

    fn on_epoch_end(&mut self, _: &M, metrics: &mut EpochMetrics) -> Control {
        // A later epoch than the last one seen continues the run, also past epochs never seen
        // (one refused for a NaN, whose loader moved on); an earlier or the same one is a new
        // run (a new loader).
        let continues = self.last_epoch.is_some_and(|e| metrics.epoch > e);
        if std::mem::take(&mut self.run_begun) && !continues {
            self.best = None;
            self.waited = 0;
        }
        self.last_epoch = Some(metrics.epoch);
        let score = self.monitor.score(metrics, "EarlyStopping");
        // A NaN or infinite metric is no improvement (see the type's docs).
        let improved =
            score.is_finite() && self.best.is_none_or(|best| score > best + self.min_delta);
        if improved {
            self.best = Some(score);
            self.waited = 0;
            return Control::Continue;
        }
        self.waited = self.waited.saturating_add(1);
        if self.stopped() {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}
