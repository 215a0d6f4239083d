//! Second derivatives (forward-over-reverse: `hessian`, `hvp`) through nalgebra's
//! decompositions (LU, QR, Cholesky) and adroit-reverse's `svd` and `symmetric_eigen` nodes on
//! `DMatrix<Var<DualVec<T, _>>>` and `DMatrix<Var<Dual<T>>>`, checked against matrix calculus, against adroit-forward's hyper-dual `hessian` of the same generic
//! code, and against central differences of the reverse gradient:
//! - `∂² ln|det A| / ∂Aᵢⱼ∂Aₖₗ = −(A⁻¹)ⱼₖ(A⁻¹)ₗᵢ` (entries in column-major order);
//! - for `f(x) = bᵀ(A₀ + diag x)⁻¹b`, with `y = A⁻¹b` and `z = A⁻ᵀb`:
//!   `∂²f/∂xᵢ∂xⱼ = (A⁻¹)ⱼᵢ zⱼ yᵢ + zᵢ (A⁻¹)ᵢⱼ yⱼ`;
//! - for SPD `A = A₀ + diag x`, `ln det A = 2 Σ ln Lᵢᵢ` (Cholesky): `∂²/∂xᵢ∂xⱼ = −(A⁻¹)ᵢⱼ²`.

use adroit_reverse::{gradient, hessian, hvp};
use nalgebra::{DMatrix, DVector, RealField};

/// A non-symmetric, well-conditioned 3 × 3 matrix.
fn a0() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[4.0, 1.0, -0.5, 0.7, 3.0, 0.3, 0.5, -0.4, 2.5])
}

/// A symmetric positive definite 3 × 3 matrix.
fn spd() -> DMatrix<f64> {
    DMatrix::from_row_slice(3, 3, &[4.0, 1.0, 0.5, 1.0, 3.0, 0.3, 0.5, 0.3, 2.5])
}

/// `ln|det A|` for `A` from `x` (n², column-major), by LU.
fn ln_abs_det<S: RealField + Copy>(x: &[S]) -> S {
    let n = (x.len() as f64).sqrt() as usize;
    DMatrix::from_column_slice(n, n, x)
        .lu()
        .determinant()
        .abs()
        .ln()
}

/// `ln|det A|` by QR: `Σ ln|Rᵢᵢ|`.
fn qr_ln_abs_det<S: RealField + Copy>(x: &[S]) -> S {
    let n = (x.len() as f64).sqrt() as usize;
    let r = DMatrix::from_column_slice(n, n, x).qr().r();
    r.diagonal()
        .iter()
        .fold(S::zero(), |s, &d| s + d.abs().ln())
}

/// `bᵀ(A₀ + diag x)⁻¹b` by an LU solve, `A₀` and `b` constants.
fn quadratic_form<S: RealField + Copy>(x: &[S], a0: &DMatrix<f64>, b: &[f64]) -> S {
    let n = x.len();
    let a = DMatrix::from_fn(n, n, |i, j| {
        let c = nalgebra::convert::<f64, S>(a0[(i, j)]);
        if i == j { c + x[i] } else { c }
    });
    let b = DVector::from_iterator(n, b.iter().map(|&v| nalgebra::convert::<f64, S>(v)));
    let y = a.lu().solve(&b).expect("invertible");
    b.dot(&y)
}

/// `ln det(A₀ + diag x)` as `2 Σ ln Lᵢᵢ` of the Cholesky factor.
fn chol_ln_det<S: RealField + Copy>(x: &[S], a0: &DMatrix<f64>) -> S {
    let n = x.len();
    let a = DMatrix::from_fn(n, n, |i, j| {
        let c = nalgebra::convert::<f64, S>(a0[(i, j)]);
        if i == j { c + x[i] } else { c }
    });
    let l = a.cholesky().expect("positive definite").l();
    let two = nalgebra::convert::<f64, S>(2.0);
    l.diagonal()
        .iter()
        .fold(S::zero(), |s, &d| s + two * d.ln())
}

/// `got ≈ want` entry by entry, to `rtol · max(1, max |want|)` (also used by other modules).
pub(crate) fn assert_matrix_close(got: &DMatrix<f64>, want: &DMatrix<f64>, rtol: f64, what: &str) {
    assert_eq!(got.shape(), want.shape(), "{what}: shapes");
    let scale = want.amax().max(1.0);
    for (k, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        assert!(
            (g - w).abs() <= rtol * scale,
            "{what}: entry {k} (column-major) is {g}, expected {w}"
        );
    }
}

/// Central differences of the reverse gradient of `f` (an independent check of the Hessian
/// that shares no second-order code path).
pub(crate) fn fd_hessian(
    f: impl Fn(&[adroit_reverse::Var<f64>]) -> adroit_reverse::Var<f64>,
    x: &[f64],
) -> DMatrix<f64> {
    let n = x.len();
    let h = 1e-5;
    let mut out = DMatrix::zeros(n, n);
    for j in 0..n {
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[j] += h;
        xm[j] -= h;
        let (gp, gm) = (gradient(&f, &xp), gradient(&f, &xm));
        for i in 0..n {
            out[(i, j)] = (gp[i] - gm[i]) / (2.0 * h);
        }
    }
    out
}

#[test]
fn hessian_of_ln_abs_det_through_lu_matches_the_formula() {
    let a = a0();
    let inv = a.clone().try_inverse().unwrap();
    let n = 3;
    // x[i + n·j] = A[i, j]; H[(i + n·j), (k + n·l)] = −inv[j, k]·inv[l, i].
    let want = DMatrix::from_fn(n * n, n * n, |p, q| {
        let (i, j, k, l) = (p % n, p / n, q % n, q / n);
        -inv[(j, k)] * inv[(l, i)]
    });
    let reverse = hessian(|x| ln_abs_det(x), a.as_slice());
    assert_matrix_close(&reverse, &want, 1e-12, "reverse hessian of ln|det A|");
    let forward = adroit_forward::hessian(|x| ln_abs_det(x), a.as_slice());
    assert_matrix_close(&reverse, &forward, 1e-12, "reverse against forward");
    let fd = fd_hessian(|x| ln_abs_det(x), a.as_slice());
    assert_matrix_close(&reverse, &fd, 1e-6, "reverse against differences");
    let qr = hessian(|x| qr_ln_abs_det(x), a.as_slice());
    assert_matrix_close(&qr, &want, 1e-12, "reverse hessian of ln|det A| by QR");
    // A negative determinant (two rows swapped): |det| keeps the same second derivatives.
    let swapped = DMatrix::from_fn(3, 3, |i, j| a[([1, 0, 2][i], j)]);
    let inv = swapped.clone().try_inverse().unwrap();
    assert!(swapped.determinant() < 0.0);
    let want = DMatrix::from_fn(n * n, n * n, |p, q| {
        let (i, j, k, l) = (p % n, p / n, q % n, q / n);
        -inv[(j, k)] * inv[(l, i)]
    });
    let reverse = hessian(|x| ln_abs_det(x), swapped.as_slice());
    assert_matrix_close(&reverse, &want, 1e-12, "ln|det A| at det A < 0");
}

#[test]
fn hessian_through_an_lu_solve_matches_the_formula() {
    let a = a0();
    let b = [1.0, -2.0, 0.5];
    let x0 = [0.1, -0.2, 0.3];
    let at = &a + DMatrix::from_diagonal(&DVector::from_column_slice(&x0));
    let inv = at.clone().try_inverse().unwrap();
    let bv = DVector::from_column_slice(&b);
    let (y, z) = (&inv * &bv, inv.transpose() * &bv);
    let want = DMatrix::from_fn(3, 3, |i, j| {
        inv[(j, i)] * z[j] * y[i] + z[i] * inv[(i, j)] * y[j]
    });
    let reverse = hessian(|x| quadratic_form(x, &a, &b), &x0);
    assert_matrix_close(&reverse, &want, 1e-12, "reverse hessian of bᵀA⁻¹b");
    let forward = adroit_forward::hessian(|x| quadratic_form(x, &a, &b), &x0);
    assert_matrix_close(&reverse, &forward, 1e-12, "reverse against forward");
    // hvp (Var<Dual<f64>>) is the Hessian's product with the direction.
    let v = [0.3, -1.0, 2.0];
    let hv = hvp(|x| quadratic_form(x, &a, &b), &x0, &v);
    let want_hv = &want * DVector::from_column_slice(&v);
    assert_matrix_close(
        &DMatrix::from_column_slice(3, 1, &hv),
        &DMatrix::from_column_slice(3, 1, want_hv.as_slice()),
        1e-12,
        "hvp through an LU solve",
    );
}

#[test]
fn hessian_through_cholesky_matches_the_formula() {
    let a = spd();
    let x0 = [0.2, 0.0, -0.1];
    let at = &a + DMatrix::from_diagonal(&DVector::from_column_slice(&x0));
    let inv = at.try_inverse().unwrap();
    let want = DMatrix::from_fn(3, 3, |i, j| -inv[(i, j)] * inv[(i, j)]);
    let reverse = hessian(|x| chol_ln_det(x, &a), &x0);
    assert_matrix_close(
        &reverse,
        &want,
        1e-12,
        "reverse hessian of ln det by Cholesky",
    );
    let fd = fd_hessian(|x| chol_ln_det(x, &a), &x0);
    assert_matrix_close(&reverse, &fd, 1e-6, "against differences");
}

#[test]
fn hessian_through_lu_in_f32() {
    // The same formula in f32 (Var<DualVec<f32, _>>), against f64 arithmetic on the
    // f32-rounded matrix.
    let a32: Vec<f32> = a0().iter().map(|&v| v as f32).collect();
    let a =
        DMatrix::from_column_slice(3, 3, &a32.iter().map(|&v| f64::from(v)).collect::<Vec<_>>());
    let inv = a.try_inverse().unwrap();
    let got = hessian(|x| ln_abs_det(x), &a32);
    let n = 3;
    let want = DMatrix::from_fn(n * n, n * n, |p, q| {
        let (i, j, k, l) = (p % n, p / n, q % n, q / n);
        -inv[(j, k)] * inv[(l, i)]
    });
    assert_matrix_close(
        &got.map(f64::from),
        &want,
        2e-5,
        "f32 reverse hessian of ln|det A|",
    );
    let hv = hvp(|x| ln_abs_det(x), &a32, &[1.0_f32; 9]);
    let want_hv = &want * DVector::from_element(9, 1.0);
    for (k, (g, w)) in hv.iter().zip(want_hv.iter()).enumerate() {
        assert!(
            (f64::from(*g) - w).abs() <= 2e-5 * (1.0 + w.abs()),
            "f32 hvp entry {k}: {g} vs {w}"
        );
    }
}

/// Second derivatives through adroit-reverse's own decomposition nodes: their values come
/// from adroit-forward's exact tangents when the tape records duals, so the Hessian is right
/// also at a diagonal matrix, where nalgebra's iteration on duals loses the tangents of the
/// singular vectors (before this, `hessian` of σ₁ at diag(2, 1.5, 1) was all zeros, against
/// 8/7 and 6/7).
#[test]
fn hessian_through_the_svd_node_matches_forward_and_differences() {
    let generic = [2.0, 0.3, -0.4, 0.7, 1.5, 0.2, 0.1, -0.6, 1.0];
    let diagonal = [2.0, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 1.0];
    let sigma_1 = |x: &[adroit_reverse::Var<f64>]| {
        adroit_reverse::svd(&DMatrix::from_column_slice(3, 3, x)).1[0]
    };
    for (name, a) in [("generic", generic), ("diagonal", diagonal)] {
        let reverse = hessian(
            |x| adroit_reverse::svd(&DMatrix::from_column_slice(3, 3, x)).1[0],
            &a,
        );
        let forward = adroit_forward::hessian(
            |x| adroit_forward::svd_hyperdual(&DMatrix::from_column_slice(3, 3, x)).1[0],
            &a,
        );
        assert_matrix_close(&reverse, &forward, 1e-12, &format!("σ₁ Hessian, {name}"));
        let fd = fd_hessian(sigma_1, &a);
        assert_matrix_close(
            &reverse,
            &fd,
            1e-6,
            &format!("σ₁ Hessian against differences, {name}"),
        );
        let v = [0.5, -1.0, 0.25, 2.0, 0.0, 1.0, -0.5, 0.3, 1.5];
        let hv = hvp(
            |x| adroit_reverse::svd(&DMatrix::from_column_slice(3, 3, x)).1[0],
            &a,
            &v,
        );
        let want = &forward * DVector::from_column_slice(&v);
        for (k, (g, w)) in hv.iter().zip(want.iter()).enumerate() {
            assert!(
                (g - w).abs() <= 1e-12 * (1.0 + w.abs()),
                "{name} hvp entry {k}: {g} vs {w}"
            );
        }
    }
    // The mixed entry of the diagonal case by perturbation theory: σ₁ of [[2, s], [t, 1.5]]
    // has ∂²σ₁/∂s∂t = σ₂/(σ₁² − σ₂²) = 1.5/1.75 = 6/7 (entries (1, 0) and (0, 1) are x[1], x[3]).
    let reverse = hessian(
        |x| adroit_reverse::svd(&DMatrix::from_column_slice(3, 3, x)).1[0],
        &diagonal,
    );
    assert!(
        (reverse[(1, 3)] - 6.0 / 7.0).abs() < 1e-12,
        "{}",
        reverse[(1, 3)]
    );
}

/// The largest eigenvalue of the 3 × 3 symmetric matrix `x` (column-major, lower triangle
/// read), by adroit-reverse's `symmetric_eigen` node.
fn largest_eigenvalue<T>(x: &[adroit_reverse::Var<T>]) -> adroit_reverse::Var<T>
where
    T: adroit_reverse::TapeScalar + RealField,
{
    let (values, _) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x));
    values
        .iter()
        .copied()
        .fold(values[0], |m, v| if v > m { v } else { m })
}

#[test]
fn hessian_through_the_symmetric_eigen_node_matches_perturbation_theory() {
    // λ of diag(2, 1.5, 1) with eigenvector e₀: ∂²λ/∂aⱼ₀² = 2/(2 − λⱼ) for the lower-triangle
    // entries a₁₀ (x[1]) and a₂₀ (x[2]): 4 and 2; every other entry 0.
    let diagonal = [2.0, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 1.0];
    let reverse = hessian(|x| largest_eigenvalue(x), &diagonal);
    let mut want = DMatrix::zeros(9, 9);
    want[(1, 1)] = 4.0;
    want[(2, 2)] = 2.0;
    assert_matrix_close(
        &reverse,
        &want,
        1e-12,
        "largest eigenvalue's Hessian at a diagonal matrix",
    );
    // A generic symmetric matrix (both triangles given; the node reads the lower one): against
    // central differences of the reverse gradient.
    let s = [2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 1.0];
    let reverse = hessian(|x| largest_eigenvalue(x), &s);
    let fd = fd_hessian(|x| largest_eigenvalue(x), &s);
    assert_matrix_close(
        &reverse,
        &fd,
        1e-6,
        "largest eigenvalue's Hessian, generic matrix",
    );
}

/// An eigenvector loss at a diagonal matrix (a review's case): the pullback's numerators
/// `(VᵀV̄)ᵢⱼ` are 0 in value there but carry tangents, and were dropped as zeros — the Hessian
/// entry came out 0 and the Hessian unsymmetric. For `[[1, t], [t, 3]]` the eigenvector of
/// eigenvalue 1 has `v₀² = 1/(1 + t²/4) + O(t⁴)`: second derivative −½.
#[test]
fn hessian_of_an_eigenvector_loss_at_a_diagonal_matrix() {
    fn first_component_squared<T>(x: &[adroit_reverse::Var<T>]) -> adroit_reverse::Var<T>
    where
        T: adroit_reverse::TapeScalar + RealField,
    {
        let (values, vectors) =
            adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(2, 2, x));
        let k = if values[0] < values[1] { 0 } else { 1 };
        vectors[(0, k)] * vectors[(0, k)]
    }
    let h = hessian(|x| first_component_squared(x), &[1.0_f64, 0.0, 0.0, 3.0]);
    assert!((h[(1, 1)] + 0.5).abs() < 1e-12, "{h}");
    assert_matrix_close(&h, &h.transpose(), 1e-12, "symmetry");
    let fd = fd_hessian(|x| first_component_squared(x), &[1.0, 0.0, 0.0, 3.0]);
    assert_matrix_close(&h, &fd, 1e-6, "against differences");
    let hv = hvp(
        |x| first_component_squared(x),
        &[1.0_f64, 0.0, 0.0, 3.0],
        &[0.0, 1.0, 0.0, 0.0],
    );
    assert!((hv[1] + 0.5).abs() < 1e-12, "{hv:?}");
    let h32 = hessian(|x| first_component_squared(x), &[1.0_f32, 0.0, 0.0, 3.0]);
    assert!((h32[(1, 1)] + 0.5).abs() < 1e-6, "{h32}");
    // 3 × 3, a loss of products of eigenvector components, against the forward mode's
    // hyper-dual eigendecomposition.
    let d = [2.0, 0.0, 0.0, 0.0, 1.5, 0.0, 0.0, 0.0, 1.0];
    let reverse = hessian(
        |x| {
            let (_, v) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x));
            v[(0, 1)] * v[(0, 1)] + v[(1, 2)] * v[(2, 2)]
        },
        &d,
    );
    let forward = adroit_forward::hessian(
        |x| {
            let (_, v) =
                adroit_forward::symmetric_eigen_hyperdual(&DMatrix::from_column_slice(3, 3, x));
            v[(0, 1)] * v[(0, 1)] + v[(1, 2)] * v[(2, 2)]
        },
        &d,
    );
    assert_matrix_close(&reverse, &forward, 1e-12, "3 × 3 eigenvector loss");
}

/// nalgebra's closed-form 4 × 4 `try_inverse` on `Var<DualVec<f64, 12>>` needs a stack frame
/// of about 5 MB in a debug build (a review measured it; 2 MiB, a test thread's default,
/// overflows and aborts the process): under `hessian` it is right given a large stack, and
/// `lu().try_inverse()` — the documented alternative — needs none.
#[test]
fn hessian_through_a_4x4_inverse() {
    let x: Vec<f64> = (0..16)
        .map(|k| ((k * 3 + 11) % 19) as f64 / 4.0 - 1.3)
        .collect();
    fn inverse_sum<S: RealField + Copy>(x: &[S]) -> S {
        let a = DMatrix::from_column_slice(4, 4, x);
        a.lu().try_inverse().expect("invertible").sum()
    }
    let by_lu = hessian(|x| inverse_sum(x), &x);
    let fd = fd_hessian(|x| inverse_sum(x), &x);
    assert_matrix_close(&by_lu, &fd, 1e-5, "lu().try_inverse()");
    let x2 = x.clone();
    let closed_form = std::thread::Builder::new()
        .stack_size(32 << 20)
        .spawn(move || {
            hessian(
                |x| {
                    DMatrix::from_column_slice(4, 4, x)
                        .try_inverse()
                        .unwrap()
                        .sum()
                },
                &x2,
            )
        })
        .expect("a thread")
        .join()
        .expect("no panic");
    assert_matrix_close(&closed_form, &by_lu, 1e-10, "try_inverse() against LU");
}

/// A function of a well-separated eigenpair, `vₖᵀCvₖ` for the eigenvalue 1 of
/// `diag(1e-20, 2e-20, 1)`, has `∂²/∂A₁₀∂A₂₀ = 2·C₂₁/((1 − λ₀)(1 − λ₁)) = −1.2` (second-order
/// perturbation theory). Forward mode's hyper-dual decomposition divides only by the gaps to
/// the eigenvalue 1 and gets it; the reverse Hessian differentiates the pullback through every
/// eigenvector, where the close pair's `1/gap` terms must cancel and do not in floating point
/// (a review's finding; documented on `symmetric_eigen`): its column along the pair's mixing
/// direction gives 0 here, and the Hessian comes out unsymmetric.
#[test]
fn hessian_of_a_simple_eigenpair_beside_a_close_pair() {
    let a = [1e-20_f64, 0.0, 0.0, 0.0, 2e-20, 0.0, 0.0, 0.0, 1.0];
    let c = [0.7, 0.3, 0.4, 0.3, 0.9, -0.6, 0.4, -0.6, 0.8];
    fn form<S: RealField + Copy>(values: &DVector<S>, vectors: &DMatrix<S>, c: &[f64]) -> S {
        let k = (0..3)
            .max_by(|&i, &j| values[i].partial_cmp(&values[j]).unwrap())
            .unwrap();
        let v = vectors.column(k);
        let c = DMatrix::from_row_slice(3, 3, c).map(nalgebra::convert::<f64, S>);
        v.dot(&(c * v))
    }
    let forward = adroit_forward::hessian(
        |x| {
            let (values, vectors) =
                adroit_forward::symmetric_eigen_hyperdual(&DMatrix::from_column_slice(3, 3, x));
            form(&values, &vectors, &c)
        },
        &a,
    );
    assert!((forward[(1, 2)] + 1.2).abs() < 1e-12, "{forward}");
    let reverse = hessian(
        |x| {
            let (values, vectors) =
                adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x));
            form(&values, &vectors, &c)
        },
        &a,
    );
    // Seeded along A₂₀ (column 2) the reverse Hessian is right; seeded along A₁₀, which mixes
    // the close pair (column 1), its entries are 0 where −1.2 and 0.8 are exact.
    assert_eq!((reverse[(1, 2)], reverse[(5, 2)]), (-1.2, 0.6), "{reverse}");
    assert_eq!((reverse[(2, 1)], reverse[(5, 1)]), (0.0, 0.0), "{reverse}");
    assert!((forward[(2, 1)] + 1.2).abs() < 1e-12 && (forward[(5, 1)] - 0.8).abs() < 1e-12);
}
