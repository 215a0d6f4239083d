//! Margin losses: hinge losses for targets in {−1, 1}, the contrastive loss for pairs labelled
//! similar (0) or dissimilar (1).

use super::{Agg, aggregate, check, check_non_negative};
use crate::NnError;
use crate::activation::{c, relu};
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

/// Contrastive loss for Siamese networks `agg((1 − y)·ŷ² + y·max(0, m − ŷ)²)` (Hadsell, Chopra
/// & LeCun 2006; Flux's `siamese_contrastive_loss`, default margin `m = 1`,
/// [`SIAMESE_MARGIN`](super::SIAMESE_MARGIN)): `ŷ` the distance between a pair's embeddings,
/// `y = 0` for a similar pair (pulled together: `ŷ²`) and `y = 1` for a dissimilar one (pushed
/// apart until `ŷ ≥ m`); Flux's form, twice Hadsell et al.'s (which halves both terms).
/// Derivative 0 at the margin (`ŷ = m`), where both one-sided slopes of the squared hinge are 0.
/// A dissimilar pair at an infinite distance costs NaN: its `(1 − y)·ŷ² = 0·∞` (as Flux's).
///
/// `ŷ`, `y`: any shape, the same (e.g. 1 × pairs; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape;
/// [`NnError::InvalidConfig`] unless `m` is finite in the element type and `≥ 0`.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, SIAMESE_MARGIN, siamese_contrastive_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // A similar pair at distance 0.5 (0.25) and a dissimilar one at 2, beyond the margin (0):
/// // mean 0.125, gradient of the mean 2·0.5/2 = 0.5 and 0.
/// let (l, g) = matrix::value_and_gradient(
///     |p| siamese_contrastive_loss(p[0], &dmatrix![0.0, 1.0], SIAMESE_MARGIN, Agg::Mean).unwrap(),
///     &[dmatrix![0.5, 2.0]],
/// );
/// assert_eq!((l, g[0].clone()), (0.125, dmatrix![0.5, 0.0]));
/// ```
#[track_caller]
pub fn siamese_contrastive_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    margin: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("siamese_contrastive_loss", &y_hat, y)?;
    check_non_negative::<T>("siamese_contrastive_loss margin", margin)?;
    let m: T = c(margin);
    let similar = y_hat
        .component_mul(y_hat)
        .weighted_sum(y.map(|v| T::one() - v));
    let shortfall = (-y_hat + m).map(relu);
    let dissimilar = shortfall.component_mul(shortfall).weighted_sum(y.clone());
    Ok(aggregate(similar + dissimilar, y.len(), agg))
}
