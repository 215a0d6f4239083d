//! Neural-network training steps (forward, backward, update; f32) of adroit against a
//! hand-written nalgebra implementation of the same step, for three MLP sizes, next to the
//! primal: the hand-written forward pass and loss alone (`primal_forward_loss`). And a small
//! convolutional network's step (`cnn_training_step_f32`), next to its forward pass alone
//! (`predict`); PyTorch's and JAX's are in `benches/peers/`.
//!
//! Run: `cargo bench -p adroit-benches --bench nn`.

use adroit_benches::handwritten::{self, Mlp};
use adroit_nn::losses::{Agg, logitcrossentropy};
use adroit_nn::optim::Descent;
use adroit_nn::{Activation, Chain, Conv2d, Dense, Layer, MaxPool2d, Window2d, train_step};
use criterion::{BenchmarkId, Criterion, criterion_main};
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

// criterion's macros generate undocumented items.
#[allow(missing_docs)]
mod harness {
    criterion::criterion_group!(
        benches,
        super::bench_training_step,
        super::bench_cnn_training_step
    );
}
criterion_main!(harness::benches);
