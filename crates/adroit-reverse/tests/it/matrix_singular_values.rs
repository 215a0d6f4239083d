//! `MatVar::singular_values` against the scalar tape's `svd` (the same gradients `Σ w̄ᵢ uᵢvᵢᵀ`),
//! central finite differences, NaN and empty matrices.

use adroit_reverse::matrix;
use nalgebra::{DMatrix, dmatrix};

/// Pseudo-random entries in `[−1, 1)`.
fn entries(rows: usize, cols: usize, phase: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let k = (i * cols + j) as f64;
        2.0 * ((k * 12.9898 + phase * 78.233).sin() * 43758.5453)
            .fract()
            .abs()
            - 1.0
    })
}

#[test]
fn gradients_match_the_scalar_tape_and_finite_differences() {
    for (rows, cols) in [(3, 3), (4, 2), (2, 5), (1, 1)] {
        let a = entries(rows, cols, 0.3);
        let k = rows.min(cols);
        let w = DMatrix::from_fn(k, 1, |i, _| 1.0 + i as f64 * 0.5);
        let (v, g) = matrix::value_and_gradient(
            |m| m[0].singular_values().weighted_sum(w.clone()),
            std::slice::from_ref(&a),
        );
        let plain: f64 = a
            .singular_values()
            .iter()
            .zip(w.iter())
            .map(|(s, w)| s * w)
            .sum();
        assert!((v - plain).abs() < 1e-14, "{v} vs {plain}");
        let scalar = adroit_reverse::gradient(
            |x| {
                let (_, s, _) = adroit_reverse::svd(&DMatrix::from_column_slice(rows, cols, x));
                s.iter()
                    .zip(w.iter())
                    .fold(x[0] * 0.0, |t, (s, w)| t + *s * *w)
            },
            a.as_slice(),
        );
        for (m, s) in g[0].iter().zip(&scalar) {
            assert!((m - s).abs() < 1e-13, "{rows}×{cols}: {m} vs {s}");
        }
        let h = 1e-6;
        for idx in 0..a.len() {
            let (mut p, mut q) = (a.clone(), a.clone());
            p[idx] += h;
            q[idx] -= h;
            let f = |m: &DMatrix<f64>| -> f64 {
                m.singular_values()
                    .iter()
                    .zip(w.iter())
                    .map(|(s, w)| s * w)
                    .sum()
            };
            let fd = (f(&p) - f(&q)) / (2.0 * h);
            assert!(
                (g[0][idx] - fd).abs() < 1e-7,
                "{rows}×{cols} [{idx}]: {} vs {fd}",
                g[0][idx]
            );
        }
    }
}

#[test]
fn nan_entries_and_empty_matrices() {
    let (v, g) = matrix::value_and_gradient(
        |m| m[0].singular_values().sum(),
        &[dmatrix![1.0, f64::NAN, 0.5; 2.0, 1.0, 3.0; 0.0, 1.0, 1.0]],
    );
    assert!(v.is_nan() && g[0].iter().all(|d| d.is_nan()));
    let (y, pb) = matrix::pullback(|m| m[0].singular_values(), &[DMatrix::<f64>::zeros(0, 3)]);
    assert_eq!(y.shape(), (0, 1));
    assert_eq!(pb.call(&DMatrix::zeros(0, 1))[0].shape(), (0, 3));
}

/// An infinite cotangent of one singular value (`sqrt` of a zero one) reaches only the
/// entries where its `uᵢvᵢᵀ` is not zero: 0 elsewhere, as in every pullback of the tape (from
/// an audit: the scaling and product gave NaN everywhere); the scalar tape's `svd` node agrees.
#[test]
fn an_infinite_cotangent_follows_the_zero_convention() {
    let a: DMatrix<f64> = dmatrix![2.0, 0.0; 0.0, 0.0];
    let g = matrix::gradient(
        |m| m[0].singular_values().rows(1, 1).sqrt().sum(),
        std::slice::from_ref(&a),
    );
    assert_eq!(
        (g[0][(0, 0)], g[0][(0, 1)], g[0][(1, 0)]),
        (0.0, 0.0, 0.0),
        "{}",
        g[0]
    );
    assert!(g[0][(1, 1)].is_infinite(), "{}", g[0]);
    let scalar = adroit_reverse::gradient(
        |x| num_traits::Float::sqrt(adroit_reverse::svd(&DMatrix::from_column_slice(2, 2, x)).1[1]),
        a.as_slice(),
    );
    assert_eq!(scalar, g[0].as_slice());
}

/// Σσ² = ‖A‖²_F has Hessian 2·I everywhere. Through the singular values the Hessian is exact at
/// a single zero singular value of a square matrix; at the kinks the documentation names (a
/// zero singular value of a tall matrix, a repeated zero one) it is finite and not 2·I — the
/// documented limit, pinned here so that a change of it is seen (found by a review).
#[test]
fn second_derivatives_at_zero_singular_values() {
    fn frobenius<T: matrix::MatScalar>(m: &[matrix::MatVar<T>]) -> matrix::MatVar<T> {
        let s = m[0].singular_values();
        s.component_mul(s).sum()
    }
    let exact = matrix::hessian(frobenius, &[dmatrix![1.0, 2.0; 2.0, 4.0]]);
    let two = DMatrix::<f64>::identity(4, 4) * 2.0;
    assert!((&exact - &two).amax() < 1e-14, "{exact}");
    for kink in [dmatrix![1.0, 0.0; 0.0, 0.0; 0.0, 0.0], DMatrix::zeros(2, 2)] {
        let h: DMatrix<f64> = matrix::hessian(frobenius, std::slice::from_ref(&kink));
        let n = kink.len();
        assert!(h.iter().all(|v: &f64| v.is_finite()), "{h}");
        assert!(
            (&h - DMatrix::<f64>::identity(n, n) * 2.0).amax() == 2.0,
            "{h}"
        );
    }
}

/// `Σσ² = ‖A‖²_F` at rotations, whose two singular values are 1 — equal, or 1 ulp apart as
/// nalgebra returns some: the Hessian is the documented non-derivative of a tie (infinite or
/// NaN entries), never a finite wrong one (off by 0.5 at θ = 0.7 before ties up to rounding
/// counted as ties).
#[test]
fn singular_values_tied_up_to_rounding_give_no_finite_wrong_hessian() {
    for theta in [0.3_f64, 0.7, 1.1, 2.0] {
        let (c, s) = (theta.cos(), theta.sin());
        let r = dmatrix![c, -s; s, c];
        let h = matrix::hessian(
            |m| {
                let sv = m[0].singular_values();
                sv.component_mul(sv).sum()
            },
            &[r],
        );
        let exact = DMatrix::<f64>::identity(4, 4) * 2.0;
        let finite_and_wrong = h.iter().all(|v| v.is_finite()) && (&h - &exact).amax() > 1e-6;
        assert!(!finite_and_wrong, "θ = {theta}: {h}");
        assert!(h.iter().any(|v| !v.is_finite()), "θ = {theta}: {h}");
    }
}
