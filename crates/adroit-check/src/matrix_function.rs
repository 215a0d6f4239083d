//! [`MatrixFn`]: a scalar loss of matrices written once for every element type of the matrix
//! tape, so a checker can take its gradient in `f64` and its Hessian on duals.

use adroit_reverse::matrix::{MatScalar, MatVar};

/// A scalar loss of matrices (a 1 × 1 [`MatVar`]) written generically over
/// [`MatScalar`], so that [`matrix_hessian_check`](crate::matrix_hessian_check) can record it
/// on `f64` (its gradient, for finite differences) and on the duals of
/// [`matrix::hessian`](adroit_reverse::matrix::hessian) and
/// [`matrix::hvp`](adroit_reverse::matrix::hvp). Closures cannot be generic: implement it on a
/// type of your own, or let [`matrix_fn!`](crate::matrix_fn) write one. The first-order
/// checker [`matrix_gradcheck`](crate::matrix_gradcheck) takes a closure on `f64` matrices:
/// give it `|m| f.eval(m)`.
///
/// # Example
/// ```
/// use adroit_check::MatrixFn;
/// use adroit_check::adroit_reverse::matrix::{self, MatScalar, MatVar};
/// use adroit_check::nalgebra::{self, DMatrix, dmatrix};
/// /// ‖tanh(W·x)‖² for a fixed input `x`.
/// struct Layer {
///     x: DMatrix<f64>,
/// }
/// impl MatrixFn for Layer {
///     fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
///         let h = m[0].matmul(MatVar::constant(self.x.clone().cast())).tanh();
///         h.component_mul(h).sum()
///     }
/// }
/// let f = Layer { x: dmatrix![1.0; -1.0] };
/// let w = dmatrix![0.5, 0.25];
/// let g = matrix::gradient(|m| f.eval(m), &[w.clone()]);
/// let h = matrix::hessian(|m| f.eval(m), &[w]);
/// assert_eq!((g[0].shape(), h.shape()), ((1, 2), (2, 2)));
/// ```
pub trait MatrixFn {
    /// `f(m)`, a 1 × 1 matrix (of any shape for
    /// [`matrix_vjp_check_generic`](crate::matrix_vjp_check_generic), which checks a pullback).
    ///
    /// # Example
    /// ```
    /// use adroit_check::{MatrixFn, matrix_fn};
    /// use adroit_check::adroit_reverse::matrix::{self, MatVar};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let f = matrix_fn!(|m| m[0].component_mul(m[0]).sum());
    /// let (value, _) = matrix::pullback(|m| f.eval(m), &[dmatrix![1.0, 2.0]]);
    /// assert_eq!(value, dmatrix![5.0]);
    /// ```
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T>;
}

/// Writes a [`MatrixFn`] from `|m| body`, where `body` is generic code over `T: MatScalar`
/// (the element type: `f64`, or a dual under a Hessian) returning a 1 × 1 `MatVar<T>`.
///
/// As for [`generic_fn!`](crate::generic_fn), the body is a generic function's: a constant is
/// a `T` (`T::from(2.0).unwrap()`; `m[0] * 2.0` does not compile), a data matrix enters by
/// nalgebra's `cast` (`MatVar::constant(x.clone().cast())`), and captured variables are listed
/// with their types before the closure, `matrix_fn!([x: DMatrix<f64>, lambda: f64 = 0.1] |m|
/// …)`; the body sees each as a reference to a value moved into the function (`name: Type`
/// takes the variable of that name, `name: Type = value` any expression), of a type a struct's
/// field can have outside any function (owned or `&'static`). A scalar function of a `T` in
/// the body, `v.exp()`, is ambiguous between num-traits' `Float` and nalgebra's
/// `ComplexField` (E0034): write `Float::exp(v)` (see
/// [`MatScalar`](adroit_reverse::matrix::MatScalar)); the matrix methods (`m[0].exp()`) are not.
///
/// # Example
/// ```
/// use adroit_check::{MatrixFn, Options, matrix_fn, matrix_hessian_check};
/// use adroit_check::adroit_reverse::matrix::MatVar;
/// use adroit_check::nalgebra::{self, DMatrix, dmatrix};
/// // Ridge regression: ‖X·w − y‖² + λ‖w‖², X samples × features
/// let (x, y) = (dmatrix![1.0, 2.0; 3.0, -1.0; 0.5, 0.5], dmatrix![1.0; 0.0; 2.0]);
/// let loss = matrix_fn!([x: DMatrix<f64>, y: DMatrix<f64>, lambda: f64 = 0.1] |m| {
///     let r = MatVar::constant(x.clone().cast()).matmul(m[0]) - MatVar::constant(y.clone().cast());
///     r.component_mul(r).sum() + m[0].component_mul(m[0]).sum() * T::from(*lambda).unwrap()
/// });
/// let report = matrix_hessian_check(&loss, &[dmatrix![0.1; -0.3]], &Options::for_precision::<f64>());
/// assert!(report.is_ok());
/// ```
#[macro_export]
macro_rules! matrix_fn {
    ([$($name:ident: $ty:ty $(= $value:expr)?),* $(,)?] |$m:ident| $body:expr) => {{
        struct __AdroitMatrixFn {
            $($name: $ty),*
        }
        impl $crate::MatrixFn for __AdroitMatrixFn {
            #[allow(unused_imports)]
            fn eval<T: $crate::adroit_reverse::matrix::MatScalar>(
                &self,
                $m: &[$crate::adroit_reverse::matrix::MatVar<T>],
            ) -> $crate::adroit_reverse::matrix::MatVar<T> {
                use $crate::__private::num_traits::Float as _;
                $(let $name = &self.$name;)*
                $body
            }
        }
        __AdroitMatrixFn {
            $($name: $crate::matrix_fn!(@value $name $(= $value)?)),*
        }
    }};
    (|$m:ident| $body:expr) => {
        $crate::matrix_fn!([] |$m| $body)
    };
    // Internal: a capture's value (last, so that a misuse reports the public forms).
    (@value $name:ident) => {
        $name
    };
    (@value $name:ident = $value:expr) => {
        $value
    };
}
