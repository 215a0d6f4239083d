//! Bidirectional: outputs, final states and gradients against PyTorch's `bidirectional=True`
//! LSTM and GRU; sizes, bad pairs, no steps, names, weight files, casts and Hessians.

use crate::recurrent::{
    assert_all_close, assert_close, from_rows, reference_gru, reference_lstm,
    weighted_output_gradients,
};
use crate::recurrent_reference as torch;
use adroit_nn::{
    Activation, Bidirectional, Cast, Chain, Dense, Gru, Layer, Lstm, Mode, NnError, Rnn,
};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The gradients of Σ C2 ⊙ output on `torch::X` in the input and every parameter (in `visit`
/// order), the output checked against `output` on the way.
fn gradients(layer: &impl Layer<f64>, output: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
    weighted_output_gradients(layer, output, &from_rows(&torch::C2))
}

/// PyTorch's `nn.LSTM(2, 3, bidirectional=True)`: every step's two states, both final states,
/// and the gradients in the input and both directions' parameters.
#[test]
fn lstm_matches_pytorch() {
    use torch::bidirectional_lstm as t;
    // The forward direction is the one-direction LSTM of the generator.
    let backward = Lstm::from_parts(
        from_rows(&t::BACKWARD_WEIGHT_IH),
        from_rows(&t::BACKWARD_WEIGHT_HH),
        from_rows(&t::BACKWARD_BIAS),
    )
    .unwrap();
    let both = Bidirectional::new(reference_lstm(), backward).unwrap();
    let g = gradients(&both, &from_rows(&t::OUTPUT));
    let expected = [
        from_rows(&t::GRAD_X),
        from_rows(&t::FORWARD_GRAD_WEIGHT_IH),
        from_rows(&t::FORWARD_GRAD_WEIGHT_HH),
        from_rows(&t::FORWARD_GRAD_BIAS),
        from_rows(&t::BACKWARD_GRAD_WEIGHT_IH),
        from_rows(&t::BACKWARD_GRAD_WEIGHT_HH),
        from_rows(&t::BACKWARD_GRAD_BIAS),
    ];
    assert_all_close(&g, &expected, 1e-14, "LSTM");
    let last = Bidirectional::new(both.forward.last_only(), both.backward.last_only()).unwrap();
    let h_n = last.predict(&from_rows(&torch::X)).unwrap();
    assert_close(&h_n, &from_rows(&t::LAST), 1e-14, "h_n");
}

/// PyTorch's `nn.GRU(2, 3, bidirectional=True)`, its two biases per direction kept apart.
#[test]
fn gru_matches_pytorch() {
    use torch::bidirectional_gru as t;
    // The forward direction is the one-direction GRU of the generator.
    let backward = Gru::from_parts(
        from_rows(&t::BACKWARD_WEIGHT_IH),
        from_rows(&t::BACKWARD_WEIGHT_HH),
        from_rows(&t::BACKWARD_BIAS_IH),
        from_rows(&t::BACKWARD_BIAS_HH),
    )
    .unwrap();
    let both = Bidirectional::new(reference_gru(), backward).unwrap();
    let g = gradients(&both, &from_rows(&t::OUTPUT));
    assert_close(&g[0], &from_rows(&t::GRAD_X), 1e-14, "∂/∂x");
    let per_direction = [
        (
            &g[1..5],
            [
                from_rows(&t::FORWARD_GRAD_WEIGHT_IH),
                from_rows(&t::FORWARD_GRAD_WEIGHT_HH),
                from_rows(&t::FORWARD_GRAD_BIAS_IH),
                from_rows(&t::FORWARD_GRAD_BIAS_HH),
            ],
        ),
        (
            &g[5..9],
            [
                from_rows(&t::BACKWARD_GRAD_WEIGHT_IH),
                from_rows(&t::BACKWARD_GRAD_WEIGHT_HH),
                from_rows(&t::BACKWARD_GRAD_BIAS_IH),
                from_rows(&t::BACKWARD_GRAD_BIAS_HH),
            ],
        ),
    ];
    for (got, want) in per_direction {
        for (a, b) in got.iter().zip(&want) {
            assert_close(a, b, 1e-14, "∂/∂parameter");
        }
    }
    let last = Bidirectional::new(both.forward.last_only(), both.backward.last_only()).unwrap();
    let h_n = last.predict(&from_rows(&torch::X)).unwrap();
    assert_close(&h_n, &from_rows(&t::LAST), 1e-14, "h_n");
}

/// Pairs of other sizes are refused; sizes follow through a chain; no steps give no states or
/// the zero states; a layer swapped through the public fields for one of other sizes is a
/// `check_params` error, not a panic.
#[test]
fn sizes_pairs_and_no_steps() {
    let mut rng = StdRng::seed_from_u64(6);
    let rnn =
        |input, hidden, rng: &mut StdRng| Rnn::<f64>::new(input, hidden, Activation::Tanh, rng);
    assert!(matches!(
        Bidirectional::new(rnn(2, 3, &mut rng), rnn(3, 3, &mut rng)),
        Err(NnError::InvalidConfig { .. })
    ));
    let err = Bidirectional::new(rnn(2, 3, &mut rng), rnn(2, 3, &mut rng).last_only()).unwrap_err();
    assert!(err.to_string().contains("final state"), "{err}");
    let every = Bidirectional::new(rnn(2, 3, &mut rng), rnn(2, 3, &mut rng)).unwrap();
    assert_eq!(every.output_size_for(8).unwrap(), Some(24)); // 4 steps of 2·3
    assert!(every.output_size_for(7).is_err());
    assert_eq!(Layer::<f64>::output_size(&every), None);
    assert_eq!(
        every.predict(&DMatrix::zeros(0, 5)).unwrap().shape(),
        (0, 5)
    );
    let last = Bidirectional::new(
        rnn(2, 3, &mut rng).last_only(),
        rnn(2, 3, &mut rng).last_only(),
    )
    .unwrap();
    assert_eq!(Layer::<f64>::output_size(&last), Some(6));
    assert_eq!(
        last.predict(&DMatrix::zeros(0, 5)).unwrap(),
        DMatrix::zeros(6, 5)
    );
    // One step: both directions read the same step.
    let one = DMatrix::from_fn(2, 3, |r, c| (r + 2 * c) as f64 * 0.3);
    let out = every.predict(&one).unwrap();
    assert_eq!(out.rows(0, 3), every.forward.predict(&one).unwrap());
    assert_eq!(out.rows(3, 3), every.backward.predict(&one).unwrap());
    // The chain checks the next layer's size against 2·hidden.
    let bad =
        Chain::new()
            .push(last.clone())
            .push(Dense::new(3, 1, Activation::Identity, &mut rng));
    assert!(matches!(
        bad.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    // A swapped layer of other sizes.
    let mut swapped = every.clone();
    swapped.backward = rnn(2, 4, &mut rng);
    assert!(matches!(
        swapped.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    assert!(swapped.predict(&DMatrix::zeros(4, 1)).is_err());
    let mut swapped = every.clone();
    swapped.forward = swapped.forward.last_only();
    assert!(swapped.check_params().is_err());
}

/// Each step's backward state is the backward layer run over the reversed sequence, read
/// back in the original order.
#[test]
fn the_backward_half_reads_the_sequence_from_its_end() {
    let mut rng = StdRng::seed_from_u64(9);
    let both = Bidirectional::new(
        Gru::<f64>::new(2, 3, &mut rng),
        Gru::<f64>::new(2, 3, &mut rng),
    )
    .unwrap();
    let x = DMatrix::from_fn(2 * 5, 4, |r, c| ((r * 4 + c) as f64 * 0.53).sin());
    let reverse = |m: &DMatrix<f64>, width: usize| {
        let steps = m.nrows() / width;
        DMatrix::from_fn(m.nrows(), m.ncols(), |r, c| {
            m[((steps - 1 - r / width) * width + r % width, c)]
        })
    };
    let out = both.predict(&x).unwrap();
    let ahead = both.forward.predict(&x).unwrap();
    let behind = reverse(&both.backward.predict(&reverse(&x, 2)).unwrap(), 3);
    for t in 0..5 {
        assert_eq!(out.rows(6 * t, 3), ahead.rows(3 * t, 3));
        assert_eq!(out.rows(6 * t + 3, 3), behind.rows(3 * t, 3));
    }
}

/// Names, weight files, casts, and the model's Hessian in its parameters against differences
/// of its gradient.
#[test]
fn names_files_casts_and_hessians() {
    let mut rng = StdRng::seed_from_u64(2);
    let build = |rng: &mut StdRng| {
        let rnn = |rng: &mut StdRng| Rnn::new(1, 2, Activation::Tanh, rng).last_only();
        Chain::<f64>::new()
            .push(Bidirectional::new(rnn(rng), rnn(rng)).unwrap())
            .push(Dense::new(4, 1, Activation::Identity, rng))
    };
    let model = build(&mut rng);
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names[..6],
        [
            "layers.0.forward.weight_ih",
            "layers.0.forward.weight_hh",
            "layers.0.forward.bias",
            "layers.0.backward.weight_ih",
            "layers.0.backward.weight_hh",
            "layers.0.backward.bias",
        ]
    );
    let x = DMatrix::from_fn(3, 4, |r, c| ((r * 4 + c) as f64 * 0.8).sin());
    let expected = model.predict(&x).unwrap();
    let single: Chain<f32> = model.cast().unwrap();
    let narrowed = single.predict(&x.clone().cast::<f32>()).unwrap();
    assert!((&expected - narrowed.cast::<f64>()).amax() < 1e-6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bidirectional.safetensors");
    adroit_nn::io::save_safetensors(&model, &path).unwrap();
    let mut fresh = build(&mut rng);
    adroit_nn::io::load_safetensors(&mut fresh, &path).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), expected);
    // 2·(2 + 4 + 2) + 4 + 1 parameters.
    let y = DMatrix::from_fn(1, 4, |_, c| (c as f64 * 0.5).cos());
    let loss = crate::second_order::chain_mse(&x, &y);
    let (_, _, h) = adroit_nn::hessian_with(&model, Mode::Train, 0, loss).unwrap();
    assert_eq!(h.shape(), (21, 21));
    let fd = crate::second_order::hessian_by_differences(&model, |m| {
        adroit_nn::gradient_with(m, Mode::Train, 0, crate::second_order::chain_mse(&x, &y))
            .unwrap()
            .1
    });
    let scale = h.amax();
    assert!(scale > 0.01);
    assert!((&h - &fd).amax() <= 1e-7 * scale);
}
