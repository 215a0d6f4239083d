//! `MatVar::cholesky` and the triangular solves against the scalar tape through nalgebra's
//! own Cholesky and triangular solves on `Var`s (an independent path: the same functions entry
//! by entry), central differences, closed forms and forward mode's Hessian; the symmetric-part
//! convention, matrices that are not positive definite, NaN, empty, zero pivots, shapes.

use crate::linalg_second_order::assert_matrix_close;
use crate::matrix_linear_solve::differences;
use adroit_forward::num_traits::Float;
use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, RealField, dmatrix};

/// A symmetric positive definite 4 × 4 matrix.
fn spd() -> DMatrix<f64> {
    let b = dmatrix![
        2.0, 0.3, -0.5, 0.1;
        0.4, 1.5, 0.2, -0.3;
        -0.2, 0.6, 1.8, 0.5;
        0.1, -0.4, 0.3, 1.2
    ];
    &b * b.transpose() + DMatrix::identity(4, 4) * 0.5
}

/// A cotangent for a 4 × 4 result, non-zero in both triangles.
fn weights() -> DMatrix<f64> {
    DMatrix::from_fn(4, 4, |i, j| ((i * 4 + j) as f64 * 0.37).sin())
}

fn y() -> DMatrix<f64> {
    dmatrix![1.0; -0.5; 0.25; 2.0]
}

/// The Cholesky factor of the symmetric part, by nalgebra on any number type.
fn factor<S: RealField + Copy>(a: &DMatrix<S>) -> DMatrix<S> {
    let half = nalgebra::convert::<f64, S>(0.5);
    let symmetric = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| (a[(i, j)] + a[(j, i)]) * half);
    symmetric.cholesky().expect("positive definite").unpack()
}

/// A Gaussian log-likelihood's data-dependent part from the factor: −½‖L⁻¹y‖² − Σ ln Lᵢᵢ.
fn log_likelihood<S: RealField + Copy>(l: &DMatrix<S>, y: &DMatrix<f64>) -> S {
    let z = l
        .solve_lower_triangular(&y.map(nalgebra::convert::<f64, S>))
        .expect("positive diagonal");
    let half = nalgebra::convert::<f64, S>(0.5);
    -(z.component_mul(&z).sum() * half) - l.diagonal().iter().fold(S::zero(), |s, &d| s + d.ln())
}

fn matrix_log_likelihood<T: matrix::MatScalar>(a: MatVar<T>, y: &DMatrix<f64>) -> MatVar<T> {
    let l = a.cholesky().expect("positive definite");
    let z = l.solve_lower_triangular(MatVar::constant(y.clone().cast()));
    let half = T::from(0.5).unwrap();
    z.component_mul(z).sum() * -half - l.diagonal().ln().sum()
}

#[test]
fn the_factor_is_nalgebras_and_its_gradient_the_scalar_tapes() {
    let (a, w) = (spd(), weights());
    let (value, grads) =
        matrix::value_and_gradient(|m| m[0].cholesky().unwrap().weighted_sum(w.clone()), &[&a]);
    let l = a.clone().cholesky().unwrap().unpack();
    assert!((value - l.component_mul(&w).sum()).abs() < 1e-13);
    let (l_recorded, _) = matrix::pullback(|m| m[0].cholesky().unwrap(), std::slice::from_ref(&a));
    assert_eq!(l_recorded, l);
    let scalar = gradient(
        |v| {
            let a = DMatrix::from_column_slice(4, 4, v);
            let l = factor(&a);
            l.iter()
                .zip(w.iter())
                .fold(Var::constant(0.0), |s, (l, w)| s + *l * *w)
        },
        a.as_slice(),
    );
    let scalar = DMatrix::from_column_slice(4, 4, &scalar);
    assert_matrix_close(&grads[0], &scalar, 1e-12, "Ā against the scalar tape");
    assert_matrix_close(&grads[0], &grads[0].transpose(), 1e-15, "Ā is symmetric");
    assert_matrix_close(
        &grads[0],
        &differences(|p| factor(p).component_mul(&w).sum(), &a),
        1e-7,
        "Ā against central differences",
    );
}

#[test]
fn a_non_symmetric_input_is_factored_by_its_symmetric_part() {
    // A perturbed above the diagonal only: the factor is that of ½(A + Aᵀ), and the gradient
    // matches differences entry by entry (each entry moves the symmetric part by half).
    let mut a = spd();
    a[(0, 2)] += 0.3;
    let w = weights();
    let (l, _) = matrix::pullback(|m| m[0].cholesky().unwrap(), std::slice::from_ref(&a));
    assert_matrix_close(&l, &factor(&a), 1e-15, "L of the symmetric part");
    let g = matrix::gradient(|m| m[0].cholesky().unwrap().weighted_sum(w.clone()), &[&a]);
    assert_matrix_close(
        &g[0],
        &differences(|p| factor(p).component_mul(&w).sum(), &a),
        1e-7,
        "Ā against central differences",
    );
}

#[test]
fn gaussian_log_likelihood_gradient_is_the_closed_form() {
    let (a, y) = (spd(), y());
    let (value, g) = matrix::value_and_gradient(|m| matrix_log_likelihood(m[0], &y), &[&a]);
    let inverse = a.clone().try_inverse().unwrap();
    let alpha = &inverse * &y;
    let expected = -0.5 * (y.transpose() * &alpha)[0] - 0.5 * a.determinant().ln();
    assert!((value - expected).abs() < 1e-13, "{value} vs {expected}");
    // ∂/∂K [−½ yᵀK⁻¹y − ½ ln det K] = ½(ααᵀ − K⁻¹)
    let closed = (&alpha * alpha.transpose() - &inverse) * 0.5;
    assert_matrix_close(&g[0], &closed, 1e-13, "½(ααᵀ − K⁻¹)");
}

#[test]
fn hessian_of_the_log_likelihood_matches_forward_mode() {
    let (a, y) = (spd(), y());
    let h = matrix::hessian(|m| matrix_log_likelihood(m[0], &y), &[&a]);
    let forward = adroit_forward::hessian(
        |v| {
            let a = DMatrix::from_column_slice(4, 4, v);
            log_likelihood(&factor(&a), &y)
        },
        a.as_slice(),
    );
    assert_matrix_close(&h, &forward, 1e-11, "Hessian (16 × 16)");
    // and a Hessian-vector product along a symmetric direction
    let v = weights() + weights().transpose();
    let hv = matrix::hvp(|m| matrix_log_likelihood(m[0], &y), &[&a], &[&v]);
    let expected = &forward * DMatrix::from_column_slice(16, 1, v.as_slice());
    assert_matrix_close(
        &DMatrix::from_column_slice(16, 1, hv[0].as_slice()),
        &expected,
        1e-11,
        "Hessian-vector product",
    );
}

#[test]
fn f32_factor_and_gradient() {
    let a = spd().cast::<f32>();
    let y = y();
    let g = matrix::gradient(|m| matrix_log_likelihood(m[0], &y), &[&a]);
    let a64 = spd();
    let inverse = a64.clone().try_inverse().unwrap();
    let alpha = &inverse * &y;
    let closed = (&alpha * alpha.transpose() - &inverse) * 0.5;
    assert!((g[0].clone().cast::<f64>() - closed).amax() < 1e-5);
}

#[test]
fn not_positive_definite_nan_and_empty() {
    matrix::gradient(
        |m| {
            assert!(m[0].cholesky().is_none(), "indefinite");
            assert!(m[1].cholesky().is_none(), "NaN entry");
            assert!(m[2].cholesky().is_none(), "infinite entry");
            assert!(
                m[3].cholesky().is_none(),
                "positive semi-definite (singular)"
            );
            m[0].sum()
        },
        &[
            dmatrix![1.0, 2.0; 2.0, 1.0],
            dmatrix![1.0, f64::NAN; f64::NAN, 1.0],
            dmatrix![f64::INFINITY, 0.0; 0.0, 1.0],
            dmatrix![1.0, 1.0; 1.0, 1.0],
        ],
    );
    let (l, back) = matrix::pullback(|m| m[0].cholesky().unwrap(), &[DMatrix::<f64>::zeros(0, 0)]);
    assert_eq!(l.shape(), (0, 0));
    assert_eq!(back.call(&DMatrix::zeros(0, 0))[0].shape(), (0, 0));
}

#[test]
fn a_zero_cotangent_gives_a_zero_gradient() {
    let g = matrix::gradient(
        |m| m[0].cholesky().unwrap().weighted_sum(DMatrix::zeros(4, 4)),
        &[spd()],
    );
    assert_eq!(g[0], DMatrix::zeros(4, 4));
}

#[test]
#[should_panic(expected = "cholesky: the matrix is 2×3, not square")]
fn a_non_square_matrix_panics() {
    matrix::gradient(
        |m| m[0].cholesky().unwrap().sum(),
        &[DMatrix::<f64>::zeros(2, 3)],
    );
}

/// A full (not triangular) 4 × 4 matrix with a dominant diagonal: each triangular solve reads
/// one triangle of it.
fn full() -> DMatrix<f64> {
    DMatrix::from_fn(4, 4, |i, j| {
        if i == j {
            2.0 + i as f64
        } else {
            ((i * 5 + j * 3) as f64 * 0.7).cos()
        }
    })
}

fn rhs() -> DMatrix<f64> {
    dmatrix![1.0, -0.5; 2.0, 0.25; -1.0, 1.5; 0.5, 3.0]
}

/// `op(T)⁻¹·B` by nalgebra on any number type, form by name.
fn nalgebra_solve<S: RealField + Copy>(form: &str, t: &DMatrix<S>, b: &DMatrix<S>) -> DMatrix<S> {
    match form {
        "lower" => t.solve_lower_triangular(b),
        "tr_lower" => t.tr_solve_lower_triangular(b),
        "upper" => t.solve_upper_triangular(b),
        "tr_upper" => t.tr_solve_upper_triangular(b),
        _ => unreachable!(),
    }
    .expect("non-zero diagonal")
}

fn recorded_solve<T: matrix::MatScalar>(form: &str, t: MatVar<T>, b: MatVar<T>) -> MatVar<T> {
    match form {
        "lower" => t.solve_lower_triangular(b),
        "tr_lower" => t.tr_solve_lower_triangular(b),
        "upper" => t.solve_upper_triangular(b),
        "tr_upper" => t.tr_solve_upper_triangular(b),
        _ => unreachable!(),
    }
}

#[test]
fn triangular_solves_match_the_scalar_tape_and_read_one_triangle() {
    let (t, b) = (full(), rhs());
    let w = dmatrix![0.3, -1.0; 2.0, 0.5; -0.7, 1.2; 1.1, -0.4];
    for form in ["lower", "tr_lower", "upper", "tr_upper"] {
        let (value, grads) = matrix::value_and_gradient(
            |m| recorded_solve(form, m[0], m[1]).weighted_sum(w.clone()),
            &[t.clone(), b.clone()],
        );
        let x = nalgebra_solve(form, &t, &b);
        assert!(
            (value - x.component_mul(&w).sum()).abs() < 1e-13,
            "{form}: value"
        );
        let inputs: Vec<f64> = t.iter().chain(b.iter()).copied().collect();
        let scalar = gradient(
            |v| {
                let t = DMatrix::from_column_slice(4, 4, &v[..16]);
                let b = DMatrix::from_column_slice(4, 2, &v[16..]);
                nalgebra_solve(form, &t, &b)
                    .iter()
                    .zip(w.iter())
                    .fold(Var::constant(0.0), |s, (x, w)| s + *x * *w)
            },
            &inputs,
        );
        let t_bar = DMatrix::from_column_slice(4, 4, &scalar[..16]);
        assert_matrix_close(&grads[0], &t_bar, 1e-12, &format!("{form}: T̄"));
        let b_bar = DMatrix::from_column_slice(4, 2, &scalar[16..]);
        assert_matrix_close(&grads[1], &b_bar, 1e-12, &format!("{form}: B̄"));
        // the triangle not read has a zero gradient
        let lower = form.ends_with("lower");
        for j in 0..4 {
            for i in 0..4 {
                if (lower && i < j) || (!lower && i > j) {
                    assert_eq!(
                        grads[0][(i, j)],
                        0.0,
                        "{form}: entry ({i}, {j}) is not read"
                    );
                }
            }
        }
        // Hessian-vector product against forward mode over the same nalgebra solve
        let dir: Vec<f64> = (0..24).map(|k| (k as f64 * 0.9).sin()).collect();
        let hv = matrix::hvp(
            |m| {
                let x = recorded_solve(form, m[0], m[1]);
                x.component_mul(x).sum()
            },
            &[t.clone(), b.clone()],
            &[
                DMatrix::from_column_slice(4, 4, &dir[..16]),
                DMatrix::from_column_slice(4, 2, &dir[16..]),
            ],
        );
        let forward = adroit_forward::hvp(
            |v| {
                let t = DMatrix::from_column_slice(4, 4, &v[..16]);
                let b = DMatrix::from_column_slice(4, 2, &v[16..]);
                let x = nalgebra_solve(form, &t, &b);
                sum_of_squares(&x)
            },
            &inputs,
            &dir,
        );
        let got: Vec<f64> = hv[0].iter().chain(hv[1].iter()).copied().collect();
        for (k, (g, e)) in got.iter().zip(&forward).enumerate() {
            assert!(
                (g - e).abs() <= 1e-10 * (1.0 + e.abs()),
                "{form}: hvp entry {k}: {g} vs {e}"
            );
        }
    }
}

#[test]
fn cholesky_then_both_triangular_solves_is_the_inverse_applied() {
    // A⁻¹·B = L⁻ᵀ·(L⁻¹·B), and its gradient in A and B equals the LU solve's (symmetrised in A,
    // since the factor reads A's symmetric part).
    let (a, b) = (spd(), rhs());
    let w = dmatrix![0.3, -1.0; 2.0, 0.5; -0.7, 1.2; 1.1, -0.4];
    let (value, g) = matrix::value_and_gradient(
        |m| {
            let l = m[0].cholesky().unwrap();
            l.tr_solve_lower_triangular(l.solve_lower_triangular(m[1]))
                .weighted_sum(w.clone())
        },
        &[a.clone(), b.clone()],
    );
    let (lu_value, lu) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).weighted_sum(w.clone()),
        &[a.clone(), b.clone()],
    );
    assert!((value - lu_value).abs() < 1e-13);
    let symmetrised = (&lu[0] + lu[0].transpose()) * 0.5;
    assert_matrix_close(&g[0], &symmetrised, 1e-12, "Ā");
    assert_matrix_close(&g[1], &lu[1], 1e-12, "B̄");
}

#[test]
fn a_zero_pivot_gives_nan_except_where_the_cotangent_is_zero() {
    let t = dmatrix![1.0, 0.0; 2.0, 0.0];
    let b = dmatrix![1.0, 1.0; 1.0, 1.0];
    let (x, back) = matrix::pullback(|m| m[0].solve_lower_triangular(m[1]), &[t, b]);
    assert!(x.iter().all(|v| v.is_nan()));
    let grads = back.call(&dmatrix![1.0, 0.0; 1.0, 0.0]);
    assert!(grads[1].column(0).iter().all(|v| v.is_nan()));
    assert!(grads[1].column(1).iter().all(|&v| v == 0.0));
}

#[test]
#[should_panic(
    expected = "solve_lower_triangular: L·X = B needs L square and B with L's row count, got L 3×3 and B 2×1"
)]
fn a_shape_mismatch_panics_with_both_shapes() {
    matrix::gradient(
        |m| m[0].solve_lower_triangular(m[1]).sum(),
        &[DMatrix::<f64>::identity(3, 3), DMatrix::zeros(2, 1)],
    );
}

#[test]
fn float_bound_is_enough_for_the_loss_helpers() {
    // The scalar helpers above run on plain floats too: the closed form's own check.
    let l = factor(&spd());
    let direct = log_likelihood(&l, &y());
    let a = spd();
    let expected = -0.5 * (y().transpose() * a.clone().try_inverse().unwrap() * y())[0]
        - 0.5 * Float::ln(a.determinant());
    assert!((direct - expected).abs() < 1e-13);
}

/// `Σ xᵢ²` on any number type.
fn sum_of_squares<S: RealField + Copy>(x: &DMatrix<S>) -> S {
    x.iter().fold(S::zero(), |s, &v| s + v * v)
}

#[test]
fn a_semi_definite_matrix_is_refused_under_hvp_too() {
    // On duals nalgebra's sign test passes a zero pivot carrying a tangent; the factor would
    // have a zero diagonal entry with an infinite tangent.
    let a = dmatrix![1.0, 1.0; 1.0, 1.0];
    let v = dmatrix![1.0, 0.0; 0.0, 0.0];
    let hv = matrix::hvp(
        |m| {
            assert!(
                m[0].cholesky().is_none(),
                "positive semi-definite under hvp"
            );
            m[0].component_mul(m[0]).sum()
        },
        &[&a],
        &[&v],
    );
    assert_eq!(hv[0], v * 2.0);
}

/// A symmetric positive definite `n × n` matrix large enough for the blocked triangular solves.
fn large_spd(n: usize) -> DMatrix<f64> {
    let b = DMatrix::from_fn(n, n, |i, j| {
        ((i * 7 + j * 3) as f64 * 0.11).sin() / (n as f64).sqrt()
    });
    &b * b.transpose() + DMatrix::identity(n, n)
}

#[test]
fn large_matrices_take_the_blocked_solves_and_keep_the_closed_forms() {
    let n = 150;
    let a = large_spd(n);
    let y = DMatrix::from_fn(n, 1, |i, _| (i as f64 * 0.3).cos());
    let (_, g) = matrix::value_and_gradient(|m| matrix_log_likelihood(m[0], &y), &[&a]);
    let inverse = a.clone().try_inverse().unwrap();
    let alpha = &inverse * &y;
    let closed = (&alpha * alpha.transpose() - &inverse) * 0.5;
    assert_matrix_close(&g[0], &closed, 1e-12, "½(ααᵀ − K⁻¹) at n = 150");
    // the LU log-determinant's gradient A⁻ᵀ, and a solve with many right-hand sides
    let b = DMatrix::from_fn(n, n, |i, j| ((i + 2 * j) as f64 * 0.05).sin());
    let (_, g) =
        matrix::value_and_gradient(|m| m[0].logabsdet() + m[0].solve(m[1]).sum(), &[&a, &b]);
    let ones = DMatrix::from_element(n, n, 1.0);
    let b_bar = inverse.transpose() * &ones;
    let a_bar = inverse.transpose() - &b_bar * (&inverse * &b).transpose();
    assert_matrix_close(&g[0], &a_bar, 1e-11, "Ā at n = 150");
    assert_matrix_close(&g[1], &b_bar, 1e-11, "B̄ at n = 150");
}

#[test]
fn a_zero_cotangent_column_contributes_nothing_past_an_infinite_entry() {
    // a review's case: an infinite entry below the diagonal, a zero cotangent column (0·∞ in
    // the substitution made NaN there, depending on n and on the other columns)
    for (n, k) in [(40, 2), (100, 2), (100, 40)] {
        let mut t = DMatrix::<f64>::identity(n, n) * 2.0;
        t[(20, 5)] = f64::INFINITY;
        let b = DMatrix::from_fn(n, k, |i, j| ((i + j) as f64 * 0.3).sin());
        let (_, back) = matrix::pullback(|m| m[0].solve_lower_triangular(m[1]), &[t, b]);
        let mut cotangent = DMatrix::from_element(n, k, 1.0);
        cotangent.column_mut(0).fill(0.0);
        let grads = back.call(&cotangent);
        assert!(
            grads[1].column(0).iter().all(|&v| v == 0.0),
            "n {n}, k {k}: {:?}",
            grads[1].column(0).iter().filter(|v| v.is_nan()).count()
        );
    }
}

/// `cholesky_solve` gives `A⁻¹·B`, and its gradients equal those of the LU solve of the same
/// symmetric `A` (symmetrised: the Cholesky node reads `½(A + Aᵀ)`) and central differences.
#[test]
fn cholesky_solve_matches_the_lu_solve_and_differences() {
    use crate::matrix_linear_solve::differences;
    let (a, b) = (
        spd(),
        DMatrix::from_fn(4, 2, |i, j| ((i + 3 * j) as f64 * 0.7).cos()),
    );
    let w = DMatrix::from_fn(4, 2, |i, j| 1.0 + (i * 2 + j) as f64 * 0.5);
    let by_cholesky = |m: &[MatVar<f64>]| {
        let l = m[0].cholesky().expect("positive definite");
        l.cholesky_solve(m[1]).weighted_sum(w.clone())
    };
    let (v, g) = matrix::value_and_gradient(by_cholesky, &[a.clone(), b.clone()]);
    let (lu_v, lu_g) = matrix::value_and_gradient(
        |m| m[0].solve(m[1]).weighted_sum(w.clone()),
        &[a.clone(), b.clone()],
    );
    assert!((v - lu_v).abs() < 1e-13, "{v} vs {lu_v}");
    let symmetric = (&lu_g[0] + lu_g[0].transpose()) * 0.5;
    assert_matrix_close(&g[0], &symmetric, 1e-12, "Ā");
    assert_matrix_close(&g[1], &lu_g[1], 1e-12, "B̄");
    let plain = |a: &DMatrix<f64>, b: &DMatrix<f64>| {
        let s = (a + a.transpose()) * 0.5;
        (s.cholesky().expect("positive definite").solve(b))
            .component_mul(&w)
            .sum()
    };
    assert_matrix_close(
        &g[0],
        &differences(|p| plain(p, &b), &a),
        1e-7,
        "Ā by differences",
    );
    assert_matrix_close(
        &g[1],
        &differences(|p| plain(&a, p), &b),
        1e-7,
        "B̄ by differences",
    );
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| m[0].cholesky_solve(m[1]).sum(),
            &[DMatrix::<f64>::identity(3, 3), DMatrix::zeros(2, 1)],
        )
    });
    let message = refused
        .err()
        .map(crate::misuse::panic_message)
        .unwrap_or_default();
    assert!(message.contains("cholesky_solve"), "{message}");
}
