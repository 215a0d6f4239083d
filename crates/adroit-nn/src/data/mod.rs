//! Data handling: batching, splitting, standardisation, label encodings and metrics.
//!
//! Layout: **features × samples** (one sample per column), targets likewise.
//!
//! Everything here works on matrices in memory; reading a data file is left to a crate made
//! for it (e.g. `csv`): collect its records, then build the `features × samples` matrix with
//! `DMatrix::from_fn(features, samples, |i, j| records[j][i])`.
//!
//! # Example
//! ```
//! use adroit_nn::data::{DataLoader, Standardizer, accuracy, onecold, onehot, train_test_split};
//! use adroit_nn::nalgebra::DMatrix;
//! // 8 samples of 2 features (a ramp and a constant); class 1 where the ramp is ≥ 4.
//! let x = DMatrix::<f64>::from_fn(2, 8, |i, j| if i == 0 { j as f64 } else { 1.0 });
//! let labels: Vec<usize> = (0..8).map(|j| usize::from(j >= 4)).collect();
//! let y = onehot::<f64>(&labels, 2).unwrap(); // 2 classes × 8 samples
//! // A quarter for testing, stratified: 1 test sample per class.
//! let split = train_test_split(&x, &y, 0.25, 0, Some(&labels)).unwrap();
//! // Statistics of the training part only: centred ramp, constant feature only centred (to 0;
//! // up to the rounding of its mean in general).
//! let scaler = Standardizer::fit(&split.x_train).unwrap();
//! let x_train = scaler.transform(&split.x_train).unwrap();
//! assert!(x_train.row(0).sum().abs() < 1e-12 && x_train.row(1).iter().all(|&v| v == 0.0));
//! let mut loader = DataLoader::new(x_train, split.y_train.clone(), 4).unwrap();
//! assert_eq!(loader.epoch().len(), 2); // batches of 4 and 2 of the 6 training samples
//! // A threshold on the ramp classifies both test samples as their one-hot targets say.
//! let predicted: Vec<usize> =
//!     split.x_test.row(0).iter().map(|&v| usize::from(v >= 4.0)).collect();
//! assert_eq!(accuracy(&predicted, &onecold(&split.y_test)).unwrap(), 1.0);
//! ```

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

/// Refuses the first NaN or infinite entry of the labelled matrices (features × samples), as
/// [`NnError::InvalidData`](crate::NnError) "the {label} hold a NaN or infinite entry (row r,
/// sample s)".
pub(crate) fn check_finite_entries<T: adroit_reverse::matrix::MatScalar>(
    labelled: &[(&str, &nalgebra::DMatrix<T>)],
) -> Result<(), crate::NnError> {
    for (label, m) in labelled {
        if let Some(k) = m.iter().position(|v| !v.is_finite()) {
            return Err(crate::NnError::InvalidData {
                what: format!(
                    "the {label} hold a NaN or infinite entry (row {}, sample {})",
                    k % m.nrows(),
                    k / m.nrows()
                ),
            });
        }
    }
    Ok(())
}
