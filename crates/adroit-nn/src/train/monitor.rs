//! The score a callback watches: the training loss or a named metric, signed so that higher
//! is better (shared by `EarlyStopping` and `KeepBest`).

use super::EpochMetrics;

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

    /// True when higher values of the watched metric are better.
    pub(crate) fn higher_is_better(&self) -> bool {
        self.metric.as_ref().is_some_and(|(_, h)| *h)
    }

    /// The epoch's score, signed so that higher is better (NaN or infinite as measured).
    ///
    /// # Panics
    /// If the metric is missing from `metrics`, naming `who` and listing the metrics there are.
    #[track_caller]
    pub(crate) fn score(&self, metrics: &EpochMetrics, who: &str) -> f64 {
        let value = match &self.metric {
            None => Some(metrics.loss),
            Some((name, _)) => metrics.get(name),
        };
        let Some(value) = value else {
            let names: Vec<&str> = metrics.extra.iter().map(|(n, _)| n.as_str()).collect();
            panic!(
                "{who} monitors the metric {:?}, but the epoch's metrics are: loss{}{} \
                 (a callback adding it must come before {who})",
                self.metric.as_ref().map_or("", |(n, _)| n.as_str()),
                if names.is_empty() { "" } else { ", " },
                names.join(", ")
            );
        };
        if self.higher_is_better() {
            value
        } else {
            -value
        }
    }
}
