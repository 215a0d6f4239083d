//! An [`Activation`] on its own as a layer, as Flux's `Chain(Dense(2 => 3), softmax)`.

use crate::{Activation, Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// An activation is a layer without parameters: [`Activation::apply`] on the whole
/// `features × batch` input (Softmax and LogSoftmax down each column, the others entry by
/// entry), the same in training and evaluation.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Chain, Dense, Layer};
/// // Flux's Chain(Dense(2 => 2), softmax): class probabilities down each column.
/// let dense = Dense::from_parts(dmatrix![1.0, 0.0; 0.0, 1.0], None, Activation::Identity).unwrap();
/// let model = Chain::<f64>::new().push(dense).push(Activation::Softmax);
/// let p = model.predict(&dmatrix![0.0, 3.0; 0.0, 1.0]).unwrap();
/// assert_eq!(p.column(0).sum(), 1.0);
/// assert_eq!(p[(0, 0)], 0.5); // equal logits
/// assert!(p[(0, 1)] > p[(1, 1)]);
/// ```
impl<T: MatScalar> Layer<T> for Activation {
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        self.apply(x)
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn visit_params<'a>(&'a self, _: &mut dyn FnMut(&'a DMatrix<T>)) {}

    fn preserves_size(&self) -> bool {
        true
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// An activation holds no numbers of the element type: it is its own cast.
impl Cast for Activation {
    type Output<U: MatScalar> = Activation;

    fn cast<U: MatScalar>(&self) -> Result<Activation, NnError> {
        Ok(*self)
    }
}
