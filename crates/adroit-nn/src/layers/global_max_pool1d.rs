//! [`GlobalMaxPool1d`]: the maximum of a sequence's steps.

use super::padding::{
    check_mask_value, check_step_features, real_steps, steps_and_batch, whole_steps,
};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// The maximum of each sequence's steps, feature by feature ("max-over-time" pooling, as in
/// Kim 2014's convolutional sentence classifier): one vector per sequence, for a head after
/// [`Conv1d`](crate::Conv1d) layers — Keras's `GlobalMaxPooling1D`, PyTorch's
/// `x.amax(dim=-1)` on an `(N, C, L)` tensor.
///
/// With [`masking`](Self::masking) the maximum is over each sequence's real steps only (steps
/// whose every feature equals the mask value are left out), so a padded sequence gives what
/// it gives alone; a sequence of padding alone gives zeros. Ties share the gradient equally
/// ([`MatVar::max_along`]'s convention; PyTorch's `amax` does the same).
///
/// Shapes: `x` is `(dim·steps) × batch` (rows `t·dim .. (t + 1)·dim` step `t`, as for the
/// sequence layers), the output `dim × batch`. No steps give zeros. No parameters. A
/// [`Chain`](crate::Chain) checks only that the rows are whole steps of `dim` features.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{GlobalMaxPool1d, Layer};
/// let pool = GlobalMaxPool1d::new(2).unwrap();
/// // One sequence of 3 steps of 2 features: (1, 60), (7, 20), (6, 10).
/// let y = pool.predict(&dmatrix![1.0; 60.0; 7.0; 20.0; 6.0; 10.0]).unwrap();
/// assert_eq!(y, dmatrix![7.0; 60.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GlobalMaxPool1d {
    dim: usize,
    /// Steps whose every feature equals this value are padding, left out of the maximum
    /// ([`GlobalMaxPool1d::masking`]); `None`: every step counts.
    pub mask_value: Option<f64>,
}

impl GlobalMaxPool1d {
    /// The maximum over steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `dim` is 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{GlobalMaxPool1d, NnError};
    /// assert_eq!(GlobalMaxPool1d::new(8).unwrap().dim(), 8);
    /// assert!(matches!(GlobalMaxPool1d::new(0), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(dim: usize) -> Result<Self, NnError> {
        check_step_features("GlobalMaxPool1d", dim)?;
        Ok(Self {
            dim,
            mask_value: None,
        })
    }

    /// The same maximum over the real steps alone: steps whose every feature equals
    /// `mask_value` are left out (see [`Layer::mask_value`] for the rule; a value that is not
    /// finite is refused by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{GlobalMaxPool1d, Layer};
    /// let pool = GlobalMaxPool1d::new(1).unwrap().masking(9.0);
    /// // Sequences (1, 2, 6) and (4, 3) padded with 9, and padding alone.
    /// let y = pool.predict(&dmatrix![1.0, 4.0, 9.0; 2.0, 3.0, 9.0; 6.0, 9.0, 9.0]).unwrap();
    /// assert_eq!(y, dmatrix![6.0, 4.0, 0.0]);
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

impl<T: MatScalar> Layer<T> for GlobalMaxPool1d {
    /// The maximum of each sequence's (real) steps, `dim × batch`, for `x`: `(dim·steps) ×
    /// batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features ([`Layer::predict`] and the other
    /// entry points report it as an error first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        let dim = self.dim;
        let (steps, batch) = steps_and_batch("GlobalMaxPool1d", &x, dim);
        if steps == 0 || batch == 0 {
            return MatVar::constant(DMatrix::zeros(dim, batch));
        }
        let real = real_steps(&x, dim, self.mask_value);
        // Padding entries as −∞, below every real one.
        let x = match &real {
            Some(real) => {
                let kept = DMatrix::from_fn(dim * steps, batch, |r, b| real[(r / dim, b)]);
                let below = MatVar::constant(DMatrix::from_element(1, 1, T::neg_infinity()));
                MatVar::select(&kept, x, below)
            }
            None => x,
        };
        // batch × (dim·steps), read as (batch·dim) × steps (entry (b + batch·i, t) feature i
        // of step t of sequence b), reduced over the steps.
        let y = x
            .transpose()
            .reshape(batch * dim, steps)
            .max_along(Along::Cols)
            .reshape(batch, dim)
            .transpose();
        match real {
            // A sequence of padding alone: zeros, not −∞.
            Some(real) => {
                let any = DMatrix::from_fn(dim, batch, |_, b| real.column(b).iter().any(|&r| r));
                MatVar::select(&any, y, MatVar::constant(DMatrix::zeros(1, 1)))
            }
            None => y,
        }
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
        whole_steps("GlobalMaxPool1d input", input, self.dim).map(|_| Some(self.dim))
    }

    /// The value given to [`masking`](GlobalMaxPool1d::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// The mask value must be one the element type keeps (finite).
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("GlobalMaxPool1d", self.mask_value)
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The pool holds no numbers of the element type: it is its own cast.
impl Cast for GlobalMaxPool1d {
    type Output<U: MatScalar> = GlobalMaxPool1d;

    fn cast<U: MatScalar>(&self) -> Result<GlobalMaxPool1d, NnError> {
        Ok(*self)
    }
}
