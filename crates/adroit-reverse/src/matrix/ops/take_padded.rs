//! Rows picked by index with a fill for the missing ones: the gather under convolution and
//! pooling layers (PyTorch's `unfold` / im2col on each sample's column, padding included).

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of a padded pick of rows: entry `(k, j)` of the cotangent added to entry
/// `(indices[k], j)` of the parent's adjoint; the filled entries send nothing back.
struct TakeRowsPadded {
    a: u32,
    indices: Vec<Option<usize>>,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for TakeRowsPadded {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if let Some(adjoint) = grads.dense_adjoint_mut(self.a, self.shape)
            && self.shape.0 > 0
            && !self.indices.is_empty()
        {
            // Column by column along both matrices' storage.
            let to = adjoint.as_mut_slice().chunks_exact_mut(self.shape.0);
            for (to, from) in to.zip(g.as_slice().chunks_exact(self.indices.len())) {
                for (index, &v) in self.indices.iter().zip(from) {
                    if let Some(i) = *index {
                        to[i] += v;
                    }
                }
            }
        }
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The rows `indices` of `self`, in that order, with `fill` where an index is `None`: an
    /// `indices.len() × cols` matrix whose entry `(k, j)` is `self[(i, j)]` for `indices[k] =
    /// Some(i)` and `fill` for `None`. Repeats are allowed; the gradient adds each entry's
    /// cotangent to the entry it was taken from (a filled entry's goes nowhere).
    ///
    /// With one sample per column this applies the same gather to every sample: the
    /// patches of a convolution (each sample's `channels·height·width` features gathered into
    /// `channels·kh·kw` rows per output position, `None` for the zero padding — PyTorch's
    /// `unfold`, im2col) or the windows of a max pool (`fill = −∞`, PyTorch's padding there).
    /// Reshaping the result regroups them (`take_rows_padded(..).reshape(..)`).
    /// [`take_rows`](Self::take_rows) is the same gather without a fill.
    ///
    /// # Panics
    /// If an index is out of range (the message names the first such index and the shape).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // Two samples of three features; each sample's windows of two, padded by one zero on
    /// // each side: [0, x0], [x0, x1], [x1, x2], [x2, 0], as 2 × 4 blocks side by side.
    /// let x = dmatrix![1.0, 4.0; 2.0, 5.0; 3.0, 6.0];
    /// let windows = [None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2), None];
    /// let (y, g) = matrix::value_and_gradient(
    ///     |m| {
    ///         let patches = m[0].take_rows_padded(&windows, 0.0).reshape(2, 8);
    ///         assert_eq!(
    ///             patches.value(),
    ///             dmatrix![0.0, 1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0;
    ///                      1.0, 2.0, 3.0, 0.0, 4.0, 5.0, 6.0, 0.0]
    ///         );
    ///         patches.sum()
    ///     },
    ///     &[x],
    /// );
    /// assert_eq!(y, 42.0);
    /// assert_eq!(g[0], dmatrix![2.0, 2.0; 2.0, 2.0; 2.0, 2.0]); // each entry in two windows
    /// ```
    #[track_caller]
    pub fn take_rows_padded(self, indices: &[Option<usize>], fill: T) -> Self {
        let shape = self.shape();
        if let Some((k, bad)) = indices
            .iter()
            .enumerate()
            .find_map(|(k, i)| i.filter(|&i| i >= shape.0).map(|i| (k, i)))
        {
            panic!(
                "take_rows_padded: row index {bad} (entry {k} of the indices) is out of range \
                 for a {} matrix",
                shape_str(shape)
            );
        }
        let a = self.index();
        let indices = indices.to_vec();
        self.unary_op(|v| {
            let mut out = DMatrix::from_element(indices.len(), shape.1, fill);
            if shape.0 > 0 && !indices.is_empty() {
                // Column by column along both matrices' storage.
                let to = out.as_mut_slice().chunks_exact_mut(indices.len());
                for (to, from) in to.zip(v.as_slice().chunks_exact(shape.0)) {
                    for (t, index) in to.iter_mut().zip(&indices) {
                        if let Some(i) = *index {
                            *t = from[i];
                        }
                    }
                }
            }
            let backward = TakeRowsPadded { a, indices, shape };
            (out, Box::new(backward))
        })
    }
}
