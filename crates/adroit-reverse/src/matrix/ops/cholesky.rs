//! The Cholesky factor `L` of a symmetric positive definite matrix as one node (Gaussian
//! likelihoods, Gaussian processes), its pullback by Murray's formula.

use crate::matrix::gemm::{Operand, pullback_product};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::triangular::solve_triangular;
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of `L = chol(½(A + Aᵀ))`: with `P = Φ(Lᵀ·L̄)` (the lower triangle of `Lᵀ·L̄`,
/// its diagonal halved) and `S = L⁻ᵀ·P·L⁻¹`, `Ā = ½(S + Sᵀ)` (Murray 2016, "Differentiation of
/// the Cholesky decomposition", for the symmetric input; JAX's `cholesky` rule).
struct Cholesky<T> {
    a: u32,
    l: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Cholesky<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let n = self.l.nrows();
        // The cotangent of L's upper triangle is of constant zeros: not read.
        let mut p = pullback_product(
            Operand::transposed(&self.l),
            Operand::plain(&g.lower_triangle()),
        );
        pool::recycle(g);
        let half = T::from(0.5).expect("½ converts");
        for j in 0..n {
            for i in 0..j {
                p[(i, j)] = T::zero();
            }
            p[(j, j)] *= half;
        }
        // S = L⁻ᵀ·P·L⁻¹: X = L⁻ᵀ·P, then Sᵀ = L⁻ᵀ·Xᵀ (L's diagonal is positive: no zero pivot).
        let x = solve_triangular(&self.l, true, true, &p)
            .expect("a Cholesky factor has a positive diagonal");
        pool::recycle(p);
        let s_t = solve_triangular(&self.l, true, true, &x.transpose())
            .expect("a Cholesky factor has a positive diagonal");
        pool::recycle(x);
        let a_bar = DMatrix::from_fn(n, n, |i, j| (s_t[(i, j)] + s_t[(j, i)]) * half);
        grads.accumulate(self.a, a_bar);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The lower-triangular Cholesky factor `L` of a symmetric positive definite `n × n`
    /// matrix `A` (`A = L·Lᵀ`, `L`'s diagonal positive, its upper triangle zero; `n × n`), or
    /// `None` when `A` is not positive definite in floating point (nalgebra's `cholesky`
    /// fails), or holds a NaN or an infinity. Nothing is recorded then, so a loss can fall back
    /// or report the failure — as nalgebra's `cholesky()`, and unlike [`solve`](Self::solve)
    /// and [`logabsdet`](Self::logabsdet), which give finite, meaningless results at a nearly
    /// singular matrix: prefer this for covariance matrices. With it, `ln det A =
    /// 2·Σ ln Lᵢᵢ`, and `A⁻¹·B` is two triangular solves
    /// ([`solve_lower_triangular`](Self::solve_lower_triangular), then
    /// [`tr_solve_lower_triangular`](Self::tr_solve_lower_triangular)).
    ///
    /// The factor is that of the symmetric part `½(A + Aᵀ)` (JAX's `cholesky`, whose
    /// `symmetrize_input` is on by default; `A` itself when symmetric, up to subnormal entries), so the value and the
    /// gradient are of one function of every entry: `Ā = ½(S + Sᵀ)`, `S = L⁻ᵀ·Φ(Lᵀ·L̄)·L⁻¹`
    /// with `Φ` the lower triangle, diagonal halved (Murray 2016, "Differentiation of the
    /// Cholesky decomposition"), a symmetric gradient (PyTorch's too). The cotangent of `L`'s
    /// upper triangle is ignored (those entries are constant zeros). A zero cotangent gives a
    /// zero gradient; an infinite one non-finite entries (NaN and infinities).
    ///
    /// # Panics
    /// If the matrix is not square (its shape in the message), or holds variables of another
    /// scope.
    ///
    /// # Example
    /// A Gaussian process's log marginal likelihood `−½ yᵀK⁻¹y − ½ ln det K − (n/2) ln 2π`, and
    /// its gradient in `K` (`½(ααᵀ − K⁻¹)`, `α = K⁻¹y`):
    /// ```
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// use adroit_reverse::matrix::{self, MatVar};
    /// let k = dmatrix![2.0, 0.5; 0.5, 1.0];
    /// let y = dmatrix![1.0; -1.0];
    /// let (lml, g) = matrix::value_and_gradient(
    ///     |m| {
    ///         let l = m[0].cholesky().expect("K is positive definite");
    ///         let z = l.solve_lower_triangular(MatVar::constant(y.clone())); // L⁻¹y
    ///         let log_det = l.diagonal().ln().sum() * 2.0;
    ///         (z.component_mul(z).sum() + log_det) * -0.5
    ///             - (2.0 * std::f64::consts::PI).ln()
    ///     },
    ///     &[k.clone()],
    /// );
    /// let k_inv = k.clone().try_inverse().unwrap();
    /// let alpha = &k_inv * &y;
    /// let expected = -0.5 * (y.transpose() * &alpha)[0] - 0.5 * k.determinant().ln()
    ///     - (2.0 * std::f64::consts::PI).ln();
    /// assert!((lml - expected).abs() < 1e-14);
    /// let expected_g = (&alpha * alpha.transpose() - k_inv) * 0.5;
    /// assert!((&g[0] - expected_g).abs().max() < 1e-14);
    /// // not positive definite: None, nothing recorded
    /// matrix::gradient(|m| {
    ///     assert!(m[0].cholesky().is_none());
    ///     m[0].sum()
    /// }, &[dmatrix![1.0, 2.0; 2.0, 1.0]]);
    /// ```
    #[track_caller]
    pub fn cholesky(self) -> Option<Self> {
        assert!(
            self.nrows() == self.ncols(),
            "cholesky: the matrix is {}, not square",
            shape_str(self.shape())
        );
        let a = self.value();
        if !a.iter().all(|v| v.is_finite()) {
            return None;
        }
        // Always formed (a test `a == aᵀ` compares a dual's values only, and would let a
        // perturbation of one triangle through whole): `½a + ½aᵀ` is `a` itself, bit for bit,
        // where `a` is symmetric (but for subnormal entries), and cannot overflow.
        let half = T::from(0.5).expect("½ converts");
        let symmetric = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| {
            a[(i, j)] * half + a[(j, i)] * half
        });
        let l = symmetric.cholesky()?.unpack();
        // nalgebra tests a pivot's sign on the value: a dual pivot of value 0 with a tangent
        // passes as positive, and its square root is 0 (no inverse): not positive definite.
        if l.diagonal()
            .iter()
            .any(|&d| d == T::zero() || !d.is_finite())
        {
            return None;
        }
        let index = self.index();
        Some(self.unary_op(move |_| {
            let backward = Cholesky {
                a: index,
                l: pool::copy(&l),
            };
            (l, Box::new(backward))
        }))
    }
}
