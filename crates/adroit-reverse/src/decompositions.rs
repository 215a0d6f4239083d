//! adroit-forward's [`Decompositions`] for [`Var`]: the recorded [`svd`](crate::svd) and
//! [`symmetric_eigen`](crate::symmetric_eigen) nodes, so that code bound by `Decompositions`
//! runs in reverse mode (and under [`hessian`](crate::hessian)/[`hvp`](crate::hvp)) too.

use crate::{TapeScalar, Var};
use adroit_forward::{Decompositions, Svd};
use nalgebra::{DMatrix, DVector, RealField};

/// # Example
/// ```
/// use adroit_reverse::adroit_forward::Decompositions;
/// use adroit_reverse::nalgebra::DMatrix;
/// // ln det of an SPD matrix as Σ ln λᵢ, written once; its gradient is A⁻¹ on the diagonal
/// // and 2·A⁻¹ below it (the lower triangle is what the eigendecomposition reads).
/// fn ln_det<S: Decompositions>(x: &[S]) -> S {
///     let (values, _) = S::symmetric_eigen(&DMatrix::from_column_slice(2, 2, x));
///     values.iter().fold(S::zero(), |s, &v| s + v.ln())
/// }
/// let a = [2.0, 0.0, 0.0, 4.0];
/// assert_eq!(adroit_reverse::gradient(|x| ln_det(x), &a), vec![0.5, 0.0, 0.0, 0.25]);
/// let h = adroit_reverse::hessian(|x| ln_det(x), &a);
/// assert_eq!((h[(0, 0)], h[(3, 3)]), (-0.25, -0.0625));
/// ```
impl<T> Decompositions for Var<T>
where
    T: TapeScalar + RealField,
    Var<T>: RealField,
{
    #[track_caller]
    fn svd(a: &DMatrix<Self>) -> Svd<Self> {
        crate::svd(a)
    }

    #[track_caller]
    fn symmetric_eigen(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
        crate::symmetric_eigen(a)
    }
}
