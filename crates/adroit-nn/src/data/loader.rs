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
    /// Batches drawn so far by [`DataLoader::epoch`].
    batches_drawn: u64,
    /// Epochs drawn so far by [`DataLoader::epoch`].
    epochs_drawn: usize,
}

impl<T: MatScalar> DataLoader<T> {
    /// Batches of `batch_size` columns of `x` (`features × n`) and `y` (`targets × n`), in
    /// order, keeping a last partial batch.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` and `y` have different numbers of columns;
    /// [`NnError::InvalidConfig`] if `batch_size` is 0; [`NnError::EmptyData`] if `n = 0`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::NnError;
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let x = DMatrix::<f64>::zeros(3, 10); // 3 features × 10 samples
    /// let y = DMatrix::<f64>::zeros(1, 10); // 1 target × 10 samples
    /// let loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap();
    /// assert_eq!(loader.batches_per_epoch(), 3); // 4 + 4 + 2
    /// let short_y = DataLoader::new(x.clone(), DMatrix::zeros(1, 9), 4);
    /// assert!(matches!(short_y, Err(NnError::ShapeMismatch { .. })));
    /// assert!(matches!(DataLoader::new(x, y, 0), Err(NnError::InvalidConfig { .. })));
    /// let no_samples = DataLoader::new(DMatrix::<f64>::zeros(3, 0), DMatrix::zeros(1, 0), 4);
    /// assert!(matches!(no_samples, Err(NnError::EmptyData { .. })));
    /// ```
    pub fn new(x: DMatrix<T>, y: DMatrix<T>, batch_size: usize) -> Result<Self, NnError> {
        if x.ncols() != y.ncols() {
            return Err(NnError::ShapeMismatch {
                what: format!(
                    "DataLoader: x has {} samples (columns) but y has {}; expected: y's shape \
                     for x's samples",
                    x.ncols(),
                    y.ncols()
                ),
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
            batches_drawn: 0,
            epochs_drawn: 0,
        })
    }

    /// Shuffles the samples at every epoch with an RNG seeded by `seed`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// // Sample j has x = j and y = 10·j, so a batch shows which samples it holds.
    /// let x = DMatrix::<f64>::from_fn(1, 10, |_, j| j as f64);
    /// let mut loader = DataLoader::new(x.clone(), x.map(|v| 10.0 * v), 4).unwrap().shuffle(3);
    /// let order = |batches: Vec<(DMatrix<f64>, DMatrix<f64>)>| {
    ///     let mut seen = Vec::new();
    ///     for (bx, by) in batches {
    ///         assert_eq!(by, bx.map(|v| 10.0 * v)); // inputs and targets stay paired
    ///         seen.extend(bx.iter().copied());
    ///     }
    ///     seen
    /// };
    /// let (first, second) = (order(loader.epoch()), order(loader.epoch()));
    /// let mut sorted = first.clone();
    /// sorted.sort_by(f64::total_cmp);
    /// assert_eq!(sorted, (0..10).map(f64::from).collect::<Vec<_>>()); // each sample once
    /// assert_ne!(first, second); // a new permutation each epoch
    /// ```
    pub fn shuffle(mut self, seed: u64) -> Self {
        self.rng = Some(StdRng::seed_from_u64(seed));
        self
    }

    /// Drops (`true`) or keeps (`false`, the default) a last batch smaller than the batch size.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let (x, y) = (DMatrix::<f64>::zeros(2, 10), DMatrix::<f64>::zeros(1, 10));
    /// // 10 samples in batches of 4: the last batch, of 2, is dropped.
    /// let mut loader = DataLoader::new(x, y, 4).unwrap().drop_last(true);
    /// assert_eq!(loader.batches_per_epoch(), 2);
    /// assert!(loader.epoch().iter().all(|(bx, _)| bx.ncols() == 4));
    /// ```
    pub fn drop_last(mut self, drop: bool) -> Self {
        self.drop_last = drop;
        self
    }

    /// Number of samples.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let loader = DataLoader::new(DMatrix::<f64>::zeros(2, 10), DMatrix::zeros(1, 10), 4).unwrap();
    /// assert_eq!(loader.len(), 10); // samples, not batches
    /// ```
    pub fn len(&self) -> usize {
        self.x.ncols()
    }

    /// True when there are no samples (never, by construction).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let loader = DataLoader::new(DMatrix::<f64>::zeros(2, 1), DMatrix::zeros(1, 1), 4).unwrap();
    /// assert!(!loader.is_empty()); // `new` refuses a dataset without samples
    /// ```
    pub fn is_empty(&self) -> bool {
        self.x.ncols() == 0
    }

    /// Number of batches per epoch.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let loader = DataLoader::new(DMatrix::<f64>::zeros(2, 10), DMatrix::zeros(1, 10), 4).unwrap();
    /// assert_eq!(loader.batches_per_epoch(), 3); // ⌈10/4⌉
    /// assert_eq!(loader.drop_last(true).batches_per_epoch(), 2); // ⌊10/4⌋
    /// ```
    pub fn batches_per_epoch(&self) -> usize {
        if self.drop_last {
            self.len() / self.batch_size
        } else {
            self.len().div_ceil(self.batch_size)
        }
    }

    /// Number of input features (rows of `x`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let loader = DataLoader::new(DMatrix::<f64>::zeros(3, 10), DMatrix::zeros(1, 10), 4).unwrap();
    /// assert_eq!(loader.features(), 3); // rows of x
    /// ```
    pub fn features(&self) -> usize {
        self.x.nrows()
    }

    /// Checks that every input and target is finite. The loader itself accepts NaN and
    /// infinite entries (a loss of your own may mask missing targets stored as NaN, as
    /// [`Standardizer`](crate::data::Standardizer) keeps them); with the built-in losses they
    /// stop [`train`](crate::train()) at the first batch holding them, after the batches before
    /// it have trained. Call this first to refuse them before any step.
    ///
    /// # Errors
    /// [`NnError::InvalidData`] naming the first NaN or infinite entry (inputs or targets, row
    /// and sample).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// let loader = DataLoader::new(dmatrix![1.0, 2.0, 3.0], dmatrix![0.0, f64::NAN, 1.0], 2).unwrap();
    /// let err = loader.check_finite().unwrap_err();
    /// assert_eq!(
    ///     err.to_string(),
    ///     "invalid data: the targets hold a NaN or infinite entry (row 0, sample 1)"
    /// );
    /// ```
    pub fn check_finite(&self) -> Result<(), NnError> {
        super::check_finite_entries(&[("inputs", &self.x), ("targets", &self.y)])
    }

    /// How many batches [`DataLoader::epoch`] has drawn, over all epochs (`train` numbers its
    /// steps from it, so that dropout masks continue across calls of `train` on the same
    /// loader, also when [`DataLoader::drop_last`] changed the batches per epoch).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let mut loader = DataLoader::new(DMatrix::<f64>::zeros(2, 5), DMatrix::zeros(1, 5), 2).unwrap();
    /// assert_eq!(loader.batches_drawn(), 0);
    /// let _ = loader.epoch(); // 2 + 2 + 1 samples
    /// assert_eq!(loader.batches_drawn(), 3);
    /// ```
    pub fn batches_drawn(&self) -> u64 {
        self.batches_drawn
    }

    /// How many epochs [`DataLoader::epoch`] has drawn (`train` numbers its epochs from it,
    /// so that calling `train` once per epoch numbers them as one call over all of them).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let mut loader = DataLoader::new(DMatrix::<f64>::zeros(2, 5), DMatrix::zeros(1, 5), 2).unwrap();
    /// let _ = loader.epoch();
    /// assert_eq!((loader.epochs_drawn(), loader.batches_drawn()), (1, 3));
    /// ```
    pub fn epochs_drawn(&self) -> usize {
        self.epochs_drawn
    }

    /// Advances the loader past `n` epochs without forming their batches: the shuffle's
    /// random state, [`batches_drawn`](Self::batches_drawn) and
    /// [`epochs_drawn`](Self::epochs_drawn) end as if [`epoch`](Self::epoch) had been called
    /// `n` times. To resume an interrupted run exactly, save its
    /// [`epochs_drawn`](Self::epochs_drawn), rebuild its loader (same data, batch size,
    /// `drop_last` and shuffle seed) and skip that many epochs — then the next epochs' orders,
    /// dropout masks (with the same [`TrainConfig::seed`](crate::TrainConfig::seed)) and epoch
    /// numbers are the ones the run would have had (with the model's weights from
    /// [`io`](crate::io) and the optimiser read back with serde: see [`train`](crate::train())).
    ///
    /// Cost: a shuffled loader draws each skipped epoch's permutation (the random state has no
    /// jump ahead), `n` times the samples' count in time — an `n` read from a corrupt
    /// checkpoint (`usize::MAX`) does not end: check it against the run's epochs first.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::DMatrix;
    /// let x = DMatrix::<f64>::from_fn(1, 6, |_, j| j as f64);
    /// let make = || DataLoader::new(x.clone(), x.clone(), 4).unwrap().shuffle(7);
    /// let mut straight = make();
    /// let _ = (straight.epoch(), straight.epoch());
    /// let mut resumed = make();
    /// resumed.skip_epochs(2);
    /// assert_eq!(resumed.epoch(), straight.epoch()); // the third epoch's batches
    /// assert_eq!((resumed.epochs_drawn(), resumed.batches_drawn()), (3, 6));
    /// ```
    pub fn skip_epochs(&mut self, n: usize) {
        if let Some(rng) = &mut self.rng {
            // The same draws as `epoch`'s shuffles (they depend on the length alone).
            let mut order: Vec<usize> = (0..self.x.ncols()).collect();
            for _ in 0..n {
                order.shuffle(rng);
            }
        }
        let per_epoch = self.batches_per_epoch() as u64;
        self.batches_drawn = self
            .batches_drawn
            .wrapping_add(per_epoch.wrapping_mul(n as u64));
        self.epochs_drawn = self.epochs_drawn.wrapping_add(n);
    }

    /// The batches `(x, y)` of one epoch (a fresh permutation if shuffling).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::data::DataLoader;
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// let x = DMatrix::<f64>::from_fn(2, 5, |i, j| (10 * i + j) as f64); // feature i of sample j
    /// let y = DMatrix::<f64>::from_fn(1, 5, |_, j| j as f64);
    /// let mut loader = DataLoader::new(x, y, 2).unwrap(); // not shuffled: samples in order
    /// let batches = loader.epoch();
    /// assert_eq!(batches.len(), 3);
    /// assert_eq!(batches[0].0, dmatrix![0.0, 1.0; 10.0, 11.0]); // samples 0 and 1 (columns)
    /// assert_eq!(batches[2], (dmatrix![4.0; 14.0], dmatrix![4.0])); // the last, partial batch
    /// ```
    pub fn epoch(&mut self) -> Vec<(DMatrix<T>, DMatrix<T>)> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        if let Some(rng) = &mut self.rng {
            order.shuffle(rng);
        }
        let batches: Vec<_> = order
            .chunks(self.batch_size)
            .filter(|c| !self.drop_last || c.len() == self.batch_size)
            .map(|idx| (self.x.select_columns(idx), self.y.select_columns(idx)))
            .collect();
        self.batches_drawn = self.batches_drawn.wrapping_add(batches.len() as u64);
        self.epochs_drawn = self.epochs_drawn.wrapping_add(1);
        batches
    }
}
