//! Finite differences done properly: stencils of any order and kind, an adaptive step that
//! balances round-off against truncation error, a bound on the evaluation range, Richardson
//! extrapolation; derivatives, gradients, JVPs and Jacobians, in `f32` and `f64`.
//!
//! # Example
//! ```
//! use adroit_check::fd::{self, FiniteDifference};
//! // ln is undefined left of 0: a one-sided stencil that stays inside the domain.
//! let d = FiniteDifference::forward(4, 1).with_max_range(0.01).estimate(|x: f64| x.ln(), 0.01);
//! assert!((d - 100.0).abs() < 1e-3);
//! assert!((fd::derivative(|x: f64| x.sin(), 0.5) - 0.5_f64.cos()).abs() < 1e-12);
//! ```

mod api;
mod method;
mod stencil;

pub(crate) use api::same_outputs;
pub use api::{derivative, gradient, jacobian, jvp};
pub use method::{FiniteDifference, Step};
pub use stencil::Stencil;
