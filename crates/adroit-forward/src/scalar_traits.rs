//! The `num_traits` and `std::ops` implementations shared by every [`ChainRule`] type.
//!
//! They are written once, as macros over the [`ChainRule`] methods, because Rust's orphan rules
//! forbid a blanket `impl<S: ChainRule> Float for S`. Every method body is a one-line call of a
//! rule of [`rules`](crate::rules) (or of the linear operations `shift`/`scale`/`unscale`), so
//! no derivative is written here.
//!
//! [`ChainRule`]: crate::ChainRule

/// Implements comparison, arithmetic operators, `Sum`/`Product`, `Default` and the `num_traits`
/// traits (`Float`, `FloatConst`, `Num`, `NumCast`, `ToPrimitive`, `FromPrimitive`, `Signed`,
/// `Zero`, `One`, `Inv`) for a type implementing [`ChainRule`](crate::ChainRule).
///
/// Usage: `impl_scalar_traits!([generic parameters] Type, PrimalType);`. Used by this crate for
/// its dual numbers and by `adroit-reverse` for its variable; not meant for users.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_scalar_traits {
    ([$($g:tt)*] $ty:ty, $p:ty) => {
        const _: () = {
        use $crate::ChainRule as __Cr;
        use $crate::__private::num_traits as __nt;
        use $crate::rules as __rules;
        use ::core::ops as __ops;

        impl<$($g)*> ::core::cmp::PartialEq for $ty {
            #[inline]
            fn eq(&self, other: &Self) -> bool {
                self.primal() == other.primal()
            }
        }

        impl<$($g)*> ::core::cmp::PartialOrd for $ty {
            #[inline]
            fn partial_cmp(&self, other: &Self) -> Option<::core::cmp::Ordering> {
                self.primal().partial_cmp(&other.primal())
            }
        }

        impl<$($g)*> ::core::default::Default for $ty {
            #[inline]
            fn default() -> Self {
                <Self as __Cr>::constant(<$p as __nt::Zero>::zero())
            }
        }

        impl<$($g)*> __ops::Neg for $ty {
            type Output = Self;
            #[inline]
            #[track_caller]
            fn neg(self) -> Self {
                self.apply_unary(__rules::Neg)
            }
        }

        $crate::__impl_binary_op!([$($g)*] $ty, $p, Add, add, AddAssign, add_assign,
            |a, b| a.apply_binary(b, __rules::Add), |a, c| a.shift(c));
        $crate::__impl_binary_op!([$($g)*] $ty, $p, Sub, sub, SubAssign, sub_assign,
            |a, b| a.apply_binary(b, __rules::Sub), |a, c| a.shift(-c));
        $crate::__impl_binary_op!([$($g)*] $ty, $p, Mul, mul, MulAssign, mul_assign,
            |a, b| a.apply_binary(b, __rules::Mul), |a, c| a.scale(c));
        $crate::__impl_binary_op!([$($g)*] $ty, $p, Div, div, DivAssign, div_assign,
            |a, b| a.apply_binary(b, __rules::Div), |a, c| a.unscale(c));
        $crate::__impl_binary_op!([$($g)*] $ty, $p, Rem, rem, RemAssign, rem_assign,
            |a, b| a.apply_binary(b, __rules::Rem),
            |a, c| a.apply_binary(<$ty as __Cr>::constant(c), __rules::Rem));

        /// Starts from `−0.0`, as the plain floats' `Sum` does (the additive identity for
        /// every sign of zero: an empty sum, or a sum of `−0.0`s, is `−0.0`).
        impl<$($g)*> ::core::iter::Sum for $ty {
            #[track_caller]
            fn sum<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as __Cr>::constant(<$p as __nt::Float>::neg_zero()), |acc, x| {
                    acc + x
                })
            }
        }

        /// As the `Sum` of values: from `−0.0`.
        impl<'__a, $($g)*> ::core::iter::Sum<&'__a $ty> for $ty {
            #[track_caller]
            fn sum<I: Iterator<Item = &'__a Self>>(iter: I) -> Self {
                iter.copied().sum()
            }
        }

        impl<$($g)*> ::core::iter::Product for $ty {
            #[track_caller]
            fn product<I: Iterator<Item = Self>>(iter: I) -> Self {
                iter.fold(<Self as __nt::One>::one(), |acc, x| acc * x)
            }
        }

        impl<'__a, $($g)*> ::core::iter::Product<&'__a $ty> for $ty {
            #[track_caller]
            fn product<I: Iterator<Item = &'__a Self>>(iter: I) -> Self {
                iter.copied().product()
            }
        }

        impl<$($g)*> __nt::Zero for $ty {
            #[inline]
            fn zero() -> Self {
                <Self as __Cr>::constant(<$p as __nt::Zero>::zero())
            }
            /// True only when the primal value *and every perturbation* are zero, so that
            /// code skipping work on zeros (as linear algebra does) never drops a derivative.
            #[inline]
            fn is_zero(&self) -> bool {
                self.is_identically_zero()
            }
        }

        impl<$($g)*> __nt::One for $ty {
            #[inline]
            fn one() -> Self {
                <Self as __Cr>::constant(<$p as __nt::One>::one())
            }
        }

        impl<$($g)*> __nt::Num for $ty {
            type FromStrRadixErr = <$p as __nt::Num>::FromStrRadixErr;
            fn from_str_radix(s: &str, radix: u32) -> Result<Self, Self::FromStrRadixErr> {
                <$p as __nt::Num>::from_str_radix(s, radix).map(<Self as __Cr>::constant)
            }
        }

        impl<$($g)*> __nt::ToPrimitive for $ty {
            fn to_i64(&self) -> Option<i64> {
                self.primal().to_i64()
            }
            fn to_u64(&self) -> Option<u64> {
                self.primal().to_u64()
            }
            fn to_i128(&self) -> Option<i128> {
                self.primal().to_i128()
            }
            fn to_u128(&self) -> Option<u128> {
                self.primal().to_u128()
            }
            fn to_f32(&self) -> Option<f32> {
                self.primal().to_f32()
            }
            fn to_f64(&self) -> Option<f64> {
                self.primal().to_f64()
            }
        }

        impl<$($g)*> __nt::NumCast for $ty {
            #[inline]
            fn from<__N: __nt::ToPrimitive>(n: __N) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
        }

        impl<$($g)*> __nt::FromPrimitive for $ty {
            fn from_i64(n: i64) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
            fn from_u64(n: u64) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
            fn from_i128(n: i128) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
            fn from_u128(n: u128) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
            fn from_f32(n: f32) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
            fn from_f64(n: f64) -> Option<Self> {
                <$p as __nt::NumCast>::from(n).map(<Self as __Cr>::constant)
            }
        }

        impl<$($g)*> __nt::Inv for $ty {
            type Output = Self;
            #[inline]
            #[track_caller]
            fn inv(self) -> Self {
                self.apply_unary(__rules::Recip)
            }
        }

        impl<$($g)*> __nt::Signed for $ty {
            #[inline]
            #[track_caller]
            fn abs(&self) -> Self {
                self.apply_unary(__rules::Abs)
            }
            /// `self − other` where positive, 0 otherwise (derivative 0 at the kink); NaN
            /// propagates as for plain floats.
            #[track_caller]
            fn abs_sub(&self, other: &Self) -> Self {
                if *self > *other || self.primal().is_nan() || other.primal().is_nan() {
                    *self - *other
                } else {
                    <Self as __nt::Zero>::zero()
                }
            }
            #[inline]
            fn signum(&self) -> Self {
                self.apply_unary(__rules::Signum)
            }
            /// By the primal's sign bit, as for plain floats: true at `+0.0` and a positive NaN.
            fn is_positive(&self) -> bool {
                self.primal().is_sign_positive()
            }
            /// By the primal's sign bit, as for plain floats: true at `−0.0` and a negative NaN.
            fn is_negative(&self) -> bool {
                self.primal().is_sign_negative()
            }
        }

        impl<$($g)*> __nt::FloatConst for $ty where $p: __nt::FloatConst {
            $crate::__float_consts!($p, __nt::FloatConst; E FRAC_1_PI FRAC_1_SQRT_2 FRAC_2_PI FRAC_2_SQRT_PI
                FRAC_PI_2 FRAC_PI_3 FRAC_PI_4 FRAC_PI_6 FRAC_PI_8 LN_10 LN_2 LOG10_E LOG2_E PI
                SQRT_2 TAU LOG10_2 LOG2_10);
        }

        impl<$($g)*> __nt::Float for $ty {
            $crate::__float_consts!($p, __nt::Float; nan infinity neg_infinity neg_zero min_value
                min_positive_value epsilon max_value);

            fn is_nan(self) -> bool {
                self.primal().is_nan()
            }
            fn is_infinite(self) -> bool {
                self.primal().is_infinite()
            }
            fn is_finite(self) -> bool {
                self.primal().is_finite()
            }
            fn is_normal(self) -> bool {
                self.primal().is_normal()
            }
            fn is_subnormal(self) -> bool {
                self.primal().is_subnormal()
            }
            fn classify(self) -> ::core::num::FpCategory {
                self.primal().classify()
            }
            fn is_sign_positive(self) -> bool {
                self.primal().is_sign_positive()
            }
            fn is_sign_negative(self) -> bool {
                self.primal().is_sign_negative()
            }
            fn integer_decode(self) -> (u64, i16, i8) {
                self.primal().integer_decode()
            }

            $crate::__unary_methods!(
                floor Floor, ceil Ceil, round Round, trunc Trunc, fract Fract, abs Abs,
                signum Signum, recip Recip, sqrt Sqrt, cbrt Cbrt, exp Exp, exp2 Exp2,
                exp_m1 ExpM1, ln Ln, log2 Log2, log10 Log10, ln_1p Ln1p, sin Sin, cos Cos,
                tan Tan, asin Asin, acos Acos, atan Atan, sinh Sinh, cosh Cosh, tanh Tanh,
                asinh Asinh, acosh Acosh, atanh Atanh, to_degrees ToDegrees,
                to_radians ToRadians
            );
            $crate::__binary_methods!(
                powf Powf, log Log, max Max, min Min, hypot Hypot, atan2 Atan2,
                copysign Copysign
            );

            #[inline]
            #[track_caller]
            fn powi(self, n: i32) -> Self {
                self.apply_unary(__rules::Powi(n))
            }
            /// `self·a + b` with the fused (singly rounded) primal of the plain number type, so
            /// the primal matches the plain program's (the sign of a zero included); the
            /// tangent is that of `self·a + b`. Where `self·a` overflows although the fused
            /// value does not, or meets `b`'s opposite infinity (`∞ − ∞` unfused), the sum is
            /// formed at half scale, `(self·(a/2) + b/2)·2` with the larger factor halved (exact
            /// scalings; a subnormal tangent there may lose its last bit). Where even `self·(a/2)` overflows
            /// into `b`'s opposite infinity, the result is `b` (its tangent alone).
            #[inline]
            #[track_caller]
            fn mul_add(self, a: Self, b: Self) -> Self {
                let fused = self.primal().mul_add(a.primal(), b.primal());
                let mut unfused = self * a + b;
                if !unfused.primal().is_finite() && !fused.is_nan() && unfused.primal() != fused {
                    let one = <$p as __nt::One>::one();
                    let two = one + one;
                    let half = one / two;
                    // Halve the larger factor: reverse mode's adjoint of the other one is
                    // then 2·(its half), not 2·(the larger factor), which could overflow.
                    let halved = if self.primal().abs() >= a.primal().abs() {
                        (self.scale(half) * a + b.scale(half)).scale(two)
                    } else {
                        (self * a.scale(half) + b.scale(half)).scale(two)
                    };
                    if halved.primal().is_finite() || halved.primal() == fused {
                        unfused = halved;
                    } else if b.primal() == fused {
                        return b;
                    }
                }
                // The rounding difference is exact (the two are within a few ulps), so
                // shifting by it gives the fused value; a shift has derivative 1.
                let d = fused - unfused.primal();
                let zero = <$p as __nt::Zero>::zero();
                let result = if d != zero && d.is_finite() && unfused.primal() + d == fused {
                    unfused.shift(d)
                } else {
                    unfused
                };
                // A zero of the other sign (x·a underflowing to −0 plus b = +0 is +0 unfused,
                // −0 fused): −((−r) + 0) is −0 and r + 0 is +0, the tangent unchanged.
                if result.primal() == zero
                    && fused == zero
                    && result.primal().is_sign_negative() != fused.is_sign_negative()
                {
                    return if fused.is_sign_negative() {
                        -((-result).shift(zero))
                    } else {
                        result.shift(zero)
                    };
                }
                result
            }
            #[track_caller]
            fn abs_sub(self, other: Self) -> Self {
                <Self as __nt::Signed>::abs_sub(&self, &other)
            }
            #[inline]
            #[track_caller]
            fn sin_cos(self) -> (Self, Self) {
                (self.apply_unary(__rules::Sin), self.apply_unary(__rules::Cos))
            }
            /// Clamps by selection: inside `[min, max]` (boundaries included) the input passes
            /// through with derivative 1; outside, the bound is returned with its own
            /// perturbation.
            ///
            /// # Panics
            /// If `min > max` or either is NaN (comparing primal values), as `f64::clamp` does.
            #[inline]
            #[track_caller]
            fn clamp(self, min: Self, max: Self) -> Self {
                assert!(
                    min <= max,
                    "clamp: min > max, or either was NaN (as for plain floats; \
                     nalgebra's RealField::clamp does not check its bounds)"
                );
                $crate::__private::clamp_by_selection(self, min, max)
            }
        }
        };
    };
}

/// Implements one binary operator (and its assigning form) for `Self ∘ Self` and `Self ∘ Primal`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_binary_op {
    ([$($g:tt)*] $ty:ty, $p:ty, $Op:ident, $op:ident, $OpAssign:ident, $op_assign:ident,
     |$a:ident, $b:ident| $with_self:expr, |$a2:ident, $c:ident| $with_primal:expr) => {
        impl<$($g)*> ::core::ops::$Op for $ty {
            type Output = Self;
            #[inline(always)]
            #[track_caller]
            fn $op(self, rhs: Self) -> Self {
                let ($a, $b) = (self, rhs);
                $with_self
            }
        }

        impl<$($g)*> ::core::ops::$Op<$p> for $ty {
            type Output = Self;
            #[inline(always)]
            #[track_caller]
            fn $op(self, rhs: $p) -> Self {
                let ($a2, $c) = (self, rhs);
                $with_primal
            }
        }

        impl<$($g)*> ::core::ops::$OpAssign for $ty {
            #[inline]
            #[track_caller]
            fn $op_assign(&mut self, rhs: Self) {
                *self = ::core::ops::$Op::$op(*self, rhs);
            }
        }

        impl<$($g)*> ::core::ops::$OpAssign<$p> for $ty {
            #[inline]
            #[track_caller]
            fn $op_assign(&mut self, rhs: $p) {
                *self = ::core::ops::$Op::$op(*self, rhs);
            }
        }
    };
}

/// Implements `f32`/`f64` on the left of `+ - * / %` with a [`ChainRule`](crate::ChainRule) type
/// on the right (`2.0 * x`): `impl_scalar_lhs_ops!([generics] Type, f64);`.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_scalar_lhs_ops {
    ([$($g:tt)*] $ty:ty, $p:ty) => {
        impl<$($g)*> ::core::ops::Add<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn add(self, rhs: $ty) -> $ty {
                $crate::ChainRule::shift(rhs, self)
            }
        }

        impl<$($g)*> ::core::ops::Sub<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn sub(self, rhs: $ty) -> $ty {
                $crate::ChainRule::shift(-rhs, self)
            }
        }

        impl<$($g)*> ::core::ops::Mul<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn mul(self, rhs: $ty) -> $ty {
                $crate::ChainRule::scale(rhs, self)
            }
        }

        impl<$($g)*> ::core::ops::Div<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn div(self, rhs: $ty) -> $ty {
                <$ty as $crate::ChainRule>::constant(self) / rhs
            }
        }

        impl<$($g)*> ::core::ops::Rem<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn rem(self, rhs: $ty) -> $ty {
                <$ty as $crate::ChainRule>::constant(self) % rhs
            }
        }
    };
}

/// Constant-valued methods (`PI()`, `nan()`, ...) lifted from the primal type.
#[doc(hidden)]
#[macro_export]
macro_rules! __float_consts {
    ($p:ty, $tr:path; $($name:ident)*) => {$(
        #[inline]
        fn $name() -> Self {
            <Self as $crate::ChainRule>::constant(<$p as $tr>::$name())
        }
    )*};
}

/// `fn name(self) -> Self { self.apply_unary(rules::Rule) }` for each `name Rule` pair.
#[doc(hidden)]
#[macro_export]
macro_rules! __unary_methods {
    ($($name:ident $rule:ident),* $(,)?) => {$(
        #[inline]
        #[track_caller]
        fn $name(self) -> Self {
            $crate::ChainRule::apply_unary(self, $crate::rules::$rule)
        }
    )*};
}

/// `fn name(self, other: Self) -> Self { self.apply_binary(other, rules::Rule) }` for each pair.
#[doc(hidden)]
#[macro_export]
macro_rules! __binary_methods {
    ($($name:ident $rule:ident),* $(,)?) => {$(
        #[inline]
        #[track_caller]
        fn $name(self, other: Self) -> Self {
            $crate::ChainRule::apply_binary(self, other, $crate::rules::$rule)
        }
    )*};
}

/// Implements plain `f32`/`f64` on both sides of `+ - * / %` (and the assign operators) for a
/// nested type whose primal is itself a [`ChainRule`](crate::ChainRule) type over that float:
/// `Dual<Dual<f64>>`, and adroit-reverse's `Var<Dual<f64>>` (in `hvp`) and
/// `Var<DualVec<f64, N>>` (in `hessian`). The float is lifted to a constant of the primal type.
/// Usage: `impl_nested_float_ops!([generics] Type, f64);`.
#[doc(hidden)]
#[macro_export]
macro_rules! impl_nested_float_ops {
    ([$($g:tt)*] $ty:ty, $p:ty) => {
        $crate::__impl_nested_float_op!([$($g)*] $ty, $p, Add, add, AddAssign, add_assign,
            |x, c| x.shift(c), |c, x| x.shift(c));
        $crate::__impl_nested_float_op!([$($g)*] $ty, $p, Sub, sub, SubAssign, sub_assign,
            |x, c| x.shift(-c), |c, x| (-x).shift(c));
        $crate::__impl_nested_float_op!([$($g)*] $ty, $p, Mul, mul, MulAssign, mul_assign,
            |x, c| x.scale(c), |c, x| x.scale(c));
        $crate::__impl_nested_float_op!([$($g)*] $ty, $p, Div, div, DivAssign, div_assign,
            |x, c| x.unscale(c), |c, x| <$ty as $crate::ChainRule>::constant(c) / x);
        $crate::__impl_nested_float_op!([$($g)*] $ty, $p, Rem, rem, RemAssign, rem_assign,
            |x, c| x % <$ty as $crate::ChainRule>::constant(c),
            |c, x| <$ty as $crate::ChainRule>::constant(c) % x);
    };
}

/// One operator of [`impl_nested_float_ops`]: `x op c` by `$right(x, lifted c)`, `c op x` by
/// `$left(lifted c, x)`, and `x op= c`.
#[doc(hidden)]
#[macro_export]
macro_rules! __impl_nested_float_op {
    ([$($g:tt)*] $ty:ty, $p:ty, $Op:ident, $op:ident, $OpAssign:ident, $op_assign:ident,
     |$x:ident, $c:ident| $right:expr, |$c2:ident, $x2:ident| $left:expr) => {
        impl<$($g)*> ::core::ops::$Op<$p> for $ty {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn $op(self, rhs: $p) -> $ty {
                #[allow(unused_imports)]
                use $crate::ChainRule as _;
                let $x = self;
                let $c = <<$ty as $crate::ChainRule>::Primal as $crate::ChainRule>::constant(rhs);
                $right
            }
        }

        impl<$($g)*> ::core::ops::$Op<$ty> for $p {
            type Output = $ty;
            #[inline]
            #[track_caller]
            fn $op(self, rhs: $ty) -> $ty {
                #[allow(unused_imports)]
                use $crate::ChainRule as _;
                let $x2 = rhs;
                let $c2 = <<$ty as $crate::ChainRule>::Primal as $crate::ChainRule>::constant(self);
                $left
            }
        }

        impl<$($g)*> ::core::ops::$OpAssign<$p> for $ty {
            #[inline]
            #[track_caller]
            fn $op_assign(&mut self, rhs: $p) {
                *self = ::core::ops::$Op::$op(*self, rhs);
            }
        }
    };
}

/// `x` clamped to `[min, max]` by selection, comparing primal values, without checking the
/// bounds: simba's `RealField::clamp` on plain floats (the dual types' `Float::clamp` checks
/// them first, as `f64::clamp` does). Used by the exported macros.
#[doc(hidden)]
#[inline]
pub fn clamp_by_selection<S: PartialOrd>(x: S, min: S, max: S) -> S {
    if x < min {
        min
    } else if x > max {
        max
    } else {
        x
    }
}
