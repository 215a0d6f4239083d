//! Entry-wise choice between two matrices by a constant mask (`jnp.where`, `torch.where`).

use super::broadcast::reduce_to;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of [`MatVar::select`]: the cotangent's entries where the mask is true go to the
/// first operand, the others to the second, each summed over the dimensions it was repeated
/// along.
struct Select {
    on_true: u32,
    on_false: u32,
    true_shape: (usize, usize),
    false_shape: (usize, usize),
    mask: DMatrix<bool>,
}

impl Select {
    /// `g`'s entries where the mask equals `keep`, 0 elsewhere.
    fn part<T: MatScalar>(&self, g: &DMatrix<T>, keep: bool) -> DMatrix<T> {
        let mut out = pool::overwritten(g.nrows(), g.ncols());
        for ((o, &x), &m) in out.iter_mut().zip(g.iter()).zip(self.mask.iter()) {
            *o = if m == keep { x } else { T::zero() };
        }
        out
    }
}

impl<T: MatScalar> Backward<T> for Select {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if grads.wants(self.on_true) {
            let part = self.part(&g, true);
            grads.accumulate(self.on_true, reduce_to(part, self.true_shape));
        }
        if grads.wants(self.on_false) {
            let part = self.part(&g, false);
            grads.accumulate(self.on_false, reduce_to(part, self.false_shape));
        }
        pool::recycle(g);
    }
}

/// Entry `(i, j)` of `m` repeated to a larger shape (a dimension of 1 repeated).
fn repeated<T: Copy>(m: &DMatrix<T>, i: usize, j: usize) -> T {
    let row = if m.nrows() == 1 { 0 } else { i };
    let col = if m.ncols() == 1 { 0 } else { j };
    m[(row, col)]
}

impl<T: MatScalar> MatVar<T> {
    /// `mask ? on_true : on_false` entry by entry: the result has `mask`'s shape, and each of
    /// `on_true` and `on_false` either that shape or one broadcast to it (NumPy's rules for two
    /// dimensions: each dimension equal or 1, e.g. a `1 × 1` constant). JAX's
    /// `jnp.where(mask, on_true, on_false)`, PyTorch's `torch.where`; with a `1 × 1` constant
    /// as `on_true`, PyTorch's `masked_fill` (a causal attention mask: `−∞` above the
    /// diagonal before a softmax).
    ///
    /// The mask is a constant (not differentiated). Pullback: the cotangent where the mask is
    /// true goes to `on_true`, the rest to `on_false` (summed along broadcast dimensions);
    /// nothing is multiplied, so the branch not taken gets exactly 0 even where the cotangent
    /// is infinite or NaN. And an unused branch's own non-finite derivatives do not leak: with
    /// the tape's `0·∞ = 0` convention, `select(x > 0, ln(x), 0)` has gradient 0 at `x = 0`
    /// (where `ln`'s slope is infinite) and `select(x > 0, √x, 0)` at `x < 0` (where `√`'s
    /// slope is NaN) — JAX's `where` gives NaN there unless the input is masked a second time
    /// (the "double where" idiom).
    ///
    /// # Panics
    /// If `on_true` or `on_false` cannot be broadcast to `mask`'s shape (all three shapes in
    /// the message), or either holds variables of another scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::{self, DMatrix, dmatrix};
    /// // ReLU written with a mask, and ln where positive, 0 elsewhere: finite gradients.
    /// let x = dmatrix![-1.0_f64, 0.0, 2.0];
    /// let mask = x.map(|v| v > 0.0);
    /// let zero = || MatVar::constant(dmatrix![0.0]);
    /// let g = matrix::gradient(
    ///     |m| MatVar::select(&mask, m[0].ln(), zero()).sum() + MatVar::select(&mask, m[0], zero()).sum(),
    ///     &[x],
    /// );
    /// assert_eq!(g[0], dmatrix![0.0, 0.0, 1.5]);
    /// ```
    #[track_caller]
    pub fn select(mask: &DMatrix<bool>, on_true: Self, on_false: Self) -> Self {
        let shape = mask.shape();
        let fits = |s: (usize, usize)| (s.0 == shape.0 || s.0 == 1) && (s.1 == shape.1 || s.1 == 1);
        assert!(
            fits(on_true.shape()) && fits(on_false.shape()),
            "MatVar::select: a {} mask needs operands of its shape or broadcast to it, got {} and {}",
            shape_str(shape),
            shape_str(on_true.shape()),
            shape_str(on_false.shape())
        );
        let (true_shape, false_shape) = (on_true.shape(), on_false.shape());
        let (it, if_) = (on_true.index(), on_false.index());
        let mask = mask.clone();
        on_true.binary_op(on_false, |a, b| {
            let mut out = pool::overwritten(shape.0, shape.1);
            for j in 0..shape.1 {
                for i in 0..shape.0 {
                    out[(i, j)] = if mask[(i, j)] {
                        repeated(a, i, j)
                    } else {
                        repeated(b, i, j)
                    };
                }
            }
            let rule = Select {
                on_true: it,
                on_false: if_,
                true_shape,
                false_shape,
                mask,
            };
            (out, Box::new(rule))
        })
    }
}
