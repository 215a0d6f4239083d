//! The rule table: every elementary function's value and local derivatives, written once.
//!
//! A rule is a small value type (usually a unit struct) implementing [`UnaryRule`] or
//! [`BinaryRule`]. Its `eval` method is generic over [`Float`], so one rule serves every number
//! type of the workspace:
//!
//! - evaluated on the primal type (`f64`), it gives the value and the first derivative used
//!   by [`Dual`](crate::Dual), [`DualVec`](crate::DualVec) and the reverse tape;
//! - evaluated on a dual number, it gives the *second* derivatives as the tangent of the first,
//!   which is how [`HyperDualVec`](crate::HyperDualVec) gets exact Hessians from the same table.
//!
//! The rules must therefore be written as ordinary differentiable generic code, and their
//! edge-point conventions (documented on each rule) are the conventions of the whole workspace.
//!
//! # Example
//! ```
//! use adroit_forward::rules::{Sin, UnaryRule};
//! let (value, derivative) = Sin.eval(0.0_f64);
//! assert_eq!((value, derivative), (0.0, 1.0));
//! ```

mod arithmetic;
mod exp_log;
mod hyperbolic;
mod piecewise;
mod power;
mod trig;

pub use arithmetic::{Add, Div, Mul, Neg, Recip, Rem, Sub};
pub use exp_log::{Exp, Exp2, ExpM1, Ln, Ln1p, Log, Log2, Log10};
pub use hyperbolic::{Acosh, Asinh, Atanh, Cosh, Sinh, Tanh};
pub use piecewise::{Abs, Ceil, Copysign, Floor, Fract, Max, Min, Round, Signum, Trunc};
pub use power::{Cbrt, Hypot, Powf, Powi, Sqrt};
pub use trig::{Acos, Asin, Atan, Atan2, Cos, Sin, Tan, ToDegrees, ToRadians};

use num_traits::Float;

/// A differentiable function of one variable.
pub trait UnaryRule: Copy {
    /// Returns `(f(x), f'(x))`.
    fn eval<S: Float>(self, x: S) -> (S, S);
}

/// A differentiable function of two variables.
pub trait BinaryRule: Copy {
    /// True when `∂f/∂y` costs noticeably more than the value and `∂f/∂x` (an extra
    /// transcendental call): number types then call [`eval_dx`](Self::eval_dx) when `y` is
    /// a constant.
    const EXPENSIVE_DY: bool = false;

    /// Returns `(f(x, y), ∂f/∂x, ∂f/∂y)`.
    fn eval<S: Float>(self, x: S, y: S) -> (S, S, S);

    /// Returns `(f(x, y), ∂f/∂x)`: used when `y` carries no perturbation.
    ///
    /// The default calls [`eval`](Self::eval); rules whose `∂f/∂y` costs an extra
    /// transcendental call (such as [`Powf`]) override it.
    fn eval_dx<S: Float>(self, x: S, y: S) -> (S, S) {
        let (value, dx, _) = self.eval(x, y);
        (value, dx)
    }
}

/// Converts an `f64` literal to `S`.
///
/// Every `Float` type of this workspace converts every finite `f64`, so this never fails.
#[inline(always)]
pub(crate) fn lit<S: Float>(x: f64) -> S {
    match S::from(x) {
        Some(v) => v,
        None => unreachable!("a Float type that cannot represent the f64 literal {x}"),
    }
}
