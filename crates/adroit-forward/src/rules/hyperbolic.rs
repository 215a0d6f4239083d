//! Rules for the hyperbolic functions and their inverses.

use super::UnaryRule;
use num_traits::Float;

/// `sinh x`: derivative `cosh x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Sinh;

impl UnaryRule for Sinh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.sinh(), x.cosh())
    }
}

/// `cosh x`: derivative `sinh x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Cosh;

impl UnaryRule for Cosh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.cosh(), x.sinh())
    }
}

/// `tanh x`: derivative `1 - tanh² x`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

impl UnaryRule for Tanh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.tanh();
        (value, S::one() - value * value)
    }
}

/// `asinh x`: derivative `1/√(x² + 1)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Asinh;

impl UnaryRule for Asinh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.asinh(), x.hypot(S::one()).recip())
    }
}

/// `acosh x` (`x ≥ 1`): derivative `1/√(x² - 1)` (`+∞` at `x = 1`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Acosh;

impl UnaryRule for Acosh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        // √(x−1)·√(x+1) rather than √((x−1)(x+1)), which overflows for huge x.
        (
            x.acosh(),
            ((x - S::one()).sqrt() * (x + S::one()).sqrt()).recip(),
        )
    }
}

/// `atanh x` (`|x| < 1`): derivative `1/(1 - x²)`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Atanh;

impl UnaryRule for Atanh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.atanh(), ((S::one() - x) * (S::one() + x)).recip())
    }
}
