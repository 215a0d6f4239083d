//! A vectorised finiteness check for matrix data (gradients, losses, parameters).

use super::MatScalar;

/// True when every entry of `values` is finite (no NaN, no ±∞; for a dual number, in its
/// primal and every perturbation).
///
/// `v − v` is 0 exactly for finite `v` and NaN otherwise (in every part of a dual). The
/// comparisons with zero are combined by `&` over the whole slice, without an early exit, so
/// the scan vectorises into lane-wise compares, with no chain of additions to wait on (a plain
/// early-exit scan cost a quarter of a 784-128-10 training step). Reads every entry: use it
/// where most data are finite. On x86-64 CPUs with AVX-512F (or AVX2) the scan runs in a copy
/// compiled for it, chosen at run time: 16 (8) `f32` lanes where the baseline target's SSE2
/// has 4 (`BENCHMARKS.md` §W.11).
///
/// # Example
/// ```
/// use adroit_reverse::matrix::all_finite;
/// assert!(all_finite(&[1.0, -2.0, 0.0]));
/// assert!(!all_finite(&[1.0, f64::NAN]));
/// assert!(!all_finite(&[f32::NEG_INFINITY]));
/// ```
pub fn all_finite<T: MatScalar>(values: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            #[allow(unsafe_code)]
            // SAFETY: `scan_avx512` needs AVX-512F, which the CPU has (tested just above).
            return unsafe { scan_avx512(values) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: `scan_avx2` needs AVX2, which the CPU has (tested just above).
            return unsafe { scan_avx2(values) };
        }
    }
    scan(values)
}

/// [`scan`] compiled with AVX-512F enabled; calling it is `unsafe` outside code compiled with
/// AVX-512F: the CPU must have it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn scan_avx512<T: MatScalar>(values: &[T]) -> bool {
    scan(values)
}

/// [`scan`] compiled with AVX2 enabled; calling it is `unsafe` outside code compiled with AVX2:
/// the CPU must have it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn scan_avx2<T: MatScalar>(values: &[T]) -> bool {
    scan(values)
}

/// The scan of [`all_finite`], on the instructions of the function it is inlined into.
#[inline(always)]
#[allow(clippy::eq_op)] // v − v is the test
fn scan<T: MatScalar>(values: &[T]) -> bool {
    values.iter().fold(true, |all, &v| all & (v - v).is_zero())
}

#[cfg(test)]
mod tests {
    use super::{all_finite, scan};

    /// [`scan`] in every copy this CPU can run: the baseline, then AVX2 and AVX-512F where it
    /// has them.
    fn every_copy<T: super::MatScalar>(values: &[T]) -> Vec<bool> {
        let mut results = vec![scan(values)];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                #[allow(unsafe_code)]
                // SAFETY: the CPU has AVX2 (tested just above).
                results.push(unsafe { super::scan_avx2(values) });
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                #[allow(unsafe_code)]
                // SAFETY: the CPU has AVX-512F (tested just above).
                results.push(unsafe { super::scan_avx512(values) });
            }
        }
        results
    }

    /// Every length up to past twelve 16-lane blocks and a remainder, with one NaN, +∞ or −∞
    /// at every position, and none: [`all_finite`] and every copy of the scan this CPU can run
    /// (meaningful in an optimised build, where LLVM vectorises; CI runs it with `--release`).
    #[test]
    fn every_copy_of_the_scan_finds_every_non_finite_entry_at_every_position() {
        for len in 0..200 {
            let clean: Vec<f32> = (0..len).map(|i| i as f32 * 0.25 - 3.0).collect();
            let clean64: Vec<f64> = clean.iter().map(|&v| f64::from(v)).collect();
            assert!(all_finite(&clean) && every_copy(&clean).iter().all(|&f| f));
            assert!(all_finite(&clean64) && every_copy(&clean64).iter().all(|&f| f));
            for at in 0..len {
                for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                    let mut v = clean.clone();
                    v[at] = bad;
                    assert!(!all_finite(&v), "len {len}, {bad} at {at}");
                    assert!(
                        every_copy(&v).iter().all(|&f| !f),
                        "len {len}, {bad} at {at}"
                    );
                    let mut w = clean64.clone();
                    w[at] = f64::from(bad);
                    assert!(!all_finite(&w), "len {len}, {bad} at {at} (f64)");
                    assert!(
                        every_copy(&w).iter().all(|&f| !f),
                        "len {len}, {bad} at {at} (f64)"
                    );
                }
            }
        }
    }
}
