//! Masks — decay on some parameters only (`AdamW`/`Lion::with_decay_mask`, Optax's `mask`
//! argument) and a rule on some parameters only (`Masked`, Optax's `masked`) — against Optax
//! and PyTorch's parameter groups, and the parameter selection by name (`optim::mask`).

use super::r;
use super::{check, check_losses, model, run, run_model};
use adroit_nn::nalgebra::{DMatrix, dmatrix};
use adroit_nn::optim::{
    Adam, AdamW, Descent, Lion, Masked, Momentum, Optimizer, WeightDecay, chain, mask,
};

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
    assert_eq!(decay, [true, false, true]); // layers.0.weight, layers.0.bias, layers.1.weight
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
    assert_eq!(by_name, expected);
    // The parameter is passed too: select the arrays with more than one column.
    assert_eq!(
        mask(&m, |_, p: &DMatrix<f64>| p.ncols() > 1),
        [true, false, true]
    );
}

#[test]
#[should_panic(expected = "the mask has 2 entries for 3 parameters")]
fn masked_with_a_short_mask_panics() {
    run(Masked::new(Adam::new(0.01), vec![true, false]), 1);
}

#[test]
#[should_panic(expected = "AdamW: the mask has 4 entries for 3 parameters")]
fn adamw_with_a_long_mask_panics() {
    run(AdamW::new(0.01).with_decay_mask(vec![true; 4]), 1);
}

#[test]
#[should_panic(expected = "Lion: the mask has 1 entries for 3 parameters")]
fn lion_with_a_short_mask_panics() {
    run(Lion::new(0.01).with_decay_mask(vec![true]), 1);
}
