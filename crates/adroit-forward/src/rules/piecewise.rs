//! Rules for piecewise functions: absolute value, sign, rounding, `max`/`min`, `copysign`.
//!
//! Rounding functions are piecewise constant: their derivative is `0` everywhere (including at
//! the jumps, where no derivative exists; this is the convention of JAX and PyTorch).

use super::{BinaryRule, UnaryRule, lit};
use num_traits::Float;

/// `|x|`: derivative `sign(x)`.
///
/// Convention: `abs'(0) = 0` (the subgradient of minimal norm, as PyTorch; JAX 0.10 gives 1);
/// NaN propagates.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Abs, UnaryRule};
/// assert_eq!(Abs.eval(-2.0_f64), (2.0, -1.0));
/// assert_eq!(Abs.eval(3.0_f64), (3.0, 1.0));
/// // the kink: abs'(0) = 0
/// assert_eq!(Abs.eval(0.0_f64), (0.0, 0.0));
/// assert!(Abs.eval(f64::NAN).1.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Abs;

impl UnaryRule for Abs {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let slope = if x > S::zero() {
            S::one()
        } else if x < S::zero() {
            -S::one()
        } else if x == S::zero() {
            S::zero()
        } else {
            // NaN: a NaN slope whose own perturbations are NaN too (`x` itself would carry the
            // tangent 1 and give abs''(NaN) = 1), zero only where x is unperturbed.
            x * S::nan()
        };
        (x.abs(), slope)
    }
}

/// `signum x` (as the primal type defines it: `±1`, NaN for NaN): derivative `0` everywhere.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Signum, UnaryRule};
/// assert_eq!(Signum.eval(-3.0_f64), (-1.0, 0.0));
/// // `f64::signum(+0.0)` is +1
/// assert_eq!(Signum.eval(0.0_f64), (1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Signum;

impl UnaryRule for Signum {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.signum(), S::zero())
    }
}

macro_rules! piecewise_constant_rule {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default)]
        pub struct $name;

        impl UnaryRule for $name {
            #[inline(always)]
            fn eval<S: Float>(self, x: S) -> (S, S) {
                (x.$method(), S::zero())
            }
        }
    )*};
}

piecewise_constant_rule! {
    /// `⌊x⌋`: derivative `0` everywhere.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::{Floor, UnaryRule};
    /// assert_eq!(Floor.eval(2.7_f64), (2.0, 0.0));
    /// assert_eq!(Floor.eval(-2.5_f64), (-3.0, 0.0));
    /// // at a jump too
    /// assert_eq!(Floor.eval(3.0_f64), (3.0, 0.0));
    /// ```
    Floor => floor;
    /// `⌈x⌉`: derivative `0` everywhere.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::{Ceil, UnaryRule};
    /// assert_eq!(Ceil.eval(2.3_f64), (3.0, 0.0));
    /// assert_eq!(Ceil.eval(-2.5_f64), (-2.0, 0.0));
    /// // at a jump too
    /// assert_eq!(Ceil.eval(3.0_f64), (3.0, 0.0));
    /// ```
    Ceil => ceil;
    /// Round half away from zero: derivative `0` everywhere.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::{Round, UnaryRule};
    /// assert_eq!(Round.eval(2.4_f64), (2.0, 0.0));
    /// // halves go away from zero
    /// assert_eq!(Round.eval(2.5_f64), (3.0, 0.0));
    /// assert_eq!(Round.eval(-2.5_f64), (-3.0, 0.0));
    /// ```
    Round => round;
    /// Round toward zero: derivative `0` everywhere.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::{Trunc, UnaryRule};
    /// assert_eq!(Trunc.eval(2.7_f64), (2.0, 0.0));
    /// assert_eq!(Trunc.eval(-2.7_f64), (-2.0, 0.0));
    /// ```
    Trunc => trunc;
}

/// `x - trunc(x)`: derivative `1` (away from the integers, where it jumps; `1` there too).
///
/// # Example
/// ```
/// use adroit_forward::rules::{Fract, UnaryRule};
/// assert_eq!(Fract.eval(2.75_f64), (0.75, 1.0));
/// assert_eq!(Fract.eval(-2.75_f64), (-0.75, 1.0));
/// // at an integer, where it jumps, the derivative is 1 as well
/// assert_eq!(Fract.eval(3.0_f64), (0.0, 1.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Fract;

impl UnaryRule for Fract {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.fract(), S::one())
    }
}

/// Partials of `max`/`min` at the point where `x` is chosen (`1, 0`), `y` is chosen (`0, 1`) or
/// they tie (`½, ½`).
#[inline(always)]
fn select_partials<S: Float>(x_wins: bool, tie: bool) -> (S, S) {
    if tie {
        let half = lit::<S>(0.5);
        (half, half)
    } else if x_wins {
        (S::one(), S::zero())
    } else {
        (S::zero(), S::one())
    }
}

/// `max(x, y)`: partials `(1, 0)` where `x > y`, `(0, 1)` where `x < y`.
///
/// Convention: at a tie the tangent is split `(½, ½)`, the symmetric choice that matches
/// central differences (as JAX). A NaN argument is ignored, as by `f64::max`. So `x.max(0)`
/// written as a ReLU has derivative ½ at 0; `adroit-nn`'s `relu` (and [`Float::abs_sub`],
/// `max(x − y, 0)`, which returns a constant 0 at the tie) use 0 at the kink instead.
///
/// [`Float::abs_sub`]: num_traits::Float::abs_sub
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Max};
/// assert_eq!(Max.eval(3.0_f64, 2.0), (3.0, 1.0, 0.0));
/// assert_eq!(Max.eval(2.0_f64, 3.0), (3.0, 0.0, 1.0));
/// // a tie splits the tangent: max(x, 0) has slope ½ at 0
/// assert_eq!(Max.eval(0.0_f64, 0.0), (0.0, 0.5, 0.5));
/// // a NaN argument is ignored
/// assert_eq!(Max.eval(f64::NAN, 2.0), (2.0, 0.0, 1.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Max;

impl BinaryRule for Max {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let (dx, dy) = select_partials(x > y || y.is_nan(), x == y);
        (x.max(y), dx, dy)
    }
}

/// `min(x, y)`: partials `(1, 0)` where `x < y`, `(0, 1)` where `x > y`.
///
/// Convention: at a tie the tangent is split `(½, ½)` (as [`Max`]); a NaN argument is ignored.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Min};
/// assert_eq!(Min.eval(2.0_f64, 3.0), (2.0, 1.0, 0.0));
/// assert_eq!(Min.eval(3.0_f64, 2.0), (2.0, 0.0, 1.0));
/// // a tie splits the tangent
/// assert_eq!(Min.eval(1.0_f64, 1.0), (1.0, 0.5, 0.5));
/// // a NaN argument is ignored
/// assert_eq!(Min.eval(2.0_f64, f64::NAN), (2.0, 1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Min;

impl BinaryRule for Min {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let (dx, dy) = select_partials(x < y || y.is_nan(), x == y);
        (x.min(y), dx, dy)
    }
}

/// `maximum(x, y)` as JAX's `jnp.maximum` and PyTorch's `torch.maximum`: [`Max`], except that
/// a NaN argument makes the result NaN (where `f64::max`, and so [`Max`], ignores it), so a
/// ReLU written `maximum(x, 0)` does not hide a NaN `x`. Partials as [`Max`]'s: the NaN side
/// gets 0 and the other side 1 (JAX 0.10.2's gradient gives both sides 0; both NaN: the
/// first side 1), a tie splits `(½, ½)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Maximum};
/// assert_eq!(Maximum.eval(3.0_f64, 2.0), (3.0, 1.0, 0.0));
/// assert_eq!(Maximum.eval(0.0_f64, 0.0), (0.0, 0.5, 0.5));
/// let (value, dx, dy) = Maximum.eval(f64::NAN, 0.0);
/// assert!(value.is_nan() && (dx, dy) == (0.0, 1.0));
/// let (value, dx, dy) = Maximum.eval(f64::NAN, f64::NAN);
/// assert!(value.is_nan() && (dx, dy) == (1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Maximum;

impl BinaryRule for Maximum {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let (value, dx, dy) = Max.eval(x, y);
        (propagate_nan(x, y, value), dx, dy)
    }
}

/// `minimum(x, y)` as JAX's `jnp.minimum` and PyTorch's `torch.minimum`: [`Min`], except that a
/// NaN argument makes the result NaN (see [`Maximum`]).
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Minimum};
/// assert_eq!(Minimum.eval(3.0_f64, 2.0), (2.0, 0.0, 1.0));
/// assert!(Minimum.eval(2.0_f64, f64::NAN).0.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Minimum;

impl BinaryRule for Minimum {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let (value, dx, dy) = Min.eval(x, y);
        (propagate_nan(x, y, value), dx, dy)
    }
}

/// `value`, unless `x` or `y` is NaN: then that argument (NaN).
#[inline(always)]
fn propagate_nan<S: Float>(x: S, y: S, value: S) -> S {
    if x.is_nan() {
        x
    } else if y.is_nan() {
        y
    } else {
        value
    }
}

/// `x.copysign(s)`, the magnitude of `x` with the sign of `s`: partials `(±1, 0)`, `+1` where
/// `x` and `s` have the same sign bit.
///
/// Convention: `∂x = 0` at `x = ±0`, the kink of `|x|·sign(s)` (as `abs'(0) = 0`). A NaN `x`
/// gets `±1` by the sign bits too (JAX 0.10.2 gives −1 at `(NaN, 1)`); the value is NaN.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Copysign};
/// assert_eq!(Copysign.eval(3.0_f64, -1.0), (-3.0, -1.0, 0.0));
/// assert_eq!(Copysign.eval(-3.0_f64, -1.0), (-3.0, 1.0, 0.0));
/// // the kink at x = 0: ∂x = 0
/// let (value, dx, ds) = Copysign.eval(0.0_f64, -1.0);
/// assert!(value == 0.0 && value.is_sign_negative());
/// assert_eq!((dx, ds), (0.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Copysign;

impl BinaryRule for Copysign {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, sign: S) -> (S, S, S) {
        let dx = if x == S::zero() {
            S::zero()
        } else if x.is_sign_negative() == sign.is_sign_negative() {
            S::one()
        } else {
            -S::one()
        };
        (x.copysign(sign), dx, S::zero())
    }
}
