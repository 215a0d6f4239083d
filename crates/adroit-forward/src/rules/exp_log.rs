//! Rules for exponentials and logarithms.

use super::{BinaryRule, UnaryRule, lit};
use core::f64::consts::{LN_2, LN_10};
use num_traits::Float;

/// `eˣ`: derivative `eˣ`.
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
#[derive(Clone, Copy, Debug, Default)]
pub struct Exp2;

impl UnaryRule for Exp2 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.exp2();
        (value, value * lit(LN_2))
    }
}

/// `eˣ - 1`, accurate for tiny `x`: derivative `eˣ`.
#[derive(Clone, Copy, Debug, Default)]
pub struct ExpM1;

impl UnaryRule for ExpM1 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.exp_m1(), x.exp())
    }
}

/// `ln x`: derivative `1/x` (`+∞` at `x = 0`; NaN value for `x < 0`).
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
#[derive(Clone, Copy, Debug, Default)]
pub struct Log2;

impl UnaryRule for Log2 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.log2(), (x * lit(LN_2) + S::zero()).recip())
    }
}

/// `log₁₀ x`: derivative `1/(x·ln 10)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Log10;

impl UnaryRule for Log10 {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.log10(), (x * lit(LN_10) + S::zero()).recip())
    }
}

/// `ln(1 + x)`, accurate for tiny `x`: derivative `1/(1 + x)`.
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
/// `−∞` for `0 < b < 1` (as [`Ln`]'s `+∞` for base e).
#[derive(Clone, Copy, Debug, Default)]
pub struct Log;

impl BinaryRule for Log {
    const EXPENSIVE_DY: bool = true;

    #[inline(always)]
    fn eval<S: Float>(self, x: S, base: S) -> (S, S, S) {
        let ln_base = base.ln();
        let value = x.ln() / ln_base;
        // `x + 0` turns −0 into +0 first, so that at x = 0 the sign of ∂x is that of ln b.
        (
            value,
            ((x + S::zero()) * ln_base).recip(),
            -value / (base * ln_base),
        )
    }

    #[inline(always)]
    fn eval_dx<S: Float>(self, x: S, base: S) -> (S, S) {
        let ln_base = base.ln();
        (x.ln() / ln_base, ((x + S::zero()) * ln_base).recip())
    }
}
