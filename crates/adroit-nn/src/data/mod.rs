//! Data handling: batching, splitting, standardisation, label encodings and metrics.
//!
//! Layout: **features × samples** (one sample per column), targets likewise.

mod encoding;
mod loader;
mod metrics;
mod split;
mod standardize;

pub use encoding::{onecold, onehot};
pub use loader::DataLoader;
pub use metrics::{accuracy, confusion_matrix};
pub use split::{Split, train_test_split};
pub use standardize::Standardizer;
