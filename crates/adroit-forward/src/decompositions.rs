//! [`Decompositions`]: the exact-derivative SVD and symmetric eigendecomposition behind one
//! trait, so that generic code calls one function whatever number type it runs on.

use crate::svd::{empty_svd, primal_svd};
use crate::symmetric_eigen::{primal_symmetric_eigen, symmetric_from_lower};
use crate::{Dual, DualVec, HyperDualVec, Svd};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// Number types with a thin SVD and a symmetric eigendecomposition whose derivatives are
/// exact: nalgebra's own on `f32`/`f64`; [`svd`](crate::svd) and
/// [`symmetric_eigen`](crate::symmetric_eigen) on [`Dual`] and [`DualVec`] over `f32`/`f64`;
/// [`svd_hyperdual`](crate::svd_hyperdual) and
/// [`symmetric_eigen_hyperdual`](crate::symmetric_eigen_hyperdual) on [`HyperDualVec`]; and
/// adroit-reverse's `svd` and `symmetric_eigen` nodes on its `Var`s (implemented there); and
/// nalgebra's on [`NanCheck`](crate::NanCheck), so [`find_nan`](crate::find_nan) runs such code
/// too (each operation of the iterations checked; an infinite entry, which makes every result
/// NaN, noted as the decomposition's).
///
/// nalgebra's `a.svd(true, true)` and `a.symmetric_eigen()` run on all of these types too, but
/// differentiate the iterations and get the derivatives wrong at diagonal, triangular and
/// rank-deficient matrices (see the crate docs, "Eigendecompositions and SVD"). Bound generic
/// code by this trait (it implies `RealField + Copy`) and call `S::svd(&a)` /
/// `S::symmetric_eigen(&a)` — as JAX's `jnp.linalg.svd` works under every transformation —
/// to write a loss once for the primal, `gradient`, `hessian` and adroit-reverse's modes.
///
/// Each function's conventions (shapes, order and signs, the derivatives at repeated or zero
/// singular values and eigenvalues, NaN entries) are those of the function it calls, listed
/// above. On `f32`/`f64` the results are the primal ones (`U`: `m × k`, `σ`: `k`, descending,
/// `Vᵀ`: `k × n`, `k = min(m, n)`; eigenvalues in nalgebra's order with unit eigenvectors as
/// columns, the lower triangle read), all NaN for a NaN or infinite entry (of the lower
/// triangle, for `symmetric_eigen`), as on the duals.
///
/// # Example
/// ```
/// use adroit_forward::{Decompositions, gradient, hessian};
/// use adroit_forward::nalgebra::DMatrix;
/// // The largest singular value of [[2, x₀], [x₁, 1]], written once.
/// fn top<S: Decompositions>(x: &[S]) -> S {
///     let one = S::one();
///     let a = DMatrix::from_row_slice(2, 2, &[one + one, x[0], x[1], one]);
///     S::svd(&a).1[0]
/// }
/// // at x = 0 (a diagonal matrix, where nalgebra's iteration on duals loses the singular
/// // vectors' tangents): gradient 0, and ∂²σ₁/∂x₀² = σ₁/(σ₁² − σ₂²) = 2/3
/// assert_eq!(top(&[0.0_f64, 0.0]), 2.0);
/// assert_eq!(gradient(|x| top(x), &[0.0_f64, 0.0]), vec![0.0, 0.0]);
/// let h = hessian(|x| top(x), &[0.0_f64, 0.0]);
/// assert!((h[(0, 0)] - 2.0 / 3.0).abs() < 1e-15);
/// ```
pub trait Decompositions: RealField + Copy {
    /// The thin SVD `a = U·diag(σ)·Vᵀ` as `(U, σ, Vᵀ)`: `U` is `m × k`, `σ` has `k` entries in
    /// descending order, `Vᵀ` is `k × n`, `k = min(m, n)`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Decompositions;
    /// use adroit_forward::nalgebra::{self, dmatrix};
    /// let (_, s, _) = f64::svd(&dmatrix![3.0, 0.0; 0.0, -4.0]);
    /// assert_eq!(s.as_slice(), &[4.0, 3.0]);
    /// ```
    fn svd(a: &DMatrix<Self>) -> Svd<Self>;

    /// Eigenvalues and unit eigenvectors (one per column) of the symmetric matrix whose lower
    /// triangle `a` holds (the upper triangle is not read).
    ///
    /// # Panics
    /// If `a` is not square.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Decompositions;
    /// use adroit_forward::nalgebra::{self, dmatrix};
    /// // the upper triangle (99) is not read: [[2, 1], [1, 2]] has eigenvalues 1 and 3
    /// let (values, _) = f64::symmetric_eigen(&dmatrix![2.0, 99.0; 1.0, 2.0]);
    /// let mut values: Vec<f64> = values.iter().copied().collect();
    /// values.sort_by(f64::total_cmp);
    /// assert!((values[0] - 1.0).abs() < 1e-15 && (values[1] - 3.0).abs() < 1e-15);
    /// ```
    fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>);
}

/// The primal decompositions, for plain floats.
macro_rules! primal_decompositions {
    ($($t:ty),*) => {$(
        impl Decompositions for $t {
            fn svd(a: &DMatrix<Self>) -> Svd<Self> {
                let (m, n) = a.shape();
                if m.min(n) == 0 {
                    return empty_svd(m, n);
                }
                primal_svd(a.clone())
            }

            #[track_caller]
            fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
                let n = a.nrows();
                let symmetric = symmetric_from_lower(a, |&x| x);
                if n == 0 {
                    return (DVector::zeros(0), DMatrix::zeros(0, 0));
                }
                primal_symmetric_eigen(symmetric)
            }
        }
    )*};
}
primal_decompositions!(f32, f64);

impl<T: Float + RealField> Decompositions for Dual<T>
where
    Dual<T>: RealField,
{
    fn svd(a: &DMatrix<Self>) -> Svd<Self> {
        crate::svd(a)
    }

    #[track_caller]
    fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
        crate::symmetric_eigen(a)
    }
}

impl<T: Float + RealField, const N: usize> Decompositions for DualVec<T, N>
where
    DualVec<T, N>: RealField,
{
    fn svd(a: &DMatrix<Self>) -> Svd<Self> {
        crate::svd(a)
    }

    #[track_caller]
    fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
        crate::symmetric_eigen(a)
    }
}

impl<T: Float + RealField, const M: usize, const N: usize> Decompositions for HyperDualVec<T, M, N>
where
    HyperDualVec<T, M, N>: RealField,
    DualVec<T, M>: Float + RealField,
{
    fn svd(a: &DMatrix<Self>) -> Svd<Self> {
        crate::svd_hyperdual(a)
    }

    #[track_caller]
    fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
        crate::symmetric_eigen_hyperdual(a)
    }
}
