//! [`Dense`]: a fully connected layer.

use crate::error::check_shape;
use crate::{Activation, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// `y = σ(W·x + b)`: `in → out` features.
///
/// Shapes: `weight` is `out × in`, `bias` is `out × 1` (broadcast over the batch), `x` is
/// `in × batch`, `y` is `out × batch` (Flux's layout: one sample per column).
///
/// # Example
/// ```
/// use adroit_nn::{nalgebra, rand};
/// use adroit_nn::{Activation, Dense, Layer};
/// use adroit_nn::rand::SeedableRng;
/// let layer = Dense::<f64>::new(3, 2, Activation::Relu, &mut rand::rngs::StdRng::seed_from_u64(1));
/// let y = layer.predict(&nalgebra::DMatrix::zeros(3, 5)).unwrap();
/// assert_eq!(y.shape(), (2, 5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dense<T> {
    /// `out × in`.
    pub weight: DMatrix<T>,
    /// `out × 1`, or `None` for a layer without bias.
    pub bias: Option<DMatrix<T>>,
    /// The activation `σ`.
    pub activation: Activation,
}

impl<T: MatScalar> Dense<T> {
    /// A layer with Glorot-uniform weights (seeded by `rng`) and zero bias.
    pub fn new(inputs: usize, outputs: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self {
            weight: init::glorot_uniform(rng, outputs, inputs),
            bias: Some(DMatrix::zeros(outputs, 1)),
            activation,
        }
    }

    /// The same layer without a bias.
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// A layer from given parameters.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `bias` is not `weight.nrows() × 1`.
    pub fn from_parts(
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        if let Some(b) = &bias {
            check_shape("Dense bias", (weight.nrows(), 1), b.shape())?;
        }
        Ok(Self {
            weight,
            bias,
            activation,
        })
    }

    /// Number of input features.
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of output features.
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }
}

impl<T: MatScalar> Layer<T> for Dense<T> {
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let z = ctx.param(&self.weight) * x;
        let z = match &self.bias {
            Some(b) => z + ctx.param(b),
            None => z,
        };
        self.activation.apply(z)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}weight"), &self.weight);
        if let Some(b) = &self.bias {
            f(&format!("{prefix}bias"), b);
        }
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.weight);
        if let Some(b) = &mut self.bias {
            f(b);
        }
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.weight);
        if let Some(b) = &self.bias {
            f(b);
        }
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.inputs())
    }
}
