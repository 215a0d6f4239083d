//! [`evaluate`]: a loss's value at a plain prediction, outside any gradient call.

use crate::NnError;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;

/// The value of `loss` at a plain `prediction` against `target`, with no derivatives (Flux's
/// `mse(ŷ, y)` on arrays; PyTorch's loss under `torch.no_grad()`): for a model's error
/// before or after training, or on a test set (with [`Layer::predict`](crate::Layer::predict)).
/// `loss` is any loss of this module with its settings, or a closure of the form
/// [`train`](crate::train()) takes (written inline, or with `&DMatrix<T>` annotated on its
/// target: see `train`). Runs on [`matrix::evaluate`], which keeps no backward rule.
///
/// `prediction`, `target`: `outputs × batch`, as the loss takes them.
///
/// # Errors
/// The loss's own: [`NnError::ShapeMismatch`] naming both shapes when they disagree,
/// [`NnError::InvalidConfig`] for a setting out of range.
///
/// # Panics
/// If `loss` returns a matrix that is not 1 × 1 (not a scalar loss: the losses of this module
/// always reduce to one), as `train` does.
///
/// # Example
/// ```
/// use adroit_nn::losses::{self, Agg, mse};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, Layer};
/// let model = Dense::from_parts(dmatrix![2.0], None, Activation::Identity).unwrap();
/// let (x, y) = (dmatrix![1.0, 2.0], dmatrix![2.0, 5.0]);
/// let prediction = model.predict(&x).unwrap(); // [2, 4]
/// let error = losses::evaluate(|p, t| mse(p, t, Agg::Mean), &prediction, &y).unwrap();
/// assert_eq!(error, 0.5); // (0² + 1²) / 2
/// // A target of another shape is an error naming both shapes.
/// let err = losses::evaluate(|p, t| mse(p, t, Agg::Mean), &prediction, &dmatrix![1.0]);
/// assert!(err.unwrap_err().to_string().contains("expected 1×1, found 1×2"));
/// ```
#[track_caller]
pub fn evaluate<T, L>(loss: L, prediction: &DMatrix<T>, target: &DMatrix<T>) -> Result<T, NnError>
where
    T: MatScalar,
    L: FnOnce(MatVar<T>, &DMatrix<T>) -> Result<MatVar<T>, NnError>,
{
    let mut failure = None;
    let value = matrix::evaluate(
        |m| {
            loss(m[0], target).unwrap_or_else(|e| {
                failure = Some(e);
                MatVar::constant(DMatrix::zeros(1, 1))
            })
        },
        &[prediction],
    );
    if let Some(e) = failure {
        return Err(e);
    }
    assert!(
        value.shape() == (1, 1),
        "losses::evaluate: the loss must return a 1 × 1 matrix (a scalar loss), not {}×{}; \
         reduce it with `sum` or `mean`, as the losses of `adroit_nn::losses` do",
        value.nrows(),
        value.ncols()
    );
    Ok(value[(0, 0)])
}
