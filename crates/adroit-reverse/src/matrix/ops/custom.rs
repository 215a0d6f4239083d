//! Custom rules on the matrix tape: a matrix function with its own pullback, as one node.

use crate::matrix::tape::{Backward, Grads, UnwrapStale};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// The user's pullback: the output's cotangent to one cotangent per input.
type UserPullback<T> = Box<dyn Fn(&DMatrix<T>) -> Vec<DMatrix<T>>>;

/// Backward of a custom rule: the user's pullback, its cotangents checked against the inputs'
/// count and shapes, then accumulated.
struct Custom<T> {
    /// Each input's node and shape, in the order the pullback returns their cotangents.
    inputs: Vec<(u32, (usize, usize))>,
    pullback: UserPullback<T>,
    /// Where the rule was recorded (named when its pullback misbehaves).
    at: &'static std::panic::Location<'static>,
}

impl<T: MatScalar> Backward<T> for Custom<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if self.inputs.iter().any(|&(i, _)| grads.wants(i)) {
            let cotangents = (self.pullback)(&g);
            assert!(
                cotangents.len() == self.inputs.len(),
                "matrix::custom_rule (recorded at {}): the pullback returned {} cotangents for \
                 {} inputs",
                self.at,
                cotangents.len(),
                self.inputs.len()
            );
            for (k, (c, &(i, shape))) in cotangents.into_iter().zip(&self.inputs).enumerate() {
                assert!(
                    c.shape() == shape,
                    "matrix::custom_rule (recorded at {}): the pullback's cotangent {k} is {}, \
                     input {k} is {}",
                    self.at,
                    shape_str(c.shape()),
                    shape_str(shape)
                );
                grads.accumulate(i, c);
            }
        }
        pool::recycle(g);
    }

    fn owns_user_values(&self) -> bool {
        true
    }
}

/// Records a matrix function with its own pullback as one node of the matrix tape, like
/// ChainRules.jl's `rrule` or JAX's `custom_vjp` for array code: for a function evaluated
/// elsewhere (a factorisation nalgebra offers but the tape does not record, such as an
/// eigendecomposition's vectors; an external solver) or a closed-form derivative cheaper or more stable than the recorded
/// operations'.
///
/// `inputs`: the `k` matrices the function depends on; `value`: its result, already computed
/// (from `inputs[i].value()`), of any shape `r × c`; `pullback`: maps the result's cotangent
/// `Ȳ` (`r × c`) to the `k` input cotangents `∂⟨Ȳ, f⟩/∂Xᵢ`, each of its input's shape, in
/// `inputs`' order. Returns the result as a variable of the tape. An input used twice receives
/// both of its cotangents; a constant's cotangent is ignored.
///
/// The pullback runs in the backward sweep, after the recording has ended: it may use adroit
/// itself (a nested [`gradient`](crate::matrix::gradient)), but not the recording's
/// variables — capture plain matrices (`x.value()`). It is not called when no input leads to
/// a gradient. It is dropped when the recording is released (or unwound by a panic), outside
/// every matrix operation, so values it owns may run adroit code in their destructors. NaN
/// and infinities in its cotangents are the pullback's own (the tape's `0·∞ = 0` convention
/// holds in the operations around it, not inside it). Check a rule
/// against finite differences with adroit-check's `matrix_vjp_check`, which draws random
/// cotangents `Ȳ` (a loss of `.sum()` seeds every entry with 1, and a pullback that ignores or
/// transposes its cotangent passes that) and perturbs the entries one by one: a value that
/// reads only part of its input (Cholesky reads the lower triangle) needs a pullback to match —
/// or an input made whole first, as the example's symmetrised `S = (A + Aᵀ)/2`, whose pullback
/// `Ȳ·S⁻¹` the tape turns into the right one for every entry of `A` (`Ȳ·A⁻¹` on `A` itself is
/// wrong off the diagonal: −0.0909 where −0.1818 is right).
///
/// # Panics
/// If an input belongs to another scope (as every operation does), or, with no inputs, if no
/// matrix recording is active (called outside `matrix::gradient` and its kin); during the
/// backward sweep, if `pullback` returns a number of cotangents other than `k`, or one whose
/// shape differs from its input's (the message names the line that recorded the rule, the input
/// and both shapes).
///
/// # Example
/// `ln det S` of a symmetric positive definite `S = (A + Aᵀ)/2` by Cholesky (`2 Σ ln Lᵢᵢ`,
/// half the work of LU, and fails for an indefinite `S`), with the pullback `Ȳ·S⁻¹`:
/// ```
/// use adroit_reverse::matrix::{self, MatVar};
/// use adroit_reverse::nalgebra::{self, DMatrix, dmatrix};
///
/// fn logdet_spd(a: MatVar<f64>) -> MatVar<f64> {
///     let s = (a + a.transpose()) * 0.5;
///     let cholesky = s.value().cholesky().expect("symmetric positive definite");
///     let logdet: f64 = 2.0 * cholesky.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
///     let inverse = cholesky.inverse();
///     matrix::custom_rule(&[s], dmatrix![logdet], move |g| vec![&inverse * g[(0, 0)]])
/// }
///
/// let a = dmatrix![4.0, 1.0; 1.0, 3.0];
/// let (v, g) = matrix::value_and_gradient(|m| logdet_spd(m[0]), &[a.clone()]);
/// assert!((v - 11f64.ln()).abs() < 1e-14);
/// // the same as the tape's own LU-based node
/// let (_, want) = matrix::value_and_gradient(|m| m[0].logabsdet(), &[a]);
/// assert!((&g[0] - &want[0]).amax() < 1e-15);
/// ```
#[track_caller]
pub fn custom_rule<T, P>(inputs: &[MatVar<T>], value: DMatrix<T>, pullback: P) -> MatVar<T>
where
    T: MatScalar,
    P: Fn(&DMatrix<T>) -> Vec<DMatrix<T>> + 'static,
{
    // The user's line, for `detect_anomaly` (a location does not pass into closures).
    let at = std::panic::Location::caller();
    // Built before the thread's tape stack is borrowed and, where not recorded (a stale
    // input), dropped after: the pullback may own values whose destructors run adroit code
    // (see `Backward::owns_user_values`).
    let mut rule = Some(Custom {
        inputs: inputs.iter().map(|x| (x.index(), x.shape())).collect(),
        pullback: Box::new(pullback),
        at,
    });
    let recorded = T::with_mat_tapes(|stack| {
        let tape = stack.active();
        tape.stale_among(inputs)?;
        let rule = rule.take().expect("recorded once");
        Ok(tape.record(at, inputs, value, Box::new(rule)))
    });
    drop(rule);
    recorded.unwrap_or_else_stale()
}
