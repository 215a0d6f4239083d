//! The determinant as a node: LU for the value, and a gradient (the transposed adjugate) that
//! stays defined at singular matrices.

use super::linear_solve::{Factors, assert_square, scale_by_cotangent};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of `det A`: `Ā = ḡ·adj(A)ᵀ` — `det A·A⁻ᵀ` from the saved LU factors, or, at a
/// singular `A` (a zero pivot), from the SVD.
struct Determinant<T: MatScalar> {
    a: u32,
    factors: Factors<T>,
    det: T,
    /// `A` itself, for the SVD at a singular matrix.
    primal: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Determinant<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let cotangent = g[0];
        pool::recycle(g);
        // A zero cotangent contributes nothing (and skips the O(n³) work).
        if cotangent.is_zero() || !grads.wants(self.a) {
            return;
        }
        let mut adjugate_t = if self.factors.singular() {
            adjugate_transposed_by_svd(&self.primal)
        } else {
            let mut inverse_t = self.factors.inverse_transposed();
            scale_by_cotangent(&mut inverse_t, self.det);
            inverse_t
        };
        scale_by_cotangent(&mut adjugate_t, cotangent);
        grads.accumulate(self.a, adjugate_t);
    }
}

/// `adj(A)ᵀ` from the SVD `A = U·diag(σ)·Vᵀ`: `det U · det V · U·diag(πᵢ)·Vᵀ` with
/// `πᵢ = Πⱼ≠ᵢ σⱼ` — defined at every matrix (at rank `n − 1` one term survives; at lower rank
/// it is 0), where `det A·A⁻ᵀ` is `0·∞`. All NaN for an entry that is NaN or infinite.
fn adjugate_transposed_by_svd<T: MatScalar>(a: &DMatrix<T>) -> DMatrix<T> {
    let n = a.nrows();
    if a.iter().any(|v| !v.is_finite()) {
        return DMatrix::from_element(n, n, T::undefined());
    }
    let (u, s, v_t) = T::thin_svd(a);
    // The orthogonal factors' determinants are ±1: their signs, from the values.
    let sign = |m: &DMatrix<T>| {
        if m.clone().lu().determinant() < T::zero() {
            -T::one()
        } else {
            T::one()
        }
    };
    let orientation = sign(&u) * sign(&v_t);
    // Products of all but one singular value, by prefix and suffix products.
    let mut prefix = vec![T::one(); n + 1];
    for i in 0..n {
        prefix[i + 1] = prefix[i] * s[i];
    }
    let mut others = vec![T::one(); n];
    let mut suffix = T::one();
    for i in (0..n).rev() {
        others[i] = prefix[i] * suffix * orientation;
        suffix *= s[i];
    }
    let scaled = DMatrix::from_fn(n, n, |i, j| u[(i, j)] * others[j]);
    scaled * v_t
}

impl<T: MatScalar> MatVar<T> {
    /// `det A` of a square matrix, `1 × 1` (NumPy's, JAX's and PyTorch's `det`), as
    /// `det P · Π Uᵢᵢ` of the LU factorisation with partial pivoting; 1 for a `0 × 0` matrix.
    /// It overflows or underflows where the product does: for likelihoods and volumes prefer
    /// [`logabsdet`](Self::logabsdet).
    ///
    /// Pullback: `Ā = ḡ·adj(A)ᵀ`, the transposed adjugate (Jacobi's formula), which is
    /// `ḡ·det A·A⁻ᵀ` at an invertible `A` (from the saved factors) and is also defined at a
    /// singular one, where it is formed from the SVD, `det U·det V·U·diag(Πⱼ≠ᵢ σⱼ)·Vᵀ`
    /// (PyTorch's choice too; `det A·A⁻ᵀ` would be `0·∞`): the cofactor matrix at rank
    /// `n − 1`, 0 at lower rank. A zero cotangent contributes nothing; a matrix with a NaN or
    /// infinite entry gives NaN.
    ///
    /// Second derivatives ([`matrix::hvp`](crate::matrix::hvp),
    /// [`matrix::hessian`](crate::matrix::hessian)) are exact at invertible matrices (the
    /// factors carry exact tangents); at a singular one they come through the SVD, exact where
    /// its singular values are distinct (at a repeated one, such as the zero matrix of size
    /// 3 or more, entries are infinite or NaN).
    ///
    /// # Panics
    /// If the matrix is not square (its shape in the message), or holds variables of another
    /// scope.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix;
    /// // det [[1, 2], [3, 4]] = −2, gradient adj(A)ᵀ = [[4, −3], [−2, 1]]; at the singular
    /// // [[1, 2], [3, 6]] the cofactors [[6, −3], [−2, 1]].
    /// let (d, g) = matrix::value_and_gradient(|m| m[0].det(), &[dmatrix![1.0_f64, 2.0; 3.0, 4.0]]);
    /// assert!((d + 2.0).abs() < 1e-15);
    /// assert!((&g[0] - dmatrix![4.0, -3.0; -2.0, 1.0]).amax() < 1e-14);
    /// let (d, g) = matrix::value_and_gradient(|m| m[0].det(), &[dmatrix![1.0_f64, 2.0; 3.0, 6.0]]);
    /// assert_eq!(d, 0.0);
    /// assert!((&g[0] - dmatrix![6.0, -3.0; -2.0, 1.0]).amax() < 1e-14);
    /// ```
    #[track_caller]
    pub fn det(self) -> Self {
        assert_square("det", self.shape());
        let a_index = self.index();
        self.unary_op(|a| {
            let factors = Factors::of(a);
            let det = factors.det();
            let backward = Determinant {
                a: a_index,
                factors,
                det,
                primal: pool::copy(a),
            };
            (DMatrix::from_element(1, 1, det), Box::new(backward))
        })
    }
}
