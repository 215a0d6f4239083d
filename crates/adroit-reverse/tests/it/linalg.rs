//! Reverse-mode derivatives through nalgebra's decompositions on `DMatrix<Var<f64>>` and
//! `DMatrix<Var<f32>>`, checked against matrix calculus: ∂det(A)/∂A = det(A)·A⁻ᵀ;
//! ∂(bᵀA⁻¹c)/∂A = −A⁻ᵀb cᵀA⁻ᵀ; d/dt (A + tB)⁻¹b = −(A + tB)⁻¹B x(t). The f32 checks compare
//! with the formula evaluated in f64 on the same (f32-rounded) matrices.

use crate::tolerance::{Tol, assert_close};
use adroit_reverse::{Var, gradient, jacobian};
use nalgebra::{DMatrix, DVector};

fn a_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.3, 0.5, 0.3, 2.5])
}

fn to_vars<S: nalgebra::Scalar>(x: &[S], n: usize) -> DMatrix<S> {
    DMatrix::from_column_slice(n, n, x)
}

/// `a ≈ b` entry by entry, to `rtol · (1 + |b|)` (also used by `decompositions`).
pub(crate) fn close(a: &[f64], b: &[f64], rtol: f64, what: &str) {
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

/// The directional derivatives `Σᵢⱼ (∂λₖ/∂Aᵢⱼ)·Bᵢⱼ` of the eigenvalues of `a` (the f64
/// eigenvalues `lambdas` say which is which: the order is not guaranteed) by reverse mode on
/// `Var<T>`, in f64.
fn eigenvalue_directional<T>(a: &DMatrix<T>, b: &DMatrix<f64>, lambdas: &[f64]) -> Vec<f64>
where
    T: adroit_reverse::TapeScalar + nalgebra::Scalar + num_traits::ToPrimitive,
    Var<T>: nalgebra::RealField,
{
    let widen = |v: T| v.to_f64().unwrap();
    lambdas
        .iter()
        .map(|&lambda| {
            let g = gradient(
                |x| {
                    let e = to_vars(x, 3).symmetric_eigen();
                    *e.eigenvalues
                        .iter()
                        .min_by(|p, q| {
                            (widen(p.value()) - lambda)
                                .abs()
                                .total_cmp(&(widen(q.value()) - lambda).abs())
                        })
                        .unwrap()
                },
                a.as_slice(),
            );
            g.iter().zip(b.iter()).map(|(&gi, bi)| widen(gi) * bi).sum()
        })
        .collect()
}

/// `vₖᵀ B vₖ` for each eigenvector of `a` (f64), with the eigenvalues.
fn eigenvalue_formula(a: &DMatrix<f64>, b: &DMatrix<f64>) -> (Vec<f64>, Vec<f64>) {
    let eig = a.clone().symmetric_eigen();
    let expected = eig
        .eigenvectors
        .column_iter()
        .map(|v| (v.transpose() * b * v)[(0, 0)])
        .collect();
    (eig.eigenvalues.iter().copied().collect(), expected)
}

fn eigen_b_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[0.3, -0.2, 0.1, -0.2, 0.5, 0.2, 0.1, 0.2, -0.4])
}

#[test]
fn symmetric_eigenvalue_directional_derivative() {
    // d/dt λₖ(A + tB) = vₖᵀ B vₖ for symmetric A, B with distinct eigenvalues; the reverse
    // gradient G of λₖ with respect to the entries of A gives it as Σᵢⱼ Gᵢⱼ Bᵢⱼ, whatever
    // triangle the decomposition reads.
    let (a, b) = (a_matrix(), eigen_b_matrix());
    let (lambdas, expected) = eigenvalue_formula(&a, &b);
    let got = eigenvalue_directional(&a, &b, &lambdas);
    close(&got, &expected, 1e-10, "eigenvalue derivative");
}

// ---------- f32 ----------

/// `a_matrix()` rounded to f32, and the rounded values back in f64 (the reference's input, so
/// that the comparison measures the f32 arithmetic, not the rounding of the inputs).
fn a_matrix_f32() -> (DMatrix<f32>, DMatrix<f64>) {
    let a = a_matrix().map(|v| v as f32);
    let a64 = a.map(f64::from);
    (a, a64)
}

/// f32 results through a decomposition of these well-conditioned 3 × 3 matrices: about 32
/// f32 ulps (ε = 1.2e-7) relative; the errors seen are below 1e-6 relative.
const F32_LINALG: Tol = Tol {
    atol: 1e-7,
    rtol: 4e-6,
};

fn close_f32(a: &[f32], b: &[f64], tol: Tol, what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (i, (&x, &y)) in a.iter().zip(b).enumerate() {
        assert_close(x, y, tol, &format!("{what} entry {i}"));
    }
}

#[test]
fn determinant_gradient_f32() {
    let (a, a64) = a_matrix_f32();
    let expected = a64.determinant() * a64.clone().try_inverse().unwrap().transpose();
    let via_lu = gradient(|x| to_vars(x, 3).lu().determinant(), a.as_slice());
    let direct = gradient(|x| to_vars(x, 3).determinant(), a.as_slice());
    close_f32(&via_lu, expected.as_slice(), F32_LINALG, "LU f32");
    close_f32(
        &direct,
        expected.as_slice(),
        F32_LINALG,
        "determinant() f32",
    );
    // Cholesky: det = Π diag(L)²; the lower triangle gets the symmetric pairs' sum.
    let chol = gradient(
        |x| {
            let l = to_vars(x, 3).cholesky().unwrap().l();
            let p = l
                .diagonal()
                .iter()
                .fold(Var::constant(1.0_f32), |p, &d| p * d);
            p * p
        },
        a.as_slice(),
    );
    let sym =
        expected.clone() + expected.transpose() - DMatrix::from_diagonal(&expected.diagonal());
    close_f32(
        &chol,
        sym.lower_triangle().as_slice(),
        F32_LINALG,
        "Cholesky f32",
    );
}

#[test]
fn solve_gradient_f32() {
    let (a, a64) = a_matrix_f32();
    let b = DVector::from_column_slice(&[1.0_f32, -2.0, 0.5]);
    let c = DVector::from_column_slice(&[0.3_f32, 1.0, -1.0]);
    let (b64, c64) = (b.map(f64::from), c.map(f64::from));
    let a_inv_t = a64.try_inverse().unwrap().transpose();
    let expected = -(&a_inv_t * &b64) * (c64.transpose() * &a_inv_t);
    let bv = b.map(Var::constant);
    let cv = c.map(Var::constant);
    let via_lu = gradient(
        |x| bv.dot(&to_vars(x, 3).lu().solve(&cv).unwrap()),
        a.as_slice(),
    );
    close_f32(&via_lu, expected.as_slice(), F32_LINALG, "LU solve f32");
    let via_inv = gradient(
        |x| bv.dot(&(to_vars(x, 3).try_inverse().unwrap() * &cv)),
        a.as_slice(),
    );
    close_f32(&via_inv, expected.as_slice(), F32_LINALG, "try_inverse f32");
}

#[test]
fn symmetric_eigenvalue_directional_derivative_f32() {
    // As the f64 test, on `Var<f32>` against the f64 formula at the f32-rounded matrices. The
    // eigensolver iterates until f32's tolerance, whose differentiated error is larger than a
    // direct factorisation's (3.3e-5 relative seen; forward mode's f32 check allows 1e-3).
    let (a, a64) = a_matrix_f32();
    let b = eigen_b_matrix().map(|v| f64::from(v as f32));
    let (lambdas, expected) = eigenvalue_formula(&a64, &b);
    let got = eigenvalue_directional(&a, &b, &lambdas);
    for (k, (g, e)) in got.iter().zip(&expected).enumerate() {
        let iterative = Tol {
            atol: 1e-6,
            rtol: 1e-4,
        };
        assert_close(*g, *e, iterative, &format!("eigenvalue {k} derivative f32"));
    }
}

/// A second symmetric positive definite matrix (diagonally dominant).
fn b_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[2.0, 0.5, 0.1, 0.5, 1.5, 0.2, 0.1, 0.2, 1.0])
}

/// x(t) = (A + tB)⁻¹ r by Cholesky on `Var`s, as a function of the one variable `t`.
fn cholesky_solution<T>(a: &DMatrix<T>, b: &DMatrix<T>, r: &DVector<T>, t: Var<T>) -> Vec<Var<T>>
where
    T: adroit_reverse::TapeScalar + nalgebra::Scalar,
    Var<T>: nalgebra::RealField,
{
    let m = DMatrix::from_fn(3, 3, |i, j| {
        Var::constant(a[(i, j)]) + Var::constant(b[(i, j)]) * t
    });
    let x = m
        .cholesky()
        .expect("A + tB is SPD")
        .solve(&r.map(Var::constant));
    x.iter().copied().collect()
}

/// d/dt x(t) = −(A + tB)⁻¹ B x(t) for x(t) = (A + tB)⁻¹ r, in f64.
fn expected_solve_derivative(
    a: &DMatrix<f64>,
    b: &DMatrix<f64>,
    r: &DVector<f64>,
    t: f64,
) -> DVector<f64> {
    let chol = (a + b * t).cholesky().unwrap();
    let x = chol.solve(r);
    -chol.solve(&(b * x))
}

#[test]
fn cholesky_solve_derivative() {
    // A and B symmetric positive definite, so A + tB is for every t ≥ 0; the Jacobian of the
    // solution with respect to t (one reverse sweep per entry) against the formula.
    let (a, b) = (a_matrix(), b_matrix());
    let r = DVector::from_column_slice(&[1.0, -2.0, 0.5]);
    let (a32, b32, r32) = (
        a.map(|v| v as f32),
        b.map(|v| v as f32),
        r.map(|v| v as f32),
    );
    let (a32_64, b32_64, r32_64) = (a32.map(f64::from), b32.map(f64::from), r32.map(f64::from));
    for t in [0.0, 0.25, 1.5] {
        let expected = expected_solve_derivative(&a, &b, &r, t);
        let dx = jacobian(|v| cholesky_solution(&a, &b, &r, v[0]), &[t]);
        assert_eq!(dx.shape(), (3, 1));
        close(
            dx.as_slice(),
            expected.as_slice(),
            1e-12,
            &format!("f64 at t = {t}"),
        );
        let expected = expected_solve_derivative(&a32_64, &b32_64, &r32_64, t);
        let dx = jacobian(|v| cholesky_solution(&a32, &b32, &r32, v[0]), &[t as f32]);
        close_f32(
            dx.as_slice(),
            expected.as_slice(),
            F32_LINALG,
            &format!("f32 at t = {t}"),
        );
    }
}

#[test]
fn singular_matrices_of_variables_give_non_finite_results() {
    // The documented convention (crate docs): a zero pivot that depends on the inputs is not
    // `is_zero`, so LU divides by it. Every entry is a variable here, so the pivot column's
    // zeros are seen by none of nalgebra's tests and the result is non-finite (a column of
    // constant zeros above variables can instead give finite, wrong derivatives: documented,
    // tested in adroit-forward).
    // 4 × 4 with a zero first column: det = 0, ∂det/∂A = the cofactors.
    let x: Vec<f64> = (0..16)
        .map(|k| {
            if k < 4 {
                0.0
            } else {
                (k * 7 % 11) as f64 + 1.0
            }
        })
        .collect();
    let (value, grad) =
        adroit_reverse::value_and_gradient(|v| to_vars(v, 4).lu().determinant(), &x);
    assert!(!value.is_finite(), "det = {value}");
    assert!(grad.iter().any(|g| !g.is_finite()), "{grad:?}");
    // The plain program and the documented way out: decide on the primal values.
    let primal = to_vars(&x, 4);
    assert_eq!(primal.clone().lu().determinant(), 0.0);
    let g = gradient(
        |v| {
            let a = to_vars(v, 4);
            if a.map(|e| e.value()).try_inverse().is_none() {
                return Var::constant(0.0); // singular: handle it as the plain program would
            }
            a.determinant()
        },
        &x,
    );
    assert_eq!(g, vec![0.0; 16]);
    // A singular 2 × 2: try_inverse returns non-finite entries (f64 returns None).
    let y = [1.0, 2.0, 2.0, 4.0];
    assert!(to_vars(&y, 2).try_inverse().is_none());
    let j = jacobian(
        |v| {
            let inv = to_vars(v, 2).try_inverse();
            assert!(inv.is_some(), "the singularity is not seen on Var");
            inv.unwrap().iter().copied().collect()
        },
        &y,
    );
    assert!(j.iter().all(|e: &f64| !e.is_finite()), "{j}");
}

/// The matrix exponential in reverse mode: ∂/∂A Σᵢⱼ Wᵢⱼ·exp(A)ᵢⱼ is the adjoint Fréchet
/// derivative L(Aᵀ, W), the upper-right block of exp([[Aᵀ, W], [0, Aᵀ]]) (Higham,
/// "Functions of Matrices", (3.16); the adjoint of L(A, ·) is L(Aᵀ, ·)).
#[test]
fn matrix_exponential_gradient() {
    let a = a_matrix() * 0.3;
    let w = DMatrix::from_row_slice(3, 3, &[1.0, -0.5, 0.2, 0.3, 0.7, -1.0, 0.0, 0.4, 0.9]);
    let mut block = DMatrix::zeros(6, 6);
    block.view_mut((0, 0), (3, 3)).copy_from(&a.transpose());
    block.view_mut((3, 3), (3, 3)).copy_from(&a.transpose());
    block.view_mut((0, 3), (3, 3)).copy_from(&w);
    let expected = block.exp().view((0, 3), (3, 3)).clone_owned();
    let g = gradient(
        |x| {
            let e = to_vars(x, 3).exp();
            e.iter()
                .zip(w.iter())
                .map(|(v, &c)| *v * c)
                .sum::<Var<f64>>()
        },
        a.as_slice(),
    );
    close(&g, expected.as_slice(), 1e-12, "∂ Σ W⊙exp(A) / ∂A");
}

/// `symmetric_eigen`'s pullback against forward mode's perturbation-theory tangents
/// (`adroit_forward::symmetric_eigen`) for f = Σ cᵢλᵢ + Σ W ∘ V in a symmetric direction B:
/// ⟨∇f, B⟩ (the gradient sits on the lower triangle) equals the forward tangent; at the 3 × 3
/// test matrix and at a diagonal one.
#[test]
fn symmetric_eigen_pullback_matches_forward_mode() {
    use adroit_forward::Dual;
    let b = DMatrix::from_row_slice(3, 3, &[0.3, -0.2, 0.1, -0.2, 0.5, 0.2, 0.1, 0.2, -0.4]);
    let c = [1.0, -2.0, 0.5];
    let w = DMatrix::from_row_slice(3, 3, &[0.7, -0.1, 0.4, 0.2, 0.9, -0.6, -0.3, 0.5, 0.8]);
    let diagonal = DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0, 3.0, 6.0]));
    for a in [a_matrix(), diagonal] {
        let g = gradient(
            |x| {
                let (values, vectors) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
                let s: Var<f64> = values.iter().zip(c).map(|(l, k)| *l * k).sum();
                s + vectors
                    .iter()
                    .zip(w.iter())
                    .map(|(v, &k)| *v * k)
                    .sum::<Var<f64>>()
            },
            a.as_slice(),
        );
        let g = DMatrix::from_column_slice(3, 3, &g);
        assert!(
            (0..3).all(|i| (i + 1..3).all(|j| g[(i, j)] == 0.0)),
            "upper: {g}"
        );
        let dual = a.zip_map(&b, Dual::new);
        let (values, vectors) = adroit_forward::symmetric_eigen(&dual);
        let forward: f64 = values
            .iter()
            .zip(c)
            .map(|(l, k)| l.tangent() * k)
            .sum::<f64>()
            + vectors
                .iter()
                .zip(w.iter())
                .map(|(v, k)| v.tangent() * k)
                .sum::<f64>();
        let reverse: f64 = g.iter().zip(b.iter()).map(|(g, b)| g * b).sum();
        close(&[reverse], &[forward], 1e-12, "⟨∇f, B⟩ vs forward tangent");
    }
}

/// At a repeated eigenvalue, a loss of the eigenvalues alone has a finite gradient (the
/// identity for Σλ at I₃, as JAX's `eigh`); it was NaN (0/0 in the eigenvector term). A 0 × 0
/// matrix gives empty results.
#[test]
fn symmetric_eigen_at_a_repeated_eigenvalue() {
    let identity = DMatrix::<f64>::identity(3, 3);
    let g = gradient(
        |x| {
            let (values, _) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
            values.iter().copied().sum()
        },
        identity.as_slice(),
    );
    assert_eq!(g, identity.as_slice());
    let (values, vectors) =
        adroit_forward::symmetric_eigen(&identity.map(adroit_forward::Dual::constant));
    assert!(
        values
            .iter()
            .chain(vectors.iter())
            .all(|d| d.tangent() == 0.0)
    );
    let empty = gradient(
        |x| {
            let (values, vectors) =
                adroit_reverse::symmetric_eigen(&DMatrix::<Var<f64>>::from_vec(0, 0, vec![]));
            assert_eq!((values.len(), vectors.shape()), (0, (0, 0)));
            x[0]
        },
        &[1.0],
    );
    assert_eq!(empty, [1.0]);
}

#[test]
fn symmetric_eigen_of_a_matrix_holding_a_nan_is_all_nan() {
    let mut a = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    a[5] = f64::NAN; // entry (2, 1), in the lower triangle read
    let g = gradient(
        |x| {
            let (values, _) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x));
            assert!(values.iter().all(|v| v.value().is_nan()));
            values[0]
        },
        &a,
    );
    assert!(g.iter().any(|d| d.is_nan()), "{g:?}");
}

/// An infinite cotangent (`sqrt` of a zero eigenvalue) reaches only the entries where its
/// `vvᵀ` is not zero: 0 elsewhere, the tape's `0·∞ = 0` convention (the plain products of the
/// pullback gave NaN there; found for `svd` by an audit).
#[test]
fn symmetric_eigen_with_an_infinite_cotangent_follows_the_zero_convention() {
    let g = gradient(
        |x| {
            let (values, _) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(2, 2, x));
            let zero = if values[0].value() == 0.0 { 0 } else { 1 };
            num_traits::Float::sqrt(values[zero])
        },
        &[2.0, 0.0, 0.0, 0.0],
    );
    assert_eq!(g, [0.0, 0.0, 0.0, f64::INFINITY]);
}

/// `2I + 3qqᵀ`, `q = (2, −2, 1)/3`: eigenvalues 2, 2, 5, the repeated one returned by nalgebra a
/// few ulps apart (asserted: the premise).
fn repeated_up_to_rounding() -> DMatrix<f64> {
    let q = DVector::from_column_slice(&[2.0, -2.0, 1.0]) / 3.0;
    let a = DMatrix::identity(3, 3) * 2.0 + &q * q.transpose() * 3.0;
    let values = a.clone().symmetric_eigen().eigenvalues;
    let pair: Vec<f64> = values
        .iter()
        .copied()
        .filter(|v: &f64| (v - 2.0).abs() < 1e-12)
        .collect();
    assert!(
        pair.len() == 2 && pair[0] != pair[1] && (pair[0] - pair[1]).abs() <= 40.0 * f64::EPSILON,
        "the premise: {values}"
    );
    a
}

/// `symmetric_eigen`'s pullback at eigenvalues a few ulps apart (an exactly repeated one, as
/// nalgebra returns it): a cotangent whose mixing part is rounding adds nothing (adroit-forward's
/// `snap_tied`) — `Σ wₖ·vₖᵀA₀vₖ` with `A₀` the point held constant is stationary there
/// (`A₀vₖ = λₖvₖ`), so `Σλ² + Σ wₖ·vₖᵀA₀vₖ` has `Σλ²`'s gradient (it was rounding over
/// rounding, which distinct weights `wₖ` keep from cancelling);
/// and along `(1 + t)·A` the second derivative of `Σλ²` is `2Σλ² = 66` (forward-over-reverse).
#[test]
fn symmetric_eigen_pullback_at_a_near_tie() {
    let a = repeated_up_to_rounding();
    let squares = |with_vectors: bool| {
        gradient(
            |x| {
                let (values, vectors) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
                let s: Var<f64> = values.iter().map(|&l| l * l).sum();
                let quadratic = (0..3).fold(Var::constant(0.0), |acc, k| {
                    let v = vectors.column(k);
                    let a_v = a.map(Var::constant) * v;
                    acc + v.dot(&a_v) * (k as f64 + 1.0)
                });
                if with_vectors { s + quadratic } else { s }
            },
            a.as_slice(),
        )
    };
    close(
        &squares(true),
        &squares(false),
        1e-13,
        "∂(Σλ² + Σ wₖ·vₖᵀA₀vₖ)",
    );
    let h = adroit_reverse::hessian(
        |t| {
            let m = a.map(|x| (t[0] + 1.0) * x);
            let (values, _) = adroit_reverse::symmetric_eigen(&m);
            values.iter().map(|&l| l * l).sum()
        },
        &[0.0],
    );
    close(&[h[(0, 0)]], &[66.0], 1e-13, "d²Σλ²/dt² along A");
}

/// Under `hessian`, distinct eigenvalues far below the largest of a diagonal matrix
/// (`diag(1, 2, 10¹⁶)`, closer than `8nε·max|λ|`) keep exact second derivatives: for
/// `L = v₀ᵀCv₀` (`v₀` the eigenvector of λ = 1, `C₁₀ = 0`) the entry of `x₁₀` (the lower
/// triangle's, read) is `2(C₁₁ − C₀₀)/(λ₁ − λ₀)² = 0.4`, where the projected cotangent is 0 in
/// value and carries a tangent (a review's counterexample: zeroing it whole gave 0).
#[test]
fn symmetric_eigen_hessian_at_close_distinct_eigenvalues_of_a_diagonal_matrix() {
    let c = DMatrix::from_row_slice(3, 3, &[0.7, 0.0, 0.4, 0.0, 0.9, -0.6, 0.4, -0.6, 0.8]);
    let diagonal = [1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1e16];
    let h = adroit_reverse::hessian(
        |v| {
            let (values, vectors) = adroit_reverse::symmetric_eigen(&to_vars(v, 3));
            let k = (0..3)
                .find(|&k| values[k].value().value() == 1.0)
                .expect("the eigenvalue 1");
            let vk = vectors.column(k).into_owned();
            let c = c.map(|z| v[0] * 0.0 + z);
            vk.dot(&(c * &vk))
        },
        &diagonal,
    );
    close(&[h[(1, 1)]], &[0.4], 1e-12, "∂²L/∂x₁₀²");
}

/// At `diag(1, 2, 10¹⁶)` (distinct eigenvalues closer than `8nε·max|λ|`), the gradient of
/// `v₀ᵀCv₀ + K·‖v₀‖²` (`v₀` the eigenvector of λ = 1; the second term is constant) is that of
/// `v₀ᵀCv₀` for any `K`: entry `x₁₀` is `−2C₁₀/(λ₁ − λ₀) = −0.6` (a review: with `K = 10¹⁵` the
/// large diagonal of `VᵀV̄` made the exact mixing entry look like rounding, and it was 0).
#[test]
fn symmetric_eigen_gradient_beside_a_large_cotangent_elsewhere() {
    let c = DMatrix::from_row_slice(3, 3, &[0.7, 0.3, 0.4, 0.3, 0.9, -0.6, 0.4, -0.6, 0.8]);
    let diagonal = [1.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 1e16];
    for k in [0.0, 1e3, 1e15] {
        let g = gradient(
            |x| {
                let (values, vectors) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
                let first = (0..3).find(|&i| values[i].value() == 1.0).expect("λ = 1");
                let v = vectors.column(first).into_owned();
                let c = c.map(Var::constant);
                v.dot(&(c * &v)) + v.dot(&v) * k
            },
            &diagonal,
        );
        close(&[g[1]], &[-0.6], 1e-12, "∂/∂x₁₀");
    }
}

/// The pullback at the first near tie of adroit-forward's
/// `symmetric_eigen_near_ties_with_the_vectors_own_error`: the gradient of `‖vₖ‖²` (constant) is
/// 0 at the rotated `Q·diag(5, 1, 1)·Qᵀ` (it was 0.128 for `k = 1`).
#[test]
fn symmetric_eigen_pullback_at_near_ties_with_the_vectors_own_error() {
    let a = [
        1.7234330114224223,
        -0.010969000569972742,
        1.5395637059571365,
        -0.010969000569972742,
        1.0001663166756345,
        -0.023343523037397423,
        1.5395637059571365,
        -0.023343523037397423,
        4.276400671901947,
    ];
    for k in 0..3 {
        let g = gradient(
            |x| {
                let (_, vectors) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
                vectors.column(k).iter().map(|&e| e * e).sum()
            },
            &a,
        );
        assert!(g.iter().all(|x: &f64| x.abs() <= 1e-14), "‖v{k}‖²: {g:?}");
    }
}

/// `yᵀA⁻¹y` through the eigendecomposition at an exactly repeated eigenvalue (`diag(2, 2, 5)`):
/// the pair's part of the gradient is a divided difference of `1/λ` that the cotangent cannot
/// give, so it is not finite — never a finite, wrong gradient (zeroing the pair's mixing part
/// because its difference vanished, as one attempt did, gave one silently).
#[test]
fn symmetric_eigen_pullback_of_a_spectral_function_at_a_tie_is_not_finite() {
    let a = [2.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 0.0, 5.0];
    let y = [1.0, -2.0, 0.5];
    let g = gradient(
        |x| {
            let (values, vectors) = adroit_reverse::symmetric_eigen(&to_vars(x, 3));
            (0..3)
                .map(|k| {
                    let along: Var<f64> = (0..3).map(|r| vectors[(r, k)] * y[r]).sum();
                    along * along / values[k]
                })
                .sum()
        },
        &a,
    );
    // −A⁻¹yyᵀA⁻¹ folded on the lower triangle: entry (1, 0) is −2·(1/2)·(−2/2) = 1
    assert!(!g[1].is_finite() || (g[1] - 1.0).abs() < 1e-12, "{g:?}");
    assert!(g.iter().any(|x| !x.is_finite()), "{g:?}");
}

/// `Σₖ vₖᵀ·A₀·vₖ = tr A₀` for a fixed `A₀`, written through the eigenvectors: constant, gradient
/// 0, also at a pair the decomposition leaves unresolved (`[[1, δ], [δ, 1]]`, `A₀` = that
/// matrix: `V = I`, so the cotangent's pair entries `2·vₖᵀA₀vₗ = 2δ` are backward error, not
/// mixing; they gave NaN). The cotangent of a mixing loss there stays non-finite.
#[test]
fn constant_eigenvector_loss_at_an_unresolved_pair() {
    for delta in [1e-17, 4e-16] {
        let a = DMatrix::from_row_slice(2, 2, &[1.0, delta, delta, 1.0]);
        let a0 = a.clone();
        let g = gradient(
            |x| {
                let (_, v) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(2, 2, x));
                (0..2)
                    .map(|k| {
                        let vk = v.column(k);
                        let av = a0.map(Var::constant) * vk;
                        vk.dot(&av)
                    })
                    .sum::<Var<f64>>()
            },
            a.as_slice(),
        );
        assert!(g.iter().all(|x| x.abs() <= 1e-14), "δ = {delta}: {g:?}");
        let mixing = gradient(
            |x| {
                let (_, v) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(2, 2, x));
                v[(0, 0)] * v[(1, 0)]
            },
            a.as_slice(),
        );
        let largest = crate::tolerance::largest_magnitude(mixing.iter().copied());
        assert!(
            largest.is_nan() || largest >= 1e6,
            "δ = {delta}: {mixing:?}"
        );
    }
}
