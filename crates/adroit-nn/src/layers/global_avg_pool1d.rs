//! [`GlobalAvgPool1d`]: the mean of a sequence's steps.

use super::padding::{
    check_mask_value, check_step_features, real_steps, steps_and_batch, whole_steps,
};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// The mean of each sequence's steps, feature by feature: one vector per sequence, for a
/// classifier or regressor on whole sequences after a
/// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer) or every step's states of a
/// recurrent layer — Keras's `GlobalAveragePooling1D` (which skips masked steps), PyTorch's
/// `x.mean(dim=1)` on a `(batch, steps, dim)` tensor.
///
/// With [`masking`](Self::masking) the mean is over each sequence's real steps only (steps
/// whose every feature equals the mask value are left out), so a padded sequence gives what
/// it gives alone; a sequence of padding alone gives zeros.
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
/// use adroit_nn::{GlobalAvgPool1d, Layer};
/// let pool = GlobalAvgPool1d::new(2).unwrap();
/// // One sequence of 3 steps of 2 features: (1, 10), (2, 20), (6, 60).
/// let y = pool.predict(&dmatrix![1.0; 10.0; 2.0; 20.0; 6.0; 60.0]).unwrap();
/// assert_eq!(y, dmatrix![3.0; 30.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalAvgPool1d {
    dim: usize,
    /// Steps whose every feature equals this value are padding, left out of the mean
    /// ([`GlobalAvgPool1d::masking`]); `None`: every step counts.
    pub mask_value: Option<f64>,
}

impl GlobalAvgPool1d {
    /// The mean over steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `dim` is 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{GlobalAvgPool1d, NnError};
    /// assert_eq!(GlobalAvgPool1d::new(8).unwrap().dim(), 8);
    /// assert!(matches!(GlobalAvgPool1d::new(0), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(dim: usize) -> Result<Self, NnError> {
        check_step_features("GlobalAvgPool1d", dim)?;
        Ok(Self {
            dim,
            mask_value: None,
        })
    }

    /// The same mean over the real steps alone: steps whose every feature equals
    /// `mask_value` are left out (see [`Layer::mask_value`] for the rule; a value that is not finite is refused
    /// by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{GlobalAvgPool1d, Layer};
    /// let pool = GlobalAvgPool1d::new(1).unwrap().masking(-1.0);
    /// // Sequences (1, 2, 6) and (4, 8) padded with −1.
    /// let y = pool.predict(&dmatrix![1.0, 4.0; 2.0, 8.0; 6.0, -1.0]).unwrap();
    /// assert_eq!(y, dmatrix![3.0, 6.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The features of a step (and of the output).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::GlobalAvgPool1d;
    /// assert_eq!(GlobalAvgPool1d::new(6).unwrap().dim(), 6);
    /// ```
    pub fn dim(&self) -> usize {
        self.dim
    }
}

impl<T: MatScalar> Layer<T> for GlobalAvgPool1d {
    /// The mean of each sequence's (real) steps, `dim × batch`, for `x`: `(dim·steps) ×
    /// batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features ([`Layer::predict`] and the other
    /// entry points report it as an error first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        let dim = self.dim;
        let (steps, batch) = steps_and_batch("GlobalAvgPool1d", &x, dim);
        if steps == 0 || batch == 0 {
            return MatVar::constant(DMatrix::zeros(dim, batch));
        }
        let real = real_steps(&x, dim, self.mask_value);
        // Each entry weighed by 1/(its sequence's real steps), padding by 0.
        let weighted = match real {
            Some(real) => {
                let counts: Vec<usize> = real
                    .column_iter()
                    .map(|c| c.iter().filter(|&&r| r).count())
                    .collect();
                let weights = DMatrix::from_fn(dim * steps, batch, |r, b| {
                    match (real[(r / dim, b)], T::from_usize(counts[b])) {
                        (true, Some(n)) => T::one() / n,
                        _ => T::zero(),
                    }
                });
                x.component_mul(MatVar::constant(weights))
            }
            None => x * (T::one() / T::from_usize(steps).unwrap_or_else(T::one)),
        };
        // batch × (dim·steps), read as (batch·dim) × steps (entry (b + batch·i, t) feature i
        // of step t of sequence b), summed over the steps.
        let sums = weighted
            .transpose()
            .reshape(batch * dim, steps)
            .sum_along(Along::Cols);
        sums.reshape(batch, dim).transpose()
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
        whole_steps("GlobalAvgPool1d input", input, self.dim).map(|_| Some(self.dim))
    }

    /// The value given to [`masking`](GlobalAvgPool1d::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// The mask value must be one the element type keeps (finite).
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("GlobalAvgPool1d", self.mask_value)
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The pool holds no numbers of the element type: it is its own cast.
impl Cast for GlobalAvgPool1d {
    type Output<U: MatScalar> = GlobalAvgPool1d;

    fn cast<U: MatScalar>(&self) -> Result<GlobalAvgPool1d, NnError> {
        Ok(*self)
    }
}
