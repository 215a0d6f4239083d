//! [`DerivativeOrder`]: how many orders of derivatives a number type carries.

use crate::{Dual, DualVec, HyperDualVec, NanCheck};
use num_traits::Float;

/// The highest order of derivatives a number type carries: 0 for `f32`/`f64`, one more for each
/// first-order layer ([`Dual`], [`DualVec`], adroit-reverse's `Var`), two more for a
/// [`HyperDualVec`]; [`NanCheck`] carries its inner type's. A nested `Dual<Dual<f64>>` and the
/// `Var<Dual<f64>>` of adroit-reverse's `hvp` and the `Var<DualVec<f64, 12>>` of its `hessian`
/// carry 2.
///
/// Algorithms that must do more work for higher derivatives read it, such as
/// [`ImplicitFunction::eval`](crate::ImplicitFunction::eval) (one correction step per order).
/// Code generic over `S: Float + DerivativeOrder` runs on every number type of adroit.
///
/// # Example
/// ```
/// use adroit_forward::{DerivativeOrder, Dual, DualVec, HyperDual};
/// assert_eq!(<f64 as DerivativeOrder>::ORDER, 0);
/// assert_eq!(<Dual<f64> as DerivativeOrder>::ORDER, 1);
/// assert_eq!(<DualVec<f32, 4> as DerivativeOrder>::ORDER, 1);
/// assert_eq!(<HyperDual<f64> as DerivativeOrder>::ORDER, 2);
/// assert_eq!(<Dual<Dual<f64>> as DerivativeOrder>::ORDER, 2);
/// ```
pub trait DerivativeOrder {
    /// The highest order of derivatives carried (every lower order is carried too).
    const ORDER: usize;
}

impl DerivativeOrder for f32 {
    const ORDER: usize = 0;
}

impl DerivativeOrder for f64 {
    const ORDER: usize = 0;
}

impl<T: Float + DerivativeOrder> DerivativeOrder for Dual<T> {
    const ORDER: usize = T::ORDER + 1;
}

impl<T: Float + DerivativeOrder, const N: usize> DerivativeOrder for DualVec<T, N> {
    const ORDER: usize = T::ORDER + 1;
}

impl<T: Float + DerivativeOrder, const M: usize, const N: usize> DerivativeOrder
    for HyperDualVec<T, M, N>
{
    const ORDER: usize = T::ORDER + 2;
}

impl<T: Float + DerivativeOrder> DerivativeOrder for NanCheck<T> {
    const ORDER: usize = T::ORDER;
}
