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
use adroit_nn::{Activation, Chain, Dense, Dropout, History, Layer, TrainConfig, train};

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
    let mut best = adroit_nn::KeepBest::new();
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
