//! The examples, run in a fast mode with their outputs checked.

use adroit_examples::{classic, iris, quickstart, wine};

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
    let full = resume::run(straight.path(), 12, None, 5).unwrap();
    assert_eq!((full.resumed_from, full.epochs_done), (0, 12));
    // Interrupted twice: 0 → 5 → 9 → 12, each call a fresh start from the files.
    let first = resume::run(split.path(), 12, Some(5), 5).unwrap();
    assert_eq!(first.epochs, [0, 1, 2, 3, 4]);
    let second = resume::run(split.path(), 12, Some(4), 5).unwrap();
    assert_eq!((second.resumed_from, second.epochs_done), (5, 9));
    assert_eq!(second.epochs, [5, 6, 7, 8]);
    let last = resume::run(split.path(), 12, None, 5).unwrap();
    assert_eq!(last.epochs, [9, 10, 11]);
    assert_eq!(
        std::fs::read(&last.weights).unwrap(),
        std::fs::read(&full.weights).unwrap(),
        "the resumed run's weights differ from the uninterrupted run's"
    );
    // The old checkpoints were replaced, not kept.
    assert!(!split.path().join("weights-5.safetensors").exists());
    // Another seed is refused, not mixed in.
    let err = resume::run(split.path(), 20, None, 6).unwrap_err();
    assert!(err.to_string().contains("made with seed 5, not 6"), "{err}");
}
