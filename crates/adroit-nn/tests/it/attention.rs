//! MultiHeadAttention: outputs and gradients against PyTorch's `nn.MultiheadAttention`
//! (1, 2 and 4 heads; causal), the causal layer against later steps, the attention written
//! out in plain loops, finite differences in f64, sizes and bad parameters, names, weight
//! files and casts.

use crate::attention_reference as torch;
use crate::recurrent::{
    assert_all_close, assert_close, assert_gradients_match_finite_differences, from_rows,
    weighted_output_gradients_at,
};
use adroit_nn::io::{load_safetensors_bytes, to_safetensors_bytes};
use adroit_nn::{Cast, Chain, Context, Layer, Mode, MultiHeadAttention, NnError};
use adroit_reverse::matrix;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The generator's layer with `heads` heads (causal if `causal`).
fn reference(heads: usize, causal: bool) -> MultiHeadAttention<f64> {
    let layer = MultiHeadAttention::from_parts(
        from_rows(&torch::IN_PROJ_WEIGHT),
        from_rows(&torch::IN_PROJ_BIAS),
        from_rows(&torch::OUT_PROJ_WEIGHT),
        from_rows(&torch::OUT_PROJ_BIAS),
        heads,
    )
    .unwrap();
    if causal { layer.causal() } else { layer }
}

/// One case of the generator (on the padded input, the layer masking 0.0, for `padded`): its
/// heads, causality, output and gradients.
macro_rules! check_case {
    ($t:ident) => {
        check_case!($t, torch::X, torch::C, None)
    };
    ($t:ident, padded) => {
        check_case!($t, torch::X_PADDED, torch::C_PADDED, Some(0.0))
    };
    ($t:ident, $x:expr, $c:expr, $mask:expr) => {{
        use torch::$t as t;
        let mut layer = reference(t::HEADS, t::CAUSAL);
        layer.mask_value = $mask;
        let x = from_rows(&$x);
        let g = weighted_output_gradients_at(&layer, &x, &from_rows(&t::OUTPUT), &from_rows(&$c));
        let expected = [
            from_rows(&t::GRAD_X),
            from_rows(&t::GRAD_IN_PROJ_WEIGHT),
            from_rows(&t::GRAD_IN_PROJ_BIAS),
            from_rows(&t::GRAD_OUT_PROJ_WEIGHT),
            from_rows(&t::GRAD_OUT_PROJ_BIAS),
        ];
        assert_all_close(&g, &expected, 1e-14, stringify!($t));
    }};
}

#[test]
fn matches_pytorch() {
    check_case!(two_heads);
    check_case!(two_heads_causal);
    check_case!(one_head);
    check_case!(four_heads);
}

/// Sequences of different lengths: `masking` against PyTorch's `key_padding_mask`.
#[test]
fn masking_matches_pytorchs_key_padding_mask() {
    check_case!(two_heads_padded, padded);
    check_case!(two_heads_causal_padded, padded);
}

/// With `masking`, each padded sequence's real steps come out as the sequence alone gives
/// them, and its padding steps as the mask value; a sequence of padding alone gives padding.
#[test]
fn a_masked_sequence_attends_as_it_does_alone() {
    let x = from_rows(&torch::X_PADDED);
    for causal in [false, true] {
        let layer = reference(2, causal).masking(0.0);
        let y = layer.predict(&x).unwrap();
        for (b, &length) in torch::LENGTHS.iter().enumerate() {
            let alone = x.view((0, b), (4 * length, 1)).into_owned();
            let own = reference(2, causal).predict(&alone).unwrap();
            let got = y.view((0, b), (4 * length, 1)).into_owned();
            assert_close(&got, &own, 1e-15, &format!("sequence {b}, causal {causal}"));
            assert!(
                y.view((4 * length, b), (4 * (3 - length), 1))
                    .iter()
                    .all(|&v| v == 0.0)
            );
        }
        let nothing = layer.predict(&DMatrix::zeros(12, 1)).unwrap();
        assert_eq!(nothing, DMatrix::zeros(12, 1));
    }
    let nan = reference(2, false).masking(f64::NAN);
    assert!(matches!(
        nan.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
}

/// A mask value at the edge of the element type's range (−1e308 in `f64`, `f32::MIN` in
/// `f32`) is padding like any other: the padding steps are projected as zeros, so the real
/// steps come out as the sequence alone gives them and every gradient is finite. (The
/// padding's values were projected as they were: with `W_v = 2`, −1e308 became −∞, and its
/// zero attention weight times −∞ made the real steps NaN.)
#[test]
fn a_mask_value_near_the_types_limit_leaves_the_real_steps_as_alone() {
    let layer = MultiHeadAttention::from_parts(
        DMatrix::from_column_slice(3, 1, &[0.0, 0.0, 2.0]),
        DMatrix::zeros(3, 1),
        DMatrix::from_element(1, 1, 1.0),
        DMatrix::zeros(1, 1),
        1,
    )
    .unwrap();
    // Sequences (1, 2, 6) and (4, 8), padded.
    let x = |pad: f64| DMatrix::from_row_slice(3, 2, &[1.0, 4.0, 2.0, 8.0, 6.0, pad]);
    let masked = layer.clone().masking(-1e308);
    assert!(Layer::<f64>::check_params(&masked).is_ok());
    let y = masked.predict(&x(-1e308)).unwrap();
    let alone = layer
        .predict(&DMatrix::from_column_slice(2, 1, &[4.0, 8.0]))
        .unwrap();
    assert_eq!(
        y.column(1).rows(0, 2).into_owned(),
        alone.column(0).into_owned()
    );
    assert_eq!(y[(2, 1)], -1e308);
    assert_eq!(
        y.column(0),
        layer
            .predict(&x(0.0).columns(0, 1).into_owned())
            .unwrap()
            .column(0)
    );
    let (_, g) = matrix::value_and_gradient(
        |v| {
            masked
                .forward(v[0], &mut Context::new(Mode::Eval, 0))
                .component_mul(matrix::MatVar::constant(DMatrix::from_element(3, 2, 0.5)))
                .sum()
        },
        &[x(-1e308)],
    );
    assert!(
        g[0].iter().all(|v| v.is_finite()) && g[0][(2, 1)] == 0.0,
        "{g:?}"
    );
    let (_, grads) = adroit_nn::gradient(&masked, |m, ctx| {
        Ok(m.forward(matrix::MatVar::constant(x(-1e308)), ctx).sum())
    })
    .unwrap();
    let mut finite = 0;
    grads.visit("", &mut |_, p| {
        finite += usize::from(p.iter().all(|v| v.is_finite()))
    });
    assert_eq!(finite, 4);
    // f32, padded with its most negative value.
    let layer32: MultiHeadAttention<f32> = layer.cast().unwrap();
    let masked32 = layer32.clone().masking(f64::from(f32::MIN));
    let x32 = x(f64::from(f32::MIN)).cast::<f32>();
    let y32 = masked32.predict(&x32).unwrap();
    let alone32 = layer32
        .predict(&DMatrix::from_column_slice(2, 1, &[4.0f32, 8.0]))
        .unwrap();
    assert_eq!(
        y32.column(1).rows(0, 2).into_owned(),
        alone32.column(0).into_owned()
    );
    assert_eq!(y32[(2, 1)], f32::MIN);
}

/// The attention of sequence `b` of `x` written out: per head, per query step, a softmax over
/// the keys' scaled dot products, then the output projection.
fn by_loops(layer: &MultiHeadAttention<f64>, x: &DMatrix<f64>, b: usize) -> Vec<f64> {
    let (dim, heads) = (layer.dim(), layer.heads());
    let (width, steps) = (dim / heads, x.nrows() / dim);
    let step = |t: usize| x.view((t * dim, b), (dim, 1)).into_owned();
    let projected: Vec<DMatrix<f64>> = (0..steps)
        .map(|t| &layer.in_proj_weight * step(t) + &layer.in_proj_bias)
        .collect();
    let mut out = Vec::new();
    for i in 0..steps {
        let mut context = DMatrix::zeros(dim, 1);
        for h in 0..heads {
            let rows = |block: usize, t: usize| {
                projected[t]
                    .rows(block * dim + h * width, width)
                    .into_owned()
            };
            let keys = if layer.causal { i + 1 } else { steps };
            let scores: Vec<f64> = (0..keys)
                .map(|j| rows(1, j).dot(&rows(0, i)) / (width as f64).sqrt())
                .collect();
            let top = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let total: f64 = scores.iter().map(|s| (s - top).exp()).sum();
            for (j, s) in scores.iter().enumerate() {
                let weight = (s - top).exp() / total;
                let mut part = context.rows_mut(h * width, width);
                part += rows(2, j) * weight;
            }
        }
        let y = &layer.out_proj_weight * context + &layer.out_proj_bias;
        out.extend(y.iter());
    }
    out
}

#[test]
fn equals_the_attention_written_out() {
    let mut rng = StdRng::seed_from_u64(7);
    let x = DMatrix::from_fn(6 * 5, 3, |r, c| ((r * 3 + c) as f64 * 0.37).sin());
    for (heads, causal) in [(1, false), (2, false), (3, true), (6, false)] {
        let mut layer = MultiHeadAttention::<f64>::new(6, heads, &mut rng).unwrap();
        layer.in_proj_bias = DMatrix::from_fn(18, 1, |r, _| 0.1 * r as f64);
        layer.causal = causal;
        let y = layer.predict(&x).unwrap();
        for b in 0..3 {
            let want = DMatrix::from_vec(30, 1, by_loops(&layer, &x, b));
            let got = y.columns(b, 1).into_owned();
            assert_close(
                &got,
                &want,
                1e-14,
                &format!("{heads} heads, causal {causal}"),
            );
        }
    }
}

/// With `causal`, a step's output depends on no later step: changing the last step leaves the
/// others' outputs as they were, and their gradients in it are 0.
#[test]
fn causal_steps_do_not_see_later_steps() {
    let mut rng = StdRng::seed_from_u64(2);
    let layer = MultiHeadAttention::<f64>::new(4, 2, &mut rng)
        .unwrap()
        .causal();
    let x = DMatrix::from_fn(16, 2, |r, c| ((r + 5 * c) as f64 * 0.61).cos());
    let mut later = x.clone();
    later.view_mut((12, 0), (4, 2)).fill(3.0);
    let (a, b) = (layer.predict(&x).unwrap(), layer.predict(&later).unwrap());
    assert_eq!(a.rows(0, 12), b.rows(0, 12));
    assert_ne!(a.rows(12, 4), b.rows(12, 4));
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let y = layer.forward(v[0], &mut Context::new(Mode::Train, 0));
            y.rows(0, 12).sum()
        },
        &[x],
    );
    assert!(g[0].rows(12, 4).iter().all(|&v| v == 0.0));
    assert!(g[0].rows(0, 12).iter().any(|&v| v != 0.0));
}

/// Gradients in every parameter and the input against central differences (f64).
#[test]
fn gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(11);
    for causal in [false, true] {
        let mut layer = MultiHeadAttention::<f64>::new(4, 2, &mut rng).unwrap();
        layer.causal = causal;
        let x = DMatrix::from_fn(12, 2, |r, c| ((2 * r + c) as f64 * 0.43).sin());
        let w = DMatrix::from_fn(12, 2, |r, c| ((r + 3 * c) as f64 * 0.29).cos());
        assert_gradients_match_finite_differences(&layer, &x, &w, 1e-7);
    }
}

#[test]
fn sizes_and_bad_parameters_are_checked() {
    let mut rng = StdRng::seed_from_u64(0);
    for (dim, heads) in [(6, 4), (6, 0), (0, 1)] {
        let made = MultiHeadAttention::<f64>::new(dim, heads, &mut rng);
        assert!(
            matches!(made, Err(NnError::InvalidConfig { .. })),
            "{dim}, {heads}"
        );
    }
    let layer = MultiHeadAttention::<f64>::new(4, 2, &mut rng).unwrap();
    // Rows that are not whole steps: a typed error from predict.
    assert!(matches!(
        layer.predict(&DMatrix::zeros(10, 1)),
        Err(NnError::InvalidData { .. })
    ));
    // No steps, or no sequences: nothing to attend to.
    assert_eq!(
        layer.predict(&DMatrix::zeros(0, 3)).unwrap().shape(),
        (0, 3)
    );
    assert_eq!(
        layer.predict(&DMatrix::zeros(8, 0)).unwrap().shape(),
        (8, 0)
    );
    // One step attends to itself alone: W_o·(W_v·x + b_v) + b_o.
    let x = DMatrix::from_fn(4, 1, |r, _| r as f64 - 1.5);
    let v = layer.in_proj_weight.rows(8, 4) * &x + layer.in_proj_bias.rows(8, 4);
    let want = &layer.out_proj_weight * v + &layer.out_proj_bias;
    assert_close(&layer.predict(&x).unwrap(), &want, 1e-15, "one step");
    // A mis-set field is an error where a Result is returned.
    let mut bad = layer.clone();
    bad.in_proj_bias = DMatrix::zeros(4, 1);
    assert!(matches!(
        bad.check_params(),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert!(bad.predict(&DMatrix::zeros(8, 1)).is_err());
    let bad = MultiHeadAttention::from_parts(
        DMatrix::<f64>::zeros(12, 4),
        DMatrix::zeros(12, 1),
        DMatrix::zeros(4, 4),
        DMatrix::zeros(4, 1),
        3,
    );
    assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    // In a chain the size follows through.
    let model = Chain::new().push(layer.clone()).push(layer);
    assert_eq!(model.output_size_for(12).unwrap(), Some(12));
    assert!(model.output_size_for(10).is_err());
}

#[test]
fn names_files_and_casts() {
    let layer = reference(2, true);
    let mut names = Vec::new();
    layer.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        [
            "in_proj_weight",
            "in_proj_bias",
            "out_proj.weight",
            "out_proj.bias"
        ]
    );
    let mut other = MultiHeadAttention::<f64>::new(4, 2, &mut StdRng::seed_from_u64(1))
        .unwrap()
        .causal();
    load_safetensors_bytes(&mut other, &to_safetensors_bytes(&layer).unwrap()).unwrap();
    assert_eq!(other, layer);
    let single: MultiHeadAttention<f32> = layer.cast().unwrap();
    let x = from_rows(&torch::X);
    let y = single.predict(&x.map(|v| v as f32)).unwrap().map(f64::from);
    assert_close(
        &y,
        &from_rows(&torch::two_heads_causal::OUTPUT),
        1e-6,
        "f32",
    );
    assert!(single.causal && single.heads() == 2);
}

/// A transformer-style block (attention in a residual block, then a per-step read-out) learns a task that needs every step: each step's target is the mean of
/// its sequence's first features. A per-step model alone cannot do better than its own step.
#[test]
fn a_transformer_block_learns_to_read_across_steps() {
    use adroit_nn::data::DataLoader;
    use adroit_nn::losses::{Agg, mse};
    use adroit_nn::optim::Adam;
    use adroit_nn::{Activation, Connection, Dense, SkipConnection, TimeDistributed};
    let (dim, steps, n) = (4, 5, 128);
    let mut rng = StdRng::seed_from_u64(9);
    let x = DMatrix::from_fn(dim * steps, n, |_, _| {
        rand::Rng::random_range(&mut rng, -1.0..1.0)
    });
    let y = DMatrix::from_fn(steps, n, |_, c| {
        (0..steps).map(|t| x[(t * dim, c)]).sum::<f64>() / steps as f64
    });
    let read_out = |rng: &mut StdRng| {
        TimeDistributed::new(Dense::new(dim, 1, Activation::Identity, rng)).unwrap()
    };
    let attention = MultiHeadAttention::new(dim, 2, &mut rng).unwrap();
    let transformer = Chain::new()
        .push(SkipConnection::new(attention, Connection::Add))
        .push(read_out(&mut rng));
    let per_step = Chain::new().push(read_out(&mut rng));
    let train = |mut model: Chain<f64>| {
        let mut loader = DataLoader::new(x.clone(), y.clone(), 32)
            .unwrap()
            .shuffle(1);
        let config = adroit_nn::TrainConfig {
            epochs: 100,
            progress: false,
            log: false,
            seed: 1,
        };
        let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
        let history = adroit_nn::train(
            &mut model,
            &mut loader,
            loss,
            &mut Adam::new(0.02),
            &config,
            &mut [],
        )
        .unwrap();
        history.epochs.last().unwrap().loss
    };
    let variance = y.map(|v| v * v).mean();
    let (with_attention, alone) = (train(transformer), train(per_step));
    assert!(
        with_attention < 0.1 * variance,
        "{with_attention} vs {variance}"
    );
    assert!(with_attention < 0.25 * alone, "{with_attention} vs {alone}");
}
