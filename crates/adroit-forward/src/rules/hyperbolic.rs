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

/// `tanh x`: derivative `sech² x = 1 - tanh² x`.
///
/// For `|x| > 1` the derivative is computed as `4e/(1 + e)²` with `e = e^(−2|x|)`: `1 − tanh²`
/// cancels catastrophically there (all digits lost once `tanh x` rounds to ±1, at `|x| ≈ 9` in
/// `f32` and `19` in `f64`; found by the random-program property suite).
#[derive(Clone, Copy, Debug, Default)]
pub struct Tanh;

impl UnaryRule for Tanh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        let value = x.tanh();
        if x.abs() > S::one() {
            let e = (-(x.abs() + x.abs())).exp();
            let d = S::one() + e;
            (value, (e + e + e + e) / (d * d))
        } else {
            (value, S::one() - value * value)
        }
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
