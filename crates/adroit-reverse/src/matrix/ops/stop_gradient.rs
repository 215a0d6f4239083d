//! [`MatVar::stop_gradient`]: a matrix held constant in every order of differentiation.

use crate::matrix::{MatScalar, MatVar};

impl<T: MatScalar> MatVar<T> {
    /// `self`'s value as a constant: no cotangent flows back through it, and under
    /// [`matrix::hvp`](crate::matrix::hvp)/[`matrix::hessian`](crate::matrix::hessian) its
    /// entries' tangents are dropped too, so it is constant to second derivatives as well
    /// (JAX's `stop_gradient`, PyTorch's `detach`). [`MatVar::constant`]`(m.value())` differs
    /// there: a value read inside the function keeps the duals' tangents, constant to the
    /// reverse sweep only (the Hessian is then the derivative of the gradient as computed).
    ///
    /// # Panics
    /// If `self` belongs to another scope (as every operation).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix::{self, MatScalar, MatVar};
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // f(A) = Σ A ⊙ sg(A): gradient sg(A) = A, Hessian 0
    /// fn f<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    ///     m[0].component_mul(m[0].stop_gradient()).sum()
    /// }
    /// let a = dmatrix![1.5, -2.0];
    /// assert_eq!(matrix::gradient(f, &[&a])[0], a);
    /// assert_eq!(matrix::hessian(f, &[&a]), nalgebra::DMatrix::zeros(2, 2));
    /// ```
    #[track_caller]
    pub fn stop_gradient(self) -> Self {
        let value = self.value().map(crate::scalar::sealed::Sealed::detached);
        MatVar::constant(value)
    }
}
