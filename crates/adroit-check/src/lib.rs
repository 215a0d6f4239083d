//! Prove derivatives right.
//!
//! - [`fd`]: finite differences done properly — stencils of any order and kind, an adaptive
//!   step balancing round-off against truncation error, a range bound, Richardson
//!   extrapolation; derivatives, gradients, JVPs and Jacobians in `f32` and `f64`.
//! - [`gradcheck`]: forward mode, reverse mode and finite differences must agree, on the full
//!   Jacobian or on random directions; [`hessian_check`] for second derivatives;
//!   [`rule_check`] for user-written custom rules and [`reverse_hessian_check`] for their
//!   second derivatives; [`matrix_gradcheck`] for array code on
//!   adroit-reverse's matrix tape ([`matrix_gradcheck_generic`] in `f32` too),
//!   [`matrix_vjp_check`] for its pullbacks with random
//!   cotangents (matrix custom rules; [`matrix_vjp_check_generic`] in `f32` too), and [`matrix_hessian_check`] for its second derivatives
//!   (a [`MatrixFn`], written once for every element type: [`matrix_fn!`]). A failure is a [`Mismatch`] that names the entry, the three
//!   values, the errors and the [`Tolerance`].
//! - [`strategy`]: proptest strategies — floats in a domain (away from or on kinks), vectors,
//!   matrices — and [`program`]: random programs over every operation of the rule table (the
//!   `num_traits::Float` functions and the special functions: `erf`, `ln_gamma`, …), evaluated
//!   generically (on `f64`, `Dual`, `Var`, nested types), shrinking to a minimal failing
//!   program; also decodable from bytes for fuzzing ([`program::Program::decode`]).
//! - [`matrix_program`]: random programs of whole-matrix operations, checked on
//!   adroit-reverse's matrix tape against its scalar tape (for the `matrix_program` fuzz
//!   target).
//! - [`scenario`]: tape-misuse scenarios decoded from bytes (for the `tape_misuse` fuzz
//!   target and its corpus replay).
//!
//! # Example
//! ```
//! use adroit_check::{Options, generic_fn, gradcheck};
//!
//! let f = generic_fn!(|x| vec![(x[0] * x[1]).tanh(), x[0].hypot(x[1])]);
//! let report = gradcheck(&f, &[0.3, -1.2], &Options::for_precision::<f64>()).unwrap();
//! assert!(report.max_fd_error < 1e-9);
//! ```
#![warn(missing_docs)]

mod bytes;
mod directions;
pub mod fd;
mod function;
mod gradcheck;
mod hessian_check;
mod matrix_function;
mod matrix_gradcheck;
mod matrix_hessian_check;
pub mod matrix_program;
mod matrix_vjp_check;
mod mismatch;
mod options;
pub mod program;
mod reverse_hessian_check;
mod rule_check;
mod scalar;
pub mod scenario;
mod second_order;
pub mod strategy;
mod tolerance;

pub use function::GenericFn;
pub use gradcheck::gradcheck;
pub use hessian_check::hessian_check;
pub use matrix_function::MatrixFn;
pub use matrix_gradcheck::{matrix_gradcheck, matrix_gradcheck_generic};
pub use matrix_hessian_check::matrix_hessian_check;
pub use matrix_vjp_check::{matrix_vjp_check, matrix_vjp_check_generic};
pub use mismatch::{Comparison, Mismatch, Report};
pub use options::{Mode, Options};
pub use reverse_hessian_check::reverse_hessian_check;
pub use rule_check::rule_check;
pub use scalar::CheckScalar;
pub use tolerance::Tolerance;

/// The `num-traits` crate this one is written against ([`GenericFn::eval`] is generic over its
/// `Float`, with adroit-forward's `SpecialFunctions` on top, and over nalgebra's `RealField`
/// through adroit-forward's `Decompositions`), re-exported so a user depending on
/// `adroit-check` alone can name it.
pub use num_traits;

/// `nalgebra`, whose matrices some checks return (`fd::jacobian`), re-exported so a user
/// depending on `adroit-check` alone uses the same version.
pub use nalgebra;

/// The forward-mode crate whose derivatives the checks compare, re-exported so a user depending
/// on `adroit-check` alone can write the functions under test.
pub use adroit_forward;

/// The reverse-mode crate whose derivatives the checks compare, re-exported so a user depending
/// on `adroit-check` alone records on the same tape.
pub use adroit_reverse;

/// The property-testing crate [`strategy`] and [`program`] build on, re-exported so its
/// `proptest!` macro and runners are at hand.
pub use proptest;

/// Re-exports used by the exported macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use adroit_forward::{ChainRule, DerivativeOrder, SpecialFunctions, StopGradient};
    pub use num_traits;
}
