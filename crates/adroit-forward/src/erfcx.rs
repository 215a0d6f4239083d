//! The scaled complementary error function `erfcx y = e^(y²)·erfc y` in `f64`, and its
//! derivative as generic code (so that on dual numbers it gives every higher derivative).
//!
//! Method (our own, from the classical formulas): for `y ≥ 12` the asymptotic series
//! `erfcx y = 1/(y√π)·Σₖ (−1)ᵏ (2k−1)!!/(2y²)ᵏ` (Abramowitz & Stegun 7.1.23), 17 terms, whose
//! truncation is below `ε` there; for `0 ≤ y < 12` the product `e^(y²)·erfc y`, with `y²`
//! split exactly into `hi + lo` (a fused multiply-add) so that `e^(y²)` does not inherit the
//! rounding of `y²` (up to `144ε` relative otherwise) and libm's `erfc`, accurate relative to
//! its value; for `y < 0` the reflection `erfcx y = 2e^(y²) − erfcx(−y)`, a sum of a value
//! `≥ 2` and one `≤ 1` (no cancellation), `+∞` once `e^(y²)` overflows (`y < −26.64`).

use crate::SpecialFunctions;
use crate::rules::lit;
use core::f64::consts::FRAC_2_SQRT_PI;
use num_traits::Float;

/// Where the asymptotic series takes over (its truncation after [`SERIES`] is below `ε`
/// relative from here on).
const ASYMPTOTIC_FROM: f64 = 12.0;

/// `aₖ = (−1)ᵏ (2k−1)!!/2ᵏ` for `k = 1 … 17`: `y√π·erfcx y − 1 = Σₖ aₖ y⁻²ᵏ`.
const SERIES: [f64; 17] = {
    let mut a = [0.0; 17];
    let mut term = 1.0;
    let mut k = 0;
    while k < 17 {
        term *= -((2 * k + 1) as f64) / 2.0;
        a[k] = term;
        k += 1;
    }
    a
};

/// `Σₖ aₖ s2ᵏ` (`k ≥ 1`, [`SERIES`]) by Horner's rule, in any `Float` type (for dual numbers:
/// its derivatives too).
#[inline]
fn tail<S: Float>(s2: S) -> S {
    SERIES
        .iter()
        .rev()
        .fold(S::zero(), |sum, &a| (sum + lit::<S>(a)) * s2)
}

/// `e^(y²)` with `y²` formed exactly as `hi + lo` (`e^hi·(1 + lo)`; `lo` is below an ulp of
/// `hi`).
fn exp_square(y: f64) -> f64 {
    let hi = y * y;
    let lo = y.mul_add(y, -hi);
    let e = hi.exp();
    if e.is_finite() { e.mul_add(lo, e) } else { e }
}

/// `erfcx y` in `f64` (see the module docs for the method): `+∞` below `y ≈ −26.64`, `1` at
/// 0, `0` at `+∞`, NaN for NaN.
pub(crate) fn erfcx(y: f64) -> f64 {
    if y.is_nan() {
        y
    } else if y >= ASYMPTOTIC_FROM {
        let s = y.recip();
        s * (1.0 / core::f64::consts::PI.sqrt()) * (1.0 + tail(s * s))
    } else if y >= 0.0 {
        exp_square(y) * libm::erfc(y)
    } else {
        2.0 * exp_square(y) - erfcx(-y)
    }
}

/// Where the continued fraction of [`erfcx_slope`] takes over from the closed form.
const FRACTION_FROM: f64 = 2.0;

/// `K` of Laplace's continued fraction `√π·erfcx y = 1/(y + K)`,
/// `K = (1/2)/(y + 1/(y + (3/2)/(y + 2/(y + …))))` (A&S 7.1.14), `terms` levels evaluated from
/// the innermost, in any `Float` type.
#[inline]
fn fraction<S: Float>(y: S, terms: usize) -> S {
    (1..=terms)
        .rev()
        .fold(S::zero(), |inner, n| lit::<S>(n as f64 / 2.0) / (y + inner))
}

/// `erfcx' y = 2y·erfcx y − 2/√π`, given `value = erfcx y`, as generic code whose own
/// derivatives (on dual numbers) are as accurate as it is. The closed form's two terms cancel
/// for large `y` (to `−1/(√π y²)`: about `2y²ε` relative error, compounding with each further
/// derivative), so: for `y ≥ 12` the series, `(2/√π)·Σₖ aₖ y⁻²ᵏ`; for `2 ≤ y < 12`
/// `−(2/√π)·K/(y + K)` with `K` from Laplace's continued fraction (`y√π·erfcx y = y/(y + K)`,
/// so `1 − y√π·erfcx y = K/(y + K)` without a subtraction), `20 + ⌈320/y²⌉` levels (converged
/// to rounding from `y = 2`, checked against mpmath); below 2 the closed form, whose
/// cancellation is at most `2y² = 8` but compounds with each further derivative (measured
/// errors in [`SpecialFunctions::erfcx`]). `−0` at `+∞`, `−∞` below `y ≈ −26.63`.
#[inline]
pub(crate) fn erfcx_slope<S: SpecialFunctions>(y: S, value: S) -> S {
    if y >= lit(ASYMPTOTIC_FROM) {
        let s = y.recip();
        lit::<S>(FRAC_2_SQRT_PI) * tail(s * s)
    } else if y >= lit(FRACTION_FROM) {
        let primal = y.to_f64().unwrap_or(FRACTION_FROM);
        let terms = 20 + (320.0 / (primal * primal)).ceil() as usize;
        let k = fraction(y, terms);
        -lit::<S>(FRAC_2_SQRT_PI) * k / (y + k)
    } else {
        (y + y) * value - lit::<S>(FRAC_2_SQRT_PI)
    }
}
