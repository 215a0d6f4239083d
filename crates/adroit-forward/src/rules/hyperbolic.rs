//! Rules for the hyperbolic functions and their inverses.

use super::{UnaryRule, one_minus_square};
use num_traits::Float;

/// `sinh x`: derivative `cosh x`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Sinh, UnaryRule};
/// assert_eq!(Sinh.eval(0.0_f64), (0.0, 1.0));
/// // sinh(ln 2) = (2 − ½)/2 = ¾, cosh(ln 2) = (2 + ½)/2 = 5/4
/// let (value, derivative) = Sinh.eval(std::f64::consts::LN_2);
/// assert!((value - 0.75).abs() < 1e-12 && (derivative - 1.25).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Sinh;

impl UnaryRule for Sinh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.sinh(), x.cosh())
    }
}

/// `cosh x`: derivative `sinh x`.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Cosh, UnaryRule};
/// assert_eq!(Cosh.eval(0.0_f64), (1.0, 0.0));
/// // cosh(ln 2) = (2 + ½)/2 = 5/4, sinh(ln 2) = (2 − ½)/2 = ¾
/// let (value, derivative) = Cosh.eval(std::f64::consts::LN_2);
/// assert!((value - 1.25).abs() < 1e-12 && (derivative - 0.75).abs() < 1e-12);
/// ```
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
///
/// # Example
/// ```
/// use adroit_forward::rules::{Tanh, UnaryRule};
/// assert_eq!(Tanh.eval(0.0_f64), (0.0, 1.0));
/// // tanh(ln 2) = 3/5, derivative 1 − 9/25 = 16/25
/// let (value, derivative) = Tanh.eval(std::f64::consts::LN_2);
/// assert!((value - 0.6).abs() < 1e-12 && (derivative - 0.64).abs() < 1e-12);
/// // tanh 20 rounds to 1, yet the derivative keeps its digits: sech² 20 = 1/cosh² 20
/// let (value, derivative) = Tanh.eval(20.0_f64);
/// assert_eq!(value, 1.0);
/// assert!((derivative * 20.0_f64.cosh().powi(2) - 1.0).abs() < 1e-12);
/// ```
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
///
/// The value is the float type's own `asinh`, as in a plain-float program. Rust's std
/// overflows to `±∞` above about `8.99e307` in magnitude (`f64`; `asinh(1e308)` is `709.89`),
/// where the derivative stays right (`1e-308`).
///
/// # Example
/// ```
/// use adroit_forward::rules::{Asinh, UnaryRule};
/// assert_eq!(Asinh.eval(0.0_f64), (0.0, 1.0));
/// // asinh ¾ = ln(¾ + √(9/16 + 1)) = ln 2, derivative 1/(5/4) = 4/5
/// let (value, derivative) = Asinh.eval(0.75_f64);
/// assert!((value - std::f64::consts::LN_2).abs() < 1e-12);
/// assert!((derivative - 0.8).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Asinh;

impl UnaryRule for Asinh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.asinh(), x.hypot(S::one()).recip())
    }
}

/// `acosh x` (`x ≥ 1`): derivative `1/√(x² - 1)` (`+∞` at `x = 1`), formed as
/// `1/(√(x − 1)·√(x + 1))` so that it does not overflow for huge `x`, and so NaN below 1 with
/// the value (JAX's `1/√(x² − 1)` is real below −1).
///
/// The value is the float type's own `acosh`, as in a plain-float program (the primal stays
/// bit-identical to it). Rust's std computes `ln(x + √(x − 1)·√(x + 1))`, which loses digits
/// just above 1: at `1.0000001` it is 1.9e-13 off relative in `f64` (about 1,500 ulp, against
/// mpmath), and overflows to `+∞` above about `8.99e307` (`acosh(1e308)` is `709.89`). The
/// derivative is accurate at both.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Acosh, UnaryRule};
/// // acosh(5/4) = ln(5/4 + ¾) = ln 2, derivative 1/√(25/16 − 1) = 4/3
/// let (value, derivative) = Acosh.eval(1.25_f64);
/// assert!((value - std::f64::consts::LN_2).abs() < 1e-12);
/// assert!((derivative - 4.0 / 3.0).abs() < 1e-12);
/// assert_eq!(Acosh.eval(1.0_f64), (0.0, f64::INFINITY));
/// ```
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

/// `atanh x` (`|x| < 1`): derivative `1/(1 - x²)`; at `±1` the value is `±∞`, the derivative
/// `+∞` and the second derivative `±∞` (one-sided limits); beyond, the value is NaN and the
/// derivative the formula's (`−⅓` at 2, as JAX's).
///
/// The value is the float type's own `atanh`, as in a plain-float program (the primal stays
/// bit-identical to it). Rust's std computes `½·ln_1p(2x/(1 − x))`, which loses digits as `x`
/// approaches −1 (not +1): at `−0.999999` it is 4.6e-12 off relative in `f64` (about 4·10⁴
/// ulp), at `−1 + 2⁻⁵³` (the last `f64` before −1) 1.85 %, and 0.4 % at `−0.999999` in `f32`,
/// against mpmath; `−atanh(−x)` is accurate there. The derivative is accurate.
///
/// # Example
/// ```
/// use adroit_forward::rules::{Atanh, UnaryRule};
/// assert_eq!(Atanh.eval(0.0_f64), (0.0, 1.0));
/// // atanh(3/5) = ½·ln((1 + 3/5)/(1 − 3/5)) = ln 2, derivative 1/(1 − 9/25) = 25/16
/// let (value, derivative) = Atanh.eval(0.6_f64);
/// assert!((value - std::f64::consts::LN_2).abs() < 1e-12);
/// assert!((derivative - 1.5625).abs() < 1e-12);
/// assert_eq!(Atanh.eval(1.0_f64), (f64::INFINITY, f64::INFINITY));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Atanh;

impl UnaryRule for Atanh {
    #[inline(always)]
    fn eval<S: Float>(self, x: S) -> (S, S) {
        (x.atanh(), one_minus_square(x).recip())
    }
}
