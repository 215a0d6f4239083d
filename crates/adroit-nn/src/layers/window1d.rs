//! [`Window1d`]: the sliding window of the layers over sequences ([`Conv1d`](super::Conv1d),
//! [`Pool1d`](super::Pool1d)), in steps.

use super::window::{checked_span, gather_fits};
use crate::NnError;

/// How a window pads a sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Padding1d {
    /// Steps before the first and after the last.
    Sides(usize, usize),
    /// `dilation·(kernel − 1)` steps, half before (rounded down) and the rest after:
    /// PyTorch's `padding="same"`.
    Same,
    /// `dilation·(kernel − 1)` steps before, none after: Keras's `padding="causal"`.
    Causal,
}

/// A window of `kernel` taps `dilation` steps apart, moved `stride` steps at a time over a
/// sequence padded as `padding` says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Window1d {
    pub(crate) kernel: usize,
    pub(crate) stride: usize,
    pub(crate) dilation: usize,
    pub(crate) padding: Padding1d,
}

impl Window1d {
    /// `kernel` taps, stride `stride`, no dilation, no padding.
    pub(crate) fn new(kernel: usize, stride: usize) -> Self {
        Self {
            kernel,
            stride,
            dilation: 1,
            padding: Padding1d::Sides(0, 0),
        }
    }

    /// `dilation·(kernel − 1) + 1` (saturating; [`check`](Self::check) refuses a window
    /// where it saturates): the steps one window covers.
    pub(crate) fn span(&self) -> usize {
        checked_span(self.kernel, self.dilation).unwrap_or(usize::MAX)
    }

    /// The padding steps `(before, after)`.
    pub(crate) fn padding_steps(&self) -> (usize, usize) {
        let total = self.span() - 1;
        match self.padding {
            Padding1d::Sides(before, after) => (before, after),
            Padding1d::Same => (total / 2, total - total / 2),
            Padding1d::Causal => (total, 0),
        }
    }

    /// `⌊(steps + before + after − span)/stride⌋ + 1`; `None` for no steps (PyTorch refuses
    /// them too, padded or not), if the padded sequence is shorter than the span, the stride
    /// is 0 or the sizes (the span among them) overflow.
    pub(crate) fn output_steps(&self, steps: usize) -> Option<usize> {
        let span = checked_span(self.kernel, self.dilation)?;
        if steps == 0 {
            return None;
        }
        let (before, after) = self.padding_steps();
        let padded = steps.checked_add(before)?.checked_add(after)?;
        let reach = padded.checked_sub(span)?;
        Some(reach.checked_div(self.stride)? + 1)
    }

    /// The input row read by each window's taps over a sequence of `steps` steps of
    /// `channels` features: window by window, then channel by channel, then tap by tap
    /// (`None`: a step of the padding).
    pub(crate) fn taps(
        &self,
        steps: usize,
        positions: usize,
        channels: usize,
    ) -> Vec<Option<usize>> {
        let before = self.padding_steps().0;
        let mut rows = Vec::with_capacity(positions * channels * self.kernel);
        for p in 0..positions {
            for c in 0..channels {
                rows.extend((0..self.kernel).map(|j| {
                    (p * self.stride + j * self.dilation)
                        .checked_sub(before)
                        .filter(|&t| t < steps)
                        .map(|t| t * channels + c)
                }));
            }
        }
        rows
    }

    /// Checks the window for the layer `name`: kernel, stride and dilation at least 1, a span
    /// `dilation·(kernel − 1) + 1` that a `usize` holds, `same` padding with stride 1 only (as
    /// PyTorch).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if not.
    pub(crate) fn check(&self, name: &'static str) -> Result<(), NnError> {
        let reason = if self.kernel == 0 || self.stride == 0 || self.dilation == 0 {
            format!(
                "a kernel of {} steps, stride {} and dilation {} (each at least 1)",
                self.kernel, self.stride, self.dilation
            )
        } else if checked_span(self.kernel, self.dilation).is_none() {
            format!(
                "a kernel of {} taps at dilation {} spans more steps than a usize counts",
                self.kernel, self.dilation
            )
        } else if self.padding == Padding1d::Same && self.stride != 1 {
            format!(
                "\"same\" padding with stride {} (stride 1 only, as PyTorch)",
                self.stride
            )
        } else {
            return Ok(());
        };
        Err(NnError::InvalidConfig { name, reason })
    }

    /// The output steps over a sequence of `steps` steps of `channels` features whose
    /// windows' taps, `positions·channels·kernel`, [fit a gather](gather_fits).
    ///
    /// # Errors
    /// The reason, for the layer's message, if the sequence is too short for one window
    /// ([`too_short`](Self::too_short)) or the taps do not fit.
    pub(crate) fn positions(&self, steps: usize, channels: usize) -> Result<usize, String> {
        let positions = self
            .output_steps(steps)
            .ok_or_else(|| self.too_short(steps))?;
        let taps = [channels, self.kernel]
            .into_iter()
            .try_fold(positions, usize::checked_mul);
        if !taps.is_some_and(gather_fits) {
            return Err(format!(
                "{steps} steps padded by {:?} give {positions} windows of {channels} channels \
                 by {} taps, more than an allocation holds",
                self.padding_steps(),
                self.kernel
            ));
        }
        Ok(positions)
    }

    /// The message for a sequence of `steps` steps too short for one window (or of none).
    pub(crate) fn too_short(&self, steps: usize) -> String {
        if steps == 0 {
            return "a sequence of no steps (refused, padded or not, as by PyTorch)".to_string();
        }
        format!(
            "{steps} steps padded by {:?} are shorter than the kernel's span of {} steps",
            self.padding_steps(),
            self.span()
        )
    }
}
