//! [`Embedding`]: a learned vector per token id.

use crate::cast::cast_matrix;
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// Flux's `Embedding(vocab => dim)`, PyTorch's `nn.Embedding(vocab, dim)`: each sample's
/// token id picks a learned column of `weight` (`dim × vocab`, as Flux stores it). Input `x`:
/// `1 × batch`, the ids as numbers `0, 1, …, vocab − 1` (0-based, as PyTorch; Flux's are
/// 1-based; in `f32` ids up to 2²⁴ are exact); output `dim × batch`. PyTorch's
/// `nn.Embedding.weight` is the transpose, `vocab × dim` (see [`io`](crate::io)). Gradients reach only the columns of the ids in the batch
/// (an id seen twice gets both contributions), none reach `x` (ids are data, not
/// differentiable).
///
/// An id that is not an integer in `0..vocab` (read from data: negative, fractional,
/// too large, NaN) is an [`NnError::InvalidData`] naming the sample, from
/// [`Layer::predict`], [`gradient`](crate::gradient), [`train_step`](crate::train_step) and
/// [`train`](crate::train()) (reported through [`Context::fail`]; PyTorch raises an index
/// error). Ids beside numeric features in one data matrix, or several categorical features:
/// route each row to its layer with [`Parallel::push_rows`](crate::Parallel::push_rows) (an
/// `Embedding` per id row, [`Activation::Identity`](crate::Activation::Identity) for the
/// numeric rows), stacked by [`Connection::Concat`](crate::Connection::Concat); standardise
/// such data with [`Standardizer::passthrough`](crate::data::Standardizer::passthrough) for
/// the id rows.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Embedding, Layer, NnError};
/// let table = Embedding::from_weight(dmatrix![0.0, 1.0, 2.0; 10.0, 11.0, 12.0]); // dim 2, vocab 3
/// assert_eq!(table.predict(&dmatrix![2.0, 0.0, 2.0]).unwrap(), dmatrix![2.0, 0.0, 2.0; 12.0, 10.0, 12.0]);
/// let err = table.predict(&dmatrix![1.0, 3.0]).unwrap_err();
/// assert!(matches!(err, NnError::InvalidData { .. }));
/// // A classifier over 100 token ids.
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Chain::<f32>::new()
///     .push(Embedding::new(100, 8, &mut rng))
///     .push(Dense::new(8, 3, Activation::Identity, &mut rng));
/// assert_eq!(model.predict(&dmatrix![5.0f32, 99.0]).unwrap().shape(), (3, 2));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Embedding<T> {
    /// The table, `dim × vocab`: column `i` is token `i`'s vector.
    pub weight: DMatrix<T>,
}

impl<T: MatScalar> Embedding<T> {
    /// A table of `vocab` vectors of `dim` entries drawn from the standard normal distribution
    /// (PyTorch's and Flux's default), seeded by `rng`.
    ///
    /// # Panics
    /// If the table would be too large to allocate.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Embedding;
    /// let e = Embedding::<f64>::new(1000, 16, &mut StdRng::seed_from_u64(1));
    /// assert_eq!((e.vocab(), e.dim()), (1000, 16));
    /// let sd = (e.weight.iter().map(|v| v * v).sum::<f64>() / 16000.0).sqrt();
    /// assert!((sd - 1.0).abs() < 0.03);
    /// ```
    #[track_caller]
    pub fn new(vocab: usize, dim: usize, rng: &mut impl Rng) -> Self {
        crate::init::check_size::<T>("Embedding::new", dim, vocab);
        Self {
            weight: crate::init::normal(rng, dim, vocab, 1.0),
        }
    }

    /// A table with the given `weight` (`dim × vocab`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::Embedding;
    /// let e = Embedding::from_weight(DMatrix::<f64>::zeros(4, 10));
    /// assert_eq!((e.dim(), e.vocab()), (4, 10));
    /// ```
    pub fn from_weight(weight: DMatrix<T>) -> Self {
        Self { weight }
    }

    /// The number of token ids, `weight`'s columns.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::Embedding;
    /// assert_eq!(Embedding::from_weight(DMatrix::<f32>::zeros(2, 7)).vocab(), 7);
    /// ```
    pub fn vocab(&self) -> usize {
        self.weight.ncols()
    }

    /// The length of each vector, `weight`'s rows.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::Embedding;
    /// assert_eq!(Embedding::from_weight(DMatrix::<f32>::zeros(2, 7)).dim(), 2);
    /// ```
    pub fn dim(&self) -> usize {
        self.weight.nrows()
    }

    /// Each sample's id as an index, or the first sample whose id is not an integer in
    /// `0..vocab` with that value (as `f64`: the primal of a dual id, so messages read the
    /// same under `hessian`).
    fn ids(&self, x: &DMatrix<T>) -> Result<Vec<usize>, (usize, f64)> {
        let vocab = self.vocab();
        x.iter()
            .enumerate()
            .map(|(j, &v)| {
                let id = num_traits::ToPrimitive::to_f64(&v).unwrap_or(f64::NAN);
                let valid = id >= 0.0 && id.fract() == 0.0 && id < vocab as f64;
                if valid { Ok(id as usize) } else { Err((j, id)) }
            })
            .collect()
    }
}

impl<T: MatScalar> Layer<T> for Embedding<T> {
    /// Column `x[j]` of `weight` for each sample `j`; `x`: `1 × batch`.
    ///
    /// # Panics
    /// If `x` has more than one row ([`Layer::predict`] and [`train`](crate::train()) report
    /// that as [`NnError::ShapeMismatch`] first when this is the model's first layer).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        assert!(
            x.nrows() == 1,
            "Embedding: the input has {} rows; it takes one token id per sample (1 × batch)",
            x.nrows()
        );
        let ids = match self.ids(&x.value()) {
            Ok(ids) => ids,
            Err((j, v)) => {
                ctx.fail(NnError::InvalidData {
                    what: format!(
                        "Embedding: sample {j} has token id {v:?}, not an integer in 0..{} \
                         (ids are 0-based)",
                        self.vocab()
                    ),
                });
                // Still a result of the right shape (reported above): the first column.
                vec![0; x.ncols()]
            }
        };
        if self.vocab() == 0 {
            return MatVar::constant(DMatrix::zeros(self.dim(), x.ncols()));
        }
        ctx.param(&self.weight).take_columns(&ids)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}weight"), &self.weight);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.weight);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.weight);
    }

    fn input_size(&self) -> Option<usize> {
        Some(1)
    }

    fn output_size(&self) -> Option<usize> {
        Some(self.dim())
    }

    /// The table must have at least one id.
    fn check_params(&self) -> Result<(), NnError> {
        if self.vocab() == 0 {
            return Err(NnError::InvalidConfig {
                name: "Embedding weight",
                reason: format!(
                    "it is {}×0: a table of no token ids (dim × vocab)",
                    self.dim()
                ),
            });
        }
        Ok(())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The table converted (see [`Cast`]).
impl<T: MatScalar> Cast for Embedding<T> {
    type Output<U: MatScalar> = Embedding<U>;

    fn cast<U: MatScalar>(&self) -> Result<Embedding<U>, NnError> {
        Ok(Embedding {
            weight: cast_matrix(&self.weight),
        })
    }
}
