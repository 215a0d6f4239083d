//! `MatVar::var`, `std`, `var_along`, `std_along`: values against the two-pass formula,
//! gradients against the analytic `2(x − μ)/(n − c)` and `(x − μ)/((n − c)σ)`, Hessians
//! against `2/(n − c)·(I − 11ᵀ/n)`, and the limits (zero variance, `n ≤ correction`, f32).

use adroit_reverse::matrix::{self, Along};
use nalgebra::{DMatrix, dmatrix};

/// Pseudo-random entries in `[−1, 1)` plus `offset`.
fn entries(rows: usize, cols: usize, offset: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let k = (i * cols + j) as f64;
        offset
            + 2.0
                * ((k * 12.9898 + 0.5 * 78.233).sin() * 43758.5453)
                    .fract()
                    .abs()
            - 1.0
    })
}

/// The entries of each line along `along`, as vectors (a column's entries for `Rows`).
fn lines(x: &DMatrix<f64>, along: Along) -> Vec<Vec<f64>> {
    match along {
        Along::Rows => x
            .column_iter()
            .map(|c| c.iter().copied().collect())
            .collect(),
        Along::Cols => x.row_iter().map(|r| r.iter().copied().collect()).collect(),
    }
}

/// Mean and `Σ(x − μ)²` of `v`, in order.
fn moments(v: &[f64]) -> (f64, f64) {
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    (mean, v.iter().map(|x| (x - mean) * (x - mean)).sum())
}

#[test]
fn whole_matrix_values_and_gradients_match_the_formulas() {
    // An offset of 1e4 checks the two-pass form (E[x²] − μ² would lose about 8 digits).
    for offset in [0.0, 1e4] {
        let x = entries(3, 4, offset);
        let (mean, squares) = moments(x.as_slice());
        for correction in [0, 1, 2] {
            let dof = (12 - correction) as f64;
            let (v, g) =
                matrix::value_and_gradient(|m| m[0].var(correction), std::slice::from_ref(&x));
            assert!((v - squares / dof).abs() <= 1e-14 * (squares / dof), "{v}");
            let exact = x.map(|xi| 2.0 * (xi - mean) / dof);
            assert!((&g[0] - &exact).amax() < 1e-12, "{}", g[0]);
            let (s, gs) =
                matrix::value_and_gradient(|m| m[0].std(correction), std::slice::from_ref(&x));
            let sigma = (squares / dof).sqrt();
            assert!((s - sigma).abs() <= 1e-14 * sigma, "{s}");
            let exact = x.map(|xi| (xi - mean) / (dof * sigma));
            assert!((&gs[0] - &exact).amax() < 1e-12, "{}", gs[0]);
        }
    }
}

#[test]
fn values_and_gradients_along_each_dimension_match_the_formulas() {
    let x = entries(3, 5, 2.0);
    for along in [Along::Rows, Along::Cols] {
        for correction in [0, 1] {
            // A weighted sum, so each line gets its own cotangent.
            let count = match along {
                Along::Rows => 5,
                Along::Cols => 3,
            };
            let weights = DMatrix::from_fn(
                if along == Along::Rows { 1 } else { 3 },
                if along == Along::Rows { 5 } else { 1 },
                |i, j| 1.0 + (i + j) as f64,
            );
            let (y, _) = matrix::pullback(
                |m| m[0].var_along(along, correction),
                std::slice::from_ref(&x),
            );
            let (s, _) = matrix::pullback(
                |m| m[0].std_along(along, correction),
                std::slice::from_ref(&x),
            );
            assert_eq!(y.len(), count);
            let g = matrix::gradient(
                |m| {
                    m[0].var_along(along, correction)
                        .weighted_sum(weights.clone())
                },
                std::slice::from_ref(&x),
            );
            let gs = matrix::gradient(
                |m| {
                    m[0].std_along(along, correction)
                        .weighted_sum(weights.clone())
                },
                std::slice::from_ref(&x),
            );
            for (k, line) in lines(&x, along).iter().enumerate() {
                let n = line.len() as f64;
                let dof = n - correction as f64;
                let (mean, squares) = moments(line);
                let (var, sigma) = (squares / dof, (squares / dof).sqrt());
                assert!(
                    (y[k] - var).abs() <= 1e-14 * var,
                    "{along:?} {k}: {} vs {var}",
                    y[k]
                );
                assert!((s[k] - sigma).abs() <= 1e-14 * sigma);
                for (i, xi) in line.iter().enumerate() {
                    let (r, c) = if along == Along::Rows { (i, k) } else { (k, i) };
                    let w = weights[k];
                    let (dv, ds) = (2.0 * (xi - mean) / dof, (xi - mean) / (dof * sigma));
                    assert!(
                        (g[0][(r, c)] - w * dv).abs() < 1e-13,
                        "{along:?} ({r}, {c})"
                    );
                    assert!(
                        (gs[0][(r, c)] - w * ds).abs() < 1e-13,
                        "{along:?} ({r}, {c})"
                    );
                }
            }
        }
    }
}

/// The variance is quadratic: its Hessian is `2/(N − c)·(I − 11ᵀ/N)` everywhere.
#[test]
fn hessian_of_the_variance_is_the_centring_projection() {
    let x = entries(2, 3, 0.5);
    let h = matrix::hessian(|m| m[0].var(1), std::slice::from_ref(&x));
    let n = 6.0;
    let exact =
        (DMatrix::identity(6, 6) - DMatrix::from_element(6, 6, 1.0 / n)) * (2.0 / (n - 1.0));
    assert!((&h - &exact).amax() < 1e-14, "{h}");
    // Along columns (one variance per row of 3 entries): that projection within each row,
    // 0 between rows. Column-major entry `k` is row `k % 2`.
    let h = matrix::hessian(
        |m| m[0].var_along(Along::Cols, 1).sum(),
        std::slice::from_ref(&x),
    );
    let exact = DMatrix::from_fn(6, 6, |k, l| {
        let same_row = if k % 2 == l % 2 { 1.0 } else { 0.0 };
        let identity = if k == l { 1.0 } else { 0.0 };
        (identity - same_row / 3.0) * (2.0 / 2.0)
    });
    assert!((&h - &exact).amax() < 1e-14, "{h}");
}

/// Equal entries: variance 0, and the standard deviation's gradient 0 (the documented
/// convention at its kink; PyTorch and JAX give NaN), its value 0.
#[test]
fn zero_variance_gives_a_zero_gradient() {
    let x = DMatrix::from_element(2, 3, 1.5);
    let (v, g) = matrix::value_and_gradient(|m| m[0].std(1), std::slice::from_ref(&x));
    assert_eq!(v, 0.0);
    assert!(g[0].iter().all(|&d| d == 0.0), "{}", g[0]);
    let g = matrix::gradient(
        |m| m[0].std_along(Along::Cols, 0).sum(),
        &[dmatrix![1.0, 1.0; 2.0, 4.0]],
    );
    assert_eq!(g[0], dmatrix![0.0, 0.0; -0.5, 0.5]);
    // No curvature at the kink: NaN second derivatives (documented).
    let h = matrix::hessian(|m| m[0].std(0), &[dmatrix![1.0_f64, 1.0, 1.0]]);
    assert!(h.iter().all(|d| d.is_nan()), "{h}");
}

/// `N ≤ correction`: the divisor is `max(0, N − c) = 0`, so the variance is NaN (0/0 for one
/// entry) or infinite, as PyTorch's; an empty matrix's is NaN.
#[test]
fn too_few_entries_give_nan_or_infinity() {
    // The gradient there is not a derivative (documented: 0 or NaN; pinned so a change shows).
    let (one, g) = matrix::value_and_gradient(|m| m[0].var(1), &[dmatrix![3.0_f64]]);
    assert!(one.is_nan());
    assert_eq!(g[0], dmatrix![0.0]);
    let (two, g) = matrix::value_and_gradient(|m| m[0].var(5), &[dmatrix![1.0, 2.0]]);
    assert_eq!(two, f64::INFINITY);
    assert!(g[0].iter().all(|d| d.is_nan()), "{}", g[0]);
    let (empty, _) = matrix::value_and_gradient(|m| m[0].var(0), &[DMatrix::<f64>::zeros(0, 2)]);
    assert!(empty.is_nan());
}

#[test]
fn f32_matches_f64() {
    let x = entries(4, 3, 1.0);
    let x32 = x.map(|v| v as f32);
    let (v, g) = matrix::value_and_gradient(
        |m| m[0].std_along(Along::Rows, 1).sum(),
        std::slice::from_ref(&x),
    );
    let (v32, g32) = matrix::value_and_gradient(
        |m| m[0].std_along(Along::Rows, 1).sum(),
        std::slice::from_ref(&x32),
    );
    assert!((v - f64::from(v32)).abs() < 1e-5 * v.abs());
    for (a, b) in g[0].iter().zip(g32[0].iter()) {
        assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
    }
}
