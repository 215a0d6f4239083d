//! [`DataLoader`]: mini-batches over a dataset.

use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;

/// Iterates over a dataset in mini-batches of columns, like Flux's `DataLoader`: optional
/// shuffling with a seeded RNG (a new permutation each epoch), and a last partial batch kept
/// or dropped.
///
/// # Example
/// ```
/// use adroit_nn::data::DataLoader;
/// use adroit_nn::nalgebra::DMatrix;
/// let x = DMatrix::<f64>::from_fn(2, 10, |_, j| j as f64);
/// let y = DMatrix::<f64>::from_fn(1, 10, |_, j| j as f64);
/// let mut loader = DataLoader::new(x, y, 4).unwrap().shuffle(7).drop_last(false);
/// let batches = loader.epoch();
/// assert_eq!(batches.iter().map(|(x, _)| x.ncols()).collect::<Vec<_>>(), [4, 4, 2]);
/// ```
#[derive(Clone, Debug)]
pub struct DataLoader<T> {
    x: DMatrix<T>,
    y: DMatrix<T>,
    batch_size: usize,
    drop_last: bool,
    rng: Option<StdRng>,
}

impl<T: MatScalar> DataLoader<T> {
    /// Batches of `batch_size` columns of `x` (`features × n`) and `y` (`targets × n`), in
    /// order, keeping a last partial batch.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` and `y` have different numbers of columns;
    /// [`NnError::InvalidConfig`] if `batch_size` is 0; [`NnError::EmptyData`] if `n = 0`.
    pub fn new(x: DMatrix<T>, y: DMatrix<T>, batch_size: usize) -> Result<Self, NnError> {
        if x.ncols() != y.ncols() {
            return Err(NnError::ShapeMismatch {
                what: "DataLoader: samples (columns) of x vs y".to_string(),
                expected: (y.nrows(), x.ncols()),
                found: y.shape(),
            });
        }
        if batch_size == 0 {
            return Err(NnError::InvalidConfig {
                name: "batch size",
                reason: "must be at least 1".into(),
            });
        }
        if x.ncols() == 0 {
            return Err(NnError::EmptyData {
                what: "DataLoader dataset".into(),
            });
        }
        Ok(Self {
            x,
            y,
            batch_size,
            drop_last: false,
            rng: None,
        })
    }

    /// Shuffles the samples at every epoch with an RNG seeded by `seed`.
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.rng = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// Drops (`true`) or keeps (`false`, the default) a last batch smaller than the batch size.
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.ncols()
    }

    /// True when there are no samples (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.x.ncols() == 0
    }

    /// Number of batches per epoch.
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.len() / self.batch_size
        } else {
            self.len().div_ceil(self.batch_size)
        }
    }

    /// Number of input features (rows of `x`).
    pub fn features(&self) -> usize {
        self.x.nrows()
    }

    /// The batches `(x, y)` of one epoch (a fresh permutation if shuffling).
    pub fn epoch(&mut self) -> Vec<(DMatrix<T>, DMatrix<T>)> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if let Some(rng) = &mut self.rng {
            order.shuffle(rng);
        }
        order
            .chunks(self.batch_size)
            .filter(|c| !self.drop_last || c.len() == self.batch_size)
            .map(|idx| (self.x.select_columns(idx), self.y.select_columns(idx)))
            .collect()
    }
}
