//! Products on the `gemm` crate's kernels (feature `gemm`): for `f32`, every product above the
//! tiny sizes of [`small`](super::small) except one whose left operand is read transposed and
//! deeper than [`MAX_TRANSPOSED_LEFT_DEPTH`], which stays on `matrixmultiply`.
//!
//! Why: on an AVX-512 CPU (AMD Zen 5), `gemm` 0.19's kernels took 57–61 µs for a 784-128-10
//! layer's 128 × 784 by 784 × 64 product (f32, one thread) where `matrixmultiply` 0.3 took
//! 76–82 µs, and were faster on every product of a training step measured, except `Aᵀ·B` with
//! `A` read transposed at depth 512 or more (512 × 512 by 512 × 128: 440–484 µs against 372–398
//! µs; at depth 1024, 330 against 174 µs). `tools/gemm_compare` has the table, `BENCHMARKS.md`
//! the step's time either way.
//!
//! Both kernels sum each entry's terms in their own blocked order, with fused multiply-adds on
//! CPUs that have them: results differ from each other (and from a plain loop) by rounding only.
//! `gemm` runs the product on the calling thread (`MATMUL_NUM_THREADS`, `matrixmultiply`'s
//! threading variable, does not apply to it).
//!
//! Why not `f64`: `matrixmultiply` sums every entry in the same order whatever the product's
//! other dimensions and its operands' layout, so a dual matrix product — whose value part is
//! one real product of the operands' values stacked over their tangents (`dual_gemm`) — gives
//! the value the plain product gives, bit for bit, and a Hessian-vector product's gradient is
//! the gradient's (adroit-check's second-order checks compare them exactly, in `f64`). `gemm`'s
//! order depends on the shape (its depth blocks, its paths for small outputs and single rows),
//! so the stacked product's value parts can differ in the last bit: in `f32`, where the
//! training steps are, the feature accepts that (a `Dual<f32>` recording's values may differ
//! from an `f32` one's by rounding); in `f64`, the type of checks and Hessians, it does not.

use super::Operand;
use core::mem::MaybeUninit;

/// The deepest product (inner dimension `k`) whose left operand is read transposed (a row
/// stride other than 1, as `Wᵀ·G` in a layer's pullback) that runs here; deeper ones run on
/// `matrixmultiply` (measured: `gemm` faster up to 256, slower from 512 on).
pub(super) const MAX_TRANSPOSED_LEFT_DEPTH: usize = 256;

/// True when `a·b` runs on `gemm` (the caller has ruled out tiny products).
pub(super) fn takes<T>(a: &Operand<'_, T>) -> bool {
    a.row_stride == 1 || a.rows == 1 || a.cols <= MAX_TRANSPOSED_LEFT_DEPTH
}

/// Writes `a·b` into the column-major `a.rows × b.cols` matrix `c` on `gemm`'s kernel,
/// initialising every entry (`c` is never read). `T` is `f32` or `f64` (the tests run both);
/// `zero` and `one` are its 0 and 1.
///
/// The caller has checked that the operands' strides stay inside their slices, that the inner
/// dimensions agree and are at least 1, and that `c` holds `a.rows · b.cols` entries.
///
/// # Panics
/// If `T` is neither `f32` nor `f64` (`gemm`'s own check).
pub(super) fn product<T: Copy + 'static>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
    zero: T,
    one: T,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    debug_assert!(k == b.rows && k > 0);
    debug_assert_eq!(Some(c.len()), m.checked_mul(n));
    // SAFETY: every entry the kernel reads of `a` and `b` lies inside their slices (checked by
    // the caller: `in_bounds`), every entry it writes of the column-major `m × n` matrix `c`
    // (column stride `m`, row stride 1) lies inside `c`, and `c` is a unique borrow, so it
    // aliases neither operand. With `read_dst` false `gemm` sets its `alpha` to 0 and its
    // kernels then store `beta·(a·b)` without loading `c` (gemm-common 0.19: `alpha_status`
    // 0), so `c` may start uninitialised; with `beta` 1 that is `a·b`. `gemm` takes the
    // column stride before the row stride.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr().cast::<T>(),
            m as isize,
            1,
            false,
            a.data.as_ptr(),
            a.col_stride,
            a.row_stride,
            b.data.as_ptr(),
            b.col_stride,
            b.row_stride,
            zero,
            one,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
