//! Masks — decay on some parameters only (`AdamW`/`Lion::with_decay_mask`, Optax's `mask`
//! argument) and a rule on some parameters only (`Masked`, Optax's `masked`) — against Optax
//! and PyTorch's parameter groups, and the parameter selection by name (`optim::mask`).

use super::r;
use super::{check, check_losses, model, run, run_model};
use adroit_nn::losses::{Agg, mse};
use adroit_nn::nalgebra::{DMatrix, dmatrix};
use adroit_nn::optim::{
    Adam, AdamW, Descent, Lion, Mask, Masked, Momentum, Optimizer, WeightDecay, chain, mask, step,
};
use adroit_nn::{Activation, Chain, Dense, Layer, LayerNorm, NnError, gradient, train_step};

#[test]
fn adamw_decay_mask() {
    let opt = AdamW::with(0.05, 0.2, 0.9, 0.999, 1e-8).with_decay_mask(vec![true, false, true]);
    check("ADAMW_DECAY_MASK", &run(opt, 20), &r::ADAMW_DECAY_MASK);
}

#[test]
fn adamw_decay_mask_as_torch_parameter_groups() {
    let opt = AdamW::with(0.05, 0.2, 0.9, 0.999, 1e-8).with_decay_mask(vec![true, false, true]);
    check("TORCH_ADAMW_GROUPS", &run(opt, 20), &r::TORCH_ADAMW_GROUPS);
}

#[test]
fn lion_decay_mask() {
    let opt = Lion::with(0.01, 0.9, 0.99, 0.3).with_decay_mask(vec![false, true, true]);
    check("LION_DECAY_MASK", &run(opt, 20), &r::LION_DECAY_MASK);
}

#[test]
fn masked_weight_decay_then_momentum() {
    let opt = chain(
        Masked::new(WeightDecay::new(0.1), vec![true, false, true]),
        Momentum::with_beta(0.05, 0.9),
    );
    check("MASKED_WD_MOMENTUM", &run(opt, 20), &r::MASKED_WD_MOMENTUM);
}

#[test]
fn masked_rules_on_complementary_parameters() {
    // Adam on the second array, plain descent on the others: each keeps its own state.
    let opt = chain(
        Masked::new(Adam::new(0.01), vec![false, true, false]),
        Masked::new(Descent::new(0.1), vec![true, false, true]),
    );
    check(
        "MASKED_ADAM_THEN_SGD",
        &run(opt, 20),
        &r::MASKED_ADAM_THEN_SGD,
    );
}

#[test]
fn nested_masks_restricted_with_within() {
    // Optax: masked(adamw(mask=[T, F, T]), [T, T, F]) then masked(sgd, [F, F, T]); the inner
    // mask indexes the model there, the selected parameters here (`within`).
    let outer = Mask::from(vec![true, true, false]);
    let decay = Mask::from(vec![true, false, true]).within(&outer);
    assert_eq!(decay.flags(), [true, false]);
    let opt = chain(
        Masked::new(
            AdamW::with(0.01, 0.5, 0.9, 0.999, 1e-8).with_decay_mask(decay),
            outer.clone(),
        ),
        Masked::new(Descent::new(0.1), !&outer),
    );
    check("NESTED_MASKS", &run(opt, 20), &r::NESTED_MASKS);
}

#[test]
fn an_optax_style_nested_mask_is_refused_with_a_pointer_to_within() {
    let opt = Masked::new(
        AdamW::<f64>::new(0.01).with_decay_mask(vec![true, false, true]),
        vec![true, true, false],
    );
    let err = opt.check_params(&[(2, 3), (3, 1), (1, 2)]).unwrap_err();
    let message = err.to_string();
    assert!(
        message.contains("AdamW's mask has 3 entries for 2 parameters")
            && message.contains("inside Masked, whose rule sees only the 2 parameters")
            && message.contains("Mask::within"),
        "{message}"
    );
}

#[test]
fn complement_and_within_keep_the_recorded_shapes() {
    let m = model();
    let weights = mask(&m, |name, _: &DMatrix<f64>| name.ends_with("weight"));
    let biases = !&weights;
    assert_eq!(biases.flags(), [false, true, false]);
    // Both still refuse another model's shapes.
    let other: Vec<(usize, usize)> = vec![(2, 1), (2, 1), (1, 2)];
    assert!(biases.check("Masked", &other).is_err());
    let inner = weights.within(&weights);
    assert_eq!(inner.flags(), [true, true]);
    assert!(inner.check("AdamW", &[(4, 3), (2, 4)]).is_ok());
    assert!(inner.check("AdamW", &[(4, 1), (2, 4)]).is_err());
}

#[test]
fn all_true_mask_is_the_unmasked_rule_bit_for_bit() {
    let masked = run(
        AdamW::with(0.05, 0.2, 0.9, 0.999, 1e-8).with_decay_mask(vec![true; 3]),
        20,
    );
    let plain = run(AdamW::with(0.05, 0.2, 0.9, 0.999, 1e-8), 20);
    assert_eq!(masked, plain);
    let masked = run(Masked::new(Adam::new(0.01), vec![true; 3]), 20);
    assert_eq!(masked, run(Adam::new(0.01), 20));
}

#[test]
fn masked_out_updates_pass_through_unchanged() {
    // Optax's `masked`: the arrays outside the mask keep their incoming update (here the raw
    // gradient), untouched, even where the inner rule would change them.
    let mut opt = Masked::new(Descent::new(0.5), vec![false, true]);
    let (a, b) = (dmatrix![1.0, 2.0], dmatrix![3.0]);
    let mut updates = vec![dmatrix![0.25, -4.0], dmatrix![2.0]];
    opt.update(&mut updates, &[&a, &b]);
    assert_eq!(updates, [dmatrix![0.25, -4.0], dmatrix![-1.0]]);
}

#[test]
fn model_adamw_decays_weights_by_name() {
    let decay = mask(&model(), |name, _: &DMatrix<f64>| name.ends_with("weight"));
    assert_eq!(decay.flags(), [true, false, true]); // layers.0.weight, layers.0.bias, layers.1.weight
    for use_step in [false, true] {
        let opt = AdamW::with(0.03, 0.3, 0.9, 0.999, 1e-8).with_decay_mask(decay.clone());
        let (t, l) = run_model(opt, use_step);
        check(
            &format!("MODEL_ADAMW_DECAY_WEIGHTS (step={use_step})"),
            &t,
            &r::MODEL_ADAMW_DECAY_WEIGHTS,
        );
        check_losses(
            "MODEL_ADAMW_DECAY_WEIGHTS",
            &l,
            &r::MODEL_ADAMW_DECAY_WEIGHTS_LOSS,
        );
    }
}

#[test]
fn mask_selects_by_name_and_value() {
    let m = model();
    let names = adroit_nn::params(&m)
        .names()
        .map(str::to_string)
        .collect::<Vec<_>>();
    let by_name = mask(&m, |name, _: &DMatrix<f64>| name.contains("bias"));
    let expected: Vec<bool> = names.iter().map(|n| n.contains("bias")).collect();
    assert_eq!(by_name.flags(), expected);
    // The parameter is passed too: select the arrays with more than one column.
    let wide = mask(&m, |_, p: &DMatrix<f64>| p.ncols() > 1);
    assert_eq!(wide.flags(), [true, false, true]);
}

// ------------------------------------------------------------------ masks that do not fit

#[test]
#[should_panic(expected = "Masked's mask has 2 entries for 3 parameters")]
fn masked_update_with_a_short_mask_panics() {
    run(Masked::new(Adam::new(0.01), vec![true, false]), 1);
}

#[test]
#[should_panic(expected = "AdamW's mask has 4 entries for 3 parameters")]
fn adamw_update_with_a_long_mask_panics() {
    run(AdamW::new(0.01).with_decay_mask(vec![true; 4]), 1);
}

#[test]
#[should_panic(expected = "Lion's mask has 1 entries for 3 parameters")]
fn lion_update_with_a_short_mask_panics() {
    run(Lion::new(0.01).with_decay_mask(vec![true]), 1);
}

/// A model with the same number of parameters as [`model`] (three) but other shapes.
fn other_model() -> Chain<f64> {
    Chain::new()
        .push(LayerNorm::new(2))
        .push(Dense::from_parts(dmatrix![1.0, 2.0], None, Activation::Identity).unwrap())
}

/// One `train_step` and one `step` of `opt` on [`model`]: both errors, and the model unchanged.
fn refused<O: Optimizer<f64> + Clone>(opt: O) -> Vec<String> {
    let x = DMatrix::from_column_slice(3, 5, &r::MODEL_X);
    let y = DMatrix::from_column_slice(2, 5, &r::MODEL_Y);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let mut m = model();
    let before = super::model_flat(&m);
    let mut messages = Vec::new();
    let err = train_step(&mut m, &x, &y, &loss, &mut opt.clone(), 0).unwrap_err();
    assert!(
        matches!(err, NnError::InvalidConfig { name: "mask", .. }),
        "{err:?}"
    );
    messages.push(err.to_string());
    let (_, g) = gradient(&m, |mm, ctx| {
        mse(
            mm.forward(adroit_nn::MatVar::constant(x.clone()), ctx),
            &y,
            Agg::Mean,
        )
    })
    .unwrap();
    let err = step(&mut opt.clone(), &mut m, g).unwrap_err();
    messages.push(err.to_string());
    assert_eq!(
        super::model_flat(&m),
        before,
        "a refused step changed the model"
    );
    messages
}

#[test]
fn train_refuses_a_bad_mask_before_drawing_any_batch() {
    use adroit_nn::data::DataLoader;
    use adroit_nn::{TrainConfig, train};
    let x = DMatrix::from_column_slice(3, 5, &r::MODEL_X);
    let y = DMatrix::from_column_slice(2, 5, &r::MODEL_Y);
    let mut loader = DataLoader::new(x, y, 2).unwrap().shuffle(3);
    let mut m = model();
    let before = super::model_flat(&m);
    let mut opt = AdamW::new(0.01).with_decay_mask(vec![true, false]);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let err = train(
        &mut m,
        &mut loader,
        loss,
        &mut opt,
        &TrainConfig::default(),
        &mut [],
    )
    .unwrap_err();
    assert!(matches!(
        err.error,
        NnError::InvalidConfig { name: "mask", .. }
    ));
    assert!(err.history.epochs.is_empty());
    assert_eq!(
        loader.batches_drawn(),
        0,
        "the loader advanced before the refusal"
    );
    assert_eq!(super::model_flat(&m), before);
}

#[test]
fn training_refuses_a_mask_of_another_length() {
    for message in refused(AdamW::new(0.01).with_decay_mask(vec![true, false])) {
        assert!(
            message.contains("AdamW's mask has 2 entries for 3 parameters"),
            "{message}"
        );
    }
    for message in refused(Lion::new(0.01).with_decay_mask(vec![true; 4])) {
        assert!(message.contains("Lion's mask has 4 entries"), "{message}");
    }
    let opt = chain(
        adroit_nn::optim::ClipValue::new(10.0),
        Masked::new(WeightDecay::new(0.1), vec![true]),
    );
    for message in refused(opt) {
        assert!(message.contains("Masked's mask has 1 entries"), "{message}");
    }
}

#[test]
fn training_refuses_a_mask_built_for_another_model() {
    // Same count (three parameters), other shapes: the mask's recorded shapes catch it.
    let foreign = mask(&other_model(), |name, _: &DMatrix<f64>| {
        name.ends_with("weight")
    });
    assert_eq!(foreign.flags().len(), 3);
    for message in refused(AdamW::new(0.01).with_decay_mask(foreign.clone())) {
        assert!(
            message.contains(
                "AdamW's mask was built for another model: its parameter 0 \
                              (layers.0.scale) is 2×1, this model's is 4×3"
            ),
            "{message}"
        );
    }
    // Inside a masked rule, the inner rule's own mask is checked against the selected ones.
    let inner = Masked::new(
        AdamW::new(0.01).with_decay_mask(vec![true, true, true]),
        vec![true, false, true],
    );
    for message in refused(inner) {
        assert!(
            message.contains("AdamW's mask has 3 entries for 2 parameters"),
            "{message}"
        );
    }
    // A plain Vec<bool> checks the count only.
    let plain = Mask::from(vec![true, false, true]);
    assert!(plain.check("AdamW", &[(1, 1), (2, 2), (3, 3)]).is_ok());
}
