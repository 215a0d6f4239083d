//! Lion.

use super::config;
use super::schedule::LearningRate;
use super::slots::pairs;
use super::vectorised::vectorised;
use super::{Mask, Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Lion (Chen et al. 2023; Optax's `lion`): `u = −η·(sign(β₁m + (1 − β₁)g) + λθ)`, then
/// `m ← β₂m + (1 − β₂)g`; `sign(0) = 0`. Defaults `β₁ = 0.9`, `β₂ = 0.99`, `λ = 1e-3`. Every
/// parameter is decayed unless [`with_decay_mask`](Self::with_decay_mask) selects some.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Lion, Optimizer};
/// let mut opt = Lion::with(0.1, 0.9, 0.99, 0.5); // λ = 0.5
/// let mut updates = vec![dmatrix![3.0, -0.5, 0.0]];
/// opt.update(&mut updates, &[&dmatrix![0.0, 0.0, 2.0]]);
/// // m = 0 at first: −η·(sign(g) + λθ) = −0.1·(1 + 0), −0.1·(−1 + 0), −0.1·(0 + 0.5·2).
/// assert_eq!(updates[0], dmatrix![-0.1, 0.1, -0.1]);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct Lion<T> {
    eta: LearningRate,
    beta1: f64,
    beta2: f64,
    lambda: f64,
    decay_mask: Option<Mask>,
    m: Slots<T>,
}

impl<T: MatScalar> Lion<T> {
    /// Lion with learning rate `eta` and the defaults.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Lion;
    /// // The defaults: β₁ = 0.9, β₂ = 0.99, λ = 1e-3.
    /// assert_eq!(Lion::<f64>::new(1e-4), Lion::with(1e-4, 0.9, 0.99, 1e-3));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.99, 1e-3)
    }

    /// Lion with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Lion, Optimizer};
    /// let mut opt = Lion::<f64>::with(0.1, 0.5, 0.5, 0.0); // β₁ = β₂ = 0.5, no decay
    /// let mut next = |g: f64| {
    ///     let mut u = vec![dmatrix![g]];
    ///     opt.update(&mut u, &[&dmatrix![0.0]]);
    ///     u[0][0]
    /// };
    /// // Step 1: sign(0.5·0 + 0.5·1) = 1, then m = 0.5. Step 2 with g = −0.4:
    /// // sign(0.5·0.5 + 0.5·(−0.4)) = sign(0.05) = 1, so the momentum still wins.
    /// assert_eq!(next(1.0), -0.1);
    /// assert_eq!(next(-0.4), -0.1);
    /// ```
    pub fn with(eta: impl Into<Schedule>, beta1: f64, beta2: f64, lambda: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            beta1,
            beta2,
            lambda,
            decay_mask: None,
            m: Slots::default(),
        }
    }

    /// The same rule decaying only the parameters whose flag in `mask` is `true` (one per
    /// parameter, in the model's visiting order: build it with [`mask`](super::mask)); the others get
    /// `−η·sign(…)` alone (Optax's `lion(…, mask=…)`).
    ///
    /// # Errors and panics
    /// [`check_params`](Optimizer::check_params) refuses a mask that does not fit the model
    /// (called before any change by [`step`](super::step), [`train_step`](crate::train_step)
    /// and [`train`](crate::train())); [`update`](Optimizer::update) called directly panics.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Lion, Optimizer};
    /// let mut opt = Lion::<f64>::with(0.1, 0.9, 0.99, 0.5).with_decay_mask(vec![false, true]);
    /// let mut updates = vec![dmatrix![3.0], dmatrix![3.0]];
    /// opt.update(&mut updates, &[&dmatrix![2.0], &dmatrix![2.0]]);
    /// // −η·sign(g) = −0.1 without decay; −η·(1 + λθ) = −0.2 with it.
    /// assert_eq!(updates, [dmatrix![-0.1], dmatrix![-0.2]]);
    /// ```
    pub fn with_decay_mask(mut self, mask: impl Into<Mask>) -> Self {
        self.decay_mask = Some(mask.into());
        self
    }
}

/// `sign(x)` with `sign(0) = 0` (as NumPy, unlike `f64::signum`).
fn sign<T: MatScalar>(x: T) -> T {
    if x > T::zero() {
        T::one()
    } else if x < T::zero() {
        -T::one()
    } else {
        T::zero()
    }
}

impl<T: MatScalar> Optimizer<T> for Lion<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("Lion", &self.eta)?;
        config::decay_closed("Lion", "β₁", self.beta1)?;
        config::decay_closed("Lion", "β₂", self.beta2)?;
        config::non_negative("Lion", "weight decay", self.lambda)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        if let Some(mask) = &self.decay_mask {
            mask.check("Lion", shapes)?;
        }
        self.m.check("Lion", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let (b1, b2, lambda): (T, T, T) = (cast(self.beta1), cast(self.beta2), cast(self.lambda));
        let scale: T = cast(-self.eta.next());
        if let Some(mask) = &self.decay_mask {
            mask.assert_fits("Lion", updates);
        }
        let decayed =
            (0..updates.len()).map(|k| self.decay_mask.as_ref().is_none_or(|m| m.flags()[k]));
        let (m_old, m_new) = self.m.advance(updates, T::zero());
        let arrays = m_old.iter().zip(m_new).zip(params).zip(decayed);
        vectorised(
            #[inline(always)]
            move || {
                for (u, (((m_old, m), p), decay)) in updates.iter_mut().zip(arrays) {
                    let lambda = if decay { lambda } else { T::zero() };
                    let m = pairs(m_old, m);
                    let entries = u.as_mut_slice().iter_mut().zip(m).zip(p.as_slice());
                    for ((g, (&m_old, m)), p) in entries {
                        let direction = sign(b1 * m_old + (T::one() - b1) * *g);
                        *m = b2 * m_old + (T::one() - b2) * *g;
                        *g = scale * (direction + lambda * *p);
                    }
                }
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.m.undo();
    }
}
