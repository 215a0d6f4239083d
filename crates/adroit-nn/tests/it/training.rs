//! The training loop: it learns, early stopping stops, and a non-finite loss or gradient stops
//! with a typed error while the model keeps its last good parameters.

use adroit_nn::data::DataLoader;
use adroit_nn::losses::{Agg, logitcrossentropy, mse};
use adroit_nn::optim::{Adam, Descent};
use adroit_nn::{
    Activation, Callback, Chain, Control, Dense, EarlyStopping, EpochMetrics, Layer, NnError,
    TrainConfig, train,
};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(3)
}

#[test]
fn learns_xor() {
    let x = DMatrix::from_row_slice(2, 4, &[0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0]);
    let y = DMatrix::from_row_slice(2, 4, &[1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0]);
    let mut r = rng();
    let mut model = Chain::<f64>::new()
        .push(Dense::new(2, 8, Activation::Tanh, &mut r))
        .push(Dense::new(8, 2, Activation::Identity, &mut r));
    let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap();
    let config = TrainConfig {
        epochs: 300,
        ..TrainConfig::default()
    };
    let history = train(
        &mut model,
        &mut loader,
        |p, t| logitcrossentropy(p, t, Agg::Mean),
        &mut Adam::new(0.05),
        &config,
        &mut [],
    )
    .unwrap();
    assert_eq!(history.epochs.len(), 300);
    assert!(
        history.epochs[299].loss < 0.05,
        "{}",
        history.epochs[299].loss
    );
    let predicted = adroit_nn::data::onecold(&model.predict(&x).unwrap());
    assert_eq!(predicted, adroit_nn::data::onecold(&y));
}

#[test]
fn early_stopping_and_metric_callbacks() {
    let x = DMatrix::from_fn(1, 16, |_, j| j as f64 / 8.0);
    let y = x.map(|v| 3.0 * v);
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(x, y, 16).unwrap();
    let mut record = |_: &Dense<f64>, m: &mut EpochMetrics| {
        m.extra.push(("constant".into(), 1.0));
        Control::Continue
    };
    let mut stop = EarlyStopping::new(3, 0.0).monitor("constant", true);
    let config = TrainConfig {
        epochs: 100,
        ..TrainConfig::default()
    };
    let history = train(
        &mut model,
        &mut loader,
        |p, t| mse(p, t, Agg::Mean),
        &mut Descent::new(0.01),
        &config,
        &mut [&mut record, &mut stop],
    )
    .unwrap();
    assert!(history.stopped_early);
    assert_eq!(
        history.epochs.len(),
        4,
        "best at epoch 0, then 3 epochs without improvement"
    );
    assert_eq!(history.epochs[0].get("constant"), Some(1.0));
}

#[test]
fn non_finite_loss_stops_and_keeps_the_last_good_parameters() {
    let x = DMatrix::from_fn(1, 8, |_, j| j as f64);
    let y = x.map(|v| 1e3 * v);
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(x, y, 8).unwrap();
    // A huge learning rate diverges to infinity within a few steps.
    let mut snapshots: Vec<Dense<f64>> = Vec::new();
    let mut keep = |m: &Dense<f64>, _: &mut EpochMetrics| {
        snapshots.push(m.clone());
        Control::Continue
    };
    let config = TrainConfig {
        epochs: 10_000,
        ..TrainConfig::default()
    };
    let err = train(
        &mut model,
        &mut loader,
        |p, t| mse(p, t, Agg::Mean),
        &mut Descent::new(1e3),
        &config,
        &mut [&mut keep],
    )
    .unwrap_err();
    // Every completed epoch is in the error's history, with finite losses.
    assert_eq!(err.history.epochs.len(), snapshots.len());
    assert!(!err.history.stopped_early);
    assert!(err.history.epochs.iter().all(|e| e.loss.is_finite()));
    assert!(
        err.to_string()
            .contains(&format!("(after {} completed epoch", snapshots.len())),
        "{err}"
    );
    match &err.error {
        NnError::NonFinite { epoch, batch, what } => {
            assert_eq!(*batch, 0);
            assert!(what == "loss" || what.starts_with("gradient of"), "{what}");
            // The model is the one after the last completed step: all finite.
            assert!(
                model.weight.iter().all(|v| v.is_finite()),
                "{}",
                model.weight
            );
            assert_eq!(
                &model,
                snapshots.last().unwrap(),
                "unchanged since the last good epoch"
            );
            assert_eq!(*epoch, snapshots.len());
        }
        other => panic!("unexpected error {other}"),
    }
    assert!(err.to_string().contains("keeps its last good parameters"));
}

#[test]
fn a_non_finite_gradient_of_a_finite_loss_stops_training() {
    // ∛p at p = 0: a finite loss (0) whose derivative is +∞, so the weight's gradient is
    // infinite while every loss is finite — the gradient check, not the loss check, stops.
    let x = DMatrix::from_element(1, 4, 1.0);
    let y = DMatrix::from_element(1, 4, 0.0);
    let mut model = Dense::from_parts(
        DMatrix::from_element(1, 1, 0.0),
        Some(DMatrix::zeros(1, 1)),
        Activation::Identity,
    )
    .unwrap();
    let before = model.clone();
    let mut loader = DataLoader::new(x, y, 4).unwrap();
    let config = TrainConfig {
        epochs: 3,
        ..TrainConfig::default()
    };
    let err = train(
        &mut model,
        &mut loader,
        |p, t| {
            let cube_root = p.map(num_traits::Float::cbrt).sum();
            Ok(mse(p, t, Agg::Mean)? + cube_root)
        },
        &mut Descent::new(0.1),
        &config,
        &mut [],
    )
    .unwrap_err();
    assert!(err.history.epochs.is_empty(), "stopped in the first epoch");
    match &err.error {
        NnError::NonFinite { epoch, batch, what } => {
            assert_eq!((*epoch, *batch), (0, 0));
            assert_eq!(what, "gradient of weight", "{err}");
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(model, before, "no step was applied");
}

#[test]
fn data_that_does_not_fit_the_model_is_an_error() {
    let mut model = Dense::<f64>::new(3, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(DMatrix::zeros(2, 4), DMatrix::zeros(1, 4), 2).unwrap();
    let err = train_error(&mut model, &mut loader);
    // The shapes name the samples (they said 3×0 and 2×0).
    assert!(
        matches!(
            err,
            NnError::ShapeMismatch {
                expected: (3, 4),
                found: (2, 4),
                ..
            }
        ),
        "{err}"
    );
    let mut loader = DataLoader::new(DMatrix::zeros(3, 4), DMatrix::zeros(2, 4), 2).unwrap();
    let err = train_error(&mut model, &mut loader);
    assert!(
        err.to_string()
            .contains("mse: prediction and target shapes must agree (expected: the target's, found: the prediction's)"),
        "{err}"
    );
}

/// Trains `model` on `loader` (MSE, plain descent, default configuration) and returns the
/// error it must end with.
pub(super) fn train_error(model: &mut Dense<f64>, loader: &mut DataLoader<f64>) -> NnError {
    train(
        model,
        loader,
        |p, t| mse(p, t, Agg::Mean),
        &mut Descent::new(0.1),
        &TrainConfig::default(),
        &mut [],
    )
    .map(|_| ())
    .map_err(|e| {
        assert!(e.history.epochs.is_empty(), "refused before any epoch");
        e.error
    })
    .unwrap_err()
}

/// Runs one `train_step` of a 3-input model on 4-feature data, asserts it is a shape error,
/// and returns the data.
fn assert_step_rejects_4_features<M: Layer<f64>>(model: &mut M) -> DMatrix<f64> {
    let (x, y) = (DMatrix::zeros(4, 8), DMatrix::zeros(1, 8));
    let err = adroit_nn::train_step(
        model,
        &x,
        &y,
        &|p, t: &DMatrix<f64>| mse(p, t, Agg::Mean),
        &mut Descent::new(0.1),
        0,
    )
    .unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err}");
    x
}

#[test]
fn train_step_on_data_that_does_not_fit_is_an_error_and_keeps_the_model() {
    let mut model = Dense::<f64>::new(3, 1, Activation::Identity, &mut rng());
    let before = model.clone();
    assert_step_rejects_4_features(&mut model);
    assert_eq!(model.weight, before.weight);
}

#[test]
fn a_chain_starting_with_dropout_still_checks_its_input_size() {
    let mut model = Chain::<f64>::new()
        .push(adroit_nn::Dropout::new(0.1).unwrap())
        .push(Dense::new(3, 1, Activation::Identity, &mut rng()));
    assert_eq!(model.input_size(), Some(3));
    let x = assert_step_rejects_4_features(&mut model);
    assert!(matches!(
        model.predict(&x),
        Err(NnError::ShapeMismatch { .. })
    ));
}

#[test]
fn an_update_that_would_overflow_a_parameter_is_refused_and_changes_nothing() {
    use adroit_nn::optim::{Momentum, Optimizer, step};
    use nalgebra::dmatrix;
    // A finite gradient whose update overflows the weight (1.7e308 + 1e308 = ∞), and a NaN
    // gradient, through the one-pass path (Descent) and the update-then-add path (Momentum).
    let start = Dense::from_parts(
        dmatrix![1.7e308, 1.0],
        Some(dmatrix![0.5]),
        Activation::Identity,
    )
    .unwrap();
    let grad = |w: f64| {
        Dense::from_parts(dmatrix![w, 0.25], Some(dmatrix![1.0]), Activation::Identity).unwrap()
    };
    let optimizers: [Box<dyn Optimizer<f64>>; 2] =
        [Box::new(Descent::new(1.0)), Box::new(Momentum::new(1.0))];
    for mut opt in optimizers {
        for (g, what) in [
            (-1e308, "update of weight"),
            (f64::NAN, "gradient of weight"),
        ] {
            let mut model = start.clone();
            match step(&mut opt, &mut model, grad(g)) {
                Err(NnError::NonFinite { what: w, .. }) => assert_eq!(w, what),
                other => panic!("{what}: unexpected {other:?}"),
            }
            assert_eq!(
                model, start,
                "{what}: the model is unchanged (bias included)"
            );
        }
    }
    // A finite update still applies (and moves the bias: the check did not skip the write).
    let mut model = start.clone();
    step(&mut Descent::new(1.0), &mut model, grad(1.0)).unwrap();
    assert_eq!(model.bias.as_ref().unwrap()[(0, 0)], -0.5);
}

#[test]
fn gradients_or_updates_of_the_wrong_shape_are_refused_and_change_nothing() {
    use adroit_nn::optim::{Optimizer, step_with_grads};
    use adroit_nn::params;
    use nalgebra::dmatrix;
    // Found in review: the one-pass step swapped buffers of any shape into the model.
    // (1) A rule whose update changes a shape (a programmer error) is an error, not a silent
    // reshape of the parameter.
    struct Transposing;
    impl Optimizer<f64> for Transposing {
        fn update(&mut self, updates: &mut [DMatrix<f64>], _: &[&DMatrix<f64>]) {
            for u in updates {
                *u = u.transpose() * -0.1;
            }
        }
    }
    let start = Dense::from_parts(
        dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0],
        None,
        Activation::Identity,
    )
    .unwrap();
    let mut model = start.clone();
    let grads =
        Dense::from_parts(DMatrix::from_element(2, 3, 1.0), None, Activation::Identity).unwrap();
    match adroit_nn::optim::step(&mut Transposing, &mut model, grads) {
        Err(NnError::ShapeMismatch {
            expected, found, ..
        }) => {
            assert_eq!((expected, found), ((2, 3), (3, 2)))
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(model, start);
    // A model-shaped gradient of another shape is refused by `step` too.
    let other = Dense::from_parts(dmatrix![1.0, 2.0], None, Activation::Identity).unwrap();
    let err = adroit_nn::optim::step(&mut Descent::new(0.1), &mut model, other).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::ShapeMismatch {
                expected: (2, 3),
                found: (1, 2),
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(model, start);
    // (2) Implicit gradients collected from another model that happened to live at the same
    // address (the key of a parameter) are refused by shape.
    let mut slot = Dense::from_parts(dmatrix![0.5, 0.5], None, Activation::Identity).unwrap();
    let (_, grads) = params(&slot)
        .gradient(|ctx| {
            mse(
                slot.forward(adroit_nn::MatVar::constant(dmatrix![1.0; 1.0]), ctx),
                &dmatrix![0.0],
                Agg::Sum,
            )
        })
        .unwrap();
    slot = start.clone();
    let err = step_with_grads(&mut Descent::new(0.1), &mut slot, &grads).unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }), "{err}");
    assert_eq!(slot, start);
}

#[test]
#[should_panic(
    expected = "EarlyStopping monitors the metric \"val_acc\", but the epoch's metrics are: loss, accuracy"
)]
fn early_stopping_on_a_metric_that_is_not_there_panics() {
    // It used to go on forever without a word (a misspelt name never stops training).
    let mut stop = EarlyStopping::new(1, 0.0).monitor("val_acc", true);
    let extra = vec![("accuracy".to_string(), 0.5)];
    let mut metrics = EpochMetrics {
        epoch: 0,
        loss: 1.0,
        extra,
    };
    Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics);
}

#[test]
fn early_stopping_reused_for_a_second_run_starts_afresh() {
    // It kept the first run's best loss: a second run whose losses improved from a higher
    // start was stopped after `patience` epochs.
    let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
    let y = x.map(|v| 2.0 * v);
    let mut stop = EarlyStopping::new(2, 0.0);
    let config = TrainConfig {
        epochs: 30,
        ..TrainConfig::default()
    };
    let run = |stop: &mut EarlyStopping| {
        let mut model =
            Dense::from_parts(nalgebra::dmatrix![0.0], None, Activation::Identity).unwrap();
        let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap();
        train(
            &mut model,
            &mut loader,
            |p, t| mse(p, t, Agg::Mean),
            &mut Descent::new(0.1),
            &config,
            &mut [stop],
        )
        .unwrap()
    };
    let first = run(&mut stop);
    let second = run(&mut stop);
    assert_eq!(first, second, "the same run twice gives the same history");
    assert!(!second.stopped_early, "{second:?}");
}

/// A run going on after a step refused for a NaN (the same loader, which has drawn the
/// refused epoch) keeps EarlyStopping's count, as a run resumed from a checkpoint does; a new
/// loader (epoch 0) still starts afresh. (The count was reset: the run's first epoch, 3, did
/// not directly follow the last one seen, 1, and the run went on for three more epochs.)
#[test]
fn early_stopping_keeps_its_count_when_a_run_goes_on_after_a_nan() {
    let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
    let y = x.map(|v| 2.0 * v);
    let config = TrainConfig {
        epochs: 10,
        ..TrainConfig::default()
    };
    // min_delta 1e9: no epoch improves on the first; patience 3.
    let mut stop = EarlyStopping::new(3, 1e9);
    let mut model = Dense::from_parts(nalgebra::dmatrix![0.0], None, Activation::Identity).unwrap();
    let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap();
    // One batch per epoch; the loss is NaN on its third call (epoch 2).
    let calls = std::cell::Cell::new(0);
    let loss = |p, t: &DMatrix<f64>| {
        calls.set(calls.get() + 1);
        let l = mse(p, t, Agg::Mean)?;
        Ok(if calls.get() == 3 { l * f64::NAN } else { l })
    };
    let mut descent = Descent::new(0.01);
    let mut run = |loader: &mut DataLoader<f64>| {
        let history = train(
            &mut model,
            loader,
            loss,
            &mut descent,
            &config,
            &mut [&mut stop],
        );
        (history, stop.stopped())
    };
    let (failed, _) = run(&mut loader);
    let failed = failed.unwrap_err();
    assert!(
        matches!(failed.error, NnError::NonFinite { .. }),
        "{failed:?}"
    );
    assert_eq!(failed.history.epochs.len(), 2);
    // Epochs 0 and 1 seen, one without improvement; epoch 3 is the second, epoch 4 the third.
    let (went_on, stopped) = run(&mut loader);
    let went_on = went_on.unwrap();
    let epochs: Vec<usize> = went_on.epochs.iter().map(|m| m.epoch).collect();
    assert_eq!(epochs, [3, 4]);
    assert!(went_on.stopped_early && stopped);
    // A new loader starts the count afresh: three epochs without improvement after its first.
    let (again, _) = run(&mut DataLoader::new(x, y, 4).unwrap());
    assert_eq!(again.unwrap().epochs.len(), 4);
}

/// A NaN in the data makes the loss non-finite; the error says the batch's data is at fault
/// (and the model keeps its parameters from before that batch). `DataLoader::check_finite`
/// refuses such data before any step; a loss of your own that masks NaN targets (missing
/// labels) trains on them — which is why `train` does not refuse them up front (a review
/// found a masked loss broken by such a check).
#[test]
fn non_finite_data_is_named_in_the_error() {
    // The epoch, batch and description of the error that stops `train` on `(x, y)` (batches
    // of 4, in order), and the model it leaves.
    let first_error = |x: &DMatrix<f64>, y: &DMatrix<f64>, epochs: usize| {
        let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
        let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap();
        let outcome = train(
            &mut model,
            &mut loader,
            |p, t| mse(p, t, Agg::Mean),
            &mut Descent::new(0.01),
            &TrainConfig {
                epochs,
                ..TrainConfig::default()
            },
            &mut [],
        );
        let stop = match outcome.map_err(|e| e.error) {
            Err(NnError::NonFinite { epoch, batch, what }) => Some((epoch, batch, what)),
            Err(other) => panic!("{other}"),
            Ok(_) => None,
        };
        (stop, model)
    };
    // The model after one step on the first batch alone: what an error at the second leaves.
    let after_first_batch = |x: &DMatrix<f64>, y: &DMatrix<f64>| {
        let first = |m: &DMatrix<f64>| m.columns(0, 4).into_owned();
        let (stop, model) = first_error(&first(x), &first(y), 1);
        assert!(stop.is_none());
        model
    };
    let mut x = DMatrix::from_fn(1, 8, |_, j| j as f64);
    x[(0, 5)] = f64::NAN;
    let y = x.map(|v| 2.0 * v);
    assert_eq!(
        DataLoader::new(x.clone(), y.clone(), 4)
            .unwrap()
            .check_finite()
            .unwrap_err()
            .to_string(),
        "invalid data: the inputs hold a NaN or infinite entry (row 0, sample 5)"
    );
    let (stop, model) = first_error(&x, &y, 3);
    let both = "loss (the batch's inputs hold 1 NaN or infinite entry, its targets 1 NaN or \
                infinite entry)";
    assert_eq!(stop, Some((0, 1, both.to_string())));
    assert_eq!(model, after_first_batch(&x, &y));
    // Non-finite inputs alone, then targets alone: the hint names the one that holds them.
    let finite = DMatrix::from_fn(1, 8, |_, j| j as f64);
    let mut x = finite.clone();
    x[(0, 2)] = f64::INFINITY;
    let (stop, model) = first_error(&x, &finite, 3);
    let inputs = "loss (the batch's inputs hold 1 NaN or infinite entry)";
    assert_eq!(stop, Some((0, 0, inputs.to_string())));
    assert_eq!(model, Dense::new(1, 1, Activation::Identity, &mut rng()));
    let mut y = finite.clone();
    (y[(0, 6)], y[(0, 7)]) = (f64::NAN, f64::NEG_INFINITY);
    let (stop, model) = first_error(&finite, &y, 3);
    let targets = "loss (the batch's targets hold 2 NaN or infinite entries)";
    assert_eq!(stop, Some((0, 1, targets.to_string())));
    assert_eq!(model, after_first_batch(&finite, &y));
    // Missing targets (NaN) under a loss that masks them: training runs.
    let x = DMatrix::from_fn(1, 8, |_, j| j as f64 / 8.0);
    let mut y = x.map(|v| 2.0 * v);
    y[(0, 3)] = f64::NAN;
    let mut loader = DataLoader::new(x, y, 4).unwrap();
    use adroit_reverse::matrix::MatVar;
    let masked_mse = |p: MatVar<f64>, t: &DMatrix<f64>| {
        let known = t.map(|v| if v.is_nan() { 0.0 } else { 1.0 });
        let target = t.map(|v| if v.is_nan() { 0.0 } else { v });
        let err = (p - MatVar::constant(target)).component_mul(MatVar::constant(known));
        Ok(err.component_mul(err).mean())
    };
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let history = train(
        &mut model,
        &mut loader,
        masked_mse,
        &mut Descent::new(0.1),
        &TrainConfig::default(),
        &mut [],
    )
    .unwrap();
    assert!(history.epochs.iter().all(|e| e.loss.is_finite()));
}

/// `KeepBest` monitoring a validation loss added by an earlier callback, with early stopping:
/// the kept model's validation loss is the smallest in the history, at the epoch it reports;
/// a NaN score never counts as the best.
#[test]
fn keep_best_restores_the_model_of_the_best_validation_epoch() {
    use adroit_nn::KeepBest;
    let x = DMatrix::from_fn(1, 16, |_, j| j as f64 / 8.0 - 1.0);
    let y = x.map(|v| (3.0 * v).sin());
    let (xv, yv) = (x.map(|v| v + 0.03), x.map(|v| (3.0 * (v + 0.03)).sin()));
    let mut model = Chain::<f64>::new()
        .push(Dense::new(1, 6, Activation::Tanh, &mut rng()))
        .push(Dense::new(6, 1, Activation::Identity, &mut rng()));
    let val = |m: &Chain<f64>| {
        let p = m.predict(&xv).unwrap();
        (p - &yv).map(|e| e * e).mean()
    };
    let mut validate = |m: &Chain<f64>, metrics: &mut EpochMetrics| {
        metrics.extra.push(("val".into(), val(m)));
        Control::Continue
    };
    let mut best = KeepBest::new().monitor("val", false);
    let mut stop = EarlyStopping::new(3, 0.0).monitor("val", false);
    let mut loader = DataLoader::new(x, y, 4).unwrap().shuffle(0);
    let config = TrainConfig {
        epochs: 60,
        ..TrainConfig::default()
    };
    let history = train(
        &mut model,
        &mut loader,
        |p, t| mse(p, t, Agg::Mean),
        &mut Descent::new(0.2),
        &config,
        &mut [&mut validate, &mut best, &mut stop],
    )
    .unwrap();
    let scores: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.get("val").unwrap())
        .collect();
    let (argmin, min) =
        scores.iter().enumerate().fold(
            (0, f64::INFINITY),
            |b, (i, &s)| if s < b.1 { (i, s) } else { b },
        );
    assert_eq!(best.best_epoch(), Some(argmin));
    assert_eq!(best.best_score(), Some(min));
    assert_eq!(val(best.model().unwrap()), min);
    // A NaN score is skipped.
    let mut metrics = EpochMetrics {
        epoch: 99,
        loss: 0.0,
        extra: vec![("val".into(), f64::NAN)],
    };
    Callback::<f64, Chain<f64>>::on_epoch_end(&mut best, &model, &mut metrics);
    assert_eq!(best.best_epoch(), Some(argmin));
}

/// An epoch's loss is Keras's `Σ lossᵢ·nᵢ / N`: batches whose losses are all 1 give exactly
/// 1, and so does a held-out loss evaluated in batches. (Summing each batch's share
/// `lossᵢ·(nᵢ/N)` gave 0.9999999999999999 for 10 batches of one and 1.0000000000000004 for
/// 100 samples in batches of 7.)
#[test]
fn an_epoch_of_equal_batch_losses_has_that_loss() {
    use adroit_nn::Validation;
    let one = |p: adroit_nn::MatVar<f64>, t: &DMatrix<f64>| Ok(mse(p, t, Agg::Mean)? * 0.0 + 1.0);
    for (samples, batch) in [(10, 1), (49, 1), (100, 7)] {
        let x = DMatrix::from_fn(1, samples, |_, j| j as f64);
        let mut model =
            Dense::from_parts(nalgebra::dmatrix![0.5], None, Activation::Identity).unwrap();
        let mut loader = DataLoader::new(x.clone(), x.clone(), batch).unwrap();
        let config = TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        };
        let mut validation = Validation::new(&model, x.clone(), x.clone(), one)
            .unwrap()
            .batch_size(batch)
            .unwrap();
        let history = train(
            &mut model,
            &mut loader,
            one,
            &mut Descent::new(0.1),
            &config,
            &mut [&mut validation],
        )
        .unwrap();
        let epoch = &history.epochs[0];
        assert_eq!(
            (epoch.loss, epoch.get("val_loss")),
            (1.0, Some(1.0)),
            "{samples}, {batch}"
        );
    }
}

/// EarlyStopping's documented rule for non-finite scores: never an improvement, the first
/// epoch's too (patience 1: a NaN first score stops), and −∞ for a loss neither (Keras would
/// count it as one).
#[test]
fn early_stopping_counts_non_finite_scores_as_no_improvement() {
    let scores = |stop: &mut EarlyStopping, losses: &[f64]| -> Vec<Control> {
        (0..losses.len())
            .map(|epoch| {
                let mut metrics = EpochMetrics {
                    epoch,
                    loss: losses[epoch],
                    extra: vec![],
                };
                Callback::<f64, ()>::on_epoch_end(stop, &(), &mut metrics)
            })
            .collect()
    };
    assert_eq!(
        scores(&mut EarlyStopping::new(1, 0.0), &[f64::NAN]),
        [Control::Stop]
    );
    assert_eq!(
        scores(
            &mut EarlyStopping::new(2, 0.0),
            &[1.0, f64::NEG_INFINITY, 0.5]
        ),
        [Control::Continue, Control::Continue, Control::Continue]
    );
    assert_eq!(
        scores(
            &mut EarlyStopping::new(2, 0.0),
            &[1.0, f64::NEG_INFINITY, f64::NAN]
        ),
        [Control::Continue, Control::Continue, Control::Stop]
    );
}

/// In a loop of one-epoch `train` calls (each numbering its epoch 0), `KeepBest` counts the
/// epochs it has seen: with a falling loss the best is the last of four.
#[test]
fn keep_best_counts_epochs_across_train_calls() {
    use adroit_nn::KeepBest;
    let x = DMatrix::from_fn(1, 8, |_, j| j as f64 / 8.0);
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v + 1.0), 8).unwrap();
    let mut best = KeepBest::new();
    for _ in 0..4 {
        train(
            &mut model,
            &mut loader,
            |p, t| mse(p, t, Agg::Mean),
            &mut Descent::new(0.1),
            &TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            },
            &mut [&mut best],
        )
        .unwrap();
    }
    assert_eq!(best.best_epoch(), Some(3));
}

#[test]
fn epoch_loss_of_huge_finite_batch_losses_stays_finite() {
    // Two batches whose loss is 1e308 (and whose gradient is zero): the epoch's mean loss is
    // 1e308, not the ∞ a running sum would reach.
    let x = DMatrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]);
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(x.clone(), x, 2).unwrap();
    let history = train(
        &mut model,
        &mut loader,
        |p, _| Ok(p.sum() * 0.0 + 1e308),
        &mut Descent::new(0.1),
        &TrainConfig::default(),
        &mut [],
    )
    .unwrap();
    assert_eq!(history.epochs[0].loss, 1e308);
}

#[test]
fn train_refuses_a_mis_set_parameter_field_up_front() {
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    model.bias = Some(DMatrix::zeros(1, 8)); // the public field, not out × 1
    let before = model.clone();
    let x = DMatrix::from_fn(1, 8, |_, j| j as f64);
    let mut loader = DataLoader::new(x.clone(), x, 8).unwrap();
    let err = train(
        &mut model,
        &mut loader,
        |p, t| mse(p, t, Agg::Mean),
        &mut Descent::new(0.1),
        &TrainConfig::default(),
        &mut [],
    )
    .unwrap_err();
    assert!(
        matches!(
            err.error,
            NnError::ShapeMismatch {
                expected: (1, 1),
                found: (1, 8),
                ..
            }
        ),
        "{err}"
    );
    assert!(err.history.epochs.is_empty());
    assert_eq!(model, before);
}

/// A layer of one's own with one parameter `s` (`x ⊙ s`), read in one of three ways.
#[derive(Clone, Debug, PartialEq)]
struct Scale {
    s: DMatrix<f64>,
    /// 0: through `ctx.param` (right); 1: as a constant; 2: right, but `visit` omits it.
    how: u8,
}

impl Layer<f64> for Scale {
    fn forward(
        &self,
        x: adroit_reverse::matrix::MatVar<f64>,
        ctx: &mut adroit_nn::Context<f64>,
    ) -> adroit_reverse::matrix::MatVar<f64> {
        let s = match self.how {
            1 => adroit_reverse::matrix::MatVar::constant(self.s.clone()),
            _ => ctx.param(&self.s),
        };
        x.component_mul(s)
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        if self.how != 2 {
            f(&format!("{prefix}s"), &self.s);
        }
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        if self.how != 2 {
            f(&mut self.s);
        }
    }
}

/// From a user trial: a layer reading its parameter as a constant trained "successfully"
/// without moving (zero gradient), and one whose `visit` omitted its parameter trained a model
/// of no parameters; `train_step` (so `train`) now refuses both before any change, naming the
/// parameter, and refuses a model without parameters. The right layer trains.
#[test]
fn a_parameter_read_as_a_constant_or_left_out_of_visit_is_refused() {
    let (x, y) = (
        DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, -1.0, 0.5, 2.0]),
        DMatrix::zeros(2, 3),
    );
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let s = nalgebra::dmatrix![2.0; -1.0];
    let mut right = Chain::new().push(Scale {
        s: s.clone(),
        how: 0,
    });
    adroit_nn::train_step(&mut right, &x, &y, &loss, &mut Descent::new(0.1), 0).unwrap();
    assert_ne!(
        right.layer::<Scale>(0).unwrap().s,
        s,
        "the right layer trains"
    );
    for (how, expected) in [
        (
            1,
            "invalid model: the forward pass did not read parameter layers.0.s through \
             `ctx.param` (read as a constant, or not used), so it would get a zero gradient \
             and never train (a matrix not meant to train must not be listed in `visit`, or \
             the optimiser would still update it, e.g. by weight decay)",
        ),
        (
            2,
            "invalid model: it has no parameters to train (does a layer of your own list them \
             in `visit`, `visit_mut` and `visit_params`?)",
        ),
    ] {
        let mut model = Chain::new().push(Scale { s: s.clone(), how });
        let err = adroit_nn::train_step(&mut model, &x, &y, &loss, &mut Descent::new(0.1), 0)
            .unwrap_err();
        assert_eq!(err.to_string(), expected);
        assert_eq!(model.layer::<Scale>(0).unwrap().s, s, "the model changed");
    }
    // Listed, but another layer's parameter is read unlisted: refused too.
    let mut mixed = Chain::new()
        .push(Scale {
            s: s.clone(),
            how: 0,
        })
        .push(Scale {
            s: s.clone(),
            how: 2,
        });
    let err =
        adroit_nn::train_step(&mut mixed, &x, &y, &loss, &mut Descent::new(0.1), 0).unwrap_err();
    assert!(
        err.to_string().starts_with(
            "invalid model: the forward pass read 1 matrix through `ctx.param` that the model \
             does not list"
        ),
        "{err}"
    );
}

#[test]
fn epoch_loss_weights_each_batch_by_its_samples() {
    // Five samples in batches of 2, 2, 1 and a loss equal to the batch's first target: the
    // batches' losses are 0, 2 and 4; weighted by their sample counts the epoch's loss is
    // (2·0 + 2·2 + 1·4) / 5 = 1.6 (the unweighted mean of the three would be 2).
    let x = DMatrix::from_row_slice(1, 5, &[0.0, 1.0, 2.0, 3.0, 4.0]);
    let mut model = Dense::<f64>::new(1, 1, Activation::Identity, &mut rng());
    let mut loader = DataLoader::new(x.clone(), x, 2).unwrap();
    let history = train(
        &mut model,
        &mut loader,
        |p, t: &DMatrix<f64>| Ok(p.sum() * 0.0 + t[(0, 0)]),
        &mut Descent::new(0.1),
        &TrainConfig::default(),
        &mut [],
    )
    .unwrap();
    assert!(
        (history.epochs[0].loss - 1.6).abs() < 1e-15,
        "{}",
        history.epochs[0].loss
    );
}

#[test]
fn epoch_loss_is_the_mean_over_the_samples_drawn_kept_or_dropped_shuffled_or_not() {
    // Learning rate 0, so every batch sees the same model: the epoch's loss must be the mean
    // squared error over the samples the epoch drew — all 7 when the last partial batch is
    // kept, the 6 of the two full batches when it is dropped (which 6 depends on the shuffle,
    // so they are recorded by the loss closure as it sees them).
    let x = DMatrix::from_row_slice(1, 7, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]);
    let y = x.map(|v| v * v);
    let model0 = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let squared_error = |v: f64| (v - v * v).powi(2);
    for (drop, shuffle) in [(false, false), (false, true), (true, false), (true, true)] {
        let mut loader = DataLoader::new(x.clone(), y.clone(), 3)
            .unwrap()
            .drop_last(drop);
        if shuffle {
            loader = loader.shuffle(9);
        }
        let mut model = model0.clone();
        let seen = std::cell::RefCell::new(Vec::new());
        let loss = |p, t: &DMatrix<f64>| {
            seen.borrow_mut().extend(t.iter().map(|v| v.sqrt()));
            mse(p, t, Agg::Mean)
        };
        let history = train(
            &mut model,
            &mut loader,
            loss,
            &mut Descent::new(0.0),
            &TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            },
            &mut [],
        )
        .unwrap();
        let seen = seen.into_inner();
        assert_eq!(seen.len(), if drop { 6 } else { 7 });
        let expected = seen.iter().map(|&v| squared_error(v)).sum::<f64>() / seen.len() as f64;
        let got = history.epochs[0].loss;
        assert!(
            (got - expected).abs() <= 1e-12 * expected,
            "{drop} {shuffle}: {got} {expected}"
        );
    }
}
