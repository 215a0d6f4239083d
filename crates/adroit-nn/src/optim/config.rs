//! Checks of optimiser settings, for [`Optimizer::check_config`](super::Optimizer::check_config):
//! PyTorch's constructors refuse the same values (a negative learning rate, a decay rate
//! outside `[0, 1)`, a negative ε or weight decay); Optax and Flux take them and train
//! backwards or diverge.

use super::schedule::LearningRate;
use crate::NnError;

/// The learning rate of the coming step: a finite number ≥ 0 (a schedule may leave that range
/// at a later step, refused there).
pub(crate) fn learning_rate(rule: &str, eta: &LearningRate) -> Result<(), NnError> {
    let value = eta.peek();
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name: "learning rate",
        reason: format!(
            "{rule}'s is {value} at step {}; it must be a finite number ≥ 0",
            eta.steps_taken()
        ),
    })
}

/// A decay rate (a moment's β, RMSProp's ρ): in `[0, 1)`.
pub(crate) fn decay(rule: &str, name: &'static str, value: f64) -> Result<(), NnError> {
    if (0.0..1.0).contains(&value) {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{rule}'s is {value}; it must be in [0, 1)"),
    })
}

/// A finite number ≥ 0 (ε, weight decay λ, AdaGrad's initial accumulator).
pub(crate) fn non_negative(rule: &str, name: &'static str, value: f64) -> Result<(), NnError> {
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{rule}'s is {value}; it must be a finite number ≥ 0"),
    })
}
