//! TransformerEncoderLayer: outputs and gradients against PyTorch's
//! `nn.TransformerEncoderLayer` (post-norm, pre-norm, GELU, causal, padded), the layer
//! written out from its parts, each padded sequence against itself alone, stacking with any
//! mask value, dropout's modes, finite differences, bad parameters, names, weight files and
//! casts.

use crate::attention_reference as attention;
use crate::recurrent::{
    assert_all_close, assert_close, assert_gradients_match_finite_differences, from_rows,
    weighted_output_gradients_at,
};
use crate::transformer_reference as torch;
use adroit_nn::io::{load_safetensors, load_safetensors_bytes, to_safetensors_bytes};
use adroit_nn::{
    Activation, Cast, Chain, Context, Dense, Dropout, Layer, LayerNorm, Mode, MultiHeadAttention,
    NnError, TransformerEncoderLayer,
};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// The generator's layer: dropout 0, post-norm and ReLU unless told.
fn reference(norm_first: bool, gelu: bool, causal: bool) -> TransformerEncoderLayer<f64> {
    let mut self_attn = MultiHeadAttention::from_parts(
        from_rows(&attention::IN_PROJ_WEIGHT),
        from_rows(&attention::IN_PROJ_BIAS),
        from_rows(&attention::OUT_PROJ_WEIGHT),
        from_rows(&attention::OUT_PROJ_BIAS),
        torch::HEADS,
    )
    .unwrap();
    self_attn.causal = causal;
    let activation = if gelu {
        Activation::GeluErf
    } else {
        Activation::Relu
    };
    let dense = |w: DMatrix<f64>, b: DMatrix<f64>, a| Dense::from_parts(w, Some(b), a).unwrap();
    let norm = |scale: DMatrix<f64>, bias: DMatrix<f64>| LayerNorm {
        scale,
        bias,
        epsilon: 1e-5,
    };
    TransformerEncoderLayer {
        self_attn,
        linear1: dense(
            from_rows(&torch::LINEAR1_WEIGHT),
            from_rows(&torch::LINEAR1_BIAS),
            activation,
        ),
        linear2: dense(
            from_rows(&torch::LINEAR2_WEIGHT),
            from_rows(&torch::LINEAR2_BIAS),
            Activation::Identity,
        ),
        norm1: norm(
            from_rows(&torch::NORM1_SCALE),
            from_rows(&torch::NORM1_BIAS),
        ),
        norm2: norm(
            from_rows(&torch::NORM2_SCALE),
            from_rows(&torch::NORM2_BIAS),
        ),
        dropout: Dropout::new(0.0).unwrap(),
        norm_first,
    }
}

/// One case of the generator (on the padded input, the layer masking 0.0, for `padded`).
macro_rules! check_case {
    ($t:ident) => {
        check_case!($t, attention::X, attention::C, None)
    };
    ($t:ident, padded) => {
        check_case!($t, attention::X_PADDED, attention::C_PADDED, Some(0.0))
    };
    ($t:ident, $x:expr, $c:expr, $mask:expr) => {{
        use torch::$t as t;
        let mut layer = reference(t::NORM_FIRST, t::GELU, t::CAUSAL);
        layer.self_attn.mask_value = $mask;
        let x = from_rows(&$x);
        let g = weighted_output_gradients_at(&layer, &x, &from_rows(&t::OUTPUT), &from_rows(&$c));
        let expected = [
            from_rows(&t::GRAD_X),
            from_rows(&t::GRAD_IN_PROJ_WEIGHT),
            from_rows(&t::GRAD_IN_PROJ_BIAS),
            from_rows(&t::GRAD_OUT_PROJ_WEIGHT),
            from_rows(&t::GRAD_OUT_PROJ_BIAS),
            from_rows(&t::GRAD_LINEAR1_WEIGHT),
            from_rows(&t::GRAD_LINEAR1_BIAS),
            from_rows(&t::GRAD_LINEAR2_WEIGHT),
            from_rows(&t::GRAD_LINEAR2_BIAS),
            from_rows(&t::GRAD_NORM1_SCALE),
            from_rows(&t::GRAD_NORM1_BIAS),
            from_rows(&t::GRAD_NORM2_SCALE),
            from_rows(&t::GRAD_NORM2_BIAS),
        ];
        assert_all_close(&g, &expected, 1e-13, stringify!($t));
    }};
}

#[test]
fn matches_pytorch() {
    check_case!(post_norm);
    check_case!(pre_norm);
    check_case!(gelu);
    check_case!(causal);
}

/// Sequences of different lengths: `masking` against PyTorch's `src_key_padding_mask`.
#[test]
fn masking_matches_pytorchs_key_padding_mask() {
    check_case!(padded, padded);
    check_case!(pre_norm_causal_padded, padded);
}

/// The layer written out from its parts (attention, dense layers and norms run on their own,
/// step by step), post-norm and pre-norm.
#[test]
fn equals_its_parts_composed() {
    let x = from_rows(&attention::X);
    let (dim, steps) = (4, 3);
    for norm_first in [false, true] {
        let layer = reference(norm_first, false, false);
        let per_step = |m: &DMatrix<f64>, f: &dyn Fn(&DMatrix<f64>) -> DMatrix<f64>| {
            let columns = m
                .clone()
                .reshape_generic(nalgebra::Dyn(dim), nalgebra::Dyn(steps * m.ncols()));
            f(&columns).reshape_generic(nalgebra::Dyn(dim * steps), nalgebra::Dyn(m.ncols()))
        };
        let norm1 = |m: &DMatrix<f64>| per_step(m, &|c| layer.norm1.predict(c).unwrap());
        let norm2 = |m: &DMatrix<f64>| per_step(m, &|c| layer.norm2.predict(c).unwrap());
        let ff = |m: &DMatrix<f64>| {
            per_step(m, &|c| {
                let hidden = layer.linear1.predict(c).unwrap();
                layer.linear2.predict(&hidden).unwrap()
            })
        };
        let attend = |m: &DMatrix<f64>| layer.self_attn.predict(m).unwrap();
        let want = if norm_first {
            let y = &x + attend(&norm1(&x));
            &y + ff(&norm2(&y))
        } else {
            let y = norm1(&(&x + attend(&x)));
            norm2(&(&y + ff(&y)))
        };
        assert_close(
            &layer.predict(&x).unwrap(),
            &want,
            1e-14,
            &format!("norm_first {norm_first}"),
        );
    }
}

/// With `masking`, each padded sequence's real steps come out as the sequence alone gives
/// them and its padding steps as the mask value — also through a stack of layers, for a mask
/// value other than 0 (a hand-built residual block would double it).
#[test]
fn a_masked_sequence_runs_as_it_does_alone_through_a_stack() {
    let mut rng = StdRng::seed_from_u64(4);
    let layer = |rng: &mut StdRng, norm_first: bool| {
        let mut l = TransformerEncoderLayer::<f64>::new(4, 2, 8, rng)
            .unwrap()
            .masking(-9.0);
        l.norm_first = norm_first;
        l
    };
    let (lower, upper) = (layer(&mut rng, false), layer(&mut rng, true).causal());
    let stack = Chain::new().push(lower.clone()).push(upper.clone());
    let unmasked = |l: &TransformerEncoderLayer<f64>| {
        let mut l = l.clone();
        l.self_attn.mask_value = None;
        l
    };
    let mut x = from_rows(&attention::X);
    x.view_mut((8, 1), (4, 1)).fill(-9.0); // the second sequence: 2 steps
    let y = stack.predict(&x).unwrap();
    for (b, length) in [(0, 3), (1, 2)] {
        let alone = x.view((0, b), (4 * length, 1)).into_owned();
        let own = stack.predict(&alone).unwrap();
        let got = y.view((0, b), (4 * length, 1)).into_owned();
        assert_close(&got, &own, 1e-14, &format!("sequence {b}"));
    }
    assert!(y.view((8, 1), (4, 1)).iter().all(|&v| v == -9.0));
    // Without the mask the padding is read as a step and changes the real steps' outputs.
    let open = Chain::new().push(unmasked(&lower)).push(unmasked(&upper));
    let read = open.predict(&x).unwrap();
    assert!((read.view((0, 1), (8, 1)) - y.view((0, 1), (8, 1))).amax() > 1e-3);
    // The padding's inputs get no gradient.
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let out = stack.forward(v[0], &mut Context::new(Mode::Eval, 0));
            out.component_mul(MatVar::constant(DMatrix::from_element(12, 2, 0.3)))
                .sum()
        },
        &[x],
    );
    assert!(g[0].view((8, 1), (4, 1)).iter().all(|&v| v == 0.0));
    assert!(g[0].view((0, 1), (8, 1)).iter().any(|&v| v != 0.0));
}

/// In `f32`, padding with a value near the type's limit (3e38, `f32::MIN`) leaves the real
/// steps as the sequence alone gives them, post-norm and pre-norm, and every parameter's
/// gradient finite (the padding steps' projected values overflowed, and the real steps came
/// out NaN); in `f64` −1e308 makes no NaN anywhere (the norms' sums of a padding column
/// overflowed).
#[test]
fn a_mask_value_near_f32s_limit_leaves_the_real_steps_as_alone() {
    for (seed, norm_first) in (0..8).flat_map(|s| [(s, false), (s, true)]) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut layer = TransformerEncoderLayer::<f64>::new(4, 2, 6, &mut rng).unwrap();
        layer.norm_first = norm_first;
        let layer: TransformerEncoderLayer<f32> = layer.cast().unwrap();
        for pad in [3e38, f64::from(f32::MIN)] {
            let masked = layer.clone().masking(pad);
            let mut x = from_rows(&attention::X).cast::<f32>();
            x.view_mut((8, 1), (4, 1)).fill(pad as f32); // the second sequence: 2 steps
            let y = masked.predict(&x).unwrap();
            let alone = layer.predict(&x.view((0, 1), (8, 1)).into_owned()).unwrap();
            let got = y.view((0, 1), (8, 1)).into_owned();
            assert!((got - &alone).amax() <= 1e-6, "{norm_first}, {pad}: {y}");
            assert!(y.view((8, 1), (4, 1)).iter().all(|&v| v == pad as f32));
            let (_, grads) = adroit_nn::gradient(&masked, |m, ctx| {
                Ok(m.forward(MatVar::constant(x.clone()), ctx)
                    .view((0, 0), (8, 2))
                    .sum())
            })
            .unwrap();
            let mut finite = Vec::new();
            grads.visit("", &mut |name, p| {
                finite.push((name.to_owned(), p.iter().all(|v| v.is_finite())));
            });
            assert!(
                finite.iter().all(|f| f.1),
                "{norm_first}, {pad}: {finite:?}"
            );
        }
        // f64 padded with −1e308: no NaN anywhere in the forward pass either (the norms'
        // sums of a padding column overflowed), which anomaly detection checks.
        let layer: TransformerEncoderLayer<f64> = layer.cast().unwrap();
        let masked = layer.clone().masking(-1e308);
        let mut x = from_rows(&attention::X);
        x.view_mut((8, 1), (4, 1)).fill(-1e308);
        let y = masked.predict(&x).unwrap();
        let alone = layer.predict(&x.view((0, 1), (8, 1)).into_owned()).unwrap();
        assert!(
            (y.view((0, 1), (8, 1)) - alone).amax() <= 1e-12,
            "{norm_first}: {y}"
        );
        let (_, g) = matrix::detect_anomaly(|| {
            matrix::value_and_gradient(
                |v| {
                    masked
                        .forward(v[0], &mut Context::new(Mode::Eval, 0))
                        .view((0, 0), (8, 2))
                        .sum()
                },
                &[x.clone()],
            )
        });
        assert!(g[0].iter().all(|v| v.is_finite()));
    }
}

/// Dropout acts in training mode only (then differently per seed), not in evaluation.
#[test]
fn dropout_acts_in_training_only() {
    let layer = TransformerEncoderLayer::<f64>::new(4, 2, 8, &mut StdRng::seed_from_u64(3))
        .unwrap()
        .norm_first();
    let x = from_rows(&attention::X);
    let run = |mode, seed| {
        matrix::pullback(
            |_| layer.forward(MatVar::constant(x.clone()), &mut Context::new(mode, seed)),
            &[] as &[DMatrix<f64>],
        )
        .0
    };
    assert_eq!(run(Mode::Eval, 1), layer.predict(&x).unwrap());
    assert_eq!(run(Mode::Eval, 1), run(Mode::Eval, 2));
    assert_ne!(run(Mode::Train, 1), run(Mode::Eval, 1));
    assert_ne!(run(Mode::Train, 1), run(Mode::Train, 2));
    let mut exact = layer.clone();
    exact.dropout = Dropout::new(0.0).unwrap();
    assert_eq!(run(Mode::Eval, 1), {
        let y = matrix::pullback(
            |_| {
                exact.forward(
                    MatVar::constant(x.clone()),
                    &mut Context::new(Mode::Train, 1),
                )
            },
            &[] as &[DMatrix<f64>],
        );
        y.0
    });
}

/// A forward pass written as a function of the input and the context.
type Forward<'a> = dyn Fn(MatVar<f64>, &mut Context<f64>) -> MatVar<f64> + 'a;

/// In training mode the dropout acts where PyTorch's does: on the attention's output, on the
/// feed-forward network's hidden layer and on its output (the layer against its parts run in
/// that order on one context, so on the same random draws).
#[test]
fn training_mode_drops_where_pytorch_does() {
    let mut layer = reference(false, false, false);
    layer.dropout = Dropout::new(0.5).unwrap();
    let x = from_rows(&attention::X);
    let (dim, steps, batch) = (4, 3, 2);
    let run = |f: &Forward| {
        let mut ctx = Context::new(Mode::Train, 5);
        matrix::pullback(
            |_| f(MatVar::constant(x.clone()), &mut ctx),
            &[] as &[DMatrix<f64>],
        )
        .0
    };
    let by_layer = run(&|v, ctx| layer.forward(v, ctx));
    let by_parts = run(&|v, ctx| {
        let columns = v.reshape(dim, steps * batch);
        let attended = layer.self_attn.forward(v, ctx).reshape(dim, steps * batch);
        let y = layer
            .norm1
            .forward(columns + layer.dropout.forward(attended, ctx), ctx);
        let hidden = layer.dropout.forward(layer.linear1.forward(y, ctx), ctx);
        let fed = layer
            .dropout
            .forward(layer.linear2.forward(hidden, ctx), ctx);
        layer
            .norm2
            .forward(y + fed, ctx)
            .reshape(dim * steps, batch)
    });
    assert_eq!(by_layer, by_parts);
    assert_ne!(by_layer, layer.predict(&x).unwrap());
}

/// Gradients in the input and every parameter against central differences (f64), with the
/// layer's own initialisation, post-norm and pre-norm (unmasked: a moved padding entry would
/// no longer be padding).
#[test]
fn gradients_match_finite_differences() {
    let mut rng = StdRng::seed_from_u64(12);
    for norm_first in [false, true] {
        let mut layer = TransformerEncoderLayer::<f64>::new(4, 2, 6, &mut rng).unwrap();
        layer.dropout = Dropout::new(0.0).unwrap();
        layer.norm_first = norm_first;
        let x = DMatrix::from_fn(12, 2, |r, c| ((2 * r + c) as f64 * 0.43).sin());
        let w = DMatrix::from_fn(12, 2, |r, c| ((r + 3 * c) as f64 * 0.29).cos());
        assert_gradients_match_finite_differences(&layer, &x, &w, 1e-7);
    }
}

#[test]
fn sizes_and_bad_parameters_are_checked() {
    let mut rng = StdRng::seed_from_u64(0);
    for (dim, heads, ff) in [(6, 4, 8), (6, 0, 8), (0, 1, 8), (6, 2, 0)] {
        let made = TransformerEncoderLayer::<f64>::new(dim, heads, ff, &mut rng);
        assert!(
            matches!(made, Err(NnError::InvalidConfig { .. })),
            "{dim}, {heads}, {ff}"
        );
    }
    let layer = TransformerEncoderLayer::<f64>::new(4, 2, 8, &mut rng).unwrap();
    assert!(matches!(
        layer.predict(&DMatrix::zeros(10, 1)),
        Err(NnError::InvalidData { .. })
    ));
    assert_eq!(
        layer.predict(&DMatrix::zeros(0, 3)).unwrap().shape(),
        (0, 3)
    );
    // Parts that do not fit together: typed errors naming the part.
    let mut bad = layer.clone();
    bad.linear2 = Dense::new(6, 4, Activation::Identity, &mut rng);
    match bad.check_params() {
        Err(NnError::ShapeMismatch { what, .. }) => assert!(what.contains("linear2"), "{what}"),
        other => panic!("{other:?}"),
    }
    assert!(bad.predict(&DMatrix::zeros(8, 1)).is_err());
    let mut bad = layer.clone();
    bad.norm2 = LayerNorm::new(3);
    match bad.check_params() {
        Err(NnError::ShapeMismatch { what, .. }) => assert!(what.contains("norm2"), "{what}"),
        other => panic!("{other:?}"),
    }
    let nan = layer.clone().masking(f64::NAN);
    assert!(matches!(
        nan.check_params(),
        Err(NnError::InvalidConfig { .. })
    ));
    match Layer::<f64>::output_size_for(&layer, 10) {
        Err(NnError::InvalidConfig { name, .. }) => {
            assert_eq!(name, "TransformerEncoderLayer input")
        }
        other => panic!("{other:?}"),
    }
    let model = Chain::new().push(layer.clone()).push(layer);
    assert_eq!(model.output_size_for(12).unwrap(), Some(12));
    assert!(model.output_size_for(10).is_err());
}

#[test]
fn names_files_and_casts() {
    let layer = reference(true, false, true).masking(0.0);
    let mut names = Vec::new();
    layer.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        [
            "self_attn.in_proj_weight",
            "self_attn.in_proj_bias",
            "self_attn.out_proj.weight",
            "self_attn.out_proj.bias",
            "linear1.weight",
            "linear1.bias",
            "linear2.weight",
            "linear2.bias",
            "norm1.weight",
            "norm1.bias",
            "norm2.weight",
            "norm2.bias",
        ]
    );
    let mut other = TransformerEncoderLayer::<f64>::new(4, 2, 6, &mut StdRng::seed_from_u64(1))
        .unwrap()
        .norm_first()
        .causal()
        .masking(0.0);
    other.dropout = Dropout::new(0.0).unwrap();
    load_safetensors_bytes(&mut other, &to_safetensors_bytes(&layer).unwrap()).unwrap();
    assert_eq!(other, layer);
    let single: TransformerEncoderLayer<f32> = layer.cast().unwrap();
    assert!(single.norm_first && single.self_attn.causal);
    assert_eq!(Layer::<f32>::mask_value(&single), Some(0.0));
    let x = from_rows(&attention::X_PADDED);
    let y = single.predict(&x.map(|v| v as f32)).unwrap().map(f64::from);
    assert_close(
        &y,
        &from_rows(&torch::pre_norm_causal_padded::OUTPUT),
        1e-5,
        "f32",
    );
}

/// PyTorch's own state dict of the generator's layer (written by the `safetensors` package,
/// its biases 1-D) loads into a layer as it is and gives PyTorch's output.
#[test]
fn loads_pytorchs_state_dict() {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/transformer_encoder_layer.safetensors");
    let mut layer =
        TransformerEncoderLayer::<f64>::new(4, 2, 6, &mut StdRng::seed_from_u64(2)).unwrap();
    load_safetensors(&mut layer, &path).unwrap();
    assert_eq!(layer, {
        let mut want = reference(false, false, false);
        want.dropout = layer.dropout;
        want
    });
    let y = layer.predict(&from_rows(&attention::X)).unwrap();
    assert_close(&y, &from_rows(&torch::post_norm::OUTPUT), 1e-14, "output");
}
