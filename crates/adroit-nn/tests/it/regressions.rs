//! Regression tests for defects found in review (each names what was wrong).

use adroit_nn::data::{DataLoader, Standardizer, train_test_split};
use adroit_nn::losses::{Agg, binary_focal_loss, focal_loss, logitcrossentropy};
use adroit_nn::optim::{ClipValue, Optimizer};
use adroit_nn::{Activation, Callback, Control, Dense, EarlyStopping, EpochMetrics, NnError};
use adroit_reverse::matrix::{self, Along};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

/// A focusing parameter `γ` that is negative, NaN or infinite is refused (from an audit: `γ = −1`
/// at a perfect prediction gave a loss and gradient of −∞, NaN and ∞ gave NaN), as Huber's `δ`
/// and label smoothing's `α` are; 0 (the cross-entropy) and fractional values are accepted.
#[test]
fn focal_losses_refuse_a_gamma_out_of_range() {
    let _ = matrix::value_and_gradient(
        |m| {
            for gamma in [-1.0, -1e-300, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
                let refused = focal_loss(m[0], &dmatrix![1.0; 0.0], gamma, Agg::Mean);
                assert!(
                    matches!(
                        refused,
                        Err(NnError::InvalidConfig {
                            name: "focal_loss γ",
                            ..
                        })
                    ),
                    "γ = {gamma}"
                );
                let refused = binary_focal_loss(m[0], &dmatrix![1.0; 0.0], gamma, Agg::Mean);
                assert!(
                    matches!(
                        refused,
                        Err(NnError::InvalidConfig {
                            name: "binary_focal_loss γ",
                            ..
                        })
                    ),
                    "γ = {gamma}"
                );
            }
            for gamma in [0.0, 0.5, 2.0, 5.0] {
                assert!(focal_loss(m[0], &dmatrix![1.0; 0.0], gamma, Agg::Mean).is_ok());
                assert!(binary_focal_loss(m[0], &dmatrix![1.0; 0.0], gamma, Agg::Mean).is_ok());
            }
            m[0].sum()
        },
        &[dmatrix![1.0; 0.0]],
    );
    // finite in f64 but not in f32 (a review): refused for f32, accepted for f64
    let _ = matrix::value_and_gradient(
        |m| {
            let refused = focal_loss(m[0], &dmatrix![1.0f32; 0.0], 3.5e38, Agg::Mean);
            assert!(matches!(refused, Err(NnError::InvalidConfig { .. })));
            let refused = binary_focal_loss(m[0], &dmatrix![1.0f32; 0.0], 1e39, Agg::Mean);
            assert!(matches!(refused, Err(NnError::InvalidConfig { .. })));
            m[0].sum()
        },
        &[dmatrix![1.0f32; 0.0]],
    );
    let _ = matrix::value_and_gradient(
        |m| {
            assert!(focal_loss(m[0], &dmatrix![1.0; 0.0], 3.5e38, Agg::Mean).is_ok());
            m[0].sum()
        },
        &[dmatrix![1.0; 0.0]],
    );
}

#[test]
fn focal_losses_are_finite_for_saturated_predictions() {
    // softmax/sigmoid reach exactly 1 in f32; p = ŷ + ε made 1 − p negative (NaN powers/logs).
    let (l, g) = matrix::value_and_gradient(
        |m| {
            focal_loss(
                m[0].softmax(Along::Rows),
                &dmatrix![1.0f32; 0.0],
                1.5,
                Agg::Mean,
            )
            .unwrap()
        },
        &[dmatrix![20.0f32; 0.0]],
    );
    assert!(
        l.is_finite() && g[0].iter().all(|v| v.is_finite()),
        "{l} {}",
        g[0]
    );
    let (l, g) = matrix::value_and_gradient(
        |m| {
            binary_focal_loss(
                m[0].map(adroit_nn::activation::sigmoid),
                &dmatrix![0.0f32, 1.0],
                2.0,
                Agg::Mean,
            )
            .unwrap()
        },
        &[dmatrix![20.0f32, -20.0]],
    );
    assert!(
        l.is_finite() && l > 10.0 && g[0].iter().all(|v| v.is_finite()),
        "{l} {}",
        g[0]
    );
}

#[test]
fn standardizer_only_centres_a_constant_feature() {
    // Rounding left a variance of ~1e-34 that scaled the row to ±1.
    let x: DMatrix<f64> = dmatrix![0.1, 0.1, 0.1; 1.0, 2.0, 3.0];
    let z = Standardizer::fit(&x).unwrap().transform(&x).unwrap();
    // Centred only: what remains is the rounding of the mean, not ±1.
    assert!(z.row(0).iter().all(|v| v.abs() < 1e-15), "{z}");
    let y = DMatrix::<f64>::from_element(1, 7, 1e6 + 0.1);
    assert!(
        Standardizer::fit(&y)
            .unwrap()
            .transform(&y)
            .unwrap()
            .iter()
            .all(|v: &f64| v.abs() < 1e-6)
    );
}

#[test]
fn clip_value_keeps_nan() {
    let mut updates = vec![dmatrix![f64::NAN, f64::NEG_INFINITY, 5.0]];
    let p = DMatrix::zeros(1, 3);
    ClipValue::new(1.0).update(&mut updates, &[&p]);
    assert!(updates[0][0].is_nan());
    assert_eq!((updates[0][1], updates[0][2]), (-1.0, 1.0));
}

#[test]
fn stratified_split_has_the_documented_size() {
    // Per-class rounding gave 6 of 9 test samples at 0.5 (documented round(4.5) = 5) and an
    // empty test set for 6 classes of 2 at 0.2 (now refused: 2 test samples cannot hold 6
    // classes, see `stratified_split_refuses_what_scikit_learn_refuses`).
    for (n, per_class, fraction, want) in [(9, 3, 0.5, 5), (12, 2, 0.5, 6), (18, 3, 0.4, 7)] {
        let labels: Vec<usize> = (0..n).map(|i| i / per_class).collect();
        let x = DMatrix::<f64>::from_fn(1, n, |_, j| j as f64);
        let split = train_test_split(&x, &x, fraction, 0, Some(&labels)).unwrap();
        assert_eq!(
            split.x_test.ncols(),
            want,
            "{n} samples in classes of {per_class}, test fraction {fraction}"
        );
    }
}

#[test]
fn an_epoch_without_batches_is_an_error() {
    // drop_last with fewer samples than a batch used to report loss 0 every epoch.
    let mut model = Dense::<f64>::new(
        1,
        1,
        Activation::Identity,
        &mut rand::rngs::StdRng::seed_from_u64(0),
    );
    let mut loader = DataLoader::new(DMatrix::zeros(1, 3), DMatrix::zeros(1, 3), 4)
        .unwrap()
        .drop_last(true);
    let err = super::training::train_error(&mut model, &mut loader);
    assert!(matches!(err, NnError::EmptyData { .. }), "{err}");
}

#[test]
fn early_stopping_counts_a_nan_metric_as_no_improvement() {
    let mut stop = EarlyStopping::new(2, 0.0);
    let model = ();
    let mut decisions = Vec::new();
    for loss in [1.0, f64::NAN, 2.0] {
        let mut m = EpochMetrics {
            epoch: 0,
            loss,
            extra: Vec::new(),
        };
        decisions.push(Callback::<f64, ()>::on_epoch_end(&mut stop, &model, &mut m));
    }
    assert_eq!(
        decisions,
        [Control::Continue, Control::Continue, Control::Stop]
    );
}

#[test]
fn early_stopping_takes_the_magnitude_of_a_negative_min_delta() {
    // Keras uses |min_delta|: with −0.5 a loss rising 1 → 1.4 → 1.8 must stop (patience 1),
    // not count each worse epoch as an improvement.
    let mut stop = EarlyStopping::new(1, -0.5);
    let decisions: Vec<Control> = [1.0, 1.4, 1.8]
        .into_iter()
        .map(|loss| {
            let mut m = EpochMetrics {
                epoch: 0,
                loss,
                extra: Vec::new(),
            };
            Callback::<f64, ()>::on_epoch_end(&mut stop, &(), &mut m)
        })
        .collect();
    assert_eq!(decisions, [Control::Continue, Control::Stop, Control::Stop]);
}

#[test]
#[should_panic(expected = "EarlyStopping: min_delta is NaN")]
fn early_stopping_refuses_a_nan_min_delta() {
    let _ = EarlyStopping::new(1, f64::NAN);
}

#[test]
fn scalar_divided_by_a_matrix() {
    let g = matrix::gradient(|m| (2.0_f64 / m[0]).sum(), &[dmatrix![1.0, 4.0]]);
    assert_eq!(g[0], dmatrix![-2.0, -0.125]);
}

#[test]
fn concurrent_saves_to_one_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("w.safetensors");
    let handles: Vec<_> = (0..4)
        .map(|seed| {
            let path = path.clone();
            std::thread::spawn(move || {
                let m = Dense::<f32>::new(
                    3,
                    2,
                    Activation::Relu,
                    &mut rand::rngs::StdRng::seed_from_u64(seed),
                );
                adroit_nn::io::save_safetensors(&m, &path)
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    let mut m = Dense::<f32>::new(
        3,
        2,
        Activation::Relu,
        &mut rand::rngs::StdRng::seed_from_u64(9),
    );
    adroit_nn::io::load_safetensors(&mut m, &path).unwrap();
}

#[test]
fn standardizer_scales_features_of_small_magnitude() {
    // The constant-feature test was absolute (σ ≤ 10ε·max(|mean|, 1)): an f32 feature in
    // micrometres (σ = 1.16e-6) was only centred. Expected: (x − mean)/σ with σ the population
    // standard deviation, as scikit-learn's StandardScaler (values checked against it).
    let x = dmatrix![1.2e-6_f32, 3.4e-6, 0.8e-6, 2.5e-6, 4.1e-6, 1.9e-6];
    let z = Standardizer::fit(&x).unwrap().transform(&x).unwrap();
    let expected = [-0.9606, 0.9319, -1.3047, 0.1577, 1.5341, -0.3584];
    for (got, want) in z.iter().zip(expected) {
        assert!((got - want).abs() < 1e-4, "{z}");
    }
    // f64 at 1e-15: ±√(3/2) around the middle value.
    let x = dmatrix![1e-15_f64, 2e-15, 3e-15];
    let z = Standardizer::fit(&x).unwrap().transform(&x).unwrap();
    let r = 1.5_f64.sqrt();
    assert!(
        (z[0] + r).abs() < 1e-12 && z[1].abs() < 1e-12 && (z[2] - r).abs() < 1e-12,
        "{z}"
    );
    // f32 at 1e20: its variance (1e40) overflowed f32, giving scale ∞ and output 0.
    let x = dmatrix![1e20_f32, 3e20];
    let z = Standardizer::fit(&x).unwrap().transform(&x).unwrap();
    assert_eq!(z, dmatrix![-1.0_f32, 1.0], "{z}");
}

#[test]
#[should_panic(expected = "Optimizer::update: 1 updates for 0 parameters")]
fn lion_with_fewer_parameters_than_updates_panics() {
    // AdamW and Lion scaled inside a loop over updates and parameters together: the updates
    // without a parameter kept the raw gradient (Lion) or the unscaled Adam direction
    // (AdamW), both of the wrong sign — a silently ascending step.
    let mut u = vec![dmatrix![3.0]];
    adroit_nn::optim::Lion::<f64>::new(0.1).update(&mut u, &[]);
}

#[test]
fn every_rule_checks_the_parameter_count() {
    use adroit_nn::optim::*;
    let rules: Vec<Box<dyn Optimizer<f64>>> = vec![
        Box::new(Descent::new(0.1)),
        Box::new(Momentum::new(0.1)),
        Box::new(Nesterov::new(0.1)),
        Box::new(RmsProp::new(0.1)),
        Box::new(Adam::new(0.1)),
        Box::new(AdamW::new(0.1)),
        Box::new(AdaGrad::new(0.1)),
        Box::new(AdaDelta::new(1.0)),
        Box::new(AmsGrad::new(0.1)),
        Box::new(NAdam::new(0.1)),
        Box::new(RAdam::new(0.1)),
        Box::new(AdaMax::new(0.1)),
        Box::new(Lion::new(0.1)),
        Box::new(WeightDecay::new(0.1)),
        Box::new(ClipValue::new(1.0)),
        Box::new(ClipNorm::new(1.0)),
        Box::new(ClipGlobalNorm::new(1.0)),
    ];
    for mut rule in rules {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let mut u = vec![dmatrix![1.0], dmatrix![2.0]];
            rule.update(&mut u, &[&dmatrix![0.0]]);
        }));
        assert!(result.is_err(), "a rule accepted 2 updates for 1 parameter");
    }
}

#[test]
fn standardizer_at_the_ends_of_the_f64_range_and_with_missing_values() {
    // σ overflowed for features of ~1e160 (all samples mapped to 0); NaN spoilt a feature.
    let x = dmatrix![1e160, 2e160, 3e160; 1e-310, 3e-310, f64::NAN];
    let s = Standardizer::fit(&x).unwrap();
    let z = s.transform(&x).unwrap();
    let sd = (2.0f64 / 3.0).sqrt();
    let expected = [-1.0 / sd, 0.0, 1.0 / sd];
    for (j, e) in expected.iter().enumerate() {
        assert!((z[(0, j)] - e).abs() < 1e-12, "{z}");
    }
    assert!(
        (z[(1, 0)] + 1.0).abs() < 1e-12 && (z[(1, 1)] - 1.0).abs() < 1e-12,
        "{z}"
    );
    assert!(z[(1, 2)].is_nan());
    // Only NaN: left as it is.
    let s = Standardizer::fit(&dmatrix![f64::NAN, f64::NAN]).unwrap();
    assert_eq!((s.mean[0], s.scale[0]), (0.0, 1.0));
    // An infinity is refused, naming where it is.
    let err = Standardizer::fit(&dmatrix![1.0, 2.0; 3.0, f64::NEG_INFINITY]).unwrap_err();
    assert!(matches!(&err, NnError::InvalidData { what } if what.contains("feature 1, sample 1")));
}

#[test]
fn stratified_split_refuses_what_scikit_learn_refuses() {
    // A class of one sample ended up in one part only (class 0 only in test, class 1 only in
    // training); scikit-learn refuses such data, and parts smaller than the class count.
    let x = DMatrix::<f64>::from_fn(1, 10, |_, j| j as f64);
    let single = [0, 1, 2, 2, 2, 2, 2, 2, 2, 2];
    let err = train_test_split(&x, &x, 0.5, 0, Some(&single)).unwrap_err();
    assert!(
        err.to_string().contains("class 0 has a single sample"),
        "{err}"
    );
    let five_classes = [0, 0, 1, 1, 2, 2, 3, 3, 4, 4];
    let err = train_test_split(&x, &x, 0.2, 0, Some(&five_classes)).unwrap_err();
    assert!(
        err.to_string().contains("cannot hold all 5 classes"),
        "{err}"
    );
    let ok = train_test_split(&x, &x, 0.5, 0, Some(&five_classes)).unwrap();
    assert_eq!((ok.x_train.ncols(), ok.x_test.ncols()), (5, 5));
}

#[test]
#[should_panic(expected = "onecold: a 0 × 2 matrix has no class to pick")]
fn onecold_of_no_classes_panics() {
    let _ = adroit_nn::data::onecold(&DMatrix::<f64>::zeros(0, 2));
}

#[test]
fn onecold_of_no_samples_is_empty() {
    assert!(adroit_nn::data::onecold(&DMatrix::<f64>::zeros(3, 0)).is_empty());
}

#[test]
fn standardizer_scale_that_rounds_to_zero_in_f32_is_one() {
    // f32 data [0, 1.4e-45]: σ = 7e-46 in f64 rounds to 0 in f32; the scale is 1 (only
    // centred), not 0 (transform gave [NaN, ∞]).
    let x = DMatrix::from_row_slice(1, 2, &[0.0_f32, 1.4e-45]);
    let s = Standardizer::fit(&x).unwrap();
    assert_eq!(s.scale[(0, 0)], 1.0);
    assert!(s.transform(&x).unwrap().iter().all(|v| v.is_finite()));
}

/// A class of zero target weight whose log-probability is −∞ takes no part in
/// `logitcrossentropy`, as in `crossentropy` (from a review: a masked logit of −∞, or logits
/// of ±3e38 in `f32`, gave a NaN loss, `0·(−∞)` in the weighted sum, where the loss is finite;
/// the gradient was already right). References: PyTorch's `cross_entropy` with class-index
/// targets, which reads only the true class (`tools/gen_logitcrossentropy_reference.py`).
#[test]
#[allow(clippy::excessive_precision)] // the generator's 17 digits
fn logitcrossentropy_of_a_class_at_minus_infinity_with_zero_weight_is_finite() {
    let close = |a: f64, b: f64, rtol: f64| (a - b).abs() <= rtol * b.abs() + 1e-300;
    // f64: a masked third class (−∞) in both samples; true classes 1 and 0.
    let inf = f64::INFINITY;
    let x = dmatrix![0.0, 0.5; 2.0, -1.0; -inf, -inf];
    let y = dmatrix![0.0, 1.0; 1.0, 0.0; 0.0, 0.0];
    let (l, g) = matrix::value_and_gradient(
        |p| logitcrossentropy(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&x),
    );
    assert!(close(l, 1.6417064451286253e-1, 1e-14), "f64 loss {l}");
    let want = [
        5.9601461011058766e-2,
        -5.9601461011058843e-2,
        0.0,
        -9.1212761903178174e-2,
        9.1212761903178161e-2,
        0.0,
    ];
    for (a, b) in g[0].iter().zip(want) {
        assert!(close(*a, b, 1e-13), "f64 gradient {a} vs {b}");
    }
    // f32: logits ±3e38 (their difference overflows to −∞) and a masked class.
    let x = dmatrix![3e38_f32, 0.5; -3e38, -1.0; 0.0, f32::NEG_INFINITY];
    let y = dmatrix![1.0_f32, 0.0; 0.0, 1.0; 0.0, 0.0];
    let (l, g) = matrix::value_and_gradient(
        |p| logitcrossentropy(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&x),
    );
    assert!(
        close(f64::from(l), 8.5070669651031494e-1, 1e-6),
        "f32 loss {l}"
    );
    let want = [
        0.0,
        0.0,
        0.0,
        4.0878722071647644e-1,
        -4.0878725051879883e-1,
        0.0,
    ];
    for (a, b) in g[0].iter().zip(want) {
        assert!(close(f64::from(*a), b, 1e-6), "f32 gradient {a} vs {b}");
    }
    // A NaN logit still gives NaN, also in a sample of zero target weight (the first).
    let (l, _) = matrix::value_and_gradient(
        |p| logitcrossentropy(p[0], &dmatrix![0.0, 1.0; 0.0, 0.0], Agg::Sum).unwrap(),
        &[dmatrix![f64::NAN, 1.0; 0.0, 0.0]],
    );
    assert!(l.is_nan(), "NaN logit gave {l}");
}

/// The pullbacks of softmax and log-softmax keep full precision at a saturated column's top
/// entry (from a review: they formed `1 − s` there, which cancels once `s` rounds to 1, so
/// the derivative of the top log-probability at logits [20, −20, 0] was 0 in `f32` instead of
/// 2.06e−9 and 3e−8 off in `f64`, and at [37, 0, 0] 30 % off in `f64`; logitcrossentropy's
/// gradient `s − y` for the true class with it). References: mpmath at 50 digits
/// (`tools/gen_softmax_top_reference.py`).
#[test]
#[allow(clippy::excessive_precision)] // the generator's 17 digits
fn softmax_pullbacks_keep_precision_at_a_saturated_top_entry() {
    use adroit_nn::losses::logitcrossentropy;
    const LOG_SOFTMAX: [f64; 6] = [
        2.0611536224385579e-9,
        -4.2483542465350780e-18,
        -2.0611536181902037e-9,
        1.7066095251488129e-16,
        -8.5330476257440646e-17,
        -8.5330476257440646e-17,
    ];
    const SOFTMAX: [f64; 6] = [
        2.0611536181902037e-9,
        -4.2483542377785679e-18,
        -2.0611536139418492e-9,
        1.7066095251488127e-16,
        -8.5330476257440633e-17,
        -8.5330476257440633e-17,
    ];
    fn check<T: adroit_nn::MatScalar + Into<f64>>(rtol: f64) {
        let t = |v: f64| T::from_f64(v).unwrap();
        let x = dmatrix![t(20.0), t(37.0); t(-20.0), t(0.0); t(0.0), t(0.0)];
        let e0 = dmatrix![t(1.0), t(1.0); t(0.0), t(0.0); t(0.0), t(0.0)];
        let agree = |got: &DMatrix<T>, want: [f64; 6], sign: f64, what: &str| {
            for (a, b) in got.iter().zip(want) {
                let (a, b) = ((*a).into(), sign * b);
                assert!((a - b).abs() <= rtol * b.abs(), "{what}: {a:e} vs {b:e}");
            }
        };
        let (_, pb) = matrix::pullback(
            |p| Activation::LogSoftmax.apply(p[0]),
            std::slice::from_ref(&x),
        );
        agree(&pb.call(&e0)[0], LOG_SOFTMAX, 1.0, "log-softmax");
        let (_, pb) = matrix::pullback(
            |p| Activation::Softmax.apply(p[0]),
            std::slice::from_ref(&x),
        );
        agree(&pb.call(&e0)[0], SOFTMAX, 1.0, "softmax");
        let g = matrix::gradient(
            |p| logitcrossentropy(p[0], &e0, Agg::Sum).unwrap(),
            std::slice::from_ref(&x),
        );
        agree(&g[0], LOG_SOFTMAX, -1.0, "logitcrossentropy");
        // Along rows of the transpose (adroit-reverse's other layout).
        let (xt, e0t) = (x.transpose(), e0.transpose());
        let (_, pb) = matrix::pullback(|p| p[0].logsoftmax(Along::Cols), std::slice::from_ref(&xt));
        agree(
            &pb.call(&e0t)[0].transpose(),
            LOG_SOFTMAX,
            1.0,
            "log-softmax, rows",
        );
        let (_, pb) = matrix::pullback(|p| p[0].softmax(Along::Cols), &[xt]);
        agree(&pb.call(&e0t)[0].transpose(), SOFTMAX, 1.0, "softmax, rows");
    }
    check::<f64>(1e-13);
    check::<f32>(1e-6);
}
