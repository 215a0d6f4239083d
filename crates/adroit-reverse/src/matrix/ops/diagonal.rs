//! The diagonal of a matrix, and its trace.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of [`MatVar::diagonal`]: the adjoint placed on the diagonal of a zero matrix of
/// `A`'s shape.
struct Diagonal {
    a: u32,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for Diagonal {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let mut placed = pool::zeros(self.shape.0, self.shape.1);
        for (k, &v) in g.iter().enumerate() {
            placed[(k, k)] = v;
        }
        grads.accumulate(self.a, placed);
        pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The diagonal `(A₀₀, A₁₁, …)` of an `m × n` matrix as a `min(m, n) × 1` column (NumPy's
    /// and JAX's `diagonal`, nalgebra's `diagonal()`). Pullback: the cotangent on the diagonal
    /// of a zero `m × n` matrix.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let a = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0];
    /// let (d, g) = matrix::value_and_gradient(|m| m[0].diagonal().component_mul(m[0].diagonal()).sum(), &[a]);
    /// assert_eq!(d, 1.0 + 25.0);
    /// assert_eq!(g[0], dmatrix![2.0, 0.0, 0.0; 0.0, 10.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn diagonal(self) -> Self {
        let (a, shape) = (self.index(), self.shape());
        self.unary_op(|v| {
            let k = shape.0.min(shape.1);
            let mut out = pool::overwritten(k, 1);
            for (i, o) in out.iter_mut().enumerate() {
                *o = v[(i, i)];
            }
            (out, Box::new(Diagonal { a, shape }))
        })
    }

    /// The trace `Σᵢ Aᵢᵢ` of an `m × n` matrix (the sum of its [`diagonal`](Self::diagonal),
    /// `1 × 1`; NumPy's and JAX's `trace`, which also accept a non-square matrix). Gradient:
    /// the `m × n` identity.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // tr(A·B) has gradient Bᵀ with respect to A
    /// let (a, b) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![0.5, -1.0; 2.0, 0.25]);
    /// let g = matrix::gradient(|m| (m[0] * m[1]).trace(), &[a, b.clone()]);
    /// assert_eq!(g[0], b.transpose());
    /// ```
    #[track_caller]
    pub fn trace(self) -> Self {
        self.diagonal().sum()
    }
}
