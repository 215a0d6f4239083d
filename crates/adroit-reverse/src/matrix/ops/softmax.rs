//! `logsumexp`, `softmax` and `logsoftmax` along a dimension, numerically stable (the maximum
//! is subtracted before exponentiating, so logits of ±1000 give no overflow or NaN).

use super::reduce::{broadcast, sum_along, wide_total};
use super::{Along, times_entrywise};
use crate::matrix::pool;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// `ln(1 + r)` for a sum `r ≥ 0` accumulated in the wide type `T::Wide`.
///
/// For `f32` and its duals the log is taken in `f64` and rounded once: `ln(1 + r)` from
/// `r ≥ 2⁻²⁰` on (rounding `1 + r` in `f64` costs at most `2⁻⁵³` absolute, under `2⁻³²` of the
/// log there), `ln_1p(r)` below — so the result is within about half an `f32` ulp of the exact
/// log of the sum. (This replaced `f32`'s own `ln_1p`, glibc's `log1pf`, which took 6.6 % of a
/// 4-16-3 MLP's training step in `perf`.) For `f64` and its duals, to a few ulps relative:
/// `ln_1p(r)` below ½, where rounding `1 + r` would lose `r`'s digits; from ½ on `ln(1 + r)`
/// (the log is then above 0.4, so rounding `1 + r` costs under 2ε relative), which is cheaper.
fn log_one_plus<T: MatScalar>(r: T::Wide) -> T {
    let one = <T::Wide as num_traits::One>::one();
    if T::WIDENS {
        let tiny = <T::Wide as num_traits::NumCast>::from(2f64.powi(-20)).unwrap_or(one);
        T::narrow(if r < tiny { r.ln_1p() } else { (one + r).ln() })
    } else {
        let r = T::narrow(r);
        let half = T::one() / (T::one() + T::one());
        if r < half {
            Float::ln_1p(r)
        } else {
            Float::ln(T::one() + r)
        }
    }
}

/// Lines of fewer entries than this are exponentiated together (one kernel call for the
/// whole matrix), longer ones one by one: two full vectors of the `f32` kernel.
const SHORT_LINE: usize = 16;

/// A line's largest finite entry (the first of ties; `usize::MAX` if none) and its shift: that
/// entry, or 0 for a line without one (an all −∞ or empty line keeps lse = −∞ rather than
/// NaN). Finite only: a `+∞` beside large finite entries must not make their `exp(x − m)`
/// overflow (found by the matrix_program fuzz target: softmax gave NaN for an entry of 1000
/// beside +∞, 0 for an entry of 1).
fn shift_of<T: MatScalar>(line: &[T]) -> (usize, T) {
    let (mut largest, mut max) = (usize::MAX, T::neg_infinity());
    for (i, &v) in line.iter().enumerate() {
        if v > max && v.is_finite() {
            (largest, max) = (i, v);
        }
    }
    (largest, if max.is_finite() { max } else { T::zero() })
}

/// Softmax of every column (`Along::Rows`) or row (`Along::Cols`), and its log-sum-exp in two
/// parts: the shift `m`, the line's largest finite entry (0 for a line without one), and
/// `ln Σ exp(x − m)`. A line holding `+∞` thus has `lse = +∞`, softmax 0 at its finite entries
/// (their limit, however large they are) and NaN at the infinite ones. Kept apart so that
/// `logsoftmax` can form `(x − m) − ln Σ exp(x − m)`, whose rounding is at the result's scale,
/// not `x`'s (as NNlib, JAX and PyTorch). The largest entry's term is exactly 1, so the sum is
/// `1 + r` (r the other terms) and its log is taken as `ln_1p(r)` for small r: a saturated line's largest
/// log-probability, `−ln(1 + r) ≈ −r`, keeps full relative precision (through `ln(1 + r)` it
/// is 0 once r < ε/2; PyTorch and JAX give 0 there).
fn softmax_lse<T: MatScalar>(x: &DMatrix<T>, along: Along) -> (DMatrix<T>, DMatrix<T>, DMatrix<T>) {
    match along {
        Along::Rows => {
            let mut soft = pool::copy(x);
            let mut shifts = DMatrix::zeros(1, x.ncols());
            // An empty line has lse = ln 0 = −∞ (and no softmax entries).
            let mut log_totals = DMatrix::from_element(1, x.ncols(), T::neg_infinity());
            let rows = x.nrows().max(1);
            // Lines shorter than this take `exp` over the whole matrix in one call (below).
            let short = x.nrows() < SHORT_LINE;
            if short {
                // Each line's shift (see `shift_of`) subtracted in place, then `exp` over the
                // whole matrix in one call: for `f32` a vectorised kernel, whose vectors a
                // line of a few classes would not fill (16 calls on lines of 3 took 7 % of a
                // 4-16-3 MLP's training step; `(x − m) − 0` is `x − m`, bit for bit).
                let columns = soft.as_mut_slice().chunks_exact_mut(rows);
                for (col, s) in columns.zip(shifts.as_mut_slice()) {
                    let (_, shift) = shift_of(col);
                    for v in col.iter_mut() {
                        *v -= shift;
                    }
                    *s = shift;
                }
                T::exp_shifted_in_place(soft.as_mut_slice(), T::zero());
            }
            let columns = soft.as_mut_slice().chunks_exact_mut(rows);
            let lines = shifts
                .as_mut_slice()
                .iter_mut()
                .zip(log_totals.as_mut_slice());
            for ((col, line), (s, l)) in columns.zip(x.as_slice().chunks_exact(rows)).zip(lines) {
                let largest = if short {
                    // The largest finite entry (the first of ties) is where x − m is 0.
                    line.iter()
                        .position(|&v| v.is_finite() && v == *s)
                        .unwrap_or(usize::MAX)
                } else {
                    // One pass less for a long line: its shift, then `exp` over it alone (a
                    // 256-class log-softmax's gradient took 1.3× as long through the whole
                    // matrix's passes).
                    let (largest, shift) = shift_of(col);
                    T::exp_shifted_in_place(col, shift);
                    *s = shift;
                    largest
                };
                // The terms are summed in `f64` (each part of a dual) as `sum` sums: an `f32`
                // running sum lost ~1e-4 relative over 10⁶ near-equal logits (a review).
                let (total, log_total) = if largest < col.len() {
                    // Σ exp(x − m) without the largest entry's exact 1 (a 0 while summing).
                    col[largest] = T::zero();
                    let others = wide_total(col);
                    col[largest] = T::one();
                    let one = <T::Wide as num_traits::One>::one();
                    (T::narrow(one + others), log_one_plus::<T>(others))
                } else {
                    let total = T::narrow(wide_total(col));
                    (total, Float::ln(total))
                };
                if total == T::zero() {
                    // A line of −∞ only: its softmax, 0/0, is undefined in every part (the
                    // division would leave a dual's tangents 0, and second derivatives 0).
                    col.fill(T::undefined());
                } else {
                    for v in col.iter_mut() {
                        *v /= total;
                    }
                }
                *l = log_total;
            }
            (soft, shifts, log_totals)
        }
        Along::Cols => {
            let (soft, shifts, log_totals) = softmax_lse(&x.transpose(), Along::Rows);
            (soft.transpose(), shifts.transpose(), log_totals.transpose())
        }
    }
}

/// One line of a matrix along a dimension: its entries' storage indices `start + i·stride`,
/// `i < length` (column-major).
///
/// The pullbacks of `softmax` and `logsoftmax` both hold `1 − s_m` at a line's top entry `m`
/// (its largest softmax value, the first of ties), which cancels once the line saturates
/// (`s_m` rounds to 1: at logits [20, −20, 0] in `f32` the log-probability's derivative there
/// came out 0, not −2.1e−9; 3e−8 relative error in `f64`). There the entry is formed again
/// with `Σ_{j≠m} s_j` in place of `1 − s_m` ([`Line::top`], [`logsoftmax_top`],
/// [`softmax_top`]).
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    stride: usize,
    length: usize,
}

impl Line {
    /// The lines of a `shape` matrix along `along`.
    fn all(shape: (usize, usize), along: Along) -> impl Iterator<Item = Line> {
        let (rows, cols) = shape;
        // (lines, length, first index of line k = k·step, stride within a line)
        let (lines, length, step, stride) = match along {
            Along::Rows => (cols, rows, rows, 1),
            Along::Cols => (rows, cols, 1, rows),
        };
        (0..lines).map(move |k| Line {
            start: k * step,
            stride,
            length,
        })
    }

    /// The storage indices of the line's entries.
    fn indices(self) -> impl Iterator<Item = usize> {
        (0..self.length).map(move |i| self.start + i * self.stride)
    }

    /// The line's top entry `m` where the precise form applies: `None` for an empty line, or
    /// one whose softmax `s` has a NaN or whose cotangents `g` are not all finite (there the
    /// plain formula's conventions for infinities stand).
    #[inline]
    fn top<T: MatScalar>(self, s: &[T], g: &[T]) -> Option<usize> {
        let mut m = self.start;
        for k in self.indices() {
            if Float::is_nan(s[k]) || !Float::is_finite(g[k]) {
                return None;
            }
            if s[k] > s[m] {
                m = k;
            }
        }
        (self.length > 0).then_some(m)
    }
}

/// `logsoftmax`'s pullback at a line's top entry `m`: `g_m·Σ_{j≠m} s_j − s_m·Σ_{j≠m} g_j`
/// (`g_m − s_m·Σ g` in exact arithmetic).
#[inline]
fn logsoftmax_top<T: MatScalar>(line: Line, s: &[T], g: &[T], m: usize) -> T {
    let zero = <T::Wide as num_traits::Zero>::zero();
    let (rest_s, rest_g) = line
        .indices()
        .filter(|&j| j != m)
        .fold((zero, zero), |(rs, rg), j| {
            (rs + s[j].widen(), rg + g[j].widen())
        });
    top_of_logsoftmax(rest_s, rest_g, s[m], g[m])
}

/// `g_m·Σ_{j≠m} s_j − s_m·Σ_{j≠m} g_j` from the two sums over the other entries (in
/// `T::Wide`), for [`logsoftmax_top`] and [`ColumnSums`].
#[inline]
fn top_of_logsoftmax<T: MatScalar>(rest_s: T::Wide, rest_g: T::Wide, s_m: T, g_m: T) -> T {
    T::tape_product(T::narrow(rest_s), g_m) - T::tape_product(s_m, T::narrow(rest_g))
}

/// `softmax`'s pullback at a line's top entry `m`: `s_m·Σ_{j≠m} s_j·(g_m − g_j)` (`s_m·(g_m −
/// Σ s·g)` in exact arithmetic).
fn softmax_top<T: MatScalar>(line: Line, s: &[T], g: &[T], m: usize) -> T {
    let others = line
        .indices()
        .filter(|&j| j != m)
        .fold(<T::Wide as num_traits::Zero>::zero(), |t, j| {
            t + T::tape_product(s[j], g[m] - g[j]).widen()
        });
    T::tape_product(s[m], T::narrow(others))
}

/// One pass over a column's softmax `s` and cotangents `g` for `logsoftmax`'s pullback: `Σ g`,
/// and for its top entry `m` (as [`Line::top`]) the sums over the other entries, kept apart
/// while the pass runs (an entry is added to them when a larger one replaces it as the top).
/// The sums are accumulated in `T::Wide` (`f64` for `f32`), as the forward pass's: in `f32`
/// the top entry's gradient lost up to 1.7e-4 relative over 10⁶ classes (a subagent's hunt).
struct ColumnSums<T: MatScalar> {
    total: T::Wide,
    m: usize,
    g_m: T,
    rest_s: T::Wide,
    rest_g: T::Wide,
    /// A NaN softmax entry or a non-finite cotangent (or their sum): the plain formula, with
    /// the products' `0·∞ = 0` convention, stands.
    plain: bool,
}

impl<T: MatScalar> ColumnSums<T> {
    #[inline]
    fn of(s: &[T], g: &[T]) -> Self {
        let zero = <T::Wide as num_traits::Zero>::zero();
        let mut sums = Self {
            total: zero,
            m: 0,
            g_m: g.first().copied().unwrap_or_else(T::zero),
            rest_s: zero,
            rest_g: zero,
            plain: s.is_empty(),
        };
        for (k, (&p, &v)) in s.iter().zip(g).enumerate() {
            sums.total = sums.total + v.widen();
            sums.plain |= Float::is_nan(p) || !Float::is_finite(v);
            if k > 0 {
                let (q, w) = if p > s[sums.m] {
                    let old = (s[sums.m], sums.g_m);
                    (sums.m, sums.g_m) = (k, v);
                    old
                } else {
                    (p, v)
                };
                sums.rest_s = sums.rest_s + q.widen();
                sums.rest_g = sums.rest_g + w.widen();
            }
        }
        sums
    }

    /// `Σ g`, rounded to `T`.
    #[inline]
    fn total(&self) -> T {
        T::narrow(self.total)
    }

    /// The top entry's index and its value `g_m·Σ_{j≠m} s_j − s_m·Σ_{j≠m} g_j` (`g` as it was
    /// when the sums were taken), unless the plain formula stands; `total` is
    /// [`total`](Self::total).
    #[inline]
    fn top(&self, s: &[T], total: T) -> Option<(usize, T)> {
        if self.plain || !Float::is_finite(total) {
            return None;
        }
        let value = top_of_logsoftmax(self.rest_s, self.rest_g, s[self.m], self.g_m);
        Some((self.m, value))
    }
}

/// Each line's precise top entry (`Line::top`), as (storage index, value) from `value`.
fn top_entries<T: MatScalar>(
    s: &DMatrix<T>,
    g: &DMatrix<T>,
    along: Along,
    value: impl Fn(Line, &[T], &[T], usize) -> T,
) -> Vec<(usize, T)> {
    let (s, g_all) = (s.as_slice(), g.as_slice());
    Line::all(g.shape(), along)
        .filter_map(|line| {
            let m = line.top(s, g_all)?;
            Some((m, value(line, s, g_all, m)))
        })
        .collect()
}

/// Backward of `logsumexp`: `∂x = softmax(x) ⊙ G` (G repeated along the dimension). Saves the
/// softmax.
struct LogSumExp<T> {
    a: u32,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for LogSumExp<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate(
            self.a,
            times_entrywise(&self.softmax, broadcast(&g, self.softmax.shape())),
        );
    }

    fn release(self: Box<Self>) {
        pool::recycle(self.softmax);
    }
}

/// Backward of `softmax`: `∂x = s ⊙ (G − Σ_along(G ⊙ s))`. Saves the output `s`.
struct Softmax<T> {
    a: u32,
    along: Along,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for Softmax<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let tops = top_entries(&self.softmax, &g, self.along, softmax_top);
        let inner = sum_along(&times_entrywise(&self.softmax, pool::copy(&g)), self.along);
        let centred = &g - broadcast(&inner, g.shape());
        let mut out = times_entrywise(&self.softmax, centred);
        for (i, v) in tops {
            out[i] = v;
        }
        grads.accumulate(self.a, out);
    }

    fn release(self: Box<Self>) {
        pool::recycle(self.softmax);
    }
}

/// Backward of `logsoftmax`: `∂x = G − softmax(x) ⊙ Σ_along G`. Saves the softmax.
struct LogSoftmax<T> {
    a: u32,
    along: Along,
    softmax: DMatrix<T>,
}

impl<T: MatScalar> Backward<T> for LogSoftmax<T> {
    fn backward(&self, mut g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        match self.along {
            Along::Rows => {
                // Column by column, in `g`'s buffer: g − s·Σ g, the top entry formed as
                // `logsoftmax_top` does, from sums gathered in the same pass as Σ g.
                let rows = g.nrows().max(1);
                let columns = g.as_mut_slice().chunks_exact_mut(rows);
                for (column, s) in columns.zip(self.softmax.as_slice().chunks_exact(rows)) {
                    let sums = ColumnSums::of(s, column);
                    let total = sums.total();
                    match sums.top(s, total) {
                        // Every factor finite: plain products are the convention's.
                        Some((m, top)) => {
                            column.iter_mut().zip(s).for_each(|(v, &p)| *v -= p * total);
                            column[m] = top;
                        }
                        None => column
                            .iter_mut()
                            .zip(s)
                            .for_each(|(v, &p)| *v -= T::tape_product(p, total)),
                    }
                }
                grads.accumulate(self.a, g);
            }
            Along::Cols => {
                let tops = top_entries(&self.softmax, &g, self.along, logsoftmax_top);
                let total = broadcast(&sum_along(&g, self.along), g.shape());
                let mut out = g - times_entrywise(&self.softmax, total);
                for (i, v) in tops {
                    out[i] = v;
                }
                grads.accumulate(self.a, out);
            }
        }
    }

    fn release(self: Box<Self>) {
        pool::recycle(self.softmax);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// `log Σ exp(x)` along a dimension: `1 × cols` for [`Along::Rows`], `rows × 1` for
    /// [`Along::Cols`]. Stable for large logits; `−∞` for a line of `−∞` (gradient and second
    /// derivatives NaN), `+∞` for a line holding `+∞` (the gradient is then NaN at the infinite
    /// entries and 0 at the others); a line whose cotangent is zero contributes zero, whatever it
    /// holds.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // two equal logits far beyond exp's range: 1000 + ln 2, gradient softmax = (½, ½)
    /// let x = dmatrix![1000.0; 1000.0];
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].logsumexp(Along::Rows), &[x]);
    /// assert_eq!(v, 1000.0 + 2.0_f64.ln());
    /// assert_eq!(g[0], dmatrix![0.5; 0.5]);
    /// ```
    #[track_caller]
    pub fn logsumexp(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, shifts, log_totals) = softmax_lse(x, along);
            (shifts + log_totals, Box::new(LogSumExp { a, softmax }))
        })
    }

    /// `exp(xᵢ) / Σⱼ exp(xⱼ)` along a dimension (each column sums to 1 for [`Along::Rows`]). Stable
    /// for large logits. In a line holding `+∞` the finite entries get 0 (their limit) and the
    /// infinite ones NaN (PyTorch and JAX give NaN for the whole line); a line of only `−∞` is NaN
    /// (0/0), as in PyTorch, and so are its second derivatives wherever its gradient is. The
    /// pullback `s ⊙ (G − Σ(G ⊙ s))` follows the `0·∞ = 0` convention, so along a line holding `+∞`
    /// the finite entries' gradient is 0 and the infinite entries' is NaN if the cotangent of an
    /// infinite entry is not zero, else 0; along a line of only `−∞` the gradient is NaN throughout
    /// if any cotangent of the line is not zero, else 0. A line the loss does not read (all its
    /// cotangents zero) contributes zero (PyTorch gives NaN there). At a line's top entry `m` the
    /// pullback is formed as `s_m·Σ_{j≠m} s_j·(G_m − G_j)`, without `1 − s_m`, so it keeps its
    /// precision once the line saturates (PyTorch and JAX lose it: 0 in `f32` at logits
    /// [20, −20, 0]).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let x = dmatrix![1.0_f64, -2.0; 3.0, 0.5];
    /// let (s, pb) = matrix::pullback(|m| m[0].softmax(Along::Rows), &[x]);
    /// assert!(s.row_sum().iter().all(|t| (t - 1.0).abs() < 1e-15)); // each column sums to 1
    /// // ∂/∂x of the weighted sum Σ wᵢⱼsᵢⱼ with w = 1 in row 0: (s₀s₁, −s₀s₁) per column
    /// let g = pb.call(&dmatrix![1.0, 1.0; 0.0, 0.0]);
    /// let p = s.row(0).component_mul(&s.row(1));
    /// assert!((g[0].row(0) - &p).amax() < 1e-15 && (g[0].row(1) + &p).amax() < 1e-15);
    /// ```
    #[track_caller]
    pub fn softmax(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, _, _) = softmax_lse(x, along);
            (
                pool::copy(&softmax),
                Box::new(Softmax { a, along, softmax }),
            )
        })
    }

    /// `xᵢ − log Σⱼ exp(xⱼ)` along a dimension; stable (finite for logits of ±1000). In a line
    /// holding `+∞` the finite entries get `−∞` and the infinite ones NaN; a line of only `−∞` is
    /// NaN, and so are its second derivatives wherever its gradient is. The pullback `G − s ⊙ ΣG`
    /// (`s` the softmax) follows the `0·∞ = 0` convention, so along such a line an entry whose
    /// softmax is 0 (a finite entry beside `+∞`) gets its own cotangent, and an entry whose softmax
    /// is NaN (an infinite one, or any entry of a line of only `−∞`) gets NaN if the line's
    /// cotangents do not sum to zero, else its own cotangent. A line the loss does not read
    /// contributes zero. At a line's top entry `m` the pullback is formed as `G_m·Σ_{j≠m} s_j −
    /// s_m·Σ_{j≠m} G_j`, without `1 − s_m`, so it keeps its precision once the line saturates
    /// (PyTorch and JAX lose it: 0 instead of −2.1e−9 in `f32` at logits [20, −20, 0]).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // two equal logits far beyond exp's range: log-probabilities ln ½
    /// let x = dmatrix![1000.0; 1000.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), &[x]);
    /// assert_eq!(y, dmatrix![-(2.0_f64.ln()); -(2.0_f64.ln())]);
    /// // ∂/∂x of the log-probability of class 0 is e₀ − softmax(x)
    /// assert_eq!(pb.call(&dmatrix![1.0; 0.0])[0], dmatrix![0.5; -0.5]);
    /// ```
    #[track_caller]
    pub fn logsoftmax(self, along: Along) -> Self {
        let a = self.index();
        self.unary_op(|x| {
            let (softmax, shifts, log_totals) = softmax_lse(x, along);
            // (x − m) − ln Σ exp(x − m): both subtractions rounded at the result's scale.
            let mut out = pool::copy(x);
            match along {
                Along::Rows => {
                    let lines = shifts.iter().zip(log_totals.iter());
                    for (mut column, (&m, &l)) in out.column_iter_mut().zip(lines) {
                        column.apply(|v| *v = (*v - m) - l);
                    }
                }
                Along::Cols => {
                    out -= broadcast(&shifts, x.shape());
                    out -= broadcast(&log_totals, x.shape());
                }
            }
            (out, Box::new(LogSoftmax { a, along, softmax }))
        })
    }
}
