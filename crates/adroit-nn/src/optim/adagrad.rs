//! AdaGrad.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::each_entry;
use super::{Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// AdaGrad (Duchi et al. 2011; Optax's `adagrad`): `s ← s + g²` from `s₀ = 0.1`,
/// `u = −η·g/√(s + ε)` (0 where `s = 0`). Defaults `s₀ = 0.1`, `ε = 1e-7`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{AdaGrad, Optimizer};
/// let mut opt = AdaGrad::<f64>::new(0.1);
/// let mut next = |g: f64| {
///     let mut u = vec![dmatrix![g]];
///     opt.update(&mut u, &[&dmatrix![0.0]]);
///     u[0][0]
/// };
/// // The same g = 3 twice: s = 0.1 + 9 = 9.1, then 18.1; the steps shrink.
/// assert!((next(3.0) + 0.1 * 3.0 / 9.1f64.sqrt()).abs() < 1e-9);
/// assert!((next(3.0) + 0.1 * 3.0 / 18.1f64.sqrt()).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct AdaGrad<T> {
    eta: LearningRate,
    initial: f64,
    epsilon: f64,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    sum: Slots<T>,
}

impl<T: MatScalar> AdaGrad<T> {
    /// AdaGrad with learning rate `eta` and the defaults.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::AdaGrad;
    /// // The defaults: s₀ = 0.1, ε = 1e-7.
    /// assert_eq!(AdaGrad::<f64>::new(0.1), AdaGrad::with(0.1, 0.1, 1e-7));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.1, 1e-7)
    }

    /// AdaGrad with initial accumulator `initial` and `epsilon`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{AdaGrad, Optimizer};
    /// let mut opt = AdaGrad::<f64>::with(0.1, 0.0, 0.0); // s₀ = 0, ε = 0
    /// let mut updates = vec![dmatrix![4.0, 0.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0, 0.0]]);
    /// // s = g²: u = −η·g/|g| = −0.1 where g = 4, and 0 (not 0/0) where s = 0.
    /// assert_eq!(updates[0], dmatrix![-0.1, 0.0]);
    /// ```
    pub fn with(eta: impl Into<Schedule>, initial: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            initial,
            epsilon,
            sum: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for AdaGrad<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("AdaGrad", &self.eta)?;
        config::non_negative("AdaGrad", "initial accumulator", self.initial)?;
        config::non_negative("AdaGrad", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.sum.check("AdaGrad", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let eps: T = cast(self.epsilon);
        let scale: T = cast(-self.eta.next());
        let sum = self.sum.advance(updates, cast(self.initial));
        each_entry(
            updates,
            sum,
            #[inline(always)]
            move |g, (s_old, s)| {
                *s = s_old + *g * *g;
                let inv = if *s > T::zero() {
                    T::one() / Float::sqrt(*s + eps)
                } else {
                    T::zero()
                };
                *g = unless_overflowed(scale * inv * *g, *s);
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.sum.undo();
    }
}
