//! Matrix product `A·B`.

use crate::matrix::gemm::{Operand, product, pullback_product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::{assert_countable, shape_str};
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Backward of `C = A·B`: `∂A = G·Bᵀ`, `∂B = Aᵀ·G`. Saves the parent indices (their values
/// stay on the tape); the transposes are read in place (see `matrix::gemm`).
struct MatMul {
    a: u32,
    b: u32,
}

impl<T: MatScalar> Backward<T> for MatMul {
    fn backward(&self, g: DMatrix<T>, values: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        accumulate_product_pullbacks(self.a, self.b, &g, values, grads);
        crate::matrix::pool::recycle(g);
    }
}

/// The pullback of a product `A·B` (nodes `a`, `b`) with cotangent `g`: `∂A += G·Bᵀ`,
/// `∂B += Aᵀ·G`, each only when wanted.
pub(super) fn accumulate_product_pullbacks<T: MatScalar>(
    a: u32,
    b: u32,
    g: &DMatrix<T>,
    values: &[NodeValue<T>],
    grads: &mut Grads<'_, T>,
) {
    let (va, vb) = (values[a as usize].get(), values[b as usize].get());
    if grads.wants(a) {
        grads.accumulate(
            a,
            pullback_product(Operand::plain(g), Operand::transposed(vb)),
        );
    }
    if grads.wants(b) {
        grads.accumulate(
            b,
            pullback_product(Operand::transposed(va), Operand::plain(g)),
        );
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The matrix product `self · rhs`: (`m × k`)·(`k × n`) → `m × n`. Also written `self * rhs`
    /// (the matrix product, as `@` in NumPy and JAX; the entry-wise product is
    /// [`Self::component_mul`]).
    ///
    /// The pullback, `∂A = G·Bᵀ`, `∂B = Aᵀ·G` on the matrix kernel, keeps the crate's
    /// `0·∞ = 0` convention ([`adroit_forward::chain_product`]): a zero cotangent against an
    /// infinite or NaN entry of the other factor contributes 0 (a sample the loss never reads
    /// leaves the weight gradient finite; PyTorch and JAX give NaN there), and so does a NaN
    /// or infinite cotangent against a zero entry (a NaN in one sample's features makes NaN
    /// only the weight-gradient entries of that sample's nonzero features — JAX and PyTorch
    /// make the whole rows NaN; check data for finiteness, as adroit-nn's `train` does for
    /// losses and gradients). The products are
    /// checked for NaN for that (through the operands when they are smaller), and only NaN
    /// entries are formed again term by term: the check cost 1–6 % of an MLP training step
    /// (BENCHMARKS.md §0).
    ///
    /// # Panics
    /// If the inner dimensions differ (the message gives both shapes, and points to
    /// [`Self::component_mul`] when they are equal), or if the `m × n`
    /// result would have more entries than `usize` counts (possible only with an empty inner
    /// dimension, `m × 0` times `0 × n`).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // loss sum(A·B), A 2 × 2, B 2 × 1: G is all ones, ∂A = G·Bᵀ, ∂B = Aᵀ·G
    /// let (a, b) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![5.0; 6.0]);
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].matmul(m[1]).sum(), &[a, b]);
    /// assert_eq!(v, 17.0 + 39.0);
    /// assert_eq!(g, vec![dmatrix![5.0, 6.0; 5.0, 6.0], dmatrix![4.0; 6.0]]);
    /// ```
    #[track_caller]
    pub fn matmul(self, rhs: Self) -> Self {
        assert!(
            self.ncols() == rhs.nrows(),
            "matmul: shape mismatch {} · {} (inner dimensions differ){}",
            shape_str(self.shape()),
            shape_str(rhs.shape()),
            if self.shape() == rhs.shape() {
                "; `*` is the matrix product (as nalgebra's): the entry-wise product is \
                 `component_mul`"
            } else if self.shape() == (1, 1) || rhs.shape() == (1, 1) {
                "; to scale by a 1×1 matrix, use `component_mul`, which broadcasts it"
            } else {
                ""
            }
        );
        assert_countable::<T>(
            "matmul",
            (self.nrows(), rhs.ncols()),
            (self.shape(), rhs.shape()),
        );
        self.binary_op(rhs, |a, b| {
            (
                product(Operand::plain(a), Operand::plain(b)),
                Box::new(MatMul {
                    a: self.index(),
                    b: rhs.index(),
                }),
            )
        })
    }
}

impl<T: MatScalar> core::ops::Mul for MatVar<T> {
    type Output = Self;
    /// The matrix product (as nalgebra's `*`); see [`MatVar::matmul`].
    #[track_caller]
    fn mul(self, rhs: Self) -> Self {
        self.matmul(rhs)
    }
}
