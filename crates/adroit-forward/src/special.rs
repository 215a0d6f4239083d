//! [`SpecialFunctions`]: functions beyond [`num_traits::Float`] that adroit differentiates, on
//! the primal floats and on every dual number type.

use crate::polygamma::polygamma;
use crate::rules::{Erf, Erfc, Erfcx, Gamma, LnGamma, Ndtri, Polygamma};
use crate::{Dual, DualVec, HyperDualVec};
use num_traits::Float;

/// Special functions that `num_traits::Float` lacks: the error function and its complement,
/// the gamma function, its logarithm and the polygamma functions (digamma, trigamma, …).
/// Implemented for `f32`, `f64` (values of `erf`, `erfc`, `Γ` and `ln|Γ|` from the `libm`
/// crate, a port of musl's libm, whose functions come from FreeBSD's `msun`; the polygamma
/// functions our own, see [`polygamma`](Self::polygamma)), for every dual number type over
/// them (derivatives from the rules [`Erf`](crate::rules::Erf), [`Erfc`](crate::rules::Erfc),
/// [`Gamma`](crate::rules::Gamma), [`LnGamma`](crate::rules::LnGamma) and
/// [`Polygamma`](crate::rules::Polygamma)), and, in adroit-reverse, for tape variables, so
/// code generic over `S: SpecialFunctions` (the exact GELU, `x·½·erfc(−x/√2)`; a Poisson or
/// gamma log-likelihood with its `ln Γ` terms) differentiates in every mode, to every order.
///
/// On a concrete `f64`, call these as `SpecialFunctions::erf(x)`: the standard library has
/// unstable methods `f64::erf`, `f64::gamma` and `f64::ln_gamma` (the last returning a
/// tuple), which `x.erf()` would collide with.
///
/// # Example
/// ```
/// use adroit_forward::{Dual, SpecialFunctions, derivative};
/// // d/dx erf(x) at 0 = 2/√π
/// let d = derivative(|x: Dual<f64>| x.erf(), 0.0);
/// assert!((d - 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// assert_eq!(SpecialFunctions::erfc(0.0_f64), 1.0);
/// ```
pub trait SpecialFunctions: Float {
    /// The error function `erf x = 2/√π ∫₀ˣ e^(−t²) dt`, in `[−1, 1]`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// assert!((SpecialFunctions::erf(1.0_f64) - 0.8427007929497149).abs() < 1e-16);
    /// ```
    fn erf(self) -> Self;

    /// The complementary error function `erfc x = 1 − erf x`, accurate where `erf x` is close
    /// to 1 (its relative precision holds in the right tail).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// assert!((SpecialFunctions::erfc(1.0_f32) - 0.15729921).abs() < 1e-7);
    /// ```
    fn erfc(self) -> Self;

    /// The scaled complementary error function `erfcx y = e^(y²)·erfc y` (SciPy's and
    /// PyTorch's `erfcx`), finite where `erfc` underflows: `erfcx y ≈ 1/(y√π)` for large `y`, so
    /// `ln erfc y = ln erfcx y − y²` keeps its digits in the far tail (the normal
    /// log-likelihood of a censored observation, the probit model's `ln Φ`). Derivative
    /// `2y·erfcx y − 2/√π` ([`rules::Erfcx`](crate::rules::Erfcx)), every order exact.
    ///
    /// `1` at 0, `0` at `+∞`, `+∞` below `y ≈ −26.63` in `f64` (where `2e^(y²)` overflows;
    /// `−9.38` in `f32`), NaN for NaN. Our own method (asymptotic series from `y = 12`,
    /// `e^(y²)·erfc y` with `y²` split exactly below, reflection for `y < 0`; `f32` computed in
    /// `f64`). Against mpmath (36 points from `−26.5` to `1e300` in the tests,
    /// `tools/gen_erfcx_reference.py`, and a scan of 94,000 points): the value within
    /// 2.2 ulps (SciPy's `erfcx` within 4.6 there, 256 near `−26.6`); derivatives of orders 1–4
    /// within 4.4 ulps for `y < 0` and `y ≥ 2`, and on `(0, 2)`, where the closed form
    /// `2y·erfcx y − 2/√π` cancels, up to 21, 108, 466 and 1,721 ulps (relative errors from
    /// 5e-15 to 4e-13; the continued fraction used from 2 would need `300/y²` levels there).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// // erfc(30) = 2.6e-393 underflows; erfcx(30)·e^(−900) is its value, ln erfc(30) its log
    /// assert_eq!(SpecialFunctions::erfc(30.0_f64), 0.0);
    /// let ln_erfc = SpecialFunctions::erfcx(30.0_f64).ln() - 900.0;
    /// assert!((ln_erfc + 903.974117110643878).abs() < 1e-12);
    /// ```
    fn erfcx(self) -> Self;

    /// The inverse of the standard normal distribution function, `Φ⁻¹(p)`: the `x` with
    /// `P(Z ≤ x) = p` for a standard normal `Z` (SciPy's, JAX's and PyTorch's `ndtri`; the
    /// probit function, the normal quantile). Derivative `1/φ(Φ⁻¹(p))`
    /// ([`rules::Ndtri`](crate::rules::Ndtri)), every order exact.
    ///
    /// `0` at `½`, `−∞` at 0, `+∞` at 1, NaN outside `[0, 1]` and for NaN; finite for every
    /// positive `p`, subnormals included (`Φ⁻¹(5e-324) ≈ −38.47`). Antisymmetric,
    /// `Φ⁻¹(1 − p) = −Φ⁻¹(p)` wherever `1 − p` is exact (`p ≥ ½`, or `p` a multiple of
    /// `2⁻⁵³`); close to 1 the result can only be as fine as the spacing of the `f64`s there
    /// (`Φ⁻¹(1 − 2⁻⁵³) ≈ 8.21` is the largest finite value below `+∞`). Our own method
    /// (Newton's method on `ln Φ(x) = ln p` below `¼`, on `½ erf(x/√2) = p − ½` on `[¼, ¾]`,
    /// by symmetry above; `f32` computed in `f64`). NaN in every derivative outside `[0, 1]`;
    /// derivatives that overflow (the first below `p ≈ 1.5e-310`, the second below
    /// `1.5e-155`, the third below `8e-104`, and each at 0 and 1) are `±∞` with the sign of
    /// the true value (the one-sided limits at 0 and 1: `+∞, −∞, +∞` at 0, all `+∞` at 1).
    ///
    /// Accuracy against mpmath (29 points from `5e-324` to `1 − 2⁻⁵³` in the tests,
    /// `tools/gen_ndtri_reference.py`, and a scan of 390,000 points: uniform,
    /// log-spaced down to `5e-324`, subnormal, next to 1 and around the method's switches),
    /// relative errors in units of `ε`: the value within 2.0, the derivatives of orders 1–3
    /// within 3.5, 6.6 and 9.4 where they are finite (in units of the reference's own ulp, up
    /// to 2× more: 3.1, 5.7, 12 and 18).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{SpecialFunctions, derivative};
    /// // the 97.5 % quantile, and the derivative 1/φ(x) there
    /// let x = SpecialFunctions::ndtri(0.975_f64);
    /// assert!((x - 1.959963984540054).abs() < 1e-15);
    /// let d = derivative(|p| p.ndtri(), 0.975_f64);
    /// let density = (-x * x / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
    /// assert!((d - 1.0 / density).abs() < 1e-13);
    /// ```
    fn ndtri(self) -> Self;

    /// The gamma function `Γ(x) = ∫₀^∞ tˣ⁻¹ e⁻ᵗ dt` (continued to `x < 0` by
    /// `Γ(x) = Γ(x + 1)/x`): `Γ(n) = (n − 1)!`.
    ///
    /// `±∞` at `±0`, NaN at the negative integers and at `−∞`; overflows to `+∞` beyond
    /// `x ≈ 171.62` in `f64` (`35.04` in `f32`): for large arguments use
    /// [`ln_gamma`](Self::ln_gamma). Derivative `Γ(x)·ψ(x)`
    /// ([`rules::Gamma`](crate::rules::Gamma)), which overflows from `x ≈ 171.31`; where `Γ` is
    /// subnormal (below `x ≈ −171`, between poles) it keeps fewer digits, and so do its
    /// derivatives (for example `Γ'(−179.99999999999997)`, a normal `−6.2e−303`, is right to 8
    /// digits only).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// assert_eq!(SpecialFunctions::gamma(5.0_f64), 24.0);
    /// assert!((SpecialFunctions::gamma(0.5_f64) - std::f64::consts::PI.sqrt()).abs() < 1e-15);
    /// ```
    fn gamma(self) -> Self;

    /// `ln|Γ(x)|`, the logarithm of the gamma function's absolute value (JAX's and SciPy's
    /// `gammaln`, PyTorch's `lgamma`): finite wherever `Γ` is finite and non-zero, and beyond
    /// (`ln Γ(10⁶) ≈ 1.28e7`). The sign of `Γ(x)` (negative on `(−1, 0)`, `(−3, −2)`, …) is
    /// [`gamma`](Self::gamma)`(x).signum()`.
    ///
    /// `+∞` at the poles `0, −1, −2, …` and at `±∞`. Derivative `ψ(x)`
    /// ([`rules::LnGamma`](crate::rules::LnGamma)).
    ///
    /// Accuracy (libm's; tested against mpmath at 75 points): within 8 ulps, except near the
    /// zeros of `ln|Γ|` on the negative axis (one between each pair of poles from `−2` on:
    /// `x ≈ −2.457`, `−2.747`, …), where the error is absolute — about `1e-16` in `f64`, `6e-8`
    /// in `f32` — so the relative error is unbounded (at `−2.4570247`, `5.79275846e-8` against
    /// `5.79275845510e-8`; `f32` gets `−5.96e-8` against `−1.13e-7`). At `1` and `2` it is
    /// exact. Differences of large values cancel, as in any floating-point code:
    /// `ln Γ(y + r) − ln Γ(r)` (a negative-binomial likelihood) keeps few digits once `r` is
    /// large (their derivatives too: the dispersion's score at `r = e³⁰` has none) — for an
    /// integer `y` write it as `Σₖ₌₀^(y−1) ln(r + k)`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{Dual, SpecialFunctions, derivative};
    /// // ln Γ(3) = ln 2; its derivative ψ(3) = 3/2 − γ
    /// assert!((SpecialFunctions::ln_gamma(3.0_f64) - 2.0_f64.ln()).abs() < 1e-15);
    /// let d = derivative(|x: Dual<f64>| x.ln_gamma(), 3.0);
    /// assert!((d - (1.5 - 0.5772156649015329)).abs() < 1e-15);
    /// ```
    fn ln_gamma(self) -> Self;

    /// The polygamma function of order `n`, `ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x)`: order 0 is the
    /// digamma function [`digamma`](Self::digamma), order 1 the trigamma function. Derivative
    /// `ψ⁽ⁿ⁺¹⁾(x)` ([`rules::Polygamma`](crate::rules::Polygamma)).
    ///
    /// Method (our own; Abramowitz & Stegun 6.3.5, 6.4.6, 6.3.18, 6.4.11, 6.3.7, 6.4.7): the
    /// recurrence `ψ⁽ⁿ⁾(x + 1) = ψ⁽ⁿ⁾(x) + (−1)ⁿ n!/xⁿ⁺¹` up to `x ≥ 12 + 2n`, the asymptotic
    /// series in Bernoulli numbers there, and the reflection formula for `x < 0`; `ψ` on
    /// `[1, 2]`, around its positive root `x₀ = 1.4616…`, as `(x − x₀)·g(x)` with `x₀` split
    /// in two `f64`s and `g` a Chebyshev series (the form of Cody, Strecok & Thacher, Math.
    /// Comp. 27, 1973; coefficients from `tools/gen_digamma_root.py`). `f32` is
    /// computed in `f64` and rounded (within half an ulp of `f32`). Accuracy, measured against
    /// mpmath at 80–300 digits (4,150 points, orders 0–8, and orders 10–100; the
    /// tests check 75 points at orders 0–6 and six at 10–100): `ψ` within 13 ulps for `x > 0`,
    /// and within 2 ulps relative on `[1, 2]` — at its root too (75 points, down to `x₀`'s
    /// own `f64`, where `ψ = −9.2e-17`); orders 1–8 within 6 ulps for `x > 0` and 16 for
    /// `x < 0`; higher
    /// orders lose more, up to 50 ulps at order 100 for `x > 0` and 120 for `x < 0` (the
    /// reflection's `πⁿ⁺¹` and `cot πx` roundings, amplified by its polynomial). Near the
    /// other roots (one root of `ψ` and of every even order between consecutive negative
    /// poles) the error is absolute, of order `ε·max(1, |ψ⁽ⁿ⁾|` nearby`)`. For high
    /// orders at large `x` the computation underflows early: `n!` and the series' `y⁻ⁿ` are
    /// formed apart, so `ψ⁽ⁿ⁾(x)` is `0` once `xⁿ` overflows (`x ≳ 10³⁰⁸ᐟⁿ`), also where
    /// `ψ⁽ⁿ⁾` itself would be representable (`ψ⁽⁸⁾(3.5e38) = −2.3e−305` gives `−0`). Cost: a
    /// few hundred nanoseconds for low orders; for `x < 0` the reflection's polynomial is
    /// rebuilt on each call (`ψ⁽¹⁰⁰⁾(−0.3)` ≈ 16 µs).
    ///
    /// Conventions (the limits where they exist, else NaN): `ψ(+∞) = +∞`, `ψ⁽ⁿ⁾(+∞) = 0`
    /// (signed `(−1)ⁿ⁺¹`) for `n ≥ 1`; NaN at `−∞`. At the poles `x = 0, −1, −2, …`: `+∞` for
    /// odd `n` (the limit from both sides); for even `n` no two-sided limit, so NaN, except at
    /// a signed zero, where the side is known: `ψ⁽ⁿ⁾(±0) = ∓∞` (as `−1/x`).
    ///
    /// # Panics
    /// If `n` exceeds [`rules::Polygamma::MAX_ORDER`](crate::rules::Polygamma::MAX_ORDER)
    /// (100); on a number carrying derivatives of order `d`, if `n + d` does (each derivative
    /// is the next order): `n ≤ 99` on [`Dual`], [`DualVec`] and adroit-reverse's `Var<f64>`,
    /// `n ≤ 98` on [`HyperDualVec`], `Dual<Dual<f64>>` and in a Hessian.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{Dual, SpecialFunctions, derivative};
    /// use std::f64::consts::PI;
    /// // the trigamma function at 1 is π²/6, its derivative ψ₂(1) = −2ζ(3)
    /// assert!((1.0_f64.polygamma(1) - PI * PI / 6.0).abs() < 1e-15);
    /// let d = derivative(|x: Dual<f64>| x.polygamma(1), 1.0);
    /// assert!((d + 2.0 * 1.2020569031595943).abs() < 1e-14);
    /// ```
    fn polygamma(self, n: u32) -> Self;

    /// The digamma function `ψ(x) = Γ'(x)/Γ(x)`, the derivative of
    /// [`ln_gamma`](Self::ln_gamma): [`polygamma`](Self::polygamma) of order 0 (its method,
    /// accuracy and conventions: `ψ(±0) = ∓∞`, NaN at the negative integers and `−∞`).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::SpecialFunctions;
    /// // ψ(1) = −γ
    /// assert!((1.0_f64.digamma() + 0.5772156649015329).abs() < 1e-15);
    /// assert_eq!(0.0_f64.digamma(), f64::NEG_INFINITY);
    /// ```
    #[inline]
    #[track_caller]
    fn digamma(self) -> Self {
        self.polygamma(0)
    }
}

impl SpecialFunctions for f64 {
    #[inline]
    fn erf(self) -> Self {
        libm::erf(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfc(self)
    }

    #[inline]
    fn erfcx(self) -> Self {
        crate::erfcx::erfcx(self)
    }

    #[inline]
    fn ndtri(self) -> Self {
        crate::ndtri::ndtri(self)
    }

    #[inline]
    fn gamma(self) -> Self {
        libm::tgamma(self)
    }

    #[inline]
    fn ln_gamma(self) -> Self {
        libm::lgamma(self)
    }

    #[inline]
    fn polygamma(self, n: u32) -> Self {
        polygamma(n, self)
    }
}

impl SpecialFunctions for f32 {
    #[inline]
    fn erf(self) -> Self {
        libm::erff(self)
    }

    #[inline]
    fn erfc(self) -> Self {
        libm::erfcf(self)
    }

    /// Computed in `f64` and rounded to `f32`.
    #[inline]
    fn erfcx(self) -> Self {
        crate::erfcx::erfcx(f64::from(self)) as f32
    }

    /// Computed in `f64` and rounded to `f32`.
    #[inline]
    fn ndtri(self) -> Self {
        crate::ndtri::ndtri(f64::from(self)) as f32
    }

    #[inline]
    fn gamma(self) -> Self {
        libm::tgammaf(self)
    }

    #[inline]
    fn ln_gamma(self) -> Self {
        libm::lgammaf(self)
    }

    /// Computed in `f64` and rounded to `f32`.
    #[inline]
    fn polygamma(self, n: u32) -> Self {
        polygamma(n, f64::from(self)) as f32
    }
}

/// The methods of a dual type: each rule evaluated on the primal value lifted by `$lift`, its
/// value brought back by `$unlift` and its derivative applied by `chain_unary`. First-order
/// types (`Dual`, `DualVec`) lift nothing; the hyper-dual lifts to a [`Dual`] seeded at the
/// primal value, whose derivative's value and tangent are the first and second derivatives.
macro_rules! special_functions {
    ($lift:expr, $unlift:expr) => {
        #[inline]
        fn erf(self) -> Self {
            let (value, d) = Erf.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn erfc(self) -> Self {
            let (value, d) = Erfc.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn erfcx(self) -> Self {
            let (value, d) = Erfcx.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn ndtri(self) -> Self {
            let (value, d) = Ndtri.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn gamma(self) -> Self {
            let (value, d) = Gamma.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn ln_gamma(self) -> Self {
            let (value, d) = LnGamma.eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }

        #[inline]
        fn polygamma(self, n: u32) -> Self {
            let (value, d) = Polygamma(n).eval($lift(self.value()));
            self.chain_unary($unlift(value), d)
        }
    };
}

impl<T: SpecialFunctions> SpecialFunctions for Dual<T> {
    special_functions!(|v: T| v, |v: T| v);
}

impl<T: SpecialFunctions, const N: usize> SpecialFunctions for DualVec<T, N> {
    special_functions!(|v: T| v, |v: T| v);
}

impl<T: SpecialFunctions, const M: usize, const N: usize> SpecialFunctions
    for HyperDualVec<T, M, N>
{
    special_functions!(Dual::variable, |v: Dual<T>| v.value());
}
