//! Overlap losses for segmentation masks: one minus a smoothed Dice or Tversky index of the
//! whole prediction against the whole target (as Flux's `dice_coeff_loss` and `tversky_loss`,
//! which do not aggregate per sample; Tversky's `β` as in the paper, see [`tversky_loss`]).

use super::{check, check_non_negative};
use crate::NnError;
use crate::activation::c;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Dice loss `1 − (2·Σ y·ŷ + s)/(Σ y² + Σ ŷ² + s)` over all entries, with smoothing `s`
/// (Milletari et al. 2016, V-Net; Flux's `dice_coeff_loss`, default `s = 1`,
/// [`DICE_SMOOTH`](super::DICE_SMOOTH)): 0 for a perfect prediction, near 1 for disjoint masks.
/// `s` keeps empty masks finite (`ŷ = y = 0` costs 0); with `s = 0` they give NaN.
///
/// `ŷ`, `y`: any shape, the same (e.g. pixels × batch of foreground probabilities and 0/1
/// masks); one loss for the whole batch, as Flux's.
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape;
/// [`NnError::InvalidConfig`] unless `s` is finite in the element type and `≥ 0`.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{DICE_SMOOTH, dice_coeff_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ = [1, 0.5], y = [1, 0]: 1 − (2·1 + 1)/(1 + 1.25 + 1) = 1 − 3/3.25.
/// let (l, _) = matrix::value_and_gradient(
///     |p| dice_coeff_loss(p[0], &dmatrix![1.0, 0.0], DICE_SMOOTH).unwrap(),
///     &[dmatrix![1.0, 0.5]],
/// );
/// assert!((l - (1.0 - 3.0 / 3.25_f64)).abs() < 1e-15);
/// ```
#[track_caller]
pub fn dice_coeff_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    smooth: f64,
) -> Result<MatVar<T>, NnError> {
    check("dice_coeff_loss", &y_hat, y)?;
    check_non_negative::<T>("dice_coeff_loss smoothing", smooth)?;
    let s: T = c(smooth);
    let overlap = y_hat.weighted_sum(y.clone());
    let squares = y_hat.component_mul(y_hat).sum();
    let numerator = overlap * c::<T>(2.0) + s;
    let denominator = squares + (y.norm_squared() + s);
    Ok(-numerator.component_div(denominator) + T::one())
}

/// Tversky loss `1 − (Σ y·ŷ + 1)/(Σ (y·ŷ + α·(1 − y)·ŷ + β·y·(1 − ŷ)) + 1)` over all entries,
/// `α = 1 − β` (Salehi et al. 2017, default `β = 0.7`, [`TVERSKY_BETA`](super::TVERSKY_BETA),
/// their best setting): `β` weighs the false negatives `y·(1 − ŷ)` and `α` the false positives
/// `(1 − y)·ŷ`, so `β > ½` favours recall; at `β = ½` it is a Dice loss of `Σ ŷ + Σ y` (not of
/// squares) with smoothing 2. Flux's `tversky_loss(ŷ, y; β)` puts `β` on the false positives,
/// in its code and its docstring's formula (against the docstring's prose and the paper; Flux
/// issue #1993): it is this function with `1 − β`, Flux's default `tversky_loss(ŷ, y, 0.3)`
/// here.
///
/// `ŷ`, `y`: any shape, the same (e.g. pixels × batch of foreground probabilities and 0/1
/// masks); one loss for the whole batch, as Flux's.
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape;
/// [`NnError::InvalidConfig`] unless `0 ≤ β ≤ 1`.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{TVERSKY_BETA, tversky_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ = [0.5, 0.5], y = [1, 0]: true positives 0.5, false positives 0.5 (weight 0.3),
/// // false negatives 0.5 (weight 0.7): 1 − 1.5/(0.5 + 0.15 + 0.35 + 1).
/// let (l, _) = matrix::value_and_gradient(
///     |p| tversky_loss(p[0], &dmatrix![1.0, 0.0], TVERSKY_BETA).unwrap(),
///     &[dmatrix![0.5, 0.5]],
/// );
/// assert!((l - (1.0 - 1.5 / 2.0_f64)).abs() < 1e-15);
/// ```
#[track_caller]
pub fn tversky_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    beta: f64,
) -> Result<MatVar<T>, NnError> {
    check("tversky_loss", &y_hat, y)?;
    if !(0.0..=1.0).contains(&beta) {
        return Err(NnError::InvalidConfig {
            name: "tversky_loss β",
            reason: format!("{beta} is not in [0, 1]"),
        });
    }
    let (b, a): (T, T) = (c(beta), c(1.0 - beta));
    // The denominator's sum is Σ ŷ·(y + α(1 − y) − β·y) + β·Σ y.
    let weights = y.map(|v| v + a * (T::one() - v) - b * v);
    let numerator = y_hat.weighted_sum(y.clone()) + T::one();
    let denominator = y_hat.weighted_sum(weights) + (b * y.sum() + T::one());
    Ok(-numerator.component_div(denominator) + T::one())
}
