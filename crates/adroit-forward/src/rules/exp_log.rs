//! Rules for exponentials and logarithms.

use super::{BinaryRule, UnaryRule, lit};
use core::f64::consts::{LN_2, LOG10_E};
use num_traits::Float;

/// `eˣ`: derivative `eˣ`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Exp, UnaryRule};
/// assert_eq!(Exp.eval(0.0_f64), (1.0, 1.0));
/// let (value, derivative) = Exp.eval(1.0_f64);
/// assert!((value - std::f64::consts::E).abs() < 1e-12);
/// assert_eq!(derivative, value);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Exp;

impl UnaryRule for Exp {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.exp();
        (value, value)
    }
}

/// `2ˣ`: derivative `2ˣ·ln 2`.
///
/// Just above the overflow threshold (`x` in `[1024, 1024.53)` for `f64`, `[128, 128.53)` for
/// `f32`) the value is `+∞` but the derivative `2ˣ·ln 2` is finite (`ln 2 < 1`), and so is the
/// second derivative `2ˣ·ln² 2` up to `x ≈ 1025.06` (`129.06`): where the value is `+∞` and `x`
/// finite, the derivative is formed as `2ˣ⁻²·(4 ln 2)` (`x − 2` is exact there), so that
/// neither passes through the infinite value.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Exp2, UnaryRule};
/// use std::f64::consts::LN_2;
/// // 2³ = 8, derivative 8·ln 2
/// let (value, derivative) = Exp2.eval(3.0_f64);
/// assert!((value - 8.0).abs() < 1e-12);
/// assert!((derivative - 8.0 * LN_2).abs() < 1e-12);
/// // 2^1024.3 overflows, its derivative 1.534…e308 does not
/// let (value, derivative) = Exp2.eval(1024.3_f64);
/// assert_eq!(value, f64::INFINITY);
/// assert!((derivative / 1.5340871058449278e308 - 1.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Exp2;

impl UnaryRule for Exp2 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.exp2();
        if value.is_infinite() && x.is_finite() {
            let two = S::one() + S::one();
            (value, (x - two).exp2() * lit(4.0 * LN_2))
        } else {
            (value, value * lit(LN_2))
        }
    }
}

/// `eˣ - 1`, accurate for tiny `x`: derivative `eˣ`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{ExpM1, UnaryRule};
/// assert_eq!(ExpM1.eval(0.0_f64), (0.0, 1.0));
/// // eˣ − 1 ≈ x for tiny x, where `x.exp() - 1.0` rounds to 0
/// let (value, derivative) = ExpM1.eval(1e-20_f64);
/// assert!((value / 1e-20 - 1.0).abs() < 1e-12);
/// assert_eq!(derivative, 1.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpM1;

impl UnaryRule for ExpM1 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.exp_m1(), x.exp())
    }
}

/// `ln x`: derivative `1/x` (`+∞` at `x = 0`; NaN value for `x < 0`).
///
/// # Example
/// ```
/// use adroit_forward::rules::{Ln, UnaryRule};
/// assert_eq!(Ln.eval(1.0_f64), (0.0, 1.0));
/// assert_eq!(Ln.eval(4.0_f64).1, 0.25);
/// // at 0 (either sign) the derivative is +∞
/// assert_eq!(Ln.eval(0.0_f64), (f64::NEG_INFINITY, f64::INFINITY));
/// assert_eq!(Ln.eval(-0.0_f64).1, f64::INFINITY);
/// assert!(Ln.eval(-1.0_f64).0.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Ln;

impl UnaryRule for Ln {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        // `+ 0` turns −0 into +0: ln'(±0) = +∞.
        (x.ln(), (x + S::zero()).recip())
    }
}

/// `log₂ x`: derivative `1/(x·ln 2)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Log2, UnaryRule};
/// use std::f64::consts::LN_2;
/// // log₂ 8 = 3, derivative 1/(8·ln 2)
/// let (value, derivative) = Log2.eval(8.0_f64);
/// assert!((value - 3.0).abs() < 1e-12);
/// assert!((derivative - 1.0 / (8.0 * LN_2)).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Log2;

impl UnaryRule for Log2 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.log2(), (x * lit(LN_2) + S::zero()).recip())
    }
}

/// `log₁₀ x`: derivative `1/(x·ln 10)`, formed as `log₁₀ e / x` (`x·ln 10` would overflow for
/// `x` above about 7.8e307 in `f64`, flushing the subnormal derivative to 0).
///
/// # Example
/// ```
/// use adroit_forward::rules::{Log10, UnaryRule};
/// use std::f64::consts::LN_10;
/// // log₁₀ 100 = 2, derivative 1/(100·ln 10)
/// let (value, derivative) = Log10.eval(100.0_f64);
/// assert!((value - 2.0).abs() < 1e-12);
/// assert!((derivative - 1.0 / (100.0 * LN_10)).abs() < 1e-12);
/// // near the largest f64: 2.554…e-309 (subnormal), not 0
/// assert!((Log10.eval(1.7e308_f64).1 / 2.554673422960305e-309 - 1.0).abs() < 1e-9);
/// assert_eq!(Log10.eval(0.0_f64).1, f64::INFINITY);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Log10;

impl UnaryRule for Log10 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        // `+ 0` turns −0 into +0: log₁₀'(±0) = +∞.
        (x.log10(), lit::<S>(LOG10_E) / (x + S::zero()))
    }
}

/// `ln(1 + x)`, accurate for tiny `x`: derivative `1/(1 + x)`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Ln1p, UnaryRule};
/// assert_eq!(Ln1p.eval(0.0_f64), (0.0, 1.0));
/// // ln 2, derivative 1/2
/// let (value, derivative) = Ln1p.eval(1.0_f64);
/// assert!((value - std::f64::consts::LN_2).abs() < 1e-12);
/// assert_eq!(derivative, 0.5);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Ln1p;

impl UnaryRule for Ln1p {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.ln_1p(), (S::one() + x).recip())
    }
}

/// `log_b x = ln x / ln b` (`x.log(b)`): partials `(1/(x·ln b), -log_b x/(b·ln b))`.
///
/// Convention: at `x = ±0`, `∂x` is the one-sided limit from the right, `+∞` for `b > 1` and
/// `−∞` for `0 < b < 1` (as [`Ln`]'s `+∞` for base e); so are the second derivatives there:
/// `∂²/∂x∂b = −1/(x·b·ln²b)` is `−∞` in both orders (forward mode reads it from `∂x`, reverse
/// mode from `∂b`), `∂²/∂x² = −1/(x²·ln b)` is `∓∞`. At a base `b = ±0` the value is
/// `∓0` for `x > 1` (`ln x/(−∞)`) and `∂b` is NaN — no convention: the formula is `0·∞`
/// there, and its one-sided limit from the right is `−∞` for `x > 1`, `+∞` for `0 < x < 1`.
///
/// Range: where `b·ln b` overflows (`b` above about 2.5e305 in `f64`), `∂b` is 0 (its exact
/// value is subnormal there), and so is its slope in `x`: reverse mode, which reads the mixed
/// second derivative from `∂b`, then gives 0 for `∂²/∂b∂x` where forward mode, reading it from
/// `∂x`, gives the exact `−1/(x·b·ln²b)` (so a reverse-mode Hessian is not symmetric there).
/// Likewise at a subnormal `x`, where `∂b`'s slope in `x` passes through `ln`'s derivative
/// `1/x`, which overflows: reverse mode's entry is `−∞` where the exact value may be finite
/// (−2.1e4 at `x = 1e-310`, `b = 1e300`; forward mode's is that). At a subnormal base
/// (below about 2.2e-308 in `f64`, 1.2e-38 in `f32`) `ln`'s derivative `1/b` overflows, and
/// so do the second derivatives in `b` that pass through it, in both modes: `∂²/∂x∂b` is `−∞`
/// (exact −1.96e304 at `x = 1 + 1e-10`, `b = 1e-310`) and `∂²/∂b²` is `±∞` of either sign (its
/// exact value overflows). Between that and `√MIN_POSITIVE` (about 1.5e-154) `∂²/∂b²` is the
/// formula `ln x·(2 + ln b)/(b²·ln³b)` or its overflow to `±∞` with the exact sign.
///
/// # Example
/// ```
/// use adroit_forward::rules::{BinaryRule, Log};
/// use std::f64::consts::LN_2;
/// // log₂ 8 = 3: ∂x = 1/(8·ln 2), ∂b = −3/(2·ln 2)
/// let (value, dx, db) = Log.eval(8.0_f64, 2.0);
/// assert!((value - 3.0).abs() < 1e-12);
/// assert!((dx - 1.0 / (8.0 * LN_2)).abs() < 1e-12);
/// assert!((db + 3.0 / (2.0 * LN_2)).abs() < 1e-12);
/// // at x = ±0: +∞ for a base above 1, −∞ for a base below 1
/// assert_eq!(Log.eval(0.0_f64, 2.0).1, f64::INFINITY);
/// assert_eq!(Log.eval(-0.0_f64, 0.5).1, f64::NEG_INFINITY);
/// // at b = 0: the value −0, ∂b NaN
/// let (value, _, db) = Log.eval(8.0_f64, 0.0);
/// assert!(value == 0.0 && value.is_sign_negative() && db.is_nan());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Log;

/// `∂ log_b(x)/∂x = 1/(x·ln b)`, as `(1/x)/ln b` where `1/x` is finite: the derivatives of that
/// form never square `x·ln b` (which overflowed in `f32` from x ≈ 1e-18 and made a mixed
/// partial 0 in `f64`). Where `x` is not normal (zero or subnormal; `1/x` overflows or is
/// within a factor 4 of it), as `(2⁶⁴/ln b)/(x·2⁶⁴)` (exact scalings; `x·2⁶⁴` is normal):
/// finite where `1/(x·ln b)` is, and its slope in `b`,
/// `−1/(x·b·ln²b)`, is formed as the normal `2⁶⁴/(b·ln²b)` over the normal `x·2⁶⁴` — through
/// `1/(x·ln b)`, whose factor `x` is constant in `b`, it was 0, and through `(1/ln b)/x` the
/// quotient's partial `1/x` overflows (the exact slope is −∞ at `x = 0`, the one-sided limit,
/// −2.1e4 at `x = 1e-310`, `b = 1e300`, and −1.04e308 at `x = 1e-308`, `b = 2`, where
/// `(1/x)/ln b`'s slope overflowed by a factor 2). `x + 0` turns −0 into +0, so at `x = 0` the sign
/// is that of `ln b`.
#[inline(always)]
fn log_dx<S: Float>(x: S, ln_base: S) -> S {
    let x = x + S::zero();
    if x.is_normal() || x.is_infinite() {
        x.recip() / ln_base
    } else {
        let scale = lit::<S>(18_446_744_073_709_551_616.0); // 2⁶⁴
        (scale / ln_base) / (x * scale)
    }
}

/// `∂ log_b(x)/∂b = −log_b(x)/(b·ln b)`. At a normal base below `√MIN_POSITIVE` (about
/// 1.5e-154 in `f64`, 1.1e-19 in `f32`) as `−((log_b x/ln b)/β)·σ`, where `σ` is the power of 2
/// that brings `β = b·σ` into `[1, 2)` (exact scalings). Formed
/// as `log_b(x)/(b·ln b)`, its slope in `b`, `ln x·(2 + ln b)/(b²·ln³b)`, was the sum of two
/// overflowed terms of opposite signs (NaN) where the exact value is finite or overflows; with
/// `β` near 1 each term and the partial `−q/β` of the quotient are normal numbers (a fixed `σ`
/// left that partial subnormal for `x` near 1: 4e-4 relative error), and only the final
/// product with `σ` overflows, to the sign of the exact value.
#[inline(always)]
fn log_db<S: Float>(value: S, base: S, ln_base: S) -> S {
    // On the primals, in f64 (exact: S's smallest normal number is a power of 2, and so is its
    // square root), so that a dual type pays no square root on its tangents.
    let least = S::min_positive_value()
        .to_f64()
        .unwrap_or(f64::MIN_POSITIVE);
    match base.to_f64() {
        Some(primal) if primal >= least && primal < least.sqrt() => {
            // 2^e for the primal m·2^e (1 ≤ m < 2): its exponent bits alone.
            let binade = f64::from_bits(primal.to_bits() & 0x7ff0_0000_0000_0000);
            let scale = lit::<S>(binade.recip());
            -((value / ln_base) / (base * scale)) * scale
        }
        _ => -value / (base * ln_base),
    }
}

impl BinaryRule for Log {
    const EXPENSIVE_DY: bool = true;

    #[inline(always)]
    fn eval<S: Float>(self, x: S, base: S) -> (S, S, S) {
        let ln_base = base.ln();
        let value = x.ln() / ln_base;
        (value, log_dx(x, ln_base), log_db(value, base, ln_base))
    }

    #[inline(always)]
    fn eval_dx<S: Float>(self, x: S, base: S) -> (S, S) {
        let ln_base = base.ln();
        (x.ln() / ln_base, log_dx(x, ln_base))
    }
}
