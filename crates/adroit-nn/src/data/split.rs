//! [`train_test_split`], optionally stratified.

use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use std::collections::BTreeMap;

/// The two parts of a dataset (`features × samples`, targets likewise).
///
/// # Example
/// ```
/// use adroit_nn::data::train_test_split;
/// use adroit_nn::nalgebra::DMatrix;
/// let x = DMatrix::<f64>::from_fn(2, 10, |i, j| (10 * i + j) as f64); // 2 features × 10 samples
/// let y = DMatrix::<f64>::from_fn(1, 10, |_, j| j as f64); // target j for sample j
/// let split = train_test_split(&x, &y, 0.2, 0, None).unwrap();
/// // round(0.2·10) = 2 test samples and 8 training samples; the rows are unchanged.
/// assert_eq!((split.x_train.shape(), split.y_train.shape()), ((2, 8), (1, 8)));
/// assert_eq!((split.x_test.shape(), split.y_test.shape()), ((2, 2), (1, 2)));
/// // Each sample lands in one part, with its target.
/// let mut all: Vec<f64> = split.y_train.iter().chain(split.y_test.iter()).copied().collect();
/// all.sort_by(f64::total_cmp);
/// assert_eq!(all, (0..10).map(f64::from).collect::<Vec<_>>());
/// assert_eq!(split.x_test.row(0), split.y_test.row(0));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Split<T> {
    /// Training inputs.
    pub x_train: DMatrix<T>,
    /// Training targets.
    pub y_train: DMatrix<T>,
    /// Test inputs.
    pub x_test: DMatrix<T>,
    /// Test targets.
    pub y_test: DMatrix<T>,
}

/// Splits the samples (columns) at random (seeded) into a training part and a test part with
/// `round(test_fraction · n)` samples (scikit-learn's `train_test_split` takes
/// `ceil(test_fraction · n)`: 4 of 11 at 0.3 where this takes 3). With `stratify =
/// Some(labels)` (one class label per sample), each class contributes to that total in
/// proportion to its size (the rounding spread by largest remainder), as scikit-learn's
/// `train_test_split(stratify=…)` spreads its total, and keeps at least one sample in each
/// part (where scikit-learn's rounding may leave a small class out of one: a rounding unit
/// then moves from the class that best affords it).
///
/// # Errors
/// [`NnError::InvalidConfig`] unless `0 < test_fraction < 1`, and, when stratified, if a class
/// has a single sample or a part would have fewer samples than there are classes (the two
/// refusals of scikit-learn's stratified split); [`NnError::ShapeMismatch`] if `x`, `y` and
/// the labels disagree in sample count; [`NnError::EmptyData`] if there are no samples, or
/// either part of an unstratified split would be empty (a stratified one of some samples is
/// refused as too small first).
///
/// # Example
/// ```
/// use adroit_nn::data::train_test_split;
/// use adroit_nn::nalgebra::DMatrix;
/// let x = DMatrix::<f64>::from_fn(1, 10, |_, j| j as f64);
/// let labels = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1];
/// let s = train_test_split(&x, &x, 0.4, 1, Some(&labels)).unwrap();
/// assert_eq!((s.x_train.ncols(), s.x_test.ncols()), (6, 4));
/// assert_eq!(s.x_test.iter().filter(|&&v| v < 5.0).count(), 2); // 2 of each class
/// ```
pub fn train_test_split<T: MatScalar>(
    x: &DMatrix<T>,
    y: &DMatrix<T>,
    test_fraction: f64,
    seed: u64,
    stratify: Option<&[usize]>,
) -> Result<Split<T>, NnError> {
    if !(test_fraction > 0.0 && test_fraction < 1.0) {
        return Err(NnError::InvalidConfig {
            name: "test fraction",
            reason: format!("{test_fraction} is not in (0, 1)"),
        });
    }
    let n = x.ncols();
    if y.ncols() != n {
        return Err(NnError::ShapeMismatch {
            what: "train_test_split: samples of x vs y".into(),
            expected: (y.nrows(), n),
            found: y.shape(),
        });
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let groups: Vec<Vec<usize>> = match stratify {
        None => vec![(0..n).collect()],
        Some(labels) => {
            if labels.len() != n {
                return Err(NnError::ShapeMismatch {
                    what: "train_test_split: labels vs samples".into(),
                    expected: (1, n),
                    found: (1, labels.len()),
                });
            }
            let mut by_class: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
            for (i, &c) in labels.iter().enumerate() {
                by_class.entry(c).or_default().push(i);
            }
            if let Some((c, _)) = by_class.iter().find(|(_, members)| members.len() < 2) {
                return Err(NnError::InvalidConfig {
                    name: "stratify",
                    reason: format!(
                        "class {c} has a single sample; stratifying needs at least 2 per class"
                    ),
                });
            }
            let classes = by_class.len();
            let test = (test_fraction * n as f64).round() as usize;
            let smaller = test.min(n - test.min(n));
            if smaller < classes {
                return Err(NnError::InvalidConfig {
                    name: "stratify",
                    reason: format!(
                        "a part of {smaller} samples cannot hold all {classes} classes \
                         ({test} test and {} training samples)",
                        n - test.min(n)
                    ),
                });
            }
            by_class.into_values().collect()
        }
    };
    // round(f·n) test samples in all, spread over the groups in proportion to their sizes,
    // `total·|g|/n` each, the rounding by largest remainder (scikit-learn's `_approximate_mode`),
    // so the total matches the documentation. (Remainders of `f·|g|` would be ranked against a
    // total they do not sum to, and could take a class's last training sample.)
    let total = (test_fraction * n as f64).round() as usize;
    let ideal: Vec<f64> = groups
        .iter()
        .map(|g| total as f64 * g.len() as f64 / n as f64)
        .collect();
    let mut counts: Vec<usize> = ideal.iter().map(|v| v.floor() as usize).collect();
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| (ideal[b] - ideal[b].floor()).total_cmp(&(ideal[a] - ideal[a].floor())));
    let mut missing = total.saturating_sub(counts.iter().sum());
    for &g in order.iter().cycle().take(order.len() * 2) {
        if missing == 0 {
            break;
        }
        if counts[g] < groups[g].len() {
            counts[g] += 1;
            missing -= 1;
        }
    }
    if stratify.is_some() {
        keep_every_class_in_both_parts(&mut counts, &groups, &ideal);
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (mut group, k) in groups.into_iter().zip(counts) {
        group.shuffle(&mut rng);
        test.extend_from_slice(&group[..k]);
        train.extend_from_slice(&group[k..]);
    }
    if train.is_empty() || test.is_empty() {
        return Err(NnError::EmptyData {
            what: format!("a part of the {n}-sample split"),
        });
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok(Split {
        x_train: x.select_columns(&train),
        y_train: y.select_columns(&train),
        x_test: x.select_columns(&test),
        y_test: y.select_columns(&test),
    })
}

/// Moves single test places between classes until every class has at least one sample in each
/// part: a class with none in the test part takes one from the class furthest above its ideal
/// share (among those with two or more), a class with all its samples in the test part gives
/// one to the class furthest below its share (among those with two or more training samples).
/// The total is unchanged; such classes exist because each part holds at least as many samples
/// as there are classes (checked before) and every class has two or more.
fn keep_every_class_in_both_parts(counts: &mut [usize], groups: &[Vec<usize>], ideal: &[f64]) {
    let surplus = |counts: &[usize], g: usize| counts[g] as f64 - ideal[g];
    loop {
        if let Some(short) = (0..counts.len()).find(|&g| counts[g] == 0) {
            let donor = (0..counts.len())
                .filter(|&g| counts[g] >= 2)
                .max_by(|&a, &b| surplus(counts, a).total_cmp(&surplus(counts, b)));
            let Some(donor) = donor else { return };
            counts[donor] -= 1;
            counts[short] += 1;
        } else if let Some(full) = (0..counts.len()).find(|&g| counts[g] == groups[g].len()) {
            let receiver = (0..counts.len())
                .filter(|&g| counts[g] + 2 <= groups[g].len())
                .min_by(|&a, &b| surplus(counts, a).total_cmp(&surplus(counts, b)));
            let Some(receiver) = receiver else { return };
            counts[full] -= 1;
            counts[receiver] += 1;
        } else {
            return;
        }
    }
}
