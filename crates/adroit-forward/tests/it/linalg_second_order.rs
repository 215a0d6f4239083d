//! Second derivatives through nalgebra's decompositions with `DMatrix<HyperDual<T>>`, checked
//! against matrix-calculus identities evaluated in plain f64 with nalgebra. Along
//! `A(t) = A + tB`, with `C = A⁻¹B` and `x = A⁻¹b`:
//! - det: `det' = det(A)·tr C`, `det'' = det(A)·[(tr C)² − tr(C²)]`;
//! - solve: `x' = −Cx`, `x'' = 2C²x`;
//! - trace of the inverse: `tr' = −tr(CA⁻¹)`, `tr'' = 2·tr(C²A⁻¹)`;
//! - symmetric eigenvalues: `λᵢ' = vᵢᵀBvᵢ`, `λᵢ'' = 2·Σ_{j≠i} (vᵢᵀBvⱼ)²/(λᵢ − λⱼ)`.
//!
//! Both `ε₁` and `ε₂` are seeded with `B`, so `eps1`, `eps2` hold the first derivative and
//! `eps12` the second; one test seeds two different directions for the mixed derivative.

use crate::linalg::{a_matrix, b_matrix, b_vector};
use crate::tolerance::{Tol, assert_close};
use adroit_forward::HyperDual;
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;

/// A second symmetric direction, for the mixed derivative.
fn b2_matrix() -> DMatrix<f64> {
    DMatrix::from_row_slice(
        4,
        4,
        &[
            -0.1, 0.4, 0.0, 0.2, //
            0.4, 0.2, -0.3, 0.1, //
            0.0, -0.3, 0.6, 0.0, //
            0.2, 0.1, 0.0, -0.5,
        ],
    )
}

fn c<T: Float>(x: f64) -> T {
    T::from(x).expect("finite")
}

/// `A + s·B₁ + t·B₂` at `s = t = 0` as hyper-duals in precision `T`: `ε₁` part `B₁`, `ε₂`
/// part `B₂`, `ε₁ε₂` part 0 (the perturbation is linear).
fn seeded<T: Float>(a: &DMatrix<f64>, b1: &DMatrix<f64>, b2: &DMatrix<f64>) -> DMatrix<HyperDual<T>>
where
    HyperDual<T>: RealField,
{
    DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| {
        HyperDual::new(
            c(a[(i, j)]),
            [c(b1[(i, j)])],
            [c(b2[(i, j)])],
            [[T::zero()]],
        )
    })
}

fn constant_vector<T: Float>(v: &DVector<f64>) -> DVector<HyperDual<T>>
where
    HyperDual<T>: RealField,
{
    v.map(|x| HyperDual::constant(c(x)))
}

/// Tolerances for value, first and second derivative.
#[derive(Clone, Copy)]
struct Tols {
    first: Tol,
    second: Tol,
}

fn tols<T: Float>() -> Tols {
    if T::epsilon().to_f64().unwrap() > 1e-10 {
        // f32 inputs rounded from f64: the direct decompositions are measured at ≤ 1e-6
        // relative error in every part.
        Tols {
            first: Tol {
                atol: 1e-5,
                rtol: 1e-5,
            },
            second: Tol {
                atol: 1e-5,
                rtol: 1e-5,
            },
        }
    } else {
        Tols {
            first: Tol {
                atol: 1e-12,
                rtol: 1e-11,
            },
            second: Tol {
                atol: 1e-11,
                rtol: 1e-10,
            },
        }
    }
}

/// Tolerances for `SymmetricEigen`, whose iteration stops on the primal values only. In f32
/// the eigenvalue pair 2.38/2.46 (gap 0.08) measures errors of 8e-6 in λ' and 3.7e-4 in λ''
/// through `HyperDual<f32>`, although the same formulas evaluated on nalgebra's plain f32
/// decomposition are within 3e-7 and 1.5e-5 (see the ignored test below). In f64 all parts
/// are within 1e-12.
fn eigen_tols<T: Float>() -> Tols {
    if T::epsilon().to_f64().unwrap() > 1e-10 {
        Tols {
            first: Tol {
                atol: 5e-5,
                rtol: 1e-4,
            },
            second: Tol {
                atol: 1e-3,
                rtol: 1e-3,
            },
        }
    } else {
        tols::<T>()
    }
}

/// Asserts value, both first-order parts and the second-order part of `h` (seeded with the
/// same direction in `ε₁` and `ε₂`) against `[f, f', f'']`.
#[track_caller]
fn check<T: Float + std::fmt::Debug>(h: HyperDual<T>, expected: [f64; 3], tols: Tols, what: &str) {
    let [f, d1, d2] = expected;
    assert_close(h.value(), f, tols.first, &format!("{what}: value"));
    assert_close(
        h.eps1()[0],
        d1,
        tols.first,
        &format!("{what}: ε₁ (first derivative)"),
    );
    assert_close(
        h.eps2()[0],
        d1,
        tols.first,
        &format!("{what}: ε₂ (first derivative)"),
    );
    assert_close(
        h.eps12()[0][0],
        d2,
        tols.second,
        &format!("{what}: ε₁ε₂ (second derivative)"),
    );
}

fn product<T: Float>(xs: impl Iterator<Item = HyperDual<T>>) -> HyperDual<T> {
    xs.fold(HyperDual::constant(T::one()), |p, x| p * x)
}

/// det(A + tB) through LU, `determinant()`, Cholesky (`(Π Lᵢᵢ)²`) and QR (`±Π Rᵢᵢ`).
fn determinant<T: Float + RealField + std::fmt::Debug>()
where
    HyperDual<T>: RealField,
{
    let (a, b) = (a_matrix(), b_matrix());
    let cm = a.clone().try_inverse().unwrap() * &b;
    let det = a.determinant();
    let expected = [
        det,
        det * cm.trace(),
        det * (cm.trace().powi(2) - (&cm * &cm).trace()),
    ];
    let m = seeded::<T>(&a, &b, &b);
    let tols = tols::<T>();
    check(
        m.clone().lu().determinant(),
        expected,
        tols,
        "LU determinant",
    );
    check(m.clone().determinant(), expected, tols, "determinant()");
    let l = m.clone().cholesky().expect("SPD").l();
    let d = product(l.diagonal().iter().copied());
    check(d * d, expected, tols, "Cholesky (Π Lᵢᵢ)²");
    let qr = m.qr();
    // det Q = ±1 with no derivative (it is a product of reflections)
    let sign_q: f64 = qr.q().map(|x| x.value().to_f64().unwrap()).determinant();
    let d = product(qr.r().diagonal().iter().copied()) * HyperDual::constant(c(sign_q.round()));
    check(d, expected, tols, "QR ±Π Rᵢᵢ");
}

/// x(t) = (A + tB)⁻¹b through LU, QR, Cholesky and `try_inverse`.
fn solve<T: Float + RealField + std::fmt::Debug>()
where
    HyperDual<T>: RealField,
{
    let (a, b, r) = (a_matrix(), b_matrix(), b_vector());
    let a_inv = a.clone().try_inverse().unwrap();
    let cm = &a_inv * &b;
    let x = &a_inv * &r;
    let dx = -(&cm * &x);
    let ddx = 2.0 * (&cm * &cm * &x);
    let m = seeded::<T>(&a, &b, &b);
    let r = constant_vector::<T>(&r);
    let solutions = [
        ("LU solve", m.clone().lu().solve(&r).unwrap()),
        ("QR solve", m.clone().qr().solve(&r).unwrap()),
        ("Cholesky solve", m.clone().cholesky().unwrap().solve(&r)),
        ("try_inverse · b", m.try_inverse().unwrap() * &r),
    ];
    for (name, sol) in solutions {
        for i in 0..4 {
            check(
                sol[i],
                [x[i], dx[i], ddx[i]],
                tols::<T>(),
                &format!("{name}, x[{i}]"),
            );
        }
    }
}

/// tr((A + tB)⁻¹) through `try_inverse`, LU `try_inverse`, Cholesky `inverse`, and Cholesky
/// and QR solves against the identity.
fn trace_of_inverse<T: Float + RealField + std::fmt::Debug>()
where
    HyperDual<T>: RealField,
{
    let (a, b) = (a_matrix(), b_matrix());
    let a_inv = a.clone().try_inverse().unwrap();
    let cm = &a_inv * &b;
    let expected = [
        a_inv.trace(),
        -(&cm * &a_inv).trace(),
        2.0 * (&cm * &cm * &a_inv).trace(),
    ];
    let m = seeded::<T>(&a, &b, &b);
    let id = DMatrix::<HyperDual<T>>::identity(4, 4);
    let inverses = [
        ("try_inverse", m.clone().try_inverse().unwrap()),
        ("LU try_inverse", m.clone().lu().try_inverse().unwrap()),
        ("Cholesky inverse", m.clone().cholesky().unwrap().inverse()),
        (
            "Cholesky solve(I)",
            m.clone().cholesky().unwrap().solve(&id),
        ),
        ("QR solve(I)", m.qr().solve(&id).unwrap()),
    ];
    for (name, inv) in inverses {
        check(inv.trace(), expected, tols::<T>(), name);
    }
}

/// Every eigenvalue of the symmetric `A + tB`, matched by primal value (the order is not
/// guaranteed), against first- and second-order perturbation theory.
fn symmetric_eigenvalues<T: Float + RealField + std::fmt::Debug>(tols: Tols)
where
    HyperDual<T>: RealField,
{
    let (a, b) = (a_matrix(), b_matrix());
    let eig = a.clone().symmetric_eigen();
    let lambdas = &eig.eigenvalues;
    let v = &eig.eigenvectors;
    // the coupling matrix vᵢᵀBvⱼ
    let coupling = v.transpose() * &b * v;
    let hyper = seeded::<T>(&a, &b, &b).symmetric_eigen();
    for i in 0..4 {
        let second: f64 = (0..4)
            .filter(|&j| j != i)
            .map(|j| 2.0 * coupling[(i, j)].powi(2) / (lambdas[i] - lambdas[j]))
            .sum();
        let found = *hyper
            .eigenvalues
            .iter()
            .min_by(|p, q| {
                let dp = (p.value().to_f64().unwrap() - lambdas[i]).abs();
                let dq = (q.value().to_f64().unwrap() - lambdas[i]).abs();
                dp.total_cmp(&dq)
            })
            .unwrap();
        check(
            found,
            [lambdas[i], coupling[(i, i)], second],
            tols,
            &format!("eigenvalue {} (λ = {})", i, lambdas[i]),
        );
    }
    // the smallest one explicitly, by the minimum over the hyper-dual eigenvalues
    let (i_min, _) = lambdas.argmin();
    let smallest = hyper
        .eigenvalues
        .iter()
        .copied()
        .min_by(|p, q| p.value().partial_cmp(&q.value()).unwrap())
        .unwrap();
    let second: f64 = (0..4)
        .filter(|&j| j != i_min)
        .map(|j| 2.0 * coupling[(i_min, j)].powi(2) / (lambdas[i_min] - lambdas[j]))
        .sum();
    assert!(
        second < 0.0,
        "the smallest eigenvalue is concave along any line"
    );
    check(
        smallest,
        [lambdas[i_min], coupling[(i_min, i_min)], second],
        tols,
        "smallest eigenvalue",
    );
}

/// Two different directions: `∂²/∂s∂t det(A + sB₁ + tB₂) = det(A)·[tr C₁·tr C₂ − tr(C₁C₂)]`,
/// and `∂²/∂s∂t (A + sB₁ + tB₂)⁻¹b = (C₁C₂ + C₂C₁)x`.
fn mixed_directions<T: Float + RealField + std::fmt::Debug>()
where
    HyperDual<T>: RealField,
{
    let (a, b1, b2, r) = (a_matrix(), b_matrix(), b2_matrix(), b_vector());
    let a_inv = a.clone().try_inverse().unwrap();
    let (c1, c2) = (&a_inv * &b1, &a_inv * &b2);
    let det = a.determinant();
    let tols = tols::<T>();
    let m = seeded::<T>(&a, &b1, &b2);
    let d = m.clone().lu().determinant();
    assert_close(d.eps1()[0], det * c1.trace(), tols.first, "∂det/∂s");
    assert_close(d.eps2()[0], det * c2.trace(), tols.first, "∂det/∂t");
    assert_close(
        d.eps12()[0][0],
        det * (c1.trace() * c2.trace() - (&c1 * &c2).trace()),
        tols.second,
        "∂²det/∂s∂t",
    );
    let x = &a_inv * &r;
    let expected = (&c1 * &c2 + &c2 * &c1) * &x;
    let sol = m.cholesky().unwrap().solve(&constant_vector::<T>(&r));
    for i in 0..4 {
        assert_close(sol[i].eps1()[0], -(&c1 * &x)[i], tols.first, "∂x/∂s");
        assert_close(sol[i].eps2()[0], -(&c2 * &x)[i], tols.first, "∂x/∂t");
        assert_close(sol[i].eps12()[0][0], expected[i], tols.second, "∂²x/∂s∂t");
    }
}

both_precisions! {
    hyperdual_determinant => determinant;
    hyperdual_solve => solve;
    hyperdual_trace_of_inverse => trace_of_inverse;
    hyperdual_mixed_directions => mixed_directions;
}

#[test]
fn hyperdual_symmetric_eigenvalues_f64() {
    symmetric_eigenvalues::<f64>(eigen_tols::<f64>());
}

#[test]
fn hyperdual_symmetric_eigenvalues_f32() {
    symmetric_eigenvalues::<f32>(eigen_tols::<f32>());
}

/// The accuracy f32 can deliver here: nalgebra's plain f32 `symmetric_eigen` followed by the
/// perturbation formulas in f32 is within 3e-7 (λ') and 1.5e-5 (λ'') of the f64 reference,
/// so the hyper-dual path is held to 2e-6 and 5e-5. It fails (8.4e-6 in λ', 3.7e-4 in λ'' for
/// the eigenvalues 2.38 and 2.46): the derivatives lose ~30× more accuracy than the values.
#[test]
#[ignore = "known limitation, documented in nalgebra_traits.rs: SymmetricEigen converges on primal values, f32 derivatives lose precision"]
fn hyperdual_symmetric_eigenvalues_f32_at_plain_f32_accuracy() {
    let tight = Tols {
        first: Tol {
            atol: 2e-6,
            rtol: 2e-6,
        },
        second: Tol {
            atol: 5e-5,
            rtol: 5e-5,
        },
    };
    symmetric_eigenvalues::<f32>(tight);
}

/// `symmetric_eigen_hyperdual` at a repeated eigenvalue nalgebra returns a few ulps apart:
/// along `A + t·I` (no mixing) the eigenvalues move as `λ + t` (second derivative 0) and the
/// eigenvectors stay put, so `Σλ²` has second derivative `2n`; and at distinct eigenvalues far
/// below the largest (`diag(1, 1.5, 10⁶)` in f32) `Σ ln λ` keeps its exact second derivative
/// `−tr(A⁻¹EA⁻¹E) = −2/(λ₀λ₁)` along `E = E₀₁ + E₁₀`.
#[test]
fn hyperdual_symmetric_eigen_at_a_near_tie_and_at_close_distinct_eigenvalues() {
    use adroit_forward::symmetric_eigen_hyperdual;
    let a = crate::linalg::rotated_repeated_eigenvalue();
    let identity = DMatrix::<f64>::identity(3, 3);
    let (values, vectors) = symmetric_eigen_hyperdual(&seeded::<f64>(&a, &identity, &identity));
    for k in 0..3 {
        for first in [values[k].eps1()[0], values[k].eps2()[0]] {
            assert!((first - 1.0).abs() <= 1e-14, "{}", values[k]);
        }
        assert!(values[k].eps12()[0][0].abs() <= 1e-14, "{}", values[k]);
    }
    for v in vectors.iter() {
        let parts = [v.eps1()[0], v.eps2()[0], v.eps12()[0][0]];
        assert!(parts.iter().all(|x| x.abs() <= 1e-14), "{parts:?}");
    }
    let sum_of_squares: HyperDual<f64> = values.iter().map(|&l| l * l).sum();
    assert!((sum_of_squares.eps12()[0][0] - 6.0).abs() <= 1e-13);

    let a = DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0, 1.5, 1e6]));
    let mut mixing = DMatrix::zeros(3, 3);
    mixing[(0, 1)] = 1.0;
    mixing[(1, 0)] = 1.0;
    let (values, _) = symmetric_eigen_hyperdual(&seeded::<f32>(&a, &mixing, &mixing));
    let log_det: HyperDual<f32> = values.iter().map(|&l| l.ln()).sum();
    assert!(
        (log_det.eps12()[0][0] + 2.0 / 1.5).abs() <= 1e-6,
        "{log_det}"
    );
}

/// A function of the simple eigenpair of `2I + 3uuᵀ` (eigenvalues 5, 2, 2) along
/// `E₀₁ + E₁₀`: its second derivative only divides by the gaps to the simple eigenvalue, so
/// `symmetric_eigen_hyperdual` is exact although the other two eigenvalues are repeated (a
/// trial found adroit-reverse's Hessian of it off there, and JAX's): against the second
/// central difference of nalgebra's `f64` eigenvectors.
#[test]
fn hyperdual_second_derivative_of_a_simple_eigenpair_beside_a_repeated_one() {
    use adroit_forward::symmetric_eigen_hyperdual;
    let u = DVector::from_column_slice(&[1.0, 2.0, 2.0]) / 3.0;
    let a = DMatrix::<f64>::identity(3, 3) * 2.0 + &u * u.transpose() * 3.0;
    let mut e = DMatrix::zeros(3, 3);
    e[(0, 1)] = 1.0;
    e[(1, 0)] = 1.0;
    // v₀² + 2v₀v₁ of the eigenvector of the largest eigenvalue (sign-free)
    let top = |values: &[f64]| {
        (0..3)
            .max_by(|&i, &j| values[i].total_cmp(&values[j]))
            .unwrap()
    };
    let f = |t: f64| {
        let eig = (&a + &e * t).symmetric_eigen();
        let k = top(eig.eigenvalues.as_slice());
        let v = eig.eigenvectors.column(k);
        v[0] * v[0] + 2.0 * v[0] * v[1]
    };
    let h = 1e-4;
    let second_difference = (f(h) - 2.0 * f(0.0) + f(-h)) / (h * h);
    let (values, vectors) = symmetric_eigen_hyperdual(&seeded::<f64>(&a, &e, &e));
    let plain: Vec<f64> = values.iter().map(|l| l.value()).collect();
    let k = top(&plain);
    let (v0, v1) = (vectors[(0, k)], vectors[(1, k)]);
    let g = v0 * v0 + v0 * v1 * 2.0;
    assert!(
        (g.eps12()[0][0] - second_difference).abs() < 1e-6,
        "{} vs {second_difference}",
        g.eps12()[0][0]
    );
    assert!(
        (g.eps12()[0][0] + 0.0759).abs() < 1e-4,
        "{}",
        g.eps12()[0][0]
    );
}

/// At the near tie of `A₀ = Q·diag(2, 2, 5)·Qᵀ` (the pair `p`, `q` a few ulps apart), along
/// `A₀ + s·I + t·B` with `B = v_p·v₃ᵀ + v₃·v_pᵀ` (coupling `p` to the simple eigenvector, never
/// the pair): the eigenvectors do not move with `s`, so `∂²/∂s∂t` of `f = v_pᵀCv_p` is 0, and
/// `∂²f/∂t²` equals the second central difference along the branch (at `t ≠ 0` `v_p` is the
/// eigenvector of the smallest eigenvalue, `2 − t²/3 + …`). A review found 0.21 and 0.60 for
/// 0 and 0.098: rounding-size second-order numerators divided by the ulps-wide gap.
#[test]
fn hyperdual_eigenvectors_at_a_near_tie_along_a_coupling_to_a_simple_eigenvalue() {
    use adroit_forward::symmetric_eigen_hyperdual;
    let a = crate::linalg::rotated_repeated_eigenvalue();
    let plain = a.clone().symmetric_eigen();
    let near: Vec<usize> = (0..3)
        .filter(|&k| (plain.eigenvalues[k] - 2.0).abs() < 1e-12)
        .collect();
    let simple = (0..3).find(|k| !near.contains(k)).unwrap();
    let p = near[0];
    let (vp, v3) = (
        plain.eigenvectors.column(p),
        plain.eigenvectors.column(simple),
    );
    let b = vp * v3.transpose() + v3 * vp.transpose();
    let c = DMatrix::from_row_slice(3, 3, &[0.7, 0.3, 0.4, 0.3, 0.9, -0.6, 0.4, -0.6, 0.8]);
    let f = |v: DVector<f64>| (v.transpose() * &c * &v)[0];
    let branch = |t: f64| {
        let eig = (&a + &b * t).symmetric_eigen();
        let k = (0..3)
            .min_by(|&i, &j| eig.eigenvalues[i].total_cmp(&eig.eigenvalues[j]))
            .unwrap();
        f(eig.eigenvectors.column(k).into_owned())
    };
    let h = 1e-3;
    let second_difference = (branch(h) - 2.0 * f(vp.into_owned()) + branch(-h)) / (h * h);
    let identity = DMatrix::<f64>::identity(3, 3);
    let quadratic = |eps1: &DMatrix<f64>, eps2: &DMatrix<f64>| {
        let (_, vectors) = symmetric_eigen_hyperdual(&seeded::<f64>(&a, eps1, eps2));
        let v = vectors.column(p);
        let cv = c.map(HyperDual::constant) * v;
        v.dot(&cv).eps12()[0][0]
    };
    let along_s_t = quadratic(&identity, &b);
    assert!(along_s_t.abs() < 1e-12, "∂²f/∂s∂t = {along_s_t}");
    let along_t = quadratic(&b, &b);
    assert!(
        (along_t - second_difference).abs() < 1e-5,
        "∂²f/∂t² = {along_t} vs {second_difference}"
    );
}
