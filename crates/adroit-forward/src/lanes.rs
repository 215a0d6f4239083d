//! [`TangentLanes`]: first-order dual numbers seen as a primal value and independent tangent
//! lanes, for the decompositions that form their tangents lane by lane from one primal
//! decomposition ([`svd`](crate::svd), [`symmetric_eigen`](crate::symmetric_eigen)).

use crate::{Dual, DualVec};
use nalgebra::RealField;
use num_traits::Float;

/// A first-order dual number: a primal value and [`LANES`](Self::LANES) independent tangents
/// — [`Dual`] (one) and [`DualVec<T, N>`] (`N`, as [`gradient_chunked`](crate::gradient_chunked)
/// and [`jacobian_chunked`](crate::jacobian_chunked) seed them). Sealed: implemented for those
/// two over any `T: Float + RealField` (`f32`, `f64`, and nested duals such as `Dual<f64>`).
///
/// # Example
/// ```
/// use adroit_forward::{DualVec, TangentLanes};
/// let x = DualVec::new(2.0_f64, [1.0, 0.5]);
/// assert_eq!((x.primal_value(), x.lane(1)), (2.0, 0.5));
/// let y = DualVec::<f64, 2>::from_lanes(3.0, |k| k as f64);
/// assert_eq!(y.tangents(), [0.0, 1.0]);
/// ```
pub trait TangentLanes: Copy + nalgebra::Scalar + sealed::Sealed {
    /// The primal (and tangent) type.
    type Real: Float + RealField;

    /// The number of tangents.
    const LANES: usize;

    /// The primal value.
    fn primal_value(&self) -> Self::Real;

    /// Tangent `k` (`k < LANES`).
    fn lane(&self, k: usize) -> Self::Real;

    /// The number with primal `value` and tangent `lane(k)` in lane `k`.
    fn from_lanes(value: Self::Real, lane: impl Fn(usize) -> Self::Real) -> Self;
}

pub(crate) mod sealed {
    /// Only adroit's first-order duals.
    pub trait Sealed {}
}

impl<T: Float + RealField> sealed::Sealed for Dual<T> {}

impl<T: Float + RealField> TangentLanes for Dual<T> {
    type Real = T;
    const LANES: usize = 1;

    fn primal_value(&self) -> T {
        self.value()
    }

    fn lane(&self, _: usize) -> T {
        self.tangent()
    }

    fn from_lanes(value: T, lane: impl Fn(usize) -> T) -> Self {
        Dual::new(value, lane(0))
    }
}

impl<T: Float + RealField, const N: usize> sealed::Sealed for DualVec<T, N> {}

impl<T: Float + RealField, const N: usize> TangentLanes for DualVec<T, N> {
    type Real = T;
    const LANES: usize = N;

    fn primal_value(&self) -> T {
        self.value()
    }

    fn lane(&self, k: usize) -> T {
        self.tangents()[k]
    }

    fn from_lanes(value: T, lane: impl Fn(usize) -> T) -> Self {
        DualVec::new(value, core::array::from_fn(lane))
    }
}
