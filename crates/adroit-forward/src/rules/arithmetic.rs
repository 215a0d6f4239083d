//! Rules for the arithmetic operators.

use super::{BinaryRule, UnaryRule};
use num_traits::Float;

/// `x + y`: partials `(1, 1)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Add};
/// assert_eq!(Add.eval(2.0_f64, 3.0), (5.0, 1.0, 1.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Add;

impl BinaryRule for Add {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x + y, S::one(), S::one())
    }
}

/// `x - y`: partials `(1, -1)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Sub};
/// assert_eq!(Sub.eval(2.0_f64, 3.0), (-1.0, 1.0, -1.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Sub;

impl BinaryRule for Sub {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x - y, S::one(), -S::one())
    }
}

/// `x · y`: partials `(y, x)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Mul};
/// assert_eq!(Mul.eval(2.0_f64, 3.0), (6.0, 3.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Mul;

impl BinaryRule for Mul {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x * y, y, x)
    }
}

/// `x / y`: partials `(1/y, -x/y²)`.
///
/// Range: `∂y` is formed as `−(x/y)·(1/y)` (which stays finite where `y²` would overflow) and
/// is a number of its own before it meets a tangent or an adjoint, as every partial of the
/// table is (reverse mode stores it on the tape). For `|y|` beyond `1/√(smallest normal)` or
/// below its inverse (about 1e154 and 1e-154 in `f64`), where the slope of `1/y`, `−1/y²`,
/// would underflow or overflow, it is formed as `−(x/y)/y` instead, so that its own slope —
/// the second derivative `2x/y³`, which nested and hyper-dual numbers read from it — keeps
/// both of its halves (`1e300/y` at `y = 1e180` had `∂²/∂y²` 1e-240, half of 2e-240; found by
/// a cross-check against JAX and mpmath). Where `|x/y²|` is below the smallest
/// subnormal — for `x = 1`, `|y|` of the order of 1e162 in `f64`, 3e22 in `f32` — it is 0,
/// and so is its contribution even when a huge tangent `ẏ` would bring `−x·ẏ/y²` back into
/// range (`y = 1e200` with `ẏ = 1e200`: 0, not −1e-200). ForwardDiff (`−x/y²`), JAX and
/// PyTorch form this partial alike. Scale such inputs towards 1. At a divisor below
/// `1/MAX` (`|y|` below about 5.6e-309 in `f64`, 2.9e-39 in `f32`: subnormal) `∂x = 1/y`
/// itself overflows to `±∞`, so the derivative is `±∞` even where `ẋ/y` is finite
/// (`(1e-300·a)/c` at `c = 1e-310`: ∞ for 1e10; checked against mpmath); dividing by
/// a plain float (`x / 1e-310`, which divides the tangent) keeps it finite.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Div};
/// // 3/2: ∂x = 1/2, ∂y = −3/2² = −3/4
/// assert_eq!(Div.eval(3.0_f64, 2.0), (1.5, 0.5, -0.75));
/// // without ∂y, when y is a constant
/// assert_eq!(Div.eval_dx(3.0_f64, 2.0), (1.5, 0.5));
/// // y = 1e300: ∂y = −1e-600 underflows to 0 (the range note above); y² would overflow
/// assert_eq!(Div.eval(1.0_f64, 1e300).2, 0.0);
/// assert_eq!(Div.eval(1e300_f64, 1e300), (1.0, 1e-300, -1e-300));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Div;

impl BinaryRule for Div {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let inv = y.recip();
        let value = x / y;
        // −(x/y)·(1/y) with the 0·∞ = 0 convention: at x = 0 the partial is 0 even where 1/y
        // overflows (a subnormal y). Outside the range where 1/y² is a normal number, −(x/y)/y:
        // one division more, but the slope of 1/y (−1/y²) never forms, so a nested type's
        // tangent of this partial does not lose the half of 2x/y³ that passes through it.
        // Comparisons only (on the primal): no arithmetic on `y` that a tape would record.
        let low = S::min_positive_value().sqrt();
        let high = low.recip();
        let dy = if (y > low && y < high) || (y < -low && y > -high) {
            -crate::chain_product(value, inv)
        } else {
            -(value / y)
        };
        (value, inv, dy)
    }

    #[inline(always)]
    fn eval_dx<S: Float>(self, x: S, y: S) -> (S, S) {
        (x / y, y.recip())
    }
}

/// `x % y`, the truncated remainder `x - q·y` (sign of `x`, as Rust's `%`): partials
/// `(1, -q)` with `q` the integer quotient of the branch actually taken,
/// `q = round((x − x % y) / y)` (which can differ from `trunc(x/y)` when `x/y` rounds to an
/// integer, e.g. `1.0 % 0.1`), valid away from the jumps at multiples of `y`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Rem};
/// // 7 = 3·2 + 1, so ∂y = −3
/// assert_eq!(Rem.eval(7.0_f64, 2.0), (1.0, 1.0, -3.0));
/// // the sign of x: −7 = (−3)·2 − 1
/// assert_eq!(Rem.eval(-7.0_f64, 2.0), (-1.0, 1.0, 3.0));
/// // 0.1_f64 is slightly above 1/10: 1.0 % 0.1 ≈ 0.1 takes the branch q = 9, not 10
/// let (value, _, dy) = Rem.eval(1.0_f64, 0.1);
/// assert!((value - 0.1).abs() < 1e-12);
/// assert_eq!(dy, -9.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Rem;

impl BinaryRule for Rem {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let value = x % y;
        (value, S::one(), -((x - value) / y).round())
    }

    #[inline(always)]
    fn eval_dx<S: Float>(self, x: S, y: S) -> (S, S) {
        (x % y, S::one())
    }
}

/// `-x`: derivative `-1`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Neg, UnaryRule};
/// assert_eq!(Neg.eval(2.0_f64), (-2.0, -1.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Neg;

impl UnaryRule for Neg {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (-x, -S::one())
    }
}

/// `1/x`: derivative `-1/x²` (`-∞` at `x = ±0`).
///
/// Range: as for [`Div`]'s `∂y`, the derivative is 0 where `1/x²` underflows (`|x|` of the
/// order of 1e162 in `f64`, 3e22 in `f32`), even for a tangent large enough to bring the
/// product back into range.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Recip, UnaryRule};
/// assert_eq!(Recip.eval(2.0_f64), (0.5, -0.25));
/// assert_eq!(Recip.eval(1e200_f64), (1e-200, -0.0)); // −1e-400 underflows
/// // at ±0 the derivative is −∞
/// assert_eq!(Recip.eval(0.0_f64), (f64::INFINITY, f64::NEG_INFINITY));
/// assert_eq!(Recip.eval(-0.0_f64).1, f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Recip;

impl UnaryRule for Recip {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.recip();
        (value, -value * value)
    }
}
