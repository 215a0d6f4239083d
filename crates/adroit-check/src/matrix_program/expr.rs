//! The expression tree of a matrix program and its shapes.

use adroit_reverse::matrix::Along;
use num_traits::Float;

/// An element-wise function of one matrix (guarded forms keep every entry in the domain).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatUnary {
    /// `tanh x` ([`MatVar::tanh`](adroit_reverse::matrix::MatVar::tanh)).
    Tanh,
    /// `sin x` (the rule table's `Sin` through `map_rule`).
    Sin,
    /// `|x|` (derivative 0 at 0, the table's convention).
    Abs,
    /// `eˣ`.
    Exp,
    /// `ln(x² + ½)`.
    Ln,
    /// `√(x² + 1)`.
    Sqrt,
    /// `x²` (`powi(2)`).
    Square,
    /// `−x`.
    Neg,
    /// The logistic sigmoid `1 / (1 + e⁻ˣ)`, an arbitrary `Float` function through `map`.
    Sigmoid,
    /// The logistic sigmoid by [`MatVar::sigmoid`](adroit_reverse::matrix::MatVar::sigmoid)
    /// (its own kernel; the scalar program: `1 / (1 + e⁻ˣ)`).
    Logistic,
    /// `softplus x = ln(1 + eˣ)` by
    /// [`MatVar::softplus`](adroit_reverse::matrix::MatVar::softplus) (the scalar program:
    /// `x + ln_1p(e⁻ˣ)` for `x > 0`, `ln_1p(eˣ)` otherwise, chosen by a branch).
    Softplus,
    /// `ln σ(x)` by [`MatVar::log_sigmoid`](adroit_reverse::matrix::MatVar::log_sigmoid)
    /// (the scalar program: `−softplus(−x)`, as above).
    LogSigmoid,
    /// `ln(1 + x²)` ([`MatVar::ln_1p`](adroit_reverse::matrix::MatVar::ln_1p) of `x²`).
    Ln1p,
    /// `cos x` ([`MatVar::cos`](adroit_reverse::matrix::MatVar::cos)).
    Cos,
    /// `(x² + ½)^−1.5` ([`MatVar::powf`](adroit_reverse::matrix::MatVar::powf)).
    Powf,
    /// `x` clamped to `[−½, ½]` ([`MatVar::clamp`](adroit_reverse::matrix::MatVar::clamp):
    /// derivative 1 at a bound, as the scalar `clamp`).
    Clamp,
}

impl MatUnary {
    /// The first functions, in decoding order.
    pub const ALL: [MatUnary; 9] = [
        MatUnary::Tanh,
        MatUnary::Sin,
        MatUnary::Abs,
        MatUnary::Exp,
        MatUnary::Ln,
        MatUnary::Sqrt,
        MatUnary::Square,
        MatUnary::Neg,
        MatUnary::Sigmoid,
    ];

    /// The functions added later, in decoding order (a tag of their own: see
    /// [`MatProgram::decode`](super::MatProgram::decode)).
    pub const LATER: [MatUnary; 7] = [
        MatUnary::Logistic,
        MatUnary::Softplus,
        MatUnary::LogSigmoid,
        MatUnary::Ln1p,
        MatUnary::Cos,
        MatUnary::Powf,
        MatUnary::Clamp,
    ];
}

/// An element-wise function of two matrices, with NumPy broadcasting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatBinary {
    /// `a + b`.
    Add,
    /// `a − b`.
    Sub,
    /// `a ⊙ b` (`component_mul`).
    Mul,
    /// `a ⊘ (b² + 1)` (`component_div`, guarded).
    Div,
    /// `max(a, b)` (`zip_rule(Max)`; a tie splits the cotangent ½/½).
    Max,
}

impl MatBinary {
    /// Every function, in decoding order.
    pub const ALL: [MatBinary; 5] = [
        MatBinary::Add,
        MatBinary::Sub,
        MatBinary::Mul,
        MatBinary::Div,
        MatBinary::Max,
    ];
}

/// A reduction of a matrix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MatReduce {
    /// The sum of all entries (`1 × 1`).
    Sum,
    /// The mean of all entries (`1 × 1`).
    Mean,
    /// Sums along a dimension (`1 × cols` along rows, `rows × 1` along columns).
    SumAlong(Along),
    /// Means along a dimension.
    MeanAlong(Along),
    /// `log Σ exp` along a dimension.
    LogSumExp(Along),
    /// The largest entry (`1 × 1`; [`MatVar::max`](adroit_reverse::matrix::MatVar::max): tied
    /// entries share the cotangent equally, as JAX's).
    Max,
    /// The smallest entry (`1 × 1`, ties shared alike).
    Min,
    /// The largest entry of each line along a dimension (as [`MatReduce::SumAlong`]).
    MaxAlong(Along),
    /// The smallest entry of each line along a dimension.
    MinAlong(Along),
}

/// A matrix expression. Shapes must agree as each operation requires (see
/// [`MatExpr::shape`]).
#[derive(Clone, Debug, PartialEq)]
pub enum MatExpr {
    /// Input matrix `k`.
    Input(usize),
    /// An element-wise function.
    Unary(MatUnary, Box<MatExpr>),
    /// `scale·x + shift`, with plain scalars (`MatVar * T`, `MatVar + T`).
    Affine {
        /// The factor.
        scale: f64,
        /// The shift.
        shift: f64,
        /// The operand.
        x: Box<MatExpr>,
    },
    /// An element-wise function of two broadcast-compatible matrices.
    Binary(MatBinary, Box<MatExpr>, Box<MatExpr>),
    /// The fused element-wise function `a·tanh b + c / (c² + 1)` of three broadcast-compatible
    /// matrices, one [`zip_map`](adroit_reverse::matrix::MatVar::zip_map) node.
    ZipMap(Box<MatExpr>, Box<MatExpr>, Box<MatExpr>),
    /// The matrix product (`a.ncols() == b.nrows()`).
    MatMul(Box<MatExpr>, Box<MatExpr>),
    /// The affine map `a·b + c` as one node
    /// ([`MatVar::affine`](adroit_reverse::matrix::MatVar::affine)): `c` broadcasts to the
    /// product's shape (each dimension equal to the product's or 1).
    MatMulAdd(Box<MatExpr>, Box<MatExpr>, Box<MatExpr>),
    /// The transpose.
    Transpose(Box<MatExpr>),
    /// A reduction.
    Reduce(MatReduce, Box<MatExpr>),
    /// Softmax along a dimension.
    Softmax(Along, Box<MatExpr>),
    /// Log-softmax along a dimension.
    LogSoftmax(Along, Box<MatExpr>),
    /// Reshaped (column-major) to `rows × cols`, of the same number of entries.
    Reshape(usize, usize, Box<MatExpr>),
    /// The block of `shape` at `start`.
    Block {
        /// The block's first row and column.
        start: (usize, usize),
        /// The block's rows and columns.
        shape: (usize, usize),
        /// The matrix it is taken from.
        x: Box<MatExpr>,
    },
    /// Rows `first, first + stride, …` (`count` of them), every column
    /// ([`strided_rows`](adroit_reverse::matrix::MatVar::strided_rows), `x[first::stride]`).
    StridedRows {
        /// The first row picked.
        first: usize,
        /// How many rows are picked (at least 1).
        count: usize,
        /// The step between picked rows (at least 1).
        stride: usize,
        /// The matrix they are taken from.
        x: Box<MatExpr>,
    },
    /// One entry per column ([`Along::Rows`], `1 × cols`) or per row ([`Along::Cols`],
    /// `rows × 1`), picked by index
    /// ([`take_along`](adroit_reverse::matrix::MatVar::take_along)).
    TakeAlong {
        /// Along which dimension the index runs.
        along: Along,
        /// One index per line, each below the extent of that dimension.
        indices: Vec<usize>,
        /// The matrix they pick from.
        x: Box<MatExpr>,
    },
    /// Rows picked by index, the same on every column, `fill` where an index is `None`
    /// ([`take_rows_padded`](adroit_reverse::matrix::MatVar::take_rows_padded), im2col's
    /// gather): `indices.len() × cols`.
    TakeRowsPadded {
        /// One entry per row of the result, each below the operand's rows or `None`.
        indices: Vec<Option<usize>>,
        /// The value of the rows whose index is `None` (finite).
        fill: f64,
        /// The matrix they are taken from.
        x: Box<MatExpr>,
    },
    /// Rows added into place by index
    /// ([`scatter_add_rows`](adroit_reverse::matrix::MatVar::scatter_add_rows), col2im):
    /// `rows × cols`, row `k` of the operand added to row `indices[k]`, dropped for `None`.
    ScatterAddRows {
        /// One entry per row of the operand, each below `rows` or `None`.
        indices: Vec<Option<usize>>,
        /// The result's rows (at least 1).
        rows: usize,
        /// The matrix whose rows are added.
        x: Box<MatExpr>,
    },
    /// The `n × n` identity matrix, a constant.
    Identity(usize),
    /// `A⁻¹·B`, the solution of `A·X = B` (`a` square, `n × n`; `b` `n × k`), by LU with
    /// partial pivoting ([`MatVar::solve`](adroit_reverse::matrix::MatVar::solve)); all NaN
    /// where a pivot is zero or an entry of `A` is not finite.
    Solve(Box<MatExpr>, Box<MatExpr>),
    /// `A⁻¹` of a square matrix
    /// ([`MatVar::inverse`](adroit_reverse::matrix::MatVar::inverse)); all NaN as
    /// [`MatExpr::Solve`].
    Inverse(Box<MatExpr>),
    /// `ln|det A|` of a square matrix, `1 × 1`
    /// ([`MatVar::logabsdet`](adroit_reverse::matrix::MatVar::logabsdet)): `−∞` at a zero
    /// pivot, NaN where an entry is not finite.
    LogAbsDet(Box<MatExpr>),
    /// `det A` of a square matrix, `1 × 1`
    /// ([`MatVar::det`](adroit_reverse::matrix::MatVar::det)): NaN where an entry is not
    /// finite. The scalar reference (elimination) gives 0 with a zero gradient at a zero
    /// pivot, where the tape's gradient is the cofactors: the decoder never builds one (its
    /// matrices are shifted well away from singular), and hand-written programs should not.
    Det(Box<MatExpr>),
    /// The lower Cholesky factor of the symmetric part `½(A + Aᵀ)` of a square matrix
    /// ([`MatVar::cholesky`](adroit_reverse::matrix::MatVar::cholesky)); all NaN (a constant)
    /// where that is not positive definite in floating point.
    Cholesky(Box<MatExpr>),
    /// `T⁻¹·B` or `T⁻ᵀ·B` for a triangular `T` (`n × n`, only the triangle read; `b` `n × k`),
    /// by substitution ([`MatVar::solve_lower_triangular`](adroit_reverse::matrix::MatVar::solve_lower_triangular)
    /// and its three kin); all NaN where a diagonal entry is zero.
    TriangularSolve {
        /// The lower triangle is read, else the upper.
        lower: bool,
        /// `Tᵀ` is solved with, else `T`.
        transposed: bool,
        /// The triangular matrix.
        t: Box<MatExpr>,
        /// The right-hand side.
        b: Box<MatExpr>,
    },
    /// `[a; b]` (vertical, equal column counts) or `[a b]` (equal row counts).
    Cat {
        /// Stacked vertically, else side by side.
        vertical: bool,
        /// The first part.
        a: Box<MatExpr>,
        /// The second part.
        b: Box<MatExpr>,
    },
}

/// The element function of [`MatExpr::ZipMap`]: `a·tanh b + c / (c² + 1)`.
#[inline]
pub(crate) fn fused<S: Float>(a: S, b: S, c: S) -> S {
    a * b.tanh() + c / (c * c + S::one())
}

/// The broadcast shape of `a` and `b`, if they broadcast (each dimension equal or 1).
pub(crate) fn broadcast(a: (usize, usize), b: (usize, usize)) -> Option<(usize, usize)> {
    let dim = |x: usize, y: usize| match (x, y) {
        _ if x == y => Some(x),
        (1, y) => Some(y),
        (x, 1) => Some(x),
        _ => None,
    };
    Some((dim(a.0, b.0)?, dim(a.1, b.1)?))
}

/// The shape of a reduction's result.
pub(crate) fn reduced(reduce: MatReduce, (rows, cols): (usize, usize)) -> (usize, usize) {
    match reduce {
        MatReduce::Sum | MatReduce::Mean | MatReduce::Max | MatReduce::Min => (1, 1),
        MatReduce::SumAlong(Along::Rows)
        | MatReduce::MeanAlong(Along::Rows)
        | MatReduce::LogSumExp(Along::Rows)
        | MatReduce::MaxAlong(Along::Rows)
        | MatReduce::MinAlong(Along::Rows) => (1, cols),
        MatReduce::SumAlong(Along::Cols)
        | MatReduce::MeanAlong(Along::Cols)
        | MatReduce::LogSumExp(Along::Cols)
        | MatReduce::MaxAlong(Along::Cols)
        | MatReduce::MinAlong(Along::Cols) => (rows, 1),
    }
}

impl MatExpr {
    /// The shape of the result, given the inputs' shapes.
    ///
    /// # Panics
    /// If an operation's shapes do not agree, or an input index is out of range.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::MatExpr;
    /// let x = || Box::new(MatExpr::Input(0));
    /// assert_eq!(MatExpr::MatMul(x(), Box::new(MatExpr::Transpose(x()))).shape(&[(2, 5)]), (2, 2));
    /// ```
    pub fn shape(&self, inputs: &[(usize, usize)]) -> (usize, usize) {
        let bcast = |a: (usize, usize), b: (usize, usize)| {
            broadcast(a, b).unwrap_or_else(|| panic!("shapes {a:?} and {b:?} do not broadcast"))
        };
        match self {
            MatExpr::Input(k) => *inputs.get(*k).unwrap_or_else(|| {
                panic!(
                    "MatExpr::Input({k}), but the program has {} inputs",
                    inputs.len()
                )
            }),
            MatExpr::Unary(_, x)
            | MatExpr::Affine { x, .. }
            | MatExpr::Softmax(_, x)
            | MatExpr::LogSoftmax(_, x) => x.shape(inputs),
            MatExpr::Binary(_, a, b) => bcast(a.shape(inputs), b.shape(inputs)),
            MatExpr::ZipMap(a, b, c) => {
                bcast(bcast(a.shape(inputs), b.shape(inputs)), c.shape(inputs))
            }
            MatExpr::MatMul(a, b) => {
                let (sa, sb) = (a.shape(inputs), b.shape(inputs));
                assert_eq!(sa.1, sb.0, "product of {sa:?} and {sb:?}");
                (sa.0, sb.1)
            }
            MatExpr::MatMulAdd(a, b, c) => {
                let (sa, sb, sc) = (a.shape(inputs), b.shape(inputs), c.shape(inputs));
                assert_eq!(sa.1, sb.0, "product of {sa:?} and {sb:?}");
                let shape = (sa.0, sb.1);
                assert!(
                    bcast(shape, sc) == shape,
                    "a bias of {sc:?} for a product of {shape:?}"
                );
                shape
            }
            MatExpr::Transpose(x) => {
                let (r, c) = x.shape(inputs);
                (c, r)
            }
            MatExpr::Reduce(reduce, x) => reduced(*reduce, x.shape(inputs)),
            MatExpr::Reshape(r, c, x) => {
                let (xr, xc) = x.shape(inputs);
                assert_eq!(r * c, xr * xc, "reshape of {xr}×{xc} into {r}×{c}");
                (*r, *c)
            }
            MatExpr::Block { start, shape, x } => {
                let (r, c) = x.shape(inputs);
                assert!(
                    start.0 + shape.0 <= r && start.1 + shape.1 <= c,
                    "block of {shape:?} at {start:?} out of a {r}×{c} matrix"
                );
                *shape
            }
            MatExpr::StridedRows {
                first,
                count,
                stride,
                x,
            } => {
                let (r, c) = x.shape(inputs);
                assert!(
                    *count >= 1 && *stride >= 1 && first + (count - 1) * stride < r,
                    "{count} rows from {first} every {stride} out of a {r}×{c} matrix"
                );
                (*count, c)
            }
            MatExpr::TakeAlong { along, indices, x } => {
                let (r, c) = x.shape(inputs);
                let (lines, extent, shape) = picks(*along, (r, c));
                assert!(
                    indices.len() == lines && indices.iter().all(|&i| i < extent),
                    "indices {indices:?} along {along:?} of a {r}×{c} matrix"
                );
                shape
            }
            MatExpr::TakeRowsPadded { indices, fill, x } => {
                let (r, c) = x.shape(inputs);
                assert!(
                    fill.is_finite() && indices.iter().flatten().all(|&i| i < r),
                    "indices {indices:?} (fill {fill}) of a {r}×{c} matrix"
                );
                (indices.len(), c)
            }
            MatExpr::ScatterAddRows { indices, rows, x } => {
                let (r, c) = x.shape(inputs);
                assert!(
                    *rows >= 1 && indices.len() == r && indices.iter().flatten().all(|i| i < rows),
                    "indices {indices:?} of a {r}×{c} matrix into {rows} rows"
                );
                (*rows, c)
            }
            MatExpr::Identity(n) => (*n, *n),
            MatExpr::Solve(a, b) | MatExpr::TriangularSolve { t: a, b, .. } => {
                let (sa, sb) = (a.shape(inputs), b.shape(inputs));
                assert!(
                    sa.0 == sa.1 && sb.0 == sa.0,
                    "a system of {sa:?} with right-hand side {sb:?}"
                );
                sb
            }
            MatExpr::Inverse(a) | MatExpr::Cholesky(a) => {
                let s = a.shape(inputs);
                assert_eq!(s.0, s.1, "a square matrix, not {s:?}");
                s
            }
            MatExpr::LogAbsDet(a) | MatExpr::Det(a) => {
                let s = a.shape(inputs);
                assert_eq!(s.0, s.1, "a square matrix, not {s:?}");
                (1, 1)
            }
            MatExpr::Cat { vertical, a, b } => {
                let (sa, sb) = (a.shape(inputs), b.shape(inputs));
                if *vertical {
                    assert_eq!(sa.1, sb.1, "vertical concatenation of {sa:?} and {sb:?}");
                    (sa.0 + sb.0, sa.1)
                } else {
                    assert_eq!(sa.0, sb.0, "horizontal concatenation of {sa:?} and {sb:?}");
                    (sa.0, sa.1 + sb.1)
                }
            }
        }
    }
}

impl MatExpr {
    /// The number of scalar operations the whole expression evaluates, about: the entries of
    /// every node's result, and `m·k·n` for a product. Bounds decoded programs (the scalar
    /// reference records each on a tape).
    ///
    /// # Panics
    /// As [`MatExpr::shape`].
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::MatExpr;
    /// let x = || Box::new(MatExpr::Input(0));
    /// // a 2 × 5 transposed (10) and the product 2×5·5×2 (20)
    /// assert_eq!(MatExpr::MatMul(x(), Box::new(MatExpr::Transpose(x()))).cost(&[(2, 5)]), 30);
    /// ```
    pub fn cost(&self, inputs: &[(usize, usize)]) -> usize {
        let children: usize = self.operands().iter().map(|e| e.cost(inputs)).sum();
        children + self.own_cost(inputs)
    }

    /// This node's own operations (its operands excluded).
    pub(crate) fn own_cost(&self, inputs: &[(usize, usize)]) -> usize {
        match self {
            MatExpr::Input(_) => 0,
            MatExpr::MatMul(a, b) => {
                let ((m, k), (_, n)) = (a.shape(inputs), b.shape(inputs));
                m * k * n
            }
            MatExpr::MatMulAdd(a, b, _) => {
                let ((m, k), (_, n)) = (a.shape(inputs), b.shape(inputs));
                m * k * n + m * n
            }
            // A factorisation and a substitution per right-hand side column.
            MatExpr::Solve(a, b) | MatExpr::TriangularSolve { t: a, b, .. } => {
                let ((n, _), (_, k)) = (a.shape(inputs), b.shape(inputs));
                n * n * (n + k)
            }
            MatExpr::Inverse(a)
            | MatExpr::LogAbsDet(a)
            | MatExpr::Det(a)
            | MatExpr::Cholesky(a) => {
                let n = a.shape(inputs).0;
                2 * n * n * n
            }
            _ => {
                let (r, c) = self.shape(inputs);
                r * c
            }
        }
    }

    /// The node's operands.
    pub(crate) fn operands(&self) -> Vec<&MatExpr> {
        match self {
            MatExpr::Input(_) | MatExpr::Identity(_) => vec![],
            MatExpr::Unary(_, a)
            | MatExpr::Inverse(a)
            | MatExpr::LogAbsDet(a)
            | MatExpr::Det(a)
            | MatExpr::Cholesky(a)
            | MatExpr::Affine { x: a, .. }
            | MatExpr::Transpose(a)
            | MatExpr::Reduce(_, a)
            | MatExpr::Softmax(_, a)
            | MatExpr::LogSoftmax(_, a)
            | MatExpr::Reshape(_, _, a)
            | MatExpr::Block { x: a, .. }
            | MatExpr::StridedRows { x: a, .. }
            | MatExpr::TakeRowsPadded { x: a, .. }
            | MatExpr::ScatterAddRows { x: a, .. }
            | MatExpr::TakeAlong { x: a, .. } => vec![a],
            MatExpr::Binary(_, a, b)
            | MatExpr::MatMul(a, b)
            | MatExpr::Cat { a, b, .. }
            | MatExpr::Solve(a, b)
            | MatExpr::TriangularSolve { t: a, b, .. } => vec![a, b],
            MatExpr::ZipMap(a, b, c) | MatExpr::MatMulAdd(a, b, c) => vec![a, b, c],
        }
    }
}

/// For a pick by index along `along` from a `shape` matrix: `(how many indices, the bound
/// each must stay below, the result's shape)`.
pub(crate) fn picks(along: Along, (rows, cols): (usize, usize)) -> (usize, usize, (usize, usize)) {
    match along {
        Along::Rows => (cols, rows, (1, cols)),
        Along::Cols => (rows, cols, (rows, 1)),
    }
}
