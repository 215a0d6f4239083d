//! Blocks of a matrix (views) and concatenation: the array indexing and `vcat`/`hcat` of
//! Zygote, PyTorch's slicing and `cat`.

use crate::matrix::tape::{Backward, Grads, UnwrapStale};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// The `rows × cols` block of `m` at `(i, j)`, copied column by column from the plain
/// column-major slice (nalgebra's strided view iterators do not vectorise; a one-row block of a
/// wide matrix, e.g. every other entry, cost ~1.4 ns per entry through them).
pub(crate) fn copy_block<T: MatScalar>(
    m: &DMatrix<T>,
    (i, j): (usize, usize),
    (rows, cols): (usize, usize),
) -> DMatrix<T> {
    let (stride, src) = (m.nrows(), m.as_slice());
    if rows == 1 {
        // One entry per column; `i < stride` up front lets the loop run without bounds tests.
        assert!(i < stride);
        let mut out = crate::matrix::pool::overwritten(1, cols);
        let (src, out_slice) = (&src[j * stride..(j + cols) * stride], out.as_mut_slice());
        if stride == 2 {
            // Even or odd entries (`x[::2]`, `x[1::2]`): with the stride and the offset known
            // at compile time the loop vectorises.
            if i == 0 {
                gather::<T, 2, 0>(src, out_slice);
            } else {
                gather::<T, 2, 1>(src, out_slice);
            }
        } else {
            for (o, column) in out_slice.iter_mut().zip(src.chunks_exact(stride)) {
                *o = column[i];
            }
        }
        return out;
    }
    let mut data = crate::matrix::pool::with_capacity(rows * cols);
    for c in j..j + cols {
        data.extend_from_slice(&src[c * stride + i..c * stride + i + rows]);
    }
    DMatrix::from_vec(rows, cols, data)
}

/// `out[k] = src[k·stride]` for every `k` (`src` reaches the last of those entries); the loop
/// vectorises for stride 2, with the stride known at compile time.
fn gather_every<T: MatScalar>(src: &[T], stride: usize, out: &mut [T]) {
    // Entries whose whole stride lies inside `src`, then the last one alone if not (the
    // division by a constant stride where it is one).
    let whole = match stride {
        1 => {
            let n = out.len();
            out.copy_from_slice(&src[..n]);
            return;
        }
        2 => {
            let whole = out.len().min(src.len() / 2);
            gather::<T, 2, 0>(src, &mut out[..whole]);
            whole
        }
        _ => {
            let whole = out.len().min(src.len() / stride);
            for (o, column) in out[..whole].iter_mut().zip(src.chunks_exact(stride)) {
                *o = column[0];
            }
            whole
        }
    };
    for (k, o) in out.iter_mut().enumerate().skip(whole) {
        *o = src[k * stride];
    }
}

/// Backward of [`MatVar::strided_rows`]: the adjoint added into those rows of `A`'s adjoint.
struct StridedRows {
    a: u32,
    first: usize,
    stride: usize,
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for StridedRows {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate_strided_rows(self.a, (self.first, self.stride), self.shape, &g);
        crate::matrix::pool::recycle(g);
    }
}

/// `out[c] = src[c·S + I]`, stride and offset known at compile time.
#[inline(always)]
fn gather<T: Copy, const S: usize, const I: usize>(src: &[T], out: &mut [T]) {
    for (o, column) in out.iter_mut().zip(src.chunks_exact(S)) {
        *o = column[I];
    }
}

/// Backward of a block `A[i..i+r, j..j+c]`: the adjoint added into that block of `A`'s
/// adjoint.
struct View {
    a: u32,
    start: (usize, usize),
    shape: (usize, usize),
}

impl<T: MatScalar> Backward<T> for View {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        grads.accumulate_block(self.a, self.start, self.shape, &g);
        crate::matrix::pool::recycle(g);
    }
}

/// Backward of a concatenation: each part receives its block of the adjoint.
struct Concat {
    /// (parent, first row or column, its row or column count)
    parts: Vec<(u32, usize, usize)>,
    vertical: bool,
}

impl<T: MatScalar> Backward<T> for Concat {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        for &(part, first, count) in &self.parts {
            if !grads.wants(part) {
                continue;
            }
            let block = if self.vertical {
                copy_block(&g, (first, 0), (count, g.ncols()))
            } else {
                copy_block(&g, (0, first), (g.nrows(), count))
            };
            grads.accumulate(part, block);
        }
        crate::matrix::pool::recycle(g);
    }
}

impl<T: MatScalar> MatVar<T> {
    /// The `rows × cols` block starting at entry `(i, j)` (nalgebra's `view(start, shape)`;
    /// Zygote's `A[i:i+r-1, j:j+c-1]`). Its gradient is the block's adjoint placed in a zero
    /// matrix of `self`'s shape.
    ///
    /// # Panics
    /// If the block does not fit inside `self` (a programmer error, as nalgebra's views).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let a = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0];
    /// // the 2 × 2 block from (0, 1), and Σ 2·block's gradient
    /// let (block, pb) = matrix::pullback(|m| m[0].view((0, 1), (2, 2)), &[a]);
    /// assert_eq!(block, dmatrix![2.0, 3.0; 5.0, 6.0]);
    /// assert_eq!(pb.call(&dmatrix![2.0, 2.0; 2.0, 2.0])[0], dmatrix![0.0, 2.0, 2.0; 0.0, 2.0, 2.0]);
    /// ```
    #[track_caller]
    pub fn view(self, start: (usize, usize), shape: (usize, usize)) -> Self {
        self.block("view", start, shape)
    }

    /// [`Self::view`], naming the method the user called in its panic message.
    #[track_caller]
    fn block(self, name: &str, (i, j): (usize, usize), (rows, cols): (usize, usize)) -> Self {
        let shape = self.shape();
        let fits = i.checked_add(rows).is_some_and(|end| end <= shape.0)
            && j.checked_add(cols).is_some_and(|end| end <= shape.1);
        assert!(
            fits,
            "{name}: a {} block at ({i}, {j}) does not fit in a {} matrix",
            shape_str((rows, cols)),
            shape_str(shape)
        );
        let a = self.index();
        self.unary_op(|v| {
            let out = copy_block(v, (i, j), (rows, cols));
            let backward = View {
                a,
                start: (i, j),
                shape,
            };
            (out, Box::new(backward))
        })
    }

    /// Rows `first .. first + count`, every column (nalgebra's `rows(first, count)`).
    ///
    /// # Panics
    /// If the rows do not exist.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // the last row of a features × batch matrix, summed: gradient 1 on that row only
    /// let g = matrix::gradient(|m| m[0].rows(1, 1).sum(), &[dmatrix![1.0, 2.0; 3.0, 4.0]]);
    /// assert_eq!(g[0], dmatrix![0.0, 0.0; 1.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn rows(self, first: usize, count: usize) -> Self {
        let cols = self.ncols();
        self.block("rows", (first, 0), (count, cols))
    }

    /// Rows `first, first + stride, …, first + (count − 1)·stride`, every column: NumPy's and
    /// JAX's `x[first::stride]` taking `count` rows (e.g. the even and odd entries of a column
    /// vector, `strided_rows(0, n / 2, 2)` and `strided_rows(1, n / 2, 2)`). nalgebra's
    /// `rows_with_step` picks the same rows given the number of rows *skipped*, `stride − 1`.
    /// The result is `count × cols`; its gradient is the adjoint placed in those rows of a
    /// zero matrix of `self`'s shape.
    ///
    /// # Panics
    /// If `stride` is 0, or a picked row does not exist (the message gives the last row and
    /// the shape), or for `count = 0` if `first` is past the last row's end (`first > rows`).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // Σ (x₀·x₁ + x₂·x₃): the even entries times the odd ones
    /// let x = dmatrix![1.0; 2.0; 3.0; 4.0];
    /// let (v, g) = matrix::value_and_gradient(
    ///     |m| m[0].strided_rows(0, 2, 2).component_mul(m[0].strided_rows(1, 2, 2)).sum(),
    ///     &[&x],
    /// );
    /// assert_eq!(v, 2.0 + 12.0);
    /// assert_eq!(g[0], dmatrix![2.0; 1.0; 4.0; 3.0]);
    /// ```
    #[track_caller]
    pub fn strided_rows(self, first: usize, count: usize, stride: usize) -> Self {
        assert!(stride > 0, "strided_rows: the stride must be at least 1");
        let shape = self.shape();
        // The last row picked, `first + (count − 1)·stride`, must exist (no row for count 0).
        let last = count
            .checked_sub(1)
            .map(|c| c.checked_mul(stride).and_then(|o| o.checked_add(first)));
        let fits = match last {
            None => first <= shape.0,
            Some(last) => last.is_some_and(|l| l < shape.0),
        };
        if !fits {
            strided_rows_out_of_range(first, count, stride, last, shape);
        }
        let a = self.index();
        self.unary_op(|v| {
            let (nrows, src) = (v.nrows(), v.as_slice());
            let mut out = crate::matrix::pool::overwritten(count, v.ncols());
            if v.ncols() == 1 {
                // A column (the common case, `x[::2]` of a vector): no split into columns.
                if count > 0 {
                    gather_every(&src[first..], stride, out.as_mut_slice());
                }
            } else {
                let parts = out.as_mut_slice().chunks_exact_mut(count.max(1));
                for (part, column) in parts.zip(src.chunks_exact(nrows.max(1))) {
                    gather_every(&column[first..], stride, part);
                }
            }
            let backward = StridedRows {
                a,
                first,
                stride,
                shape,
            };
            (out, Box::new(backward))
        })
    }

    /// Columns `first .. first + count`, every row (nalgebra's `columns(first, count)`): with
    /// the features × batch layout, a sub-batch.
    ///
    /// # Panics
    /// If the columns do not exist.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let g = matrix::gradient(|m| m[0].columns(0, 1).sum(), &[dmatrix![1.0, 2.0; 3.0, 4.0]]);
    /// assert_eq!(g[0], dmatrix![1.0, 0.0; 1.0, 0.0]);
    /// ```
    #[track_caller]
    pub fn columns(self, first: usize, count: usize) -> Self {
        let rows = self.nrows();
        self.block("columns", (0, first), (rows, count))
    }

    /// The parts stacked top to bottom (Flux's and Julia's `vcat`, PyTorch's `cat(dim = 0)`
    /// for this layout): every part has the same number of columns; the result has the sum
    /// of their rows.
    ///
    /// # Panics
    /// If `parts` is empty, or two parts differ in their number of columns (both shapes are
    /// named).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// let (a, b) = (dmatrix![1.0, 2.0], dmatrix![3.0, 4.0; 5.0, 6.0]);
    /// let (y, pb) = matrix::pullback(|m| MatVar::vcat(&[m[0], m[1]]), &[a, b]);
    /// assert_eq!(y, dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0]);
    /// // each part gets its rows of the cotangent
    /// let grads = pb.call(&dmatrix![1.0, 1.0; 2.0, 2.0; 3.0, 3.0]);
    /// assert_eq!(grads, vec![dmatrix![1.0, 1.0], dmatrix![2.0, 2.0; 3.0, 3.0]]);
    /// ```
    #[track_caller]
    pub fn vcat(parts: &[Self]) -> Self {
        concat(parts, true)
    }

    /// The parts side by side, left to right (Flux's and Julia's `hcat`; with the features ×
    /// batch layout, batches joined): every part has the same number of rows; the result has
    /// the sum of their columns.
    ///
    /// # Panics
    /// If `parts` is empty, or two parts differ in their number of rows (both shapes are
    /// named).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // a part may appear twice: its gradient adds up
    /// let g = matrix::gradient(|m| MatVar::hcat(&[m[0], m[0]]).sum(), &[dmatrix![1.0; 2.0]]);
    /// assert_eq!(g[0], dmatrix![2.0; 2.0]);
    /// ```
    #[track_caller]
    pub fn hcat(parts: &[Self]) -> Self {
        concat(parts, false)
    }
}

/// Records the concatenation of `parts`, vertical (rows added) or horizontal.
#[track_caller]
fn concat<T: MatScalar>(parts: &[MatVar<T>], vertical: bool) -> MatVar<T> {
    let name = if vertical { "vcat" } else { "hcat" };
    let Some(first) = parts.first() else {
        panic!("{name}: no parts to concatenate");
    };
    // The dimension that must agree, and the one that adds up.
    let keep = |s: (usize, usize)| if vertical { s.1 } else { s.0 };
    let add = |s: (usize, usize)| if vertical { s.0 } else { s.1 };
    let mut total = 0usize;
    let mut blocks = Vec::with_capacity(parts.len());
    for p in parts {
        assert!(
            keep(p.shape()) == keep(first.shape()),
            "{name}: a {} part does not fit a {} part ({} must agree)",
            shape_str(p.shape()),
            shape_str(first.shape()),
            if vertical { "columns" } else { "rows" }
        );
        blocks.push((p.index(), total, add(p.shape())));
        total = total
            .checked_add(add(p.shape()))
            .unwrap_or_else(|| panic!("{name}: the result is too large"));
    }
    let (rows, cols) = if vertical {
        (total, first.ncols())
    } else {
        (first.nrows(), total)
    };
    // The user's line, for `detect_anomaly` (a location does not pass into closures).
    let at = std::panic::Location::caller();
    let recorded = T::with_mat_tapes(|stack| {
        let tape = stack.active();
        tape.stale_among(parts)?;
        let mut out = crate::matrix::pool::zeros(rows, cols);
        for (p, &(_, at, count)) in parts.iter().zip(&blocks) {
            let value = tape.value(p);
            if vertical {
                out.rows_mut(at, count).copy_from(value);
            } else {
                out.columns_mut(at, count).copy_from(value);
            }
        }
        let backward = Concat {
            parts: blocks,
            vertical,
        };
        Ok(tape.record(at, parts, out, Box::new(backward)))
    });
    recorded.unwrap_or_else_stale()
}

/// The panic of [`MatVar::strided_rows`] for rows that do not exist: the last row picked, or
/// for `count = 0` the start row past the end.
#[cold]
#[track_caller]
fn strided_rows_out_of_range(
    first: usize,
    count: usize,
    stride: usize,
    last: Option<Option<usize>>,
    shape: (usize, usize),
) -> ! {
    let shape = shape_str(shape);
    match last {
        None => panic!("strided_rows: no rows from row {first}, past the end of a {shape} matrix"),
        Some(last) => panic!(
            "strided_rows: {count} rows from row {first} every {stride} reach row {} of a {shape} \
             matrix",
            last.map_or_else(|| "beyond usize".to_string(), |l| l.to_string()),
        ),
    }
}
