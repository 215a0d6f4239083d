//! Gradient clipping: by value, by norm per array, by global norm.

use super::{Optimizer, cast};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// Clips every entry to `[−δ, δ]` (Optax's `clip`, Flux's `ClipGrad`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipValue {
    delta: f64,
}

impl ClipValue {
    /// Clipping at `±delta`.
    pub fn new(delta: f64) -> Self {
        Self { delta }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipValue {
    fn update(&mut self, updates: &mut [DMatrix<T>], _: &[&DMatrix<T>]) {
        let d: T = cast(self.delta);
        for u in updates {
            // NaN passes through (as jnp.clip), so a NaN gradient is not hidden as ±δ.
            u.apply(|v| {
                if !Float::is_nan(*v) {
                    *v = Float::max(Float::min(*v, d), -d);
                }
            });
        }
    }
}

/// Rescales each array whose Euclidean norm exceeds `max` to norm `max` (Flux's `ClipNorm`,
/// applied per parameter array).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipNorm {
    max: f64,
}

impl ClipNorm {
    /// Per-array clipping at norm `max`.
    pub fn new(max: f64) -> Self {
        Self { max }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipNorm {
    fn update(&mut self, updates: &mut [DMatrix<T>], _: &[&DMatrix<T>]) {
        for u in updates {
            let norm = u
                .iter()
                .map(|v| v.to_f64().unwrap_or(0.0).powi(2))
                .sum::<f64>()
                .sqrt();
            if norm > self.max {
                *u *= cast::<T>(self.max / norm);
            }
        }
    }
}

/// Rescales all arrays together when their global norm `√(Σ‖gᵢ‖²)` exceeds `max` (Optax's
/// `clip_by_global_norm`; PyTorch's `clip_grad_norm_`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClipGlobalNorm {
    max: f64,
}

impl ClipGlobalNorm {
    /// Global clipping at norm `max`.
    pub fn new(max: f64) -> Self {
        Self { max }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipGlobalNorm {
    fn update(&mut self, updates: &mut [DMatrix<T>], _: &[&DMatrix<T>]) {
        let norm = updates
            .iter()
            .flat_map(|u| u.iter())
            .map(|v| v.to_f64().unwrap_or(0.0).powi(2))
            .sum::<f64>()
            .sqrt();
        if norm > self.max {
            let factor = cast::<T>(self.max / norm);
            for u in updates {
                *u *= factor;
            }
        }
    }
}
