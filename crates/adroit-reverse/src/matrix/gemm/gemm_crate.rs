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
//! with the same instruction set. It runs the product on the calling thread
//! (`MATMUL_NUM_THREADS`, `matrixmultiply`'s threading variable, does not apply to it), and
//! keeps a working buffer of about the L2 cache's size per thread that uses it.
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
    let (zero, one) = (T::zero(), T::one());
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert!(a.in_bounds() && b.in_bounds() && k == b.rows && k > 0);
    assert_eq!(Some(c.len()), m.checked_mul(n));
    if m == 1 || n == 1 {
        // `gemm`'s matrix-vector paths view the output as a slice before writing it, which
        // the standard library requires to be initialised (they do not read it): a vector's
        // worth of zeros first.
        c.fill(MaybeUninit::new(zero));
    }
    // SAFETY: every entry the kernel reads of `a` and `b` lies inside their slices
    // (`in_bounds`, whose strides are non-negative), every entry it writes of the column-major
    // `m × n` matrix `c` (column stride `m`, row stride 1) lies inside `c`, and `c` is a unique
    // borrow, so it aliases neither operand. With `read_dst` false `gemm` sets its `alpha` to
    // 0, and then every path of gemm-common 0.19 (pinned to that release in Cargo.toml) stores
    // `beta·(a·b)` without loading `c` first — the micro-kernels and the small-output kernels
    // by their `alpha_status` 0, the matrix-vector and `k ≤ 2` paths by `alpha.is_zero()` —
    // so `c` may start uninitialised (where it is viewed as a slice it was zeroed above); with
    // `beta` 1 that is `a·b`. `gemm` takes the column stride before the row stride.
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
