//! Padding steps of a batch of sequences: steps whose every feature equals a mask value
//! (Keras's `Masking` rule), shared by the recurrent layers' and the attention's `masking`.

use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Which steps of `x` (`(width·steps) × batch`) are real, `steps × batch`: false where every
/// one of the step's `width` features equals `mask_value`. `None` when no step is padding.
pub(crate) fn real_steps<T: MatScalar>(
    x: &DMatrix<T>,
    width: usize,
    mask_value: f64,
) -> Option<DMatrix<bool>> {
    let mask = T::from_f64(mask_value)?;
    let steps = x.nrows().checked_div(width)?;
    let real = DMatrix::from_fn(steps, x.ncols(), |t, b| {
        x.view((t * width, b), (width, 1))
            .iter()
            .any(|&v| v != mask)
    });
    (!real.iter().all(|&r| r)).then_some(real)
}

/// Checks a layer's mask value (`layer` names it): not NaN, which no feature equals.
///
/// # Errors
/// [`NnError::InvalidConfig`] for NaN.
pub(crate) fn check_mask_value(layer: &str, mask_value: Option<f64>) -> Result<(), NnError> {
    match mask_value {
        Some(v) if v.is_nan() => Err(NnError::InvalidConfig {
            name: "mask value",
            reason: format!("{layer}: the mask value is NaN, which no feature equals"),
        }),
        _ => Ok(()),
    }
}
