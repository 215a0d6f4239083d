//! Resuming training: epochs numbered across calls of `train` on one loader, and an
//! interrupted run resumed exactly from a checkpoint — the weights (safetensors), the
//! optimiser (serde) and the loader's position (`skip_epochs`) — as a new process would.

use adroit_nn::data::DataLoader;
use adroit_nn::io;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::optim::{AdamW, Optimizer, Schedule, mask};
use adroit_nn::rand::SeedableRng;
use adroit_nn::rand::rngs::StdRng;
use adroit_nn::{
    Activation, Chain, Dense, Dropout, EarlyStopping, History, KeepBest, Layer, TrainConfig, train,
};

fn data() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(2, 40, |i, j| ((i + 1) as f64 * 0.37 * j as f64 + 0.2).sin());
    let y = DMatrix::from_fn(1, 40, |_, j| x[(0, j)] * x[(1, j)] - 0.5 * x[(1, j)]);
    (x, y)
}

/// A model with dropout (so the step numbering matters), its weights from seed `seed`.
fn model(seed: u64) -> Chain<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Chain::new()
        .push(Dense::new(2, 8, Activation::Tanh, &mut rng))
        .push(Dropout::new(0.25).unwrap())
        .push(Dense::new(8, 1, Activation::Identity, &mut rng))
}

fn loader() -> DataLoader<f64> {
    let (x, y) = data();
    DataLoader::new(x, y, 8).unwrap().shuffle(5)
}

fn optimiser(m: &Chain<f64>) -> AdamW<f64> {
    let schedule = Schedule::Warmup {
        steps: 4,
        then: Box::new(Schedule::Cosine {
            init: 0.05,
            decay_steps: 30,
            alpha: 0.1,
        }),
    };
    AdamW::with(schedule, 0.01, 0.9, 0.999, 1e-8)
        .with_decay_mask(mask(m, |name, _: &DMatrix<f64>| name.ends_with("weight")))
}

fn run<O: Optimizer<f64>>(
    m: &mut Chain<f64>,
    l: &mut DataLoader<f64>,
    opt: &mut O,
    epochs: usize,
) -> History {
    let config = TrainConfig {
        epochs,
        seed: 11,
        ..TrainConfig::default()
    };
    train(m, l, |p, t| mse(p, t, Agg::Mean), opt, &config, &mut []).unwrap()
}

fn weights(m: &Chain<f64>) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit_params(&mut |p| out.extend(p.iter().copied()));
    out
}

#[test]
fn train_once_per_epoch_numbers_and_trains_as_one_call() {
    let mut one = model(1);
    let mut opt = optimiser(&one);
    let all = run(&mut one, &mut loader(), &mut opt, 3);
    assert_eq!(
        all.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [0, 1, 2]
    );

    let mut each = model(1);
    let mut opt = optimiser(&each);
    let mut l = loader();
    for k in 0..3 {
        let h = run(&mut each, &mut l, &mut opt, 1);
        assert_eq!(h.epochs.len(), 1);
        assert_eq!(h.epochs[0].epoch, k, "the epochs of later calls count on");
        assert_eq!(h.epochs[0].loss, all.epochs[k].loss);
    }
    assert_eq!(weights(&each), weights(&one));
}

#[test]
fn an_interrupted_run_resumes_exactly_from_a_checkpoint() {
    // Six epochs straight.
    let mut straight = model(1);
    let mut opt = optimiser(&straight);
    let history = run(&mut straight, &mut loader(), &mut opt, 6);

    // Three epochs, then a checkpoint: weights to a file, optimiser and epochs drawn to JSON.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("checkpoint.safetensors");
    let (optimiser_json, epochs_drawn) = {
        let mut first = model(1);
        let mut opt = optimiser(&first);
        let mut l = loader();
        run(&mut first, &mut l, &mut opt, 3);
        io::save_safetensors(&first, &path).unwrap();
        (serde_json::to_string(&opt).unwrap(), l.epochs_drawn())
    };
    assert_eq!(epochs_drawn, 3);

    // "A new process": another initialisation, overwritten from the checkpoint.
    let mut resumed = model(99);
    assert_ne!(weights(&resumed), weights(&straight));
    io::load_safetensors(&mut resumed, &path).unwrap();
    let mut opt: AdamW<f64> = serde_json::from_str(&optimiser_json).unwrap();
    let mut l = loader();
    l.skip_epochs(epochs_drawn);
    let rest = run(&mut resumed, &mut l, &mut opt, 3);

    assert_eq!(weights(&resumed), weights(&straight));
    assert_eq!(
        rest.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>(),
        [3, 4, 5]
    );
    for (r, s) in rest.epochs.iter().zip(&history.epochs[3..]) {
        assert_eq!(r.loss, s.loss);
    }
}

#[test]
fn resuming_without_skipping_the_loader_does_not_match() {
    // The loader's position matters (shuffle order, dropout masks): a fresh loader replays the
    // first epochs' orders and masks.
    let mut straight = model(1);
    let mut opt = optimiser(&straight);
    run(&mut straight, &mut loader(), &mut opt, 4);

    let mut part = model(1);
    let mut opt = optimiser(&part);
    run(&mut part, &mut loader(), &mut opt, 2);
    let mut l = loader();
    let rest = run(&mut part, &mut l, &mut opt, 2);
    assert_eq!(rest.epochs[0].epoch, 0);
    assert_ne!(weights(&part), weights(&straight));
}

#[test]
fn keep_best_reports_the_epoch_as_train_numbers_it() {
    // A review: after a resume (skip_epochs(1)) KeepBest counted from 0 while train reported
    // epochs from 1.
    let mut m = model(1);
    let mut opt = optimiser(&m);
    let mut l = loader();
    l.skip_epochs(1);
    let mut best = KeepBest::new();
    let config = TrainConfig {
        epochs: 4,
        seed: 11,
        ..TrainConfig::default()
    };
    let history = train(
        &mut m,
        &mut l,
        |p, t| mse(p, t, Agg::Mean),
        &mut opt,
        &config,
        &mut [&mut best],
    )
    .unwrap();
    let numbers: Vec<usize> = history.epochs.iter().map(|e| e.epoch).collect();
    assert_eq!(numbers, [1, 2, 3, 4]);
    let lowest = history
        .epochs
        .iter()
        .min_by(|a, b| a.loss.total_cmp(&b.loss))
        .unwrap();
    assert_eq!(best.best_epoch(), Some(lowest.epoch));
    assert_eq!(best.best_score(), Some(lowest.loss));
}

/// Runs `epochs` epochs with `stop` (and `best`) as callbacks.
fn run_with_callbacks<O: Optimizer<f64>>(
    m: &mut Chain<f64>,
    l: &mut DataLoader<f64>,
    opt: &mut O,
    epochs: usize,
    stop: &mut EarlyStopping,
    best: &mut KeepBest<Chain<f64>>,
) -> History {
    let config = TrainConfig {
        epochs,
        seed: 11,
        ..TrainConfig::default()
    };
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    train(m, l, loss, opt, &config, &mut [stop, best]).unwrap()
}

/// What the first part of an interrupted run leaves: the checkpoint files' contents.
struct Checkpoint {
    dir: tempfile::TempDir,
    optimiser: String,
    stop: String,
    best_score: f64,
    best_epoch: usize,
    epochs_drawn: usize,
}

impl Checkpoint {
    fn weights(&self) -> std::path::PathBuf {
        self.dir.path().join("weights.safetensors")
    }
    fn best_weights(&self) -> std::path::PathBuf {
        self.dir.path().join("best.safetensors")
    }
}

#[test]
fn early_stopping_and_keep_best_resume_from_a_checkpoint() {
    // An improvement must exceed 0.004; the dropout makes the loss noisy, and the run stops
    // (here: its best at epoch 2, three epochs without improvement, stopped after epoch 5).
    let new_stop = || EarlyStopping::new(3, 0.004);
    let numbers = |h: &History| h.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>();

    let mut straight = model(1);
    let mut opt = optimiser(&straight);
    let (mut stop, mut best) = (new_stop(), KeepBest::new());
    let history = run_with_callbacks(
        &mut straight,
        &mut loader(),
        &mut opt,
        30,
        &mut stop,
        &mut best,
    );
    assert!(history.stopped_early);
    assert_eq!(numbers(&history), (0..=5).collect::<Vec<_>>());
    assert_eq!(best.best_epoch(), Some(2));
    let straight_best = weights(best.model().unwrap());

    // Four epochs (the callbacks have waited one epoch since the best), then a checkpoint:
    // weights, optimiser, early stopping, and the best model with its score and epoch.
    let checkpoint = {
        let mut first = model(1);
        let mut opt = optimiser(&first);
        let mut l = loader();
        let (mut stop, mut best) = (new_stop(), KeepBest::new());
        let h = run_with_callbacks(&mut first, &mut l, &mut opt, 4, &mut stop, &mut best);
        assert!(!h.stopped_early);
        let checkpoint = Checkpoint {
            dir: tempfile::tempdir().unwrap(),
            optimiser: serde_json::to_string(&opt).unwrap(),
            stop: serde_json::to_string(&stop).unwrap(),
            best_score: best.best_score().unwrap(),
            best_epoch: best.best_epoch().unwrap(),
            epochs_drawn: l.epochs_drawn(),
        };
        io::save_safetensors(&first, checkpoint.weights()).unwrap();
        io::save_safetensors(best.model().unwrap(), checkpoint.best_weights()).unwrap();
        checkpoint
    };
    assert_eq!((checkpoint.epochs_drawn, checkpoint.best_epoch), (4, 2));

    // "A new process" resumes with the callbacks read back: it stops where the straight run
    // did, with the same weights and the same best model.
    let resume = |restore_callbacks: bool| {
        let mut m = model(99);
        io::load_safetensors(&mut m, checkpoint.weights()).unwrap();
        let mut opt: AdamW<f64> = serde_json::from_str(&checkpoint.optimiser).unwrap();
        let mut l = loader();
        l.skip_epochs(checkpoint.epochs_drawn);
        let (mut stop, mut best) = if restore_callbacks {
            let mut kept = model(98);
            io::load_safetensors(&mut kept, checkpoint.best_weights()).unwrap();
            let best = KeepBest::new()
                .restore(checkpoint.best_score, checkpoint.best_epoch, kept)
                .unwrap();
            (serde_json::from_str(&checkpoint.stop).unwrap(), best)
        } else {
            (new_stop(), KeepBest::new())
        };
        let h = run_with_callbacks(&mut m, &mut l, &mut opt, 26, &mut stop, &mut best);
        (h, weights(&m), best)
    };
    let (rest, resumed, best) = resume(true);
    assert!(rest.stopped_early);
    assert_eq!(numbers(&rest), [4, 5]);
    assert_eq!(resumed, weights(&straight));
    assert_eq!(best.best_epoch(), Some(2));
    assert_eq!(weights(best.model().unwrap()), straight_best);

    // Without the callbacks' state the resumed run neither stops there nor keeps that model.
    let (rest, _, best) = resume(false);
    assert_ne!(numbers(&rest), [4, 5]);
    assert_ne!(best.best_epoch(), Some(2));
}

#[test]
fn a_restored_early_stopping_continues_a_run_that_continues_its_epochs() {
    let mut stop = EarlyStopping::new(2, 0.0);
    let epoch_end = |stop: &mut EarlyStopping, epoch, loss| {
        let mut metrics = adroit_nn::EpochMetrics {
            epoch,
            loss,
            extra: vec![],
        };
        adroit_nn::Callback::<f64, ()>::on_epoch_end(stop, &(), &mut metrics)
    };
    epoch_end(&mut stop, 0, 1.0);
    epoch_end(&mut stop, 1, 2.0); // one epoch without improvement
    let saved = serde_json::to_string(&stop).unwrap();
    assert_eq!(
        saved,
        r#"{"patience":2,"min_delta":0.0,"monitor":null,"higher_is_better":false,"best":1.0,"epochs_without_improvement":1,"last_epoch":1}"#
    );
    let read: EarlyStopping = serde_json::from_str(&saved).unwrap();
    // A run from epoch 2 continues the count, and so does one from epoch 5 (the loader drew
    // epochs the callback never saw end: a step refused for a NaN); one from epoch 0 or 1 (a
    // new loader, or one rewound) starts afresh.
    for (first, expected) in [
        (2, adroit_nn::Control::Stop),
        (5, adroit_nn::Control::Stop),
        (0, adroit_nn::Control::Continue),
        (1, adroit_nn::Control::Continue),
    ] {
        let mut run = read.clone();
        adroit_nn::Callback::<f64, ()>::on_train_begin(&mut run, &());
        assert_eq!(
            epoch_end(&mut run, first, 1.5),
            expected,
            "first epoch {first}"
        );
    }
    // Without a run beginning (epochs driven by hand), nothing resets.
    let mut by_hand = read.clone();
    assert_eq!(epoch_end(&mut by_hand, 0, 1.5), adroit_nn::Control::Stop);

    // A monitored metric keeps its name, direction and best value as measured.
    let mut accuracy = EarlyStopping::new(1, 0.01).monitor("accuracy", true);
    let mut metrics = adroit_nn::EpochMetrics {
        epoch: 0,
        loss: 0.0,
        extra: vec![("accuracy".into(), 0.75)],
    };
    adroit_nn::Callback::<f64, ()>::on_epoch_end(&mut accuracy, &(), &mut metrics);
    let saved = serde_json::to_string(&accuracy).unwrap();
    assert!(saved.contains(r#""monitor":"accuracy","higher_is_better":true,"best":0.75"#));
    let read: EarlyStopping = serde_json::from_str(&saved).unwrap();
    assert_eq!(serde_json::to_string(&read).unwrap(), saved);
}

#[test]
fn early_stopping_stops_a_loop_of_one_epoch_train_calls_where_one_call_stops() {
    // A trial: a loop calling `train` once per epoch (to checkpoint between epochs) never
    // stopped, each call starting the count afresh.
    let new_stop = || EarlyStopping::new(3, 0.004);
    let mut one = model(1);
    let mut opt = optimiser(&one);
    let (mut stop, mut best) = (new_stop(), KeepBest::new());
    let all = run_with_callbacks(&mut one, &mut loader(), &mut opt, 30, &mut stop, &mut best);
    assert!(all.stopped_early);

    let mut each = model(1);
    let mut opt = optimiser(&each);
    let mut l = loader();
    let (mut stop, mut best) = (new_stop(), KeepBest::new());
    let mut epochs = Vec::new();
    while !stop.stopped() && epochs.len() < 30 {
        let h = run_with_callbacks(&mut each, &mut l, &mut opt, 1, &mut stop, &mut best);
        epochs.extend(h.epochs.iter().map(|e| e.epoch));
    }
    assert_eq!(
        epochs,
        all.epochs.iter().map(|e| e.epoch).collect::<Vec<_>>()
    );
    assert_eq!(weights(&each), weights(&one));
}

#[test]
fn hostile_early_stopping_checkpoints_are_refused() {
    let base = r#"{"patience":2,"min_delta":0.0,"monitor":null,"higher_is_better":false,"best":1.0,"epochs_without_improvement":1,"last_epoch":1}"#;
    for (from, to, says) in [
        (
            r#""min_delta":0.0"#,
            r#""min_delta":-1.0"#,
            "min_delta is -1",
        ),
        (
            r#""higher_is_better":false"#,
            r#""higher_is_better":true"#,
            "training loss is monitored with higher_is_better",
        ),
        // A misspelt field is not silently ignored (a review: `"restored":false` was).
        (
            r#""best":1.0"#,
            r#""best":1.0,"restored":false"#,
            "unknown field",
        ),
    ] {
        let hostile = base.replace(from, to);
        let err = serde_json::from_str::<EarlyStopping>(&hostile).unwrap_err();
        assert!(err.to_string().contains(says), "{hostile}: {err}");
    }
    // The largest count of epochs without improvement neither overflows (a review: it
    // panicked in debug builds and wrapped to 0 in release ones) nor stops stopping.
    let huge = base.replace(
        r#""epochs_without_improvement":1"#,
        &format!(r#""epochs_without_improvement":{}"#, usize::MAX),
    );
    let mut stop: EarlyStopping = serde_json::from_str(&huge).unwrap();
    adroit_nn::Callback::<f64, ()>::on_train_begin(&mut stop, &());
    let mut metrics = adroit_nn::EpochMetrics {
        epoch: 2, // continues the saved run (last epoch 1)
        loss: 3.0,
        extra: vec![],
    };
    let decision = adroit_nn::Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics);
    assert_eq!(decision, adroit_nn::Control::Stop);
}

#[test]
#[should_panic(expected = "min_delta is inf; it must be finite")]
fn an_infinite_min_delta_is_refused() {
    // A review: accepted, it made a checkpoint (`"min_delta":null`) that could not be read back.
    let _ = EarlyStopping::new(2, f64::INFINITY);
}

#[test]
fn a_checkpoint_after_the_stop_reads_back_stopped() {
    // A review: nothing in the checkpoint said the run was over, and a further `train` call
    // trained on.
    let mut stop = EarlyStopping::new(1, 0.0);
    for loss in [1.0, 2.0] {
        let mut metrics = adroit_nn::EpochMetrics {
            epoch: 0,
            loss,
            extra: vec![],
        };
        adroit_nn::Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut metrics);
    }
    assert!(stop.stopped());
    let read: EarlyStopping = serde_json::from_str(&serde_json::to_string(&stop).unwrap()).unwrap();
    assert!(read.stopped());
    assert!(!EarlyStopping::new(0, 0.0).stopped(), "no epoch seen yet");
}
