//! The determinant as a node: LU for the value, and a gradient (the transposed adjugate) that
//! stays defined at singular matrices.

use super::linear_solve::{Factors, assert_square, scale_by_cotangent};
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar, pool};
use nalgebra::DMatrix;

/// Backward of `det A`: `Ā = ḡ·adj(A)ᵀ`.
struct Determinant<T: MatScalar> {
    a: u32,
    adjugate: Adjugate<T>,
}

/// How the backward pass gets `adj(A)ᵀ`.
enum Adjugate<T: MatScalar> {
    /// `det A·A⁻ᵀ` from the saved LU factors (a well-conditioned `A`).
    ByLu { factors: Factors<T>, det: T },
    /// Formed from the SVD by the forward pass, where a pivot is within `√ε` of the largest
    /// entry of `U` (a singular or nearly singular `A`).
    BySvd(DMatrix<T>),
}

impl<T: MatScalar> Backward<T> for Determinant<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let cotangent = g[0];
        pool::recycle(g);
        // A zero cotangent contributes nothing (and skips the O(n³) work).
        if cotangent.is_zero() || !grads.wants(self.a) {
            return;
        }
        let mut adjugate_t = match &self.adjugate {
            Adjugate::BySvd(adjugate_t) => pool::copy(adjugate_t),
            Adjugate::ByLu { factors, det } => {
                let mut inverse_t = factors.inverse_transposed();
                scale_by_cotangent(&mut inverse_t, *det);
                inverse_t
            }
        };
        scale_by_cotangent(&mut adjugate_t, cotangent);
        grads.accumulate(self.a, adjugate_t);
    }
}

/// True when a pivot of `U` (LU of `A`'s values) is within `√ε` of its largest entry, or NaN:
/// there `det·A⁻ᵀ` loses its accuracy (its tangent, under `matrix::hessian`, cancels terms of
/// size 1/pivot) or is `0·∞`.
fn nearly_singular<T: MatScalar>(u: &DMatrix<T>) -> bool {
    let largest = u.iter().fold(T::zero(), |m, &x| {
        let x = num_traits::Float::abs(x);
        if x > m { x } else { m }
    });
    let threshold = largest * num_traits::Float::sqrt(num_traits::Float::epsilon());
    u.diagonal().iter().any(|&d| {
        let d = num_traits::Float::abs(d);
        d.is_nan() || d <= threshold
    })
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
    /// `ḡ·det A·A⁻ᵀ` at a well-conditioned `A` (from the saved factors) and is also defined at
    /// a singular one: where a pivot of the LU factorisation is within `√ε` of the largest
    /// entry of `U` (singular or nearly so) it is formed from the SVD,
    /// `det U·det V·U·diag(Πⱼ≠ᵢ σⱼ)·Vᵀ` (PyTorch's choice too; `det A·A⁻ᵀ` would be `0·∞`, or
    /// lose accuracy): the cofactor matrix at rank `n − 1`, 0 at lower rank. A zero cotangent
    /// contributes nothing; a matrix with a NaN or infinite entry gives NaN (value and
    /// gradient; NumPy gives `±∞` for an infinite entry). The gradient is formed from products
    /// of `n − 1` entries' size, so it overflows or underflows where the value does (at
    /// `diag(1e200, 1e200)` it is infinite, not `diag(1e200, 1e200)`).
    ///
    /// Second derivatives ([`matrix::hvp`](crate::matrix::hvp),
    /// [`matrix::hessian`](crate::matrix::hessian)) are accurate to rounding at well-conditioned
    /// matrices (the factors carry exact tangents) and defined, through the SVD, at singular or
    /// nearly singular ones whose singular values are distinct (the value's tangent there from
    /// Jacobi's identity `det A = tr(adj(A)·A)/n`). Nearly singular ones cost digits (either path
    /// loses about ε/pivot): over 150 random 2 × 2 to 4 × 4 matrices with a smallest singular value
    /// of 1e-11 to 1e-5, relative errors up to 8e-7 (median 2e-13) against mpmath-checked
    /// references — forward mode through nalgebra's LU on `HyperDual` entries keeps full accuracy
    /// there. At two or more zero singular values (`diag(1, 0, 0)`, the `2 × 2` zero matrix) they
    /// are wrong: finite and wrong, or NaN, as the SVD's tangents there. (Tested against the scalar
    /// tape's polynomial and Jacobi's second-order formula.)
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
            let n = a.nrows();
            // Decided on the values (a dual's LU divides by a pivot `Dual(0, t)`).
            let plain = Factors::of(&a.map(|x| x.detached()));
            let (det, adjugate) = if n > 0 && nearly_singular(plain.u()) {
                let adjugate_t = adjugate_transposed_by_svd(a);
                // LU's value; the perturbations (a dual's) of Jacobi's identity
                // det A = tr(adj(A)·A)/n, exact where the adjugate's are.
                let count = T::from_usize(n).unwrap_or_else(T::nan);
                let trace_form = adjugate_t.component_mul(a).sum() / count;
                let det = trace_form.with_value_of(plain.det());
                (det, Adjugate::BySvd(adjugate_t))
            } else {
                // Without perturbations (plain floats) `a` is its values: no second LU.
                let plain_input = a.iter().all(|&x| (x - x.detached()).is_zero());
                let factors = if plain_input { plain } else { Factors::of(a) };
                let det = factors.det();
                (det, Adjugate::ByLu { factors, det })
            };
            let backward = Determinant {
                a: a_index,
                adjugate,
            };
            (DMatrix::from_element(1, 1, det), Box::new(backward))
        })
    }
}
