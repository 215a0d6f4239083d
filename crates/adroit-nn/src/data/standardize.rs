//! [`Standardizer`]: zero mean, unit variance per feature.

use crate::NnError;
use crate::error::check_shape;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Per-feature standardisation `(x − μ)/σ` with the mean `μ` and the (population) standard
/// deviation `σ` of each feature (row) over the training samples, as scikit-learn's
/// `StandardScaler`; a constant feature (`σ = 0`) is only centred (to 0 up to the rounding
/// of its mean: ten entries of 0.3 give 5.6e-17).
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
    /// Per-feature scale (`features × 1`): σ, or 1 for a constant feature (or one whose σ
    /// rounds to 0 in `T`).
    pub scale: DMatrix<T>,
}

impl<T: MatScalar> Standardizer<T> {
    /// Learns the means and scales of `x` (`features × samples`): the mean and the population
    /// standard deviation σ of each feature, summed in `f64` whatever `T` and scaled by a
    /// power of two so that no feature overflows (up to `f64::MAX`; but
    /// [`transform`](Self::transform) forms `x − μ` in `T`, which overflows where a feature
    /// spans more than `T`'s range: `[f64::MAX, −f64::MAX, −f64::MAX]` fits, and transforms to
    /// `[∞, −0.71, −0.71]`). A feature counts as constant (scale 1: only centred) when
    /// σ ≤ n·ε·|mean|, the rounding residue a constant leaves in `f64` — a relative test as
    /// scikit-learn's `StandardScaler`, so features of small magnitude (1e-6, 1e-15) are
    /// scaled like any other.
    ///
    /// Missing values (NaN) are left out of the statistics and stay NaN in
    /// [`transform`](Self::transform), as scikit-learn does; a feature with no other value
    /// gets mean 0 and scale 1.
    ///
    /// # Errors
    /// [`NnError::EmptyData`] if `x` has no samples; [`NnError::InvalidData`] naming the
    /// feature and sample of an infinite value (scikit-learn refuses them too).
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
    /// // A missing value is skipped: the statistics of [1, 3].
    /// let s = Standardizer::fit(&dmatrix![1.0, f64::NAN, 3.0]).unwrap();
    /// assert_eq!((s.mean[0], s.scale[0]), (2.0, 1.0));
    /// let z = s.transform(&dmatrix![1.0, f64::NAN, 3.0]).unwrap();
    /// assert!(z[0] == -1.0 && z[1].is_nan() && z[2] == 1.0);
    /// // Values near f64::MAX: σ = 1e300, not an overflow.
    /// let s = Standardizer::fit(&dmatrix![1e300, -1e300]).unwrap();
    /// assert_eq!((s.mean[0], s.scale[0]), (0.0, 1e300));
    /// ```
    pub fn fit(x: &DMatrix<T>) -> Result<Self, NnError> {
        if x.ncols() == 0 {
            return Err(NnError::EmptyData {
                what: "Standardizer::fit input".into(),
            });
        }
        let mut mean = DMatrix::zeros(x.nrows(), 1);
        let mut scale = DMatrix::from_element(x.nrows(), 1, T::one());
        for (i, row) in x.row_iter().enumerate() {
            let values: Vec<f64> = row.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)).collect();
            if let Some(j) = values.iter().position(|v| v.is_infinite()) {
                return Err(NnError::InvalidData {
                    what: format!(
                        "Standardizer::fit input, feature {i}, sample {j} is {}",
                        values[j]
                    ),
                });
            }
            let present: Vec<f64> = values.into_iter().filter(|v| !v.is_nan()).collect();
            let Some((m, sd)) = mean_and_sd(&present) else {
                continue; // no value: mean 0, scale 1
            };
            // A constant feature keeps a rounding residue of the mean, at most ~n·ε·|mean|:
            // treat that as σ = 0 and only centre the feature. The test is relative, as
            // scikit-learn's, so genuinely small features (micrometres in f32) are scaled.
            if sd > present.len() as f64 * f64::EPSILON * m.abs() {
                // σ below T's smallest subnormal rounds to 0 (f32 data [0, 1e-45]): scale 1,
                // as for a constant feature, rather than a division by 0.
                let sd = T::from_f64(sd).unwrap_or_else(T::one);
                scale[(i, 0)] = if sd > T::zero() { sd } else { T::one() };
            }
            mean[(i, 0)] = T::from_f64(m).unwrap_or_else(T::zero);
        }
        Ok(Self { mean, scale })
    }

    /// The same statistics with the listed features passed through unchanged (mean 0, scale
    /// 1): features that are not measurements, such as the category ids an
    /// [`Embedding`](crate::Embedding) reads (scaled, they would no longer be ids) — what
    /// scikit-learn's `ColumnTransformer` does with `"passthrough"`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] naming a feature index out of range (the standardiser,
    /// taken by value, is dropped: clone it first to keep it), or for statistics that
    /// [`fit`](Self::fit) does not make, as [`transform`](Self::transform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// // Row 0: a category id; row 1: a measurement.
    /// let x = dmatrix![2.0_f64, 0.0, 1.0; 10.0, 20.0, 30.0];
    /// let s = Standardizer::fit(&x).unwrap().passthrough(&[0]).unwrap();
    /// let z = s.transform(&x).unwrap();
    /// assert_eq!(z.row(0), x.row(0)); // the ids, exactly
    /// assert!((z[(1, 0)] + 1.224744871391589).abs() < 1e-15);
    /// assert!(Standardizer::fit(&x).unwrap().passthrough(&[2]).is_err());
    /// ```
    pub fn passthrough(mut self, features: &[usize]) -> Result<Self, NnError> {
        self.check_statistics()?;
        if let Some(&bad) = features.iter().find(|&&i| i >= self.mean.nrows()) {
            return Err(NnError::InvalidConfig {
                name: "Standardizer::passthrough",
                reason: format!(
                    "feature {bad} is out of range (the standardiser has {} features)",
                    self.mean.nrows()
                ),
            });
        }
        for &i in features {
            self.mean[(i, 0)] = T::zero();
            self.scale[(i, 0)] = T::one();
        }
        Ok(self)
    }

    /// Standardises `x` (`features × samples`).
    ///
    /// Precision: the statistics are kept in `T`, so the mean is rounded to `T` (to within half
    /// an ulp of `T` at its magnitude), and the standardised values are off by up to that
    /// rounding over σ. That matters only where a feature's spread is a few ulps of its offset —
    /// f32 values near 1e7 spread by ~1 (the ulp there is 1) come out shifted by up to one σ
    /// (`[1e7, 1e7 + 1, …]` gives `[0, 2, …]`, not `[−1, 1, …]`), which scikit-learn, keeping
    /// float64 statistics for float32 data, avoids. Standardise such data in `f64`, or remove
    /// its offset first. Data near `T`'s largest value, where `x − μ` overflows, is scaled
    /// first (`x/σ − μ/σ`) instead of giving `±∞`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` has a different number of features;
    /// [`NnError::InvalidConfig`] if the statistics are not those [`fit`](Self::fit) makes
    /// (the fields are public, e.g. read back from a file): `mean` and `scale` must be
    /// `features × 1` each, the means finite and the scales finite and positive.
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
        self.check_statistics()?;
        check_shape(
            "Standardizer::transform features",
            (self.mean.nrows(), x.ncols()),
            x.shape(),
        )?;
        Ok(DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            let (v, mean, scale) = (x[(i, j)], self.mean[(i, 0)], self.scale[(i, 0)]);
            let z = (v - mean) / scale;
            // (A finite value whose difference from the mean overflowed: fit on [MAX, −MAX,
            // −MAX] gave [∞, −0.71, −0.71].)
            if z.is_finite() || !v.is_finite() {
                z
            } else {
                v / scale - mean / scale
            }
        }))
    }

    /// Undoes [`transform`](Self::transform): `z·σ + μ` per feature, for `z` of
    /// `features × samples` (scikit-learn's `StandardScaler.inverse_transform`) — e.g. a
    /// regression model's predictions trained on standardised targets, back in the targets'
    /// units. Exact up to the rounding of one multiplication and one addition in `T`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `z` has a different number of features;
    /// [`NnError::InvalidConfig`] for statistics that [`fit`](Self::fit) does not make, as
    /// [`transform`](Self::transform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::Standardizer;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// // Targets in their own units: mean 20, σ 5.
    /// let y = dmatrix![15.0, 25.0];
    /// let s = Standardizer::fit(&y).unwrap();
    /// let z = s.transform(&y).unwrap();
    /// assert_eq!(z, dmatrix![-1.0, 1.0]);
    /// // A prediction of 0.5 standard units is 22.5 in the targets' units.
    /// assert_eq!(s.inverse_transform(&dmatrix![0.5]).unwrap(), dmatrix![22.5]);
    /// assert_eq!(s.inverse_transform(&z).unwrap(), y);
    /// assert!(s.inverse_transform(&dmatrix![0.0; 0.0]).is_err()); // 2 features, not 1
    /// ```
    pub fn inverse_transform(&self, z: &DMatrix<T>) -> Result<DMatrix<T>, NnError> {
        self.check_statistics()?;
        check_shape(
            "Standardizer::inverse_transform features",
            (self.mean.nrows(), z.ncols()),
            z.shape(),
        )?;
        Ok(DMatrix::from_fn(z.nrows(), z.ncols(), |i, j| {
            z[(i, j)] * self.scale[(i, 0)] + self.mean[(i, 0)]
        }))
    }

    /// Checks that the (public) statistics are of the kind [`fit`](Self::fit) makes: `mean`
    /// and `scale` `features × 1` each, every mean finite, every scale finite and positive.
    /// Statistics rebuilt by hand or read from a file could otherwise index out of bounds
    /// (a panic) or divide by zero (NaN output).
    fn check_statistics(&self) -> Result<(), NnError> {
        let fail = |reason: String| {
            Err(NnError::InvalidConfig {
                name: "Standardizer statistics",
                reason,
            })
        };
        let (mean, scale) = (self.mean.shape(), self.scale.shape());
        if mean.1 != 1 || scale != mean {
            return fail(format!(
                "mean is {}×{} and scale {}×{}; both must be features × 1",
                mean.0, mean.1, scale.0, scale.1
            ));
        }
        if let Some(i) = self.mean.iter().position(|m| !m.is_finite()) {
            return fail(format!("the mean of feature {i} is not finite"));
        }
        if let Some(i) = self
            .scale
            .iter()
            .position(|s| !(s.is_finite() && *s > T::zero()))
        {
            return fail(format!(
                "the scale of feature {i} is {:?}; it must be finite and positive",
                self.scale[i].to_f64().unwrap_or(f64::NAN)
            ));
        }
        Ok(())
    }
}

/// The mean and population standard deviation of finite `values` (`None` if empty), in `f64`
/// over the values divided by a power of two near their largest magnitude: exact scaling, so
/// the results are those of the plain sums wherever these do not overflow.
fn mean_and_sd(values: &[f64]) -> Option<(f64, f64)> {
    if values.is_empty() {
        return None;
    }
    let largest = values.iter().fold(0.0_f64, |a, v| a.max(v.abs()));
    if largest == 0.0 {
        return Some((0.0, 0.0));
    }
    // 2^⌊log₂ largest⌋: every scaled value is below 2 in magnitude (the exponent kept
    // within ±1000 so the power and its reciprocal are normal numbers).
    let exponent = (largest.log2().floor() as i32).clamp(-1000, 1000);
    let power = 2f64.powi(exponent);
    let n = values.len() as f64;
    let m = values.iter().map(|v| v / power).sum::<f64>() / n;
    let var = values.iter().map(|v| (v / power - m).powi(2)).sum::<f64>() / n;
    Some((m * power, var.sqrt() * power))
}
