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
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::{DMatrix, dmatrix};
    /// // Feature 0: [0, 4], mean 2 and σ = 2; feature 1: constant 5, scale 1 (only centred).
    /// let s = Standardizer::fit(&dmatrix![0.0, 4.0; 5.0, 5.0]).unwrap();
    /// assert_eq!((s.mean.clone(), s.scale.clone()), (dmatrix![2.0; 5.0], dmatrix![2.0; 1.0]));
    /// let empty = Standardizer::fit(&DMatrix::<f64>::zeros(2, 0));
    /// assert!(matches!(empty, Err(NnError::EmptyData { .. })));
    /// ```
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
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::DMatrix;
    /// // 3 features × 50 samples on different scales and offsets.
    /// let x = DMatrix::<f64>::from_fn(3, 50, |i, j| (j as f64).sin() * 10f64.powi(i as i32) + i as f64);
    /// let s = Standardizer::fit(&x).unwrap();
    /// let z = s.transform(&x).unwrap();
    /// for row in z.row_iter() {
    ///     let mean = row.sum() / 50.0;
    ///     let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 50.0;
    ///     assert!(mean.abs() < 1e-12 && (var - 1.0).abs() < 1e-12); // zero mean, unit variance
    /// }
    /// // Other data is scaled with the fitted statistics: the mean maps to 0.
    /// assert_eq!(s.transform(&s.mean).unwrap(), DMatrix::zeros(3, 1));
    /// assert!(s.transform(&DMatrix::zeros(2, 1)).is_err()); // 2 features, not 3
    /// ```
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
