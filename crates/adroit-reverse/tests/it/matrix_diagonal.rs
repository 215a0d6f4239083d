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
