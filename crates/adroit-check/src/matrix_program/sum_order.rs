//! The order of the scalar reference's sums, and probes that change it: how much a program's
//! result depends on the order its sums are taken in — what two correct implementations of a
//! matrix program legitimately do differently (a blocked product, eight interleaved
//! accumulators, a fused multiply-add) — and on the last bit of the results whose formulas
//! differ between the two tapes (softmax, log-softmax, log-sum-exp).

use num_traits::Float;
use std::cell::Cell;

thread_local! {
    /// While a probe runs on this thread: its seed.
    static PROBE: Cell<Option<u64>> = const { Cell::new(None) };
}

/// SplitMix64's finaliser: a well-mixed 64-bit hash (Steele, Lea & Flood 2014).
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// How a probe forms the terms `aₖ·bₖ` of a product's sums.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Terms {
    /// Each rounded, then added (as the scalar tape does).
    Rounded,
    /// Not rounded: fused multiply-adds (as a matrix kernel with FMA does).
    Fused,
    /// Each rounded, then moved by `±ε` of itself (the sign keyed by the probe, the place and
    /// `k`): a term's rounding at its full size. Where a sum cancels far below its terms, what
    /// is left is that rounding, which a fused kernel leaves at anywhere up to `ε/2` of a term
    /// and the two other probes may happen to leave small; squared by a later product, a
    /// probe's luck becomes a factor of a thousand (found by fuzzing: `P·Pᵀ` of a `P` so
    /// cancelled gave 3.3e70 on the matrix tape, 9.0e52 exactly, and 2.6e67 at most in the
    /// other probes).
    Nudged,
}

/// Runs `f` with every sum of the reference taken in an order keyed by `seed`, the products'
/// terms nudged ([`Terms::Nudged`]) for seeds `3 mod 4`, fused for the other odd seeds.
pub(crate) fn with_probe<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    /// Ends the probe also if `f` panics.
    struct Restore(Option<u64>);
    impl Drop for Restore {
        fn drop(&mut self) {
            PROBE.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(PROBE.with(|p| p.replace(Some(seed))));
    f()
}

/// The order key of a sum at `place` and how products form their terms, while a probe runs.
/// Keyed by the place, not by how many sums came before: a deterministic implementation sums
/// two copies of one expression alike (`E − E` stays 0), and a blocked product sums each entry
/// in an order that depends on its position and the shapes.
fn key(place: u64) -> Option<(u64, Terms)> {
    let seed = PROBE.with(Cell::get)?;
    let terms = match seed % 4 {
        3 => Terms::Nudged,
        1 => Terms::Fused,
        _ => Terms::Rounded,
    };
    Some((mix(mix(seed) ^ place), terms))
}

/// The place of entry `(i, j)` of an `m × k` by `k × n` product, for [`dot`].
pub(crate) fn product_place(i: usize, j: usize, (m, k, n): (usize, usize, usize)) -> u64 {
    [i, j, m, k, n]
        .iter()
        .fold(0_u64, |h, &x| mix(h ^ x as u64))
}

/// `v`, or while a probe runs, `v·(1 ± 2ε)` (about an ulp), the sign keyed by the probe's
/// seed, `v`'s bits and `line` ([`line_key`] of the line `v` was computed with): for results
/// that the two tapes compute with different formulas, which agree to an ulp or two. Equal
/// results of one line stay equal (its tied entries come out tied from either formula), while
/// equal results of lines with other contents may part, as the formulas' roundings do (a
/// softmax's `1/3` in eight columns, one of whose sums rounds differently on the matrix tape:
/// a minimum across the columns then takes that one alone; found by fuzzing).
pub(crate) fn nudge_formula_result<S: Float>(v: S, line: u64) -> S {
    let Some(seed) = PROBE.with(Cell::get) else {
        return v;
    };
    let bits = v.to_f64().map_or(0, f64::to_bits);
    let up = mix(mix(seed) ^ bits ^ line) >> 63 == 1;
    let step = S::from(2.0 * f64::EPSILON).unwrap_or_else(S::zero);
    if up { v + v * step } else { v - v * step }
}

/// A key of a line's values (their bits, in order): equal for lines of equal contents.
pub(crate) fn line_key<S: Float>(values: impl Iterator<Item = S>) -> u64 {
    values.fold(0x5EED, |h, v| mix(h ^ v.to_f64().map_or(0, f64::to_bits)))
}

/// `0..n` in the order keyed by `key`.
fn order(n: usize, key: u64) -> Vec<usize> {
    let mut indices: Vec<usize> = (0..n).collect();
    indices.sort_by_key(|&i| mix(key ^ i as u64));
    indices
}

/// `Σ terms`: as `default` sums them, or while a probe runs, one by one in its order for
/// sums of that length (the matrix tape's sums of a line depend on its length only, so lines
/// holding the same terms sum alike).
pub(crate) fn sum<S: Float>(terms: &[S], default: impl FnOnce(&[S]) -> S) -> S {
    match key(terms.len() as u64) {
        None => default(terms),
        Some((key, _)) => order(terms.len(), key)
            .into_iter()
            .fold(S::zero(), |t, i| t + terms[i]),
    }
}

/// `Σₖ aₖ·bₖ` over `k < n` (`term(k) = (aₖ, bₖ)`), at `place` ([`product_place`]): in
/// order, or while a probe runs, in its order for that place, its terms formed as the probe's
/// seed says ([`with_probe`]).
pub(crate) fn dot<S: Float>(place: u64, n: usize, term: impl Fn(usize) -> (S, S)) -> S {
    match key(place) {
        None => (0..n).fold(S::zero(), |t, k| {
            let (a, b) = term(k);
            t + a * b
        }),
        Some((key, terms)) => order(n, key).into_iter().fold(S::zero(), |t, k| {
            let (a, b) = term(k);
            match terms {
                Terms::Rounded => t + a * b,
                Terms::Fused => a.mul_add(b, t),
                Terms::Nudged => {
                    let p = a * b;
                    let step = p * S::epsilon();
                    if mix(key ^ !(k as u64)) >> 63 == 1 {
                        t + (p + step)
                    } else {
                        t + (p - step)
                    }
                }
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_follow_the_default_order_unless_probed() {
        // 1 + 1e16 − 1e16 is 0 in order and 1 in other orders.
        let terms = [1.0, 1e16, -1e16];
        let in_order = |t: &[f64]| t.iter().fold(0.0, |s, v| s + v);
        assert_eq!(sum(&terms, in_order), 0.0);
        let probed: Vec<f64> = (0..16)
            .map(|seed| with_probe(seed, || sum(&terms, in_order)))
            .collect();
        assert!(probed.contains(&0.0) && probed.contains(&1.0), "{probed:?}");
        // Products: fused for seeds 1 mod 4 (0.1·10 − 1 is 0 unfused and 5.55e-17 fused)...
        let pairs = [(0.1, 10.0), (-1.0, 1.0)];
        let term = |k: usize| pairs[k];
        assert_eq!(dot(0, 2, term), 0.0);
        let fused: Vec<f64> = (0..8)
            .map(|place| with_probe(1, || dot(place, 2, term)))
            .collect();
        assert!(fused.contains(&0.1_f64.mul_add(10.0, -1.0)), "{fused:?}");
        // ...and each term moved by ±ε of itself for seeds 3 mod 4 (exact terms included):
        // 2 − 2 is ±2ε·2 or 0 as the two signs fall, and not 0 for every place.
        let exact = |k: usize| [(1.0, 2.0), (-2.0, 1.0)][k];
        let nudged: Vec<f64> = (0..16)
            .map(|place| with_probe(3, || dot(place, 2, exact)))
            .collect();
        assert!(
            nudged
                .iter()
                .all(|v| [0.0, 4.0 * f64::EPSILON, -4.0 * f64::EPSILON].contains(v)),
            "{nudged:?}"
        );
        assert!(nudged.iter().any(|&v| v != 0.0), "{nudged:?}");
        // Even seeds round each term: only the order changes.
        assert_eq!(with_probe(2, || dot(9, 2, exact)), 0.0);
        // The probe ends with its closure.
        assert_eq!(sum(&terms, in_order), 0.0);
        // Nudges: none outside a probe; equal values alike within one; up and down across
        // seeds.
        assert_eq!(nudge_formula_result(0.25, 0), 0.25);
        let nudged: Vec<f64> = (0..8)
            .map(|seed| with_probe(seed, || nudge_formula_result(0.25, 0)))
            .collect();
        assert!(
            nudged
                .iter()
                .all(|&v| v != 0.25 && (v - 0.25).abs() <= 0.25 * 2.0 * f64::EPSILON)
        );
        assert!(nudged.iter().any(|&v| v > 0.25) && nudged.iter().any(|&v| v < 0.25));
        with_probe(3, || {
            assert_eq!(nudge_formula_result(0.7, 9), nudge_formula_result(0.7, 9))
        });
        // Equal values of lines with other contents part in some probe; of equal lines, never.
        let (a, b) = (
            line_key([0.5, 0.25].into_iter()),
            line_key([0.5, 0.3].into_iter()),
        );
        assert_eq!(a, line_key([0.5, 0.25].into_iter()));
        let parted = (0..16).any(|seed| {
            with_probe(seed, || {
                nudge_formula_result(0.5, a) != nudge_formula_result(0.5, b)
            })
        });
        assert!(parted);
        with_probe(5, || {
            assert_eq!(nudge_formula_result(0.5, a), nudge_formula_result(0.5, a))
        });
        // Within a probe, one place sums alike every time (copies of an expression agree).
        for seed in 0..8 {
            with_probe(seed, || {
                assert_eq!(
                    sum(&terms, in_order).to_bits(),
                    sum(&terms, in_order).to_bits()
                );
                assert_eq!(dot(7, 2, term).to_bits(), dot(7, 2, term).to_bits());
            });
        }
    }
}
