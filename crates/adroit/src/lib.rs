//! adroit in one dependency: exact derivatives of generic Rust numeric code, forward or
//! reverse, neural-network training on top, and the tools to check the derivatives.
//!
//! This crate only re-exports adroit's crates, each behind a cargo feature, so a project pulls
//! in what it uses and nothing more:
//!
//! | feature | module | crate | brings in |
//! |---|---|---|---|
//! | `forward` (default) | `forward` | `adroit-forward` | dual numbers; `num-traits`, `nalgebra` |
//! | `reverse` (default) | `reverse` | `adroit-reverse` | the tape, matrix-level operations |
//! | `nn` | `nn` | `adroit-nn` | layers, losses, optimisers, training; `rand`, `safetensors`, `indicatif`, `gemm`, `rayon` |
//! | `check` | `check` | `adroit-check` | finite differences, gradcheck; `proptest` |
//! | `gemm` | | `adroit-reverse`'s feature `gemm` | faster matrix products (on with `nn`, which takes `adroit-nn`'s default features: depend on `adroit-nn` with `default-features = false` to leave it off); `gemm` |
//! | `parallel` | | `adroit-reverse`'s feature `parallel` (includes `gemm`) | the largest `f32` products split over threads (on with `nn`, as `gemm`); `rayon` |
//! | `full` | all four | | |
//!
//! ```toml
//! [dependencies]
//! adroit = { path = "path/to/adroit/crates/adroit", features = ["nn"] }
//! ```
//!
//! Depending on the crates directly (`adroit-forward`, ...) is equivalent; the modules here are
//! those crates, unchanged.
//!
//! # Example
//! The classic first example, `f(x) = 3x² + 2x + 1` with `f'(5) = 32`, in both modes (features
//! `forward` and `reverse`, the default ones):
//! ```
//! # #[cfg(all(feature = "forward", feature = "reverse"))] {
//! use adroit::forward::num_traits::Float;
//!
//! fn f<S: Float>(x: S) -> S {
//!     let (two, three) = (S::from(2.0).unwrap(), S::from(3.0).unwrap());
//!     three * x * x + two * x + S::one()
//! }
//!
//! assert_eq!(adroit::forward::derivative(f, 5.0), 32.0);
//! assert_eq!(adroit::reverse::gradient(|x| f(x[0]), &[5.0]), [32.0]);
//! # }
//! ```
#![warn(missing_docs)]

/// Forward-mode automatic differentiation with dual numbers: the crate `adroit-forward`
/// (feature `forward`, on by default).
///
/// # Example
/// ```
/// use adroit::forward::num_traits::Float; // the dual numbers' functions
/// // d/dx sin(x)·x at x = 0.5 is cos(0.5)·0.5 + sin(0.5).
/// let d = adroit::forward::derivative(|x| x.sin() * x, 0.5_f64);
/// assert!((d - (0.5_f64.cos() * 0.5 + 0.5_f64.sin())).abs() < 1e-15);
/// ```
#[cfg(feature = "forward")]
pub use adroit_forward as forward;

/// `num_traits` (its `Float` is the trait generic code is written against), re-exported from
/// `adroit-forward` (feature `forward`).
///
/// # Example
/// ```
/// use adroit::num_traits::Float;
/// // softplus, written stably: ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|)
/// fn softplus<S: Float>(x: S) -> S { x.max(S::zero()) + (-x.abs()).exp().ln_1p() }
/// assert!((adroit::forward::derivative(softplus, 0.0_f64) - 0.5).abs() < 1e-15);
/// ```
#[cfg(feature = "forward")]
pub use adroit_forward::num_traits;

/// `nalgebra` (matrices in and out of the Jacobian, Hessian and matrix-level APIs),
/// re-exported from `adroit-forward` (feature `forward`).
///
/// # Example
/// ```
/// use adroit::nalgebra::{self, dmatrix}; // dmatrix! expands to nalgebra:: paths
/// let h = adroit::forward::hessian(|x| x[0] * x[0] * x[1], &[1.0, 2.0]);
/// assert_eq!(h, dmatrix![4.0, 2.0; 2.0, 0.0]);
/// ```
#[cfg(feature = "forward")]
pub use adroit_forward::nalgebra;

/// Reverse-mode automatic differentiation on a tape, and matrix-level operations: the crate
/// `adroit-reverse` (feature `reverse`, on by default).
///
/// # Example
/// ```
/// // f(x, y) = x·y + 3y at (5, 7): value 56, gradient (7, 8).
/// let (value, grad) = adroit::reverse::value_and_gradient(|v| v[0] * v[1] + 3.0 * v[1], &[5.0, 7.0]);
/// assert_eq!((value, grad), (56.0, vec![7.0, 8.0]));
/// ```
#[cfg(feature = "reverse")]
pub use adroit_reverse as reverse;

/// Neural networks: layers, activations, losses, optimisers, data loading and training — the
/// crate `adroit-nn` (feature `nn`).
///
/// # Example
/// ```
/// use adroit::nn::nalgebra::{self, dmatrix}; // dmatrix! expands to nalgebra:: paths
/// use adroit::nn::{Activation, Dense, Layer};
/// // A 2 → 1 layer: W·x + b = 1·3 + 2·4 + 0.5.
/// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
/// assert_eq!(layer.predict(&dmatrix![3.0; 4.0]).unwrap(), dmatrix![11.5]);
/// ```
#[cfg(feature = "nn")]
pub use adroit_nn as nn;

/// Checking derivatives: finite differences, gradcheck, proptest strategies — the crate
/// `adroit-check` (feature `check`).
///
/// # Example
/// ```
/// use adroit::check::{Options, generic_fn, gradcheck};
/// // Forward mode, reverse mode and finite differences agree on x₀·sin(x₁).
/// let f = generic_fn!(|x| vec![x[0] * x[1].sin()]);
/// let report = gradcheck(&f, &[1.5, 0.3], &Options::for_precision::<f64>()).unwrap();
/// assert!(report.max_fd_error < 1e-9);
/// ```
#[cfg(feature = "check")]
pub use adroit_check as check;
