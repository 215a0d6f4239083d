//! `MatVar::solve`, `inverse` and `logabsdet` against the scalar tape through nalgebra's LU on
//! `Var`s (an independent path: the same functions entry by entry), closed forms and central
//! differences; matrices that need row swaps, several right-hand sides, f32, singular and
//! empty matrices, shape errors.

use crate::linalg_second_order::assert_matrix_close;
use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, dmatrix};

/// A non-symmetric 4 × 4 matrix whose LU needs row swaps (a zero and a small leading entry).
fn a_matrix() -> DMatrix<f64> {
    dmatrix![
        0.0, 2.0, -1.0, 0.5;
        1e-3, 1.0, 3.0, -2.0;
        4.0, -1.0, 0.5, 1.0;
        -2.0, 0.3, 1.0, 3.0
    ]
}

fn b_matrix() -> DMatrix<f64> {
    dmatrix![1.0, -0.5; 2.0, 0.25; -1.0, 1.5; 0.5, 3.0]
}

/// A cotangent for the 4 × 2 result.
fn weights() -> DMatrix<f64> {
    dmatrix![0.3, -1.0; 2.0, 0.5; -0.7, 1.2; 1.1, -0.4]
}

/// Central differences of `f` at `x`, entry by entry.
pub(crate) fn differences(f: impl Fn(&DMatrix<f64>) -> f64, x: &DMatrix<f64>) -> DMatrix<f64> {
    let h = 1e-6;
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
        let (mut p, mut q) = (x.clone(), x.clone());
        p[(i, j)] += h;
        q[(i, j)] -= h;
        (f(&p) - f(&q)) / (2.0 * h)
    })
}

/// The Hessian of a one-input matrix loss by central differences (step 1e-6) of its
/// matrix-tape gradient: column `j` from the gradients at `x ± h·eⱼ` (entries column-major).
pub(crate) fn gradient_differences(
    f: impl Fn(&[MatVar<f64>]) -> MatVar<f64>,
    x: &DMatrix<f64>,
) -> DMatrix<f64> {
    let h = 1e-6;
    let mut out = DMatrix::zeros(x.len(), x.len());
    for j in 0..x.len() {
        let (mut p, mut q) = (x.clone(), x.clone());
        p[j] += h;
        q[j] -= h;
        let gp = matrix::gradient(&f, std::slice::from_ref(&p));
        let gq = matrix::gradient(&f, std::slice::from_ref(&q));
        for i in 0..x.len() {
            out[(i, j)] = (gp[0][i] - gq[0][i]) / (2.0 * h);
        }
    }
    out
}

#[test]
fn solve_matches_the_scalar_tape_and_differences() {
    let (a, b, w) = (a_matrix(), b_matrix(), weights());
    let (value, grads) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).weighted_sum(w.clone()),
        &[a.clone(), b.clone()],
    );
    let x = a.clone().lu().solve(&b).unwrap();
    assert!((value - x.component_mul(&w).sum()).abs() < 1e-13);
    // The scalar tape through nalgebra's LU on Vars, inputs A then B (column-major).
    let inputs: Vec<f64> = a.iter().chain(b.iter()).copied().collect();
    let scalar = gradient(
        |v| {
            let a = DMatrix::from_column_slice(4, 4, &v[..16]);
            let b = DMatrix::from_column_slice(4, 2, &v[16..]);
            let x = a.lu().solve(&b).unwrap();
            x.iter()
                .zip(w.iter())
                .fold(Var::constant(0.0), |s, (x, w)| s + *x * *w)
        },
        &inputs,
    );
    assert_matrix_close(
        &grads[0],
        &DMatrix::from_column_slice(4, 4, &scalar[..16]),
        1e-12,
        "Ā",
    );
    assert_matrix_close(
        &grads[1],
        &DMatrix::from_column_slice(4, 2, &scalar[16..]),
        1e-12,
        "B̄",
    );
    let loss = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
        a.clone().lu().solve(b).unwrap().component_mul(&w).sum()
    };
    assert_matrix_close(
        &grads[0],
        &differences(|p| loss(p, &b), &a),
        1e-7,
        "Ā against differences",
    );
    assert_matrix_close(
        &grads[1],
        &differences(|p| loss(&a, p), &b),
        1e-7,
        "B̄ against differences",
    );
}

#[test]
fn inverse_and_logabsdet_match_closed_forms() {
    let a = a_matrix();
    let inv = a.clone().try_inverse().unwrap();
    let w = DMatrix::from_fn(4, 4, |i, j| 1.0 + i as f64 - 0.5 * j as f64);
    let (value, grads) = matrix::value_and_gradient(
        |m| m[0].inverse().weighted_sum(w.clone()),
        std::slice::from_ref(&a),
    );
    assert!((value - inv.component_mul(&w).sum()).abs() < 1e-12);
    // Ā = −A⁻ᵀ·W·A⁻ᵀ
    let want = -(inv.transpose() * &w * inv.transpose());
    assert_matrix_close(&grads[0], &want, 1e-12, "inverse");
    // ln|det A| (det A < 0 here: the sign does not matter), gradient A⁻ᵀ.
    assert!(a.determinant() != 0.0);
    let (value, grads) = matrix::value_and_gradient(|m| m[0].logabsdet(), std::slice::from_ref(&a));
    assert!(
        (value - a.determinant().abs().ln()).abs() < 1e-13,
        "{value}"
    );
    assert_matrix_close(&grads[0], &inv.transpose(), 1e-12, "logabsdet");
    // Far beyond f64's range: 300 × 300 diag(1e10, …) has det 1e3000, ln det = 3000·ln 10.
    let big = DMatrix::from_diagonal_element(300, 300, 1e10);
    let (value, grads) =
        matrix::value_and_gradient(|m| m[0].logabsdet(), std::slice::from_ref(&big));
    assert!((value - 3000.0 * 10.0_f64.ln()).abs() < 1e-9, "{value}");
    assert!((grads[0][(7, 7)] - 1e-10).abs() < 1e-24 && grads[0][(7, 8)] == 0.0);
}

/// A pullback called several times (the rule forms `A⁻ᵀ` once and keeps it): each call gives
/// its own cotangent times `A⁻ᵀ`, a zero cotangent zeros, and a gradient call afterwards on
/// a fresh recording the same bits as the first call.
#[test]
fn logabsdet_pullback_called_repeatedly() {
    let a = a_matrix();
    let inv_t = a.clone().try_inverse().unwrap().transpose();
    let (value, pb) = matrix::pullback(
        |m| m[0].logabsdet() * 2.0 + m[0].solve(m[1]).sum(),
        &[a.clone(), b_matrix()],
    );
    let first = pb.call(&dmatrix![1.0]);
    // The solve's own part of the gradient (Ā and B̄), per unit cotangent.
    let solve_part = matrix::gradient(|m| m[0].solve(m[1]).sum(), &[a.clone(), b_matrix()]);
    for g in [0.5, 0.0, -3.0, 1.0] {
        let again = pb.call(&dmatrix![g]);
        let logdet_part = &again[0] - &solve_part[0] * g;
        assert_matrix_close(&logdet_part, &(&inv_t * (2.0 * g)), 1e-12, "Ā of logabsdet");
        assert_matrix_close(&again[1], &(&solve_part[1] * g), 1e-12, "B̄");
    }
    let last = pb.call(&dmatrix![1.0]);
    assert_eq!(first, last);
    let (value_again, grads) = matrix::value_and_gradient(
        |m| m[0].logabsdet() * 2.0 + m[0].solve(m[1]).sum(),
        &[a.clone(), b_matrix()],
    );
    assert_eq!(value[(0, 0)], value_again);
    assert_eq!(grads, first);
}

#[test]
fn a_chain_of_solves_in_f32() {
    let a = a_matrix().map(|v| v as f32);
    let b = b_matrix().map(|v| v as f32);
    // ‖A⁻¹B‖² + ln|det A|, against the f64 computation on the same (f32-rounded) entries.
    let (_, grads) = matrix::value_and_gradient(
        |m| {
            let x = m[0].solve(m[1]);
            x.component_mul(x).sum() + m[0].logabsdet()
        },
        &[a.clone(), b.clone()],
    );
    let (a64, b64) = (a.map(f64::from), b.map(f64::from));
    let (_, want) = matrix::value_and_gradient(
        |m| {
            let x = m[0].solve(m[1]);
            x.component_mul(x).sum() + m[0].logabsdet()
        },
        &[a64, b64],
    );
    assert_matrix_close(&grads[0].map(f64::from), &want[0], 1e-4, "f32 Ā");
    assert_matrix_close(&grads[1].map(f64::from), &want[1], 1e-4, "f32 B̄");
}

#[test]
fn singular_and_empty_matrices() {
    let singular: DMatrix<f64> = dmatrix![1.0, 2.0; 2.0, 4.0];
    let (value, grads) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).sum(),
        &[singular.clone(), dmatrix![1.0; 1.0]],
    );
    assert!(value.is_nan() && grads.iter().all(|g| g.iter().all(|v| v.is_nan())));
    let (value, _) =
        matrix::value_and_gradient(|m| m[0].inverse().sum(), std::slice::from_ref(&singular));
    assert!(value.is_nan());
    let (value, grads) =
        matrix::value_and_gradient(|m| m[0].logabsdet(), std::slice::from_ref(&singular));
    assert!(
        value == f64::NEG_INFINITY && grads[0].iter().all(|v| v.is_nan()),
        "{value} {}",
        grads[0]
    );
    // 0 × 0: ln|det| = 0, an empty solve and inverse.
    let empty = DMatrix::<f64>::zeros(0, 0);
    let (value, grads) =
        matrix::value_and_gradient(|m| m[0].logabsdet(), std::slice::from_ref(&empty));
    assert_eq!((value, grads[0].shape()), (0.0, (0, 0)));
    let (y, _) = matrix::pullback(|m| m[0].solve(m[1]), &[empty.clone(), DMatrix::zeros(0, 3)]);
    assert_eq!(y.shape(), (0, 3));
    let (y, _) = matrix::pullback(|m| m[0].inverse(), std::slice::from_ref(&empty));
    assert_eq!(y.shape(), (0, 0));
}

#[test]
#[should_panic(
    expected = "solve: A·X = B needs A square and B with A's row count, got A 4×4 and B 3×2"
)]
fn solve_reports_both_shapes() {
    let _ = matrix::pullback(
        |m: &[MatVar<f64>]| m[0].solve(m[1]),
        &[a_matrix(), DMatrix::zeros(3, 2)],
    );
}

#[test]
#[should_panic(expected = "logabsdet: the matrix is 2×3, not square")]
fn logabsdet_needs_a_square_matrix() {
    let _ = matrix::pullback(
        |m: &[MatVar<f64>]| m[0].logabsdet(),
        &[DMatrix::zeros(2, 3)],
    );
}

/// From a review: an infinite entry of `B` in a column the loss never reads made every entry
/// of `Ā` NaN (a plain product met `0·∞`); the pullbacks' `0·∞ = 0` convention keeps it, as
/// the scalar tape and `matmul` do. And a zero cotangent at a singular `A` contributes nothing.
#[test]
fn unread_infinities_and_zero_cotangents_give_no_nan() {
    let a = dmatrix![2.0, 1.0; 1.0, 3.0];
    let b = dmatrix![1.0, f64::INFINITY; 2.0, 0.0];
    let w = dmatrix![1.0, 0.0; 1.0, 0.0];
    let (_, grads) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).weighted_sum(w.clone()),
        &[a.clone(), b.clone()],
    );
    // The first column alone: X₁ = A⁻¹b₁ = (0.2, 0.6); B̄₁ = A⁻ᵀ·(1, 1) = (0.4, 0.2);
    // Ā = −B̄·Xᵀ over the read column: −(0.4, 0.2)·(0.2, 0.6)ᵀ.
    assert_matrix_close(&grads[0], &dmatrix![-0.08, -0.24; -0.04, -0.12], 1e-15, "Ā");
    assert_matrix_close(&grads[1], &dmatrix![0.4, 0.0; 0.2, 0.0], 1e-15, "B̄");
    let singular: DMatrix<f64> = dmatrix![1.0, 2.0; 2.0, 4.0];
    let (_, grads) = matrix::value_and_gradient(
        |m| m[0].logabsdet().weighted_sum(dmatrix![0.0]) + m[0].sum(),
        std::slice::from_ref(&singular),
    );
    assert_eq!(grads[0], DMatrix::from_element(2, 2, 1.0));
    let (_, grads) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).weighted_sum(dmatrix![0.0; 0.0]) + m[0].sum(),
        &[singular.clone(), dmatrix![1.0; 1.0]],
    );
    assert_eq!(grads[0], DMatrix::from_element(2, 2, 1.0));
}

/// A NaN or infinite entry of `A` makes every value and partial NaN (LU gave finite limits for
/// some placements of an infinity and NaN for others).
#[test]
fn a_non_finite_matrix_gives_nan() {
    for bad in [f64::INFINITY, f64::NAN] {
        for at in [(0, 0), (1, 2)] {
            let mut a: DMatrix<f64> = dmatrix![2.0, 1.0, 0.0; 1.0, 3.0, 1.0; 0.0, 1.0, 4.0];
            a[at] = bad;
            let (v, g) = matrix::value_and_gradient(
                |m| m[0].solve(m[1]).sum(),
                &[a.clone(), dmatrix![1.0; 2.0; 3.0]],
            );
            assert!(
                v.is_nan() && g[0].iter().all(|x| x.is_nan()),
                "{bad} at {at:?}"
            );
            let (v, _) =
                matrix::value_and_gradient(|m| m[0].inverse().sum(), std::slice::from_ref(&a));
            assert!(v.is_nan(), "{bad} at {at:?}");
            let (v, g) = matrix::value_and_gradient(|m| m[0].logabsdet(), std::slice::from_ref(&a));
            assert!(
                v.is_nan() && g[0].iter().all(|x| x.is_nan()),
                "{bad} at {at:?}: {v}"
            );
        }
    }
}

/// From a review: a NaN or infinite `A` took the non-singular path of the pullback (only a zero
/// pivot was taken for singular), so a zero cotangent column gave NaN instead of nothing — a
/// solve weighted by zero poisoned the gradient of everything sharing `B`. As at a zero pivot
/// now: zero cotangent columns contribute 0, the others NaN.
#[test]
fn a_zero_cotangent_through_a_non_finite_matrix_contributes_nothing() {
    for bad in [f64::INFINITY, f64::NAN] {
        let a = dmatrix![bad, 0.0; 0.0, 1.0];
        let (_, g) = matrix::value_and_gradient(
            |m| m[1].sum() + m[0].solve(m[1]).weighted_sum(dmatrix![0.0; 0.0]),
            &[a.clone(), dmatrix![1.0; 1.0]],
        );
        assert_eq!(g[1], dmatrix![1.0; 1.0], "{bad}");
        assert_eq!(g[0], DMatrix::zeros(2, 2), "{bad}");
        let (_, pb) = matrix::pullback(
            |m| m[0].solve(m[1]),
            &[a.clone(), dmatrix![1.0, 2.0; 1.0, 3.0]],
        );
        let cotangents = pb.call(&dmatrix![0.0, 1.0; 0.0, 1.0]);
        let (a_bar, b_bar) = (&cotangents[0], &cotangents[1]);
        assert!(a_bar.iter().all(|v| v.is_nan()), "{bad}: {a_bar}");
        assert_eq!(
            b_bar.column(0).iter().copied().collect::<Vec<_>>(),
            vec![0.0, 0.0],
            "{bad}"
        );
        assert!(b_bar.column(1).iter().all(|v| v.is_nan()), "{bad}: {b_bar}");
    }
}

/// An infinite cotangent (`sqrt` of a zero result) meeting the zeros of `A⁻ᵀ` or of the
/// solution contributes 0, as in every pullback of the tape (from an audit: the substitution
/// and the scaling gave NaN there, where the scalar tape through nalgebra's LU and the matrix
/// tape's own `inverse()·b` give these values).
#[test]
fn an_infinite_cotangent_follows_the_zero_convention() {
    let inf = f64::INFINITY;
    let identity = DMatrix::<f64>::identity(2, 2);
    // sqrt(ln|det A|) at A = I: ∂ = ∞·A⁻ᵀ, zero off the diagonal; the gradient call's
    // consuming sweep and a pullback alike
    let want = dmatrix![inf, 0.0; 0.0, inf];
    let g = matrix::gradient(|m| m[0].logabsdet().sqrt(), std::slice::from_ref(&identity));
    assert_eq!(g[0], want);
    let (_, pullback) =
        matrix::pullback(|m| m[0].logabsdet().sqrt(), std::slice::from_ref(&identity));
    assert_eq!(pullback.call(&dmatrix![1.0])[0], want);
    let scalar = gradient(
        |x| {
            let m = DMatrix::from_column_slice(2, 2, x);
            let d = m.lu().determinant();
            num_traits::Float::sqrt(num_traits::Float::ln(num_traits::Float::abs(d)))
        },
        identity.as_slice(),
    );
    assert_eq!(scalar, want.as_slice());
    // Σ sqrt(A⁻¹b): at A = I, b = (0, 1) the cotangent of x is (∞, ½); at the swap
    // A = [0 1; 1 0] (LU pivots) x = (1, 0) and it is (½, ∞)
    for (a, b) in [
        (identity, dmatrix![0.0; 1.0]),
        (dmatrix![0.0, 1.0; 1.0, 0.0], dmatrix![0.0; 1.0]),
    ] {
        let inputs = [a.clone(), b.clone()];
        let solved = matrix::gradient(|m| m[0].solve(m[1]).sqrt().sum(), &inputs);
        let inverse = matrix::gradient(|m| (m[0].inverse() * m[1]).sqrt().sum(), &inputs);
        let scalar = gradient(
            |x| {
                let m = DMatrix::from_column_slice(2, 2, &x[..4]);
                let rhs = DMatrix::from_column_slice(2, 1, &x[4..]);
                let x = m.lu().solve(&rhs).expect("regular");
                x.map(num_traits::Float::sqrt).sum()
            },
            &[a.as_slice(), b.as_slice()].concat(),
        );
        assert_eq!(solved, inverse, "A = {a}");
        assert_eq!(solved[0].as_slice(), &scalar[..4], "A = {a}");
        assert_eq!(solved[1].as_slice(), &scalar[4..], "A = {a}");
        assert!(solved.iter().flatten().all(|v| !v.is_nan()), "{solved:?}");
    }
    let g = matrix::gradient(
        |m| m[0].solve(m[1]).sqrt().sum(),
        &[DMatrix::identity(2, 2), dmatrix![0.0; 1.0]],
    );
    assert_eq!(g[0], dmatrix![0.0, -inf; 0.0, -0.5]);
    assert_eq!(g[1], dmatrix![inf; 0.5]);
}

/// A finite cotangent that overflows in the substitution at a tiny pivot, then meets a zero
/// factor entry, follows the convention too (from a review of the fix above, which redid the
/// substitution only for a non-finite cotangent): the values of `inverse()·b` and of `A⁻ᵀ`.
#[test]
fn a_cotangent_overflowing_in_the_substitution_follows_the_zero_convention() {
    let inf = f64::INFINITY;
    let (a, b) = (dmatrix![1e-10, 0.0; 0.0, 1.0], dmatrix![0.0; 1.0]);
    let g = dmatrix![1e300; 1.0];
    for with_solve in [true, false] {
        let (_, pullback) = matrix::pullback(
            |m| {
                if with_solve {
                    m[0].solve(m[1])
                } else {
                    m[0].inverse() * m[1]
                }
            },
            &[a.clone(), b.clone()],
        );
        let grads = pullback.call(&g);
        assert_eq!(
            grads[0],
            dmatrix![0.0, -inf; 0.0, -1.0],
            "solve: {with_solve}"
        );
        assert_eq!(grads[1], dmatrix![inf; 1.0], "solve: {with_solve}");
    }
    // ∂ ln|det A| = A⁻ᵀ, whose (1, 0) entry −1e320 overflows while its neighbours are finite
    let a = dmatrix![1e-160, 1.0, 0.0; 0.0, 1e-160, 0.0; 0.0, 0.0, 1.0];
    let g = matrix::gradient(|m| m[0].logabsdet(), std::slice::from_ref(&a));
    assert_eq!(
        g[0],
        dmatrix![1e160, 0.0, 0.0; -inf, 1e160, 0.0; 0.0, 0.0, 1.0]
    );
}
