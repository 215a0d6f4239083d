//! Gradient clipping: by value, by norm per array, by global norm.

use super::vectorised::vectorised;
use super::{Optimizer, cast, config};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Clips every entry to `[−δ, δ]` (Optax's `clip`, Flux's `ClipGrad`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{ClipValue, Optimizer};
/// let mut updates = vec![dmatrix![3.0, -0.5, -7.0]];
/// ClipValue::new(1.0).update(&mut updates, &[&dmatrix![0.0, 0.0, 0.0]]);
/// assert_eq!(updates[0], dmatrix![1.0, -0.5, -1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClipValue {
    delta: f64,
}

impl ClipValue {
    /// Clipping at `±delta`.
    ///
    /// # Panics
    /// If `delta` is negative or NaN.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{ClipValue, Optimizer};
    /// let mut updates = vec![dmatrix![2.0, -0.25, -1.0]];
    /// ClipValue::new(0.5).update(&mut updates, &[&dmatrix![0.0, 0.0, 0.0]]);
    /// assert_eq!(updates[0], dmatrix![0.5, -0.25, -0.5]); // each entry into [−0.5, 0.5]
    /// ```
    #[track_caller]
    pub fn new(delta: f64) -> Self {
        assert!(
            delta >= 0.0,
            "ClipValue::new: the threshold must be a number ≥ 0, got {delta} (a negative one \
             would flip every clipped entry's sign; NaN compares with nothing)"
        );
        Self { delta }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipValue {
    /// Refuses a negative or NaN threshold (one read from a checkpoint; [`ClipValue::new`]
    /// refuses them with a panic).
    fn check_config(&self) -> Result<(), NnError> {
        config::threshold("ClipValue", self.delta)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let d: T = cast(self.delta);
        vectorised(
            #[inline(always)]
            move || {
                for u in updates {
                    for v in u.as_mut_slice() {
                        // Comparisons with NaN are false: NaN passes through (as jnp.clip), so
                        // a NaN gradient is not hidden as ±δ. Two selects: the loop vectorises.
                        let upper = if *v > d { d } else { *v };
                        *v = if upper < -d { -d } else { upper };
                    }
                }
            },
        );
    }
}

/// Rescales each array whose Euclidean norm exceeds `max` to norm `max` (Flux's `ClipNorm`,
/// applied per parameter array). An array holding NaN (norm NaN) becomes NaN throughout, as
/// in Optax's `clip_by_block_rms`, so that a step refuses it rather than clip around it.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{ClipNorm, Optimizer};
/// let mut updates = vec![dmatrix![3.0, 4.0], dmatrix![0.3, 0.4]]; // norms 5 and 0.5
/// let params = [dmatrix![0.0, 0.0], dmatrix![0.0, 0.0]];
/// ClipNorm::new(1.0).update(&mut updates, &[&params[0], &params[1]]);
/// assert!((updates[0].clone() - dmatrix![0.6, 0.8]).norm() < 1e-15); // scaled to norm 1
/// assert_eq!(updates[1], dmatrix![0.3, 0.4]); // below the threshold: unchanged
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClipNorm {
    max: f64,
}

impl ClipNorm {
    /// Per-array clipping at norm `max`.
    ///
    /// # Panics
    /// If `max` is negative or NaN.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{ClipNorm, Optimizer};
    /// let mut updates = vec![dmatrix![6.0_f64, 8.0]]; // norm 10
    /// ClipNorm::new(2.0).update(&mut updates, &[&dmatrix![0.0, 0.0]]);
    /// // Scaled by 2/10 to norm 2, keeping its direction.
    /// assert!((updates[0][0] - 1.2).abs() < 1e-15 && (updates[0][1] - 1.6).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn new(max: f64) -> Self {
        assert!(
            max >= 0.0,
            "ClipNorm::new: the threshold must be a number ≥ 0, got {max} (a negative one \
             would flip every clipped entry's sign; NaN compares with nothing)"
        );
        Self { max }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipNorm {
    /// Refuses a negative or NaN threshold (one read from a checkpoint; [`ClipNorm::new`]
    /// refuses them with a panic).
    fn check_config(&self) -> Result<(), NnError> {
        config::threshold("ClipNorm", self.max)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        for u in updates {
            let norm = norm(&[u.as_slice()]);
            // A NaN norm too (the factor is then NaN).
            if norm > self.max || norm.is_nan() {
                scale_by(u, self.max / norm);
            }
        }
    }
}

/// Rescales all arrays together when their global norm `√(Σ‖gᵢ‖²)` exceeds `max`, by
/// `max / norm` (Optax's `clip_by_global_norm`; PyTorch's `clip_grad_norm_` scales by
/// `max / (norm + 10⁻⁶)` and also at a norm equal to `max`). Arrays of global norm 0 are left
/// as they are, also for `max = 0` (where Optax gives NaN). A NaN entry anywhere (global norm
/// NaN) makes every array NaN, as in Optax, so that a step refuses them.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{ClipGlobalNorm, Optimizer};
/// let mut updates = vec![dmatrix![3.0_f64], dmatrix![4.0]]; // global norm √(3² + 4²) = 5
/// let params = [dmatrix![0.0], dmatrix![0.0]];
/// ClipGlobalNorm::new(1.0).update(&mut updates, &[&params[0], &params[1]]);
/// // Both scaled by 1/5, keeping their ratio (ClipNorm would clip each to 1).
/// assert!((updates[0][0] - 0.6).abs() < 1e-15 && (updates[1][0] - 0.8).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ClipGlobalNorm {
    max: f64,
}

impl ClipGlobalNorm {
    /// Global clipping at norm `max`.
    ///
    /// # Panics
    /// If `max` is negative or NaN.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{ClipGlobalNorm, Optimizer};
    /// let params = [dmatrix![0.0], dmatrix![0.0]];
    /// // Global norm √(0.6² + 0.8²) = 1 ≤ 2: unchanged.
    /// let mut small = vec![dmatrix![0.6], dmatrix![0.8]];
    /// ClipGlobalNorm::new(2.0).update(&mut small, &[&params[0], &params[1]]);
    /// assert_eq!(small, [dmatrix![0.6], dmatrix![0.8]]);
    /// // Global norm √(6² + 8²) = 10 > 2: both scaled by 2/10.
    /// let mut large = vec![dmatrix![6.0_f64], dmatrix![8.0]];
    /// ClipGlobalNorm::new(2.0).update(&mut large, &[&params[0], &params[1]]);
    /// assert!((large[0][0] - 1.2).abs() < 1e-15 && (large[1][0] - 1.6).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn new(max: f64) -> Self {
        assert!(
            max >= 0.0,
            "ClipGlobalNorm::new: the threshold must be a number ≥ 0, got {max} (a negative one \
             would flip every clipped entry's sign; NaN compares with nothing)"
        );
        Self { max }
    }
}

impl<T: MatScalar> Optimizer<T> for ClipGlobalNorm {
    /// Refuses a negative or NaN threshold (one read from a checkpoint; [`ClipGlobalNorm::new`]
    /// refuses them with a panic).
    fn check_config(&self) -> Result<(), NnError> {
        config::threshold("ClipGlobalNorm", self.max)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let slices: Vec<&[T]> = updates.iter().map(DMatrix::as_slice).collect();
        let norm = norm(&slices);
        // A NaN norm too (the factor is then NaN).
        if norm > self.max || norm.is_nan() {
            for u in updates {
                scale_by(u, self.max / norm);
            }
        }
    }
}

/// `u ← factor·u` for a clipping factor formed in `f64`: where it is below `T`'s smallest
/// normal number (an `f32` norm above about 1e38 times `max`), as two factors `√factor`, each
/// normal: cast to `T` at once, it kept few bits (`[3e38, 3e38]` clipped at 1e-6 came out of
/// norm 1.19e-6; found by a review).
fn scale_by<T: MatScalar>(u: &mut DMatrix<T>, factor: f64) {
    let c = cast::<T>(factor);
    if c.is_normal() || factor.is_nan() || factor <= 0.0 {
        scale(u, c);
    } else {
        let root = cast::<T>(factor.sqrt());
        scale(u, root);
        scale(u, root);
    }
}

/// `u ← c·u`, entry by entry.
fn scale<T: MatScalar>(u: &mut DMatrix<T>, c: T) {
    vectorised(
        #[inline(always)]
        move || {
            for v in u.as_mut_slice() {
                *v *= c;
            }
        },
    );
}

/// Independent partial sums of [`sum_of`] (so its loop vectorises).
const LANES: usize = 16;

/// `Σ f(v)` over the entries of `slices`, in `f64`, summed in [`LANES`] interleaved partial
/// sums (entry `i` of each slice into sum `i mod LANES`), then those in order.
fn sum_of<T: MatScalar>(slices: &[&[T]], f: impl Fn(f64) -> f64) -> f64 {
    let wide = |v: T| v.to_f64().unwrap_or(f64::NAN);
    let sums = vectorised(
        #[inline(always)]
        move || {
            let mut sums = [0.0_f64; LANES];
            for s in slices {
                let mut blocks = s.chunks_exact(LANES);
                for block in &mut blocks {
                    for (sum, &v) in sums.iter_mut().zip(block) {
                        *sum += f(wide(v));
                    }
                }
                for (sum, &v) in sums.iter_mut().zip(blocks.remainder()) {
                    *sum += f(wide(v));
                }
            }
            sums
        },
    );
    sums.iter().sum()
}

/// The Euclidean norm of the entries of `slices`, in `f64`: the plain `√Σv²`, or where that
/// sum overflows (finite entries beyond ~1e154, which f64 gradients can reach), the same over
/// the entries divided by the largest magnitude, times it (passes over the entries only
/// then). NaN if an entry is NaN.
fn norm<T: MatScalar>(slices: &[&[T]]) -> f64 {
    let plain = sum_of(slices, |v| v * v).sqrt();
    if plain.is_finite() || plain.is_nan() {
        return plain;
    }
    let wide = |v: &T| v.to_f64().unwrap_or(f64::NAN);
    let largest = (slices.iter().flat_map(|s| s.iter())).fold(0.0_f64, |a, v| a.max(wide(v).abs()));
    if !largest.is_finite() {
        return largest; // an infinite entry
    }
    largest * sum_of(slices, move |v| (v / largest) * (v / largest)).sqrt()
}
