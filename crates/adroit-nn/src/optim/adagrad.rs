//! AdaGrad.

use super::schedule::LearningRate;
use super::{Optimizer, Schedule, Slots, cast};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// AdaGrad (Duchi et al. 2011; Optax's `adagrad`): `s ← s + g²` from `s₀ = 0.1`,
/// `u = −η·g/√(s + ε)` (0 where `s = 0`). Defaults `s₀ = 0.1`, `ε = 1e-7`.
#[derive(Clone, Debug, PartialEq)]
pub struct AdaGrad<T> {
    eta: LearningRate,
    initial: f64,
    epsilon: f64,
    sum: Slots<T>,
}

impl<T: MatScalar> AdaGrad<T> {
    /// AdaGrad with learning rate `eta` and the defaults.
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with(eta, 0.1, 1e-7)
    }

    /// AdaGrad with initial accumulator `initial` and `epsilon`.
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
    fn update(&mut self, updates: &mut [DMatrix<T>], _: &[&DMatrix<T>]) {
        let eps: T = cast(self.epsilon);
        let scale: T = cast(-self.eta.next());
        let sums = self.sum.get(updates, cast(self.initial));
        for (u, s) in updates.iter_mut().zip(sums) {
            for (g, s) in u.iter_mut().zip(s.iter_mut()) {
                *s += *g * *g;
                let inv = if *s > T::zero() {
                    T::one() / Float::sqrt(*s + eps)
                } else {
                    T::zero()
                };
                *g = scale * inv * *g;
            }
        }
    }
}
