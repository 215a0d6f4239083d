//! A matrix program evaluated entry by entry on any `Float` scalar: the independent
//! reference the matrix tape is checked against (on `Var<f64>` it records every scalar
//! operation on adroit-reverse's scalar tape).

use super::MatProgram;
use super::expr::{MatBinary, MatExpr, MatReduce, MatUnary, fused, reduced};
use super::grid::Grid;
use super::linear_algebra;
use super::sum_order::{self, dot, with_probe};
use adroit_reverse::matrix::Along;
use nalgebra::DMatrix;
use num_traits::Float;

/// The constant `c`.
fn lit<S: Float>(c: f64) -> S {
    S::from(c).expect("a float constant converts to every Float type")
}

/// `ln(1 + eˣ)`, as `ln_1p(eˣ)` for `x ≤ 0` and `x + ln_1p(e⁻ˣ)` above: no overflow.
fn softplus<S: Float>(x: S) -> S {
    if x > S::zero() {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `Σ terms` as `adroit-reverse`'s matrix sums add a contiguous run of entries: eight
/// interleaved running sums from `+0`, combined pairwise, then the remainder in order.
fn interleaved_sum<S: Float>(terms: &[S]) -> S {
    const LANES: usize = 8;
    let mut lanes = [S::zero(); LANES];
    let blocks = terms.chunks_exact(LANES);
    let rest = blocks.remainder();
    for block in blocks {
        for (sum, &v) in lanes.iter_mut().zip(block) {
            *sum = *sum + v;
        }
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            lanes[k] = lanes[k] + lanes[k + width];
        }
    }
    rest.iter().fold(lanes[0], |sum, &v| sum + v)
}

/// `Σ terms` one by one from `+0`, in order.
fn sum_in_order<S: Float>(terms: &[S]) -> S {
    terms.iter().fold(S::zero(), |s, &v| s + v)
}

/// The shift of a line's log-sum-exp: its largest finite entry (0 when it has none), as a
/// constant — the result does not depend on it mathematically.
fn shift<S: Float>(line: &[S]) -> S {
    let m = line
        .iter()
        .filter(|v| v.is_finite())
        .fold(S::neg_infinity(), |m, &v| if v > m { v } else { m });
    let m = if m.is_finite() { m } else { S::zero() };
    lit(m.to_f64().unwrap_or(0.0))
}

/// The largest (`largest`) or smallest entry of a line (∓∞ for none), as the matrix tape's
/// `max`/`min` choose it (NaN if an entry is NaN; of a ±0 tie, +0 is the max and −0 the min),
/// its derivative shared equally among the `k` entries equal to it (or all NaN): formed as
/// the extremum as a constant less the sum of its differences from each such entry divided by
/// `k` — each difference 0, so the value is exact, its sign too, and each derivative `1/k` —
/// or, for an infinite or NaN extremum, as their sum divided by `k`.
/// (Scalar `max` calls would split a three-way tie ½, ¼, ¼.)
fn extremum<S: Float>(line: &[S], largest: bool) -> S {
    if line.is_empty() {
        return if largest {
            S::neg_infinity()
        } else {
            S::infinity()
        };
    }
    let best = line.iter().fold(line[0], |m, &v| {
        if m.is_nan() || v.is_nan() {
            S::nan()
        } else {
            let better = if largest {
                v > m || (v == m && m.is_sign_negative() && !v.is_sign_negative())
            } else {
                v < m || (v == m && !m.is_sign_negative() && v.is_sign_negative())
            };
            if better { v } else { m }
        }
    });
    let chosen: Vec<S> = line
        .iter()
        .copied()
        .filter(|&v| v == best || (v.is_nan() && best.is_nan()))
        .collect();
    let k = lit::<S>(chosen.len() as f64);
    if best.is_finite() {
        let constant = lit::<S>(best.to_f64().unwrap_or(f64::NAN));
        // The extremum less a sum from +0 of zeros: the sum is +0, so a −0 extremum keeps its
        // sign (adding the zeros to it would give +0).
        constant
            - chosen
                .iter()
                .fold(S::zero(), |acc, &v| acc + (constant - v) / k)
    } else {
        sum_in_order(&chosen) / k
    }
}

/// `(shifted entries x − m, ln Σ exp(x − m))` of a line, the log taken as `ln_1p` of the sum
/// less the largest finite entry's term (exactly 1) while that is below ½, as the matrix tape
/// does. That term enters
/// as `exp_m1(0) = 0`, keeping its derivative.
fn log_sum_exp<S: Float>(line: &[S]) -> (Vec<S>, S) {
    let m = shift(line);
    let largest = line.iter().position(|&v| v.is_finite() && v == m);
    let shifted: Vec<S> = line.iter().map(|&v| v - m).collect();
    let terms: Vec<S> = shifted
        .iter()
        .enumerate()
        .filter(|&(i, _)| Some(i) != largest)
        .map(|(_, &v)| v.exp())
        .collect();
    let others = sum_order::sum(&terms, sum_in_order);
    let lse = match largest {
        // ln_1p below ½, ln(1 + r) from there (see the matrix tape's `log_one_plus`)
        Some(i) if others < lit(0.5) => (shifted[i].exp_m1() + others).ln_1p(),
        Some(i) => (S::one() + (shifted[i].exp_m1() + others)).ln(),
        None => others.ln(),
    };
    (shifted, lse)
}

impl MatProgram {
    /// The program evaluated entry by entry on scalars of type `S` (`f64`, `Dual<f64>`,
    /// `Var<f64>`, …), on `inputs` given column-major with the shapes of
    /// [`MatProgram::inputs`]; returns the result column-major.
    ///
    /// # Panics
    /// If `inputs` do not match the program's inputs in number and size, or the expression is
    /// not shape-consistent.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram, MatReduce};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let p = MatProgram {
    ///     inputs: vec![dmatrix![1.0, 2.0; 3.0, 4.0]],
    ///     expr: MatExpr::Reduce(MatReduce::Sum, Box::new(MatExpr::Input(0))),
    /// };
    /// // ∂/∂x of the sum on the scalar tape
    /// let g = adroit_check::adroit_reverse::gradient(|x| p.eval_scalar(&[x.to_vec()])[0], &[1.0, 3.0, 2.0, 4.0]);
    /// assert_eq!(g, vec![1.0; 4]);
    /// ```
    pub fn eval_scalar<S: Float>(&self, inputs: &[Vec<S>]) -> Vec<S> {
        self.expr.eval_scalar(&self.grids_of(inputs)).data
    }

    /// For each input, the scale at which rounding in a reverse sweep reaches its gradient, in
    /// the gradient of `Σ cotangent ⊙ result`: the largest of the adjoints of its uses (each
    /// `Input` node alone, and all together: its gradient), and of every node's adjoint
    /// carried to it by that node's derivative — `|∂/∂x Σₙ sₙ·|adjₙ| ⊙ n(x)|` for two sign
    /// patterns `s` (first-order propagation of a rounding of each node's adjoint at its own
    /// scale). The operand of a softmax or log-softmax is taken, entry by entry, at least at
    /// the scale its pullback rounds at: `sᵢ·(|gᵢ| + Σⱼ sⱼ|gⱼ|)` for a softmax, whose pullback
    /// `sᵢ·(gᵢ − Σⱼ sⱼgⱼ)` rounds the difference at `g`'s scale whatever the difference's size,
    /// and `|gᵢ| + sᵢ·Σⱼ|gⱼ|` for a log-softmax (`gᵢ − sᵢ·Σⱼgⱼ`), sums over `i`'s line: so an
    /// operand whose exact adjoint cancels to 0 — tied entries at the top of a line, whose
    /// downstream adjoints are equal — still gets a rounding at that scale, while entries of
    /// low probability and quiet lines keep their own. NaN and infinite adjoints left out. An
    /// adjoint can exceed every value of the program (a product's is a product of two):
    /// [`check`](super::check) allows for its
    /// rounding where contributions that large cancel. Node adjoints are found by adding a
    /// zero input to every node's result on the scalar tape; the propagation costs two more
    /// scalar gradients.
    ///
    /// # Panics
    /// If `cotangent` is not of the result's shape.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// // x·x for x = [1e4], cotangent 3: each use's adjoint is 3·1e4; carried to x, the
    /// // uses' 3e4 each and the product's 3 times its derivative 2x: 1.2e5 (an estimate from
    /// // above of what reaches x)
    /// let x = || Box::new(MatExpr::Input(0));
    /// let p = MatProgram { inputs: vec![dmatrix![1e4]], expr: MatExpr::MatMul(x(), x()) };
    /// assert_eq!(p.largest_adjoints(&dmatrix![3.0]), [1.2e5]);
    /// // (a·b) + c: a's scale is b's value, b's a's — not the 1 of the nodes above them
    /// let q = MatProgram {
    ///     inputs: vec![dmatrix![1e-7], dmatrix![1e7], dmatrix![2.0]],
    ///     expr: MatExpr::Binary(
    ///         adroit_check::matrix_program::MatBinary::Add,
    ///         Box::new(MatExpr::MatMul(Box::new(MatExpr::Input(0)), Box::new(MatExpr::Input(1)))),
    ///         Box::new(MatExpr::Input(2)),
    ///     ),
    /// };
    /// let scales = q.largest_adjoints(&dmatrix![1.0]);
    /// assert!(scales[0] >= 1e7 && scales[1] < 1e-6 && scales[2] <= 2.0, "{scales:?}");
    /// ```
    pub fn largest_adjoints(&self, cotangent: &DMatrix<f64>) -> Vec<f64> {
        let shape = self.shape();
        assert_eq!(
            cotangent.shape(),
            shape,
            "largest_adjoints: the cotangent is {}×{} but the program's result is {}×{}",
            cotangent.nrows(),
            cotangent.ncols(),
            shape.0,
            shape.1
        );
        let (inputs, weights) = (self.flat_inputs(), cotangent.as_slice());
        // Each node's entry count, and the input it is if it is one, in evaluation order;
        // and the softmax nodes' operands (node indices: operands are evaluated, and hooked,
        // just before the node that reads them, so a stack of unread results finds them).
        let mut nodes: Vec<(usize, Option<usize>)> = Vec::new();
        let mut softmaxes: Vec<SoftmaxNode> = Vec::new();
        let mut unread: Vec<usize> = Vec::new();
        self.expr.eval_hooked(&self.grids(), &mut |node, g| {
            let input = match node {
                MatExpr::Input(k) => Some(*k),
                _ => None,
            };
            let index = nodes.len();
            let operands = unread.split_off(unread.len() - node.operands().len());
            if let MatExpr::Softmax(along, _) | MatExpr::LogSoftmax(along, _) = node {
                let log = matches!(node, MatExpr::LogSoftmax(..));
                let prob = |v: f64| Some(if log { v.exp() } else { v }).filter(|p| p.is_finite());
                softmaxes.push(SoftmaxNode {
                    node: index,
                    operand: operands[0],
                    along: *along,
                    log,
                    probs: Grid {
                        rows: g.rows,
                        cols: g.cols,
                        data: g.data.iter().map(|&v| prob(v).unwrap_or(0.0)).collect(),
                    },
                });
            }
            unread.push(index);
            nodes.push((g.data.len(), input));
            g
        });
        let sizes: Vec<usize> = inputs.iter().map(Vec::len).collect();
        let mut point = inputs.concat();
        let given = point.len();
        point.resize(given + nodes.iter().map(|n| n.0).sum::<usize>(), 0.0);
        let gradient = adroit_reverse::gradient(
            |all| {
                let (given, zeros) = all.split_at(sizes.iter().sum());
                let parts = split_by(given, &sizes);
                let mut next = zeros.iter();
                let out = self
                    .expr
                    .eval_hooked(&self.grids_of(&parts), &mut |_, mut g| {
                        for v in &mut g.data {
                            *v += *next.next().expect("one zero per node entry");
                        }
                        g
                    });
                weighted_sum(&out.data, weights)
            },
            &point,
        );
        let largest = |values: &[f64]| {
            values
                .iter()
                .filter(|v| v.is_finite())
                .fold(0.0_f64, |m, v| m.max(v.abs()))
        };
        // Each input's whole gradient, then each of its uses.
        let mut out: Vec<f64> = split_by(&gradient[..given], &sizes)
            .iter()
            .map(|part| largest(part))
            .collect();
        let starts: Vec<usize> = nodes
            .iter()
            .scan(given, |at, &(entries, _)| {
                let start = *at;
                *at += entries;
                Some(start)
            })
            .collect();
        let range = |i: usize| starts[i]..starts[i] + nodes[i].0;
        for (i, &(_, input)) in nodes.iter().enumerate() {
            if let Some(k) = input {
                out[k] = out[k].max(largest(&gradient[range(i)]));
            }
        }
        // Every node's adjoint carried to the inputs by the node's derivative; a softmax's
        // operand at least at the scale its pullback rounds at.
        let mut scales: Vec<f64> = gradient
            .iter()
            .map(|v| if v.is_finite() { v.abs() } else { 0.0 })
            .collect();
        for softmax in &softmaxes {
            let floor = softmax.pullback_rounding(&scales[range(softmax.node)]);
            for (a, f) in scales[range(softmax.operand)].iter_mut().zip(floor) {
                *a = a.max(f);
            }
        }
        let scales = &scales[given..];
        for alternate in [false, true] {
            let carried = adroit_reverse::gradient(
                |x| {
                    let mut scale = scales.iter().enumerate();
                    let mut total = adroit_reverse::Var::constant(0.0);
                    self.expr
                        .eval_hooked(&self.grids_of(&split_by(x, &sizes)), &mut |_, g| {
                            for (&v, (j, &a)) in g.data.iter().zip(&mut scale) {
                                // Signs in a fixed pattern with no short period (Fibonacci
                                // hashing's top bit), so that opposite terms rarely all cancel.
                                let flip = alternate
                                    && (j as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 63 == 1;
                                total += v * if flip { -a } else { a };
                            }
                            g
                        });
                    total
                },
                &point[..given],
            );
            let parts = split_by(&carried, &sizes);
            for (a, part) in out.iter_mut().zip(&parts) {
                *a = a.max(largest(part));
            }
        }
        out
    }

    /// The largest magnitude of any entry of any intermediate result of the program (inputs
    /// included), evaluated on `f64`; `None` when one is not finite (an overflow or a NaN on the
    /// way). Where one is not, derivatives depend on how each implementation orders its
    /// `0·∞ = 0` conventions, so [`check`](super::check) compares gradients only for programs
    /// finite throughout, and it widens their tolerance by the rounding of the largest
    /// intermediate (a softmax of entries near 1e131 has `1 − s` of ε where it should be 0).
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram, MatUnary};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let exp = |e| MatExpr::Unary(MatUnary::Exp, Box::new(e));
    /// let tanh = |e| MatExpr::Unary(MatUnary::Tanh, Box::new(e));
    /// let p = MatProgram { inputs: vec![dmatrix![800.0]], expr: tanh(exp(MatExpr::Input(0))) };
    /// assert!(p.eval_scalar(&p.flat_inputs())[0].is_finite()); // tanh(∞) = 1
    /// assert_eq!(p.largest_intermediate(), None); // but e⁸⁰⁰ overflowed
    /// let q = MatProgram { inputs: vec![dmatrix![2.0]], expr: tanh(exp(MatExpr::Input(0))) };
    /// assert_eq!(q.largest_intermediate(), Some(2.0_f64.exp()));
    /// ```
    pub fn largest_intermediate(&self) -> Option<f64> {
        self.expr.largest_intermediate(&self.grids())
    }

    /// The inputs' entries, column-major (the layout [`MatProgram::eval_scalar`] takes).
    ///
    /// The gradient of `Σ cotangent ⊙ result` with respect to each input on the scalar tape
    /// (`Var<f64>`, the program written entry by entry): the reference [`check`](super::check)
    /// compares the matrix tape's pullback with. One matrix per input, of its shape.
    ///
    /// # Panics
    /// If `cotangent` does not have the result's shape.
    ///
    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram, MatReduce};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let square = MatExpr::MatMul(Box::new(MatExpr::Input(0)), Box::new(MatExpr::Input(0)));
    /// let p = MatProgram { inputs: vec![dmatrix![2.0]], expr: square };
    /// // d/dx (3·x²) at 2 = 12
    /// assert_eq!(p.scalar_gradient(&dmatrix![3.0]), vec![dmatrix![12.0]]);
    /// ```
    pub fn scalar_gradient(&self, cotangent: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
        let shape = self.shape();
        assert_eq!(
            cotangent.shape(),
            shape,
            "scalar_gradient: the cotangent is {}×{} but the program's result is {}×{}",
            cotangent.nrows(),
            cotangent.ncols(),
            shape.0,
            shape.1
        );
        self.scalar_gradient_at(&self.flat_inputs(), cotangent.as_slice())
    }

    /// [`scalar_gradient`](Self::scalar_gradient) at the inputs `flat` (column-major, one list
    /// per input) with the weights `weights` (the cotangent, column-major).
    pub(crate) fn scalar_gradient_at(
        &self,
        flat: &[Vec<f64>],
        weights: &[f64],
    ) -> Vec<DMatrix<f64>> {
        let sizes: Vec<usize> = flat.iter().map(Vec::len).collect();
        let gradient = adroit_reverse::gradient(
            |x| weighted_sum(&self.eval_scalar(&split_by(x, &sizes)), weights),
            &flat.concat(),
        );
        crate::matrix_gradcheck::shaped_like(&gradient, &self.inputs)
    }

    /// # Example
    /// ```
    /// use adroit_check::matrix_program::{MatExpr, MatProgram};
    /// use adroit_check::nalgebra::{self, dmatrix};
    /// let p = MatProgram { inputs: vec![dmatrix![1.0, 2.0; 3.0, 4.0]], expr: MatExpr::Input(0) };
    /// assert_eq!(p.flat_inputs(), vec![vec![1.0, 3.0, 2.0, 4.0]]);
    /// ```
    pub fn flat_inputs(&self) -> Vec<Vec<f64>> {
        self.inputs.iter().map(|m| m.as_slice().to_vec()).collect()
    }

    /// The result on `f64` with every sum (products, reductions, the log-sum-exp's) taken in
    /// another order, keyed by `probe` (probes 1 mod 4 also fuse the products' multiply-adds,
    /// probes 3 mod 4 move each product term by `±ε` of itself), and
    /// the softmax family's results nudged by an ulp: how much the result depends on what two
    /// correct implementations legitimately differ in (a blocked product splits a line of
    /// entries equal by structure near 5e307 by an ulp, which a softmax makes one-hot; a
    /// softmax's sum is 1 on one tape and `1 − ε` on the other).
    pub(crate) fn eval_reordered(&self, probe: u64) -> Vec<f64> {
        with_probe(probe, || self.eval_probed(&self.flat_inputs()))
    }

    /// The result at `inputs`, the results of the nodes whose formulas differ between the
    /// tapes (softmax, log-softmax, log-sum-exp) nudged by an ulp while a probe runs
    /// ([`sum_order::nudge_formula_result`]).
    pub(crate) fn eval_probed<S: Float>(&self, inputs: &[Vec<S>]) -> Vec<S> {
        self.expr
            .eval_hooked(&self.grids_of(inputs), &mut |node, mut g| {
                let formula = matches!(
                    node,
                    MatExpr::Softmax(..)
                        | MatExpr::LogSoftmax(..)
                        | MatExpr::Reduce(MatReduce::LogSumExp(_), _)
                );
                if formula {
                    // Keyed by each entry's line (a log-sum-exp's result is its own line).
                    let mut lines = vec![0_u64; g.data.len()];
                    if let MatExpr::Softmax(along, _) | MatExpr::LogSoftmax(along, _) = node {
                        for line in g.lines(*along) {
                            let key = sum_order::line_key(line.iter().map(|&(i, j)| g.at(i, j)));
                            for (i, j) in line {
                                lines[j * g.rows + i] = key;
                            }
                        }
                    }
                    for (v, &line) in g.data.iter_mut().zip(&lines) {
                        *v = sum_order::nudge_formula_result(*v, line);
                    }
                }
                g
            })
            .data
    }

    /// The gradient of `Σ cotangent ⊙ result` on the scalar tape with the forward sums taken
    /// as in [`eval_reordered`](Self::eval_reordered), one list per input, column-major.
    pub(crate) fn gradient_reordered(&self, cotangent: &[f64], probe: u64) -> Vec<Vec<f64>> {
        let flat = self.flat_inputs();
        let sizes: Vec<usize> = flat.iter().map(Vec::len).collect();
        let gradient = with_probe(probe, || {
            adroit_reverse::gradient(
                |x| weighted_sum(&self.eval_probed(&split_by(x, &sizes)), cotangent),
                &flat.concat(),
            )
        });
        split_by(&gradient, &sizes)
    }

    /// The largest finite magnitude over every subexpression's result (infinities and NaNs
    /// left out).
    pub(crate) fn largest_finite_intermediate(&self) -> f64 {
        self.expr.magnitudes(&self.grids()).0
    }

    /// The inputs as grids.
    fn grids(&self) -> Vec<Grid<f64>> {
        self.grids_of(&self.flat_inputs())
    }

    /// `values` (column-major, one list per input) as grids of the inputs' shapes.
    ///
    /// # Panics
    /// If `values` do not match the inputs in number and size.
    fn grids_of<S: Float>(&self, values: &[Vec<S>]) -> Vec<Grid<S>> {
        assert_eq!(
            values.len(),
            self.inputs.len(),
            "eval_scalar: number of inputs"
        );
        self.inputs
            .iter()
            .zip(values)
            .map(|(m, v)| {
                assert_eq!(m.len(), v.len(), "eval_scalar: entries of an input");
                Grid {
                    rows: m.nrows(),
                    cols: m.ncols(),
                    data: v.clone(),
                }
            })
            .collect()
    }
}

/// A softmax or log-softmax node met by [`MatProgram::largest_adjoints`]: where it and its
/// operand are among the nodes, and its probabilities (non-finite ones as 0).
struct SoftmaxNode {
    node: usize,
    operand: usize,
    along: Along,
    log: bool,
    probs: Grid<f64>,
}

impl SoftmaxNode {
    /// The scale at which its pullback rounds each operand entry's adjoint, given the
    /// magnitudes `g` of its own adjoints: `sᵢ·(gᵢ + Σⱼ sⱼgⱼ)` (softmax) or `gᵢ + sᵢ·Σⱼ gⱼ`
    /// (log-softmax), sums over `i`'s line (down a column along rows, across a row along
    /// columns).
    fn pullback_rounding(&self, g: &[f64]) -> Vec<f64> {
        let (rows, s) = (self.probs.rows, &self.probs.data);
        let mut out = vec![0.0; g.len()];
        for line in self.probs.lines(self.along) {
            let line: Vec<usize> = line.iter().map(|&(i, j)| j * rows + i).collect();
            if self.log {
                let total: f64 = line.iter().map(|&k| g[k]).sum();
                for &k in &line {
                    out[k] = g[k] + s[k] * total;
                }
            } else {
                let total: f64 = line.iter().map(|&k| s[k] * g[k]).sum();
                for &k in &line {
                    out[k] = s[k] * (g[k] + total);
                }
            }
        }
        out
    }
}

/// `flat` cut into consecutive parts of the given `sizes` (the inputs' entries, one list per
/// input).
pub(crate) fn split_by<T: Clone>(flat: &[T], sizes: &[usize]) -> Vec<Vec<T>> {
    let mut parts = Vec::with_capacity(sizes.len());
    let mut rest = flat;
    for &n in sizes {
        let (part, tail) = rest.split_at(n);
        parts.push(part.to_vec());
        rest = tail;
    }
    parts
}

/// `Σ weights ⊙ out` on the scalar tape, in order.
pub(crate) fn weighted_sum(
    out: &[adroit_reverse::Var<f64>],
    weights: &[f64],
) -> adroit_reverse::Var<f64> {
    out.iter()
        .zip(weights)
        .fold(adroit_reverse::Var::constant(0.0), |t, (&y, &w)| t + y * w)
}

/// The result as a `DMatrix<f64>` (for comparisons), from column-major `data`.
pub(crate) fn to_matrix(shape: (usize, usize), data: Vec<f64>) -> DMatrix<f64> {
    DMatrix::from_vec(shape.0, shape.1, data)
}

impl MatExpr {
    /// The largest magnitude over every subexpression's result, `None` if one is not finite
    /// (each subexpression evaluated afresh: depth × cost at most).
    fn largest_intermediate(&self, x: &[Grid<f64>]) -> Option<f64> {
        let (largest, all_finite) = self.magnitudes(x);
        all_finite.then_some(largest)
    }

    /// `(the largest finite magnitude over every subexpression's result, whether all are
    /// finite)`.
    fn magnitudes(&self, x: &[Grid<f64>]) -> (f64, bool) {
        let (mut largest, mut all_finite) = (0.0_f64, true);
        for operand in self.operands() {
            let (m, finite) = operand.magnitudes(x);
            largest = largest.max(m);
            all_finite &= finite;
        }
        let own = match self {
            MatExpr::Input(k) => x[*k].data.clone(),
            // The product inside the node too: a bias can cancel a large one.
            MatExpr::MatMulAdd(a, b, _) => {
                let product = MatExpr::MatMul(a.clone(), b.clone()).eval_scalar(x).data;
                product
                    .into_iter()
                    .chain(self.eval_scalar(x).data)
                    .collect()
            }
            _ => self.eval_scalar(x).data,
        };
        for v in own {
            if v.is_finite() {
                largest = largest.max(v.abs());
            } else {
                all_finite = false;
            }
        }
        (largest, all_finite)
    }

    fn eval_scalar<S: Float>(&self, x: &[Grid<S>]) -> Grid<S> {
        self.eval_hooked(x, &mut |_, g| g)
    }

    /// [`Self::eval_scalar`] with `hook` applied to every node's result, operands first
    /// (inputs included), as the result's consumers see it.
    fn eval_hooked<S: Float>(
        &self,
        x: &[Grid<S>],
        hook: &mut dyn FnMut(&MatExpr, Grid<S>) -> Grid<S>,
    ) -> Grid<S> {
        let out = self.eval_node(x, hook);
        hook(self, out)
    }

    /// This node's result from its operands' (each evaluated with `hook`).
    fn eval_node<S: Float>(
        &self,
        x: &[Grid<S>],
        hook: &mut dyn FnMut(&MatExpr, Grid<S>) -> Grid<S>,
    ) -> Grid<S> {
        let mut ev = |e: &MatExpr| e.eval_hooked(x, &mut *hook);
        match self {
            MatExpr::Input(k) => x[*k].clone(),
            MatExpr::Unary(op, a) => {
                let a = ev(a);
                match op {
                    MatUnary::Tanh => a.map(S::tanh),
                    MatUnary::Sin => a.map(S::sin),
                    MatUnary::Abs => a.map(S::abs),
                    MatUnary::Exp => a.map(S::exp),
                    MatUnary::Ln => a.map(|v| (v.powi(2) + lit(0.5)).ln()),
                    MatUnary::Sqrt => a.map(|v| (v.powi(2) + S::one()).sqrt()),
                    MatUnary::Square => a.map(|v| v.powi(2)),
                    MatUnary::Neg => a.map(|v| -v),
                    MatUnary::Sigmoid | MatUnary::Logistic => {
                        a.map(|v| (S::one() + (-v).exp()).recip())
                    }
                    // Stable forms (no entry overflows where the matrix tape's does not),
                    // chosen by branch rather than by `max` and `|x|`, whose kinks at 0 would
                    // lose the second derivative there.
                    MatUnary::Softplus => a.map(softplus),
                    MatUnary::LogSigmoid => a.map(|v| -softplus(-v)),
                    MatUnary::Ln1p => a.map(|v| v.powi(2).ln_1p()),
                    MatUnary::Cos => a.map(S::cos),
                    MatUnary::Powf => a.map(|v| (v.powi(2) + lit(0.5)).powf(lit(-1.5))),
                    MatUnary::Clamp => a.map(|v| v.clamp(lit(-0.5), lit(0.5))),
                }
            }
            MatExpr::Affine { scale, shift, x: a } => ev(a).map(|v| v * lit(*scale) + lit(*shift)),
            MatExpr::Binary(op, a, b) => {
                let (a, b) = (ev(a), ev(b));
                let f = |u: S, w: S| match op {
                    MatBinary::Add => u + w,
                    MatBinary::Sub => u - w,
                    MatBinary::Mul => u * w,
                    MatBinary::Div => u / (w.powi(2) + S::one()),
                    MatBinary::Max => u.max(w),
                };
                let (rows, cols) = (a.rows.max(b.rows), a.cols.max(b.cols));
                Grid::from_fn(rows, cols, |i, j| {
                    f(a.broadcast_at(i, j), b.broadcast_at(i, j))
                })
            }
            MatExpr::ZipMap(a, b, c) => {
                let (a, b, c) = (ev(a), ev(b), ev(c));
                let rows = a.rows.max(b.rows).max(c.rows);
                let cols = a.cols.max(b.cols).max(c.cols);
                Grid::from_fn(rows, cols, |i, j| {
                    fused(
                        a.broadcast_at(i, j),
                        b.broadcast_at(i, j),
                        c.broadcast_at(i, j),
                    )
                })
            }
            MatExpr::MatMul(a, b) => {
                let (a, b) = (ev(a), ev(b));
                let shape = (a.rows, a.cols, b.cols);
                Grid::from_fn(a.rows, b.cols, |i, j| {
                    let place = sum_order::product_place(i, j, shape);
                    dot(place, a.cols, |k| (a.at(i, k), b.at(k, j)))
                })
            }
            MatExpr::MatMulAdd(a, b, c) => {
                let (a, b, c) = (ev(a), ev(b), ev(c));
                Grid::from_fn(a.rows, b.cols, |i, j| {
                    let place = sum_order::product_place(i, j, (a.rows, a.cols, b.cols));
                    let product = dot(place, a.cols, |k| (a.at(i, k), b.at(k, j)));
                    product + c.broadcast_at(i, j)
                })
            }
            MatExpr::Transpose(a) => {
                let a = ev(a);
                Grid::from_fn(a.cols, a.rows, |i, j| a.at(j, i))
            }
            MatExpr::Reduce(reduce, a) => {
                let a = ev(a);
                let (rows, cols) = reduced(*reduce, (a.rows, a.cols));
                // In the matrix tape's order, so that both round (and overflow) alike: a
                // contiguous line (a column, or the whole matrix) in interleaved running sums,
                // a row in order.
                let total = |line: &[(usize, usize)], along: Along| {
                    let terms: Vec<S> = line.iter().map(|&(i, j)| a.at(i, j)).collect();
                    match along {
                        Along::Rows => sum_order::sum(&terms, interleaved_sum),
                        Along::Cols => sum_order::sum(&terms, sum_in_order),
                    }
                };
                let count = |n: usize| lit::<S>(n as f64);
                let line_values = |line: &[(usize, usize)]| -> Vec<S> {
                    line.iter().map(|&(i, j)| a.at(i, j)).collect()
                };
                let all: Vec<(usize, usize)> = a.lines(Along::Rows).concat();
                let values: Vec<S> = match *reduce {
                    MatReduce::Sum => vec![total(&all, Along::Rows)],
                    MatReduce::Mean => vec![total(&all, Along::Rows) / count(all.len())],
                    MatReduce::SumAlong(along) => {
                        a.lines(along).iter().map(|l| total(l, along)).collect()
                    }
                    MatReduce::MeanAlong(along) => a
                        .lines(along)
                        .iter()
                        .map(|l| total(l, along) / count(l.len()))
                        .collect(),
                    MatReduce::LogSumExp(along) => a
                        .lines(along)
                        .iter()
                        .map(|l| {
                            let line: Vec<S> = l.iter().map(|&(i, j)| a.at(i, j)).collect();
                            let (_, lse) = log_sum_exp(&line);
                            shift(&line) + lse
                        })
                        .collect(),
                    MatReduce::Max => vec![extremum(&line_values(&all), true)],
                    MatReduce::Min => vec![extremum(&line_values(&all), false)],
                    MatReduce::MaxAlong(along) => a
                        .lines(along)
                        .iter()
                        .map(|l| extremum(&line_values(l), true))
                        .collect(),
                    MatReduce::MinAlong(along) => a
                        .lines(along)
                        .iter()
                        .map(|l| extremum(&line_values(l), false))
                        .collect(),
                };
                // Along columns the lines are rows: one value per row, a column vector.
                Grid {
                    rows,
                    cols,
                    data: values,
                }
            }
            MatExpr::Softmax(along, a) | MatExpr::LogSoftmax(along, a) => {
                let a = ev(a);
                let log = matches!(self, MatExpr::LogSoftmax(..));
                let mut out = a.clone();
                for line in a.lines(*along) {
                    let values: Vec<S> = line.iter().map(|&(i, j)| a.at(i, j)).collect();
                    let (shifted, lse) = log_sum_exp(&values);
                    for (&(i, j), v) in line.iter().zip(shifted) {
                        out.data[j * a.rows + i] = if log { v - lse } else { (v - lse).exp() };
                    }
                }
                out
            }
            MatExpr::Reshape(r, c, a) => Grid {
                rows: *r,
                cols: *c,
                data: ev(a).data,
            },
            MatExpr::Block { start, shape, x: a } => {
                let a = ev(a);
                Grid::from_fn(shape.0, shape.1, |i, j| a.at(start.0 + i, start.1 + j))
            }
            MatExpr::StridedRows {
                first,
                count,
                stride,
                x: a,
            } => {
                let a = ev(a);
                Grid::from_fn(*count, a.cols, |i, j| a.at(first + i * stride, j))
            }
            MatExpr::TakeAlong { along, indices, x } => {
                let a = ev(x);
                match along {
                    Along::Rows => Grid::from_fn(1, a.cols, |_, j| a.at(indices[j], j)),
                    Along::Cols => Grid::from_fn(a.rows, 1, |i, _| a.at(i, indices[i])),
                }
            }
            MatExpr::TakeRowsPadded { indices, fill, x } => {
                let a = ev(x);
                let fill = S::from(*fill).unwrap_or_else(S::zero);
                Grid::from_fn(indices.len(), a.cols, |i, j| {
                    indices[i].map_or(fill, |source| a.at(source, j))
                })
            }
            MatExpr::ScatterAddRows { indices, rows, x } => {
                let a = ev(x);
                Grid::from_fn(*rows, a.cols, |i, j| {
                    (0..a.rows)
                        .filter(|&k| indices[k] == Some(i))
                        .fold(S::zero(), |sum, k| sum + a.at(k, j))
                })
            }
            MatExpr::Identity(n) => Grid::identity(*n),
            MatExpr::Solve(a, b) => linear_algebra::solve(&ev(a), &ev(b)),
            MatExpr::Inverse(a) => linear_algebra::inverse(&ev(a)),
            MatExpr::LogAbsDet(a) => linear_algebra::logabsdet(&ev(a)),
            MatExpr::Det(a) => linear_algebra::det(&ev(a)),
            MatExpr::Cholesky(a) => linear_algebra::cholesky(&ev(a)),
            MatExpr::TriangularSolve {
                lower,
                transposed,
                t,
                b,
            } => linear_algebra::triangular_solve(&ev(t), &ev(b), *lower, *transposed),
            MatExpr::Cat { vertical, a, b } => {
                let (a, b) = (ev(a), ev(b));
                if *vertical {
                    Grid::from_fn(a.rows + b.rows, a.cols, |i, j| {
                        if i < a.rows {
                            a.at(i, j)
                        } else {
                            b.at(i - a.rows, j)
                        }
                    })
                } else {
                    let mut data = a.data;
                    data.extend(b.data);
                    Grid {
                        rows: a.rows,
                        cols: a.cols + b.cols,
                        data,
                    }
                }
            }
        }
    }
}
