//! Classification metrics.

use crate::NnError;
use nalgebra::DMatrix;

fn same_length(what: &str, a: &[usize], b: &[usize]) -> Result<(), NnError> {
    if a.len() == b.len() {
        Ok(())
    } else {
        Err(NnError::ShapeMismatch {
            what: what.into(),
            expected: (1, b.len()),
            found: (1, a.len()),
        })
    }
}

/// The fraction of `predicted` labels equal to `truth`.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if the lengths differ; [`NnError::EmptyData`] if they are empty.
///
/// # Example
/// ```
/// assert_eq!(adroit_nn::data::accuracy(&[0, 1, 1, 2], &[0, 1, 2, 2]).unwrap(), 0.75);
/// ```
pub fn accuracy(predicted: &[usize], truth: &[usize]) -> Result<f64, NnError> {
    same_length("accuracy: predictions vs labels", predicted, truth)?;
    if truth.is_empty() {
        return Err(NnError::EmptyData {
            what: "accuracy labels".into(),
        });
    }
    let right = predicted.iter().zip(truth).filter(|(p, t)| p == t).count();
    Ok(right as f64 / truth.len() as f64)
}

/// The `classes × classes` confusion matrix: entry `(i, j)` counts samples of true class `i`
/// predicted as `j` (scikit-learn's layout). The arguments come in [`accuracy`]'s order,
/// predictions first — the reverse of scikit-learn's `confusion_matrix(y_true, y_pred)`.
///
/// # Errors
/// [`NnError::ShapeMismatch`] if the lengths differ; [`NnError::InvalidConfig`] if a label is
/// `≥ classes`, or if the `classes × classes` matrix cannot be counted or allocated.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// let m = adroit_nn::data::confusion_matrix(&[0, 1, 1], &[0, 1, 0], 2).unwrap();
/// assert_eq!(m, nalgebra::dmatrix![1, 1; 0, 1]);
/// ```
pub fn confusion_matrix(
    predicted: &[usize],
    truth: &[usize],
    classes: usize,
) -> Result<DMatrix<usize>, NnError> {
    same_length("confusion_matrix: predictions vs labels", predicted, truth)?;
    let mut m = DMatrix::from_vec(
        classes,
        classes,
        super::encoding::zeroed("confusion", classes, classes)?,
    );
    for (&p, &t) in predicted.iter().zip(truth) {
        if p >= classes || t >= classes {
            return Err(NnError::InvalidConfig {
                name: "label",
                reason: format!("{} is not < {classes} classes", p.max(t)),
            });
        }
        m[(t, p)] += 1;
    }
    Ok(m)
}
