//! `MatVar::affine` (`W·x + b` as one node) against the two nodes it replaces,
//! `w.matmul(x) + b`: values and gradients equal bit for bit, for every bias shape, small
//! products and ones on the blocked kernel, f32 and f64, non-finite entries, and inputs that
//! need no gradient.

use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use num_traits::Float;

/// Deterministic entries in (−2, 2), none zero.
fn mat<T: MatScalar>(rows: usize, cols: usize, seed: usize) -> DMatrix<T> {
    DMatrix::from_fn(rows, cols, |i, j| {
        let v = (((i * 7 + j * 13 + seed * 31) % 17) as f64 + 0.5) / 4.5 - 2.0;
        T::from_f64(v).unwrap()
    })
}

/// Equal bit for bit (signed zeros included), any NaN equal to any NaN.
fn same<T: MatScalar>(a: &DMatrix<T>, b: &DMatrix<T>) -> bool {
    a.shape() == b.shape()
        && a.iter().zip(b.iter()).all(|(x, y)| {
            (x.is_nan() && y.is_nan())
                || x.to_f64().unwrap().to_bits() == y.to_f64().unwrap().to_bits()
        })
}

/// Pullbacks of `loss(W·x + b)` fused and unfused, each called with two cotangents; `which`
/// marks the inputs recorded as constants (no gradient) with `false`.
fn compare<T: MatScalar>(
    inputs: [DMatrix<T>; 3],
    which: [bool; 3],
    loss: impl Fn(MatVar<T>) -> MatVar<T> + Copy,
) {
    let body = |fused: bool| {
        let inputs = inputs.clone();
        move |p: &[MatVar<T>]| {
            let mut k = 0;
            let [w, x, b] = std::array::from_fn(|i| {
                if which[i] {
                    k += 1;
                    p[k - 1]
                } else {
                    MatVar::constant(inputs[i].clone())
                }
            });
            let y = if fused {
                w.affine(x, b)
            } else {
                w.matmul(x) + b
            };
            loss(y)
        }
    };
    let wanted: Vec<DMatrix<T>> = (0..3)
        .filter(|&i| which[i])
        .map(|i| inputs[i].clone())
        .collect();
    let (v1, pb1) = matrix::pullback(body(true), &wanted);
    let (v2, pb2) = matrix::pullback(body(false), &wanted);
    assert!(same(&v1, &v2), "values:\n{v1}\n{v2}");
    for seed in [1.0, -0.375] {
        let seed = DMatrix::from_element(v1.nrows(), v1.ncols(), T::from_f64(seed).unwrap());
        let (g1, g2) = (pb1.call(&seed), pb2.call(&seed));
        for (a, b) in g1.iter().zip(&g2) {
            assert!(same(a, b), "gradients:\n{a}\n{b}");
        }
    }
}

/// A loss with a cotangent that differs entry by entry.
fn squares<T: MatScalar>(y: MatVar<T>) -> MatVar<T> {
    y.map(|v| v * v + v.sin()).sum()
}

fn every_bias_shape<T: MatScalar>() {
    for (m, k, n) in [(1, 1, 1), (3, 16, 16), (16, 4, 16), (2, 3, 5), (40, 30, 20)] {
        for (bias, seed) in [((m, 1), 3), ((1, n), 4), ((1, 1), 5), ((m, n), 6)] {
            let inputs = [mat(m, k, 1), mat(k, n, 2), mat(bias.0, bias.1, seed)];
            compare::<T>(inputs.clone(), [true; 3], squares);
            // the sum's uniform cotangent, written out by the node
            compare::<T>(inputs, [true; 3], |y| y.sum());
        }
    }
}

#[test]
fn affine_equals_matmul_then_add_for_every_bias_shape_f64() {
    every_bias_shape::<f64>();
}

#[test]
fn affine_equals_matmul_then_add_for_every_bias_shape_f32() {
    every_bias_shape::<f32>();
}

#[test]
fn affine_with_inputs_that_need_no_gradient() {
    let inputs = [mat::<f64>(4, 3, 1), mat(3, 5, 2), mat(4, 1, 3)];
    for which in [
        [true, false, false],
        [false, true, false],
        [false, false, true],
        [true, false, true],
        [false, true, true],
    ] {
        compare(inputs.clone(), which, squares);
    }
}

#[test]
fn affine_keeps_the_product_convention_and_propagates_non_finite_values() {
    // x holds ∞ and NaN in a column the loss weights by zero: ∂W stays finite there (0·∞ = 0),
    // as for `matmul`; the bias holds ∞ too.
    let mut x = mat::<f64>(3, 4, 2);
    x[(1, 2)] = f64::INFINITY;
    x[(0, 2)] = f64::NAN;
    let mut b = mat::<f64>(2, 1, 3);
    b[(1, 0)] = f64::INFINITY;
    let weights = DMatrix::from_fn(2, 4, |_, j| if j == 2 { 0.0 } else { 1.5 });
    compare([mat(2, 3, 1), x, b], [true; 3], |y| {
        y.weighted_sum(weights.clone())
    });
}

#[test]
fn affine_with_the_bias_also_an_operand_adds_in_the_same_order() {
    // `w.affine(h, h)` with `h` used again: h's adjoint gathers ∂b and ∂x on top of the sum's
    // 1, in the unfused order ((1 + ∂b) + ∂x), which rounding tells apart here.
    let loss = |fused: bool| {
        move |p: &[MatVar<f64>]| {
            let y = if fused {
                p[0].affine(p[1], p[1])
            } else {
                p[0].matmul(p[1]) + p[1]
            };
            y.sum() + p[1].sum()
        }
    };
    let inputs = [
        DMatrix::from_row_slice(2, 2, &[1e16, 0.0, 0.0, 1e16]),
        DMatrix::from_element(2, 1, 1.0),
    ];
    let fused = matrix::gradient(loss(true), &inputs);
    let unfused = matrix::gradient(loss(false), &inputs);
    assert_eq!(unfused[1][0], 1.0000000000000002e16);
    for (a, b) in fused.iter().zip(&unfused) {
        assert!(same(a, b), "gradients:\n{a}\n{b}");
    }
    // the same with W as the bias (square x)
    let square = [mat::<f64>(3, 3, 1), mat(3, 3, 2)];
    let (w_bias, unfused) = (
        matrix::gradient(|p| p[0].affine(p[1], p[0]).sum() + p[0].sum(), &square),
        matrix::gradient(|p| (p[0].matmul(p[1]) + p[0]).sum() + p[0].sum(), &square),
    );
    for (a, b) in w_bias.iter().zip(&unfused) {
        assert!(same(a, b), "gradients:\n{a}\n{b}");
    }
}

#[test]
#[should_panic(expected = "affine: shape mismatch 2×3 · 4×1")]
fn affine_names_both_shapes_when_the_inner_dimensions_differ() {
    let inputs = [
        DMatrix::<f64>::zeros(2, 3),
        DMatrix::zeros(4, 1),
        DMatrix::zeros(2, 1),
    ];
    let _ = matrix::gradient(|p| p[0].affine(p[1], p[2]).sum(), &inputs);
}

#[test]
#[should_panic(expected = "affine: the bias 3×1 does not broadcast to the product's 2×4")]
fn affine_names_a_bias_that_does_not_broadcast() {
    let inputs = [
        DMatrix::zeros(2, 3),
        DMatrix::zeros(3, 4),
        DMatrix::<f64>::zeros(3, 1),
    ];
    let _ = matrix::gradient(|p| p[0].affine(p[1], p[2]).sum(), &inputs);
}

#[test]
#[should_panic(expected = "does not broadcast")]
fn affine_refuses_a_bias_larger_than_the_product() {
    let inputs = [
        DMatrix::zeros(2, 3),
        DMatrix::zeros(3, 1),
        DMatrix::<f64>::zeros(2, 4),
    ];
    let _ = matrix::gradient(|p| p[0].affine(p[1], p[2]).sum(), &inputs);
}

#[test]
fn affine_with_empty_dimensions() {
    // k = 0: the product is zeros, so the value is b broadcast and ∂b the cotangent's sums;
    // m = 0 or n = 0: empty results (a bias dimension of 1 stretches to 0, as NumPy's).
    for (m, k, n, bias) in [
        (2, 0, 4, (1, 1)),
        (2, 0, 4, (2, 1)),
        (0, 3, 4, (1, 4)),
        (2, 3, 0, (2, 1)),
        (0, 0, 0, (1, 1)),
    ] {
        let inputs = [mat::<f64>(m, k, 1), mat(k, n, 2), mat(bias.0, bias.1, 3)];
        compare(inputs.clone(), [true; 3], squares);
        let (v, g) = matrix::value_and_gradient(|p| p[0].affine(p[1], p[2]).sum(), &inputs);
        let entries = (m * n) as f64;
        assert_eq!(v, inputs[2].sum() * entries / inputs[2].len() as f64);
        assert_eq!(g[2].sum(), entries);
    }
}
