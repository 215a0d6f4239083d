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
        grads.accumulate(self.a, g.transpose());
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The transpose: `m × n` → `n × m`.
    #[track_caller]
    pub fn transpose(self) -> Self {
        let a = self.index();
        self.unary_op(|v| (v.transpose(), Box::new(Transpose { a })))
    }
}
