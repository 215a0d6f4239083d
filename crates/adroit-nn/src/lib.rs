//! Flux-style neural networks on `adroit-reverse`'s matrix-level reverse mode.
//!
//! - Layout: **features × batch** — one sample per column, as Flux (`x`: `inputs × batch`).
//! - [`Layer`]s: [`Dense`], [`Conv2d`], [`ConvTranspose2d`], [`MaxPool2d`], [`AvgPool2d`]
//!   and [`Upsample`] (images one per column, [`Window2d`]), [`Chain`], [`SkipConnection`]
//!   (residual blocks), [`Parallel`] (branches, on the whole input or ranges of its rows),
//!   [`Embedding`], [`Rnn`], [`Lstm`] and [`Gru`] (sequences; from a given state with
//!   `forward_with_state`; both directions with [`Bidirectional`]; a layer at every step with
//!   [`TimeDistributed`]), [`Conv1d`], [`MaxPool1d`] and [`AvgPool1d`] (along the steps),
//!   [`MultiHeadAttention`], [`TransformerEncoderLayer`] and [`PositionalEncoding`]
//!   (transformers), [`GlobalAvgPool1d`] and [`GlobalMaxPool1d`] (a sequence's mean or
//!   maximum; padded sequences of different lengths: every sequence layer's `masking`, see
//!   [`Layer::mask_value`]), [`Dropout`], [`LayerNorm`], [`GroupNorm`], [`BatchNorm`] (running
//!   statistics as state, [`Layer::visit_state`]), [`Checkpoint`], or your own by
//!   implementing the trait; [`Activation`]s written once for any `Float`; weight
//!   [`init`]ialisers (Glorot, Kaiming, as Flux and PyTorch).
//! - Gradients two ways: explicit ([`gradient`]: a model-shaped gradient, `grad.weight`) and
//!   implicit ([`params`] then [`Params::gradient`]: `grads[&model.weight]`); and the loss as
//!   a function of the parameters ([`loss_with_params`] with [`param_values`]) for
//!   matrix-level tools such as adroit-check's `matrix_gradcheck` of a whole model.
//! - Second derivatives in the parameters: [`hessian`] and [`hvp`] (forward-over-reverse,
//!   for Newton steps and Laplace approximations), with the parameters as one vector in the
//!   Hessian's order ([`parameters_to_vector`], [`vector_to_parameters`]); models over
//!   another element type by [`Cast`] (Flux's `f64(model)`: train in `f32`, check in `f64`).
//! - [`losses`] with Flux's definitions, [`optim`]isers composable with weight decay,
//!   clipping, schedules and per-parameter masks, [`data`] batching, splits, scaling and
//!   metrics (in memory), and
//!   [`train()`].
//!
//! # Example
//! ```
//! use adroit_nn::{nalgebra, rand};
//! use adroit_nn::{Activation, Chain, Dense, Layer, losses, gradient};
//! use adroit_nn::adroit_reverse::matrix::MatVar;
//! use adroit_nn::rand::SeedableRng;
//!
//! let mut rng = rand::rngs::StdRng::seed_from_u64(42);
//! let model = Chain::<f64>::new()
//!     .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
//!     .push(Dense::new(4, 2, Activation::Identity, &mut rng));
//! let x = nalgebra::DMatrix::from_element(3, 8, 0.5); // 3 features × 8 samples
//! let y = nalgebra::DMatrix::zeros(2, 8);
//! let (loss, grads) = gradient(&model, |m, ctx| {
//!     losses::mse(m.forward(MatVar::constant(x.clone()), ctx), &y, losses::Agg::Mean)
//! })
//! .unwrap();
//! assert!(loss >= 0.0);
//! assert_eq!(grads.layers.len(), 2);
//! ```
//!
//! # Sizes and memory
//! The image and sequence layers refuse sizes per sample that no allocation can hold — more
//! than `isize::MAX` bytes at 16 bytes per entry, the widest buffer their forward passes
//! build per entry (row indices) — with an error instead of a "capacity overflow" panic:
//! constructors return [`NnError::InvalidConfig`] for image, window and output sizes, and
//! [`Layer::predict`] and [`train_step`] return [`NnError::InvalidData`] where the sizes follow
//! from the data (a sequence's length). Constructors whose *weights* would be that large
//! panic instead, as documented on each. Below the bound, a batch's buffers can still exceed
//! the machine's memory: the allocation then fails and aborts the process, as Rust's
//! standard collections do (PyTorch raises an error there; nalgebra's matrices, which the
//! tape allocates, have no fallible allocation).
//!
//! # Cargo features
//! All on by default: `gemm` (adroit-reverse's feature of that name: the `f32` matrix products
//! of layers and their gradients on the `gemm` crate's kernels, faster than `matrixmultiply`'s
//! on AVX-512 CPUs), `parallel` (adroit-reverse's: the largest of those products split over
//! its product threads, at most `MATMUL_NUM_THREADS` where set; `RAYON_NUM_THREADS=1` or
//! `MATMUL_NUM_THREADS=1` keeps them on one), `progress` (a progress bar in [`train()`],
//! indicatif), `safetensors` (weight files, `io`) and `serde` (optimiser and early-stopping
//! state, for checkpoints). With `default-features = false` the larger products run on
//! `matrixmultiply`, nalgebra's own kernel.
#![warn(missing_docs)]
// Without the feature `safetensors` there is no `io` module, which many items' docs link to.
#![cfg_attr(not(feature = "safetensors"), allow(rustdoc::broken_intra_doc_links))]

pub mod activation;
mod activation_slices;
mod bound;
mod cast;
pub mod data;
mod error;
mod flat;
mod gradient;
pub mod init;
#[cfg(feature = "safetensors")]
pub mod io;
mod layer;
mod layers;
pub mod losses;
pub mod optim;
mod second_order;
mod state;
mod train;
mod visit_order;

pub use activation::Activation;
/// `adroit-reverse`, whose matrix variables ([`MatVar`]) layers, losses and gradient closures
/// take and return (re-exported so that a user of `adroit-nn` alone can write a custom
/// [`Layer`] or loss).
pub use adroit_reverse;
/// The error function on every number type (`f32`, `f64`, duals, `Var`), which
/// [`activation::gelu_erf`] needs: import it to call `.erf()`/`.erfc()` or to bound generic
/// code (`S: Float + SpecialFunctions`).
pub use adroit_reverse::SpecialFunctions;
/// The matrix variable of layers and losses, and its element types (`f32`, `f64`).
pub use adroit_reverse::matrix::{MatScalar, MatVar};
pub use bound::{loss_with_params, param_values};
pub use cast::{Cast, CastSlot};
pub use error::{NnError, TensorShape};
pub use flat::{parameters_to_vector, vector_to_parameters};
pub use gradient::{Grads, Params, gradient, gradient_with, gradient_with_state, params};
pub use layer::{Context, Layer, Mode};
pub use layers::{
    AvgPool1d, AvgPool2d, BatchNorm, Bidirectional, Chain, Checkpoint, Connection, Conv1d, Conv2d,
    ConvTranspose2d, Dense, Dropout, DynLayer, Embedding, GlobalAvgPool1d, GlobalMaxPool1d,
    GlobalPool1d, GroupNorm, Gru, LayerNorm, Lstm, LstmState, Max, MaxPool1d, MaxPool2d, Mean,
    MultiHeadAttention, Parallel, Pool1d, Pool2d, PoolReduction, PositionalEncoding, Recurrent,
    Rnn, SkipConnection, TimeDistributed, TransformerEncoderLayer, Upsample, UpsampleMode,
    Window2d,
};
/// `nalgebra`, whose matrices hold parameters and data (re-exported so that a user of
/// `adroit-nn` alone uses the same version).
pub use nalgebra;
/// `num-traits`, whose `Float` the activations are generic over (re-exported so that a user
/// of `adroit-nn` alone can write generic code against the same version).
pub use num_traits;
/// `rand`, whose RNGs seed initialisers (re-exported for the same reason: `Dense::new` takes a
/// `rand` 0.9 RNG).
pub use rand;
/// `rand_distr`, the distributions for the re-exported `rand` (normal, log-normal, …; `rand`
/// 0.9 itself has uniform ones only), which the initialisers use: re-exported so that data
/// or noise is sampled without a second, mismatched `rand`.
///
/// # Example
/// ```
/// use adroit_nn::rand::{Rng, SeedableRng, rngs::StdRng};
/// use adroit_nn::rand_distr::{Distribution, Normal};
/// let mut rng = StdRng::seed_from_u64(0);
/// let noise = Normal::new(0.0, 0.1).unwrap();
/// let clean = |i: usize| (i as f64 / 100.0).sin();
/// let y: Vec<f64> = (0..1000).map(|i| clean(i) + noise.sample(&mut rng)).collect();
/// let mean_noise = y.iter().enumerate().map(|(i, v)| v - clean(i)).sum::<f64>() / 1000.0;
/// assert!(mean_noise.abs() < 0.02 && rng.random::<f64>() < 1.0);
/// ```
pub use rand_distr;
pub use second_order::{HessianScalar, hessian, hessian_with, hvp, hvp_with};
pub use state::StateUpdates;
pub use visit_order::check_visit_order;

pub use train::{
    Callback, Control, EarlyStopping, EpochMetrics, History, KeepBest, TrainConfig, TrainError,
    Validation, train, train_step,
};

/// The README's examples, compiled and run as doctests of this crate (whose dependencies
/// cover every snippet), so the front page cannot go stale.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeExamples;
