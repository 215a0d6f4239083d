//! Gradient checkpointing (rematerialisation) on the scalar tape: a segment recorded as one
//! node whose pullback records the segment again when the backward sweep reaches it.

use crate::custom::record_custom;
use crate::record::Recording;
use crate::{TapeScalar, Var};
use std::panic::Location;

/// Runs `f` on `inputs` without keeping its operations on the tape: the result is recorded as
/// one node, and the backward sweep runs `f` again (on a tape of its own, from the inputs'
/// values) to pull the cotangents back through it — gradient checkpointing, also called
/// rematerialisation (JAX's `jax.checkpoint`/`remat`, PyTorch's `torch.utils.checkpoint`,
/// Zygote's `checkpointed`; Griewank & Walther, *Evaluating Derivatives*, 2nd ed., ch. 12).
///
/// `f` maps `n` variables to `m` variables; `inputs`: the `n` variables of the running
/// recording it reads; returns `m` variables holding `f`'s values. Gradients are those of
/// calling `f(inputs)` directly: the same operations, swept in the same order, except that an
/// input's contributions from inside `f` are summed first and then added to its adjoint, so
/// where an input is also used outside `f` the rounding differs — by the rounding of the terms
/// summed, which is large against the result where large terms cancel (`x + (x·y − x·y)` at
/// `y = 1e17` with `x·y − x·y` checkpointed: ∂/∂x is 1, where the direct recording adds `1 − y`
/// and then `y` and gives 0). An input or output with a pending scale (`x·c`, `x.sin()`:
/// "Folded scales" on [`Var`]) keeps it across the segment's boundary, as the direct
/// recording's operations see it. Inputs that share a node (one variable passed twice, `x` and
/// `x.sin()`) are separate variables inside `f`, so operations between them are not folded as
/// the direct recording folds them (`√(s₀ − s₁)` with both `x`: NaN, where the direct
/// recording's `x − x` is a constant and its square root's derivative 0). The tape keeps `m`
/// nodes instead of every operation of `f`, and the backward sweep holds one segment's tape at
/// a time.
///
/// The cost: `f` is recorded twice (once for its values, freed at once, and once in the
/// backward sweep; each time the same work as recording it directly), and each call of a
/// [`Pullback`](crate::Pullback) holding the node records it again. The memory: a long
/// simulation of `N` steps cut into `√N` checkpointed segments of `√N` steps keeps about
/// `2√N` steps' nodes instead of `N`'s. Segments nest (a checkpointed `f` may checkpoint
/// parts of itself), for logarithmic memory at more recomputation.
///
/// `f` must compute its outputs from its arguments alone, and the same way each time:
/// - a variable of the running recording captured by `f` panics (it belongs to another tape,
///   see [`Var`]): pass every variable `f` reads, parameters included, in `inputs`;
/// - `f` is `'static` (it is kept on the tape until the sweep): capture plain values by move
///   (`move |x| …`), or shared data in an `Rc`/`Arc`;
/// - `f` must be deterministic: the backward sweep checks that the second run's outputs equal
///   the first's and panics if they differ (a random draw inside `f`, a `Cell` it changes);
///   a change that leaves the values alone and alters only derivatives (a `stop_gradient` in
///   one run) is not seen, and gives the second run's derivatives.
///
/// [`Pullback::pushforward`](crate::Pullback::pushforward) pushes a checkpointed segment
/// forward through its Jacobian's rows (one second run per output): where an infinite partial
/// inside meets tangents that cancel (`√(x − y)` at `x = y` along `x = y`), forward mode and
/// the direct recording's pushforward give the finite limit and the rows give NaN.
///
/// Under [`hessian`](crate::hessian) and [`hvp`](crate::hvp) (`T` a dual number) the segment is
/// recorded on the same dual type, so second derivatives through it are exact too.
///
/// # Panics
/// If an input belongs to another scope (as every operation does), or `f` uses or returns a
/// variable that is not computed from its arguments in this call; during the backward sweep,
/// if `f`'s second run returns a different number of outputs or different values.
///
/// # Example
/// An explicit Euler integration of `y' = −p·y`, 10,000 steps in 100 checkpointed segments:
/// the tape holds 100 segment nodes and one segment's 300 operations at a time, not 30,000.
/// ```
/// use adroit_reverse::{Var, checkpoint, gradient};
///
/// fn euler(y0: Var<f64>, p: Var<f64>, steps: usize) -> Var<f64> {
///     let h = 1e-4;
///     (0..steps).fold(y0, |y, _| y - h * p * y)
/// }
/// // d y(1) / dp for y(0) = 1, p = 2, with and without checkpoints: the same derivatives
/// let direct = gradient(|x| euler(x[0], x[1], 10_000), &[1.0, 2.0]);
/// let checkpointed = gradient(
///     |x| {
///         let (mut y, p) = (x[0], x[1]);
///         for _ in 0..100 {
///             y = checkpoint(|s| vec![euler(s[0], s[1], 100)], &[y, p])[0];
///         }
///         y
///     },
///     &[1.0, 2.0],
/// );
/// // (∂/∂y₀ bit for bit; ∂/∂p, which sums p's uses across segments, to rounding)
/// assert_eq!(direct[0], checkpointed[0]);
/// assert!((direct[1] - checkpointed[1]).abs() < 1e-13);
/// // y(1) ≈ e⁻², so ∂y/∂p ≈ −e⁻² and ∂y/∂y₀ ≈ e⁻²
/// assert!((checkpointed[1] + (-2.0f64).exp()).abs() < 1e-4);
/// ```
#[track_caller]
pub fn checkpoint<T, F>(f: F, inputs: &[Var<T>]) -> Vec<Var<T>>
where
    T: TapeScalar,
    F: Fn(&[Var<T>]) -> Vec<Var<T>> + 'static,
{
    let point: Vec<T> = inputs.iter().map(Var::value).collect();
    // Both runs' inputs carry the inputs' pending scales ("Folded scales" on `Var`), so their
    // operations fold them into their partials as a direct recording does, and the input
    // adjoints of the second run are those of the inputs' nodes (no node is recorded for a
    // scale here). The outputs keep theirs the same way: the operations after the segment fold
    // them, and the second run's outputs are seeded at their nodes.
    let scales: Vec<T> = inputs.iter().map(scale_of).collect();
    // The first run: values and the outputs' scales only (its tape goes back to the pool at
    // the end of the block).
    let (values, output_scales) = {
        let (outputs, _recording) = run(&point, &scales, &f);
        let values: Vec<T> = outputs.iter().map(Var::value).collect();
        (values, outputs.iter().map(scale_of).collect::<Vec<T>>())
    };
    let expected = values.clone();
    let pullback = move |cotangent: &[T]| {
        let (outputs, recording) = run(&point, &scales, &f);
        check_rerun(&outputs, &expected);
        // Each cotangent is its output node's adjoint (the scale already applied after it).
        let seeds: Vec<Var<T>> = outputs
            .iter()
            .map(|y| y.with_pending_scale(T::one()))
            .collect();
        recording.backward(seeds.iter().zip(cotangent.iter().copied()))
    };
    let outputs = record_custom(
        inputs,
        &values,
        Box::new(pullback),
        Location::caller(),
        true,
    );
    let scaled = |(y, c): (Var<T>, T)| {
        if y.is_constant() {
            y
        } else {
            y.with_pending_scale(c)
        }
    };
    outputs.into_iter().zip(output_scales).map(scaled).collect()
}

/// One run of a checkpointed `f` on its own tape, the inputs holding `point` with `scales`;
/// panics unless every output was computed from those inputs.
#[track_caller]
fn run<T, F>(point: &[T], scales: &[T], f: &F) -> (Vec<Var<T>>, Recording<T>)
where
    T: TapeScalar,
    F: Fn(&[Var<T>]) -> Vec<Var<T>>,
{
    let (outputs, recording) = Recording::with_scales(point, scales, f);
    for y in &outputs {
        recording.check_output(y);
    }
    (outputs, recording)
}

/// A variable's pending scale: 1 for a constant (whose stored scale is unused).
fn scale_of<T: TapeScalar>(x: &Var<T>) -> T {
    if x.is_constant() {
        T::one()
    } else {
        x.pending_scale()
    }
}

/// Panics unless the backward sweep's run of a checkpointed function returned what its first
/// run did (the same count, and equal values: NaN equal to NaN).
#[track_caller]
fn check_rerun<T: TapeScalar>(outputs: &[Var<T>], expected: &[T]) {
    assert!(
        outputs.len() == expected.len(),
        "checkpoint: the function returned {} outputs when run again in the backward sweep, \
         {} the first time (it must compute the same outputs each time)",
        outputs.len(),
        expected.len()
    );
    if let Some(k) = (0..expected.len()).find(|&k| !same_run(outputs[k].value(), expected[k])) {
        panic!(
            "checkpoint: output {k} was {:?} when the function was run again in the backward \
             sweep, {:?} the first time: a checkpointed function must be deterministic (no \
             random draws or state it changes); its gradient would not match its values",
            outputs[k].value(),
            expected[k]
        );
    }
}

/// Whether a value of a checkpointed function's second run is the first run's (NaN equal to
/// NaN: a deterministic NaN is not a change).
pub(crate) fn same_run<T: TapeScalar>(again: T, first: T) -> bool {
    again == first || (again.is_nan() && first.is_nan())
}
