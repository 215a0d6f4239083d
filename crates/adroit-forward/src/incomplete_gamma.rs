//! The regularised incomplete gamma functions `P(a, x)` and `Q(a, x) = 1 − P(a, x)` (SciPy's
//! and JAX's `gammainc`/`gammaincc`), generic over [`SpecialFunctions`], so that the gamma and
//! chi-square distribution functions, a Poisson count's distribution function
//! (`P(N ≤ k) = Q(k + 1, λ)`) and likelihoods of censored gamma data differentiate in every
//! mode — in `x` and in the shape `a` (which PyTorch's `gammainc` does not differentiate), to
//! every order.
//!
//! Method (the classical one, written in the number type itself so that its derivatives are
//! those of the evaluation): for `x < a + 1` the series
//! `P = xᵃe⁻ˣ/Γ(a + 1)·Σₙ xⁿ/((a + 1)…(a + n))` (Abramowitz & Stegun 6.5.29) — or, for a shape
//! below 1 where `P > ½`, `Q` from the alternating series of `γ(a, x)` (A&S 6.5.4 expanded
//! termwise) — otherwise Legendre's continued fraction for `Q` (A&S 6.5.31) by the modified
//! Lentz method; the other function as the complement. Each runs the terms its primal value
//! needs in `f64` (for the fraction, the larger count of `a` and `a + ½`: at an integer `a`
//! the fraction terminates, but its derivatives in `a` do not) and a quarter as many again,
//! so that the derivatives' slower convergence is covered. For `a ≥ 10` the series runs up
//! to `x = a + 1 + √a`: just above `a + 1` the fraction's derivatives gather rounding over its
//! `√a` levels. The prefactor `xᵃe⁻ˣ/Γ(a + 1)` is, for `a < 10`, `exp(a ln x − ln Γ(1 + a))·e⁻ˣ`
//! (`e⁻ˣ` with its exact argument; the exponential's `a`-derivatives are powers of
//! `ln x − ψ(1 + a)` formed after the subtraction), `xᵃ·e⁻ˣ/Γ(1 + a)` with `xᵃ = xⁿ·xᵃ⁻ⁿ`
//! (`n` the nearest integer, `powi` and `powf`) below `x = ½` (whose `x`-derivatives are formed
//! directly, where `exp(a ln x)`'s cancel at small `x` and overflow at tiny `x`), and one
//! exponential of the whole exponent from `x ≈ 566`
//! (where `e⁻ˣ` nears the subnormal range; `ln Γ(1 + a)` by its Taylor series below
//! `a = 0.2`, without rounding `1 + a`); above, the uniform form
//! `exp(a·(ln(x/a) − x/a + 1) − δ(a))/√(2πa)` with `δ` Stirling's correction, so that its
//! rounding does not grow with `a` (the direct exponent `a ln x − x − ln Γ(a + 1)` cancels
//! to a small number from terms of size `a ln a`).

use crate::SpecialFunctions;
use crate::ln_beta::stirling_correction;
use crate::log_exp::undefined;
use crate::rules::lit;
use core::f64::consts::PI;
use num_traits::Float;

/// From this shape on, the prefactor takes its uniform (Stirling) form.
const UNIFORM_FROM: f64 = 10.0;

/// At most this many terms of the series or levels of the continued fraction (the counts
/// grow like `√a` next to `x = a`: about `8.5·√a` terms; about 1e10 is within reach).
const MAX_TERMS: usize = 1_000_000;

/// `ln(1 + t) − t` without the cancellation of the two terms near `t = 0`: for
/// `−½ ≤ t ≤ 1`, with `u = t/(2 + t)` (`|u| ≤ ⅓`), `−t²/(2 + t) + 2·Σₖ u²ᵏ⁺¹/(2k + 1)`
/// (`ln(1 + t) = 2 atanh u`, and `2u − t = −t²/(2 + t)` exactly), 20 terms; outside, the
/// difference itself (at most a bit or two cancel there).
fn log1pmx<S: Float>(t: S) -> S {
    if t >= lit(-0.5) && t <= S::one() {
        let two = lit::<S>(2.0);
        let u = t / (two + t);
        let u2 = u * u;
        let odd = (1..=20).rev().fold(S::zero(), |acc, k| {
            (acc + lit::<S>(1.0 / (2 * k + 1) as f64)) * u2
        });
        -(t * t) / (two + t) + two * u * odd
    } else {
        t.ln_1p() - t
    }
}

/// `ζ(k)` for `k = 2, …, 26` (Riemann's zeta function at the integers).
const ZETA: [f64; 25] = [
    1.6449340668482264,
    1.2020569031595942,
    1.0823232337111381,
    1.03692775514337,
    1.0173430619844492,
    1.008349277381923,
    1.0040773561979444,
    1.0020083928260821,
    1.000994575127818,
    1.0004941886041194,
    1.000246086553308,
    1.0001227133475785,
    1.0000612481350588,
    1.000030588236307,
    1.0000152822594086,
    1.0000076371976379,
    1.000003817293265,
    1.0000019082127165,
    1.0000009539620338,
    1.0000004769329869,
    1.0000002384505027,
    1.000000119219926,
    1.000000059608189,
    1.0000000298035034,
    1.0000000149015549,
];

/// Euler's constant `γ`.
const EULER_GAMMA: f64 = 0.5772156649015329;

/// `ln Γ(1 + a)` for `a ≥ 0` without rounding `1 + a` for small shapes (that rounding is an
/// absolute error of about `γ·ε` in a value of size `γa`): below `0.2` its Taylor series
/// `−γa + Σₖ₌₂ (−a)ᵏ ζ(k)/k` (A&S 6.1.33), 26 terms; above, `ln Γ` of `1 + a`.
fn ln_gamma_1p<S: SpecialFunctions>(a: S) -> S {
    if a < lit(0.2) {
        let tail = ZETA
            .iter()
            .enumerate()
            .rev()
            .fold(S::zero(), |acc, (i, &z)| {
                let k = (i + 2) as f64;
                let sign = if (i + 2) % 2 == 0 { 1.0 } else { -1.0 };
                (acc + lit::<S>(sign * z / k)) * a
            });
        (tail - lit::<S>(EULER_GAMMA)) * a
    } else {
        (a + S::one()).ln_gamma()
    }
}

/// The primal value of `v` in `f64` (NaN if it has none): what the branches test, without
/// recording the tests on a tape.
fn primal<S: Float>(v: S) -> f64 {
    v.to_f64().unwrap_or(f64::NAN)
}

/// `xᵃe⁻ˣ/Γ(a + 1)` for `a > 0`, `0 ≤ x < ∞` (see the module docs; `Γ(a + 1)`, not `Γ(a)`, so
/// that small shapes do not meet `ln Γ(a) ≈ −ln a`, whose derivatives, `−1/a`, `1/a²`, …, would
/// cancel against those of a division by `a`).
fn prefactor<S: SpecialFunctions>(a: S, x: S) -> S {
    if a >= lit(UNIFORM_FROM) {
        let t = (x - a) / a;
        let core = if t >= lit(-0.5) && t <= S::one() {
            a * log1pmx(t)
        } else {
            // far from a, where `t` would carry its rounding into ln(1 + t) magnified by
            // 1/(1 + t) (x ≪ a: P(10, 1e-15) was 2,900 times too large): ln(x/a) of the
            // quotient itself (x/a rounds by ε/2; ln x − ln a would round two logarithms of
            // size ln a)
            a * (x / a).ln() - (x - a)
        };
        (core - stirling_correction(a)).exp() / (a * lit::<S>(2.0 * PI)).sqrt()
    } else {
        // e⁻ˣ is normal up to −ln(min positive) (708 in f64, 87 in f32); 0.8 of it leaves
        // room for the reverse sweep's adjoints, which carry e⁻ˣ times the output's adjoint
        let exp_limit = -primal(S::min_positive_value()).ln() * 0.8;
        let x0 = primal(x);
        if x0 >= exp_limit {
            // e⁻ˣ (nearly) subnormal: one exponential of the whole exponent
            (a * x.ln() - x - ln_gamma_1p(a)).exp()
        } else if x0 < 0.5 {
            // below ½, xᵃ by `powf`: its x-derivatives are formed directly (a(a − 1)xᵃ⁻², …),
            // where exp(a ln x)'s cancel (a²/x² − a/x² at a ≈ 1: 4e8 ulps of the Hessian at
            // (1 + 1e-10, 1e-10), wrong third derivatives of integer shapes; on the tape −0.5
            // for P(1, x)'' = −1), its value keeps an ulp where a·ln x would round (215 ulps of
            // ∂P/∂x at (1.001, 1e-60)), and it keeps a normal slope a·xᵃ⁻¹ where xᵃ flushes to 0
            // (P(5.2, 1.3e-62)' ≈ 3.5e-263); ln x < −0.69 keeps ∂/∂a = ln x − ψ(1 + a) from
            // cancelling much (ψ(1 + a) < 0.43 for a < 1; for a ≥ 1 the two have one sign).
            // As xⁿ·xᵃ⁻ⁿ with n the nearest integer (a − n exact): `powf`'s second derivative
            // p(p − 1)xᵖ⁻² comes from p·xᵖ/x, whose tangent cancels as p → 1 (1.5e-8 relative
            // at a = 1 − 1e-8), and |a − n| ≤ ½ keeps it away from 1; xⁿ's are exact. `powf`
            // alone where xⁿ is subnormal (it keeps the slopes: P(2.5, 1e-160)'' ≈ 1.1e-80,
            // lost in xⁿ·xᵃ⁻ⁿ), and where a negative a − n has a slope (a − n)·xᵃ⁻ⁿ⁻¹ that
            // overflows (a in [½, 1) at tiny x: the product rule gave ∂P/∂x = −∞ for
            // P(0.5, 1e-30) in f32, exact 5.6e14)
            let whole = primal(a).round() as i32;
            let whole_power = x.powi(whole);
            let fraction = primal(a) - f64::from(whole);
            let split = primal(whole_power) >= primal(S::min_positive_value())
                && (fraction >= 0.0 || x0.powf(fraction) / x0 < primal(S::max_value()));
            let power = if split {
                whole_power * x.powf(a - lit(f64::from(whole)))
            } else {
                x.powf(a)
            };
            power * (-x).exp() * (-ln_gamma_1p(a)).exp()
        } else {
            // xᵃ/Γ(a + 1) as one exponential, whose a-derivatives form (ln x − ψ(1 + a))ⁿ
            // after the subtraction (as three factors they cancel where ln x ≈ ψ(1 + a): 500 ε
            // in the Hessian at (9.5, 9)), and e⁻ˣ with its exact argument
            (a * x.ln() - ln_gamma_1p(a)).exp() * (-x).exp()
        }
    }
}

/// The number of series terms after the first that bring the primal sum of
/// [`series_p`] to convergence at `(a, x)` in `f64`, `None` beyond [`MAX_TERMS`].
fn series_terms(a: f64, x: f64) -> Option<usize> {
    let (mut term, mut sum, mut denominator) = (1.0, 1.0, a);
    for n in 1..=MAX_TERMS {
        denominator += 1.0;
        term *= x / denominator;
        sum += term;
        if term <= sum * f64::EPSILON {
            return Some(n);
        }
    }
    None
}

/// One step of Legendre's continued fraction for `Q` by the modified Lentz method: level
/// `i` updates `(b, c, d, h)` and returns the factor `h` was multiplied by.
fn lentz_step<S: Float>(i: usize, a: S, state: &mut [S; 4]) -> S {
    let [b, c, d, h] = state;
    let tiny = S::min_positive_value() / S::epsilon();
    let guard = |v: S| if v.abs() < tiny { tiny } else { v };
    let i = lit::<S>(i as f64);
    let an = -i * (i - a);
    *b = *b + lit(2.0);
    *d = guard(an * *d + *b).recip();
    *c = guard(*b + an / *c);
    let delta = *d * *c;
    *h = *h * delta;
    delta
}

/// The fraction's starting state at `(a, x)`: `b = x + 1 − a`, `c = 1/tiny`, `d = h = 1/b`.
fn lentz_start<S: Float>(a: S, x: S) -> [S; 4] {
    let b = x + S::one() - a;
    let tiny = S::min_positive_value() / S::epsilon();
    [b, tiny.recip(), b.recip(), b.recip()]
}

/// The number of levels of the fraction that bring its primal value to convergence at
/// `(a, x)` in `f64`, `None` beyond [`MAX_TERMS`].
fn fraction_levels(a: f64, x: f64) -> Option<usize> {
    let mut state = lentz_start(a, x);
    (1..=MAX_TERMS).find(|&i| (lentz_step(i, a, &mut state) - 1.0).abs() <= f64::EPSILON)
}

/// The terms the number type's evaluation runs: those the primal value needs, and a quarter
/// as many again (at least 4) for the derivatives, which converge more slowly.
fn with_margin(n: usize) -> usize {
    n + n / 4 + 4
}

/// `P(a, x)` by the series, for `x < a + 1`; `None` if it does not converge.
fn series_p<S: SpecialFunctions>(a: S, x: S) -> Option<S> {
    let terms = series_terms(a.to_f64()?, x.to_f64()?)?;
    let (mut term, mut sum, mut denominator) = (S::one(), S::one(), a);
    // at least 12 terms: at x = 0 the sum is the Taylor polynomial its x-derivatives read
    for _ in 0..with_margin(terms).max(12) {
        denominator = denominator + S::one();
        term = term * x / denominator;
        sum = sum + term;
    }
    Some(prefactor(a, x) * sum)
}

/// `Q(a, x)` by Legendre's continued fraction (modified Lentz), for `x ≥ a + 1`; `None` if it
/// does not converge. The number of levels is the larger of those the primal value needs at
/// `a` and at `a + ½`: at an integer `a` the fraction terminates (its `i`-th numerator
/// `−i(i − a)` is 0 at `i = a`) and the primal value converges there, but the derivatives in
/// `a` need the levels a non-integer shape needs.
fn continued_fraction_q<S: SpecialFunctions>(a: S, x: S) -> Option<S> {
    let (a0, x0) = (a.to_f64()?, x.to_f64()?);
    let levels = fraction_levels(a0, x0)?.max(fraction_levels(a0 + 0.5, x0)?);
    let mut state = lentz_start(a, x);
    for i in 1..=with_margin(levels) {
        lentz_step(i, a, &mut state);
    }
    Some(prefactor(a, x) * a * state[3])
}

/// The number of terms after the first of [`small_shape_q`]'s alternating series that bring
/// its primal sum to convergence at `(a, x)` in `f64`, `None` beyond [`MAX_TERMS`].
fn alternating_terms(a: f64, x: f64) -> Option<usize> {
    let (mut power, mut sum) = (1.0, 0.0);
    for n in 1..=MAX_TERMS {
        power *= -x / n as f64;
        let term = power / (a + n as f64);
        sum += term;
        if term.abs() <= sum.abs() * f64::EPSILON {
            return Some(n);
        }
    }
    None
}

/// `Q(a, x)` for a shape below 1 where `P` is above ½ (so that `1 − P` would cancel): from
/// `γ(a, x) = Σₙ (−1)ⁿxᵃ⁺ⁿ/(n!(a + n))`, `Q = −expm1(a ln x − ln Γ(a + 1)) −
/// a·xᵃ/Γ(a + 1)·Σₙ₌₁ (−x)ⁿ/(n!(a + n))`, whose two terms cancel at most mildly there (the
/// alternating sum is negative for `x < 2`; where `xᵃ/Γ(1 + a) > 1` the first term is negative:
/// −0.96 and +1.10 for `Q ≈ 0.14` at `(0.99, 1.97)`), and whose derivative in `x` is formed
/// without the cancellation of `P`'s series next to 1.
fn small_shape_q<S: SpecialFunctions>(a: S, x: S) -> Option<S> {
    let terms = alternating_terms(a.to_f64()?, x.to_f64()?)?;
    let (mut power, mut sum) = (S::one(), S::zero());
    for n in 1..=with_margin(terms) {
        let n = lit::<S>(n as f64);
        power = -power * x / n;
        sum = sum + power / (a + n);
    }
    let exponent = a * x.ln() - ln_gamma_1p(a); // ln(xᵃ/Γ(a + 1))
    Some(-exponent.exp_m1() - a * exponent.exp() * sum)
}

/// `(P, Q)` for `a > 0` and `x ≥ 0` (checked by the callers), each by its own method where
/// it is small.
fn both<S: SpecialFunctions>(a: S, x: S) -> (S, S) {
    let one = S::one();
    if x.is_infinite() {
        return (one, S::zero());
    }
    if x == S::zero() && a.fract() != S::zero() {
        // at 0 a non-integer shape's derivatives in x are 0 below order a and ±∞ above, all
        // those of the leading term xᵃ/Γ(a + 1) (the series' further terms would add ∞ − ∞);
        // an integer shape takes the series, whose polynomial terms carry its finite ones
        let p = x.powf(a) * (-ln_gamma_1p(a)).exp();
        return (p, one - p);
    }
    let fail = || (undefined(&[a, x]), undefined(&[a, x]));
    // The branches are chosen on the primal values in f64 (on a tape, a test in the number
    // type would record its operations). The series up to a + 1, and for large shapes up to
    // a + 1 + √a: just above a + 1 the fraction converges slowly (√a levels) and its
    // derivatives gather rounding (2e-9 relative in the Hessian at a = 1e5), while the series
    // stays accurate and Q = 1 − P, at least Φ(−1) there, loses at most a few bits.
    let (a0, x0) = (primal(a), primal(x));
    let series_below = if a0 >= UNIFORM_FROM {
        a0 + 1.0 + a0.sqrt()
    } else {
        a0 + 1.0
    };
    if x0 < a0 + 1.0 && a0 < 1.0 && x0.powf(a0) * (-ln_gamma_1p(a0)).exp() > 0.5 {
        // the series' leading term xᵃ/Γ(a + 1) is above ½: P is close to 1, Q small
        small_shape_q(a, x).map_or_else(fail, |q| (one - q, q))
    } else if x0 < series_below {
        series_p(a, x).map_or_else(fail, |p| (p, one - p))
    } else {
        continued_fraction_q(a, x).map_or_else(fail, |q| (one - q, q))
    }
}

/// Whether `(a, x)` is in the domain `a > 0` finite, `x ≥ 0` (NaN fails).
fn in_domain<S: Float>(a: S, x: S) -> bool {
    a > S::zero() && a.is_finite() && x >= S::zero()
}

/// The regularised lower incomplete gamma function `P(a, x) = γ(a, x)/Γ(a) =
/// 1/Γ(a)·∫₀ˣ tᵃ⁻¹e⁻ᵗ dt` (SciPy's and JAX's `gammainc`): the distribution function at `x` of
/// a gamma variable of shape `a` and unit scale (the chi-square's with `k` degrees of freedom
/// is `P(k/2, x/2)`), in `[0, 1]`, increasing in `x`, decreasing in `a`.
///
/// Derivatives in both arguments and of every order, by the chain rule through the
/// evaluation (`∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a)`; `∂P/∂a` has no closed form). `P(a, +∞) = 1`;
/// `P(a, 0) = 0`, with the derivatives in `x` there of the leading term `xᵃ/Γ(a + 1)` for a
/// non-integer shape (0 below order `a`, `±∞` above) and the exact finite ones for an integer
/// shape (`P(1, x) = 1 − e⁻ˣ`: 1, −1, 1, …); there the mixed `∂²P/∂a∂x` is `−∞` for `a = 1`
/// and NaN for `a < 1`, and mixed derivatives of the third order can be NaN where their limit
/// is infinite (`∞ − ∞` inside `xᵃ`'s rule). NaN (in every derivative too) for `a ≤ 0`,
/// `a = ∞`, `x < 0` or NaN, and where the series or fraction would need more than a million
/// terms (`a` beyond about 1e10 with `x` near `a`). At subnormal `x`, or where a derivative is
/// subnormal, the adroit-wide caveats for subnormal numbers apply (a subnormal slope may be
/// flushed to 0); for shapes below 1 with `P > ½`, the second `x`-derivative is NaN below
/// `x ≈ 1e-154` (`1e-19` in `f32`), where `ln x`'s second derivative overflows although
/// `a`·that need not.
///
/// Accuracy against mpmath (126 points from `a = 1e-6` to `1e5` in the tests,
/// `tools/gen_gammainc_reference.py`, including the worst cases of scans of about 10,000
/// points, and the scans themselves — `a` from `1e-7` to `1e6`, `x` around `a`, lower tails of
/// `a ≥ 10` down to `x = 1e-16·a`, `x` from 540 to 760, tiny `x`, shapes next to integers,
/// every switch of method, `f32`), with `v` the value, `g` the gradient's and `h` the Hessian's
/// largest entry, and `r = 2·(a·|ln x| + ln Γ(1 + a))` for `a < 10` (the rounding of the
/// exponent's terms; 0 from `a = 10`, where the uniform form avoids it): the smaller of `P` and
/// `Q` within `10·(1 + |ln v|) + 0.1·√a + r` ulps of `v` (the rounding of the exponent `ln v`,
/// and for large shapes of the series' `8.5·√a` terms: 328 ulps of `P(104, 10.8) ≈ 4e-64`, 39
/// of `Q(9, 9.44) ≈ 0.4`), except that for `a ≥ 10` and `a + 1 ≤ x < a + 1 + √a`, where `Q`
/// (at least 0.15 there) is `1 − P`, it is within `8 + 0.5·√a` ulps of 1 (75 ulps of
/// `Q(1e4, 10091) ≈ 0.18`); the larger (`1 −` the smaller, or the series' sum) within
/// `8 + 0.1·√a + r` ulps of 1; the gradient within `20·(1 + |ln g| + √a) + r` ulps of `g`
/// (77 at `a = 1e5`); the Hessian within `64·(1 + |ln h|)(1 + √a)` ulps of `h`, without the
/// `√a` below `a = 10` (from tens of ulps for small shapes to 10,500 at `a = 1e5`, `x = a`).
///
/// Cost: the series and the fraction need from a few terms up to about `8.5·√a` next to
/// `x = a`, each a few operations of the number type (on the reverse tape, a few nodes per
/// term).
///
/// # Example
/// ```
/// use adroit_forward::incomplete_gamma::gammainc;
/// use adroit_forward::gradient;
/// // a = 1 is the exponential distribution: P(1, x) = 1 − e⁻ˣ
/// assert!((gammainc(1.0_f64, 2.0) - (1.0 - (-2.0_f64).exp())).abs() < 1e-15);
/// // ∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a): at (3, 2), 2²·e⁻²/2
/// let g = gradient(|v| gammainc(v[0], v[1]), &[3.0, 2.0]);
/// assert!((g[1] - 2.0 * (-2.0_f64).exp()).abs() < 1e-15);
/// assert!(g[0] < 0.0); // a larger shape moves the mass right
/// ```
pub fn gammainc<S: SpecialFunctions>(a: S, x: S) -> S {
    if !in_domain(a, x) {
        return undefined(&[a, x]);
    }
    both(a, x).0
}

/// The regularised upper incomplete gamma function `Q(a, x) = Γ(a, x)/Γ(a) = 1 − P(a, x)`
/// (SciPy's and JAX's `gammaincc`): the survival function of a gamma variable of shape `a`, and
/// the distribution function of a Poisson count, `P(N ≤ k) = Q(k + 1, λ)` for mean `λ`.
/// Computed directly where it is small (the continued fraction for `x ≥ a + 1`, accurate
/// relative to its value far in the tail: `Q(1, 700) = e⁻⁷⁰⁰`), as `1 − P` below. Derivatives
/// and conventions as [`gammainc`]'s, with the opposite sign (`Q(a, 0) = 1`, `Q(a, +∞) = 0`).
///
/// # Example
/// ```
/// use adroit_forward::incomplete_gamma::gammaincc;
/// use adroit_forward::{Dual, derivative};
/// // P(N ≤ 2) for a Poisson count of mean 3: e⁻³(1 + 3 + 9/2)
/// let want = (-3.0_f64).exp() * 8.5;
/// assert!((gammaincc(3.0_f64, 3.0) - want).abs() < 1e-15);
/// // far in the tail, relative to its value
/// assert!((gammaincc(1.0_f64, 700.0) / (-700.0_f64).exp() - 1.0).abs() < 1e-13);
/// // d/dλ P(N ≤ 2) = −e⁻³·3²/2 (both arguments are of one type: the shape a constant dual)
/// let d = derivative(|lambda| gammaincc(Dual::constant(3.0), lambda), 3.0_f64);
/// assert!((d + (-3.0_f64).exp() * 4.5).abs() < 1e-15);
/// ```
pub fn gammaincc<S: SpecialFunctions>(a: S, x: S) -> S {
    if !in_domain(a, x) {
        return undefined(&[a, x]);
    }
    both(a, x).1
}
