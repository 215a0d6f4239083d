//! Matrix-level reverse mode: whole-matrix operations on nalgebra `DMatrix<T>` recorded as
//! single nodes with whole-matrix pullbacks (like Zygote's array rules), for fast array code
//! and neural networks.
//!
//! A scalar tape records one node per multiplication, which is far too slow for a 512 × 512
//! matrix product; here the product is one node whose backward pass is two more matrix
//! products. Inside [`gradient`], [`value_and_gradient`] or [`pullback`], combine [`MatVar`]s
//! with matrix products (and the affine map `W·x + b` as one node, [`MatVar::affine`]),
//! broadcasting element-wise operations, plain numbers on either side of `+`, `−`, `*` and `/`
//! (`2.0 * m`, `m - 1.0`: no 1 × 1 matrix needed; in code generic over [`MatScalar`] a number
//! is a `T`, `m * T::from(0.5).unwrap()`), maps of any `Float` function
//! (of one matrix, or fused over several with [`MatVar::zip_map`]),
//! reductions (sums, means, variances and standard deviations with a `correction` as
//! PyTorch's — [`MatVar::var_along`] —, maxima and minima: [`MatVar::max_along`] shares a tie's cotangent
//! equally, as JAX), `logsumexp`/`softmax`/`logsoftmax`, singular values
//! ([`MatVar::singular_values`]: nuclear and spectral norms) and the whole thin SVD
//! ([`MatVar::svd`]), symmetric eigendecompositions
//! ([`MatVar::symmetric_eigen`]: eigenvalues and eigenvectors, the scalar tape's rule), linear
//! solves, inverses and
//! log-determinants ([`MatVar::solve`], [`MatVar::inverse`], [`MatVar::logabsdet`]: by LU,
//! for general matrices and Newton steps in array code; at a nearly singular matrix finite and
//! meaningless), determinants ([`MatVar::det`]: a gradient defined at singular matrices too),
//! Cholesky factors of symmetric positive definite matrices
//! ([`MatVar::cholesky`]: `None` where the matrix is not positive definite in floating point —
//! for covariance matrices, Gaussian likelihoods and processes) and triangular solves
//! ([`MatVar::solve_lower_triangular`], [`MatVar::tr_solve_lower_triangular`], both at once
//! from a factor: [`MatVar::cholesky_solve`], and the upper
//! forms), reshapes, blocks ([`MatVar::view`],
//! [`MatVar::rows`], [`MatVar::columns`]), strided rows ([`MatVar::strided_rows`], NumPy's
//! `x[first::stride]`), diagonals and traces ([`MatVar::diagonal`], [`MatVar::trace`],
//! [`MatVar::add_diagonal`] for `K + σ²I`, [`MatVar::from_diagonal`]),
//! entry-wise choice by a mask ([`MatVar::select`], JAX's `where`: masks, piecewise code),
//! entries picked by index ([`MatVar::take_along`], e.g. each sample's
//! logit of its label), rows gathered by index and added back into place
//! ([`MatVar::take_rows_padded`], im2col; its adjoint [`MatVar::scatter_add_rows`], col2im)
//! and concatenation ([`MatVar::vcat`],
//! [`MatVar::hcat`]), functions with pullbacks of one's own ([`custom_rule`], JAX's
//! `custom_vjp`: e.g. a call into another library), [`MatVar::stop_gradient`] (JAX's
//! `stop_gradient`), blocks recomputed in the backward sweep instead of kept on the tape
//! ([`checkpoint`], JAX's `jax.checkpoint`), a NaN traced to the operation that made it
//! ([`detect_anomaly`], JAX's `jax_debug_nans`), and get the gradient of a
//! scalar loss with respect to every input matrix ([`value_and_gradient_with_aux`] also passes
//! an undifferentiated output through, as JAX's `has_aux`) — and its Hessian-vector products
//! and Hessian ([`hvp`], [`hessian`], [`value_gradient_and_hessian`]: Newton steps, Laplace
//! approximations, curvature of a network's loss); for a matrix-valued function, its
//! pullback ([`pullback`]) or its whole Jacobian ([`jacobian`], JAX's `jacrev`). The same
//! code runs for its value alone, with no rule kept, in [`evaluate`] (as PyTorch's
//! `torch.no_grad()`): a loss or a network's output outside training.
//!
//! Differences from JAX a user should know: `*` is the matrix product (as nalgebra's `*` and
//! NumPy's `@`; the entry-wise product is [`MatVar::component_mul`], the quotient
//! [`MatVar::component_div`]); reductions along a dimension keep it (JAX's `keepdims=True`:
//! `sum_along(Along::Rows)` of a `C × N` matrix is `1 × N`), so mixing a `C × 1` and a `1 × N`
//! result broadcasts to `C × N` instead of failing — check the shapes of reductions; the tape
//! records first derivatives: a [`MatVar`] of an outer call used inside a nested gradient
//! call panics (no grad of grad); second derivatives come by forward-over-reverse instead,
//! [`hvp`] and [`hessian`] running the gradient on duals (write the function once, generic over
//! [`MatScalar`]); NaN and infinities follow the
//! crate's `0·∞ = 0` convention ([`MatVar::matmul`]), not IEEE propagation.
//!
//! # Example
//! ```
//! use adroit_reverse::nalgebra;
//! use adroit_reverse::matrix::{self, MatVar};
//! use adroit_reverse::nalgebra::dmatrix;
//!
//! // ‖tanh(W x + b)‖² with respect to W and b
//! let (w, b) = (dmatrix![0.1, -0.2; 0.3, 0.4], dmatrix![0.0; 0.1]);
//! let x = dmatrix![1.0, 2.0; -1.0, 0.5]; // features × batch
//! let (loss, grads) = matrix::value_and_gradient(
//!     |p| {
//!         let h = (p[0] * MatVar::constant(x.clone()) + p[1]).tanh();
//!         h.component_mul(h).sum()
//!     },
//!     &[w, b],
//! );
//! assert!(loss > 0.0);
//! assert_eq!(grads[0].shape(), (2, 2));
//! assert_eq!(grads[1].shape(), (2, 1));
//! ```

mod activation_kernels;
mod anomaly;
mod api;
mod checkpoint;
mod entries;
mod finite;
mod gemm;
mod jacobian;
mod ops;
mod pool;
mod scalar;
mod second_order;
mod tape;
mod triangular;
mod value;
mod var;

pub use anomaly::detect_anomaly;
pub use api::{
    MatPullback, evaluate, gradient, pullback, value_and_gradient, value_and_gradient_with_aux,
};
pub use checkpoint::checkpoint;
pub use entries::{
    exp_entries, expm1_entries, ln_entries, log_logistic_entries, log_sigmoid_pair_entries,
    log1p_exp_entries, logistic_entries, ndtr_entries, tanh_entries,
};
pub use finite::all_finite;
pub use jacobian::jacobian;
pub use ops::Along;
pub use ops::custom::custom_rule;
pub use pool::{pooled_bytes, release_buffers};
pub use scalar::MatScalar;
pub use second_order::{
    hessian, hessian_chunked, hvp, value_gradient_and_hessian, value_gradient_and_hessian_chunked,
    value_gradient_and_hvp,
};
pub use var::MatVar;
