//! Rules for the special functions of [`SpecialFunctions`]: the error function, its
//! complement and the scaled complement, and the inverse of the normal distribution function.
//!
//! Their values are not expressible in [`num_traits::Float`], so these rules are not
//! [`UnaryRule`](super::UnaryRule)s: `eval` takes a [`SpecialFunctions`] number (the value
//! comes from the number type: `libm` for `f32`/`f64`, the chain rule for dual numbers and
//! tape variables), while the derivative is ordinary `Float` code, so evaluated on a dual
//! number it gives the second derivative, as for every other rule.

use super::lit;
use crate::SpecialFunctions;
use crate::erfcx::erfcx_slope;
use crate::ndtri::ndtri_slope;
use num_traits::Float;

/// `2/√π · e^(−x²)`, the derivative of `erf`; 0 at `±∞` (and for `|x|` beyond ~27 in `f64`,
/// ~10 in `f32`, where `e^(−x²)` underflows), NaN for NaN. `x²` is formed exactly, as
/// `hi + lo` (`lo` by a fused multiply-add), and `e^(−x²) = e^(−hi)·(1 − lo)`: rounding `x²`
/// alone would cost up to `x²·ε` relative in the tail (250 ulps at `|x| = 26` in `f64`).
#[inline(always)]
fn erf_slope<S: Float>(x: S) -> S {
    let hi = x * x;
    let lo = x.mul_add(x, -hi);
    let e = (-hi).exp();
    // At ±∞ `lo` is NaN (∞ − ∞) and `e` is 0: the slope is that 0.
    let e = if lo.is_finite() { e.mul_add(-lo, e) } else { e };
    lit::<S>(core::f64::consts::FRAC_2_SQRT_PI) * e
}

/// The error function `erf x = 2/√π ∫₀ˣ e^(−t²) dt`: derivative `2/√π · e^(−x²)` (Abramowitz &
/// Stegun 7.1.1 and 7.1.19).
///
/// Convention: the derivative is 0 at `±∞` (where `erf` is flat at `±1`).
///
/// # Example
/// ```
/// use adroit_forward::rules::Erf;
/// let (value, slope) = Erf.eval(0.0_f64);
/// assert_eq!(value, 0.0);
/// assert!((slope - 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// assert_eq!(Erf.eval(f64::INFINITY), (1.0, 0.0));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Erf;

impl Erf {
    /// Returns `(erf x, erf' x)`.
    ///
    /// # Example
    /// On a dual number the tangent of the derivative is the second derivative,
    /// `erf'' x = −2x · erf' x`:
    /// ```
    /// use adroit_forward::Dual;
    /// use adroit_forward::rules::Erf;
    /// let (_, d) = Erf.eval(Dual::variable(1.0_f64));
    /// assert!((d.tangent() + 2.0 * d.value()).abs() < 1e-15);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, x: S) -> (S, S) {
        (x.erf(), erf_slope(x))
    }
}

/// The complementary error function `erfc x = 1 − erf x`, computed without the cancellation of
/// `1 − erf x` for large `x`: derivative `−2/√π · e^(−x²)` (Abramowitz & Stegun 7.1.2).
///
/// Convention: the derivative is 0 at `±∞`.
///
/// # Example
/// ```
/// use adroit_forward::rules::Erfc;
/// let (value, slope) = Erfc.eval(0.0_f64);
/// assert_eq!(value, 1.0);
/// assert!((slope + 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// // far in the tail erfc keeps full relative precision: erfc 10 ≈ 2.088e-45
/// assert!((Erfc.eval(10.0_f64).0 / 2.088487583762545e-45 - 1.0).abs() < 1e-14);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Erfc;

impl Erfc {
    /// Returns `(erfc x, erfc' x)`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::Erfc;
    /// let (value, slope) = Erfc.eval(f64::NEG_INFINITY);
    /// assert_eq!(value, 2.0);
    /// assert!(slope == 0.0 && slope.is_sign_negative()); // −(2/√π)·e^(−∞)
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, x: S) -> (S, S) {
        (x.erfc(), -erf_slope(x))
    }
}

/// The scaled complementary error function `erfcx y = e^(y²)·erfc y`: derivative
/// `2y·erfcx y − 2/√π` (from `erfc' = −2/√π·e^(−y²)`), formed for `y ≥ 2`, where the closed
/// form's two terms cancel, as `−(2/√π)·K/(y + K)` from Laplace's continued fraction
/// `√π·erfcx y = 1/(y + K)` (up to 12) and from the asymptotic series (beyond); accuracy in
/// [`SpecialFunctions::erfcx`]. The derivative is written with `erfcx` itself, so on a dual
/// number it gives the next order too.
///
/// Conventions: the derivative is `−0` at `+∞` and `−∞` at `−∞` (and where `erfcx`
/// overflows, `y < −26.64`).
///
/// # Example
/// ```
/// use adroit_forward::rules::Erfcx;
/// let (value, slope) = Erfcx.eval(0.0_f64);
/// assert_eq!(value, 1.0);
/// assert!((slope + 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Erfcx;

impl Erfcx {
    /// Returns `(erfcx y, erfcx' y)`.
    ///
    /// # Example
    /// On a dual number the tangent of the derivative is the second derivative,
    /// `erfcx'' y = 2·erfcx y + 2y·erfcx' y`:
    /// ```
    /// use adroit_forward::{Dual, SpecialFunctions};
    /// use adroit_forward::rules::Erfcx;
    /// let (v, d) = Erfcx.eval(Dual::variable(0.5_f64));
    /// let want = 2.0 * v.value() + 2.0 * 0.5 * d.value();
    /// assert!((d.tangent() - want).abs() < 1e-15);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, y: S) -> (S, S) {
        let value = y.erfcx();
        (value, erfcx_slope(y, value))
    }
}

/// The inverse of the standard normal distribution function, `Φ⁻¹(p)` (SciPy's and JAX's
/// `ndtri`): derivative `1/φ(x) = √(2π)·e^(x²/2)` at `x = Φ⁻¹(p)` (the inverse function's),
/// written with `x` itself, so on a dual number it gives the next order too (`x·slope²`: no
/// cancellation). For `|x| ≥ 1` the exponential would magnify the rounding of `x` by `x²`, so
/// it is scaled by a constant `≈ 1`, computed in `f64`, that makes its value the Mills ratio
/// over the tail probability, `√(π/2)·erfcx(−x/√2)/p` below (`/(1 − p)` with `erfcx(x/√2)`
/// above), accurate to a few ulps; the higher orders inherit that relative accuracy.
///
/// Conventions: the derivative is `+∞` at 0 and 1 (where `Φ⁻¹` is `∓∞`; the higher orders
/// their one-sided limits, `−∞, +∞` at 0 and `+∞, +∞` at 1), NaN outside `[0, 1]`.
///
/// # Example
/// ```
/// use adroit_forward::rules::Ndtri;
/// let (value, slope) = Ndtri.eval(0.5_f64);
/// assert_eq!(value, 0.0);
/// assert!((slope - (2.0 * std::f64::consts::PI).sqrt()).abs() < 1e-15); // 1/φ(0)
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Ndtri;

impl Ndtri {
    /// Returns `(Φ⁻¹(p), (Φ⁻¹)'(p))`.
    ///
    /// # Example
    /// On a dual number the tangent of the derivative is the second derivative,
    /// `(Φ⁻¹)''(p) = x/φ(x)²` at `x = Φ⁻¹(p)`:
    /// ```
    /// use adroit_forward::{Dual, SpecialFunctions};
    /// use adroit_forward::rules::Ndtri;
    /// let (x, d) = Ndtri.eval(Dual::variable(0.9_f64));
    /// let want = x.value() * d.value() * d.value();
    /// assert!((d.tangent() - want).abs() < 1e-14 * want);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, p: S) -> (S, S) {
        let x = p.ndtri();
        (x, ndtri_slope(p, x))
    }
}
