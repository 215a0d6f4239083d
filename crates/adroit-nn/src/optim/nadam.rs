//! NAdam.

use super::adam::AdamMoments;
use super::config;
use super::schedule::LearningRate;
use super::{Optimizer, Schedule, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// NAdam, Adam with Nesterov momentum (Dozat 2016; Optax's `nadam`): as [`Adam`](super::Adam)
/// with `m̂ = β₁m/(1 − β₁ᵗ⁺¹) + (1 − β₁)g/(1 − β₁ᵗ)`. Defaults `β₁ = 0.9`, `β₂ = 0.999`,
/// `ε = 1e-8`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{NAdam, Optimizer};
/// let mut opt = NAdam::<f64>::new(0.1);
/// let mut updates = vec![dmatrix![2.0]];
/// opt.update(&mut updates, &[&dmatrix![0.0]]);
/// // First step, m = 0.1·g: m̂ = 0.9·0.1g/(1 − 0.9²) + 0.1g/0.1 = g·(1 + 0.9/1.9) = g·28/19
/// // and √v̂ = |g|, so u ≈ −η·28/19 (Adam's first step is −η).
/// assert!((updates[0][0] + 0.1 * 28.0 / 19.0).abs() < 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct NAdam<T> {
    eta: LearningRate,
    moments: AdamMoments<T>,
}

impl<T: MatScalar> NAdam<T> {
    /// NAdam with learning rate `eta` and the default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::NAdam;
    /// // The defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(NAdam::<f64>::new(1e-3), NAdam::with(1e-3, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.999, 1e-8)
    }

    /// NAdam with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{NAdam, Optimizer};
    /// let mut opt = NAdam::<f64>::with(0.1, 0.0, 0.999, 1e-8); // β₁ = 0: no momentum
    /// let mut updates = vec![dmatrix![2.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // m̂ = 0·m + g = g and √v̂ = |g|: u = −η·g/(|g| + ε) ≈ −η, as Adam's first step.
    /// assert!((updates[0][0] + 0.1).abs() < 1e-8);
    /// ```
    pub fn with(eta: impl Into<Schedule>, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            moments: AdamMoments::new(beta1, beta2, epsilon, true),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for NAdam<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("NAdam", &self.eta)?;
        self.moments.check_config("NAdam")
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.moments.check_params("NAdam", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let scale: T = cast(-self.eta.next());
        self.moments.step(updates, params, scale, |_| None);
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.moments.undo();
    }
}
