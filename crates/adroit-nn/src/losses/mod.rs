//! Loss functions with Flux's definitions and defaults.
//!
//! Every loss takes the prediction `ŷ` (a tracked matrix, `outputs × batch`), the target `y`
//! (a plain matrix of the same shape) and, except the overlap losses [`dice_coeff_loss`] and
//! [`tversky_loss`] (one value for the whole batch, as Flux's), an aggregation, and returns a
//! 1 × 1 tracked matrix.
//! Element-wise losses aggregate over all entries; class losses (`crossentropy`,
//! `logitcrossentropy`, `kldivergence`, `focal_loss`) first sum over the class dimension (the
//! rows) and then aggregate over samples (the columns), as Flux with `dims = 1`.
//!
//! Probabilities are offset by `ε` (machine epsilon of the precision, Flux's default) before
//! logarithms, and `xlogy(0, ·) = 0`, so a zero probability on a class of zero target weight
//! costs nothing and on the true class gives a large but finite loss with a gradient that
//! pushes it up (the focal losses too: see each for where its `ε` sits). Logit losses are computed
//! from log-softmax / log-sigmoid, finite for logits of ±1000, with gradient `softmax − y` per
//! sample (divided by the batch size for [`Agg::Mean`]; for targets whose columns sum to 1).
//!
//! Losses run on tracked matrices, inside a gradient call or [`train`](crate::train()); for a
//! loss's value at a plain prediction (a model's error before training, on a test set), pass
//! it to [`evaluate`].
//!
//! # Errors
//! Every loss returns [`NnError::ShapeMismatch`](crate::NnError) naming both shapes when `ŷ`
//! and `y` differ in shape; [`logitcrossentropy`] also for a single class (one row), whose
//! loss would always be 0. Losses with a parameter (the focal losses' `γ`, Dice's smoothing,
//! Tversky's `β`, the contrastive margin, Huber's `δ`) return
//! [`NnError::InvalidConfig`](crate::NnError) for one out of range.

mod binary_entries;
mod classification;
mod evaluate;
mod margin;
mod overlap;
mod regression;

pub use classification::{
    binary_focal_loss, binarycrossentropy, crossentropy, focal_loss, kldivergence,
    logitbinarycrossentropy, logitcrossentropy,
};
pub use evaluate::evaluate;
pub use margin::{hinge_loss, siamese_contrastive_loss, squared_hinge_loss};
pub use overlap::{dice_coeff_loss, tversky_loss};
pub use regression::{huber_loss, mae, mse, msle, poisson_loss};

/// Flux's default `δ` of [`huber_loss`]: 1.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, HUBER_DELTA, huber_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // Flux's `huber_loss(ŷ, y)`: an error of 3 costs δ·(3 − δ/2) = 2.5.
/// let (l, _) = matrix::value_and_gradient(
///     |p| huber_loss(p[0], &dmatrix![0.0], HUBER_DELTA, Agg::Mean).unwrap(),
///     &[dmatrix![3.0]],
/// );
/// assert_eq!(l, 2.5);
/// ```
pub const HUBER_DELTA: f64 = 1.0;

/// Flux's default smoothing `s` of [`dice_coeff_loss`]: 1.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{DICE_SMOOTH, dice_coeff_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // Two empty masks agree: 1 − (0 + 1)/(0 + 0 + 1) = 0.
/// let (l, _) = matrix::value_and_gradient(
///     |p| dice_coeff_loss(p[0], &dmatrix![0.0, 0.0], DICE_SMOOTH).unwrap(),
///     &[dmatrix![0.0, 0.0]],
/// );
/// assert_eq!(l, 0.0);
/// ```
pub const DICE_SMOOTH: f64 = 1.0;

/// The default `β` of [`tversky_loss`], the false negatives' weight: 0.7, the false positives'
/// `1 − β = 0.3` (Salehi et al. 2017's best setting; Flux's default 0.7 weighs the false
/// positives, so Flux's default loss is `tversky_loss(ŷ, y, 0.3)` here).
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{TVERSKY_BETA, tversky_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // A missed foreground pixel (y = 1, ŷ = 0) costs more than a false one (y = 0, ŷ = 1).
/// let loss = |y_hat: nalgebra::DMatrix<f64>, y: nalgebra::DMatrix<f64>| {
///     matrix::value_and_gradient(|p| tversky_loss(p[0], &y, TVERSKY_BETA).unwrap(), &[y_hat]).0
/// };
/// assert!(loss(dmatrix![0.0, 1.0], dmatrix![1.0, 1.0]) > loss(dmatrix![1.0, 1.0], dmatrix![0.0, 1.0]));
/// ```
pub const TVERSKY_BETA: f64 = 0.7;

/// Flux's default margin of [`siamese_contrastive_loss`]: 1.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, SIAMESE_MARGIN, siamese_contrastive_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // A dissimilar pair (y = 1) at distance 0.25 costs (1 − 0.25)² = 0.5625.
/// let (l, _) = matrix::value_and_gradient(
///     |p| siamese_contrastive_loss(p[0], &dmatrix![1.0], SIAMESE_MARGIN, Agg::Mean).unwrap(),
///     &[dmatrix![0.25]],
/// );
/// assert_eq!(l, 0.5625);
/// ```
pub const SIAMESE_MARGIN: f64 = 1.0;

/// Flux's default focusing parameter `γ` of [`focal_loss`] and [`binary_focal_loss`]: 2
/// (Lin et al. 2017's choice).
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, FOCAL_GAMMA, binary_focal_loss};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // pₜ = 0.5: −(1 − 0.5)²·ln 0.5.
/// let (l, _) = matrix::value_and_gradient(
///     |p| binary_focal_loss(p[0], &dmatrix![1.0], FOCAL_GAMMA, Agg::Mean).unwrap(),
///     &[dmatrix![0.5]],
/// );
/// assert!((l - 0.25 * 2f64.ln()).abs() < 1e-12);
/// ```
pub const FOCAL_GAMMA: f64 = 2.0;

use crate::NnError;
use crate::error::check_shape;
use adroit_forward::rules::BinaryRule;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// How per-entry or per-sample losses are combined.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix;
/// use adroit_nn::losses::{Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // Squared errors of ŷ = [1, 2] against y = [1, 4]: 0 and 4; sum 4, mean 2.
/// let loss = |agg| {
///     let (l, _) = matrix::value_and_gradient(
///         |p| mse(p[0], &dmatrix![1.0, 4.0], agg).unwrap(),
///         &[dmatrix![1.0, 2.0]],
///     );
///     l
/// };
/// assert_eq!((loss(Agg::Sum), loss(Agg::Mean), loss(Agg::default())), (4.0, 2.0, 2.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Agg {
    /// The mean (Flux's default). Over no entries (an empty prediction, `n × 0`) it is the
    /// empty sum, 0, with zero gradient — where Flux and PyTorch divide by zero and give NaN.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::DMatrix;
    /// let (l, g) = matrix::value_and_gradient(
    ///     |p| mse(p[0], &DMatrix::zeros(3, 0), Agg::Mean).unwrap(),
    ///     &[DMatrix::<f64>::zeros(3, 0)],
    /// );
    /// assert_eq!((l, g[0].shape()), (0.0, (3, 0)));
    /// ```
    #[default]
    Mean,
    /// The sum.
    Sum,
}

/// Checks the shapes, naming the loss.
fn check(
    name: &str,
    y_hat: &MatVar<impl MatScalar>,
    y: &DMatrix<impl MatScalar>,
) -> Result<(), NnError> {
    if y.shape() == y_hat.shape() {
        return Ok(());
    }
    // Class labels given as one row (1 × batch) where the model predicts one row per class.
    let hint = if y.nrows() == 1 && y_hat.nrows() > 1 && y.ncols() == y_hat.ncols() {
        format!(
            "; the targets have one row: for class labels 0..{}, one-hot encode them \
             (data::onehot)",
            y_hat.nrows()
        )
    } else {
        String::new()
    };
    check_shape(
        &format!(
            "{name}: prediction and target shapes must agree (expected: the target's, found: the prediction's){hint}"
        ),
        y.shape(),
        y_hat.shape(),
    )
}

/// Aggregates a 1 × 1 total over `count` items.
#[track_caller]
fn aggregate<T: MatScalar>(total: MatVar<T>, count: usize, agg: Agg) -> MatVar<T> {
    match agg {
        Agg::Sum => total,
        Agg::Mean => total / T::from_usize(count.max(1)).unwrap_or_else(T::one),
    }
}

/// `Ok` for a parameter that is `≥ 0` and finite in `T` (a focal loss's `γ`: Lin et al. use
/// `γ ∈ [0, 5]`, and a negative `γ` makes a confident correct prediction's weight `0^γ = ∞`;
/// a Dice smoothing; a contrastive margin): a NaN or infinite one gives NaN losses or
/// gradients (`3.5e38` is infinite in `f32`).
fn check_non_negative<T: MatScalar>(what: &'static str, value: f64) -> Result<(), NnError> {
    let finite_in_t = T::from_f64(value).is_some_and(|v| Float::is_finite(v));
    if finite_in_t && value >= 0.0 {
        Ok(())
    } else {
        Err(NnError::InvalidConfig {
            name: what,
            reason: format!("{value} is not ≥ 0 and finite in the element type"),
        })
    }
}

/// Machine epsilon of `T` (Flux's default `ϵ`).
fn eps<T: MatScalar>() -> T {
    <T as Float>::epsilon()
}

/// `xlogy(x, y) = x·ln y` with `xlogy(0, y) = 0` for every `y` (also 0 and NaN-free at 0):
/// partials `(ln y, x/y)`, both 0 where `x = 0`.
#[derive(Clone, Copy, Debug)]
struct Xlogy;

impl BinaryRule for Xlogy {
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S) {
        if x == S::zero() {
            (S::zero(), S::zero(), S::zero())
        } else {
            let ln = y.ln();
            (x * ln, ln, x / y)
        }
    }
}

/// `Σ xlogy(y, p)` over all entries, `y` constant.
#[track_caller]
fn sum_xlogy<T: MatScalar>(y: &DMatrix<T>, p: MatVar<T>) -> MatVar<T> {
    MatVar::constant(y.clone()).zip_rule(p, Xlogy).sum()
}

/// Label smoothing for one-hot targets (`classes × batch`):
/// `y·(1 − α) + α/classes` (Szegedy et al. 2016; Flux's `label_smoothing` with `dims = 1`).
///
/// # Errors
/// [`NnError::InvalidConfig`] unless `0 < α < 1` (Flux's bounds: `α = 0` would be a no-op and
/// `α = 1` would erase the labels, both more likely a configuration mistake).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// let y = adroit_nn::losses::label_smoothing(&nalgebra::dmatrix![1.0; 0.0], 0.2).unwrap();
/// assert_eq!(y, nalgebra::dmatrix![0.9; 0.1]);
/// ```
pub fn label_smoothing<T: MatScalar>(y: &DMatrix<T>, alpha: f64) -> Result<DMatrix<T>, NnError> {
    smooth(y, alpha, y.nrows())
}

/// Label smoothing for binary targets in `[0, 1]`: `y·(1 − α) + α/2` (Flux with `dims = 0`),
/// entry by entry, for `y` of any shape (typically 1 × batch, or labels × batch for
/// independent binary labels).
///
/// # Errors
/// [`NnError::InvalidConfig`] unless `0 < α < 1` (as [`label_smoothing`]).
///
/// # Example
/// ```
/// use adroit_nn::NnError;
/// use adroit_nn::losses::binary_label_smoothing;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// let y = dmatrix![1.0, 0.0, 1.0]; // 1 × 3: one binary target per sample
/// // 1·0.8 + 0.1 and 0·0.8 + 0.1, whatever the number of rows (two classes: 0 and 1).
/// assert_eq!(binary_label_smoothing(&y, 0.2).unwrap(), dmatrix![0.9, 0.1, 0.9]);
/// assert!(matches!(binary_label_smoothing(&y, 1.0), Err(NnError::InvalidConfig { .. })));
/// ```
pub fn binary_label_smoothing<T: MatScalar>(
    y: &DMatrix<T>,
    alpha: f64,
) -> Result<DMatrix<T>, NnError> {
    smooth(y, alpha, 2)
}

fn smooth<T: MatScalar>(y: &DMatrix<T>, alpha: f64, classes: usize) -> Result<DMatrix<T>, NnError> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(NnError::InvalidConfig {
            name: "label smoothing α",
            reason: format!("{alpha} is not in (0, 1)"),
        });
    }
    let keep = T::from_f64(1.0 - alpha).unwrap_or_else(T::one);
    let add = T::from_f64(alpha / classes.max(1) as f64).unwrap_or_else(T::zero);
    Ok(y.map(|v| v * keep + add))
}
