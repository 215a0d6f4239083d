//! Custom rules (a function with a user-supplied derivative, recorded as one node) and
//! `stop_gradient`.

use crate::active::with_active;
use crate::tape::{CustomPullback, Tape};
use crate::{TapeScalar, Var};
use adroit_forward::StopGradient;

/// Records a function with its own pullback as one node, like ChainRules.jl's `rrule` or JAX's
/// `custom_vjp`: for a function evaluated elsewhere (an external solver, a closed-form
/// derivative that is cheaper or more stable than differentiating the code).
///
/// `inputs`: the `n` variables the function depends on; `outputs`: its `m` primal values,
/// already computed; `pullback`: maps the `m` output cotangents `w` to the `n` input cotangents
/// `wᵀJ`. Returns `m` variables holding `outputs`.
///
/// If every input is a constant the outputs are constants and nothing is recorded. The pullback
/// may itself use adroit (it runs after the recording scope has closed), but not the variables
/// of the recording: capture plain values (`x.value()`).
///
/// # Second derivatives
/// Under [`hessian`](crate::hessian) and [`hvp`](crate::hvp) `T` is a dual number
/// (`DualVec<f64, 12>`, `Dual<f64>`) whose tangents carry the forward direction. `outputs` and
/// the cotangents the pullback returns must be computed *in `T`*, from the inputs' dual values
/// (`x.value()`), for the second derivatives to be right: a partial built from plain numbers
/// (`T::from(σ)`, `DualVec::constant(σ)`) has no tangent, and the Hessian silently loses the
/// rule's own curvature (JAX's `custom_vjp` refuses forward differentiation instead). Writing
/// the rule generically over `T: Float`, as [`custom_scalar`]'s example does, gets this right;
/// so does a rule of adroit-forward's table of one's own (`rules::UnaryRule`, applied with
/// `ChainRule::apply_unary`: see adroit-forward's crate docs, "Custom derivative rules"),
/// which serves forward mode too. A solver's result converted from `f64` is such a plain
/// number: carry it into `T` by one Newton step from it. adroit-check's `rule_check` tests the
/// first order and `reverse_hessian_check` the second.
///
/// # Panics
/// If an input belongs to another scope (as every operation does); during the backward sweep,
/// if `pullback` returns a vector whose length is not `n` (the message names the line that
/// recorded the rule).
///
/// # Example
/// ```
/// use adroit_reverse::{custom_rule, gradient};
/// // y = x₀·x₁ with a hand-written pullback
/// let g = gradient(
///     |x| {
///         let (a, b) = (x[0].value(), x[1].value());
///         custom_rule(&[x[0], x[1]], &[a * b], move |w| vec![w[0] * b, w[0] * a])[0]
///     },
///     &[3.0, 4.0],
/// );
/// assert_eq!(g, vec![4.0, 3.0]);
/// ```
#[track_caller]
pub fn custom_rule<T, P>(inputs: &[Var<T>], outputs: &[T], pullback: P) -> Vec<Var<T>>
where
    T: TapeScalar,
    P: Fn(&[T]) -> Vec<T> + 'static,
{
    // The user's line, named if the pullback misbehaves (a location does not pass into
    // closures).
    let at = std::panic::Location::caller();
    record_custom(inputs, outputs, Box::new(pullback), at, false)
}

/// [`custom_rule`]'s recording, the rule recorded at `at`. With `scales_to_pullback` the
/// pullback returns cotangents for the inputs' nodes, their pending scales applied (see
/// [`Tape::push_custom`]), as [`checkpoint`](crate::checkpoint)'s second run does; else for the
/// inputs themselves.
pub(crate) fn record_custom<T: TapeScalar>(
    inputs: &[Var<T>],
    outputs: &[T],
    pullback: CustomPullback<T>,
    at: &'static std::panic::Location<'static>,
    scales_to_pullback: bool,
) -> Vec<Var<T>> {
    if inputs.iter().all(Var::is_constant) {
        return outputs.iter().map(|&v| Var::constant(v)).collect();
    }
    let check = |tape: &Tape<T>| tape.check_custom(inputs, outputs.len());
    with_active(check, |tape: &mut Tape<T>| {
        let first = tape.push_custom(inputs, outputs.len(), pullback, at, scales_to_pullback);
        let id = tape.id();
        outputs
            .iter()
            .enumerate()
            .map(|(k, &v)| Var::on_tape(v, first + k as u32, id))
            .collect()
    })
}

/// A scalar function with known partial derivatives, recorded as one node:
/// `value = f(inputs)`, `partials[i] = ∂f/∂inputᵢ`.
///
/// For [`hessian`](crate::hessian)/[`hvp`](crate::hvp), compute `value` and `partials` in `T`
/// from the inputs' values (see [`custom_rule`]'s "Second derivatives"); the second example
/// below does.
///
/// # Panics
/// If `inputs.len() != partials.len()`, or an input belongs to another scope (as every
/// operation does).
///
/// # Example
/// ```
/// use adroit_reverse::{custom_scalar, gradient};
/// // softplus(x) = ln(1 + eˣ) (its value formed stably), derivative σ(x)
/// let g = gradient(
///     |x| {
///         let v: f64 = x[0].value();
///         let value = v.max(0.0) + (-v.abs()).exp().ln_1p();
///         custom_scalar(&[x[0]], value, &[1.0 / (1.0 + (-v).exp())])
///     },
///     &[0.0],
/// );
/// assert_eq!(g, vec![0.5]);
///
/// // The same rule written over any scalar, so that under `hessian` (T = a dual number) the
/// // partial carries its own derivative: softplus'' = σ(1 − σ) = 1/4 at 0.
/// use adroit_reverse::num_traits::Float;
/// use adroit_reverse::{TapeScalar, Var, hessian};
/// fn softplus<T: TapeScalar>(x: Var<T>) -> Var<T> {
///     let v = x.value();
///     let sigma = (T::one() + (-v).exp()).recip();
///     custom_scalar(&[x], v.max(T::zero()) + (-v.abs()).exp().ln_1p(), &[sigma])
/// }
/// assert_eq!(hessian(|x| softplus(x[0]), &[0.0])[(0, 0)], 0.25);
/// ```
#[track_caller]
pub fn custom_scalar<T: TapeScalar>(inputs: &[Var<T>], value: T, partials: &[T]) -> Var<T> {
    assert_eq!(
        inputs.len(),
        partials.len(),
        "custom_scalar: {} inputs but {} partials",
        inputs.len(),
        partials.len()
    );
    let partials = partials.to_vec();
    custom_rule(inputs, &[value], move |w| {
        // As the tape's own sweep: a zero partial or adjoint contributes nothing, even against
        // an infinite one, and a dual product keeps the 0·∞ = 0 convention in its value.
        partials
            .iter()
            .map(|&p| {
                if w[0].is_zero() || p.is_zero() {
                    T::zero()
                } else {
                    <T as crate::scalar::sealed::Sealed>::sweep_product(w[0], p)
                }
            })
            .collect()
    })[0]
}

/// `x` with its derivative cut: the same value, treated as a constant from here on (JAX's
/// `stop_gradient`, PyTorch's `detach`), for every order: under forward-over-reverse
/// ([`hessian`](crate::hessian), [`hvp`](crate::hvp)) the forward tangents are dropped too, as
/// JAX's `stop_gradient` under `jvp`.
///
/// # Example
/// ```
/// use adroit_reverse::{gradient, hessian, stop_gradient};
/// // f = x·sg(x): ∂f/∂x = sg(x) = 3 (not 2x = 6), and its derivative is 0 (not 2)
/// let g = gradient(|x| x[0] * stop_gradient(x[0]), &[3.0]);
/// assert_eq!(g, vec![3.0]);
/// let h = hessian(|x| x[0] * stop_gradient(x[0]), &[3.0]);
/// assert_eq!(h[(0, 0)], 0.0);
/// ```
pub fn stop_gradient<T: TapeScalar>(x: Var<T>) -> Var<T> {
    Var::constant(crate::scalar::sealed::Sealed::detached(x.value()))
}

/// [`stop_gradient`] as a method, so that generic code bounded by
/// `S: Float + StopGradient` cuts derivatives on plain floats, forward-mode duals and `Var`
/// alike (at every order: under [`hessian`](crate::hessian) the forward tangents go too).
///
/// # Example
/// ```
/// use adroit_reverse::adroit_forward::StopGradient;
/// use adroit_reverse::num_traits::Float;
/// use adroit_reverse::{gradient, hessian};
///
/// // One generic loss: x·sg(x) has gradient sg(x) = 3 and Hessian 0 in every mode.
/// fn f<S: Float + StopGradient>(x: &[S]) -> S {
///     x[0] * x[0].stop_gradient()
/// }
/// assert_eq!(gradient(|x| f(x), &[3.0]), vec![3.0]);
/// assert_eq!(hessian(|x| f(x), &[3.0])[(0, 0)], 0.0);
/// assert_eq!(adroit_reverse::adroit_forward::gradient(|x| f(x), &[3.0]), vec![3.0]);
/// ```
impl<T: TapeScalar> StopGradient for Var<T> {
    #[inline]
    fn stop_gradient(self) -> Self {
        stop_gradient(self)
    }
}
