//! Recurrent layers with `masking`: outputs, final states and gradients against PyTorch's
//! packed sequences (one direction and two); each padded sequence against itself alone;
//! padding in the middle; no padding changes nothing; bad mask values and pairs.

use crate::masked_recurrent_reference as torch;
use crate::recurrent::{
    assert_all_close, assert_close, from_rows, reference_gru, reference_lstm, reference_rnn,
    weighted_output_gradients_at,
};
use crate::recurrent_reference as unmasked;
use adroit_nn::{Activation, Bidirectional, Cast, Context, Gru, Layer, Lstm, Mode, NnError, Rnn};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// What a run gives: the output, `h_n` and (an LSTM's) `c_n`.
type Run = (MatVar<f64>, MatVar<f64>, Option<MatVar<f64>>);

/// The one-direction loss Σ C ⊙ output + Σ D ⊙ h_n (+ Σ E ⊙ c_n) of `run` on `torch::X` and its
/// gradients in `[x, parameters…]`, the values checked against `want` (output, h_n, c_n).
fn gradients(
    layer: &impl Layer<f64>,
    run: impl Fn(MatVar<f64>, &mut Context<f64>) -> Run,
    want: [Option<DMatrix<f64>>; 3],
) -> Vec<DMatrix<f64>> {
    let mut params = Vec::new();
    layer.visit_params(&mut |p| params.push(p));
    let mut inputs = vec![from_rows(&torch::X)];
    inputs.extend(params.iter().map(|p| (*p).clone()));
    let weights = [
        from_rows(&torch::C),
        from_rows(&torch::D),
        from_rows(&torch::E),
    ];
    matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            for (p, var) in params.iter().zip(&v[1..]) {
                ctx.bind(p, *var);
            }
            let (out, h_n, c_n) = run(v[0], &mut ctx);
            let got = [Some(out), Some(h_n), c_n];
            let mut loss = MatVar::constant(DMatrix::zeros(1, 1));
            for (k, ((got, want), w)) in got.iter().zip(&want).zip(&weights).enumerate() {
                assert_eq!(got.is_some(), want.is_some(), "part {k}");
                if let (Some(got), Some(want)) = (got, want) {
                    assert_close(&got.value(), want, 1e-14, &format!("part {k}"));
                    loss = loss + got.component_mul(MatVar::constant(w.clone())).sum();
                }
            }
            loss
        },
        &inputs,
    )
    .1
}

#[test]
fn lstm_matches_pytorch_on_packed_sequences() {
    use torch::lstm as t;
    let lstm = reference_lstm().masking(0.0);
    let want = [t::OUTPUT.as_slice(), &t::H_N, &t::C_N].map(|rows| Some(matrix_of(rows)));
    let g = gradients(
        &lstm,
        |x, ctx| {
            let (out, state) = lstm.forward_with_state(x, None, ctx).unwrap();
            (out, state.h, Some(state.c))
        },
        want,
    );
    let expected = [
        from_rows(&t::GRAD_X),
        from_rows(&t::GRAD_WEIGHT_IH),
        from_rows(&t::GRAD_WEIGHT_HH),
        from_rows(&t::GRAD_BIAS),
    ];
    assert_all_close(
        &g,
        &expected,
        1e-14,
        "lstm_matches_pytorch_on_packed_sequences",
    );
    let h_n = lstm.last_only().predict(&from_rows(&torch::X)).unwrap();
    assert_close(&h_n, &from_rows(&t::H_N), 1e-14, "last_only");
}

/// A run of a layer whose state is its hidden state alone (`Gru`, `Rnn`).
fn hidden_only(run: Result<(MatVar<f64>, MatVar<f64>), NnError>) -> Run {
    let (out, h_n) = run.unwrap();
    (out, h_n, None)
}

#[test]
fn gru_matches_pytorch_on_packed_sequences() {
    use torch::gru as t;
    let gru = reference_gru().masking(0.0);
    let want = [Some(from_rows(&t::OUTPUT)), Some(from_rows(&t::H_N)), None];
    let run = |x, ctx: &mut _| hidden_only(gru.forward_with_state(x, None, ctx));
    let expected = [
        from_rows(&t::GRAD_X),
        from_rows(&t::GRAD_WEIGHT_IH),
        from_rows(&t::GRAD_WEIGHT_HH),
        from_rows(&t::GRAD_BIAS_IH),
        from_rows(&t::GRAD_BIAS_HH),
    ];
    assert_all_close(
        &gradients(&gru, run, want),
        &expected,
        1e-14,
        "gru_matches_pytorch_on_packed_sequences",
    );
}

#[test]
fn rnn_matches_pytorch_on_packed_sequences() {
    use torch::rnn as t;
    let rnn = reference_rnn(Activation::Tanh).masking(0.0);
    let want = [Some(from_rows(&t::OUTPUT)), Some(from_rows(&t::H_N)), None];
    let run = |x, ctx: &mut _| hidden_only(rnn.forward_with_state(x, None, ctx));
    let expected = [
        from_rows(&t::GRAD_X),
        from_rows(&t::GRAD_WEIGHT_IH),
        from_rows(&t::GRAD_WEIGHT_HH),
        from_rows(&t::GRAD_BIAS),
    ];
    assert_all_close(
        &gradients(&rnn, run, want),
        &expected,
        1e-14,
        "rnn_matches_pytorch_on_packed_sequences",
    );
}

#[test]
fn bidirectional_layers_match_pytorch_on_packed_sequences() {
    let x = from_rows(&torch::X);
    let c2 = from_rows(&torch::C2);
    // LSTM: the reverse direction's weights are those of the unmasked reference.
    let backward = Lstm::from_parts(
        from_rows(&unmasked::bidirectional_lstm::BACKWARD_WEIGHT_IH),
        from_rows(&unmasked::bidirectional_lstm::BACKWARD_WEIGHT_HH),
        from_rows(&unmasked::bidirectional_lstm::BACKWARD_BIAS),
    )
    .unwrap();
    let both = Bidirectional::new(reference_lstm().masking(0.0), backward.masking(0.0)).unwrap();
    let t = &torch::bidirectional_lstm::OUTPUT;
    let g = weighted_output_gradients_at(&both, &x, &from_rows(t), &c2);
    use torch::bidirectional_lstm as l;
    let expected = [
        from_rows(&l::GRAD_X),
        from_rows(&l::FORWARD_GRAD_WEIGHT_IH),
        from_rows(&l::FORWARD_GRAD_WEIGHT_HH),
        from_rows(&l::FORWARD_GRAD_BIAS),
        from_rows(&l::BACKWARD_GRAD_WEIGHT_IH),
        from_rows(&l::BACKWARD_GRAD_WEIGHT_HH),
        from_rows(&l::BACKWARD_GRAD_BIAS),
    ];
    assert_all_close(&g, &expected, 1e-14, "bidirectional LSTM");
    let last = Bidirectional::new(both.forward.last_only(), both.backward.last_only()).unwrap();
    assert_close(
        &last.predict(&x).unwrap(),
        &from_rows(&l::LAST),
        1e-14,
        "h_n",
    );
    // GRU, its two biases per direction apart.
    use torch::bidirectional_gru as r;
    let backward = Gru::from_parts(
        from_rows(&unmasked::bidirectional_gru::BACKWARD_WEIGHT_IH),
        from_rows(&unmasked::bidirectional_gru::BACKWARD_WEIGHT_HH),
        from_rows(&unmasked::bidirectional_gru::BACKWARD_BIAS_IH),
        from_rows(&unmasked::bidirectional_gru::BACKWARD_BIAS_HH),
    )
    .unwrap();
    let both = Bidirectional::new(reference_gru().masking(0.0), backward.masking(0.0)).unwrap();
    let g = weighted_output_gradients_at(&both, &x, &from_rows(&r::OUTPUT), &c2);
    let expected = [
        from_rows(&r::GRAD_X),
        from_rows(&r::FORWARD_GRAD_WEIGHT_IH),
        from_rows(&r::FORWARD_GRAD_WEIGHT_HH),
        from_rows(&r::FORWARD_GRAD_BIAS_IH),
        from_rows(&r::FORWARD_GRAD_BIAS_HH),
        from_rows(&r::BACKWARD_GRAD_WEIGHT_IH),
        from_rows(&r::BACKWARD_GRAD_WEIGHT_HH),
        from_rows(&r::BACKWARD_GRAD_BIAS_IH),
        from_rows(&r::BACKWARD_GRAD_BIAS_HH),
    ];
    assert_all_close(&g, &expected, 1e-14, "bidirectional GRU");
    let last = Bidirectional::new(both.forward.last_only(), both.backward.last_only()).unwrap();
    assert_close(
        &last.predict(&x).unwrap(),
        &from_rows(&r::LAST),
        1e-14,
        "h_n",
    );
}

/// A matrix from a slice of rows of 3 (the generator's batch).
fn matrix_of(rows: &[[f64; 3]]) -> DMatrix<f64> {
    DMatrix::from_fn(rows.len(), 3, |i, j| rows[i][j])
}

/// Sequence `b` of `torch::X`, its real steps alone (`input·length × 1`).
fn alone(b: usize) -> DMatrix<f64> {
    let x = from_rows(&torch::X);
    x.view((0, b), (2 * torch::LENGTHS[b], 1)).into_owned()
}

/// A layer of the references, masked by 0 or not, every step's output or the final state's.
type Make = Box<dyn Fn(bool, bool) -> Box<dyn Layer<f64>>>;

/// `layer` masked by 0 if `masked`, returning the final state alone if `last`.
macro_rules! make {
    ($layer:expr) => {
        Box::new(|masked: bool, last: bool| {
            let l = $layer;
            let l = if masked { l.masking(0.0) } else { l };
            Box::new(if last { l.last_only() } else { l }) as Box<dyn Layer<f64>>
        }) as Make
    };
}

/// In a padded batch each sequence ends in the state it reaches alone, without masking; its
/// outputs are its own, then zeros.
#[test]
fn each_padded_sequence_gives_what_it_gives_alone() {
    let x = from_rows(&torch::X);
    let layers = [
        make!(reference_lstm()),
        make!(reference_gru()),
        make!(reference_rnn(Activation::Tanh)),
    ];
    for (k, layer) in layers.iter().enumerate() {
        let batch = layer(true, false).predict(&x).unwrap();
        let last = layer(true, true).predict(&x).unwrap();
        for (b, &length) in torch::LENGTHS.iter().enumerate() {
            let own = layer(false, false).predict(&alone(b)).unwrap();
            let column = batch.column(b);
            assert_eq!(
                column.rows(0, 3 * length),
                own.column(0),
                "layer {k}, sequence {b}"
            );
            assert!(
                column
                    .rows(3 * length, 3 * (4 - length))
                    .iter()
                    .all(|&v| v == 0.0)
            );
            let own_last = layer(false, true).predict(&alone(b)).unwrap();
            assert_eq!(
                last.column(b),
                own_last.column(0),
                "layer {k}, sequence {b}'s h_n"
            );
        }
    }
}

/// Padding between real steps is skipped too (Keras's rule): the state carries over it.
#[test]
fn padding_in_the_middle_carries_the_state_over() {
    let lstm = reference_lstm().masking(-9.0).last_only();
    let steps = [[0.5, -1.0], [-9.0, -9.0], [2.0, 0.25]];
    let with_gap = DMatrix::from_iterator(6, 1, steps.iter().flatten().copied());
    let without = DMatrix::from_iterator(4, 1, [0.5, -1.0, 2.0, 0.25]);
    assert_eq!(
        lstm.predict(&with_gap).unwrap(),
        lstm.predict(&without).unwrap()
    );
    // A step with one feature equal to the mask value is real.
    let half = DMatrix::from_iterator(6, 1, [0.5, -1.0, -9.0, 0.0, 2.0, 0.25]);
    assert_ne!(
        lstm.predict(&half).unwrap(),
        lstm.predict(&without).unwrap()
    );
}

/// Masking a batch without padding changes nothing; the gradient of a padding step's input is
/// exactly 0 even for a huge padding value.
#[test]
fn no_padding_changes_nothing_and_padding_gets_no_gradient() {
    let x = from_rows(&unmasked::X); // no step is all zeros
    for masked in [reference_gru().masking(0.0), reference_gru().masking(1e300)] {
        assert_eq!(
            masked.predict(&x).unwrap(),
            reference_gru().predict(&x).unwrap()
        );
    }
    let gru = reference_gru().masking(1e300).last_only();
    let x = DMatrix::from_column_slice(4, 1, &[0.5, -1.0, 1e300, 1e300]);
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            gru.forward(v[0], &mut ctx).sum()
        },
        &[x],
    );
    assert_eq!(g[0].rows(2, 2), DMatrix::zeros(2, 1));
    assert!(g[0].rows(0, 2).iter().all(|v| v.is_finite() && *v != 0.0));
}

#[test]
fn bad_mask_values_and_pairs_are_refused() {
    let mut rng = StdRng::seed_from_u64(0);
    let nan = Rnn::<f64>::new(2, 3, Activation::Tanh, &mut rng).masking(f64::NAN);
    assert!(matches!(
        nan.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    assert!(nan.predict(&DMatrix::zeros(2, 1)).is_err());
    let nan = Lstm::<f64>::new(2, 3, &mut rng).masking(f64::NAN);
    assert!(matches!(
        nan.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    let nan = Gru::<f64>::new(2, 3, &mut rng).masking(f64::NAN);
    assert!(matches!(
        nan.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    // A value f32 rounds to an infinity or to 0 is refused in an f32 layer, not in f64.
    for v in [1e300, 1e-50] {
        let single = Gru::<f32>::new(2, 3, &mut rng).masking(v);
        match single.check_params() {
            Err(NnError::InvalidConfig { reason, .. }) => {
                assert!(reason.contains("element type"), "{reason}")
            }
            other => panic!("{v}: {other:?}"),
        }
        assert!(
            Gru::<f64>::new(2, 3, &mut rng)
                .masking(v)
                .check_params()
                .is_ok()
        );
    }
    // Both directions must skip the same padding.
    let pair = Bidirectional::new(
        Gru::<f64>::new(2, 3, &mut rng).masking(0.0),
        Gru::new(2, 3, &mut rng),
    );
    match pair {
        Err(NnError::InvalidConfig { reason, .. }) => assert!(reason.contains("mask"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // Changed through the public fields after pairing: check_params (and predict) refuse.
    let mut pair = Bidirectional::new(
        Gru::<f64>::new(2, 3, &mut rng).masking(0.0),
        Gru::new(2, 3, &mut rng).masking(0.0),
    )
    .unwrap();
    assert!(pair.check_params().is_ok());
    pair.backward.mask_value = Some(1.0);
    match pair.check_params() {
        Err(NnError::InvalidConfig { reason, .. }) => assert!(reason.contains("mask"), "{reason}"),
        other => panic!("{other:?}"),
    }
    assert!(pair.predict(&DMatrix::zeros(4, 1)).is_err());
    // 0 and −0 mark the same padding.
    let signed_zeros = Bidirectional::new(
        Gru::<f64>::new(2, 3, &mut rng).masking(0.0),
        Gru::new(2, 3, &mut rng).masking(-0.0),
    );
    assert!(signed_zeros.is_ok());
    // Two NaN masks: the layers' own check names the NaN.
    let pair = Bidirectional::new(
        Gru::<f64>::new(2, 3, &mut rng).masking(f64::NAN),
        Gru::new(2, 3, &mut rng).masking(f64::NAN),
    )
    .unwrap();
    match pair.check_params() {
        Err(NnError::InvalidConfig { reason, .. }) => assert!(reason.contains("NaN"), "{reason}"),
        other => panic!("{other:?}"),
    }
    // A cast keeps the mask value.
    let lstm = Lstm::<f64>::new(2, 3, &mut rng).masking(-1.0);
    let single: Lstm<f32> = lstm.cast().unwrap();
    assert_eq!(Layer::<f32>::mask_value(&single), Some(-1.0));
    // A checkpointed layer states its mask value.
    let wrapped = adroit_nn::Checkpoint::new(Lstm::<f64>::new(2, 3, &mut rng).masking(-1.0));
    assert_eq!(Layer::<f64>::mask_value(&wrapped), Some(-1.0));
}

/// The output at padding steps is the mask value, so masked layers stack: each sequence
/// through two masked LSTMs (and a masked bidirectional GRU) as through the same layers alone.
#[test]
fn masked_layers_stack() {
    let mut rng = StdRng::seed_from_u64(5);
    // torch::X padded with −9 instead of 0.
    let mut x = from_rows(&torch::X);
    for (b, &length) in torch::LENGTHS.iter().enumerate() {
        x.view_mut((2 * length, b), (2 * (4 - length), 1))
            .fill(-9.0);
    }
    let (lower, upper) = (reference_lstm(), Lstm::new(3, 3, &mut rng));
    let stacked = adroit_nn::Chain::new()
        .push(lower.clone().masking(-9.0))
        .push(upper.clone().masking(-9.0).last_only());
    let lower_out = lower.clone().masking(-9.0).predict(&x).unwrap();
    let gru = |rng: &mut StdRng| Gru::<f64>::new(3, 2, rng).masking(-9.0).last_only();
    let both = Bidirectional::new(gru(&mut rng), gru(&mut rng)).unwrap();
    let deep = adroit_nn::Chain::new()
        .push(lower.clone().masking(-9.0))
        .push(both.clone());
    let (h_n, deep_h_n) = (stacked.predict(&x).unwrap(), deep.predict(&x).unwrap());
    for (b, &length) in torch::LENGTHS.iter().enumerate() {
        let padding = lower_out.view((3 * length, b), (3 * (4 - length), 1));
        assert!(padding.iter().all(|&v| v == -9.0), "{padding}");
        let own = adroit_nn::Chain::new()
            .push(lower.clone())
            .push(upper.clone().last_only());
        assert_eq!(h_n.column(b), own.predict(&alone(b)).unwrap().column(0));
        let unmasked = |l: &Gru<f64>| Gru {
            mask_value: None,
            ..l.clone()
        };
        let own_both =
            Bidirectional::new(unmasked(&both.forward), unmasked(&both.backward)).unwrap();
        let own_deep = adroit_nn::Chain::new().push(lower.clone()).push(own_both);
        let want = own_deep.predict(&alone(b)).unwrap();
        assert_close(&deep_h_n.columns(b, 1).into_owned(), &want, 1e-15, "deep");
    }
}
