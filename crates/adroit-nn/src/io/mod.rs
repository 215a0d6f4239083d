//! Weight files in the safetensors format (Hugging Face), so parameters move to and from
//! PyTorch and other tools. Tensor names follow the model's structure (`weight`,
//! `layers.0.bias`, ...); each parameter is stored as a 2-D tensor `[rows, cols]` in row-major
//! order (safetensors' and PyTorch's layout), as `F32` or `F64`.

mod atomic;
mod weights;

pub use atomic::write_atomically;
pub use weights::{LoadReport, load_safetensors, load_safetensors_partial, save_safetensors};

use crate::NnError;
use std::path::Path;

/// An [`NnError::Io`] naming `path`.
fn io_error(path: &Path, e: std::io::Error) -> NnError {
    NnError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
