//! The polygamma functions `ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x)` on `f64`: the digamma function
//! (`n = 0`) is the derivative of `ln Γ`, and each order's derivative is the next order, so
//! one routine serves every derivative of
//! [`SpecialFunctions::ln_gamma`](crate::SpecialFunctions::ln_gamma) at every order of
//! differentiation.
//!
//! Method (Abramowitz & Stegun 6.3.5, 6.3.18, 6.4.6, 6.4.11, 6.3.7, 6.4.7): for `x > 0`, the
//! recurrence `ψ⁽ⁿ⁾(x) = ψ⁽ⁿ⁾(x + 1) − (−1)ⁿ n!/xⁿ⁺¹` moves the argument up to `y ≥ 12 + 2n`,
//! where the asymptotic series in Bernoulli numbers (ten terms) is accurate to a few ulps;
//! for `x < 0`, the reflection formula `ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − πⁿ⁺¹ Pₙ(cot πx)`, with
//! `Pₙ` the polynomial giving the `n`-th derivative of `cot` in terms of `cot`
//! (`P₀(c) = c`, `Pₖ₊₁(c) = −(1 + c²)·Pₖ'(c)`) and `cot πx` taken of `x`'s distance to the
//! nearest integer (exact), so large negative arguments keep their precision, by the tangent
//! of the distance to the nearest half-integer above a quarter (exact zeros at the
//! half-integers). The digamma function on `[1, 2]`, where it has its positive root, comes
//! from [`digamma_root`](crate::digamma_root) instead (the sum above cancels there).
//!
//! Accuracy: see [`SpecialFunctions::polygamma`](crate::SpecialFunctions::polygamma) (the
//! tests, `tools/gen_gamma_reference.py`: 75 points at orders 0–6 within 8ε of the
//! conditioning scale, the magnitude of the parts summed — 3.8ε measured there, 9.3ε at order
//! 8 over a scan of 4,150 points — and six points at orders 10 to 100).

use crate::digamma_root::digamma_near_root;

/// The highest order [`polygamma`] computes. Beyond it `n!` approaches `f64`'s range
/// (`170!` is its last finite factorial), so most values over- or underflow; its cost grows
/// with the order (`12 + 2n` recurrence steps, an `n`-th degree polynomial for `x < 0`).
pub(crate) const MAX_ORDER: u32 = 100;

/// `B₂ₖ/(2k)` for `k = 1, …, 10` (Abramowitz & Stegun table 23.2).
pub(crate) const BERNOULLI_OVER_2K: [f64; 10] = [
    1.0 / 12.0,
    -1.0 / 120.0,
    1.0 / 252.0,
    -1.0 / 240.0,
    1.0 / 132.0,
    -691.0 / 32760.0,
    1.0 / 12.0,
    -3617.0 / 8160.0,
    43867.0 / 14364.0,
    -174611.0 / 6600.0,
];

/// `ψ⁽ⁿ⁾(x)`, the polygamma function of order `n` (`n = 0`: the digamma function `ψ`).
///
/// Edge conventions (the limits where they exist, else NaN): `ψ(+∞) = +∞`, `ψ⁽ⁿ⁾(+∞) = ±0`
/// for `n ≥ 1` (the sign of `(−1)ⁿ⁺¹`); NaN at `−∞` and for NaN. At the poles (`x = 0, −1,
/// −2, …`): for odd `n` the limit `+∞` from both sides; for even `n` (the digamma function
/// among them) no two-sided limit, so NaN, except at a signed zero, where the side is known:
/// `ψ⁽ⁿ⁾(±0) = ∓∞` (as `−1/x`).
///
/// # Panics
/// If `n > MAX_ORDER` (a programmer's error: see [`MAX_ORDER`]).
pub(crate) fn polygamma(n: u32, x: f64) -> f64 {
    assert!(
        n <= MAX_ORDER,
        "adroit-forward: polygamma of order {n} requested; orders up to {MAX_ORDER} are \
         supported (on a dual number the derivatives need the next orders: order k's first \
         derivative is order k + 1, its second order k + 2)"
    );
    let odd = n % 2 == 1;
    if x.is_nan() || x == f64::NEG_INFINITY {
        return f64::NAN;
    }
    if x == f64::INFINITY {
        return match n {
            0 => f64::INFINITY,
            _ if odd => 0.0,
            _ => -0.0,
        };
    }
    if x <= 0.0 && x == x.floor() {
        return if odd {
            f64::INFINITY
        } else if x == 0.0 {
            -(1.0_f64.copysign(x)) * f64::INFINITY
        } else {
            f64::NAN
        };
    }
    if x < 0.0 {
        reflected(n, x)
    } else {
        positive(n, x)
    }
}

/// `ψ⁽ⁿ⁾(x)` for finite `x > 0`: the recurrence up to the asymptotic series' range.
fn positive(n: u32, x: f64) -> f64 {
    let start = f64::from(12 + 2 * n);
    if n == 0 && (1.0..=2.0).contains(&x) {
        // Around the positive root the sum below cancels: a series of ψ/(x − x₀) instead.
        return digamma_near_root(x);
    }
    if n == 0 {
        // ψ(x) = ψ(x + k) − Σⱼ<ₖ 1/(x + j)
        let mut shift = 0.0;
        let mut k = 0.0;
        while x + k < start {
            shift += 1.0 / (x + k);
            k += 1.0;
        }
        return digamma_asymptotic(x + k) - shift;
    }
    // ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹ n! · S, S = Σⱼ<ₖ 1/(x + j)ⁿ⁺¹ + [the series at x + k]/n!
    let power = n as i32 + 1;
    let mut sum = 0.0;
    let mut k = 0.0;
    while x + k < start {
        sum += (x + k).powi(-power);
        k += 1.0;
    }
    let scaled = sum + polygamma_asymptotic_over_factorial(n, x + k);
    let magnitude = factorial(n) * scaled;
    if n % 2 == 1 { magnitude } else { -magnitude }
}

/// `n!` in `f64` (`+∞` beyond `170!`).
fn factorial(n: u32) -> f64 {
    (2..=n).fold(1.0, |acc, k| acc * f64::from(k))
}

/// `ψ(y) ≈ ln y − 1/(2y) − Σₖ B₂ₖ/(2k y²ᵏ)` (A&S 6.3.18), for `y ≥ 12`.
fn digamma_asymptotic(y: f64) -> f64 {
    let w = 1.0 / (y * y);
    let series = BERNOULLI_OVER_2K
        .iter()
        .rev()
        .fold(0.0, |acc, &c| (acc + c) * w);
    y.ln() - 0.5 / y - series
}

/// `|ψ⁽ⁿ⁾(y)|/n! ≈ 1/(n yⁿ) + 1/(2yⁿ⁺¹) + Σₖ B₂ₖ/(2k) · C(2k + n − 1, n) / y²ᵏ⁺ⁿ` (A&S 6.4.11,
/// divided by `n!`), for `n ≥ 1`, `y ≥ 12 + 2n`.
fn polygamma_asymptotic_over_factorial(n: u32, y: f64) -> f64 {
    let nf = f64::from(n);
    let w = 1.0 / (y * y);
    // C(2k + n − 1, n) for k = 1, …, 10, built from C(n + 1, n) = n + 1 by
    // C(m + 2, n) = C(m, n)·(m + 1)(m + 2)/((m + 1 − n)(m + 2 − n)) with m = 2k + n − 1.
    let mut binomial = nf + 1.0;
    let mut series = 0.0;
    let mut weight = w;
    for (k, &c) in BERNOULLI_OVER_2K.iter().enumerate() {
        if k > 0 {
            let m = f64::from(2 * k as u32) + nf - 1.0; // 2k + n − 1 of the previous term
            binomial *= (m + 1.0) * (m + 2.0) / ((m + 1.0 - nf) * (m + 2.0 - nf));
        }
        series += c * binomial * weight;
        weight *= w;
    }
    let leading = 1.0 / nf + 0.5 / y + series;
    leading * y.powi(-(n as i32))
}

/// `ψ⁽ⁿ⁾(x)` for finite, non-integer `x < 0`, by reflection.
fn reflected(n: u32, x: f64) -> f64 {
    let cot = cot_pi(x);
    let mirrored = positive(n, 1.0 - x);
    let mirrored = if n.is_multiple_of(2) {
        mirrored
    } else {
        -mirrored
    };
    let pi_power = core::f64::consts::PI.powi(n as i32 + 1);
    mirrored - pi_power * cot_derivative_polynomial(n, cot)
}

/// `cot(πx)` for finite non-integer `x`, with full relative precision also near the
/// half-integers (where it is 0): `cot(πr)` of the distance `r = x − round(x)`, as
/// `1/tan(πr)` for `|r| ≤ ¼` and `sign(r)·tan(π(½ − |r|))` above (both subtractions exact).
fn cot_pi(x: f64) -> f64 {
    let r = x - x.round();
    let pi = core::f64::consts::PI;
    if r.abs() <= 0.25 {
        1.0 / (pi * r).tan()
    } else {
        (pi * (0.5 - r.abs())).tan().copysign(r)
    }
}

/// `Pₙ(c)`: the `n`-th derivative of `cot` at a point where `cot = c`
/// (`P₀(c) = c`, `Pₖ₊₁(c) = −(1 + c²)·Pₖ'(c)`).
fn cot_derivative_polynomial(n: u32, c: f64) -> f64 {
    // Coefficients of Pₖ, lowest degree first; Pₖ has degree k + 1.
    let mut coefficients = vec![0.0, 1.0];
    for _ in 0..n {
        // P' then −(1 + c²)·P'
        let derivative: Vec<f64> = coefficients
            .iter()
            .enumerate()
            .skip(1)
            .map(|(power, &a)| a * power as f64)
            .collect();
        let mut next = vec![0.0; derivative.len() + 2];
        for (power, &a) in derivative.iter().enumerate() {
            next[power] -= a;
            next[power + 2] -= a;
        }
        coefficients = next;
    }
    // Horner's scheme from the leading coefficient (never zero), not from 0: for `c = ±∞` (a
    // negative subnormal `x`) `0·c` would be NaN.
    let (&leading, rest) = coefficients.split_last().expect("degree n + 1 ≥ 1");
    rest.iter().rev().fold(leading, |acc, &a| acc * c + a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cot_polynomials_are_the_known_ones() {
        // at c = ±∞ (the cot of a negative subnormal argument's π-multiple): ±∞, never NaN
        assert_eq!(
            cot_derivative_polynomial(0, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert_eq!(
            cot_derivative_polynomial(1, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        assert_eq!(
            cot_derivative_polynomial(2, f64::NEG_INFINITY),
            f64::NEG_INFINITY
        );
        // cot' = −(1 + c²), cot'' = 2c(1 + c²) = 2c + 2c³
        let c = 0.7;
        assert_eq!(cot_derivative_polynomial(0, c), c);
        assert!((cot_derivative_polynomial(1, c) + (1.0 + c * c)).abs() < 1e-15);
        assert!((cot_derivative_polynomial(2, c) - 2.0 * c * (1.0 + c * c)).abs() < 1e-15);
    }

    #[test]
    fn factorials() {
        assert_eq!(factorial(0), 1.0);
        assert_eq!(factorial(1), 1.0);
        assert_eq!(factorial(5), 120.0);
        assert_eq!(factorial(171), f64::INFINITY);
    }
}
