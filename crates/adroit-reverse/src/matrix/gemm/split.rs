//! A large product's rows split over threads (feature `parallel`): blocks of rows of the
//! output, each its own call of the kernel on one thread, run on rayon's pool — the calling
//! thread takes the first block. Without the feature every product is one call on the
//! calling thread.
//!
//! How many threads: rayon's (its global pool: `RAYON_NUM_THREADS`, or the CPUs the process
//! may use; or the pool a caller runs the product in with `ThreadPool::install`), at most
//! `MATMUL_NUM_THREADS` where that is set (`matrixmultiply`'s variable: one setting for both
//! kernels), and at most one thread per [`MIN_PART_MULTIPLY_ADDS`] multiply-adds of the
//! product and per [`ROW_QUANTUM`] rows.
//!
//! Why: the largest MLP step of `BENCHMARKS.md` §W.12 (784-512-512-10, batch 128, `f32`) on
//! two threads took 2.00–2.11 ms with its `gemm` products on one thread and 1.52–1.72 ms split
//! in two (its four large products are 33.5 to 51.4 million multiply-adds; the threads' start
//! costs 20–50 µs a product on that VM, so small ones stay whole).
//!
//! Rounding: a block is a whole number of [`ROW_QUANTUM`] rows; each entry of the output is
//! still one dot product summed by the kernel, but the kernel chooses its depth blocks from
//! the shape of the call, so an entry may differ in its last bits with the number of threads
//! (for the MLP steps' products it did not: the same loss to the last bit).

/// The fewest multiply-adds a thread's block is given: splitting a smaller product costs more
/// in starting the threads than it saves.
pub(super) const MIN_PART_MULTIPLY_ADDS: usize = 1 << 23;

/// Rows per block come in multiples of this (the `f32` AVX-512 micro-kernel's 64 rows), and
/// no block but the last is shorter.
pub(super) const ROW_QUANTUM: usize = 64;

/// The fewest columns of a product that is split (narrower ones take the kernel's
/// matrix-vector paths, which view the whole output as one slice).
const MIN_COLUMNS: usize = 16;

/// How many blocks of rows the `m × n` output of an `m × k` by `k × n` product is split into
/// (1: not split).
pub(super) fn parts(m: usize, n: usize, k: usize) -> usize {
    if n < MIN_COLUMNS {
        return 1;
    }
    let work = m.saturating_mul(n).saturating_mul(k);
    threads()
        .min(work / MIN_PART_MULTIPLY_ADDS)
        .min(m / ROW_QUANTUM)
        .max(1)
}

/// Calls `rows(i0, i1)` once for each of `parts` consecutive blocks of rows covering `0..m`
/// (blocks of a multiple of [`ROW_QUANTUM`] rows, the last one shorter), the first on the
/// calling thread and the others on rayon's pool (with the feature `parallel`); returns when
/// every call has.
pub(super) fn run<F: Fn(usize, usize) + Sync>(parts: usize, m: usize, rows: &F) {
    if parts <= 1 {
        rows(0, m);
        return;
    }
    let block = m.div_ceil(parts).div_ceil(ROW_QUANTUM) * ROW_QUANTUM;
    spawn_blocks(block, m, rows);
}

/// The blocks after the first on rayon's pool, the first here.
#[cfg(feature = "parallel")]
fn spawn_blocks<F: Fn(usize, usize) + Sync>(block: usize, m: usize, rows: &F) {
    rayon::in_place_scope(|scope| {
        for i0 in (block..m).step_by(block) {
            scope.spawn(move |_| rows(i0, (i0 + block).min(m)));
        }
        rows(0, block.min(m));
    });
}

/// Without the feature (where [`parts`] is 1 but for tests), the blocks one after another.
#[cfg(not(feature = "parallel"))]
fn spawn_blocks<F: Fn(usize, usize) + Sync>(block: usize, m: usize, rows: &F) {
    for i0 in (0..m).step_by(block) {
        rows(i0, (i0 + block).min(m));
    }
}

/// The threads a product may use: rayon's pool's, capped by `MATMUL_NUM_THREADS` where set
/// (read once; a value that is not a number is ignored, 0 counts as 1).
#[cfg(feature = "parallel")]
fn threads() -> usize {
    use std::sync::OnceLock;
    static LIMIT: OnceLock<Option<usize>> = OnceLock::new();
    let limit = *LIMIT.get_or_init(|| {
        std::env::var("MATMUL_NUM_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
    });
    capped(rayon::current_num_threads(), limit)
}

/// One thread without the feature `parallel`.
#[cfg(not(feature = "parallel"))]
fn threads() -> usize {
    1
}

/// `pool` threads, at most `limit` (at least 1).
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
fn capped(pool: usize, limit: Option<usize>) -> usize {
    limit.map_or(pool, |l| pool.min(l)).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_caps_the_pool() {
        assert_eq!(capped(8, None), 8);
        assert_eq!(capped(8, Some(2)), 2);
        assert_eq!(capped(2, Some(4)), 2);
        assert_eq!(capped(4, Some(0)), 1);
    }

    #[test]
    fn blocks_cover_the_rows_once() {
        for (parts, m) in [(2, 512), (2, 300), (3, 1000), (4, 130), (2, 64)] {
            let seen = std::sync::Mutex::new(Vec::new());
            run(parts, m, &|i0, i1| seen.lock().unwrap().push((i0, i1)));
            let mut seen = seen.into_inner().unwrap();
            seen.sort_unstable();
            assert_eq!(seen.first().map(|b| b.0), Some(0), "{parts}, {m}");
            assert_eq!(seen.last().map(|b| b.1), Some(m), "{parts}, {m}");
            for pair in seen.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "{parts}, {m}: {seen:?}");
            }
            for &(i0, i1) in &seen[..seen.len() - 1] {
                assert!(i0 < i1 && (i1 - i0) % ROW_QUANTUM == 0, "{seen:?}");
            }
        }
    }

    #[test]
    fn small_or_narrow_products_are_not_split() {
        assert_eq!(parts(512, 8, 100_000), 1);
        assert_eq!(parts(63, 1000, 100_000), 1);
        assert_eq!(parts(512, 128, 16), 1);
    }
}
