//! Peer comparisons: adroit against the Rust AD crates `num-dual` and `ad_trait` on the same
//! workloads and the same seeded inputs, next to the plain-f64 primal and a hand-written
//! derivative, so every figure reads as a ratio to the primal.
//!
//! The workloads are the shared generic ones of `adroit_benches` ([`rosenbrock`], [`chain`]) and
//! a 100 → 100 ring map defined here ([`ring`]); the primal and adroit run that generic
//! `num_traits::Float` code unchanged. Neither peer's types implement `Float`: `num-dual`'s
//! implement its own `DualNum` trait, and `ad_trait` 0.3.1 has its `Float` impls commented out
//! (its types implement its `AD` trait, i.e. simba's `RealField`/`ComplexField`). So each peer
//! runs a line-by-line transcription (`*_num_dual`, `*_ad_trait`): the same operations in the
//! same order, with clones and references where `num-dual`'s non-`Copy` (dynamically sized)
//! duals need them.
//!
//! Every result and every input goes through `black_box`. Each group checks once, before
//! timing, that every method agrees with the hand-written derivative.
//!
//! Run: `cargo bench -p adroit-benches --bench peers` (with
//! `-- --warm-up-time 1 --measurement-time 3` for a quicker pass).
//!
//! Python peers (JAX, PyTorch) on the same workloads live in `benches/peers/`.

use ad_trait::AD;
use ad_trait::differentiable_function::{
    DifferentiableFunctionTrait, ForwardAD, ForwardADMulti, HessianAD, HessianAD_FOR, ReverseAD,
};
use ad_trait::forward_ad::adfn::adfn;
use ad_trait::function_engine::FunctionEngine;
use adroit_benches::{
    chain, chain_derivative, rosenbrock, rosenbrock_array, rosenbrock_gradient, rosenbrock_hessian,
};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, criterion_main};
use nalgebra::{DMatrix, DVector, SVector};
use num_dual::{Dual2DVec64, Dual2SVec64, Dual64, DualDVec64, DualNum, DualSVec64};
use num_traits::Float;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;

/// `n` seeded points in `[lo, hi)` (the same as in `forward.rs` and `reverse.rs`).
fn points(n: usize, lo: f64, hi: f64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    (0..n).map(|_| rng.random_range(lo..hi)).collect()
}

/// Panics unless `got` and `want` agree to a relative `1e-9`.
fn check(what: &str, got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-9 * (1.0 + w.abs()),
            "{what}: entry {i}: {g} != {w}"
        );
    }
}

// ------------------------------------------------------------------------------------------
// Workloads
// ------------------------------------------------------------------------------------------

/// [`rosenbrock`] transcribed for `num-dual`'s `DualNum` (its duals do not implement `Float`).
fn rosenbrock_num_dual<D: DualNum<Primitive = f64>>(x: &[D]) -> D {
    let hundred = D::from(100.0);
    let mut sum = D::zero();
    for pair in x.chunks_exact(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let u = b.clone() - a.clone() * a;
        let v = D::one() - a;
        sum = sum + hundred.clone() * &u * &u + v.clone() * &v;
    }
    sum
}

/// [`chain`] transcribed for `num-dual`'s `DualNum` (`powf` takes an `f64` exponent there).
fn chain_num_dual<D: DualNum<Primitive = f64>>(x: D) -> D {
    let two = D::one() + D::one();
    ((x.sin() * x.exp()) / (D::one() + x.clone() * &x) + two)
        .ln()
        .powf(1.5)
}

/// A 100 → 100 (any n → n) map with wrap-around: `yᵢ = sin(xᵢ)·xᵢ₊₁ + xᵢ₋₁²`.
fn ring<S: Float>(x: &[S]) -> Vec<S> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let (next, prev) = (x[(i + 1) % n], x[(i + n - 1) % n]);
            x[i].sin() * next + prev * prev
        })
        .collect()
}

/// [`ring`] transcribed for `num-dual`'s `DualNum`.
fn ring_num_dual<D: DualNum<Primitive = f64>>(x: &[D]) -> Vec<D> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let (next, prev) = (&x[(i + 1) % n], &x[(i + n - 1) % n]);
            x[i].sin() * next + prev.clone() * prev
        })
        .collect()
}

/// [`rosenbrock`] transcribed for `ad_trait`'s `AD` trait (its types do not implement `Float`).
fn rosenbrock_ad_trait<T: AD>(x: &[T]) -> T {
    let hundred = T::constant(100.0);
    let mut sum = T::zero();
    for pair in x.chunks_exact(2) {
        let (a, b) = (pair[0], pair[1]);
        let u = b - a * a;
        let v = T::one() - a;
        sum = sum + hundred * u * u + v * v;
    }
    sum
}

/// [`chain`] transcribed for `ad_trait`'s `AD` trait.
fn chain_ad_trait<T: AD>(x: T) -> T {
    let two = T::one() + T::one();
    let p = T::constant(1.5);
    ((x.sin() * x.exp()) / (T::one() + x * x) + two)
        .ln()
        .powf(p)
}

/// [`ring`] transcribed for `ad_trait`'s `AD` trait.
fn ring_ad_trait<T: AD>(x: &[T]) -> Vec<T> {
    let n = x.len();
    (0..n)
        .map(|i| {
            let (next, prev) = (x[(i + 1) % n], x[(i + n - 1) % n]);
            x[i].sin() * next + prev * prev
        })
        .collect()
}

/// Hand-written dense Jacobian of [`ring`] (`n ≥ 3`), written into `jac` (`n × n`).
fn ring_jacobian(x: &[f64], jac: &mut DMatrix<f64>) {
    let n = x.len();
    jac.fill(0.0);
    for i in 0..n {
        let (next, prev) = ((i + 1) % n, (i + n - 1) % n);
        let (s, c) = x[i].sin_cos();
        jac[(i, i)] = c * x[next];
        jac[(i, next)] = s;
        jac[(i, prev)] = 2.0 * x[prev];
    }
}

/// [`rosenbrock`] as an `ad_trait` differentiable function (`ad_trait`'s engines take a type
/// implementing its trait, not a closure).
#[derive(Clone)]
struct RosenbrockFn(usize);

impl<T: AD> DifferentiableFunctionTrait<T> for RosenbrockFn {
    const NAME: &'static str = "rosenbrock";
    fn call(&self, inputs: &[T], _freeze: bool) -> Vec<T> {
        vec![rosenbrock_ad_trait(inputs)]
    }
    fn num_inputs(&self) -> usize {
        self.0
    }
    fn num_outputs(&self) -> usize {
        1
    }
}

/// [`ring`] as an `ad_trait` differentiable function.
#[derive(Clone)]
struct RingFn(usize);

impl<T: AD> DifferentiableFunctionTrait<T> for RingFn {
    const NAME: &'static str = "ring";
    fn call(&self, inputs: &[T], _freeze: bool) -> Vec<T> {
        ring_ad_trait(inputs)
    }
    fn num_inputs(&self) -> usize {
        self.0
    }
    fn num_outputs(&self) -> usize {
        self.0
    }
}

// ------------------------------------------------------------------------------------------
// Groups
// ------------------------------------------------------------------------------------------

/// The value and derivative of [`chain`] at 10⁴ points.
fn bench_chain(c: &mut Criterion) {
    let xs = points(10_000, 0.1, 2.0);
    let want: Vec<f64> = xs
        .iter()
        .flat_map(|&x| {
            let (v, d) = chain_derivative(x);
            [v, d]
        })
        .collect();
    let adroit: Vec<f64> = xs
        .iter()
        .flat_map(|&x| {
            let (v, d) = adroit_forward::value_and_derivative(chain, x);
            [v, d]
        })
        .collect();
    check("chain adroit", &adroit, &want);
    let nd: Vec<f64> = xs
        .iter()
        .flat_map(|&x| {
            let (v, d) = num_dual::first_derivative(chain_num_dual::<Dual64>, x);
            [v, d]
        })
        .collect();
    check("chain num-dual", &nd, &want);
    let at: Vec<f64> = xs
        .iter()
        .flat_map(|&x| {
            let y = chain_ad_trait(adfn::<1>::new(x, [1.0]));
            [y.value(), y.tangent()[0]]
        })
        .collect();
    check("chain ad_trait", &at, &want);

    let mut group = c.benchmark_group("chain_10k_points");
    group.bench_function("primal_f64", |b| {
        b.iter(|| black_box(black_box(&xs).iter().map(|&x| chain(x)).sum::<f64>()))
    });
    group.bench_function("hand_written", |b| {
        b.iter(|| {
            black_box(
                black_box(&xs)
                    .iter()
                    .map(|&x| {
                        let (v, d) = chain_derivative(x);
                        v + d
                    })
                    .sum::<f64>(),
            )
        })
    });
    group.bench_function("adroit_dual", |b| {
        b.iter(|| {
            black_box(
                black_box(&xs)
                    .iter()
                    .map(|&x| {
                        let (v, d) = adroit_forward::value_and_derivative(chain, x);
                        v + d
                    })
                    .sum::<f64>(),
            )
        })
    });
    group.bench_function("num_dual_dual64", |b| {
        b.iter(|| {
            black_box(
                black_box(&xs)
                    .iter()
                    .map(|&x| {
                        let (v, d) = num_dual::first_derivative(chain_num_dual::<Dual64>, x);
                        v + d
                    })
                    .sum::<f64>(),
            )
        })
    });
    group.bench_function("ad_trait_adfn1", |b| {
        b.iter(|| {
            black_box(
                black_box(&xs)
                    .iter()
                    .map(|&x| {
                        let y = chain_ad_trait(adfn::<1>::new(x, [1.0]));
                        y.value() + y.tangent()[0]
                    })
                    .sum::<f64>(),
            )
        })
    });
    group.finish();
}

/// `num-dual`'s gradient on statically sized duals (`DualSVec64<N>`: one evaluation).
fn num_dual_gradient_static<const N: usize>(group: &mut BenchmarkGroup<'_, WallTime>, x: &[f64]) {
    let xs = SVector::<f64, N>::from_column_slice(x);
    let f = |v: SVector<DualSVec64<N>, N>| rosenbrock_num_dual(v.as_slice());
    let mut want = vec![0.0; N];
    rosenbrock_gradient(x, &mut want);
    check(
        "rosenbrock num-dual static",
        num_dual::gradient(f, &xs).1.as_slice(),
        &want,
    );
    group.bench_with_input(BenchmarkId::new("num_dual_static", N), &xs, |b, xs| {
        b.iter(|| black_box(num_dual::gradient(f, black_box(xs))))
    });
}

/// The gradient of extended Rosenbrock for n = 2 … 10⁶ (forward mode for n ≤ 100 only).
fn bench_rosenbrock_gradient(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock_gradient");
    for n in [2, 10, 100, 10_000, 1_000_000] {
        if n >= 1_000_000 {
            group.sample_size(10);
        }
        let x = points(n, -1.0, 1.0);
        let mut want = vec![0.0; n];
        rosenbrock_gradient(&x, &mut want);
        let reverse_engine =
            FunctionEngine::new(RosenbrockFn(n), RosenbrockFn(n), ReverseAD::new());
        check(
            "rosenbrock adroit reverse",
            &adroit_reverse::gradient(rosenbrock, &x),
            &want,
        );
        check(
            "rosenbrock ad_trait reverse",
            reverse_engine.derivative(&x).1.as_slice(),
            &want,
        );

        group.bench_with_input(BenchmarkId::new("primal_f64", n), &x, |b, x| {
            b.iter(|| black_box(rosenbrock(black_box(x.as_slice()))))
        });
        group.bench_with_input(BenchmarkId::new("hand_written", n), &x, |b, x| {
            let mut grad = vec![0.0; n];
            b.iter(|| {
                black_box(rosenbrock_gradient(black_box(x), &mut grad));
                black_box(&mut grad);
            })
        });
        group.bench_with_input(BenchmarkId::new("adroit_reverse", n), &x, |b, x| {
            b.iter(|| black_box(adroit_reverse::gradient(rosenbrock, black_box(x))))
        });
        let column = [DMatrix::from_column_slice(n, 1, &x)];
        check(
            "rosenbrock adroit array",
            adroit_reverse::matrix::gradient(|m| rosenbrock_array(m[0]), &column)[0].as_slice(),
            &want,
        );
        group.bench_with_input(BenchmarkId::new("adroit_array", n), &column, |b, x| {
            b.iter(|| {
                black_box(adroit_reverse::matrix::gradient(
                    |m| rosenbrock_array(m[0]),
                    black_box(x),
                ))
            })
        });
        group.bench_with_input(BenchmarkId::new("ad_trait_reverse", n), &x, |b, x| {
            b.iter(|| black_box(reverse_engine.derivative(black_box(x))))
        });
        if n > 100 {
            continue;
        }

        // Forward mode: n (or ⌈n/10⌉) evaluations, so only for n ≤ 100.
        let forward_engine =
            FunctionEngine::new(RosenbrockFn(n), RosenbrockFn(n), ForwardAD::new());
        let multi_engine = FunctionEngine::new(
            RosenbrockFn(n),
            RosenbrockFn(n),
            ForwardADMulti::<adfn<10>>::new(),
        );
        let xd = DVector::from_column_slice(&x);
        let dynamic = |v: DVector<DualDVec64>| rosenbrock_num_dual(v.as_slice());
        check(
            "rosenbrock adroit dual",
            &adroit_forward::gradient(rosenbrock, &x),
            &want,
        );
        check(
            "rosenbrock adroit chunk10",
            &adroit_forward::gradient_chunked::<10, _, _>(rosenbrock, &x),
            &want,
        );
        check(
            "rosenbrock num-dual dynamic",
            num_dual::gradient(dynamic, &xd).1.as_slice(),
            &want,
        );
        check(
            "rosenbrock ad_trait forward",
            forward_engine.derivative(&x).1.as_slice(),
            &want,
        );
        check(
            "rosenbrock ad_trait forward multi10",
            multi_engine.derivative(&x).1.as_slice(),
            &want,
        );

        group.bench_with_input(BenchmarkId::new("adroit_dual", n), &x, |b, x| {
            b.iter(|| black_box(adroit_forward::gradient(rosenbrock, black_box(x))))
        });
        group.bench_with_input(BenchmarkId::new("adroit_chunk10", n), &x, |b, x| {
            b.iter(|| {
                black_box(adroit_forward::gradient_chunked::<10, _, _>(
                    rosenbrock,
                    black_box(x),
                ))
            })
        });
        match n {
            2 => num_dual_gradient_static::<2>(&mut group, &x),
            10 => num_dual_gradient_static::<10>(&mut group, &x),
            100 => num_dual_gradient_static::<100>(&mut group, &x),
            _ => unreachable!("no static size for n = {n}"),
        }
        group.bench_with_input(BenchmarkId::new("num_dual_dynamic", n), &xd, |b, xd| {
            b.iter(|| black_box(num_dual::gradient(dynamic, black_box(xd))))
        });
        group.bench_with_input(BenchmarkId::new("ad_trait_forward", n), &x, |b, x| {
            b.iter(|| black_box(forward_engine.derivative(black_box(x))))
        });
        group.bench_with_input(
            BenchmarkId::new("ad_trait_forward_multi10", n),
            &x,
            |b, x| b.iter(|| black_box(multi_engine.derivative(black_box(x)))),
        );
    }
    group.finish();
}

/// The dense Hessian of extended Rosenbrock for n = 10 and 100.
fn bench_rosenbrock_hessian(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock_hessian");
    for n in [10, 100] {
        let x = points(n, -1.0, 1.0);
        let mut want = DMatrix::zeros(n, n);
        rosenbrock_hessian(&x, &mut want);
        let want = want.as_slice();
        let fof_engine =
            FunctionEngine::new(RosenbrockFn(n), RosenbrockFn(n), HessianAD::<10>::new());
        let for_engine =
            FunctionEngine::new(RosenbrockFn(n), RosenbrockFn(n), HessianAD_FOR::<10>::new());
        check(
            "hessian adroit forward-over-reverse",
            adroit_reverse::hessian(rosenbrock, &x).as_slice(),
            want,
        );
        check(
            "hessian adroit hyper-dual",
            adroit_forward::hessian(rosenbrock, &x).as_slice(),
            want,
        );
        check(
            "hessian ad_trait forward-over-forward",
            fof_engine.hessian(&x).2[0].as_slice(),
            want,
        );
        check(
            "hessian ad_trait forward-over-reverse",
            for_engine.hessian(&x).2[0].as_slice(),
            want,
        );

        group.bench_with_input(BenchmarkId::new("primal_f64", n), &x, |b, x| {
            b.iter(|| black_box(rosenbrock(black_box(x.as_slice()))))
        });
        group.bench_with_input(BenchmarkId::new("hand_written", n), &x, |b, x| {
            let mut hess = DMatrix::zeros(n, n);
            b.iter(|| {
                rosenbrock_hessian(black_box(x), &mut hess);
                black_box(&mut hess);
            })
        });
        group.bench_with_input(
            BenchmarkId::new("adroit_forward_over_reverse", n),
            &x,
            |b, x| b.iter(|| black_box(adroit_reverse::hessian(rosenbrock, black_box(x)))),
        );
        group.bench_with_input(BenchmarkId::new("adroit_hyperdual", n), &x, |b, x| {
            b.iter(|| black_box(adroit_forward::hessian(rosenbrock, black_box(x))))
        });
        if n == 10 {
            // Statically sized: one Dual2SVec64<10> is 111 f64.
            let xs = SVector::<f64, 10>::from_column_slice(&x);
            let f = |v: SVector<Dual2SVec64<10>, 10>| rosenbrock_num_dual(v.as_slice());
            check(
                "hessian num-dual static",
                num_dual::hessian(f, &xs).2.as_slice(),
                want,
            );
            group.bench_with_input(BenchmarkId::new("num_dual_static", n), &xs, |b, xs| {
                b.iter(|| black_box(num_dual::hessian(f, black_box(xs))))
            });
        } else {
            // Dynamically sized: a Dual2SVec64<100> is 10 101 f64 (80 kB), a vector of 100 of
            // them overflows the stack.
            let xd = DVector::from_column_slice(&x);
            let f = |v: DVector<Dual2DVec64>| rosenbrock_num_dual(v.as_slice());
            check(
                "hessian num-dual dynamic",
                num_dual::hessian(f, &xd).2.as_slice(),
                want,
            );
            group.bench_with_input(BenchmarkId::new("num_dual_dynamic", n), &xd, |b, xd| {
                b.iter(|| black_box(num_dual::hessian(f, black_box(xd))))
            });
        }
        group.bench_with_input(
            BenchmarkId::new("ad_trait_forward_over_forward10", n),
            &x,
            |b, x| b.iter(|| black_box(fof_engine.hessian(black_box(x)))),
        );
        group.bench_with_input(
            BenchmarkId::new("ad_trait_forward_over_reverse10", n),
            &x,
            |b, x| b.iter(|| black_box(for_engine.hessian(black_box(x)))),
        );
    }
    group.finish();
}

/// The dense Jacobian of the 100 → 100 [`ring`] map.
fn bench_jacobian(c: &mut Criterion) {
    const N: usize = 100;
    let x = points(N, -1.0, 1.0);
    let mut want = DMatrix::zeros(N, N);
    ring_jacobian(&x, &mut want);
    let want = want.as_slice();
    let xs = SVector::<f64, N>::from_column_slice(&x);
    let nd = |v: SVector<DualSVec64<N>, N>| DVector::from_vec(ring_num_dual(v.as_slice()));
    let multi_engine = FunctionEngine::new(RingFn(N), RingFn(N), ForwardADMulti::<adfn<10>>::new());
    let reverse_engine = FunctionEngine::new(RingFn(N), RingFn(N), ReverseAD::new());
    check(
        "jacobian adroit chunk10",
        adroit_forward::jacobian_chunked::<10, _, _>(ring, &x).as_slice(),
        want,
    );
    check(
        "jacobian adroit reverse",
        adroit_reverse::jacobian(ring, &x).as_slice(),
        want,
    );
    check(
        "jacobian num-dual",
        num_dual::jacobian(nd, &xs).1.as_slice(),
        want,
    );
    check(
        "jacobian ad_trait forward multi10",
        multi_engine.derivative(&x).1.as_slice(),
        want,
    );
    check(
        "jacobian ad_trait reverse",
        reverse_engine.derivative(&x).1.as_slice(),
        want,
    );

    let mut group = c.benchmark_group("jacobian_100_to_100");
    group.bench_function("primal_f64", |b| {
        b.iter(|| black_box(ring(black_box(x.as_slice()))))
    });
    group.bench_function("hand_written", |b| {
        let mut jac = DMatrix::zeros(N, N);
        b.iter(|| {
            ring_jacobian(black_box(&x), &mut jac);
            black_box(&mut jac);
        })
    });
    group.bench_function("adroit_forward_chunk10", |b| {
        b.iter(|| {
            black_box(adroit_forward::jacobian_chunked::<10, _, _>(
                ring,
                black_box(&x),
            ))
        })
    });
    group.bench_function("adroit_reverse", |b| {
        b.iter(|| black_box(adroit_reverse::jacobian(ring, black_box(&x))))
    });
    group.bench_function("num_dual_static", |b| {
        b.iter(|| black_box(num_dual::jacobian(nd, black_box(&xs))))
    });
    group.bench_function("ad_trait_forward_multi10", |b| {
        b.iter(|| black_box(multi_engine.derivative(black_box(&x))))
    });
    group.bench_function("ad_trait_reverse", |b| {
        b.iter(|| black_box(reverse_engine.derivative(black_box(&x))))
    });
    group.finish();
}

// criterion's macros generate undocumented items.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(
        benches,
        super::bench_chain,
        super::bench_rosenbrock_gradient,
        super::bench_rosenbrock_hessian,
        super::bench_jacobian
    );
}
criterion_main!(harness::benches);
