//! Checks of optimiser settings, for [`Optimizer::check_config`](super::Optimizer::check_config),
//! with the ranges PyTorch's constructors enforce (a learning rate, ε and weight decay ≥ 0;
//! Adam-family β in `[0, 1)`; AdaDelta's ρ in `[0, 1]`; momentum ≥ 0) and lion-pytorch's for
//! Lion (β in `[0, 1]`), finite throughout; RMSProp's ρ in `[0, 1]`, where PyTorch takes any
//! `ρ ≥ 0` (above 1 the average `ρv + (1 − ρ)g²` weighs `g²` negatively: a negative `v`, NaN
//! steps, and state that is refused when read back). Optax and Flux take any value and train
//! backwards or diverge.

use super::schedule::LearningRate;
use super::slots::Slots;
use crate::NnError;
use adroit_reverse::matrix::MatScalar;

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

/// A moment's decay rate (Adam's β): in `[0, 1)`.
pub(crate) fn decay(rule: &str, name: &'static str, value: f64) -> Result<(), NnError> {
    if (0.0..1.0).contains(&value) {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{rule}'s is {value}; it must be in [0, 1)"),
    })
}

/// A decay rate that may be 1 (AdaDelta's and RMSProp's ρ, Lion's β): in `[0, 1]`.
pub(crate) fn decay_closed(rule: &str, name: &'static str, value: f64) -> Result<(), NnError> {
    if (0.0..=1.0).contains(&value) {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{rule}'s is {value}; it must be in [0, 1]"),
    })
}

/// A finite number ≥ 0 (ε, weight decay λ, AdaGrad's initial accumulator, momentum).
pub(crate) fn non_negative(rule: &str, name: &'static str, value: f64) -> Result<(), NnError> {
    if value.is_finite() && value >= 0.0 {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name,
        reason: format!("{rule}'s is {value}; it must be a finite number ≥ 0"),
    })
}

/// A step count read back from a checkpoint, with the state sets it counts steps for
/// (`states`; `shapes`: the parameters'): never negative (the rules count from 0; a negative
/// count gave a NaN bias correction, reported as a non-finite update), 0 exactly when no set
/// is created yet (for a model with parameters).
pub(crate) fn step_count<T: MatScalar>(
    rule: &str,
    t: i32,
    states: &[&Slots<T>],
    shapes: &[(usize, usize)],
) -> Result<(), NnError> {
    let invalid = |reason: String| {
        Err(NnError::InvalidConfig {
            name: "optimiser state",
            reason: format!("{reason} (a corrupt checkpoint?)"),
        })
    };
    if t < 0 {
        return invalid(format!("{rule}'s step count is {t}; it must be ≥ 0"));
    }
    // The state arrays are created by the first step (and removed by its undo): a count of 0
    // with state, or a count of steps on parameters without it, would restart the moments
    // under a bias correction for another step, silently.
    let created = states.iter().filter(|s| !s.is_empty()).count();
    if (t == 0 && created > 0) || (t > 0 && !shapes.is_empty() && created < states.len()) {
        return invalid(format!(
            "{rule}'s step count is {t} but {created} of its {} state sets are created",
            states.len()
        ));
    }
    Ok(())
}

/// A clipping threshold: a number ≥ 0 (`+∞` clips nothing). Not NaN, which compares with
/// nothing and would clip nothing silently, nor negative, which would flip every clipped
/// entry's sign: values a checkpoint file can hold although the constructors refuse them.
pub(crate) fn threshold(rule: &str, value: f64) -> Result<(), NnError> {
    if value >= 0.0 {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name: "clipping threshold",
        reason: format!("{rule}'s is {value}; it must be a number ≥ 0"),
    })
}
