//! RAdam.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::each_entry2;
use super::{Count, Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// Rectified Adam (Liu et al. 2020; Optax's `radam`): with `ρ∞ = 2/(1 − β₂) − 1` and
/// `ρₜ = ρ∞ − 2tβ₂ᵗ/(1 − β₂ᵗ)`, the update is `−η·r·m̂/(√v̂ + ε)` with the rectification
/// `r = √((ρₜ − 4)(ρₜ − 2)ρ∞/((ρ∞ − 4)(ρ∞ − 2)ρₜ))` once `ρₜ ≥ 5`, and `−η·m̂` before.
/// Defaults `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`, threshold 5.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Optimizer, RAdam};
/// let mut opt = RAdam::<f64>::new(0.1);
/// let mut updates = vec![dmatrix![2.0, -0.5]];
/// opt.update(&mut updates, &[&dmatrix![0.0, 0.0]]);
/// // t = 1: ρ∞ = 2/0.001 − 1 = 1999, ρ₁ = 1999 − 2·0.999/0.001 = 1 < 5, so u = −η·m̂ = −η·g
/// // (proportional to g, where Adam's first step is −η·sign(g)).
/// assert!((updates[0][0] + 0.2).abs() < 1e-12 && (updates[0][1] - 0.05).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct RAdam<T> {
    eta: LearningRate,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    threshold: f64,
    t: Count<i32>,
    m: Slots<T>,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    v: Slots<T>,
}

impl<T: MatScalar> RAdam<T> {
    /// RAdam with learning rate `eta` and the default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::RAdam;
    /// // The defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(RAdam::<f64>::new(1e-3), RAdam::with(1e-3, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.999, 1e-8)
    }

    /// RAdam with all coefficients (threshold 5).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Optimizer, RAdam};
    /// let mut opt = RAdam::<f64>::with(0.1, 0.5, 0.999, 1e-8); // β₁ = 0.5
    /// let mut updates = vec![dmatrix![2.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // ρ₁ = 1 < 5 for every β₂, so the first step is −η·m̂, and m̂ = 0.5·g/(1 − 0.5) = g.
    /// assert!((updates[0][0] + 0.2).abs() < 1e-15);
    /// ```
    pub fn with(eta: impl Into<Schedule>, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            beta1,
            beta2,
            epsilon,
            threshold: 5.0,
            t: Count::new(0),
            m: Slots::default(),
            v: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for RAdam<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("RAdam", &self.eta)?;
        config::decay("RAdam", "β₁", self.beta1)?;
        config::decay("RAdam", "β₂", self.beta2)?;
        config::non_negative("RAdam", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        config::step_count("RAdam", self.t.get(), &[&self.m, &self.v], shapes)?;
        self.m.check("RAdam", shapes)?;
        self.v.check("RAdam", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.t.set(self.t.get().saturating_add(1));
        let (beta1, beta2, t) = (self.beta1, self.beta2, self.t.get());
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let b2t = beta2.powi(t);
        let rho = rho_inf - 2.0 * f64::from(t) * b2t / (1.0 - b2t);
        let rectification = (rho >= self.threshold).then(|| {
            ((rho - 4.0) * (rho - 2.0) * rho_inf / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho)).sqrt()
        });
        let c1: T = cast(1.0 / (1.0 - beta1.powi(t)));
        let c2: T = cast(1.0 / (1.0 - b2t));
        let (b1, b2, eps): (T, T, T) = (cast(beta1), cast(beta2), cast(self.epsilon));
        let scale: T = cast(-self.eta.next());
        let m = self.m.advance(updates, T::zero());
        let v = self.v.advance(updates, T::zero());
        each_entry2(
            updates,
            m,
            v,
            #[inline(always)]
            move |g, (m_old, m), (v_old, v)| {
                *m = b1 * m_old + (T::one() - b1) * *g;
                *v = b2 * v_old + (T::one() - b2) * *g * *g;
                let m_hat = *m * c1;
                let u = scale
                    * match rectification {
                        Some(r) => cast::<T>(r) * m_hat / (Float::sqrt(*v * c2) + eps),
                        None => m_hat,
                    };
                // Before the rectification starts too: v is kept for the steps after it.
                *g = unless_overflowed(u, *v);
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.t.undo();
        self.m.undo();
        self.v.undo();
    }
}
