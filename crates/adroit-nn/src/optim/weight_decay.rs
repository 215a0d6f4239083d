//! [`WeightDecay`]: adds `λ·θ` to the gradient.

use super::config;
use super::vectorised::vectorised;
use super::{Optimizer, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// `u = g + λ·θ` (Optax's `add_decayed_weights`, Flux's `WeightDecay`): chained before a rule,
/// `chain(WeightDecay::new(λ), rule)`, this is L2 regularisation (PyTorch's `weight_decay`
/// argument); for decoupled weight decay use [`AdamW`](super::AdamW). Every parameter is
/// decayed, biases included (as Optax's default, PyTorch's single parameter group, Flux);
/// [`Masked`](super::Masked) limits it to some, e.g. the weight matrices.
///
/// Order matters, and differs from Flux: adroit's rules return updates that already carry
/// `−η` and are *added* to θ (Optax's convention), so `WeightDecay` chained *after* a rule adds
/// `+λθ` to them and makes the weights grow. Flux's `OptimiserChain(Adam(η), WeightDecay(λ))`
/// (its rules' outputs are subtracted, and its `λθ` is not scaled by `η`: `θ ← θ − (η·adam +
/// λθ)`) corresponds, for a constant `η`, to [`AdamW`](super::AdamW) here with weight decay
/// `λ/η` (AdamW scales its decay by `η`, as PyTorch's and Optax's do), not to
/// `chain(Adam::new(η), WeightDecay::new(λ))`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Optimizer, WeightDecay};
/// let mut updates = vec![dmatrix![1.0, 0.0]];
/// WeightDecay::new(0.5).update(&mut updates, &[&dmatrix![2.0, -4.0]]);
/// assert_eq!(updates[0], dmatrix![2.0, -2.0]); // g + λθ
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WeightDecay {
    lambda: f64,
}

impl WeightDecay {
    /// Decay `λ`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Optimizer, WeightDecay};
    /// let mut updates = vec![dmatrix![0.0, 1.0]];
    /// WeightDecay::new(0.25).update(&mut updates, &[&dmatrix![4.0, -2.0]]);
    /// assert_eq!(updates[0], dmatrix![1.0, 0.5]); // g + 0.25·θ
    /// ```
    pub fn new(lambda: f64) -> Self {
        Self { lambda }
    }
}

impl<T: MatScalar> Optimizer<T> for WeightDecay {
    fn check_config(&self) -> Result<(), NnError> {
        config::non_negative("WeightDecay", "weight decay", self.lambda)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let lambda: T = cast(self.lambda);
        vectorised(
            #[inline(always)]
            move || {
                for (u, p) in updates.iter_mut().zip(params) {
                    for (u, &p) in u.as_mut_slice().iter_mut().zip(p.as_slice()) {
                        *u += p * lambda;
                    }
                }
            },
        );
    }
}
