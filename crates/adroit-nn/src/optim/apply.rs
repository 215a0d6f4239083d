//! Applying an optimisation step to a model, all or nothing: `θ ← θ + opt(g)` happens only when
//! every gradient and every updated parameter is finite.

use super::Optimizer;
use super::vectorised::vectorised;
use crate::layer::param_names;
use crate::visit_order::check_param_order;
use crate::{Layer, NnError};
use adroit_reverse::matrix::{MatScalar, all_finite};
use nalgebra::DMatrix;

/// Overwrites each `u` with `p + c·u` (rounded as `c·u`, then the sum) and reports which
/// inputs and results were finite: `(every u was finite, every p + c·u is finite)`. `v − v`
/// is 0 exactly for finite `v` and NaN otherwise; the comparisons with 0 are combined by `&`
/// without an early exit, so the pass vectorises into lane-wise compares (sums of `v − v` in 32
/// lanes, as before, spilled their accumulators to the stack with SSE2's sixteen registers). It
/// reads `p` and `u` and writes `u` once, the traffic of `p += c·u` itself. It runs
/// [`vectorised`]: in a profile of the 784-128-10 step, the function holding the pass took
/// 10.6 % of the samples with SSE2 and 5.5 % with AVX-512F (`BENCHMARKS.md` §W.11).
fn write_sum<T: MatScalar>(p: &[T], u: &mut [T], c: T) -> (bool, bool) {
    vectorised(
        #[inline(always)]
        move || sum_pass(p, u, c),
    )
}

/// The pass of [`write_sum`], on the instructions of the function it is inlined into.
#[inline(always)]
#[allow(clippy::eq_op)] // v − v is the test
fn sum_pass<T: MatScalar>(p: &[T], u: &mut [T], c: T) -> (bool, bool) {
    let (mut inputs, mut sums) = (true, true);
    for (&p, u) in p.iter().zip(u.iter_mut()) {
        inputs &= (*u - *u).is_zero();
        *u = p + c * *u;
        sums &= (*u - *u).is_zero();
    }
    (inputs, sums)
}

/// The shapes of `model`'s parameters, in its visiting order (for
/// [`Optimizer::check_params`] and [`apply_gradients`]).
pub(crate) fn param_shapes<T: MatScalar, M: Layer<T> + ?Sized>(model: &M) -> Vec<(usize, usize)> {
    let mut shapes = Vec::new();
    model.visit_params(&mut |p| shapes.push(p.shape()));
    shapes
}

/// Checks that `arrays` hold one array per parameter of `model`, each of its parameter's
/// shape (`shapes`: the parameters'; `what`: "gradient" or "update", for the message).
fn check_shapes<T: MatScalar, M: Layer<T>>(
    model: &M,
    shapes: &[(usize, usize)],
    arrays: &[DMatrix<T>],
    what: &str,
) -> Result<(), NnError> {
    let bad = if shapes.len() == arrays.len() {
        shapes.iter().zip(arrays).position(|(s, a)| *s != a.shape())
    } else {
        Some(shapes.len().min(arrays.len()))
    };
    let Some(k) = bad else { return Ok(()) };
    let names = param_names(model);
    Err(NnError::ShapeMismatch {
        what: format!(
            "optimizer step: {what} of {} ({} arrays for {} parameters)",
            names.get(k).map_or("?", String::as_str),
            arrays.len(),
            shapes.len()
        ),
        expected: shapes.get(k).copied().unwrap_or((0, 0)),
        found: arrays.get(k).map_or((0, 0), DMatrix::shape),
    })
}

/// The error for parameter `index` (`what`: "gradient" or "update").
fn non_finite<T: MatScalar, M: Layer<T>>(model: &M, what: &str, index: usize) -> NnError {
    let names = param_names(model);
    NnError::NonFinite {
        epoch: 0,
        batch: 0,
        what: format!("{what} of {}", names.get(index).map_or("?", String::as_str)),
    }
}

/// `θ ← θ + opt(g)` for gradients `grads` in the model's visiting order (`shapes`: the
/// parameters' shapes, from [`param_shapes`]): in one pass over memory when the rule is a uniform scaling
/// ([`Optimizer::uniform_scale`]), otherwise by [`Optimizer::update`] and an addition.
///
/// Nothing is written unless every gradient is finite and every updated parameter would be:
/// the new values `θ + c·g` (or `θ + u`) are formed in the gradient buffers, which this step
/// owns, checked on the way, and swapped into the model only when all are finite — one pass
/// over memory, as the plain `θ += c·g`, with the same roundings.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if a gradient, or an update from the rule, does not have its
/// parameter's shape (e.g. gradients collected from another model); [`NnError::NonFinite`]
/// (epoch and batch 0) naming the first parameter whose gradient
/// ("gradient of …") or updated value ("update of …") is NaN or infinite (a rule's update is
/// NaN where the state it stored overflowed: the module docs). After any error the
/// model is unchanged, and so is the rule's state: a refused gradient never reaches the rule,
/// a refused update is undone ([`Optimizer::undo_update`]; a rule of your own without it keeps
/// the refused step), a refused uniform step is not committed.
pub(crate) fn apply_gradients<T, M, O>(
    opt: &mut O,
    model: &mut M,
    shapes: &[(usize, usize)],
    updates: Vec<DMatrix<T>>,
) -> Result<(), NnError>
where
    T: MatScalar,
    M: Layer<T>,
    O: Optimizer<T>,
{
    opt.check_config()?;
    opt.check_params(shapes)?;
    apply_checked_gradients(opt, model, shapes, updates)
}

/// [`apply_gradients`] for a caller that has just run [`Optimizer::check_config`] and
/// [`Optimizer::check_params`] on `shapes` itself, with nothing changed since
/// ([`train_step`](crate::train_step), whose forward and backward passes do not touch the
/// optimiser): the same step without checking the rule twice.
pub(crate) fn apply_checked_gradients<T, M, O>(
    opt: &mut O,
    model: &mut M,
    shapes: &[(usize, usize)],
    mut updates: Vec<DMatrix<T>>,
) -> Result<(), NnError>
where
    T: MatScalar,
    M: Layer<T>,
    O: Optimizer<T>,
{
    debug_assert_eq!(shapes, param_shapes(model));
    // The sums are formed in `visit_params` order and swapped in by `visit_mut`.
    check_param_order(model)?;
    check_shapes(model, shapes, &updates, "gradient")?;
    let scale = opt.uniform_scale();
    if scale.is_none() {
        if let Some(k) = updates.iter().position(|g| !all_finite(g.as_slice())) {
            return Err(non_finite(model, "gradient", k));
        }
        let mut params = Vec::new();
        model.visit_params(&mut |p| params.push(p));
        opt.update(&mut updates, &params);
        drop(params);
        // A rule's `update` must keep the shapes; the buffers are swapped into the model.
        if let Err(e) = check_shapes(model, shapes, &updates, "update") {
            opt.undo_update();
            return Err(e);
        }
    }
    // The new parameter values are formed in the update buffers, checked, and only then
    // swapped into the model: nothing changes unless every one is finite.
    let c = scale.unwrap_or_else(T::one);
    let mut params = Vec::new();
    model.visit_params(&mut |p| params.push(p));
    for (k, (p, u)) in params.iter().zip(updates.iter_mut()).enumerate() {
        let (inputs_finite, sums_finite) = write_sum(p.as_slice(), u.as_mut_slice(), c);
        if !(inputs_finite && sums_finite) {
            drop(params);
            if scale.is_none() {
                opt.undo_update();
            }
            // With a uniform scaling the buffers held the gradients; otherwise the updates
            // (whose gradients were checked above).
            let what = if scale.is_some() && !inputs_finite {
                "gradient"
            } else {
                "update"
            };
            return Err(non_finite(model, what, k));
        }
    }
    drop(params);
    let mut next = updates.into_iter();
    model.visit_mut(&mut |p| {
        if let Some(mut new) = next.next() {
            std::mem::swap(p, &mut new);
        }
    });
    if scale.is_some() {
        // Only now: a refused uniform step leaves the rule's state (its schedule) as it was.
        opt.commit_uniform_step();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::write_sum;
    use crate::optim::vectorised::tests::{at_level, available};
    use adroit_reverse::matrix::MatScalar;

    /// `write_sum` in every copy this CPU can run: the flags and the bits of the sums.
    fn every_copy<T: MatScalar>(p: &[T], u: &[T], c: T) -> Vec<((bool, bool), Vec<f64>)> {
        available()
            .into_iter()
            .map(|level| {
                let mut u = u.to_vec();
                let flags = at_level(level, || write_sum(p, &mut u, c));
                (
                    flags,
                    u.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect(),
                )
            })
            .collect()
    }

    /// Every copy of the pass this CPU has (baseline, AVX2, AVX-512F) writes the baseline's
    /// bits (NaN for NaN) and the plain `p + c·u`, and flags a NaN or infinity at every
    /// position, in the inputs or only in a sum (`MAX + MAX`), at every length up to past
    /// four 16-lane blocks, `f32` and `f64`. Meaningful in an optimised build (CI runs it with
    /// `--release`).
    #[test]
    fn every_copy_of_the_pass_writes_the_baseline_bits_and_flags_every_position() {
        fn case<T: MatScalar>() {
            let t = |v: f64| T::from(v).unwrap_or_else(T::nan);
            let same = |a: &[f64], b: &[f64]| {
                a.iter()
                    .zip(b)
                    .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
            };
            for len in 0..70 {
                let p: Vec<T> = (0..len).map(|i| t((i as f64 * 0.37).sin() * 3.0)).collect();
                let g: Vec<T> = (0..len).map(|i| t((i as f64 * 1.3).cos() / 7.0)).collect();
                let c = t(-0.013);
                let runs = every_copy(&p, &g, c);
                let plain: Vec<f64> = (p.iter().zip(&g))
                    .map(|(&p, &g)| (p + c * g).to_f64().unwrap_or(f64::NAN))
                    .collect();
                for (flags, sums) in &runs {
                    assert_eq!(*flags, (true, true), "len {len}");
                    assert!(same(sums, &plain), "len {len}");
                }
                for at in 0..len {
                    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                        let mut u = g.clone();
                        u[at] = t(bad);
                        let runs = every_copy(&p, &u, c);
                        for (flags, sums) in &runs {
                            assert_eq!(*flags, (false, false), "{bad} at {at}");
                            assert!(same(sums, &runs[0].1), "{bad} at {at}");
                        }
                    }
                    let (mut big, mut u) = (p.clone(), g.clone());
                    big[at] = <T as num_traits::Float>::max_value();
                    u[at] = <T as num_traits::Float>::max_value();
                    for (flags, _) in every_copy(&big, &u, T::one()) {
                        assert_eq!(flags, (true, false), "overflow at {at}");
                    }
                }
            }
        }
        case::<f32>();
        case::<f64>();
    }
}
