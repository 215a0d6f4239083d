//! Rules for the trigonometric functions, their inverses and angle conversions.

use super::{BinaryRule, UnaryRule, lit};
use num_traits::Float;

/// `(sin x, cos x)`, kept out of line on purpose.
///
/// Each of the two rules needs both values. Inlined, LLVM tends to move the `cos` call next to
/// the code that uses the tangent, into another basic block than the `sin` call, and then cannot
/// merge the two into one `sincos` call (glibc's `sincos` costs ~60 % of `sin` + `cos`).
/// Measured on `cargo bench -p adroit-benches --bench peers -- chain`: 455 → 440 µs.
#[inline(never)]
fn sin_cos<S: Float>(x: S) -> (S, S) {
    x.sin_cos()
}

/// `sin x`: derivative `cos x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sin;

impl UnaryRule for Sin {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        sin_cos(x)
    }
}

/// `cos x`: derivative `-sin x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cos;

impl UnaryRule for Cos {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let (sin, cos) = sin_cos(x);
        (cos, -sin)
    }
}

/// `tan x`: derivative `1 + tan² x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tan;

impl UnaryRule for Tan {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.tan();
        (value, S::one() + value * value)
    }
}

/// `asin x` (`|x| ≤ 1`): derivative `1/√(1 - x²)` (`+∞` at `x = ±1`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Asin;

impl UnaryRule for Asin {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.asin(), ((S::one() - x) * (S::one() + x)).sqrt().recip())
    }
}

/// `acos x` (`|x| ≤ 1`): derivative `-1/√(1 - x²)` (`-∞` at `x = ±1`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Acos;

impl UnaryRule for Acos {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.acos(), -((S::one() - x) * (S::one() + x)).sqrt().recip())
    }
}

/// `atan x`: derivative `1/(1 + x²)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Atan;

impl UnaryRule for Atan {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.atan(), (S::one() + x * x).recip())
    }
}

/// `y.atan2(x)`, the angle of the point `(x, y)` in `(-π, π]`:
/// partials `(∂/∂y, ∂/∂x) = (x/(x² + y²), -y/(x² + y²))`.
///
/// Convention: at the origin, where the angle is undefined, both partials are `0` rather
/// than NaN (the choice of JAX and PyTorch).
#[derive(Clone, Copy, Debug, Default)]
pub struct Atan2;

impl BinaryRule for Atan2 {
    #[inline(always)]
    fn eval<S: Float>(self, y: S, x: S) -> (S, S, S) {
        let value = y.atan2(x);
        // r = hypot(x, y) rather than x² + y², which under- or overflows for tiny or huge
        // arguments.
        let r = y.hypot(x);
        if r == S::zero() {
            (value, S::zero(), S::zero())
        } else {
            (value, (x / r) / r, (-y / r) / r)
        }
    }
}

/// `x · 180/π`: derivative `180/π`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ToDegrees;

impl UnaryRule for ToDegrees {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.to_degrees(), lit(180.0 / core::f64::consts::PI))
    }
}

/// `x · π/180`: derivative `π/180`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ToRadians;

impl UnaryRule for ToRadians {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.to_radians(), lit(core::f64::consts::PI / 180.0))
    }
}
