//! [`NnError`]: everything a user or a data file can get wrong.

use std::fmt;

/// An error of `adroit-nn`: shapes that come from data, invalid configurations, and training
/// that hit a non-finite loss or gradient.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum NnError {
    /// Two arrays that must agree do not: `what` names them.
    ShapeMismatch {
        /// What was being done (e.g. `"mse: prediction vs target"`).
        what: String,
        /// The expected shape (rows, columns).
        expected: (usize, usize),
        /// The shape found.
        found: (usize, usize),
    },
    /// A configuration value is out of its valid range.
    InvalidConfig {
        /// The parameter.
        name: &'static str,
        /// Why it is invalid.
        reason: String,
    },
    /// There is no data where some is needed (an empty dataset or split).
    EmptyData {
        /// What was empty.
        what: String,
    },
    /// A weight file could not be read or written.
    Io {
        /// The file.
        path: String,
        /// The operating system's message.
        message: String,
    },
    /// A weight file is not valid safetensors (truncated, corrupted header, bad offsets).
    InvalidFile {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// A weight file lacks a parameter of the model.
    MissingTensor {
        /// The file.
        path: String,
        /// The parameter name (e.g. `layers.0.weight`).
        name: String,
    },
    /// A tensor of a weight file has another element type than the model.
    DtypeMismatch {
        /// The parameter name.
        name: String,
        /// The model's type (`F32` or `F64`).
        expected: String,
        /// The file's type.
        found: String,
    },
    /// A tensor of a weight file has another shape than the model's parameter.
    TensorShapeMismatch {
        /// The parameter name.
        name: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// The loss, a gradient or an updated parameter became NaN or infinite; training stopped
    /// and the model keeps the parameters from before this step.
    NonFinite {
        /// The epoch (from 0).
        epoch: usize,
        /// The batch within the epoch (from 0).
        batch: usize,
        /// `"loss"`, `"gradient of <parameter>"` or `"update of <parameter>"` (the update
        /// would overflow the parameter).
        what: String,
    },
}

impl fmt::Display for NnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NnError::ShapeMismatch {
                what,
                expected,
                found,
            } => write!(
                f,
                "shape mismatch in {what}: expected {}×{}, found {}×{}",
                expected.0, expected.1, found.0, found.1
            ),
            NnError::InvalidConfig { name, reason } => write!(f, "invalid {name}: {reason}"),
            NnError::EmptyData { what } => write!(f, "no data: {what} is empty"),
            NnError::Io { path, message } => write!(f, "cannot access {path}: {message}"),
            NnError::InvalidFile { path, reason } => {
                write!(f, "{path} is not a valid safetensors file: {reason}")
            }
            NnError::MissingTensor { path, name } => write!(f, "{path} has no tensor {name}"),
            NnError::DtypeMismatch {
                name,
                expected,
                found,
            } => {
                write!(
                    f,
                    "tensor {name} has type {found}, the model needs {expected}"
                )
            }
            NnError::TensorShapeMismatch {
                name,
                expected,
                found,
            } => {
                write!(
                    f,
                    "tensor {name} has shape {found:?}, the model needs {expected:?}"
                )
            }
            NnError::NonFinite { epoch, batch, what } => write!(
                f,
                "non-finite {what} at epoch {epoch}, batch {batch}; training stopped, the model \
                 keeps its last good parameters"
            ),
        }
    }
}

impl std::error::Error for NnError {}

/// `Ok(())` when `found == expected`, else a [`NnError::ShapeMismatch`].
pub(crate) fn check_shape(
    what: &str,
    expected: (usize, usize),
    found: (usize, usize),
) -> Result<(), NnError> {
    if expected == found {
        Ok(())
    } else {
        Err(NnError::ShapeMismatch {
            what: what.to_string(),
            expected,
            found,
        })
    }
}
