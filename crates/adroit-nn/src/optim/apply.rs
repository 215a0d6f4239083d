//! Applying an optimisation step to a model, all or nothing: `θ ← θ + opt(g)` happens only when
//! every gradient and every updated parameter is finite.

use super::Optimizer;
use crate::{Layer, NnError};
use adroit_reverse::matrix::{MatScalar, all_finite};
use nalgebra::DMatrix;

/// Independent accumulators of [`sum_is_finite`] (as in `all_finite`).
const LANES: usize = 32;

/// True when every `p + c·u` is finite (`v − v` is 0 exactly for finite `v`, NaN otherwise).
#[allow(clippy::eq_op)] // v − v is the test
fn sum_is_finite<T: MatScalar>(p: &[T], u: &[T], c: T) -> bool {
    let mut lanes = [T::zero(); LANES];
    let blocks = p.chunks_exact(LANES).zip(u.chunks_exact(LANES));
    for (pb, ub) in blocks {
        for ((lane, &p), &u) in lanes.iter_mut().zip(pb).zip(ub) {
            let s = p + c * u;
            *lane += s - s;
        }
    }
    let tail = p.len() - p.len() % LANES;
    for ((lane, &p), &u) in lanes.iter_mut().zip(&p[tail..]).zip(&u[tail..]) {
        let s = p + c * u;
        *lane += s - s;
    }
    lanes.iter().all(|l| l.is_zero())
}

/// The error for parameter `index` (`what`: "gradient" or "update").
fn non_finite<T: MatScalar, M: Layer<T>>(model: &M, what: &str, index: usize) -> NnError {
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    NnError::NonFinite {
        epoch: 0,
        batch: 0,
        what: format!("{what} of {}", names.get(index).map_or("?", String::as_str)),
    }
}

/// `θ ← θ + opt(g)` for gradients `grads` in the model's visiting order (shapes already
/// checked): in one pass over memory when the rule is a uniform scaling
/// ([`Optimizer::uniform_scale`]), otherwise by [`Optimizer::update`] and an addition.
///
/// Nothing is written unless every gradient is finite and every updated parameter would be:
/// the check reads `θ` and the update before the write pass (for a uniform scaling `θ + c·g`,
/// which also catches a non-finite `g`).
///
/// # Errors
/// [`NnError::NonFinite`] (epoch and batch 0) naming the first parameter whose gradient
/// ("gradient of …") or updated value ("update of …") is NaN or infinite; the model is then
/// unchanged (the optimiser's state may have advanced).
pub(crate) fn apply_gradients<T, M, O>(
    opt: &mut O,
    model: &mut M,
    mut updates: Vec<DMatrix<T>>,
) -> Result<(), NnError>
where
    T: MatScalar,
    M: Layer<T>,
    O: Optimizer<T>,
{
    let scale = opt.uniform_scale();
    if scale.is_none() {
        if let Some(k) = updates.iter().position(|g| !all_finite(g.as_slice())) {
            return Err(non_finite(model, "gradient", k));
        }
        let mut params = Vec::new();
        model.visit_params(&mut |p| params.push(p));
        opt.update(&mut updates, &params);
    }
    let c = scale.unwrap_or_else(T::one);
    let mut params = Vec::new();
    model.visit_params(&mut |p| params.push(p));
    let bad = params
        .iter()
        .zip(&updates)
        .position(|(p, u)| !sum_is_finite(p.as_slice(), u.as_slice(), c));
    drop(params);
    if let Some(k) = bad {
        let what = if all_finite(updates[k].as_slice()) {
            "update"
        } else {
            "gradient"
        };
        return Err(non_finite(model, what, k));
    }
    let mut next = updates.into_iter();
    model.visit_mut(&mut |p| {
        if let Some(u) = next.next() {
            let pairs = p.as_mut_slice().iter_mut().zip(u.as_slice());
            match scale {
                // `c·g` rounded, then added: the roundings of `update` followed by `+=`.
                Some(c) => pairs.for_each(|(p, &g)| *p += c * g),
                None => pairs.for_each(|(p, &u)| *p += u),
            }
        }
    });
    Ok(())
}
