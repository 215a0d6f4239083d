//! Margin losses for targets in {−1, 1}.

use super::{Agg, aggregate, check};
use crate::NnError;
use crate::activation::relu;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Hinge loss `agg(max(0, 1 − ŷ·y))` (derivative 0 at the kink).
///
/// `ŷ`, `y`: outputs × batch (targets ±1; the same shape; element-wise, aggregated over all entries).
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
pub fn squared_hinge_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("squared_hinge_loss", &y_hat, y)?;
    let margin = (-y_hat.component_mul(MatVar::constant(y.clone())) + T::one()).map(relu);
    Ok(aggregate(margin.component_mul(margin).sum(), y.len(), agg))
}
