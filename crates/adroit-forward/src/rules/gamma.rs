//! Rules for the gamma family of [`SpecialFunctions`]: `Γ`, `ln|Γ|` and the polygamma
//! functions.
//!
//! As for the error functions, their values are not expressible in [`num_traits::Float`], so
//! `eval` takes a [`SpecialFunctions`] number; the derivative of each is another member of the
//! family (`ln Γ' = ψ`, `ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾`), so evaluated on a dual number a rule gives its
//! second derivative too, and nested duals every higher one.

use crate::SpecialFunctions;

/// `ln|Γ(x)|`, the logarithm of the absolute value of the gamma function (JAX's `gammaln`,
/// PyTorch's `lgamma`, SciPy's `gammaln`): derivative the digamma function `ψ(x)` (Abramowitz
/// & Stegun 6.3.1), also for `x < 0`, where `d/dx ln|Γ(x)| = Γ'(x)/Γ(x) = ψ(x)`.
///
/// Conventions: the value is `+∞` at the poles `x = 0, −1, −2, …` and at `±∞`; the derivative
/// follows [`SpecialFunctions::digamma`]'s (`∓∞` at `±0`, NaN at the negative integers and
/// at `−∞`, `+∞` at `+∞`).
///
/// # Example
/// ```
/// use adroit_forward::rules::LnGamma;
/// // ln Γ(1) = 0, ψ(1) = −γ (the Euler–Mascheroni constant)
/// let (value, slope) = LnGamma.eval(1.0_f64);
/// assert_eq!(value, 0.0);
/// assert!((slope + 0.5772156649015329).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct LnGamma;

impl LnGamma {
    /// Returns `(ln|Γ(x)|, ψ(x))`.
    ///
    /// # Example
    /// On a dual number the tangent of the derivative is the second derivative, the trigamma
    /// function `ψ₁(1) = π²/6`:
    /// ```
    /// use adroit_forward::Dual;
    /// use adroit_forward::rules::LnGamma;
    /// let (_, d) = LnGamma.eval(Dual::variable(1.0_f64));
    /// assert!((d.tangent() - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-15);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, x: S) -> (S, S) {
        (x.ln_gamma(), x.digamma())
    }
}

/// The gamma function `Γ(x)`: derivative `Γ(x)·ψ(x)` (Abramowitz & Stegun 6.3.1).
///
/// Conventions: at `±0`, `Γ = ±∞` and `Γ' = −∞` (the limit from either side, `Γ(x) ≈ 1/x`);
/// NaN value and derivative at the negative integers and at `−∞`; `Γ` overflows to `+∞`
/// beyond `x ≈ 171.62` in `f64` (`35.04` in `f32`), `Γ'` beyond `171.31`, and where `Γ` is
/// `+∞` the third and higher derivatives (nested duals) are NaN: their product-rule terms
/// are infinities of both signs (`Γ‴ = Γ·(ψ³ + 3ψψ₁ + ψ₂)` with `ψ₂ < 0`; see the crate
/// docs, "Second derivatives near overflow").
///
/// # Example
/// ```
/// use adroit_forward::rules::Gamma;
/// // Γ(1) = 1, Γ'(1) = −γ
/// let (value, slope) = Gamma.eval(1.0_f64);
/// assert_eq!(value, 1.0);
/// assert!((slope + 0.5772156649015329).abs() < 1e-15);
/// assert_eq!(Gamma.eval(0.0_f64), (f64::INFINITY, f64::NEG_INFINITY));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct Gamma;

impl Gamma {
    /// Returns `(Γ(x), Γ'(x))`.
    ///
    /// # Example
    /// On a dual number the tangent of the derivative is `Γ'' = Γ·(ψ² + ψ₁)`:
    /// ```
    /// use adroit_forward::Dual;
    /// use adroit_forward::rules::Gamma;
    /// let (_, d) = Gamma.eval(Dual::variable(1.0_f64));
    /// let euler = 0.5772156649015329_f64;
    /// let want = euler * euler + std::f64::consts::PI.powi(2) / 6.0;
    /// assert!((d.tangent() - want).abs() < 1e-15);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, x: S) -> (S, S) {
        let value = x.gamma();
        (value, value * x.digamma())
    }
}

/// The polygamma function of order `n`, `ψ⁽ⁿ⁾(x) = dⁿ⁺¹/dxⁿ⁺¹ ln Γ(x)` (order 0: the digamma
/// function `ψ`; order 1: the trigamma function): derivative `ψ⁽ⁿ⁺¹⁾(x)` (Abramowitz & Stegun
/// 6.4.1). The field is the order `n`.
///
/// Conventions: see [`SpecialFunctions::polygamma`].
///
/// # Example
/// ```
/// use adroit_forward::rules::Polygamma;
/// // ψ(1) = −γ, ψ'(1) = ψ₁(1) = π²/6
/// let (value, slope) = Polygamma(0).eval(1.0_f64);
/// assert!((value + 0.5772156649015329).abs() < 1e-15);
/// assert!((slope - std::f64::consts::PI.powi(2) / 6.0).abs() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polygamma(pub u32);

impl Polygamma {
    /// The highest order computed (`100`): beyond it `n!` leaves `f64`'s range (`170!` is its
    /// last finite factorial) and most values over- or underflow. Each derivative needs the
    /// next order, so `ψ⁽ⁿ⁾` on a number carrying derivatives of order `d` needs
    /// `n + d ≤ MAX_ORDER`.
    pub const MAX_ORDER: u32 = crate::polygamma::MAX_ORDER;

    /// Returns `(ψ⁽ⁿ⁾(x), ψ⁽ⁿ⁺¹⁾(x))`.
    ///
    /// # Panics
    /// If the order `n` is at least [`MAX_ORDER`](Self::MAX_ORDER) (the derivative needs order
    /// `n + 1`).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::rules::Polygamma;
    /// // ψ₁(½) = π²/2, ψ₂(½) = −14·ζ(3)
    /// let (value, slope) = Polygamma(1).eval(0.5_f64);
    /// assert!((value - std::f64::consts::PI.powi(2) / 2.0).abs() < 1e-14);
    /// assert!((slope + 14.0 * 1.2020569031595943).abs() < 1e-13);
    /// ```
    #[inline(always)]
    pub fn eval<S: SpecialFunctions>(self, x: S) -> (S, S) {
        (x.polygamma(self.0), x.polygamma(self.0.saturating_add(1)))
    }
}
