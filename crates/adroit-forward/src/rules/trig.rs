//! Rules for the trigonometric functions, their inverses and angle conversions.

use super::{BinaryRule, UnaryRule, lit, one_minus_square};
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
///
/// # Example
/// ```
/// use adroit_forward::rules::{Sin, UnaryRule};
/// assert_eq!(Sin.eval(0.0_f64), (0.0, 1.0));
/// // sin(π/6) = ½, cos(π/6) = √3/2
/// let (value, derivative) = Sin.eval(std::f64::consts::FRAC_PI_6);
/// assert!((value - 0.5).abs() < 1e-12);
/// assert!((derivative - 3.0_f64.sqrt() / 2.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Sin;

impl UnaryRule for Sin {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        sin_cos(x)
    }
}

/// `cos x`: derivative `-sin x`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Cos, UnaryRule};
/// assert_eq!(Cos.eval(0.0_f64), (1.0, 0.0));
/// // cos(π/3) = ½, −sin(π/3) = −√3/2
/// let (value, derivative) = Cos.eval(std::f64::consts::FRAC_PI_3);
/// assert!((value - 0.5).abs() < 1e-12);
/// assert!((derivative + 3.0_f64.sqrt() / 2.0).abs() < 1e-12);
/// ```
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
///
/// # Example
/// ```
/// use adroit_forward::rules::{Tan, UnaryRule};
/// assert_eq!(Tan.eval(0.0_f64), (0.0, 1.0));
/// // tan(π/4) = 1, derivative 1 + 1² = 2
/// let (value, derivative) = Tan.eval(std::f64::consts::FRAC_PI_4);
/// assert!((value - 1.0).abs() < 1e-12 && (derivative - 2.0).abs() < 1e-12);
/// ```
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
///
/// # Example
/// ```
/// use adroit_forward::rules::{Asin, UnaryRule};
/// use std::f64::consts::{FRAC_PI_2, FRAC_PI_6};
/// // asin ½ = π/6, derivative 1/√(1 − ¼) = 2/√3
/// let (value, derivative) = Asin.eval(0.5_f64);
/// assert!((value - FRAC_PI_6).abs() < 1e-12);
/// assert!((derivative - 2.0 / 3.0_f64.sqrt()).abs() < 1e-12);
/// // +∞ at the ends of the domain
/// let (value, derivative) = Asin.eval(1.0_f64);
/// assert!((value - FRAC_PI_2).abs() < 1e-12);
/// assert_eq!(derivative, f64::INFINITY);
/// assert_eq!(Asin.eval(-1.0_f64).1, f64::INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Asin;

impl UnaryRule for Asin {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.asin(), one_minus_square(x).sqrt().recip())
    }
}

/// `acos x` (`|x| ≤ 1`): derivative `-1/√(1 - x²)` (`-∞` at `x = ±1`).
///
/// # Example
/// ```
/// use adroit_forward::rules::{Acos, UnaryRule};
/// // acos ½ = π/3, derivative −1/√(1 − ¼) = −2/√3
/// let (value, derivative) = Acos.eval(0.5_f64);
/// assert!((value - std::f64::consts::FRAC_PI_3).abs() < 1e-12);
/// assert!((derivative + 2.0 / 3.0_f64.sqrt()).abs() < 1e-12);
/// // −∞ at the ends of the domain
/// assert_eq!(Acos.eval(1.0_f64), (0.0, f64::NEG_INFINITY));
/// assert_eq!(Acos.eval(-1.0_f64).1, f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Acos;

impl UnaryRule for Acos {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.acos(), -one_minus_square(x).sqrt().recip())
    }
}

/// `atan x`: derivative `1/(1 + x²)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Atan, UnaryRule};
/// assert_eq!(Atan.eval(0.0_f64), (0.0, 1.0));
/// // atan 1 = π/4, derivative 1/(1 + 1) = ½
/// let (value, derivative) = Atan.eval(1.0_f64);
/// assert!((value - std::f64::consts::FRAC_PI_4).abs() < 1e-12);
/// assert_eq!(derivative, 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Atan;

impl UnaryRule for Atan {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let derivative = if x.abs() > S::one() {
            // u²/(1 + u²) with u = 1/x: its tangent, the second derivative −2x/(1 + x²)², is
            // then formed from u³ ≈ 1/x³ rather than (1/(1 + x²))², which underflows first
            // (f32: 0 from |x| ≈ 3e11, where −2/x³ is still a normal number).
            let u = x.recip();
            u * u / (S::one() + u * u)
        } else {
            (S::one() + x * x).recip()
        };
        (x.atan(), derivative)
    }
}

/// `y.atan2(x)`, the angle of the point `(x, y)` in `(-π, π]`:
/// partials `(∂/∂y, ∂/∂x) = (x/(x² + y²), -y/(x² + y²))`.
///
/// Conventions: at the origin, where the angle is undefined, both partials are `0` rather
/// than NaN (PyTorch 2.15's choice; JAX 0.10 gives NaN); with an infinite coordinate both are
/// `0`, their limit (each is bounded by `1/r`), where `x/r²` would be `∞/∞`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Atan2};
/// use std::f64::consts::{FRAC_PI_4, PI};
/// // the point (x, y) = (1, 1): angle π/4, (∂/∂y, ∂/∂x) = (1/2, −1/2); note the order (y, x)
/// let (angle, d_dy, d_dx) = Atan2.eval(1.0_f64, 1.0);
/// assert!((angle - FRAC_PI_4).abs() < 1e-12);
/// assert!((d_dy - 0.5).abs() < 1e-12 && (d_dx + 0.5).abs() < 1e-12);
/// // (x, y) = (−1, 0): angle π, (∂/∂y, ∂/∂x) = (−1, 0)
/// assert_eq!(Atan2.eval(0.0_f64, -1.0), (PI, -1.0, 0.0));
/// // the origin: both partials 0
/// assert_eq!(Atan2.eval(0.0_f64, 0.0), (0.0, 0.0, 0.0));
/// // an infinite coordinate: both partials 0 (the angle is 0 at (∞, 3))
/// assert_eq!(Atan2.eval(3.0_f64, f64::INFINITY), (0.0, 0.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Atan2;

impl BinaryRule for Atan2 {
    #[inline(always)]
    fn eval<S: Float>(self, y: S, x: S) -> (S, S, S) {
        let value = y.atan2(x);
        // r = hypot(x, y) rather than x² + y², which under- or overflows for tiny or huge
        // arguments.
        let r = y.hypot(x);
        if r == S::zero() || (r.is_infinite() && !value.is_nan()) {
            (value, S::zero(), S::zero())
        } else {
            (value, (x / r) / r, (-y / r) / r)
        }
    }
}

/// `x · 180/π`: derivative `180/π`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{ToDegrees, UnaryRule};
/// use std::f64::consts::PI;
/// // π rad = 180°, derivative 180/π
/// let (degrees, derivative) = ToDegrees.eval(PI);
/// assert!((degrees - 180.0).abs() < 1e-12);
/// assert!((derivative * PI - 180.0).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ToDegrees;

impl UnaryRule for ToDegrees {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.to_degrees(), lit(180.0 / core::f64::consts::PI))
    }
}

/// `x · π/180`: derivative `π/180`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{ToRadians, UnaryRule};
/// use std::f64::consts::PI;
/// // 180° = π rad, derivative π/180
/// let (radians, derivative) = ToRadians.eval(180.0_f64);
/// assert!((radians - PI).abs() < 1e-12);
/// assert!((derivative * 180.0 - PI).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ToRadians;

impl UnaryRule for ToRadians {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.to_radians(), lit(core::f64::consts::PI / 180.0))
    }
}
