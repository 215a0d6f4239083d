//! Random programs over every operation of the rule table (the `num_traits::Float` functions and
//! `erf`/`erfc`/`ln_gamma`/`digamma` of adroit-forward's `SpecialFunctions`), for property tests
//! and fuzzing.
//!
//! A [`Program`] is an expression tree ([`Expr`]) over `n` inputs. Each operation is guarded
//! so that its argument stays in its domain (`ln(a² + ½)`, `asin(0.9·tanh a)`, …; see
//! [`UnaryOp`] and [`BinaryOp`]), so a program is defined at every point; kinks and jumps
//! (`abs`, `max`, rounding, `clamp`, `atan2`'s branch cut, …) remain, and
//! [`Expr::kink_margin`] tells how close a point is to one. The same program runs on `f64`,
//! `Dual`, `Var` and nested types through [`Program::eval`], and implements
//! [`GenericFn`](crate::GenericFn) for [`gradcheck`](crate::gradcheck).
//!
//! # Example
//! ```
//! use adroit_check::program::{BinaryOp, Expr, Program, UnaryOp};
//! let p = Program {
//!     n_inputs: 2,
//!     expr: Expr::Binary(
//!         BinaryOp::Max,
//!         Box::new(Expr::Unary(UnaryOp::Sin, Box::new(Expr::Input(0)))),
//!         Box::new(Expr::Input(1)),
//!     ),
//! };
//! assert_eq!(p.to_string(), "max(sin(x0), x1)");
//! let g = adroit_check::adroit_reverse::gradient(|x| p.eval(x), &[0.0, -1.0]);
//! assert_eq!(g, vec![1.0, 0.0]);
//! ```

mod decode;
mod expr;
mod guard;
mod ops;
mod strategy;
mod wide;

pub use expr::Expr;
pub use ops::{BinaryOp, UnaryOp};
pub use strategy::{expr, program, program_and_point};

use adroit_forward::SpecialFunctions;
use std::fmt;

/// A random program: an expression over `n_inputs` inputs, with one output.
///
/// # Example
/// ```
/// use adroit_check::program::{Expr, Program, UnaryOp};
/// use adroit_check::{Options, gradcheck};
/// // the guarded logarithm ln(x0² + ½), defined at every x0
/// let p = Program {
///     n_inputs: 1,
///     expr: Expr::Unary(UnaryOp::Ln, Box::new(Expr::Input(0))),
/// };
/// assert_eq!(p.to_string(), "ln(x0)");
/// assert!((p.eval(&[0.0]) + std::f64::consts::LN_2).abs() < 1e-12);
/// assert!(gradcheck(&p, &[0.7], &Options::for_precision::<f64>()).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Program {
    /// Number of inputs.
    pub n_inputs: usize,
    /// The expression.
    pub expr: Expr,
}

impl Program {
    /// `f(x)`.
    ///
    /// # Panics
    /// If `x` is empty and the expression reads an input (as [`Expr::eval`], whose other
    /// panic, a [`Expr::Clamp`] with bounds out of order, the strategies never make).
    ///
    /// # Example
    /// ```
    /// use adroit_check::program::{BinaryOp, Expr, Program};
    /// use adroit_check::adroit_forward::Dual;
    /// let (x0, x1) = (Box::new(Expr::Input(0)), Box::new(Expr::Input(1)));
    /// let p = Program { n_inputs: 2, expr: Expr::Binary(BinaryOp::Mul, x0, x1) };
    /// assert_eq!(p.eval(&[2.0, 3.0]), 6.0);
    /// // the same program on dual numbers: ∂(x0·x1)/∂x0 = x1
    /// let y = p.eval(&[Dual::variable(2.0), Dual::constant(3.0)]);
    /// assert_eq!((y.value(), y.tangent()), (6.0, 3.0));
    /// ```
    pub fn eval<S: SpecialFunctions>(&self, x: &[S]) -> S {
        self.expr.eval(x)
    }
}

impl crate::GenericFn for Program {
    fn eval<S: SpecialFunctions>(&self, x: &[S]) -> Vec<S> {
        vec![self.expr.eval(x)]
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.expr.fmt(f)
    }
}
