//! Matrix products on a fast kernel (`matrixmultiply`'s, or with the feature `gemm` for `f32`
//! the `gemm` crate's), with transposed operands read through their strides (no copy).
//!
//! The backward pass of a product needs `G·Bᵀ` and `Aᵀ·G`. Through nalgebra these cost either a
//! materialised transpose (a copy of a possibly large matrix per product) or `tr_mul`/`gemm_tr`,
//! which bypass the fast kernel (and `gemm` on transposed views is unsound for tiny shapes in
//! nalgebra 0.35, upstream issue #1616). `matrixmultiply` — the kernel nalgebra itself calls —
//! takes arbitrary row and column strides, so a transposed operand is the same buffer with its
//! strides swapped. Tiny products (a small network's layers) run on a loop of this module's
//! own instead ([`small`]): there `matrixmultiply`'s allocation and packing per call cost more
//! than the arithmetic. With the feature `gemm`, most larger `f32` products run on the `gemm`
//! crate's kernels instead (`gemm_crate`: faster on AVX-512 CPUs), which take strides the same
//! way.
//!
//! This module's `unsafe` code: the kernels' raw-pointer entry points, called only after the
//! slice lengths have been checked against the shapes and strides they are read with (with the
//! feature `parallel`, calls on several threads writing disjoint blocks of rows of one output,
//! shared as a raw pointer marked `Send` and `Sync`: `gemm_crate::Output`), and the
//! call of [`small`]'s AVX2 + FMA build after the CPU was found to have both (the crate's other
//! `unsafe` code: `active`, `matrix::value`, `matrix::ops::zip_map`).

#![allow(unsafe_code)]

#[cfg(feature = "gemm")]
mod gemm_crate;
#[cfg(feature = "parallel")]
mod product_threads;
mod small;
#[cfg(feature = "gemm")]
mod split;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;

use super::MatScalar;
use super::finite::all_finite;
use adroit_forward::TangentLanes;
use core::mem::MaybeUninit;
use nalgebra::DMatrix;

/// A matrix operand as the product kernel reads it (an implementation detail of
/// [`MatScalar`], public only because that trait names it): logical shape and strides of its column-major
/// storage, transposed or not.
#[derive(Clone, Copy)]
pub struct Operand<'a, T> {
    data: &'a [T],
    rows: usize,
    cols: usize,
    row_stride: isize,
    col_stride: isize,
}

impl<'a, T: MatScalar> Operand<'a, T> {
    /// `m` as it is.
    pub(crate) fn plain(m: &'a DMatrix<T>) -> Self {
        Self {
            data: m.as_slice(),
            rows: m.nrows(),
            cols: m.ncols(),
            row_stride: 1,
            col_stride: m.nrows() as isize,
        }
    }

    /// `mᵀ`, read in place.
    pub(crate) fn transposed(m: &'a DMatrix<T>) -> Self {
        Self {
            data: m.as_slice(),
            rows: m.ncols(),
            cols: m.nrows(),
            row_stride: m.nrows() as isize,
            col_stride: 1,
        }
    }

    /// The `shape` block of `m` at `start` (inside `m`), read in place; transposed with
    /// `transposed` (then the operand is `shape.1 × shape.0`).
    pub(crate) fn block(
        m: &'a DMatrix<T>,
        start: (usize, usize),
        shape: (usize, usize),
        transposed: bool,
    ) -> Self {
        debug_assert!(
            start.0 + shape.0 <= m.nrows() && start.1 + shape.1 <= m.ncols(),
            "a block inside the matrix"
        );
        let stride = m.nrows() as isize;
        let offset = if shape.0 == 0 || shape.1 == 0 {
            0
        } else {
            start.0 + start.1 * m.nrows()
        };
        let data = &m.as_slice()[offset..];
        if transposed {
            Self {
                data,
                rows: shape.1,
                cols: shape.0,
                row_stride: stride,
                col_stride: 1,
            }
        } else {
            Self {
                data,
                rows: shape.0,
                cols: shape.1,
                row_stride: 1,
                col_stride: stride,
            }
        }
    }

    /// True when every entry `(i, j)` at `i·row_stride + j·col_stride` lies inside `data`.
    fn in_bounds(&self) -> bool {
        if self.rows == 0 || self.cols == 0 {
            return true;
        }
        let last =
            (self.rows - 1) as isize * self.row_stride + (self.cols - 1) as isize * self.col_stride;
        self.row_stride >= 0 && self.col_stride >= 0 && (last as usize) < self.data.len()
    }
}

/// The product `a · b` of two operands: (`m × k`)·(`k × n`) → `m × n`.
///
/// # Panics
/// If the inner dimensions differ (callers check shapes first and report them).
pub(crate) fn product<T: MatScalar>(a: Operand<'_, T>, b: Operand<'_, T>) -> DMatrix<T> {
    assert_eq!(a.cols, b.rows, "product: inner dimensions differ");
    let (m, k, n) = (a.rows, a.cols, b.cols);
    // Before the empty case too: an m × 0 times 0 × n product holds no entries on either side,
    // yet m·n can wrap (nalgebra's `zeros` does not check, and its matrix would then index
    // past its buffer). The public operations check first and name the shapes.
    let len = m
        .checked_mul(n)
        .expect("product: the output's size overflows usize");
    if m == 0 || n == 0 || k == 0 {
        return DMatrix::zeros(m, n);
    }
    assert!(a.in_bounds() && b.in_bounds());
    // The kernel writes every entry without reading it (β = 0), so the output is not zeroed
    // first (that fill cost ~4 % of a large training step).
    let mut c = super::pool::with_capacity(len);
    T::gemm(a, b, &mut c.spare_capacity_mut()[..len]);
    // SAFETY: `gemm` initialised all `len = m·n` entries of the spare capacity (its contract).
    unsafe { c.set_len(len) };
    DMatrix::from_vec(m, n, c)
}

/// `a · b` for a pullback, with the convention of [`adroit_forward::chain_product`]: a term
/// `0·∞` (or `0·NaN`) contributes 0, where the kernel's plain products would make the entry
/// NaN (a zero cotangent against an infinite input entry).
///
/// The kernel's product is that already unless a term was `0·∞`, which leaves NaN in its
/// entry; so the product is checked with [`all_finite`] — through the operands when they are
/// smaller (both finite: no such term), else the product itself — and only its NaN entries
/// are formed again term by term.
pub(crate) fn pullback_product<T: MatScalar>(a: Operand<'_, T>, b: Operand<'_, T>) -> DMatrix<T> {
    let mut c = product(a, b);
    let clean = if a.data.len() + b.data.len() < c.len() {
        all_finite(a.data) && all_finite(b.data)
    } else {
        all_finite(c.as_slice())
    };
    if clean {
        return c;
    }
    let (m, k) = (a.rows, a.cols);
    // Entries not finite in some part (a NaN, or for a dual a NaN tangent beside a finite
    // value): formed again term by term (an infinite entry comes out the same).
    #[allow(clippy::eq_op)] // v − v is the test, as in `all_finite`
    let suspect = |e: &T| !(*e - *e).is_zero();
    for (j, column) in c.as_mut_slice().chunks_exact_mut(m.max(1)).enumerate() {
        for (i, entry) in column.iter_mut().enumerate().filter(|(_, e)| suspect(e)) {
            *entry = (0..k).fold(T::zero(), |sum, p| {
                sum + T::tape_product(a.at(i, p), b.at(p, j))
            });
        }
    }
    c
}

impl<T: Copy> Operand<'_, T> {
    /// The operand's transpose: the same entries with rows and columns (and strides) swapped.
    fn transpose(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Entry `(i, j)` (inside the shape).
    #[inline(always)]
    fn at(&self, i: usize, j: usize) -> T {
        self.data[i * self.row_stride as usize + j * self.col_stride as usize]
    }
}

/// The kernel call for first-order duals (`Dual`, `DualVec`): the product of `A + Σ εₗAₗ` and
/// `B + Σ εₗBₗ` is `A·B + Σ εₗ(Aₗ·B + A·Bₗ)`, formed on the real type's kernel from the
/// operands' parts gathered into contiguous real matrices: `[A; A₁; …; A_L]·B` (the value and
/// the terms `Aₗ·B`) and `A·[B₁ … B_L]`, each only when that operand has a tangent that is not
/// zero — a constant operand (data, or a weight against a seeded input) costs no products of
/// its zero tangents, so `W·X` with `X` constant costs `L + 1` real products, not `2L + 1`.
///
/// # Panics
/// As the real kernels: if the inner dimensions differ or are 0, or `c` does not hold
/// `a.rows · b.cols` entries.
pub(crate) fn dual_gemm<D, R>(a: Operand<'_, D>, b: Operand<'_, D>, c: &mut [MaybeUninit<D>])
where
    D: MatScalar + TangentLanes<Real = R>,
    R: MatScalar,
{
    let (m, k, n, lanes) = (a.rows, a.cols, b.cols, <D as TangentLanes>::LANES);
    assert!(a.in_bounds() && b.in_bounds() && a.cols == b.rows && k > 0);
    assert_eq!(Some(c.len()), m.checked_mul(n));
    let has_tangent = |o: &Operand<'_, D>| {
        o.data
            .iter()
            .any(|x| (0..lanes).any(|l| !x.lane(l).is_zero()))
    };
    let (a_moves, b_moves) = (has_tangent(&a), has_tangent(&b));
    // A's value, then (if it moves) its tangents lane by lane below it: ((L + 1)·m) × k.
    let a_rows = if a_moves { (lanes + 1) * m } else { m };
    let mut a_parts = super::pool::overwritten::<R>(a_rows, k);
    for (j, column) in a_parts.as_mut_slice().chunks_exact_mut(a_rows).enumerate() {
        for i in 0..m {
            let x = a.at(i, j);
            column[i] = x.primal_value();
            if a_moves {
                for l in 0..lanes {
                    column[(l + 1) * m + i] = x.lane(l);
                }
            }
        }
    }
    // B's value (k × n) and, if it moves, its tangents side by side (k × (L·n)).
    let mut b_value = super::pool::overwritten::<R>(k, n);
    let mut b_tangents = super::pool::overwritten::<R>(k, if b_moves { lanes * n } else { 0 });
    for j in 0..n {
        for i in 0..k {
            let x = b.at(i, j);
            b_value[(i, j)] = x.primal_value();
            if b_moves {
                for l in 0..lanes {
                    b_tangents[(i, l * n + j)] = x.lane(l);
                }
            }
        }
    }
    let left = product(Operand::plain(&a_parts), Operand::plain(&b_value));
    // A·[B₁ … B_L], m × (L·n), if B moves.
    let right = b_moves.then(|| {
        let a_value = Operand {
            data: a_parts.as_slice(),
            rows: m,
            cols: k,
            row_stride: 1,
            col_stride: a_rows as isize,
        };
        product(a_value, Operand::plain(&b_tangents))
    });
    super::pool::recycle(a_parts);
    super::pool::recycle(b_value);
    super::pool::recycle(b_tangents);
    // With a non-finite part in an operand, a tangent term `0·∞` is NaN on the real kernel
    // where the dual product's convention makes it 0: entries with a non-finite part are
    // formed again term by term in dual arithmetic (as a dual matrix product on nalgebra's
    // generic kernel would) when an operand has one (checked at the first such entry).
    let mut clean = None;
    let (left_s, right_s) = (left.as_slice(), right.as_ref().map(DMatrix::as_slice));
    for (j, out) in c.chunks_exact_mut(m).enumerate() {
        let column = &left_s[j * a_rows..(j + 1) * a_rows];
        for (i, slot) in out.iter_mut().enumerate() {
            let mut entry = D::from_lanes(column[i], |l| {
                let from_a = if a_moves {
                    column[(l + 1) * m + i]
                } else {
                    R::zero()
                };
                match right_s {
                    Some(right) => from_a + right[(l * n + j) * m + i],
                    None => from_a,
                }
            });
            #[allow(clippy::eq_op)] // v − v is the test, as in `all_finite`
            if !(entry - entry).is_zero()
                && !*clean.get_or_insert_with(|| all_finite(a.data) && all_finite(b.data))
            {
                entry = (0..k).fold(D::zero(), |sum, p| sum + a.at(i, p) * b.at(p, j));
            }
            *slot = MaybeUninit::new(entry);
        }
    }
    super::pool::recycle(left);
    if let Some(right) = right {
        super::pool::recycle(right);
    }
}

/// The kernel calls for `f32` and `f64`: the dispatching `$name` and `$large`, the product on
/// `matrixmultiply` alone; `$other`, where given, the module of the kernel that takes products
/// first with the feature `gemm` (`f32` only: see `gemm_crate` for why not `f64`).
macro_rules! kernel {
    ($name:ident, $large:ident, $t:ty, $gemm:path, $small:expr $(, $other:ident)?) => {
        /// Writes `a·b` into the column-major `a.rows × b.cols` matrix `c`, initialising every
        /// entry (`c` is never read): a tiny product on [`small::product`] with a thread-local
        /// working buffer, else (`f32`, with the feature `gemm`) on the `gemm` crate's kernel
        /// where `gemm_crate::takes` it, else on `matrixmultiply`'s.
        ///
        /// # Panics
        /// If an operand's strides reach outside its slice, the inner dimensions differ or
        /// are 0, or `c` does not hold `a.rows · b.cols` entries.
        pub(crate) fn $name(
            a: Operand<'_, $t>,
            b: Operand<'_, $t>,
            c: &mut [core::mem::MaybeUninit<$t>],
        ) {
            assert!(a.in_bounds() && b.in_bounds() && a.cols == b.rows && a.cols > 0);
            assert_eq!(Some(c.len()), a.rows.checked_mul(b.cols));
            if small::is_small(&a, &b, $small) {
                thread_local! {
                    static SCRATCH: core::cell::RefCell<Vec<$t>> =
                        const { core::cell::RefCell::new(Vec::new()) };
                }
                // A buffer of its own where the thread's is gone (thread teardown) or in use.
                let done = SCRATCH
                    .try_with(|s| {
                        s.try_borrow_mut()
                            .map(|mut s| small::product(a, b, c, &mut s))
                            .is_ok()
                    })
                    .unwrap_or(false);
                if !done {
                    small::product(a, b, c, &mut Vec::new());
                }
                return;
            }
            $(
                #[cfg(feature = "gemm")]
                if $other::takes(&a) {
                    $other::product(a, b, c);
                    return;
                }
            )?
            $large(a, b, c);
        }

        /// Writes `a·b` into `c` as the dispatching kernel does, on `matrixmultiply`'s
        /// kernel whatever the size.
        ///
        /// # Panics
        /// As the dispatching kernel.
        fn $large(a: Operand<'_, $t>, b: Operand<'_, $t>, c: &mut [core::mem::MaybeUninit<$t>]) {
            let (m, k, n) = (a.rows, a.cols, b.cols);
            assert!(a.in_bounds() && b.in_bounds() && a.cols == b.rows && k > 0);
            assert_eq!(Some(c.len()), m.checked_mul(n));
            let rsc = 1;
            let csc = m as isize;
            // SAFETY: every entry the kernel reads of `a` and `b` lies inside their slices
            // (`in_bounds`), every entry it writes of the column-major `m × n` matrix `c` lies
            // inside `c`, and `c` is a unique borrow, so it aliases neither operand. With
            // β = 0 and k ≥ 1 the kernel never reads `c` and writes each of its entries
            // (matrixmultiply's contract: "If β is zero, then C does not need to be
            // initialized"), so `c` may start uninitialised.
            unsafe {
                $gemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.data.as_ptr(),
                    a.row_stride,
                    a.col_stride,
                    b.data.as_ptr(),
                    b.row_stride,
                    b.col_stride,
                    0.0,
                    c.as_mut_ptr().cast::<$t>(),
                    rsc,
                    csc,
                );
            }
        }
    };
}

kernel!(
    sgemm,
    sgemm_matrixmultiply,
    f32,
    matrixmultiply::sgemm,
    small::MAX_F32_MULTIPLY_ADDS,
    gemm_crate
);
kernel!(
    dgemm,
    dgemm_matrixmultiply,
    f64,
    matrixmultiply::dgemm,
    small::MAX_F64_MULTIPLY_ADDS
);
