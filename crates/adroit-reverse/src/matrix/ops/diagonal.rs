//! The diagonal of a matrix: reading it, its trace, adding to it, and a diagonal matrix
//! from a vector.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
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

/// Backward of [`MatVar::add_diagonal`]: `Ā = G`, and `d̄` the diagonal of `G` (its sum when
/// `d` is `1 × 1`).
struct AddDiagonal {
    a: u32,
    d: u32,
    /// `d` is `1 × 1`, added to every diagonal entry.
    scalar: bool,
}

impl<T: MatScalar> Backward<T> for AddDiagonal {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if grads.wants(self.d) {
            let k = g.nrows().min(g.ncols());
            let d_bar = if self.scalar {
                let mut sum = pool::overwritten(1, 1);
                sum[(0, 0)] = (0..k).fold(T::zero(), |t, i| t + g[(i, i)]);
                sum
            } else {
                let mut diagonal = pool::overwritten(k, 1);
                for (i, o) in diagonal.iter_mut().enumerate() {
                    *o = g[(i, i)];
                }
                diagonal
            };
            grads.accumulate(self.d, d_bar);
        }
        if grads.wants(self.a) {
            grads.accumulate(self.a, g);
        } else {
            pool::recycle(g);
        }
    }
}

/// Backward of [`MatVar::from_diagonal`]: `d̄` the diagonal of `G`.
struct FromDiagonal {
    d: u32,
}

impl<T: MatScalar> Backward<T> for FromDiagonal {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let mut diagonal = pool::overwritten(g.nrows(), 1);
        for (i, o) in diagonal.iter_mut().enumerate() {
            *o = g[(i, i)];
        }
        grads.accumulate(self.d, diagonal);
        pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// `A + diag(d)` for an `m × n` matrix `self`: `d` is `min(m, n) × 1` (one entry per
    /// diagonal entry) or `1 × 1` (added to every diagonal entry: `K + σ²·I` for a kernel
    /// matrix and a learnt noise variance, a ridge `XᵀX + λ·I`) — for a square `A` JAX's
    /// `A + jnp.diag(d)` and `A + s·jnp.eye(n)`; a tall or wide `A` gets `d` on its leading
    /// `min(m, n)` diagonal entries. One node, where `MatVar::constant(identity)` times `s`
    /// records two.
    ///
    /// Pullback: `Ā = G`, `d̄` the diagonal of `G` (its sum for a `1 × 1` `d`).
    ///
    /// # Panics
    /// If `d` is neither `min(m, n) × 1` nor `1 × 1` (both shapes in the message), or either
    /// holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // ln det(K + s·I) has gradient tr((K + s·I)⁻¹) with respect to s: 1/3 + 1/5 at s = 1
    /// let k = dmatrix![2.0_f64, 0.0; 0.0, 4.0];
    /// let g = matrix::gradient(|m| m[0].add_diagonal(m[1]).logabsdet(), &[k, dmatrix![1.0]]);
    /// assert!((g[1][(0, 0)] - (1.0 / 3.0 + 1.0 / 5.0)).abs() < 1e-15);
    /// ```
    #[track_caller]
    pub fn add_diagonal(self, d: Self) -> Self {
        let (rows, cols) = self.shape();
        let k = rows.min(cols);
        let scalar = d.shape() == (1, 1);
        assert!(
            scalar || d.shape() == (k, 1),
            "MatVar::add_diagonal: the diagonal of a {} matrix needs {} or 1×1 entries, not {}",
            shape_str((rows, cols)),
            shape_str((k, 1)),
            shape_str(d.shape())
        );
        let (ia, id) = (self.index(), d.index());
        self.binary_op(d, |a, d| {
            let mut out = pool::copy(a);
            for i in 0..k {
                out[(i, i)] += if scalar { d[(0, 0)] } else { d[(i, 0)] };
            }
            let rule = AddDiagonal {
                a: ia,
                d: id,
                scalar,
            };
            (out, Box::new(rule))
        })
    }

    /// The `n × n` diagonal matrix with diagonal `d` (`n × 1`): nalgebra's
    /// `DMatrix::from_diagonal`, NumPy's and JAX's `diag` of a vector, PyTorch's `diag_embed`.
    /// Pullback: the diagonal of the cotangent.
    ///
    /// # Panics
    /// If `d` is not a column (`n × 1`; its shape in the message).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let (m, pb) = matrix::pullback(|m| matrix::MatVar::from_diagonal(m[0]), &[dmatrix![1.0; 2.0]]);
    /// assert_eq!(m, dmatrix![1.0, 0.0; 0.0, 2.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 2.0; 3.0, 4.0])[0], dmatrix![1.0; 4.0]);
    /// ```
    #[track_caller]
    pub fn from_diagonal(d: Self) -> Self {
        let (n, cols) = d.shape();
        assert!(
            cols == 1,
            "MatVar::from_diagonal needs a column (n×1), not {}",
            shape_str((n, cols))
        );
        let id = d.index();
        d.unary_op(|v| {
            let mut out = pool::zeros(n, n);
            for i in 0..n {
                out[(i, i)] = v[(i, 0)];
            }
            (out, Box::new(FromDiagonal { d: id }))
        })
    }

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
