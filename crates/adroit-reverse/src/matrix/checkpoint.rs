//! Gradient checkpointing on the matrix tape: a matrix function recorded as one node whose
//! pullback records it again when the backward sweep reaches it.

use super::api::record;
use super::tape::{Adjoint, Backward, Grads, MatTape, UnwrapStale};
use super::value::NodeValue;
use super::{MatScalar, MatVar, pool};
use crate::checkpoint::same_run;
use nalgebra::DMatrix;
use std::panic::Location;

/// Runs the matrix function `f` on `inputs` without keeping its operations on the tape: the
/// result is one node, and the backward sweep runs `f` again (on a tape of its own, from the
/// inputs' values) to pull the cotangent back through it — gradient checkpointing (JAX's
/// `jax.checkpoint`, PyTorch's `torch.utils.checkpoint`; see the scalar tape's
/// [`checkpoint`](crate::checkpoint) for the trade). For deep stacks of layers whose
/// intermediate activations would otherwise all be held until the backward sweep: the tape
/// keeps a checkpointed block's result (its inputs are nodes of the tape already, read from
/// there, not copied), and the block's own activations exist only while its first run or its
/// run in the backward sweep lasts (that run copies the block's inputs for its duration). A
/// 16-layer `tanh` network of 64 × 64 weights on a batch of 512 measured a peak of 13.7 MB
/// unchecked, 6.6 MB with each layer checkpointed and 5.9 MB with blocks of four layers
/// (allocations counted by a test allocator); where the weights outweigh the activations (a
/// batch of 8) it saves nothing.
///
/// `inputs`: the `k` matrices of the running recording that `f` reads (parameters included);
/// returns `f`'s result (any shape). Gradients are those of calling `f(inputs)` directly,
/// except that an input's cotangent from inside `f` is summed before it is added to the
/// input's: where the input is also used outside `f` the rounding differs, by the rounding of
/// the terms summed, which is large against the result where large terms cancel (as for the
/// scalar tape's [`checkpoint`](crate::checkpoint)).
/// `f` runs twice — once for its value (recording no backward rules, its tape freed at once)
/// and once in the backward sweep (recording a gradient only for the inputs that lead to
/// one) — so a checkpointed block costs one more forward pass.
///
/// `f` must compute its result from its arguments alone, and the same way each time: a
/// [`MatVar`] of the running recording captured by `f` panics (pass it in `inputs`); `f` is
/// `'static` (capture matrices by move, or shared data in an `Rc`/`Arc`); and the backward
/// sweep checks that the second run's result equals the first's (NaN equal to NaN) and panics
/// if not (a random draw inside `f`, such as a dropout mask, must come from its arguments or a
/// seed it captures). A change that leaves the value alone and alters only derivatives (a
/// `stop_gradient` in one run) is not seen, and gives the second run's derivatives.
///
/// Under [`hvp`](crate::matrix::hvp)/[`hessian`](crate::matrix::hessian) (`T` a dual number) the
/// block runs on the same dual type, so second derivatives through it are exact too.
///
/// # Panics
/// If an input belongs to another scope, or, with no inputs, if no matrix recording is active
/// (called outside `matrix::gradient` and its kin); if `f` uses or returns a matrix that is not
/// computed from its arguments in this call; during the backward sweep, if `f`'s second run
/// returns a result of another shape or other values.
///
/// # Example
/// A stack of 8 `tanh` layers, each checkpointed: the same gradient as without checkpoints.
/// ```
/// use adroit_reverse::matrix::{self, MatVar};
/// use adroit_reverse::nalgebra::DMatrix;
///
/// let w = DMatrix::from_fn(4, 4, |i, j| 0.3 * ((i + 2 * j) as f64).sin());
/// let x = DMatrix::from_fn(4, 3, |i, j| (i as f64) - (j as f64)); // features × batch
/// let layer = |h: MatVar<f64>, w: MatVar<f64>| (w * h).tanh();
/// let loss = |checkpointed: bool| {
///     matrix::gradient(
///         |p| {
///             let mut h = p[1];
///             for _ in 0..8 {
///                 h = if checkpointed {
///                     matrix::checkpoint(move |q| layer(q[0], q[1]), &[h, p[0]])
///                 } else {
///                     layer(h, p[0])
///                 };
///             }
///             h.component_mul(h).sum()
///         },
///         &[w.clone(), x.clone()],
///     )
/// };
/// let (direct, checkpointed) = (loss(false), loss(true));
/// assert_eq!(direct[1], checkpointed[1]); // x is read by the first block alone
/// assert!((&direct[0] - &checkpointed[0]).amax() < 1e-15); // w by all eight
/// ```
#[track_caller]
pub fn checkpoint<T, F>(f: F, inputs: &[MatVar<T>]) -> MatVar<T>
where
    T: MatScalar,
    F: Fn(&[MatVar<T>]) -> MatVar<T> + 'static,
{
    // The first run: the value only, on a tape of its own whose inputs need no gradient (so it
    // keeps no backward rules), freed at once.
    let value = {
        // The inputs' values are copied for this run's duration (read before its scope opens:
        // `value()` reads the active tape).
        let mut point: Vec<Option<DMatrix<T>>> = inputs.iter().map(|x| Some(x.value())).collect();
        let leaf = |tape: &mut MatTape<T>, k: usize| {
            tape.leaf(point[k].take().expect("each input once"), false)
        };
        let (output, tape) = record(inputs.len(), leaf, &f);
        let value = tape.value(&output).clone();
        super::tape::recycle(tape);
        value
    };
    let at = Location::caller();
    // A stale input panicked above (reading the inputs' values), so `f` reaches the thread's
    // tape stack only to be recorded: it is never dropped inside the borrow (it may own values
    // whose destructors run adroit code, see `Backward::owns_user_values`).
    let recorded = T::with_mat_tapes(|stack| {
        let tape = stack.active();
        tape.stale_among(inputs)?;
        let block = Block {
            inputs: inputs.iter().map(|x| x.index()).collect(),
            output: tape.len() as u32,
            f: Box::new(f),
        };
        Ok(tape.record(at, inputs, value, Box::new(block)))
    });
    recorded.unwrap_or_else_stale()
}

/// A checkpointed block's function, kept on the tape to run again in the backward sweep.
type BlockFn<T> = Box<dyn Fn(&[MatVar<T>]) -> MatVar<T>>;

/// The node of a checkpointed block: its inputs' and its own node indices (their values are
/// read from the tape, not copied) and the function, run again in the backward sweep.
struct Block<T> {
    inputs: Vec<u32>,
    output: u32,
    f: BlockFn<T>,
}

impl<T: MatScalar> Backward<T> for Block<T> {
    fn backward(&self, g: DMatrix<T>, values: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let wants: Vec<bool> = self.inputs.iter().map(|&i| grads.wants(i)).collect();
        if wants.contains(&true) {
            // The second run, on a tape of its own: a gradient only for the inputs that lead
            // to one (their values copied for the run's duration).
            let leaf = |tape: &mut MatTape<T>, k: usize| {
                tape.leaf(values[self.inputs[k] as usize].get().clone(), wants[k])
            };
            let (output, tape) = record(self.inputs.len(), leaf, |vars| (self.f)(vars));
            check_rerun(tape.value(&output), values[self.output as usize].get());
            let cotangents = tape.backward(&output, Adjoint::Dense(g), self.inputs.len());
            super::tape::recycle(tape);
            for ((&i, wanted), c) in self.inputs.iter().zip(wants).zip(cotangents) {
                if wanted {
                    grads.accumulate(i, c);
                } else {
                    pool::recycle(c);
                }
            }
        } else {
            pool::recycle(g);
        }
    }

    fn owns_user_values(&self) -> bool {
        true
    }
}

/// Panics unless the backward sweep's run of a checkpointed function returned what its first
/// run did (the same shape and values, NaN equal to NaN).
#[track_caller]
fn check_rerun<T: MatScalar>(again: &DMatrix<T>, expected: &DMatrix<T>) {
    assert!(
        again.shape() == expected.shape(),
        "matrix::checkpoint: the function returned a {}×{} matrix when run again in the \
         backward sweep, {}×{} the first time (it must compute the same result each time)",
        again.nrows(),
        again.ncols(),
        expected.nrows(),
        expected.ncols()
    );
    if let Some(k) = (0..expected.len()).find(|&k| !same_run(again[k], expected[k])) {
        panic!(
            "matrix::checkpoint: entry {k} (column-major) of the result was {:?} when the \
             function was run again in the backward sweep, {:?} the first time: a checkpointed \
             function must be deterministic (no random draws or state it changes); its \
             gradient would not match its value",
            again[k], expected[k]
        );
    }
}
