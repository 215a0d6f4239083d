//! `MatVar::diagonal` and `trace` against the scalar tape (the same function entry by entry),
//! on square, tall, wide and empty matrices, with the pullback called twice.

use adroit_reverse::gradient;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

fn entries(rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        ((3 * i + 7 * j) as f64 * 0.37).sin() * 2.0
    })
}

#[test]
fn diagonal_and_trace_match_the_scalar_tape() {
    for (rows, cols) in [(1, 1), (3, 3), (4, 2), (2, 5), (0, 3), (3, 0)] {
        let a = entries(rows, cols);
        let k = rows.min(cols);
        // Σ wᵢ·sin(Aᵢᵢ) + tr(A)², weights by position
        let loss = |m: &[MatVar<f64>]| {
            let w = MatVar::constant(DMatrix::from_fn(k, 1, |i, _| 1.0 + i as f64));
            let t = m[0].trace();
            m[0].diagonal()
                .map(num_traits::Float::sin)
                .component_mul(w)
                .sum()
                + t.component_mul(t)
        };
        let (value, g) = matrix::value_and_gradient(loss, std::slice::from_ref(&a));
        let scalar = |x: &[adroit_reverse::Var<f64>]| {
            let at = |i: usize| x[i * rows + i];
            let weighted = (0..k).fold(adroit_reverse::Var::constant(0.0), |s, i| {
                s + num_traits::Float::sin(at(i)) * (1.0 + i as f64)
            });
            let t = (0..k).fold(adroit_reverse::Var::constant(0.0), |s, i| s + at(i));
            weighted + t * t
        };
        let want = gradient(scalar, a.as_slice());
        assert_eq!(g[0].shape(), (rows, cols));
        for (got, want) in g[0].iter().zip(&want) {
            assert!(
                (got - want).abs() < 1e-14,
                "{rows}×{cols}: {} {want:?}",
                g[0]
            );
        }
        let trace: f64 = (0..k).map(|i| a[(i, i)]).sum();
        let weighted: f64 = (0..k).map(|i| a[(i, i)].sin() * (1.0 + i as f64)).sum();
        assert!((value - (weighted + trace * trace)).abs() < 1e-14);
    }
}

#[test]
fn the_diagonal_pullback_places_each_cotangent() {
    let a = entries(3, 4);
    let (d, pullback) = matrix::pullback(|m| m[0].diagonal(), std::slice::from_ref(&a));
    assert_eq!(d, dmatrix![a[(0, 0)]; a[(1, 1)]; a[(2, 2)]]);
    for g in [dmatrix![1.0; 0.0; 0.0], dmatrix![0.5; -2.0; 3.0]] {
        let mut want = DMatrix::zeros(3, 4);
        want.set_partial_diagonal(g.iter().copied());
        assert_eq!(pullback.call(&g)[0], want);
    }
}

/// `Σ w ⊙ sin(A + diag(d))`, its value on plain matrices (the reference for differences).
fn shifted_loss(a: &DMatrix<f64>, d: &DMatrix<f64>) -> f64 {
    let mut shifted = a.clone();
    for i in 0..a.nrows().min(a.ncols()) {
        shifted[(i, i)] += if d.len() == 1 { d[0] } else { d[i] };
    }
    shifted
        .iter()
        .enumerate()
        .map(|(k, v)| (1.0 + k as f64 * 0.25) * v.sin())
        .sum()
}

#[test]
fn add_diagonal_matches_central_differences() {
    use crate::matrix_linear_solve::differences;
    for (rows, cols) in [(3, 3), (4, 2), (2, 5), (1, 1)] {
        let a = entries(rows, cols);
        let k = rows.min(cols);
        for d in [
            DMatrix::from_fn(k, 1, |i, _| 0.5 - i as f64),
            dmatrix![0.75],
        ] {
            let w = DMatrix::from_fn(rows, cols, |i, j| 1.0 + (i + j * rows) as f64 * 0.25);
            let (v, g) = matrix::value_and_gradient(
                |m| {
                    m[0].add_diagonal(m[1])
                        .map(num_traits::Float::sin)
                        .weighted_sum(w.clone())
                },
                &[a.clone(), d.clone()],
            );
            assert!((v - shifted_loss(&a, &d)).abs() < 1e-13, "{v}");
            let ga = differences(|p| shifted_loss(p, &d), &a);
            let gd = differences(|p| shifted_loss(&a, p), &d);
            assert!((&g[0] - ga).amax() < 1e-8, "{rows}×{cols} Ā: {}", g[0]);
            assert!((&g[1] - gd).amax() < 1e-8, "{rows}×{cols} d̄: {}", g[1]);
        }
    }
}

/// The same node as input and diagonal (a 1 × 1 matrix): both contributions accumulate.
#[test]
fn add_diagonal_of_itself_accumulates() {
    let g = matrix::gradient(|m| m[0].add_diagonal(m[0]).sum(), &[dmatrix![3.0]]);
    assert_eq!(g[0], dmatrix![2.0]);
}

#[test]
fn add_diagonal_refuses_a_wrong_shape_naming_both() {
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| m[0].add_diagonal(m[1]).sum(),
            &[DMatrix::<f64>::zeros(3, 2), DMatrix::zeros(3, 1)],
        )
    });
    let message = refused
        .err()
        .map(crate::misuse::panic_message)
        .unwrap_or_default();
    assert!(
        message.contains("3×2") && message.contains("2×1") && message.contains("3×1"),
        "{message}"
    );
}

#[test]
fn from_diagonal_builds_the_matrix_and_reads_the_cotangents_diagonal() {
    use crate::matrix_linear_solve::differences;
    let d = dmatrix![1.5; -0.5; 2.0];
    let b = entries(3, 2);
    // Σ (diag(d)·B)² = Σᵢⱼ dᵢ²·Bᵢⱼ²: ∂/∂dᵢ = 2dᵢ·Σⱼ Bᵢⱼ²
    let (v, g) = matrix::value_and_gradient(
        |m| {
            let p = MatVar::from_diagonal(m[0]).matmul(m[1]);
            p.component_mul(p).sum()
        },
        &[d.clone(), b.clone()],
    );
    let plain = |d: &DMatrix<f64>| (DMatrix::from_diagonal(&d.column(0)) * &b).norm_squared();
    assert!((v - plain(&d)).abs() < 1e-13);
    let exact = DMatrix::from_fn(3, 1, |i, _| 2.0 * d[i] * b.row(i).norm_squared());
    assert!((&g[0] - &exact).amax() < 1e-13, "{}", g[0]);
    assert!((&g[0] - differences(plain, &d)).amax() < 1e-8);
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| MatVar::from_diagonal(m[0]).sum(),
            &[DMatrix::<f64>::zeros(1, 3)],
        )
    });
    assert!(refused.is_err());
}
