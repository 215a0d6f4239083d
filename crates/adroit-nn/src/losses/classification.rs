//! Losses on class probabilities or logits.

use super::binary_entries::{binary_crossentropy_entries, logit_binary_crossentropy_entries};
use super::{Agg, aggregate, check, check_non_negative, eps, sum_xlogy};
use crate::NnError;
use adroit_forward::rules::BinaryRule;
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Cross-entropy `agg over samples of −Σ_classes y·ln(ŷ + ε)`, for probabilities `ŷ`
/// (`classes × batch`, e.g. a softmax output).
///
/// Summed over the classes, aggregated over the samples.
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, crossentropy};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // One sample of class 0 predicted [0.5, 0.5]: −ln 0.5 = ln 2; ∂/∂ŷ = −y/ŷ = [−2, 0].
/// let (l, g) = matrix::value_and_gradient(
///     |p| crossentropy(p[0], &dmatrix![1.0; 0.0], Agg::Mean).unwrap(),
///     &[dmatrix![0.5; 0.5]],
/// );
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// assert!((g[0][0] + 2.0).abs() < 1e-12 && g[0][1] == 0.0);
/// ```
#[track_caller]
pub fn crossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("crossentropy", &y_hat, y)?;
    Ok(aggregate(-sum_xlogy(y, y_hat + eps::<T>()), y.ncols(), agg))
}

/// Cross-entropy from logits: `agg over samples of −Σ_classes y·logsoftmax(ŷ)`. Stable for any
/// finite logits; the gradient with respect to `ŷ` is `(softmax(ŷ) − y)/batch` with [`Agg::Mean`]
/// (`softmax(ŷ) − y` with [`Agg::Sum`]) for targets whose columns sum to 1 (one-hot or
/// label-smoothed; in general `softmax(ŷ)·Σy − y` per sample).
///
/// A class of zero target weight takes no part, as in [`crossentropy`] (`xlogy(0, ·) = 0`): a
/// logit of `−∞` there (a masked class), or logits so far apart that the log-probability is
/// `−∞` (±3e38 in `f32`), costs nothing, where Flux's `sum(y .* logsoftmax(ŷ))` and PyTorch's
/// `cross_entropy` with probability targets give `0·(−∞) = NaN`. A NaN logit gives NaN, and so
/// does a `+∞` one: the loss, and the gradient at that logit (its log-softmax is NaN, as in
/// JAX and PyTorch); [`logitbinarycrossentropy`] takes ±∞ logits to their limits.
///
/// `ŷ`, `y`: classes × batch (summed over the classes, aggregated over the samples), at least
/// two classes.
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape, or if they
/// have fewer than two rows: the log-softmax of a single class is 0, so the loss and its
/// gradient would be 0 whatever the model (binary labels in one row call for
/// [`logitbinarycrossentropy`]; Flux and PyTorch return that 0 silently), and so would a sum
/// over no classes.
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
/// // One class (one row): the loss would always be 0, so it is refused.
/// let _ = matrix::value_and_gradient(
///     |p| {
///         assert!(logitcrossentropy(p[0], &dmatrix![1.0, 0.0], Agg::Mean).is_err());
///         p[0].sum()
///     },
///     &[dmatrix![0.5, -2.0]],
/// );
/// ```
#[track_caller]
pub fn logitcrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("logitcrossentropy", &y_hat, y)?;
    if y.nrows() < 2 {
        let what = if y.nrows() == 1 {
            "logitcrossentropy: one class (a one-row prediction) has log-softmax 0, so the loss \
             and its gradient would always be 0; for binary labels in one row use \
             logitbinarycrossentropy (expected: at least two rows)"
        } else {
            "logitcrossentropy: no class (a prediction of no rows): the loss would always be 0 \
             (expected: at least two rows)"
        };
        return Err(NnError::ShapeMismatch {
            what: what.into(),
            expected: (2, y.ncols()),
            found: y_hat.shape(),
        });
    }
    // −Σ y ⊙ logsoftmax(ŷ) (divided by the batch size for the mean), the factor carried by
    // the weights: one node after the log-softmax.
    let factor = match agg {
        Agg::Sum => -T::one(),
        Agg::Mean => -T::one() / T::from_usize(y.ncols().max(1)).unwrap_or_else(T::one),
    };
    let log_p = y_hat.logsoftmax(Along::Rows);
    let loss = log_p.weighted_sum(y * factor);
    if !Float::is_nan(loss.scalar()) {
        return Ok(loss);
    }
    // A class of zero target weight whose log-probability is −∞ (a logit of −∞, or logits
    // that far apart: ±3e38 in `f32`) made the sum 0·(−∞) = NaN; as in `crossentropy`, where
    // `xlogy(0, ·) = 0`, such a class takes no part. A NaN logit still gives NaN.
    Ok(zero_weights_take_no_part(y * factor, log_p))
}

/// `Σ w ⊙ l` where a zero weight takes no part even against an infinite `l`
/// ([`ZeroWeightTakesNoPart`]): the fallback of the logit losses when the plain weighted sum
/// met `0·∞`.
fn zero_weights_take_no_part<T: MatScalar>(w: DMatrix<T>, l: MatVar<T>) -> MatVar<T> {
    MatVar::constant(w).zip_rule(l, ZeroWeightTakesNoPart).sum()
}

/// `w·l`, with `0` (and partials 0) where the weight `w` is 0 and `l` is not NaN (`−∞`
/// included).
#[derive(Clone, Copy, Debug)]
struct ZeroWeightTakesNoPart;

impl BinaryRule for ZeroWeightTakesNoPart {
    fn eval<S: Float>(self, w: S, l: S) -> (S, S, S) {
        if w == S::zero() && !l.is_nan() {
            (S::zero(), S::zero(), S::zero())
        } else {
            (w * l, l, w)
        }
    }
}

/// Binary cross-entropy `agg(−y·ln(ŷ + ε) − (1 − y)·ln(1 − ŷ + ε))` over all entries, for
/// probabilities `ŷ`.
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, binarycrossentropy};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // ŷ = [0.8, 0.2] for y = [1, 0]: −ln 0.8 for each entry, so the mean is ln 1.25.
/// let (l, _) = matrix::value_and_gradient(
///     |p| binarycrossentropy(p[0], &dmatrix![1.0, 0.0], Agg::Mean).unwrap(),
///     &[dmatrix![0.8, 0.2]],
/// );
/// assert!((l - 1.25f64.ln()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn binarycrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("binarycrossentropy", &y_hat, y)?;
    let e = eps::<T>();
    let terms = y_hat.map_slices(|p, value, derivative| {
        binary_crossentropy_entries(y.as_slice(), p, e, value, derivative);
    });
    Ok(aggregate(terms.sum(), y.len(), agg))
}

/// Binary cross-entropy from logits `agg((1 − y)·ŷ − logσ(ŷ))`, stable for any logits.
///
/// Computed as `(1 − y)·softplus(ŷ) − y·ln σ(ŷ)` (the same function; `−ln σ(ŷ) =
/// softplus(−ŷ)`), whose gradient
/// `(1 − y)·σ(ŷ) − y·σ(−ŷ)` keeps full precision for confident logits of either label; the
/// form above (Flux's) differentiates to `(1 − y) − σ(−ŷ)`, which cancels (0 in `f32` at
/// `ŷ = −20`, `y = 0`, where the gradient is σ(−20) = 2.1e-9). A term of zero weight takes
/// no part, so an infinite logit on its label's side (`+∞` with `y = 1`, `−∞` with `y = 0`)
/// costs 0 with gradient 0, where Flux and PyTorch give `0·∞ = NaN`; on the wrong side the
/// loss is `+∞`. A NaN logit gives NaN.
///
/// `ŷ`, `y`: outputs × batch (the same shape; element-wise, aggregated over all entries).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, logitbinarycrossentropy};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // Logit 0 is probability ½: ln 2 for y = 1; logits ±1000 on the right side cost 0.
/// let (l, g) = matrix::value_and_gradient(
///     |p| logitbinarycrossentropy(p[0], &dmatrix![1.0, 1.0, 0.0], Agg::Sum).unwrap(),
///     &[dmatrix![0.0, 1000.0, -1000.0]],
/// );
/// assert!((l - 2f64.ln()).abs() < 1e-12);
/// // ∂/∂ŷ = σ(ŷ) − y: ½ − 1 at logit 0, 0 for the confident ones.
/// assert!((g[0][0] + 0.5).abs() < 1e-12 && g[0][1].abs() < 1e-12 && g[0][2].abs() < 1e-12);
/// ```
#[track_caller]
pub fn logitbinarycrossentropy<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("logitbinarycrossentropy", &y_hat, y)?;
    // softplus(−ŷ) = −ln σ(ŷ): weighted by −y. An infinite logit on its label's side (`+∞`
    // for 1, `−∞` for 0) would make the other term 0·∞ = NaN; that term takes no part, as in
    // `logitcrossentropy`.
    let terms = y_hat.map_slices(|logits, value, derivative| {
        logit_binary_crossentropy_entries(y.as_slice(), logits, value, derivative);
    });
    Ok(aggregate(terms.sum(), y.len(), agg))
}

/// Kullback–Leibler divergence `KL(y ‖ ŷ) = agg over samples of Σ_classes (xlogy(y, y) −
/// y·ln(ŷ + ε))`, for distributions along the rows. Each entry is formed as `y·ln(y/(ŷ + ε))`
/// and the entries summed in `f64`, so a divergence that is small beside the two sums keeps its
/// digits in `f32` (as their difference, a 10 × 4096 batch's `3.15e-5` came out `−8.06e-5`).
///
/// `ŷ`, `y`: classes × batch (summed over the classes, aggregated over the samples).
///
/// # Errors
/// [`NnError::ShapeMismatch`] naming both shapes if `ŷ` and `y` differ in shape.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, kldivergence};
/// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
/// let y = dmatrix![0.5; 0.5]; // 2 classes × 1 sample
/// let kl = |y_hat: DMatrix<f64>| {
///     matrix::value_and_gradient(|p| kldivergence(p[0], &y, Agg::Mean).unwrap(), &[y_hat]).0
/// };
/// // KL([½, ½] ‖ [¼, ¾]) = ½·ln(½/¼) + ½·ln(½/¾) = ½·ln(4/3), and KL(y ‖ y) = 0.
/// assert!((kl(dmatrix![0.25; 0.75]) - 0.5 * (4.0f64 / 3.0).ln()).abs() < 1e-12);
/// assert!(kl(y.clone()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn kldivergence<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("kldivergence", &y_hat, y)?;
    let total = MatVar::constant(y.clone())
        .zip_rule(y_hat + eps::<T>(), RelativeEntropy)
        .sum();
    Ok(aggregate(total, y.ncols(), agg))
}

/// One entry of [`kldivergence`], `y·ln(y/p)` for the target `y` and `p = ŷ + ε`, `0` where
/// `y = 0` (`xlogy`); partials `(ln(y/p) + 1, −y/p)`.
#[derive(Clone, Copy)]
struct RelativeEntropy;

impl BinaryRule for RelativeEntropy {
    fn eval<S: Float>(self, y: S, p: S) -> (S, S, S) {
        if y == S::zero() {
            (S::zero(), S::zero(), S::zero())
        } else {
            let ratio = y / p;
            let ln = ratio.ln();
            (y * ln, ln + S::one(), -ratio)
        }
    }
}

/// `max(1 − p, 0)^γ`, the focal weight. The floor keeps a fractional `γ` finite where rounding
/// makes `p` exceed 1 by an ε (Flux's formula fails there: Julia raises a `DomainError`), and it is a ReLU-like kink with
/// slope 0 at `p = 1` (not the ½ of adroit's `max` tie rule): with `γ < 1` the slope of `base^γ` is
/// infinite at base 0, and the true derivative of the loss there is 0.
#[track_caller]
fn focal_weight<T: MatScalar>(p: MatVar<T>, gamma: f64) -> MatVar<T> {
    let g = adroit_forward::Dual::constant(T::from_f64(gamma).unwrap_or_else(T::one));
    (-p + T::one()).map(move |v| {
        let base = if v.value() > T::zero() {
            v
        } else {
            adroit_forward::Dual::constant(T::zero())
        };
        base.powf(g)
    })
}

/// Focal loss for multi-class probabilities (Lin et al. 2017, "Focal loss for dense object
/// detection"; Flux's `focal_loss`, whose default is `γ = 2`,
/// [`FOCAL_GAMMA`](super::FOCAL_GAMMA)): with `ŷ`, `y`: classes × batch,
///
/// `agg over samples of Σ_classes −max(1 − (ŷ + ε), 0)^γ · y·ln(ŷ + ε)`
///
/// — Flux's definition (`ε` added to `ŷ`, so a zero probability on the true class gives a
/// finite loss and a gradient that pushes it up; the weight is that of the predicted
/// probability alone, also for soft targets such as [`super::label_smoothing`]'s, as in Flux and
/// Keras), with the weight's base floored at 0 so that a fractional `γ` stays finite for a
/// prediction rounded to 1. `xlogy(0, ·) = 0`.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `ŷ` and `y` differ in shape; [`NnError::InvalidConfig`]
/// unless `γ` is `≥ 0` and finite in `T`.
///
/// # Example
/// ```
/// use adroit_nn::losses::{Agg, focal_loss};
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // One sample, true class 0 with p = 0.5: −(1 − 0.5)²·ln 0.5 = 0.25·ln 2.
/// let (l, _) = matrix::value_and_gradient(
///     |p| focal_loss(p[0], &dmatrix![1.0; 0.0], 2.0, Agg::Mean).unwrap(),
///     &[dmatrix![0.5; 0.5]],
/// );
/// assert!((l - 0.25 * 2f64.ln()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn focal_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    gamma: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("focal_loss", &y_hat, y)?;
    check_non_negative::<T>("focal_loss γ", gamma)?;
    let p = y_hat + eps::<T>();
    let yv = MatVar::constant(y.clone());
    let weight = focal_weight(p, gamma);
    let ce = yv.zip_rule(p, super::Xlogy);
    Ok(aggregate(-weight.component_mul(ce).sum(), y.ncols(), agg))
}

/// Binary focal loss (Lin et al. 2017; Flux's `binary_focal_loss`, default `γ = 2`,
/// [`FOCAL_GAMMA`](super::FOCAL_GAMMA)), over all entries of `ŷ`, `y` (any shape, e.g.
/// 1 × batch):
///
/// `agg(−max(1 − pₜ, 0)^γ · ln(pₜ + ε))` with `pₜ = y·ŷ + (1 − y)·(1 − ŷ)`.
///
/// Flux adds `ε` to `ŷ` before forming `pₜ`, which leaves `pₜ = −ε` (the logarithm of a negative number: Julia raises a `DomainError`) for `y = 0`,
/// `ŷ = 1`; adding it inside the logarithm instead gives the same values up to `O(ε)` and a
/// finite loss and gradient for a zero probability on either class.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if `ŷ` and `y` differ in shape; [`NnError::InvalidConfig`]
/// unless `γ` is `≥ 0` and finite in `T`.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, binary_focal_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // y = [1, 0], ŷ = [0.5, 0.8]: pₜ = 0.5 and 1 − 0.8 = 0.2.
/// let loss = |gamma| {
///     let focal = |p: &[_]| binary_focal_loss(p[0], &dmatrix![1.0, 0.0], gamma, Agg::Sum).unwrap();
///     matrix::value_and_gradient(focal, &[dmatrix![0.5, 0.8]]).0
/// };
/// // γ = 2: −0.5²·ln 0.5 − 0.8²·ln 0.2 = 0.25·ln 2 + 0.64·ln 5.
/// assert!((loss(2.0) - (0.25 * 2f64.ln() + 0.64 * 5f64.ln())).abs() < 1e-12);
/// // γ = 0 is the binary cross-entropy: −ln 0.5 − ln 0.2 = ln 10.
/// assert!((loss(0.0) - 10f64.ln()).abs() < 1e-12);
/// ```
#[track_caller]
pub fn binary_focal_loss<T: MatScalar>(
    y_hat: MatVar<T>,
    y: &DMatrix<T>,
    gamma: f64,
    agg: Agg,
) -> Result<MatVar<T>, NnError> {
    check("binary_focal_loss", &y_hat, y)?;
    check_non_negative::<T>("binary_focal_loss γ", gamma)?;
    let yv = MatVar::constant(y.clone());
    let one_minus_y = MatVar::constant(y.map(|v| T::one() - v));
    let p_t = yv.component_mul(y_hat) + one_minus_y.component_mul(-y_hat + T::one());
    let weight = focal_weight(p_t, gamma);
    Ok(aggregate(
        -weight.component_mul((p_t + eps::<T>()).ln()).sum(),
        y.len(),
        agg,
    ))
}
