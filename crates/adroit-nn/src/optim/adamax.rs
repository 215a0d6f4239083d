//! AdaMax.

use super::config;
use super::schedule::LearningRate;
use super::slots::each_entry2;
use super::{Count, Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// AdaMax, Adam with the infinity norm (Kingma & Ba 2015; Optax's `adamax`):
/// `m ← β₁m + (1 − β₁)g`, `v ← max(β₂v, |g| + ε)`, `u = −η·m/((1 − β₁ᵗ)·v)`. Defaults
/// `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{AdaMax, Optimizer};
/// let mut opt = AdaMax::<f64>::new(0.1);
/// let mut updates = vec![dmatrix![4.0, -0.5]];
/// opt.update(&mut updates, &[&dmatrix![0.0, 0.0]]);
/// // First step: m/(1 − β₁) = g and v = |g| + ε, so u = −η·g/(|g| + ε) ≈ −η·sign(g).
/// assert!((updates[0][0] + 0.1).abs() < 1e-7 && (updates[0][1] - 0.1).abs() < 1e-7);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct AdaMax<T> {
    eta: LearningRate,
    beta1: f64,
    beta2: f64,
    epsilon: f64,
    t: Count<i32>,
    m: Slots<T>,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    v: Slots<T>,
}

impl<T: MatScalar> AdaMax<T> {
    /// AdaMax with learning rate `eta` and the default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::AdaMax;
    /// // The defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(AdaMax::<f64>::new(2e-3), AdaMax::with(2e-3, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.999, 1e-8)
    }

    /// AdaMax with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{AdaMax, Optimizer};
    /// let mut opt = AdaMax::<f64>::with(0.1, 0.5, 0.999, 1.0); // β₁ = 0.5, ε = 1
    /// let mut updates = vec![dmatrix![1.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // m = 0.5·g, corrected m/(1 − 0.5) = 1; v = max(0, |g| + ε) = 2: u = −0.1·1/2.
    /// assert!((updates[0][0] + 0.05).abs() < 1e-15);
    /// ```
    pub fn with(eta: impl Into<Schedule>, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            beta1,
            beta2,
            epsilon,
            t: Count::new(0),
            m: Slots::default(),
            v: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for AdaMax<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("AdaMax", &self.eta)?;
        config::decay("AdaMax", "β₁", self.beta1)?;
        config::decay("AdaMax", "β₂", self.beta2)?;
        config::non_negative("AdaMax", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        config::step_count("AdaMax", self.t.get(), &[&self.m, &self.v], shapes)?;
        self.m.check("AdaMax", shapes)?;
        self.v.check("AdaMax", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.t.set(self.t.get().saturating_add(1));
        let c1: T = cast(1.0 / (1.0 - self.beta1.powi(self.t.get())));
        let (b1, b2, eps): (T, T, T) = (cast(self.beta1), cast(self.beta2), cast(self.epsilon));
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
                *v = Float::max(b2 * v_old, Float::abs(*g) + eps);
                *g = scale * (*m * c1) / *v;
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
