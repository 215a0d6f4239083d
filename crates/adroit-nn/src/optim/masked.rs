//! [`Masked`]: a rule applied to some of the parameters only (Optax's `masked`).

use super::{Mask, Optimizer};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// `inner` applied to the parameters whose mask entry is `true`; the other parameters'
/// updates pass through unchanged (Optax's `masked`; the role of PyTorch's parameter groups).
/// `inner` sees only the selected arrays, so its state (moments, step count) is kept for them
/// alone, and a rule that reads the parameters (weight decay) reads the selected ones.
///
/// Typical use: weight decay on the weight matrices only,
/// `chain(Masked::new(WeightDecay::new(λ), decay), rule)` with `decay` from
/// [`mask`](super::mask); for AdamW's and Lion's own decay,
/// [`AdamW::with_decay_mask`](super::AdamW::with_decay_mask) and
/// [`Lion::with_decay_mask`](super::Lion::with_decay_mask) (Optax's `mask` argument).
///
/// **Beware** a rule that produces the step itself (`Masked::new(Adam::new(η), …)`, a
/// `Descent`) with nothing chained for the other parameters: their updates are their
/// gradients, `θ ← θ + g`, a step *up* the loss, as in Optax. Chain a rule for the others
/// (`chain(Masked::new(a, m.clone()), Masked::new(b, !&m))`, each parameter in exactly one).
///
/// Nested masks: the rule inside sees only the selected parameters, so its own mask (AdamW's
/// decay mask, an inner `Masked`) has one flag per *selected* parameter — build it with
/// [`Mask::within`]. Optax indexes a nested mask over the whole model instead; such a mask
/// is refused here (its length differs), never misapplied.
///
/// # Errors and panics
/// [`check_params`](Optimizer::check_params) (called by [`step`](super::step),
/// [`train_step`](crate::train_step) and [`train`](crate::train()) before any change) refuses a
/// mask that does not fit the model ([`Mask::check`]); [`update`](Optimizer::update), called
/// directly, panics with the same message, and as `inner`'s `update`.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Descent, Masked, Optimizer, WeightDecay, chain};
/// // Decay the first array only: u = −η·(g + λθ) there, −η·g for the second.
/// let mut opt = chain(Masked::new(WeightDecay::new(0.5), vec![true, false]), Descent::new(0.1));
/// let (theta, bias) = (dmatrix![2.0], dmatrix![2.0]);
/// let mut updates = vec![dmatrix![1.0], dmatrix![1.0]];
/// opt.update(&mut updates, &[&theta, &bias]);
/// assert_eq!(updates, [dmatrix![-0.2], dmatrix![-0.1]]);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Masked<O> {
    inner: O,
    mask: Mask,
}

impl<O> Masked<O> {
    /// `inner` on the parameters whose flag in `mask` is `true` (one per parameter, in the
    /// model's visiting order: build it with [`mask`](super::mask), or from a `Vec<bool>`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{Masked, WeightDecay};
    /// let decay_weights_only = Masked::new(WeightDecay::new(1e-4), vec![true, false]);
    /// assert_eq!(decay_weights_only.mask().flags(), [true, false]);
    /// ```
    pub fn new(inner: O, mask: impl Into<Mask>) -> Self {
        Self {
            inner,
            mask: mask.into(),
        }
    }

    /// The mask: one flag per parameter, `true` where `inner` applies.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{Descent, Masked};
    /// let opt = Masked::new(Descent::new(0.1), vec![false, true]);
    /// assert_eq!(opt.mask().flags(), [false, true]);
    /// ```
    pub fn mask(&self) -> &Mask {
        &self.mask
    }
}

impl<T: MatScalar, O: Optimizer<T>> Optimizer<T> for Masked<O> {
    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.mask.assert_fits("Masked", updates);
        let flags = self.mask.flags();
        let selected: Vec<usize> = (0..updates.len()).filter(|&k| flags[k]).collect();
        // Move the selected arrays out (no copy), let `inner` rewrite them, move them back.
        let mut inner_updates: Vec<DMatrix<T>> = selected
            .iter()
            .map(|&k| std::mem::replace(&mut updates[k], DMatrix::zeros(0, 0)))
            .collect();
        let inner_params: Vec<&DMatrix<T>> = selected.iter().map(|&k| params[k]).collect();
        self.inner.update(&mut inner_updates, &inner_params);
        for (k, u) in selected.into_iter().zip(inner_updates) {
            updates[k] = u;
        }
    }

    fn undo_update(&mut self) {
        self.inner.undo_update();
    }

    fn check_config(&self) -> Result<(), NnError> {
        self.inner.check_config()
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.mask.check("Masked", shapes)?;
        let flags = self.mask.flags();
        let selected: Vec<(usize, usize)> = (shapes.iter().zip(flags))
            .filter_map(|(&s, &f)| f.then_some(s))
            .collect();
        self.inner.check_params(&selected).map_err(|e| match e {
            NnError::InvalidConfig { name, reason } => NnError::InvalidConfig {
                name,
                reason: format!(
                    "{reason} — inside Masked, whose rule sees only the {} parameters its mask \
                     selects (restrict an inner mask to them with Mask::within)",
                    selected.len()
                ),
            },
            other => other,
        })
    }
}
