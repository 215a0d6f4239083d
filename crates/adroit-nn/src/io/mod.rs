//! Weight files in the safetensors format (Hugging Face), so parameters move to and from
//! PyTorch and other tools. Tensor names follow the model's structure (`weight`,
//! `layers.0.bias`, ...); each parameter is stored as a 2-D tensor `[rows, cols]` in row-major
//! order (safetensors' and PyTorch's layout), as `F32` or `F64`, and loads from that shape or
//! one whose trailing dimensions flatten to `cols` (below).
//!
//! To and from PyTorch: a [`Dense`](crate::Dense) stores `weight` as `out × in`, as
//! `nn.Linear` does, and its bias as `[out, 1]`; a bias also loads from PyTorch's 1-D `[out]`.
//! Names differ by a prefix: `layers.0.weight` in a [`Chain`](crate::Chain) is `0.weight` in
//! an `nn.Sequential`, so rename the keys on one side (e.g. with the Python `safetensors`
//! package), and reshape biases to 1-D for PyTorch (`b.reshape(-1)`). A
//! [`LayerNorm`](crate::LayerNorm)'s `scale` and `bias` are `nn.LayerNorm`'s `weight` and
//! `bias`.
//!
//! Convolutions load PyTorch's 3-D and 4-D weights as they are: a tensor `[rows, d₁, …, dₖ]`
//! loads into a `rows × (d₁⋯dₖ)` parameter, flattened row-major (`weight.reshape(rows, -1)`).
//! So a [`Conv1d`](crate::Conv1d)'s `weight` (`out × (in/groups·k)`) loads from
//! `nn.Conv1d.weight` of shape `(out, in/groups, k)`, a [`Conv2d`](crate::Conv2d)'s
//! (`out × (in/groups·kh·kw)`) from `nn.Conv2d.weight` of shape `(out, in/groups, kh, kw)` and a
//! [`ConvTranspose2d`](crate::ConvTranspose2d)'s (`in × (out·kh·kw)`) from
//! `nn.ConvTranspose2d.weight` of shape `(in, out, kh, kw)`; their biases are 1-D `[out]`. A
//! [`GroupNorm`](crate::GroupNorm)'s `scale` and `bias` are `nn.GroupNorm`'s `weight` and
//! `bias`. Saving writes every parameter 2-D: reshape to 3-D or 4-D on the PyTorch side
//! (`w.reshape(out, in // groups, k)`, `w.reshape(out, in // groups, kh, kw)`). Layers without parameters (pools, activations,
//! [`Upsample`](crate::Upsample), [`Dropout`](crate::Dropout)) hold no tensor but keep their
//! index: in `Chain[conv, pool, conv]` the second convolution's weight is `layers.2.weight`,
//! as in an `nn.Sequential` (`2.weight`).
//!
//! A [`MultiHeadAttention`](crate::MultiHeadAttention)'s and a
//! [`TransformerEncoderLayer`](crate::TransformerEncoderLayer)'s names are PyTorch's
//! (`self_attn.in_proj_weight`, `linear1.weight`, `norm1.weight`, …) and their biases load
//! from PyTorch's 1-D tensors, so their state dicts load as they are.
//!
//! An [`Embedding`](crate::Embedding)'s `weight` is `dim × vocab` (Flux's layout);
//! `nn.Embedding.weight` is `vocab × dim`: transpose it on one side (a table with `vocab =
//! dim` would otherwise load transposed without an error).
//!
//! A file holds the model's state too ([`Layer::visit_state`](crate::Layer::visit_state),
//! after the parameters, as PyTorch's state dict holds buffers): a
//! [`BatchNorm`](crate::BatchNorm)'s `running_mean` and `running_var` (`nn.BatchNorm1d`'s
//! buffers of the same names; its `scale` is PyTorch's `weight`). PyTorch's
//! `num_batches_tracked` has no counterpart: drop it, or load with the partial loaders.
//!
//! Files are written atomically ([`write_atomically`]); the same bytes in memory come from
//! [`to_safetensors_bytes`] and load with [`load_safetensors_bytes`] or
//! [`load_safetensors_bytes_partial`] (e.g. weights embedded
//! with `include_bytes!`). A corrupted file or byte string is a typed error, never a panic
//! (the `weights_load` fuzz target).

mod atomic;
mod header;
mod weights;

pub use atomic::write_atomically;
pub use weights::{
    LoadReport, load_safetensors, load_safetensors_bytes, load_safetensors_bytes_partial,
    load_safetensors_partial, save_safetensors, to_safetensors_bytes,
};

use crate::NnError;
use std::path::Path;

/// An [`NnError::Io`] naming `path`.
fn io_error(path: &Path, e: std::io::Error) -> NnError {
    NnError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}
