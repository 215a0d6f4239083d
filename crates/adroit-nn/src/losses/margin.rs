//! Margin losses for targets in {−1, 1}.

use super::{Agg, aggregate, check};
use crate::NnError;
use crate::activation::relu;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Hinge loss `agg(max(0, 1 − ŷ·y))` (derivative 0 at the kink, `1 − ŷ·y = 0`: the ReLU
/// convention `relu'(0) = 0` of this crate; Flux's formula `max.(0, 1 .- ŷ .* y)` takes `−y`
/// there through ChainRules' `max` rule, PyTorch's `maximum` `−y/2`).
///
/// `ŷ`, `y`: outputs × batch (targets ±1; the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, hinge_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ = [2, 0.5] for y = [1, −1]: max(0, 1 − 2) = 0 and max(0, 1 + 0.5) = 1.5, mean 0.75;
/// // the gradient of the mean is −y/2 where the margin is violated, 0 elsewhere.
/// let (l, g) = matrix::value_and_gradient(
///     |p| hinge_loss(p[0], &dmatrix![1.0, -1.0], Agg::Mean).unwrap(),
///     &[dmatrix![2.0, 0.5]],
/// );
/// assert_eq!((l, g[0].clone()), (0.75, dmatrix![0.0, 0.5]));
/// ```
#[track_caller]
pub fn hinge_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("hinge_loss", &y_hat, y)?;
    let margin = (-y_hat.component_mul(MatVar::constant(y.clone())) + T::one()).map(relu);
    Ok(aggregate(margin.sum(), y.len(), agg))
}

/// Squared hinge loss `agg(max(0, 1 − ŷ·y)²)`.
///
/// `ŷ`, `y`: outputs × batch (targets ±1; the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, squared_hinge_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ = [2, 0.5] for y = [1, −1]: 0² and 1.5² = 2.25, mean 1.125; gradient of the mean
/// // 2·1.5·(−y)/2 = 1.5 on the violated entry.
/// let (l, g) = matrix::value_and_gradient(
///     |p| squared_hinge_loss(p[0], &dmatrix![1.0, -1.0], Agg::Mean).unwrap(),
///     &[dmatrix![2.0, 0.5]],
/// );
/// assert_eq!((l, g[0].clone()), (1.125, dmatrix![0.0, 1.5]));
/// ```
#[track_caller]
pub fn squared_hinge_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("squared_hinge_loss", &y_hat, y)?;
    let margin = (-y_hat.component_mul(MatVar::constant(y.clone())) + T::one()).map(relu);
    Ok(aggregate(margin.component_mul(margin).sum(), y.len(), agg))
}
