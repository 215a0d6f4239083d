//! The standard normal distribution function `Φ`, its logarithm and its inverse, generic over
//! [`SpecialFunctions`] (plain floats, every dual type, adroit-reverse's `Var`), so probit
//! models and censored-normal likelihoods differentiate in every mode, to every order, in the
//! tails too (JAX's `jax.scipy.special.ndtr`/`log_ndtr`/`ndtri`, PyTorch's
//! `torch.special.ndtr`/`log_ndtr`/`ndtri`).
//!
//! `ln Φ(x)` is never `ln` of a rounded `Φ`: in the left tail `Φ(x) = ½ erfcx(−x/√2)·e^(−x²/2)`,
//! so `ln Φ(x) = ln(½ erfcx(−x/√2)) − x²/2` stays finite (`Φ(−40)` underflows; `ln Φ(−40)` is
//! about `−804.6`), and near 1, `ln(1 − Q)` with `Q = Φ(−x)` by `ln_1p`. Each branch is
//! smooth, so derivatives of every order follow by the chain rule: the first is the inverse
//! Mills ratio `φ(x)/Φ(x)`, about `|x|` far left, without the cancellation of the formula
//! `exp(−x²/2 − ln Φ(x))/√(2π)` (which loses `x²ε` relative: 1e-8 at `x = −1e4`).

use crate::SpecialFunctions;
use crate::rules::lit;
use core::f64::consts::FRAC_1_SQRT_2;

/// The standard normal distribution function `Φ(x) = ½ erfc(−x/√2) = P(Z ≤ x)`, accurate
/// relative to its value in the left tail (`Φ(−30) ≈ 4.9e-198`; below `x = −1` it is
/// `½ erfcx(−x/√2)·e^(−x²/2)` with `x²` split exactly, as `½ erfc(−x/√2)` would magnify the
/// rounding of `−x/√2` by `x²`, 100 ulps at `−10`; above 1 it is `1 − Φ(−x)`, so its
/// derivatives are the left tail's); it underflows to 0 below `x ≈ −38.5` in `f64` — use
/// [`log_ndtr`] there. Derivative the density `φ(x) = e^(−x²/2)/√(2π)`, by the chain rule
/// through each formula. Within 2.8 ulps of mpmath over a scan of 62,000 points.
///
/// # Example
/// ```
/// use adroit_forward::{derivative, normal::ndtr};
/// assert_eq!(ndtr(0.0_f64), 0.5);
/// assert!((ndtr(1.959963984540054_f64) - 0.975).abs() < 1e-15);
/// // Φ'(0) = φ(0) = 1/√(2π)
/// let d = derivative(|x| ndtr(x), 0.0_f64);
/// assert!((d - 0.3989422804014327).abs() < 1e-16);
/// ```
pub fn ndtr<S: SpecialFunctions>(x: S) -> S {
    let half = lit::<S>(0.5);
    if x < -S::one() {
        // ½ erfcx(−x/√2)·e^(−x²/2), with x² split exactly (x² = sq + lo): ½ erfc(−x/√2) would
        // inherit the rounding of −x/√2 magnified by 2y² (about 100 ulps at x = −10)
        let sq = x * x;
        let lo = if sq.is_finite() {
            x.mul_add(x, -sq)
        } else {
            S::zero()
        };
        let tail = (-sq * half).exp() * (S::one() - lo * half);
        (-x * lit::<S>(FRAC_1_SQRT_2)).erfcx() * half * tail
    } else if x > S::one() {
        // 1 − Φ(−x): the value as accurate, and the derivative the left tail's accurate φ
        // (through ½ erfc(−x/√2) it inherited the rounding of −x/√2 magnified by x²: 1,094
        // ulps at x = 37.3, a review)
        S::one() - ndtr(-x)
    } else {
        // [−1, 1], and NaN
        (-x * lit::<S>(FRAC_1_SQRT_2)).erfc() * half
    }
}

/// `ln Φ(x)`, the logarithm of the standard normal distribution function, finite for every
/// finite `x` (`≈ −x²/2 − ln(−x√(2π))` far left, `≈ −Φ(−x)` far right): three smooth formulas,
/// chosen on the primal value — `ln(½ erfcx(−x/√2)) − x²/2` for `x < −1` (with `t = −x/√2`
/// beyond `√max/1024`, about 1.3e151 in `f64`, as `ln(½ t·erfcx(t)) − ln t − x²/2`, so that no
/// second derivative passes through `ln` of a number near 1e-154), `ln Φ(x)` on `[−1, 1]`,
/// `ln_1p(−Φ(−x))` above (with [`ndtr`]'s accurate tail) — so derivatives of every order are
/// those of the formula in use, continuous across the switches to rounding.
///
/// `−∞` at `−∞`, `0` at `+∞`, NaN for NaN; its derivative `φ(x)/Φ(x)` is `+∞` at `−∞` (it grows
/// like `|x|`) and `0` at `+∞`. The value overflows to `−∞` only where `x²/2` does (for
/// `|x|` above `√(2·max)`: about 1.896e154 in `f64`, 2.609e19 in `f32`).
///
/// Accuracy (against mpmath: 27 points from `−1e6` to `1e3` in the tests,
/// `tools/gen_log_ndtr_reference.py`, and a scan of 62,000 points): the value within
/// 3.5 ulps, the first derivative within 3.4, the second within 22 (relative to each; its
/// `−1 + 1/x²` far left is formed without cancelling the leading terms); the third within
/// about 1,900 ulps on `(−2.83, −1.41)`, where it goes through
/// [`erfcx`](SpecialFunctions::erfcx)'s third derivative on `(1, 2)`.
///
/// # Example
/// ```
/// use adroit_forward::{derivative, normal::log_ndtr};
/// // ln Φ(−40): Φ itself underflows
/// assert!((log_ndtr(-40.0_f64) + 804.6084420137538).abs() < 1e-12);
/// // (ln Φ)'(x) = φ(x)/Φ(x), the inverse Mills ratio: about −x − 1/x far left
/// let d = derivative(|x| log_ndtr(x), -1e4_f64);
/// assert!((d - (1e4 + 1e-4)).abs() < 1e-11);
/// ```
pub fn log_ndtr<S: SpecialFunctions>(x: S) -> S {
    let one = S::one();
    let half = lit::<S>(0.5);
    if x < -one {
        let t = -x * lit::<S>(FRAC_1_SQRT_2);
        // Far left, ½ erfcx(t) ≈ 1/(2t√π) is so small that the second derivative of its `ln`,
        // −1/u², overflows (from t ≈ 3.8e153 in `f64`), which a reverse-mode Hessian then
        // carried to −∞ where the exact value is −1: there `ln(½ t·erfcx(t)) − ln t`, the same
        // function, whose `ln` sees a number near 0.28 (t·erfcx(t) → 1/√π).
        let far = S::max_value().sqrt() * lit::<S>(1.0 / 1024.0);
        // x²/2 as x·(x/2) (the same bits: halving is exact): x² itself overflows from
        // |x| = √max (1.8e19 in `f32`, 1.3e154 in `f64`), x²/2 only √2 times further out.
        let half_square = x * (x * half);
        if t > far && t.is_finite() {
            (t * t.erfcx() * half).ln() - t.ln() - half_square
        } else {
            (t.erfcx() * half).ln() - half_square
        }
    } else if x > one {
        (-ndtr(-x)).ln_1p()
    } else {
        // [−1, 1], and NaN
        ndtr(x).ln()
    }
}

/// `Φ⁻¹(p)`, the inverse of [`ndtr`] (the normal quantile, the probit function): the same as
/// [`SpecialFunctions::ndtri`], here beside `Φ` (`p.ndtri()` in method form). Derivative
/// `1/φ(Φ⁻¹(p))`; `∓∞` at 0 and 1, NaN outside `[0, 1]`; accuracy and method on the method.
///
/// # Example
/// ```
/// use adroit_forward::normal::{ndtr, ndtri};
/// use adroit_forward::derivative;
/// // Φ(Φ⁻¹(p)) = p, far into the left tail, up to Φ's conditioning there (a relative error
/// // δ in x moves Φ(x) by about x²·δ relative)
/// for p in [1e-300_f64, 1e-20, 0.01, 0.3, 0.5, 0.99] {
///     let x = ndtri(p);
///     assert!((ndtr(x) / p - 1.0).abs() < 4.0 * f64::EPSILON * (1.0 + x * x));
/// }
/// // Φ⁻¹(Φ(x)) = x has derivative 1
/// let d = derivative(|x| ndtri(ndtr(x)), -3.0_f64);
/// assert!((d - 1.0).abs() < 1e-13);
/// ```
pub fn ndtri<S: SpecialFunctions>(p: S) -> S {
    p.ndtri()
}
