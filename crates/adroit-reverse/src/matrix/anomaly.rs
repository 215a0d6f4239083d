//! Anomaly detection on the matrix tape: find the operation where a NaN first appears (JAX's
//! `jax_debug_nans`, PyTorch's `torch.autograd.detect_anomaly`).

use std::cell::Cell;

thread_local! {
    /// How many [`detect_anomaly`] calls are running on this thread.
    static DEPTH: Cell<usize> = const { Cell::new(0) };
}

/// True inside [`detect_anomaly`] on this thread: matrix tapes opened now check every result.
#[inline]
pub(crate) fn watching() -> bool {
    DEPTH.with(Cell::get) > 0
}

/// Runs `f` with anomaly detection on the matrix tape: every matrix recording
/// ([`gradient`](crate::matrix::gradient), [`pullback`](crate::matrix::pullback), … also
/// under [`hvp`](crate::matrix::hvp)/[`hessian`](crate::matrix::hessian), on the primal
/// values) started on this thread while `f` runs checks the result of each operation it
/// records, and when the recording ends (before any backward sweep) panics naming the first
/// operation whose result held a NaN — the line that called the matrix operation (in your
/// code, or in a library's that records it: adroit-nn's losses and activations pass their
/// caller's line on, its layers' forward passes name their own), the first NaN entry, and
/// whether an operand already held one — where the loss or gradient would otherwise just come
/// out NaN (JAX's `jax_debug_nans`, PyTorch's `torch.autograd.detect_anomaly`). Returns `f`'s
/// result. In training code, wrap the gradient call or the whole step. A recording inside
/// another (a [`checkpoint`](crate::matrix::checkpoint)ed block's first run, a gradient inside
/// a custom rule) that ends on a NaN reports the outer recording's NaN instead if it met one
/// first — if the two record the same element type (each type has a tape stack of its own: an
/// `f32` gradient inside an `f64` recording reports its own NaN); and if code inside `f`
/// catches that report (`catch_unwind` around the inner call), the outer recording's NaN has
/// been reported and is not again when the outer recording ends.
///
/// Checked: every recorded operation's result, custom rules'
/// ([`custom_rule`](crate::matrix::custom_rule)) and
/// [`checkpoint`](crate::matrix::checkpoint)ed blocks' included, and every recording started
/// while `f` runs — also one started by a backward sweep (a checkpointed block's second run, a
/// gradient inside a custom rule's pullback), even of a pullback recorded before `f`. Then the
/// backward sweeps, as PyTorch's `detect_anomaly` checks its backward functions: every sweep of
/// a recording started while `f` runs (a [`MatPullback`](crate::matrix::MatPullback)'s later
/// calls too) and every sweep run while `f` runs. The first rule that turns a cotangent free of
/// NaN into contributions holding one panics when the sweep ends, naming the operation's line
/// (known for recordings started while `f` runs), the entry and the operand: a derivative that
/// is NaN where the value is finite (an element-wise [`map`](crate::matrix::MatVar::map)'s: `|v|
/// v.sqrt() − v.cbrt()` at 0 has the value 0 and the derivative `∞ − ∞`), or infinite
/// contributions of opposite signs meeting in one adjoint. A NaN in the cotangent given to a
/// pullback is passed on by every rule, not reported; a rule whose own cotangent holds one is
/// not blamed for the NaN it passes on, but a rule that makes a NaN in an entry free of one is,
/// also in an adjoint where other entries hold a NaN passed on. A NaN made inside a nested sweep (a
/// checkpointed block's second run, a gradient inside a custom rule's pullback) is reported
/// when that sweep ends, before one an outer rule made earlier. A checked sweep rescans each
/// adjoint a rule adds to: many small views of one large matrix cost the views' count times
/// its size (3,000 one-row views of a 3,000 × 100 matrix: 1.2 s against 8.8 ms unchecked). Not checked: the inputs and constant
/// matrices (a NaN in them is reported at the first operation it reaches, as "an operand
/// already held NaN"; so is one passed on by
/// [`MatVar::stop_gradient`](crate::matrix::MatVar::stop_gradient), which records nothing),
/// infinities (an overflow to ∞ is not an anomaly; ∞ − ∞ is), the results of recordings
/// started before `f` runs, and the scalar tape (`Var`): it records an operation in a few
/// nanoseconds, and every form of the check tried there cost its gradients 1–9 % more
/// instructions and up to 12 % of their time unwatched — for scalar code written over
/// `num_traits::Float`, adroit-forward's `find_nan` runs it on checking numbers instead.
/// Unwatched, the matrix tape pays one test per operation recorded (a 100-entry array
/// gradient measured 1.2 % more instructions, no change in time) and one per sweep and per
/// contribution to an adjoint (callgrind, 100,000 gradients: Rosenbrock's array form at n = 100
/// 0.74 % more instructions, a 16 × 4 product and map 0.08 %).
///
/// # Panics
/// When a recording in which an operation's result held a NaN ends (the message names that
/// operation's location, the entry and whether an operand held NaN already), when a backward
/// sweep in which a rule made a NaN ends (the message names the operation's location, the
/// entry and the operand), or as `f` does.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::{self, detect_anomaly};
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// use adroit_reverse::num_traits::Float;
///
/// // A NaN loss: where does it come from?
/// let a = dmatrix![1.0, -2.0; 3.0, 4.0];
/// let loss = |m: &[matrix::MatVar<f64>]| (m[0] * 2.0).map(|v| v.sqrt()).sum();
/// assert!(matrix::value_and_gradient(loss, std::slice::from_ref(&a)).0.is_nan());
/// // With the check, the gradient call panics, naming the square root's line and entry (0, 1).
/// let found = std::panic::catch_unwind(|| {
///     detect_anomaly(|| matrix::gradient(loss, std::slice::from_ref(&a)))
/// });
/// let message = *found.unwrap_err().downcast::<String>().unwrap();
/// assert!(message.contains("NaN at entry (0, 1)"), "{message}");
/// ```
pub fn detect_anomaly<R>(f: impl FnOnce() -> R) -> R {
    /// Leaves the checked region when `f` returns or panics.
    struct Leave;
    impl Drop for Leave {
        fn drop(&mut self) {
            DEPTH.with(|d| d.set(d.get().saturating_sub(1)));
        }
    }
    DEPTH.with(|d| d.set(d.get() + 1));
    let _leave = Leave;
    f()
}

/// Where the first NaN of a matrix operation's result is.
pub(crate) struct MatrixNan {
    /// The operation's line in the user's code.
    pub(crate) at: &'static std::panic::Location<'static>,
    /// Its row and column.
    pub(crate) entry: (usize, usize),
    /// The result's shape.
    pub(crate) shape: (usize, usize),
    /// Whether an operand held a NaN already.
    pub(crate) in_operands: bool,
}

/// The panic of a matrix operation whose result holds a NaN.
#[cold]
#[inline(never)]
pub(crate) fn matrix_nan(nan: &MatrixNan) -> ! {
    let (r, c) = nan.shape;
    panic!(
        "adroit-reverse (detect_anomaly): the matrix operation at {} gave NaN at entry ({}, {}) \
         of its {r}×{c} result; {}",
        nan.at,
        nan.entry.0,
        nan.entry.1,
        if nan.in_operands {
            "an operand already held NaN (an input or constant matrix, a value of a recording \
             around this one, or one computed off the tape)"
        } else {
            "its operands held none"
        }
    )
}

/// Where a backward rule first gave a cotangent a NaN (from a cotangent without one).
pub(crate) struct BackwardNan {
    /// The line that recorded the operation whose rule it was; `None` for a recording started
    /// before [`detect_anomaly`] began, swept inside it.
    pub(crate) at: Option<&'static std::panic::Location<'static>>,
    /// The entry of the operand's cotangent.
    pub(crate) entry: (usize, usize),
    /// The operand's shape.
    pub(crate) shape: (usize, usize),
    /// Whether the operand is one of the call's inputs.
    pub(crate) input: bool,
}

/// The panic of a backward sweep in which a rule turned a cotangent without NaN into one with.
#[cold]
#[inline(never)]
pub(crate) fn backward_nan(nan: &BackwardNan) -> ! {
    let (r, c) = nan.shape;
    let (at, results) = match nan.at {
        Some(at) => (at.to_string(), "every result was free of NaN"),
        None => (
            "a line not known".to_string(),
            "it was recorded before detect_anomaly began, its results unchecked: one may hold \
             NaN",
        ),
    };
    panic!(
        "adroit-reverse (detect_anomaly): in the backward sweep, the rule of the matrix operation \
         at {at} gave NaN at entry ({}, {}) of the cotangent of its {r}×{c} operand{} from a \
         cotangent that held none ({results}): a derivative that is NaN where the value is not \
         (an element-wise map's ∞ − ∞, as √v − ∛v at 0), or infinite contributions of opposite \
         signs meeting (∞ − ∞)",
        nan.entry.0,
        nan.entry.1,
        if nan.input {
            " (an input of the call)"
        } else {
            ""
        }
    )
}
