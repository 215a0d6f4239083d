//! Adam and AdamW.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::pairs;
use super::vectorised::vectorised;
use super::{Count, Mask, Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// The bias-corrected moments of Adam (Optax's `scale_by_adam`): `m ← β₁m + (1 − β₁)g`,
/// `v ← β₂v + (1 − β₂)g²`, `m̂ = m/(1 − β₁ᵗ)`, `v̂ = v/(1 − β₂ᵗ)` with `t` counting updates
/// from 1; the direction is `m̂/(√v̂ + ε)` (with Nesterov's variant of `m̂` for NAdam).
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub(crate) struct AdamMoments<T> {
    pub(crate) beta1: f64,
    pub(crate) beta2: f64,
    pub(crate) epsilon: f64,
    pub(crate) nesterov: bool,
    t: Count<i32>,
    m: Slots<T>,
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    v: Slots<T>,
}

impl<T: MatScalar> AdamMoments<T> {
    /// β₁ and β₂ in `[0, 1)`, ε a finite number ≥ 0.
    pub(crate) fn check_config(&self, rule: &str) -> Result<(), NnError> {
        config::decay(rule, "β₁", self.beta1)?;
        config::decay(rule, "β₂", self.beta2)?;
        config::non_negative(rule, "ε", self.epsilon)
    }

    /// The moments, once created, fit parameters of these shapes (see [`Slots::check`]).
    pub(crate) fn check_params(
        &self,
        rule: &str,
        shapes: &[(usize, usize)],
    ) -> Result<(), NnError> {
        config::step_count(rule, self.t.get(), &[&self.m, &self.v], shapes)?;
        self.m.check(rule, shapes)?;
        self.v.check(rule, shapes)
    }

    pub(crate) fn new(beta1: f64, beta2: f64, epsilon: f64, nesterov: bool) -> Self {
        Self {
            beta1,
            beta2,
            epsilon,
            nesterov,
            t: Count::new(0),
            m: Slots::default(),
            v: Slots::default(),
        }
    }

    /// Undoes the last [`step`](Self::step).
    pub(crate) fn undo(&mut self) {
        self.t.undo();
        self.m.undo();
        self.v.undo();
    }

    /// Replaces each gradient by the update `scale·d` from the Adam direction
    /// `d = m̂/(√v̂ + ε)`, or `scale·(d + λθ)` for the arrays `k` where `decay(k)` gives a
    /// weight decay `λ` (`θ`: the entry of `params[k]`), in one pass.
    pub(crate) fn step(
        &mut self,
        updates: &mut [DMatrix<T>],
        params: &[&DMatrix<T>],
        scale: T,
        decay: impl Fn(usize) -> Option<T>,
    ) {
        self.t.set(self.t.get().saturating_add(1));
        let (b1, b2, t) = (self.beta1, self.beta2, self.t.get());
        let c1: T = cast(1.0 / (1.0 - b1.powi(t)));
        let c1_next: T = cast(1.0 / (1.0 - b1.powi(t.saturating_add(1))));
        let c2: T = cast(1.0 / (1.0 - b2.powi(t)));
        let (b1t, b2t, eps): (T, T, T) = (cast(b1), cast(b2), cast(self.epsilon));
        let (one_b1, one_b2): (T, T) = (cast(1.0 - b1), cast(1.0 - b2));
        let (m_old, m_new) = self.m.advance(updates, T::zero());
        let (v_old, v_new) = self.v.advance(updates, T::zero());
        let nesterov = self.nesterov;
        let direction = move |g: T, m_old: T, m: &mut T, v_old: T, v: &mut T| {
            *m = b1t * m_old + one_b1 * g;
            *v = b2t * v_old + one_b2 * g * g;
            let m_hat = if nesterov {
                b1t * *m * c1_next + one_b1 * g * c1
            } else {
                *m * c1
            };
            unless_overflowed(m_hat / (Float::sqrt(*v * c2) + eps), *v)
        };
        let arrays = m_old.iter().zip(m_new).zip(v_old.iter().zip(v_new));
        vectorised(
            #[inline(always)]
            move || {
                for (k, (u, ((m_old, m), (v_old, v)))) in updates.iter_mut().zip(arrays).enumerate()
                {
                    let entries = u
                        .as_mut_slice()
                        .iter_mut()
                        .zip(pairs(m_old, m).zip(pairs(v_old, v)));
                    match decay(k) {
                        None => {
                            for (g, ((&m_old, m), (&v_old, v))) in entries {
                                *g = direction(*g, m_old, m, v_old, v) * scale;
                            }
                        }
                        Some(lambda) => {
                            for ((g, ((&m_old, m), (&v_old, v))), &p) in
                                entries.zip(params[k].as_slice())
                            {
                                *g = (direction(*g, m_old, m, v_old, v) + p * lambda) * scale;
                            }
                        }
                    }
                }
            },
        );
    }
}

/// Adam (Kingma & Ba 2015; Optax's `adam`): `u = −η·m̂/(√v̂ + ε)`. Defaults `β₁ = 0.9`,
/// `β₂ = 0.999`, `ε = 1e-8`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Adam, Optimizer};
/// let mut opt = Adam::<f64>::new(0.1);
/// let mut updates = vec![dmatrix![10.0, -0.001]];
/// opt.update(&mut updates, &[&dmatrix![0.0, 0.0]]);
/// // First step: m̂ = g and v̂ = g², so u = −η·g/(|g| + ε) ≈ −η·sign(g), whatever |g| (as
/// // long as g² does not overflow: |g| < 1.8e19 in f32, see the module docs).
/// assert!((updates[0][0] + 0.1).abs() < 1e-8);
/// assert!((updates[0][1] - 0.1).abs() < 1e-5); // ε/|g| = 1e-5 of η
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct Adam<T> {
    eta: LearningRate,
    moments: AdamMoments<T>,
}

impl<T: MatScalar> Adam<T> {
    /// Adam with learning rate (or schedule) `eta` and the default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Adam;
    /// // The defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(Adam::<f64>::new(1e-3), Adam::with(1e-3, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.999, 1e-8)
    }

    /// Adam with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Adam, Optimizer};
    /// let mut opt = Adam::<f64>::with(0.1, 0.9, 0.999, 1.0); // ε = 1
    /// let mut updates = vec![dmatrix![1.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // First step: m̂ = g = 1 and √v̂ = |g| = 1, so u = −0.1·1/(1 + ε) = −0.05.
    /// assert!((updates[0][0] + 0.05).abs() < 1e-12);
    /// ```
    pub fn with(eta: impl Into<Schedule>, beta1: f64, beta2: f64, epsilon: f64) -> Self {
        Self {
            eta: LearningRate::new(eta),
            moments: AdamMoments::new(beta1, beta2, epsilon, false),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for Adam<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("Adam", &self.eta)?;
        self.moments.check_config("Adam")
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.moments.check_params("Adam", shapes)
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

/// AdamW, Adam with decoupled weight decay (Loshchilov & Hutter 2019; Optax's `adamw`):
/// `u = −η·(m̂/(√v̂ + ε) + λ·θ)`. The decay is multiplied by the learning rate, as Optax and
/// PyTorch; default `λ = 1e-4` (Optax's default; PyTorch's is `1e-2`). By default every
/// parameter is decayed, biases and `LayerNorm` gains included — as Optax without a `mask`,
/// PyTorch with one parameter group, and Flux; [`with_decay_mask`](Self::with_decay_mask)
/// limits the decay to some parameters (Optax's `mask`, PyTorch's parameter groups with
/// `weight_decay = 0`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{AdamW, Optimizer};
/// let mut opt = AdamW::<f64>::with(0.1, 0.5, 0.9, 0.999, 1e-8); // λ = 0.5
/// let mut updates = vec![dmatrix![3.0]];
/// opt.update(&mut updates, &[&dmatrix![2.0]]); // θ = 2
/// // First step: −η·(sign(g) + λθ) = −0.1·(1 + 0.5·2).
/// assert!((updates[0][0] + 0.2).abs() < 1e-8);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct AdamW<T> {
    eta: LearningRate,
    lambda: f64,
    decay_mask: Option<Mask>,
    moments: AdamMoments<T>,
}

impl<T: MatScalar> AdamW<T> {
    /// AdamW with learning rate `eta`, `λ = 1e-4` and Adam's default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::AdamW;
    /// // The defaults: λ = 1e-4 and Adam's β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(AdamW::<f64>::new(1e-3), AdamW::with(1e-3, 1e-4, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 1e-4, 0.9, 0.999, 1e-8)
    }

    /// AdamW with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Adam, AdamW, Optimizer};
    /// // λ = 0 is Adam.
    /// let theta = dmatrix![5.0];
    /// let (mut with_decay, mut plain) = (vec![dmatrix![0.3]], vec![dmatrix![0.3]]);
    /// AdamW::<f64>::with(0.1, 0.0, 0.9, 0.999, 1e-8).update(&mut with_decay, &[&theta]);
    /// Adam::<f64>::with(0.1, 0.9, 0.999, 1e-8).update(&mut plain, &[&theta]);
    /// assert_eq!(with_decay, plain);
    /// ```
    pub fn with(
        eta: impl Into<Schedule>,
        lambda: f64,
        beta1: f64,
        beta2: f64,
        epsilon: f64,
    ) -> Self {
        Self {
            eta: LearningRate::new(eta),
            lambda,
            decay_mask: None,
            moments: AdamMoments::new(beta1, beta2, epsilon, false),
        }
    }

    /// The same rule decaying only the parameters whose flag in `mask` is `true` (one per
    /// parameter, in the model's visiting order: build it with [`mask`](super::mask)); the others get
    /// Adam's update alone (Optax's `adamw(…, mask=…)`).
    ///
    /// # Errors and panics
    /// [`check_params`](Optimizer::check_params) refuses a mask that does not fit the model
    /// (called before any change by [`step`](super::step), [`train_step`](crate::train_step)
    /// and [`train`](crate::train())); [`update`](Optimizer::update) called directly panics.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{AdamW, Optimizer};
    /// // λ = 0.5 on the first array only: θ = 2 there adds −η·λθ = −0.1 to Adam's −η·sign(g).
    /// let mut opt = AdamW::<f64>::with(0.1, 0.5, 0.9, 0.999, 1e-8).with_decay_mask(vec![true, false]);
    /// let mut updates = vec![dmatrix![3.0], dmatrix![3.0]];
    /// opt.update(&mut updates, &[&dmatrix![2.0], &dmatrix![2.0]]);
    /// assert!((updates[0][0] + 0.2).abs() < 1e-8 && (updates[1][0] + 0.1).abs() < 1e-8);
    /// ```
    pub fn with_decay_mask(mut self, mask: impl Into<Mask>) -> Self {
        self.decay_mask = Some(mask.into());
        self
    }
}

impl<T: MatScalar> Optimizer<T> for AdamW<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("AdamW", &self.eta)?;
        config::non_negative("AdamW", "weight decay", self.lambda)?;
        self.moments.check_config("AdamW")
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        if let Some(mask) = &self.decay_mask {
            mask.check("AdamW", shapes)?;
        }
        self.moments.check_params("AdamW", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        if let Some(mask) = &self.decay_mask {
            mask.assert_fits("AdamW", updates);
        }
        let scale: T = cast(-self.eta.next());
        let lambda: T = cast(self.lambda);
        let mask = self.decay_mask.as_ref();
        let decay = move |k: usize| mask.is_none_or(|m| m.flags()[k]).then_some(lambda);
        self.moments.step(updates, params, scale, decay);
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.moments.undo();
    }
}
