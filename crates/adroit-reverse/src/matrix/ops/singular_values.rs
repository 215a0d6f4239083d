//! Singular values of a matrix as one node (nuclear and spectral norms, condition numbers).

use crate::matrix::gemm::{Operand, pullback_product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of the singular values: `Ā = U·diag(σ̄)·Vᵀ` (the thin `U` and `Vᵀ` of the forward
/// pass saved).
struct SingularValues<T> {
    a: u32,
    u: DMatrix<T>,
    v_t: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for SingularValues<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        // U·diag(σ̄): column j of U times the cotangent's entry j (g is k × 1), then times Vᵀ,
        // with the tape's 0·∞ = 0 convention (an infinite σ̄ⱼ against a zero entry of U or
        // Vᵀ contributes 0).
        let scaled = DMatrix::from_fn(self.u.nrows(), self.u.ncols(), |i, j| {
            T::tape_product(g[j], self.u[(i, j)])
        });
        let a_bar = pullback_product(Operand::plain(&scaled), Operand::plain(&self.v_t));
        grads.accumulate(self.a, a_bar);
        pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The singular values of an `m × n` matrix, `min(m, n) × 1`, descending (nalgebra's
    /// `singular_values`); their sum is the nuclear norm, the first the spectral norm.
    ///
    /// Pullback: `Ā = U·diag(σ̄)·Vᵀ` with the thin SVD's `U` and `Vᵀ` (each `∂σᵢ/∂A = uᵢvᵢᵀ`;
    /// JAX's `svd` rule for the singular values). At a repeated or zero singular value `σ` has
    /// a kink and this is the derivative for nalgebra's choice of vectors there (finite, as a
    /// subgradient: the 1 × 1 `[x]` has `σ = |x|` and gradient 1 at 0, where `abs'(0) = 0`).
    /// Second derivatives ([`matrix::hvp`](crate::matrix::hvp),
    /// [`matrix::hessian`](crate::matrix::hessian)) are exact at distinct non-zero singular
    /// values, and at a single zero one of a square matrix. At the kinks they are not
    /// derivatives: where the singular vectors' tangents are infinite (a repeated singular
    /// value, also one repeated up to rounding — within 8ε relatively, as nalgebra returns a
    /// rotation's; a zero one of a tall or wide matrix) entries are infinite or NaN, unless the
    /// cotangent of that singular value is zero there, when the tape's `0·∞ = 0` convention
    /// leaves finite entries of nalgebra's basis — so a loss that is smooth through the kink
    /// loses curvature: `Σσ² = ‖A‖²_F` at a rank-deficient `3 × 2` matrix, or at the zero
    /// `2 × 2` one, gets a finite Hessian other than `2·I` (as `|x|²` written through `abs`
    /// gets 0 at 0). Write such losses without the SVD, or check them with
    /// adroit-check's `matrix_hessian_check`. Close but distinct singular values, a relative gap
    /// `δ` apart, leave second derivatives of relative accuracy about `ε/δ` (the vectors'
    /// tangents are of size `1/δ` and cancel). An entry that is NaN or infinite makes every value and partial NaN
    /// (nalgebra's SVD would not end); a matrix with a zero dimension gives `0 × 1`. For the
    /// singular vectors too, use [`svd`](Self::svd) (all three factors from one node).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // The nuclear norm of diag(3, −2): 5, with gradient U·Vᵀ = diag(1, −1).
    /// let (v, g) = matrix::value_and_gradient(
    ///     |m| m[0].singular_values().sum(),
    ///     &[dmatrix![3.0, 0.0; 0.0, -2.0]],
    /// );
    /// assert_eq!(v, 5.0);
    /// assert!((&g[0] - dmatrix![1.0, 0.0; 0.0, -1.0]).abs().max() < 1e-15);
    /// ```
    #[track_caller]
    pub fn singular_values(self) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (u, s, v_t) = if x.is_empty() {
                adroit_forward::__private::empty_svd(x.nrows(), x.ncols())
            } else {
                // nalgebra's on plain floats; on duals (matrix `hvp`/`hessian`) exact tangents.
                let (u, s, v_t) = T::thin_svd(x);
                (u, s, v_t)
            };
            let values = DMatrix::from_column_slice(s.len(), 1, s.as_slice());
            (values, Box::new(SingularValues { a, u, v_t }))
        })
    }
}
