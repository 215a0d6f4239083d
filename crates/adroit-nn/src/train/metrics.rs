//! What [`train`](super::train) reports: [`EpochMetrics`] per epoch, the [`History`] of a
//! run, and the [`TrainError`] that stops one.

use crate::NnError;

/// The metrics of one epoch.
///
/// # Example
/// ```
/// use adroit_nn::EpochMetrics;
/// let m = EpochMetrics { epoch: 3, loss: 0.25, extra: vec![("accuracy".to_string(), 0.9)] };
/// assert_eq!(m.get("accuracy"), Some(0.9));
/// // Displayed with the loss and each extra metric to 4 decimals...
/// assert!(m.to_string().ends_with("loss 0.2500  accuracy 0.9000"));
/// // ...or in scientific notation when that would hide the value (from 1e5, below 1e-3).
/// let m = EpochMetrics { epoch: 3, loss: 2.29e19, extra: vec![("grad_norm".to_string(), 3.2e-7)] };
/// assert!(m.to_string().ends_with("loss 2.2900e19  grad_norm 3.2000e-7"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct EpochMetrics {
    /// The epoch, from 0 for the loader's first: numbered by the epochs the loader had drawn
    /// ([`DataLoader::epochs_drawn`](crate::data::DataLoader::epochs_drawn)), so they count on
    /// over calls of [`train`](crate::train()) on one loader and after
    /// [`DataLoader::skip_epochs`](crate::data::DataLoader::skip_epochs).
    pub epoch: usize,
    /// The epoch's training loss: the batches' losses averaged weighted by their sample counts
    /// (Keras's convention), so a last partial batch counts for its samples only. With a
    /// mean-aggregated loss ([`Agg::Mean`](crate::losses::Agg::Mean)) this is the mean loss
    /// per sample drawn, as the parameters moved through the epoch (each batch's loss is taken
    /// before its step); with [`Agg::Sum`](crate::losses::Agg::Sum), a batch's sum on average.
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
        write!(f, "epoch {:>4}  loss {}", self.epoch, Metric(self.loss))?;
        for (name, value) in &self.extra {
            write!(f, "  {name} {}", Metric(*value))?;
        }
        Ok(())
    }
}

/// A metric value for a log line: 4 decimals, or 4 significant decimals in scientific
/// notation where fixed decimals would be unreadable (≥ 1e5) or hide the value (< 1e-3).
pub(super) struct Metric(pub(super) f64);

impl std::fmt::Display for Metric {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = self.0;
        let magnitude = v.abs();
        if v.is_finite() && v != 0.0 && !(1e-3..1e5).contains(&magnitude) {
            write!(f, "{v:.4e}")
        } else {
            write!(f, "{v:.4}")
        }
    }
}

/// The result of [`train`](super::train).
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
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
    /// True when a callback asked training to stop (also when it did so at the last epoch,
    /// which then cut nothing short).
    pub stopped_early: bool,
}

/// Why [`train`](super::train) stopped early with an error, together with what it had done:
/// the [`History`] of the epochs it completed before the failing step (the model keeps the
/// parameters after the last good step). `?` converts it into its [`NnError`] where the
/// history is not wanted.
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::optim::Descent;
/// use adroit_nn::{Activation, Dense, NnError, TrainConfig, train};
/// // y = 2x with far too large a step: |w − 2| grows ×699 per epoch until the loss overflows.
/// let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
/// let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
/// let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
/// let config = TrainConfig { epochs: 1000, ..TrainConfig::default() };
/// let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
/// let err = train(&mut model, &mut loader, loss, &mut Descent::new(100.0), &config, &mut [])
///     .unwrap_err();
/// let completed = err.history.epochs.len();
/// assert!(matches!(err.error, NnError::NonFinite { epoch, .. } if epoch == completed));
/// assert!(err.history.epochs.iter().all(|e| e.loss.is_finite()));
/// assert!(model.weight[(0, 0)].is_finite()); // the last good parameters
/// // In a function returning `Result<_, NnError>`, `?` keeps the error alone:
/// let as_nn_error: NnError = err.into();
/// assert!(as_nn_error.to_string().starts_with("non-finite"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TrainError {
    /// What went wrong.
    pub error: NnError,
    /// The epochs completed before it (empty when the data or model were refused up front).
    pub history: History,
}

impl std::fmt::Display for TrainError {
    /// The error, then how many epochs had been completed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.history.epochs.len();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "{} (after {n} completed epoch{s})", self.error)
    }
}

impl std::error::Error for TrainError {}

impl From<TrainError> for NnError {
    /// The error alone, dropping the history.
    fn from(e: TrainError) -> Self {
        e.error
    }
}
