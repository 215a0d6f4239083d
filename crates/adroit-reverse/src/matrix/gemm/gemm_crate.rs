//! Products on the `gemm` crate's kernels (feature `gemm`): for `f32`, every product above the
//! tiny sizes of [`small`](super::small) except one whose left operand is read transposed (and
//! has more than one row) deeper than [`MAX_TRANSPOSED_LEFT_DEPTH`], which stays on
//! `matrixmultiply`, as does every product on a CPU with FMA but not AVX2, and every product
//! during the thread's teardown once `gemm`'s thread-local buffer is gone ([`takes`]).
//!
//! Why: on an AVX-512 CPU (AMD Zen 5, `BENCHMARKS.md` §W.9–§W.10), `gemm` 0.19's kernels took
//! 57–62 µs for a 784-128-10 layer's 128 × 784 by 784 × 64 product (f32, one thread) where
//! `matrixmultiply` 0.3 took 76–82 µs, and were faster on every product of two training steps
//! but one: `Aᵀ·B` with `A` read transposed, which `gemm` runs faster up to depth 256, about
//! level at depth 512 (3 % either way) but for 512 × 512 by 512 × 128 (440–484 µs against
//! 372–398 µs), and at depth 1024 twice as slow (330 against 174 µs). `tools/gemm_compare` has
//! the tables; measured on Zen 5 only (on Zen 4, §V.9, by at most 11 % on the large products).
//!
//! Both kernels sum each entry's terms in their own blocked order, with fused multiply-adds on
//! CPUs that have them: results differ from each other (and from a plain loop) by rounding only.
//! `gemm`'s depth blocks follow the CPU's cache sizes, which it reads once per process (from
//! `/sys`, or by running `lscpu` where that fails), so its rounding can differ between machines
//! with the same instruction set. Each call runs on one thread and keeps a working buffer of
//! about the L2 cache's size per thread that uses it; with the feature `parallel` a large
//! product is split into blocks of rows, one call each, on adroit's product threads (at most
//! `MATMUL_NUM_THREADS`, `matrixmultiply`'s threading variable, where that is set: see
//! [`split`](super::split)), else it runs on the calling thread.
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

use super::{Operand, split};
use crate::matrix::MatScalar;
use core::mem::MaybeUninit;

/// The deepest product (inner dimension `k`) whose left operand is read transposed (a row
/// stride other than 1, as `Wᵀ·G` in a layer's pullback) that runs here; deeper ones run on
/// `matrixmultiply` (see the module docs for the measurements).
pub(super) const MAX_TRANSPOSED_LEFT_DEPTH: usize = 256;

/// True when `a·b` runs on `gemm` (the caller has ruled out tiny products): `a` is read in
/// storage order (or is a single row), or not deeper than [`MAX_TRANSPOSED_LEFT_DEPTH`]; the
/// CPU is not one that `gemm` 0.19 mishandles; and `gemm`'s thread-local buffer is alive.
///
/// The last test also registers that buffer (it is created on first use, as `gemm` would), so
/// that at thread exit it is destroyed after any thread-local registered before the thread's
/// first product; where it was destroyed before one whose destructor multiplies matrices, the
/// product runs on `matrixmultiply` (`gemm` would panic there, and a panic in a thread-local's
/// destructor aborts the process).
pub(super) fn takes<T>(a: &Operand<'_, T>) -> bool {
    (a.row_stride == 1 || a.rows == 1 || a.cols <= MAX_TRANSPOSED_LEFT_DEPTH)
        && cpu_is_supported()
        && gemm_common::gemm::L2_SLAB.try_with(|_| ()).is_ok()
}

/// False on x86 CPUs with FMA but not AVX2 (AMD's Piledriver to Excavator): `gemm` 0.19 picks
/// its FMA kernels on FMA alone, and their AVX2 context then fails to start (a panic).
fn cpu_is_supported() -> bool {
    #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
    {
        !std::arch::is_x86_feature_detected!("fma") || std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
    {
        true
    }
}

/// Writes `a·b` into the column-major `a.rows × b.cols` matrix `c` on `gemm`'s kernel,
/// initialising every entry. `T` is `f32` or `f64` (the tests run both).
///
/// # Panics
/// If an operand's strides reach outside its slice, the inner dimensions differ or are 0, or
/// `c` does not hold `a.rows · b.cols` entries; if `T` is neither `f32` nor `f64` (`gemm`'s
/// own check).
pub(super) fn product<T: MatScalar + 'static>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
) {
    let parts = split::parts(a.rows, b.cols, a.cols);
    product_in_parts(a, b, c, parts);
}

/// [`product`] in `parts` blocks of rows ([`split::run`]: on several threads with the feature
/// `parallel`).
///
/// # Panics
/// As [`product`].
pub(super) fn product_in_parts<T: MatScalar + 'static>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    c: &mut [MaybeUninit<T>],
    parts: usize,
) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(a.in_bounds() && b.in_bounds() && k == b.rows && k > 0);
    assert_eq!(Some(c.len()), m.checked_mul(n));
    if m == 1 || n == 1 {
        // `gemm`'s matrix-vector paths view the output as a slice before writing it, which
        // the standard library requires to be initialised (they do not read it): a vector's
        // worth of zeros first. A block of rows (`split`) of a product with n > 1 is not such
        // a path: blocks have 64 rows or more (but where a test forces more blocks), and a
        // block of one row keeps the output's column stride `m`, where gemm-common 0.19's
        // single-row path needs a unit one, so it goes to the path that writes through
        // pointers.
        c.fill(MaybeUninit::new(T::zero()));
    }
    let out = Output(c.as_mut_ptr().cast::<T>());
    let rows = |i0: usize, i1: usize| {
        // SAFETY: `rows` is called with disjoint row ranges inside `0..m` (`split::run`), each
        // once, while `c` stays uniquely borrowed by this function (`split::run` returns after
        // every call did), so the calls write disjoint entries of `c` and nothing else reads
        // or writes them meanwhile.
        unsafe { rows_of_product(a, b, out, m, i0..i1) }
    };
    split::run(parts, m, &rows);
}

/// The output buffer of [`product`], shared by the calls that write its row blocks (on other
/// threads with the feature `parallel`): a raw pointer, which is neither `Send` nor `Sync`.
#[derive(Clone, Copy)]
struct Output<T>(*mut T);

// SAFETY: the pointer is only written through by `rows_of_product`, whose calls for one
// product write disjoint entries (see `product`), and `T` (`f32` or `f64`) is `Send`.
unsafe impl<T: Send> Send for Output<T> {}
// SAFETY: as for `Send`: the shared pointer itself is never dereferenced outside those calls.
unsafe impl<T: Send> Sync for Output<T> {}

/// Writes rows `rows` of `a·b` into the column-major `m × b.cols` matrix at `out`.
///
/// # Safety
/// `out` must point to `m · b.cols` entries that no one else reads or writes during the call,
/// apart from other calls for the same product writing other rows; `rows` must lie inside
/// `0..a.rows`, `m = a.rows`, and the operands must have passed `product`'s checks.
unsafe fn rows_of_product<T: MatScalar + 'static>(
    a: Operand<'_, T>,
    b: Operand<'_, T>,
    out: Output<T>,
    m: usize,
    rows: core::ops::Range<usize>,
) {
    let (zero, one) = (T::zero(), T::one());
    // SAFETY: every entry the kernel reads of `a` (rows `rows`: `a` advanced by `rows.start`
    // row strides, still inside its slice since `rows.start < a.rows`) and of `b` lies inside
    // their slices (`in_bounds`, whose strides are non-negative); every entry it writes — rows
    // `rows` of the column-major `m × n` matrix at `out` (column stride `m`, row stride 1) —
    // lies inside that matrix, which aliases neither operand (a unique borrow in `product`),
    // and no other call writes these rows (the caller's contract). With `read_dst` false `gemm`
    // sets its `alpha` to 0, and then every path of gemm-common 0.19 (pinned to that release
    // in Cargo.toml) stores `beta·(a·b)` without loading the output first — the micro-kernels
    // and the small-output kernels by their `alpha_status` 0, the matrix-vector and `k ≤ 2`
    // paths by `alpha.is_zero()` — so it may start uninitialised (where it is viewed as a
    // slice it was zeroed in `product`); with `beta` 1 that is `a·b`. `gemm` takes the column
    // stride before the row stride.
    unsafe {
        gemm::gemm(
            rows.len(),
            b.cols,
            a.cols,
            out.0.add(rows.start),
            m as isize,
            1,
            false,
            a.data.as_ptr().offset(rows.start as isize * a.row_stride),
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
