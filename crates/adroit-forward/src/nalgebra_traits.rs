//! `nalgebra::RealField`/`ComplexField` (and the `simba`/`approx` traits they need) for the
//! dual numbers over `f32` and `f64`, so `DMatrix<Dual<f64>>` supports LU, Cholesky, QR,
//! `solve`, `determinant`, `try_inverse` and `SymmetricEigen` with correct derivatives.
//!
//! Every method forwards to the `num_traits::Float` implementation (hence to the rule table);
//! nothing is differentiated here.
//!
//! Known limitation: an *iterative* decomposition (`SymmetricEigen`, SVD) differentiates the
//! iterations it runs, and nalgebra decides convergence on the primal values alone. The
//! derivatives then carry the error of the last iterations, which grows like 1/(eigenvalue
//! gap): in `f64` it stays at rounding level in our tests, but in `f32` the eigenvalue
//! derivatives of a 4 × 4 matrix with a gap of 0.08 are ~5e-6 (first) and ~4e-4 (second order)
//! off, about 30× what `f32` allows (test `hyperdual_symmetric_eigenvalues_f32_at_plain_f32_accuracy`,
//! ignored as a known limitation). Use `f64` for derivatives of eigenvalues; direct
//! decompositions (LU, Cholesky, QR) have no such error.
//!
//! Range: an algorithm whose intermediates are far from 1 meets the range notes of
//! [`rules::Div`](crate::rules::Div) (a partial that underflows before it meets the tangent)
//! and, for second derivatives, of [`HyperDualVec`](crate::HyperDualVec). In `f32` this is
//! within reach: nalgebra's matrix `exp` (a Padé approximant whose coefficients reach 6.5e16)
//! gives wrong second derivatives in `HyperDual<f32>` for a 2 × 2 matrix of 1-norm 4 (the
//! second-order part of a division by its pivots underflows), and a 2 × 2 `try_inverse` with
//! entries 2e16 a first-order tangent 0 (it divides by the determinant, 4e32; the LU inverse
//! is right). `f64` duals are right on both; use `f64` where intermediates may be large.

/// `Σₖ₌₀⁹ (±x²)ᵏ/(2k+1)!`: the Taylor series of `sin x / x` (`alternating`) or `sinh x / x`,
/// accurate to rounding for `|x| < 1` (the first omitted term is below `1/21! ≈ 2e-20`), its
/// derivatives too when `S` is a dual number. Used by [`impl_nalgebra_traits`].
#[doc(hidden)]
pub fn odd_factorial_series<S: num_traits::Float>(x: S, alternating: bool) -> S {
    let x2 = x * x;
    let step = if alternating { -x2 } else { x2 };
    // Horner from the highest term: 1/19!, …, 1/3!, 1/1!.
    let mut sum = S::zero();
    let mut factorial = 1.0_f64;
    let mut coefficients = [0.0_f64; 10];
    for (k, c) in coefficients.iter_mut().enumerate() {
        if k > 0 {
            factorial *= ((2 * k) * (2 * k + 1)) as f64;
        }
        *c = factorial.recip();
    }
    for &c in coefficients.iter().rev() {
        sum = sum * step + S::from(c).unwrap_or_else(S::zero);
    }
    sum
}

/// Implements `simba`'s `SimdValue`, `Field`, `SubsetOf`, `ComplexField`, `RealField` and
/// `approx`'s `AbsDiffEq`/`RelativeEq`/`UlpsEq` for a [`ChainRule`](crate::ChainRule) type
/// whose innermost float is `f32` or `f64` (its `Primal` that float, or a dual over it, as for
/// adroit-reverse's `Var<Dual<f64>>`): `impl_nalgebra_traits!([generics] Type, f64);`, the
/// second argument the innermost float. Used by this crate and by `adroit-reverse`; not meant
/// for users.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_nalgebra_traits {
    ([$($g:tt)*] $ty:ty, $p:ty) => {
        const _: () = {
        use $crate::ChainRule as __Cr;
        use $crate::__private::num_traits::{Float as __F, FloatConst as __Fc, Zero as __Z};
        use $crate::__private::simba;
        use $crate::__private::approx;

        impl<$($g)*> simba::simd::SimdValue for $ty {
            const LANES: usize = 1;
            type Element = Self;
            type SimdBool = bool;
            #[inline]
            fn splat(val: Self) -> Self {
                val
            }
            #[inline]
            fn extract(&self, _: usize) -> Self {
                *self
            }
            // The trait declares these `unsafe`; with one lane there is nothing unchecked.
            #[allow(unsafe_code)]
            #[inline]
            unsafe fn extract_unchecked(&self, _: usize) -> Self {
                *self
            }
            #[inline]
            fn replace(&mut self, _: usize, val: Self) {
                *self = val;
            }
            // The trait declares these `unsafe`; with one lane there is nothing unchecked.
            #[allow(unsafe_code)]
            #[inline]
            unsafe fn replace_unchecked(&mut self, _: usize, val: Self) {
                *self = val;
            }
            #[inline]
            fn select(self, cond: bool, other: Self) -> Self {
                if cond { self } else { other }
            }
        }

        impl<$($g)*> simba::scalar::Field for $ty {}

        impl<$($g)*> simba::scalar::SubsetOf<$ty> for $ty {
            #[inline]
            fn to_superset(&self) -> Self {
                *self
            }
            #[inline]
            fn from_superset_unchecked(element: &Self) -> Self {
                *element
            }
            #[inline]
            fn is_in_subset(_: &Self) -> bool {
                true
            }
        }

        $crate::__impl_primitive_subset!([$($g)*] $ty, $p, f32);
        $crate::__impl_primitive_subset!([$($g)*] $ty, $p, f64);

        impl<$($g)*> approx::AbsDiffEq for $ty {
            type Epsilon = Self;
            fn default_epsilon() -> Self {
                <Self as __Cr>::constant(<<$ty as __Cr>::Primal as approx::AbsDiffEq>::default_epsilon())
            }
            /// Compares primal values only.
            fn abs_diff_eq(&self, other: &Self, epsilon: Self) -> bool {
                self.primal().abs_diff_eq(&other.primal(), epsilon.primal())
            }
        }

        impl<$($g)*> approx::RelativeEq for $ty {
            fn default_max_relative() -> Self {
                <Self as __Cr>::constant(
                    <<$ty as __Cr>::Primal as approx::RelativeEq>::default_max_relative(),
                )
            }
            /// Compares primal values only.
            fn relative_eq(&self, other: &Self, epsilon: Self, max_relative: Self) -> bool {
                self.primal()
                    .relative_eq(&other.primal(), epsilon.primal(), max_relative.primal())
            }
        }

        impl<$($g)*> approx::UlpsEq for $ty {
            fn default_max_ulps() -> u32 {
                <<$ty as __Cr>::Primal as approx::UlpsEq>::default_max_ulps()
            }
            /// Compares primal values only.
            fn ulps_eq(&self, other: &Self, epsilon: Self, max_ulps: u32) -> bool {
                self.primal().ulps_eq(&other.primal(), epsilon.primal(), max_ulps)
            }
        }

        impl<$($g)*> simba::scalar::ComplexField for $ty {
            type RealField = Self;

            #[inline]
            fn from_real(re: Self) -> Self {
                re
            }
            #[inline]
            #[track_caller]
            fn real(self) -> Self {
                self
            }
            #[inline]
            #[track_caller]
            fn imaginary(self) -> Self {
                <Self as __Z>::zero()
            }
            #[inline]
            #[track_caller]
            fn modulus(self) -> Self {
                __F::abs(self)
            }
            #[inline]
            #[track_caller]
            fn modulus_squared(self) -> Self {
                self * self
            }
            #[inline]
            #[track_caller]
            fn argument(self) -> Self {
                if self.primal() >= <<$ty as __Cr>::Primal as __Z>::zero() {
                    <Self as __Z>::zero()
                } else {
                    <Self as __Fc>::PI()
                }
            }
            #[inline]
            #[track_caller]
            fn norm1(self) -> Self {
                __F::abs(self)
            }
            #[inline]
            #[track_caller]
            fn scale(self, factor: Self) -> Self {
                self * factor
            }
            #[inline]
            #[track_caller]
            fn unscale(self, factor: Self) -> Self {
                self / factor
            }
            #[inline]
            #[track_caller]
            fn conjugate(self) -> Self {
                self
            }
            #[inline]
            #[track_caller]
            fn mul_add(self, a: Self, b: Self) -> Self {
                __F::mul_add(self, a, b)
            }
            #[inline]
            #[track_caller]
            fn hypot(self, other: Self) -> Self {
                __F::hypot(self, other)
            }
            #[inline]
            #[track_caller]
            fn log(self, base: Self) -> Self {
                __F::log(self, base)
            }
            #[inline]
            #[track_caller]
            fn powi(self, n: i32) -> Self {
                __F::powi(self, n)
            }
            #[inline]
            #[track_caller]
            fn powf(self, n: Self) -> Self {
                __F::powf(self, n)
            }
            #[inline]
            #[track_caller]
            fn powc(self, n: Self) -> Self {
                __F::powf(self, n)
            }
            #[inline]
            #[track_caller]
            fn sin_cos(self) -> (Self, Self) {
                __F::sin_cos(self)
            }
            #[inline]
            #[track_caller]
            fn is_finite(&self) -> bool {
                __F::is_finite(*self)
            }
            #[inline]
            #[track_caller]
            fn try_sqrt(self) -> Option<Self> {
                if self.primal() >= <<$ty as __Cr>::Primal as __Z>::zero() {
                    Some(__F::sqrt(self))
                } else {
                    None
                }
            }
            /// `sin x / x`, by its Taylor series `Σ (−x²)ᵏ/(2k+1)!` (k ≤ 9, truncation error
            /// below 1e-19) where the primal value is below 1 in magnitude: at 0 simba's default
            /// tests `is_zero`, which a perturbed 0 is not, and near 0 the derivatives of
            /// `sin x / x` cancel (the second loses all its digits by |x| ≈ 1e-8).
            #[track_caller]
            fn sinc(self) -> Self {
                if __F::abs(self.primal()) < <<$ty as __Cr>::Primal as $crate::__private::num_traits::One>::one() {
                    $crate::__private::odd_factorial_series(self, true)
                } else {
                    __F::sin(self) / self
                }
            }
            /// `sinh x / x`, by the series `Σ x²ᵏ/(2k+1)!` for a primal below 1 in magnitude
            /// (as `sinc`).
            #[track_caller]
            fn sinhc(self) -> Self {
                if __F::abs(self.primal()) < <<$ty as __Cr>::Primal as $crate::__private::num_traits::One>::one() {
                    $crate::__private::odd_factorial_series(self, false)
                } else {
                    __F::sinh(self) / self
                }
            }
            /// `cos x / x`, and 1 at a primal 0 (simba's convention, tested on the primal).
            #[track_caller]
            fn cosc(self) -> Self {
                if self.primal() == <<$ty as __Cr>::Primal as __Z>::zero() {
                    <Self as $crate::__private::num_traits::One>::one()
                } else {
                    __F::cos(self) / self
                }
            }
            /// `cosh x / x`, and 1 at a primal 0 (simba's convention, tested on the primal).
            #[track_caller]
            fn coshc(self) -> Self {
                if self.primal() == <<$ty as __Cr>::Primal as __Z>::zero() {
                    <Self as $crate::__private::num_traits::One>::one()
                } else {
                    __F::cosh(self) / self
                }
            }
            #[inline]
            #[track_caller]
            fn signum(self) -> Self {
                __F::signum(self)
            }
            /// `(|x|, ±1)` as for `f32`/`f64` (simba's default divides `x` by `|x|`, whose
            /// derivative is NaN at subnormal or infinite `x` and fed Householder reflections
            /// and Givens rotations NaN tangents): the sign is piecewise constant, derivative 0.
            /// At `±0` the modulus is `x` itself with its tangent (one-sided, unlike `abs`'s
            /// `abs'(0) = 0`), so that `modulus · sign` is `x` with its derivative there too.
            #[inline]
            #[track_caller]
            fn to_exp(self) -> (Self, Self) {
                if self.primal() >= <<$ty as __Cr>::Primal as __Z>::zero() {
                    (self, <Self as $crate::__private::num_traits::One>::one())
                } else {
                    (-self, -<Self as $crate::__private::num_traits::One>::one())
                }
            }
            $crate::__forward_unary!(__F; floor ceil round trunc fract abs recip sin cos tan
                asin acos atan sinh cosh tanh asinh acosh atanh log2 log10 ln ln_1p sqrt exp
                exp2 exp_m1 cbrt);
        }

        impl<$($g)*> simba::scalar::RealField for $ty {
            #[inline]
            #[track_caller]
            fn is_sign_positive(&self) -> bool {
                self.primal().is_sign_positive()
            }
            #[inline]
            #[track_caller]
            fn is_sign_negative(&self) -> bool {
                self.primal().is_sign_negative()
            }
            #[inline]
            #[track_caller]
            fn copysign(self, sign: Self) -> Self {
                __F::copysign(self, sign)
            }
            #[inline]
            #[track_caller]
            fn max(self, other: Self) -> Self {
                __F::max(self, other)
            }
            #[inline]
            #[track_caller]
            fn min(self, other: Self) -> Self {
                __F::min(self, other)
            }
            #[inline]
            #[track_caller]
            fn clamp(self, min: Self, max: Self) -> Self {
                // As simba's for plain floats: bounds unchecked (`Float::clamp` checks them).
                $crate::__private::clamp_by_selection(self, min, max)
            }
            #[inline]
            #[track_caller]
            fn atan2(self, other: Self) -> Self {
                __F::atan2(self, other)
            }
            fn min_value() -> Option<Self> {
                Some(<Self as __F>::min_value())
            }
            fn max_value() -> Option<Self> {
                Some(<Self as __F>::max_value())
            }
            fn two_pi() -> Self {
                <Self as __Fc>::TAU()
            }
            $crate::__forward_consts!(pi PI, frac_pi_2 FRAC_PI_2, frac_pi_3 FRAC_PI_3,
                frac_pi_4 FRAC_PI_4, frac_pi_6 FRAC_PI_6, frac_pi_8 FRAC_PI_8,
                frac_1_pi FRAC_1_PI, frac_2_pi FRAC_2_PI, frac_2_sqrt_pi FRAC_2_SQRT_PI,
                e E, log2_e LOG2_E, log10_e LOG10_E, ln_2 LN_2, ln_10 LN_10);
        }
        };
    };
}

/// `SubsetOf<Type> for f32/f64`: a plain float embeds as a constant; projecting gives the
/// primal value and drops the perturbations, for every element (as `ToPrimitive`). nalgebra
/// projects to `f64` for discrete choices, such as the Padé degree and the number of
/// squarings of the matrix exponential (`exp.rs`), which must see a perturbed number's primal
/// value: refusing the projection made `DMatrix<Dual<f64>>::exp` panic.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_primitive_subset {
    ([$($g:tt)*] $ty:ty, $p:ty, $prim:ty) => {
        impl<$($g)*> $crate::__private::simba::scalar::SubsetOf<$ty> for $prim {
            #[inline]
            fn to_superset(&self) -> $ty {
                // Exact for every primal type (a plain float, or a dual as a constant).
                let primal = $crate::__private::num_traits::NumCast::from(*self as $p);
                <$ty as $crate::ChainRule>::constant(primal.unwrap_or_else(
                    <<$ty as $crate::ChainRule>::Primal as $crate::__private::num_traits::Float>::nan,
                ))
            }
            #[inline]
            fn from_superset_unchecked(element: &$ty) -> Self {
                // The innermost primal value (a nested dual's too).
                let primal = $crate::ChainRule::primal(element);
                $crate::__private::num_traits::ToPrimitive::to_f64(&primal).unwrap_or(f64::NAN)
                    as $prim
            }
            #[inline]
            fn is_in_subset(_: &$ty) -> bool {
                true
            }
        }
    };
}

/// `fn name(self) -> Self { Float::name(self) }` for each name.
#[doc(hidden)]
#[macro_export]
macro_rules! __forward_unary {
    ($tr:path; $($name:ident)*) => {$(
        #[inline]
        #[track_caller]
        fn $name(self) -> Self {
            <Self as $tr>::$name(self)
        }
    )*};
}

/// `fn name() -> Self { FloatConst::NAME() }` for each pair.
#[doc(hidden)]
#[macro_export]
macro_rules! __forward_consts {
    ($($name:ident $konst:ident),* $(,)?) => {$(
        #[inline]
        fn $name() -> Self {
            <Self as $crate::__private::num_traits::FloatConst>::$konst()
        }
    )*};
}

impl_nalgebra_traits!([] crate::Dual<f64>, f64);
impl_nalgebra_traits!([] crate::Dual<f32>, f32);
impl_nalgebra_traits!([const N: usize] crate::DualVec<f64, N>, f64);
impl_nalgebra_traits!([const N: usize] crate::DualVec<f32, N>, f32);
impl_nalgebra_traits!([const M: usize, const N: usize] crate::HyperDualVec<f64, M, N>, f64);
impl_nalgebra_traits!([const M: usize, const N: usize] crate::HyperDualVec<f32, M, N>, f32);
