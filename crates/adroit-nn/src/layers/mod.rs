//! The layers.

mod activation;
mod batch_norm;
mod bidirectional;
mod chain;
mod checkpoint;
mod dense;
mod dropout;
mod embedding;
mod gru;
mod layer_norm;
mod lstm;
mod normalise;
mod parallel;
mod recurrent;
mod rnn;
mod skip_connection;
mod time_distributed;
mod unroll;

pub use batch_norm::BatchNorm;
pub use bidirectional::Bidirectional;
pub use chain::{Chain, DynLayer};
pub use checkpoint::Checkpoint;
pub use dense::Dense;
pub use dropout::Dropout;
pub use embedding::Embedding;
pub use gru::Gru;
pub use layer_norm::LayerNorm;
pub use lstm::{Lstm, LstmState};
pub use parallel::Parallel;
pub use recurrent::Recurrent;
pub use rnn::Rnn;
pub use skip_connection::{Connection, SkipConnection};
pub use time_distributed::TimeDistributed;
