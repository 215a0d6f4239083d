//! The one tolerance rule of the test suite: `|a − b| ≤ atol + rtol·|b|`, with `b` the
//! reference. Infinite references must be matched exactly.

use num_traits::{Float, ToPrimitive};
use std::fmt::Debug;

/// Tolerances for a precision.
#[derive(Clone, Copy, Debug)]
pub struct Tol {
    pub atol: f64,
    pub rtol: f64,
}

/// For results that should be exact to a few ulps in `f64`.
pub const F64: Tol = Tol {
    atol: 1e-13,
    rtol: 1e-12,
};
/// For `f32` results of inputs rounded from `f64` reference points.
pub const F32: Tol = Tol {
    atol: 1e-5,
    rtol: 1e-4,
};

/// The tolerance for the precision of `T`.
pub fn tol_for<T: Float>() -> Tol {
    if T::epsilon().to_f64().is_some_and(|e| e > 1e-10) {
        F32
    } else {
        F64
    }
}

/// Asserts `|actual − expected| ≤ atol + rtol·|expected|`.
#[track_caller]
pub fn assert_close<T: ToPrimitive + Debug>(actual: T, expected: f64, tol: Tol, what: &str) {
    let a = actual.to_f64().expect("a float converts to f64");
    if expected.is_infinite() || a.is_infinite() {
        assert_eq!(a, expected, "{what}: expected {expected}, got {a}");
        return;
    }
    let err = (a - expected).abs();
    let bound = tol.atol + tol.rtol * expected.abs();
    assert!(
        err <= bound,
        "{what}: expected {expected:e}, got {a:e} (|error| = {err:e} > {bound:e} = atol {} + rtol {}·|expected|)",
        tol.atol,
        tol.rtol
    );
}

/// The largest `|x|` of `xs`, NaN if any is NaN (`fold(0.0, f64::max)` would skip a NaN, and a
/// check `largest ≤ tol` would pass on NaN results).
pub fn largest_magnitude<T: Float>(xs: impl IntoIterator<Item = T>) -> T {
    xs.into_iter().fold(T::zero(), |m, x| {
        if m.is_nan() || x.is_nan() {
            T::nan()
        } else {
            m.max(x.abs())
        }
    })
}
