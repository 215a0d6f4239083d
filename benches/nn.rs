//! Neural-network training steps (forward, backward, update; f32) of adroit against a
//! hand-written nalgebra implementation of the same step, for three MLP sizes, next to the
//! primal: the hand-written forward pass and loss alone (`primal_forward_loss`). And a small
//! convolutional network's step (`cnn_training_step_f32`), next to its forward pass alone
//! (`predict`); PyTorch's and JAX's are in `benches/peers/`. An LSTM classifier's step
//! (`lstm_training_step_f32`), activations with their gradient (`activation_gradient_f32`),
//! losses with theirs (`loss_gradient_f32`), dropout's (`dropout_gradient_f32`). And optimiser
//! updates alone on the largest MLP's parameters (`optimizer_update_f32`), with Adam against a
//! hand-written loop updating its moments in place (adroit keeps the state before the step, to
//! undo a refused one).
//!
//! Run: `cargo bench -p adroit-benches --bench nn` (`f32` products on the `gemm` crate's
//! kernels, as adroit-nn's default build runs them; add `--no-default-features` for
//! `matrixmultiply`'s).

use adroit_benches::handwritten::{self, Mlp};
use adroit_nn::losses::{
    Agg, binarycrossentropy, crossentropy, logitbinarycrossentropy, logitcrossentropy,
};
use adroit_nn::optim::{
    AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, ClipGlobalNorm, ClipNorm, ClipValue, Descent,
    Lion, Momentum, NAdam, Optimizer, RAdam, RmsProp, WeightDecay,
};
use adroit_nn::{
    Activation, Chain, Context, Conv2d, Dense, Dropout, Layer, Lstm, MaxPool2d, Mode, Window2d,
    train_step,
};
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_main};
use nalgebra::DMatrix;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hint::black_box;

/// `(sizes, batch)`: 4-16-3 batch 16, 784-128-10 batch 64, 784-512-512-10 batch 128.
const CASES: [(&[usize], usize); 3] = [
    (&[4, 16, 3], 16),
    (&[784, 128, 10], 64),
    (&[784, 512, 512, 10], 128),
];

fn model(sizes: &[usize], rng: &mut StdRng) -> Chain<f32> {
    let mut chain = Chain::new();
    for (k, w) in sizes.windows(2).enumerate() {
        let act = if k + 2 < sizes.len() {
            Activation::Relu
        } else {
            Activation::Identity
        };
        chain = chain.push(Dense::new(w[0], w[1], act, rng));
    }
    chain
}

fn data(sizes: &[usize], batch: usize, rng: &mut StdRng) -> (DMatrix<f32>, DMatrix<f32>) {
    let x = DMatrix::from_fn(sizes[0], batch, |_, _| rng.random_range(-1.0..1.0));
    let classes = *sizes.last().unwrap_or(&1);
    let y = DMatrix::from_fn(
        classes,
        batch,
        |i, j| if i == j % classes { 1.0 } else { 0.0 },
    );
    (x, y)
}

fn bench_training_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("mlp_training_step_f32");
    for (sizes, batch) in CASES {
        let name = sizes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("-");
        let mut rng = StdRng::seed_from_u64(1);
        let (x, y) = data(sizes, batch, &mut rng);
        let mut net = model(sizes, &mut rng);
        let mut mlp = Mlp {
            weights: Vec::new(),
            biases: Vec::new(),
        };
        net.visit("", &mut |n, p| {
            if n.ends_with("weight") {
                mlp.weights.push(p.clone())
            } else {
                mlp.biases.push(p.clone())
            }
        });
        // The primal computes the loss adroit's step reports (a zero learning rate leaves the
        // probe model unchanged).
        let loss = |p, t: &DMatrix<f32>| logitcrossentropy(p, t, Agg::Mean);
        let primal = handwritten::loss(&mlp, &x, &y);
        let reported = train_step(&mut net.clone(), &x, &y, &loss, &mut Descent::new(0.0), 0)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            (primal - reported).abs() <= 1e-5 * (1.0 + primal.abs()),
            "{name}: primal loss {primal} vs adroit {reported}"
        );
        group.bench_function(BenchmarkId::new("primal_forward_loss", &name), |b| {
            b.iter(|| handwritten::loss(&mlp, black_box(&x), &y))
        });
        group.bench_function(BenchmarkId::new("handwritten_nalgebra", &name), |b| {
            b.iter(|| handwritten::step(&mut mlp, black_box(&x), &y, 1e-3))
        });
        let mut opt = Descent::new(1e-3);
        group.bench_function(BenchmarkId::new("adroit", &name), |b| {
            b.iter(|| {
                train_step(&mut net, black_box(&x), &y, &loss, &mut opt, 0)
                    .unwrap_or_else(|e| panic!("{e}"))
            })
        });
    }
    group.finish();
}

/// MNIST-sized images (1 × 28 × 28), batch 64: a 3 × 3 convolution to 8 channels (padding 1,
/// ReLU), a 2 × 2 max pool, a dense layer 8·14·14 → 10; softmax cross-entropy, SGD.
fn bench_cnn_training_step(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let window = Window2d::new((3, 3)).padding((1, 1));
    let conv = Conv2d::new((1, 28, 28), 8, window, Activation::Relu, &mut rng)
        .unwrap_or_else(|e| panic!("{e}"));
    let pool = MaxPool2d::new(conv.output_shape(), Window2d::pool((2, 2)))
        .unwrap_or_else(|e| panic!("{e}"));
    let (channels, height, width) = pool.output_shape();
    let dense = Dense::new(
        channels * height * width,
        10,
        Activation::Identity,
        &mut rng,
    );
    let mut net = Chain::new().push(conv).push(pool).push(dense);
    let (x, y) = data(&[784, 10], 64, &mut rng);
    let loss = |p, t: &DMatrix<f32>| logitcrossentropy(p, t, Agg::Mean);
    let mut group = c.benchmark_group("cnn_training_step_f32");
    group.bench_function("adroit_predict/conv8-pool-dense", |b| {
        b.iter(|| net.predict(black_box(&x)).unwrap_or_else(|e| panic!("{e}")))
    });
    let mut opt = Descent::new(1e-3);
    group.bench_function("adroit/conv8-pool-dense", |b| {
        b.iter(|| {
            train_step(&mut net, black_box(&x), &y, &loss, &mut opt, 0)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

/// `sum(f(X))` and its gradient for `X` 256 × 128 in `f32`, `f` GELU (`tanh` and `erf` forms),
/// SiLU, ELU, SELU, ReLU, softplus, Mish and log-sigmoid as a layer applies them
/// (`Activation::apply`).
fn bench_activation(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(5);
    let x = DMatrix::<f32>::from_fn(256, 128, |_, _| rng.random_range(-4.0..4.0));
    let mut group = c.benchmark_group("activation_gradient_f32");
    let activations = [
        ("gelu_tanh", Activation::GeluTanh),
        ("swish", Activation::Swish),
        ("elu", Activation::ELU),
        ("selu", Activation::Selu),
        ("gelu_erf", Activation::GeluErf),
        ("relu", Activation::Relu),
        ("softplus", Activation::Softplus),
        ("mish", Activation::Mish),
        ("logsigmoid", Activation::LogSigmoid),
    ];
    for (name, act) in activations {
        group.bench_function(name, |b| {
            b.iter(|| {
                adroit_reverse::matrix::value_and_gradient(
                    |m| act.apply(m[0]).sum(),
                    &[black_box(&x)],
                )
            })
        });
    }
    group.finish();
}

/// Dropout (`p = 0.5`, training mode) and its gradient on a 256 × 128 `f32` matrix: the mask's
/// random draws, the masked product and its pullback; a fresh seeded context per iteration.
fn bench_dropout(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(6);
    let x = DMatrix::<f32>::from_fn(256, 128, |_, _| rng.random_range(-4.0..4.0));
    let layer = Dropout::new(0.5).expect("0.5 is a valid dropout probability");
    let mut group = c.benchmark_group("dropout_gradient_f32");
    group.bench_function("dropout_0.5", |b| {
        b.iter(|| {
            let mut ctx = Context::new(Mode::Train, 7);
            adroit_reverse::matrix::value_and_gradient(
                |m| layer.forward(m[0], &mut ctx).sum(),
                &[black_box(&x)],
            )
        })
    });
    group.finish();
}

/// A loss and its gradient for logits `Ŷ` 256 × 128 in `f32` (entries in ±4): binary
/// cross-entropy from logits against 0/1 labels, softmax cross-entropy against one-hot columns;
/// and the same from probabilities (`σ(Ŷ)`, each column's softmax).
fn bench_loss(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(6);
    let y_hat = DMatrix::<f32>::from_fn(256, 128, |_, _| rng.random_range(-4.0..4.0));
    let labels = DMatrix::<f32>::from_fn(256, 128, |_, _| f32::from(rng.random_bool(0.5)));
    let (_, onehot) = data(&[1, 256], 128, &mut rng);
    let mut group = c.benchmark_group("loss_gradient_f32");
    group.bench_function("logitbinarycrossentropy", |b| {
        b.iter(|| {
            adroit_reverse::matrix::value_and_gradient(
                |m| logitbinarycrossentropy(m[0], &labels, Agg::Mean).unwrap(),
                &[black_box(&y_hat)],
            )
        })
    });
    // The same as probabilities: each column's softmax, and σ entry by entry.
    let softmax = DMatrix::from_columns(
        &y_hat
            .column_iter()
            .map(|c| {
                let e = c.map(f32::exp);
                &e / e.sum()
            })
            .collect::<Vec<_>>(),
    );
    let sigma = y_hat.map(|v| 1.0 / (1.0 + (-v).exp()));
    group.bench_function("crossentropy", |b| {
        b.iter(|| {
            adroit_reverse::matrix::value_and_gradient(
                |m| crossentropy(m[0], &onehot, Agg::Mean).unwrap(),
                &[black_box(&softmax)],
            )
        })
    });
    group.bench_function("binarycrossentropy", |b| {
        b.iter(|| {
            adroit_reverse::matrix::value_and_gradient(
                |m| binarycrossentropy(m[0], &labels, Agg::Mean).unwrap(),
                &[black_box(&sigma)],
            )
        })
    });
    group.bench_function("logitcrossentropy", |b| {
        b.iter(|| {
            adroit_reverse::matrix::value_and_gradient(
                |m| logitcrossentropy(m[0], &onehot, Agg::Mean).unwrap(),
                &[black_box(&y_hat)],
            )
        })
    });
    group.finish();
}

/// An LSTM over 32 steps of 16 features (hidden 64, last state) and a dense layer to 10
/// classes, batch 32: softmax cross-entropy, Adam.
fn bench_lstm_training_step(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(4);
    let x = DMatrix::<f32>::from_fn(16 * 32, 32, |_, _| rng.random_range(-1.0..1.0));
    let (_, y) = data(&[1, 10], 32, &mut rng);
    let mut net = Chain::new()
        .push(Lstm::new(16, 64, &mut rng).last_only())
        .push(Dense::new(64, 10, Activation::Identity, &mut rng));
    let loss = |p, t: &DMatrix<f32>| logitcrossentropy(p, t, Agg::Mean);
    let mut opt = Adam::new(1e-3);
    let mut group = c.benchmark_group("lstm_training_step_f32");
    group.bench_function("adroit/16-64x32-10", |b| {
        b.iter(|| {
            train_step(&mut net, black_box(&x), &y, &loss, &mut opt, 0)
                .unwrap_or_else(|e| panic!("{e}"))
        })
    });
    group.finish();
}

/// One optimiser update on the parameters of the 784-512-512-10 MLP (669,706 entries), from
/// the same gradients each iteration (their copy is outside the timing): adroit's rules and
/// transformations with their defaults (the gradients' norm, ≈ 470, is clipped), and Adam's
/// formula hand-written over contiguous slices with its moments updated in place
/// (`handwritten/Adam`, compiled for the default target: SSE2 on x86-64, where adroit's rules
/// run on AVX-512F or AVX2 when the CPU has them).
fn bench_optimizer_update(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(2);
    let mut params: Vec<DMatrix<f32>> = Vec::new();
    model(CASES[2].0, &mut rng).visit_params(&mut |p| params.push(p.clone()));
    let grads: Vec<DMatrix<f32>> = params
        .iter()
        .map(|p| DMatrix::from_fn(p.nrows(), p.ncols(), |_, _| rng.random_range(-1.0..1.0)))
        .collect();
    let refs: Vec<&DMatrix<f32>> = params.iter().collect();
    let mut group = c.benchmark_group("optimizer_update_f32");
    let rules: Vec<(&str, Box<dyn Optimizer<f32>>)> = vec![
        ("Adam", Box::new(Adam::new(1e-3))),
        ("AdamW", Box::new(AdamW::new(1e-3))),
        ("NAdam", Box::new(NAdam::new(1e-3))),
        ("RAdam", Box::new(RAdam::new(1e-3))),
        ("AmsGrad", Box::new(AmsGrad::new(1e-3))),
        ("AdaMax", Box::new(AdaMax::new(1e-3))),
        ("Momentum", Box::new(Momentum::new(1e-3))),
        ("RmsProp", Box::new(RmsProp::new(1e-3))),
        ("RmsProp_centred", Box::new(RmsProp::centred(1e-3))),
        ("AdaGrad", Box::new(AdaGrad::new(1e-3))),
        ("AdaDelta", Box::new(AdaDelta::new(1.0))),
        ("Lion", Box::new(Lion::new(1e-4))),
        ("ClipGlobalNorm", Box::new(ClipGlobalNorm::new(1.0))),
        ("ClipNorm", Box::new(ClipNorm::new(1.0))),
        ("ClipValue", Box::new(ClipValue::new(0.5))),
        ("WeightDecay", Box::new(WeightDecay::new(1e-4))),
    ];
    for (name, mut rule) in rules {
        group.bench_function(BenchmarkId::new("adroit", name), |b| {
            b.iter_batched_ref(
                || grads.clone(),
                |g| rule.update(g, black_box(&refs)),
                BatchSize::LargeInput,
            )
        });
    }
    let mut state: Vec<(Vec<f32>, Vec<f32>)> = (params.iter())
        .map(|p| (vec![0.0; p.len()], vec![0.0; p.len()]))
        .collect();
    let mut t = 0;
    group.bench_function(BenchmarkId::new("handwritten", "Adam"), |b| {
        b.iter_batched_ref(
            || grads.clone(),
            |g| {
                t += 1;
                handwritten_adam(g, &mut state, t)
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Adam with the defaults (η = 1e-3, β₁ = 0.9, β₂ = 0.999, ε = 1e-8) at step `t` (from 1),
/// in place: each gradient becomes its update.
fn handwritten_adam(grads: &mut [DMatrix<f32>], state: &mut [(Vec<f32>, Vec<f32>)], t: i32) {
    let (b1, b2, eta, eps) = (0.9f32, 0.999f32, 1e-3f32, 1e-8f32);
    let c1 = 1.0 / (1.0 - b1.powi(t));
    let c2 = 1.0 / (1.0 - b2.powi(t));
    for (g, (m, v)) in grads.iter_mut().zip(state) {
        for ((g, m), v) in g.as_mut_slice().iter_mut().zip(m).zip(v) {
            *m = b1 * *m + (1.0 - b1) * *g;
            *v = b2 * *v + (1.0 - b2) * *g * *g;
            *g = -eta * (*m * c1) / ((*v * c2).sqrt() + eps);
        }
    }
}

// criterion's macros generate undocumented items.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(
        benches,
        super::bench_training_step,
        super::bench_cnn_training_step,
        super::bench_optimizer_update,
        super::bench_lstm_training_step,
        super::bench_activation,
        super::bench_loss,
        super::bench_dropout
    );
}
criterion_main!(harness::benches);
