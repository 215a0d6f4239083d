//! [`CheckScalar`]: the precisions the checks run in.

use crate::GenericFn;
use adroit_reverse::TapeScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// `f32` or `f64`: a type every AD mode of adroit supports (forward duals, the reverse tape,
/// forward-over-reverse Hessians).
pub trait CheckScalar: TapeScalar + nalgebra::Scalar + Float + sealed::Sealed {
    /// Converts to `f64` for comparisons.
    fn to_f64_lossless(self) -> f64;

    /// Converts from `f64` (rounding for `f32`).
    fn from_f64_rounded(x: f64) -> Self;

    /// The forward-over-reverse Hessian of the first output of `f` ([`adroit_reverse::hessian`]).
    fn reverse_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self>;
}

mod sealed {
    pub trait Sealed {}
}

impl sealed::Sealed for f32 {}
impl sealed::Sealed for f64 {}

impl CheckScalar for f32 {
    fn to_f64_lossless(self) -> f64 {
        f64::from(self)
    }
    fn from_f64_rounded(x: f64) -> Self {
        x as f32
    }
    fn reverse_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
        adroit_reverse::hessian(|v| f.eval(v)[0], x)
    }
}

impl CheckScalar for f64 {
    fn to_f64_lossless(self) -> f64 {
        self
    }
    fn from_f64_rounded(x: f64) -> Self {
        x
    }
    fn reverse_hessian<F: GenericFn>(f: &F, x: &[Self]) -> DMatrix<Self> {
        adroit_reverse::hessian(|v| f.eval(v)[0], x)
    }
}
