//! [`ln_beta`]: the logarithm of the beta function without the cancellation of
//! `ln Γ(a) + ln Γ(b) − ln Γ(a + b)` at large arguments.

use crate::SpecialFunctions;
use crate::log_exp::undefined;
use crate::polygamma::BERNOULLI_OVER_2K;
use crate::rules::lit;
use num_traits::Float;

/// Where the Stirling series takes over from `ln Γ` itself.
const STIRLING_FROM: f64 = 10.0;

/// `B₂ₖ/(2k(2k − 1))` for `k = 1, …, 10`: the Stirling series' coefficients.
const STIRLING: [f64; 10] = {
    let mut c = [0.0; 10];
    let mut k = 0;
    while k < 10 {
        c[k] = BERNOULLI_OVER_2K[k] / (2.0 * k as f64 + 1.0);
        k += 1;
    }
    c
};

/// `δ(z) = ln Γ(z) − [(z − ½) ln z − z + ½ ln 2π] ≈ Σₖ B₂ₖ/(2k(2k − 1) z²ᵏ⁻¹)` (Abramowitz &
/// Stegun 6.1.41), the Stirling series' correction, for `z ≥ 10` (ten terms: below `ε` there).
pub(crate) fn stirling_correction<S: Float>(z: S) -> S {
    let w = (z * z).recip();
    let series = STIRLING
        .iter()
        .rev()
        .fold(S::zero(), |acc, &c| acc * w + lit(c));
    series / z
}

/// `δ(y) − δ(y + x)` for `y ≥ 10`, `x ≥ 0`, without forming the two values apart (they are
/// equal in floating point when `x ≪ y`, and the difference's derivative in `y`, about
/// `−x·δ''(y)`, would be lost): each term `c·(y⁻ᵐ − s⁻ᵐ)`, `s = x + y`, as
/// `c·(1/y − 1/s)·Σⱼ y⁻ʲ s⁻⁽ᵐ⁻¹⁻ʲ⁾` with `1/y − 1/s = x/(y·s)`.
fn stirling_correction_difference<S: Float>(y: S, x: S) -> S {
    let sum = x + y;
    let (a, b) = (y.recip(), sum.recip());
    let gap = x / (y * sum);
    // P_m = Σⱼ aʲ b^(m − 1 − j) for m = 1, 3, 5, …: P₁ = 1, P_(m+2) = b²·P_m + aᵐ·(a + b)
    let (b2, a_plus_b) = (b * b, a + b);
    let mut power_sum = S::one();
    let mut a_power = a; // aᵐ
    let mut total = S::zero();
    for (k, &c) in STIRLING.iter().enumerate() {
        if k > 0 {
            power_sum = b2 * power_sum + a_power * a_plus_b;
            a_power = a_power * a * a;
        }
        total = total + lit::<S>(c) * power_sum;
    }
    gap * total
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`, the logarithm of the beta function, for
/// `a, b ≥ 0` (JAX's and SciPy's `betaln`, Stan's `lbeta`), never as that difference of
/// three `ln Γ` values, which cancels at large arguments. With `x ≤ y` the two arguments:
/// for `x ≥ 10` all three come from Stirling's series, `(x − ½)·ln(x/(x + y)) +
/// (y − ½)·ln_1p(−x/(x + y)) − ½ ln(x + y) + ½ ln 2π` plus the series' corrections (the
/// form of Stan's `lbeta`); for `x < 10`, `ln Γ(x)` plus `ln Γ(y) − ln Γ(x + y)`, the latter
/// from the series after moving `y` up to 10 by the recurrence (terms `ln(1 + x/(y + j))`),
/// so no difference of two large values (or of two `ψ` values, in its derivatives) is
/// formed, also when `x ≪ y`. Generic over
/// [`SpecialFunctions`], so it differentiates in every mode: `∂/∂a ln B = ψ(a) − ψ(a + b)`.
///
/// A negative-binomial or beta-binomial likelihood's `ln Γ(k + r) − ln Γ(r) − ln Γ(k + 1)` is
/// `−ln B(r, k + 1) − ln(r + k)`: written so, it keeps its digits (and its derivative in `r`)
/// at large `r`, where the `ln Γ` differences lose them (see
/// [`SpecialFunctions::ln_gamma`]).
///
/// Accuracy (tests against mpmath at 400 digits, 23 points from `10⁻³⁰⁰` to `10³⁰⁰`; a
/// scan of 2,850 random points): the value within 8ε of `max(|ln B|, 1)` while `a + b` is
/// finite (`−∞` once it overflows, near `9e307`); gradient and Hessian within 8ε (7ε
/// measured) while the larger argument `y` stays below about `1e70` and `y²/x` below about
/// `1e230`. Beyond, intermediate terms (`x/(x + y)³`, products of first derivatives) underflow
/// and derivatives lose digits or are off by small factors (for example `∂²/∂b²` at
/// `(20, 1e100)` is 2× off in forward mode, `∂b` at `(1e-120, 1e100)` has 5 digits, `∂b` at
/// `(7.5, 1e300)` is 2× off); below about `1e-150` second derivatives overflow (NaN at
/// `(1e-300, 1e-300)`). In `f32` the same limits come far sooner (`∂²/∂b²` at `(1, 1e15)` is
/// 5× off).
///
/// Conventions: `+∞` where an argument is 0 (partial `−∞` in it; `+∞` at `−0.0`, as
/// `ψ(−0) = +∞`); `−∞` where one is `+∞`
/// and the other positive (a constant there: partials 0); NaN for negative arguments, `∞`
/// with 0, or NaN (partials NaN too).
///
/// # Example
/// ```
/// use adroit_forward::{SpecialFunctions, gradient, ln_beta};
/// // B(2, 3) = 1/12
/// assert!((ln_beta(2.0_f64, 3.0) + 12.0_f64.ln()).abs() < 1e-15);
/// // where the three ln Γ values (≈ 2.7e13) leave few digits to their sum
/// let (a, b) = (5.0_f64, 1e12);
/// let direct = SpecialFunctions::ln_gamma(a) + SpecialFunctions::ln_gamma(b)
///     - SpecialFunctions::ln_gamma(a + b);
/// let want = -134.977_051_749_304_8_f64; // mpmath
/// assert!((ln_beta(a, b) - want).abs() < 1e-13 && (direct - want).abs() > 1e-4);
/// // ∂/∂a = ψ(a) − ψ(a + b)
/// let g = gradient(|v| ln_beta(v[0], v[1]), &[2.0, 3.0]);
/// assert!((g[0] - (2.0_f64.digamma() - 5.0_f64.digamma())).abs() < 1e-15);
/// ```
pub fn ln_beta<S: SpecialFunctions>(a: S, b: S) -> S {
    if !(a >= S::zero() && b >= S::zero()) {
        return undefined(&[a, b]);
    }
    let (x, y) = if a <= b { (a, b) } else { (b, a) };
    if y == S::infinity() {
        return if x > S::zero() {
            S::neg_infinity()
        } else {
            undefined(&[a, b])
        };
    }
    if x == S::zero() {
        // +∞, with partial −∞ in each zero argument (ψ(0) − ψ(y) with ψ(y) finite: 0 otherwise)
        return if y == S::zero() {
            x.ln_gamma() + y.ln_gamma()
        } else {
            x.ln_gamma()
        };
    }
    let from: S = lit(STIRLING_FROM);
    let half: S = lit(0.5);
    if x >= from {
        // all three ln Γ from Stirling's series
        let sum = x + y;
        let half_ln_2pi: S = lit(0.918_938_533_204_672_7);
        return (x - half) * (x / sum).ln() + (y - half) * (-x / sum).ln_1p() - half * sum.ln()
            + half_ln_2pi
            + stirling_correction(x)
            + stirling_correction_difference(y, x);
    }
    // ln Γ(x) + [ln Γ(y) − ln Γ(x + y)]: the bracket, with y moved up to y + k ≥ 10 by
    // ln Γ(y) − ln Γ(x + y) = Σⱼ<ₖ ln(1 + x/(y + j)) + [the same at y + k], from Stirling's
    // series (no difference of two ln Γ values is formed, so its derivatives keep their digits
    // when x ≪ y too).
    let mut shifted = y;
    let mut steps = S::zero();
    let mut bracket = S::zero();
    while shifted < from {
        bracket = bracket + (x / shifted).ln_1p();
        steps = steps + S::one();
        shifted = y + steps;
    }
    let sum = x + shifted;
    bracket = bracket + x - x * sum.ln()
        + (shifted - half) * (-x / sum).ln_1p()
        + stirling_correction_difference(shifted, x);
    x.ln_gamma() + bracket
}
