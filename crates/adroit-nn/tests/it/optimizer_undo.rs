//! Undoing an optimiser's last update (`Optimizer::undo_update`), which a refused training
//! step relies on: every rule comes back to its state before the update exactly, and continues
//! as a rule that never saw it.

use crate::optimizer_rules::{RuleCheck, advance, every_rule, grads, start};
use adroit_nn::nalgebra::{DMatrix, Scalar, dmatrix};
use adroit_nn::optim::{AdamW, Descent, Momentum, Optimizer, Schedule, step};
use adroit_nn::{Activation, Dense, MatScalar, NnError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// 6 steps, a seventh with another gradient undone, then steps 6 to 12: the same parameters
/// and state, bit for bit, as a rule that made steps 0 to 12 alone.
struct UndoesExactly;

impl<T: MatScalar + Scalar> RuleCheck<T> for UndoesExactly {
    fn run<O>(&self, name: &str, make: impl Fn() -> O)
    where
        O: Optimizer<T> + Serialize + DeserializeOwned + PartialEq + Clone + std::fmt::Debug,
    {
        let (mut straight, mut straight_params) = (make(), start::<T>());
        advance(&mut straight, &mut straight_params, 0, 12);

        let (mut opt, mut params) = (make(), start::<T>());
        advance(&mut opt, &mut params, 0, 6);
        let before = opt.clone();
        let mut refused = grads::<T>(9);
        for g in &mut refused {
            *g *= T::from_f64(-1e3).unwrap();
        }
        let refs: Vec<&DMatrix<T>> = params.iter().collect();
        opt.update(&mut refused, &refs);
        assert_ne!(opt, before, "{name}: the update changed nothing");
        opt.undo_update();
        assert_eq!(opt, before, "{name}: undo did not restore the state");
        advance(&mut opt, &mut params, 6, 12);
        assert_eq!(params, straight_params, "{name}: continued differently");
        assert_eq!(opt, straight, "{name}: state differs after continuing");

        // Only the last update is kept: a second undo does nothing.
        let mut one_back = make();
        advance(&mut one_back, &mut start::<T>(), 0, 11);
        opt.undo_update();
        opt.undo_update();
        assert_eq!(opt, one_back, "{name}: two undos");

        // The first update undone is a fresh rule; a rule read back has nothing to undo.
        let mut first = make();
        advance(&mut first, &mut start::<T>(), 0, 1);
        first.undo_update();
        assert_eq!(first, make(), "{name}: the first update undone");
        let json = serde_json::to_string(&straight).unwrap();
        let mut read: O = serde_json::from_str(&json).unwrap();
        read.undo_update();
        assert_eq!(read, straight, "{name}: undo after a round trip");
    }
}

#[test]
fn every_rule_undoes_its_last_update_exactly_f64() {
    every_rule::<f64, _>(&UndoesExactly);
}

#[test]
fn every_rule_undoes_its_last_update_exactly_f32() {
    every_rule::<f32, _>(&UndoesExactly);
}

/// A step refused because the updated parameter overflows (finite gradients, momentum trace
/// `t = g = −1e308`, update `−η·t = 1e307` on `θ = f64::MAX`) leaves the rule as it was: the
/// run goes on as if the refused step had not been tried.
#[test]
fn a_refused_step_leaves_the_optimiser_as_it_was() {
    let layer = |w: f64| Dense::from_parts(dmatrix![w], None, Activation::Identity).unwrap();
    let mut model = layer(1.0);
    let mut opt = Momentum::<f64>::with_beta(0.1, 0.9);
    step(&mut opt, &mut model, layer(0.5)).unwrap();
    let before = (model.clone(), opt.clone());

    let mut huge = layer(f64::MAX);
    let err = step(&mut opt, &mut huge, layer(-1e308)).unwrap_err();
    assert!(matches!(err, NnError::NonFinite { .. }), "{err}");
    assert!(err.to_string().contains("update of weight"), "{err}");
    assert_eq!(huge.weight, dmatrix![f64::MAX]);
    assert_eq!(opt, before.1, "the refused step's trace was kept");

    // The next good step is the one the rule would have made without the refused one.
    step(&mut opt, &mut model, layer(0.25)).unwrap();
    let (mut expected_model, mut expected_opt) = before;
    step(&mut expected_opt, &mut expected_model, layer(0.25)).unwrap();
    assert_eq!(model.weight, expected_model.weight);
    assert_eq!(opt, expected_opt);
}

/// A uniform step applied by `step` (plain descent's one-pass path) is committed, not undone:
/// `undo_update` after it leaves the schedule where the applied steps took it.
#[test]
fn an_applied_uniform_step_is_not_undone() {
    let schedule = Schedule::Step {
        init: 1.0,
        boundaries_and_scales: vec![(1, 0.5), (2, 0.25)],
    };
    let layer = |w: f64| Dense::from_parts(dmatrix![w], None, Activation::Identity).unwrap();
    let (mut model, mut opt) = (layer(2.0), Descent::new(schedule));
    step(&mut opt, &mut model, layer(1.0)).unwrap();
    step(&mut opt, &mut model, layer(1.0)).unwrap();
    assert_eq!(model.weight, dmatrix![0.5]); // 2 − 1 − 0.5
    Optimizer::<f64>::undo_update(&mut opt);
    assert_eq!(Optimizer::<f64>::uniform_scale(&opt), Some(-0.125)); // η(2) = 1·0.5·0.25
}

/// An update and its parameter of different shapes are a programmer error for every rule,
/// caught before a rule reading both (AdamW's decay, Lion's) stops at the shorter.
#[test]
#[should_panic(expected = "update 0 is 1×3, its parameter 1×1")]
fn an_update_shaped_unlike_its_parameter_panics() {
    AdamW::<f64>::new(0.1).update(&mut [dmatrix![1.0, 2.0, 3.0]], &[&dmatrix![1.0]]);
}
