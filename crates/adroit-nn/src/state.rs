//! [`StateUpdates`]: the new values of a model's state matrices (running statistics) that a
//! training-mode forward pass proposed.

use crate::layer::key;
use crate::visit_order::check_state_order;
use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// The new values a forward pass proposed for a model's state matrices (those its layers list
/// in [`Layer::visit_state`], e.g. a [`BatchNorm`](crate::BatchNorm)'s running statistics),
/// one slot per state matrix in visiting order; what
/// [`gradient_with_state`](crate::gradient_with_state) returns for a training loop of your
/// own, to [`apply`](Self::apply) after the optimiser's step. ([`train_step`](crate::train_step)
/// and [`train`](crate::train()) apply them themselves.)
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::{BatchNorm, Layer, Mode, gradient_with_state};
/// let mut bn = BatchNorm::<f64>::new(1);
/// let x = dmatrix![1.0, 3.0]; // 1 feature × 2 samples: batch mean 2, unbiased variance 2
/// let (_, _grads, state) = gradient_with_state(&bn, Mode::Train, 0, |m, ctx| {
///     Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
/// })
/// .unwrap();
/// assert_eq!(state.len(), 2); // running mean and variance
/// state.apply(&mut bn).unwrap();
/// // momentum 0.1: 0.9·0 + 0.1·2 and 0.9·1 + 0.1·2
/// assert!((bn.running_mean[0] - 0.2).abs() < 1e-15 && (bn.running_var[0] - 1.1).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct StateUpdates<T: MatScalar> {
    /// Per state matrix in visiting order: its name and its new value, if one was proposed.
    slots: Vec<(String, Option<DMatrix<T>>)>,
}

impl<T: MatScalar> StateUpdates<T> {
    /// Matches proposals keyed by address (from [`crate::Context::update_state`]) to `model`'s
    /// state matrices.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for a proposal naming a matrix the model does not list in
    /// `visit_state` (a layer's `visit_state` missing it: it would never be set or saved), and
    /// [`NnError::ShapeMismatch`] for a proposal of another shape than its matrix.
    pub(crate) fn collect<M: Layer<T> + ?Sized>(
        model: &M,
        proposals: Vec<(usize, DMatrix<T>)>,
    ) -> Result<Self, NnError> {
        if proposals.is_empty() {
            // Nothing to set (a model without state, or a pass in evaluation): no names are
            // formed, which every training step of such a model would pay for.
            return Ok(Self { slots: Vec::new() });
        }
        let mut listed = Vec::new();
        model.visit_state("", &mut |name, m| {
            listed.push((name.to_string(), key(m), m.shape()))
        });
        let mut slots: Vec<(String, Option<DMatrix<T>>)> = listed
            .iter()
            .map(|(name, _, _)| (name.clone(), None))
            .collect();
        for (k, value) in proposals {
            let Some(i) = listed.iter().position(|(_, p, _)| *p == k) else {
                return Err(NnError::InvalidConfig {
                    name: "model",
                    reason: "the forward pass proposed a new value (`ctx.update_state`) for a \
                             matrix the model does not list as state (a layer's `visit_state` \
                             and `visit_state_mut` must list every one, or it would never be \
                             set or saved)"
                        .into(),
                });
            };
            let (name, _, shape) = &listed[i];
            if value.shape() != *shape {
                return Err(NnError::ShapeMismatch {
                    what: format!("the new value proposed for state {name}"),
                    expected: *shape,
                    found: value.shape(),
                });
            }
            slots[i].1 = Some(value);
        }
        Ok(Self { slots })
    }

    /// The number of state matrices given a new value.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::{BatchNorm, Layer, Mode, gradient_with_state};
    /// let bn = BatchNorm::<f64>::new(1);
    /// // In evaluation the running statistics are only read.
    /// let (_, _, state) = gradient_with_state(&bn, Mode::Eval, 0, |m, ctx| {
    ///     Ok(m.forward(MatVar::constant(dmatrix![1.0, 3.0]), ctx).sum())
    /// })
    /// .unwrap();
    /// assert_eq!(state.len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|(_, v)| v.is_some()).count()
    }

    /// True when no state matrix is given a new value.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::{Activation, Dense, Layer, Mode, gradient_with_state};
    /// let dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// let (_, _, state) = gradient_with_state(&dense, Mode::Train, 0, |m, ctx| {
    ///     Ok(m.forward(MatVar::constant(dmatrix![1.0]), ctx).sum())
    /// })
    /// .unwrap();
    /// assert!(state.is_empty()); // a dense layer has no state
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The name and new value of each state matrix given one, in visiting order.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::{BatchNorm, Layer, Mode, gradient_with_state};
    /// let bn = BatchNorm::<f64>::new(1);
    /// let (_, _, state) = gradient_with_state(&bn, Mode::Train, 0, |m, ctx| {
    ///     Ok(m.forward(MatVar::constant(dmatrix![1.0, 3.0]), ctx).sum())
    /// })
    /// .unwrap();
    /// let names: Vec<&str> = state.iter().map(|(name, _)| name).collect();
    /// assert_eq!(names, ["running_mean", "running_var"]);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&str, &DMatrix<T>)> {
        self.slots
            .iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| (name.as_str(), v)))
    }

    /// Refuses a non-finite new value, naming the state matrix and entry (a training step
    /// keeps the last good state, as it keeps the last good parameters).
    fn check_finite(&self) -> Result<(), NnError> {
        for (name, value) in self.iter() {
            if let Some(k) = value.iter().position(|v| !v.is_finite()) {
                return Err(NnError::NonFinite {
                    epoch: 0,
                    batch: 0,
                    what: format!(
                        "state {name}, entry ({}, {}), would become {}",
                        k % value.nrows(),
                        k / value.nrows(),
                        value[k]
                    ),
                });
            }
        }
        Ok(())
    }

    /// Sets each state matrix of `model` given a new value (the model the forward pass ran:
    /// the same layers, in the same order).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `model` lists another number of state matrices than the
    /// model these values came from, or lists them in another order through
    /// [`Layer::visit_state_mut`] than through [`Layer::visit_state`] (see
    /// [`check_visit_order`](crate::check_visit_order); neither is checked when there are no
    /// values: then nothing is set); [`NnError::ShapeMismatch`] naming a state matrix of
    /// another shape; [`NnError::NonFinite`] naming a NaN or infinite new value (the model's
    /// state is then kept, as a training step keeps its last good parameters). Checked before
    /// anything is set: on error the model is unchanged.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::{BatchNorm, Dense, Activation, Layer, Mode, NnError, gradient_with_state};
    /// let bn = BatchNorm::<f64>::new(1);
    /// let (_, _, state) = gradient_with_state(&bn, Mode::Train, 0, |m, ctx| {
    ///     Ok(m.forward(MatVar::constant(dmatrix![1.0, 3.0]), ctx).sum())
    /// })
    /// .unwrap();
    /// // Values for a batch-normalisation layer do not fit a dense layer (no state).
    /// let mut dense = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
    /// assert!(matches!(state.apply(&mut dense), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn apply<M: Layer<T> + ?Sized>(self, model: &mut M) -> Result<(), NnError> {
        self.check_for(model)?;
        self.set(model);
        Ok(())
    }

    /// [`apply`](Self::apply)'s checks alone (nothing set): `model` lists as many state
    /// matrices of the same shapes, and every new value is finite. A training step runs them
    /// before it changes the parameters, and [`set`](Self::set) after.
    pub(crate) fn check_for<M: Layer<T> + ?Sized>(&self, model: &mut M) -> Result<(), NnError> {
        if self.is_empty() {
            return Ok(()); // nothing to set, whatever the model
        }
        // Checked in `visit_state`'s order, set in `visit_state_mut`'s.
        check_state_order(model)?;
        let mut shapes = Vec::new();
        model.visit_state("", &mut |name, m| {
            shapes.push((name.to_string(), m.shape()))
        });
        if shapes.len() != self.slots.len() {
            return Err(NnError::InvalidConfig {
                name: "state",
                reason: format!(
                    "the values are for a model with {} state matrices, this one has {}",
                    self.slots.len(),
                    shapes.len()
                ),
            });
        }
        for ((name, shape), (_, value)) in shapes.iter().zip(&self.slots) {
            if let Some(value) = value
                && value.shape() != *shape
            {
                return Err(NnError::ShapeMismatch {
                    what: format!("the new value for state {name}"),
                    expected: *shape,
                    found: value.shape(),
                });
            }
        }
        self.check_finite()
    }

    /// Sets each state matrix given a new value, without [`check_for`](Self::check_for)'s
    /// checks (run them first).
    pub(crate) fn set<M: Layer<T> + ?Sized>(self, model: &mut M) {
        if self.is_empty() {
            return;
        }
        let mut next = self.slots.into_iter();
        model.visit_state_mut(&mut |m| {
            if let Some((_, Some(value))) = next.next() {
                *m = value;
            }
        });
    }
}
