//! One-hot encoding and its inverse.

use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// The `classes × n` one-hot matrix of `labels` (Flux's `onehotbatch`).
///
/// # Errors
/// [`NnError::InvalidConfig`] if a label is `≥ classes`, or if the `classes × n` matrix cannot
/// be counted or allocated (a class count read from data).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// let m = adroit_nn::data::onehot::<f64>(&[2, 0], 3).unwrap();
/// assert_eq!(m, nalgebra::dmatrix![0.0, 1.0; 0.0, 0.0; 1.0, 0.0]);
/// assert_eq!(adroit_nn::data::onecold(&m), vec![2, 0]);
/// ```
pub fn onehot<T: MatScalar>(labels: &[usize], classes: usize) -> Result<DMatrix<T>, NnError> {
    if let Some(&bad) = labels.iter().find(|&&l| l >= classes) {
        return Err(NnError::InvalidConfig {
            name: "label",
            reason: format!("{bad} is not < {classes} classes"),
        });
    }
    let mut entries = zeroed::<T>("one-hot", classes, labels.len())?;
    for (j, &label) in labels.iter().enumerate() {
        entries[j * classes + label] = T::one();
    }
    Ok(DMatrix::from_vec(classes, labels.len(), entries))
}

/// The `rows × cols` entries of a matrix, all zero, allocated fallibly: an `Err` naming the
/// matrix (`what`) if their number or size overflows, or the allocation fails, instead of
/// nalgebra's unchecked count (a wrapped count indexed past the buffer) or an abort on a
/// class count read from data.
pub(crate) fn zeroed<T: Clone + num_traits::Zero>(
    what: &str,
    rows: usize,
    cols: usize,
) -> Result<Vec<T>, NnError> {
    let refuse = |why: &str| NnError::InvalidConfig {
        name: "classes",
        reason: format!("a {rows} × {cols} {what} matrix {why}"),
    };
    let len = rows
        .checked_mul(cols)
        .ok_or_else(|| refuse("has more entries than usize can count"))?;
    let mut entries = Vec::new();
    entries
        .try_reserve_exact(len)
        .map_err(|_| refuse("cannot be allocated"))?;
    entries.resize(len, T::zero());
    Ok(entries)
}

/// The index of the largest entry of each column (Flux's `onecold`); the first one on ties.
/// A NaN counts as the largest value, so a column holding one gives its first NaN's index
/// (as Julia's `argmax`, NumPy's and PyTorch's: a broken prediction is never silently a
/// confident class because of where its NaN sits).
///
/// # Panics
/// If `m` has columns but no rows: there is no class to pick (Julia's `argmax` of an empty
/// column throws too).
///
/// # Example
/// ```
/// use adroit_nn::data::onecold;
/// use adroit_nn::nalgebra::{self, dmatrix};
/// // 3 classes × 2 samples: [0.1, 0.7, 0.2] is class 1; [0.4, 0.4, 0.2] ties, so class 0.
/// let probs = dmatrix![0.1, 0.4; 0.7, 0.4; 0.2, 0.2];
/// assert_eq!(onecold(&probs), vec![1, 0]);
/// // NaN is the largest: [NaN, 0.9, NaN] is class 0 and [0.9, NaN, 0.1] class 1.
/// let broken = dmatrix![f64::NAN, 0.9; 0.9, f64::NAN; f64::NAN, 0.1];
/// assert_eq!(onecold(&broken), vec![0, 1]);
/// ```
#[track_caller]
pub fn onecold<T: MatScalar>(m: &DMatrix<T>) -> Vec<usize> {
    assert!(
        m.nrows() > 0 || m.ncols() == 0,
        "onecold: a 0 × {} matrix has no class to pick",
        m.ncols()
    );
    m.column_iter()
        .map(|c| {
            let mut best = 0;
            for (i, &v) in c.iter().enumerate() {
                if v.is_nan() {
                    return i;
                }
                if v > c[best] {
                    best = i;
                }
            }
            best
        })
        .collect()
}
