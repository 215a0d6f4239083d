//! The thin singular value decomposition as one node (low-rank projections, the polar factor
//! `U·Vᵀ`, Procrustes problems), with the scalar tape's pullback.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use crate::svd::SvdPullback;
use nalgebra::DMatrix;

/// Backward of the joint node: `U` (`m × k`, column-major), then `σ` (`k`), then `Vᵀ`
/// (`k × n`, column-major), stacked in one `(m·k + k + k·n) × 1` column; the rule of the
/// scalar tape's [`svd`](crate::svd).
struct Svd<T: MatScalar> {
    a: u32,
    rule: SvdPullback<T>,
}

impl<T: MatScalar> Backward<T> for Svd<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate(self.a, self.rule.apply(g.as_slice()));
        pool::recycle(g);
    }
}

/// Backward of the SVD of a matrix with a zero dimension: no entries, nothing to pass on.
struct EmptySvd;

impl<T: MatScalar> Backward<T> for EmptySvd {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], _: &mut Grads<'_, T>) {
        pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The thin singular value decomposition `A = U·diag(σ)·Vᵀ` of an `m × n` matrix:
    /// `(U, σ, Vᵀ)` of shapes `m × k`, `k × 1` (descending) and `k × n`, `k = min(m, n)`, each
    /// singular pair with nalgebra's sign (JAX's `svd(full_matrices=False)`, PyTorch's
    /// `linalg.svd(full_matrices=False)`, which also return `Vᵀ`). Values are those of the
    /// scalar tape's [`svd`](crate::svd): nalgebra's SVD, checked and recomputed by one-sided
    /// Jacobi where it is inaccurate; all NaN when an entry is NaN or infinite; a matrix with
    /// a zero dimension gives `m × 0`, `0 × 1` and `0 × n`.
    ///
    /// One node, whose pullback is the scalar tape's (Townsend 2016): for cotangents `Ū`, `σ̄`,
    /// `V̄ᵀ`,
    ///
    /// `Ā = U·(G·S + S·H + diag(σ̄))·Vᵀ + (I − UUᵀ)·Ū·S⁻¹·Vᵀ + U·S⁻¹·V̄ᵀ·(I − VVᵀ)`,
    ///
    /// `S = diag(σ)`, `G = F ∘ (UᵀŪ − ŪᵀU)`, `H = F ∘ (VᵀV̄ − V̄ᵀV)`, `Fᵢⱼ = 1/(σⱼ² − σᵢ²)` off
    /// the diagonal, 0 on it (the last two terms only for a tall or a wide matrix), with the
    /// same conventions: a loss of `σ` alone has the gradient `Σ σ̄ᵢ·uᵢvᵢᵀ`, finite everywhere
    /// ([`singular_values`](Self::singular_values) records only those, more cheaply); the
    /// singular vectors of a repeated singular value, and those of a zero one in a tall or
    /// wide matrix, are not differentiable (a mixing cotangent gives infinite or NaN entries;
    /// one reaching a zero singular value's vectors only through that value, as `U·S·Vᵀ` does,
    /// gives 0 there and a finite gradient that is silently wrong: 5 % off for `cᵀ·U·S·Vᵀ·d`
    /// at a 4 × 3 matrix of rank 2; JAX gives NaN);
    /// between singular values equal up to rounding an entry within the error it is formed
    /// with counts as not mixing. So the polar factor `U·Vᵀ`, smooth wherever `A` is
    /// invertible, gets infinite or NaN gradients through this node where singular values
    /// repeat — at an orthogonal `A`, the fixed point of Procrustes problems (JAX's are NaN
    /// there too); near such points compute it another way (e.g. Newton's iteration
    /// `X ← ½(X + X⁻ᵀ)`, differentiable through [`inverse`](Self::inverse)). Second derivatives ([`matrix::hvp`](crate::matrix::hvp),
    /// [`matrix::hessian`](crate::matrix::hessian)) are exact where the singular values are
    /// distinct and non-zero, as the scalar tape's, with a rounding error growing as `ε/δ²`
    /// beside two singular values `δ` apart relatively (adroit-forward's `svd_hyperdual`):
    /// `cᵀ·U·S·Vᵀ·d`, whose Hessian is 0, measured `|H|` up to 2e-10 at `δ = 1e-3`, 1e-6 at
    /// `1e-5`, about 1 at `1e-8` (JAX's `jax.hessian` the same).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // Reconstruction: U·diag(σ)·Vᵀ = A, so its sum has gradient 1 everywhere.
    /// let a = dmatrix![3.0_f64, 1.0; 0.5, 2.0; -1.0, 0.25];
    /// let (v, g) = matrix::value_and_gradient(
    ///     |m| {
    ///         let (u, s, v_t) = m[0].svd();
    ///         (u * MatVar::from_diagonal(s) * v_t).sum()
    ///     },
    ///     &[a.clone()],
    /// );
    /// assert!((v - a.sum()).abs() < 1e-13);
    /// assert!(g[0].iter().all(|&d| (d - 1.0).abs() < 1e-13));
    /// ```
    #[track_caller]
    pub fn svd(self) -> (Self, Self, Self) {
        let (m, n) = self.shape();
        let k = m.min(n);
        let a = self.index();
        let joint = self.unary_op(|x| {
            if k == 0 {
                // No factors, nothing to differentiate: the joint column is empty.
                return (DMatrix::zeros(0, 1), Box::new(EmptySvd));
            }
            // nalgebra's on plain floats (checked); on duals exact tangents.
            let rule = SvdPullback::new(x, T::thin_svd(x));
            let stacked = rule.stacked();
            let joint = DMatrix::from_vec(stacked.len(), 1, stacked);
            (joint, Box::new(Svd { a, rule }))
        });
        (
            joint.rows(0, m * k).reshape(m, k),
            joint.rows(m * k, k),
            joint.rows(m * k + k, k * n).reshape(k, n),
        )
    }
}
