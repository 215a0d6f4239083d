//! Padding steps of a batch of sequences: steps whose every feature equals a mask value
//! (Keras's `Masking` rule), shared by the recurrent layers' and the attention's `masking`.

use crate::NnError;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// Checks that a step of a layer over sequences (`layer` names it) has features.
///
/// # Errors
/// [`NnError::InvalidConfig`] if `dim` is 0.
pub(crate) fn check_step_features(layer: &'static str, dim: usize) -> Result<(), NnError> {
    if dim == 0 {
        return Err(NnError::InvalidConfig {
            name: layer,
            reason: "a step must have at least 1 feature".to_string(),
        });
    }
    Ok(())
}

/// The steps and sequences of `x`, `(width·steps) × batch`, for the layer `layer`.
///
/// # Panics
/// If `x`'s rows are not whole steps of `width` features.
#[track_caller]
pub(crate) fn steps_and_batch<T: MatScalar>(
    layer: &str,
    x: &MatVar<T>,
    width: usize,
) -> (usize, usize) {
    assert!(
        width > 0 && x.nrows().is_multiple_of(width),
        "{layer}: {} input rows are not whole steps of {width} features",
        x.nrows()
    );
    (x.nrows() / width, x.ncols())
}

/// [`Layer::output_size_for`](crate::Layer::output_size_for) of a layer over steps of
/// `width` features that keeps the size (`name` names its input): `input`, if its rows are
/// whole steps.
///
/// # Errors
/// [`NnError::InvalidConfig`] if they are not.
pub(crate) fn whole_steps(
    name: &'static str,
    input: usize,
    width: usize,
) -> Result<Option<usize>, NnError> {
    if width == 0 || !input.is_multiple_of(width) {
        return Err(NnError::InvalidConfig {
            name,
            reason: format!("{input} input rows are not whole steps of {width} features"),
        });
    }
    Ok(Some(input))
}

/// Which steps of `x` (`(width·steps) × batch`) are real, `steps × batch`: false where every
/// one of the step's `width` features equals `mask_value`. `None` without a mask value (`x`'s
/// entries are then not read) or when no step is padding.
pub(crate) fn real_steps<T: MatScalar>(
    x: &MatVar<T>,
    width: usize,
    mask_value: Option<f64>,
) -> Option<DMatrix<bool>> {
    let mask = T::from_f64(mask_value?)?;
    let x = x.value();
    let steps = x.nrows().checked_div(width)?;
    let real = DMatrix::from_fn(steps, x.ncols(), |t, b| {
        x.view((t * width, b), (width, 1))
            .iter()
            .any(|&v| v != mask)
    });
    (!real.iter().all(|&r| r)).then_some(real)
}

/// `x` (`(width·steps) × batch`) with every entry of the padding steps (false in `real`,
/// `steps × batch`) replaced by `fill`: what a layer reads in their place (zeros for a
/// convolution, a pool's fill). No gradient reaches the replaced entries.
pub(crate) fn replace_padding<T: MatScalar>(
    x: MatVar<T>,
    real: &DMatrix<bool>,
    width: usize,
    fill: T,
) -> MatVar<T> {
    let kept = DMatrix::from_fn(x.nrows(), x.ncols(), |r, b| real[(r / width, b)]);
    let fill = MatVar::constant(DMatrix::from_element(1, 1, fill));
    MatVar::select(&kept, x, fill)
}

/// `y` (`width × (steps·batch)`, sequence `b`'s steps at columns `b·steps ..`) with the
/// columns of padding steps (false in `real`, `steps × batch`) set to `mask_value` (in the
/// element type); `y` itself without padding (`real` `None`), without a mask value or if the
/// element type has no such value.
pub(crate) fn fill_padding<T: MatScalar>(
    y: MatVar<T>,
    real: Option<&DMatrix<bool>>,
    mask_value: Option<f64>,
) -> MatVar<T> {
    let (Some(real), Some(mask)) = (real, mask_value.and_then(T::from_f64)) else {
        return y;
    };
    set_padding_columns(y, real, mask)
}

/// `y` (`width × (steps·batch)`) with the columns of padding steps set to 0 where `real`
/// marks some (`y` itself otherwise): what the attention layers compute in their place, so
/// that no mask value (−1e308) overflows in a projection or a norm's sum.
pub(crate) fn zero_padding_columns<T: MatScalar>(
    y: MatVar<T>,
    real: Option<&DMatrix<bool>>,
) -> MatVar<T> {
    match real {
        Some(real) => set_padding_columns(y, real, T::zero()),
        None => y,
    }
}

/// `y` (`width × (steps·batch)`, sequence `b`'s steps at columns `b·steps ..`) with the
/// columns of padding steps (false in `real`, `steps × batch`) set to `value`. No gradient
/// reaches the replaced entries.
pub(crate) fn set_padding_columns<T: MatScalar>(
    y: MatVar<T>,
    real: &DMatrix<bool>,
    value: T,
) -> MatVar<T> {
    let steps = real.nrows();
    let kept = DMatrix::from_fn(y.nrows(), y.ncols(), |_, c| real[(c % steps, c / steps)]);
    MatVar::select(
        &kept,
        y,
        MatVar::constant(DMatrix::from_element(1, 1, value)),
    )
}

/// Checks a layer's mask value (`layer` names it): finite (NaN equals no feature; an
/// infinite value would meet the zero weights that leave padding out and give NaN) and kept by
/// the element type `T` (not rounded to an infinity or to 0, which would mark other steps as
/// padding).
///
/// # Errors
/// [`NnError::InvalidConfig`] for a non-finite value or one `T` does not keep.
pub(crate) fn check_mask_value<T: MatScalar>(
    layer: &str,
    mask_value: Option<f64>,
) -> Result<(), NnError> {
    let Some(v) = mask_value else {
        return Ok(());
    };
    let reason = if !v.is_finite() {
        format!("{layer}: the mask value is {v}; it must be finite (0, −1, −9)")
    } else {
        let kept = T::from_f64(v).and_then(|t| t.to_f64());
        match kept {
            Some(k) if k.is_infinite() || (k == 0.0 && v != 0.0) => format!(
                "{layer}: the mask value {v:e} is {k} in the model's element type; pick one it \
                 holds (0, −1, −9)"
            ),
            None => {
                format!("{layer}: the mask value {v:e} has no value in the model's element type")
            }
            _ => return Ok(()),
        }
    };
    Err(NnError::InvalidConfig {
        name: "mask value",
        reason,
    })
}
