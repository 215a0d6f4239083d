//! The eigendecomposition of a symmetric matrix as one node (spectral penalties, PCA,
//! smallest-eigenvalue constraints), with the scalar tape's pullback.

use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar, pool};
use crate::symmetric_eigen::EigenPullback;
use nalgebra::{DMatrix, DVector};

/// Backward of the joint node `[λ | V]` (`n × (n + 1)`): column 0 the eigenvalues, columns
/// `1..=n` the eigenvectors; the rule of the scalar tape's [`symmetric_eigen`](crate::symmetric_eigen).
struct SymmetricEigen<T: MatScalar> {
    a: u32,
    rule: EigenPullback<T>,
}

impl<T: MatScalar> Backward<T> for SymmetricEigen<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let n = g.nrows();
        let v_bar = g.columns(1, n).into_owned();
        let a_bar = self.rule.apply(&g.as_slice()[..n], &v_bar);
        grads.accumulate(self.a, a_bar);
        pool::recycle(g);
    }
}

/// The eigenpairs `(λ, V)` reordered so that the eigenvalues ascend (by value; a stable sort,
/// so equal ones keep nalgebra's order; NaN, which comes only all at once, stays in place).
fn ascending<T: MatScalar>((lambda, v): (DVector<T>, DMatrix<T>)) -> (DVector<T>, DMatrix<T>) {
    let mut order: Vec<usize> = (0..lambda.len()).collect();
    order.sort_by(|&i, &j| {
        lambda[i]
            .partial_cmp(&lambda[j])
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    let sorted = DVector::from_fn(lambda.len(), |k, _| lambda[order[k]]);
    let vectors = DMatrix::from_fn(v.nrows(), v.ncols(), |i, k| v[(i, order[k])]);
    (sorted, vectors)
}

impl<T: MatScalar> MatVar<T> {
    /// Eigenvalues (`n × 1`) and unit eigenvectors (`n × n`, one per column) of the symmetric
    /// `n × n` matrix whose lower triangle `self` holds (the upper triangle is not read, as
    /// nalgebra's `symmetric_eigen`, LAPACK's `syevd` with `UPLO = 'L'` and PyTorch's
    /// `linalg.eigh` by default; JAX's `eigh` by default decomposes the symmetric part
    /// `½(A + Aᵀ)` instead, `symmetrize_input=True` — the same for a symmetric input). Values
    /// are nalgebra's
    /// `SymmetricEigen` of that matrix, sorted ascending (as NumPy's, JAX's and PyTorch's
    /// `eigh`, so `values.rows(n − 1, 1)` is the largest; the scalar tape's
    /// [`symmetric_eigen`](crate::symmetric_eigen) keeps nalgebra's unsorted order), each
    /// vector's sign as nalgebra returns it; all NaN when an entry of the lower triangle is
    /// NaN or infinite; a 0 × 0 matrix gives `0 × 1` and `0 × 0`.
    ///
    /// One node, whose pullback is first-order perturbation theory (JAX's `eigh` rule): for
    /// cotangents `λ̄`, `V̄`,
    ///
    /// `Ā = V·(diag(λ̄) + F ∘ (Vᵀ·V̄))·Vᵀ`,  `Fᵢⱼ = 1/(λⱼ − λᵢ)` off the diagonal, 0 on it,
    ///
    /// folded onto the lower triangle (each entry below the diagonal receives `Āᵢⱼ + Āⱼᵢ`, the
    /// upper triangle 0). For a matrix built symmetric (`XᵀX`, `K + σ²I`) that is the gradient
    /// of the symmetric perturbation, as JAX's and PyTorch's symmetric `Ā` gives. The same rule,
    /// with the same conventions, as the scalar tape's
    /// [`symmetric_eigen`](crate::symmetric_eigen): a loss of the eigenvalues alone stays
    /// finite at repeated eigenvalues (its gradient is `V·diag(λ̄)·Vᵀ`, basis independent); an
    /// eigenvector cotangent that mixes a repeated pair gives infinite or NaN entries (the
    /// eigenvectors are not differentiable there); between eigenvalues equal up to rounding,
    /// an entry of `Vᵀ·V̄` within the error it is formed with counts as not mixing. Second
    /// derivatives ([`matrix::hvp`](crate::matrix::hvp),
    /// [`matrix::hessian`](crate::matrix::hessian)) use exact tangents of the decomposition
    /// and are exact where the eigenvalues are well separated; their limits beside close or
    /// repeated eigenvalues are those documented on the scalar tape's `symmetric_eigen`.
    ///
    /// For a function of the whole spectrum that is smooth through repeated eigenvalues
    /// (`Σ ln λ = ln det A`, `Σλ² = ‖A‖²_F`) prefer Cholesky, a solve or a trace: their second
    /// derivatives exist where the decomposition's do not.
    ///
    /// # Panics
    /// If `self` is not square (the message gives its shape).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// // The largest eigenvalue of [[2, 1], [1, 2]] is 3, with unit eigenvector v = (1, 1)/√2;
    /// // its gradient is v·vᵀ folded onto the lower triangle: [[½, 0], [1, ½]].
    /// let a = dmatrix![2.0_f64, 1.0; 1.0, 2.0];
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].symmetric_eigen().0.rows(1, 1), &[a]);
    /// assert!((v - 3.0).abs() < 1e-14);
    /// assert!((&g[0] - dmatrix![0.5, 0.0; 1.0, 0.5]).amax() < 1e-14);
    /// ```
    #[track_caller]
    pub fn symmetric_eigen(self) -> (Self, Self) {
        let (rows, cols) = self.shape();
        assert!(
            rows == cols,
            "MatVar::symmetric_eigen needs a square matrix, not {}",
            shape_str((rows, cols))
        );
        let a = self.index();
        let joint = self.unary_op(|x| {
            let n = x.nrows();
            let primal = adroit_forward::__private::symmetric_from_lower(x, |v| *v);
            // Exact tangents for a dual `T` (under `matrix::hvp`/`hessian`), as in `svd`.
            let (lambda, v) = if n == 0 {
                (DVector::zeros(0), DMatrix::zeros(0, 0))
            } else {
                ascending(T::eigen_symmetric(&primal))
            };
            let mut joint = DMatrix::zeros(n, n + 1);
            joint.column_mut(0).copy_from(&lambda);
            joint.columns_mut(1, n).copy_from(&v);
            let rule = EigenPullback::new(&primal, lambda, v);
            (joint, Box::new(SymmetricEigen { a, rule }))
        });
        (joint.columns(0, 1), joint.columns(1, rows))
    }
}
