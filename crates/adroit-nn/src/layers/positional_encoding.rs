//! [`PositionalEncoding`]: the transformer's sinusoidal encoding of each step's position,
//! added to the step.

use super::padding::{
    check_mask_value, check_step_features, real_steps, steps_and_batch, whole_steps,
};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Adds to each step of a sequence the sinusoidal encoding of its position (Vaswani et al.
/// 2017, §3.5; the `PositionalEncoding` of PyTorch's transformer tutorial, without its
/// dropout): step `t`'s features `2i` and `2i + 1` get
///
/// ```text
/// PE(t, 2i) = sin(t / 10000^(2i/dim)),    PE(t, 2i + 1) = cos(t / 10000^(2i/dim))
/// ```
///
/// (an odd `dim`'s last feature gets the sine alone), so that attention, which treats the
/// steps as a set, can tell them apart. The encoding is computed in `f64` and rounded to the
/// element type; it has no parameters, and the gradient passes through unchanged. The input
/// is often an [`Embedding`](crate::Embedding)'s output, which Vaswani et al. scale by
/// `√dim` first.
///
/// With [`masking`](Self::masking), padding steps (every feature equal to the mask value)
/// are left as they are, so that the layers after it still find them; the real steps are
/// encoded by their index in the batch's steps, as PyTorch and Keras encode them: a sequence
/// padded at the end is encoded as it would be alone, one padded at the start or in the
/// middle is not (its later steps keep their place in the batch).
///
/// Shapes: `x` and the output are `(dim·steps) × batch`, rows `t·dim .. (t + 1)·dim` step
/// `t`, as for [`MultiHeadAttention`](crate::MultiHeadAttention).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::{Layer, PositionalEncoding};
/// let encoding = PositionalEncoding::new(4).unwrap();
/// // 3 steps of 4 features, one sequence of zeros: the encoding itself.
/// let pe = Layer::<f64>::predict(&encoding, &DMatrix::zeros(12, 1)).unwrap();
/// assert_eq!((pe[0], pe[1], pe[2], pe[3]), (0.0, 1.0, 0.0, 1.0)); // t = 0
/// assert_eq!(pe[4], 1f64.sin()); // t = 1, i = 0
/// assert!((pe[7] - 0.01f64.cos()).abs() < 1e-15); // t = 1, i = 1: 10000^(2/4) = 100
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PositionalEncoding {
    dim: usize,
    /// Steps whose every feature equals this value are padding, left as they are
    /// ([`PositionalEncoding::masking`]); `None`: every step is encoded.
    pub mask_value: Option<f64>,
}

impl PositionalEncoding {
    /// The encoding of steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `dim` is 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{NnError, PositionalEncoding};
    /// assert_eq!(PositionalEncoding::new(8).unwrap().dim(), 8);
    /// assert!(matches!(PositionalEncoding::new(0), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(dim: usize) -> Result<Self, NnError> {
        check_step_features("PositionalEncoding", dim)?;
        Ok(Self {
            dim,
            mask_value: None,
        })
    }

    /// The same encoding leaving padding steps, those whose every feature equals
    /// `mask_value`, as they are (see [`Layer::mask_value`] for the rule; a value that is not finite is refused
    /// by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Layer, PositionalEncoding};
    /// let encoding = PositionalEncoding::new(1).unwrap().masking(-1.0);
    /// // Sequences (0, 0, 0) and (0, 0) padded with −1: PE(t, 0) = sin t on the real steps.
    /// let y = encoding.predict(&dmatrix![0.0, 0.0; 0.0, 0.0; 0.0, -1.0]).unwrap();
    /// let (one, two) = (1f64.sin(), 2f64.sin());
    /// assert_eq!(y, dmatrix![0.0, 0.0; one, one; two, -1.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The features of a step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::PositionalEncoding;
    /// assert_eq!(PositionalEncoding::new(6).unwrap().dim(), 6);
    /// ```
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// `PE(t, k)` in `f64`.
    fn encoding(&self, t: usize, k: usize) -> f64 {
        let pair = (k - k % 2) as f64;
        let angle = t as f64 / 10_000f64.powf(pair / self.dim as f64);
        if k.is_multiple_of(2) {
            angle.sin()
        } else {
            angle.cos()
        }
    }
}

impl<T: MatScalar> Layer<T> for PositionalEncoding {
    /// `x` with each real step's encoding added, `(dim·steps) × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features ([`Layer::predict`] and the other
    /// entry points report it as an error first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        let dim = self.dim;
        let (steps, batch) = steps_and_batch("PositionalEncoding", &x, dim);
        let value = |r: usize| T::from_f64(self.encoding(r / dim, r % dim)).unwrap_or_else(T::zero);
        let real = real_steps(&x, dim, self.mask_value);
        let added = match real {
            // Zero at padding steps.
            Some(real) => DMatrix::from_fn(dim * steps, batch, |r, b| {
                if real[(r / dim, b)] {
                    value(r)
                } else {
                    T::zero()
                }
            }),
            // One column, broadcast over the batch.
            None => DMatrix::from_fn(dim * steps, 1, |r, _| value(r)),
        };
        x + MatVar::constant(added)
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn visit_params<'a>(&'a self, _: &mut dyn FnMut(&'a DMatrix<T>)) {}

    fn preserves_size(&self) -> bool {
        true
    }

    /// `input` itself, if its rows are whole steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        whole_steps("PositionalEncoding input", input, self.dim)
    }

    /// The value given to [`masking`](PositionalEncoding::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// The mask value must be finite and one the element type keeps.
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("PositionalEncoding", self.mask_value)
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The encoding holds no numbers of the element type: it is its own cast.
impl Cast for PositionalEncoding {
    type Output<U: MatScalar> = PositionalEncoding;

    fn cast<U: MatScalar>(&self) -> Result<PositionalEncoding, NnError> {
        Ok(*self)
    }
}
