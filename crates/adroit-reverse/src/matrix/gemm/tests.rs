//! The large-product kernels against the definition: `matrixmultiply`'s, the `gemm` crate's
//! (with the feature) and the dispatch between them, on every operand storage.

use super::test_support::{entries, integers, operand, stored, unwritten};
use super::{Operand, dgemm, dgemm_matrixmultiply, sgemm, sgemm_matrixmultiply};
use crate::matrix::MatScalar;
use core::mem::MaybeUninit;
use nalgebra::DMatrix;

/// A product kernel: writes `a·b` into `c`.
type Kernel<T> = fn(Operand<'_, T>, Operand<'_, T>, &mut [MaybeUninit<T>]);

/// Shapes `(m, k, n)` above the tiny sizes of both types, reaching `gemm`'s paths: its
/// micro-kernels (both orientations, edge tiles), its small-output kernels (`m·n ≤ 256`), its
/// `k ≤ 2` path, its matrix-vector paths (a single row or column, with more than 256 rows
/// too), depths on either side of `gemm_crate::MAX_TRANSPOSED_LEFT_DEPTH` (the dispatch takes
/// either kernel for a transposed left operand) and beyond `matrixmultiply`'s depth block of
/// 256 and `gemm`'s smallest, 512.
const SHAPES: [(usize, usize, usize); 12] = [
    (17, 16, 18),
    (40, 4, 33),
    (64, 2, 64),
    (1, 300, 40),
    (33, 300, 1),
    (300, 20, 1),
    (1, 20, 300),
    (24, 256, 9),
    (9, 257, 24),
    (20, 600, 12),
    (12, 1100, 10),
    (64, 64, 64),
];

/// Every kernel of `kernels` on every storage of either operand equals the definition (the
/// entries are small integers, so every order of summation is exact), every entry written
/// (the output starts NaN, which a kernel that read it would keep).
fn matches_the_definition<T: MatScalar>(kernels: &[(&str, Kernel<T>)]) {
    for (m, k, n) in SHAPES {
        agree_on(kernels, (m, k, n), 4);
    }
}

/// [`matches_the_definition`] on one shape, for the first `forms` storages of each operand.
fn agree_on<T: MatScalar>(
    kernels: &[(&str, Kernel<T>)],
    (m, k, n): (usize, usize, usize),
    forms: usize,
) {
    let (x, y) = (integers::<T>(m, k, m), integers::<T>(k, n, n));
    let expected = &x * &y;
    for (fa, fb) in (0..forms).flat_map(|fa| (0..forms).map(move |fb| (fa, fb))) {
        let (sa, sb) = (stored(&x, fa), stored(&y, fb));
        for &(name, kernel) in kernels {
            let (a, b) = (operand(&sa, (m, k), fa), operand(&sb, (k, n), fb));
            let mut c = unwritten(m * n);
            kernel(a, b, &mut c);
            assert_eq!(
                entries(m, n, c),
                expected,
                "{name}: {m}×{k}×{n}, storages {fa} and {fb}"
            );
        }
    }
}

/// `f32` and `f64` kernels: the dispatch, `matrixmultiply`, and `gemm` (with the feature).
fn kernels_f32() -> Vec<(&'static str, Kernel<f32>)> {
    vec![
        ("dispatch", sgemm),
        ("matrixmultiply", sgemm_matrixmultiply),
        #[cfg(feature = "gemm")]
        ("gemm", super::gemm_crate::product),
    ]
}

/// As [`kernels_f32`].
fn kernels_f64() -> Vec<(&'static str, Kernel<f64>)> {
    vec![
        ("dispatch", dgemm),
        ("matrixmultiply", dgemm_matrixmultiply),
        #[cfg(feature = "gemm")]
        ("gemm", super::gemm_crate::product),
    ]
}

#[test]
fn large_products_match_the_definition_on_every_operand_storage_f32() {
    matches_the_definition(&kernels_f32());
}

#[test]
fn large_products_match_the_definition_on_every_operand_storage_f64() {
    matches_the_definition(&kernels_f64());
}

/// Products of a training step's sizes (sides above 64 and 128, where `gemm` sizes its blocks
/// from the cache and packs the right operand; depth beyond its blocks), plain or transposed
/// operands (fewer storages: each product is a few million multiply-adds in a debug build).
#[test]
fn products_of_a_training_steps_sizes_match_the_definition() {
    for shape in [(130, 600, 70), (160, 40, 200)] {
        agree_on(&kernels_f32(), shape, 2);
    }
}

/// Entries in `[−1, 1)` that are not small integers (so that summation orders differ in
/// rounding), from a fixed linear congruential sequence.
#[cfg(feature = "gemm")]
fn rounding<T: MatScalar>(rows: usize, cols: usize, seed: u64) -> DMatrix<T> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    DMatrix::from_fn(rows, cols, |_, _| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let unit = (state >> 11) as f64 / (1u64 << 53) as f64;
        T::from_f64(2.0 * unit - 1.0).unwrap_or_else(T::nan)
    })
}

/// The dispatch's route, seen in its results: on entries whose products round differently on
/// the two kernels (a depth of 600 sums in different blocks), `sgemm` gives `gemm`'s bits for
/// a plain left operand and `matrixmultiply`'s for a transposed one that deep.
#[cfg(feature = "gemm")]
#[test]
fn the_dispatch_routes_by_the_left_operands_layout_and_depth() {
    let run = |kernel: Kernel<f32>, a: Operand<'_, f32>, b: Operand<'_, f32>| {
        let mut c = unwritten(a.rows * b.cols);
        kernel(a, b, &mut c);
        entries(a.rows, b.cols, c)
    };
    let (m, k, n) = (40, 600, 30);
    let (x, y) = (rounding::<f32>(m, k, 1), rounding::<f32>(k, n, 2));
    let xt = x.transpose();
    for (a, deep_transposed) in [
        (Operand::plain(&x), false),
        (Operand::transposed(&xt), true),
    ] {
        let b = Operand::plain(&y);
        let (on_gemm, on_mm) = (
            run(super::gemm_crate::product, a, b),
            run(sgemm_matrixmultiply, a, b),
        );
        assert_ne!(
            on_gemm, on_mm,
            "the kernels round alike: the test cannot tell them apart"
        );
        let expected = if deep_transposed { on_mm } else { on_gemm };
        assert_eq!(run(sgemm, a, b), expected, "transposed: {deep_transposed}");
    }
}

/// On every kernel a `0·∞` term makes its entry NaN and an infinite term an infinite entry,
/// as IEEE arithmetic gives them: `pullback_product` relies on the NaN to find and repair
/// such terms by the chain-product convention. Other entries stay exact.
#[test]
fn a_zero_times_infinity_term_is_nan_on_every_kernel() {
    let (m, k, n) = (40, 70, 30);
    let mut x = integers::<f32>(m, k, 1);
    x[(2, 1)] = f32::INFINITY;
    let mut y = integers::<f32>(k, n, 2);
    y.row_mut(1).fill(1.0);
    y[(1, 0)] = 0.0;
    for (name, kernel) in kernels_f32() {
        let mut c = unwritten(m * n);
        kernel(Operand::plain(&x), Operand::plain(&y), &mut c);
        let c: DMatrix<f32> = entries(m, n, c);
        assert!(c[(2, 0)].is_nan(), "{name}");
        assert_eq!(c[(2, 1)], f32::INFINITY, "{name}");
        let finite = integers::<f32>(m, k, 1).row(3) * &y;
        assert_eq!(c.row(3), finite, "{name}");
    }
}

/// The dispatch's choice with the feature: a transposed left operand goes to `gemm` up to the
/// depth limit and to `matrixmultiply` beyond it; a plain one (or a single row) always to
/// `gemm`.
#[cfg(feature = "gemm")]
#[test]
fn deep_products_with_a_transposed_left_operand_stay_on_matrixmultiply() {
    use super::gemm_crate::{MAX_TRANSPOSED_LEFT_DEPTH, takes};
    let limit = MAX_TRANSPOSED_LEFT_DEPTH;
    let (shallow, deep) = (
        DMatrix::<f32>::zeros(limit, 8),
        DMatrix::<f32>::zeros(limit + 1, 8),
    );
    assert!(takes(&Operand::transposed(&shallow)));
    assert!(!takes(&Operand::transposed(&deep)));
    assert!(takes(&Operand::plain(&deep.transpose())));
    assert!(takes(&Operand::transposed(&DMatrix::<f32>::zeros(
        limit + 1,
        1
    ))));
}

/// Products split into blocks of rows (`gemm_crate::product_in_parts`, the path of large
/// products with the feature `parallel`, here forced on small shapes, called from a pool of
/// two threads where the feature is on: the blocks go to the product threads where more than
/// one thread is available, else run one after another) equal the definition on every
/// operand storage, every entry written: blocks of 64 rows and a shorter last one, two to
/// four of them.
#[cfg(feature = "gemm")]
#[test]
fn products_split_into_blocks_of_rows_match_the_definition() {
    use super::gemm_crate::product_in_parts;
    let check = || {
        for (m, k, n) in [(130, 20, 17), (200, 300, 18), (257, 33, 40), (64, 9, 20)] {
            let (x, y) = (integers::<f32>(m, k, m), integers::<f32>(k, n, n));
            let expected = &x * &y;
            for (fa, fb) in (0..4).flat_map(|fa| (0..4).map(move |fb| (fa, fb))) {
                let (sa, sb) = (stored(&x, fa), stored(&y, fb));
                for parts in 2..=4 {
                    let (a, b) = (operand(&sa, (m, k), fa), operand(&sb, (k, n), fb));
                    let mut c = unwritten(m * n);
                    product_in_parts(a, b, &mut c, parts);
                    assert_eq!(
                        entries(m, n, c),
                        expected,
                        "{m}×{k}×{n}, storages {fa} and {fb}, {parts} parts"
                    );
                }
            }
        }
    };
    #[cfg(feature = "parallel")]
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool of two threads")
        .install(check);
    #[cfg(not(feature = "parallel"))]
    check();
}

/// With the feature `parallel`, a product of the largest MLP step's size goes through the
/// dispatch (`sgemm` → `gemm_crate::product`) split into as many blocks as the product threads
/// and `MATMUL_NUM_THREADS` allow (two on a two-CPU machine), and its result equals the whole
/// product's to the last bit. That holds on every machine for a depth of at most 512: the
/// `gemm` crate (0.19: `gemm-common`'s `kernel_params` and its small-size path) takes such a
/// depth as one block whatever the row count and the caches, so each entry is one
/// accumulation over the whole depth in both the blocks and the whole product. Deeper
/// products may be cut into depth blocks that depend on the cache sizes (the docs promise
/// no bits there).
#[cfg(feature = "parallel")]
#[test]
fn a_large_product_is_split_over_the_pool_with_the_same_bits() {
    use super::gemm_crate::product_in_parts;
    use super::split::{available, parts};
    let (m, k, n) = (512, 512, 128);
    let (x, y) = (rounding::<f32>(m, k, 3), rounding::<f32>(k, n, 4));
    let expected_parts = parts(m, n, k);
    let threads = available();
    assert_eq!(expected_parts, threads.min(4), "threads {threads}");
    // The count itself, where neither variable is set: one thread per CPU.
    let unset = |v| std::env::var_os(v).is_none();
    if unset("RAYON_NUM_THREADS") && unset("MATMUL_NUM_THREADS") {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(threads, cpus);
    }
    let (a, b) = (Operand::plain(&x), Operand::plain(&y));
    let mut whole = unwritten(m * n);
    product_in_parts(a, b, &mut whole, 1);
    let whole: DMatrix<f32> = entries(m, n, whole);
    let mut dispatched = unwritten(m * n);
    sgemm(a, b, &mut dispatched);
    assert_eq!(entries::<f32>(m, n, dispatched), whole);
    let mut two = unwritten(m * n);
    product_in_parts(a, b, &mut two, 2);
    assert_eq!(entries::<f32>(m, n, two), whole);
    let reference = x.cast::<f64>() * y.cast::<f64>();
    let worst = (whole.cast::<f64>() - &reference).amax();
    assert!(worst < 1e-4, "{worst}");
}

/// Split products on several threads at once: one holds the product threads, the others run
/// their blocks themselves (`product_threads`), and every product equals the whole one to the
/// last bit (depth at most 512, see the test above).
#[cfg(feature = "parallel")]
#[test]
fn split_products_on_several_threads_at_once_equal_the_whole_ones() {
    use super::gemm_crate::product_in_parts;
    let (m, k, n) = (256, 64, 32);
    let (x, y) = (rounding::<f32>(m, k, 5), rounding::<f32>(k, n, 6));
    let (a, b) = (Operand::plain(&x), Operand::plain(&y));
    let mut whole = unwritten(m * n);
    product_in_parts(a, b, &mut whole, 1);
    let whole: DMatrix<f32> = entries(m, n, whole);
    std::thread::scope(|s| {
        for parts in [2, 3, 4, 2] {
            let whole = &whole;
            s.spawn(move || {
                for round in 0..50 {
                    let mut c = unwritten(m * n);
                    product_in_parts(a, b, &mut c, parts);
                    assert_eq!(
                        &entries::<f32>(m, n, c),
                        whole,
                        "{parts} parts, round {round}"
                    );
                }
            });
        }
    });
}

/// On a thread of a rayon pool a product is never split: that pool's threads already occupy
/// the CPUs (see `split`'s module docs).
#[cfg(feature = "parallel")]
#[test]
fn products_on_a_pools_thread_are_not_split() {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool of two threads");
    assert_eq!(pool.install(|| super::split::parts(512, 128, 512)), 1);
}

/// A caller holding a lock that every thread of rayon's global pool waits for still gets its
/// split product: the blocks run on adroit's own product threads. (On the global pool it
/// waited for ever: a subagent's hunt, a model behind a mutex, 3 of 3 runs; this test timed
/// out there. Where one thread is available nothing is split and it passes either way; a
/// machine too loaded to block the global pool's threads within 200 ms could pass it too.)
/// Depth 512, so that the split product has the whole one's bits (see the test above).
#[cfg(feature = "parallel")]
#[test]
fn a_split_product_finishes_while_the_global_pool_waits_for_its_caller() {
    use super::split::{available, parts};
    use rayon::prelude::*;
    use std::sync::{Arc, Barrier, Mutex, mpsc};
    use std::time::Duration;
    let (m, k, n) = (512, 512, 128);
    // Split wherever more than one thread is available (two on CI's machine).
    assert_eq!(parts(m, n, k) >= 2, available() >= 2);
    let (x, y) = (rounding::<f32>(m, k, 3), rounding::<f32>(k, n, 4));
    let mut whole = unwritten(m * n);
    super::gemm_crate::product_in_parts(Operand::plain(&x), Operand::plain(&y), &mut whole, 1);
    let model = Arc::new(Mutex::new(0_usize));
    let held = Arc::new(Barrier::new(2));
    let (done, finished) = mpsc::channel();
    let caller = {
        let (model, held) = (Arc::clone(&model), Arc::clone(&held));
        std::thread::spawn(move || {
            let mut guard = model.lock().expect("the lock");
            held.wait();
            // Time for the global pool's threads to block on the lock.
            std::thread::sleep(Duration::from_millis(200));
            let mut c = unwritten(m * n);
            sgemm(Operand::plain(&x), Operand::plain(&y), &mut c);
            *guard += 1;
            done.send(c).expect("the test waits");
        })
    };
    held.wait();
    let waiters = {
        let model = Arc::clone(&model);
        std::thread::spawn(move || {
            let threads = rayon::current_num_threads();
            (0..threads)
                .into_par_iter()
                .for_each(|_| *model.lock().expect("the lock") += 1);
            threads
        })
    };
    let product = finished
        .recv_timeout(Duration::from_secs(60))
        .expect("the split product did not finish in a minute: its blocks waited for a pool");
    assert_eq!(entries::<f32>(m, n, product), entries::<f32>(m, n, whole));
    caller.join().expect("the caller");
    let threads = waiters.join().expect("the waiters");
    assert_eq!(*model.lock().expect("the lock"), threads + 1);
}
