//! Sums and means, over all entries or along a dimension.

use super::{Along, Partial};
use crate::matrix::pool;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Accumulators of [`wide_total`]: entry `i` goes to accumulator `i mod LANES`.
const LANES: usize = 8;

/// `Σ values`, accumulated in `f64` (each part of a dual; exact widening for `f32`: one `f32` accumulator loses
/// `~n·ε` — the mean of 10⁶ entries of 0.1 came out 0.10096, and a sum of ones stopped at
/// 2²⁴) in [`LANES`] interleaved running sums, combined pairwise at the end, then the
/// remainder in order. The interleaving lets the additions vectorise (one running sum is bound
/// by the latency of an addition: ~1 ns per entry) and divides the worst-case rounding by
/// about eight (it still grows with `n`, as in-order summation's does). The sum starts from
/// `+0`.
pub(super) fn wide_total<T: MatScalar>(values: &[T]) -> T::Wide {
    let blocks = values.chunks_exact(LANES);
    let tail = blocks.remainder();
    sum_lanes(
        blocks.map(|b| core::array::from_fn(|k| widen(b[k]))),
        tail.iter().map(|&v| widen(v)),
    )
}

/// `Σ values ⊙ weights` (equal lengths), each product formed in `T`, then summed as
/// [`wide_total`] sums.
fn weighted_total<T: MatScalar>(values: &[T], weights: &[T]) -> T {
    debug_assert_eq!(values.len(), weights.len());
    let (blocks, weight_blocks) = (values.chunks_exact(LANES), weights.chunks_exact(LANES));
    let tail = blocks.remainder().iter().zip(weight_blocks.remainder());
    narrow(sum_lanes(
        blocks
            .zip(weight_blocks)
            .map(|(b, w)| core::array::from_fn(|k| widen(b[k] * w[k]))),
        tail.map(|(&v, &w)| widen(v * w)),
    ))
}

/// The interleaved running sums of [`wide_total`].
#[inline(always)]
fn sum_lanes<W: Float>(
    blocks: impl Iterator<Item = [W; LANES]>,
    tail: impl Iterator<Item = W>,
) -> W {
    let mut lanes = [W::zero(); LANES];
    for block in blocks {
        for (sum, v) in lanes.iter_mut().zip(block) {
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
    tail.fold(lanes[0], |sum, v| sum + v)
}

/// `v` in `f64` (each part of a dual), exactly.
#[inline(always)]
fn widen<T: MatScalar>(v: T) -> T::Wide {
    v.widen()
}

/// A sum in `f64` back in `T` (rounded once for `f32`).
#[inline(always)]
fn narrow<T: MatScalar>(sum: T::Wide) -> T {
    T::narrow(sum)
}

/// `count` as a divisor of a sum in `f64`.
fn wide_count<T: MatScalar>(count: usize) -> T::Wide {
    <T::Wide as num_traits::NumCast>::from(count).unwrap_or_else(T::Wide::nan)
}

/// The sums of `m` along `along`: `1 × cols` for [`Along::Rows`], `rows × 1` for
/// [`Along::Cols`], accumulated in `f64` like [`wide_total`]: along rows (a column, contiguous) in
/// its interleaved running sums, along columns (a row) in order.
pub(crate) fn sum_along<T: MatScalar>(m: &DMatrix<T>, along: Along) -> DMatrix<T> {
    divided_sums_along(m, along, 1)
}

/// [`sum_along`] with each sum divided by `count` before it is rounded to `T` (means: the
/// correctly rounded quotient of the `f64` sum, as NumPy's `sum / n`, not `sum · (1/n)`).
fn divided_sums_along<T: MatScalar>(m: &DMatrix<T>, along: Along, count: usize) -> DMatrix<T> {
    let divisor = wide_count::<T>(count);
    match along {
        Along::Rows => {
            let rows = m.nrows();
            DMatrix::from_fn(1, m.ncols(), |_, j| {
                narrow(wide_total(&m.as_slice()[j * rows..(j + 1) * rows]) / divisor)
            })
        }
        Along::Cols if T::WIDENS => {
            // Column by column (the storage order), into f64 accumulators.
            let mut sums = vec![<T::Wide as num_traits::Zero>::zero(); m.nrows()];
            if m.nrows() > 0 {
                for column in m.as_slice().chunks_exact(m.nrows()) {
                    sums.iter_mut()
                        .zip(column)
                        .for_each(|(t, &v)| *t = *t + widen(v));
                }
            }
            DMatrix::from_iterator(m.nrows(), 1, sums.into_iter().map(|v| narrow(v / divisor)))
        }
        Along::Cols => {
            // Column by column (the storage order), so the additions vectorise.
            let mut out = DMatrix::zeros(m.nrows(), 1);
            if m.nrows() > 0 {
                let total = out.as_mut_slice();
                for column in m.as_slice().chunks_exact(m.nrows()) {
                    total.iter_mut().zip(column).for_each(|(t, &v)| *t += v);
                }
            }
            if count != 1 {
                // `T` is `f64` (or its dual) here: the sums are exact inputs to one division
                // each.
                out /= T::from_usize(count).unwrap_or_else(T::nan);
            }
            out
        }
    }
}

/// Repeats `v` (`1 × cols`, `rows × 1` or `1 × 1`) to `shape`.
pub(crate) fn broadcast<T: MatScalar>(v: &DMatrix<T>, (rows, cols): (usize, usize)) -> DMatrix<T> {
    match v.shape() {
        (1, 1) => {
            let mut out = pool::overwritten(rows, cols);
            out.as_mut_slice().fill(v[(0, 0)]);
            out
        }
        (1, _) => {
            // One entry per column: fill each column.
            let mut out = pool::overwritten(rows, cols);
            if rows > 0 {
                for (column, &x) in out.as_mut_slice().chunks_exact_mut(rows).zip(v.iter()) {
                    column.fill(x);
                }
            }
            out
        }
        _ => {
            // One column, copied into each column.
            let mut out = pool::overwritten(rows, cols);
            if rows > 0 {
                for column in out.as_mut_slice().chunks_exact_mut(rows) {
                    column.copy_from_slice(v.as_slice());
                }
            }
            out
        }
    }
}

/// Backward of a sum or mean: the adjoint repeated to the input's shape, divided by `divisor`
/// (1 for a sum, n for a mean: `g / n`, as JAX's and PyTorch's mean pullbacks). Saves the
/// input shape.
struct Spread<T> {
    a: u32,
    shape: (usize, usize),
    divisor: T,
}

impl<T: MatScalar> Backward<T> for Spread<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        if g.len() == 1 {
            // A sum or mean of every entry: its cotangent spread evenly, kept as one number.
            self.backward_uniform(g[0], (1, 1), &[], grads);
            pool::recycle(g);
            return;
        }
        let mut out = broadcast(&g, self.shape);
        if self.divisor != T::one() {
            out /= self.divisor;
        }
        grads.accumulate(self.a, out);
        pool::recycle(g);
    }

    fn backward_uniform(
        &self,
        value: T,
        _: (usize, usize),
        _: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        // Spread evenly, a uniform cotangent stays uniform (divided as `backward` divides each
        // entry).
        let value = if self.divisor != T::one() {
            value / self.divisor
        } else {
            value
        };
        grads.accumulate_uniform(self.a, value, self.shape);
    }
}

/// Backward of a reduction whose pullback is its cotangent repeated to the input's shape times
/// saved weights (with the `0·∞` convention of [`Partial::times`]): the weighted sum
/// `Σᵢⱼ xᵢⱼ·wᵢⱼ` (`∂x = g·W`), and maxima and minima (`W` the ties' shares).
pub(crate) struct Weighted<T> {
    pub(crate) a: u32,
    pub(crate) shape: (usize, usize),
    pub(crate) weights: Partial<T>,
}

impl<T: MatScalar> Backward<T> for Weighted<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate(self.a, self.weights.times(broadcast(&g, self.shape)));
        pool::recycle(g);
    }

    fn release(self: Box<Self>) {
        self.weights.release();
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The weighted sum `Σᵢⱼ selfᵢⱼ·wᵢⱼ` with constant weights `w` (the Frobenius inner
    /// product, `sum(x .* w)` in Flux), as a 1 × 1 matrix: one node where
    /// `self.component_mul(MatVar::constant(w)).sum()` records three. The weights are moved
    /// onto the tape (they are needed by the backward pass).
    ///
    /// # Panics
    /// If `weights` does not have `self`'s shape (the message gives both).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    /// let w = dmatrix![1.0, -2.0];
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].weighted_sum(w.clone()), &[dmatrix![3.0, 4.0]]);
    /// assert_eq!((v, g[0].clone()), (-5.0, w));
    /// ```
    #[track_caller]
    pub fn weighted_sum(self, weights: DMatrix<T>) -> Self {
        let (a, shape) = (self.index(), self.shape());
        assert!(
            shape == weights.shape(),
            "weighted_sum: shape mismatch, the matrix is {} and the weights {}",
            shape_str(shape),
            shape_str(weights.shape())
        );
        self.unary_op(|x| {
            let total = weighted_total(x.as_slice(), weights.as_slice());
            let backward = Weighted {
                a,
                shape,
                weights: Partial::Matrix(weights),
            };
            (DMatrix::from_element(1, 1, total), Box::new(backward))
        })
    }

    #[track_caller]
    fn reduce(self, along: Option<Along>, mean: bool) -> Self {
        let (a, shape) = (self.index(), self.shape());
        let n = match along {
            None => shape.0 * shape.1,
            Some(Along::Rows) => shape.0,
            Some(Along::Cols) => shape.1,
        };
        let count = if mean { n } else { 1 };
        let divisor = T::from_usize(count).unwrap_or_else(T::nan);
        self.unary_op(|v| {
            let out = match along {
                None => {
                    let total = wide_total(v.as_slice()) / wide_count::<T>(count);
                    DMatrix::from_element(1, 1, narrow(total))
                }
                Some(along) => divided_sums_along(v, along, count),
            };
            (out, Box::new(Spread { a, shape, divisor }))
        })
    }

    /// The sum of all entries, as a 1 × 1 matrix (a scalar loss).
    ///
    /// Accumulated in `f64` (`f32` entries widened exactly, the sum rounded once) in eight
    /// interleaved running sums combined pairwise, so the additions vectorise; the rounding
    /// error is at most `(n/8 + 4)·ε·Σ|x|` for `n` entries, `ε` being `T::EPSILON` (adding in
    /// order: `n·ε·Σ|x|`).
    /// `mean`, `sum_along` over rows and `weighted_sum` sum the same way.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X sum(X) = 1 everywhere
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].sum(), &[dmatrix![1.0, 2.0; 3.0, 4.0]]);
    /// assert_eq!((v, g[0].clone()), (10.0, dmatrix![1.0, 1.0; 1.0, 1.0]));
    /// ```
    #[track_caller]
    pub fn sum(self) -> Self {
        self.reduce(None, false)
    }

    /// The mean of all entries, as a 1 × 1 matrix (NaN for an empty matrix: 0/0, as NumPy's).
    ///
    /// The sum (accumulated as [`Self::sum`]'s) divided by the count in `f64`, then rounded to
    /// `T` once — so the mean of equal `f32` entries is that entry (their `f64` sum is exact),
    /// as is the mean of equal `f64` entries whose sum is exact (integers, halves, …), while
    /// for others the rounding of the sum shows (the mean of three `0.1_f64` is
    /// `0.10000000000000002`, as NumPy's) — and the pullback divides the
    /// cotangent by the count (`g / n`, as JAX's and PyTorch's). `mean_along` likewise.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂X mean(X) = 1/(rows·cols) = ¼ everywhere
    /// let (v, g) = matrix::value_and_gradient(|m| m[0].mean(), &[dmatrix![1.0, 2.0; 3.0, 4.0]]);
    /// assert_eq!((v, g[0].clone()), (2.5, dmatrix![0.25, 0.25; 0.25, 0.25]));
    /// ```
    #[track_caller]
    pub fn mean(self) -> Self {
        self.reduce(None, true)
    }

    /// Sums along a dimension: `1 × cols` for [`Along::Rows`], `rows × 1` for [`Along::Cols`].
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // column sums (1 × 3); each column's cotangent flows to all its entries
    /// let x = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].sum_along(Along::Rows), &[x]);
    /// assert_eq!(y, dmatrix![5.0, 7.0, 9.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0, 2.0, 3.0])[0], dmatrix![1.0, 2.0, 3.0; 1.0, 2.0, 3.0]);
    /// ```
    #[track_caller]
    pub fn sum_along(self, along: Along) -> Self {
        self.reduce(Some(along), false)
    }

    /// Means along a dimension (shapes as [`sum_along`](Self::sum_along); NaN for a line of
    /// no entries).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, Along};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // row means (2 × 1); each entry gets 1/cols of its row's cotangent
    /// let x = dmatrix![1.0, 3.0; 2.0, 6.0];
    /// let (y, pb) = matrix::pullback(|m| m[0].mean_along(Along::Cols), &[x]);
    /// assert_eq!(y, dmatrix![2.0; 4.0]);
    /// assert_eq!(pb.call(&dmatrix![1.0; 4.0])[0], dmatrix![0.5, 0.5; 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn mean_along(self, along: Along) -> Self {
        self.reduce(Some(along), true)
    }
}
