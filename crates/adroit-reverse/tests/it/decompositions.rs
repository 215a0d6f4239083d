//! One generic loss bound by adroit-forward's `Decompositions`, run in every mode — the plain
//! primal, forward `gradient` (`Dual`), `gradient_chunked` (`DualVec`), forward `hessian`
//! (`HyperDualVec`), reverse `gradient` (`Var<f64>`), reverse `hessian` (`Var<DualVec>`) and
//! `hvp` (`Var<Dual>`) — against the same loss written with a Cholesky factorisation (no
//! eigendecomposition or SVD involved) and central differences.

use crate::linalg::close;
use crate::linalg_second_order::fd_hessian;
use adroit_forward::Decompositions;
use nalgebra::{DMatrix, DVector, RealField};

/// Σ(θ) = B·Bᵀ + diag(e^θ) for a fixed `B` (3 × 3): symmetric positive definite with
/// distinct eigenvalues at the points used.
fn sigma<S: RealField + Copy>(theta: &[S]) -> DMatrix<S> {
    let b = DMatrix::from_row_slice(3, 3, &[1.0, 0.0, 0.0, 0.5, 0.8, 0.0, -0.3, 0.2, 0.6]);
    let b = b.map(|v| nalgebra::convert::<f64, S>(v));
    let mut s = &b * b.transpose();
    for d in 0..3 {
        s[(d, d)] += theta[d].exp();
    }
    s
}

/// The data `y`.
fn y<S: RealField + Copy>() -> DVector<S> {
    DVector::from_iterator(3, [0.7, -1.2, 0.4].iter().map(|&v| nalgebra::convert(v)))
}

/// ½ ln det Σ + ½ yᵀΣ⁻¹y through the eigendecomposition: Σ ln λᵢ/2 + Σ (vᵢᵀy)²/(2λᵢ).
fn nll_eigen<S: Decompositions>(theta: &[S]) -> S {
    let (values, vectors) = S::symmetric_eigen(&sigma(theta));
    let half: S = nalgebra::convert(0.5);
    let y = y::<S>();
    (0..3).fold(S::zero(), |acc, i| {
        let p = vectors.column(i).dot(&y);
        acc + half * (values[i].ln() + p * p / values[i])
    })
}

/// The same loss through the SVD (Σ is SPD: σᵢ = λᵢ, U = V).
fn nll_svd<S: Decompositions>(theta: &[S]) -> S {
    let (u, s, _) = S::svd(&sigma(theta));
    let half: S = nalgebra::convert(0.5);
    let y = y::<S>();
    (0..3).fold(S::zero(), |acc, i| {
        let p = u.column(i).dot(&y);
        acc + half * (s[i].ln() + p * p / s[i])
    })
}

/// The same loss through a Cholesky factorisation: Σ ln Lᵢᵢ + ½‖L⁻¹y‖².
fn nll_cholesky<S: RealField + Copy>(theta: &[S]) -> S {
    let chol = sigma(theta).cholesky().expect("positive definite");
    let z = chol
        .l()
        .solve_lower_triangular(&y::<S>())
        .expect("invertible");
    let half: S = nalgebra::convert(0.5);
    chol.l()
        .diagonal()
        .iter()
        .fold(S::zero(), |acc, d| acc + d.ln())
        + half * z.dot(&z)
}

#[test]
fn one_generic_loss_in_every_mode_agrees_with_cholesky_and_differences() {
    let theta = [0.1, -0.4, 0.3];
    let v = [0.5, -1.0, 2.0];
    let want_value = nll_cholesky(&theta);
    let want_grad = adroit_reverse::gradient(|t| nll_cholesky(t), &theta);
    let want_hess = adroit_forward::hessian(|t| nll_cholesky(t), &theta);
    // Central differences of the Cholesky gradient: an independent check of the reference.
    let fd = fd_hessian(|t| nll_cholesky(t), &theta);
    close(fd.as_slice(), want_hess.as_slice(), 1e-7, "differences");
    let want_hv: Vec<f64> = (&want_hess * DVector::from_column_slice(&v))
        .iter()
        .copied()
        .collect();
    // Every mode on one loss: (name, value, forward gradient, chunked gradient, forward
    // Hessian, reverse gradient, reverse Hessian, hvp).
    macro_rules! every_mode {
        ($loss:ident) => {
            (
                stringify!($loss),
                $loss(&theta),
                adroit_forward::gradient(|t| $loss(t), &theta),
                adroit_forward::gradient_chunked::<3, _, _>(|t| $loss(t), &theta),
                adroit_forward::hessian(|t| $loss(t), &theta),
                adroit_reverse::gradient(|t| $loss(t), &theta),
                adroit_reverse::hessian(|t| $loss(t), &theta),
                adroit_reverse::hvp(|t| $loss(t), &theta, &v),
            )
        };
    }
    for (name, value, grad, grad_chunked, hess_fwd, grad_rev, hess_rev, hv) in
        [every_mode!(nll_eigen), every_mode!(nll_svd)]
    {
        close(&[value], &[want_value], 1e-13, &format!("{name} value"));
        close(
            &grad,
            &want_grad,
            1e-12,
            &format!("{name} forward gradient"),
        );
        close(
            &grad_chunked,
            &want_grad,
            1e-12,
            &format!("{name} chunked gradient"),
        );
        close(
            &grad_rev,
            &want_grad,
            1e-12,
            &format!("{name} reverse gradient"),
        );
        close(
            hess_fwd.as_slice(),
            want_hess.as_slice(),
            1e-11,
            &format!("{name} forward Hessian"),
        );
        close(
            hess_rev.as_slice(),
            want_hess.as_slice(),
            1e-11,
            &format!("{name} reverse Hessian"),
        );
        close(&hv, &want_hv, 1e-11, &format!("{name} hvp"));
    }
}

/// At a diagonal matrix every mode takes the exact-tangent decompositions (nalgebra's
/// iteration on the duals gives zero eigenvector tangents there, so a zero second derivative).
#[test]
fn exact_at_a_diagonal_matrix_in_every_mode() {
    fn top_eigenvalue<S: Decompositions>(x: &[S]) -> S {
        // [[2 + x₀, x₁], [x₁, 1]]: λ₁'' in x₁ at 0 is 2/(2 − 1) = 2.
        let two: S = nalgebra::convert(2.0);
        let a = DMatrix::from_row_slice(2, 2, &[two + x[0], x[1], x[1], S::one()]);
        let (values, _) = S::symmetric_eigen(&a);
        if values[0] > values[1] {
            values[0]
        } else {
            values[1]
        }
    }
    let x = [0.0_f64, 0.0];
    let forward = adroit_forward::hessian(|t| top_eigenvalue(t), &x);
    let reverse = adroit_reverse::hessian(|t| top_eigenvalue(t), &x);
    for h in [&forward, &reverse] {
        assert!(
            (h[(1, 1)] - 2.0).abs() < 1e-14 && h[(0, 0)].abs() < 1e-14,
            "{h}"
        );
    }
    assert_eq!(
        adroit_reverse::gradient(|t| top_eigenvalue(t), &x),
        vec![1.0, 0.0]
    );
    assert_eq!(
        adroit_forward::gradient(|t| top_eigenvalue(t), &x),
        vec![1.0, 0.0]
    );
}
