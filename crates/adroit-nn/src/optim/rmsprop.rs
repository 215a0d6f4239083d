//! RMSProp, plain and centred.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::{each_entry, each_entry2};
use super::{Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// RMSProp (Tieleman & Hinton 2012; Optax's `rmsprop`): `v ← ρv + (1 − ρ)g²`,
/// `u = −η·g/√(v + ε)`; centred (Graves 2013): also `μ ← ρμ + (1 − ρ)g` and
/// `u = −η·g/√(v − μ² + ε)`. Defaults `ρ = 0.9`, `ε = 1e-8` (inside the square root, as
/// Optax).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Optimizer, RmsProp};
/// let theta = dmatrix![0.0];
/// let (mut plain, mut centred) = (vec![dmatrix![2.0]], vec![dmatrix![2.0]]);
/// RmsProp::new(0.1).update(&mut plain, &[&theta]);
/// RmsProp::centred(0.1).update(&mut centred, &[&theta]);
/// // v = 0.1·2² = 0.4: u = −0.1·2/√0.4 = −0.1·√10.
/// assert!((plain[0][0] + 0.1 * 10f64.sqrt()).abs() < 1e-8);
/// // Centred: μ = 0.1·2, v − μ² = 0.4 − 0.04 = 0.36: u = −0.1·2/0.6.
/// assert!((centred[0][0] + 0.1 / 0.3).abs() < 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct RmsProp<T> {
    eta: LearningRate,
    rho: f64,
    epsilon: f64,
    centred: bool,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    v: Slots<T>,
    mu: Slots<T>,
}

impl<T: MatScalar> RmsProp<T> {
    /// RMSProp with learning rate `eta` and the defaults.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::RmsProp;
    /// // The defaults: ρ = 0.9, ε = 1e-8, not centred.
    /// assert_eq!(RmsProp::<f64>::new(1e-3), RmsProp::with(1e-3, 0.9, 1e-8, false));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 1e-8, false)
    }

    /// Centred RMSProp with learning rate `eta` and the defaults.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::RmsProp;
    /// // The defaults of `new`, centred.
    /// assert_eq!(RmsProp::<f64>::centred(1e-3), RmsProp::with(1e-3, 0.9, 1e-8, true));
    /// ```
    pub fn centred(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 1e-8, true)
    }

    /// RMSProp with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Optimizer, RmsProp};
    /// let mut opt = RmsProp::<f64>::with(0.1, 0.5, 0.0, false); // ρ = 0.5, ε = 0
    /// let mut updates = vec![dmatrix![2.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // v = 0.5·2² = 2: u = −0.1·2/√2 = −0.1·√2.
    /// assert!((updates[0][0] + 0.1 * 2f64.sqrt()).abs() < 1e-15);
    /// ```
    pub fn with(eta: impl Into<Schedule>, rho: f64, epsilon: f64, centred: bool) -> Self {
        Self {
            eta: LearningRate::new(eta),
            rho,
            epsilon,
            centred,
            v: Slots::default(),
            mu: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for RmsProp<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("RmsProp", &self.eta)?;
        config::decay_closed("RmsProp", "ρ", self.rho)?;
        config::non_negative("RmsProp", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.v.check("RmsProp", shapes)?;
        self.mu.check("RmsProp", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let (rho, eps): (T, T) = (cast(self.rho), cast(self.epsilon));
        let scale: T = cast(-self.eta.next());
        let v = self.v.advance(updates, T::zero());
        if !self.centred {
            each_entry(
                updates,
                v,
                #[inline(always)]
                move |g, (v_old, v)| {
                    *v = rho * v_old + (T::one() - rho) * *g * *g;
                    *g = unless_overflowed(scale * *g / Float::sqrt(*v + eps), *v);
                },
            );
            return;
        }
        let mu = self.mu.advance(updates, T::zero());
        each_entry2(
            updates,
            v,
            mu,
            #[inline(always)]
            move |g, (v_old, v), (mu_old, mu)| {
                *v = rho * v_old + (T::one() - rho) * *g * *g;
                *mu = rho * mu_old + (T::one() - rho) * *g;
                // μ, an average of the gradients, stays finite.
                *g = unless_overflowed(scale * *g / Float::sqrt(*v - *mu * *mu + eps), *v);
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.v.undo();
        // Not advanced when not centred: its undo record is `Nothing` then.
        self.mu.undo();
    }
}
