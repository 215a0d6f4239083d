//! [`reverse_hessian_check`]: second derivatives of code that runs on adroit-reverse's `Var`
//! only (custom rules) against finite differences of its gradient.

use crate::second_order::{self, Scale};
use crate::{Mismatch, Mode, Options, Report};
use adroit_forward::DualVec;
use adroit_reverse::{HESSIAN_CHUNK, Var};
use nalgebra::DMatrix;

/// The variables [`adroit_reverse::hessian`] hands its closure.
type HessianVar = Var<DualVec<f64, HESSIAN_CHUNK>>;

/// Checks the second derivatives of a scalar function written on adroit-reverse's variables —
/// code with a [`custom_rule`](adroit_reverse::custom_rule) or
/// [`custom_scalar`](adroit_reverse::custom_scalar), which [`hessian_check`](crate::hessian_check)
/// cannot take because it runs on `Var` only: the Hessian of [`adroit_reverse::hessian`]
/// (forward-over-reverse, reported as "reverse") against finite differences of the `f64`
/// gradient of [`adroit_reverse::gradient`] within `options.fd_tolerance`, and its symmetry
/// within `options.ad_tolerance`, with the tolerances of
/// [`matrix_hessian_check`](crate::matrix_hessian_check) (scaled by the entries' rows, and by
/// the gradient's rounding in its differences). This is the check that catches a rule whose
/// partials are built from plain numbers (`T::from(x.to_f64())`, an external solver's result
/// converted back): right to first order, constant to the second.
///
/// `f` and `f_dual` are the same code, on `Var<f64>` for the gradient and on the Hessian's
/// `Var<DualVec<f64, HESSIAN_CHUNK>>` (closures cannot be generic: write the function once,
/// generic over `T: TapeScalar`, and pass `|x| f(x)` twice). `x`: the point, `n` entries.
///
/// [`Mode::Full`] compares all `n²` entries (and each against its transpose);
/// [`Mode::Fast`] compares `vᵀHu` for `trials` random pairs with the finite difference of
/// `t ↦ vᵀ∇f(x + t·u)`, and `vᵀ(Hu)` with `uᵀ(Hv)`. The gradient itself is not checked (the
/// reference is differences of it): check it with [`rule_check`](crate::rule_check) or
/// [`gradcheck`](crate::gradcheck) too.
///
/// # Errors
/// The first [`Mismatch`] (second order: "forward-over-reverse" against "finite differences
/// of the gradient", or the symmetry with the transposed entry); a pair that is NaN on both
/// sides fails (it proves nothing).
///
/// # Panics
/// If `x` is empty, an entry is NaN or infinite (there is no derivative to check there), or
/// with [`Mode::Fast`] and `trials: 0`, or on
/// `options` holding a tolerance or stencil its builders refuse (see [`Options`](crate::Options)).
///
/// # Example
/// Softplus as a custom rule: its partial `σ(x)` formed in `T` passes; formed from the plain
/// value (`T::from(σ(x.to_f64()))`), it has no curvature under the Hessian, which the check
/// reports (`σ'(0.5) ≈ 0.235` against 0):
/// ```
/// use adroit_check::adroit_reverse::{TapeScalar, Var, custom_scalar};
/// use adroit_check::num_traits::Float;
/// use adroit_check::{Options, reverse_hessian_check};
/// fn softplus<T: TapeScalar>(x: Var<T>, plain_partial: bool) -> Var<T> {
///     let v = x.value();
///     let sigma = if plain_partial {
///         let p = v.to_f64().unwrap();
///         T::from(1.0 / (1.0 + (-p).exp())).unwrap()
///     } else {
///         (T::one() + (-v).exp()).recip()
///     };
///     custom_scalar(&[x], v.max(T::zero()) + (-v.abs()).exp().ln_1p(), &[sigma])
/// }
/// let options = Options::for_precision::<f64>();
/// let right = reverse_hessian_check(|x| softplus(x[0], false), |x| softplus(x[0], false), &[0.5], &options);
/// assert!(right.is_ok());
/// let wrong = reverse_hessian_check(|x| softplus(x[0], true), |x| softplus(x[0], true), &[0.5], &options);
/// let m = wrong.unwrap_err();
/// assert_eq!(m.reverse, Some(0.0));
/// assert!((m.finite_difference.unwrap() - 0.2350037122015945).abs() < 1e-7);
/// ```
#[track_caller]
pub fn reverse_hessian_check<F, G>(
    f: F,
    f_dual: G,
    x: &[f64],
    options: &Options,
) -> Result<Report, Box<Mismatch>>
where
    F: Fn(&[Var<f64>]) -> Var<f64>,
    G: Fn(&[HessianVar]) -> HessianVar,
{
    options.mode.check_trials("reverse_hessian_check");
    options.check("reverse_hessian_check");
    assert!(
        !x.is_empty(),
        "reverse_hessian_check: no inputs (nothing to compare)"
    );
    crate::scalar::assert_finite_inputs("reverse_hessian_check", x);
    let gradient_at = |point: &[f64]| adroit_reverse::gradient(|v| f(v), point);
    let hessian = adroit_reverse::hessian(|v| f_dual(v), x);
    let result = match options.mode {
        Mode::Full => second_order::full(&hessian, x, &gradient_at, options, Scale::Rows),
        Mode::Fast { seed, trials } => {
            let hvp = |w: &[f64]| {
                (&hessian * DMatrix::from_column_slice(w.len(), 1, w))
                    .data
                    .into()
            };
            second_order::fast(&hvp, x, &gradient_at, options, (seed, trials))
        }
    };
    result.map_err(|mut m| {
        m.second_order = true;
        m
    })
}
