//! Losses on real-valued targets.

use super::{Agg, aggregate, check, eps, sum_xlogy};
use crate::NnError;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Mean squared error `agg((ŷ − y)²)`.
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let (l, g) = matrix::value_and_gradient(|p| mse(p[0], &dmatrix![1.0, 2.0], Agg::Mean).unwrap(), &[dmatrix![2.0, 2.0]]);
/// assert_eq!((l, g[0].clone()), (0.5, dmatrix![1.0, 0.0]));
/// ```
#[track_caller]
pub fn mse<T: MatScalar>(y_hat: MatVar<T>, y: &DMatrix<T>, agg: Agg) -> Result<MatVar<T>, NnError> {
    check("mse", &y_hat, y)?;
    let d = y_hat - MatVar::constant(y.clone());
    Ok(aggregate(d.component_mul(d).sum(), y.len(), agg))
}

/// Mean absolute error `agg(|ŷ − y|)` (derivative 0 where `ŷ = y`).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, mae};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // |1 − 2| and |2 − 4|: mean 1.5; ∂/∂ŷ = sign(ŷ − y)/2.
/// let (l, g) = matrix::value_and_gradient(
///     |p| mae(p[0], &dmatrix![2.0, 4.0], Agg::Mean).unwrap(),
///     &[dmatrix![1.0, 2.0]],
/// );
/// assert_eq!((l, g[0].clone()), (1.5, dmatrix![-0.5, -0.5]));
/// // Where ŷ = y the derivative is 0.
/// let (_, g) = matrix::value_and_gradient(
///     |p| mae(p[0], &dmatrix![3.0], Agg::Sum).unwrap(),
///     &[dmatrix![3.0]],
/// );
/// assert_eq!(g[0], dmatrix![0.0]);
/// ```
#[track_caller]
pub fn mae<T: MatScalar>(y_hat: MatVar<T>, y: &DMatrix<T>, agg: Agg) -> Result<MatVar<T>, NnError> {
    check("mae", &y_hat, y)?;
    let d = y_hat - MatVar::constant(y.clone());
    Ok(aggregate(d.abs().sum(), y.len(), agg))
}

/// Mean squared logarithmic error `agg((ln(ŷ + ε) − ln(y + ε))²)` (Flux's `msle`, with its
/// `ε`, the type's machine epsilon; Flux computes the difference as `ln((ŷ + ε)/(y + ε))`,
/// whose quotient overflows past the type's range: from `ŷ ≈ 4.06e31` against `y = 0` in
/// `f32`).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
/// Both logarithms come from the same implementation, so a prediction equal to its target
/// costs exactly 0, in `f32` too.
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, msle};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let loss = |y_hat: f64, y: f64| {
///     let of = |p: &[_]| msle(p[0], &dmatrix![y], Agg::Mean).unwrap();
///     matrix::value_and_gradient(of, &[dmatrix![y_hat]]).0
/// };
/// assert!((loss(std::f64::consts::E, 1.0) - 1.0).abs() < 1e-12); // (ln e − ln 1)²
/// // Errors are relative: 20 for 10 costs as much as 2 for 1, (ln 2)².
/// assert!((loss(20.0, 10.0) - 2f64.ln().powi(2)).abs() < 1e-12);
/// assert!((loss(2.0, 1.0) - 2f64.ln().powi(2)).abs() < 1e-12);
/// ```
#[track_caller]
pub fn msle<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("msle", &y_hat, y)?;
    let e = eps::<T>();
    // The target's logarithm by the same kernel as the prediction's (on a constant: nothing
    // flows back into it), so that `ŷ = y` gives exactly 0: for `f32` that kernel is
    // vectorised, and the C library's `lnf` may differ from it by an ulp.
    let target = (MatVar::constant(y.clone()) + e).ln();
    let d = (y_hat + e).ln() - target;
    Ok(aggregate(d.component_mul(d).sum(), y.len(), agg))
}

/// Huber loss: `½e²` where `|e| ≤ δ`, `δ(|e| − ½δ)` elsewhere, for `e = ŷ − y` (Huber 1964;
/// Flux's default `δ = 1`, [`HUBER_DELTA`](super::HUBER_DELTA)).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// At `|e| = δ`, where the second derivative jumps from 1 to 0, it is 1 (the quadratic
/// piece's, as `|e| ≤ δ` says; the gradient `e` is the same from either side): a Hessian or
/// Hessian-vector product there follows the quadratic piece.
///
/// # Errors
/// Also [`NnError::InvalidConfig`] unless `δ > 0`.
///
/// # Example
/// ```
/// use adroit_nn::NnError;
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, huber_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // δ = 1 and errors 0.5 and 3: ½·0.5² = 0.125 and 1·(3 − ½) = 2.5, sum 2.625;
/// // ∂/∂ŷ is e inside the band and δ·sign(e) outside.
/// let (l, g) = matrix::value_and_gradient(
///     |p| huber_loss(p[0], &dmatrix![0.0, 0.0], 1.0, Agg::Sum).unwrap(),
///     &[dmatrix![0.5, 3.0]],
/// );
/// assert_eq!((l, g[0].clone()), (2.625, dmatrix![0.5, 1.0]));
/// // δ must be positive.
/// let _ = matrix::value_and_gradient(
///     |p| {
///         let refused = huber_loss(p[0], &dmatrix![0.0], 0.0, Agg::Sum);
///         assert!(matches!(refused, Err(NnError::InvalidConfig { .. })));
///         p[0].sum()
///     },
///     &[dmatrix![1.0]],
/// );
/// ```
#[track_caller]
pub fn huber_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    delta: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("huber_loss", &y_hat, y)?;
    if delta.partial_cmp(&0.0) != Some(std::cmp::Ordering::Greater) {
        return Err(NnError::InvalidConfig {
            name: "huber δ",
            reason: format!("{delta} is not > 0"),
        });
    }
    let d = y_hat - MatVar::constant(y.clone());
    let per_entry = d.map(move |e| {
        let delta = adroit_forward::Dual::constant(T::from_f64(delta).unwrap_or_else(T::one));
        let half = T::from_f64(0.5).unwrap_or_else(T::one);
        if e.abs() <= delta {
            e * e * half
        } else {
            delta * (e.abs() - delta * half)
        }
    });
    Ok(aggregate(per_entry.sum(), y.len(), agg))
}

/// Poisson loss `agg(ŷ − xlogy(y, ŷ))` (for counts; `ŷ` a positive rate).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, poisson_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ − y·ln ŷ: 3 − 0 for y = 0 at ŷ = 3, and 2 − 2·ln 2 for y = 2 at ŷ = 2;
/// // ∂/∂ŷ = 1 − y/ŷ, which is 0 where ŷ = y.
/// let (l, g) = matrix::value_and_gradient(
///     |p| poisson_loss(p[0], &dmatrix![0.0, 2.0], Agg::Sum).unwrap(),
///     &[dmatrix![3.0, 2.0]],
/// );
/// assert!((l - (5.0 - 2.0 * 2f64.ln())).abs() < 1e-12);
/// assert_eq!(g[0], dmatrix![1.0, 0.0]);
/// ```
#[track_caller]
pub fn poisson_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("poisson_loss", &y_hat, y)?;
    Ok(aggregate(y_hat.sum() - sum_xlogy(y, y_hat), y.len(), agg))
}
