//! Random programs of whole-matrix operations, for fuzzing adroit-reverse's matrix tape
//! against its scalar tape.
//!
//! A [`MatProgram`] is an expression tree ([`MatExpr`]) over input matrices of given shapes,
//! built only from shape-consistent operations: every operation of
//! [`MatVar`](adroit_reverse::matrix::MatVar) that array code uses (products, affine maps, broadcasting
//! element-wise operations, maps, fused [`zip_map`](adroit_reverse::matrix::MatVar::zip_map),
//! reductions (sums, means, log-sum-exp, maxima and minima), softmax and its kin, reshapes,
//! blocks, strided rows, picks by index, concatenation, and the linear algebra of `solve`,
//! `inverse`, `logabsdet`, `cholesky` and the four triangular solves; not yet
//! `singular_values`). It runs two ways: on the matrix tape
//! ([`MatProgram::eval_tape`]), and entry by entry on any `Float` scalar
//! ([`MatProgram::eval_scalar`]), which on `Var<f64>` gives an independent reverse-mode
//! gradient through the scalar tape. [`MatProgram::decode`] builds a program from arbitrary
//! bytes; [`check_bytes`] is the check of the `matrix_program` fuzz target, [`check_hvp_bytes`]
//! (second derivatives: the matrix tape's `matrix::hvp` against the scalar tape's `hvp`, on
//! [`smooth`] programs) that of `matrix_program_hvp`.
//!
//! Element-wise operations are guarded to stay in their domain (`ln(x² + ½)`,
//! `√(x² + 1)`, `a / (b² + 1)`), so a program is defined everywhere; kinks (`abs`, `max`)
//! remain, and both tapes must follow the same conventions there. The decoder builds the
//! matrices it solves with to be well-conditioned (see [`MatProgram::decode`]); the scalar
//! reference factors them by its own Gaussian elimination, Cholesky's algorithm and
//! substitution, entry by entry, so the scalar tape differentiates the algorithms and checks
//! the matrix tape's closed-form pullbacks.
//!
//! # Example
//! ```
//! use adroit_check::matrix_program::{MatExpr, MatProgram, MatUnary};
//! use adroit_check::nalgebra::{self, dmatrix};
//! let p = MatProgram {
//!     inputs: vec![dmatrix![1.0, -2.0; 0.5, 3.0]],
//!     expr: MatExpr::Unary(MatUnary::Tanh, Box::new(MatExpr::Input(0))),
//! };
//! assert_eq!(p.shape(), (2, 2));
//! assert!(adroit_check::matrix_program::check(&p, &dmatrix![1.0, 0.0; 0.0, 1.0]).is_ok());
//! ```

mod check;
mod decode;
mod expr;
mod grid;
mod linear_algebra;
mod magnitude;
mod scalar_eval;
mod second_order;
mod sum_order;
mod tape_eval;

pub(crate) use check::{RESCALE_DOWN, RESCALE_UP};
pub use check::{check, check_bytes};
pub use expr::{MatBinary, MatExpr, MatReduce, MatUnary};
pub use second_order::{check_hvp, check_hvp_bytes, smooth};

use nalgebra::DMatrix;

/// A matrix program: an expression over input matrices.
///
/// # Example
/// The sum of the entries of `A·B` for a 2 × 3 `A` and a 3 × 1 `B`, checked on both tapes
/// (the output cotangent is 1 × 1):
/// ```
/// use adroit_check::matrix_program::{MatExpr, MatProgram, MatReduce};
/// use adroit_check::nalgebra::{self, dmatrix};
/// let product = MatExpr::MatMul(Box::new(MatExpr::Input(0)), Box::new(MatExpr::Input(1)));
/// let p = MatProgram {
///     inputs: vec![dmatrix![1.0, 2.0, 3.0; -1.0, 0.5, 2.0], dmatrix![0.5; -1.0; 2.0]],
///     expr: MatExpr::Reduce(MatReduce::Sum, Box::new(product)),
/// };
/// assert_eq!(p.shape(), (1, 1));
/// assert!(adroit_check::matrix_program::check(&p, &dmatrix![1.0]).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MatProgram {
    /// The input matrices (their values are the point of evaluation).
    pub inputs: Vec<DMatrix<f64>>,
    /// The expression; its [`MatExpr::Input`] indices are below `inputs.len()`.
    pub expr: MatExpr,
}

impl MatProgram {
    /// The shape of the program's result.
    ///
    /// # Panics
    /// If the expression is not shape-consistent (programs from [`MatProgram::decode`]
    /// always are) or names an input that does not exist.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram};
    /// use adroit_check::nalgebra::DMatrix;
    /// let p = MatProgram {
    ///     inputs: vec![DMatrix::zeros(3, 2)],
    ///     expr: MatExpr::Transpose(Box::new(MatExpr::Input(0))),
    /// };
    /// assert_eq!(p.shape(), (2, 3));
    /// ```
    pub fn shape(&self) -> (usize, usize) {
        let shapes: Vec<_> = self.inputs.iter().map(DMatrix::shape).collect();
        self.expr.shape(&shapes)
    }
}
