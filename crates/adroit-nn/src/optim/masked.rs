//! [`Masked`]: a rule applied to some of the parameters only (Optax's `masked`), and [`mask`],
//! which selects parameters by name.

use super::Optimizer;
use crate::{Layer, NnError};
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// One flag per parameter of `model`, in its visiting order (the order of
/// [`params`](crate::params), [`Optimizer::update`]'s arrays and the weight files):
/// `select(name, parameter)` for each. Names are [`params`](crate::params)' names, e.g.
/// `layers.0.weight`, `layers.0.bias`, `layers.2.scale` for a [`Chain`](crate::Chain) of a
/// `Dense` and a `LayerNorm`.
///
/// The usual weight-decay mask — decay the weight matrices, not the biases and `LayerNorm`
/// gains — is `mask(&model, |name, _| name.ends_with("weight"))` (Optax's common
/// `lambda p: p.ndim > 1` would also exclude the weight of a `Dense` with one input, an
/// `out × 1` matrix here).
///
/// # Example
/// ```
/// use adroit_nn::optim::mask;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, LayerNorm};
/// let mut rng = StdRng::seed_from_u64(0);
/// let model: Chain<f32> = Chain::new()
///     .push(Dense::new(3, 4, Activation::Relu, &mut rng))
///     .push(LayerNorm::new(4));
/// let decay = mask(&model, |name, _| name.ends_with("weight"));
/// assert_eq!(decay, [true, false, false, false]); // weight, bias, scale, bias
/// ```
pub fn mask<T, M, F>(model: &M, mut select: F) -> Vec<bool>
where
    T: MatScalar,
    M: Layer<T> + ?Sized,
    F: FnMut(&str, &DMatrix<T>) -> bool,
{
    let mut flags = Vec::new();
    model.visit("", &mut |name, p| flags.push(select(name, p)));
    flags
}

/// `inner` applied to the parameters whose mask entry is `true`; the other parameters'
/// updates pass through unchanged (Optax's `masked`; the role of PyTorch's parameter groups).
/// `inner` sees only the selected arrays, so its state (moments, step count) is kept for them
/// alone, and a rule that reads the parameters (weight decay) reads the selected ones.
///
/// Typical use: weight decay on the weight matrices only,
/// `chain(Masked::new(WeightDecay::new(λ), decay), rule)` with `decay` from [`mask`]; for
/// AdamW's and Lion's own decay, [`AdamW::with_decay_mask`](super::AdamW::with_decay_mask)
/// and [`Lion::with_decay_mask`](super::Lion::with_decay_mask) (Optax's `mask` argument). A
/// parameter outside the mask of a rule that produces the step (`Masked::new(Adam::new(η),
/// …)` alone) gets its gradient as its update, `θ ← θ + g`, as in Optax: chain a rule for the
/// others, or freeze them with a mask on the whole chain and zeroed gradients.
///
/// # Panics
/// In [`update`](Optimizer::update), if the mask does not have one entry per parameter
/// (a programmer error: build it from the model with [`mask`]), and as `inner`'s `update`.
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
pub struct Masked<O> {
    inner: O,
    mask: Vec<bool>,
}

impl<O> Masked<O> {
    /// `inner` on the parameters `k` with `mask[k]` (one entry per parameter, in the model's
    /// visiting order: see [`mask`]).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{Masked, WeightDecay};
    /// let decay_weights_only = Masked::new(WeightDecay::new(1e-4), vec![true, false]);
    /// assert_eq!(decay_weights_only.mask(), [true, false]);
    /// ```
    pub fn new(inner: O, mask: Vec<bool>) -> Self {
        Self { inner, mask }
    }

    /// The mask: one entry per parameter, `true` where `inner` applies.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{Descent, Masked};
    /// assert_eq!(Masked::new(Descent::new(0.1), vec![false, true]).mask(), [false, true]);
    /// ```
    pub fn mask(&self) -> &[bool] {
        &self.mask
    }
}

/// Panics unless `mask` has one entry per update (`rule`: the owner, for the message).
#[track_caller]
pub(crate) fn check_mask_len(rule: &str, mask: &[bool], n_params: usize) {
    assert_eq!(
        mask.len(),
        n_params,
        "{rule}: the mask has {} entries for {n_params} parameters (one per parameter, in the \
         model's visiting order: build it with optim::mask)",
        mask.len()
    );
}

impl<T: MatScalar, O: Optimizer<T>> Optimizer<T> for Masked<O> {
    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        check_mask_len("Masked", &self.mask, updates.len());
        let selected: Vec<usize> = (0..updates.len()).filter(|&k| self.mask[k]).collect();
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

    fn check_config(&self) -> Result<(), NnError> {
        self.inner.check_config()
    }
}

/// Whether each of `n_params` parameters is decayed under an optional decay mask (all of them
/// without one).
///
/// # Panics
/// If the mask does not have `n_params` entries (`rule`: the owner, for the message).
#[track_caller]
pub(crate) fn decayed(
    mask: Option<&[bool]>,
    rule: &str,
    n_params: usize,
) -> impl Iterator<Item = bool> {
    if let Some(mask) = mask {
        check_mask_len(rule, mask, n_params);
    }
    (0..n_params).map(move |k| mask.is_none_or(|m| m[k]))
}
