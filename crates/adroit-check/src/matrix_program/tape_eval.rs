//! A matrix program on adroit-reverse's matrix tape.

use super::MatProgram;
use super::expr::{MatBinary, MatExpr, MatReduce, MatUnary, fused};
use adroit_forward::Dual;
use adroit_forward::rules::{Max, Sin};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

impl MatProgram {
    /// The program recorded on the matrix tape; `inputs` are the recorded inputs (in a
    /// [`matrix::gradient`](adroit_reverse::matrix::gradient) or
    /// [`matrix::pullback`](adroit_reverse::matrix::pullback) closure, the `MatVar`s it is
    /// given for [`MatProgram::inputs`]).
    ///
    /// Generic over the element type: on `f64` for gradients, on the duals of
    /// [`matrix::hvp`](adroit_reverse::matrix::hvp) and
    /// [`matrix::hessian`](adroit_reverse::matrix::hessian) for second derivatives.
    ///
    /// # Panics
    /// As [`MatProgram::shape`], if the expression is not shape-consistent.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram, MatReduce};
    /// use adroit_check::adroit_reverse::matrix;
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let p = MatProgram {
    ///     inputs: vec![dmatrix![1.0, 2.0; 3.0, 4.0]],
    ///     expr: MatExpr::Reduce(MatReduce::Sum, Box::new(MatExpr::Input(0))),
    /// };
    /// let g = matrix::gradient(|m| p.eval_tape(m), &p.inputs);
    /// assert_eq!(g[0], dmatrix![1.0, 1.0; 1.0, 1.0]);
    /// ```
    pub fn eval_tape<T: MatScalar>(&self, inputs: &[MatVar<T>]) -> MatVar<T> {
        self.expr.eval_tape(inputs)
    }
}

impl MatExpr {
    fn eval_tape<T: MatScalar>(&self, x: &[MatVar<T>]) -> MatVar<T> {
        let ev = |e: &MatExpr| e.eval_tape(x);
        let lit = |c: f64| T::from(c).unwrap_or_else(T::nan);
        match self {
            MatExpr::Input(k) => x[*k],
            MatExpr::Unary(op, a) => {
                let a = ev(a);
                match op {
                    MatUnary::Tanh => a.tanh(),
                    MatUnary::Sin => a.map_rule(Sin),
                    MatUnary::Abs => a.abs(),
                    MatUnary::Exp => a.exp(),
                    MatUnary::Ln => (a.powi(2) + lit(0.5)).ln(),
                    MatUnary::Sqrt => (a.powi(2) + T::one()).sqrt(),
                    MatUnary::Square => a.powi(2),
                    MatUnary::Neg => -a,
                    MatUnary::Sigmoid => {
                        a.map(|d: Dual<T>| (Dual::constant(T::one()) + (-d).exp()).recip())
                    }
                    MatUnary::Logistic => a.sigmoid(),
                    MatUnary::Softplus => a.softplus(),
                    MatUnary::LogSigmoid => a.log_sigmoid(),
                    MatUnary::Ln1p => a.powi(2).ln_1p(),
                    MatUnary::Cos => a.cos(),
                    MatUnary::Powf => (a.powi(2) + lit(0.5)).powf(lit(-1.5)),
                    MatUnary::Clamp => a.clamp(lit(-0.5), lit(0.5)),
                }
            }
            MatExpr::Affine { scale, shift, x: a } => ev(a) * lit(*scale) + lit(*shift),
            MatExpr::Binary(op, a, b) => {
                let (a, b) = (ev(a), ev(b));
                match op {
                    MatBinary::Add => a + b,
                    MatBinary::Sub => a - b,
                    MatBinary::Mul => a.component_mul(b),
                    MatBinary::Div => a.component_div(b.powi(2) + T::one()),
                    MatBinary::Max => a.zip_rule(b, Max),
                }
            }
            MatExpr::ZipMap(a, b, c) => {
                MatVar::zip_map([ev(a), ev(b), ev(c)], |[a, b, c]| fused(a, b, c))
            }
            MatExpr::MatMul(a, b) => ev(a) * ev(b),
            MatExpr::MatMulAdd(a, b, c) => ev(a).affine(ev(b), ev(c)),
            MatExpr::Transpose(a) => ev(a).transpose(),
            MatExpr::Reduce(reduce, a) => {
                let a = ev(a);
                match *reduce {
                    MatReduce::Sum => a.sum(),
                    MatReduce::Mean => a.mean(),
                    MatReduce::SumAlong(along) => a.sum_along(along),
                    MatReduce::MeanAlong(along) => a.mean_along(along),
                    MatReduce::LogSumExp(along) => a.logsumexp(along),
                    MatReduce::Max => a.max(),
                    MatReduce::Min => a.min(),
                    MatReduce::MaxAlong(along) => a.max_along(along),
                    MatReduce::MinAlong(along) => a.min_along(along),
                }
            }
            MatExpr::Softmax(along, a) => ev(a).softmax(*along),
            MatExpr::LogSoftmax(along, a) => ev(a).logsoftmax(*along),
            MatExpr::Reshape(r, c, a) => ev(a).reshape(*r, *c),
            MatExpr::Block { start, shape, x: a } => ev(a).view(*start, *shape),
            MatExpr::StridedRows {
                first,
                count,
                stride,
                x: a,
            } => ev(a).strided_rows(*first, *count, *stride),
            MatExpr::TakeAlong { along, indices, x } => ev(x).take_along(*along, indices),
            MatExpr::TakeRowsPadded { indices, fill, x } => {
                ev(x).take_rows_padded(indices, T::from_f64(*fill).unwrap_or_else(T::zero))
            }
            MatExpr::ScatterAddRows { indices, rows, x } => ev(x).scatter_add_rows(indices, *rows),
            MatExpr::Identity(n) => MatVar::constant(DMatrix::identity(*n, *n)),
            MatExpr::Solve(a, b) => ev(a).solve(ev(b)),
            MatExpr::Inverse(a) => ev(a).inverse(),
            MatExpr::LogAbsDet(a) => ev(a).logabsdet(),
            MatExpr::Det(a) => ev(a).det(),
            MatExpr::Cholesky(a) => {
                let a = ev(a);
                let n = a.nrows();
                a.cholesky()
                    .unwrap_or_else(|| MatVar::constant(DMatrix::from_element(n, n, T::nan())))
            }
            MatExpr::TriangularSolve {
                lower,
                transposed,
                t,
                b,
            } => {
                let (t, b) = (ev(t), ev(b));
                match (lower, transposed) {
                    (true, false) => t.solve_lower_triangular(b),
                    (true, true) => t.tr_solve_lower_triangular(b),
                    (false, false) => t.solve_upper_triangular(b),
                    (false, true) => t.tr_solve_upper_triangular(b),
                }
            }
            MatExpr::Cat { vertical, a, b } => {
                let parts = [ev(a), ev(b)];
                if *vertical {
                    MatVar::vcat(&parts)
                } else {
                    MatVar::hcat(&parts)
                }
            }
        }
    }
}
