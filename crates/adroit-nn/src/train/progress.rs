//! The optional progress bar and the per-epoch log lines of [`train`](super::train).

/// The optional progress bar.
pub(super) struct ProgressBar {
    #[cfg(feature = "progress")]
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressBar {
    #[allow(unused_variables)]
    pub(super) fn new(show: bool, total: usize) -> Self {
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
    pub(super) fn advance(&self, epoch: usize, loss: f64) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "epoch {epoch}  loss {}",
                super::metrics::Metric(loss)
            ));
            bar.inc(1);
        }
    }

    /// Prints a log line: above the bar when both share a terminal, otherwise to standard
    /// output (so redirected output gets every line). Best effort: a closed or full standard
    /// output loses the line rather than aborting training.
    pub(super) fn println(&self, line: &str) {
        use std::io::Write;
        #[cfg(feature = "progress")]
        if let Some(bar) = self.bar.as_ref().filter(|b| !b.is_hidden())
            && std::io::IsTerminal::is_terminal(&std::io::stdout())
        {
            bar.println(line);
            return;
        }
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }

    pub(super) fn finish(&self) {
        #[cfg(feature = "progress")]
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
