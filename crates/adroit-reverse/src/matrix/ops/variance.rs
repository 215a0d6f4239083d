//! Variances and standard deviations, of all entries or along a dimension: compositions of
//! recorded operations (mean, broadcast subtraction, square, sum, scaling), so first and
//! second derivatives come from theirs.

use super::Along;
use crate::matrix::{MatScalar, MatVar};

impl<T: MatScalar> MatVar<T> {
    /// The variance of all entries, as a 1 × 1 matrix:
    /// `Σᵢⱼ (xᵢⱼ − μ)² / max(0, N − correction)` with `μ` the mean of the `N` entries.
    ///
    /// `correction` is PyTorch's `correction` and NumPy's and JAX's `ddof`: 0 gives the
    /// population (biased) variance (NumPy's and JAX's default), 1 Bessel's unbiased estimate
    /// (PyTorch's default, and Julia's `Statistics.var` with `corrected = true`). With
    /// `N ≤ correction` the divisor is 0 (as PyTorch's `max(0, N − correction)`), so the
    /// result is infinite or NaN, as theirs; so is the variance of an empty matrix (NaN).
    /// There the gradient is not a derivative: entries 0 or NaN (the tape's `0·∞ = 0`
    /// convention meets the zero divisor: a single entry's deviation is exactly 0), where
    /// PyTorch and JAX give NaN — check the count rather than the gradient.
    ///
    /// Two passes (the mean, then the squared deviations from it, summed as
    /// [`sum`](Self::sum) sums), so large offsets do not cancel as in `E[x²] − μ²`; the mean's
    /// own rounding `δ` still adds `δ²` to each squared deviation, which matters where the
    /// spread is a few ulps of the offset (in `f32`, four entries an ulp of 10⁴ apart come out
    /// 20 % high, as NumPy's and PyTorch's `f32` do; `1e4 + 0.01·U(−1, 1)` 1e-2): subtract a
    /// rough mean from such data first. Gradient `2(xᵢⱼ − μ)/(N − correction)`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // [1, 2, 3, 4]: mean 2.5, squared deviations summing to 5; unbiased variance 5/3 with
    /// // gradient 2(x − 2.5)/3.
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].var(1), &[dmatrix![1.0_f64, 2.0; 3.0, 4.0]]);
    /// assert!((v - 5.0 / 3.0).abs() < 1e-15);
    /// let exact = dmatrix![-1.0, -1.0 / 3.0; 1.0 / 3.0, 1.0];
    /// assert!((&g[0] - exact).amax() < 1e-15);
    /// ```
    #[track_caller]
    pub fn var(self, correction: usize) -> Self {
        let (rows, cols) = self.shape();
        let centred = self - self.mean();
        let squares = centred.component_mul(centred).sum();
        squares / dof::<T>(rows * cols, correction)
    }

    /// The standard deviation of all entries, `√var(correction)` (see [`var`](Self::var)
    /// for `correction` and the formula), as a 1 × 1 matrix.
    ///
    /// Gradient `(xᵢⱼ − μ)/((N − correction)·σ)`. Where every entry is equal (`σ = 0`, a kink:
    /// `σ` of `c + t·d` is `|t|·σ(d)`) the gradient is 0, by the tape's `0·∞ = 0` convention
    /// (`√`'s infinite slope meets deviations that are all 0), as `abs'(0) = 0`; PyTorch and
    /// JAX give NaN there. Second derivatives there ([`matrix::hessian`](crate::matrix::hessian))
    /// are NaN: the kink has no curvature to give. That needs the entries' mean to be exact;
    /// where it rounds (three entries of 0.1 in `f64`: `μ` is 0.10000000000000002), `σ` is
    /// rounding noise (1.4e-17), the gradient still 0 (the equal deviations cancel through the
    /// mean) but the Hessian finite and huge (1.6e16 on the diagonal): add a small `ε` under
    /// the root, as normalisation layers do, where entries may be all equal. With
    /// `N ≤ correction`, as for `var`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // [0, 2]: population standard deviation 1, gradient (x − 1)/(2·1).
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].std(0), &[dmatrix![0.0, 2.0]]);
    /// assert_eq!((v, g[0].clone()), (1.0, dmatrix![-0.5, 0.5]));
    /// ```
    #[track_caller]
    pub fn std(self, correction: usize) -> Self {
        self.var(correction).sqrt()
    }

    /// Variances along a dimension: `1 × cols` for [`Along::Rows`] (one per column),
    /// `rows × 1` for [`Along::Cols`] (one per row), each
    /// `Σₖ (xₖ − μ)² / max(0, n − correction)` over the `n` entries of its line, `μ` their
    /// mean — with the features × batch layout, `Along::Rows` gives each sample's variance
    /// over its features (layer normalisation) and `Along::Cols` each feature's variance over
    /// the batch (batch normalisation). `correction` and the limits as for
    /// [`var`](Self::var) (NumPy's and JAX's `var(x, axis, ddof=correction, keepdims=True)`,
    /// PyTorch's `var(x, dim, correction=correction, keepdim=True)`).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // the population variance of each row: 1 and 4
    /// let (y, _) = matrix::pullback(
    ///     |m| m[0].var_along(Along::Cols, 0),
    ///     &[dmatrix![1.0, 3.0; 0.0, 4.0]],
    /// );
    /// assert_eq!(y, dmatrix![1.0; 4.0]);
    /// ```
    #[track_caller]
    pub fn var_along(self, along: Along, correction: usize) -> Self {
        let count = match along {
            Along::Rows => self.nrows(),
            Along::Cols => self.ncols(),
        };
        let centred = self - self.mean_along(along);
        let squares = centred.component_mul(centred).sum_along(along);
        squares / dof::<T>(count, correction)
    }

    /// Standard deviations along a dimension, `√var_along(along, correction)` (shapes,
    /// `correction` and the formula as [`var_along`](Self::var_along); a line of equal
    /// entries gets gradient 0, as in [`std`](Self::std)).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // each column's unbiased standard deviation: √2 and 0; the equal column's gradient is 0
    /// let x = dmatrix![1.0, 5.0; 3.0, 5.0];
    /// let g = matrix::gradient(|m| m[0].std_along(Along::Rows, 1).sum(), &[x]);
    /// let r = 0.5_f64.sqrt();
    /// assert!((&g[0] - dmatrix![-r, 0.0; r, 0.0]).amax() < 1e-15);
    /// ```
    #[track_caller]
    pub fn std_along(self, along: Along, correction: usize) -> Self {
        self.var_along(along, correction).sqrt()
    }
}

/// The divisor `max(0, count − correction)` in `T` (rounded to the nearest `T`; every count
/// is within the range of `f32`, so the conversion cannot fail).
fn dof<T: MatScalar>(count: usize, correction: usize) -> T {
    let dof = count.saturating_sub(correction);
    <T as num_traits::NumCast>::from(dof).unwrap_or_else(T::nan)
}
