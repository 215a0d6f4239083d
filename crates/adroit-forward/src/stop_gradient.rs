//! [`StopGradient`]: cutting the derivative of a value in generic code, for every number type.

use crate::{Dual, DualVec, HyperDualVec, NanCheck};
use num_traits::Float;

/// A number whose derivative can be cut: `x.stop_gradient()` has `x`'s value and is treated
/// as a constant from there on, by every mode and at every order (JAX's `stop_gradient`,
/// PyTorch's `detach`).
///
/// Implemented for `f32`/`f64` (the identity), for every dual type of this crate (all
/// perturbations dropped, nested ones too: `Dual<Dual<f64>>` keeps only the innermost
/// value), for [`NanCheck`] (the identity: it carries no derivative; what follows is checked
/// as before) and, in adroit-reverse, for `Var<T>`. So generic code bounded by
/// `S: Float + StopGradient` runs unchanged on plain floats, in forward mode, in reverse
/// mode, under `hessian` (forward-over-reverse) and in [`find_nan`](crate::find_nan), where
/// adroit-reverse's `stop_gradient` function takes a `Var` only.
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// use adroit_forward::{StopGradient, derivative, second_derivative};
///
/// // f(x) = x·sg(x): f'(x) = sg(x) (not 2x), and f'' = 0.
/// fn f<S: Float + StopGradient>(x: S) -> S {
///     x * x.stop_gradient()
/// }
/// assert_eq!(f(3.0), 9.0);
/// assert_eq!(derivative(f, 3.0), 3.0);
/// assert_eq!(second_derivative(f, 3.0), 0.0);
/// ```
pub trait StopGradient: Sized {
    /// The same value, with every perturbation dropped.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{Dual, StopGradient};
    /// let x = Dual::variable(3.0_f64);
    /// let y = x.stop_gradient();
    /// assert_eq!((y.value(), y.tangent()), (3.0, 0.0));
    /// ```
    fn stop_gradient(self) -> Self;
}

impl StopGradient for f32 {
    #[inline]
    fn stop_gradient(self) -> Self {
        self
    }
}

impl StopGradient for f64 {
    #[inline]
    fn stop_gradient(self) -> Self {
        self
    }
}

impl<T: Float + StopGradient> StopGradient for Dual<T> {
    #[inline]
    fn stop_gradient(self) -> Self {
        Dual::constant(self.value().stop_gradient())
    }
}

impl<T: Float + StopGradient, const N: usize> StopGradient for DualVec<T, N> {
    #[inline]
    fn stop_gradient(self) -> Self {
        DualVec::constant(self.value().stop_gradient())
    }
}

impl<T: Float + StopGradient, const M: usize, const N: usize> StopGradient
    for HyperDualVec<T, M, N>
{
    #[inline]
    fn stop_gradient(self) -> Self {
        HyperDualVec::constant(self.value().stop_gradient())
    }
}

impl<T: Float + StopGradient> StopGradient for NanCheck<T> {
    #[inline]
    fn stop_gradient(self) -> Self {
        NanCheck::new(self.value().stop_gradient())
    }
}
