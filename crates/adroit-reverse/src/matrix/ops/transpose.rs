//! Transpose and reshape-free layout changes.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of `Aᵀ`: `∂A = Gᵀ`.
struct Transpose {
    a: u32,
}

impl<T: MatScalar> Backward<T> for Transpose {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let mut transposed = crate::matrix::pool::overwritten(g.ncols(), g.nrows());
        g.transpose_to(&mut transposed);
        grads.accumulate(self.a, transposed);
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The transpose: `m × n` → `n × m`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂A Σ (Aᵀ ⊙ W) = Wᵀ
    /// let w = dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0];
    /// let a = nalgebra::DMatrix::zeros(2, 3);
    /// let g = matrix::gradient(|m| m[0].transpose().weighted_sum(w.clone()), &[a]);
    /// assert_eq!(g[0], w.transpose());
    /// ```
    #[track_caller]
    pub fn transpose(self) -> Self {
        let a = self.index();
        self.unary_op(|v| (v.transpose(), Box::new(Transpose { a })))
    }
}
