//! AdaDelta.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::each_entry2;
use super::{Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// AdaDelta (Zeiler 2012; Optax's `adadelta`): `E[g²] ← ρE[g²] + (1 − ρ)g²`,
/// `Δ = √(E[Δ²] + ε)/√(E[g²] + ε)·g`, `E[Δ²] ← ρE[Δ²] + (1 − ρ)Δ²`, `u = −η·Δ` (the original
/// method is `η = 1`). Defaults `ρ = 0.9`, `ε = 1e-6`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{AdaDelta, Optimizer};
/// let mut opt = AdaDelta::new(1.0); // the original method
/// let mut updates = vec![dmatrix![1.0]];
/// opt.update(&mut updates, &[&dmatrix![0.0]]);
/// // First step: E[g²] = 0.1, E[Δ²] = 0, so Δ = √ε/√(0.1 + ε) ≈ √(1e-6/0.1) ≈ 0.00316.
/// assert!((updates[0][0] + 1e-5f64.sqrt()).abs() < 1e-7);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct AdaDelta<T> {
    eta: LearningRate,
    rho: f64,
    epsilon: f64,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    grad_sq: Slots<T>,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    delta_sq: Slots<T>,
}

impl<T: MatScalar> AdaDelta<T> {
    /// AdaDelta with learning rate `eta` and the defaults.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::AdaDelta;
    /// // The defaults: ρ = 0.9, ε = 1e-6.
    /// assert_eq!(AdaDelta::<f64>::new(1.0), AdaDelta::with(1.0, 0.9, 1e-6));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 1e-6)
    }

    /// AdaDelta with `rho` and `epsilon`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{AdaDelta, Optimizer};
    /// let mut opt = AdaDelta::<f64>::with(1.0, 0.5, 1.0); // ρ = 0.5, ε = 1
    /// let mut updates = vec![dmatrix![1.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // E[g²] = 0.5·1² = 0.5 and E[Δ²] = 0: Δ = √(0 + 1)/√(0.5 + 1)·1.
    /// assert!((updates[0][0] + 1.0 / 1.5f64.sqrt()).abs() < 1e-15);
    /// ```
    pub fn with(eta: impl Into<Schedule>, rho: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            rho,
            epsilon,
            grad_sq: Slots::default(),
            delta_sq: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for AdaDelta<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("AdaDelta", &self.eta)?;
        config::decay_closed("AdaDelta", "ρ", self.rho)?;
        config::non_negative("AdaDelta", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.grad_sq.check("AdaDelta", shapes)?;
        self.delta_sq.check("AdaDelta", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let (rho, eps): (T, T) = (cast(self.rho), cast(self.epsilon));
        let scale: T = cast(-self.eta.next());
        let grad_sq = self.grad_sq.advance(updates, T::zero());
        let delta_sq = self.delta_sq.advance(updates, T::zero());
        each_entry2(
            updates,
            grad_sq,
            delta_sq,
            #[inline(always)]
            move |g, (eg_old, eg), (ed_old, ed)| {
                *eg = rho * eg_old + (T::one() - rho) * *g * *g;
                let delta = Float::sqrt(ed_old + eps) / Float::sqrt(*eg + eps) * *g;
                *ed = rho * ed_old + (T::one() - rho) * delta * delta;
                *g = unless_overflowed(unless_overflowed(scale * delta, *eg), *ed);
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.grad_sq.undo();
        self.delta_sq.undo();
    }
}
