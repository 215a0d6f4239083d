//! Whole rows or columns picked by index, repeats allowed: PyTorch's `index_select`, JAX's
//! `take(x, idx, axis)` — e.g. an embedding table's columns for a batch of tokens.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Which lines a [`TakeLines`] picks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lines {
    Rows,
    Columns,
}

/// Backward of a pick of whole lines: line `k` of the cotangent added to line `indices[k]` of
/// the parent's adjoint (a line picked twice receives both).
struct TakeLines {
    a: u32,
    lines: Lines,
    indices: Vec<usize>,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for TakeLines {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if let Some(adjoint) = grads.dense_adjoint_mut(self.a, self.shape) {
            match self.lines {
                Lines::Columns => {
                    for (k, &index) in self.indices.iter().enumerate() {
                        let mut column = adjoint.column_mut(index);
                        column += g.column(k);
                    }
                }
                Lines::Rows if self.shape.0 > 0 && !self.indices.is_empty() => {
                    // Column by column, along the storage of both (a row is strided).
                    let to = adjoint.as_mut_slice().chunks_exact_mut(self.shape.0);
                    for (to, from) in to.zip(g.as_slice().chunks_exact(self.indices.len())) {
                        for (&index, &v) in self.indices.iter().zip(from) {
                            to[index] += v;
                        }
                    }
                }
                Lines::Rows => {}
            }
        }
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The columns `indices` of `self`, in that order (repeats allowed): a `rows ×
    /// indices.len()` matrix whose column `k` is column `indices[k]`. PyTorch's
    /// `index_select(1, idx)`, JAX's `take(x, idx, axis=1)`; the gradient adds each column's
    /// cotangent to the column it was taken from (a column taken twice receives both, one
    /// never taken 0). An embedding lookup: the columns of a `dim × vocabulary` table for a
    /// batch of token ids.
    ///
    /// # Panics
    /// If an index is out of range (the message names the first such index and the shape; as
    /// PyTorch raises, where JAX's `take` fills with NaN by default or clamps with
    /// `mode="clip"`): indices read from data should be checked first, as adroit-nn's
    /// `Embedding` does.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let table = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0]; // 2 × 3: three embeddings
    /// let (y, g) = matrix::value_and_gradient(
    ///     |m| {
    ///         let picked = m[0].take_columns(&[2, 0, 2]);
    ///         assert_eq!(picked.value(), dmatrix![3.0, 1.0, 3.0; 6.0, 4.0, 6.0]);
    ///         picked.sum()
    ///     },
    ///     &[table],
    /// );
    /// assert_eq!(y, 23.0);
    /// assert_eq!(g[0], dmatrix![1.0, 0.0, 2.0; 1.0, 0.0, 2.0]); // column 2 taken twice
    /// ```
    #[track_caller]
    pub fn take_columns(self, indices: &[usize]) -> Self {
        self.take_lines(Lines::Columns, indices)
    }

    /// The rows `indices` of `self`, in that order (repeats allowed): an `indices.len() ×
    /// cols` matrix whose row `k` is row `indices[k]`. PyTorch's `index_select(0, idx)`, JAX's
    /// `take(x, idx, axis=0)`; gradient as [`take_columns`](Self::take_columns).
    ///
    /// # Panics
    /// If an index is out of range (naming the first such index and the shape).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let x = dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0];
    /// let g = matrix::gradient(|m| m[0].take_rows(&[1, 1]).sum(), &[x]);
    /// assert_eq!(g[0], dmatrix![0.0, 0.0; 2.0, 2.0; 0.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn take_rows(self, indices: &[usize]) -> Self {
        self.take_lines(Lines::Rows, indices)
    }

    #[track_caller]
    fn take_lines(self, lines: Lines, indices: &[usize]) -> Self {
        let shape = self.shape();
        let (extent, name, kind) = match lines {
            Lines::Rows => (shape.0, "take_rows", "row"),
            Lines::Columns => (shape.1, "take_columns", "column"),
        };
        if let Some((k, &bad)) = indices.iter().enumerate().find(|&(_, &i)| i >= extent) {
            panic!(
                "{name}: {kind} index {bad} (entry {k} of the indices) is out of range for a {} \
                 matrix",
                shape_str(shape)
            );
        }
        let a = self.index();
        let indices = indices.to_vec();
        self.unary_op(|v| {
            let out = match lines {
                Lines::Columns => {
                    DMatrix::from_fn(shape.0, indices.len(), |i, k| v[(i, indices[k])])
                }
                Lines::Rows => DMatrix::from_fn(indices.len(), shape.1, |k, j| v[(indices[k], j)]),
            };
            let backward = TakeLines {
                a,
                lines,
                indices,
                shape,
            };
            (out, Box::new(backward))
        })
    }
}
