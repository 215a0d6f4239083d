//! Checkpointing optimisers with serde (the `serde` feature, on by default): a rule
//! serialised after some steps and read back continues exactly as the uninterrupted one —
//! moments, step counts, schedules, masks and chains included — in `f64` and `f32`; hostile
//! checkpoints are refused or harmless (and the `optimizer_state` fuzz target's seeds replay).

use crate::optimizer_rules::{RuleCheck, advance, every_rule, start};
use adroit_nn::nalgebra::{DMatrix, Scalar};
use adroit_nn::optim::{
    AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, ClipGlobalNorm, ClipNorm, ClipValue, Descent,
    Lion, Momentum, NAdam, Nesterov, Optimizer, RAdam, RmsProp, chain,
};
use adroit_nn::{Activation, Dense, MatScalar, TrainConfig, data::DataLoader, losses, train};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// 14 steps straight against 7 steps, a JSON round trip of the rule, and 7 more: the same
/// parameters bit for bit, and the restored rule equal to the uninterrupted one.
struct ResumesExactly;

impl<T: MatScalar + Scalar> RuleCheck<T> for ResumesExactly {
    fn run<O>(&self, name: &str, make: impl Fn() -> O)
    where
        O: Optimizer<T> + Serialize + DeserializeOwned + PartialEq + Clone + std::fmt::Debug,
    {
        let start = start::<T>();
        let (mut straight, mut straight_params) = (make(), start.clone());
        advance(&mut straight, &mut straight_params, 0, 14);

        let (mut first, mut params) = (make(), start);
        advance(&mut first, &mut params, 0, 7);
        let json = serde_json::to_string(&first).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut resumed: O = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(resumed, first, "{name}: the round trip changed the rule");
        advance(&mut resumed, &mut params, 7, 14);
        assert_eq!(params, straight_params, "{name}: resumed training differs");
        assert_eq!(resumed, straight, "{name}: resumed state differs");
        // A fresh rule at step 7 does not continue the same way (so the state mattered).
        let mut fresh = make();
        let mut fresh_params = params.clone();
        advance(&mut fresh, &mut fresh_params, 14, 15);
        let mut cont = resumed;
        advance(&mut cont, &mut params, 14, 15);
        if name != "Descent" && name != "WeightDecay+Descent" {
            assert_ne!(fresh_params, params, "{name}: state had no effect");
        }
    }
}

#[test]
fn every_rule_resumes_exactly_f64() {
    every_rule::<f64, _>(&ResumesExactly);
}

#[test]
fn every_rule_resumes_exactly_f32() {
    every_rule::<f32, _>(&ResumesExactly);
}

#[test]
fn training_resumes_from_a_checkpoint_of_model_and_optimiser() {
    // 6 epochs straight against 3 epochs, a checkpoint (the model's weights through
    // serde_json here; the optimiser's state), 3 more epochs: the same model.
    let x = DMatrix::from_fn(2, 24, |i, j| ((i + 1) as f64 * 0.37 * j as f64).sin());
    let y = DMatrix::from_fn(1, 24, |_, j| 2.0 * x[(0, j)] - x[(1, j)]);
    let make_model = || {
        Dense::from_parts(
            DMatrix::from_row_slice(1, 2, &[0.1, -0.2]),
            Some(DMatrix::from_element(1, 1, 0.05)),
            Activation::Identity,
        )
        .unwrap()
    };
    let loss = |p, t: &DMatrix<f64>| losses::mse(p, t, losses::Agg::Mean);
    let config = |epochs| TrainConfig {
        epochs,
        ..TrainConfig::default()
    };

    let (mut model, mut opt) = (make_model(), Adam::<f64>::new(0.05));
    let mut loader = DataLoader::new(x.clone(), y.clone(), 8).unwrap();
    train(&mut model, &mut loader, loss, &mut opt, &config(6), &mut []).unwrap();

    let (mut first, mut first_opt) = (make_model(), Adam::<f64>::new(0.05));
    let mut loader = DataLoader::new(x.clone(), y.clone(), 8).unwrap();
    train(
        &mut first,
        &mut loader,
        loss,
        &mut first_opt,
        &config(3),
        &mut [],
    )
    .unwrap();
    let saved_opt = serde_json::to_string(&first_opt).unwrap();
    let saved_weight = serde_json::to_string(&first.weight).unwrap();
    let saved_bias = serde_json::to_string(&first.bias).unwrap();
    let mut resumed = Dense::from_parts(
        serde_json::from_str(&saved_weight).unwrap(),
        serde_json::from_str(&saved_bias).unwrap(),
        Activation::Identity,
    )
    .unwrap();
    let mut resumed_opt: Adam<f64> = serde_json::from_str(&saved_opt).unwrap();
    train(
        &mut resumed,
        &mut loader,
        loss,
        &mut resumed_opt,
        &config(3),
        &mut [],
    )
    .unwrap();
    assert_eq!(resumed.weight, model.weight);
    assert_eq!(resumed.bias, model.bias);
    assert_eq!(resumed_opt, opt);
}

#[test]
fn state_of_another_model_is_refused_before_any_change() {
    // A checkpoint read back for the wrong model: a typed error from the training functions
    // (the state's arrays do not fit the parameters), the model and the rule unchanged.
    let (x, y) = (
        DMatrix::from_element(2, 4, 0.5),
        DMatrix::from_element(3, 4, 0.1),
    );
    let loss = |p, t: &DMatrix<f64>| losses::mse(p, t, losses::Agg::Mean);
    let dense = |inputs: usize| {
        Dense::from_parts(
            DMatrix::from_element(3, inputs, 0.2),
            Some(DMatrix::zeros(3, 1)),
            Activation::Identity,
        )
        .unwrap()
    };
    let rules: Vec<(&str, Box<dyn Optimizer<f64>>)> = vec![
        ("Adam", Box::new(Adam::new(0.01))),
        ("AdamW", Box::new(AdamW::new(0.01))),
        ("NAdam", Box::new(NAdam::new(0.01))),
        ("RAdam", Box::new(RAdam::new(0.01))),
        ("AdaMax", Box::new(AdaMax::new(0.01))),
        ("AmsGrad", Box::new(AmsGrad::new(0.01))),
        ("AdaGrad", Box::new(AdaGrad::new(0.01))),
        ("AdaDelta", Box::new(AdaDelta::new(1.0))),
        ("RmsProp", Box::new(RmsProp::with(0.01, 0.9, 1e-8, true))),
        ("Momentum", Box::new(Momentum::new(0.01))),
        ("Nesterov", Box::new(Nesterov::new(0.01))),
        ("Lion", Box::new(Lion::new(0.01))),
    ];
    for (name, mut opt) in rules {
        let mut first = dense(2);
        adroit_nn::train_step(&mut first, &x, &y, &loss, &mut opt, 0).unwrap();
        // A step of `model` on `inputs` is refused, naming `says`, and leaves it unchanged.
        let mut refused = |model: Dense<f64>, inputs: &DMatrix<f64>, says: String| {
            let mut stepped = model.clone();
            let err =
                adroit_nn::train_step(&mut stepped, inputs, &y, &loss, &mut opt, 0).unwrap_err();
            let message = err.to_string();
            assert!(
                matches!(
                    err,
                    adroit_nn::NnError::InvalidConfig {
                        name: "optimiser state",
                        ..
                    }
                ) && message.contains(&says),
                "{name}: {message}"
            );
            assert_eq!(stepped, model, "{name}: the model changed");
        };
        refused(
            dense(3),
            &DMatrix::from_element(3, 4, 0.5),
            format!("{name}'s state array 0 is 3×2, parameter 0 is 3×3"),
        );
        // A model with another number of parameters (no bias): the count is named.
        refused(
            Dense::from_parts(DMatrix::from_element(3, 2, 0.2), None, Activation::Identity)
                .unwrap(),
            &x,
            format!("{name}'s state holds arrays for 2 parameters, the model has 1"),
        );
    }
}

#[test]
fn hostile_checkpoints_are_refused_or_harmless() {
    use adroit_nn::optim::Mask;
    // A mask whose recorded parameters are not one per flag: refused when read.
    let bad = r#"{"flags":[true,false],"params":[["layers.0.weight",[1,2]]]}"#;
    let err = serde_json::from_str::<Mask>(bad).unwrap_err().to_string();
    assert!(
        err.contains("a mask of 2 flags records 1 parameters"),
        "{err}"
    );
    let good = r#"{"flags":[true,false],"params":null}"#;
    assert_eq!(
        serde_json::from_str::<Mask>(good).unwrap().flags(),
        [true, false]
    );

    // Step counters at their largest: the next step saturates instead of overflowing.
    let theta = DMatrix::from_element(1, 1, 1.0);
    let json = serde_json::to_string(&Descent::new(0.1)).unwrap();
    let json = json.replace("\"count\":0", &format!("\"count\":{}", usize::MAX));
    let mut descent: Descent = serde_json::from_str(&json).unwrap();
    let mut updates = vec![DMatrix::from_element(1, 1, 1.0)];
    descent.update(&mut updates, &[&theta]);
    Optimizer::<f64>::commit_uniform_step(&mut descent);
    let mut adam = Adam::<f64>::new(0.1);
    adam.update(&mut [DMatrix::from_element(1, 1, 1.0)], &[&theta]);
    let json = serde_json::to_string(&adam).unwrap();
    assert!(json.contains("\"t\":1"), "{json}");
    let json = json.replace("\"t\":1", &format!("\"t\":{}", i32::MAX));
    let mut adam: Adam<f64> = serde_json::from_str(&json).unwrap();
    adam.update(&mut [DMatrix::from_element(1, 1, 1.0)], &[&theta]);
}

/// State a robustness hunt read back without complaint: a moment past `f32`'s range (read as
/// `inf`, after which training silently stalled) and negative step counts (reported as a
/// non-finite update of the weights, blaming training).
#[test]
fn state_values_no_rule_can_hold_are_refused() {
    let theta = DMatrix::from_element(1, 1, 1.0f32);
    let mut adam = Adam::<f32>::new(0.1);
    adam.update(&mut [DMatrix::from_element(1, 1, 0.5)], &[&theta]);
    // (serde_json's text parser refuses 1e39 for an f32; its Value, as other formats, casts)
    let mut state = serde_json::to_value(&adam).unwrap();
    let json = state.to_string();
    let v = state
        .pointer_mut("/moments/v/arrays/0/0/0")
        .unwrap_or_else(|| panic!("v's first entry in {json}"));
    *v = serde_json::json!(1e39);
    let err = serde_json::from_value::<Adam<f32>>(state)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("array 0, entry 0, is inf: not finite"),
        "{err}"
    );
    // dimensions whose product overflows (nalgebra's reader multiplied them unchecked: a panic
    // with overflow checks on), or does not match the entries
    let json = serde_json::to_string(&adam).unwrap();
    for (dims, said) in [
        (
            "[[],4294967296,4294967296]",
            "array 0 is 4294967296×4294967296 with 0 entries",
        ),
        ("[[0.05],2,1]", "array 0 is 2×1 with 1 entries"),
    ] {
        let hostile = json.replacen("[[0.05],1,1]", dims, 1);
        assert_ne!(hostile, json, "{json}");
        let err = serde_json::from_str::<Adam<f32>>(&hostile)
            .unwrap_err()
            .to_string();
        assert!(err.contains(said), "{err}");
    }
    // negative step counts, in every rule that keeps one
    fn refused<O: Optimizer<f64> + Serialize + DeserializeOwned>(opt: O, rule: &str) {
        let mut opt = opt;
        let theta = DMatrix::from_element(1, 1, 1.0);
        opt.update(&mut [DMatrix::from_element(1, 1, 0.5)], &[&theta]);
        let json = serde_json::to_string(&opt)
            .unwrap()
            .replace("\"t\":1", "\"t\":-1");
        let opt: O = serde_json::from_str(&json).unwrap();
        let err = opt.check_params(&[(1, 1)]).unwrap_err().to_string();
        assert!(err.contains(&format!("{rule}'s step count is -1")), "{err}");
    }
    refused(Adam::new(0.1), "Adam");
    refused(AdamW::new(0.1), "AdamW");
    refused(NAdam::new(0.1), "NAdam");
    refused(AdaMax::new(0.1), "AdaMax");
    refused(AmsGrad::new(0.1), "AmsGrad");
    refused(RAdam::new(0.1), "RAdam");
}

/// Checkpoints edited into state no step makes (a review): a step count without its moments
/// or moments without a step count (the moments restarted under another step's bias
/// correction, silently), and a negative square (every later step refused as a non-finite
/// update, blaming training): refused when read or before any step.
#[test]
fn state_no_step_makes_is_refused() {
    fn after_steps<O: Optimizer<f64> + Serialize>(opt: &mut O, steps: usize) -> serde_json::Value {
        let theta = DMatrix::from_element(1, 1, 1.0);
        for _ in 0..steps {
            opt.update(&mut [DMatrix::from_element(1, 1, 0.5)], &[&theta]);
        }
        serde_json::to_value(&*opt).unwrap()
    }
    fn refused_before_a_step<O: Optimizer<f64> + DeserializeOwned>(state: serde_json::Value) {
        let opt: O = serde_json::from_value(state).unwrap();
        let err = opt.check_params(&[(1, 1)]).unwrap_err().to_string();
        assert!(err.contains("state sets are created"), "{err}");
    }
    let adam = after_steps(&mut Adam::<f64>::new(0.1), 5);
    for pointer in ["/moments/v/arrays", "/moments/m/arrays"] {
        let mut edited = adam.clone();
        *edited.pointer_mut(pointer).unwrap() = serde_json::json!([]);
        refused_before_a_step::<Adam<f64>>(edited);
    }
    let mut edited = adam.clone();
    *edited.pointer_mut("/moments/m/arrays").unwrap() = serde_json::json!([]);
    *edited.pointer_mut("/moments/v/arrays").unwrap() = serde_json::json!([]);
    refused_before_a_step::<Adam<f64>>(edited);
    let mut edited = adam.clone();
    *edited.pointer_mut("/moments/t").unwrap() = serde_json::json!(0);
    refused_before_a_step::<Adam<f64>>(edited);
    let mut amsgrad = after_steps(&mut AmsGrad::<f64>::new(0.1), 2);
    *amsgrad.pointer_mut("/v_max/arrays").unwrap() = serde_json::json!([]);
    refused_before_a_step::<AmsGrad<f64>>(amsgrad);
    // A fresh rule, and one whose only step was undone, are consistent.
    let mut undone = Adam::<f64>::new(0.1);
    after_steps(&mut undone, 1);
    undone.undo_update();
    assert!(undone.check_params(&[(1, 1)]).is_ok());
    // Negative squares or magnitudes, refused when read.
    fn negative<O>(mut opt: O, pointer: &str)
    where
        O: Optimizer<f64> + Serialize + DeserializeOwned + std::fmt::Debug,
    {
        let mut state = after_steps(&mut opt, 2);
        let entry = state
            .pointer_mut(pointer)
            .unwrap_or_else(|| panic!("{pointer} in {}", serde_json::to_string(&opt).unwrap()));
        *entry = serde_json::json!(-4.0);
        let err = serde_json::from_value::<O>(state).unwrap_err().to_string();
        assert!(
            err.contains("is -4.0: this state holds squares"),
            "{pointer}: {err}"
        );
    }
    negative(Adam::new(0.1), "/moments/v/arrays/0/0/0");
    negative(NAdam::new(0.1), "/moments/v/arrays/0/0/0");
    negative(AmsGrad::new(0.1), "/v_max/arrays/0/0/0");
    negative(RAdam::new(0.1), "/v/arrays/0/0/0");
    negative(AdaMax::new(0.1), "/v/arrays/0/0/0");
    negative(RmsProp::new(0.1), "/v/arrays/0/0/0");
    negative(AdaGrad::new(0.1), "/sum/arrays/0/0/0");
    negative(AdaDelta::new(1.0), "/delta_sq/arrays/0/0/0");
    // A negative first moment is a state steps make: read back.
    let mut state = after_steps(&mut Adam::<f64>::new(0.1), 2);
    *state.pointer_mut("/moments/m/arrays/0/0/0").unwrap() = serde_json::json!(-4.0);
    assert!(serde_json::from_value::<Adam<f64>>(state).is_ok());
}

#[test]
fn a_checkpointed_negative_clipping_threshold_is_refused() {
    // The constructors refuse such thresholds, but a checkpoint file can hold one (edited, or
    // written by another program): read back, a negative threshold flipped the sign of every
    // clipped entry, silently. (A NaN one is refused the same way; JSON cannot hold it.)
    refused_after_edit("ClipValue", ClipValue::new(1.0), "delta");
    refused_after_edit("ClipNorm", ClipNorm::new(1.0), "max");
    refused_after_edit("ClipGlobalNorm", ClipGlobalNorm::new(1.0), "max");
}

/// `clip` chained before `Descent`, checkpointed with its threshold `field` edited to −1 and
/// read back: a training step refuses it, the model unchanged.
fn refused_after_edit<C>(rule: &str, clip: C, field: &str)
where
    C: Optimizer<f64> + Serialize + DeserializeOwned,
{
    let json = serde_json::to_string(&chain(clip, Descent::new(0.1))).unwrap();
    let edited = json.replace(&format!("\"{field}\":1.0"), &format!("\"{field}\":-1.0"));
    assert_ne!(edited, json, "{json}");
    let mut opt: adroit_nn::optim::Chained<C, Descent> = serde_json::from_str(&edited).unwrap();
    let (x, y) = (
        DMatrix::from_element(2, 4, 0.5),
        DMatrix::from_element(1, 4, 0.1),
    );
    let loss = |p, t: &DMatrix<f64>| losses::mse(p, t, losses::Agg::Mean);
    let start =
        Dense::from_parts(DMatrix::from_element(1, 2, 0.2), None, Activation::Identity).unwrap();
    let mut model = start.clone();
    let err = adroit_nn::train_step(&mut model, &x, &y, &loss, &mut opt, 0).unwrap_err();
    assert!(
        matches!(
            err,
            adroit_nn::NnError::InvalidConfig {
                name: "clipping threshold",
                ..
            }
        ) && err.to_string().contains(&format!("{rule}'s is -1")),
        "{rule}: {err}"
    );
    assert_eq!(model, start);
}

#[path = "../../../../fuzz/shared/optimizer_state_check.rs"]
mod optimizer_state_check;

/// The seeds of the `optimizer_state` fuzz target (`fuzz/seeds/optimizer_state/`) and the rule
/// that wrote each (other files there, such as inputs the fuzzer saves or crashes added as
/// regressions, are replayed through the check alone).
const SEEDS: [(&str, &str); 15] = [
    ("descent", "Descent"),
    ("momentum", "Momentum"),
    ("nesterov", "Nesterov"),
    ("rmsprop-centred", "RmsProp"),
    ("adam-schedule", "Adam"),
    ("adamw-mask", "AdamW"),
    ("nadam", "NAdam"),
    ("radam", "RAdam"),
    ("amsgrad", "AmsGrad"),
    ("adamax", "AdaMax"),
    ("adagrad", "AdaGrad"),
    ("adadelta", "AdaDelta"),
    ("lion", "Lion"),
    ("masked-momentum", "Masked<Momentum>"),
    ("clip-adam", "ClipGlobalNorm+Adam"),
];

/// The spans of the numbers in `text` (digits inside keys too, such as `beta1`'s).
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'-' || bytes[i].is_ascii_digit() {
            let start = i;
            i += 1;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || b".eE+-".contains(&bytes[i])) {
                i += 1;
            }
            spans.push((start, i));
        } else {
            i += 1;
        }
    }
    spans
}

/// Replays the `optimizer_state` fuzz target's files through its check (every rule reads
/// each in `f32` and `f64` and steps with what it read: nothing panics, a refused step changes
/// neither the model nor the rule's serialised state, an accepted one leaves the model
/// finite); each seed is read by the rule that wrote it, in both element types. Then hostile
/// edits of every seed through the same check: cut short (read by no rule), and every number
/// replaced in turn by `1e39` (past `f32`'s range), `-1e308`, `-1` and `0` — some of which
/// must be refused at a step.
#[test]
fn optimizer_state_fuzz_seeds_and_hostile_edits_replay() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds/optimizer_state");
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        optimizer_state_check::check_optimizer_bytes(&std::fs::read(&path).unwrap());
    }
    let mut refused = 0;
    for (file, rule) in SEEDS {
        let path = dir.join(file);
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let outcome = optimizer_state_check::check_optimizer_bytes(text.as_bytes());
        for bits in ["f32", "f64"] {
            let name = format!("{rule} {bits}");
            assert!(
                outcome.read.contains(&name),
                "{file}: not read by {name}: {:?}",
                outcome.read
            );
        }
        for cut in [1, text.len() / 3, text.len() / 2, text.len() - 1] {
            let outcome = optimizer_state_check::check_optimizer_bytes(&text.as_bytes()[..cut]);
            assert!(
                outcome.read.is_empty(),
                "{file} cut at {cut}: read by {:?}",
                outcome.read
            );
        }
        for (start, end) in numbers(&text) {
            for replacement in ["1e39", "-1e308", "-1", "0"] {
                let edited = format!("{}{replacement}{}", &text[..start], &text[end..]);
                refused += optimizer_state_check::check_optimizer_bytes(edited.as_bytes()).refused;
            }
        }
    }
    assert!(refused > 0, "no hostile edit was refused at a step");
}
