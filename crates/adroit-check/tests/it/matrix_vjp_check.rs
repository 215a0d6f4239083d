//! `matrix_vjp_check`: pullbacks of matrix-valued functions with random cotangents.

use adroit_check::{
    MatrixFn, Mode, Options, matrix_gradcheck, matrix_vjp_check, matrix_vjp_check_generic,
};
use adroit_reverse::matrix::{MatScalar, MatVar, custom_rule};
use nalgebra::{DMatrix, dmatrix};

/// `Y = A·B` (`2 × 3` by `3 × 4`) as a custom rule, with a pullback that can drop `Ā`'s
/// dependence on the cotangent: `Ā = 1·Bᵀ` (the all-ones cotangent's) instead of `Ȳ·Bᵀ`.
fn product(a: MatVar<f64>, b: MatVar<f64>, ignore_cotangent: bool) -> MatVar<f64> {
    let (av, bv) = (a.value(), b.value());
    let y = &av * &bv;
    custom_rule(&[a, b], y, move |g| {
        let g_for_a = if ignore_cotangent {
            DMatrix::from_element(g.nrows(), g.ncols(), 1.0)
        } else {
            g.clone()
        };
        vec![&g_for_a * bv.transpose(), av.transpose() * g]
    })
}

fn inputs() -> Vec<DMatrix<f64>> {
    vec![
        dmatrix![1.0, -2.0, 0.5; 0.3, 0.7, -1.1],
        dmatrix![0.2, 1.0, -0.4, 2.0; 1.5, -0.3, 0.8, 0.1; -0.6, 0.9, 0.0, 1.2],
    ]
}

#[test]
fn a_correct_rule_passes_in_both_modes_and_counts_every_trial() {
    let options = Options::for_precision::<f64>();
    let report = matrix_vjp_check(|m| product(m[0], m[1], false), &inputs(), 3, 7, &options)
        .expect("a correct pullback");
    // 3 random cotangents and the 8 output entries' own, each at the 18 input entries
    assert_eq!(report.comparisons, (3 + 8) * (6 + 12));
    let fast = options.with_mode(Mode::Fast { seed: 2, trials: 5 });
    let report = matrix_vjp_check(|m| product(m[0], m[1], false), &inputs(), 3, 7, &fast)
        .expect("a correct pullback, fast mode");
    assert_eq!(report.comparisons, (3 + 8) * 5);
}

#[test]
fn a_pullback_ignoring_its_cotangent_is_caught_with_the_entry_and_the_cotangent() {
    let options = Options::for_precision::<f64>();
    // invisible to a sum (its cotangent is all ones)...
    assert!(matrix_gradcheck(|m| product(m[0], m[1], true).sum(), &inputs(), &options).is_ok());
    // ...not to random cotangents
    let m = matrix_vjp_check(|m| product(m[0], m[1], true), &inputs(), 3, 7, &options)
        .expect_err("a wrong pullback");
    let w = m.cotangent.clone().expect("the trial's cotangent");
    assert_eq!(w.len(), 2 * 4);
    let (k, i, j) = m.matrix_entry.expect("full mode names the entry");
    assert_eq!(k, 0, "the wrong cotangent is A's");
    // the reported reverse value is that of the wrong pullback, 1ᵀ·B's row, weighted by
    // nothing: Σ_c B[j, c]; the finite difference Σ_c W[i, c]·B[j, c]
    let b = &inputs()[1];
    let w = DMatrix::from_column_slice(2, 4, &w);
    let wrong: f64 = (0..4).map(|c| b[(j, c)]).sum();
    let right: f64 = (0..4).map(|c| w[(i, c)] * b[(j, c)]).sum();
    assert!((m.reverse.unwrap() - wrong).abs() < 1e-12, "{m}");
    assert!((m.finite_difference.unwrap() - right).abs() < 1e-6, "{m}");
    assert!(m.to_string().contains("output cotangent w = ["), "{m}");
}

#[test]
#[should_panic(expected = "matrix_vjp_check: 0 trials would never call the pullback")]
fn zero_trials_panic() {
    let _ = matrix_vjp_check(
        |m| m[0].tanh(),
        &[dmatrix![1.0]],
        0,
        1,
        &Options::for_precision::<f64>(),
    );
}

#[test]
#[should_panic(expected = "matrix_vjp_check: the function's result is 0×2: nothing to compare")]
fn a_result_without_entries_panics() {
    let _ = matrix_vjp_check(
        |m| m[0].view((0, 0), (0, 2)),
        &[dmatrix![1.0, 2.0; 3.0, 4.0]],
        2,
        1,
        &Options::for_precision::<f64>(),
    );
}

/// [`product`] for every element type, as a [`MatrixFn`] for the generic checker.
struct Product {
    ignore_cotangent: bool,
}

impl MatrixFn for Product {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let (av, bv) = (m[0].value(), m[1].value());
        let y = &av * &bv;
        let ignore = self.ignore_cotangent;
        custom_rule(&[m[0], m[1]], y, move |g| {
            let g_for_a = if ignore {
                DMatrix::from_element(g.nrows(), g.ncols(), T::one())
            } else {
                g.clone()
            };
            vec![&g_for_a * bv.transpose(), av.transpose() * g]
        })
    }
}

#[test]
fn the_generic_check_passes_a_correct_rule_and_catches_a_wrong_one_in_f32() {
    let inputs32: Vec<DMatrix<f32>> = inputs().into_iter().map(|m| m.cast()).collect();
    let options = Options::for_precision::<f32>();
    let right = Product {
        ignore_cotangent: false,
    };
    let report = matrix_vjp_check_generic(&right, &inputs32, 3, 7, &options).expect("correct");
    assert_eq!(report.comparisons, (3 + 8) * (6 + 12));
    let report =
        matrix_vjp_check_generic(&right, &inputs(), 2, 7, &Options::for_precision::<f64>())
            .expect("correct in f64");
    assert_eq!(report.comparisons, (2 + 8) * (6 + 12));
    let wrong = Product {
        ignore_cotangent: true,
    };
    let m =
        matrix_vjp_check_generic(&wrong, &inputs32, 3, 7, &options).expect_err("a wrong pullback");
    let (k, _, _) = m.matrix_entry.expect("full mode names the entry");
    assert_eq!(k, 0, "the wrong cotangent is A's");
    // The cotangent reported is the one both precisions used: f32 values.
    let w = m.cotangent.expect("the trial's cotangent");
    assert!(
        w.iter()
            .all(|&v| f64::from(v as f32) == v && v.abs() <= 1.0),
        "{w:?}"
    );
}

#[test]
#[should_panic(expected = "matrix_vjp_check_generic: 0 trials would never call the pullback")]
fn the_generic_check_refuses_zero_trials() {
    let right = Product {
        ignore_cotangent: false,
    };
    let _ = matrix_vjp_check_generic(&right, &inputs(), 0, 1, &Options::for_precision::<f64>());
}

/// An output with small derivatives beside one with large derivatives: a pullback 10 % wrong
/// in the small one passed random cotangents (the tolerance is relative to the weighted sum,
/// which the large one dominates) and is caught by the entries' own cotangents (a review).
#[test]
fn a_wrong_pullback_of_a_small_output_beside_a_large_one_is_caught() {
    fn rule(x: MatVar<f64>, factor: f64) -> MatVar<f64> {
        let v = x.value()[(0, 0)];
        let y = dmatrix![1e6 * v; v.sin()];
        custom_rule(&[x], y, move |g| {
            vec![dmatrix![1e6 * g[(0, 0)] + factor * v.cos() * g[(1, 0)]]]
        })
    }
    let x = [dmatrix![0.4]];
    let options = Options::for_precision::<f64>();
    assert!(matrix_vjp_check(|m| rule(m[0], 1.0), &x, 8, 1, &options).is_ok());
    let m = matrix_vjp_check(|m| rule(m[0], 1.1), &x, 8, 1, &options).expect_err("10 % wrong");
    assert_eq!(m.cotangent, Some(vec![0.0, 1.0]), "caught by e₁");
}
