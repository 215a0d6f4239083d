//! The layers.

mod activation;
mod chain;
mod checkpoint;
mod dense;
mod dropout;
mod layer_norm;

pub use chain::{Chain, DynLayer};
pub use checkpoint::Checkpoint;
pub use dense::Dense;
pub use dropout::Dropout;
pub use layer_norm::LayerNorm;
