//! Rules for powers and roots.

use super::{BinaryRule, UnaryRule, lit};
use num_traits::Float;

/// `√x`: derivative `1/(2√x)`.
///
/// Convention: `sqrt'(0) = +∞` (the one-sided limit); NaN for `x < 0`.
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
///   everywhere (and its derivative with respect to `p`, `xᵖ⁻¹(1 + p·ln x)`, is kept).
/// - `∂p` at `x = 0`: `0` for `p > 0` (the function is identically 0 there); for `p ≤ 0` the
///   one-sided value `xᵖ·ln|x|` (`-∞`).
/// - For `x < 0` and integer-valued `p` the value is real and `∂p` uses `ln|x|`, so it is
///   finite rather than NaN; for `x < 0` and fractional `p` the value itself is NaN.
#[derive(Clone, Copy, Debug, Default)]
pub struct Powf;

impl BinaryRule for Powf {
    const EXPENSIVE_DY: bool = true;

    #[inline(always)]
    fn eval<S: Float>(self, x: S, p: S) -> (S, S, S) {
        let (value, dx) = self.eval_dx(x, p);
        let dp = if x == S::zero() && p > S::zero() {
            S::zero()
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
        let dx = if p == S::zero() && (x == S::zero() || !x.is_finite()) {
            S::zero()
        } else if x != S::zero() && value.is_normal() {
            // xᵖ⁻¹ = xᵖ / x saves a second `powf` when the quotient cannot under- or overflow.
            p * (value / x)
        } else {
            p * x.powf(p - S::one())
        };
        (value, dx)
    }
}

/// `√(x² + y²)` without undue overflow (`x.hypot(y)`): partials `(x/h, y/h)`.
///
/// Convention: at `(0, 0)` both partials are `0` (a subgradient), not NaN.
#[derive(Clone, Copy, Debug, Default)]
pub struct Hypot;

impl BinaryRule for Hypot {
    #[inline(always)]
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        let value = x.hypot(y);
        if value == S::zero() {
            (value, S::zero(), S::zero())
        } else {
            (value, x / value, y / value)
        }
    }
}
