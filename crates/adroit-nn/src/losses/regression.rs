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
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let (l, g) = matrix::value_and_gradient(|p| mse(p[0], &dmatrix![1.0, 2.0], Agg::Mean).unwrap(), &[dmatrix![2.0, 2.0]]);
/// assert_eq!((l, g[0].clone()), (0.5, dmatrix![1.0, 0.0]));
/// ```
pub fn mse<T: MatScalar>(y_hat: MatVar<T>, y: &DMatrix<T>, agg: Agg) -> Result<MatVar<T>, NnError> {
    check("mse", &y_hat, y)?;
    let d = y_hat - MatVar::constant(y.clone());
    Ok(aggregate(d.component_mul(d).sum(), y.len(), agg))
}

/// Mean absolute error `agg(|ŷ − y|)` (derivative 0 where `ŷ = y`).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
pub fn mae<T: MatScalar>(y_hat: MatVar<T>, y: &DMatrix<T>, agg: Agg) -> Result<MatVar<T>, NnError> {
    check("mae", &y_hat, y)?;
    let d = y_hat - MatVar::constant(y.clone());
    Ok(aggregate(d.abs().sum(), y.len(), agg))
}

/// Mean squared logarithmic error `agg((ln(ŷ + ε) − ln(y + ε))²)`.
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
pub fn msle<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("msle", &y_hat, y)?;
    let e = eps::<T>();
    let d = (y_hat + e).ln() - MatVar::constant(y.map(|v| Float::ln(v + e)));
    Ok(aggregate(d.component_mul(d).sum(), y.len(), agg))
}

/// Huber loss: `½e²` where `|e| ≤ δ`, `δ(|e| − ½δ)` elsewhere, for `e = ŷ − y` (Huber 1964;
/// Flux's default `δ = 1`).
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// Also [`NnError::InvalidConfig`] unless `δ > 0`.
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
pub fn poisson_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("poisson_loss", &y_hat, y)?;
    Ok(aggregate(y_hat.sum() - sum_xlogy(y, y_hat), y.len(), agg))
}
