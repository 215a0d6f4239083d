//! Conv1d, MaxPool1d and AvgPool1d: outputs and gradients against PyTorch's `nn.Conv1d`
//! (plain, strided and dilated, `"same"` with groups, causal), `nn.MaxPool1d` and
//! `nn.AvgPool1d`, against central differences, masked sequences against the same sequences
//! alone, stacking with recurrent layers, casts and bad input; GlobalMaxPool1d.

use crate::conv1d_reference as torch;
use crate::recurrent::{
    assert_all_close, assert_close, assert_gradients_match_finite_differences, from_rows,
    weighted_output_gradients_at,
};
use adroit_check::fd;
use adroit_nn::{
    Activation, AvgPool1d, Cast, Chain, Conv1d, GlobalMaxPool1d, Gru, Layer, MaxPool1d, NnError,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Runs `layer` on the reference input against `output` (1e-14) and returns the gradients of
/// Σ C ⊙ output in the input and the parameters.
fn gradients(layer: &Conv1d<f64>, output: &DMatrix<f64>, c: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
    weighted_output_gradients_at(layer, &from_rows(&torch::X), output, c)
}

#[test]
fn plain_convolution_matches_pytorch() {
    use torch::plain as r;
    let layer = Conv1d::from_parts(
        3,
        3,
        from_rows(&r::WEIGHT),
        Some(from_rows(&r::BIAS)),
        Activation::Tanh,
    )
    .unwrap();
    let g = gradients(&layer, &from_rows(&r::OUTPUT), &from_rows(&r::C));
    assert_all_close(
        &g,
        &[
            from_rows(&r::GRAD_X),
            from_rows(&r::GRAD_WEIGHT),
            from_rows(&r::GRAD_BIAS),
        ],
        1e-13,
        "plain",
    );
}

#[test]
fn strided_dilated_padded_convolution_matches_pytorch() {
    use torch::strided as r;
    let layer = Conv1d::from_parts(3, 2, from_rows(&r::WEIGHT), None, Activation::Identity)
        .unwrap()
        .stride(2)
        .padding(1)
        .dilation(2);
    let g = gradients(&layer, &from_rows(&r::OUTPUT), &from_rows(&r::C));
    assert_all_close(
        &g,
        &[from_rows(&r::GRAD_X), from_rows(&r::GRAD_WEIGHT)],
        1e-13,
        "strided",
    );
}

#[test]
fn grouped_same_convolution_matches_pytorch() {
    use torch::same as r;
    let layer = Conv1d::from_grouped_parts(
        3,
        3,
        4,
        from_rows(&r::WEIGHT),
        Some(from_rows(&r::BIAS)),
        Activation::Identity,
    )
    .unwrap()
    .same();
    assert_eq!(layer.padding_steps(), (1, 2));
    let g = gradients(&layer, &from_rows(&r::OUTPUT), &from_rows(&r::C));
    assert_all_close(
        &g,
        &[
            from_rows(&r::GRAD_X),
            from_rows(&r::GRAD_WEIGHT),
            from_rows(&r::GRAD_BIAS),
        ],
        1e-13,
        "same",
    );
}

#[test]
fn causal_convolution_matches_pytorch_padded_before() {
    use torch::causal as r;
    let layer = Conv1d::from_parts(
        3,
        3,
        from_rows(&r::WEIGHT),
        Some(from_rows(&r::BIAS)),
        Activation::Sigmoid,
    )
    .unwrap()
    .dilation(2)
    .causal();
    assert_eq!(layer.padding_steps(), (4, 0));
    let g = gradients(&layer, &from_rows(&r::OUTPUT), &from_rows(&r::C));
    assert_all_close(
        &g,
        &[
            from_rows(&r::GRAD_X),
            from_rows(&r::GRAD_WEIGHT),
            from_rows(&r::GRAD_BIAS),
        ],
        1e-13,
        "causal",
    );
}

/// A layer with random parameters and a smooth activation.
fn random_layer(groups: usize, seed: u64) -> Conv1d<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut layer = Conv1d::grouped(4, 6, 3, groups, Activation::Tanh, &mut rng).unwrap();
    layer.bias = Some(DMatrix::from_fn(6, 1, |i, _| 0.1 * i as f64 - 0.2));
    layer
}

#[test]
fn gradients_match_finite_differences() {
    let x = DMatrix::from_fn(4 * 6, 3, |r, c| ((r * 3 + c) as f64 * 0.7).sin());
    let w = |rows| DMatrix::from_fn(rows, 3, |r, c| ((r + 2 * c) as f64 * 0.3).cos());
    let cases = [
        (random_layer(1, 1), "plain"),
        (random_layer(2, 2).stride(2).padding_sides(2, 1), "strided"),
        (random_layer(2, 3).dilation(2).same(), "same"),
        (random_layer(1, 4).dilation(3).causal(), "causal"),
    ];
    for (layer, case) in cases {
        let rows = layer.output_size_for(24).unwrap().unwrap();
        assert_eq!(layer.predict(&x).unwrap().nrows(), rows, "{case}");
        assert_gradients_match_finite_differences(&layer, &x, &w(rows), 1e-8);
    }
}

#[test]
fn a_causal_output_reads_no_later_step() {
    let layer = random_layer(1, 5).dilation(2).causal();
    let x = DMatrix::from_fn(4 * 6, 2, |r, c| ((r + 5 * c) as f64).sin());
    let y = layer.predict(&x).unwrap();
    for t in 0..6 {
        // Changing steps after t leaves output step t as it was.
        let mut later = x.clone();
        later.rows_mut(4 * (t + 1), 4 * (5 - t)).fill(7.0);
        let moved = layer.predict(&later).unwrap();
        assert_eq!(
            moved.rows(0, 6 * (t + 1)),
            y.rows(0, 6 * (t + 1)),
            "step {t}"
        );
    }
}

#[test]
fn masked_sequences_give_what_they_give_alone() {
    for (layer, case) in [
        (random_layer(1, 6).same().masking(-1.0), "same"),
        (
            random_layer(2, 7).dilation(2).causal().masking(-1.0),
            "causal",
        ),
    ] {
        let mut unmasked = layer.clone();
        unmasked.mask_value = None;
        let lengths = [6, 4, 1];
        let padded = DMatrix::from_fn(4 * 6, 3, |r, c| {
            if r / 4 < lengths[c] {
                ((r + 7 * c) as f64 * 0.9).cos()
            } else {
                -1.0
            }
        });
        let y = layer.predict(&padded).unwrap();
        for (c, &len) in lengths.iter().enumerate() {
            let alone = unmasked
                .predict(&padded.view((0, c), (4 * len, 1)).into_owned())
                .unwrap();
            assert_close(
                &y.view((0, c), (6 * len, 1)).into_owned(),
                &alone,
                1e-15,
                case,
            );
            assert!(
                y.view((6 * len, c), (6 * (6 - len), 1))
                    .iter()
                    .all(|&v| v == -1.0),
                "{case}: padding steps give the mask value"
            );
        }
        // The input's gradient: 0 at padding, central differences at real entries (moving a
        // padding entry off the mask value would make its step real).
        let w = DMatrix::from_fn(36, 3, |r, c| ((r * c) as f64 + 0.5).sin());
        let g = weighted_output_gradients_at(&layer, &padded, &y, &w).remove(0);
        let fd = fd::gradient(
            |v: &[f64]| {
                let x = DMatrix::from_column_slice(24, 3, v);
                layer.predict(&x).unwrap().component_mul(&w).sum()
            },
            padded.as_slice(),
        );
        for ((k, &got), want) in g.iter().enumerate().zip(fd) {
            let real = k % 24 / 4 < lengths[k / 24];
            let want = if real { want } else { 0.0 };
            assert!(
                (got - want).abs() < 1e-8,
                "{case}: entry {k}: {got} vs {want}"
            );
        }
    }
}

#[test]
fn a_chain_stacks_convolutions_and_a_recurrent_layer() {
    let mut rng = StdRng::seed_from_u64(8);
    let model = Chain::<f64>::new()
        .push(
            Conv1d::new(2, 5, 3, Activation::Relu, &mut rng)
                .unwrap()
                .stride(2),
        )
        .push(Gru::new(5, 3, &mut rng).last_only());
    let x = DMatrix::from_fn(2 * 9, 4, |r, c| (r as f64 - c as f64).sin());
    assert_eq!(model.predict(&x).unwrap().shape(), (3, 4));
    assert_eq!(model.output_size_for(18).unwrap(), Some(3));
    // Rows that are not whole steps, or too few steps for one window, are errors.
    for rows in [17, 4] {
        let err = model.predict(&DMatrix::zeros(rows, 1)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("not whole steps of 2") || text.contains("shorter than the kernel"),
            "{rows} rows: {err}"
        );
    }
}

#[test]
fn invalid_configurations_are_refused() {
    let mut rng = StdRng::seed_from_u64(9);
    let base = Conv1d::<f64>::new(4, 6, 3, Activation::Identity, &mut rng).unwrap();
    let refused = [
        (base.clone().stride(0), "stride 0"),
        (base.clone().dilation(0), "dilation 0"),
        (
            base.clone().same().stride(2),
            "\"same\" padding with stride 2",
        ),
        (base.clone().masking(0.0), "masking with stride 1"),
        (
            base.clone().causal().stride(2).masking(0.0),
            "masking with stride 2",
        ),
        (
            base.clone().causal().masking(f64::NAN),
            "the mask value is NaN",
        ),
    ];
    for (layer, want) in refused {
        let err = Layer::<f64>::check_params(&layer).unwrap_err();
        assert!(err.to_string().contains(want), "{want}: {err}");
        assert!(layer.predict(&DMatrix::zeros(8, 1)).is_err(), "{want}");
    }
    assert!(Conv1d::<f64>::grouped(4, 6, 3, 4, Activation::Identity, &mut rng).is_err());
    assert!(Conv1d::<f64>::new(0, 6, 3, Activation::Identity, &mut rng).is_err());
    let wrong = Conv1d::from_parts(
        4,
        2,
        DMatrix::<f64>::zeros(6, 6),
        None,
        Activation::Identity,
    );
    assert!(
        matches!(wrong, Err(NnError::ShapeMismatch { .. })),
        "{wrong:?}"
    );
    let mut bad_bias = base.clone();
    bad_bias.bias = Some(DMatrix::zeros(5, 1));
    assert!(matches!(
        bad_bias.predict(&DMatrix::zeros(12, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
}

#[test]
fn casts_keep_the_geometry() {
    let layer = random_layer(2, 10).dilation(2).causal().masking(-1.0);
    let single: Conv1d<f32> = layer.cast().unwrap();
    assert_eq!(
        (single.padding_steps(), single.groups(), single.mask_value),
        ((4, 0), 2, Some(-1.0))
    );
    let x = DMatrix::from_fn(4 * 5, 2, |r, c| ((r + c) as f64 * 0.4).sin());
    let want = layer.predict(&x).unwrap();
    let got = single.predict(&x.map(|v| v as f32)).unwrap();
    assert!((got.map(f64::from) - want).amax() < 1e-5);
}

#[test]
fn pools_match_pytorch() {
    let x = from_rows(&torch::X);
    let max = MaxPool1d::new(3, 3)
        .unwrap()
        .stride(2)
        .padding(1)
        .dilation(2);
    let g = weighted_output_gradients_at(
        &max,
        &x,
        &from_rows(&torch::max::OUTPUT),
        &from_rows(&torch::max::C),
    );
    assert_all_close(&g, &[from_rows(&torch::max::GRAD_X)], 1e-14, "max");
    let avg = AvgPool1d::new(3, 3).unwrap().stride(2).padding(1);
    let g = weighted_output_gradients_at(
        &avg,
        &x,
        &from_rows(&torch::avg::OUTPUT),
        &from_rows(&torch::avg::C),
    );
    assert_all_close(&g, &[from_rows(&torch::avg::GRAD_X)], 1e-14, "avg");
    // Against central differences too, on another input (no ties).
    let x = DMatrix::from_fn(3 * 8, 2, |r, c| ((r * 5 + c * 3) as f64 * 0.77).sin());
    let w = |rows| DMatrix::from_fn(rows, 2, |r, c| ((r + 3 * c) as f64 * 0.4).cos());
    let rows = Layer::<f64>::output_size_for(&max, 24).unwrap().unwrap();
    assert_gradients_match_finite_differences(&max, &x, &w(rows), 1e-8);
    let rows = Layer::<f64>::output_size_for(&avg, 24).unwrap().unwrap();
    assert_gradients_match_finite_differences(&avg, &x, &w(rows), 1e-8);
}

#[test]
fn a_convolution_pool_and_recurrent_stack_trains_its_shapes() {
    let mut rng = StdRng::seed_from_u64(11);
    let model = Chain::<f64>::new()
        .push(
            Conv1d::new(2, 4, 3, Activation::Relu, &mut rng)
                .unwrap()
                .same(),
        )
        .push(MaxPool1d::new(4, 2).unwrap())
        .push(AvgPool1d::new(4, 2).unwrap().stride(1))
        .push(Gru::new(4, 3, &mut rng).last_only());
    // 10 steps → 10 → 5 → 4 → the last state.
    assert_eq!(model.output_size_for(20).unwrap(), Some(3));
    let x = DMatrix::from_fn(20, 3, |r, c| ((r + c) as f64).cos());
    assert_eq!(model.predict(&x).unwrap().shape(), (3, 3));
    // Two steps pool to one, which the average pool's window of 2 does not fit.
    let err = model.predict(&DMatrix::zeros(4, 1)).unwrap_err();
    assert!(err.to_string().contains("shorter than the kernel"), "{err}");
}

#[test]
fn invalid_pools_are_refused() {
    let refused: [(Box<dyn Layer<f64>>, &str); 5] = [
        (
            Box::new(MaxPool1d::new(2, 3).unwrap().padding(2)),
            "at most half the kernel",
        ),
        (
            Box::new(AvgPool1d::new(2, 3).unwrap().dilation(2)),
            "dilation 2 must be 1",
        ),
        (
            Box::new(MaxPool1d::new(2, 3).unwrap().stride(0)),
            "stride 0",
        ),
        (
            Box::new(MaxPool1d::new(2, 3).unwrap().dilation(0)),
            "dilation 0",
        ),
        (
            Box::new(AvgPool1d::new(2, 4).unwrap()),
            "not whole steps of 2",
        ),
    ];
    for (pool, want) in refused {
        let err = pool.predict(&DMatrix::zeros(8 * 2 + 1, 1)).unwrap_err();
        assert!(err.to_string().contains(want), "{want}: {err}");
    }
    assert!(MaxPool1d::new(0, 2).is_err() && AvgPool1d::new(2, 0).is_err());
}

#[test]
fn global_max_pool_takes_each_features_largest_real_step() {
    let pool = GlobalMaxPool1d::new(3).unwrap();
    let x = DMatrix::from_fn(3 * 5, 4, |r, c| ((r * 7 + c * 3) as f64 * 0.61).sin());
    let y = Layer::<f64>::predict(&pool, &x).unwrap();
    for b in 0..4 {
        for i in 0..3 {
            let want = (0..5)
                .map(|t| x[(t * 3 + i, b)])
                .fold(f64::NEG_INFINITY, f64::max);
            assert_eq!(y[(i, b)], want);
        }
    }
    let w = DMatrix::from_fn(3, 4, |r, c| (r + 2 * c) as f64 - 3.0);
    assert_gradients_match_finite_differences(&pool, &x, &w, 1e-8);
    // Masked: sequences of 5, 2 and 0 real steps padded with −1, against the same alone.
    let masked = pool.masking(-1.0);
    let lengths = [5, 2, 0];
    let padded = DMatrix::from_fn(
        15,
        3,
        |r, c| if r / 3 < lengths[c] { x[(r, c)] } else { -1.0 },
    );
    let y = Layer::<f64>::predict(&masked, &padded).unwrap();
    for (c, &len) in lengths.iter().enumerate() {
        let want = if len == 0 {
            DMatrix::zeros(3, 1)
        } else {
            let alone = padded.view((0, c), (3 * len, 1)).into_owned();
            Layer::<f64>::predict(&pool, &alone).unwrap()
        };
        assert_eq!(y.column(c), want.column(0), "sequence {c}");
    }
    // Ties share the gradient: two equal maxima get half each.
    let tied = DMatrix::from_column_slice(3, 1, &[2.0, 5.0, 5.0]);
    let one = GlobalMaxPool1d::new(1).unwrap();
    let g = adroit_reverse::matrix::gradient(
        |v| {
            one.forward(
                v[0],
                &mut adroit_nn::Context::new(adroit_nn::Mode::Train, 0),
            )
            .sum()
        },
        &[tied],
    );
    assert_eq!(g[0], DMatrix::from_column_slice(3, 1, &[0.0, 0.5, 0.5]));
    assert!(Layer::<f64>::predict(&pool, &DMatrix::zeros(7, 1)).is_err());
    assert!(Layer::<f64>::check_params(&pool.masking(f64::INFINITY)).is_err());
}

#[test]
fn masking_takes_any_padding_adding_up_to_the_span_and_padding_at_the_start() {
    let causal = random_layer(1, 12).dilation(2).causal().masking(-1.0);
    // Sides adding up to dilation·(kernel − 1) = 4: as causal, or as same.
    let sides = random_layer(1, 12)
        .dilation(2)
        .padding_sides(4, 0)
        .masking(-1.0);
    assert!(Layer::<f64>::check_params(&sides).is_ok());
    let x = DMatrix::from_fn(4 * 5, 2, |r, c| {
        if r < 8 && c == 1 {
            -1.0
        } else {
            (r as f64).sin()
        }
    });
    assert_eq!(sides.predict(&x).unwrap(), causal.predict(&x).unwrap());
    let short = random_layer(1, 12)
        .dilation(2)
        .padding_sides(1, 2)
        .masking(-1.0);
    assert!(Layer::<f64>::check_params(&short).is_err());
    // Padding at the start (sequence 1's first two steps) gives what the rest gives alone.
    for layer in [causal, random_layer(2, 13).same().masking(-1.0)] {
        let y = layer.predict(&x).unwrap();
        let mut unmasked = layer.clone();
        unmasked.mask_value = None;
        let alone = unmasked
            .predict(&x.view((8, 1), (12, 1)).into_owned())
            .unwrap();
        assert_close(
            &y.view((12, 1), (18, 1)).into_owned(),
            &alone,
            1e-15,
            "start",
        );
        assert!(y.view((0, 1), (12, 1)).iter().all(|&v| v == -1.0));
    }
}

#[test]
fn no_steps_are_refused_even_with_padding_as_pytorch() {
    let layer = random_layer(1, 14).padding(2);
    assert_eq!(layer.output_steps(0), None);
    assert!(layer.predict(&DMatrix::zeros(0, 2)).is_err());
    assert!(
        Layer::<f64>::predict(
            &MaxPool1d::new(4, 2).unwrap().padding(1),
            &DMatrix::zeros(0, 2)
        )
        .is_err()
    );
}

#[test]
fn pool_errors_name_the_real_problem() {
    let chain = Chain::<f64>::new().push(MaxPool1d::new(2, 3).unwrap().stride(0));
    let err = chain.output_size_for(8).unwrap_err().to_string();
    assert!(err.contains("stride 0"), "{err}");
    for bad in [
        AvgPool1d::new(2, 3).unwrap().padding(2),
        AvgPool1d::new(2, 3).unwrap().dilation(2),
    ] {
        assert!(Layer::<f64>::output_size_for(&bad, 8).is_err());
    }
    let huge = MaxPool1d::new(1, 3).unwrap().padding(usize::MAX / 2 + 1);
    assert!(Layer::<f64>::check_params(&huge).is_err());
    let err = Layer::<f64>::predict(
        &MaxPool1d::new(4, 2).unwrap().padding(1),
        &DMatrix::zeros(0, 2),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("no steps"), "{err}");
    let conv = random_layer(1, 15).stride(0);
    let err = Layer::<f64>::output_size_for(&conv, 8)
        .unwrap_err()
        .to_string();
    assert!(err.contains("stride 0"), "{err}");
    // A span past usize (dilation 2⁶³, 3 taps) is refused, not overflowed in the taps' step
    // arithmetic (it saturated, passed the length check, and `predict` panicked).
    let conv = Conv1d::<f64>::from_parts(
        1,
        3,
        DMatrix::from_element(1, 3, 0.5),
        None,
        Activation::Identity,
    )
    .unwrap()
    .dilation(1 << 63);
    let max = MaxPool1d::new(1, 3).unwrap().dilation(1 << 63);
    assert_eq!(
        conv.clone()
            .padding_sides(usize::MAX - 4, 0)
            .output_steps(4),
        None
    );
    for err in [
        Layer::<f64>::predict(&conv.clone().causal(), &DMatrix::zeros(1, 1)).unwrap_err(),
        Layer::<f64>::output_size_for(&conv.padding_sides(usize::MAX - 4, 0), 4).unwrap_err(),
        Layer::<f64>::predict(&max, &DMatrix::zeros(1, 1)).unwrap_err(),
    ] {
        assert!(
            err.to_string().contains("more steps than a usize counts"),
            "{err}"
        );
    }
}

/// The documented case of `Max`: a window whose real entries are all −∞ ties with its padding,
/// which takes its shares of the cotangent (a window of 3 over one padded step: a third
/// reaches the step; PyTorch gives it all).
#[test]
fn a_max_window_of_minus_infinity_shares_its_cotangent_with_the_padding() {
    let pool = MaxPool1d::new(1, 3).unwrap().stride(1).padding(1);
    let x = DMatrix::from_element(1, 1, f64::NEG_INFINITY);
    let (y, g) = adroit_reverse::matrix::value_and_gradient(
        |v| {
            pool.forward(v[0], &mut adroit_nn::Context::new(adroit_nn::Mode::Eval, 0))
                .sum()
        },
        &[x],
    );
    assert_eq!((y, g[0][(0, 0)]), (f64::NEG_INFINITY, 1.0 / 3.0));
}
