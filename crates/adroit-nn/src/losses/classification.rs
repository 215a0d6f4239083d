//! Losses on class probabilities or logits.

use super::{Agg, aggregate, check, eps, sum_xlogy};
use crate::NnError;
use crate::activation::log_sigmoid;
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Cross-entropy `agg over samples of −Σ_classes y·ln(ŷ + ε)`, for probabilities `ŷ`
/// (`classes × batch`, e.g. a softmax output).
pub fn crossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("crossentropy", &y_hat, y)?;
    Ok(aggregate(-sum_xlogy(y, y_hat + eps::<T>()), y.ncols(), agg))
}

/// Cross-entropy from logits: `agg over samples of −Σ_classes y·logsoftmax(ŷ)`. Stable for any
/// logits; the gradient with respect to `ŷ` is `(softmax(ŷ) − y)/batch` for one-hot `y`.
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, logitcrossentropy};
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let (l, g) = matrix::value_and_gradient(
///     |p| logitcrossentropy(p[0], &dmatrix![1.0; 0.0], Agg::Mean).unwrap(),
///     &[dmatrix![1000.0; -1000.0]],
/// );
/// assert_eq!((l, g[0].clone()), (0.0, dmatrix![0.0; 0.0]));
/// ```
pub fn logitcrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("logitcrossentropy", &y_hat, y)?;
    // −Σ y ⊙ logsoftmax(ŷ) (divided by the batch size for the mean), the factor carried by
    // the weights: one node after the log-softmax.
    let factor = match agg {
        Agg::Sum => -T::one(),
        Agg::Mean => -T::one() / T::from_usize(y.ncols().max(1)).unwrap_or_else(T::one),
    };
    Ok(y_hat.logsoftmax(Along::Rows).weighted_sum(y * factor))
}

/// Binary cross-entropy `agg(−y·ln(ŷ + ε) − (1 − y)·ln(1 − ŷ + ε))` over all entries, for
/// probabilities `ŷ`.
pub fn binarycrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("binarycrossentropy", &y_hat, y)?;
    let e = eps::<T>();
    let one_minus_y = y.map(|v| T::one() - v);
    let total = -(sum_xlogy(y, y_hat + e) + sum_xlogy(&one_minus_y, -y_hat + (T::one() + e)));
    Ok(aggregate(total, y.len(), agg))
}

/// Binary cross-entropy from logits `agg((1 − y)·ŷ − logσ(ŷ))`, stable for any logits.
pub fn logitbinarycrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("logitbinarycrossentropy", &y_hat, y)?;
    let one_minus_y = MatVar::constant(y.map(|v| T::one() - v));
    let total = y_hat.component_mul(one_minus_y).sum() - y_hat.map(log_sigmoid).sum();
    Ok(aggregate(total, y.len(), agg))
}

/// Kullback–Leibler divergence `KL(y ‖ ŷ) = agg over samples of Σ_classes (xlogy(y, y) −
/// y·ln(ŷ + ε))`, for distributions along the rows.
pub fn kldivergence<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("kldivergence", &y_hat, y)?;
    let entropy: T = y
        .iter()
        .map(|&v| {
            if v == T::zero() {
                T::zero()
            } else {
                v * Float::ln(v)
            }
        })
        .fold(T::zero(), |a, b| a + b);
    let total = -sum_xlogy(y, y_hat + eps::<T>()) + entropy;
    Ok(aggregate(total, y.ncols(), agg))
}

/// `ŷ` clamped to `[ε, 1 − ε]`, so that `1 − p`, `p` and their logarithms and powers stay
/// finite for saturated predictions (a softmax or sigmoid of exactly 1 or 0, reached in `f32` at
/// logit gaps of about 17; the clamp is Keras's and Lux's convention).
fn clamp_probability<T: MatScalar>(y_hat: MatVar<T>) -> MatVar<T> {
    let e = eps::<T>();
    y_hat.map(move |v| {
        let (lo, hi) = (
            adroit_forward::Dual::constant(e),
            adroit_forward::Dual::constant(T::one() - e),
        );
        v.clamp(lo, hi)
    })
}

/// Focal loss for multi-class probabilities (Lin et al. 2017; Flux's `focal_loss`, `γ = 2`):
/// `agg over samples of Σ_classes −y·(1 − p)^γ·ln p` with `p = ŷ` clamped to `[ε, 1 − ε]`
/// (finite for saturated predictions).
pub fn focal_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    gamma: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("focal_loss", &y_hat, y)?;
    let p = clamp_probability(y_hat);
    let g = T::from_f64(gamma).unwrap_or_else(T::one);
    let weight = (-p + T::one()).map(move |v| v.powf(adroit_forward::Dual::constant(g)));
    let ce = MatVar::constant(y.clone()).zip_rule(p, super::Xlogy);
    Ok(aggregate(-weight.component_mul(ce).sum(), y.ncols(), agg))
}

/// Binary focal loss (Flux's `binary_focal_loss`, `γ = 2`): `agg(−(1 − pₜ)^γ·ln pₜ)` over all
/// entries, with `pₜ = y·p + (1 − y)·(1 − p)` and `p = ŷ` clamped to `[ε, 1 − ε]`.
pub fn binary_focal_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    gamma: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("binary_focal_loss", &y_hat, y)?;
    let p = clamp_probability(y_hat);
    let yv = MatVar::constant(y.clone());
    let one_minus_y = MatVar::constant(y.map(|v| T::one() - v));
    let p_t = yv.component_mul(p) + one_minus_y.component_mul(-p + T::one());
    let g = T::from_f64(gamma).unwrap_or_else(T::one);
    let weight = (-p_t + T::one()).map(move |v| v.powf(adroit_forward::Dual::constant(g)));
    Ok(aggregate(
        -weight.component_mul(p_t.ln()).sum(),
        y.len(),
        agg,
    ))
}
