//! AMSGrad.

use super::config;
use super::overflow::unless_overflowed;
use super::schedule::LearningRate;
use super::slots::pairs;
use super::vectorised::vectorised;
use super::{Count, Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// AMSGrad (Reddi et al. 2018; Optax's `amsgrad`): Adam's moments with the running maximum of
/// the bias-corrected second moment, `v̂ₘₐₓ ← max(v̂ₘₐₓ, v̂)`, `u = −η·m̂/(√v̂ₘₐₓ + ε)`. Defaults
/// `β₁ = 0.9`, `β₂ = 0.999`, `ε = 1e-8`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{AmsGrad, Optimizer};
/// let mut opt = AmsGrad::<f64>::new(0.1);
/// let mut next = |g: f64| {
///     let mut u = vec![dmatrix![g]];
///     opt.update(&mut u, &[&dmatrix![0.0]]);
///     u[0][0]
/// };
/// // g = 10: v̂ = 100 and the step is ≈ −η, as Adam's.
/// assert!((next(10.0) + 0.1).abs() < 1e-9);
/// // g = 1: m̂ = (0.9·1 + 0.1·1)/(1 − 0.9²) = 1/0.19 and v̂ = 0.1009/0.001999 ≈ 50.5 < 100,
/// // so v̂ₘₐₓ stays 100: u = −0.1·(1/0.19)/10 (Adam would divide by √50.5 ≈ 7.1).
/// assert!((next(1.0) + 0.1 / 1.9).abs() < 1e-9);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct AmsGrad<T> {
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
    #[cfg_attr(
        feature = "serde",
        serde(deserialize_with = "super::slots::non_negative")
    )]
    v_max: Slots<T>,
}

impl<T: MatScalar> AmsGrad<T> {
    /// AMSGrad with learning rate `eta` and the default coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::AmsGrad;
    /// // The defaults: β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
    /// assert_eq!(AmsGrad::<f64>::new(1e-3), AmsGrad::with(1e-3, 0.9, 0.999, 1e-8));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.9, 0.999, 1e-8)
    }

    /// AMSGrad with all coefficients.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{AmsGrad, Optimizer};
    /// let mut opt = AmsGrad::<f64>::with(0.1, 0.9, 0.999, 1.0); // ε = 1
    /// let mut updates = vec![dmatrix![1.0]];
    /// opt.update(&mut updates, &[&dmatrix![0.0]]);
    /// // First step: m̂ = g = 1 and v̂ₘₐₓ = v̂ = g² = 1, so u = −0.1·1/(1 + ε) = −0.05.
    /// assert!((updates[0][0] + 0.05).abs() < 1e-12);
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
            v_max: Slots::default(),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for AmsGrad<T> {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("AmsGrad", &self.eta)?;
        config::decay("AmsGrad", "β₁", self.beta1)?;
        config::decay("AmsGrad", "β₂", self.beta2)?;
        config::non_negative("AmsGrad", "ε", self.epsilon)
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        config::step_count(
            "AmsGrad",
            self.t.get(),
            &[&self.m, &self.v, &self.v_max],
            shapes,
        )?;
        self.m.check("AmsGrad", shapes)?;
        self.v.check("AmsGrad", shapes)?;
        self.v_max.check("AmsGrad", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.t.set(self.t.get().saturating_add(1));
        let c1: T = cast(1.0 / (1.0 - self.beta1.powi(self.t.get())));
        let c2: T = cast(1.0 / (1.0 - self.beta2.powi(self.t.get())));
        let (b1, b2, eps): (T, T, T) = (cast(self.beta1), cast(self.beta2), cast(self.epsilon));
        let scale: T = cast(-self.eta.next());
        let (m_old, m_new) = self.m.advance(updates, T::zero());
        let (v_old, v_new) = self.v.advance(updates, T::zero());
        let (max_old, max_new) = self.v_max.advance(updates, T::zero());
        vectorised(
            #[inline(always)]
            move || {
                for (k, u) in updates.iter_mut().enumerate() {
                    let m = pairs(&m_old[k], &mut m_new[k]);
                    let v = pairs(&v_old[k], &mut v_new[k]);
                    let vmax = pairs(&max_old[k], &mut max_new[k]);
                    for (((g, (&m_old, m)), (&v_old, v)), (&vmax_old, vmax)) in
                        u.as_mut_slice().iter_mut().zip(m).zip(v).zip(vmax)
                    {
                        *m = b1 * m_old + (T::one() - b1) * *g;
                        *v = b2 * v_old + (T::one() - b2) * *g * *g;
                        *vmax = Float::max(vmax_old, *v * c2);
                        // v_max ≥ v·c₂ (c₂ ≥ 1): infinite whenever v is.
                        let u = scale * (*m * c1) / (Float::sqrt(*vmax) + eps);
                        *g = unless_overflowed(u, *vmax);
                    }
                }
            },
        );
    }

    fn undo_update(&mut self) {
        self.eta.undo();
        self.t.undo();
        self.m.undo();
        self.v.undo();
        self.v_max.undo();
    }
}
