//! The score a callback watches: the training loss or a named metric, signed so that higher
//! is better (shared by `EarlyStopping` and `KeepBest`).

use super::EpochMetrics;
use crate::NnError;

/// Which metric to watch, and its direction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Monitor {
    /// `None`: the training loss (lower is better).
    metric: Option<(String, bool)>,
}

impl Monitor {
    /// The training loss.
    pub(crate) fn loss() -> Self {
        Self { metric: None }
    }

    /// The extra metric `name`; `higher_is_better` for scores like accuracy.
    pub(crate) fn metric(name: &str, higher_is_better: bool) -> Self {
        Self {
            metric: Some((name.to_string(), higher_is_better)),
        }
    }

    /// The watched metric's name (`None`: the training loss).
    #[cfg(feature = "serde")]
    pub(crate) fn name(&self) -> Option<&str> {
        self.metric.as_ref().map(|(name, _)| name.as_str())
    }

    /// The monitor of `name` (`None`: the training loss, which must have
    /// `higher_is_better == false`), as read from a checkpoint.
    #[cfg(feature = "serde")]
    pub(crate) fn from_parts(name: Option<String>, higher_is_better: bool) -> Result<Self, String> {
        match name {
            None if higher_is_better => {
                Err("the training loss is monitored with higher_is_better = true".into())
            }
            None => Ok(Self::loss()),
            Some(name) => Ok(Self {
                metric: Some((name, higher_is_better)),
            }),
        }
    }

    /// True when higher values of the watched metric are better.
    pub(crate) fn higher_is_better(&self) -> bool {
        self.metric.as_ref().is_some_and(|(_, h)| *h)
    }

    /// Checks that `metrics` hold the watched metric; `who` names the callback in the error.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] (`"monitored metric"`) listing the metrics there are.
    pub(crate) fn check(&self, metrics: &EpochMetrics, who: &str) -> Result<(), NnError> {
        let Some((name, higher_is_better)) = &self.metric else {
            return Ok(());
        };
        if *higher_is_better && name == "loss" && metrics.get(name).is_none() {
            return Err(NnError::InvalidConfig {
                name: "monitored metric",
                reason: format!(
                    "{who} monitors the training loss (\"loss\") with higher_is_better = \
                     true: lower is better for a loss"
                ),
            });
        }
        if self.value(metrics).is_some() {
            return Ok(());
        }
        let names: Vec<&str> = metrics.extra.iter().map(|(n, _)| n.as_str()).collect();
        Err(NnError::InvalidConfig {
            name: "monitored metric",
            reason: format!(
                "{who} monitors the metric {name:?}, but the epoch's metrics are: loss{}{} (a \
                 misspelt name, or the callback adding it placed after {who})",
                if names.is_empty() { "" } else { ", " },
                names.join(", ")
            ),
        })
    }

    /// The epoch's score, signed so that higher is better (NaN or infinite as measured).
    ///
    /// # Panics
    /// If the metric is missing from `metrics` (see [`check`](Self::check), whose message it
    /// gives).
    #[track_caller]
    pub(crate) fn score(&self, metrics: &EpochMetrics, who: &str) -> f64 {
        let Some(value) = self.value(metrics) else {
            panic!("{}", self.check(metrics, who).unwrap_err())
        };
        self.signed(value)
    }

    /// The watched metric's value in `metrics`: an extra metric of its name, else for the name
    /// `"loss"` the training loss (Keras's `monitor="loss"`); `None` if there is neither.
    fn value(&self, metrics: &EpochMetrics) -> Option<f64> {
        match &self.metric {
            None => Some(metrics.loss),
            Some((name, _)) => metrics
                .get(name)
                .or_else(|| (name == "loss").then_some(metrics.loss)),
        }
    }

    /// `value` signed so that higher is better (its own inverse).
    pub(crate) fn signed(&self, value: f64) -> f64 {
        if self.higher_is_better() {
            value
        } else {
            -value
        }
    }
}
