//! Data that does not fit a model is an error, never a panic: random chains of built-in layers
//! (small random configurations, those the constructors refuse skipped) fed inputs of right and
//! wrong shapes. `predict` and `train_step` must return — `Ok` with the shape the model states
//! ([`Layer::output_size_for`], the batch kept), or `Err` — and a failed step must leave the
//! parameters as they were. (A longer run of the same idea, ~1.1 M models in f32 and f64, found
//! no panic on data; the oversized constructors it found are `oversized_configs.rs`.)

use adroit_nn::losses::{Agg, mse};
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::optim::Descent;
use adroit_nn::rand::{Rng, SeedableRng, rngs::StdRng};
use adroit_nn::{
    Activation, AvgPool2d, BatchNorm, Chain, Connection, Conv1d, Conv2d, Dense, Dropout, Embedding,
    GlobalAvgPool1d, GroupNorm, Gru, Layer, LayerNorm, Lstm, MaxPool1d, MaxPool2d,
    MultiHeadAttention, NnError, PositionalEncoding, Rnn, SkipConnection, Upsample, UpsampleMode,
    Window2d, parameters_to_vector, train_step,
};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// A small size, sometimes 1.
fn size(rng: &mut StdRng) -> usize {
    rng.random_range(1..=4)
}

/// Appends one random layer taking `features` rows (when the previous layers state them;
/// else any number), or returns the chain unchanged if the constructor refused the
/// configuration.
fn push_random(chain: Chain<f64>, features: usize, rng: &mut StdRng) -> Chain<f64> {
    let image = (size(rng), size(rng) + 1, size(rng) + 1);
    let window = Window2d::new((size(rng), size(rng)))
        .stride((size(rng), size(rng)))
        .padding((rng.random_range(0..=1), rng.random_range(0..=1)));
    let layer: Result<Chain<f64>, NnError> = match rng.random_range(0..17) {
        0 => Ok(Chain::new().push(Dense::new(features, size(rng), Activation::Tanh, rng))),
        1 => Ok(Chain::new().push(Activation::Relu)),
        2 => Conv2d::new(image, size(rng), window, Activation::Relu, rng)
            .map(|l| Chain::new().push(l)),
        3 => MaxPool2d::new(image, window).map(|l| Chain::new().push(l)),
        4 => AvgPool2d::new(image, window).map(|l| Chain::new().push(l)),
        5 => Upsample::new(image, (size(rng), size(rng)), UpsampleMode::Nearest)
            .map(|l| Chain::new().push(l)),
        6 => GroupNorm::new(image, size(rng)).map(|l| Chain::new().push(l)),
        7 => Ok(Chain::new().push(BatchNorm::new(features))),
        8 => Ok(Chain::new().push(LayerNorm::new(features))),
        9 => Dropout::new(0.5).map(|l| Chain::new().push(l)),
        10 => Conv1d::new(size(rng), size(rng), size(rng), Activation::Tanh, rng)
            .map(|l| Chain::new().push(l.stride(size(rng)).padding(rng.random_range(0..=2)))),
        11 => MaxPool1d::new(size(rng), size(rng)).map(|l| Chain::new().push(l)),
        12 => GlobalAvgPool1d::new(size(rng)).map(|l| Chain::new().push(l)),
        13 => Ok(Chain::new().push(Embedding::new(size(rng) + 2, size(rng), rng))),
        14 => Ok(match rng.random_range(0..3) {
            0 => Chain::new().push(Rnn::new(size(rng), size(rng), Activation::Tanh, rng)),
            1 => Chain::new().push(Lstm::new(size(rng), size(rng), rng)),
            _ => Chain::new().push(Gru::new(size(rng), size(rng), rng).last_only()),
        }),
        15 => {
            let heads = size(rng);
            MultiHeadAttention::new(heads * size(rng), heads, rng).map(|l| Chain::new().push(l))
        }
        _ => PositionalEncoding::new(2 * size(rng)).map(|l| {
            let inner = Chain::new().push(l);
            Chain::new().push(SkipConnection::new(inner, Connection::Add))
        }),
    };
    match layer {
        Ok(layer) => chain.push(layer),
        Err(_) => chain,
    }
}

/// `rows × cols` entries in `[0, 3)` (whole numbers too, so that an `Embedding` meets valid
/// and invalid tokens alike).
fn input(rows: usize, cols: usize, rng: &mut StdRng) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| {
        if rng.random_bool(0.5) {
            f64::from(rng.random_range(0..3_u8))
        } else {
            rng.random_range(0.0..3.0)
        }
    })
}

#[test]
fn misfitting_data_is_an_error_not_a_panic() {
    for seed in 45..49 {
        run(seed);
    }
}

/// 250 random models, each with four inputs and two training steps per input.
fn run(seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut fitted, mut refused) = (0, 0);
    for _ in 0..250 {
        let mut model = Chain::new();
        let mut features = size(&mut rng) * 4;
        let first = features;
        for _ in 0..rng.random_range(1..=3) {
            model = push_random(model, features, &mut rng);
            features = match model.output_size_for(first) {
                Ok(Some(n)) if n > 0 => n,
                _ => size(&mut rng) * 4,
            };
        }
        for _ in 0..4 {
            let rows = match rng.random_range(0..4) {
                0 => model.input_size().unwrap_or(first),
                1 => first,
                2 => first + 1,
                _ => rng.random_range(0..=12),
            };
            let x = input(rows, rng.random_range(0..=3), &mut rng);
            let shape = x.shape();
            let predicted = catch_unwind(AssertUnwindSafe(|| model.predict(&x)))
                .unwrap_or_else(|_| panic!("predict panicked on a {shape:?} input"));
            let target = match &predicted {
                Ok(y) => {
                    fitted += 1;
                    assert_eq!(y.ncols(), x.ncols(), "the batch is kept");
                    if let Ok(Some(n)) = model.output_size_for(x.nrows()) {
                        assert_eq!(y.nrows(), n, "the output size the model states");
                    }
                    y.clone()
                }
                Err(_) => {
                    refused += 1;
                    input(size(&mut rng), x.ncols(), &mut rng)
                }
            };
            // A step on the same data, then one against a target of the wrong shape: each
            // returns, and a failed one changes nothing.
            for target in [
                target.clone(),
                input(target.nrows() + 1, target.ncols(), &mut rng),
            ] {
                let before = parameters_to_vector(&model);
                let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
                let mut opt = Descent::new(0.01);
                let stepped = catch_unwind(AssertUnwindSafe(|| {
                    train_step(&mut model, &x, &target, &loss, &mut opt, 0)
                }))
                .unwrap_or_else(|_| panic!("train_step panicked on a {shape:?} input"));
                if stepped.is_err() {
                    assert_eq!(parameters_to_vector(&model), before, "a failed step kept");
                }
            }
        }
    }
    // Both kinds of data were met.
    assert!(
        fitted > 50 && refused > 50,
        "fitted {fitted}, refused {refused}"
    );
}
