//! The `Validation` callback: the held-out loss it records is the model's loss at the end of
//! each epoch (checked against `predict` and the loss computed by hand), dropout is off, and
//! `EarlyStopping`/`KeepBest` can monitor it; bad held-out data is an error up front.

use adroit_nn::data::DataLoader;
use adroit_nn::losses::{Agg, logitcrossentropy, mse};
use adroit_nn::optim::{Adam, Descent};
use adroit_nn::{
    Activation, Callback, Chain, Control, Dense, Dropout, EarlyStopping, EpochMetrics, KeepBest,
    Layer, NnError, TrainConfig, Validation, train,
};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

fn rng() -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(5)
}

fn mse_loss(
    p: adroit_nn::MatVar<f64>,
    t: &DMatrix<f64>,
) -> Result<adroit_nn::MatVar<f64>, NnError> {
    mse(p, t, Agg::Mean)
}

/// The mean squared error of plain matrices, written out.
fn mse_by_hand(p: &DMatrix<f64>, t: &DMatrix<f64>) -> f64 {
    (p - t).iter().map(|d| d * d).sum::<f64>() / p.len() as f64
}

#[test]
fn records_the_loss_of_the_model_at_the_end_of_each_epoch() {
    // A model with dropout, trained in Train mode: the held-out loss must be that of the
    // model's Eval-mode prediction after the epoch, computed here independently, epoch by
    // epoch (a callback placed after `Validation` takes the model's prediction).
    let mut r = rng();
    let x = DMatrix::from_fn(3, 40, |i, j| ((i * 7 + j * 3) % 11) as f64 / 5.0 - 1.0);
    let y = DMatrix::from_fn(2, 40, |i, j| x[(i, j)] - 0.5 * x[(2, j)]);
    let (x_val, y_val) = (x.columns(0, 8).into_owned(), y.columns(0, 8).into_owned());
    let mut model = Chain::<f64>::new()
        .push(Dense::new(3, 16, Activation::Tanh, &mut r))
        .push(Dropout::new(0.3).unwrap())
        .push(Dense::new(16, 2, Activation::Identity, &mut r));
    let mut loader = DataLoader::new(x, y, 10).unwrap().shuffle(2);
    let mut validation = Validation::new(&model, x_val.clone(), y_val.clone(), mse_loss).unwrap();
    let mut by_hand = Vec::new();
    let mut watch = |m: &Chain<f64>, _: &mut EpochMetrics| {
        by_hand.push(mse_by_hand(&m.predict(&x_val).unwrap(), &y_val));
        Control::Continue
    };
    let config = TrainConfig {
        epochs: 6,
        ..TrainConfig::default()
    };
    let history = train(
        &mut model,
        &mut loader,
        mse_loss,
        &mut Adam::new(0.01),
        &config,
        &mut [&mut validation, &mut watch],
    )
    .unwrap();
    let recorded: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.get("val_loss").unwrap())
        .collect();
    assert_eq!(recorded.len(), 6);
    for (r, h) in recorded.iter().zip(&by_hand) {
        assert!(
            (r - h).abs() <= 1e-12 * h.abs(),
            "recorded {r}, by hand {h}"
        );
    }
    // It changes as the model trains (so it is not evaluated once).
    assert!(recorded[5] < recorded[0], "{recorded:?}");
    // Evaluating again gives the last epoch's value, and batches of 3 samples give the mean
    // per sample too (a mean loss; the weights are the batches' sample counts).
    assert_eq!(validation.evaluate(&model).unwrap(), recorded[5]);
    let batched = validation.batch_size(3).unwrap().evaluate(&model).unwrap();
    assert!(
        (batched - recorded[5]).abs() <= 1e-12 * batched,
        "{batched} {}",
        recorded[5]
    );
}

#[test]
fn early_stopping_and_keep_best_monitor_the_held_out_loss() {
    // Training fits y = 2x; the held-out targets are y = 0, so the held-out loss grows every
    // epoch (w: 0 → 1.4 → 1.82 …) while the training loss falls. Stopping on the held-out
    // loss with patience 2 ends after epoch 2; the best model is the one after epoch 0.
    let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
    let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
    let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
    let mut validation =
        Validation::new(&model, dmatrix![1.0, 2.0], dmatrix![0.0, 0.0], mse_loss).unwrap();
    let mut stop = EarlyStopping::new(2, 0.0).monitor("val_loss", false);
    let mut best = KeepBest::new().monitor("val_loss", false);
    let config = TrainConfig {
        epochs: 50,
        ..TrainConfig::default()
    };
    let history = train(
        &mut model,
        &mut loader,
        mse_loss,
        &mut Descent::new(0.1),
        &config,
        &mut [&mut validation, &mut stop, &mut best],
    )
    .unwrap();
    assert!(history.stopped_early);
    assert_eq!(history.epochs.len(), 3);
    assert!(history.epochs[2].loss < history.epochs[0].loss);
    assert_eq!(best.best_epoch(), Some(0));
    let kept = best.into_model().unwrap();
    assert!((kept.weight[(0, 0)] - 1.4).abs() < 1e-12);
    // mean((1.4·1)², (1.4·2)²) = 4.9
    assert!((history.epochs[0].get("val_loss").unwrap() - 4.9).abs() < 1e-12);
}

/// Trains `w·x` from `w = 0` on `x = 0, 1, 2, 3`, `y = 2x` (one batch of 4, descent at 0.1)
/// for `epochs` epochs with `callbacks`: the run's result and the model it leaves.
fn train_line(
    epochs: usize,
    callbacks: &mut [&mut dyn Callback<f64, Dense<f64>>],
) -> (
    Result<adroit_nn::History, adroit_nn::TrainError>,
    Dense<f64>,
) {
    let x = DMatrix::from_fn(1, 4, |_, j| j as f64);
    let mut model = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
    let mut loader = DataLoader::new(x.clone(), x.map(|v| 2.0 * v), 4).unwrap();
    let config = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };
    let run = train(
        &mut model,
        &mut loader,
        mse_loss,
        &mut Descent::new(0.1),
        &config,
        callbacks,
    );
    (run, model)
}

/// `monitor("loss", false)` watches the training loss, as the default does (Keras's
/// `monitor="loss"`), in `train` and by hand; an extra metric named "loss" takes precedence.
/// (It was refused as missing, by a message listing `loss` among the metrics there were.)
#[test]
fn monitoring_loss_by_name_watches_the_training_loss() {
    let run = |stop: &mut EarlyStopping, best: &mut KeepBest<Dense<f64>>| {
        let (history, model) = train_line(5, &mut [stop, best]);
        (history.unwrap().epochs.len(), best.best_epoch(), model)
    };
    let named = run(
        &mut EarlyStopping::new(1, 1e9).monitor("loss", false),
        &mut KeepBest::new().monitor("loss", false),
    );
    let default = run(&mut EarlyStopping::new(1, 1e9), &mut KeepBest::new());
    assert_eq!(named, default);
    // min_delta 1e9: no epoch improves on the first, so patience 1 stops after the second;
    // the loss fell, so the second is the best.
    assert_eq!((named.0, named.1), (2, Some(1)));
    // By hand: the field `loss`, unless an extra metric takes the name.
    let mut best = KeepBest::new().monitor("loss", false);
    for (epoch, loss, extra) in [(0, 3.0, None), (1, 1.0, Some(5.0)), (2, 2.0, None)] {
        let extra = extra.map(|v| ("loss".to_string(), v)).into_iter().collect();
        let mut metrics = EpochMetrics { epoch, loss, extra };
        assert_eq!(
            Callback::<f64, usize>::on_epoch_end(&mut best, &epoch, &mut metrics),
            Control::Continue
        );
    }
    assert_eq!(best.best_epoch(), Some(2));
    // Maximising the training loss is refused, as a missing metric is.
    let mut stop = EarlyStopping::new(1, 0.0).monitor("loss", true);
    let failed = train_line(5, &mut [&mut stop]).0.unwrap_err();
    assert!(
        failed
            .error
            .to_string()
            .contains("lower is better for a loss"),
        "{}",
        failed.error
    );
}

#[test]
fn a_monitored_metric_that_is_not_there_stops_train_with_an_error() {
    // It panicked inside `train` after the first epoch (with the library's line as location).
    // Now an error after that epoch, the epoch in the history, the model trained by it.
    let start = Dense::from_parts(dmatrix![0.0], None, Activation::Identity).unwrap();
    let mut validation =
        Validation::new(&start, dmatrix![1.0, 2.0], dmatrix![0.0, 0.0], mse_loss).unwrap();
    let run = |callbacks: &mut [&mut dyn Callback<f64, Dense<f64>>]| {
        let (failed, model) = train_line(20, callbacks);
        let failed = failed.unwrap_err();
        // One epoch of one step from w = 0: w = 0.1 · 7 · 2 = 1.4.
        assert_eq!(failed.history.epochs.len(), 1);
        assert!((model.weight[(0, 0)] - 1.4).abs() < 1e-12);
        match failed.error {
            NnError::InvalidConfig {
                name: "monitored metric",
                reason,
            } => reason,
            other => panic!("unexpected {other:?}"),
        }
    };
    // A misspelt name.
    let mut stop = EarlyStopping::new(2, 0.0).monitor("val_los", false);
    let reason = run(&mut [&mut validation, &mut stop]);
    assert!(
        reason.starts_with(
            "EarlyStopping monitors the metric \"val_los\", but the epoch's metrics are: loss, \
             val_loss"
        ),
        "{reason}"
    );
    // Two Validations of one name: the second would hide the first.
    let mut twin =
        Validation::new(&start, dmatrix![3.0, 4.0], dmatrix![0.0, 0.0], mse_loss).unwrap();
    let failed = train_line(20, &mut [&mut validation, &mut twin])
        .0
        .unwrap_err();
    assert!(
        matches!(
            failed.error,
            NnError::InvalidConfig {
                name: "metric names",
                ..
            }
        ),
        "{}",
        failed.error
    );
    assert_eq!(failed.history.epochs[0].extra.len(), 1);
    // KeepBest placed before the callback adding its metric.
    let mut best = KeepBest::new().monitor("val_loss", false);
    let reason = run(&mut [&mut best, &mut validation]);
    assert!(
        reason.starts_with(
            "KeepBest monitors the metric \"val_loss\", but the epoch's metrics are: loss ("
        ),
        "{reason}"
    );
    assert_eq!(best.best_epoch(), None);
}

#[test]
fn a_validation_batch_size_of_zero_is_an_error() {
    let model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let validation = Validation::new(&model, dmatrix![1.0], dmatrix![0.0], mse_loss).unwrap();
    let err = validation.batch_size(0).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::InvalidConfig {
                name: "batch size",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn classification_loss_on_logits_works_as_validation() {
    let model = Dense::from_parts(dmatrix![1.0; -1.0], None, Activation::Identity).unwrap();
    let loss = |p, t: &DMatrix<f64>| logitcrossentropy(p, t, Agg::Mean);
    let (x, y) = (dmatrix![0.0, 2.0], dmatrix![1.0, 1.0; 0.0, 0.0]);
    let val = Validation::new(&model, x, y, loss).unwrap();
    // Logits (0, 0) and (2, −2): −ln softmax of class 0 is ln 2 and ln(1 + e⁻⁴).
    let expected = (2f64.ln() + (1.0 + (-4f64).exp()).ln()) / 2.0;
    assert!((val.evaluate(&model).unwrap() - expected).abs() < 1e-14);
}

#[test]
fn bad_held_out_data_is_an_error_up_front() {
    let model = Dense::from_parts(dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    let empty = Validation::new(&model, DMatrix::zeros(2, 0), DMatrix::zeros(1, 0), mse_loss);
    assert!(matches!(empty, Err(NnError::EmptyData { .. })));
    let samples = Validation::new(&model, DMatrix::zeros(2, 3), DMatrix::zeros(1, 2), mse_loss);
    assert!(
        matches!(
            samples,
            Err(NnError::ShapeMismatch {
                expected: (1, 3),
                found: (1, 2),
                ..
            })
        ),
        "{samples:?}"
    );
    let features = Validation::new(&model, DMatrix::zeros(3, 2), DMatrix::zeros(1, 2), mse_loss);
    assert!(matches!(features, Err(NnError::ShapeMismatch { .. })));
    // Two target rows for a one-output model: the loss's own shape error.
    let rows = Validation::new(&model, DMatrix::zeros(2, 2), DMatrix::zeros(2, 2), mse_loss);
    let Err(NnError::ShapeMismatch {
        expected, found, ..
    }) = rows
    else {
        panic!("{rows:?}")
    };
    assert_eq!((expected, found), ((2, 2), (1, 2)));
}

#[test]
#[should_panic(expected = "must return a 1 × 1 matrix")]
fn a_loss_that_is_not_a_scalar_panics() {
    let model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let per_sample = |p: adroit_nn::MatVar<f64>, _: &DMatrix<f64>| Ok(p);
    let _ = Validation::new(&model, dmatrix![1.0, 2.0], dmatrix![1.0, 2.0], per_sample);
}

#[test]
#[should_panic(expected = "does not fit the held-out data")]
fn another_model_than_the_one_checked_panics() {
    let small = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let wide = Dense::from_parts(dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    let mut val = Validation::new(&small, dmatrix![1.0], dmatrix![1.0], mse_loss).unwrap();
    let mut metrics = EpochMetrics {
        epoch: 0,
        loss: 0.0,
        extra: vec![],
    };
    let _ = Callback::<f64, Dense<f64>>::on_epoch_end(&mut val, &wide, &mut metrics);
}

#[test]
fn non_finite_held_out_data_is_an_error_naming_the_entry() {
    let model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let err = Validation::new(
        &model,
        dmatrix![1.0, 2.0],
        dmatrix![0.0, f64::NAN],
        mse_loss,
    );
    let Err(NnError::InvalidData { what }) = err else {
        panic!("{err:?}")
    };
    assert!(
        what.contains("targets") && what.contains("sample 1"),
        "{what}"
    );
    let err = Validation::new(&model, dmatrix![f64::INFINITY], dmatrix![0.0], mse_loss);
    assert!(matches!(err, Err(NnError::InvalidData { what }) if what.contains("inputs")));
}

#[test]
fn another_model_given_to_train_panics_before_any_step() {
    let small = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let mut wide = Dense::from_parts(dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    let mut validation = Validation::new(&small, dmatrix![1.0], dmatrix![1.0], mse_loss).unwrap();
    let x = DMatrix::from_fn(2, 4, |i, j| (i + j) as f64);
    let mut loader = DataLoader::new(x, DMatrix::zeros(1, 4), 2).unwrap();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        train(
            &mut wide,
            &mut loader,
            mse_loss,
            &mut Descent::new(0.1),
            &TrainConfig::default(),
            &mut [&mut validation],
        )
    }));
    let message = outcome.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("does not fit the held-out data"),
        "{message}"
    );
    assert_eq!(loader.batches_drawn(), 0);
    assert_eq!(wide.weight, dmatrix![1.0, 1.0]);
}

#[test]
#[should_panic(expected = "already hold \"val_loss\"")]
fn two_validations_of_one_name_panic() {
    let model = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    let mut a = Validation::new(&model, dmatrix![1.0], dmatrix![1.0], mse_loss).unwrap();
    let mut b = Validation::new(&model, dmatrix![2.0], dmatrix![1.0], mse_loss).unwrap();
    let mut metrics = EpochMetrics {
        epoch: 0,
        loss: 0.0,
        extra: vec![],
    };
    let _ = Callback::<f64, Dense<f64>>::on_epoch_end(&mut a, &model, &mut metrics);
    let _ = Callback::<f64, Dense<f64>>::on_epoch_end(&mut b, &model, &mut metrics);
}
