//! Derivatives, gradients, JVPs and Jacobians by finite differences.

use super::FiniteDifference;
use nalgebra::DMatrix;
use num_traits::Float;

impl FiniteDifference {
    /// The gradient of `f: ℝⁿ → ℝ`: one estimate per coordinate (`n · points` evaluations).
    ///
    /// `x`: `n` inputs; returns `n` partial derivatives.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// let g = FiniteDifference::default().gradient(|x: &[f64]| x[0] * x[1], &[2.0, 3.0]);
    /// assert!((g[0] - 3.0).abs() < 1e-10 && (g[1] - 2.0).abs() < 1e-10);
    /// ```
    pub fn gradient<T: Float, F: Fn(&[T]) -> T>(&self, f: F, x: &[T]) -> Vec<T> {
        (0..x.len())
            .map(|i| {
                self.estimate(
                    |t| {
                        let mut point = x.to_vec();
                        point[i] = t;
                        f(&point)
                    },
                    x[i],
                )
            })
            .collect()
    }

    /// The directional derivative `J(x)·v` of `f: ℝⁿ → ℝᵐ` along `v` (one estimate of
    /// `t ↦ f(x + t·v)` per output, its step chosen at `t = 0`).
    ///
    /// Accuracy limit: the points `x + t·v` are rounded, which perturbs the direction by about
    /// `ulp(x)/h` relative (measured for a cubic over five directions: up to 2e-7 at
    /// `|x| ≈ 1e6` and 5e-6 at 1e8).
    /// `gradcheck`'s fast mode avoids it by snapping its random direction to the step; for a
    /// given `v` at large `|x|`, prefer [`jacobian`](Self::jacobian) (exact coordinate steps)
    /// and multiply.
    ///
    /// # Panics
    /// If `x.len() != v.len()`, or if `f` returns a different number of outputs at a
    /// perturbed point than at `x`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// // f(x) = [x₀·x₁, x₀ + x₁] at (2, 3): J = [[3, 2], [1, 1]], so J·(1, 1) = (5, 2).
    /// let f = |x: &[f64]| vec![x[0] * x[1], x[0] + x[1]];
    /// let jv = FiniteDifference::default().jvp(f, &[2.0, 3.0], &[1.0, 1.0]);
    /// assert!((jv[0] - 5.0).abs() < 1e-10 && (jv[1] - 2.0).abs() < 1e-10);
    /// ```
    #[track_caller]
    pub fn jvp<T: Float, F: Fn(&[T]) -> Vec<T>>(&self, f: F, x: &[T], v: &[T]) -> Vec<T> {
        assert_eq!(
            x.len(),
            v.len(),
            "fd jvp: {} inputs but a direction of {}",
            x.len(),
            v.len()
        );
        let along = |t: T| -> Vec<T> {
            let p: Vec<T> = x.iter().zip(v).map(|(&a, &b)| a + t * b).collect();
            f(&p)
        };
        let m = along(T::zero()).len();
        (0..m)
            .map(|k| self.estimate(|t| same_outputs("jvp", along(t), m)[k], T::zero()))
            .collect()
    }

    /// The `m × n` Jacobian of `f: ℝⁿ → ℝᵐ` (row `i` is `∇fᵢ`), one estimate per entry.
    ///
    /// # Panics
    /// If `f` returns a different number of outputs at a perturbed point than at `x`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// // f(x) = [x₀·x₁, sin x₀] at (2, 3): J = [[3, 2], [cos 2, 0]] (row i is ∇fᵢ).
    /// let f = |x: &[f64]| vec![x[0] * x[1], x[0].sin()];
    /// let j = FiniteDifference::default().jacobian(f, &[2.0, 3.0]);
    /// assert_eq!(j.shape(), (2, 2)); // outputs × inputs
    /// assert!((j[(0, 0)] - 3.0).abs() < 1e-10 && (j[(0, 1)] - 2.0).abs() < 1e-10);
    /// assert!((j[(1, 0)] - 2f64.cos()).abs() < 1e-10 && j[(1, 1)] == 0.0);
    /// ```
    pub fn jacobian<T, F>(&self, f: F, x: &[T]) -> DMatrix<T>
    where
        T: Float + nalgebra::Scalar,
        F: Fn(&[T]) -> Vec<T>,
    {
        let m = f(x).len();
        let mut jac = DMatrix::from_element(m, x.len(), T::zero());
        for j in 0..x.len() {
            for i in 0..m {
                jac[(i, j)] = self.estimate(
                    |t| {
                        let mut point = x.to_vec();
                        point[j] = t;
                        same_outputs("jacobian", f(&point), m)[i]
                    },
                    x[j],
                );
            }
        }
        jac
    }
}

/// `f'(x)` by the default method (5-point central, adaptive step).
///
/// # Example
/// ```
/// let d = adroit_check::fd::derivative(|x: f64| x.exp(), 0.0);
/// assert!((d - 1.0).abs() < 1e-12);
/// ```
pub fn derivative<T: Float, F: Fn(T) -> T>(f: F, x: T) -> T {
    FiniteDifference::default().estimate(f, x)
}

/// `∇f(x)` by the default method; see [`FiniteDifference::gradient`].
///
/// # Example
/// ```
/// // ∇(x₀² + 3x₁) at (1, 2) is (2, 3).
/// let g = adroit_check::fd::gradient(|x: &[f64]| x[0] * x[0] + 3.0 * x[1], &[1.0, 2.0]);
/// assert!((g[0] - 2.0).abs() < 1e-10 && (g[1] - 3.0).abs() < 1e-10);
/// ```
pub fn gradient<T: Float, F: Fn(&[T]) -> T>(f: F, x: &[T]) -> Vec<T> {
    FiniteDifference::default().gradient(f, x)
}

/// `J(x)·v` by the default method; see [`FiniteDifference::jvp`].
///
/// # Panics
/// If `x.len() != v.len()`, or if `f`'s number of outputs changes with the point.
///
/// # Example
/// ```
/// // f(x) = [x₀², x₀·x₁] at (1, 2): J = [[2, 0], [2, 1]], so J·(1, −1) = (2, 1).
/// let f = |x: &[f64]| vec![x[0] * x[0], x[0] * x[1]];
/// let jv = adroit_check::fd::jvp(f, &[1.0, 2.0], &[1.0, -1.0]);
/// assert!((jv[0] - 2.0).abs() < 1e-10 && (jv[1] - 1.0).abs() < 1e-10);
/// ```
#[track_caller]
pub fn jvp<T: Float, F: Fn(&[T]) -> Vec<T>>(f: F, x: &[T], v: &[T]) -> Vec<T> {
    FiniteDifference::default().jvp(f, x, v)
}

/// The Jacobian by the default method; see [`FiniteDifference::jacobian`].
///
/// # Panics
/// If `f`'s number of outputs changes with the point.
///
/// # Example
/// ```
/// // f(x) = [x₀ + 2x₁, x₀·x₁] at (3, 4): J = [[1, 2], [4, 3]].
/// let j = adroit_check::fd::jacobian(|x: &[f64]| vec![x[0] + 2.0 * x[1], x[0] * x[1]], &[3.0, 4.0]);
/// for (i, row) in [[1.0, 2.0], [4.0, 3.0]].iter().enumerate() {
///     for (k, expected) in row.iter().enumerate() {
///         assert!((j[(i, k)] - expected).abs() < 1e-10);
///     }
/// }
/// ```
pub fn jacobian<T: Float + nalgebra::Scalar, F: Fn(&[T]) -> Vec<T>>(f: F, x: &[T]) -> DMatrix<T> {
    FiniteDifference::default().jacobian(f, x)
}

/// `outputs`, after checking that there are `m` of them (as at the unperturbed point).
pub(crate) fn same_outputs<T>(what: &str, outputs: Vec<T>, m: usize) -> Vec<T> {
    assert_eq!(
        outputs.len(),
        m,
        "fd {what}: f returned {} outputs at a perturbed point but {m} at x (the number of \
         outputs must not depend on the point)",
        outputs.len()
    );
    outputs
}
