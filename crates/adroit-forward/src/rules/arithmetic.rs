//! Rules for the arithmetic operators.

use super::{BinaryRule, UnaryRule};
use num_traits::Float;

/// `x + y`: partials `(1, 1)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Add;

impl BinaryRule for Add {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x + y, S::one(), S::one())
    }
}

/// `x - y`: partials `(1, -1)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sub;

impl BinaryRule for Sub {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x - y, S::one(), -S::one())
    }
}

/// `x · y`: partials `(y, x)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mul;

impl BinaryRule for Mul {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        (x * y, y, x)
    }
}

/// `x / y`: partials `(1/y, -x/y²)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Div;

impl BinaryRule for Div {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let inv = y.recip();
        let value = x / y;
        (value, inv, -value * inv)
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
#[derive(Clone, Copy, Debug, Default)]
pub struct Neg;

impl UnaryRule for Neg {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (-x, -S::one())
    }
}

/// `1/x`: derivative `-1/x²` (`-∞` at `x = ±0`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Recip;

impl UnaryRule for Recip {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.recip();
        (value, -value * value)
    }
}
