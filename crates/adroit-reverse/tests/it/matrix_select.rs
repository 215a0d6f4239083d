//! `MatVar::select`: values and gradients against the scalar tape's `if` (the same function
//! entry by entry) over every broadcast pattern, the unselected branch's non-finite slopes,
//! a causal attention mask, Hessians and shape panics.

use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

fn entries(rows: usize, cols: usize, phase: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        ((3 * i + 7 * j) as f64 * 0.37 + phase).sin() * 2.0
    })
}

/// Entry `(i, j)` of `m` broadcast to a larger shape.
fn at<T: Copy>(m: &[T], shape: (usize, usize), i: usize, j: usize) -> T {
    let row = if shape.0 == 1 { 0 } else { i };
    let col = if shape.1 == 1 { 0 } else { j };
    m[row + col * shape.0]
}

#[test]
fn every_broadcast_pattern_matches_the_scalar_tape() {
    let (rows, cols) = (3, 4);
    let mask = DMatrix::from_fn(rows, cols, |i, j| (i + 2 * j) % 3 != 0);
    let w = DMatrix::from_fn(rows, cols, |i, j| 1.0 + (i + rows * j) as f64 * 0.25);
    let shapes = [(3, 4), (1, 4), (3, 1), (1, 1)];
    for a_shape in shapes {
        for b_shape in shapes {
            let (a, b) = (
                entries(a_shape.0, a_shape.1, 0.1),
                entries(b_shape.0, b_shape.1, 0.9),
            );
            // Σ w ⊙ select(mask, sin(A), B²)
            let (v, g) = matrix::value_and_gradient(
                |m| {
                    MatVar::select(&mask, m[0].sin(), m[1].component_mul(m[1]))
                        .weighted_sum(w.clone())
                },
                &[a.clone(), b.clone()],
            );
            let na = a.len();
            let x: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
            let scalar_fn = |x: &[Var<f64>]| {
                let (xa, xb) = x.split_at(na);
                let mut total = x[0] * 0.0;
                for j in 0..cols {
                    for i in 0..rows {
                        let entry = if mask[(i, j)] {
                            at(xa, a_shape, i, j).sin()
                        } else {
                            let e = at(xb, b_shape, i, j);
                            e * e
                        };
                        total += entry * w[(i, j)];
                    }
                }
                total
            };
            let (sv, sg) = adroit_reverse::value_and_gradient(scalar_fn, &x);
            assert!(
                (v - sv).abs() < 1e-13,
                "{a_shape:?} {b_shape:?}: {v} vs {sv}"
            );
            let got: Vec<f64> = g[0].iter().chain(g[1].iter()).copied().collect();
            for (k, (m, s)) in got.iter().zip(&sg).enumerate() {
                assert!(
                    (m - s).abs() < 1e-13,
                    "{a_shape:?} {b_shape:?} [{k}]: {m} vs {s}"
                );
            }
        }
    }
}

/// The branch not taken contributes exactly 0, also where its slope is infinite (`ln` at 0)
/// or NaN (`√` below 0): no "double where" needed.
#[test]
fn the_branch_not_taken_never_leaks_non_finite_slopes() {
    let x = dmatrix![-1.0_f64, 0.0, 4.0];
    let mask = x.map(|v| v > 0.0);
    let zero = || MatVar::constant(dmatrix![0.0]);
    let (v, g) = matrix::value_and_gradient(
        |m| {
            (MatVar::select(&mask, m[0].ln(), zero()) + MatVar::select(&mask, m[0].sqrt(), zero()))
                .sum()
        },
        std::slice::from_ref(&x),
    );
    assert_eq!(v, 4.0_f64.ln() + 2.0);
    assert_eq!(g[0], dmatrix![0.0, 0.0, 0.25 + 0.25]);
    // The scalar tape's `if` agrees.
    let scalar = gradient(
        |x| {
            x.iter().fold(x[0] * 0.0, |t, &e| {
                if e.value() > 0.0 {
                    t + e.ln() + e.sqrt()
                } else {
                    t
                }
            })
        },
        x.as_slice(),
    );
    assert_eq!(scalar, g[0].as_slice());
}

/// A causal mask before a row-wise softmax (scores: queries × keys, one row per query):
/// masked entries get weight 0 and gradient 0; the rest match the softmax of the kept ones.
#[test]
fn a_causal_attention_mask() {
    let n = 4;
    let scores = entries(n, n, 0.3);
    let allowed = DMatrix::from_fn(n, n, |i, j| j <= i);
    let w = entries(n, n, 1.7);
    let (y, _) = matrix::pullback(
        |m| {
            let blocked = MatVar::constant(dmatrix![f64::NEG_INFINITY]);
            MatVar::select(&allowed, m[0], blocked).softmax(matrix::Along::Cols)
        },
        std::slice::from_ref(&scores),
    );
    for i in 0..n {
        let kept: Vec<f64> = (0..=i).map(|j| scores[(i, j)].exp()).collect();
        let total: f64 = kept.iter().sum();
        for j in 0..n {
            let expected = if j <= i { kept[j] / total } else { 0.0 };
            assert!((y[(i, j)] - expected).abs() < 1e-15, "({i}, {j})");
        }
    }
    let g = matrix::gradient(
        |m| {
            let blocked = MatVar::constant(dmatrix![f64::NEG_INFINITY]);
            MatVar::select(&allowed, m[0], blocked)
                .softmax(matrix::Along::Cols)
                .weighted_sum(w.clone())
        },
        std::slice::from_ref(&scores),
    );
    for i in 0..n {
        for j in 0..n {
            if j > i {
                assert_eq!(g[0][(i, j)], 0.0, "({i}, {j})");
            } else {
                assert!(g[0][(i, j)].is_finite());
            }
        }
    }
}

#[test]
fn hessian_passes_through_the_chosen_branch() {
    // select(mask, x³, 2x): Hessian diag(6x) where the mask is true, 0 elsewhere.
    let x = dmatrix![1.0, -2.0; 0.5, 3.0];
    let mask = dmatrix![true, false; false, true];
    let h = matrix::hessian(
        |m| MatVar::select(&mask, m[0].powi(3), m[0] * 2.0).sum(),
        std::slice::from_ref(&x),
    );
    let exact = DMatrix::from_diagonal(&nalgebra::dvector![6.0, 0.0, 0.0, 18.0]);
    assert_eq!(h, exact);
}

#[test]
fn operands_that_do_not_broadcast_panic_with_all_three_shapes() {
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| MatVar::select(&DMatrix::from_element(2, 3, true), m[0], m[1]).sum(),
            &[DMatrix::<f64>::zeros(2, 3), DMatrix::zeros(2, 2)],
        )
    });
    let message = refused
        .err()
        .map(crate::misuse::panic_message)
        .unwrap_or_default();
    assert!(
        message.contains("select") && message.contains("2×3") && message.contains("2×2"),
        "{message}"
    );
}

/// An infinite or NaN cotangent reaches only the operand its entry chose: the other gets an
/// exact 0 there, not `0·∞ = NaN`.
#[test]
fn a_non_finite_cotangent_reaches_only_the_chosen_operand() {
    let mask = dmatrix![true, false, true];
    let (_, pb) = matrix::pullback(
        |m| MatVar::select(&mask, m[0], m[1]),
        &[dmatrix![1.0, 2.0, 3.0], dmatrix![4.0, 5.0, 6.0]],
    );
    let g = pb.call(&dmatrix![f64::INFINITY, f64::NAN, 1.0]);
    assert_eq!(g[0].as_slice()[1..], [0.0, 1.0]);
    assert_eq!(g[0][0], f64::INFINITY);
    assert!(g[1][1].is_nan());
    assert_eq!((g[1][0], g[1][2]), (0.0, 0.0));
}
