//! Matrix-level operations against the scalar tape (the same loss written with `Var`s on
//! nalgebra matrices) on small sizes, plus shapes, broadcasting and stability.

use adroit_reverse::adroit_forward::{Dual, DualVec, rules};
use adroit_reverse::matrix::{self, Along, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

/// A deterministic matrix with entries in (−1, 1).
pub(crate) fn mat(rows: usize, cols: usize, seed: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        (((i * 7 + j * 13 + seed * 31) % 17) as f64 / 8.5 - 1.0) * 0.9
    })
}

/// Splits a flat slice of variables into matrices of the given shapes (column-major).
fn split(v: &[Var<f64>], shapes: &[(usize, usize)]) -> Vec<DMatrix<Var<f64>>> {
    let mut start = 0;
    shapes
        .iter()
        .map(|&(r, c)| {
            let m = DMatrix::from_column_slice(r, c, &v[start..start + r * c]);
            start += r * c;
            m
        })
        .collect()
}

/// Asserts that the matrix-level gradient equals the scalar-tape gradient of the same loss.
fn compare(
    inputs: &[DMatrix<f64>],
    f_mat: impl FnOnce(&[MatVar<f64>]) -> MatVar<f64>,
    f_scalar: impl FnOnce(&[DMatrix<Var<f64>>]) -> Var<f64>,
) {
    let shapes: Vec<_> = inputs.iter().map(|m| m.shape()).collect();
    let flat: Vec<f64> = inputs.iter().flat_map(|m| m.iter().copied()).collect();
    let (v_mat, g_mat) = matrix::value_and_gradient(f_mat, inputs);
    let (v_scalar, g_scalar) =
        adroit_reverse::value_and_gradient(|v| f_scalar(&split(v, &shapes)), &flat);
    assert!(
        (v_mat - v_scalar).abs() <= 1e-12 * (1.0 + v_scalar.abs()),
        "{v_mat} vs {v_scalar}"
    );
    let g_mat: Vec<f64> = g_mat.iter().flat_map(|m| m.iter().copied()).collect();
    for (k, (a, b)) in g_mat.iter().zip(&g_scalar).enumerate() {
        assert!(
            (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
            "entry {k}: {a} vs {b}"
        );
    }
}

#[test]
fn dense_layer_loss() {
    // ‖tanh(W x + b)‖² with the bias broadcast across the batch.
    for (o, i, n) in [(3, 4, 5), (1, 1, 1), (2, 5, 3), (6, 2, 4)] {
        compare(
            &[mat(o, i, 1), mat(o, 1, 2), mat(i, n, 3)],
            |p| {
                let h = (p[0] * p[2] + p[1]).tanh();
                h.component_mul(h).sum()
            },
            |p| {
                let z = &p[0] * &p[2];
                let h = DMatrix::from_fn(z.nrows(), z.ncols(), |r, c| {
                    (z[(r, c)] + p[1][(r, 0)]).tanh()
                });
                h.iter().fold(Var::constant(0.0), |acc, &v| acc + v * v)
            },
        );
    }
}

#[test]
fn matrix_products_and_transpose() {
    // Shapes ≤ 5 (nalgebra issue #1616 concerns transposed views there).
    // Larger, unequal shapes cross the product kernel's blocking (transposed operands are read
    // through their strides in the backward pass).
    for (m, k, n) in [
        (1, 1, 1),
        (2, 3, 1),
        (5, 5, 5),
        (4, 1, 3),
        (9, 17, 13),
        (33, 8, 65),
    ] {
        compare(
            &[mat(m, k, 4), mat(n, k, 5)],
            |p| (p[0] * p[1].transpose()).powi(2).mean(),
            |p| {
                let c = &p[0] * p[1].transpose();
                c.iter().fold(Var::constant(0.0), |acc, &v| acc + v * v) / (m * n) as f64
            },
        );
    }
}

#[test]
fn broadcasting_rows_columns_and_scalars() {
    let a = mat(3, 4, 6);
    // A row vector, a column vector and a scalar.
    for b in [mat(1, 4, 7), mat(3, 1, 8), mat(1, 1, 9)] {
        let (br, bc) = b.shape();
        let at = move |p: &DMatrix<Var<f64>>, i: usize, j: usize| {
            p[(if br == 1 { 0 } else { i }, if bc == 1 { 0 } else { j })]
        };
        compare(
            &[a.clone(), b.clone()],
            |p| ((p[0] - p[1]).component_mul(p[1]) + p[0].component_div(p[1] + 3.0)).sum(),
            |p| {
                let mut s = Var::constant(0.0);
                for i in 0..3 {
                    for j in 0..4 {
                        let (x, y) = (p[0][(i, j)], at(&p[1], i, j));
                        s += (x - y) * y + x / (y + 3.0);
                    }
                }
                s
            },
        );
        // Broadcasting works with the broadcast operand on the left too.
        compare(
            &[b.clone(), a.clone()],
            |p| (p[0] + p[1]).sum(),
            |p| {
                let mut s = Var::constant(0.0);
                for i in 0..3 {
                    for j in 0..4 {
                        s += at(&p[0], i, j) + p[1][(i, j)];
                    }
                }
                s
            },
        );
    }
}

#[test]
fn maps_scalar_operations_and_rules() {
    compare(
        &[mat(3, 2, 10)],
        |p| {
            let x = p[0];
            let y = (x * 2.0 - 1.0).exp() + (-x).abs().sqrt() + 0.5 * x.map(|v| v.sin() * v);
            (2.0 - y / 4.0).zip_rule(x, rules::Max).sum()
        },
        |p| {
            p[0].iter().fold(Var::constant(0.0), |acc, &x| {
                let y = (x * 2.0 - 1.0).exp() + (-x).abs().sqrt() + 0.5 * (x.sin() * x);
                acc + (2.0 - y / 4.0).max(x)
            })
        },
    );
}

/// `powf` with a constant exponent against the scalar tape's `powf` (the rule table's), on
/// positive entries and at 0 (the table's conventions: derivative 0 for `p > 1`, `+∞` for
/// `0 < p < 1`).
#[test]
fn powf_with_a_constant_exponent() {
    let x = mat(3, 2, 4).map(|v| v.abs() + 0.25);
    for p in [1.5, 0.5, -2.5, 3.0] {
        compare(
            std::slice::from_ref(&x),
            |m| m[0].powf(p).sum(),
            |m| {
                m[0].iter()
                    .fold(Var::constant(0.0), |acc, &v| acc + v.powf(Var::constant(p)))
            },
        );
    }
    let at_zero = |p: f64| matrix::gradient(|m| m[0].powf(p).sum(), &[dmatrix![0.0]])[0][0];
    assert_eq!(
        (at_zero(1.5), at_zero(1.0), at_zero(0.5)),
        (0.0, 1.0, f64::INFINITY)
    );
}

#[test]
fn reductions_along_dimensions() {
    for along in [Along::Rows, Along::Cols] {
        compare(
            &[mat(3, 4, 11)],
            |p| {
                let s = p[0].sum_along(along);
                let m = p[0].mean_along(along);
                s.component_mul(m).sum() + p[0].mean()
            },
            |p| {
                let x = &p[0];
                let lines: Vec<Vec<Var<f64>>> = match along {
                    Along::Rows => x
                        .column_iter()
                        .map(|c| c.iter().copied().collect())
                        .collect(),
                    Along::Cols => x.row_iter().map(|r| r.iter().copied().collect()).collect(),
                };
                let mut total = Var::constant(0.0);
                for line in &lines {
                    let s = line.iter().fold(Var::constant(0.0), |a, &v| a + v);
                    total += s * (s / line.len() as f64);
                }
                total + x.iter().fold(Var::constant(0.0), |a, &v| a + v) / 12.0
            },
        );
    }
}

/// Scalar-tape softmax pieces of one line.
fn line_lse(line: &[Var<f64>]) -> Var<f64> {
    line.iter()
        .fold(Var::constant(0.0), |a, &v| a + v.exp())
        .ln()
}

#[test]
fn logsumexp_softmax_logsoftmax() {
    for along in [Along::Rows, Along::Cols] {
        let weights = mat(3, 4, 12);
        let wc = weights.clone();
        compare(
            &[mat(3, 4, 13)],
            |p| {
                let w = MatVar::constant(wc);
                let a = p[0].softmax(along).component_mul(w).sum();
                let b = p[0].logsoftmax(along).component_mul(w).sum();
                let c = p[0].logsumexp(along).sum();
                a + b * 0.5 + c * 0.25
            },
            |p| {
                let x = &p[0];
                let mut total = Var::constant(0.0);
                let n_lines = if along == Along::Rows { 4 } else { 3 };
                for l in 0..n_lines {
                    let idx: Vec<(usize, usize)> = match along {
                        Along::Rows => (0..3).map(|i| (i, l)).collect(),
                        Along::Cols => (0..4).map(|j| (l, j)).collect(),
                    };
                    let line: Vec<Var<f64>> = idx.iter().map(|&ij| x[ij]).collect();
                    let lse = line_lse(&line);
                    for (&ij, &v) in idx.iter().zip(&line) {
                        total += (v - lse).exp() * weights[ij] + (v - lse) * weights[ij] * 0.5;
                    }
                    total += lse * 0.25;
                }
                total
            },
        );
    }
}

#[test]
fn softmax_is_stable_for_huge_logits() {
    let logits = dmatrix![1000.0, -1000.0; -1000.0, 1000.0; 0.0, 999.0];
    let target = dmatrix![1.0, 0.0; 0.0, 0.0; 0.0, 1.0];
    let (loss, g) = matrix::value_and_gradient(
        |p| {
            -(p[0]
                .logsoftmax(Along::Rows)
                .component_mul(MatVar::constant(target.clone())))
            .sum()
        },
        std::slice::from_ref(&logits),
    );
    assert!(loss.is_finite(), "{loss}");
    // Gradient of cross-entropy with logits: softmax − onehot.
    let soft = matrix::pullback(|p| p[0].softmax(Along::Rows), &[logits]).0;
    assert!(soft.iter().all(|v| v.is_finite()));
    let expected = &soft - &target;
    assert!((&g[0] - &expected).amax() < 1e-12, "{} vs {expected}", g[0]);
    // Column 1 is (−1000, 1000, 999): softmax of the last entry is 1/(1 + e).
    assert!((soft[(2, 1)] - 1.0 / (1.0 + 1.0f64.exp())).abs() < 1e-12);
}

/// The log-softmax pullback where the cotangents are finite but their sum overflows, beside
/// an entry whose softmax underflowed to 0: that entry keeps its own cotangent (`0·∞ = 0`, as
/// everywhere in the pullbacks), not NaN. (The others overflow with the sum, to −∞, where
/// their exact values are finite: a limit of the formula `g − s·Σg`, checked here for its
/// sign.)
#[test]
fn logsoftmax_pullback_with_an_overflowing_cotangent_sum_keeps_the_zero_product_convention() {
    let x = dmatrix![0.0; -1000.0; 5.0];
    let (_, pb) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), std::slice::from_ref(&x));
    let g = pb.call(&dmatrix![1e308; 0.5; 1e308]);
    let minus = f64::NEG_INFINITY;
    assert_eq!(g[0], dmatrix![minus; 0.5; minus]);
}

/// From a subagent's f32 hunt: the pullbacks of `softmax` and `logsoftmax` summed the other
/// entries of a line in `f32` for its largest entry, whose gradient lost up to 1.7e-4
/// relative over 10⁶ classes (4.6e-6 at 2¹⁷; the other entries, 1e-7). Summed in `f64` as
/// the forward pass does, every entry is within a few `f32` roundings of the `f64` gradient of
/// the same inputs, along both dimensions.
#[test]
fn long_softmax_lines_in_f32_keep_their_top_entrys_gradient() {
    /// The gradient of `Σ w ⊙ softmax(x)` (or logsoftmax) along `along`, for column vectors
    /// `x` and `w` laid out as a line of that dimension.
    fn line_gradient<T: matrix::MatScalar>(
        x: &DMatrix<T>,
        w: &DMatrix<T>,
        along: Along,
        soft: bool,
    ) -> DMatrix<T> {
        let laid = |m: &DMatrix<T>| laid_along(m, along);
        let w = laid(w);
        let g = matrix::gradient(
            |m| {
                let y = if soft {
                    m[0].softmax(along)
                } else {
                    m[0].logsoftmax(along)
                };
                y.component_mul(MatVar::constant(w)).sum()
            },
            &[laid(x)],
        );
        g[0].clone()
    }
    let n = 1 << 17;
    // logits in ±3 and weights in ±1 from a fixed sequence; the largest logit is entry 0
    let logit = |i: usize| {
        if i == 0 {
            3.5
        } else {
            3.0 * (i as f32 * 0.618_034).sin()
        }
    };
    let weight = |i: usize| (i as f32 * 1.324_718).cos();
    let x32 = DMatrix::from_fn(n, 1, |i, _| logit(i));
    let w32 = DMatrix::from_fn(n, 1, |i, _| weight(i));
    let (x64, w64) = (x32.map(f64::from), w32.map(f64::from));
    for along in [Along::Rows, Along::Cols] {
        for soft in [false, true] {
            let f32_grad = line_gradient(&x32, &w32, along, soft);
            let f64_grad = line_gradient(&x64, &w64, along, soft);
            let (got, want) = (f64::from(f32_grad[0]), f64_grad[0]);
            assert!(
                (got - want).abs() <= 2e-6 * want.abs(),
                "{along:?} softmax {soft}: top entry {got} for {want}"
            );
            let scale = f64_grad.amax();
            let error = (f32_grad.map(f64::from) - &f64_grad).amax();
            assert!(
                error <= 1e-6 * scale,
                "{along:?} softmax {soft}: {error} of {scale}"
            );
        }
    }
}

#[test]
fn saturated_logsoftmax_keeps_the_relative_precision_of_its_largest_entry() {
    // log-probability of the dominant logit: −ln(1 + e⁻⁴⁰) = −e⁻⁴⁰ to double precision (0
    // through ln(1 + r), as in PyTorch and JAX); logsumexp likewise e⁻⁴⁰ above the maximum.
    let r = (-40.0f64).exp();
    let x = dmatrix![0.0; -40.0];
    let (y, _) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), std::slice::from_ref(&x));
    assert_eq!(y, dmatrix![-r; -40.0 - r]);
    let (lse, _) = matrix::pullback(|m| m[0].logsumexp(Along::Rows), std::slice::from_ref(&x));
    assert_eq!(lse, dmatrix![r]);
    // The same along rows, with a tie: ln(2 + r) − the tie stays ln 2 + r/2 to rounding.
    let (y, _) = matrix::pullback(
        |m| m[0].logsoftmax(Along::Cols),
        &[dmatrix![-40.0, 0.0, 0.0]],
    );
    let want = -(1.0 + r).ln_1p();
    assert_eq!(y, dmatrix![-40.0 + want, want, want]);
    assert!((want + 2f64.ln() + r / 2.0).abs() < 1e-16);
    // f32: e⁻²⁰ ≈ 2.1e-9 is far below f32's ε/2, and still not lost.
    let r32 = (-20.0f32).exp();
    let (y32, _) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), &[dmatrix![5.0f32; -15.0]]);
    assert_eq!(y32[0], -r32);
    // The gradient is unchanged: softmax − onehot for the cross-entropy of class 0.
    let (loss, g) = matrix::value_and_gradient(
        |m| -m[0].logsoftmax(Along::Rows).rows(0, 1).sum(),
        std::slice::from_ref(&x),
    );
    assert_eq!(loss, r);
    let s1 = r / (1.0 + r);
    // (−s₁ at the largest entry, rounded at the scale of its 1 − 1)
    assert!((g[0][(0, 0)] + s1).abs() < 1e-17 && g[0][(1, 0)] == s1);
}

#[test]
fn saturated_softmax_pullbacks_keep_the_top_entry_derivative_in_f32() {
    // At logits (−20, 20, 0) the top softmax entry s₁ rounds to 1 in f32, so 1 − s₁ is 0
    // there; the top entry's derivatives are Σ_{j≠1} s_j = 2.06e−9 (log-probability) and
    // s₁·Σ_{j≠1} s_j (probability), formed from the other entries along either dimension.
    let (a, b) = ((-40.0f64).exp(), (-20.0f64).exp());
    let rest = (a + b) / (1.0 + a + b);
    let (x, seed) = (dmatrix![-20.0f32; 20.0; 0.0], dmatrix![0.0f32; 1.0; 0.0]);
    let ops: [(&str, LineOp<f32>, f64); 2] = [
        ("logsoftmax", MatVar::logsoftmax, rest),
        ("softmax", MatVar::softmax, (1.0 - rest) * rest),
    ];
    for along in [Along::Rows, Along::Cols] {
        for (name, op, want) in ops {
            let (_, pb) = matrix::pullback(|m| op(m[0], along), &[laid_along(&x, along)]);
            let top = f64::from(pb.call(&laid_along(&seed, along))[0][1]);
            assert!(
                (top - want).abs() <= 1e-6 * want,
                "{along:?} {name}: {top:e} vs {want:e}"
            );
        }
    }
}

#[test]
fn reshape_and_pullback() {
    let a = mat(2, 3, 14);
    let (y, pb) = matrix::pullback(
        |p| p[0].reshape(3, 2).transpose() * 2.0,
        std::slice::from_ref(&a),
    );
    assert_eq!(y.shape(), (2, 3));
    let ct = mat(2, 3, 15);
    let g = pb.call(&ct);
    let expected = (ct.transpose() * 2.0).reshape_generic(nalgebra::Dyn(2), nalgebra::Dyn(3));
    assert_eq!(g[0], expected);
    assert_eq!(pb.call(&ct), g, "a pullback can be called again");
}

#[test]
fn constants_and_unused_inputs_get_zero_gradients() {
    let g = matrix::gradient(|p| p[0].sum(), &[mat(2, 2, 16), mat(3, 1, 17)]);
    assert_eq!(g[0], DMatrix::from_element(2, 2, 1.0));
    assert_eq!(g[1], DMatrix::zeros(3, 1));
    // An input used twice accumulates both contributions.
    let g = matrix::gradient(|p| (p[0] + p[0]).sum(), &[mat(2, 2, 18)]);
    assert_eq!(g[0], DMatrix::from_element(2, 2, 2.0));
}

#[test]
fn f32_matrices() {
    let w = mat(3, 3, 19).map(|v| v as f32);
    let g = matrix::gradient(|p| p[0].tanh().sum(), std::slice::from_ref(&w));
    let expected = w.map(|v| 1.0 - v.tanh().powi(2));
    assert!((&g[0] - &expected).amax() < 1e-6);
}

#[test]
#[should_panic(
    expected = "matmul: shape mismatch 2×3 · 2×3 (inner dimensions differ); `*` is \
                           the matrix product (as nalgebra's): the entry-wise product is \
                           `component_mul`"
)]
fn matmul_shape_mismatch_names_both_shapes_and_the_entrywise_product() {
    let _ = matrix::gradient(|p| (p[0] * p[1]).sum(), &[mat(2, 3, 1), mat(2, 3, 2)]);
}

#[test]
fn matmul_of_different_shapes_gives_no_entrywise_hint() {
    let outcome = std::panic::catch_unwind(|| {
        matrix::gradient(|p| (p[0] * p[1]).sum(), &[mat(2, 3, 1), mat(2, 2, 2)])
    });
    let message = outcome.unwrap_err();
    let message = message.downcast_ref::<String>().unwrap();
    assert!(
        message.ends_with("2×3 · 2×2 (inner dimensions differ)"),
        "{message}"
    );
}

#[test]
#[should_panic(
    expected = "matmul: shape mismatch 1×1 · 3×3 (inner dimensions differ); to scale by a 1×1 \
                matrix, use `component_mul`, which broadcasts it"
)]
fn matmul_by_a_one_by_one_matrix_points_to_the_broadcasting_product() {
    let _ = matrix::gradient(|p| (p[0] * p[1]).sum(), &[mat(1, 1, 1), mat(3, 3, 2)]);
}

#[test]
fn value_and_gradient_with_aux_passes_the_aux_through_and_matches_without_it() {
    // Softmax regression's loss with the logits as the auxiliary output: the gradient is the
    // one without aux, and equals the closed form (softmax − onehot)·Xᵀ / batch.
    let (w, x) = (mat(3, 4, 1), mat(4, 5, 2));
    let onehot = DMatrix::from_fn(3, 5, |i, j| if i == j % 3 { 1.0 } else { 0.0 });
    let loss = |m: &[MatVar<f64>]| {
        let z = m[0].matmul(MatVar::constant(x.clone()));
        let picked = z
            .component_mul(MatVar::constant(onehot.clone()))
            .sum_along(Along::Rows);
        (
            (z.logsumexp(Along::Rows) - picked).mean(),
            z.value().clone(),
        )
    };
    let (v, g, logits) = matrix::value_and_gradient_with_aux(loss, &[&w]);
    let (v0, g0) = matrix::value_and_gradient(|m| loss(m).0, &[&w]);
    assert_eq!((v, &g), (v0, &g0));
    assert!((&logits - &w * &x).amax() < 1e-15); // the kernel's rounding may differ
    let softmax = DMatrix::from_fn(3, 5, |i, j| {
        let col = logits.column(j);
        let max = col.max();
        (col[i] - max).exp() / col.iter().map(|z| (z - max).exp()).sum::<f64>()
    });
    let expected = (softmax - onehot) * x.transpose() / 5.0;
    assert!((&g[0] - expected).amax() < 1e-15);
}

#[test]
fn matmul_pullback_keeps_nan_against_zero_at_zero_both_ways() {
    // The documented 0·∞ = 0 convention, both directions: a NaN feature of sample 0 reaches
    // only the weight-gradient entry of that feature (G·xᵀ: NaN cotangent · 0 stays 0 where
    // a feature is 0), and a zero cotangent against it contributes 0.
    let x = dmatrix![f64::NAN, 1.0; 0.0, 2.0]; // features × batch, feature 0 of sample 0 NaN
    let w = dmatrix![1.0, 1.0];
    let g = matrix::gradient(
        |m| {
            let z = m[0].matmul(MatVar::constant(x.clone()));
            z.component_mul(z).sum()
        },
        &[&w],
    );
    // z = [NaN, 3]; ∂W = 2z·xᵀ = [2·NaN·NaN + 2·3·1, 2·NaN·0 + 2·3·2] = [NaN, 12]
    assert!(g[0][(0, 0)].is_nan());
    assert_eq!(g[0][(0, 1)], 12.0);
    // A zero cotangent against the NaN: sample 0 not read by the loss.
    let g = matrix::gradient(
        |m| m[0].matmul(MatVar::constant(x.clone())).columns(1, 1).sum(),
        &[&w],
    );
    assert_eq!(g[0], dmatrix![1.0, 2.0]);
}

/// Empty operands can name any dimensions: `2³² × 0` times `0 × 2³²` holds no entries, but the
/// product's `2⁶⁴` entries cannot be counted (nalgebra's constructors would wrap the count and
/// index past the buffer: a crash in release builds, found by a hunt).
#[test]
#[cfg(target_pointer_width = "64")]
#[should_panic(
    expected = "matmul: the 4294967296×4294967296 result of 4294967296×0 · 0×4294967296 has more \
                entries than usize can count"
)]
fn matmul_of_empty_operands_with_uncountable_result_panics_clearly() {
    let big = 1usize << 32;
    let _ = matrix::pullback(
        |p| p[0] * p[1],
        &[DMatrix::<f64>::zeros(big, 0), DMatrix::zeros(0, big)],
    );
}

/// Countable entries but more bytes than an allocation can hold (2⁶² f64): refused the same
/// way (it reached nalgebra's "capacity overflow", which names no shapes).
#[test]
#[cfg(target_pointer_width = "64")]
#[should_panic(expected = "matmul: the 2147483648×2147483648 result of")]
fn matmul_of_empty_operands_with_unallocatable_result_panics_clearly() {
    let big = 1usize << 31;
    let _ = matrix::pullback(
        |p| p[0] * p[1],
        &[DMatrix::<f64>::zeros(big, 0), DMatrix::zeros(0, big)],
    );
}

/// The same for `affine` (its bias broadcasts from 1 × 1).
#[test]
#[cfg(target_pointer_width = "64")]
#[should_panic(expected = "affine: the 4294967296×4294967296 result of")]
fn affine_of_empty_operands_with_uncountable_result_panics_clearly() {
    let big = 1usize << 32;
    let _ = matrix::pullback(
        |p| p[0].affine(p[1], p[2]),
        &[
            DMatrix::<f64>::zeros(big, 0),
            DMatrix::zeros(0, big),
            dmatrix![1.0],
        ],
    );
}

/// A product of empty operands whose result can be counted is zeros, with zero gradients.
#[test]
fn matmul_of_empty_operands_is_zeros() {
    let (v, pb) = matrix::pullback(
        |p| p[0] * p[1],
        &[DMatrix::<f64>::zeros(3, 0), DMatrix::zeros(0, 4)],
    );
    assert_eq!(v, DMatrix::zeros(3, 4));
    let g = pb.call(&DMatrix::from_element(3, 4, 1.0));
    assert_eq!((g[0].shape(), g[1].shape()), ((3, 0), (0, 4)));
}

#[test]
#[should_panic(expected = "add: shape mismatch 2×3 vs 3×2 (each dimension must be equal or 1)")]
fn add_shape_mismatch_names_both_shapes() {
    let _ = matrix::gradient(|p| (p[0] + p[1]).sum(), &[mat(2, 3, 1), mat(3, 2, 2)]);
}

#[test]
#[should_panic(expected = "view: a 2×2 block at (1, 2) does not fit in a 2×3 matrix")]
fn view_outside_the_matrix_names_both_shapes() {
    let _ = matrix::gradient(|p| p[0].view((1, 2), (2, 2)).sum(), &[mat(2, 3, 1)]);
}

#[test]
#[should_panic(expected = "view: a 1×18446744073709551615 block at (0, 1)")]
fn view_size_overflow_is_refused() {
    let _ = matrix::gradient(
        |p| p[0].view((0, 1), (1, usize::MAX)).sum(),
        &[mat(2, 3, 1)],
    );
}

#[test]
#[should_panic(expected = "rows: a 2×3 block at (1, 0) does not fit in a 2×3 matrix")]
fn rows_outside_the_matrix_names_the_method() {
    let _ = matrix::gradient(|p| p[0].rows(1, 2).sum(), &[mat(2, 3, 1)]);
}

/// Every row of a matrix taken as its own view (the adjoint is built once and each view adds
/// its block): the gradient of Σᵢ (i + 1)·Σ rowᵢ is i + 1 on row i.
#[test]
fn many_views_of_one_matrix_accumulate_their_blocks() {
    let x = mat(5, 4, 3);
    let g = matrix::gradient(
        |p| {
            let mut total = p[0].rows(0, 1).sum();
            for i in 1..5 {
                total = total + p[0].rows(i, 1).sum() * (i as f64 + 1.0);
            }
            total
        },
        std::slice::from_ref(&x),
    );
    assert_eq!(g[0], DMatrix::from_fn(5, 4, |i, _| i as f64 + 1.0));
}

#[test]
#[should_panic(expected = "vcat: a 2×2 part does not fit a 2×3 part (columns must agree)")]
fn vcat_mismatch_names_both_shapes() {
    let _ = matrix::gradient(
        |p| MatVar::vcat(&[p[0], p[1]]).sum(),
        &[mat(2, 3, 1), mat(2, 2, 2)],
    );
}

#[test]
#[should_panic(expected = "hcat: no parts to concatenate")]
fn hcat_of_nothing_panics() {
    let _ = matrix::gradient(|p| MatVar::hcat(&[]).sum() + p[0].sum(), &[mat(2, 3, 1)]);
}

#[test]
#[should_panic(expected = "must return a 1×1 matrix")]
fn gradient_needs_a_scalar_loss() {
    let _ = matrix::gradient(|p| p[0], &[mat(2, 2, 1)]);
}

#[test]
#[should_panic(expected = "used outside the scope")]
fn stale_matvar_panics() {
    let mut leaked = None;
    let _ = matrix::gradient(
        |p| {
            leaked = Some(p[0]);
            p[0].sum()
        },
        &[mat(2, 2, 1)],
    );
    let _ = leaked.unwrap().sum();
}

#[test]
fn gradient_of_a_float_function_agrees_with_scalar_gradient() {
    // `map` differentiates any Float function through a forward-mode Dual.
    fn f<S: Float>(x: S) -> S {
        (x * x + S::one()).ln() * x.cos()
    }
    let a = mat(2, 2, 20);
    let g = matrix::gradient(|p| p[0].map(f).sum(), std::slice::from_ref(&a));
    for (gi, &ai) in g[0].iter().zip(a.iter()) {
        let expected = gradient(|v| f(v[0]), &[ai])[0];
        assert!((gi - expected).abs() < 1e-14);
    }
}

#[test]
fn zero_times_infinite_partials_is_zero() {
    // sqrt'(0) = ∞ where the downstream adjoint is 0 (a masked entry): 0, not NaN.
    let x = dmatrix![0.0, 4.0];
    let mask = dmatrix![0.0, 1.0];
    let g = matrix::gradient(
        |p| {
            p[0].sqrt()
                .component_mul(MatVar::constant(mask.clone()))
                .sum()
        },
        std::slice::from_ref(&x),
    );
    assert_eq!(g[0], dmatrix![0.0, 0.25]);
}

/// `max(x, 0)` entry by entry, with the derivative convention `relu'(0) = 0`.
fn relu(m: MatVar<f64>) -> MatVar<f64> {
    m.map_with_derivative(|x| if x > 0.0 { (x, 1.0) } else { (0.0, 0.0) })
}

#[test]
fn zero_partial_against_infinite_cotangent_gives_zero() {
    // sqrt'(0) = ∞ flows back into relu's zero partial (x ≤ 0): the convention of
    // `chain_product` gives 0 there, never 0·∞ = NaN; elsewhere 1/(2√x).
    let x = dmatrix![-1.0, 4.0; 0.0, 0.25];
    let g = matrix::gradient(|m| relu(m[0]).sqrt().sum(), &[x]);
    assert_eq!(g[0], dmatrix![0.0, 0.25; 0.0, 1.0]);
    // A constant zero scale against the same infinite cotangent.
    let g = matrix::gradient(|m| (m[0] * 0.0).sqrt().sum(), &[dmatrix![1.0, 2.0]]);
    assert_eq!(g[0], dmatrix![0.0, 0.0]);
}

#[test]
fn infinite_partial_against_zero_cotangent_gives_zero() {
    // sqrt'(0) = ∞ is a non-finite partial; the cotangent reaching it is 0 (scaled by 0).
    let g = matrix::gradient(|m| (m[0].sqrt() * 0.0).sum(), &[dmatrix![0.0, 1.0]]);
    assert_eq!(g[0], dmatrix![0.0, 0.0]);
    // ... and an infinite partial against a non-zero cotangent stays infinite.
    let g = matrix::gradient(|m| m[0].sqrt().sum(), &[dmatrix![0.0, 1.0]]);
    assert_eq!(g[0], dmatrix![f64::INFINITY, 0.5]);
}

#[test]
fn nan_cotangent_with_non_zero_partial_stays_nan() {
    // (−1)^½ = NaN; its cotangent reaches the relu node through sqrt' = NaN.
    let g = matrix::gradient(|m| (m[0] - 2.0).sqrt().sum(), &[dmatrix![1.0, 6.0]]);
    assert!(g[0][(0, 0)].is_nan());
    assert_eq!(g[0][(0, 1)], 0.25);
}

#[test]
fn inputs_by_reference_give_the_same_gradient() {
    let (a, b) = (mat(3, 4, 30), mat(4, 2, 31));
    let loss = |p: &[MatVar<f64>]| (p[0] * p[1]).tanh().sum();
    let owned = matrix::value_and_gradient(loss, &[a.clone(), b.clone()]);
    let borrowed = matrix::value_and_gradient(loss, &[&a, &b]);
    assert_eq!(owned, borrowed);
}

#[test]
#[should_panic(expected = "from another tape")]
fn matvar_of_a_finished_call_panics_in_the_next_one() {
    // The first call's input is borrowed by its tape and dropped afterwards: its variable must
    // fail the tape check in the second call before any value is read.
    let mut leaked = None;
    {
        let input = mat(2, 2, 32);
        let _ = matrix::gradient(
            |p| {
                leaked = Some(p[0]);
                p[0].sum()
            },
            &[&input],
        );
    }
    let _ = matrix::gradient(|p| (p[0] + leaked.unwrap()).sum(), &[mat(2, 2, 33)]);
}
/// A gradient of a gradient on the matrix tape (an outer variable inside an inner call) panics
/// pointing at `matrix::hvp`/`matrix::hessian` (a trial's request: the message named only the
/// tapes).
#[test]
#[should_panic(expected = "use matrix::hvp or matrix::hessian")]
fn a_nested_matrix_gradient_points_at_hvp() {
    let _ = matrix::gradient(
        |outer| {
            let inner = matrix::gradient(|p| (p[0] * outer[0]).sum(), &[mat(2, 2, 34)]);
            outer[0].sum() * inner[0][(0, 0)]
        },
        &[mat(2, 2, 35)],
    );
}

#[test]
fn zero_cols_broadcast_against_column() {
    // 2×0 + 2×1 broadcasts to 2×0 (NumPy: (2,0)+(2,1) -> (2,0)); the gradient is 2×0 and 2×1 zeros.
    let a = DMatrix::<f64>::zeros(2, 0);
    let b = DMatrix::<f64>::from_element(2, 1, 1.0);
    let g = matrix::gradient(|m| (m[0] + m[1]).sum(), &[a, b]);
    assert_eq!(g[0].shape(), (2, 0));
    assert_eq!(g[1], DMatrix::zeros(2, 1));
}

#[test]
fn zero_cols_broadcast_against_scalar() {
    let a = DMatrix::<f64>::zeros(3, 0);
    let b = DMatrix::<f64>::from_element(1, 1, 1.0);
    let g = matrix::gradient(|m| m[0].component_mul(m[1]).sum(), &[a, b]);
    assert_eq!(g[0].shape(), (3, 0));
    assert_eq!(g[1], DMatrix::zeros(1, 1));
}

#[test]
fn logsumexp_of_empty_columns_is_neg_infinity() {
    // Documented: "an all −∞ (or empty) column keeps lse = −∞".
    let (v, _) = matrix::value_and_gradient(
        |m| m[0].logsumexp(Along::Rows).sum(),
        &[DMatrix::<f64>::zeros(0, 3)],
    );
    assert_eq!(
        v,
        f64::NEG_INFINITY,
        "log Σ over an empty column must be −∞, got {v}"
    );
}

#[test]
fn logsumexp_of_empty_rows_is_neg_infinity() {
    let (v, _) = matrix::value_and_gradient(
        |m| m[0].logsumexp(Along::Cols).sum(),
        &[DMatrix::<f64>::zeros(2, 0)],
    );
    assert_eq!(v, f64::NEG_INFINITY, "got {v}");
}

#[test]
fn softmax_family_of_lines_without_entries() {
    // 0 × 3 along rows (three empty columns) and 3 × 0 along columns: empty values and
    // gradients of the input's shape.
    let ops: [(&str, LineOp); 2] = [
        ("softmax", MatVar::softmax),
        ("logsoftmax", MatVar::logsoftmax),
    ];
    for (shape, along) in [((0, 3), Along::Rows), ((3, 0), Along::Cols)] {
        for (name, op) in ops {
            let x = DMatrix::<f64>::zeros(shape.0, shape.1);
            let (y, pb) = matrix::pullback(|m| op(m[0], along), &[x]);
            assert_eq!(y.shape(), shape);
            assert_eq!(pb.call(&y)[0].shape(), shape, "{along:?} {name}");
        }
    }
}

#[test]
fn zero_size_matmul() {
    for (m, k, n) in [(0, 3, 2), (2, 0, 3), (2, 3, 0)] {
        let g = matrix::gradient(
            |v| (v[0] * v[1]).sum(),
            &[
                DMatrix::<f64>::from_element(m, k, 1.0),
                DMatrix::from_element(k, n, 1.0),
            ],
        );
        assert_eq!(g[0], DMatrix::zeros(m, k));
        assert_eq!(g[1], DMatrix::zeros(k, n));
    }
}

#[test]
fn all_finite_scans_every_lane() {
    // 70 entries: several blocks of any vector width and a remainder; a bad value at every
    // position, in f64 and f32.
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        for k in 0..70 {
            let mut v = vec![1.0; 70];
            v[k] = bad;
            assert!(!matrix::all_finite(&v), "{bad} at {k}");
            let v32: Vec<f32> = v.iter().map(|&x| x as f32).collect();
            assert!(!matrix::all_finite(&v32), "{bad} at {k} (f32)");
        }
    }
    assert!(matrix::all_finite(&[0.5; 70]));
    assert!(matrix::all_finite(&[f32::MAX; 70]));
    assert!(matrix::all_finite::<f64>(&[]));
    // A dual is finite when its primal and every perturbation are.
    let bad = [
        Dual::new(f64::NAN, 1.0),
        Dual::new(1.0, f64::INFINITY),
        Dual::new(1.0, f64::NAN),
    ];
    for (k, bad) in bad.into_iter().enumerate() {
        let mut v = vec![Dual::new(1.0, -2.0); 9];
        v[2 * k + 3] = bad;
        assert!(!matrix::all_finite(&v), "{bad:?}");
    }
    assert!(matrix::all_finite(&[Dual::new(1.0_f32, -2.0); 9]));
    let chunk = |t: f32| DualVec::new(0.5_f32, [1.0, t, -3.0, 0.0]);
    let mut v = vec![chunk(2.0); 5];
    assert!(matrix::all_finite(&v));
    v[4] = chunk(f32::NEG_INFINITY);
    assert!(!matrix::all_finite(&v));
}

#[test]
fn zero_partial_against_infinite_cotangent_on_a_larger_matrix() {
    // As `zero_partial_against_infinite_cotangent_gives_zero`, with more than 8 entries so the
    // in-place path of the backward rule (and its finiteness scan) is the one taken.
    let x = DMatrix::from_fn(3, 3, |i, j| if (i + j) % 2 == 0 { -1.0 } else { 4.0 });
    let g = matrix::gradient(|m| relu(m[0]).sqrt().sum(), &[x]);
    let expected = DMatrix::from_fn(3, 3, |i, j| if (i + j) % 2 == 0 { 0.0 } else { 0.25 });
    assert_eq!(g[0], expected);
}

// ---------- stability of logsumexp/softmax/logsoftmax along both dimensions ----------

/// `m` for [`Along::Rows`] (the lines are its columns), `mᵀ` for [`Along::Cols`] (so that the
/// same lines become rows).
fn orient(m: &DMatrix<f64>, along: Along) -> DMatrix<f64> {
    match along {
        Along::Rows => m.clone(),
        Along::Cols => m.transpose(),
    }
}

/// Reference log-sum-exp of each column of `columns`, on plain floats: `max + ln Σ e^(x − max)`.
fn lse_of_columns(columns: &DMatrix<f64>) -> Vec<f64> {
    columns
        .column_iter()
        .map(|c| {
            let max = c.max();
            max + c.iter().map(|&v| (v - max).exp()).sum::<f64>().ln()
        })
        .collect()
}

/// Reference softmax of each column of `columns`, on plain floats: `e^(x − max) / Σ e^(x − max)`
/// (more accurate than `e^(x − lse)`, whose `lse` of about ±1000 is rounded to 1e-13).
fn softmax_of_columns(columns: &DMatrix<f64>) -> DMatrix<f64> {
    let mut soft = columns.clone();
    for mut c in soft.column_iter_mut() {
        let max = c.max();
        c.apply(|v| *v = (*v - max).exp());
        let total = c.sum();
        c /= total;
    }
    soft
}

/// Logits of ±1000, one line per column: (1000, −1000, 0), (−1000, 1000, 999) and
/// (−1000, −1000, −1000). Exponentiated without shifting, every one overflows or underflows.
fn huge_logits() -> DMatrix<f64> {
    dmatrix![1000.0, -1000.0, -1000.0; -1000.0, 1000.0, -1000.0; 0.0, 999.0, -1000.0]
}

#[test]
fn logsumexp_of_huge_logits_is_finite_and_its_gradient_is_the_softmax() {
    let lines = huge_logits();
    // The exact values: 1000, 1000 + ln(1 + e⁻¹), −1000 + ln 3.
    let lse = [
        1000.0,
        1000.0 + (-1.0f64).exp().ln_1p(),
        -1000.0 + 3.0f64.ln(),
    ];
    for (l, r) in lse_of_columns(&lines).iter().zip(lse) {
        assert!((l - r).abs() < 1e-12, "reference lse {l} vs {r}");
    }
    // The reference softmax: saturated entries exactly 0 and 1, the tied ones ⅓.
    let soft = softmax_of_columns(&lines);
    assert_eq!(soft.column(0).as_slice(), &[1.0, 0.0, 0.0]);
    assert!((soft[(1, 1)] - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15);
    assert!(soft.column(2).iter().all(|s| (s - 1.0 / 3.0).abs() < 1e-15));
    let weights = [0.5, -2.0, 1.5];
    for along in [Along::Rows, Along::Cols] {
        let x = orient(&lines, along);
        // One weight per line: the loss is Σₖ wₖ·lseₖ, its gradient wₖ·softmax(line k).
        let w = orient(&DMatrix::from_row_slice(1, 3, &weights), along);
        let (y, _) = matrix::pullback(|p| p[0].logsumexp(along), std::slice::from_ref(&x));
        assert_eq!(y.shape(), orient(&DMatrix::zeros(1, 3), along).shape());
        for (k, (v, r)) in y.iter().zip(lse).enumerate() {
            assert!(
                (v - r).abs() <= 1e-12 * r.abs(),
                "{along:?} lse {k}: {v} vs {r}"
            );
        }
        let (v, g) = matrix::value_and_gradient(
            |p| p[0].logsumexp(along).weighted_sum(w.clone()),
            std::slice::from_ref(&x),
        );
        let expected_v: f64 = weights.iter().zip(lse).map(|(w, l)| w * l).sum();
        assert!(v.is_finite() && (v - expected_v).abs() <= 1e-12 * expected_v.abs());
        let expected = orient(
            &DMatrix::from_fn(3, 3, |i, j| soft[(i, j)] * weights[j]),
            along,
        );
        assert!(
            (&g[0] - &expected).amax() < 1e-15,
            "{along:?}: {} vs {expected}",
            g[0]
        );
    }
}

#[test]
fn logsumexp_of_huge_logits_in_f32() {
    let lines = huge_logits();
    let lse = lse_of_columns(&lines);
    let soft = softmax_of_columns(&lines);
    for along in [Along::Rows, Along::Cols] {
        let x = orient(&lines, along).map(|v| v as f32);
        let (v, g) =
            matrix::value_and_gradient(|p| p[0].logsumexp(along).sum(), std::slice::from_ref(&x));
        let expected_v: f64 = lse.iter().sum();
        assert!(
            v.is_finite() && (f64::from(v) - expected_v).abs() <= 1e-6 * expected_v.abs(),
            "{along:?}: {v} vs {expected_v}"
        );
        let expected = orient(&soft, along);
        let err = g[0].map(f64::from) - &expected;
        assert!(err.amax() < 1e-6, "{along:?}: {} vs {expected}", g[0]);
    }
}

#[test]
fn softmax_and_logsoftmax_are_stable_along_both_dimensions() {
    let lines = huge_logits();
    // One class per line; the cross-entropy gradient with logits is softmax − onehot.
    let onehot = dmatrix![1.0, 0.0, 0.0; 0.0, 0.0, 1.0; 0.0, 1.0, 0.0];
    let lse = lse_of_columns(&lines);
    let soft = softmax_of_columns(&lines);
    let log_soft = DMatrix::from_fn(3, 3, |i, j| lines[(i, j)] - lse[j]);
    // Exact values of the first and third lines: (0, −2000, −1000) and −ln 3 throughout.
    assert_eq!(log_soft.column(0).as_slice(), &[0.0, -2000.0, -1000.0]);
    assert!(
        log_soft
            .column(2)
            .iter()
            .all(|l| (l + 3.0f64.ln()).abs() < 1e-12)
    );
    let weights = mat(3, 3, 40);
    for along in [Along::Rows, Along::Cols] {
        let (x, target) = (orient(&lines, along), orient(&onehot, along));
        let (s, _) = matrix::pullback(|p| p[0].softmax(along), std::slice::from_ref(&x));
        let (ls, _) = matrix::pullback(|p| p[0].logsoftmax(along), std::slice::from_ref(&x));
        assert!(matrix::all_finite(s.as_slice()) && matrix::all_finite(ls.as_slice()));
        assert!(
            (&s - orient(&soft, along)).amax() < 1e-14,
            "{along:?} softmax {s}"
        );
        let total: Vec<f64> = match along {
            Along::Rows => s.row_sum().iter().copied().collect(),
            Along::Cols => s.column_sum().iter().copied().collect(),
        };
        assert!(
            total.iter().all(|t| (t - 1.0).abs() < 1e-15),
            "{along:?}: {total:?}"
        );
        let expected_ls = orient(&log_soft, along);
        for (k, (a, b)) in ls.iter().zip(expected_ls.iter()).enumerate() {
            assert!(
                (a - b).abs() <= 1e-12 * (1.0 + b.abs()),
                "{along:?} logsoftmax entry {k}: {a} vs {b}"
            );
        }
        // Cross-entropy through logsoftmax: finite loss, gradient softmax − onehot.
        let (loss, g) = matrix::value_and_gradient(
            |p| -(p[0].logsoftmax(along).weighted_sum(target.clone())),
            std::slice::from_ref(&x),
        );
        let expected_loss = -(log_soft.component_mul(&onehot)).sum();
        assert!(
            loss.is_finite() && (loss - expected_loss).abs() <= 1e-12 * expected_loss.abs(),
            "{along:?}: loss {loss} vs {expected_loss}"
        );
        let expected = orient(&(&soft - &onehot), along);
        assert!(
            (&g[0] - &expected).amax() < 1e-14,
            "{along:?}: {} vs {expected}",
            g[0]
        );
        // Through softmax with weights W: ∂ = s ⊙ (W − Σ_line W ⊙ s), line by line.
        let w = orient(&weights, along);
        let g = matrix::gradient(
            |p| p[0].softmax(along).weighted_sum(w.clone()),
            std::slice::from_ref(&x),
        );
        let inner: Vec<f64> = (0..3)
            .map(|j| (0..3).map(|i| weights[(i, j)] * soft[(i, j)]).sum())
            .collect();
        let expected = orient(
            &DMatrix::from_fn(3, 3, |i, j| soft[(i, j)] * (weights[(i, j)] - inner[j])),
            along,
        );
        assert!(matrix::all_finite(g[0].as_slice()));
        assert!(
            (&g[0] - &expected).amax() < 1e-14,
            "{along:?}: {} vs {expected}",
            g[0]
        );
    }
}

// ---------- shape mismatches name both shapes ----------

#[test]
#[should_panic(expected = "reshape: cannot reshape 2×3 into 4×2")]
fn reshape_mismatch_names_both_shapes() {
    let _ = matrix::gradient(|p| p[0].reshape(4, 2).sum(), &[mat(2, 3, 1)]);
}

#[test]
#[should_panic(expected = "weighted_sum: shape mismatch, the matrix is 2×3 and the weights 3×2")]
fn weighted_sum_mismatch_names_both_shapes() {
    // The same number of entries, transposed: still a mismatch.
    let _ = matrix::gradient(|p| p[0].weighted_sum(mat(3, 2, 2)), &[mat(2, 3, 1)]);
}

#[test]
#[should_panic(
    expected = "component_mul: shape mismatch 2×3 vs 3×2 (each dimension must be equal or 1)"
)]
fn component_mul_mismatch_names_both_shapes() {
    let _ = matrix::gradient(
        |p| p[0].component_mul(p[1]).sum(),
        &[mat(2, 3, 1), mat(3, 2, 2)],
    );
}

#[test]
#[should_panic(
    expected = "component_div: shape mismatch 3×1 vs 2×4 (each dimension must be equal or 1)"
)]
fn component_div_mismatch_names_both_shapes() {
    // A column of 3 cannot broadcast against 2 rows.
    let _ = matrix::gradient(
        |p| p[0].component_div(p[1]).sum(),
        &[mat(3, 1, 1), mat(2, 4, 2)],
    );
}

#[test]
fn a_shape_panic_leaves_the_matrix_tape_usable() {
    // The panic unwinds out of the recording scope; the next call records on a fresh tape.
    let result = std::panic::catch_unwind(|| {
        matrix::gradient(|p| p[0].reshape(5, 1).sum(), &[mat(2, 2, 1)])
    });
    assert!(result.is_err());
    let a = mat(2, 2, 2);
    let g = matrix::gradient(|p| p[0].component_mul(p[0]).sum(), std::slice::from_ref(&a));
    assert_eq!(g[0], 2.0 * a);
}

// ---------- reshape against the scalar tape ----------

/// Column-major reshape of a matrix of scalar variables: the storage order reinterpreted.
fn reshape_vars(m: &DMatrix<Var<f64>>, rows: usize, cols: usize) -> DMatrix<Var<f64>> {
    DMatrix::from_column_slice(rows, cols, m.as_slice())
}

fn sum_vars(m: &DMatrix<Var<f64>>) -> Var<f64> {
    m.iter().fold(Var::constant(0.0), |acc, &v| acc + v)
}

#[test]
fn reshape_gradient_against_the_scalar_tape() {
    // Reshaped, then multiplied: the gradient must go back to the original positions.
    compare(
        &[mat(2, 3, 41), mat(2, 4, 42)],
        |p| (p[0].reshape(3, 2) * p[1]).tanh().sum(),
        |p| sum_vars(&(reshape_vars(&p[0], 3, 2) * &p[1]).map(|v| v.tanh())),
    );
    // Two reshapes in a row, then an entry-wise product with another input.
    compare(
        &[mat(4, 3, 43), mat(3, 4, 44)],
        |p| {
            let y = p[0].reshape(2, 6).reshape(3, 4).component_mul(p[1]);
            y.component_mul(y).sum()
        },
        |p| {
            let y = reshape_vars(&reshape_vars(&p[0], 2, 6), 3, 4).component_mul(&p[1]);
            sum_vars(&y.component_mul(&y))
        },
    );
    // To a row vector broadcast against a column: (1×6) + (4×1) → 4×6.
    compare(
        &[mat(2, 3, 45), mat(4, 1, 46)],
        |p| (p[0].reshape(1, 6) + p[1]).powi(2).mean(),
        |p| {
            let row = reshape_vars(&p[0], 1, 6);
            let mut s = Var::constant(0.0);
            for i in 0..4 {
                for j in 0..6 {
                    s += (row[(0, j)] + p[1][(i, 0)]).powi(2);
                }
            }
            s / 24.0
        },
    );
    // To a column vector, used on both sides of a product: ‖A‖²·(aᵀE) with E a constant.
    let e = mat(6, 2, 47);
    let ec = e.clone();
    compare(
        &[mat(2, 3, 48)],
        move |p| {
            let col = p[0].reshape(6, 1);
            let norm = col.transpose() * col;
            (col.transpose() * MatVar::constant(ec))
                .component_mul(norm)
                .sum()
        },
        |p| {
            let col = reshape_vars(&p[0], 6, 1);
            let norm = sum_vars(&col.component_mul(&col));
            let e = e.map(Var::constant);
            sum_vars(&(col.transpose() * e)) * norm
        },
    );
}

// ---------- f32 against f64 ----------

/// `mat(..)` rounded to f32, in both precisions (the same values).
fn mat_pair(rows: usize, cols: usize, seed: usize) -> (DMatrix<f32>, DMatrix<f64>) {
    let m32 = mat(rows, cols, seed).map(|v| v as f32);
    let m64 = m32.map(f64::from);
    (m32, m64)
}

/// Asserts that an f32 result is within `atol + rtol·|f64 result|` of the f64 result.
fn close_to_f64(a: &DMatrix<f32>, b: &DMatrix<f64>, atol: f64, rtol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes");
    for (k, (&x, &y)) in a.iter().zip(b.iter()).enumerate() {
        let err = (f64::from(x) - y).abs();
        assert!(
            err <= atol + rtol * y.abs(),
            "{what} entry {k}: {x} vs {y} (error {err:e})"
        );
    }
}

#[test]
fn f32_element_wise_ops_and_products_agree_with_f64() {
    // The same losses on the same values, recorded in f32 and in f64: element-wise operations
    // with broadcasting, and a product whose shapes are not multiples of the f32 kernel's
    // tiles (sgemm, not dgemm), forwards and in both backward products (the f64 operations
    // themselves are checked against the scalar tape above and finite differences in
    // `matrix_fd`). Tolerances (errors
    // seen in parentheses): values 4e-6 relative, about 32 f32 ulps (8e-7); element-wise
    // gradients 1e-6 + 1e-6·|g| (1.6e-6 on an entry of 16); product gradients, entries of
    // about 1e-2, 2e-8 + 1e-5·|g| (2.3e-9).
    fn element_wise<T: matrix::MatScalar>(p: &[MatVar<T>]) -> MatVar<T> {
        let one = T::one();
        let half = one / (one + one);
        let y = p[0].component_div(p[1].abs() + one).tanh();
        (y.component_mul((p[0] * half).exp()) - p[1].sqrt()).sum()
    }
    fn product<T: matrix::MatScalar>(p: &[MatVar<T>]) -> MatVar<T> {
        (p[0] * p[1].transpose()).tanh().powi(2).mean()
    }
    let (a32, a64) = mat_pair(9, 17, 50);
    // Positive (under `sqrt`).
    let b32 = mat(9, 1, 51).map(|v| v.abs() as f32 + 0.25);
    let b64 = b32.map(f64::from);
    let (v32, g32) = matrix::value_and_gradient(element_wise, &[a32.clone(), b32]);
    let (v64, g64) = matrix::value_and_gradient(element_wise, &[a64.clone(), b64]);
    close_to_f64(
        &DMatrix::from_element(1, 1, v32),
        &DMatrix::from_element(1, 1, v64),
        0.0,
        4e-6,
        "element-wise value",
    );
    close_to_f64(&g32[0], &g64[0], 1e-6, 1e-6, "element-wise ∂A");
    close_to_f64(&g32[1], &g64[1], 1e-6, 1e-6, "element-wise ∂b");
    let (c32, c64) = mat_pair(13, 17, 52);
    let (v32, g32) = matrix::value_and_gradient(product, &[a32, c32]);
    let (v64, g64) = matrix::value_and_gradient(product, &[a64, c64]);
    close_to_f64(
        &DMatrix::from_element(1, 1, v32),
        &DMatrix::from_element(1, 1, v64),
        0.0,
        4e-6,
        "product value",
    );
    close_to_f64(&g32[0], &g64[0], 2e-8, 1e-5, "product ∂A");
    close_to_f64(&g32[1], &g64[1], 2e-8, 1e-5, "product ∂C");
}

#[test]
#[should_panic(expected = "reshape: cannot reshape 0×3 into 9223372036854775808×2")]
fn reshape_to_a_shape_whose_size_overflows_panics() {
    // rows·cols wrapped to 0 = 0·3 in release builds: the reshape was accepted and the next
    // operation read entries that do not exist (a segfault from safe code).
    let _ = matrix::gradient(
        |m| m[0].reshape(1 << 63, 2).transpose().sum(),
        &[DMatrix::<f64>::zeros(0, 3)],
    );
}

#[test]
#[should_panic(
    expected = "called while another matrix operation was recording: from inside its element function"
)]
fn a_matrix_operation_inside_a_map_closure_panics_clearly() {
    // It used to panic with a bare "RefCell already borrowed".
    let _ = matrix::gradient(
        |m| {
            m[0].map(|x| {
                let _ = MatVar::constant(DMatrix::<f64>::zeros(1, 1));
                x
            })
            .sum()
        },
        &[mat(2, 2, 3)],
    );
}

/// f32 reductions keep f32 accuracy over many entries (the running sum is kept in f64): a
/// single f32 accumulator made the mean of 10⁶ entries of 0.1 come out 0.10096.
#[test]
fn f32_sums_of_many_entries_stay_accurate() {
    let n = 1_000_000;
    let close = |v: f32, expected: f64| ((f64::from(v) - expected) / expected).abs() < 1e-6;
    let row = DMatrix::from_element(1, n, 0.1_f32);
    let (mean, _) = matrix::value_and_gradient(|p| p[0].mean(), std::slice::from_ref(&row));
    assert!(close(mean, 0.1), "{mean}");
    let (sum, _) = matrix::value_and_gradient(|p| p[0].sum(), std::slice::from_ref(&row));
    assert!(close(sum, 1e5), "{sum}");
    let ones = DMatrix::from_element(1, n, 1.0_f32);
    let (w, _) = matrix::value_and_gradient(
        |p| p[0].weighted_sum(ones.clone()),
        std::slice::from_ref(&row),
    );
    assert!(close(w, 1e5), "{w}");
    let two_rows = DMatrix::from_element(2, n, 0.1_f32);
    let (v, _) = matrix::value_and_gradient(
        |p| p[0].sum_along(Along::Cols).sum(),
        std::slice::from_ref(&two_rows),
    );
    assert!(close(v, 2e5), "{v}");
    let column = DMatrix::from_element(n, 1, 0.1_f32);
    let (v, _) = matrix::value_and_gradient(
        |p| p[0].mean_along(Along::Rows).sum(),
        std::slice::from_ref(&column),
    );
    assert!(close(v, 0.1), "{v}");
}

/// Sums and means along each dimension of matrices without rows: a line of no entries sums to
/// 0, its mean is 0/0 (NaN); values and pullbacks of the input's shape, in `f64` and `f32`.
#[test]
fn reductions_along_lines_without_entries() {
    let empty = DMatrix::<f64>::zeros(0, 3);
    let (y, pb) = matrix::pullback(
        |m| m[0].sum_along(Along::Rows),
        std::slice::from_ref(&empty),
    );
    assert_eq!(y, dmatrix![0.0, 0.0, 0.0]);
    assert_eq!(pb.call(&dmatrix![1.0, 2.0, 3.0])[0].shape(), (0, 3));
    let (y, pb) = matrix::pullback(
        |m| m[0].mean_along(Along::Rows),
        std::slice::from_ref(&empty),
    );
    assert!(y.shape() == (1, 3) && y.iter().all(|v| v.is_nan()), "{y}");
    assert_eq!(pb.call(&dmatrix![1.0, 2.0, 3.0])[0].shape(), (0, 3));
    let (y, pb) = matrix::pullback(|m| m[0].mean_along(Along::Cols), &[empty]);
    assert_eq!(y.shape(), (0, 1));
    assert_eq!(pb.call(&DMatrix::zeros(0, 1))[0].shape(), (0, 3));
    let (y, _) = matrix::pullback(
        |m| m[0].sum_along(Along::Cols),
        &[DMatrix::<f32>::zeros(0, 3)],
    );
    assert_eq!(y.shape(), (0, 1));
}

/// `f32` means along each dimension (a line's sum divided by its length), values and pullbacks
/// (the cotangent divided by the length).
#[test]
fn f32_means_along_each_dimension() {
    let x = dmatrix![1.0_f32, 3.0; 2.0, 6.0];
    let (y, pb) = matrix::pullback(|m| m[0].mean_along(Along::Cols), std::slice::from_ref(&x));
    assert_eq!(y, dmatrix![2.0; 4.0]);
    assert_eq!(
        pb.call(&dmatrix![1.0; 4.0])[0],
        dmatrix![0.5, 0.5; 2.0, 2.0]
    );
    let (y, pb) = matrix::pullback(|m| m[0].mean_along(Along::Rows), &[x]);
    assert_eq!(y, dmatrix![1.5, 4.5]);
    assert_eq!(
        pb.call(&dmatrix![2.0, 4.0])[0],
        dmatrix![1.0, 2.0; 1.0, 2.0]
    );
}

/// A line holding +∞: the shift is the largest *finite* entry, so finite entries get their
/// limits (softmax 0, log-softmax −∞) however large they are, the infinite entry NaN, and
/// log-sum-exp +∞ (found by the matrix_program fuzz target: an entry of 1000 beside +∞ gave
/// NaN, an entry of 1 gave 0).
#[test]
fn softmax_family_with_an_infinite_logit() {
    let x = dmatrix![f64::INFINITY; 1000.0; 1.0];
    let (s, _) = matrix::pullback(|m| m[0].softmax(Along::Rows), std::slice::from_ref(&x));
    assert!(s[0].is_nan());
    assert_eq!((s[1], s[2]), (0.0, 0.0));
    let (l, _) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), std::slice::from_ref(&x));
    assert!(l[0].is_nan());
    assert_eq!((l[1], l[2]), (f64::NEG_INFINITY, f64::NEG_INFINITY));
    let (v, g) =
        matrix::value_and_gradient(|m| m[0].logsumexp(Along::Rows), std::slice::from_ref(&x));
    assert_eq!(v, f64::INFINITY);
    assert!(g[0][0].is_nan());
    assert_eq!((g[0][1], g[0][2]), (0.0, 0.0));
    // The same along the other dimension.
    let (s, _) = matrix::pullback(|m| m[0].softmax(Along::Cols), &[x.transpose()]);
    assert_eq!((s[1], s[2]), (0.0, 0.0));
}

/// A softmax-family operation along a dimension.
type LineOp<T = f64> = fn(MatVar<T>, Along) -> MatVar<T>;

/// `m`, a column vector, laid out as a line along `along`: itself for [`Along::Rows`] (a
/// column), its transpose for [`Along::Cols`] (a row).
fn laid_along<T: nalgebra::Scalar>(m: &DMatrix<T>, along: Along) -> DMatrix<T> {
    match along {
        Along::Rows => m.clone(),
        Along::Cols => m.transpose(),
    }
}

/// A scalar loss of matrix inputs.
type Loss<'a> = dyn Fn(&[MatVar<f64>]) -> MatVar<f64> + 'a;

/// A line the loss does not read contributes zero to the gradient even when its softmax is NaN
/// (it holds +∞, or only −∞, e.g. a fully masked column): the `0·∞ = 0` convention (from a
/// user trial: a masked column made the whole weight gradient NaN through the product).
#[test]
fn softmax_family_lines_the_loss_does_not_read_contribute_zero() {
    let w = dmatrix![1.0, -0.5; 0.25, 2.0];
    let x = dmatrix![0.5, 1.0; -1.0, 0.5];
    for blocked in [f64::NEG_INFINITY, f64::INFINITY] {
        let mask = dmatrix![0.0, blocked; 0.0, blocked];
        let logits =
            |p: &[MatVar<f64>]| p[0] * MatVar::constant(x.clone()) + MatVar::constant(mask.clone());
        let losses: [&Loss<'_>; 3] = [
            &|p| {
                logits(p)
                    .softmax(Along::Rows)
                    .columns(0, 1)
                    .rows(0, 1)
                    .sum()
            },
            &|p| logits(p).logsoftmax(Along::Rows).columns(0, 1).sum(),
            &|p| logits(p).logsumexp(Along::Rows).columns(0, 1).sum(),
        ];
        for (k, loss) in losses.iter().enumerate() {
            let g = matrix::gradient(|p| loss(p), std::slice::from_ref(&w));
            assert!(
                g[0].iter().all(|v| v.is_finite()),
                "loss {k}, {blocked}: {}",
                g[0]
            );
            // The same loss without the blocked column.
            let alone = matrix::gradient(
                |p| {
                    let col = (p[0] * MatVar::constant(x.columns(0, 1).into_owned()))
                        + MatVar::constant(dmatrix![0.0; 0.0]);
                    match k {
                        0 => col.softmax(Along::Rows).rows(0, 1).sum(),
                        1 => col.logsoftmax(Along::Rows).sum(),
                        _ => col.logsumexp(Along::Rows).sum(),
                    }
                },
                std::slice::from_ref(&w),
            );
            assert!(
                (&g[0] - &alone[0]).amax() < 1e-15,
                "loss {k}: {} vs {}",
                g[0],
                alone[0]
            );
        }
    }
    // Along the other dimension, a blocked row.
    let logits = dmatrix![1.0, 2.0; f64::NEG_INFINITY, f64::NEG_INFINITY];
    let g = matrix::gradient(|p| p[0].logsoftmax(Along::Cols).rows(0, 1).sum(), &[logits]);
    assert!(g[0].row(0).iter().all(|v| v.is_finite()));
    assert_eq!((g[0][(1, 0)], g[0][(1, 1)]), (0.0, 0.0));
}

/// The documented gradients along lines holding ±∞ (whose softmax is NaN, or 0 beside a finite
/// entry) and for an infinite cotangent, case by case: softmax's pullback `s ⊙ (G − Σ(G ⊙ s))`
/// and log-softmax's `G − s ⊙ ΣG` under the `0·∞ = 0` convention (from a documentation review:
/// the docs had said "NaN where the cotangent is not zero").
#[test]
fn softmax_family_gradients_along_lines_with_infinities() {
    let nan = f64::NAN;
    let same = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
        a.shape() == b.shape()
            && a.iter()
                .zip(b.iter())
                .all(|(x, y)| x == y || (x.is_nan() && y.is_nan()))
    };
    let plus = dmatrix![f64::INFINITY; 1.0];
    let minus = dmatrix![f64::NEG_INFINITY; f64::NEG_INFINITY];
    let finite_and_minus = dmatrix![0.0; f64::NEG_INFINITY];
    // (input, cotangent, softmax's gradient, log-softmax's gradient)
    let cases = [
        // +∞ beside a finite entry: the infinite entry's cotangent decides for softmax, the
        // line's cotangent sum for log-softmax.
        (
            &plus,
            dmatrix![0.0; 1.0],
            dmatrix![0.0; 0.0],
            dmatrix![nan; 1.0],
        ),
        (
            &plus,
            dmatrix![1.0; 1.0],
            dmatrix![nan; 0.0],
            dmatrix![nan; 1.0],
        ),
        (
            &plus,
            dmatrix![1.0; -1.0],
            dmatrix![nan; 0.0],
            dmatrix![1.0; -1.0],
        ),
        (
            &plus,
            dmatrix![0.0; 0.0],
            dmatrix![0.0; 0.0],
            dmatrix![0.0; 0.0],
        ),
        // only −∞: any non-zero cotangent (softmax), a non-zero sum (log-softmax).
        (
            &minus,
            dmatrix![1.0; -1.0],
            dmatrix![nan; nan],
            dmatrix![1.0; -1.0],
        ),
        (
            &minus,
            dmatrix![1.0; 0.0],
            dmatrix![nan; nan],
            dmatrix![nan; nan],
        ),
        (
            &minus,
            dmatrix![0.0; 0.0],
            dmatrix![0.0; 0.0],
            dmatrix![0.0; 0.0],
        ),
        // an infinite cotangent: at the −∞ entry softmax 0 times it gives 0 (the products'
        // convention), so log-softmax's −s⊙Σg is −∞ at the finite entry only
        (
            &finite_and_minus,
            dmatrix![1.0; f64::INFINITY],
            dmatrix![0.0; 0.0],
            dmatrix![f64::NEG_INFINITY; f64::INFINITY],
        ),
    ];
    for (x, g, softmax_grad, logsoftmax_grad) in cases {
        for along in [Along::Rows, Along::Cols] {
            // Along::Cols reads the same line as a row.
            let orient = |m: &DMatrix<f64>| laid_along(m, along);
            let ops: [(&str, LineOp, &DMatrix<f64>); 2] = [
                ("softmax", MatVar::softmax, &softmax_grad),
                ("logsoftmax", MatVar::logsoftmax, &logsoftmax_grad),
            ];
            for (name, op, expected) in ops {
                let (_, pb) = matrix::pullback(|m| op(m[0], along), &[orient(x)]);
                let got = pb.call(&orient(&g));
                assert!(
                    same(&got[0], &orient(expected)),
                    "{name} {x} {g}: {}",
                    got[0]
                );
            }
        }
    }
}

/// Any number of inputs (up to eight are passed from the stack, more from a `Vec`), each with
/// its own gradient, the same from `gradient` and `pullback`; a gradient call after one on a
/// longer tape (whose adjoint-slot buffer it reuses) is unaffected by it.
#[test]
fn gradients_for_one_to_twelve_inputs_and_after_a_longer_tape() {
    for n in 1..=12 {
        let inputs: Vec<DMatrix<f64>> = (0..n)
            .map(|k| DMatrix::from_fn(2, 3, |i, j| (k + i + 2 * j) as f64 / 5.0 - 0.4))
            .collect();
        // Σₖ (k + 1)·sum(xₖ ⊙ xₖ): gradient 2(k + 1)·xₖ
        let loss = |m: &[MatVar<f64>]| {
            m.iter()
                .enumerate()
                .map(|(k, x)| x.component_mul(*x).sum() * (k as f64 + 1.0))
                .reduce(|a, b| a + b)
                .unwrap()
        };
        let g = matrix::gradient(loss, &inputs);
        let (_, pb) = matrix::pullback(loss, &inputs);
        let from_pullback = pb.call(&dmatrix![1.0]);
        assert_eq!(g.len(), n);
        for (k, x) in inputs.iter().enumerate() {
            assert_eq!(g[k], x * (2.0 * (k as f64 + 1.0)), "n = {n}, input {k}");
            assert_eq!(from_pullback[k], g[k], "n = {n}, input {k}");
        }
    }
    // A long recording whose output does not reach every node, then a short one.
    let x = dmatrix![0.5, -1.0; 2.0, 0.25];
    let _ = matrix::gradient(
        |m| {
            let unused = m[0].exp().tanh().transpose();
            let _ = unused * m[0];
            (m[0] * 3.0).sum()
        },
        std::slice::from_ref(&x),
    );
    let g = matrix::gradient(|m| m[0].sum(), std::slice::from_ref(&x));
    assert_eq!(g[0], DMatrix::from_element(2, 2, 1.0));
}

#[test]
fn strided_rows_pick_the_rows_of_nalgebras_rows_with_step_and_scatter_back() {
    // Against nalgebra's `rows_with_step` (which takes the rows skipped, stride − 1) for the
    // value, and the cotangent placed by hand in those rows for the pullback; the last picked
    // row may end the matrix (a partial last stride) or not.
    for &(rows, cols, first, count, stride) in &[
        (7, 3, 1, 2, 3),
        (7, 3, 0, 4, 2),
        (6, 1, 1, 3, 2),
        (9, 1, 0, 9, 1),
        (11, 2, 2, 3, 4),
        (5, 2, 4, 1, 7),
        (4, 2, 1, 0, 3),
    ] {
        let a = mat(rows, cols, rows + first);
        let (y, pb) = matrix::pullback(
            |m| m[0].strided_rows(first, count, stride),
            std::slice::from_ref(&a),
        );
        assert_eq!(y, a.rows_with_step(first, count, stride - 1).into_owned());
        let cotangent = mat(count, cols, 5);
        let mut expected = DMatrix::zeros(rows, cols);
        for k in 0..count {
            expected.set_row(first + k * stride, &cotangent.row(k));
        }
        assert_eq!(
            pb.call(&cotangent)[0],
            expected,
            "{rows}×{cols} {first} {count} {stride}"
        );
    }
}

#[test]
fn strided_rows_of_one_matrix_accumulate_and_match_the_scalar_tape() {
    // Overlapping picks (rows 0, 2, 4 and 2, 3, 4) of one input and of a computed matrix,
    // against the same loss on the scalar tape.
    let a = mat(5, 2, 3);
    let loss = |m: &[MatVar<f64>]| {
        let t = m[0].tanh();
        let even = t.strided_rows(0, 3, 2);
        let middle = m[0].strided_rows(2, 3, 1);
        // `m[0].sum()` recorded last is swept first: the picks then meet a uniform adjoint.
        even.component_mul(middle).sum() + m[0].strided_rows(1, 2, 2).exp().sum() + m[0].sum()
    };
    let (v, g) = matrix::value_and_gradient(loss, &[&a]);
    let flat: Vec<f64> = a.iter().copied().collect();
    let scalar = |x: &[Var<f64>]| {
        let m = split(x, &[(5, 2)]).remove(0);
        let mut total = Var::constant(0.0);
        for c in 0..2 {
            for k in 0..3 {
                total += m[(2 * k, c)].tanh() * m[(2 + k, c)];
            }
            for k in 0..2 {
                total += m[(1 + 2 * k, c)].exp();
            }
        }
        m.iter().fold(total, |t, &v| t + v)
    };
    let (v0, g0) = adroit_reverse::value_and_gradient(scalar, &flat);
    assert!((v - v0).abs() < 1e-14);
    let g0 = DMatrix::from_column_slice(5, 2, &g0);
    assert!((&g[0] - g0).amax() < 1e-14);
}

#[test]
#[should_panic(expected = "strided_rows: 3 rows from row 1 every 2 reach row 5 of a 5×2 matrix")]
fn strided_rows_out_of_range_panics_naming_the_row() {
    let _ = matrix::gradient(|m| m[0].strided_rows(1, 3, 2).sum(), &[mat(5, 2, 1)]);
}

/// From a review: taking no rows from past the end reported a row "beyond usize".
#[test]
#[should_panic(expected = "strided_rows: no rows from row 3, past the end of a 2×3 matrix")]
fn strided_rows_of_no_rows_past_the_end_panics_naming_the_start() {
    let _ = matrix::gradient(|m| m[0].strided_rows(3, 0, 1).sum(), &[mat(2, 3, 1)]);
}

#[test]
#[should_panic(expected = "strided_rows: the stride must be at least 1")]
fn strided_rows_of_stride_zero_panics() {
    let _ = matrix::gradient(|m| m[0].strided_rows(0, 2, 0).sum(), &[mat(5, 2, 1)]);
}

#[test]
fn take_along_picks_one_entry_per_line_and_places_the_cotangent_back() {
    let a = mat(4, 3, 2);
    let (picked, pb) = matrix::pullback(
        |m| m[0].take_along(Along::Rows, &[3, 0, 2]),
        std::slice::from_ref(&a),
    );
    assert_eq!(picked, dmatrix![a[(3, 0)], a[(0, 1)], a[(2, 2)]]);
    let g = pb.call(&dmatrix![1.5, -2.0, 0.25]);
    let mut expected = DMatrix::zeros(4, 3);
    (expected[(3, 0)], expected[(0, 1)], expected[(2, 2)]) = (1.5, -2.0, 0.25);
    assert_eq!(g[0], expected);
    let (picked, pb) = matrix::pullback(
        |m| m[0].take_along(Along::Cols, &[1, 1, 0, 2]),
        std::slice::from_ref(&a),
    );
    assert_eq!(picked, dmatrix![a[(0, 1)]; a[(1, 1)]; a[(2, 0)]; a[(3, 2)]]);
    let g = pb.call(&dmatrix![1.0; 2.0; 3.0; 4.0]);
    let mut expected = DMatrix::zeros(4, 3);
    (
        expected[(0, 1)],
        expected[(1, 1)],
        expected[(2, 0)],
        expected[(3, 2)],
    ) = (1.0, 2.0, 3.0, 4.0);
    assert_eq!(g[0], expected);
}

#[test]
fn cross_entropy_from_integer_labels_equals_the_one_hot_form_and_the_closed_form() {
    // Logits 3 classes × 5 samples: picking the true class by index gives the loss and
    // gradient of the one-hot formulation, and the gradient (softmax − onehot) / batch.
    let z = mat(3, 5, 4) * 3.0;
    let labels = [2, 0, 1, 1, 0];
    let onehot = DMatrix::from_fn(3, 5, |i, j| if labels[j] == i { 1.0 } else { 0.0 });
    let (v, g) = matrix::value_and_gradient(
        |m| (m[0].logsumexp(Along::Rows) - m[0].take_along(Along::Rows, &labels)).mean(),
        &[&z],
    );
    let (v1, g1) = matrix::value_and_gradient(
        |m| {
            let true_logit = m[0]
                .component_mul(MatVar::constant(onehot.clone()))
                .sum_along(Along::Rows);
            (m[0].logsumexp(Along::Rows) - true_logit).mean()
        },
        &[&z],
    );
    assert!((v - v1).abs() < 1e-15);
    assert!((&g[0] - &g1[0]).amax() < 1e-16);
    let softmax = DMatrix::from_fn(3, 5, |i, j| {
        let col = z.column(j);
        col[i].exp() / col.iter().map(|v| v.exp()).sum::<f64>()
    });
    assert!((&g[0] - (softmax - onehot) / 5.0).amax() < 1e-15);
    // A second use of the same input accumulates with the pick's contribution.
    let g = matrix::gradient(
        |m| m[0].take_along(Along::Cols, &[0, 0, 0]).sum() + m[0].sum(),
        &[dmatrix![1.0, 2.0; 3.0, 4.0; 5.0, 6.0]],
    );
    assert_eq!(g[0], dmatrix![2.0, 1.0; 2.0, 1.0; 2.0, 1.0]);
}

#[test]
#[should_panic(expected = "take_along: index 3 (for column 1) is out of range for a 3×2 matrix")]
fn take_along_with_an_index_out_of_range_panics_naming_it() {
    let _ = matrix::gradient(
        |m| m[0].take_along(Along::Rows, &[0, 3]).sum(),
        &[mat(3, 2, 1)],
    );
}

#[test]
#[should_panic(expected = "take_along: 3 indices for a 3×2 matrix (one per column: 2)")]
fn take_along_with_one_index_too_many_panics() {
    let _ = matrix::gradient(
        |m| m[0].take_along(Along::Rows, &[0, 1, 2]).sum(),
        &[mat(3, 2, 1)],
    );
}

#[test]
fn f32_logsumexp_and_softmax_sum_their_terms_in_f64() {
    // a review's case: 10⁶ near-equal logits; an f32 running sum was off by ~1e-4 relative
    let n = 1_000_000;
    let mut x = DMatrix::<f32>::zeros(n, 1);
    x[0] = 1e-3;
    let (value, g) = matrix::value_and_gradient(
        |m| m[0].logsumexp(Along::Rows).sum(),
        std::slice::from_ref(&x),
    );
    let exact = ((n as f64 - 1.0) + 1e-3_f32.exp() as f64).ln();
    assert!(
        (value as f64 - exact).abs() <= 2.0 * f32::EPSILON as f64 * exact,
        "{value} vs {exact}"
    );
    let p = 1.0 / ((n as f64 - 1.0) + (1e-3_f32 as f64).exp());
    assert!(
        (g[0][1] as f64 - p).abs() <= 4.0 * f32::EPSILON as f64 * p,
        "{} vs {p}",
        g[0][1]
    );
}

#[test]
fn f32_logsumexp_keeps_relative_precision_on_both_sides_of_its_log_branch() {
    // lse of the line [0, t] is ln(1 + eᵗ) for t ≤ 0: the log of 1 + r, r = eᵗ from 1e-13
    // (below 2⁻²⁰ ≈ 9.5e-7, where `ln_1p` in f64 is taken) to 1, in f32 against f64. The f32
    // kernel's eᵗ is within 1 ulp of the rounded value (1.5ε relative), which carries into the
    // log at most in proportion (r/((1 + r)·ln(1 + r)) ≤ 1); the log is rounded once more.
    let ts: Vec<f32> = (0..=300).map(|k| -30.0 + 0.1 * k as f32).collect();
    let x = DMatrix::from_fn(2, ts.len(), |i, j| if i == 0 { 0.0 } else { ts[j] });
    let (lse, _) = matrix::pullback(|m| m[0].logsumexp(Along::Rows), std::slice::from_ref(&x));
    // the largest entry's log-probability, −ln(1 + r), assembled by logsoftmax
    let (logp, _) = matrix::pullback(|m| m[0].logsoftmax(Along::Rows), std::slice::from_ref(&x));
    // Dual<f32> takes the same path (its log and tangent in Dual<f64>): d/dt lse = σ(t).
    let seeded = DMatrix::from_fn(2, ts.len(), |i, j| Dual::new(x[(i, j)], i as f32));
    let (dual, _) = matrix::pullback(
        |m| m[0].logsumexp(Along::Rows),
        std::slice::from_ref(&seeded),
    );
    let relative = |got: f32, want: f64| (f64::from(got) - want).abs() / want;
    for (j, &t) in ts.iter().enumerate() {
        let exact = f64::from(t).exp().ln_1p();
        let slope = 1.0 / (1.0 + (-f64::from(t)).exp());
        for got in [lse[j], -logp[(0, j)], dual[j].value()] {
            let err = relative(got, exact);
            assert!(
                err <= 2.0 * f64::from(f32::EPSILON),
                "t = {t}: {got} vs {exact}"
            );
        }
        let err = relative(dual[j].tangent(), slope);
        assert!(
            err <= 4.0 * f64::from(f32::EPSILON),
            "t = {t}: slope {} vs {slope}",
            dual[j].tangent()
        );
    }
}

#[test]
fn softmax_family_gives_the_same_bits_on_short_and_long_lines() {
    // Lines under 16 entries are exponentiated with the whole matrix, longer ones one by one:
    // padding a line with −∞ (whose terms are 0) takes it to the other path without changing
    // its results, conventions at infinities and NaN included.
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let lines: [&[f64]; 7] = [
        &[1000.0, inf],
        &[-inf, -inf],
        &[0.0, 0.0],
        &[3.0, -1.0, 2.0],
        &[nan, 1.0],
        &[-40.0, 0.0, 1e-300],
        &[-0.0, 0.0, -2.5],
    ];
    let same = |a: f64, b: f64| a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan());
    for line in lines {
        let short = DMatrix::from_column_slice(line.len(), 1, line);
        let long = DMatrix::from_fn(line.len() + 20, 1, |i, _| {
            line.get(i).copied().unwrap_or(-inf)
        });
        let run = |x: &DMatrix<f64>| {
            let value = |f: fn(MatVar<f64>) -> MatVar<f64>| {
                matrix::pullback(|m| f(m[0]), std::slice::from_ref(x)).0
            };
            (
                value(|m| m.softmax(Along::Rows)),
                value(|m| m.logsoftmax(Along::Rows)),
                value(|m| m.logsumexp(Along::Rows)),
            )
        };
        let (s1, l1, e1) = run(&short);
        let (s2, l2, e2) = run(&long);
        assert!(
            same(e1[0], e2[0]),
            "{line:?}: logsumexp {} vs {}",
            e1[0],
            e2[0]
        );
        for i in 0..line.len() {
            assert!(
                same(s1[i], s2[i]),
                "{line:?}: softmax[{i}] {} vs {}",
                s1[i],
                s2[i]
            );
            assert!(
                same(l1[i], l2[i]),
                "{line:?}: logsoftmax[{i}] {} vs {}",
                l1[i],
                l2[i]
            );
        }
    }
}

/// `matrix::jacobian` of a two-input, non-square function against the scalar tape's
/// `jacobian` of the same function written entry by entry (inputs flattened column-major,
/// input 0 first; outputs column-major).
#[test]
fn matrix_jacobian_matches_the_scalar_tapes() {
    let a = DMatrix::from_fn(2, 3, |i, j| 0.3 * i as f64 - 0.2 * j as f64 + 0.1);
    let b = DMatrix::from_fn(3, 2, |i, j| (i as f64 + 2.0 * j as f64).sin());
    let j = matrix::jacobian(|m| (m[0] * m[1]).tanh(), &[a.clone(), b.clone()]);
    assert_eq!(j.shape(), (4, 12));
    let flat: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    let scalar = adroit_reverse::jacobian(
        |x| {
            let (av, bv) = (&x[..6], &x[6..]);
            // y(i, j) = tanh(Σₖ a(i, k)·b(k, j)), column-major over (i, j)
            let mut y = Vec::new();
            for jj in 0..2 {
                for i in 0..2 {
                    let s = (0..3).fold(Var::constant(0.0), |t, k| {
                        t + av[k * 2 + i] * bv[jj * 3 + k]
                    });
                    y.push(s.tanh());
                }
            }
            y
        },
        &flat,
    );
    assert!((&j - &scalar).amax() < 1e-15, "{j}\n{scalar}");
}

/// The named element-wise methods equal their rule-table forms (values and gradients, with
/// broadcasting for `maximum`/`minimum`), and a shape mismatch names the operation.
#[test]
fn named_elementwise_methods_equal_the_rule_forms() {
    let a = dmatrix![0.5, -1.0, 2.0; 1.0, 1.0, -3.0];
    let row = dmatrix![1.0, -2.0, 0.0];
    let named = matrix::gradient(
        |m| {
            (m[0].sin() + m[0].cos()).sum()
                + m[0].maximum(m[1]).sum() * 2.0
                + m[0].minimum(m[1]).sum() * 3.0
        },
        &[a.clone(), row.clone()],
    );
    let by_rule = matrix::gradient(
        |m| {
            (m[0].map_rule(rules::Sin) + m[0].map_rule(rules::Cos)).sum()
                + m[0].zip_rule(m[1], rules::Maximum).sum() * 2.0
                + m[0].zip_rule(m[1], rules::Minimum).sum() * 3.0
        },
        &[a, row],
    );
    assert_eq!(named, by_rule);
    let mismatch = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| m[0].maximum(m[1]).sum(),
            &[dmatrix![1.0, 2.0], dmatrix![1.0, 2.0, 3.0]],
        )
    });
    let message = mismatch.expect_err("shapes 1×2 and 1×3 do not broadcast");
    let text = message
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(
        text.contains("maximum") && text.contains("1×2") && text.contains("1×3"),
        "{text}"
    );
}

/// `sigmoid`, `softplus`, `log_sigmoid` and `ln_1p` against the closed-form derivatives
/// `σ(1 − σ)`, `σ`, `1 − σ` and `1/(1 + x)` (and their values against plain `f64`), logits of
/// ±1000 included.
#[test]
fn sigmoid_softplus_and_ln_1p() {
    let x = dmatrix![0.0, -1000.0, 1000.0, 2.5, -0.75, 1e-10];
    let sigma = x.map(|v: f64| 1.0 / (1.0 + (-v).exp()));
    let weights = dmatrix![1.0, 2.0, -1.0, 0.5, 3.0, -2.0];
    let w = || weights.clone();
    let (value, g) = matrix::value_and_gradient(|m| m[0].sigmoid().weighted_sum(w()), &[&x]);
    assert!((value - sigma.dot(&weights)).abs() < 1e-14);
    let expected = sigma.map(|s| s * (1.0 - s)).component_mul(&weights);
    assert!((&g[0] - expected).amax() < 1e-15, "{}", g[0]);
    let (value, g) = matrix::value_and_gradient(|m| m[0].softplus().weighted_sum(w()), &[&x]);
    let softplus = x.map(|v: f64| if v > 30.0 { v } else { v.exp().ln_1p() });
    assert!((value - softplus.dot(&weights)).abs() < 1e-12, "{value}");
    assert!((&g[0] - sigma.component_mul(&weights)).amax() < 1e-15);
    // ln σ(x) = −softplus(−x), derivative σ(−x) = 1 − σ(x).
    let (value, g) = matrix::value_and_gradient(|m| m[0].log_sigmoid().weighted_sum(w()), &[&x]);
    let log_sigmoid = x.map(|v: f64| if v < -30.0 { v } else { -(-v).exp().ln_1p() });
    assert!((value - log_sigmoid.dot(&weights)).abs() < 1e-12, "{value}");
    let expected = sigma.map(|s| 1.0 - s).component_mul(&weights);
    assert!((&g[0] - expected).amax() < 1e-15);
    let positive = x.map(f64::abs);
    let (value, g) = matrix::value_and_gradient(|m| m[0].ln_1p().weighted_sum(w()), &[&positive]);
    assert!((value - positive.map(f64::ln_1p).dot(&weights)).abs() < 1e-12);
    let expected = positive.map(|v| 1.0 / (1.0 + v)).component_mul(&weights);
    assert!((&g[0] - expected).amax() < 1e-15);
}

/// `maximum`/`minimum` propagate a NaN entry, as JAX's `jnp.maximum` and `torch.maximum` (a
/// ReLU written `maximum(x, 0)` gave the value 3 for `[1, NaN, 2]`, hiding the NaN from
/// `detect_anomaly`: a trial's finding), the NaN entry's cotangent 0 (JAX's gradient for `x`
/// is `[1, 0, 1]` too) and the other side's 1 (JAX 0.10.2's: 0); `Float::max` on the scalar
/// tape keeps `f64::max`'s convention (NaN ignored).
#[test]
fn maximum_and_minimum_propagate_nan() {
    let x = dmatrix![1.0, f64::NAN, 2.0];
    let zero = || MatVar::constant(dmatrix![0.0]);
    for (name, f) in [
        (
            "maximum",
            (|m: MatVar<f64>, z| m.maximum(z)) as fn(_, _) -> _,
        ),
        ("minimum", |m: MatVar<f64>, z| m.minimum(z)),
    ] {
        let (value, g) = matrix::value_and_gradient(|m| f(m[0], zero()).sum(), &[&x]);
        assert!(value.is_nan(), "{name}: {value}");
        let expected = if name == "maximum" {
            [1.0, 0.0, 1.0]
        } else {
            [0.0, 0.0, 0.0]
        };
        assert_eq!(g[0].as_slice(), expected, "{name}");
    }
    let scalar =
        adroit_reverse::value_and_gradient(|v| Float::max(v[0], Var::constant(0.0)), &[f64::NAN]);
    assert_eq!(scalar, (0.0, vec![0.0]));
}

/// `MatVar::clamp` against the scalar tape's `Float::clamp` (the same selection convention:
/// derivative 1 at the bounds), a NaN entry, and its second derivatives (0: piecewise linear).
#[test]
fn matrix_clamp_matches_the_scalar_clamp() {
    let x = dmatrix![-2.0, 0.0, 0.25, 1.0, 3.0, 1.0 - 1e-12];
    let g = matrix::gradient(|m| m[0].clamp(0.0, 1.0).sum(), std::slice::from_ref(&x));
    let scalar = gradient(
        |v| {
            v.iter()
                .map(|&e| e.clamp(Var::constant(0.0), Var::constant(1.0)))
                .fold(Var::constant(0.0), |t, e| t + e)
        },
        x.as_slice(),
    );
    assert_eq!(g[0].as_slice(), scalar.as_slice());
    let (y, _) = matrix::pullback(|m| m[0].clamp(0.0, 1.0), &[dmatrix![f64::NAN]]);
    assert!(y[0].is_nan());
    let h = matrix::hessian(
        |m| {
            let zero = <_ as num_traits::Zero>::zero();
            let one = <_ as num_traits::One>::one();
            m[0].clamp(zero, one).component_mul(m[0]).sum()
        },
        &[dmatrix![0.5, 2.0]],
    );
    // d²/dx² of x·clamp(x): 2 inside, 0 where clamped (the clamped x·1 is linear)
    assert_eq!(h, dmatrix![2.0, 0.0; 0.0, 0.0]);
}

#[test]
#[should_panic(expected = "MatVar::clamp: the bounds must satisfy lo ≤ hi")]
fn matrix_clamp_with_crossed_bounds_panics() {
    let _ = matrix::gradient(|m| m[0].clamp(1.0, 0.0).sum(), &[dmatrix![0.5]]);
}
