//! The inverse `Φ⁻¹` of the standard normal distribution function in `f64`, and its
//! derivative as generic code (so that on dual numbers it gives every higher derivative).
//!
//! Method (our own, from the classical formulas): a starting point within `4.5e-4` of the root
//! in the tails (Abramowitz & Stegun 26.2.23) and `7e-3` in the middle (the cubic Taylor
//! polynomial about `½`), then Newton's method on an equation whose residual keeps its relative precision:
//! `ln Φ(x) = ln p` for `p < ¼` (with [`log_ndtr`], accurate down to the smallest subnormal
//! `p`, where `Φ`'s density would be subnormal), `½ erf(x/√2) = p − ½` on `[¼, ¾]` (where
//! `p − ½` is exact, so `x` keeps its relative precision next to 0), and
//! `Φ⁻¹(p) = −Φ⁻¹(1 − p)` above `¾` (`1 − p` exact there). Each Newton step reads the slope
//! from the same evaluation, on a [`Dual`].

use crate::normal::log_ndtr;
use crate::rules::lit;
use crate::{Dual, SpecialFunctions};
use core::f64::consts::{FRAC_1_SQRT_2, PI};

/// `√(π/2)`: `Φ(x)/φ(x) = √(π/2)·erfcx(−x/√2)`.
const SQRT_FRAC_PI_2: f64 = 1.2533141373155003;

/// At most this many Newton steps (from the starting points' `7e-3` at worst, quadratic
/// convergence needs five; the rest are a margin for the stopping test, which the rounding
/// of `ln Φ` can keep from passing: the last step is then a rounding-sized one).
const MAX_STEPS: usize = 8;

/// `Φ⁻¹(p)` in `f64`: `−∞` at 0, `+∞` at 1, NaN outside `[0, 1]` and for NaN.
pub(crate) fn ndtri(p: f64) -> f64 {
    if p.is_nan() || !(0.0..=1.0).contains(&p) {
        f64::NAN
    } else if p == 0.0 {
        f64::NEG_INFINITY
    } else if p == 1.0 {
        f64::INFINITY
    } else if p > 0.75 {
        -lower(1.0 - p)
    } else if p >= 0.25 {
        middle(p - 0.5)
    } else {
        lower(p)
    }
}

/// Newton's method from `x`: `step(x)` returns the residual divided by its slope.
fn newton(mut x: f64, step: impl Fn(f64) -> f64) -> f64 {
    for _ in 0..MAX_STEPS {
        let dx = step(x);
        x -= dx;
        if dx.abs() <= 2.0 * f64::EPSILON * x.abs() {
            break;
        }
    }
    x
}

/// The root of `ln Φ(x) = ln p` for `0 < p < ¼`.
fn lower(p: f64) -> f64 {
    // Abramowitz & Stegun 26.2.23: |error| < 4.5e-4
    let t = (-2.0 * p.ln()).sqrt();
    let start = -(t
        - (2.515517 + t * (0.802853 + t * 0.010328))
            / (1.0 + t * (1.432788 + t * (0.189269 + t * 0.001308))));
    let ln_p = p.ln();
    newton(start, |x| {
        let g = log_ndtr(Dual::variable(x));
        (g.value() - ln_p) / g.tangent()
    })
}

/// The root of `½ erf(x/√2) = q` for `|q| ≤ ¼`.
fn middle(q: f64) -> f64 {
    // Φ⁻¹(½ + q) = s·q·(1 + π q²/3 + …), s = √(2π)
    let start = (2.0 * PI).sqrt() * q * (1.0 + PI / 3.0 * q * q);
    newton(start, |x| {
        let h = (Dual::variable(x) * FRAC_1_SQRT_2).erf() * 0.5;
        (h.value() - q) / h.tangent()
    })
}

/// `dΦ⁻¹/dp = 1/φ(x)` at `x = Φ⁻¹(p)`, as `√(2π)·e^(x²/2)`, whose derivatives are products
/// (`x·slope²`, …: no cancellation next to `x = 0`, and `±∞`, not `∞ − ∞`, where they
/// overflow). For `|x| ≥ 1` the exponential would magnify the rounding of `x` by `x²` (`2,900
/// ε` at `x = −38`), so it is scaled by a constant `c ≈ 1` that makes its value the Mills ratio
/// over the tail probability, `√(π/2)·erfcx(−x/√2)/p` below (and `√(π/2)·erfcx(x/√2)/(1 − p)`
/// above), accurate to a few ulps; the scaled derivatives inherit that relative accuracy.
/// `+∞` at 0 and 1 (with higher orders `∓∞`/`+∞` by the chain rule), NaN outside `[0, 1]`.
#[inline]
pub(crate) fn ndtri_slope<S: SpecialFunctions>(p: S, x: S) -> S {
    // at 0 and 1 (x = ∓∞) the exponential is +∞, and so are its derivatives through the chain
    // rule, with the one-sided limits' signs (a constant ∞ would have zero higher orders)
    let slope = lit::<S>((2.0 * PI).sqrt()) * (x * x * lit(0.5)).exp();
    let (p0, x0, e0) = match (p.to_f64(), x.to_f64(), slope.to_f64()) {
        (Some(p0), Some(x0), Some(e0)) if x0.abs() >= 1.0 => (p0, x0, e0),
        // the middle (|x| < 1), and NaN
        _ => return slope,
    };
    let mills = if x0 < 0.0 {
        SQRT_FRAC_PI_2 * crate::erfcx::erfcx(-x0 * FRAC_1_SQRT_2) / p0
    } else {
        SQRT_FRAC_PI_2 * crate::erfcx::erfcx(x0 * FRAC_1_SQRT_2) / (1.0 - p0)
    };
    let c = mills / e0;
    if c.is_finite() && c > 0.0 {
        slope * lit::<S>(c)
    } else {
        // the slope overflows (p below about 1.5e-310, and x = ∓∞ at p = 0 and 1)
        slope
    }
}
