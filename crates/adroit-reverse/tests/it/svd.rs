//! `svd`'s pullback against adroit-forward's `svd` tangents (the dot-product test
//! `⟨w, J·ȧ⟩ = ⟨Jᵀ·w, ȧ⟩` for random cotangents and directions), and the gradients of a
//! singular value and of a singular vector's projector at matrices where nalgebra's iteration
//! on `Var`s gets them wrong (triangular, rank-deficient; found by an audit).

use crate::matrices::{matrix, rank_one_factors, with_singular_values};
use adroit_forward::Dual;
use adroit_reverse::{Var, gradient, svd};
use nalgebra::{DMatrix, DVector};

/// `⟨W_U, U⟩ + ⟨w_σ, σ⟩ + ⟨W_Vᵀ, Vᵀ⟩` of the SVD of the `rows × cols` matrix `x` (column-major),
/// with fixed pseudo-random weights `w` ([`matrix`] of phase 3.3), written for `Var`.
fn weighted_sum(x: &[Var<f64>], rows: usize, cols: usize, pairs: usize) -> Var<f64> {
    let (u, s, v_t) = svd(&DMatrix::from_column_slice(rows, cols, x));
    let k = s.len();
    let w = matrix(rows + k + 1, k.max(cols), 3.3);
    let mut total = Var::constant(0.0);
    for i in 0..pairs {
        total += s[i] * w[(rows, i)];
        for r in 0..rows {
            total += u[(r, i)] * w[(r, i)];
        }
        for c in 0..cols {
            total += v_t[(i, c)] * w[(rows + 1 + i, c)];
        }
    }
    total
}

/// The same sum of adroit-forward's `svd` of `a + t·dot`: its tangent is `⟨w, J·ȧ⟩`.
fn weighted_sum_tangent(a: &DMatrix<f64>, dot: &DMatrix<f64>, pairs: usize) -> f64 {
    let (rows, cols) = a.shape();
    let (u, s, v_t) = adroit_forward::svd(&a.zip_map(dot, Dual::new));
    let k = s.len();
    let w = matrix(rows + k + 1, k.max(cols), 3.3);
    let mut total = Dual::constant(0.0);
    for i in 0..pairs {
        total += s[i] * Dual::constant(w[(rows, i)]);
        for r in 0..rows {
            total += u[(r, i)] * Dual::constant(w[(r, i)]);
        }
        for c in 0..cols {
            total += v_t[(i, c)] * Dual::constant(w[(rows + 1 + i, c)]);
        }
    }
    total.tangent()
}

/// The dot-product test at `a` over the first `pairs` singular triples, three directions.
fn dot_product_test(a: &DMatrix<f64>, pairs: usize) {
    let (rows, cols) = a.shape();
    let g = gradient(|x| weighted_sum(x, rows, cols, pairs), a.as_slice());
    for phase in [0.4, 1.9, 2.6] {
        let dot = matrix(rows, cols, phase);
        let reverse: f64 = g.iter().zip(dot.iter()).map(|(g, d)| g * d).sum();
        let forward = weighted_sum_tangent(a, &dot, pairs);
        assert!(
            (reverse - forward).abs() <= 1e-11 * (1.0 + forward.abs()),
            "{rows}×{cols}, {pairs} pairs: reverse {reverse} against forward {forward}"
        );
    }
}

#[test]
fn pullback_is_the_transpose_of_the_forward_tangents() {
    for (rows, cols) in [(4, 4), (5, 3), (3, 5), (1, 1), (1, 4), (4, 1)] {
        let a = matrix(rows, cols, 0.3);
        dot_product_test(&a, rows.min(cols));
    }
    // triangular and diagonal: nalgebra's iteration on Vars drops the vectors' derivatives
    dot_product_test(&matrix(4, 4, 0.2).upper_triangle(), 4);
    let d = DMatrix::from_diagonal(&DVector::from_column_slice(&[4.0, -3.0, 2.0, 1.0]));
    dot_product_test(&d, 4);
    // rank 2: the two non-zero singular triples
    dot_product_test(&(matrix(4, 2, 0.4) * matrix(2, 4, 1.3)), 2);
    dot_product_test(&(matrix(5, 2, 0.5) * matrix(2, 3, 2.2)), 2);
}

#[test]
fn largest_singular_value_of_a_rank_one_matrix() {
    // ∂σ₁/∂A = u₁v₁ᵀ; nalgebra's iteration on Vars gave −1.75 for 0.926 along the ones matrix.
    let (x, y) = rank_one_factors();
    let a = &x * y.transpose();
    let g = gradient(
        |v| svd(&DMatrix::from_column_slice(4, 4, v)).1[0],
        a.as_slice(),
    );
    let (x_hat, y_hat): (DVector<f64>, DVector<f64>) = (&x / x.norm(), &y / y.norm());
    let expected = x_hat * y_hat.transpose();
    for (g, e) in g.iter().zip(expected.iter()) {
        assert!((g - e).abs() < 1e-14, "{g} against {e}");
    }
    let along_ones: f64 = g.iter().sum();
    assert!((along_ones - x.sum() * y.sum() / (x.norm() * y.norm())).abs() < 1e-14);
}

#[test]
fn empty_matrices_and_f32() {
    let g = gradient(
        |x| {
            let (u, s, v_t) = svd(&DMatrix::from_column_slice(0, 3, &x[..0]));
            assert_eq!((u.shape(), s.len(), v_t.shape()), ((0, 0), 0, (0, 3)));
            x[0] * 2.0
        },
        &[1.0_f64],
    );
    assert_eq!(g, vec![2.0]);
    let a = matrix(3, 3, 0.3);
    let g64 = gradient(
        |v| svd(&DMatrix::from_column_slice(3, 3, v)).1.sum(),
        a.as_slice(),
    );
    let a32: Vec<f32> = a.iter().map(|&v| v as f32).collect();
    let g32 = gradient(|v| svd(&DMatrix::from_column_slice(3, 3, v)).1.sum(), &a32);
    for (s, d) in g32.iter().zip(&g64) {
        assert!((f64::from(*s) - d).abs() < 1e-5, "{s} against {d}");
    }
}

#[test]
fn scale_free_zero_matrices_and_non_finite_entries() {
    // c·[[2, x], [0, 1]]: ∂(u₀₀u₁₀)/∂x = 1/(3c) at every scale (0 or NaN beyond ~1e154 and
    // below ~1e-155 before, when σ² was formed unscaled; found by a review).
    for c in [1e-300_f64, 1e-200, 1.0, 1e160, 1e300] {
        let g = gradient(
            |x| {
                let k = Var::constant;
                let a = DMatrix::from_row_slice(2, 2, &[k(2.0 * c), x[0], k(0.0), k(c)]);
                let (u, _, _) = svd(&a);
                u[(0, 0)] * u[(1, 0)]
            },
            &[0.0],
        );
        assert!((g[0] * c * 3.0 - 1.0).abs() < 1e-14, "c = {c:e}: {}", g[0]);
    }
    // The zero matrix: the pullback is the transpose of the forward tangents (it was NaN
    // against 0.877, the vectors' 0/0 there now 0 in both modes).
    dot_product_test(&DMatrix::zeros(3, 3), 3);
    dot_product_test(
        &DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0, 0.0, 0.0])),
        3,
    );
    // A NaN entry: NaN results and gradient, no endless iteration.
    let g = gradient(
        |x| svd(&DMatrix::from_column_slice(3, 3, x)).1.sum(),
        &[1.0, 2.0, f64::NAN, 0.5, 1.0, 3.0, 2.0, 0.1, 1.0],
    );
    assert!(g.iter().all(|d| d.is_nan()), "{g:?}");
}

#[test]
fn forward_and_reverse_agree_at_mixed_magnitudes() {
    // d(u₁₁u₂₁)/da₁₂ at diag(a, b, c) is 1/(3c) (the 2 × 2 block [[b, t], [0, c]] with b = 2c);
    // forward mode lost it to underflow when the largest σ was far larger (a review). (Beyond
    // a ratio of ~1e-162 nalgebra's SVD of the primal sets the small singular values to 0.)
    for (a, c) in [(1e300_f64, 1e275), (1e300, 1e280), (1.0, 1e-150)] {
        let diag = DMatrix::from_diagonal(&DVector::from_column_slice(&[a, 2.0 * c, c]));
        let g = gradient(
            |x| {
                let (u, _, _) = svd(&DMatrix::from_column_slice(3, 3, x));
                u[(1, 1)] * u[(2, 1)]
            },
            diag.as_slice(),
        );
        let expected = 1.0 / (3.0 * c);
        assert!(
            (g[7] / expected - 1.0).abs() < 1e-12,
            "({a:e}, {c:e}): {} against {expected:e}",
            g[7]
        );
        let mut dot = DMatrix::zeros(3, 3);
        dot[(1, 2)] = 1.0;
        let (u, _, _) = adroit_forward::svd(&diag.zip_map(&dot, Dual::new));
        let forward = (u[(1, 1)] * u[(2, 1)]).tangent();
        assert!(
            (forward / expected - 1.0).abs() < 1e-12,
            "forward {forward:e} against {expected:e}"
        );
    }
}

/// `Σσ + ‖U‖² + ‖Vᵀ‖²` of the `rows × cols` matrix `x`: the last two terms are constant (`k`
/// each), so the gradient is that of the nuclear norm, `U·Vᵀ`.
fn nuclear_norm_plus_constants(x: &[Var<f64>], rows: usize, cols: usize) -> Var<f64> {
    let (u, s, v_t) = svd(&DMatrix::from_column_slice(rows, cols, x));
    let squares = u.iter().chain(v_t.iter()).map(|&x| x * x);
    squares.fold(Var::constant(0.0), |acc, x| acc + x) + s.iter().copied().sum::<Var<f64>>()
}

/// At a repeated singular value (a few ulps apart as nalgebra returns it) a cotangent whose
/// parts between the pair are rounding (`Ū = 2U`, `V̄ᵀ = 2Vᵀ` from constant terms) does not
/// mix it: the gradient stays `U·Vᵀ` (it was NaN: rounding over a gap taken as 0). A loss that
/// mixes the pair, the basis-independent polar factor `⟨C, U·Vᵀ⟩` among them, gets a
/// non-finite gradient there, never a finite wrong one.
#[test]
fn constant_vector_terms_at_a_repeated_singular_value() {
    for (rows, cols) in [(3, 3), (4, 3), (3, 5)] {
        for p in 0..30 {
            let phase = 0.37 * f64::from(p);
            let a = with_singular_values(&[3.0, 2.0, 2.0], rows, cols, phase);
            let g = gradient(|x| nuclear_norm_plus_constants(x, rows, cols), a.as_slice());
            let plain = a.clone().svd(true, true);
            let polar = plain.u.unwrap() * plain.v_t.unwrap();
            let error = (DMatrix::from_column_slice(rows, cols, &g) - &polar).amax();
            assert!(error <= 1e-12, "{rows}×{cols}, {p}: {error}");
        }
    }
    let a = with_singular_values(&[3.0, 2.0, 2.0], 3, 3, 0.5);
    let sigma = a.clone().svd(false, false).singular_values;
    assert!(
        sigma[1] != sigma[2],
        "the premise: a pair a few ulps apart, {sigma}"
    );
    let c = matrix(3, 3, 2.2);
    let g = gradient(
        |x| {
            let (u, _, v_t) = svd(&DMatrix::from_column_slice(3, 3, x));
            let polar = u * v_t;
            polar
                .iter()
                .zip(c.iter())
                .map(|(&p, &c)| p * c)
                .sum::<Var<f64>>()
        },
        a.as_slice(),
    );
    assert!(g.iter().any(|x| !x.is_finite()), "{g:?}");
    // yᵀA⁻¹y = Σ (yᵀvᵢ)(uᵢᵀy)/σᵢ at the exact tie of diag(2, 2, 1): the pair's cotangent entries
    // cancelled into a silent 0 in its coupling entries before; now non-finite.
    let a = DMatrix::from_diagonal(&DVector::from_column_slice(&[2.0, 2.0, 1.0]));
    let y = [1.0, -2.0, 0.5];
    let g = gradient(
        |x| {
            let (u, s, v_t) = svd(&DMatrix::from_column_slice(3, 3, x));
            (0..3)
                .map(|i| {
                    let (mut uy, mut vy) = (Var::constant(0.0), Var::constant(0.0));
                    for r in 0..3 {
                        uy += u[(r, i)] * y[r];
                        vy += v_t[(i, r)] * y[r];
                    }
                    uy * vy / s[i]
                })
                .sum::<Var<f64>>()
        },
        a.as_slice(),
    );
    assert!(g.iter().any(|x| !x.is_finite()), "{g:?}");
}

/// The Hessian of `(u₀v₀ᵀ)₁₀` of `(1 + x₁)·A + x₀·W·A`, `A = diag(1, 1 − 16ε, 0.25)`, `W = E₀₁ −
/// E₁₀`: `−sin(atan(x₀/(1 + x₁)))`, so `H = [[0, 1], [1, 0]]` at 0. The dual decomposition under
/// `hessian` snapped the turning term's exact, gap-sized symmetric part and gave
/// `[[0, 0.5], [1, 0]]` (a review's finding; adroit-forward's test of the tangents).
#[test]
fn hessian_of_a_turned_diagonal_matrix_with_close_singular_values() {
    fn turned<T: adroit_reverse::TapeScalar + nalgebra::RealField>(x: &[Var<T>]) -> Var<T> {
        let c = |v: f64| Var::constant(nalgebra::convert::<f64, T>(v));
        let sigma = [1.0, 1.0 - 16.0 * f64::EPSILON, 0.25];
        let m = DMatrix::from_fn(3, 3, |i, j| {
            let a = if i == j { sigma[i] } else { 0.0 };
            let wa = match (i, j) {
                (0, 1) => sigma[1],
                (1, 0) => -sigma[0],
                _ => 0.0,
            };
            (c(1.0) + x[1]) * c(a) + x[0] * c(wa)
        });
        let (u, _, v_t) = svd(&m);
        u[(1, 0)] * v_t[(0, 0)]
    }
    let h = adroit_reverse::hessian(|x| turned(x), &[0.0_f64, 0.0]);
    assert!(
        (h[(0, 1)] - 1.0).abs() < 1e-12 && (h[(1, 0)] - 1.0).abs() < 1e-12 && h[(0, 0)] == 0.0,
        "{h}"
    );
}

/// Regression (a review's finding): σ₀·u₀₀·u₁₀ at diag(1.5e308, 1e307) had infinite gradient
/// entries once singular values were normalised into [1, 2) (the cotangents' products lost
/// half their headroom); against the same at 2⁻⁸ of the matrix (the gradient of this
/// function does not depend on the scale).
#[test]
fn gradients_through_svd_near_the_top_of_the_range() {
    let f = |x: &[Var<f64>]| {
        let (u, s, _) = svd(&DMatrix::from_column_slice(2, 2, x));
        s[0] * u[(0, 0)] * u[(1, 0)]
    };
    let g = gradient(f, &[1.5e308, 0.0, 0.0, 1e307]);
    let scaled = gradient(f, &[1.5e308 / 256.0, 0.0, 0.0, 1e307 / 256.0]);
    assert!(
        scaled[1] != 0.0
            && g.iter()
                .zip(&scaled)
                .all(|(a, b)| (a - b).abs() <= 1e-15 * b.abs()),
        "{g:?} vs {scaled:?}"
    );
}
