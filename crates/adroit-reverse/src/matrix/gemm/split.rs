//! A large product's rows split over threads (feature `parallel`): blocks of rows of the
//! output, each its own call of the kernel on one thread, run on adroit's own product threads
//! ([`product_threads`](super::product_threads)) — the calling thread takes the first block.
//! Without the feature every product is one call on the calling thread.
//!
//! How many threads: `RAYON_NUM_THREADS` where that is a positive whole number, else one per
//! logical CPU the process may use (the size rayon's global pool takes from the environment;
//! a global pool sized in code, with `ThreadPoolBuilder::build_global`, does not change it),
//! at most `MATMUL_NUM_THREADS` where that is set —
//! `matrixmultiply`'s variable, read as it reads it (a value that is not a whole number
//! counts as 1; unset or empty, no limit; `matrixmultiply`'s own default is the physical
//! cores, at most 4) — and at most one thread per [`MIN_PART_MULTIPLY_ADDS`] multiply-adds of
//! the product (on an x86 CPU without AVX-512, two from
//! [`MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512`]) and per [`ROW_QUANTUM`] rows. A product
//! computed on a thread of a rayon pool (code of one's own running in `par_iter` or
//! `ThreadPool::install`) is not split: that pool's threads already occupy the CPUs. (When
//! the product threads were a rayon pool, such a thread, waiting for its blocks, could run
//! another job of its pool recording on the matrix tape it was in the middle of recording
//! on.)
//!
//! Why a pool of its own, not rayon's global one: a caller holding a lock that every thread
//! of the global pool was waiting for (its own `par_iter` over a model behind a mutex) waited
//! for ever for blocks no thread was free to run (a subagent's hunt: a 512 × 1024 × 64
//! product's gradient hung, 3 of 3 runs). The product threads run nothing but blocks of
//! products, so they are always free to finish them. They start on the first split product
//! (one fewer than the threads: the caller takes a block) and then wait for the next, spinning
//! briefly and then asleep. A program that also keeps rayon's global pool busy while it
//! multiplies has both pools' threads running (up to 2N − 1 for N CPUs): cap one with
//! `MATMUL_NUM_THREADS` or `RAYON_NUM_THREADS`. Why not a rayon pool of their own, as
//! until the sixty-fifth session: the step below took 2.25–2.40 ms on these threads against
//! 2.45–2.62 ms on that pool, on the 2-vCPU Intel machine (`BENCHMARKS.md` §X.9).
//!
//! Why: the largest MLP step of `BENCHMARKS.md` §W.12 (784-512-512-10, batch 128, `f32`) on
//! two threads took 2.00–2.37 ms with its `gemm` products on one thread and 1.49–1.75 ms split
//! in two (its four large products are 33.5 to 51.4 million multiply-adds; measured with the
//! blocks on rayon's global pool — on the product threads the step measured the same, §X.5).
//! Splitting a small product would cost more than it saves: on that machine a rayon job
//! reached another thread 20–50 µs after it was started (§W.12). Without AVX-512 the kernels
//! are slower, so smaller products pay for the start (see
//! [`MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512`]).
//!
//! Rounding: a block is a whole number of [`ROW_QUANTUM`] rows (but the last); each entry of
//! the output is still one dot product summed by the kernel, but the kernel chooses its depth
//! blocks from the shape of the call, so an entry may differ in its last bits with the number
//! of threads (for the 784-512-512-10 MLP step's products it did not: the same loss to the
//! last bit; on an AMD Zen 1, 128 × 784 by 784 × 64 in two blocks differed from the whole
//! product in 7,360 of its 8,192 entries, by at most 2.7e-5 in entries up to 35, where
//! 256 × 784 by 784 × 64 and 128 × 64 by 64 × 784 agreed to the last bit). Which blocks a
//! product is split into depends on its shape, the CPU and the thread count alone, so a
//! program's results repeat from run to run on one machine.

/// The fewest multiply-adds a thread's block is given: splitting a smaller product costs more
/// in starting the threads than it saves (but see [`MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512`]).
pub(super) const MIN_PART_MULTIPLY_ADDS: usize = 1 << 23;

/// On an x86 CPU without AVX-512, the fewest multiply-adds of a product split in two (where
/// [`MIN_PART_MULTIPLY_ADDS`] alone would leave it whole): `f32` products are slower there
/// (adroit's 784-512-512-10 step on one thread took 10.6 ms on the Zen 1 of `BENCHMARKS.md`
/// §Y.5, 3.56 and 3.29 ms on the AVX-512 machines of §X.5 and §W.5), so a smaller product
/// pays for the start of a second thread. On that Zen 1, on two threads, the 784-128-10 MLP
/// step (its two large products 6.4 million multiply-adds, split in two blocks of 64 rows)
/// took 526–531 µs against 730–789 µs whole (§Y.9). Larger products get one block per
/// [`MIN_PART_MULTIPLY_ADDS`] as elsewhere (more blocks than two were not measured there).
pub(super) const MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512: usize = 1 << 22;

/// Whether this CPU splits products from [`MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512`]: an x86
/// CPU without AVX-512F (read at run time, as the `gemm` crate picks its kernels).
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
fn splits_smaller_products() -> bool {
    !std::arch::is_x86_feature_detected!("avx512f")
}

/// Not on CPUs that are not x86 (not measured there).
#[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
fn splits_smaller_products() -> bool {
    false
}

/// Rows per block come in multiples of this (the `f32` AVX-512 micro-kernel's 64 rows), and
/// no block but the last is shorter.
pub(super) const ROW_QUANTUM: usize = 64;

/// The fewest columns of a product that is split (narrower ones take the kernel's
/// matrix-vector paths, which view the whole output as one slice).
const MIN_COLUMNS: usize = 16;

/// How many blocks of rows the `m × n` output of an `m × k` by `k × n` product is split into
/// (1: not split). The size tests come first, so that a program whose products are all small
/// never starts the product threads.
pub(super) fn parts(m: usize, n: usize, k: usize) -> usize {
    let work = m.saturating_mul(n).saturating_mul(k);
    let mut blocks = work / MIN_PART_MULTIPLY_ADDS;
    if blocks < 2 && work >= MIN_SPLIT_MULTIPLY_ADDS_WITHOUT_AVX512 && splits_smaller_products() {
        blocks = 2;
    }
    let by_size = blocks.min(m / ROW_QUANTUM);
    if n < MIN_COLUMNS || by_size < 2 {
        return 1;
    }
    threads().min(by_size).max(1)
}

/// Calls `rows(i0, i1)` once for each of at most `parts` consecutive blocks of rows covering
/// `0..m` exactly once — the [`ROW_QUANTUM`]-row units of `0..m` (the last one shorter)
/// spread evenly, so blocks differ by at most one unit — the first block on the calling
/// thread and the others on the product threads (with the feature `parallel`); returns when
/// every call has.
pub(super) fn run<F: Fn(usize, usize) + Sync>(parts: usize, m: usize, rows: &F) {
    let units = m.div_ceil(ROW_QUANTUM);
    let parts = parts.min(units);
    if parts <= 1 {
        rows(0, m);
        return;
    }
    let bound = move |p: usize| (units * p / parts * ROW_QUANTUM).min(m);
    spawn_blocks(parts, &bound, rows);
}

/// Blocks `1..parts` (rows `bound(p)..bound(p + 1)`) on the product threads, block 0 here
/// (all here, one after another, if the threads could not be started or another caller's
/// product holds them).
#[cfg(feature = "parallel")]
fn spawn_blocks<B, F>(parts: usize, bound: &B, rows: &F)
where
    B: Fn(usize) -> usize + Sync,
    F: Fn(usize, usize) + Sync,
{
    let block = |p: usize| rows(bound(p), bound(p + 1));
    match super::product_threads::pool(available().saturating_sub(1)) {
        Some(pool) => pool.run(parts, &block),
        None => (0..parts).for_each(block),
    }
}

/// Without the feature (where [`parts`] is 1 but for tests), the blocks one after another.
#[cfg(not(feature = "parallel"))]
fn spawn_blocks<B, F>(parts: usize, bound: &B, rows: &F)
where
    B: Fn(usize) -> usize + Sync,
    F: Fn(usize, usize) + Sync,
{
    for p in 0..parts {
        rows(bound(p), bound(p + 1));
    }
}

/// The threads a product may use: 1 on a thread of a rayon pool (see the module docs), else
/// [`available`]. (A block never multiplies again; if one did, on a product thread, its blocks
/// would all run on that thread: the caller that posted it holds the threads.)
#[cfg(feature = "parallel")]
fn threads() -> usize {
    if rayon::current_thread_index().is_some() {
        return 1;
    }
    available()
}

/// `RAYON_NUM_THREADS` if a positive whole number, else the CPUs the process may use, capped
/// by `MATMUL_NUM_THREADS` where set (both read once; see the module docs).
#[cfg(feature = "parallel")]
pub(super) fn available() -> usize {
    use std::sync::OnceLock;
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        let rayon_threads = std::env::var("RAYON_NUM_THREADS")
            .ok()
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0);
        let cpus = || std::thread::available_parallelism().map_or(1, |n| n.get());
        let limit = limit_from(std::env::var("MATMUL_NUM_THREADS").ok());
        capped(rayon_threads.unwrap_or_else(cpus), limit)
    })
}

/// One thread without the feature `parallel`.
#[cfg(not(feature = "parallel"))]
fn threads() -> usize {
    1
}

/// The limit a value of `MATMUL_NUM_THREADS` sets, read as `matrixmultiply` reads it: none
/// when unset or empty, 1 for a value that is not a whole number.
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
pub(super) fn limit_from(value: Option<String>) -> Option<usize> {
    match value {
        Some(v) if !v.is_empty() => Some(v.parse::<usize>().unwrap_or(1)),
        _ => None,
    }
}

/// `pool` threads, at most `limit` (at least 1).
#[cfg_attr(not(feature = "parallel"), allow(dead_code))]
pub(super) fn capped(pool: usize, limit: Option<usize>) -> usize {
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
        assert_eq!(limit_from(None), None);
        assert_eq!(limit_from(Some(String::new())), None);
        assert_eq!(limit_from(Some("3".into())), Some(3));
        assert_eq!(limit_from(Some(" 2".into())), Some(1));
        assert_eq!(limit_from(Some("many".into())), Some(1));
    }

    #[test]
    fn blocks_cover_the_rows_once_and_evenly() {
        for (parts, m) in [
            (2, 512),
            (2, 300),
            (3, 200),
            (3, 1000),
            (4, 130),
            (2, 129),
            (2, 64),
            (5, 100),
            (2, 1),
        ] {
            let seen = std::sync::Mutex::new(Vec::new());
            run(parts, m, &|i0, i1| seen.lock().unwrap().push((i0, i1)));
            let mut seen = seen.into_inner().unwrap();
            seen.sort_unstable();
            assert!(seen.len() <= parts, "{parts}, {m}: {seen:?}");
            assert_eq!(seen.first().map(|b| b.0), Some(0), "{parts}, {m}");
            assert_eq!(seen.last().map(|b| b.1), Some(m), "{parts}, {m}");
            for pair in seen.windows(2) {
                assert_eq!(pair[0].1, pair[1].0, "{parts}, {m}: {seen:?}");
            }
            let units: Vec<usize> = seen
                .iter()
                .map(|b| (b.1 - b.0).div_ceil(ROW_QUANTUM))
                .collect();
            for &(i0, i1) in &seen[..seen.len() - 1] {
                assert!(i0 < i1 && (i1 - i0) % ROW_QUANTUM == 0, "{seen:?}");
            }
            let (least, most) = (units.iter().min(), units.iter().max());
            assert!(most.zip(least).is_some_and(|(a, b)| a - b <= 1), "{seen:?}");
        }
    }

    /// The 784-128-10 MLP step's products (6.4 million multiply-adds, 128 rows) are split in
    /// two on an x86 CPU without AVX-512 where two threads are available, and whole elsewhere;
    /// a large product gets one block per 2²³ multiply-adds on every CPU.
    #[test]
    fn smaller_products_are_split_in_two_without_avx512() {
        #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
        let avx512 = std::arch::is_x86_feature_detected!("avx512f");
        #[cfg(not(any(target_arch = "x86", target_arch = "x86_64")))]
        let avx512 = true;
        assert_eq!(splits_smaller_products(), !avx512);
        let expected = if !avx512 && threads() >= 2 { 2 } else { 1 };
        assert_eq!(parts(128, 64, 784), expected);
        assert_eq!(parts(128, 784, 64), expected);
        // Under 2²² multiply-adds nothing is split anywhere.
        assert_eq!(parts(128, 64, 511), 1);
        // 2²⁵ multiply-adds: four blocks at most, as with AVX-512.
        assert_eq!(parts(512, 128, 512), threads().min(4));
    }

    #[test]
    fn small_or_narrow_products_are_not_split() {
        assert_eq!(parts(512, 8, 100_000), 1);
        assert_eq!(parts(63, 1000, 100_000), 1);
        assert_eq!(parts(512, 128, 16), 1);
    }
}
