//! The affine map `W·x + b` as one node (a dense layer's pre-activation).

use super::broadcast::{add_broadcast_in_place, reduced};
use super::matmul::accumulate_product_pullbacks;
use crate::matrix::gemm::{Operand, product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::{assert_countable, shape_str};
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of `Y = W·x + b`: `∂W = G·xᵀ`, `∂x = Wᵀ·G`, `∂b = G` summed over the dimensions
/// `b` was repeated along. Saves the parent indices and `b`'s shape.
struct Affine {
    w: u32,
    x: u32,
    b: u32,
    b_shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for Affine {
    fn backward(&self, g: DMatrix<T>, values: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        // ∂b first, then ∂W and ∂x: the order in which `matmul` then `+` accumulate them (the
        // sum's node is swept before the product's), so that a bias which is also `W` or `x`
        // (`w.affine(h, h)`) gets its contributions added in the same order, bit for bit.
        if grads.wants(self.b) {
            grads.accumulate(self.b, reduced(&g, self.b_shape));
        }
        accumulate_product_pullbacks(self.w, self.x, &g, values, grads);
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The affine map `self · x + b` as one node: `W` (`self`) `m × k`, `x` `k × n`, and `b`
    /// broadcast to `m × n` (`m × 1` — a bias in the features × batch layout —, `1 × n`,
    /// `1 × 1` or `m × n`). PyTorch's `addmm(b, W, x)`; Flux's `Dense` computes `W*x .+ b`.
    ///
    /// Values and gradients are those of `self.matmul(x) + b`, bit for bit (the same product,
    /// then the same additions; the pullback `∂W = G·xᵀ`, `∂x = Wᵀ·G` with the product's
    /// `0·∞ = 0` convention, `∂b = G` summed along the repeated dimensions, accumulated in
    /// the same order) when `b` is recorded before the product, as `w.matmul(x) + b` with `b`
    /// an input or computed first (when `b` is computed from `W` or `x` after the product,
    /// the sweep reaches their other uses in another order: a shared input's contributions
    /// may then be added in another order, a rounding difference), recorded as one node
    /// instead of two: no separate sum matrix and no
    /// copy of the cotangent (a 4-16-3 MLP training step records two of them per step). One
    /// difference: `+` would also stretch the product to a larger `b` (a `m × 1` product and a
    /// `m × n` bias), which `affine` refuses.
    ///
    /// Empty dimensions follow the product and broadcasting: `k = 0` gives `b` broadcast to
    /// `m × n` (an empty sum is 0), and a bias dimension of 1 stretches to 0 (as NumPy's).
    ///
    /// # Panics
    /// If the inner dimensions differ, or `b` does not broadcast to `m × n` (the message gives
    /// the shapes), or if the `m × n` result would have more entries than `usize` counts
    /// (possible only with `k = 0`).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // W 2 × 2, x 2 × 1, b 2 × 1: sum(W·x + b); ∂W = 1·xᵀ, ∂x = Wᵀ·1, ∂b = 1
    /// let (w, x, b) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![5.0; 6.0], dmatrix![0.5; -1.0]);
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].affine(m[1], m[2]).sum(), &[w, x, b]);
    /// assert_eq!(v, 17.5 + 38.0);
    /// assert_eq!(g[0], dmatrix![5.0, 6.0; 5.0, 6.0]);
    /// assert_eq!(g[1], dmatrix![4.0; 6.0]);
    /// assert_eq!(g[2], dmatrix![1.0; 1.0]);
    /// ```
    #[track_caller]
    pub fn affine(self, x: Self, b: Self) -> Self {
        assert!(
            self.ncols() == x.nrows(),
            "affine: shape mismatch {} · {} (inner dimensions differ)",
            shape_str(self.shape()),
            shape_str(x.shape())
        );
        let shape = (self.nrows(), x.ncols());
        assert_countable::<T>("affine", shape, (self.shape(), x.shape()));
        let fits = |dim: usize, to: usize| dim == to || dim == 1;
        assert!(
            fits(b.nrows(), shape.0) && fits(b.ncols(), shape.1),
            "affine: the bias {} does not broadcast to the product's {} (each dimension must \
             equal the product's or be 1)",
            shape_str(b.shape()),
            shape_str(shape)
        );
        let backward = Affine {
            w: self.index(),
            x: x.index(),
            b: b.index(),
            b_shape: b.shape(),
        };
        MatVar::nary_op([self, x, b], |[w, x, b]| {
            let mut value = product(Operand::plain(w), Operand::plain(x));
            add_broadcast_in_place(&mut value, b);
            (value, Box::new(backward))
        })
    }
}
