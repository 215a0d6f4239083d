//! [`SpecialFunctions`] on tape variables: `erf`, `erfc`, `Γ`, `ln|Γ|` and the polygamma
//! functions recorded as one-parent nodes with partials from adroit-forward's rules.

use crate::{TapeScalar, Var};
use adroit_forward::SpecialFunctions;
use adroit_forward::rules::{Erf, Erfc, Erfcx, Gamma, LnGamma, Ndtri, Polygamma};

/// `erf`, `erfc`, `gamma`, `ln_gamma`, `polygamma` (and `digamma`) of a variable, recorded
/// with the partials of adroit-forward's [`rules`](adroit_forward::rules) `Erf`, `Erfc`,
/// `Gamma`, `LnGamma` and `Polygamma` (for `Var<Dual<T>>`, as in forward-over-reverse
/// Hessians, the value and the partial are dual numbers, so second derivatives follow).
///
/// # Panics
/// As every operation: if the variable belongs to a finished recording or another thread's;
/// `polygamma` as adroit-forward's, for an order above
/// [`Polygamma::MAX_ORDER`](adroit_forward::rules::Polygamma::MAX_ORDER) − 1 (− 2 under
/// `hessian` and `hvp`, whose partials carry a derivative themselves).
///
/// # Example
/// ```
/// use adroit_reverse::adroit_forward::SpecialFunctions;
/// // ∂/∂x erfc(x·y) = −2/√π·y·e^(−x²y²): 0 at (1, 0); ∂/∂y = −2/√π·x there
/// let g = adroit_reverse::gradient(|v| (v[0] * v[1]).erfc(), &[1.0, 0.0]);
/// assert_eq!(g[0], 0.0);
/// assert!((g[1] + 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// ```
///
/// A Poisson log-likelihood with its `ln k!` term, `Σ kᵢ ln λ − λ − ln Γ(kᵢ + 1)`, and the
/// Hessian of `ln Γ` by forward-over-reverse (the trigamma function, `ψ₁(4) = π²/6 − 1 − ¼ − 1/9`):
/// ```
/// use adroit_reverse::adroit_forward::SpecialFunctions;
/// fn log_likelihood<S: SpecialFunctions>(log_rate: S, counts: &[S]) -> S {
///     let rate = log_rate.exp();
///     let term = |&k: &S| k * log_rate - rate - (k + S::one()).ln_gamma();
///     counts.iter().map(term).fold(S::zero(), |a, b| a + b)
/// }
/// // ∂/∂ln λ = Σ kᵢ − n·λ = 6 − 3·2 = 0 at λ = 2
/// let g = adroit_reverse::gradient(
///     |v| log_likelihood(v[0], &[v[1], v[2], v[3]]),
///     &[2.0_f64.ln(), 1.0, 2.0, 3.0],
/// );
/// assert!(g[0].abs() < 1e-15);
/// // ∂/∂k₁ = ln λ − ψ(k₁ + 1) = ln 2 − (1 − γ)
/// assert!((g[1] - (2.0_f64.ln() - 1.0 + 0.5772156649015329)).abs() < 1e-15);
/// let h = adroit_reverse::hessian(|v| v[0].ln_gamma(), &[4.0_f64]);
/// let want = std::f64::consts::PI.powi(2) / 6.0 - 1.0 - 0.25 - 1.0 / 9.0;
/// assert!((h[(0, 0)] - want).abs() < 1e-15);
/// ```
impl<T: TapeScalar + SpecialFunctions> SpecialFunctions for Var<T> {
    #[inline]
    #[track_caller]
    fn erf(self) -> Self {
        self.record_rule(|x| Erf.eval(x))
    }

    #[inline]
    #[track_caller]
    fn erfc(self) -> Self {
        self.record_rule(|x| Erfc.eval(x))
    }

    #[inline]
    #[track_caller]
    fn erfcx(self) -> Self {
        self.record_rule(|x| Erfcx.eval(x))
    }

    #[inline]
    #[track_caller]
    fn ndtri(self) -> Self {
        self.record_rule(|x| Ndtri.eval(x))
    }

    #[inline]
    #[track_caller]
    fn gamma(self) -> Self {
        self.record_rule(|x| Gamma.eval(x))
    }

    #[inline]
    #[track_caller]
    fn ln_gamma(self) -> Self {
        self.record_rule(|x| LnGamma.eval(x))
    }

    #[inline]
    #[track_caller]
    fn polygamma(self, n: u32) -> Self {
        self.record_rule(|x| Polygamma(n).eval(x))
    }
}
