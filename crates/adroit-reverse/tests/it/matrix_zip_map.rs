//! `MatVar::zip_map` (a fused element-wise function of several matrices) against the scalar
//! tape, central finite differences, the single-argument `map` and the binary rules, with
//! broadcasting, the zero-times-infinity convention, f32 and its panics.

use adroit_reverse::adroit_forward::rules;
use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

/// A smooth function of three arguments using several rules.
fn g<S: Float>(a: S, b: S, c: S) -> S {
    (a * b).sin() + (c * c + S::one()).ln() * a.exp() - b / (S::one() + c * c)
}

/// The entry of `m` that broadcasting reads for result entry `(i, j)`.
fn at<T: Copy + nalgebra::Scalar>(m: &DMatrix<T>, i: usize, j: usize) -> T {
    m[(
        if m.nrows() == 1 { 0 } else { i },
        if m.ncols() == 1 { 0 } else { j },
    )]
}

fn deterministic(rows: usize, cols: usize, seed: u64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let k = (i * 7 + j * 13) as u64 + seed * 31;
        ((k % 17) as f64 / 8.5 - 1.0) * 0.9
    })
}

/// Σ over the broadcast shape of `weight · g(a, b, c)`, with plain matrices of any scalar.
fn weighted_sum_of_g<S: Float + nalgebra::Scalar>(
    a: &DMatrix<S>,
    b: &DMatrix<S>,
    c: &DMatrix<S>,
    shape: (usize, usize),
) -> S {
    let mut total = S::zero();
    for j in 0..shape.1 {
        for i in 0..shape.0 {
            let weight = S::from(1 + i + 2 * j).unwrap();
            total = total + weight * g(at(a, i, j), at(b, i, j), at(c, i, j));
        }
    }
    total
}

fn weights(shape: (usize, usize)) -> DMatrix<f64> {
    DMatrix::from_fn(shape.0, shape.1, |i, j| (1 + i + 2 * j) as f64)
}

/// Shapes broadcast against each other: equal, row vector, column vector, scalar.
const PATTERNS: [[(usize, usize); 3]; 5] = [
    [(3, 4), (3, 4), (3, 4)],
    [(3, 4), (1, 4), (3, 1)],
    [(1, 1), (2, 5), (2, 1)],
    [(1, 4), (3, 1), (1, 1)],
    [(1, 1), (1, 1), (1, 1)],
];

#[test]
fn three_inputs_with_broadcasting_match_the_scalar_tape() {
    for (p, shapes) in PATTERNS.iter().enumerate() {
        let inputs: Vec<DMatrix<f64>> = shapes
            .iter()
            .enumerate()
            .map(|(k, &(r, c))| deterministic(r, c, (p * 3 + k) as u64))
            .collect();
        let shape = (
            shapes.iter().map(|s| s.0).max().unwrap(),
            shapes.iter().map(|s| s.1).max().unwrap(),
        );
        let w = weights(shape);
        let (value, grads) = matrix::value_and_gradient(
            |m| {
                let y = MatVar::zip_map([m[0], m[1], m[2]], |[a, b, c]| g(a, b, c));
                assert_eq!(y.shape(), shape);
                y.component_mul(MatVar::constant(w.clone())).sum()
            },
            &inputs,
        );
        let flat: Vec<f64> = inputs.iter().flat_map(|m| m.iter().copied()).collect();
        let (scalar_value, scalar_grad) = adroit_reverse::value_and_gradient(
            |v| {
                let mut start = 0;
                let m: Vec<DMatrix<Var<f64>>> = shapes
                    .iter()
                    .map(|&(r, c)| {
                        let m = DMatrix::from_column_slice(r, c, &v[start..start + r * c]);
                        start += r * c;
                        m
                    })
                    .collect();
                weighted_sum_of_g(&m[0], &m[1], &m[2], shape)
            },
            &flat,
        );
        assert!((value - scalar_value).abs() <= 1e-12 * (1.0 + value.abs()));
        let got: Vec<f64> = grads.iter().flat_map(|m| m.iter().copied()).collect();
        assert_eq!(got.len(), scalar_grad.len());
        for (k, (x, y)) in got.iter().zip(&scalar_grad).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * (1.0 + y.abs()),
                "pattern {p}, entry {k}: {x} vs {y}"
            );
        }
    }
}

#[test]
fn three_inputs_with_broadcasting_match_finite_differences() {
    let shapes = PATTERNS[1];
    let inputs: Vec<DMatrix<f64>> = shapes
        .iter()
        .enumerate()
        .map(|(k, &(r, c))| deterministic(r, c, 40 + k as u64))
        .collect();
    let shape = (3, 4);
    let w = weights(shape);
    let grads = matrix::gradient(
        |m| {
            MatVar::zip_map([m[0], m[1], m[2]], |[a, b, c]| g(a, b, c))
                .component_mul(MatVar::constant(w.clone()))
                .sum()
        },
        &inputs,
    );
    let f = |x: &[DMatrix<f64>]| weighted_sum_of_g(&x[0], &x[1], &x[2], shape);
    let h = 1e-6;
    for k in 0..3 {
        for e in 0..inputs[k].len() {
            let mut plus = inputs.clone();
            let mut minus = inputs.clone();
            plus[k][e] += h;
            minus[k][e] -= h;
            let fd = (f(&plus) - f(&minus)) / (2.0 * h);
            let got = grads[k][e];
            assert!(
                (got - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                "input {k}, entry {e}: {got} vs {fd}"
            );
        }
    }
}

#[test]
fn one_input_is_map() {
    let x = dmatrix![0.3, -1.2; 2.0, 0.0];
    let softplus = |v: f64| v.exp().ln_1p();
    let (y1, p1) = matrix::pullback(
        |m| MatVar::zip_map([m[0]], |[v]| v.exp().ln_1p()),
        std::slice::from_ref(&x),
    );
    let (y2, p2) = matrix::pullback(|m| m[0].map(|v| v.exp().ln_1p()), std::slice::from_ref(&x));
    assert_eq!(y1, y2);
    assert_eq!(y1, x.map(softplus));
    let cotangent = dmatrix![1.0, -2.0; 0.5, 3.0];
    assert_eq!(p1.call(&cotangent), p2.call(&cotangent));
}

#[test]
fn two_inputs_agree_with_the_binary_rules() {
    // Same values and partials as the rule table's `zip_rule`, including max's tie convention
    // (½ each) and powf at a zero base.
    let a = dmatrix![1.0, 5.0, 3.0, 0.0, 2.0];
    let b = dmatrix![2.0, 4.0, 3.0, 2.5, 0.5];
    let inputs = [a, b];
    let cotangent = dmatrix![1.0, -1.0, 2.0, 0.5, 3.0];
    for (name, fused, rule) in [
        (
            "max",
            matrix::pullback(
                |m| MatVar::zip_map([m[0], m[1]], |[x, y]| x.max(y)),
                &inputs,
            ),
            matrix::pullback(|m| m[0].zip_rule(m[1], rules::Max), &inputs),
        ),
        (
            "powf",
            matrix::pullback(
                |m| MatVar::zip_map([m[0], m[1]], |[x, y]| x.powf(y)),
                &inputs,
            ),
            matrix::pullback(|m| m[0].zip_rule(m[1], rules::Powf), &inputs),
        ),
        (
            "atan2",
            matrix::pullback(
                |m| MatVar::zip_map([m[0], m[1]], |[x, y]| x.atan2(y)),
                &inputs,
            ),
            matrix::pullback(|m| m[0].zip_rule(m[1], rules::Atan2), &inputs),
        ),
    ] {
        assert_eq!(fused.0, rule.0, "{name} values");
        assert_eq!(
            fused.1.call(&cotangent),
            rule.1.call(&cotangent),
            "{name} cotangents"
        );
    }
}

#[test]
fn rosenbrock_array_form_matches_the_scalar_tape() {
    fn term<S: Float>(a: S, b: S) -> S {
        let hundred = S::from(100.0).unwrap();
        let (u, v) = (b - a * a, S::one() - a);
        hundred * u * u + v * v
    }
    fn rosenbrock<S: Float>(x: &[S]) -> S {
        x.chunks_exact(2)
            .fold(S::zero(), |acc, p| acc + term(p[0], p[1]))
    }
    let x: Vec<f64> = (0..20)
        .map(|i| ((i * 37 % 11) as f64 - 5.0) / 4.0)
        .collect();
    let column = DMatrix::from_column_slice(20, 1, &x);
    let (value, grads) = matrix::value_and_gradient(
        |m| {
            let pairs = m[0].reshape(2, 10);
            MatVar::zip_map([pairs.rows(0, 1), pairs.rows(1, 1)], |[a, b]| term(a, b)).sum()
        },
        &[&column],
    );
    // The same pairs as the even and odd entries (`x[0::2]`, `x[1::2]`): the same numbers.
    let strided = matrix::value_and_gradient(
        |m| {
            let (a, b) = (m[0].strided_rows(0, 10, 2), m[0].strided_rows(1, 10, 2));
            MatVar::zip_map([a, b], |[a, b]| term(a, b)).sum()
        },
        &[&column],
    );
    assert_eq!(strided.0, value);
    assert_eq!(strided.1[0], grads[0]);
    let (scalar_value, scalar_grad) = adroit_reverse::value_and_gradient(rosenbrock, &x);
    assert!((value - scalar_value).abs() <= 1e-12 * scalar_value.abs());
    for (k, (a, b)) in grads[0].iter().zip(&scalar_grad).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "entry {k}: {a} vs {b}"
        );
    }
}

#[test]
fn zero_partial_against_infinite_cotangent_gives_zero() {
    // ∂(a·b)/∂a = b = 0 against an infinite cotangent: 0 (the chain_product convention), not
    // NaN; the other partial is the plain product.
    let (_, pb) = matrix::pullback(
        |m| MatVar::zip_map([m[0], m[1]], |[a, b]| a * b),
        &[dmatrix![2.0, 3.0], dmatrix![0.0, 1.0]],
    );
    let g = pb.call(&dmatrix![f64::INFINITY, 1.0]);
    assert_eq!(g[0], dmatrix![0.0, 1.0]);
    assert_eq!(g[1], dmatrix![f64::INFINITY, 3.0]);
}

/// A uniform cotangent that does not scale a saved partial plainly (an infinite one, or 0
/// against an infinite partial) takes the entry-by-entry products, with 0 where either factor
/// is 0 — in `gradient`'s one sweep as in a kept recording's.
#[test]
fn a_uniform_infinite_or_zero_cotangent_keeps_the_convention() {
    let x = dmatrix![0.0, 4.0];
    let inputs = std::slice::from_ref(&x);
    // ∞ · Σ x²: the partial 2x is 0 at x = 0
    let g = matrix::gradient(
        |m| MatVar::zip_map([m[0]], |[a]| a * a).sum() * f64::INFINITY,
        inputs,
    );
    assert_eq!(g[0], dmatrix![0.0, f64::INFINITY]);
    // 0 · Σ √x: √'s partial at 0 is +∞
    let g = matrix::gradient(
        |m| MatVar::zip_map([m[0]], |[a]| a.sqrt()).sum() * 0.0,
        inputs,
    );
    assert_eq!(g[0], dmatrix![0.0, 0.0]);
    let (_, pb) = matrix::pullback(|m| MatVar::zip_map([m[0]], |[a]| a.sqrt()).sum(), inputs);
    assert_eq!(pb.call(&dmatrix![0.0])[0], dmatrix![0.0, 0.0]);
    assert_eq!(
        pb.call(&dmatrix![f64::INFINITY])[0],
        dmatrix![f64::INFINITY, f64::INFINITY]
    );
}

#[test]
fn constants_get_no_gradient_and_inputs_do() {
    let c = dmatrix![1.0, 2.0];
    let g = matrix::gradient(
        |m| MatVar::zip_map([m[0], MatVar::constant(c.clone())], |[a, b]| a * b * b).sum(),
        &[dmatrix![5.0, 7.0]],
    );
    assert_eq!(g[0], dmatrix![1.0, 4.0]);
    // A node whose inputs are all constants records no backward rule: the input's gradient is
    // zero.
    let g = matrix::gradient(
        |m| {
            let k = MatVar::zip_map([MatVar::constant(c.clone())], |[b]| b * b);
            m[0].component_mul(k).sum()
        },
        &[dmatrix![5.0, 7.0]],
    );
    assert_eq!(g[0], dmatrix![1.0, 4.0]);
}

#[test]
fn one_matrix_as_several_arguments_accumulates() {
    // f(x, x) = x·x: ∂/∂x = 2x through two parents that are one node.
    let g = matrix::gradient(
        |m| MatVar::zip_map([m[0], m[0]], |[a, b]| a * b).sum(),
        &[dmatrix![1.5, -2.0]],
    );
    assert_eq!(g[0], dmatrix![3.0, -4.0]);
}

#[test]
fn f32_matches_f64() {
    let (a, b) = (dmatrix![0.5_f32, -1.0, 2.0], dmatrix![1.5_f32, 0.25, -0.75]);
    let g32 = matrix::gradient(
        |m| MatVar::zip_map([m[0], m[1]], |[x, y]| (x * y).tanh() + x.powi(3)).sum(),
        &[a.clone(), b.clone()],
    );
    let g64 = gradient(
        |v| {
            (0..3).fold(Var::constant(0.0), |s, k| {
                s + (v[k] * v[k + 3]).tanh() + v[k].powi(3)
            })
        },
        &a.iter()
            .chain(b.iter())
            .map(|&v| f64::from(v))
            .collect::<Vec<_>>(),
    );
    let got: Vec<f32> = g32.iter().flat_map(|m| m.iter().copied()).collect();
    for (x, y) in got.iter().zip(&g64) {
        assert!(
            (f64::from(*x) - y).abs() <= 1e-6 * (1.0 + y.abs()),
            "{x} vs {y}"
        );
    }
}

#[test]
fn empty_matrices_give_empty_results() {
    let (y, pb) = matrix::pullback(
        |m| MatVar::zip_map([m[0], m[1]], |[a, b]| a * b),
        &[DMatrix::<f64>::zeros(0, 3), DMatrix::zeros(1, 3)],
    );
    assert_eq!(y.shape(), (0, 3));
    let g = pb.call(&DMatrix::zeros(0, 3));
    assert_eq!((g[0].shape(), g[1].clone()), ((0, 3), DMatrix::zeros(1, 3)));
}

#[test]
#[should_panic(expected = "zip_map: shape mismatch 2×3 vs 1×3 vs 3×1")]
fn shapes_that_do_not_broadcast_are_all_named() {
    matrix::gradient(
        |m| MatVar::zip_map([m[0], m[1], m[2]], |[a, b, c]| a + b + c).sum(),
        &[
            DMatrix::<f64>::zeros(2, 3),
            DMatrix::zeros(1, 3),
            DMatrix::zeros(3, 1),
        ],
    );
}

#[test]
#[should_panic(
    expected = "called while another matrix operation was recording: from inside its element"
)]
fn a_matrix_operation_inside_the_element_function_panics() {
    matrix::gradient(
        |m| {
            MatVar::zip_map([m[0]], |[a]| {
                let _ = MatVar::constant(dmatrix![1.0]);
                a
            })
            .sum()
        },
        &[dmatrix![1.0]],
    );
}
