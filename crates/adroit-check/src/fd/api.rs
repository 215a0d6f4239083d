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
    /// `t ↦ f(x + t·v)` per output).
    ///
    /// # Panics
    /// If `x.len() != v.len()`.
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
            .map(|k| self.estimate(|t| along(t)[k], T::zero()))
            .collect()
    }

    /// The `m × n` Jacobian of `f: ℝⁿ → ℝᵐ` (row `i` is `∇fᵢ`), one estimate per entry.
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
                        f(&point)[i]
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
pub fn gradient<T: Float, F: Fn(&[T]) -> T>(f: F, x: &[T]) -> Vec<T> {
    FiniteDifference::default().gradient(f, x)
}

/// `J(x)·v` by the default method; see [`FiniteDifference::jvp`].
///
/// # Panics
/// If `x.len() != v.len()`.
#[track_caller]
pub fn jvp<T: Float, F: Fn(&[T]) -> Vec<T>>(f: F, x: &[T], v: &[T]) -> Vec<T> {
    FiniteDifference::default().jvp(f, x, v)
}

/// The Jacobian by the default method; see [`FiniteDifference::jacobian`].
pub fn jacobian<T: Float + nalgebra::Scalar, F: Fn(&[T]) -> Vec<T>>(f: F, x: &[T]) -> DMatrix<T> {
    FiniteDifference::default().jacobian(f, x)
}
