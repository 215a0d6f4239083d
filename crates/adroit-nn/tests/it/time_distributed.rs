//! TimeDistributed: the inner layer on each step, values and gradients against a loop over
//! the steps; a tagger learns a per-step task; masking (padded sequences through a per-step
//! lift and a transformer as each alone); sizes, bad input, names, files and casts.

use crate::recurrent::assert_close;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{
    Activation, Cast, Chain, Context, Dense, Dropout, Layer, Lstm, Mode, NnError, TimeDistributed,
    TransformerEncoderLayer,
};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Values and gradients (in the input and the weight and bias) equal those of the dense layer
/// applied to each step in turn, the steps stacked.
#[test]
fn equals_the_layer_on_each_step() {
    let mut rng = StdRng::seed_from_u64(3);
    let wrapped =
        TimeDistributed::new(Dense::<f64>::new(3, 2, Activation::Tanh, &mut rng)).unwrap();
    let dense = &wrapped.layer;
    let x = DMatrix::from_fn(3 * 4, 5, |r, c| ((r * 5 + c) as f64 * 0.37).sin());
    let weights = DMatrix::from_fn(2 * 4, 5, |r, c| ((r + 3 * c) as f64 * 0.21).cos());
    let bias = dense.bias.as_ref().unwrap();
    let inputs = [x.clone(), dense.weight.clone(), bias.clone()];
    let run = |per_step: bool| {
        matrix::value_and_gradient(
            |v| {
                let mut ctx = Context::new(Mode::Train, 0);
                ctx.bind(&dense.weight, v[1]);
                ctx.bind(bias, v[2]);
                let y = if per_step {
                    let steps: Vec<MatVar<f64>> = (0..4)
                        .map(|t| dense.forward(v[0].rows(3 * t, 3), &mut ctx))
                        .collect();
                    MatVar::vcat(&steps)
                } else {
                    wrapped.forward(v[0], &mut ctx)
                };
                y.component_mul(MatVar::constant(weights.clone())).sum()
            },
            &inputs,
        )
    };
    let (value, grads) = run(false);
    let (expected, expected_grads) = run(true);
    assert!((value - expected).abs() <= 1e-14 * expected.abs().max(1.0));
    for (g, e) in grads.iter().zip(&expected_grads) {
        assert_close(g, e, 1e-14, "gradient");
    }
    assert_eq!(
        wrapped.predict(&x).unwrap().rows(2, 2),
        dense.predict(&x.rows(3, 3).into_owned()).unwrap()
    );
}

/// A tagger (an LSTM's every-step states through one dense layer) learns to output, at each
/// step, the input of the step before: its error falls under 5 % of the target's variance.
#[test]
fn a_tagger_learns_a_per_step_task() {
    let steps = 6;
    let x = DMatrix::from_fn(steps, 96, |r, c| ((r * 37 + c * 11) as f64 * 0.713).sin());
    let y = DMatrix::from_fn(steps, 96, |r, c| if r == 0 { 0.0 } else { x[(r - 1, c)] });
    let variance = y.map(|v| v * v).mean() - y.mean().powi(2);
    let mut rng = StdRng::seed_from_u64(5);
    let mut model = Chain::<f64>::new()
        .push(Lstm::new(1, 8, &mut rng))
        .push(TimeDistributed::new(Dense::new(8, 1, Activation::Identity, &mut rng)).unwrap());
    let mut loader = adroit_nn::data::DataLoader::new(x.clone(), y.clone(), 32)
        .unwrap()
        .shuffle(1);
    let config = adroit_nn::TrainConfig {
        epochs: 150,
        ..adroit_nn::TrainConfig::default()
    };
    let mut opt = adroit_nn::optim::Adam::new(0.02);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    adroit_nn::train(&mut model, &mut loader, loss, &mut opt, &config, &mut []).unwrap();
    let error = (model.predict(&x).unwrap() - &y).map(|v| v * v).mean();
    assert!(error < 0.05 * variance, "mse {error}, variance {variance}");
}

/// Sizes through a chain, rows that are not whole steps, a layer without a step size, no
/// steps, parameter names, weight files and casts.
#[test]
fn sizes_errors_names_files_and_casts() {
    let mut rng = StdRng::seed_from_u64(8);
    let wrapped =
        TimeDistributed::new(Dense::<f64>::new(3, 2, Activation::Relu, &mut rng)).unwrap();
    assert_eq!(wrapped.output_size_for(12).unwrap(), Some(8));
    assert!(matches!(
        wrapped.output_size_for(10),
        Err(NnError::InvalidConfig { .. })
    ));
    assert!(wrapped.predict(&DMatrix::zeros(10, 2)).is_err());
    assert_eq!(
        wrapped.predict(&DMatrix::zeros(0, 2)).unwrap().shape(),
        (0, 2)
    );
    assert!(matches!(
        TimeDistributed::new::<f64>(Dropout::new(0.1).unwrap()),
        Err(NnError::InvalidConfig { .. })
    ));
    // After a recurrent layer's every-step states: 4 hidden features per step.
    let model = Chain::<f64>::new()
        .push(Lstm::new(2, 4, &mut rng))
        .push(wrapped.clone());
    // 2 steps of 4 states: 8 rows, not whole steps of 3 features. (Sizes are all a chain can
    // check: 3 steps of 4 states, 12 rows, would pass as 4 steps of 3.)
    assert!(model.predict(&DMatrix::zeros(4, 2)).is_err());
    let model = Chain::<f64>::new()
        .push(Lstm::new(2, 3, &mut rng))
        .push(wrapped);
    let x = DMatrix::from_fn(8, 3, |r, c| ((r + 2 * c) as f64 * 0.4).sin()); // 4 steps of 2
    let expected = model.predict(&x).unwrap();
    assert_eq!(expected.shape(), (8, 3));
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(names[3..], ["layers.1.layer.weight", "layers.1.layer.bias"]);
    let single: Chain<f32> = model.cast().unwrap();
    let narrowed = single.predict(&x.clone().cast::<f32>()).unwrap();
    assert!((&expected - narrowed.cast::<f64>()).amax() < 1e-6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tagger.safetensors");
    adroit_nn::io::save_safetensors(&model, &path).unwrap();
    let mut fresh = Chain::<f64>::new()
        .push(Lstm::new(2, 3, &mut rng))
        .push(TimeDistributed::new(Dense::new(3, 2, Activation::Relu, &mut rng)).unwrap());
    adroit_nn::io::load_safetensors(&mut fresh, &path).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), expected);
}

/// With `masking`, padding steps come out as the mask value, so a masked layer after a
/// per-step lift still skips them: each padded sequence through the lift and a transformer
/// encoder layer as it is alone, its padding's outputs the mask value and its padding's inputs
/// without gradient.
#[test]
fn masking_passes_the_padding_on() {
    let mut rng = StdRng::seed_from_u64(8);
    let lift = TimeDistributed::new(Dense::<f64>::new(2, 4, Activation::Tanh, &mut rng))
        .unwrap()
        .masking(-5.0);
    assert_eq!(Layer::<f64>::mask_value(&lift), Some(-5.0));
    let mut encoder = TransformerEncoderLayer::new(4, 2, 8, &mut rng)
        .unwrap()
        .masking(-5.0);
    encoder.dropout = Dropout::new(0.0).unwrap();
    let model = Chain::new().push(lift.clone()).push(encoder);
    // Sequences of 3, 1 and 2 steps of 2 features, padded with −5 to 3 steps.
    let mut x = DMatrix::from_fn(6, 3, |r, c| ((r * 3 + c) as f64 * 0.7).sin());
    x.view_mut((2, 1), (4, 1)).fill(-5.0);
    x.view_mut((4, 2), (2, 1)).fill(-5.0);
    let lifted = lift.predict(&x).unwrap();
    assert!(lifted.view((4, 1), (8, 1)).iter().all(|&v| v == -5.0));
    let y = model.predict(&x).unwrap();
    for (b, length) in [(0, 3), (1, 1), (2, 2)] {
        let alone = x.view((0, b), (2 * length, 1)).into_owned();
        let own = model.predict(&alone).unwrap();
        let got = y.view((0, b), (4 * length, 1)).into_owned();
        assert_close(&got, &own, 1e-14, &format!("sequence {b}"));
        assert!(
            y.view((4 * length, b), (4 * (3 - length), 1))
                .iter()
                .all(|&v| v == -5.0)
        );
    }
    // Without the lift's mask the padding reaches the encoder as data.
    let unmasked = Chain::new()
        .push(TimeDistributed::new(lift.layer.clone()).unwrap())
        .push(
            TransformerEncoderLayer::new(4, 2, 8, &mut StdRng::seed_from_u64(0))
                .unwrap()
                .masking(-5.0),
        );
    let read = unmasked.predict(&x).unwrap();
    assert!(read.view((4, 1), (8, 1)).iter().any(|&v| v != -5.0));
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let out = model.forward(v[0], &mut Context::new(Mode::Eval, 0));
            // Not uniform per step: a layer norm's outputs sum to a constant.
            let w = DMatrix::from_fn(12, 3, |r, c| ((r + 2 * c) as f64).cos());
            out.component_mul(MatVar::constant(w)).sum()
        },
        &[x],
    );
    assert!(g[0].view((2, 1), (4, 1)).iter().all(|&v| v == 0.0));
    assert!(g[0].view((0, 1), (2, 1)).iter().any(|&v| v != 0.0));
    // A chain's layers must skip the same padding.
    let mixed = Chain::new()
        .push(lift.clone())
        .push(adroit_nn::PositionalEncoding::new(4).unwrap().masking(-1.0));
    match mixed.check_params() {
        Err(NnError::InvalidConfig { reason, .. }) => {
            assert!(
                reason.contains("layer 1") && reason.contains("-5"),
                "{reason}"
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(mixed.predict(&DMatrix::zeros(6, 1)).is_err());
    // The mask value is checked and kept by a cast.
    let nan = lift.clone().masking(f64::NAN);
    assert!(matches!(
        Layer::<f64>::check_params(&nan),
        Err(NnError::InvalidConfig { .. })
    ));
    let single: TimeDistributed<Dense<f32>> = lift.cast().unwrap();
    assert_eq!(single.mask_value, Some(-5.0));
}

/// An inner Embedding's bad id is named by its column among the flattened steps, as the docs
/// say: 3 steps, a bad id at step 2 of sequence 1 is "sample 5".
#[test]
fn an_inner_layers_error_names_the_flattened_step() {
    let tagger = TimeDistributed::new(adroit_nn::Embedding::<f64>::new(
        4,
        2,
        &mut StdRng::seed_from_u64(0),
    ))
    .unwrap();
    let mut ids = DMatrix::from_fn(3, 2, |t, _| t as f64);
    ids[(2, 1)] = 7.0;
    let err = tagger.predict(&ids).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidData { what } if what.contains("sample 5 ")),
        "{err}"
    );
}
