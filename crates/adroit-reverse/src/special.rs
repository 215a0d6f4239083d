//! [`SpecialFunctions`] on tape variables: `erf` and `erfc` recorded as one-parent nodes with
//! partials from adroit-forward's rules.

use crate::{TapeScalar, Var};
use adroit_forward::SpecialFunctions;
use adroit_forward::rules::{Erf, Erfc};

/// `erf` and `erfc` of a variable, recorded with the partials of
/// [`rules::Erf`](adroit_forward::rules::Erf) and [`rules::Erfc`](adroit_forward::rules::Erfc)
/// (for `Var<Dual<T>>`, as in forward-over-reverse Hessians, the value and the partial are dual
/// numbers, so second derivatives follow).
///
/// # Panics
/// As every operation: if the variable belongs to a finished recording or another thread's.
///
/// # Example
/// ```
/// use adroit_reverse::adroit_forward::SpecialFunctions;
/// // ∂/∂x erfc(x·y) = −2/√π·y·e^(−x²y²): 0 at (1, 0); ∂/∂y = −2/√π·x there
/// let g = adroit_reverse::gradient(|v| (v[0] * v[1]).erfc(), &[1.0, 0.0]);
/// assert_eq!(g[0], 0.0);
/// assert!((g[1] + 2.0 / std::f64::consts::PI.sqrt()).abs() < 1e-15);
/// ```
impl<T: TapeScalar + SpecialFunctions> SpecialFunctions for Var<T> {
    #[inline]
    #[track_caller]
    fn erf(self) -> Self {
        let (value, d) = Erf.eval(self.value());
        self.record_unary(value, d)
    }

    #[inline]
    #[track_caller]
    fn erfc(self) -> Self {
        let (value, d) = Erfc.eval(self.value());
        self.record_unary(value, d)
    }
}
