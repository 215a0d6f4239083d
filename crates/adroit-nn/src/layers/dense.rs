//! [`Dense`]: a fully connected layer.

use super::weight_bias;
use crate::cast::cast_matrix;
use crate::error::check_shape;
use crate::{Activation, Cast, CastSlot, Context, Layer, NnError, init};
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
    ///
    /// # Panics
    /// If the `outputs × inputs` weight would have more entries than `usize` counts or more
    /// bytes than an allocation can hold (`isize::MAX`), as
    /// [`glorot_uniform`](crate::init::glorot_uniform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Dense};
    /// let layer = Dense::<f64>::new(3, 2, Activation::Tanh, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert_eq!(layer.weight.shape(), (2, 3)); // out × in
    /// assert_eq!(layer.bias, Some(DMatrix::zeros(2, 1)));
    /// // Glorot uniform: every weight within ±√(6/(3 + 2)).
    /// assert!(layer.weight.amax() <= (6.0f64 / 5.0).sqrt());
    /// ```
    #[track_caller]
    pub fn new(inputs: usize, outputs: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self {
            weight: init::glorot_uniform(rng, outputs, inputs),
            bias: Some(DMatrix::zeros(outputs, 1)),
            activation,
        }
    }

    /// A layer with weights drawn from `init` (seeded by `rng`; Flux's `Dense(in => out, σ;
    /// init)`) and zero bias. `Dense::with_init(i, o, σ, Init::default(), rng)` is
    /// [`Dense::new`], bit for bit.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if the initialiser's gain is negative or not finite, or the
    /// activation's parameter (`LeakyRelu`'s slope, `Elu`'s α) is not finite.
    ///
    /// # Panics
    /// As [`Dense::new`], for a weight too large to allocate.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::init::Init;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Dense};
    /// // He (Kaiming) uniform for ReLU: every weight within ±√2·√(3/64).
    /// let he = Init::KaimingUniform { gain: 2f64.sqrt() };
    /// let layer = Dense::<f32>::with_init(64, 32, Activation::Relu, he, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(layer.weight.shape(), (32, 64));
    /// assert!(f64::from(layer.weight.amax()) <= (6.0f64 / 64.0).sqrt());
    /// ```
    #[track_caller]
    pub fn with_init(
        inputs: usize,
        outputs: usize,
        activation: Activation,
        init: init::Init,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        Self::from_parts(
            init.sample(rng, outputs, inputs)?,
            Some(DMatrix::zeros(outputs, 1)),
            activation,
        )
    }

    /// The same layer without a bias.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer};
    /// let layer = Dense::from_parts(dmatrix![2.0], Some(dmatrix![1.0]), Activation::Identity).unwrap();
    /// assert_eq!(layer.predict(&dmatrix![3.0]).unwrap(), dmatrix![7.0]); // 2·3 + 1
    /// let layer = layer.without_bias();
    /// assert!(layer.bias.is_none());
    /// assert_eq!(layer.predict(&dmatrix![3.0]).unwrap(), dmatrix![6.0]); // 2·3
    /// ```
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// A layer from given parameters.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `bias` is not `weight.nrows() × 1`;
    /// [`NnError::InvalidConfig`] if the activation's parameter (`LeakyRelu`'s slope, `Elu`'s
    /// α) is not finite.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, NnError};
    /// // 2 inputs → 1 output: y = relu(x₀ + 2x₁ + 0.5).
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
    /// // The samples (columns) [1, −1] and [2, 1]: relu(−0.5) = 0 and relu(4.5) = 4.5.
    /// assert_eq!(layer.predict(&dmatrix![1.0, 2.0; -1.0, 1.0]).unwrap(), dmatrix![0.0, 4.5]);
    /// // The bias must be out × 1, here 1 × 1.
    /// let bad = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5; 0.5]), Activation::Relu);
    /// assert!(matches!(bad, Err(NnError::ShapeMismatch { .. })));
    /// ```
    pub fn from_parts(
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let layer = Self {
            weight,
            bias,
            activation,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// Number of input features.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Dense};
    /// let layer = Dense::<f64>::new(4, 3, Activation::Relu, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert_eq!(layer.inputs(), 4); // columns of the 3 × 4 weight
    /// ```
    pub fn inputs(&self) -> usize {
        self.weight.ncols()
    }

    /// Number of output features.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Dense};
    /// let layer = Dense::<f64>::new(4, 3, Activation::Relu, &mut rand::rngs::StdRng::seed_from_u64(0));
    /// assert_eq!(layer.outputs(), 3); // rows of the 3 × 4 weight
    /// ```
    pub fn outputs(&self) -> usize {
        self.weight.nrows()
    }
}

impl<T: MatScalar> Layer<T> for Dense<T> {
    /// `σ(W·x + b)` for `x`: `in × batch`, recorded as one affine node
    /// ([`MatVar::affine`]) and the activation.
    ///
    /// # Panics
    /// If `x` does not have `in` rows, or the `bias` field was set to a matrix that is not
    /// `out × 1`. [`Layer::predict`] and [`train`](crate::train()) report both as
    /// [`NnError::ShapeMismatch`] before calling this; [`gradient`](crate::gradient) reports
    /// the bias so, but the input is built inside its loss closure, where a wrong size panics
    /// here.
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let (out, inputs) = self.weight.shape();
        assert!(
            x.nrows() == inputs,
            "Dense: the input has {} rows (features) but the layer takes {inputs} (its weight \
             is {out}×{inputs})",
            x.nrows()
        );
        if let Some(b) = &self.bias {
            assert!(
                b.shape() == (out, 1),
                "Dense: the bias is {}×{}, not {out}×1 (the layer's output size)",
                b.nrows(),
                b.ncols()
            );
        }
        let w = ctx.param(&self.weight);
        let z = match &self.bias {
            Some(b) => w.affine(x, ctx.param(b)),
            None => w * x,
        };
        self.activation.apply(z)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        weight_bias::visit(prefix, &self.weight, self.bias.as_ref(), f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        weight_bias::visit_mut(&mut self.weight, self.bias.as_mut(), f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        weight_bias::visit_params(&self.weight, self.bias.as_ref(), f);
    }

    /// The bias, when there is one, must be `out × 1`, and the activation's parameter (the
    /// slope of `LeakyRelu`, the α of `Elu`) finite.
    fn check_params(&self) -> Result<(), NnError> {
        self.activation
            .check_parameter("Dense activation parameter")?;
        match &self.bias {
            Some(b) => check_shape("Dense bias", (self.weight.nrows(), 1), b.shape()),
            None => Ok(()),
        }
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.inputs())
    }

    fn output_size(&self) -> Option<usize> {
        Some(self.outputs())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weight and bias converted entry by entry (see [`Cast`]); the activation is kept.
impl<T: MatScalar> Cast for Dense<T> {
    type Output<U: MatScalar> = Dense<U>;

    fn cast<U: MatScalar>(&self) -> Result<Dense<U>, NnError> {
        Ok(Dense {
            weight: cast_matrix(&self.weight),
            bias: self.bias.as_ref().map(cast_matrix),
            activation: self.activation,
        })
    }
}
