//! Functions of logarithms and exponentials computed without overflow or cancellation — the
//! logistic function, `logit`, `ln(1 ± eˣ)`, `ln(eᵃ ± eᵇ)`, `ln Σ eˣⁱ`, the softmax and its
//! logarithm — written generically over
//! [`Float`] so that every number type of adroit differentiates them, to every order.
//!
//! Each is a smooth formula chosen by a branch on the primal value (never `max` or `abs` of the
//! argument), so its derivatives of every order are those of the true function: the textbook
//! form of softplus, `max(x, 0) + ln(1 + e^(−|x|))`, has the right value and gradient but a
//! second derivative of 0 at `x = 0` (where `max` and `abs` have kinks; the true value is ¼),
//! and a Newton step started at 0 goes wrong — [`log1p_exp`] does not.
//!
//! Outside a function's domain (`logit` of `p ∉ [0, 1]`, `log1m_exp` of `x > 0`, `logsubexp` of
//! `a < b`) and for NaN arguments the value and every derivative are NaN (a bare `ln` of a
//! negative number has the finite derivative `1/x`, as in JAX and PyTorch).
//!
//! Names and definitions follow Julia's LogExpFunctions.jl (`logistic`, `logit`, `log1pexp`,
//! `log1mexp`, `logaddexp`, `logsubexp`, `logsumexp`), with Rust's snake case; Stan calls them
//! `inv_logit`, `logit`, `log1p_exp`, `log1m_exp`, `log_sum_exp`, `log_diff_exp`, JAX
//! `jax.nn.sigmoid`, `jax.scipy.special.logit`, `jax.nn.softplus`, `jnp.logaddexp`,
//! `jax.nn.logsumexp`. The branches for `ln(1 − eˣ)` follow Mächler, "Accurately computing
//! log(1 − exp(−|a|))" (2012).

use crate::rules::lit;
use num_traits::Float;

/// NaN, with NaN derivatives along every perturbed input: the result outside a function's
/// domain (its formula's derivatives there are finite and meaningless, and a gradient-only
/// optimiser would carry on with them).
pub(crate) fn undefined<S: Float>(inputs: &[S]) -> S {
    // Squared, so that the second (and every higher) derivative is NaN too, the mixed ones
    // included: a product with a NaN constant has NaN first derivatives, but its second-order
    // parts meet the NaN only through the inputs' own (zero) second-order parts, which
    // `0·NaN = 0` keeps at 0.
    let poisoned = inputs.iter().fold(S::nan(), |acc, &v| acc + v * S::nan());
    poisoned * poisoned
}

/// `ln 2` in `S`.
fn ln_2<S: Float>() -> S {
    lit(core::f64::consts::LN_2)
}

/// The logistic function `σ(x) = 1/(1 + e⁻ˣ)` (the sigmoid; Stan's `inv_logit`): `eˣ/(1 + eˣ)`
/// for `x ≤ −1`, so no exponential overflows, and `½ + ½·tanh(x/2)` for `|x| < 1`, so the
/// second derivative keeps its relative precision near its zero at 0. `σ(−∞) = 0`, `σ(+∞) = 1`, derivatives 0 there;
/// NaN for NaN. Derivative `σ(x)(1 − σ(x))`.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, derivative, log_exp::logistic};
/// assert_eq!(logistic(0.0), 0.5);
/// assert_eq!((logistic(-1000.0_f64), logistic(1000.0_f64)), (0.0, 1.0));
/// // σ'(0) = ¼
/// assert_eq!(derivative(|x: Dual<f64>| logistic(x), 0.0), 0.25);
/// ```
pub fn logistic<S: Float>(x: S) -> S {
    let half: S = lit(0.5);
    if x.abs() < S::one() {
        // ½ + ½·tanh(x/2): the second derivative, −σ'·tanh(x/2), keeps its relative precision
        // near 0, where σ(1 − σ)(1 − 2σ) through 1/(1 + e⁻ˣ) cancels in 1 − 2σ.
        return half + half * (x * half).tanh();
    }
    if x >= S::zero() {
        (S::one() + (-x).exp()).recip()
    } else {
        let e = x.exp();
        e / (S::one() + e)
    }
}

/// The logit function `ln(p/(1 − p))`, the inverse of [`logistic`], for `p` in `[0, 1]`:
/// `2·atanh(2p − 1)` for `p` in `[¼, ¾]` (`2p − 1` is exact there, so neither the value —
/// `ln p − ln(1 − p)` would lose the digits of `logit(½ + δ) ≈ 4δ` — nor the second
/// derivative, `∝ 2p − 1`, cancels near `½`), `ln p − ln_1p(−p)` elsewhere. `logit(0) = −∞`, `logit(1) = +∞` (derivative `+∞` at both); NaN outside
/// `[0, 1]`, derivatives too. Derivative `1/(p(1 − p))`.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, derivative, log_exp::{logistic, logit}};
/// assert_eq!(logit(0.5), 0.0);
/// assert!((logit(logistic(2.5_f64)) - 2.5).abs() < 1e-14); // logit' = 14 there
/// assert_eq!((logit(0.0_f64), logit(1.0_f64)), (f64::NEG_INFINITY, f64::INFINITY));
/// // logit'(½) = 4
/// assert_eq!(derivative(|p: Dual<f64>| logit(p), 0.5), 4.0);
/// ```
pub fn logit<S: Float>(p: S) -> S {
    if !(p >= S::zero() && p <= S::one()) {
        return undefined(&[p]);
    }
    let quarter: S = lit(0.25);
    if p >= quarter && p <= S::one() - quarter {
        // 2·atanh(2p − 1), with 2p − 1 exact: its second derivative, ∝ 2p − 1, keeps its
        // relative precision near ½
        (p + p - S::one()).atanh() * (S::one() + S::one())
    } else {
        p.ln() - (-p).ln_1p()
    }
}

/// `ln(1 + eˣ)`, the softplus function (Stan's `log1p_exp`, JAX's `softplus`): `x + ln(1 + e⁻ˣ)`
/// for `x > 0`, `ln(1 + eˣ)` otherwise, so it neither overflows for large `x` nor loses the
/// tiny values for very negative `x`. `+∞` at `+∞`, `0` at `−∞`. Derivative `σ(x)`
/// ([`logistic`]), second derivative `σ(x)(1 − σ(x))`, exact at `x = 0` too (see the module
/// docs for the `max`/`abs` form, which gets 0 there).
///
/// # Example
/// ```
/// use adroit_forward::{HyperDual, log_exp::log1p_exp, second_derivative};
/// assert_eq!(log1p_exp(0.0), 2f64.ln());
/// assert_eq!((log1p_exp(1000.0_f64), log1p_exp(-1000.0_f64)), (1000.0, 0.0));
/// assert_eq!(log1p_exp(-700.0_f64), (-700.0_f64).exp()); // 9.9e-305, all its digits
/// // the second derivative at 0 is ¼
/// assert_eq!(second_derivative(|x: HyperDual<f64>| log1p_exp(x), 0.0), 0.25);
/// ```
pub fn log1p_exp<S: Float>(x: S) -> S {
    if x > S::zero() {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `ln σ(x) = −ln(1 + e⁻ˣ)`, the log of the [`logistic`] function (`log_sigmoid`; Stan's
/// `log_inv_logit`): `−log1p_exp(−x)`, finite for every finite `x` (`−1000` at `−1000`, where
/// `ln(σ(x))` gives `ln 0`). Derivative `1 − σ(x) = σ(−x)`.
///
/// # Example
/// ```
/// use adroit_forward::log_exp::log_logistic;
/// assert_eq!(log_logistic(0.0), -(2f64.ln()));
/// assert_eq!(log_logistic(-1000.0_f64), -1000.0);
/// ```
pub fn log_logistic<S: Float>(x: S) -> S {
    -log1p_exp(-x)
}

/// `ln(1 − eˣ)` for `x ≤ 0` (Stan's `log1m_exp`): `ln(−expm1(x))` for `x > −ln 2` and
/// `ln_1p(−eˣ)` below (Mächler 2012), full relative precision on both sides. `−∞` at `x = 0`
/// (derivative `−∞`), `0` at `−∞`; NaN for `x > 0`, derivatives too. Derivative
/// `−eˣ/(1 − eˣ) = −1/expm1(−x)`.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, derivative, log_exp::log1m_exp};
/// // ln(1 − e^(−10⁻²⁰)) = ln(10⁻²⁰ − …): 1 − exp(x) would give ln 0
/// assert!((log1m_exp(-1e-20_f64) - 1e-20_f64.ln()).abs() < 1e-14);
/// assert_eq!(log1m_exp(0.0), f64::NEG_INFINITY);
/// assert_eq!(derivative(|x: Dual<f64>| log1m_exp(x), 0.0), f64::NEG_INFINITY);
/// assert!(log1m_exp(1.0_f64).is_nan());
/// ```
pub fn log1m_exp<S: Float>(x: S) -> S {
    if x > S::zero() {
        return undefined(&[x]);
    }
    if x > -ln_2::<S>() {
        // `0 − expm1(x)`, not `−expm1(x)`: at `x = 0` the argument is then `+0`, so the log's
        // derivative is `+∞` and the result's `−∞` (a `−0` would flip both).
        (S::zero() - x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// `ln(eᵃ + eᵇ)` (JAX's and NumPy's `logaddexp`, Stan's two-argument `log_sum_exp`):
/// `m + ln(1 + e^(−|a − b|))` with `m` the larger, by a branch on which is larger, so no
/// exponential overflows and the partials `σ(a − b)`, `σ(b − a)` and every higher derivative
/// are exact, at ties too (where they are ½, ½, and the second ones `±¼`).
///
/// `+∞` if either is `+∞`; the other if one is `−∞`; at infinite ties (`a = b = ±∞`) `a`, with
/// partials ½ each (the limit along the tie) and second derivatives 0. NaN if either is NaN.
///
/// # Example
/// ```
/// use adroit_forward::{gradient, log_exp::logaddexp};
/// assert!((logaddexp(1000.0_f64, 1000.0) - (1000.0 + 2f64.ln())).abs() < 1e-12);
/// assert_eq!(logaddexp(f64::NEG_INFINITY, 3.0), 3.0);
/// assert_eq!(gradient(|v| logaddexp(v[0], v[1]), &[2.0, 2.0]), vec![0.5, 0.5]);
/// ```
pub fn logaddexp<S: Float>(a: S, b: S) -> S {
    if a == b && a.is_infinite() {
        // `b − a` would be NaN: the tie's own limit, `a` with partials ½ each.
        return (a + b) * lit(0.5);
    }
    if a >= b {
        a + (b - a).exp().ln_1p()
    } else {
        b + (a - b).exp().ln_1p()
    }
}

/// `ln(eᵃ − eᵇ)` for `a ≥ b` (Stan's `log_diff_exp`; LogExpFunctions.jl's `logsubexp` takes
/// the absolute difference instead): `a + log1m_exp(b − a)` ([`log1m_exp`]), no overflow and
/// full precision when `a − b` is tiny. `−∞` at `a = b` (partials `+∞`, `−∞`), `a` where
/// `b = −∞` (partials 1, 0), NaN for `a < b` or NaN (partials too). Partials
/// `1/(1 − e^(b−a))` and `−1/(e^(a−b) − 1)`.
///
/// # Example
/// ```
/// use adroit_forward::{gradient, log_exp::logsubexp};
/// // ln(e¹⁰⁰⁰ − e⁹⁹⁹) = 1000 + ln(1 − 1/e)
/// let want = 1000.0 + (1.0 - (-1.0f64).exp()).ln();
/// assert!((logsubexp(1000.0_f64, 999.0) - want).abs() < 1e-12);
/// assert_eq!(logsubexp(2.0, f64::NEG_INFINITY), 2.0);
/// let g = gradient(|v| logsubexp(v[0], v[1]), &[1.0, 0.0]);
/// let e = 1f64.exp();
/// assert!((g[0] - e / (e - 1.0)).abs() < 1e-15 && (g[1] + 1.0 / (e - 1.0)).abs() < 1e-15);
/// ```
pub fn logsubexp<S: Float>(a: S, b: S) -> S {
    if b == S::neg_infinity() && !a.is_nan() {
        // `b − a` would be NaN at `a = −∞`; the limit is `a`, with partials 1 and 0.
        return a;
    }
    if a < b {
        return undefined(&[a, b]);
    }
    a + log1m_exp(b - a)
}

/// `ln Σᵢ e^(xᵢ)` (JAX's `logsumexp`, Stan's `log_sum_exp`): `xₘ + ln(1 + Σ_{i≠m} e^(xᵢ − xₘ))`
/// with `xₘ` the first largest entry, so no exponential overflows and the term `1` keeps the
/// precision of `ln_1p`; the partials are the softmax `e^(xᵢ)/Σ e^(xⱼ)`, exact (with every
/// higher derivative) at ties too.
///
/// `−∞` for an empty slice or all `−∞`, `+∞` if an entry is `+∞`, with the partials of a tie
/// among the `k` entries equal to that infinity (`1/k` each, the softmax of equal entries; 0
/// for the others), as [`logaddexp`]'s; NaN if an entry is NaN (partials too). adroit-reverse's
/// whole-matrix `MatVar::logsumexp`, like JAX's and PyTorch's `logsumexp`, gives NaN partials
/// at infinite ties instead.
///
/// # Example
/// ```
/// use adroit_forward::{gradient, log_exp::logsumexp};
/// let x = [1000.0_f64, 1000.0, 1000.0];
/// assert!((logsumexp(&x) - (1000.0 + 3f64.ln())).abs() < 1e-12);
/// let g = gradient(|v| logsumexp(v), &[0.0, 0.0]);
/// assert_eq!(g, vec![0.5, 0.5]);
/// assert_eq!(logsumexp::<f64>(&[]), f64::NEG_INFINITY);
/// ```
pub fn logsumexp<S: Float>(x: &[S]) -> S {
    if x.iter().any(|v| v.is_nan()) {
        return undefined(x);
    }
    let Some(m) = first_largest(x) else {
        return S::neg_infinity();
    };
    let top = x[m];
    if top.is_infinite() {
        // The mean of the entries equal to it: its value, with the partials of a tie, 1/k each.
        let (sum, k) = x
            .iter()
            .filter(|&&v| v == top)
            .fold((S::zero(), S::zero()), |(sum, k), &v| {
                (sum + v, k + S::one())
            });
        return sum / k;
    }
    top + log1p_rest(x, m)
}

/// The index of the first largest entry (values compared), `None` for an empty slice.
fn first_largest<S: Float>(x: &[S]) -> Option<usize> {
    (0..x.len()).reduce(|m, i| if x[i] > x[m] { i } else { m })
}

/// `ln(1 + Σ_{i≠m} e^(xᵢ − xₘ))` for the first largest entry `xₘ` (finite): [`logsumexp`]
/// minus `xₘ`.
fn log1p_rest<S: Float>(x: &[S], m: usize) -> S {
    let top = x[m];
    x.iter()
        .enumerate()
        .filter(|&(i, _)| i != m)
        .fold(S::zero(), |sum, (_, &v)| sum + (v - top).exp())
        .ln_1p()
}

/// `xᵢ − ln Σⱼ e^(xⱼ)`, the log-softmax of a vector (JAX's `jax.nn.log_softmax`, Flux's
/// `logsoftmax`, adroit-reverse's whole-matrix `MatVar::logsoftmax`), as
/// `(xᵢ − xₘ) − ln(1 + Σ_{j≠m} e^(xⱼ − xₘ))` for the first largest entry `xₘ` (as
/// [`logsumexp`]): no exponential overflows (logits of ±1000 are fine), the top entries keep
/// full precision, and the derivatives of every order are exact,
/// `∂/∂xⱼ = δᵢⱼ − softmax(x)ⱼ`.
///
/// An empty slice gives an empty vector; a NaN entry makes every entry NaN; with `+∞` among
/// the entries, the `k` tied at `+∞` get `−ln k` and the others `−∞` (the limit), derivatives
/// 0; all `−∞` give `−ln n` each (the limit of equal entries).
///
/// # Example
/// ```
/// use adroit_forward::nalgebra::{self, dmatrix};
/// use adroit_forward::{jacobian, log_exp::logsoftmax};
/// let y = logsoftmax(&[1000.0_f64, 1000.0, -1000.0]);
/// assert!((y[0] + 2f64.ln()).abs() < 1e-15 && y[2] < -1999.0);
/// // ∂yᵢ/∂xⱼ = δᵢⱼ − softmaxⱼ
/// let j = jacobian(|v| logsoftmax(v), &[0.0, 0.0]);
/// assert_eq!(j, dmatrix![0.5, -0.5; -0.5, 0.5]);
/// ```
pub fn logsoftmax<S: Float>(x: &[S]) -> Vec<S> {
    if x.iter().any(|v| v.is_nan()) {
        return x.iter().map(|_| undefined(x)).collect();
    }
    if x.iter().any(|&v| v == S::infinity()) {
        // The limit: the tied top entries share the probability, constants.
        let k = x.iter().filter(|&&v| v == S::infinity()).count();
        let share = -lit::<S>(k as f64).ln();
        return x
            .iter()
            .map(|&v| {
                if v == S::infinity() {
                    share
                } else {
                    S::neg_infinity()
                }
            })
            .collect();
    }
    let Some(m) = first_largest(x) else {
        return Vec::new();
    };
    if x[m] == S::neg_infinity() {
        // All −∞: the limit of equal entries, 1/n each.
        let share = -lit::<S>(x.len() as f64).ln();
        return x.iter().map(|_| share).collect();
    }
    let rest = log1p_rest(x, m);
    x.iter().map(|&v| (v - x[m]) - rest).collect()
}

/// `e^(xᵢ) / Σⱼ e^(xⱼ)`, the softmax of a vector (JAX's `jax.nn.softmax`, Flux's `softmax`,
/// adroit-reverse's whole-matrix `MatVar::softmax`): `exp` of [`logsoftmax`], so no
/// exponential overflows, the probabilities sum to 1 up to rounding, and the derivatives of
/// every order are exact, `∂sᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ)`. Edge cases as [`logsoftmax`]'s (`+∞`
/// entries share the probability: `1/k` each, 0 elsewhere).
///
/// # Example
/// ```
/// use adroit_forward::nalgebra::{self, dmatrix};
/// use adroit_forward::{jacobian, log_exp::softmax};
/// let s = softmax(&[1000.0_f64, 1000.0, -1000.0]);
/// assert_eq!(s, [0.5, 0.5, 0.0]);
/// let j = jacobian(|v| softmax(v), &[0.0, 0.0]);
/// assert_eq!(j, dmatrix![0.25, -0.25; -0.25, 0.25]);
/// ```
pub fn softmax<S: Float>(x: &[S]) -> Vec<S> {
    logsoftmax(x).into_iter().map(S::exp).collect()
}
