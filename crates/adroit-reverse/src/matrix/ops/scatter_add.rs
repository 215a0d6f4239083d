//! Rows added into place by index: the adjoint of [`MatVar::take_rows_padded`], under
//! transposed convolutions (PyTorch's `fold` / col2im on each sample's column).

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of a scatter-add of rows: entry `(k, j)` of the parent's adjoint receives entry
/// `(indices[k], j)` of the cotangent; a dropped row (`None`) receives nothing.
struct ScatterAddRows {
    a: u32,
    indices: Vec<Option<usize>>,
    shape: (usize, usize),
    rows: usize,
}

impl<T: MatScalar> Backward<T> for ScatterAddRows {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if let Some(adjoint) = grads.dense_adjoint_mut(self.a, self.shape)
            && self.shape.0 > 0
            && self.rows > 0
        {
            // Column by column along both matrices' storage.
            let to = adjoint.as_mut_slice().chunks_exact_mut(self.shape.0);
            for (to, from) in to.zip(g.as_slice().chunks_exact(self.rows)) {
                for (t, index) in to.iter_mut().zip(&self.indices) {
                    if let Some(i) = *index {
                        *t += from[i];
                    }
                }
            }
        }
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// A `rows × cols` matrix of zeros into which each row `k` of `self` is added at row
    /// `indices[k]`: entry `(i, j)` is the sum of `self[(k, j)]` over every `k` with
    /// `indices[k] = Some(i)`, and a row whose index is `None` is dropped. `indices` has one
    /// entry per row of `self`; an index may repeat (its rows are summed) and a row of the
    /// result no index names stays 0.
    ///
    /// It is the adjoint of [`take_rows_padded`](Self::take_rows_padded) with the same
    /// indices (the transposed 0/1 selection), as PyTorch's `index_add_` along dimension 0,
    /// JAX's `.at[indices].add`, and NNlib's `scatter(+, …)` are of their gathers. With one
    /// sample per column it folds patches back into images (PyTorch's `fold`, col2im): the
    /// forward pass of a transposed convolution. Its gradient is the gather
    /// `take_rows_padded(indices, 0)` of the cotangent.
    ///
    /// # Panics
    /// If `indices` does not have one entry per row of `self`, an index is not below `rows`
    /// (the message names the first such index and the shapes), or `rows × cols` overflows
    /// `usize`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // Overlapping windows of two, stored as in `take_rows_padded`'s example, folded back
    /// // into three rows: an entry in two windows is added twice.
    /// let windows = [None, Some(0), Some(0), Some(1), Some(1), Some(2), Some(2), None];
    /// let patches = dmatrix![1.0; 2.0; 3.0; 4.0; 5.0; 6.0; 7.0; 8.0];
    /// let (y, g) = matrix::pullback(
    ///     |m| m[0].scatter_add_rows(&windows, 3),
    ///     std::slice::from_ref(&patches),
    /// );
    /// assert_eq!(y, dmatrix![2.0 + 3.0; 4.0 + 5.0; 6.0 + 7.0]);
    /// // The gradient gathers the cotangent back: 0 for the dropped rows.
    /// let g = g.call(&dmatrix![10.0; 20.0; 30.0]);
    /// assert_eq!(g[0], dmatrix![0.0; 10.0; 10.0; 20.0; 20.0; 30.0; 30.0; 0.0]);
    /// ```
    #[track_caller]
    pub fn scatter_add_rows(self, indices: &[Option<usize>], rows: usize) -> Self {
        let shape = self.shape();
        if indices.len() != shape.0 {
            panic!(
                "scatter_add_rows: {} indices for a {} matrix (one per row)",
                indices.len(),
                shape_str(shape)
            );
        }
        if let Some((k, bad)) = indices
            .iter()
            .enumerate()
            .find_map(|(k, i)| i.filter(|&i| i >= rows).map(|i| (k, i)))
        {
            panic!(
                "scatter_add_rows: row index {bad} (entry {k} of the indices) is out of range \
                 for a {} result",
                shape_str((rows, shape.1))
            );
        }
        assert!(
            rows.checked_mul(shape.1).is_some(),
            "scatter_add_rows: a {} result has more entries than usize counts",
            shape_str((rows, shape.1))
        );
        let a = self.index();
        let indices = indices.to_vec();
        self.unary_op(|v| {
            let mut out = crate::matrix::pool::zeros(rows, shape.1);
            if shape.0 > 0 && rows > 0 {
                // Column by column along both matrices' storage.
                let to = out.as_mut_slice().chunks_exact_mut(rows);
                for (to, from) in to.zip(v.as_slice().chunks_exact(shape.0)) {
                    for (&f, index) in from.iter().zip(&indices) {
                        if let Some(i) = *index {
                            to[i] += f;
                        }
                    }
                }
            }
            let backward = ScatterAddRows {
                a,
                indices,
                shape,
                rows,
            };
            (out, Box::new(backward))
        })
    }
}
