//! Derivatives of functions of nalgebra's fixed-size vectors (`SVector<T, N>`), in one
//! evaluation with every input a lane of the dual number, and without heap allocation — for
//! small problems in hot loops (kinematics, state-space models), as num-dual's and ad_trait's
//! static-size APIs and ForwardDiff.jl on StaticArrays.

use crate::api::seed_chunk;
use crate::{DualVec, HyperDualVec, nesting};
use nalgebra::{SMatrix, SVector, Scalar};
use num_traits::Float;

/// `x` with input `j` seeded in lane `j`: `N` inputs, `N` lanes (the slice API's first chunk).
fn seeded<T: Float + Scalar, const N: usize>(x: &SVector<T, N>) -> SVector<DualVec<T, N>, N> {
    let mut point = SVector::<DualVec<T, N>, N>::from_element(DualVec::constant(T::zero()));
    seed_chunk(point.as_mut_slice(), x.as_slice(), 0);
    point
}

/// The gradient of `f: ℝᴺ → ℝ` as an `SVector<T, N>`, in one evaluation on
/// [`DualVec<T, N>`] (every input a lane).
///
/// # Example
/// ```
/// use adroit_forward::gradient_static;
/// use adroit_forward::nalgebra::{self, vector};
/// let g = gradient_static(|x| x.dot(x), &vector![1.0, 2.0, 3.0]);
/// assert_eq!(g, vector![2.0, 4.0, 6.0]);
/// ```
#[track_caller]
pub fn gradient_static<const N: usize, T, F>(f: F, x: &SVector<T, N>) -> SVector<T, N>
where
    T: Float + Scalar,
    F: FnOnce(&SVector<DualVec<T, N>, N>) -> DualVec<T, N>,
{
    let _nesting = nesting::record_perturbation::<DualVec<T, N>, F>();
    let y = f(&seeded(x));
    SVector::from_column_slice(&y.tangents())
}

/// `(f(x), J)` for `f: ℝᴺ → ℝᴹ` on fixed-size vectors: the `M` values and the `M × N`
/// Jacobian `J[(i, j)] = ∂fᵢ/∂xⱼ`, in one evaluation on [`DualVec<T, N>`].
///
/// # Example
/// ```
/// use adroit_forward::value_and_jacobian_static;
/// use adroit_forward::nalgebra::{self, matrix, vector};
/// use adroit_forward::num_traits::Float;
/// // polar to Cartesian coordinates
/// let (p, j) = value_and_jacobian_static(
///     |x| vector![x[0] * x[1].cos(), x[0] * x[1].sin()],
///     &vector![2.0, 0.0],
/// );
/// assert_eq!((p, j), (vector![2.0, 0.0], matrix![1.0, 0.0; 0.0, 2.0]));
/// ```
#[track_caller]
pub fn value_and_jacobian_static<const N: usize, const M: usize, T, F>(
    f: F,
    x: &SVector<T, N>,
) -> (SVector<T, M>, SMatrix<T, M, N>)
where
    T: Float + Scalar,
    F: FnOnce(&SVector<DualVec<T, N>, N>) -> SVector<DualVec<T, N>, M>,
{
    let _nesting = nesting::record_perturbation::<DualVec<T, N>, F>();
    let y = f(&seeded(x));
    (
        SVector::from_fn(|i, _| y[i].value()),
        SMatrix::from_fn(|i, j| y[i].tangents()[j]),
    )
}

/// The `M × N` Jacobian of `f: ℝᴺ → ℝᴹ` on fixed-size vectors, as
/// [`value_and_jacobian_static`].
///
/// # Example
/// ```
/// use adroit_forward::jacobian_static;
/// use adroit_forward::nalgebra::{self, matrix, vector};
/// let j = jacobian_static(|x| vector![x[0] * x[1], x[0] + x[1]], &vector![2.0, 3.0]);
/// assert_eq!(j, matrix![3.0, 2.0; 1.0, 1.0]);
/// ```
#[track_caller]
pub fn jacobian_static<const N: usize, const M: usize, T, F>(
    f: F,
    x: &SVector<T, N>,
) -> SMatrix<T, M, N>
where
    T: Float + Scalar,
    F: FnOnce(&SVector<DualVec<T, N>, N>) -> SVector<DualVec<T, N>, M>,
{
    value_and_jacobian_static(f, x).1
}

/// `(f(x), ∇f(x), ∇²f(x))` for `f: ℝᴺ → ℝ` on fixed-size vectors, in one evaluation on
/// [`HyperDualVec<T, N, N>`] (both perturbations seeded with every input), the Hessian exact
/// and symmetric (its upper triangle mirrored, as [`hessian`](crate::hessian)'s).
///
/// Each number holds `(N + 1)²` floats (8.7 KB for `f64` at `N = 32`) and lives on the stack
/// with every intermediate of `f`: a Rosenbrock function at `N = 32` overflowed a 2 MiB
/// thread stack (cargo test's default) in a debug build (it needed 0.5–1 MiB in release).
/// For large `N` prefer [`hessian`](crate::hessian), which works in chunks on the heap.
///
/// # Example
/// ```
/// use adroit_forward::value_gradient_and_hessian_static;
/// use adroit_forward::nalgebra::{self, matrix, vector};
/// let (v, g, h) = value_gradient_and_hessian_static(|x| x[0] * x[0] * x[1], &vector![1.0, 2.0]);
/// assert_eq!((v, g, h), (2.0, vector![4.0, 1.0], matrix![4.0, 2.0; 2.0, 0.0]));
/// ```
#[track_caller]
pub fn value_gradient_and_hessian_static<const N: usize, T, F>(
    f: F,
    x: &SVector<T, N>,
) -> (T, SVector<T, N>, SMatrix<T, N, N>)
where
    T: Float + Scalar,
    F: FnOnce(&SVector<HyperDualVec<T, N, N>, N>) -> HyperDualVec<T, N, N>,
{
    let _nesting = nesting::record_perturbation::<HyperDualVec<T, N, N>, F>();
    // Both perturbations seeded as the first-order lanes are.
    let lanes = seeded(x);
    let point = SVector::from_fn(|j, _| {
        let unit: [T; N] = lanes[j].tangents();
        HyperDualVec::new(x[j], unit, unit, [[T::zero(); N]; N])
    });
    let y = f(&point);
    let block = y.eps12();
    let hessian = SMatrix::from_fn(|i, j| if i <= j { block[i][j] } else { block[j][i] });
    (y.value(), SVector::from_column_slice(&y.eps1()), hessian)
}
