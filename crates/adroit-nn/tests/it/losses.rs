//! Losses: values against formulas computed independently on plain matrices, gradients against
//! finite differences, stability, shapes and aggregation.

use adroit_check::fd;
use adroit_nn::NnError;
use adroit_nn::losses::*;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::{DMatrix, dmatrix};

type Loss = fn(MatVar<f64>, &DMatrix<f64>) -> Result<MatVar<f64>, NnError>;

pub(crate) fn probs() -> (DMatrix<f64>, DMatrix<f64>) {
    // 3 classes × 2 samples: predicted probabilities and one-hot targets
    (
        dmatrix![0.7, 0.1; 0.2, 0.3; 0.1, 0.6],
        dmatrix![1.0, 0.0; 0.0, 0.0; 0.0, 1.0],
    )
}

fn value(loss: Loss, y_hat: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    matrix::value_and_gradient(|p| loss(p[0], y).unwrap(), std::slice::from_ref(y_hat)).0
}

#[test]
fn values_match_the_formulas() {
    let (p, y) = probs();
    let n = 2.0;
    let ln = |v: f64| (v + f64::EPSILON).ln();
    let cases: Vec<(&str, Loss, f64)> = vec![
        (
            "mse",
            |a, b| mse(a, b, Agg::Mean),
            (&p - &y).map(|v| v * v).mean(),
        ),
        ("mae", |a, b| mae(a, b, Agg::Mean), (&p - &y).abs().mean()),
        (
            "msle",
            |a, b| msle(a, b, Agg::Mean),
            p.zip_map(&y, |a, b| (ln(a) - ln(b)).powi(2)).mean(),
        ),
        (
            "crossentropy",
            |a, b| crossentropy(a, b, Agg::Mean),
            -(ln(0.7) + ln(0.6)) / n,
        ),
        (
            "crossentropy sum",
            |a, b| crossentropy(a, b, Agg::Sum),
            -(ln(0.7) + ln(0.6)),
        ),
        (
            "kldivergence",
            |a, b| kldivergence(a, b, Agg::Mean),
            -(ln(0.7) + ln(0.6)) / n,
        ),
        (
            "poisson",
            |a, b| poisson_loss(a, b, Agg::Mean),
            p.zip_map(&y, |a, b| a - if b == 0.0 { 0.0 } else { b * a.ln() })
                .mean(),
        ),
        (
            "binarycrossentropy",
            |a, b| binarycrossentropy(a, b, Agg::Mean),
            p.zip_map(&y, |a, b| {
                -b * ln(a) - (1.0 - b) * (1.0 - a + f64::EPSILON).ln()
            })
            .mean(),
        ),
        (
            "focal",
            |a, b| focal_loss(a, b, 2.0, Agg::Mean),
            (-(1.0 - 0.7_f64).powi(2) * 0.7_f64.ln() - (1.0 - 0.6_f64).powi(2) * 0.6_f64.ln()) / n,
        ),
        (
            "binary_focal",
            |a, b| binary_focal_loss(a, b, 2.0, Agg::Mean),
            p.zip_map(&y, |a, b| {
                let q = a;
                let pt = b * q + (1.0 - b) * (1.0 - q);
                -(1.0 - pt).powi(2) * pt.ln()
            })
            .mean(),
        ),
    ];
    for (name, loss, expected) in cases {
        let v = value(loss, &p, &y);
        assert!(
            (v - expected).abs() < 1e-12 * (1.0 + expected.abs()),
            "{name}: {v} vs {expected}"
        );
    }
    let logits: DMatrix<f64> = dmatrix![2.0, -1.0; 0.5, 0.0; -1.0, 3.0];
    let lse = |j: usize| logits.column(j).map(|v| v.exp()).sum().ln();
    let expected = -((2.0 - lse(0)) + (3.0 - lse(1))) / 2.0;
    assert!(
        (value(|a, b| logitcrossentropy(a, b, Agg::Mean), &logits, &y) - expected).abs() < 1e-12
    );
    let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
    let expected = logits
        .zip_map(&y, |a, b| {
            -b * sig(a).ln() - (1.0 - b) * (1.0 - sig(a)).ln()
        })
        .mean();
    assert!(
        (value(|a, b| logitbinarycrossentropy(a, b, Agg::Mean), &logits, &y) - expected).abs()
            < 1e-12
    );
    let signs: DMatrix<f64> = dmatrix![1.0, -1.0; -1.0, 1.0; 1.0, 1.0];
    let margin = logits.zip_map(&signs, |a, b| (1.0 - a * b).max(0.0));
    assert!(
        (value(|a, b| hinge_loss(a, b, Agg::Mean), &logits, &signs) - margin.mean()).abs() < 1e-12
    );
    assert!(
        (value(|a, b| squared_hinge_loss(a, b, Agg::Mean), &logits, &signs)
            - margin.map(|v| v * v).mean())
        .abs()
            < 1e-12
    );
    let e = &logits - &signs;
    let huber = e
        .map(|v| {
            if v.abs() <= 1.0 {
                0.5 * v * v
            } else {
                v.abs() - 0.5
            }
        })
        .mean();
    assert!(
        (value(|a, b| huber_loss(a, b, 1.0, Agg::Mean), &logits, &signs) - huber).abs() < 1e-12
    );
}

/// Every loss of the module, some with a second setting, for predictions and targets as
/// [`probs`] gives them (away from every loss's kinks).
pub(crate) fn every_loss() -> Vec<(&'static str, Loss)> {
    vec![
        ("mae", |a, b| mae(a, b, Agg::Mean)),
        ("squared_hinge", |a, b| squared_hinge_loss(a, b, Agg::Mean)),
        ("mse", |a, b| mse(a, b, Agg::Mean)),
        ("msle", |a, b| msle(a, b, Agg::Mean)),
        ("crossentropy", |a, b| crossentropy(a, b, Agg::Mean)),
        ("logitcrossentropy", |a, b| {
            logitcrossentropy(a, b, Agg::Mean)
        }),
        ("binarycrossentropy", |a, b| {
            binarycrossentropy(a, b, Agg::Mean)
        }),
        ("logitbinarycrossentropy", |a, b| {
            logitbinarycrossentropy(a, b, Agg::Mean)
        }),
        ("kldivergence", |a, b| kldivergence(a, b, Agg::Mean)),
        ("poisson", |a, b| poisson_loss(a, b, Agg::Mean)),
        ("focal", |a, b| focal_loss(a, b, 2.0, Agg::Mean)),
        ("binary_focal", |a, b| {
            binary_focal_loss(a, b, 2.0, Agg::Mean)
        }),
        ("huber", |a, b| huber_loss(a, b, 0.25, Agg::Sum)),
        ("hinge", |a, b| hinge_loss(a, b, Agg::Mean)),
        ("dice", |a, b| dice_coeff_loss(a, b, DICE_SMOOTH)),
        ("dice unsmoothed", |a, b| dice_coeff_loss(a, b, 0.0)),
        ("tversky", |a, b| tversky_loss(a, b, TVERSKY_BETA)),
        ("tversky β = 0.2", |a, b| tversky_loss(a, b, 0.2)),
        ("siamese", |a, b| {
            siamese_contrastive_loss(a, b, SIAMESE_MARGIN, Agg::Mean)
        }),
        ("siamese margin 0.65", |a, b| {
            siamese_contrastive_loss(a, b, 0.65, Agg::Sum)
        }),
    ]
}

#[test]
fn gradients_match_finite_differences() {
    let (p, y) = probs();
    let losses = every_loss();
    for (name, loss) in losses {
        let g = matrix::gradient(|m| loss(m[0], &y).unwrap(), std::slice::from_ref(&p));
        let numeric = fd::FiniteDifference::default()
            .with_max_range(0.01)
            .gradient(
                |v: &[f64]| value(loss, &DMatrix::from_column_slice(3, 2, v), &y),
                p.as_slice(),
            );
        for (k, (a, b)) in g[0].iter().zip(&numeric).enumerate() {
            assert!(
                (a - b).abs() < 1e-6 * (1.0 + b.abs()),
                "{name} entry {k}: {a} vs {b}"
            );
        }
    }
}

/// Dice, Tversky and the contrastive loss against their formulas written out on plain
/// matrices (Tversky's `α = 1 − β` on the false positives, `β` on the false negatives, as
/// Salehi et al.), their parameters validated, and the contrastive loss's margin kink (slope 0
/// at `ŷ = m`).
#[test]
fn overlap_and_contrastive_losses_match_their_formulas() {
    // Masks whose false positives (1.0) and false negatives (0.9) differ (for one-hot targets
    // and probability columns they are equal, and Tversky's weights could swap unnoticed).
    let p = dmatrix![0.8, 0.3, 0.4; 0.1, 0.6, 0.9];
    let y = dmatrix![1.0, 0.0, 1.0; 0.0, 0.0, 1.0];
    let dot = |a: &DMatrix<f64>, b: &DMatrix<f64>| a.component_mul(b).sum();
    let dice = 1.0 - (2.0 * dot(&y, &p) + 1.0) / (dot(&y, &y) + dot(&p, &p) + 1.0);
    assert!((value(|a, b| dice_coeff_loss(a, b, DICE_SMOOTH), &p, &y) - dice).abs() < 1e-15);
    for beta in [0.7, 0.2, 0.0, 1.0] {
        let (fp, fn_) = (dot(&y.map(|v| 1.0 - v), &p), dot(&y, &p.map(|v| 1.0 - v)));
        let tp = dot(&y, &p);
        let tversky = 1.0 - (tp + 1.0) / (tp + (1.0 - beta) * fp + beta * fn_ + 1.0);
        let loss = matrix::value_and_gradient(
            |m| tversky_loss(m[0], &y, beta).unwrap(),
            std::slice::from_ref(&p),
        )
        .0;
        assert!(
            (loss - tversky).abs() < 1e-15,
            "β = {beta}: {loss} vs {tversky}"
        );
    }
    // Distances of 6 pairs, labels 0 (similar) and 1 (dissimilar), margin 0.65.
    let (d, labels) = (p.clone(), y.map(|v| 1.0 - v));
    let contrastive = d
        .zip_map(&labels, |d, y| {
            (1.0 - y) * d * d + y * (0.65f64 - d).max(0.0).powi(2)
        })
        .mean();
    let loss = value(
        |a, b| siamese_contrastive_loss(a, b, 0.65, Agg::Mean),
        &d,
        &labels,
    );
    assert!(
        (loss - contrastive).abs() < 1e-15,
        "{loss} vs {contrastive}"
    );
    // At the margin the slope is 0 from both sides.
    let g = matrix::gradient(
        |m| siamese_contrastive_loss(m[0], &dmatrix![1.0], 0.65, Agg::Sum).unwrap(),
        &[dmatrix![0.65]],
    );
    assert_eq!(g[0][0], 0.0);
    // Parameters: a negative smoothing or margin, a β outside [0, 1], NaN.
    let refused = |r: Result<MatVar<f64>, NnError>| matches!(r, Err(NnError::InvalidConfig { .. }));
    let x = std::slice::from_ref(&p);
    matrix::value_and_gradient(
        |m| {
            assert!(refused(dice_coeff_loss(m[0], &y, -1.0)));
            assert!(refused(dice_coeff_loss(m[0], &y, f64::NAN)));
            assert!(refused(tversky_loss(m[0], &y, 1.5)));
            assert!(refused(tversky_loss(m[0], &y, f64::NAN)));
            assert!(refused(siamese_contrastive_loss(m[0], &y, -0.5, Agg::Mean)));
            assert!(refused(siamese_contrastive_loss(
                m[0],
                &y,
                f64::INFINITY,
                Agg::Mean
            )));
            let mismatch = dice_coeff_loss(m[0], &dmatrix![1.0, 0.0], 1.0);
            assert!(matches!(mismatch, Err(NnError::ShapeMismatch { .. })));
            m[0].sum()
        },
        x,
    );
}

/// Flux's own test values for its `dice_coeff_loss` and `tversky_loss` at ŷ = [1, 0.5, 0.3,
/// 2.4], y = [0, 1.4, 0.5, 1.2]: 0.28 and, with Flux's default `β = 0.7` on the false
/// positives, 0.028747433264887046 — this crate's `tversky_loss` with `β = 0.3`.
#[test]
fn overlap_losses_reproduce_flux_test_values() {
    let (y_hat, y) = (dmatrix![1.0, 0.5, 0.3, 2.4], dmatrix![0.0, 1.4, 0.5, 1.2]);
    let dice = value(|a, b| dice_coeff_loss(a, b, DICE_SMOOTH), &y_hat, &y);
    assert!((dice - 0.28).abs() < 1e-15, "{dice}");
    let tversky = value(|a, b| tversky_loss(a, b, 1.0 - TVERSKY_BETA), &y_hat, &y);
    assert!(
        (tversky - 0.028_747_433_264_887_046).abs() < 1e-15,
        "{tversky}"
    );
}

#[test]
fn zero_probability_on_the_true_class_is_finite() {
    let y: DMatrix<f64> = dmatrix![1.0; 0.0];
    let p: DMatrix<f64> = dmatrix![0.0; 1.0];
    let (v, g) = matrix::value_and_gradient(
        |m| crossentropy(m[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&p),
    );
    assert!(v.is_finite() && v > 30.0, "{v}");
    assert!(g[0].iter().all(|x: &f64| x.is_finite()));
    // xlogy(0, ·) = 0: a zero probability where the target is 0 costs nothing.
    let v = value(
        |a, b| crossentropy(a, b, Agg::Mean),
        &dmatrix![1.0; 0.0],
        &y,
    );
    assert!(v.abs() < 1e-12);
}

/// `xlogy(0, p) = 0` for every `p`, 0 included, with derivative 0, in `f32` (the vectorised
/// `ln` kernel) as in `f64`: a Poisson loss (no `ε`) with a zero count at a zero rate costs
/// `ŷ − 0·ln ŷ = 0` with slope 1; a positive count at a zero rate costs `+∞`.
#[test]
fn xlogy_of_a_zero_label_is_zero_at_a_zero_probability() {
    fn check<T: MatScalar>() {
        let y = DMatrix::from_column_slice(2, 1, &[T::zero(), T::one()]);
        let (v, g) = matrix::value_and_gradient(
            |m| poisson_loss(m[0], &y, Agg::Sum).unwrap(),
            &[DMatrix::from_column_slice(2, 1, &[T::zero(), T::one()])],
        );
        assert!(v == T::one() && g[0][0] == T::one() && g[0][1] == T::zero());
        let (v, g) = matrix::value_and_gradient(
            |m| poisson_loss(m[0], &y, Agg::Sum).unwrap(),
            &[DMatrix::from_column_slice(2, 1, &[T::one(), T::zero()])],
        );
        assert!(v == T::infinity() && g[0][0] == T::one() && g[0][1] == T::neg_infinity());
    }
    check::<f32>();
    check::<f64>();
}

/// `crossentropy` in `f32` (through the vectorised `ln` kernel) against its formula evaluated
/// in `f64` on the same `f32` terms `p + ε`: `−Σ y·ln(p + ε)/batch` and `−y/(p + ε)/batch`,
/// within a few `f32` ulps.
#[test]
fn crossentropy_in_f32_agrees_with_its_formula_in_f64() {
    let (p, y) = probs();
    let (p, y) = (p.map(|v| v as f32), y.map(|v| v as f32));
    let (v, g) = matrix::value_and_gradient(
        |m| crossentropy(m[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&p),
    );
    let batch = y.ncols() as f64;
    let terms = p.map(|v| f64::from(v + f32::EPSILON));
    let reference = -y.zip_map(&terms, |y, t| f64::from(y) * t.ln()).sum() / batch;
    assert!(
        (f64::from(v) - reference).abs() <= 4e-7 * reference.abs(),
        "{v} vs {reference}"
    );
    for (k, (a, t)) in g[0].iter().zip(terms.iter()).enumerate() {
        let b = -f64::from(y[k]) / t / batch;
        assert!((f64::from(*a) - b).abs() <= 4e-7 * b.abs(), "{a} vs {b}");
    }
}

#[test]
fn logit_losses_are_stable_with_gradient_softmax_minus_onehot() {
    let y: DMatrix<f64> = dmatrix![1.0, 0.0; 0.0, 1.0; 0.0, 0.0];
    let logits: DMatrix<f64> = dmatrix![1000.0, -1000.0; -1000.0, 1000.0; 0.0, 999.0];
    let (v, g) = matrix::value_and_gradient(
        |m| logitcrossentropy(m[0], &y, Agg::Sum).unwrap(),
        std::slice::from_ref(&logits),
    );
    assert!(v.is_finite());
    let soft = DMatrix::from_fn(3, 2, |i, j| {
        let col = logits.column(j);
        let m = col.max();
        (logits[(i, j)] - m).exp() / col.map(|t| (t - m).exp()).sum()
    });
    assert!((&g[0] - (&soft - &y)).amax() < 1e-12, "{}", g[0]);
    let (v, g) = matrix::value_and_gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&logits),
    );
    assert!(v.is_finite() && g[0].iter().all(|x: &f64| x.is_finite()));
}

/// From a user trial: binary labels as one row against a one-output model gave loss 0 and zero
/// gradients for ever (the log-softmax of one class is 0) and `train` returned `Ok`; now the
/// one-class case is refused, pointing to the binary loss.
#[test]
fn logitcrossentropy_of_one_class_is_refused() {
    let y = DMatrix::from_row_slice(1, 4, &[1.0, 0.0, 1.0, 1.0]);
    let (v, g) = matrix::value_and_gradient(
        |m: &[MatVar<f64>]| {
            let err = logitcrossentropy(m[0], &y, Agg::Mean).unwrap_err();
            assert!(
                matches!(
                    err,
                    NnError::ShapeMismatch {
                        expected: (2, 4),
                        found: (1, 4),
                        ..
                    }
                ) && err.to_string().contains("logitbinarycrossentropy"),
                "{err}"
            );
            // The binary loss on the same one-row logits trains.
            logitbinarycrossentropy(m[0], &y, Agg::Mean).unwrap()
        },
        &[DMatrix::from_row_slice(1, 4, &[0.5, -1.0, 2.0, 0.0])],
    );
    assert!(v > 0.0 && g[0].iter().all(|d| *d != 0.0));
    // No class at all (0 rows) is refused too.
    let empty = DMatrix::<f64>::zeros(0, 3);
    matrix::value_and_gradient(
        |m: &[MatVar<f64>]| {
            let err = logitcrossentropy(m[0], &empty, Agg::Mean).unwrap_err();
            assert!(
                matches!(err, NnError::ShapeMismatch { found: (0, 3), .. })
                    && err.to_string().contains("no class"),
                "{err}"
            );
            m[0].sum()
        },
        std::slice::from_ref(&empty),
    );
}

/// From a user trial: labels as one row (1 × batch) against a prediction of one row per class
/// get a hint to one-hot encode them.
#[test]
fn one_row_of_labels_against_class_rows_gets_a_one_hot_hint() {
    let err = matrix::value_and_gradient(
        |m: &[MatVar<f64>]| match logitcrossentropy(m[0], &DMatrix::zeros(1, 4), Agg::Mean) {
            Err(e) => {
                assert_eq!(
                    e.to_string(),
                    "shape mismatch in logitcrossentropy: prediction and target shapes must agree \
                     (expected: the target's, found: the prediction's); the targets have one row: \
                     for class labels 0..3, one-hot encode them (data::onehot): expected 1×4, \
                     found 3×4"
                );
                m[0].sum()
            }
            Ok(_) => panic!("no error"),
        },
        &[DMatrix::zeros(3, 4)],
    );
    assert_eq!(err.0, 0.0);
}

#[test]
fn shape_mismatch_names_both_shapes_and_label_smoothing() {
    let err = matrix::value_and_gradient(
        |m: &[MatVar<f64>]| match crossentropy(m[0], &DMatrix::zeros(2, 2), Agg::Mean) {
            Err(e) => {
                assert_eq!(
                    e.to_string(),
                    "shape mismatch in crossentropy: prediction and target shapes must agree (expected: the target's, found: the prediction's): expected 2×2, found 3×2"
                );
                m[0].sum()
            }
            Ok(_) => panic!("no error"),
        },
        &[DMatrix::zeros(3, 2)],
    );
    assert_eq!(err.0, 0.0);
    let smoothed = label_smoothing(&dmatrix![1.0, 0.0; 0.0, 1.0], 0.1).unwrap();
    assert!((smoothed - dmatrix![0.95, 0.05; 0.05, 0.95]).amax() < 1e-15);
    assert_eq!(
        binary_label_smoothing(&dmatrix![1.0, 0.0], 0.2).unwrap(),
        dmatrix![0.9, 0.1]
    );
    // Flux's bounds 0 < α < 1: 0, 1, out-of-range and NaN are configuration errors.
    for alpha in [1.5, 0.0, 1.0, -0.1, f64::NAN] {
        assert!(label_smoothing(&dmatrix![1.0], alpha).is_err(), "{alpha}");
        assert!(
            binary_label_smoothing(&dmatrix![1.0], alpha).is_err(),
            "{alpha}"
        );
    }
}

/// `logitcrossentropy` (one weighted-sum node after the log-softmax) against the same loss
/// composed from separate matrix operations, values and gradients, including saturated
/// logits. (A logit of −∞ on a class of zero weight, where the composition gives
/// `0·(−∞) = NaN`: regressions.rs.)
#[test]
fn logitcrossentropy_equals_its_composition_from_matrix_ops() {
    use adroit_reverse::matrix::Along;
    fn composed(yh: MatVar<f64>, y: &DMatrix<f64>, agg: Agg) -> MatVar<f64> {
        let total = -yh
            .logsoftmax(Along::Rows)
            .component_mul(MatVar::constant(y.clone()))
            .sum();
        match agg {
            Agg::Sum => total,
            Agg::Mean => total / y.ncols() as f64,
        }
    }
    let cases = [
        (
            dmatrix![1.0, -2.0, 0.5; 3.0, 0.1, -1.0; 0.2, 0.3, 4.0],
            dmatrix![1.0, 0.0, 0.0; 0.0, 1.0, 0.0; 0.0, 0.0, 1.0],
        ),
        (dmatrix![1000.0; -1000.0], dmatrix![1.0; 0.0]),
        (dmatrix![2.0, 1.0; -1.0, 0.5], dmatrix![0.3, 0.7; 0.7, 0.3]),
        (dmatrix![2.0; 1.0], dmatrix![0.3; 0.7]),
    ];
    let same = |a: f64, b: f64| (a - b).abs() < 1e-12 || (a.is_nan() && b.is_nan());
    for (x, y) in cases {
        for agg in [Agg::Mean, Agg::Sum] {
            let (v, g) = matrix::value_and_gradient(
                |p| logitcrossentropy(p[0], &y, agg).unwrap(),
                std::slice::from_ref(&x),
            );
            let (v_ref, g_ref) =
                matrix::value_and_gradient(|p| composed(p[0], &y, agg), std::slice::from_ref(&x));
            assert!(same(v, v_ref), "{v} vs {v_ref}");
            for (a, b) in g[0].iter().zip(g_ref[0].iter()) {
                assert!(same(*a, *b), "{a} vs {b}");
            }
        }
    }
}

#[test]
fn focal_losses_match_flux_reference_values() {
    // Flux.jl's own test values (test/losses.jl), γ = 2, mean aggregation.
    let l = value(
        |a, b| binary_focal_loss(a, b, 2.0, Agg::Mean),
        &dmatrix![0.1, 0.7, 0.9],
        &dmatrix![0.0, 1.0, 1.0],
    );
    assert!((l - 0.011402651755880793).abs() < 1e-15, "{l}");
    // Categorical: ŷ = softmax of reshape(−7:7, 3, 5) (column-major), one-hot y. Flux formed ŷ
    // in f32, hence the 1e-6 relative tolerance against its 1.1277571935622628.
    let logits = DMatrix::from_column_slice(3, 5, &(-7..=7).map(f64::from).collect::<Vec<_>>());
    let soft = DMatrix::from_fn(3, 5, |i, j| {
        let col = logits.column(j);
        col[i].exp() / col.iter().map(|v| v.exp()).sum::<f64>()
    });
    let y = dmatrix![1.0, 0.0, 0.0, 0.0, 1.0; 0.0, 1.0, 0.0, 1.0, 0.0; 0.0, 0.0, 1.0, 0.0, 0.0];
    let l = value(|a, b| focal_loss(a, b, 2.0, Agg::Mean), &soft, &y);
    assert!((l / 1.1277571935622628 - 1.0).abs() < 1e-6, "{l}");
    // γ = 0 turns both into the cross-entropies.
    let ce = value(|a, b| crossentropy(a, b, Agg::Mean), &soft, &y);
    assert!((value(|a, b| focal_loss(a, b, 0.0, Agg::Mean), &soft, &y) - ce).abs() < 1e-12);
    let (p, t) = (dmatrix![0.1, 0.7, 0.9], dmatrix![0.0, 1.0, 1.0]);
    let bce = value(|a, b| binarycrossentropy(a, b, Agg::Mean), &p, &t);
    let bfl0 = value(|a, b| binary_focal_loss(a, b, 0.0, Agg::Mean), &p, &t);
    assert!((bfl0 - bce).abs() < 1e-12, "{bfl0} vs {bce}");
}

/// With soft targets the focal weight is that of the prediction alone, `(1 − ŷ)^γ` (Flux's
/// `@. -y * (1 - ŷ)^γ * log(ŷ)`), not `(1 − y·ŷ)^γ`: against the closed form
/// `∂/∂ŷᵢ = yᵢ·(γ·(1 − ŷᵢ)^(γ−1)·ln ŷᵢ − (1 − ŷᵢ)^γ/ŷᵢ)`.
#[test]
fn focal_loss_with_soft_targets_weights_by_the_prediction() {
    let (y, y_hat) = (dmatrix![0.9; 0.1], dmatrix![0.5; 0.5]);
    let (l, g) = matrix::value_and_gradient(
        |p| focal_loss(p[0], &y, 2.0, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    // −(0.9 + 0.1)·0.5²·ln 0.5
    assert!((l - 0.25 * 2f64.ln()).abs() < 1e-15, "{l}");
    for i in 0..2 {
        let (t, p) = (y[i], y_hat[i]);
        let expected = t * (2.0 * (1.0 - p) * p.ln() - (1.0 - p).powi(2) / p);
        assert!(
            (g[0][i] - expected).abs() < 1e-14,
            "{} vs {expected}",
            g[0][i]
        );
    }
    // A label-smoothed target at a saturated prediction: no push past 1.
    let (l, g) = matrix::value_and_gradient(
        |p| focal_loss(p[0], &dmatrix![0.9; 0.1], 2.0, Agg::Mean).unwrap(),
        &[dmatrix![1.0_f64; 0.0]],
    );
    assert!(l.is_finite());
    assert!(g[0][0].abs() < 1e-30, "{}", g[0][0]);
}

#[test]
fn focal_losses_push_a_zero_probability_on_the_true_class_up() {
    // p = 0 on the true class: finite loss and a negative (increase-p) gradient on it, in f32
    // and f64; the wrong class at p = 1 of the binary loss likewise.
    fn check<T: MatScalar + std::fmt::Display>() {
        let c = |v: f64| T::from_f64(v).unwrap();
        let (l, g) = matrix::value_and_gradient(
            |m| {
                focal_loss(
                    m[0],
                    &DMatrix::from_column_slice(2, 1, &[c(1.0), c(0.0)]),
                    2.0,
                    Agg::Mean,
                )
                .unwrap()
            },
            &[DMatrix::from_column_slice(2, 1, &[c(0.0), c(1.0)])],
        );
        assert!(l.is_finite() && g[0][(0, 0)] < T::zero(), "{l} {}", g[0]);
        let (l, g) = matrix::value_and_gradient(
            |m| {
                binary_focal_loss(
                    m[0],
                    &DMatrix::from_row_slice(1, 2, &[c(1.0), c(0.0)]),
                    1.5,
                    Agg::Mean,
                )
                .unwrap()
            },
            &[DMatrix::from_row_slice(1, 2, &[c(0.0), c(1.0)])],
        );
        assert!(l.is_finite(), "{l}");
        assert!(
            g[0][(0, 0)] < T::zero() && g[0][(0, 1)] > T::zero(),
            "{}",
            g[0]
        );
    }
    check::<f32>();
    check::<f64>();
}

#[test]
fn focal_losses_have_a_finite_zero_slope_at_saturated_right_predictions() {
    // Regression: the weight max(1 − pₜ, 0)^γ took max's ½ tie slope at pₜ = 1, and with γ < 1
    // the power's infinite slope at 0 made the gradient ±∞ (the true derivative of
    // −(1 − p)^γ·ln p at p = 1 is 0), so training stopped once a sigmoid saturated.
    fn check<T: MatScalar + std::fmt::Display>() {
        let c = |v: f64| T::from_f64(v).unwrap();
        for gamma in [0.5, 1.0, 2.0] {
            let (l, g) = matrix::value_and_gradient(
                |m| {
                    binary_focal_loss(
                        m[0],
                        &DMatrix::from_row_slice(1, 2, &[c(1.0), c(0.0)]),
                        gamma,
                        Agg::Mean,
                    )
                    .unwrap()
                },
                &[DMatrix::from_row_slice(1, 2, &[c(1.0), c(0.0)])],
            );
            assert!(
                l.is_finite() && num_traits::Float::abs(l) <= c(1e-6),
                "γ = {gamma}: {l}"
            );
            assert!(
                g[0].iter()
                    .all(|&v| v.is_finite() && num_traits::Float::abs(v) <= c(1e-6)),
                "γ = {gamma}: {}",
                g[0]
            );
            let (l, g) = matrix::value_and_gradient(
                |m| {
                    focal_loss(
                        m[0],
                        &DMatrix::from_column_slice(2, 1, &[c(1.0), c(0.0)]),
                        gamma,
                        Agg::Mean,
                    )
                    .unwrap()
                },
                &[DMatrix::from_column_slice(2, 1, &[c(1.0), c(0.0)])],
            );
            assert!(l.is_finite(), "γ = {gamma}: {l}");
            assert!(g[0].iter().all(|v| v.is_finite()), "γ = {gamma}: {}", g[0]);
        }
    }
    check::<f32>();
    check::<f64>();
}

/// `matrix::detect_anomaly` names the caller's line of a loss or an activation (they pass
/// their caller's location on), not a line inside this crate (from a review).
#[test]
fn detect_anomaly_names_the_line_of_a_loss() {
    use adroit_nn::adroit_reverse::matrix::{self, detect_anomaly};
    use adroit_nn::losses::Agg;
    use adroit_nn::{Activation, MatVar};
    use nalgebra::DMatrix;
    let y = DMatrix::from_element(1, 2, 1.0);
    let line = line!() + 2;
    let f = |p: &[MatVar<f64>]| {
        msle(p[0] * 2.0 - 3.0, &y, Agg::Mean).unwrap() + Activation::Softplus.apply(p[0]).sum()
    };
    let found = std::panic::catch_unwind(|| {
        detect_anomaly(|| matrix::gradient(f, &[DMatrix::from_element(1, 2, 0.5)]))
    });
    let message = *found.unwrap_err().downcast::<String>().unwrap();
    assert!(message.contains(&format!("losses.rs:{line}:")), "{message}");
}

#[test]
fn msle_of_a_prediction_equal_to_its_target_is_exactly_zero_in_f32() {
    // 4,096 targets over eight decades. The target's logarithm was the C library's `lnf` and
    // the prediction's the vectorised kernel's: they differed by an ulp at some entries, and
    // a perfect prediction cost a little (a subagent's f32 hunt). Both are the kernel's now.
    let y = DMatrix::from_fn(64, 64, |i, j| {
        10f32.powf(-4.0 + 8.0 * (i * 64 + j) as f32 / 4096.0)
    });
    let (l, g) = matrix::value_and_gradient(
        |p| msle(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y),
    );
    assert_eq!(l, 0.0);
    assert!(g[0].iter().all(|&v| v == 0.0), "{}", g[0].amax());
}

/// Huber's documented boundary: at |e| = δ the second derivative is the quadratic piece's, 1
/// (the gradient e is the same from both sides); inside 1, outside 0.
#[test]
fn huber_at_its_boundary_follows_the_quadratic_piece() {
    // δ = 1; errors −1, 1 (the boundary), 0.5 (inside) and 2 (outside), target 0.
    let e = dmatrix![-1.0, 1.0, 0.5, 2.0];
    let v = DMatrix::from_element(1, 4, 1.0);
    let (l, g, hv) = matrix::value_gradient_and_hvp(
        |p| huber_loss(p[0], &DMatrix::zeros(1, 4), 1.0, Agg::Sum).unwrap(),
        &[e],
        &[v],
    );
    assert_eq!(l, 0.5 + 0.5 + 0.125 + 1.5);
    assert_eq!(g[0], dmatrix![-1.0, 1.0, 0.5, 1.0]);
    assert_eq!(hv[0], dmatrix![1.0, 1.0, 1.0, 0.0]);
}

/// `logitcrossentropy` at a `+∞` logit is NaN, as its docs say (and as JAX's and PyTorch's):
/// the loss, and the gradient at that logit, whether it is the true class's or another's;
/// `logitbinarycrossentropy` takes it to its limit.
#[test]
fn a_plus_infinite_logit_gives_nan_in_logitcrossentropy() {
    let y = dmatrix![1.0; 0.0];
    for logits in [dmatrix![0.0; f64::INFINITY], dmatrix![f64::INFINITY; 0.0]] {
        let (l, g) = matrix::value_and_gradient(
            |m| logitcrossentropy(m[0], &y, Agg::Mean).unwrap(),
            std::slice::from_ref(&logits),
        );
        let at = if logits[0].is_infinite() { 0 } else { 1 };
        assert!(l.is_nan() && g[0][at].is_nan(), "{logits}: {l}, {}", g[0]);
        assert!(g[0][1 - at].is_finite(), "{}", g[0]);
    }
    let binary = value(
        |a, b| logitbinarycrossentropy(a, b, Agg::Mean),
        &dmatrix![f64::INFINITY],
        &dmatrix![1.0],
    );
    assert_eq!(binary, 0.0);
}
