//! Decoding arbitrary bytes into a shape-consistent matrix program, its inputs and an output
//! cotangent, for fuzzing: total (every byte string decodes), deterministic and bounded.

use super::MatProgram;
use super::expr::{MatBinary, MatExpr, MatReduce, MatUnary, broadcast, picks, reduced};
use crate::bytes::Bytes;
use adroit_reverse::matrix::Along;
use nalgebra::DMatrix;

/// The dimensions an input can have: 12 × 12 = 144 entries reach the matrix tape's buffer pool
/// (64 entries or more).
const DIMS: [usize; 6] = [1, 2, 3, 5, 8, 12];

/// Maximum nesting depth of a decoded expression.
const MAX_DEPTH: u32 = 8;

/// No concatenation makes a dimension above this (one beyond it is dropped); a reshape into one
/// row or column may reach `MAX_DIM²` entries (one beyond that is dropped).
const MAX_DIM: usize = 48;

/// Once a program's [`MatExpr::cost`] reaches this many scalar operations, the decoder adds
/// only inputs (the scalar reference records every operation on a tape; an unbounded program
/// ran the fuzzer out of memory).
const MAX_COST: usize = 100_000;

/// `rows × cols` seeded values in `[−4, 4)` on a grid of 1/512 (or of ½ when `coarse`, so
/// that ties and zeros — the kinks of `abs` and `max` — occur).
fn values(rows: usize, cols: usize, seed: u16, coarse: bool) -> DMatrix<f64> {
    let mut state = u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    DMatrix::from_fn(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let v = ((state >> 33) % 4096) as f64 / 512.0 - 4.0;
        if coarse { (v * 2.0).round() / 2.0 } else { v }
    })
}

/// `b` (of shape `sb`) made broadcast-compatible with shape `sa`: unchanged when it already
/// is, else summed to a row vector, a column vector or a scalar.
fn fit(b: MatExpr, sb: (usize, usize), sa: (usize, usize)) -> (MatExpr, (usize, usize)) {
    if broadcast(sa, sb).is_some() {
        return (b, sb);
    }
    let reduce = if sb.1 == sa.1 {
        MatReduce::SumAlong(Along::Rows)
    } else if sb.0 == sa.0 {
        MatReduce::SumAlong(Along::Cols)
    } else {
        MatReduce::Sum
    };
    (MatExpr::Reduce(reduce, Box::new(b)), reduced(reduce, sb))
}

/// Decodes an expression, adding its cost to `spent` (see `MAX_COST`).
fn decode_expr(
    bytes: &mut Bytes<'_>,
    shapes: &[(usize, usize)],
    depth: u32,
    spent: &mut usize,
) -> (MatExpr, (usize, usize)) {
    if depth >= MAX_DEPTH || bytes.exhausted() || *spent >= MAX_COST {
        let k = bytes.below(shapes.len());
        return (MatExpr::Input(k), shapes[k]);
    }
    let (expr, shape) = decode_node(bytes, shapes, depth, spent);
    let own = expr.own_cost(shapes);
    if *spent + own > MAX_COST {
        // One node too large (an outer product of long vectors): an input instead.
        *spent = MAX_COST;
        return (MatExpr::Input(0), shapes[0]);
    }
    *spent += own;
    (expr, shape)
}

/// One node and its operands (their costs added to `spent` as they are decoded, a reused
/// operand's again).
fn decode_node(
    bytes: &mut Bytes<'_>,
    shapes: &[(usize, usize)],
    depth: u32,
    spent: &mut usize,
) -> (MatExpr, (usize, usize)) {
    let mut sub = |bytes: &mut Bytes<'_>| decode_expr(bytes, shapes, depth + 1, spent);
    let tag = bytes.next();
    let pick = usize::from(tag / 12);
    let along = if pick % 2 == 0 {
        Along::Rows
    } else {
        Along::Cols
    };
    match tag % 12 {
        1 if pick >= 18 => {
            // The four highest tags of this input slot (217, 229, 241, 253): a max or min
            // reduction, the next byte mod 6 its kind (added later; every program without
            // these tags decodes as before).
            let (a, s) = sub(bytes);
            let reduce = match bytes.below(6) {
                0 => MatReduce::Max,
                1 => MatReduce::Min,
                2 => MatReduce::MaxAlong(Along::Rows),
                3 => MatReduce::MaxAlong(Along::Cols),
                4 => MatReduce::MinAlong(Along::Rows),
                _ => MatReduce::MinAlong(Along::Cols),
            };
            (MatExpr::Reduce(reduce, Box::new(a)), reduced(reduce, s))
        }
        0 if pick >= 18 => {
            // The four highest tags of the other input slot (216, 228, 240, 252): a linear
            // solve, the next byte its kind (added later, as the extrema above).
            let kind = bytes.next();
            let (a, sa) = sub(bytes);
            let b = if matches!(kind % 8, 0 | 4..=7) {
                Some(sub(bytes))
            } else {
                None
            };
            let counted = a.cost(shapes) + b.as_ref().map_or(0, |(b, _)| b.cost(shapes));
            let (expr, shape) = solver_node(kind, (a, sa), b);
            // The guards' nodes (an operand repeated in them again) beyond those counted.
            *spent += (expr.cost(shapes) - expr.own_cost(shapes)).saturating_sub(counted);
            (expr, shape)
        }
        0 | 1 => {
            let k = bytes.below(shapes.len());
            (MatExpr::Input(k), shapes[k])
        }
        10 if pick >= 18 => {
            // The three highest tags of the reshape slot (226, 238, 250): rows gathered
            // with a fill or added into place by index (added later, as the extrema above).
            let kind = bytes.next();
            let (a, (r, c)) = sub(bytes);
            // One byte per index: mod the extent plus one, the extra value meaning `None`.
            let index = |bytes: &mut Bytes<'_>, extent: usize| {
                Some(bytes.below(extent + 1)).filter(|&i| i < extent)
            };
            if kind.is_multiple_of(2) {
                let count = 1 + bytes.below(MAX_DIM);
                let fill = f64::from(kind as i8) / 16.0;
                let indices = (0..count).map(|_| index(bytes, r)).collect();
                let x = Box::new(a);
                (MatExpr::TakeRowsPadded { indices, fill, x }, (count, c))
            } else {
                let rows = 1 + bytes.below(MAX_DIM);
                let indices = (0..r).map(|_| index(bytes, rows)).collect();
                let x = Box::new(a);
                (MatExpr::ScatterAddRows { indices, rows, x }, (rows, c))
            }
        }
        2 => {
            let op = if pick >= 18 {
                // The four highest tags of this slot (218, 230, 242, 254): a function added
                // later, the next byte its kind (as the extrema above).
                MatUnary::LATER[bytes.below(MatUnary::LATER.len())]
            } else {
                MatUnary::ALL[pick % MatUnary::ALL.len()]
            };
            let (a, s) = sub(bytes);
            (MatExpr::Unary(op, Box::new(a)), s)
        }
        3 => {
            let scale = f64::from(bytes.next() as i8) / 32.0;
            let shift = f64::from(bytes.next() as i8) / 16.0;
            let (a, s) = sub(bytes);
            (
                MatExpr::Affine {
                    scale,
                    shift,
                    x: Box::new(a),
                },
                s,
            )
        }
        4 => {
            let ((a, sa), (b, sb)) = (sub(bytes), sub(bytes));
            let (b, sb) = fit(b, sb, sa);
            let op = MatBinary::ALL[pick % MatBinary::ALL.len()];
            let shape = broadcast(sa, sb).expect("fitted");
            (MatExpr::Binary(op, Box::new(a), Box::new(b)), shape)
        }
        5 => {
            let ((a, sa), (b, sb), (c, sc)) = (sub(bytes), sub(bytes), sub(bytes));
            let (b, sb) = fit(b, sb, sa);
            let s = broadcast(sa, sb).expect("fitted");
            let (c, sc) = fit(c, sc, s);
            let shape = broadcast(s, sc).expect("fitted");
            (
                MatExpr::ZipMap(Box::new(a), Box::new(b), Box::new(c)),
                shape,
            )
        }
        6 => {
            let ((a, sa), (b, sb)) = (sub(bytes), sub(bytes));
            let (b, sb) = if sa.1 == sb.0 {
                (b, sb)
            } else if sa.1 == sb.1 {
                (MatExpr::Transpose(Box::new(b)), (sb.1, sb.0))
            } else {
                *spent += a.cost(shapes);
                (MatExpr::Transpose(Box::new(a.clone())), (sa.1, sa.0))
            };
            if pick % 8 == 7 {
                // With a bias (no byte read for it, so that other programs decode as before):
                // `a`'s row sums, `m × 1` as a layer's bias, and an operand's function too.
                let bias = MatExpr::Reduce(MatReduce::SumAlong(Along::Cols), Box::new(a.clone()));
                *spent += bias.cost(shapes);
                let (a, b, c) = (Box::new(a), Box::new(b), Box::new(bias));
                return (MatExpr::MatMulAdd(a, b, c), (sa.0, sb.1));
            }
            (MatExpr::MatMul(Box::new(a), Box::new(b)), (sa.0, sb.1))
        }
        7 => {
            let (a, (r, c)) = sub(bytes);
            (MatExpr::Transpose(Box::new(a)), (c, r))
        }
        8 => {
            let (a, s) = sub(bytes);
            let reduce = match pick % 4 {
                0 => MatReduce::Sum,
                1 => MatReduce::Mean,
                2 => MatReduce::SumAlong(along),
                _ if pick % 8 < 6 => MatReduce::MeanAlong(along),
                _ => MatReduce::LogSumExp(along),
            };
            (MatExpr::Reduce(reduce, Box::new(a)), reduced(reduce, s))
        }
        9 => {
            let (a, s) = sub(bytes);
            if pick % 8 >= 6 {
                // One entry per line by index, one byte per line (mod what fits).
                let (lines, extent, shape) = picks(along, s);
                let indices = (0..lines).map(|_| bytes.below(extent)).collect();
                let x = Box::new(a);
                return (MatExpr::TakeAlong { along, indices, x }, shape);
            }
            let a = Box::new(a);
            if pick % 4 < 2 {
                (MatExpr::Softmax(along, a), s)
            } else {
                (MatExpr::LogSoftmax(along, a), s)
            }
        }
        10 => {
            let (a, (r, c)) = sub(bytes);
            if pick % 2 == 0 {
                let (nr, nc) = match bytes.below(3) {
                    0 => (c, r),
                    1 => (1, r * c),
                    _ => (r * c, 1),
                };
                if nr.max(nc) > MAX_DIM * MAX_DIM {
                    return (a, (r, c));
                }
                (MatExpr::Reshape(nr, nc, Box::new(a)), (nr, nc))
            } else if pick % 4 == 3 {
                // Rows first, first + stride, … (`x[first::stride]`), at least one.
                let first = bytes.below(r);
                let stride = 1 + bytes.below(r);
                let count = 1 + bytes.below((r - 1 - first) / stride + 1);
                let x = Box::new(a);
                (
                    MatExpr::StridedRows {
                        first,
                        count,
                        stride,
                        x,
                    },
                    (count, c),
                )
            } else {
                let start = (bytes.below(r), bytes.below(c));
                let shape = (1 + bytes.below(r - start.0), 1 + bytes.below(c - start.1));
                (
                    MatExpr::Block {
                        start,
                        shape,
                        x: Box::new(a),
                    },
                    shape,
                )
            }
        }
        _ => {
            let vertical = tag & 0x80 != 0;
            let ((a, sa), (b, sb)) = (sub(bytes), sub(bytes));
            let fits = if vertical { sa.1 == sb.1 } else { sa.0 == sb.0 };
            let (b, sb) = if fits {
                (b, sb)
            } else {
                *spent += a.cost(shapes);
                (a.clone(), sa)
            };
            let shape = if vertical {
                (sa.0 + sb.0, sa.1)
            } else {
                (sa.0, sa.1 + sb.1)
            };
            if shape.0.max(shape.1) > MAX_DIM {
                return (a, sa);
            }
            let (a, b) = (Box::new(a), Box::new(b));
            (MatExpr::Cat { vertical, a, b }, shape)
        }
    }
}

/// `a` (of shape `s`) made square: itself, else `a·aᵀ` or `aᵀ·a`, whichever is smaller.
fn squared(a: MatExpr, (r, c): (usize, usize)) -> (MatExpr, usize) {
    if r == c {
        return (a, r);
    }
    let t = Box::new(MatExpr::Transpose(Box::new(a.clone())));
    if r < c {
        (MatExpr::MatMul(Box::new(a), t), r)
    } else {
        (MatExpr::MatMul(t, Box::new(a)), c)
    }
}

/// `a + c·(Σ a² + 1)·I` for the `n × n` `a`: with `|c| ≥ (n + 1)/2` its singular values lie
/// within a factor 3 of each other (`Σ a² + 1 ≥ 2‖a‖₂`); `c = 1` keeps `a·aᵀ + (Σ a² + 1)·I`
/// (for `a` its factor) positive definite with eigenvalues within a factor 2, and a square `a`
/// itself plus `(Σ a² + 1)·I` (not symmetric: Cholesky factors its symmetric part) positive
/// definite with eigenvalues within a factor 3. All smooth.
fn guarded(a: MatExpr, of: &MatExpr, n: usize, c: f64) -> MatExpr {
    let square = MatExpr::Unary(MatUnary::Square, Box::new(of.clone()));
    let scale = MatExpr::Affine {
        scale: c,
        shift: c,
        x: Box::new(MatExpr::Reduce(MatReduce::Sum, Box::new(square))),
    };
    let shift = MatExpr::Binary(
        MatBinary::Mul,
        Box::new(MatExpr::Identity(n)),
        Box::new(scale),
    );
    MatExpr::Binary(MatBinary::Add, Box::new(a), Box::new(shift))
}

/// A linear-algebra node (see [`MatProgram::decode`]) on well-conditioned matrices built from
/// `a` (and the right-hand side `b`, fitted to `n` rows: transposed, or else `a` itself).
fn solver_node(
    kind: u8,
    (a, sa): (MatExpr, (usize, usize)),
    b: Option<(MatExpr, (usize, usize))>,
) -> (MatExpr, (usize, usize)) {
    if kind % 8 == 3 {
        // Cholesky of a + (Σ a² + 1)·I for a square a (its symmetric part factored), else of
        // a·aᵀ (or aᵀ·a) + (Σ a² + 1)·I.
        let n = sa.0.min(sa.1);
        let (product, _) = squared(a.clone(), sa);
        let spd = guarded(product, &a, n, 1.0);
        return (MatExpr::Cholesky(Box::new(spd)), (n, n));
    }
    let (square, n) = squared(a, sa);
    let sign = if kind & 0x80 == 0 { 1.0 } else { -1.0 };
    let c = sign * (n as f64 + 1.0) / 2.0;
    let mut t = Box::new(guarded(square.clone(), &square, n, c));
    if kind & 0x40 != 0 && kind % 8 < 3 && n >= 2 {
        // Its rows shifted up by one (the first last): the same singular values, but each
        // column's largest entry off the diagonal, so partial pivoting swaps rows at every step.
        let rows = |start: usize, count: usize| MatExpr::Block {
            start: (start, 0),
            shape: (count, n),
            x: t.clone(),
        };
        t = Box::new(MatExpr::Cat {
            vertical: true,
            a: Box::new(rows(1, n - 1)),
            b: Box::new(rows(0, 1)),
        });
    }
    // The right-hand side fitted to n rows: as it is, transposed, or else the square matrix.
    let rhs = |(b, sb): (MatExpr, (usize, usize))| match (sb.0 == n, sb.1 == n) {
        (true, _) => (Box::new(b), sb.1),
        (false, true) => (Box::new(MatExpr::Transpose(Box::new(b))), sb.0),
        (false, false) => (Box::new(square.clone()), n),
    };
    let b = b.map(rhs);
    match kind % 8 {
        1 => (MatExpr::Inverse(t), (n, n)),
        2 if kind & 0x20 != 0 => (MatExpr::Det(t), (1, 1)),
        2 => (MatExpr::LogAbsDet(t), (1, 1)),
        0 => {
            let (b, k) = b.expect("a right-hand side decoded");
            (MatExpr::Solve(t, b), (n, k))
        }
        form => {
            let (b, k) = b.expect("a right-hand side decoded");
            let (lower, transposed) = (form % 2 == 0, form >= 6);
            let expr = MatExpr::TriangularSolve {
                lower,
                transposed,
                t,
                b,
            };
            (expr, (n, k))
        }
    }
}

impl MatProgram {
    /// Decodes a program and an output cotangent from arbitrary bytes: the first byte gives the
    /// number of inputs (1–3) and whether values are coarse (multiples of ½, so that ties and
    /// zeros occur); then per input a byte for each dimension (1, 2, 3, 5, 8 or 12) and two
    /// bytes seeding its values (in `[−4, 4)`); then the expression in prefix order (depth at
    /// most 8; dimensions at most 48, except where a reshape into one row or column — at most
    /// 48² entries — and the operations after it make larger ones; at most about 10⁵ scalar
    /// operations in all, see [`MatExpr::cost`]; an operation whose operands' shapes do not fit
    /// is fitted by a reduction, a transpose or reusing an operand); then two bytes seeding the
    /// cotangent (values in `[−4, 4)`, the result's shape). Missing bytes read as zeros. Every
    /// byte string decodes to a shape-consistent program.
    ///
    /// A dimension byte `b` picks `[1, 2, 3, 5, 8, 12][b % 6]`. An expression is a tag byte
    /// `t` then its operands; `t % 12` picks the operation and `p = t / 12` its variant:
    /// 0, 1 input (next byte mod the number of inputs), except 1 with `p ≥ 18` (`t` = 217,
    /// 229, 241, 253): a max or min reduction of the operand that follows, its kind the byte
    /// after the operand mod 6 (max, min, max along rows, max along columns, min along rows,
    /// min along columns), 10 with `p ≥ 18` (`t` = 226, 238, 250): its kind the next byte
    /// `k`, then the operand (`r` rows), then for an even `k` the count of rows gathered
    /// (mod the largest dimension, plus one) and that many index bytes (mod `r + 1`, `r`
    /// meaning the fill `i8(k) / 16`), a [`MatExpr::TakeRowsPadded`], for an odd `k` the rows
    /// of the result (as the count) and `r` index bytes (mod the rows plus one, the largest a
    /// dropped row), a [`MatExpr::ScatterAddRows`]; and 0 with `p ≥ 18` (`t` = 216, 228, 240, 252): a linear-algebra
    /// node, its kind the next byte `k` mod 8 — 0 [`MatExpr::Solve`], 1 [`MatExpr::Inverse`],
    /// 2 [`MatExpr::LogAbsDet`] (with bit 5 of `k` set [`MatExpr::Det`]), 3
    /// [`MatExpr::Cholesky`], 4–7 [`MatExpr::TriangularSolve`]
    /// (lower for even `k`, transposed for `k mod 8 ≥ 6`) — then its operand `a` and, for a
    /// solve, its right-hand side `b`. The matrix solved with is well-conditioned by
    /// construction: `a` made square (`a·aᵀ` or `aᵀ·a`, the smaller, unless it is), plus
    /// `±((n + 1)/2)·(Σ a² + 1)·I` (minus for `k ≥ 128`; singular values within a factor 3),
    /// for a solve, an inverse or a (log-)determinant with its rows shifted up by one, the first
    /// last, when bit 6 of `k` is set (`n ≥ 2`: partial pivoting then swaps rows at every step);
    /// a Cholesky factor is of `a + (Σ a² + 1)·I` for a square `a` (not symmetric: the
    /// factor is of its symmetric part; eigenvalues within a factor 3), else of
    /// `a·aᵀ + (Σ a² + 1)·I` (or `aᵀ·a + …`, eigenvalues within a factor 2); `b` is transposed to `n` rows if it has `n` columns, else replaced by the
    /// square matrix; 2 [`MatUnary::ALL`]`[p % 9]`, or for `p ≥ 18`
    /// (`t` = 218, 230, 242, 254) [`MatUnary::LATER`]`[k % 7]`, `k` the next byte;
    /// 3 affine (two bytes: scale `i8 / 32`, shift `i8 / 16`); 4 [`MatBinary::ALL`]`[p % 5]`;
    /// 5 `zip_map` of three; 6 product (for `p % 8 = 7` plus a bias, as one
    /// [`MatExpr::MatMulAdd`] node: the first factor's row sums); 7 transpose; 8 reduction (`p % 4`: sum, mean, sum
    /// along, then mean along or log-sum-exp; along rows for even `p`); 9 softmax (`p % 4 < 2`),
    /// log-softmax (`p % 8` = 2, 3) or a pick of one entry per line by index (`p % 8 ≥ 6`;
    /// one byte per line, mod the extent), along rows for even `p`; 10 reshape (even `p`; next byte mod 3: transposed
    /// shape, one row, one column), block (`p % 4 = 1`; four bytes: start row, start column,
    /// rows, columns, each mod what fits) or strided rows (`p % 4 = 3`; three bytes: first
    /// row, stride − 1, count − 1, each mod what fits); 11 concatenation, vertical when
    /// `t ≥ 128`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram, MatUnary};
    /// // one 2 × 3 input, tanh of it
    /// let (p, cotangent) = MatProgram::decode(&[0, 1, 2, 7, 0, 2, 0, 0]);
    /// assert_eq!(p.inputs[0].shape(), (2, 3));
    /// assert_eq!(p.expr, MatExpr::Unary(MatUnary::Tanh, Box::new(MatExpr::Input(0))));
    /// assert_eq!(cotangent.shape(), (2, 3));
    /// ```
    pub fn decode(data: &[u8]) -> (MatProgram, DMatrix<f64>) {
        let mut bytes = Bytes::new(data);
        let first = bytes.next();
        let (n_inputs, coarse) = (usize::from(first % 3) + 1, first & 0x80 != 0);
        let inputs: Vec<DMatrix<f64>> = (0..n_inputs)
            .map(|_| {
                let rows = DIMS[bytes.below(DIMS.len())];
                let cols = DIMS[bytes.below(DIMS.len())];
                let seed = u16::from_le_bytes([bytes.next(), bytes.next()]);
                values(rows, cols, seed, coarse)
            })
            .collect();
        let shapes: Vec<_> = inputs.iter().map(DMatrix::shape).collect();
        let (expr, shape) = decode_expr(&mut bytes, &shapes, 0, &mut 0);
        let seed = u16::from_le_bytes([bytes.next(), bytes.next()]);
        let cotangent = values(shape.0, shape.1, seed, false);
        (MatProgram { inputs, expr }, cotangent)
    }
}
