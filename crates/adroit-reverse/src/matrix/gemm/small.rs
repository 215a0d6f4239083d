//! Tiny matrix products (at most [`MAX_F32_MULTIPLY_ADDS`] or [`MAX_F64_MULTIPLY_ADDS`]
//! multiply-adds) without `matrixmultiply`.
//!
//! For a product the size of a small network's layer (16 × 4 by 4 × 16, say) `matrixmultiply`'s
//! fixed cost is most of its time: each call allocates an aligned packing buffer (glibc's
//! `memalign`, which in a training step also made glibc consolidate its free lists), packs both
//! operands into it, and runs its tiled loops around a register kernel. Here the product is a
//! sum of scaled columns, `C[:, j] = Σₚ A[:, p]·B[p, j]`, with a reused thread-local working
//! buffer: no allocation once the buffer has grown; an operand is copied only when the loop
//! cannot read it in place (A's columns not contiguous; B's column not contiguous). Where `C`
//! has fewer rows than columns the same loop computes `Cᵀ = Bᵀ·Aᵀ` instead, so the summed
//! columns are the longer side. On x86-64 CPUs with AVX2 and FMA the loop runs in a build for
//! them (chosen at run time, as `zip_map`'s element loop), each term a fused multiply-add, as in
//! `matrixmultiply`'s own FMA kernels on such CPUs; elsewhere a product and a sum.
//!
//! Each entry sums its terms in order of `p` from `+0` (`0·∞` is NaN, as the large kernel gives
//! it; `pullback_product` repairs those terms for both).

use super::Operand;
use core::mem::MaybeUninit;
use num_traits::Float;

/// `f32` products of at most this many multiply-adds (`m·k·n`; 16 × 16 by 16 × 16) take this
/// path.
pub(super) const MAX_F32_MULTIPLY_ADDS: usize = 4096;

/// `f64` products of at most this many multiply-adds (16 × 4 by 4 × 16) take this path: its
/// columns are half as many rows per vector, and at 16 × 16 by 16 × 16 a gradient through the
/// product took 1.17× longer here than on `matrixmultiply` (1.25× at 8 × 64 by 64 × 8).
pub(super) const MAX_F64_MULTIPLY_ADDS: usize = 1024;

/// True when `a·b` (inner dimensions equal) holds entries, has at most `max_multiply_adds`
/// multiply-adds and a side of at least 8 (a full vector block: a 4 × 256 by 256 × 4 product,
/// summed row by row here, was slower than on `matrixmultiply`).
pub(super) fn is_small<T>(
    a: &Operand<'_, T>,
    b: &Operand<'_, T>,
    max_multiply_adds: usize,
) -> bool {
    a.rows.min(b.cols) > 0
        && a.rows.max(b.cols) >= 8
        && a.rows
            .checked_mul(a.cols)
            .and_then(|mk| mk.checked_mul(b.cols))
            .is_some_and(|size| size <= max_multiply_adds)
}

/// Writes `a·b` into the column-major `a.rows × b.cols` matrix `c`, initialising every entry;
/// `scratch` is working space (its contents are overwritten; it grows to at most
/// `(max(a.rows, b.cols) + 1)·a.cols` entries).
///
/// The caller has checked that the operands' strides stay inside their slices, that the inner
/// dimensions agree and are at least 1, and that `c` holds `a.rows · b.cols` entries.
pub(super) fn product<T: Float>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
    scratch: &mut Vec<T>,
) {
    let (a, b, steps) = oriented(a, b);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: `columns_fma` needs AVX2 and FMA, which the CPU has (tested just above).
        unsafe {
            columns_fma(a, b, c, scratch, steps);
        }
        return;
    }
    columns(a, b, c, scratch, steps, |s, x, t| t + s * x);
}

/// The operands whose columns [`columns`] sums, and the steps between C's rows and columns in
/// its storage: `(a, b, (1, m))` for C itself when it has at least as many rows as columns,
/// else `(bᵀ, aᵀ, (m, 1))` for `Cᵀ = Bᵀ·Aᵀ`, written back with rows and columns swapped — so
/// the summed columns are the longer side.
type Oriented<'a, T> = (Operand<'a, T>, Operand<'a, T>, (usize, usize));

/// See [`Oriented`].
fn oriented<'a, T: Copy>(a: Operand<'a, T>, b: Operand<'a, T>) -> Oriented<'a, T> {
    let m = a.rows;
    if m >= b.cols {
        (a, b, (1, m))
    } else {
        (b.transpose(), a.transpose(), (m, 1))
    }
}

/// [`columns`] compiled for AVX2 with fused multiply-adds.
///
/// `unsafe` outside code compiled with AVX2 and FMA: the CPU must have both.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn columns_fma<T: Float>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
    scratch: &mut Vec<T>,
    steps: (usize, usize),
) {
    columns(a, b, c, scratch, steps, |s, x, t| x.mul_add(s, t));
}

/// `C[:, j] = Σₚ A[:, p]·B[p, j]` (`m × n` from `m × k` by `k × n`), with
/// `multiply_add(s, x, t) = t + s·x`, entry `(i, j)` written to `c[i·steps.0 + j·steps.1]`.
///
/// A column of C is summed sixteen rows at a time (two AVX2 vectors of `f32`, four of `f64`),
/// then eight, then row by row, each block in a local array kept in registers over all `p`
/// ([`block_sum`]). A's columns are read in place when contiguous, else from a copy in
/// `scratch`; B's column `j` likewise (its copy after A's).
#[inline(always)]
fn columns<T: Float>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
    scratch: &mut Vec<T>,
    (row_step, column_step): (usize, usize),
    multiply_add: impl Fn(T, T, T) -> T + Copy,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    let a_copied = a.row_stride != 1;
    scratch.clear();
    let a_len = if a_copied { m * k } else { 0 };
    scratch.resize(a_len + k, T::zero());
    let (a_copy, b_copy) = scratch.split_at_mut(a_len);
    // A's column p starts at a_data[p·a_step].
    let (a_data, a_step) = if a_copied {
        for (p, column) in a_copy.chunks_exact_mut(m).enumerate() {
            for (i, x) in column.iter_mut().enumerate() {
                *x = a.at(i, p);
            }
        }
        (&*a_copy, m)
    } else {
        (a.data, a.col_stride as usize)
    };
    let a = (a_data, a_step);
    for j in 0..n {
        let b_column: &[T] = if b.row_stride == 1 {
            &b.data[j * b.col_stride as usize..][..k]
        } else {
            for (p, x) in b_copy.iter_mut().enumerate() {
                *x = b.at(p, j);
            }
            b_copy
        };
        let output = &mut c[j * column_step..];
        let mut row = 0;
        while row + 16 <= m {
            let sum = block_sum::<T, 16>(a, row, b_column, multiply_add);
            write(output, row, row_step, &sum);
            row += 16;
        }
        if row + 8 <= m {
            let sum = block_sum::<T, 8>(a, row, b_column, multiply_add);
            write(output, row, row_step, &sum);
            row += 8;
        }
        for i in row..m {
            let sum = block_sum::<T, 1>(a, i, b_column, multiply_add);
            write(output, i, row_step, &sum);
        }
    }
}

/// Rows `row … row + R − 1` of `Σₚ A[:, p]·s[p]`, `A`'s column `p` starting at
/// `a.0[p·a.1]`.
#[inline(always)]
fn block_sum<T: Float, const R: usize>(
    (a_data, a_step): (&[T], usize),
    row: usize,
    s: &[T],
    multiply_add: impl Fn(T, T, T) -> T,
) -> [T; R] {
    let mut sum = [T::zero(); R];
    // Indexed rather than through `chunks(a_step)`, whose length costs a division per block.
    for (p, &s) in s.iter().enumerate() {
        let x = a_data[row + p * a_step..]
            .first_chunk::<R>()
            .expect("A's block lies inside A");
        for (t, &x) in sum.iter_mut().zip(x) {
            *t = multiply_add(s, x, *t);
        }
    }
    sum
}

/// Writes `sum` as rows `row…` of a column of C whose rows are `row_step` apart.
#[inline(always)]
fn write<T: Copy>(output: &mut [MaybeUninit<T>], row: usize, row_step: usize, sum: &[T]) {
    if row_step == 1 {
        for (o, &v) in output[row..][..sum.len()].iter_mut().zip(sum) {
            *o = MaybeUninit::new(v);
        }
    } else {
        for (l, &v) in sum.iter().enumerate() {
            output[(row + l) * row_step] = MaybeUninit::new(v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{entries, integers, operand, stored, unwritten};
    use super::*;
    use crate::matrix::MatScalar;
    use nalgebra::DMatrix;

    /// Both builds (the run-time choice through `product`, and the portable loop in the same
    /// orientation) against the definition, for every storage of either operand, on shapes
    /// that reach every block size (16 and 8 rows, single rows, and 16 then 8 then single),
    /// with `m` above and below `n` (the transposed order; `m = 1` included), and `k = 1`.
    fn matches_the_definition<T: MatScalar>() {
        let mut scratch = Vec::new();
        for (m, k, n) in [
            (16, 4, 16),
            (3, 16, 16),
            (16, 3, 16),
            (16, 16, 4),
            (1, 1, 1),
            (9, 5, 2),
            (2, 5, 9),
            (17, 1, 3),
            (8, 7, 8),
            (7, 2, 23),
            (25, 2, 3),
            (1, 3, 9),
            (27, 3, 1),
        ] {
            let (x, y) = (integers::<T>(m, k, m), integers::<T>(k, n, n));
            let expected = &x * &y;
            for (fa, fb) in (0..4).flat_map(|fa| (0..4).map(move |fb| (fa, fb))) {
                let (sa, sb) = (stored(&x, fa), stored(&y, fb));
                let (a, b) = (operand(&sa, (m, k), fa), operand(&sb, (k, n), fb));
                assert!(a.in_bounds() && b.in_bounds());
                let mut c = unwritten(m * n);
                product(a, b, &mut c, &mut scratch);
                let mut portable = unwritten(m * n);
                let (a, b, steps) = oriented(a, b);
                columns(a, b, &mut portable, &mut scratch, steps, |s, x, t| {
                    t + s * x
                });
                for out in [c, portable] {
                    assert_eq!(
                        entries(m, n, out),
                        expected,
                        "{m}×{k}×{n}, storages {fa} and {fb}"
                    );
                }
            }
        }
    }

    #[test]
    fn matches_the_definition_on_every_operand_storage_f32() {
        matches_the_definition::<f32>();
    }

    #[test]
    fn matches_the_definition_on_every_operand_storage_f64() {
        matches_the_definition::<f64>();
    }

    /// A `0·∞` term makes its entry NaN, as on the large kernel (`pullback_product` repairs
    /// it by the chain-product convention for both); other entries stay finite.
    #[test]
    fn a_zero_times_infinity_term_is_nan_as_on_the_large_kernel() {
        let mut x = integers::<f32>(16, 4, 1);
        x[(2, 1)] = f32::INFINITY;
        let mut y = integers::<f32>(4, 3, 2);
        y[(1, 0)] = 0.0;
        y[(1, 1)] = 1.0;
        let mut c = unwritten(48);
        product(
            Operand::plain(&x),
            Operand::plain(&y),
            &mut c,
            &mut Vec::new(),
        );
        let c = entries(16, 3, c);
        assert!(c[(2, 0)].is_nan());
        assert_eq!(c[(2, 1)], f32::INFINITY);
        assert!(c[(3, 0)].is_finite());
    }

    /// At most the type's multiply-adds, a side of at least 8 (exactly 8 included), no
    /// empty output.
    #[test]
    fn small_means_few_multiply_adds_and_a_side_of_eight() {
        let small = |m: usize, k: usize, n: usize, max: usize| {
            let (x, y) = (DMatrix::<f32>::zeros(m, k), DMatrix::<f32>::zeros(k, n));
            is_small(&Operand::plain(&x), &Operand::plain(&y), max)
        };
        assert!(small(16, 16, 16, MAX_F32_MULTIPLY_ADDS));
        assert!(!small(16, 16, 17, MAX_F32_MULTIPLY_ADDS));
        assert!(!small(16, 16, 16, MAX_F64_MULTIPLY_ADDS));
        assert!(small(16, 4, 16, MAX_F64_MULTIPLY_ADDS));
        assert!(small(8, 2, 7, MAX_F32_MULTIPLY_ADDS));
        assert!(small(7, 2, 8, MAX_F32_MULTIPLY_ADDS));
        assert!(!small(7, 2, 7, MAX_F32_MULTIPLY_ADDS));
        assert!(!small(0, 2, 8, MAX_F32_MULTIPLY_ADDS));
    }
}
