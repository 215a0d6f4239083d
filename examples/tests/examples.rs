//! The examples, run in a fast mode with their outputs checked.

use adroit_examples::{
    censored_gamma, classic, gaussian_process, iris, laplace, logistic_newton, quickstart, wine,
};

#[test]
fn iris_trains_plots_saves_and_reloads() {
    let out_dir = tempfile::tempdir().unwrap();
    let options = iris::Options {
        epochs: 60,
        learning_rate: 0.01,
        seed: 42,
        out_dir: out_dir.path().to_path_buf(),
        verbose: false,
    };
    let report = iris::run(&options).unwrap();
    assert_eq!(report.history.epochs.len(), 60);
    assert!(
        report.test_accuracy >= 0.9,
        "test accuracy {}",
        report.test_accuracy
    );
    assert!(report.reloaded_identical);
    let svg = std::fs::read_to_string(&report.plot).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("test accuracy"));
    assert!(std::fs::metadata(&report.weights).unwrap().len() > 1000);
    let first = report.history.epochs.first().unwrap().loss;
    let last = report.history.epochs.last().unwrap().loss;
    assert!(last < first / 5.0, "loss {first} → {last}");
}

#[test]
fn wine_beats_the_trivial_baseline() {
    let report = wine::run(15, 0.003, 7, false).unwrap();
    assert_eq!(report.sizes.0 + report.sizes.1, 1599);
    assert!(report.test_mae < 0.9 * report.baseline_mae, "{report:?}");
}

#[test]
fn classic_gradients_agree() {
    let g = classic::run().unwrap();
    assert_eq!(g.explicit, g.implicit);
    assert!((&g.explicit.0 - &g.finite_differences.0).amax() < 1e-10);
    assert!((&g.explicit.1 - &g.finite_differences.1).amax() < 1e-10);
}

#[test]
fn quickstart_derivative_is_32() {
    assert_eq!(quickstart::run(), (32.0, 32.0));
}

/// Outputs that cannot be written are refused before training (a run of many epochs ended
/// with "not a regular file" and lost the trained model): a directory where the weights go,
/// and a read-only plot file.
#[test]
fn iris_refuses_unwritable_outputs_before_training() {
    let out_dir = tempfile::tempdir().unwrap();
    let options = iris::Options {
        epochs: 100_000, // would take minutes: the refusal must come first
        learning_rate: 0.01,
        seed: 42,
        out_dir: out_dir.path().to_path_buf(),
        verbose: false,
    };
    let weights = out_dir.path().join("iris.safetensors");
    std::fs::create_dir(&weights).unwrap();
    let err = iris::run(&options).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("cannot write {}: not a regular file", weights.display())
    );
    std::fs::remove_dir(&weights).unwrap();
    let plot = out_dir.path().join("iris_training.svg");
    std::fs::write(&plot, "<svg/>").unwrap();
    let mut read_only = std::fs::metadata(&plot).unwrap().permissions();
    read_only.set_readonly(true);
    std::fs::set_permissions(&plot, read_only).unwrap();
    let err = iris::run(&options).unwrap_err();
    assert!(err.to_string().ends_with("the file is read-only"), "{err}");
    assert_eq!(std::fs::read_to_string(&plot).unwrap(), "<svg/>");
}

#[test]
fn resume_continues_bit_for_bit() {
    use adroit_examples::resume;
    let (straight, split) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    // Uninterrupted, seed 5: early stopping (patience 4 on the validation loss) ends the run
    // after epoch 28 of 40; the best validation loss was at epoch 24.
    let full = resume::run(straight.path(), 40, None, 5).unwrap();
    assert_eq!((full.resumed_from, full.epochs_done), (0, 29));
    assert!(full.stopped_early);
    let (best_epoch, best_file) = full.best.clone().unwrap();
    assert_eq!(best_epoch, 24);
    // Interrupted twice: 0 → 5 → 26 (one epoch after the best: early stopping has waited
    // one of its four) → stopped after 28, each call a fresh start from the files.
    let first = resume::run(split.path(), 40, Some(5), 5).unwrap();
    assert_eq!(first.epochs, [0, 1, 2, 3, 4]);
    let second = resume::run(split.path(), 40, Some(21), 5).unwrap();
    assert_eq!((second.resumed_from, second.epochs_done), (5, 26));
    assert!(!second.stopped_early);
    let last = resume::run(split.path(), 40, None, 5).unwrap();
    assert_eq!(last.epochs, [26, 27, 28]);
    assert!(last.stopped_early);
    assert_eq!(
        std::fs::read(&last.weights).unwrap(),
        std::fs::read(&full.weights).unwrap(),
        "the resumed run's weights differ from the uninterrupted run's"
    );
    let (last_best_epoch, last_best_file) = last.best.clone().unwrap();
    assert_eq!(last_best_epoch, 24);
    assert_eq!(
        std::fs::read(last_best_file).unwrap(),
        std::fs::read(best_file).unwrap(),
        "the resumed run kept another best model"
    );
    // The old checkpoints were replaced, not kept.
    for old in [
        "weights-5.safetensors",
        "best-5.safetensors",
        "callbacks-5.json",
    ] {
        assert!(!split.path().join(old).exists(), "{old} was kept");
    }
    // A run stopped early stays stopped; files a killed run left behind (never named by
    // progress.json) are removed.
    let stray = split.path().join("optimizer-31.json");
    std::fs::write(&stray, "{}").unwrap();
    let after = resume::run(split.path(), 40, None, 5).unwrap();
    assert!(after.epochs.is_empty() && after.stopped_early);
    assert!(!stray.exists());
    // A damaged file is named in the error.
    std::fs::write(split.path().join("callbacks-29.json"), "{}").unwrap();
    let err = resume::run(split.path(), 40, None, 5).unwrap_err();
    assert!(err.to_string().contains("callbacks-29.json"), "{err}");
    // Another seed is refused, not mixed in.
    let err = resume::run(split.path(), 20, None, 6).unwrap_err();
    assert!(err.to_string().contains("made with seed 5, not 6"), "{err}");
}

#[test]
fn serde_json_reads_every_float_back_exactly() {
    // adroit-nn's `serde` feature turns on serde_json's `float_roundtrip` for the whole build
    // (this crate asks for serde_json without it): checkpoints in JSON must read back bit for
    // bit, and the default parser may be one ulp off (a trial's resumed runs diverged).
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let mut off = 0;
    for _ in 0..100_000 {
        let v: f64 = rng.random_range(-1.0..1.0) * 10f64.powi(rng.random_range(-30..30));
        let back: f64 = serde_json::from_str(&serde_json::to_string(&v).unwrap()).unwrap();
        off += usize::from(back.to_bits() != v.to_bits());
    }
    assert_eq!(off, 0, "{off} of 100000 floats read back differently");
}

#[test]
fn logistic_newton_converges_quadratically_to_the_closed_forms() {
    let fit = logistic_newton::run(400, 3, 8);
    let norms: Vec<f64> = fit.steps.iter().map(|&(_, g)| g).collect();
    assert!(norms[8] < 1e-9, "{norms:?}");
    // quadratic: once below 1, each step at least squares the norm (up to a constant)
    let k = norms.iter().position(|&g| g < 1.0).unwrap();
    assert!(norms[k + 1] < 10.0 * norms[k] * norms[k], "{norms:?}");
    assert!(fit.closed_form_error < 1e-12, "{}", fit.closed_form_error);
    assert!(fit.cg_step_error < 1e-10, "{}", fit.cg_step_error);
    for (i, &truth) in logistic_newton::TRUE_WEIGHTS.iter().enumerate() {
        let z = (fit.weights[i] - truth) / fit.standard_errors[i];
        assert!(
            z.abs() < 4.0,
            "coefficient {i}: {} ± {} vs {truth}",
            fit.weights[i],
            fit.standard_errors[i]
        );
    }
}

#[test]
fn laplace_uncertainty_grows_away_from_the_data() {
    let fit = laplace::run(64, 3000, 40, 5, &[-6.0, 0.0, 1.5, 6.0]);
    assert!(
        fit.gradient_norm < 1e-6,
        "not at a stationary point: {}",
        fit.gradient_norm
    );
    assert!(
        fit.hessian_eigenvalues[0] > 0.0,
        "{}",
        fit.hessian_eigenvalues
    );
    assert!(fit.asymmetry < 1e-9, "{}", fit.asymmetry);
    let std = |x: f64| fit.predictions.iter().find(|p| p.0 == x).unwrap().2;
    // inside the data the predictive spread is about the noise (0.1); outside it grows
    assert!(
        std(0.0) > laplace::NOISE && std(0.0) < 2.0 * laplace::NOISE,
        "{}",
        std(0.0)
    );
    assert!(
        std(-6.0) > 3.0 * std(0.0) && std(6.0) > 3.0 * std(0.0),
        "{:?}",
        fit.predictions
    );
    for &(x, mean, s) in &fit.predictions[1..3] {
        assert!((mean - x.sin()).abs() < 3.0 * s, "at {x}: {mean} ± {s}");
    }
}

#[test]
fn censored_gamma_fit_recovers_the_parameters_the_naive_one_misses() {
    use censored_gamma::{TRUE_SCALE, TRUE_SHAPE};
    let fit = censored_gamma::run(2000, 11);
    assert!(
        fit.censored_share > 0.2 && fit.censored_share < 0.35,
        "{}",
        fit.censored_share
    );
    // Newton on the exact Hessian: converged, in few steps (quadratic near the maximum)
    assert!(fit.gradient_norm < 1e-8 && fit.steps < 20, "{fit:?}");
    let (k, theta) = fit.estimate;
    let (sk, stheta) = fit.standard_errors;
    assert!((k - TRUE_SHAPE).abs() < 3.0 * sk, "{fit:?}");
    assert!((theta - TRUE_SCALE).abs() < 3.0 * stheta, "{fit:?}");
    // standard errors of the size n = 2000 gives (a wrong Hessian would not)
    assert!(
        sk > 0.03 && sk < 0.3 && stheta > 0.02 && stheta < 0.2,
        "{fit:?}"
    );
    // dropping the censored times biases both far beyond the standard errors
    let (nk, ntheta) = fit.naive;
    assert!((nk - TRUE_SHAPE).abs() > 5.0 * sk && (ntheta - TRUE_SCALE).abs() > 5.0 * stheta);
}

#[test]
fn gaussian_process_fit_finds_the_noise_and_its_uncertainty() {
    let fit = gaussian_process::run(40, 7, &[0.0, 0.7, 3.5]);
    assert!(
        fit.gradient_norm < 1e-8,
        "not at a maximum: {}",
        fit.gradient_norm
    );
    assert!(
        fit.gradient_check < 1e-9,
        "matrix tape vs closed form: {}",
        fit.gradient_check
    );
    let (_, _, noise) = fit.hyperparameters;
    assert!(
        noise > 0.6 * gaussian_process::NOISE && noise < 1.6 * gaussian_process::NOISE,
        "σ_n = {noise}"
    );
    assert!(
        fit.standard_errors
            .iter()
            .all(|s| s.is_finite() && *s > 0.0)
    );
    // inside the data the posterior of f is tight and right; far outside it returns to the prior
    for &(x, mean, std) in &fit.predictions[..2] {
        let truth = gaussian_process::truth(x);
        assert!(
            (mean - truth).abs() < 3.0 * std + 0.05,
            "at {x}: {mean} ± {std}"
        );
        assert!(std < 0.1, "at {x}: std {std}");
    }
    let (_, _, far) = fit.predictions[2];
    assert!(far > 5.0 * fit.predictions[0].2, "{:?}", fit.predictions);
    // a numerically singular K: Cholesky refuses it (LU's formula returns some number)
    assert!(fit.near_singular.0);
}

#[test]
fn tabular_model_with_an_embedding_and_batch_norm_learns_and_reloads() {
    let r = adroit_examples::tabular::run(200, 0.003, 5, false).unwrap();
    // Far below predicting the mean (the categories alone explain most of the variance).
    assert!(r.test_mse < 0.1 * r.baseline_mse, "{r:?}");
    // Early stopping: 15 epochs without a better validation loss after the best one.
    assert_eq!(r.epochs_run, r.best_epoch + 16, "{r:?}");
    // Parameters and running statistics saved: the reloaded model predicts the same.
    assert_eq!(r.reload_difference, 0.0);
}

#[test]
fn masking_recalls_each_sequences_last_value_whatever_the_padding() {
    // A short run (the example's default is 20 epochs): the masked GRU's predictions do not
    // depend on how far the batch is padded, and it recalls far better than the same GRU
    // reading the padding, which gets worse when the padding grows.
    let r = adroit_examples::lengths::run(3, 0.01, 1).unwrap();
    assert_eq!(r.test_sequences, 600);
    assert_eq!(r.masked_mse, r.masked_longer_mse, "{r:?}");
    assert!(r.masked_mse < 0.01 * r.zero_mse, "{r:?}");
    assert!(r.masked_mse < 0.5 * r.unmasked_mse, "{r:?}");
    assert!(r.unmasked_longer_mse > r.unmasked_mse, "{r:?}");
}

#[test]
fn attention_recalls_the_first_step_only_with_positions() {
    // A short run (the example's default is 30 epochs, test MSE 0.00009 against 0.32): with
    // the encoding the first value is recalled far better than without, which cannot do much
    // better than the sequence's mean (attention alone sees a set).
    let r = adroit_examples::positions::run(3, 0.003, 1).unwrap();
    assert_eq!(r.test_sequences, 400);
    assert!(
        r.with_positions_mse < 0.05 * r.without_positions_mse,
        "{r:?}"
    );
    assert!(r.without_positions_mse > 0.8 * r.mean_mse, "{r:?}");
    assert!(r.mean_mse < r.zero_mse, "{r:?}");
}

#[test]
fn sequence_models_forecast_far_better_than_persistence() {
    // A short run (the example's default is 40 epochs; 3 keep the debug test near 7 s, 8 took
    // 16 s): every model already far below the persistence forecast's error (0.0080, 0.0073,
    // 0.0066, 0.0073 and 0.0080 for the LSTM, GRU, RNN, dense network and convolutions against
    // 0.049), and above the noise floor it cannot beat.
    let r = adroit_examples::sequence::run(3, 0.01, 3).unwrap();
    assert_eq!(r.test_windows, 317);
    for (name, error) in [
        ("LSTM", r.lstm_mse),
        ("GRU", r.gru_mse),
        ("RNN", r.rnn_mse),
        ("dense", r.dense_mse),
        ("conv", r.conv_mse),
    ] {
        assert!(
            error < 0.3 * r.persistence_mse && error > 0.0025 * 0.8,
            "{name}: {error} ({r:?})"
        );
    }
}

#[test]
fn both_autoencoders_denoise_the_digits_and_a_bad_sigma_is_an_error() {
    // A short run (the example's default is 60 epochs): both already beat the noisy input
    // and the mean image.
    let r = adroit_examples::denoise::run(4, 0.01, 0.3, 1).unwrap();
    assert_eq!(r.test_images, 449);
    assert!((0.08..0.1).contains(&r.noisy_mse), "{r:?}");
    for model in [r.transposed_mse, r.upsample_mse] {
        assert!(
            model < 0.6 * r.noisy_mse && model < r.mean_image_mse,
            "{r:?}"
        );
    }
    for sigma in [-0.1, f32::NAN] {
        let message = adroit_examples::denoise::run(1, 0.01, sigma, 1)
            .unwrap_err()
            .to_string();
        assert!(message.contains("standard deviation"), "{message}");
    }
}

#[test]
fn the_digits_load_whole_and_both_networks_learn_them() {
    let (x, digits) = adroit_examples::digits::load().unwrap();
    assert_eq!((x.shape(), digits.len()), ((64, 1797), 1797));
    assert!(x.iter().all(|&v| (0.0..=1.0).contains(&v)));
    let mut counts = [0; 10];
    for &d in &digits {
        counts[d] += 1;
    }
    // 174–183 images of each digit.
    assert!(
        counts.iter().all(|&c| (174..=183).contains(&c)),
        "{counts:?}"
    );
    // A short run (the example's default is 40 epochs): both already classify most test
    // images right.
    let r = adroit_examples::digits::run(3, 0.005, 1).unwrap();
    assert_eq!((r.train_images, r.test_images), (1348, 449));
    assert!(r.cnn_accuracy > 0.8 && r.dense_accuracy > 0.8, "{r:?}");
}
