//! [`Standardizer`]: zero mean, unit variance per feature.

use crate::NnError;
use crate::error::check_shape;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

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
    /// Learns the means and scales of `x` (`features × samples`): the mean and the population
    /// standard deviation σ of each feature, summed in `f64` whatever `T`. A feature counts as
    /// constant (scale 1: only centred) when σ ≤ n·ε·|mean|, the rounding residue a constant
    /// leaves in `f64` — a relative test as scikit-learn's `StandardScaler`, so features of
    /// small magnitude (1e-6, 1e-15) are scaled like any other.
    ///
    /// # Errors
    /// [`NnError::EmptyData`] if `x` has no samples.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
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
        // Sums in f64 (an f32 feature of 1e20s would overflow its own variance).
        let n = x.ncols() as f64;
        let mut mean = DMatrix::zeros(x.nrows(), 1);
        let mut scale = DMatrix::from_element(x.nrows(), 1, T::one());
        for (i, row) in x.row_iter().enumerate() {
            let value = |v: &T| v.to_f64().unwrap_or(f64::NAN);
            let m = row.iter().map(value).sum::<f64>() / n;
            let sd = (row.iter().map(|v| (value(v) - m).powi(2)).sum::<f64>() / n).sqrt();
            // A constant feature keeps a rounding residue of the mean, at most ~n·ε·|mean|:
            // treat that as σ = 0 and only centre the feature. The test is relative, as
            // scikit-learn's, so genuinely small features (micrometres in f32) are scaled.
            if sd > n * f64::EPSILON * m.abs() {
                scale[(i, 0)] = T::from_f64(sd).unwrap_or_else(T::one);
            }
            mean[(i, 0)] = T::from_f64(m).unwrap_or_else(T::zero);
        }
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
