//! Reverse-mode derivatives through nalgebra's decompositions on `DMatrix<Var<f64>>`, checked
//! against matrix calculus: ∂det(A)/∂A = det(A)·A⁻ᵀ; ∂(bᵀA⁻¹c)/∂A = −A⁻ᵀb cᵀA⁻ᵀ.

use adroit_reverse::{Var, gradient};
use nalgebra::{DMatrix, DVector};

fn a_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.3, 0.5, 0.3, 2.5])
}

fn to_vars(x: &[Var<f64>], n: usize) -> DMatrix<Var<f64>> {
    DMatrix::from_column_slice(n, n, x)
}

fn close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= rtol * (1.0 + y.abs()),
            "{what} entry {i}: {x} vs {y}"
        );
    }
}

#[test]
fn determinant_gradient() {
    let a = a_matrix();
    let expected = a.determinant() * a.clone().try_inverse().unwrap().transpose();
    let via_lu = gradient(|x| to_vars(x, 3).lu().determinant(), a.as_slice());
    let direct = gradient(|x| to_vars(x, 3).determinant(), a.as_slice());
    close(&via_lu, expected.as_slice(), 1e-12, "LU");
    close(&direct, expected.as_slice(), 1e-12, "determinant()");
    // Cholesky: det = Π diag(L)², for SPD A (only the lower triangle is read).
    let chol = gradient(
        |x| {
            let l = to_vars(x, 3).cholesky().unwrap().l();
            let p = l.diagonal().iter().fold(Var::constant(1.0), |p, &d| p * d);
            p * p
        },
        a.as_slice(),
    );
    // The derivative with respect to the lower triangle counts symmetric pairs twice.
    let sym =
        expected.clone() + expected.transpose() - DMatrix::from_diagonal(&expected.diagonal());
    let lower = sym.lower_triangle();
    close(&chol, lower.as_slice(), 1e-12, "Cholesky");
}

#[test]
fn solve_gradient() {
    let a = a_matrix();
    let b = DVector::from_column_slice(&[1.0, -2.0, 0.5]);
    let c = DVector::from_column_slice(&[0.3, 1.0, -1.0]);
    let a_inv_t = a.clone().try_inverse().unwrap().transpose();
    let expected = -(&a_inv_t * &b) * (c.transpose() * &a_inv_t);
    let bv = b.map(Var::constant);
    let cv = c.map(Var::constant);
    let via_lu = gradient(
        |x| bv.dot(&to_vars(x, 3).lu().solve(&cv).unwrap()),
        a.as_slice(),
    );
    close(&via_lu, expected.as_slice(), 1e-12, "LU solve");
    let via_inv = gradient(
        |x| bv.dot(&(to_vars(x, 3).try_inverse().unwrap() * &cv)),
        a.as_slice(),
    );
    close(&via_inv, expected.as_slice(), 1e-12, "try_inverse");
}

#[test]
fn symmetric_eigenvalue_directional_derivative() {
    // d/dt λₖ(A + tB) = vₖᵀ B vₖ for symmetric A, B with distinct eigenvalues; the reverse
    // gradient G of λₖ with respect to the entries of A gives it as Σᵢⱼ Gᵢⱼ Bᵢⱼ, whatever
    // triangle the decomposition reads.
    let a = a_matrix();
    let b = DMatrix::from_row_slice(3, 3, &[0.3, -0.2, 0.1, -0.2, 0.5, 0.2, 0.1, 0.2, -0.4]);
    let eig = a.clone().symmetric_eigen();
    for k in 0..3 {
        let lambda = eig.eigenvalues[k];
        let v = eig.eigenvectors.column(k);
        let expected = (v.transpose() * &b * v)[(0, 0)];
        let g = gradient(
            |x| {
                let e = to_vars(x, 3).symmetric_eigen();
                // the eigenvalue closest to λₖ (the order is not guaranteed)
                *e.eigenvalues
                    .iter()
                    .min_by(|p, q| {
                        (p.value() - lambda)
                            .abs()
                            .total_cmp(&(q.value() - lambda).abs())
                    })
                    .unwrap()
            },
            a.as_slice(),
        );
        let directional: f64 = g.iter().zip(b.iter()).map(|(gi, bi)| gi * bi).sum();
        close(&[directional], &[expected], 1e-10, "eigenvalue derivative");
    }
}
