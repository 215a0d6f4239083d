//! Picking one entry per column (or per row) by index: JAX's `take_along_axis`, PyTorch's
//! `gather` — e.g. each sample's logit of its true class, from integer labels.

use super::Along;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of a pick: the cotangent added at the picked entries of the parent's adjoint (the
/// other entries receive nothing, so none of them is touched).
struct Take {
    a: u32,
    along: Along,
    indices: Vec<usize>,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for Take {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if let Some(adjoint) = grads.dense_adjoint_mut(self.a, self.shape) {
            for (k, (&index, &v)) in self.indices.iter().zip(g.iter()).enumerate() {
                match self.along {
                    Along::Rows => adjoint[(index, k)] += v,
                    Along::Cols => adjoint[(k, index)] += v,
                }
            }
        }
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// One entry per line, picked by index: for [`Along::Rows`], entry `j` of the `1 × cols`
    /// result is `self[(indices[j], j)]` (one index per column — per sample in the
    /// features × batch layout, e.g. the logit of each sample's class); for [`Along::Cols`],
    /// entry `i` of the `rows × 1` result is `self[(i, indices[i])]`. JAX's
    /// `take_along_axis(x, idx, axis)` with the reduced dimension kept, PyTorch's
    /// `gather(dim, idx)`: `Along::Rows` is axis / dim 0 (the indices shaped `1 × cols` there),
    /// `Along::Cols` axis / dim 1 (indices `rows × 1`). The gradient is the cotangent at the
    /// picked entries, zero elsewhere.
    ///
    /// Differences from those: exactly one index per line (they take `k` per line — call
    /// this `k` times and concatenate), and an out-of-range index panics, as in PyTorch
    /// (JAX's `take_along_axis` fills or clamps it silently).
    ///
    /// # Panics
    /// If `indices` does not have one index per column (`Along::Rows`) or per row
    /// (`Along::Cols`), or an index is out of range (the message names the first such index
    /// and the shape): indices read from data (labels) should be checked first, e.g. by
    /// adroit-nn's `onehot`.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // logits: 3 classes × 2 samples; labels 2 and 0; loss = mean(logsumexp − true logit)
    /// let z = dmatrix![1.0, 0.5; 2.0, -1.0; 0.0, 3.0];
    /// let labels = [2, 0];
    /// let (loss, g) = matrix::value_and_gradient(
    ///     |m| {
    ///         let picked = m[0].take_along(Along::Rows, &labels);
    ///         (m[0].logsumexp(Along::Rows) - picked).mean()
    ///     },
    ///     &[&z],
    /// );
    /// assert!(loss > 0.0);
    /// // ∂/∂z = (softmax − onehot) / 2: the true classes' entries are negative
    /// assert!(g[0][(2, 0)] < 0.0 && g[0][(0, 1)] < 0.0 && g[0][(1, 0)] > 0.0);
    /// ```
    #[track_caller]
    pub fn take_along(self, along: Along, indices: &[usize]) -> Self {
        let shape = self.shape();
        let (lines, extent, kind) = match along {
            Along::Rows => (shape.1, shape.0, "column"),
            Along::Cols => (shape.0, shape.1, "row"),
        };
        assert!(
            indices.len() == lines,
            "take_along: {} indices for a {} matrix (one per {kind}: {lines})",
            indices.len(),
            shape_str(shape)
        );
        if let Some((k, &bad)) = indices.iter().enumerate().find(|&(_, &i)| i >= extent) {
            panic!(
                "take_along: index {bad} (for {kind} {k}) is out of range for a {} matrix",
                shape_str(shape)
            );
        }
        let a = self.index();
        let indices = indices.to_vec();
        self.unary_op(|v| {
            let out = match along {
                Along::Rows => DMatrix::from_fn(1, lines, |_, j| v[(indices[j], j)]),
                Along::Cols => DMatrix::from_fn(lines, 1, |i, _| v[(i, indices[i])]),
            };
            let backward = Take {
                a,
                along,
                indices,
                shape,
            };
            (out, Box::new(backward))
        })
    }
}
