//! `MatVar::det`: values and gradients against nalgebra's determinant, the scalar tape through
//! nalgebra's LU on `Var`s, cofactors computed by hand (also at singular matrices), central
//! differences, Hessians against Jacobi's second-order formula, NaN, empty and non-square.

use crate::matrices::matrix;
use crate::matrix_linear_solve::differences;
use adroit_reverse::gradient;
use adroit_reverse::matrix;
use nalgebra::{DMatrix, dmatrix};

/// The cofactor matrix `Cᵢⱼ = (−1)^(i+j)·det(A without row i and column j)`, by nalgebra on
/// the minors: `adj(A)ᵀ`, the gradient of `det`.
fn cofactors(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    DMatrix::from_fn(n, n, |i, j| {
        let minor = a.clone().remove_row(i).remove_column(j);
        let sign = if (i + j) % 2 == 0 { 1.0 } else { -1.0 };
        sign * minor.determinant()
    })
}

#[test]
fn values_and_gradients_at_invertible_matrices() {
    for n in [1, 2, 3, 5] {
        let a = matrix(n, n, 0.2);
        let (v, g) = matrix::value_and_gradient(|m| m[0].det(), std::slice::from_ref(&a));
        let det = a.determinant();
        assert!(
            (v - det).abs() <= 1e-13 * det.abs().max(1.0),
            "n = {n}: {v} vs {det}"
        );
        let scale = g[0].amax().max(1.0);
        assert!(
            (&g[0] - cofactors(&a)).amax() <= 1e-12 * scale,
            "n = {n}: {}",
            g[0]
        );
        assert!((&g[0] - differences(|p| p.determinant(), &a)).amax() <= 1e-7 * scale);
        let scalar = gradient(
            |x| DMatrix::from_column_slice(n, n, x).determinant(),
            a.as_slice(),
        );
        for (m, s) in g[0].iter().zip(&scalar) {
            assert!((m - s).abs() <= 1e-12 * scale, "n = {n}: {m} vs {s}");
        }
    }
}

/// At singular matrices the gradient is the cofactor matrix (rank n − 1) or 0 (lower rank),
/// where `det A·A⁻ᵀ` would be `0·∞`.
#[test]
fn gradients_at_singular_matrices_are_the_cofactors() {
    let rank_one_less = [
        dmatrix![1.0_f64, 2.0; 3.0, 6.0],
        dmatrix![0.0, 0.0; 0.0, 1.0],
        dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0; 7.0, 8.0, 9.0],
        dmatrix![2.0, -1.0, 0.5; 0.0, 0.0, 0.0; 1.0, 3.0, -2.0],
    ];
    for a in rank_one_less {
        let (v, g) = matrix::value_and_gradient(|m| m[0].det(), std::slice::from_ref(&a));
        assert!(v.abs() < 1e-14, "{v}");
        let c = cofactors(&a);
        assert!(
            (&g[0] - &c).amax() < 1e-13 * c.amax().max(1.0),
            "{a}: {}\nvs {c}",
            g[0]
        );
    }
    let rank_one = dmatrix![1.0, 2.0, 3.0; 2.0, 4.0, 6.0; -1.0, -2.0, -3.0];
    let g = matrix::gradient(|m| m[0].det(), std::slice::from_ref(&rank_one));
    assert!(g[0].amax() < 1e-14, "{}", g[0]);
    let zero = matrix::gradient(|m| m[0].det(), &[DMatrix::<f64>::zeros(3, 3)]);
    assert_eq!(zero[0], DMatrix::zeros(3, 3));
}

/// `∂²det/∂Aᵢⱼ∂Aₖₗ = det A·((A⁻¹)ⱼᵢ(A⁻¹)ₗₖ − (A⁻¹)ₗᵢ(A⁻¹)ⱼₖ)` at an invertible matrix; at `I`
/// that is `δᵢⱼδₖₗ − δᵢₗδₖⱼ`.
#[test]
fn hessian_matches_the_second_order_formula() {
    for a in [DMatrix::identity(3, 3), matrix(3, 3, 0.6)] {
        let n = a.nrows();
        let h = matrix::hessian(|m| m[0].det(), std::slice::from_ref(&a));
        let (det, inv) = (
            a.determinant(),
            a.clone().try_inverse().expect("invertible"),
        );
        // Column-major entry index: (i, j) ↦ i + n·j.
        let exact = DMatrix::from_fn(n * n, n * n, |p, q| {
            let (i, j, k, l) = (p % n, p / n, q % n, q / n);
            det * (inv[(j, i)] * inv[(l, k)] - inv[(l, i)] * inv[(j, k)])
        });
        assert!((&h - &exact).amax() < 1e-12, "{h}\nvs {exact}");
    }
}

#[test]
fn f32_nan_empty_and_non_square() {
    let a = matrix(3, 3, 1.1);
    let g32 = matrix::gradient(|m| m[0].det(), &[a.map(|v| v as f32)]);
    let c = cofactors(&a);
    for (x, y) in g32[0].iter().zip(c.iter()) {
        assert!((f64::from(*x) - y).abs() < 1e-4 * c.amax(), "{x} vs {y}");
    }
    let (v, g) = matrix::value_and_gradient(|m| m[0].det(), &[dmatrix![1.0, f64::NAN; 0.0, 1.0]]);
    assert!(
        v.is_nan() && g[0].iter().all(|d| d.is_nan()),
        "{v} {}",
        g[0]
    );
    let (v, g) = matrix::value_and_gradient(|m| m[0].det(), &[DMatrix::<f64>::zeros(0, 0)]);
    assert_eq!((v, g[0].shape()), (1.0, (0, 0)));
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(|m| m[0].det(), &[DMatrix::<f64>::zeros(2, 3)])
    });
    let message = refused
        .err()
        .map(crate::misuse::panic_message)
        .unwrap_or_default();
    assert!(
        message.contains("det") && message.contains("2×3"),
        "{message}"
    );
}

/// At a singular matrix whose singular values are distinct, second derivatives come through
/// the SVD and are exact: the scalar tape's (a polynomial through LU on `Var`s) agrees.
#[test]
fn hessian_at_singular_matrices_with_distinct_singular_values() {
    let two = matrix::hessian(|m| m[0].det(), &[dmatrix![1.0, 2.0; 3.0, 6.0]]);
    // det = x₀x₃ − x₂x₁ (column-major)
    let exact = dmatrix![
        0.0, 0.0, 0.0, 1.0;
        0.0, 0.0, -1.0, 0.0;
        0.0, -1.0, 0.0, 0.0;
        1.0, 0.0, 0.0, 0.0
    ];
    assert!((&two - &exact).amax() < 1e-13, "{two}");
    let a = dmatrix![2.0, -1.0, 0.5; 0.0, 0.0, 0.0; 1.0, 3.0, -2.0];
    let h = matrix::hessian(|m| m[0].det(), std::slice::from_ref(&a));
    let scalar = adroit_reverse::hessian(
        |x| DMatrix::from_column_slice(3, 3, x).determinant(),
        a.as_slice(),
    );
    assert!((&h - &scalar).amax() < 1e-12, "{h}\nvs {scalar}");
}

/// The constant Hessian of a 2 × 2 determinant `x₀x₃ − x₂x₁` (column-major).
fn two_by_two_hessian() -> DMatrix<f64> {
    dmatrix![
        0.0, 0.0, 0.0, 1.0;
        0.0, 0.0, -1.0, 0.0;
        0.0, -1.0, 0.0, 0.0;
        1.0, 0.0, 0.0, 0.0
    ]
}

/// Nearly singular matrices (a pivot rounded to a tiny non-zero value) take the SVD's adjugate
/// too: `det·A⁻ᵀ`'s tangent would cancel terms of size 1/pivot (a review measured errors of 9
/// at [[1, 2, 3], [4, 5, 6], [7, 8, 9]] and 0.25 at a pivot of 1e-14).
#[test]
fn hessians_at_nearly_singular_matrices() {
    for d in [1e-4, 1e-8, 1e-12, 1e-14] {
        let h = matrix::hessian(|m| m[0].det(), &[dmatrix![1.0, 2.0; 3.0, 6.0 + d]]);
        assert!((&h - two_by_two_hessian()).amax() < 1e-9, "d = {d}: {h}");
    }
    let a = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0; 7.0, 8.0, 9.0];
    let h = matrix::hessian(|m| m[0].det(), std::slice::from_ref(&a));
    let scalar = adroit_reverse::hessian(
        |x| DMatrix::from_column_slice(3, 3, x).determinant(),
        a.as_slice(),
    );
    assert!((&h - &scalar).amax() < 1e-12, "{h}\nvs {scalar}");
}

/// A zero pivot that is not the last: the dual determinant's value is 0 (not NaN), so `exp(det)`
/// has the Hessian `g·gᵀ + H_det` with `g` the cofactors.
#[test]
fn second_order_values_at_a_leading_zero_pivot() {
    let a = dmatrix![0.0, 1.0; 0.0, 2.0];
    let (v, g, h) = matrix::value_gradient_and_hessian(|m| m[0].det().exp(), &[a]);
    assert_eq!(v, 1.0);
    let cofactors = nalgebra::dvector![2.0, -1.0, 0.0, 0.0];
    assert!((nalgebra::DVector::from_column_slice(g[0].as_slice()) - &cofactors).amax() < 1e-14);
    let exact = &cofactors * cofactors.transpose() + two_by_two_hessian();
    assert!((&h - &exact).amax() < 1e-13, "{h}");
}
