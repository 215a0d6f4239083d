//! Forward-mode benchmarks: each group puts the plain-f64 primal, the hand-written derivative
//! and adroit side by side, so every figure reads as a ratio to the primal.
//!
//! Run: `cargo bench -p adroit-benches --bench forward`.

use adroit_benches::{chain, chain_derivative, rosenbrock, rosenbrock_gradient};
use adroit_forward::incomplete_gamma::gammainc;
use adroit_forward::{
    DEFAULT_CHUNK, gradient, gradient_chunked, gradient_chunked_into, value_and_derivative,
};
use criterion::{BenchmarkId, Criterion, criterion_main};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;

/// `n` seeded points in `[lo, hi)`.
fn points(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// The value and derivative of a chain of sin, exp, division, ln and powf at 10⁴ points.
fn bench_chain(c: &mut Criterion) {
    let xs = points(10_000, 0.1, 2.0);
    let mut group = c.benchmark_group("forward_chain_10k_points");
    group.bench_function("primal_f64", |b| {
        b.iter(|| black_box(&xs).iter().map(|&x| chain(x)).sum::<f64>())
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            black_box(&xs)
                .iter()
                .map(|&x| {
                    let (v, d) = chain_derivative(x);
                    v + d
                })
                .sum::<f64>()
        })
    });
    group.bench_function("adroit_dual", |b| {
        b.iter(|| {
            black_box(&xs)
                .iter()
                .map(|&x| {
                    let (v, d) = value_and_derivative(chain, x);
                    v + d
                })
                .sum::<f64>()
        })
    });
    group.finish();
}

/// The gradient of the extended Rosenbrock function: single duals (n evaluations) and chunked
/// duals (⌈n/N⌉ evaluations).
fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("forward_rosenbrock_gradient");
    for n in [10, 100] {
        let x = points(n, -1.0, 1.0);
        let mut grad = vec![0.0; n];
        group.bench_with_input(BenchmarkId::new("primal_f64", n), &x, |b, x| {
            b.iter(|| rosenbrock(black_box(x.as_slice())))
        });
        group.bench_with_input(BenchmarkId::new("hand_written", n), &x, |b, x| {
            b.iter(|| rosenbrock_gradient(black_box(x), &mut grad))
        });
        group.bench_with_input(BenchmarkId::new("adroit_dual", n), &x, |b, x| {
            b.iter(|| gradient(rosenbrock, black_box(x)))
        });
        group.bench_with_input(BenchmarkId::new("adroit_chunk10", n), &x, |b, x| {
            b.iter(|| gradient_chunked::<10, _, _>(rosenbrock, black_box(x)))
        });
        group.bench_with_input(BenchmarkId::new("adroit_chunk10_into", n), &x, |b, x| {
            let mut out = vec![0.0; x.len()];
            b.iter(|| gradient_chunked_into::<10, _, _>(rosenbrock, black_box(x), &mut out))
        });
        group.bench_with_input(BenchmarkId::new("adroit_chunk_default", n), &x, |b, x| {
            b.iter(|| gradient_chunked::<DEFAULT_CHUNK, _, _>(rosenbrock, black_box(x)))
        });
    }
    group.finish();
}

/// The special functions added for statistics, at 10³ points each: `ndtri` (value and
/// derivative on a `Dual`) and the regularised incomplete gamma `P(a, x)` (gradient in both
/// arguments, forward mode and adroit-reverse's tape), against their plain-f64 values.
fn bench_special(c: &mut Criterion) {
    let ps = points(1_000, 0.001, 0.999);
    let shapes = points(1_000, 0.5, 20.0);
    let xs = points(1_000, 0.1, 30.0);
    let pairs: Vec<[f64; 2]> = shapes.iter().zip(&xs).map(|(&a, &x)| [a, x]).collect();
    let mut group = c.benchmark_group("special_functions_1k_points");
    group.bench_function("ndtri_primal_f64", |b| {
        b.iter(|| {
            black_box(&ps)
                .iter()
                .map(|&p| adroit_forward::normal::ndtri(p))
                .sum::<f64>()
        })
    });
    group.bench_function("ndtri_adroit_dual", |b| {
        b.iter(|| {
            black_box(&ps)
                .iter()
                .map(|&p| {
                    let (v, d) = value_and_derivative(adroit_forward::normal::ndtri, p);
                    v + d
                })
                .sum::<f64>()
        })
    });
    group.bench_function("gammainc_primal_f64", |b| {
        b.iter(|| {
            black_box(&pairs)
                .iter()
                .map(|&[a, x]| gammainc(a, x))
                .sum::<f64>()
        })
    });
    group.bench_function("gammainc_gradient_adroit_forward", |b| {
        b.iter(|| {
            black_box(&pairs)
                .iter()
                .map(|p| gradient(|v| gammainc(v[0], v[1]), p).iter().sum::<f64>())
                .sum::<f64>()
        })
    });
    group.bench_function("gammainc_gradient_adroit_reverse", |b| {
        b.iter(|| {
            black_box(&pairs)
                .iter()
                .map(|p| {
                    adroit_reverse::gradient(|v| gammainc(v[0], v[1]), p)
                        .iter()
                        .sum::<f64>()
                })
                .sum::<f64>()
        })
    });
    group.finish();
}

// criterion's macros generate undocumented items.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(
        benches,
        super::bench_chain,
        super::bench_rosenbrock,
        super::bench_special
    );
}
criterion_main!(harness::benches);
