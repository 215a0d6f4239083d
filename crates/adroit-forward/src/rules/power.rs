//! Rules for powers and roots.

use super::{BinaryRule, UnaryRule, lit};
use num_traits::Float;

/// `√x`: derivative `1/(2√x)`.
///
/// Convention: `sqrt'(0) = +∞` (the one-sided limit); NaN for `x < 0`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Sqrt, UnaryRule};
/// assert_eq!(Sqrt.eval(4.0_f64), (2.0, 0.25));
/// // sqrt'(0) = +∞, for −0 as well
/// assert_eq!(Sqrt.eval(0.0_f64), (0.0, f64::INFINITY));
/// assert_eq!(Sqrt.eval(-0.0_f64).1, f64::INFINITY);
/// let (value, derivative) = Sqrt.eval(-1.0_f64);
/// assert!(value.is_nan() && derivative.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Sqrt;

impl UnaryRule for Sqrt {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.sqrt();
        // `+ 0` turns −0 into +0, so sqrt'(−0) = +∞ as well.
        (value, (value + value + S::zero()).recip())
    }
}

/// The real cube root `∛x`, defined for negative `x` too (`∛-8 = -2`):
/// derivative `1/(3·∛x²)` (`+∞` at `x = 0`).
///
/// Convention: the second derivative at `x = 0` is `0`. Its one-sided limits are `−∞` (from
/// above) and `+∞` (from below), so there is no two-sided value; `0` is the symmetric choice,
/// as `abs'(0) = 0`. (`sqrt`, defined on one side only, has `sqrt''(0) = −∞`.)
///
/// # Example
/// ```
/// use adroit_forward::rules::{Cbrt, UnaryRule};
/// // ∛−8 = −2, derivative 1/(3·(−2)²) = 1/12
/// let (value, derivative) = Cbrt.eval(-8.0_f64);
/// assert_eq!(value, -2.0);
/// assert!((derivative - 1.0 / 12.0).abs() < 1e-12);
/// assert_eq!(Cbrt.eval(0.0_f64), (0.0, f64::INFINITY));
/// use adroit_forward::num_traits::Float;
/// assert_eq!(adroit_forward::second_derivative(|x| x.cbrt(), 0.0_f64), 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Cbrt;

impl UnaryRule for Cbrt {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.cbrt();
        (value, (lit::<S>(3.0) * value * value).recip())
    }
}

/// `xⁿ` for an integer `n` (`x.powi(n)`): derivative `n·xⁿ⁻¹`.
///
/// Convention: the derivative is exactly `0` for `n = 0`, including at `x = 0`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Powi, UnaryRule};
/// assert_eq!(Powi(3).eval(2.0_f64), (8.0, 12.0));
/// assert_eq!(Powi(-1).eval(2.0_f64), (0.5, -0.25));
/// // n = 0: derivative exactly 0, at x = 0 too (where 0·0⁻¹ would be NaN)
/// assert_eq!(Powi(0).eval(0.0_f64), (1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Powi(pub i32);

impl UnaryRule for Powi {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let n = self.0;
        let value = x.powi(n);
        if n == 0 {
            (value, S::zero())
        } else {
            // xⁿ⁻¹ as two factors, so n − 1 cannot overflow for n = i32::MIN.
            let half = n / 2;
            (
                value,
                lit::<S>(f64::from(n)) * x.powi(half) * x.powi(n - half - 1),
            )
        }
    }
}

/// `xᵖ` for real `x` and `p` (`x.powf(p)`): partials `(p·xᵖ⁻¹, xᵖ·ln|x|)`.
///
/// Conventions at the edges, chosen so that no NaN appears where the true derivative exists:
/// - `∂x` at `x = 0`: `0` for `p = 0` or `p > 1`, `1` for `p = 1`, `+∞` for `0 < p < 1`;
///   value and `∂x` are finite at `x = 0` for fractional `p > 1`. `∂x` is `0` for `p = 0`
///   everywhere; its derivative with respect to `p`, `xᵖ⁻¹(1 + p·ln x)`, is kept at a normal
///   `x`, not at `x = 0` or a subnormal `x` (there the mixed second derivative read from `∂x`
///   is 0, though it is `+∞` one-sided at 0 and `1/x` at a subnormal `x`; checked against
///   mpmath — see the crate docs, "Second derivatives near overflow", for subnormal arguments).
/// - `∂p` at `x = 0`: `0` for `p > 0` (the function is identically 0 there); for `p ≤ 0` the
///   one-sided value `xᵖ·ln|x|` (`-∞`).
/// - Mixed second derivative at `x = 0`: `0` for `p > 1`, `−∞` (one-sided) for `0 < p ≤ 1`,
///   in both orders (so a Hessian there is symmetric in every mode).
/// - Where `xᵖ` overflows, or underflows at `|x| < 1`, at a normal `x`, `∂p` is formed as
///   `x·(xᵖ⁻¹·ln|x|)`, so that its slope in `x` (the mixed partial `xᵖ⁻¹·(1 + p·ln|x|)`, often
///   finite there) does not pass through the infinite or flushed `xᵖ` and agrees with the
///   other order. Where `xᵖ` underflows at `|x| > 1`, or `xᵖ` and `xᵖ⁻¹` both overflow, as
///   `±(|x|^(p/2)·ln|x|)·|x|^(p/2)`: the product of two normal halves, so a normal `∂p`
///   (`(1e154, −2)`: `3.5e-306`) and `∂²/∂p²` are not flushed with `xᵖ`, and a finite one is
///   not `±∞` with it (for `|ln|x|| < 1`; `(0.9, −6740)`: `−2.68e307`).
/// - For `p` within `¼` of 1, `∂x` is `p·xᵖ⁻¹` with a second `powf`, so that the second
///   derivative `p(p − 1)xᵖ⁻²` keeps its relative precision; through `xᵖ/x` it cancels to
///   `ε/|p − 1|` relative (`1.2e-4` at `p = 1 + 1e-12`).
/// - Third and higher derivatives in `x` go through `xᵖ/x`, whose rounding error makes the
///   `n`-th derivative off by about `ε·|x|^(p−n)`: negligible at ordinary `x`, large at tiny
///   `|x|` (the fourth derivative of `x.powf(2.0)` at `1e-20` is `−4.8e24`, not `0`), and
///   below `1/√MAX` (about `7.5e-155`; `f32`: `5.4e-20`) the third derivative for
///   `1.25 ≤ p < 2` is `−∞` where the exact one is finite (`x.powf(1.5)` at `1e-160`:
///   `−3.75e239`), the slope of `1/x` overflowing inside `xᵖ/x`. For an integer exponent use
///   `powi`, exact at every order.
/// - For `x < 0` and integer-valued `p` the value is real and `∂p` uses `ln|x|`, so it is
///   finite rather than NaN; for `x < 0` and fractional `p` the value and `∂p` are NaN, and
///   `∂x` is the formula's `p·xᵖ⁻¹` (as in JAX): NaN, except for `|p|` below about `2⁻⁵³`, where
///   `p − 1` rounds to `−1` (`(−2, 1e-17)`: `∂x = −5e-18`).
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Powf};
/// use std::f64::consts::LN_2;
/// // 2³ = 8: ∂x = 3·2² = 12, ∂p = 8·ln 2
/// let (value, dx, dp) = Powf.eval(2.0_f64, 3.0);
/// assert_eq!((value, dx), (8.0, 12.0));
/// assert!((dp - 8.0 * LN_2).abs() < 1e-12);
/// // at x = 0: ∂x is 0 for p > 1, 1 for p = 1, +∞ for 0 < p < 1; ∂p is 0 for p > 0
/// assert_eq!(Powf.eval(0.0_f64, 2.5), (0.0, 0.0, 0.0));
/// assert_eq!(Powf.eval(0.0_f64, 1.0), (0.0, 1.0, 0.0));
/// assert_eq!(Powf.eval(0.0_f64, 0.5).1, f64::INFINITY);
/// // p = 0: ∂x = 0, and ∂p is the one-sided x⁰·ln|x| = −∞
/// assert_eq!(Powf.eval(0.0_f64, 0.0), (1.0, 0.0, f64::NEG_INFINITY));
/// // x < 0 and an integer p: (−2)² = 4, ∂x = 2·(−2) = −4, ∂p = 4·ln|−2|
/// let (value, dx, dp) = Powf.eval(-2.0_f64, 2.0);
/// assert_eq!((value, dx), (4.0, -4.0));
/// assert!((dp - 4.0 * LN_2).abs() < 1e-12);
/// assert!(Powf.eval(-2.0_f64, 0.5).0.is_nan());
/// // x < 0 and a fractional p: value and ∂p NaN (∂x is p·xᵖ⁻¹, real here as p − 1 rounds to −1)
/// let (value, dx, dp) = Powf.eval(-2.0_f64, 1e-17);
/// assert!(value.is_nan() && dp.is_nan() && dx == -5e-18);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Powf;

impl BinaryRule for Powf {
    const EXPENSIVE_DY: bool = true;

    #[inline(always)]
    fn eval<S: Float>(self, x: S, p: S) -> (S, S, S) {
        let (value, dx) = self.eval_dx(x, p);
        let dp = if x == S::zero() && p > S::zero() {
            // ∂p = xᵖ·ln|x| → 0. Its slope in x there (the mixed second derivative, one-sided)
            // is 0 for p > 1 but −∞ for 0 < p ≤ 1: −√x has the value 0 and that slope, so
            // ∂²/∂p∂x agrees with ∂²/∂x∂p (forward-over-reverse reads the former).
            if p > S::one() { S::zero() } else { -x.sqrt() }
        } else if !value.is_normal() && x.is_normal() {
            if value.is_nan() {
                // x < 0 and a fractional p (or p NaN): ln|x| serves integer p only, and for
                // |p| below about 2⁻⁵³ p − 1 rounds to −1, so xᵖ⁻¹ below would be real. As a
                // product with the NaN value, so that ∂p's tangents (a reverse-mode Hessian's
                // mixed entry) are NaN too, not the value's.
                return (value, dx, value * x.abs().ln());
            }
            // xᵖ overflowed or underflowed although x is normal: x·(xᵖ⁻¹·ln|x|), so that the
            // slope of ∂p in x (the mixed second derivative xᵖ⁻¹·(1 + p·ln|x|), finite for
            // (1e160, 2)) does not pass through the infinite or flushed xᵖ — forward-over-
            // reverse reads it from here, and it must agree with the other order, read from
            // ∂x = p·xᵖ⁻¹. Not where xᵖ⁻¹ is infinite too (p < 0 at tiny x: its tangent would
            // meet ∞ − ∞) nor at a subnormal x (the tangent of ln|x|, 1/x, overflows).
            let ln = x.abs().ln();
            // xᵖ underflowed at |x| > 1 (so p < 0): xᵖ⁻¹ = xᵖ/x is smaller still and would
            // flush ∂p to 0 ((1e154, −2): 3.5e-306). Or xᵖ overflowed and so did xᵖ⁻¹
            // ((0.9, −6740), (1.001, 710500)): ∂p was ∞·ln|x|, though finite for |ln|x|| < 1
            // (mpmath: −2.68e307 and 2.58e305). Then split xᵖ into two normal halves
            // |x|^(p/2), with xᵖ's sign: ∂p = ±(|x|^(p/2)·ln|x|)·|x|^(p/2) keeps every finite
            // ∂p, and its slopes (∂²/∂p² = xᵖ·ln²|x|) stay in range too.
            let through_power = if value.is_finite() && x.abs() > S::one() {
                None
            } else {
                let r = x.powf(p - S::one());
                r.is_finite().then(|| x * (r * ln))
            };
            through_power.unwrap_or_else(|| {
                let half = x.abs().powf(p / (S::one() + S::one()));
                value.signum() * ((half * ln) * half)
            })
        } else {
            value * x.abs().ln()
        };
        (value, dx, dp)
    }

    #[inline(always)]
    fn eval_dx<S: Float>(self, x: S, p: S) -> (S, S) {
        let value = x.powf(p);
        // At p = 0 the slope p·xᵖ⁻¹ is 0, but its derivative with respect to p is not: keep the
        // formula (whose p-tangent is right) wherever xᵖ⁻¹ is finite.
        let dx = if p == S::zero() && !x.is_normal() {
            // x = 0, subnormal, infinite or NaN: the slope 0 without the formula's 0·∞.
            S::zero()
        } else if (p - S::one()).abs() < lit(0.25) {
            // p near 1 (p − 1 exact): p·xᵖ⁻¹ with its own `powf`, whose slope in x is the
            // product (p − 1)·xᵖ⁻¹/x. Through xᵖ/x the second derivative p(p − 1)xᵖ⁻² is the
            // difference p²xᵖ⁻² − p·xᵖ⁻², which cancels to a relative error of ε/|p − 1|
            // (1.2e-4 at p = 1 + 1e-12, 4.8e-9 at (0.5, 1 + 1e-7)).
            slope_by_power(x, p)
        } else if moderate(value) && (x.is_normal() || (x != S::zero() && p.abs() <= S::one())) {
            // xᵖ⁻¹ = xᵖ / x saves a second `powf`. For |p| ≤ 1, p·xᵖ is formed first: then
            // neither the slope nor its tangent (the second derivative) passes through xᵖ⁻¹
            // or xᵖ⁻¹/x, which overflow for tiny x although p·xᵖ⁻¹ and p(p−1)xᵖ⁻² need not
            // (d/dx xˣ at a subnormal x, (x^1e-10)'' at 1e-20 in f32). For |p| > 1 that order
            // could overflow p·xᵖ itself, and x must be normal for xᵖ/x not to overflow.
            if p.abs() <= S::one() {
                let slope = p * value / x;
                if x.abs() < S::min_positive_value().sqrt() && (slope / x).is_infinite() {
                    // The second derivative p(p − 1)xᵖ⁻² overflows (or is within a factor
                    // 1/|p − 1| ≤ 4 of it: |p − 1| ≥ ¼ on this branch): the quotient's
                    // tangent would be ∞ − ∞ (√x at 1e-207: NaN, not −∞). As (p·h)·h with
                    // h = |x|^((p − 1)/2) and xᵖ⁻¹'s sign, where xᵖ⁻¹ = h·h is finite (not
                    // for xˣ at 1e-310, whose slope is 1): through p·xᵖ⁻¹ the slope in p,
                    // xᵖ⁻¹·ln|x|, overflowed where the mixed partial xᵖ⁻¹(1 + p·ln|x|) is
                    // finite ((1e-306, 1e-10): 1e306, was −∞).
                    let half = x.abs().powf((p - S::one()) / (S::one() + S::one()));
                    if (half * half).is_finite() {
                        (value.signum() * x.signum()) * ((p * half) * half)
                    } else {
                        slope
                    }
                } else {
                    slope
                }
            } else {
                p * (value / x)
            }
        } else {
            // Also where |xᵖ| is within a factor 1024 of overflow: the p-tangent of xᵖ/x,
            // xᵖ·ln|x|/x (|ln|x|| ≤ 745), could overflow where the mixed partial
            // xᵖ⁻¹·(1 + p·ln|x|) does not ((1e154, 2)); p·xᵖ⁻¹ keeps it finite.
            slope_by_power(x, p)
        };
        (value, dx)
    }
}

/// `p·xᵖ⁻¹` by its own `powf`, the slope of `xᵖ` where `xᵖ/x` cannot serve; at `x = ±0`
/// with `0 < p < 1` (which reaches only here: `xᵖ = 0` is not moderate) as
/// `exp(ln p + (p − 1)·ln x)`. Both are `+∞` there, but on the product `p·xᵖ⁻¹` the product
/// rule meets `∞ − ∞` in the slope's tangent (NaN, while the other order of the mixed partial,
/// read from `∂p`, is `−∞`); through the exponential the slopes are `(1/p + ln x)·∞ = −∞` in
/// `p` and `((p − 1)/x)·∞ = −∞` in `x`, the one-sided limits. `x + 0` reads `−0` as `+0`
/// (keeping `x`'s tangent), as the value does. Tested off the hot path: the chain benchmark's
/// `powf` (a normal `x`, a moderate `xᵖ`) never comes here.
#[inline(always)]
fn slope_by_power<S: Float>(x: S, p: S) -> S {
    if x == S::zero() && p > S::zero() && p < S::one() {
        (p.ln() + (p - S::one()) * (x + S::zero()).ln()).exp()
    } else {
        p * x.powf(p - S::one())
    }
}

/// True for a normal `v` at least a factor 1024 below overflow (above that `v·ln|x|` may
/// overflow): two comparisons on `|v|`, which the chain benchmark measured 2–3 % faster than
/// `is_normal` alone (`--bench forward -- forward_chain_10k_points/adroit_dual`, alternating
/// binaries: 421–426 µs against 430–439 µs).
#[inline(always)]
fn moderate<S: Float>(v: S) -> bool {
    let a = v.abs();
    a >= S::min_positive_value() && a < S::max_value() / lit::<S>(1024.0)
}

/// `√(x² + y²)` without undue overflow (`x.hypot(y)`): partials `(x/h, y/h)`.
///
/// Convention: at `(0, 0)` both partials are `0` (a subgradient), not NaN. Where the value
/// overflows or is subnormal, the partials are still `x/h`, `y/h` (formed from the scaled
/// arguments), not 0 or rounded. With one infinite argument and a finite one they are its
/// sign and `0` (the limit); with two infinite arguments, or an infinite and a NaN one (whose
/// value is `+∞`, as IEEE 754's `hypot`), they are NaN (`∞/∞`: the limit depends on the
/// direction of approach).
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Hypot};
/// assert_eq!(Hypot.eval(3.0_f64, 4.0), (5.0, 0.6, 0.8));
/// // at the origin both partials are 0
/// assert_eq!(Hypot.eval(0.0_f64, 0.0), (0.0, 0.0, 0.0));
/// // one infinite argument: (sign, 0); two: NaN
/// assert_eq!(Hypot.eval(f64::NEG_INFINITY, 3.0), (f64::INFINITY, -1.0, 0.0));
/// let (_, dx, dy) = Hypot.eval(f64::INFINITY, f64::INFINITY);
/// assert!(dx.is_nan() && dy.is_nan());
/// let (value, dx, dy) = Hypot.eval(f64::INFINITY, f64::NAN);
/// assert!(value == f64::INFINITY && dx.is_nan() && dy.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Hypot;

impl BinaryRule for Hypot {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let value = x.hypot(y);
        if value == S::zero() {
            return (value, S::zero(), S::zero());
        }
        if !value.is_normal() && x.is_finite() && y.is_finite() {
            // The hypotenuse overflowed (3e38 in f32) or is subnormal: x/h would be 0, or
            // rounded to 1. The partials are scale-free: take them from the arguments scaled
            // by a constant power of two (a constant, so that no derivative of the scale
            // enters the second derivatives).
            let c = if value.is_infinite() {
                lit::<S>(0.5)
            } else {
                S::min_positive_value().recip()
            };
            let (xs, ys) = (x * c, y * c);
            let (dx, dy) = hypot_partials(xs, ys, xs.hypot(ys));
            return (value, dx, dy);
        }
        let (dx, dy) = hypot_partials(x, y, value);
        (value, dx, dy)
    }
}

/// `(x/h, y/h)` for `h = hypot(x, y) ≠ 0`, finite or with an infinite argument.
#[inline(always)]
fn hypot_partials<S: Float>(x: S, y: S, value: S) -> (S, S) {
    // When one argument exceeds twice the other, the larger one's partial, x/h, is written
    // as sign(x)/√(1 + t²) with t = y/x: its tangent (the second derivative) is then formed
    // from products alone, where the quotient rule on x/h cancels, 1/h − x²/h³ = y²/h³,
    // losing ~(x/y)² of the precision. Closer arguments keep the correctly rounded x/h. The
    // test halves the larger argument rather than doubling the smaller one, which could
    // overflow (an infinite x against y = 3e38 in f32 then fell through to ∞/∞).
    let (ax, ay) = (x.abs(), y.abs());
    let two = S::one() + S::one();
    if ax / two > ay {
        let t = y / x;
        let dx = (S::one() + t * t).sqrt().recip() * x.signum();
        (dx, y / value)
    } else if ay / two > ax {
        let t = x / y;
        let dy = (S::one() + t * t).sqrt().recip() * y.signum();
        (x / value, dy)
    } else {
        (x / value, y / value)
    }
}
