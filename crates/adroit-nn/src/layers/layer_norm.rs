//! [`LayerNorm`]: normalisation over the features of each sample.

use super::normalise::{check_epsilon, standardise};
use crate::cast::{cast_entry, cast_matrix};
use crate::error::check_shape;
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, with mean `μ` and (biased) variance `σ²` over the features
/// of each column (Ba, Kiros & Hinton 2016; ε = 1e-5 as Flux and PyTorch). `γ` (`scale`,
/// initialised to 1) and `β` (`bias`, 0) are `features × 1`. A column whose squared
/// deviations overflow `σ²` (spread above ~1.8e19 in `f32`, ~1e154 in `f64`) is normalised
/// after dividing it by its largest `|x − μ|`, so it gets the same finite output and
/// gradients (PyTorch and Flux give `β` with zero gradients, or NaN, there) — in `f64` as
/// long as the column's sum, from which `μ` is formed, does not overflow itself (entries
/// near `f64::MAX`, `[1e308, 1e308, −1e308]`, give NaN; `f32` columns are summed in `f64`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// use adroit_nn::{Context, LayerNorm, Layer, Mode};
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// let ln = LayerNorm::<f64>::new(3);
/// let x = nalgebra::dmatrix![1.0; 2.0; 3.0];
/// let (y, _) = matrix::pullback(|_| ln.forward(MatVar::constant(x.clone()), &mut Context::new(Mode::Eval, 0)), &[]);
/// assert!(y.sum().abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm<T> {
    /// `γ`, `features × 1`.
    pub scale: DMatrix<T>,
    /// `β`, `features × 1`.
    pub bias: DMatrix<T>,
    /// `ε`.
    pub epsilon: T,
}

impl<T: MatScalar> LayerNorm<T> {
    /// Normalisation over `features` with `γ = 1`, `β = 0`, `ε = 1e-5`.
    ///
    /// # Panics
    /// If `features` entries of `T` are more bytes than an allocation can hold
    /// (`isize::MAX`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Layer, LayerNorm};
    /// let ln = LayerNorm::<f64>::new(2);
    /// assert_eq!((ln.scale.clone(), ln.bias.clone()), (dmatrix![1.0; 1.0], dmatrix![0.0; 0.0]));
    /// assert_eq!(ln.epsilon, 1e-5);
    /// // The sample [1, 3]: μ = 2 and σ² = 1, so y = ±1/√(1 + ε).
    /// let y = ln.predict(&dmatrix![1.0; 3.0]).unwrap();
    /// let expected = 1.0 / (1.0 + 1e-5f64).sqrt();
    /// assert!((y[0] + expected).abs() < 1e-15 && (y[1] - expected).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn new(features: usize) -> Self {
        crate::init::check_size::<T>("LayerNorm::new", features, 1);
        Self {
            scale: DMatrix::from_element(features, 1, T::one()),
            bias: DMatrix::zeros(features, 1),
            epsilon: T::from_f64(1e-5).unwrap_or_else(T::zero),
        }
    }
}

impl<T: MatScalar> Layer<T> for LayerNorm<T> {
    /// `γ ⊙ (x − μ)/√(σ² + ε) + β` for `x`: `features × batch`.
    ///
    /// # Panics
    /// If `x` does not have `features` rows, `scale` is not a column, or `bias` is not the
    /// shape of `scale`: γ and β
    /// would otherwise broadcast (a 1 × 1 γ over any number of features, or a 1-feature
    /// input stretched to `features` rows) and train a wrong model without a word (PyTorch
    /// and Flux refuse such an input too). [`Layer::predict`] and [`train`](crate::train())
    /// report a wrong input size as [`NnError::ShapeMismatch`] when this is the model's first
    /// layer, and a [`Chain`](crate::Chain) checks its layers' sizes against each other
    /// before the forward pass ([`NnError::InvalidConfig`]); it panics here only inside a
    /// container of your own that does not check them.
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let features = self.scale.nrows();
        assert!(
            self.scale.ncols() == 1,
            "LayerNorm: the scale is {}×{}, not a column ({features}×1)",
            self.scale.nrows(),
            self.scale.ncols()
        );
        assert!(
            x.nrows() == features,
            "LayerNorm: the input has {} rows (features) but the layer normalises {features} \
             (its scale is {features}×1)",
            x.nrows()
        );
        assert!(
            self.bias.shape() == self.scale.shape(),
            "LayerNorm: the bias is {}×{}, not {features}×1 (the scale's shape)",
            self.bias.nrows(),
            self.bias.ncols()
        );
        let normalised = standardise(x, Along::Rows, self.epsilon).output;
        normalised.component_mul(ctx.param(&self.scale)) + ctx.param(&self.bias)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}scale"), &self.scale);
        f(&format!("{prefix}bias"), &self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.scale);
        f(&mut self.bias);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.scale);
        f(&self.bias);
    }

    /// `scale` and `bias` must both be `features × 1`, `epsilon` finite and `≥ 0`.
    fn check_params(&self) -> Result<(), NnError> {
        check_shape(
            "LayerNorm scale",
            (self.scale.nrows(), 1),
            self.scale.shape(),
        )?;
        check_shape("LayerNorm bias", self.scale.shape(), self.bias.shape())?;
        check_epsilon("LayerNorm epsilon", self.epsilon)
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.scale.nrows())
    }

    fn preserves_size(&self) -> bool {
        true
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// `γ`, `β` and `ε` converted (see [`Cast`]).
impl<T: MatScalar> Cast for LayerNorm<T> {
    type Output<U: MatScalar> = LayerNorm<U>;

    fn cast<U: MatScalar>(&self) -> Result<LayerNorm<U>, NnError> {
        Ok(LayerNorm {
            scale: cast_matrix(&self.scale),
            bias: cast_matrix(&self.bias),
            epsilon: cast_entry(self.epsilon),
        })
    }
}
