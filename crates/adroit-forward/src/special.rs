//! [`SpecialFunctions`]: functions beyond [`num_traits::Float`] that adroit differentiates, on
//! the primal floats and on every dual number type.

use crate::rules::{Erf, Erfc};
use crate::{Dual, DualVec, HyperDualVec};
use num_traits::Float;

/// Special functions that `num_traits::Float` lacks: the error function and its complement.
/// Implemented for `f32`, `f64` (values from the `libm` crate, a port of musl's libm, whose
/// `erf` comes from FreeBSD's `msun`), for every dual number type over them (derivatives from
/// [`rules::Erf`](crate::rules::Erf) and [`rules::Erfc`](crate::rules::Erfc)), and, in
/// adroit-reverse, for tape variables, so code generic over `S: SpecialFunctions` (e.g. the
/// exact GELU, `x·½·erfc(−x/√2)`) differentiates in every mode.
///
/// On a concrete `f64`, call these as `SpecialFunctions::erf(x)`: the standard library has an
/// unstable `f64::erf` of the same name, which `x.erf()` would collide with.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, SpecialFunctions, derivative};
/// // d/dx erf(x) at 0 = 2/√π
/// let d = derivative(|x: Dual<f64>| x.erf(), 0.0);
/// assert!((d - 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// assert_eq!(SpecialFunctions::erfc(0.0_f64), 1.0);
/// ```
pub trait SpecialFunctions: Float {
    /// The error function `erf x = 2/√π ∫₀ˣ e^(−t²) dt`, in `[−1, 1]`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// assert!((SpecialFunctions::erf(1.0_f64) - 0.8427007929497149).abs() < 1e-16);
    /// ```
    fn erf(self) -> Self;

    /// The complementary error function `erfc x = 1 − erf x`, accurate where `erf x` is close
    /// to 1 (its relative precision holds in the right tail).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// assert!((SpecialFunctions::erfc(1.0_f32) - 0.15729921).abs() < 1e-7);
    /// ```
    fn erfc(self) -> Self;
}

impl SpecialFunctions for f64 {
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }
}

impl SpecialFunctions for f32 {
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }
}

impl<T: SpecialFunctions> SpecialFunctions for Dual<T> {
    #[inline]
    fn erf(self) -> Self {
        let (value, d) = Erf.eval(self.value());
        self.chain_unary(value, d)
    }

    #[inline]
    fn erfc(self) -> Self {
        let (value, d) = Erfc.eval(self.value());
        self.chain_unary(value, d)
    }
}

impl<T: SpecialFunctions, const N: usize> SpecialFunctions for DualVec<T, N> {
    #[inline]
    fn erf(self) -> Self {
        let (value, d) = Erf.eval(self.value());
        self.chain_unary(value, d)
    }

    #[inline]
    fn erfc(self) -> Self {
        let (value, d) = Erfc.eval(self.value());
        self.chain_unary(value, d)
    }
}

impl<T: SpecialFunctions, const M: usize, const N: usize> SpecialFunctions
    for HyperDualVec<T, M, N>
{
    /// `erf'` and `erf''` from the rule evaluated on a [`Dual`] (whose value is `erf x`).
    #[inline]
    fn erf(self) -> Self {
        let (value, d) = Erf.eval(Dual::variable(self.value()));
        self.chain_unary(value.value(), d)
    }

    /// `erfc'` and `erfc''` from the rule evaluated on a [`Dual`] (whose value is `erfc x`).
    #[inline]
    fn erfc(self) -> Self {
        let (value, d) = Erfc.eval(Dual::variable(self.value()));
        self.chain_unary(value.value(), d)
    }
}
