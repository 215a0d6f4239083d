//! Reverse-mode benchmarks: the extended Rosenbrock gradient against the plain-f64 primal and
//! the hand-written gradient (so each figure reads as a ratio), a pullback and a pushforward on
//! one recording of it, the forward-over-reverse Hessian, the matrix tape's gradient,
//! Hessian-vector product and Hessian, and a long ODE integration's gradient on one tape
//! against checkpointed segments, and a dense Hessian.
//! And element-wise `tanh` and sigmoid of an `f32` matrix with their gradient, next to the
//! same map with the standard library's functions alone.
//!
//! Run: `cargo bench -p adroit-benches --bench reverse`.

use adroit_benches::{
    gp_log_likelihood, log_sum_exp_affine, lotka_volterra_loss, lotka_volterra_segment, rosenbrock,
    rosenbrock_array, rosenbrock_gradient, rosenbrock_hessian,
};
use adroit_reverse::adroit_forward::Dual;
use adroit_reverse::matrix::{self, Along, MatScalar, MatVar};
use criterion::{BenchmarkId, Criterion, criterion_main};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;

/// `n` seeded points in `[-1, 1)`.
fn points(n: usize) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

/// The gradient of extended Rosenbrock for n = 10 … 10⁶.
fn bench_rosenbrock(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock_reverse");
    for n in [10, 100, 10_000, 1_000_000] {
        if n >= 1_000_000 {
            group.sample_size(10);
        }
        let x = points(n);
        let mut grad = vec![0.0; n];
        group.bench_with_input(BenchmarkId::new("primal_f64", n), &x, |b, x| {
            b.iter(|| rosenbrock(black_box(x.as_slice())))
        });
        group.bench_with_input(BenchmarkId::new("hand_written", n), &x, |b, x| {
            b.iter(|| rosenbrock_gradient(black_box(x), &mut grad))
        });
        group.bench_with_input(BenchmarkId::new("adroit_reverse", n), &x, |b, x| {
            b.iter(|| adroit_reverse::gradient(rosenbrock, black_box(x)))
        });
        let column = [DMatrix::from_column_slice(n, 1, &x)];
        group.bench_with_input(BenchmarkId::new("adroit_array", n), &column, |b, x| {
            b.iter(|| matrix::gradient(|m| rosenbrock_array(m[0]), black_box(x)))
        });
    }
    group.finish();
}

/// The dense Hessian of extended Rosenbrock by forward-over-reverse.
fn bench_hessian(c: &mut Criterion) {
    let mut group = c.benchmark_group("reverse_rosenbrock_hessian");
    for n in [10, 24, 36, 100] {
        let x = points(n);
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
            |b, x| b.iter(|| adroit_reverse::hessian(rosenbrock, black_box(x))),
        );
        group.bench_with_input(BenchmarkId::new("adroit_hyperdual", n), &x, |b, x| {
            b.iter(|| adroit_forward::hessian(rosenbrock, black_box(x)))
        });
    }
    group.finish();
}

/// The matrix-level gradient of ‖tanh(W·X + b)‖² with respect to `W` (512 × 512) and `b`
/// (512 × 1) for a batch `X` of 64 columns, against the plain nalgebra primal.
fn bench_dense_layer(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0xd15e);
    let mut random =
        |r: usize, cols: usize| DMatrix::from_fn(r, cols, |_, _| rng.random_range(-0.05..0.05));
    let (w, b, x) = (random(512, 512), random(512, 1), random(512, 64));
    let mut group = c.benchmark_group("dense_layer_512x512_batch64");
    group.sample_size(20);
    group.bench_function("primal_nalgebra", |bench| {
        bench.iter(|| {
            let mut z = black_box(&w) * black_box(&x);
            for mut col in z.column_iter_mut() {
                col += &b;
            }
            z.iter().map(|v: &f64| v.tanh().powi(2)).sum::<f64>()
        })
    });
    group.bench_function("adroit_matrix_gradient", |bench| {
        bench.iter(|| {
            matrix::value_and_gradient(
                |p| {
                    let h = (p[0] * MatVar::constant(x.clone()) + p[1]).tanh();
                    h.component_mul(h).sum()
                },
                &[black_box(&w).clone(), b.clone()],
            )
        })
    });
    // The same loss's Hessian-vector product along a direction (V_W, V_b): the gradient on
    // `Dual<f64>` entries.
    let (v_w, v_b) = (random(512, 512), random(512, 1));
    let x_dual: DMatrix<Dual<f64>> = x.clone().cast();
    group.bench_function("adroit_matrix_hvp", |bench| {
        bench.iter(|| {
            matrix::hvp(
                |p| {
                    let h = (p[0] * MatVar::constant(x_dual.clone()) + p[1]).tanh();
                    h.component_mul(h).sum()
                },
                &[black_box(&w).clone(), b.clone()],
                &[v_w.clone(), v_b.clone()],
            )
        })
    });
    group.finish();
}

/// A 4-16-3 network's softmax cross-entropy on a batch of 16, as a function of its weights
/// and biases (131 entries), written once for every element type.
fn mlp_loss<T: MatScalar>(p: &[MatVar<T>], x: &DMatrix<f64>, labels: &[usize]) -> MatVar<T> {
    let h = p[0].affine(MatVar::constant(x.clone().cast()), p[1]).tanh();
    let logits = p[2].affine(h, p[3]);
    -logits
        .logsoftmax(Along::Rows)
        .take_along(Along::Rows, labels)
        .mean()
}

/// The matrix tape's gradient, Hessian-vector product and full Hessian (131 × 131: 11
/// recordings of 12 directions) of [`mlp_loss`].
fn bench_mlp_hessian(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0x4e55);
    let mut random =
        |r: usize, cols: usize| DMatrix::from_fn(r, cols, |_, _| rng.random_range(-0.5..0.5));
    let params = vec![random(16, 4), random(16, 1), random(3, 16), random(3, 1)];
    let direction = vec![random(16, 4), random(16, 1), random(3, 16), random(3, 1)];
    let x = random(4, 16);
    let labels: Vec<usize> = (0..16).map(|i| i % 3).collect();
    let mut group = c.benchmark_group("mlp_4_16_3_batch16_second_order");
    group.bench_function("adroit_matrix_gradient", |bench| {
        bench.iter(|| matrix::value_and_gradient(|p| mlp_loss(p, &x, &labels), black_box(&params)))
    });
    group.bench_function("adroit_matrix_hvp", |bench| {
        bench.iter(|| matrix::hvp(|p| mlp_loss(p, &x, &labels), black_box(&params), &direction))
    });
    group.bench_function("adroit_matrix_hessian", |bench| {
        bench.iter(|| matrix::hessian(|p| mlp_loss(p, &x, &labels), black_box(&params)))
    });
    group.finish();
}

/// The gradient of a Lotka–Volterra loss over 10⁵ RK4 steps (58 tape nodes a step) with
/// respect to its 4 rates and 2 initial values: the plain primal, forward mode (one chunk of
/// 6), the scalar tape recording every step, and the tape with 100 checkpointed segments
/// ([`adroit_reverse::checkpoint`]: 100 nodes kept, each segment recorded again in the sweep).
fn bench_checkpoint(c: &mut Criterion) {
    const STEPS: usize = 100_000;
    const SEGMENTS: usize = 100;
    let theta = [1.6, 0.9, 3.2, 1.1, 1.1, 0.9];
    let mut group = c.benchmark_group("ode_gradient_checkpoint");
    group.sample_size(20);
    group.bench_function("primal_f64", |b| {
        b.iter(|| lotka_volterra_loss(black_box(&theta), STEPS))
    });
    group.bench_function("adroit_forward_chunk6", |b| {
        let mut grad = [0.0; 6];
        b.iter(|| {
            adroit_forward::gradient_chunked_into::<6, _, _>(
                |x| lotka_volterra_loss(x, STEPS),
                black_box(&theta),
                &mut grad,
            )
        })
    });
    group.bench_function("adroit_reverse_one_tape", |b| {
        b.iter(|| adroit_reverse::gradient(|x| lotka_volterra_loss(x, STEPS), black_box(&theta)))
    });
    group.bench_function("adroit_reverse_checkpointed", |b| {
        b.iter(|| {
            adroit_reverse::gradient(
                |x| {
                    let seg = STEPS / SEGMENTS;
                    let mut state = [x[4], x[5], adroit_reverse::Var::constant(0.0)];
                    for k in 0..SEGMENTS {
                        let inputs = [x[0], x[1], x[2], x[3], state[0], state[1], state[2]];
                        let out = adroit_reverse::checkpoint(
                            move |z| lotka_volterra_segment(z, k * seg, seg, STEPS),
                            &inputs,
                        );
                        state = [out[0], out[1], out[2]];
                    }
                    state[2]
                },
                black_box(&theta),
            )
        })
    });
    group.finish();
}

/// A Gaussian log-likelihood `−½ yᵀK⁻¹y − ½ ln det K` of a 200 × 200 covariance matrix `K`
/// (a squared-exponential kernel plus noise on seeded inputs), its gradient in `K`: through the
/// matrix tape's Cholesky factor and triangular solves, through its LU `solve`/`logabsdet`,
/// and the hand-written `½(ααᵀ − K⁻¹)` by nalgebra's Cholesky; the primal by nalgebra's.
fn bench_gaussian_likelihood(c: &mut Criterion) {
    let n = 200;
    let mut rng = StdRng::seed_from_u64(0x6a55);
    let x: Vec<f64> = (0..n).map(|_| rng.random_range(-2.0..2.0)).collect();
    let k = DMatrix::from_fn(n, n, |i, j| {
        (-(x[i] - x[j]).powi(2) / 0.5).exp() + if i == j { 0.01 } else { 0.0 }
    });
    let y = DMatrix::from_fn(n, 1, |i, _| (3.0 * x[i]).sin());
    let mut group = c.benchmark_group("gaussian_likelihood_200");
    group.sample_size(30);
    group.bench_function("primal_nalgebra_cholesky", |bench| {
        bench.iter(|| {
            let factor = black_box(&k).clone().cholesky().expect("positive definite");
            let z = factor
                .l_dirty()
                .solve_lower_triangular(&y)
                .expect("positive diagonal");
            let log_det: f64 = factor.l_dirty().diagonal().iter().map(|d| d.ln()).sum();
            -0.5 * z.norm_squared() - log_det
        })
    });
    group.bench_function("hand_written_gradient", |bench| {
        bench.iter(|| {
            let factor = black_box(&k).clone().cholesky().expect("positive definite");
            let inverse = factor.inverse();
            let alpha = &inverse * &y;
            (&alpha * alpha.transpose() - inverse) * 0.5
        })
    });
    group.bench_function("adroit_matrix_cholesky", |bench| {
        bench.iter(|| {
            matrix::value_and_gradient(
                |m| {
                    let l = m[0].cholesky().expect("positive definite");
                    let z = l.solve_lower_triangular(MatVar::constant(y.clone()));
                    z.component_mul(z).sum() * -0.5 - l.diagonal().ln().sum()
                },
                &[black_box(&k)],
            )
        })
    });
    group.bench_function("adroit_matrix_lu", |bench| {
        bench.iter(|| {
            matrix::value_and_gradient(
                |m| {
                    let y = MatVar::constant(y.clone());
                    ((y.transpose() * m[0].solve(y)).sum() + m[0].logabsdet()) * -0.5
                },
                &[black_box(&k)],
            )
        })
    });
    group.finish();
}

/// The Hessian of [`gp_log_likelihood`] in its 3 hyperparameters over 20 seeded points, through
/// nalgebra's Cholesky on each number type: forward-over-reverse on the default chunk (12
/// lanes) and on chunk 4 (`hessian_chunked`), and forward mode's hyper-duals on the default
/// chunk (8 × 8) and on 3 × 3; the primal for scale.
fn bench_gp_hyperparameter_hessian(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(0x6b9);
    let x: Vec<f64> = (0..20).map(|_| rng.random_range(-3.0..3.0)).collect();
    let y: Vec<f64> = x
        .iter()
        .map(|&v| v.sin() + 0.1 * rng.random_range(-1.0..1.0))
        .collect();
    let theta = [0.1, -0.2, -2.0];
    // The four agree (timing wrong code would say nothing).
    let reference = adroit_reverse::hessian(|t| gp_log_likelihood(t, &x, &y), &theta);
    for other in [
        adroit_reverse::hessian_chunked::<4, _, _>(|t| gp_log_likelihood(t, &x, &y), &theta),
        adroit_forward::hessian(|t| gp_log_likelihood(t, &x, &y), &theta),
        adroit_forward::hessian_chunked::<3, _, _>(|t| gp_log_likelihood(t, &x, &y), &theta),
    ] {
        assert!(
            (&other - &reference).amax() <= 1e-9 * reference.amax(),
            "{other} vs {reference}"
        );
    }
    let mut group = c.benchmark_group("gp_hyperparameter_hessian");
    group.bench_function("primal_f64", |b| {
        b.iter(|| gp_log_likelihood(black_box(&theta), &x, &y))
    });
    group.bench_function("adroit_reverse_hessian_chunk12", |b| {
        b.iter(|| adroit_reverse::hessian(|t| gp_log_likelihood(t, &x, &y), black_box(&theta)))
    });
    group.bench_function("adroit_reverse_hessian_chunk4", |b| {
        b.iter(|| {
            adroit_reverse::hessian_chunked::<4, _, _>(
                |t| gp_log_likelihood(t, &x, &y),
                black_box(&theta),
            )
        })
    });
    group.bench_function("adroit_forward_hessian_chunk8", |b| {
        b.iter(|| adroit_forward::hessian(|t| gp_log_likelihood(t, &x, &y), black_box(&theta)))
    });
    group.bench_function("adroit_forward_hessian_chunk3", |b| {
        b.iter(|| {
            adroit_forward::hessian_chunked::<3, _, _>(
                |t| gp_log_likelihood(t, &x, &y),
                black_box(&theta),
            )
        })
    });
    group.finish();
}

/// A dense Hessian (log-sum-exp of `n` affine forms of `n` inputs, seeded coefficients) of
/// n = 24 and 48 inputs: two and four chunks of `hessian`, each touching every node.
fn bench_dense_hessian(c: &mut Criterion) {
    let mut group = c.benchmark_group("dense_hessian");
    for n in [24, 36, 48, 96] {
        let x: Vec<f64> = points(n).iter().map(|v| 0.5 * v).collect();
        let a = points(n * n);
        let reverse = adroit_reverse::hessian(|v| log_sum_exp_affine(v, &a), &x);
        let forward = adroit_forward::hessian(|v| log_sum_exp_affine(v, &a), &x);
        // They agree (timing wrong code would say nothing).
        assert!((&reverse - &forward).amax() <= 1e-12 * forward.amax());
        group.bench_with_input(BenchmarkId::new("primal_f64", n), &x, |b, x| {
            b.iter(|| log_sum_exp_affine(black_box(x.as_slice()), &a))
        });
        group.bench_with_input(
            BenchmarkId::new("adroit_forward_over_reverse", n),
            &x,
            |b, x| b.iter(|| adroit_reverse::hessian(|v| log_sum_exp_affine(v, &a), black_box(x))),
        );
        group.bench_with_input(BenchmarkId::new("adroit_hyperdual", n), &x, |b, x| {
            b.iter(|| adroit_forward::hessian(|v| log_sum_exp_affine(v, &a), black_box(x)))
        });
    }
    group.finish();
}

/// `sum(f(X))` and its gradient for `X` 256 × 128 in `f32` (a recurrent layer's gates at
/// batch 128): adroit's `MatVar::tanh`, `sigmoid`, `exp` and `ln` (vectorised kernels)
/// against the primal with the standard library's `tanh`, `1/(1 + e⁻ˣ)`, `exp` and `ln`
/// (`primal_std`; `ln` of `|X| + 10⁻³` capped at 4); and a weighted sum of `logsoftmax` over
/// the 256 rows of each column, with its gradient.
fn bench_elementwise_activation(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(3);
    let x = DMatrix::<f32>::from_fn(256, 128, |_, _| rng.random_range(-4.0..4.0));
    let mut group = c.benchmark_group("elementwise_activation_f32");
    group.bench_function("primal_std/tanh", |b| {
        b.iter(|| black_box(&x).map(f32::tanh).sum())
    });
    group.bench_function("adroit_gradient/tanh", |b| {
        b.iter(|| matrix::value_and_gradient(|m| m[0].tanh().sum(), &[black_box(&x)]))
    });
    group.bench_function("primal_std/sigmoid", |b| {
        b.iter(|| black_box(&x).map(|v| 1.0 / (1.0 + (-v).exp())).sum())
    });
    group.bench_function("adroit_gradient/sigmoid", |b| {
        b.iter(|| matrix::value_and_gradient(|m| m[0].sigmoid().sum(), &[black_box(&x)]))
    });
    group.bench_function("primal_std/exp", |b| {
        b.iter(|| black_box(&x).map(f32::exp).sum())
    });
    group.bench_function("adroit_gradient/exp", |b| {
        b.iter(|| matrix::value_and_gradient(|m| m[0].exp().sum(), &[black_box(&x)]))
    });
    // ln of positive entries (probabilities and scales), in (0, 4].
    let positive = x.map(|v| (v.abs() + 1e-3).min(4.0));
    group.bench_function("primal_std/ln", |b| {
        b.iter(|| black_box(&positive).map(f32::ln).sum())
    });
    group.bench_function("adroit_gradient/ln", |b| {
        b.iter(|| matrix::value_and_gradient(|m| m[0].ln().sum(), &[black_box(&positive)]))
    });
    // Each column's log-probabilities, weighted by a fixed matrix (a cross-entropy's form).
    let w = DMatrix::<f32>::from_fn(256, 128, |i, j| ((i + j) % 3) as f32);
    group.bench_function("adroit_gradient/logsoftmax", |b| {
        b.iter(|| {
            matrix::value_and_gradient(
                |m| m[0].logsoftmax(Along::Rows).weighted_sum(w.clone()),
                &[black_box(&x)],
            )
        })
    });
    group.finish();
}

/// One recording of extended Rosenbrock, then sweeps on it: the pullback (`wᵀJ`, a reverse
/// sweep) and the pushforward (`J·v`, a forward sweep), n = 100 and 10⁴ — the cost of a sweep
/// without the recording's.
fn bench_rosenbrock_sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("rosenbrock_sweeps");
    for n in [100, 10_000] {
        let x = points(n);
        let v: Vec<f64> = points(n).iter().map(|p| p + 2.0).collect();
        let (_, pb) = adroit_reverse::pullback(|x| vec![rosenbrock(x)], &x);
        group.bench_with_input(BenchmarkId::new("pullback_call", n), &pb, |b, pb| {
            b.iter(|| pb.call(black_box(&[1.0])))
        });
        group.bench_with_input(BenchmarkId::new("pushforward", n), &pb, |b, pb| {
            b.iter(|| pb.pushforward(black_box(&v)))
        });
    }
    group.finish();
}

// criterion's macros generate undocumented items.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(
        benches,
        super::bench_rosenbrock,
        super::bench_rosenbrock_sweeps,
        super::bench_hessian,
        super::bench_dense_layer,
        super::bench_mlp_hessian,
        super::bench_checkpoint,
        super::bench_gaussian_likelihood,
        super::bench_gp_hyperparameter_hessian,
        super::bench_dense_hessian,
        super::bench_elementwise_activation
    );
}
criterion_main!(harness::benches);
