//! Gradient checkpointing on the matrix tape: a matrix function recorded as one node whose
//! pullback records it again when the backward sweep reaches it.

use super::api::pullback;
use super::ops::custom::custom_rule;
use super::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Runs the matrix function `f` on `inputs` without keeping its operations on the tape: the
/// result is one node, and the backward sweep runs `f` again (on a tape of its own, from the
/// inputs' values) to pull the cotangent back through it — gradient checkpointing (JAX's
/// `jax.checkpoint`, PyTorch's `torch.utils.checkpoint`; see the scalar tape's
/// [`checkpoint`](crate::checkpoint) for the trade). For deep stacks of layers whose
/// intermediate activations would otherwise all be held until the backward sweep: with it,
/// a checkpointed block keeps its inputs and output, and its activations exist only while its
/// own forward or backward run lasts.
///
/// `inputs`: the `k` matrices of the running recording that `f` reads (parameters included);
/// returns `f`'s result (any shape). Gradients are those of calling `f(inputs)` directly,
/// except that an input's cotangent from inside `f` is summed before it is added to the
/// input's (rounding may differ in the last bits where the input is also used outside `f`).
/// `f` is recorded twice — once for its value, its tape freed at once, and once in the
/// backward sweep — so a checkpointed block costs one more forward pass.
///
/// `f` must compute its result from its arguments alone, and the same way each time: a
/// [`MatVar`] of the running recording captured by `f` panics (pass it in `inputs`); `f` is
/// `'static` (capture matrices by move, or shared data in an `Rc`/`Arc`); and the backward
/// sweep checks that the second run's result equals the first's (NaN equal to NaN) and panics
/// if not (a random draw inside `f`, such as a dropout mask, must come from its arguments or a
/// seed it captures).
///
/// Under [`hvp`](crate::matrix::hvp)/[`hessian`](crate::matrix::hessian) (`T` a dual number) the
/// block runs on the same dual type, so second derivatives through it are exact too.
///
/// # Panics
/// If an input belongs to another scope, or `f` uses or returns a matrix that is not computed
/// from its arguments in this call; during the backward sweep, if `f`'s second run returns a
/// result of another shape or other values.
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
    let point: Vec<DMatrix<T>> = inputs.iter().map(MatVar::value).collect();
    // The first run: the value only (its tape goes back to the pool at once).
    let value = pullback(&f, &point).0;
    let expected = value.clone();
    custom_rule(inputs, value, move |cotangent| {
        let (again, rerun) = pullback(&f, &point);
        check_rerun(&again, &expected);
        rerun.call(cotangent)
    })
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
    let same = |a: T, b: T| a == b || (a.is_nan() && b.is_nan());
    if let Some(k) = (0..expected.len()).find(|&k| !same(again[k], expected[k])) {
        panic!(
            "matrix::checkpoint: entry {k} (column-major) of the result was {:?} when the \
             function was run again in the backward sweep, {:?} the first time: a checkpointed \
             function must be deterministic (no random draws or state it changes); its \
             gradient would not match its value",
            again[k], expected[k]
        );
    }
}
