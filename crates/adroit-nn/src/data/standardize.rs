//! [`Standardizer`]: zero mean, unit variance per feature.

use crate::NnError;
use crate::error::check_shape;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use num_traits::Float;

/// Per-feature standardisation `(x − μ)/σ` with the mean `μ` and the (population) standard
/// deviation `σ` of each feature (row) over the training samples, as scikit-learn's
/// `StandardScaler`; a constant feature (`σ = 0`) is only centred.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// use adroit_nn::data::Standardizer;
/// let x = nalgebra::dmatrix![1.0, 3.0; 10.0, 10.0];
/// let s = Standardizer::fit(&x).unwrap();
/// assert_eq!(s.transform(&x).unwrap(), nalgebra::dmatrix![-1.0, 1.0; 0.0, 0.0]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer<T> {
    /// Per-feature mean (`features × 1`).
    pub mean: DMatrix<T>,
    /// Per-feature scale (`features × 1`): σ, or 1 for a constant feature.
    pub scale: DMatrix<T>,
}

impl<T: MatScalar> Standardizer<T> {
    /// Learns the means and scales of `x` (`features × samples`).
    ///
    /// # Errors
    /// [`NnError::EmptyData`] if `x` has no samples.
    pub fn fit(x: &DMatrix<T>) -> Result<Self, NnError> {
        if x.ncols() == 0 {
            return Err(NnError::EmptyData {
                what: "Standardizer::fit input".into(),
            });
        }
        let n = T::from_usize(x.ncols()).unwrap_or_else(T::one);
        let mean = DMatrix::from_fn(x.nrows(), 1, |i, _| x.row(i).sum() / n);
        let scale = DMatrix::from_fn(x.nrows(), 1, |i, _| {
            let var = x
                .row(i)
                .iter()
                .map(|&v| (v - mean[(i, 0)]) * (v - mean[(i, 0)]))
                .fold(T::zero(), |a, b| a + b)
                / n;
            let sd = Float::sqrt(var);
            // Rounding leaves a tiny variance on a constant feature: treat it as 0 (as
            // scikit-learn), so the feature is only centred.
            let tiny = <T as Float>::epsilon()
                * T::from_f64(10.0).unwrap_or_else(T::one)
                * Float::max(Float::abs(mean[(i, 0)]), T::one());
            if sd > tiny { sd } else { T::one() }
        });
        Ok(Self { mean, scale })
    }

    /// Standardises `x` (`features × samples`).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` has a different number of features.
    pub fn transform(&self, x: &DMatrix<T>) -> Result<DMatrix<T>, NnError> {
        check_shape(
            "Standardizer::transform features",
            (self.mean.nrows(), x.ncols()),
            x.shape(),
        )?;
        Ok(DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            (x[(i, j)] - self.mean[(i, 0)]) / self.scale[(i, 0)]
        }))
    }
}
