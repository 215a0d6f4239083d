//! [`jacobian`]: the full Jacobian of a matrix function by reverse mode, one sweep per output
//! entry.

use super::{MatScalar, MatVar, pullback};
use nalgebra::DMatrix;

/// The Jacobian of a function from matrices to a matrix (JAX's `jacrev` on arrays, flattened):
/// `m × n` for the output's `m` entries and the inputs' `n` entries in all, row `i` the
/// derivatives of output entry `i` (column-major, nalgebra's storage order) with respect to
/// every input entry — input 0's entries column-major, then input 1's, and so on (the order
/// [`hessian`](super::hessian) numbers them). One recording and one backward sweep per output
/// entry, each with a unit cotangent: for a scalar loss use [`gradient`](super::gradient);
/// for a few directions, [`pullback`](super::pullback)'s cotangents directly.
///
/// # Panics
/// As [`pullback`](super::pullback) (a result of another scope).
///
/// # Example
/// The softmax of a column, whose Jacobian is `diag(s) − s·sᵀ`:
/// ```
/// use adroit_reverse::matrix::{self, Along};
/// use adroit_reverse::nalgebra::{self, DMatrix, dmatrix};
/// let x = dmatrix![1.0; 2.0; -0.5];
/// let j = matrix::jacobian(|m| m[0].softmax(Along::Rows), &[x.clone()]);
/// let s = x.map(f64::exp) / x.map(f64::exp).sum();
/// let expected = DMatrix::from_diagonal(&s.column(0)) - &s * s.transpose();
/// assert!((j - expected).amax() < 1e-15);
/// ```
#[track_caller]
pub fn jacobian<T, F>(f: F, inputs: &[DMatrix<T>]) -> DMatrix<T>
where
    T: MatScalar,
    F: FnOnce(&[MatVar<T>]) -> MatVar<T>,
{
    let (y, pb) = pullback(f, inputs);
    let n: usize = inputs.iter().map(DMatrix::len).sum();
    let mut j = DMatrix::zeros(y.len(), n);
    let mut unit = DMatrix::zeros(y.nrows(), y.ncols());
    for i in 0..y.len() {
        unit[i] = T::one();
        let cotangents = pb.call(&unit);
        unit[i] = T::zero();
        let row = cotangents.iter().flat_map(|c| c.iter());
        for (k, &v) in row.enumerate() {
            j[(i, k)] = v;
        }
    }
    j
}
