//! [`GlobalPool1d`] ([`GlobalAvgPool1d`], [`GlobalMaxPool1d`]): a sequence's steps reduced to
//! one vector.

use super::padding::{
    check_mask_value, check_step_features, real_steps, replace_padding, steps_and_batch,
    whole_steps,
};
use super::pool::{Max, Mean, PoolReduction};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use core::marker::PhantomData;
use nalgebra::DMatrix;

/// Each sequence's steps reduced by `R`, feature by feature: one vector per sequence, for a
/// classifier or regressor on whole sequences — [`GlobalAvgPool1d`] (the mean) after a
/// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer) or a recurrent layer's states,
/// [`GlobalMaxPool1d`] (the maximum, "max-over-time" pooling as in Kim 2014's convolutional
/// sentence classifier) after [`Conv1d`](crate::Conv1d) layers.
///
/// With [`masking`](Self::masking) the reduction is over each sequence's real steps only
/// (steps whose every feature equals the mask value are left out), so a padded sequence gives
/// what it gives alone; a sequence of padding alone gives zeros. Ties of the maximum share the
/// gradient equally ([`Max`]); padding is filled with `−∞` for the maximum, so a real entry of
/// `−∞` that is its line's maximum shares its gradient with the padding too (the one case
/// where a padded sequence's gradient differs from its gradient alone).
///
/// Shapes: `x` is `(dim·steps) × batch` (rows `t·dim .. (t + 1)·dim` step `t`, as for the
/// sequence layers), the output `dim × batch`. No steps give zeros. No parameters. A
/// [`Chain`](crate::Chain) checks only that the rows are whole steps of `dim` features (a
/// layer before it giving steps of another size whose rows happen to divide is not caught):
/// make `dim` the features of a step of the layer before.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{GlobalAvgPool1d, GlobalMaxPool1d, Layer};
/// // One sequence of 3 steps of 2 features: (1, 60), (2, 20), (6, 10).
/// let x = dmatrix![1.0; 60.0; 2.0; 20.0; 6.0; 10.0];
/// assert_eq!(GlobalAvgPool1d::new(2).unwrap().predict(&x).unwrap(), dmatrix![3.0; 30.0]);
/// assert_eq!(GlobalMaxPool1d::new(2).unwrap().predict(&x).unwrap(), dmatrix![6.0; 60.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalPool1d<R> {
    dim: usize,
    /// Steps whose every feature equals this value are padding, left out
    /// ([`GlobalPool1d::masking`]); `None`: every step counts.
    pub mask_value: Option<f64>,
    reduction: PhantomData<R>,
}

/// The mean of each sequence's steps: Keras's `GlobalAveragePooling1D` (which skips masked
/// steps), PyTorch's `x.mean(dim=1)` on a `(batch, steps, dim)` tensor.
pub type GlobalAvgPool1d = GlobalPool1d<Mean>;

/// The maximum of each sequence's steps: Keras's `GlobalMaxPooling1D`, PyTorch's
/// `x.amax(dim=-1)` on an `(N, C, L)` tensor.
pub type GlobalMaxPool1d = GlobalPool1d<Max>;

impl<R: PoolReduction> GlobalPool1d<R> {
    /// The reduction over steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `dim` is 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{GlobalAvgPool1d, GlobalMaxPool1d, NnError};
    /// assert_eq!(GlobalAvgPool1d::new(8).unwrap().dim(), 8);
    /// assert!(matches!(GlobalMaxPool1d::new(0), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(dim: usize) -> Result<Self, NnError> {
        check_step_features(R::GLOBAL_NAME, dim)?;
        Ok(Self {
            dim,
            mask_value: None,
            reduction: PhantomData,
        })
    }

    /// The same reduction over the real steps alone: steps whose every feature equals
    /// `mask_value` are left out (see [`Layer::mask_value`] for the rule; a value that is not
    /// finite is refused by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{GlobalAvgPool1d, GlobalMaxPool1d, Layer};
    /// // Sequences (1, 2, 6) and (4, 8) padded with −1, and padding alone.
    /// let x = dmatrix![1.0, 4.0, -1.0; 2.0, 8.0, -1.0; 6.0, -1.0, -1.0];
    /// let mean = GlobalAvgPool1d::new(1).unwrap().masking(-1.0);
    /// assert_eq!(mean.predict(&x).unwrap(), dmatrix![3.0, 6.0, 0.0]);
    /// let max = GlobalMaxPool1d::new(1).unwrap().masking(-1.0);
    /// assert_eq!(max.predict(&x).unwrap(), dmatrix![6.0, 8.0, 0.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The features of a step (and of the output).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::GlobalMaxPool1d;
    /// assert_eq!(GlobalMaxPool1d::new(6).unwrap().dim(), 6);
    /// ```
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl<T: MatScalar, R: PoolReduction> Layer<T> for GlobalPool1d<R> {
    /// Each sequence's (real) steps reduced, `dim × batch`, for `x`: `(dim·steps) × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features ([`Layer::predict`] and the other
    /// entry points report it as an error first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        let dim = self.dim;
        let (steps, batch) = steps_and_batch(R::GLOBAL_NAME, &x, dim);
        if steps == 0 || batch == 0 {
            return MatVar::constant(DMatrix::zeros(dim, batch));
        }
        let real = real_steps(&x, dim, self.mask_value);
        // Padding entries as the reduction's fill (0 for a mean, −∞ for a maximum).
        let x = match &real {
            Some(real) => replace_padding(x, real, dim, R::fill()),
            None => x,
        };
        // batch × (dim·steps), read as (batch·dim) × steps (entry (b + batch·i, t) feature i
        // of step t of sequence b), transposed: each column one feature of one sequence.
        let lines = x.transpose().reshape(batch * dim, steps).transpose();
        let y = R::reduce(lines).reshape(batch, dim).transpose();
        let Some(real) = real else {
            return y;
        };
        // Over the real steps: the mean rescaled to their count; padding alone gives zeros.
        let counts: Vec<usize> = (real.column_iter())
            .map(|c| c.iter().filter(|&&r| r).count())
            .collect();
        let factors =
            DMatrix::from_fn(dim, batch, |_, b| R::over_real_steps::<T>(steps, counts[b]));
        let some = DMatrix::from_fn(dim, batch, |_, b| counts[b] > 0);
        let zero = MatVar::constant(DMatrix::zeros(1, 1));
        MatVar::select(&some, y.component_mul(MatVar::constant(factors)), zero)
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn visit_params<'a>(&'a self, _: &mut dyn FnMut(&'a DMatrix<T>)) {}

    /// `dim`, whatever the number of steps.
    fn output_size(&self) -> Option<usize> {
        Some(self.dim)
    }

    /// `dim`, if `input` rows are whole steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        whole_steps(R::GLOBAL_NAME, input, self.dim).map(|_| Some(self.dim))
    }

    /// The value given to [`masking`](GlobalPool1d::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// The mask value must be one the element type keeps (finite).
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>(R::GLOBAL_NAME, self.mask_value)
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The pool holds no numbers of the element type: it is its own cast.
impl<R: PoolReduction> Cast for GlobalPool1d<R> {
    type Output<U: MatScalar> = GlobalPool1d<R>;

    fn cast<U: MatScalar>(&self) -> Result<GlobalPool1d<R>, NnError> {
        Ok(*self)
    }
}
