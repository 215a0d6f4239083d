//! Reshape (column-major, as nalgebra stores matrices).

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of a reshape: the adjoint reshaped back. Saves the original shape.
struct Reshape {
    a: u32,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for Reshape {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let (r, c) = self.shape;
        grads.accumulate(
            self.a,
            g.reshape_generic(nalgebra::Dyn(r), nalgebra::Dyn(c)),
        );
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The same entries in column-major order as a `rows × cols` matrix.
    ///
    /// # Panics
    /// If `rows · cols` differs from the number of entries.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // column-major: the entries 1, 4, 2, 5, 3, 6 refilled into 3 × 2
    /// let x = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].reshape(3, 2), &[x.clone()]);
    /// assert_eq!(y, dmatrix![1.0, 5.0; 4.0, 3.0; 2.0, 6.0]);
    /// // the cotangent is reshaped back
    /// assert_eq!(pb.call(&y)[0], x);
    /// ```
    #[track_caller]
    pub fn reshape(self, rows: usize, cols: usize) -> Self {
        // `checked_mul`: a wrapped product could pass the test with a shape whose entries do
        // not exist (nalgebra's own reshape does not check for overflow either).
        assert!(
            rows.checked_mul(cols) == Some(self.nrows() * self.ncols()),
            "reshape: cannot reshape {} into {}",
            shape_str(self.shape()),
            shape_str((rows, cols))
        );
        let (a, shape) = (self.index(), self.shape());
        self.unary_op(|v| {
            let out = crate::matrix::pool::copy(v)
                .reshape_generic(nalgebra::Dyn(rows), nalgebra::Dyn(cols));
            (out, Box::new(Reshape { a, shape }))
        })
    }
}
