//! The check that a model lists its matrices in one order through every traversal
//! ([`Layer::visit`], [`Layer::visit_params`], [`Layer::visit_mut`]; [`Layer::visit_state`],
//! [`Layer::visit_state_mut`]): values read in one order and written back in another would land
//! in the wrong matrices.

use crate::layer::{key, param_names};
use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Checks that `model` lists the same matrices, in the same order, through [`Layer::visit`],
/// [`Layer::visit_params`] and [`Layer::visit_mut`], and through [`Layer::visit_state`] and
/// [`Layer::visit_state_mut`]: the same matrix objects (by address), not only the same shapes.
///
/// Training, [`step`](crate::optim::step), the explicit gradients of
/// [`gradient`](crate::gradient) and [`hessian`](crate::hessian), loading a weight file
/// ([`io`](crate::io)) and [`vector_to_parameters`](crate::vector_to_parameters) read the
/// parameters in one order and write them in the other, so they run this check first (the
/// parameters' part; loading, the state's too, and a training step that sets new state
/// values, the state's). The layers of this crate always agree; a layer
/// of your own that lists its matrices in different orders would otherwise have its values
/// written into the wrong matrices, silently where the shapes agree. Call it in your layer's
/// tests.
///
/// # Errors
/// [`NnError::InvalidConfig`] naming the first matrix (by its [`Layer::visit`] name, or its
/// position) listed differently.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// use adroit_nn::{Context, Layer, MatVar, NnError, check_visit_order};
/// struct Affine { a: DMatrix<f64>, b: DMatrix<f64> }
/// impl Layer<f64> for Affine {
///     fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
///         ctx.param(&self.a).matmul(x) + ctx.param(&self.b)
///     }
///     fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
///         f(&format!("{prefix}a"), &self.a);
///         f(&format!("{prefix}b"), &self.b);
///     }
///     fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
///         f(&mut self.b); // not visit's order
///         f(&mut self.a);
///     }
/// }
/// let mut layer = Affine { a: dmatrix![2.0], b: dmatrix![1.0] };
/// let err = check_visit_order(&mut layer).unwrap_err();
/// assert!(matches!(err, NnError::InvalidConfig { .. }));
/// assert!(err.to_string().contains("parameter a"));
/// ```
pub fn check_visit_order<T: MatScalar, M: Layer<T> + ?Sized>(model: &mut M) -> Result<(), NnError> {
    check_param_order(model)?;
    let mut named = Vec::new();
    model.visit("", &mut |_, p| named.push(key(p)));
    let mut listed = Vec::new();
    model.visit_params(&mut |p| listed.push(key(p)));
    if let Some(k) = first_difference(&named, &listed) {
        return Err(disorder(model, "parameter", k, "visit_params", "visit"));
    }
    check_state_order(model)
}

/// The parameters' part of [`check_visit_order`]: [`Layer::visit_mut`] against
/// [`Layer::visit_params`], the two orders every training step reads and writes in (no names
/// formatted).
///
/// The mutable traversal goes first: a [`Checkpoint`](crate::Checkpoint) whose layer a live
/// recording still shares copies it there (copy on write), and the shared traversal after it
/// then lists the copy, as the write that follows the check will.
pub(crate) fn check_param_order<T: MatScalar, M: Layer<T> + ?Sized>(
    model: &mut M,
) -> Result<(), NnError> {
    let mut written = Vec::new();
    model.visit_mut(&mut |p| written.push(key_mut(p)));
    let mut listed = Vec::with_capacity(written.len());
    model.visit_params(&mut |p| listed.push(key(p)));
    match first_difference(&listed, &written) {
        Some(k) => Err(disorder(model, "parameter", k, "visit_mut", "visit_params")),
        None => Ok(()),
    }
}

/// The state's part of [`check_visit_order`]: [`Layer::visit_state_mut`] against
/// [`Layer::visit_state`] (the mutable traversal first, as in [`check_param_order`]), the
/// orders a training step checks new state values in and sets them in.
pub(crate) fn check_state_order<T: MatScalar, M: Layer<T> + ?Sized>(
    model: &mut M,
) -> Result<(), NnError> {
    let mut written = Vec::new();
    model.visit_state_mut(&mut |p| written.push(key_mut(p)));
    let mut listed = Vec::with_capacity(written.len());
    model.visit_state("", &mut |_, p| listed.push(key(p)));
    match first_difference(&listed, &written) {
        Some(k) => Err(disorder(
            model,
            "state matrix",
            k,
            "visit_state_mut",
            "visit_state",
        )),
        None => Ok(()),
    }
}

/// A matrix's identity through a mutable borrow (its address, as [`key`]).
fn key_mut<T>(p: &mut DMatrix<T>) -> usize {
    key(&*p)
}

/// The first position where two listings differ (a missing entry included).
fn first_difference(a: &[usize], b: &[usize]) -> Option<usize> {
    a.iter()
        .zip(b)
        .position(|(x, y)| x != y)
        .or((a.len() != b.len()).then(|| a.len().min(b.len())))
}

/// The error for matrix `k` of a `what` listing, `traversal` disagreeing with `reference`.
fn disorder<T: MatScalar, M: Layer<T> + ?Sized>(
    model: &M,
    what: &str,
    k: usize,
    traversal: &str,
    reference: &str,
) -> NnError {
    let name = if what == "parameter" {
        param_names(model).get(k).cloned()
    } else {
        let mut names = Vec::new();
        model.visit_state("", &mut |name, _| names.push(name.to_string()));
        names.get(k).cloned()
    };
    NnError::InvalidConfig {
        name: "model",
        reason: format!(
            "`{traversal}` does not list the same {what} as `{reference}` at position {k} \
             ({what} {}): a layer must list the same matrices in the same order in `visit`, \
             `visit_params` and `visit_mut` (and in `visit_state` and `visit_state_mut`), or \
             values would be written into the wrong matrices",
            name.as_deref()
                .unwrap_or("past the end of the shorter listing")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::first_difference;

    #[test]
    fn listings_differ_at_a_swap_or_where_one_ends() {
        assert_eq!(first_difference(&[1, 2, 3], &[1, 2, 3]), None);
        assert_eq!(first_difference(&[1, 2, 3], &[1, 3, 2]), Some(1));
        assert_eq!(first_difference(&[1, 2], &[1, 2, 3]), Some(2));
        assert_eq!(first_difference(&[], &[]), None);
    }
}
