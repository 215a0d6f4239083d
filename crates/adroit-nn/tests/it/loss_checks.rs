//! More losses: `mae` (away from its kink) and `squared_hinge_loss` against their formulas and
//! finite differences; `kldivergence` with soft (non-one-hot) targets against
//! `Σ y·ln(y/ŷ)` per sample and finite differences; `logitbinarycrossentropy` at logits of
//! ±1000 against the closed-form gradient `(σ(ŷ) − y)/N`; `binarycrossentropy` against its
//! formula entry by entry, boundaries and zero-weight terms included.

use adroit_check::fd;
use adroit_nn::NnError;
use adroit_nn::losses::*;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

type Loss = fn(MatVar<f64>, &DMatrix<f64>) -> Result<MatVar<f64>, NnError>;

fn value(loss: Loss, y_hat: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    matrix::value_and_gradient(|p| loss(p[0], y).unwrap(), std::slice::from_ref(y_hat)).0
}

/// The analytic gradient of `loss` at `y_hat` and its value, against `expected` (the formula)
/// and against central finite differences of the loss value (steps capped at `range`).
fn check(
    name: &str,
    loss: Loss,
    y_hat: &DMatrix<f64>,
    y: &DMatrix<f64>,
    expected: f64,
    range: f64,
) {
    let (v, g) =
        matrix::value_and_gradient(|p| loss(p[0], y).unwrap(), std::slice::from_ref(y_hat));
    assert!(
        (v - expected).abs() < 1e-12 * (1.0 + expected.abs()),
        "{name}: value {v} vs formula {expected}"
    );
    let (r, c) = y_hat.shape();
    let numeric = fd::FiniteDifference::default()
        .with_max_range(range)
        .gradient(
            |p: &[f64]| value(loss, &DMatrix::from_column_slice(r, c, p), y),
            y_hat.as_slice(),
        );
    for (k, (a, b)) in g[0].iter().zip(&numeric).enumerate() {
        assert!(
            (a - b).abs() < 1e-7 * (1.0 + b.abs()),
            "{name} entry {k}: {a} vs finite difference {b}"
        );
    }
}

#[test]
fn mae_away_from_the_kink_matches_formula_and_finite_differences() {
    // Every |ŷ − y| ≥ 0.15, the finite-difference steps stay below 0.01: no kink in reach.
    let y_hat: DMatrix<f64> = dmatrix![0.7, -1.2, 2.0; 0.3, 0.5, -0.4];
    let y: DMatrix<f64> = dmatrix![0.2, -1.0, 1.5; 0.9, 0.0, 0.1];
    assert!((&y_hat - &y).iter().all(|d| d.abs() >= 0.15));
    let l1 = (&y_hat - &y).abs();
    check(
        "mae mean",
        |a, b| mae(a, b, Agg::Mean),
        &y_hat,
        &y,
        l1.mean(),
        0.01,
    );
    check(
        "mae sum",
        |a, b| mae(a, b, Agg::Sum),
        &y_hat,
        &y,
        l1.sum(),
        0.01,
    );
    // And the closed form: sign(ŷ − y)/N.
    let g = matrix::gradient(
        |p| mae(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = (&y_hat - &y).map(|d| d.signum() / 6.0);
    assert!((&g[0] - &expected).amax() < 1e-15, "{} vs {expected}", g[0]);
}

#[test]
fn squared_hinge_matches_formula_and_finite_differences() {
    // Targets ±1; margins 1 − ŷ·y at least 0.2 away from the kink at 0, both active (> 0)
    // and inactive (< 0) entries.
    let y_hat: DMatrix<f64> = dmatrix![0.3, -2.0, 1.5; -0.4, 0.6, -1.7];
    let y: DMatrix<f64> = dmatrix![1.0, -1.0, -1.0; 1.0, 1.0, -1.0];
    let margin = y_hat.zip_map(&y, |a, b| 1.0 - a * b);
    assert!(margin.iter().all(|m| m.abs() >= 0.2));
    assert!(margin.iter().any(|&m| m > 0.0) && margin.iter().any(|&m| m < 0.0));
    let sq = margin.map(|m| m.max(0.0).powi(2));
    check(
        "squared_hinge mean",
        |a, b| squared_hinge_loss(a, b, Agg::Mean),
        &y_hat,
        &y,
        sq.mean(),
        0.01,
    );
    check(
        "squared_hinge sum",
        |a, b| squared_hinge_loss(a, b, Agg::Sum),
        &y_hat,
        &y,
        sq.sum(),
        0.01,
    );
    // Closed form: −2·max(1 − ŷy, 0)·y/N.
    let g = matrix::gradient(
        |p| squared_hinge_loss(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = margin.zip_map(&y, |m, t| -2.0 * m.max(0.0) * t / 6.0);
    assert!((&g[0] - &expected).amax() < 1e-15, "{} vs {expected}", g[0]);
}

/// A NaN prediction makes the margin losses NaN (Flux's `max(0, 1 − ŷ·y)` and JAX's
/// `maximum` propagate it) instead of hiding it as a zero loss with a zero gradient.
#[test]
fn margin_losses_propagate_nan() {
    let y: DMatrix<f64> = dmatrix![1.0, -1.0];
    let y_hat: DMatrix<f64> = dmatrix![f64::NAN, 0.5];
    for (name, loss) in [
        ("hinge", (|a, b| hinge_loss(a, b, Agg::Sum)) as Loss),
        ("squared_hinge", |a, b| squared_hinge_loss(a, b, Agg::Sum)),
    ] {
        assert!(value(loss, &y_hat, &y).is_nan(), "{name}");
    }
}

#[test]
fn kldivergence_with_soft_targets() {
    // 3 classes × 3 samples: soft targets (one with a zero entry, 0·ln 0 = 0) and predictions,
    // every column a distribution.
    let y: DMatrix<f64> = dmatrix![0.2, 0.6, 1.0 / 3.0; 0.5, 0.4, 1.0 / 3.0; 0.3, 0.0, 1.0 / 3.0];
    let y_hat: DMatrix<f64> = dmatrix![0.1, 0.5, 0.2; 0.6, 0.3, 0.3; 0.3, 0.2, 0.5];
    for j in 0..3 {
        assert!((y.column(j).sum() - 1.0).abs() < 1e-15);
        assert!((y_hat.column(j).sum() - 1.0).abs() < 1e-15);
    }
    let per_sample: Vec<f64> = (0..3)
        .map(|j| {
            (0..3)
                .filter(|&i| y[(i, j)] > 0.0)
                .map(|i| y[(i, j)] * (y[(i, j)] / y_hat[(i, j)]).ln())
                .sum()
        })
        .collect();
    assert!(per_sample.iter().all(|&kl| kl > 0.0), "{per_sample:?}");
    let total: f64 = per_sample.iter().sum();
    // The loss offsets ŷ by machine ε inside the logarithm: a change of order y·ε/ŷ ≈ 1e-15.
    check(
        "kldivergence mean",
        |a, b| kldivergence(a, b, Agg::Mean),
        &y_hat,
        &y,
        total / 3.0,
        0.01,
    );
    check(
        "kldivergence sum",
        |a, b| kldivergence(a, b, Agg::Sum),
        &y_hat,
        &y,
        total,
        0.01,
    );
    // Closed form of the gradient: −y/ŷ/N (0 where y = 0).
    let g = matrix::gradient(
        |p| kldivergence(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    );
    let expected = y.zip_map(&y_hat, |t, p| -t / p / 3.0);
    assert!((&g[0] - &expected).amax() < 1e-12, "{} vs {expected}", g[0]);
    // KL(y ‖ y) = 0.
    let zero = value(|a, b| kldivergence(a, b, Agg::Mean), &y, &y);
    assert!(zero.abs() < 1e-14, "{zero}");
}

/// From a subagent's f32 hunt: the divergence was the difference of two sums, the
/// cross-entropy (summed in `f64`, rounded to `f32`) and the entropy (summed in `f32`), large
/// beside it: a 10 × 4096 batch of predictions near their targets gave `−8.06e-5` for
/// `3.15e-5`. Formed entry by entry as `y·ln(y/(ŷ + ε))` it keeps its digits: within 1e-4
/// relative of the same formula in `f64` on the same `f32` inputs.
#[test]
fn kldivergence_in_f32_of_predictions_near_their_targets() {
    let (classes, batch) = (10, 4096);
    let raw =
        |i: usize, j: usize, shift: f64| 1.0 + 0.5 * ((i * 7 + j * 13) as f64 * 0.37 + shift).sin();
    let normalised = |shift: f64| {
        let m = DMatrix::from_fn(classes, batch, |i, j| raw(i, j, shift));
        let sums = m.row_sum();
        DMatrix::from_fn(classes, batch, |i, j| (m[(i, j)] / sums[j]) as f32)
    };
    let (y, y_hat) = (normalised(0.0), normalised(0.05));
    let eps = f64::from(f32::EPSILON);
    let want: f64 = y
        .iter()
        .zip(y_hat.iter())
        .map(|(&t, &p)| {
            let (t, p) = (f64::from(t), f64::from(p));
            if t == 0.0 {
                0.0
            } else {
                t * (t / (p + eps)).ln()
            }
        })
        .sum::<f64>()
        / batch as f64;
    assert!(want > 0.0 && want < 1e-3, "{want}");
    let got = matrix::value_and_gradient(
        |p| kldivergence(p[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&y_hat),
    )
    .0;
    assert!(
        (f64::from(got) / want - 1.0).abs() < 1e-4,
        "{got} for {want}"
    );
}

#[test]
fn logitbinarycrossentropy_gradient_at_1000_is_sigmoid_minus_target() {
    // Logits ±1000 with targets 0, 1 and soft 0.3: every combination of saturation.
    let logits: DMatrix<f64> = dmatrix![1000.0, -1000.0, 1000.0; -1000.0, 1000.0, -1000.0];
    let y: DMatrix<f64> = dmatrix![1.0, 0.0, 0.3; 1.0, 0.0, 0.3];
    let sigma = |v: f64| if v > 0.0 { 1.0 } else { 0.0 }; // σ(±1000) in f64
    let n = y.len() as f64;
    let (v, g) = matrix::value_and_gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Mean).unwrap(),
        std::slice::from_ref(&logits),
    );
    let expected = logits.zip_map(&y, |a, t| (sigma(a) - t) / n);
    assert!(
        (&g[0] - &expected).amax() <= 1e-12,
        "{} vs (σ(ŷ) − y)/N = {expected}",
        g[0]
    );
    // The value: −y·lnσ(ŷ) − (1 − y)·ln(1 − σ(ŷ)) with lnσ(1000) = 0, lnσ(−1000) = −1000.
    let log_sigma = |a: f64| if a > 0.0 { 0.0 } else { a };
    let per_entry = logits.zip_map(&y, |a, t| -t * log_sigma(a) - (1.0 - t) * log_sigma(-a));
    assert!(
        (v - per_entry.mean()).abs() < 1e-12 * per_entry.mean(),
        "{v} vs {}",
        per_entry.mean()
    );
    // The same gradient in f32, and with the sum (no 1/N).
    let g32 = matrix::gradient(
        |m| logitbinarycrossentropy(m[0], &y.map(|t| t as f32), Agg::Sum).unwrap(),
        &[logits.map(|a| a as f32)],
    );
    let expected32 = logits.zip_map(&y, |a, t| (sigma(a) - t) as f32);
    assert!(
        (&g32[0] - &expected32).amax() <= 1e-6,
        "{} vs {expected32}",
        g32[0]
    );
}

#[test]
fn logitbinarycrossentropy_of_infinite_logits_on_their_labels_side_is_zero() {
    // +∞ with label 1 and −∞ with label 0 are certain and right: loss 0, gradient 0 (Flux's
    // and PyTorch's 0·∞ give NaN). On the wrong side the loss is +∞; a soft label makes both
    // terms count, so an infinite logit costs +∞ too; a NaN logit stays NaN.
    let inf = f64::INFINITY;
    let y: DMatrix<f64> = dmatrix![1.0, 0.0];
    let (v, g) = matrix::value_and_gradient(
        |m| logitbinarycrossentropy(m[0], &y, Agg::Sum).unwrap(),
        &[dmatrix![inf, -inf]],
    );
    assert_eq!((v, g[0].clone()), (0.0, dmatrix![0.0, 0.0]));
    // with an ordinary entry beside them, the loss is that entry's
    let y3: DMatrix<f64> = dmatrix![1.0, 0.0, 1.0];
    let v3 = value(
        |a, b| logitbinarycrossentropy(a, b, Agg::Mean),
        &dmatrix![inf, -inf, 0.0],
        &y3,
    );
    assert!((v3 - 2f64.ln() / 3.0).abs() < 1e-15, "{v3}");
    for (logit, label) in [(-inf, 1.0), (inf, 0.0), (inf, 0.3)] {
        let wrong = value(
            |a, b| logitbinarycrossentropy(a, b, Agg::Sum),
            &dmatrix![logit],
            &dmatrix![label],
        );
        assert_eq!(wrong, inf, "logit {logit}, label {label}");
    }
    let nan = value(
        |a, b| logitbinarycrossentropy(a, b, Agg::Sum),
        &dmatrix![f64::NAN, inf],
        &dmatrix![1.0, 1.0],
    );
    assert!(nan.is_nan());
}

/// `binarycrossentropy` (one element-wise node over slices, in blocks of 256) against its
/// formula evaluated here in `f64` entry by entry: the value
/// `−Σ y·ln(ŷ + ε) + (1 − y)·ln(1 − ŷ + ε)` and the gradient
/// `−(y/(ŷ + ε) − (1 − y)/(1 − ŷ + ε))`, a term of zero weight taking no part
/// (`xlogy(0, ·) = 0`). 1,300 entries (five blocks and a part) of hard and soft labels, with the
/// boundaries: `ŷ = 0` and `ŷ = 1` on either label (finite, `ln ε`), and `ŷ = 1.5` with
/// `y = 1`, whose zero-weight term's logarithm is NaN and still takes no part. In `f64` to
/// 1e-14 relative; in `f32` to 1e-6 (the logarithms' kernel is within 2 ulp), each gradient
/// entry relative to its larger term.
#[test]
fn binarycrossentropy_against_its_formula_entry_by_entry() {
    use adroit_reverse::matrix::MatScalar;
    use num_traits::Float;

    fn run<T: MatScalar + Float>(tol: f64) {
        let to = |v: f64| T::from(v).unwrap();
        let back = |v: T| v.to_f64().unwrap();
        let mut cases: Vec<(f64, f64)> = (0..1292)
            .map(|i| {
                let p = (0.5 + 0.499 * ((i as f64) * 0.377).sin()).clamp(0.0, 1.0);
                let y = [0.0, 1.0, 0.3, 1.0, 0.0][i % 5];
                (p, y)
            })
            .collect();
        cases.extend([(0.0, 1.0), (0.0, 0.0), (1.0, 1.0), (1.0, 0.0), (1.5, 1.0)]);
        cases.extend([(1e-9, 1.0), (1.0 - 1e-7, 0.0), (0.5, 0.5)]);
        let n = cases.len();
        let y_hat: DMatrix<T> = DMatrix::from_iterator(n, 1, cases.iter().map(|c| to(c.0)));
        let y: DMatrix<T> = DMatrix::from_iterator(n, 1, cases.iter().map(|c| to(c.1)));
        let (v, g) = matrix::value_and_gradient(
            |m| binarycrossentropy(m[0], &y, Agg::Sum).unwrap(),
            std::slice::from_ref(&y_hat),
        );
        let eps = back(T::epsilon());
        let (mut total, mut magnitude) = (0.0, 0.0);
        for k in 0..n {
            let (p, w1) = (back(y_hat[k]), back(y[k]));
            let w0 = 1.0 - w1;
            let (a, b) = (p + eps, (1.0 + eps) - p);
            let (t1, g1) = if w1 == 0.0 {
                (0.0, 0.0)
            } else {
                (w1 * a.ln(), w1 / a)
            };
            let (t0, g0) = if w0 == 0.0 {
                (0.0, 0.0)
            } else {
                (w0 * b.ln(), w0 / b)
            };
            total -= t1 + t0;
            magnitude += t1.abs() + t0.abs();
            let (got, want) = (back(g[0][k]), -(g1 - g0));
            assert!(
                got.is_finite() && (got - want).abs() <= tol * g1.abs().max(g0.abs()),
                "ŷ = {p}, y = {w1}: gradient {got} against {want}"
            );
        }
        let v = back(v);
        assert!(
            v.is_finite() && (v - total).abs() <= tol * magnitude,
            "loss {v} against {total}"
        );
    }
    run::<f64>(1e-14);
    run::<f32>(1e-6);
}

/// `w·l`, 0 where `w = 0` and `l` is not NaN: the zero-weight convention, for the reference
/// below.
#[derive(Clone, Copy)]
struct ZeroWeight;

impl adroit_forward::rules::BinaryRule for ZeroWeight {
    fn eval<S: num_traits::Float>(self, w: S, l: S) -> (S, S, S) {
        if w == S::zero() && !l.is_nan() {
            (S::zero(), S::zero(), S::zero())
        } else {
            (w * l, l, w)
        }
    }
}

/// `logitbinarycrossentropy` (one element-wise node over slices) against the same loss
/// composed of whole-matrix nodes — `Σ (1 − y) ⊙ softplus(ŷ) + Σ (−y) ⊙ ln σ(ŷ)`, each
/// product with the zero-weight convention — in `f64` and `f32`: over 1,300 entries of hard and
/// soft labels (five blocks of 256 and a part) the gradient bit for bit (summed: a mean's `1/n`
/// is applied at another place and may round the last bit otherwise) and the loss to 1e-15
/// (`f64`) and 1e-7 (`f32`) of its terms' magnitude; and entry by entry at the special logits
/// (±0, ±20, ±1000, ±∞, NaN) on each label, the value too (NaN where the reference's is).
#[test]
fn logitbinarycrossentropy_against_the_composed_nodes() {
    use adroit_reverse::matrix::MatScalar;
    use num_traits::Float;

    fn reference<T: MatScalar + Float>(l: MatVar<T>, y: &DMatrix<T>) -> MatVar<T> {
        let w0 = MatVar::constant(y.map(|v| T::one() - v));
        let w1 = MatVar::constant(y.map(|v| -v));
        w0.zip_rule(l.softplus(), ZeroWeight).sum() + w1.zip_rule(l.log_sigmoid(), ZeroWeight).sum()
    }

    fn run<T: MatScalar + Float>(tol: f64) {
        let to = |v: f64| T::from(v).unwrap();
        let back = |v: T| v.to_f64().unwrap();
        let same = |a: T, b: T| {
            a.to_f64().unwrap().to_bits() == b.to_f64().unwrap().to_bits()
                || (a.is_nan() && b.is_nan())
        };
        let both = |logits: &DMatrix<T>, y: &DMatrix<T>| {
            let ours = matrix::value_and_gradient(
                |m| logitbinarycrossentropy(m[0], y, Agg::Sum).unwrap(),
                std::slice::from_ref(logits),
            );
            let theirs =
                matrix::value_and_gradient(|m| reference(m[0], y), std::slice::from_ref(logits));
            (ours, theirs)
        };
        let labels = [0.0, 1.0, 0.3, 0.5, 1.0];
        let n = 1300;
        let logits = DMatrix::from_fn(n, 1, |i, _| to(12.0 * ((i as f64) * 0.377).sin()));
        let y = DMatrix::from_fn(n, 1, |i, _| to(labels[i % 5]));
        let ((v, g), (v_ref, g_ref)) = both(&logits, &y);
        let magnitude: f64 = (0..n)
            .map(|i| {
                let (l, w) = (back(logits[i]), back(y[i]));
                (1.0 - w).abs() * l.max(0.0) + w.abs() * (-l).max(0.0) + 1.0
            })
            .sum();
        assert!(
            (back(v) - back(v_ref)).abs() <= tol * magnitude,
            "{} against {}",
            back(v),
            back(v_ref)
        );
        for i in 0..n {
            assert!(
                same(g[0][i], g_ref[0][i]),
                "ŷ = {}: {} against {}",
                back(logits[i]),
                back(g[0][i]),
                back(g_ref[0][i])
            );
        }
        let specials = [
            0.0,
            -0.0,
            20.0,
            -20.0,
            1000.0,
            -1000.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for &l in &specials {
            for w in [0.0, 1.0, 0.25] {
                let (logit, label) = (
                    DMatrix::from_element(1, 1, to(l)),
                    DMatrix::from_element(1, 1, to(w)),
                );
                let ((v, g), (v_ref, g_ref)) = both(&logit, &label);
                assert!(
                    same(v, v_ref) && same(g[0][0], g_ref[0][0]),
                    "ŷ = {l}, y = {w}: {} and {} against {} and {}",
                    back(v),
                    back(g[0][0]),
                    back(v_ref),
                    back(g_ref[0][0])
                );
            }
        }
    }
    run::<f64>(1e-15);
    run::<f32>(1e-7);
}
