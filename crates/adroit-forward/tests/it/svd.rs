//! `svd`'s tangents against central finite differences of nalgebra's f64 SVD, on quantities
//! that do not depend on the singular vectors' signs: the singular values and, for the simple
//! non-zero ones, the projectors `uᵢuᵢᵀ`, `vᵢvᵢᵀ` and the products `uᵢvᵢᵀ` — at matrices
//! where nalgebra's iteration on duals gets them wrong (triangular, diagonal, rank-deficient;
//! found by an audit) and at ordinary ones, square, tall and wide.

use crate::matrices::{matrix, rank_one_factors, with_singular_values};
use crate::tolerance::largest_magnitude;
use adroit_forward::{Dual, svd};
use nalgebra::{DMatrix, DVector, RealField};

/// σ, then for each `i` in `pairs`: `uᵢuᵢᵀ`, `vᵢvᵢᵀ` and `uᵢvᵢᵀ`, flattened.
fn quantities<S: RealField + Copy>(
    u: &DMatrix<S>,
    s: &DVector<S>,
    v_t: &DMatrix<S>,
    pairs: &[usize],
) -> Vec<S> {
    let mut out: Vec<S> = s.iter().copied().collect();
    for &i in pairs {
        let (ui, vi) = (u.column(i), v_t.row(i).transpose());
        out.extend((ui * ui.transpose()).iter().copied());
        out.extend((&vi * vi.transpose()).iter().copied());
        out.extend((ui * vi.transpose()).iter().copied());
    }
    out
}

/// The f64 quantities at `a + h·dot`.
fn at(a: &DMatrix<f64>, dot: &DMatrix<f64>, h: f64, pairs: &[usize]) -> Vec<f64> {
    let svd = (a + dot * h).svd(true, true);
    let (u, v_t) = (svd.u.unwrap(), svd.v_t.unwrap());
    quantities(&u, &svd.singular_values, &v_t, pairs)
}

/// Checks `svd`'s tangents of the quantities against a central difference (step `h`), with
/// a relative-and-absolute tolerance `tol`; returns the tangents of the singular values.
fn check(a: &DMatrix<f64>, dot: &DMatrix<f64>, pairs: &[usize], tol: f64) -> Vec<f64> {
    let duals = a.zip_map(dot, Dual::new);
    let (u, s, v_t) = svd(&duals);
    let ad: Vec<f64> = quantities(&u, &s, &v_t, pairs)
        .iter()
        .map(|q| q.tangent())
        .collect();
    let values: Vec<f64> = quantities(&u, &s, &v_t, pairs)
        .iter()
        .map(|q| q.value())
        .collect();
    assert_eq!(values, at(a, dot, 0.0, pairs), "the primal is nalgebra's");
    // Not smaller: at a rank-deficient matrix nalgebra's f64 SVD of A ± h·Ȧ, whose smallest
    // singular values are then O(h), loses accuracy in the vectors as h shrinks (the
    // difference quotient of u₁u₁ᵀ for u·vᵀ + t·ones: 0.19047619 at h = 1e-5, 0.1904832 at
    // 1e-6, 0.191143 at 1e-7; exact 4/21).
    let h = 1e-5;
    let (plus, minus) = (at(a, dot, h, pairs), at(a, dot, -h, pairs));
    // Only the singular values of `pairs` (simple and non-zero) are differentiable; a zero one
    // has a kink (|t·c|), where the central difference is 0 and σ̇ = uᵢᵀȧvᵢ.
    let k_all = s.len();
    let compared = (0..ad.len()).filter(|&q| q >= k_all || pairs.contains(&q));
    for (k, (d, (p, m))) in compared.map(|q| (q, (&ad[q], (&plus[q], &minus[q])))) {
        let fd = (p - m) / (2.0 * h);
        assert!(
            (d - fd).abs() <= tol * (1.0 + fd.abs()),
            "quantity {k}: AD {d} against FD {fd}\nA = {a}\nȦ = {dot}"
        );
    }
    // U·diag(σ)·Vᵀ reproduces the input's tangent where every singular value is simple and
    // non-zero (else the tangent's part in the null spaces, Uₒᵀ·ȧ·Vₒ off its diagonal, has
    // no differentiable home: the zero convention drops it).
    if pairs.len() == s.len() {
        let back = &u * DMatrix::from_diagonal(&s) * &v_t;
        for (b, d) in back.iter().zip(dot.iter()) {
            assert!(
                (b.tangent() - d).abs() < 1e-12,
                "{} against {d}",
                b.tangent()
            );
        }
    }
    s.iter().map(|x| x.tangent()).collect()
}

#[test]
fn ordinary_square_tall_and_wide_matrices() {
    for (rows, cols) in [(4, 4), (5, 3), (3, 5), (1, 1), (1, 3), (3, 1)] {
        let (a, dot) = (matrix(rows, cols, 0.3), matrix(rows, cols, 1.1));
        let all: Vec<usize> = (0..rows.min(cols)).collect();
        check(&a, &dot, &all, 1e-6);
    }
}

#[test]
fn triangular_and_diagonal_matrices_keep_their_vector_tangents() {
    // [[2, t], [0, 1]]: u₁ = (1, t/3) + O(t²), v₁ = (1, 2t/3) + O(t²); nalgebra's iteration on
    // duals gave zero tangents for every singular vector.
    let a = DMatrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, 1.0]);
    let dot = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 0.0, 0.0]);
    check(&a, &dot, &[0, 1], 1e-6);
    let (u, _, v_t) = svd(&a.zip_map(&dot, Dual::new));
    assert!(((u[(0, 0)] * u[(1, 0)]).tangent() - 1.0 / 3.0).abs() < 1e-15);
    assert!(((v_t[(0, 0)] * v_t[(0, 1)]).tangent() - 2.0 / 3.0).abs() < 1e-15);
    // diag(4, −3, 2, 1) moved off its diagonal
    let d = DMatrix::from_diagonal(&DVector::from_column_slice(&[4.0, -3.0, 2.0, 1.0]));
    check(&d, &matrix(4, 4, 0.7), &[0, 1, 2, 3], 1e-6);
    // upper triangular, 4 × 4
    check(
        &matrix(4, 4, 0.2).upper_triangle(),
        &matrix(4, 4, 2.0),
        &[0, 1, 2, 3],
        1e-6,
    );
}

#[test]
fn rank_deficient_matrices_have_right_tangents_for_their_non_zero_singular_values() {
    // u·vᵀ + t·ones: σ₁' = u₁ᵀ·ones·v₁ (nalgebra's iteration on duals gave 0.200 for 0.926).
    let (x, y) = rank_one_factors();
    let rank_one = &x * y.transpose();
    let ones = DMatrix::from_element(4, 4, 1.0);
    let s_dot = check(&rank_one, &ones, &[0], 1e-6);
    let exact = x.sum() * y.sum() / (x.norm() * y.norm());
    assert!(
        (s_dot[0] - exact).abs() < 1e-12,
        "{} against {exact}",
        s_dot[0]
    );
    // rank 2, 4 × 4 and 5 × 3, and rank 3 with an exact zero singular value
    let rank_two = matrix(4, 2, 0.4) * matrix(2, 4, 1.3);
    check(&rank_two, &matrix(4, 4, 0.9), &[0, 1], 1e-6);
    let tall = matrix(5, 2, 0.5) * matrix(2, 3, 2.2);
    check(&tall, &matrix(5, 3, 0.1), &[0, 1], 1e-6);
    let mut rank_three = matrix(4, 4, 1.9);
    let last = rank_three.column(0) + rank_three.column(1);
    rank_three.set_column(3, &last);
    check(&rank_three, &matrix(4, 4, 0.6), &[0, 1, 2], 1e-6);
}

#[test]
fn tangents_in_f32_and_empty_matrices() {
    let (a, dot) = (matrix(3, 3, 0.3), matrix(3, 3, 1.1));
    let exact = svd(&a.zip_map(&dot, Dual::new)).1;
    let single = a.zip_map(&dot, |x, d| Dual::new(x as f32, d as f32));
    let (_, s, _) = svd(&single);
    for (s32, s64) in s.iter().zip(exact.iter()) {
        assert!((f64::from(s32.tangent()) - s64.tangent()).abs() < 1e-5);
    }
    let (u, s, v_t) = svd(&DMatrix::<Dual<f64>>::zeros(0, 3));
    assert_eq!((u.shape(), s.len(), v_t.shape()), ((0, 0), 0, (0, 3)));
}

#[test]
fn a_repeated_singular_value_keeps_finite_value_tangents() {
    // The identity: every σ is 1 and the basis is arbitrary. σ̇ = diag(UᵀȦV) stays finite
    // (and matches the eigenvalues of the symmetric part, the derivative of σ along t here);
    // the vectors are not differentiable.
    let eye = DMatrix::<f64>::identity(3, 3);
    let dot = matrix(3, 3, 0.8);
    let (u, s, v_t) = svd(&eye.zip_map(&dot, Dual::new));
    assert!(s.iter().all(|x| x.tangent().is_finite()));
    assert!(u.iter().chain(v_t.iter()).any(|x| !x.tangent().is_finite()));
    // A constant matrix: all tangents zero, also at the repeated value.
    let (u, s, v_t) = svd(&eye.map(Dual::constant));
    assert!(
        u.iter()
            .chain(s.iter())
            .chain(v_t.iter())
            .all(|x| x.tangent() == 0.0)
    );
}

#[test]
fn tangents_do_not_depend_on_the_scale_of_the_matrix() {
    // c·[[2, t], [0, 1]]: the slope of u₀₀u₁₀ is 1/3 at every scale c (σ² overflowed above
    // ~1e154 and gave 0 or NaN, and underflowed below ~1e-154; found by a review).
    let e01 = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 0.0, 0.0]);
    for c in [1e-300_f64, 1e-200, 1.0, 1e154, 1e160, 1e300] {
        let a = DMatrix::from_row_slice(2, 2, &[2.0 * c, 0.0, 0.0, c]);
        let (u, s, v_t) = svd(&a.zip_map(&(&e01 * c), Dual::new));
        let slope = (u[(0, 0)] * u[(1, 0)]).tangent();
        assert!((slope - 1.0 / 3.0).abs() < 1e-14, "c = {c:e}: {slope}");
        assert!(((v_t[(0, 0)] * v_t[(0, 1)]).tangent() - 2.0 / 3.0).abs() < 1e-14);
        assert_eq!(s[0].tangent(), 0.0);
    }
    for c in [1e-25_f32, 1.0, 1e20, 1e30] {
        let a = DMatrix::from_row_slice(2, 2, &[2.0 * c, 0.0, 0.0, c]);
        let dot = DMatrix::from_row_slice(2, 2, &[0.0, c, 0.0, 0.0]);
        let (u, _, _) = svd(&a.zip_map(&dot, Dual::new));
        let slope = (u[(0, 0)] * u[(1, 0)]).tangent();
        assert!((slope - 1.0 / 3.0).abs() < 1e-6, "c = {c:e}: {slope}");
    }
}

#[test]
fn non_finite_entries_give_nan_and_repeated_zeros_give_zero_vector_tangents() {
    // nalgebra's iteration never ended on a 3 × 3 with a NaN (and panicked on a 2 × 2).
    for (rows, bad) in [(3, f64::NAN), (2, f64::NAN), (4, f64::INFINITY)] {
        let mut a = matrix(rows, rows, 0.5).map(Dual::constant);
        a[(1, 0)] = Dual::new(bad, 1.0);
        let (u, s, v_t) = svd(&a);
        assert!(
            u.iter()
                .chain(s.iter())
                .chain(v_t.iter())
                .all(|x| x.value().is_nan())
        );
    }
    // diag(1, 0, 0): the two zero singular values' vectors are not differentiable; the zero
    // convention gives them 0 (the numerator vanishes with σ), σ̇ stays uᵢᵀȧvᵢ.
    let a = DMatrix::from_diagonal(&DVector::from_column_slice(&[1.0_f64, 0.0, 0.0]));
    let mut dot = DMatrix::zeros(3, 3);
    dot[(0, 1)] = 0.3;
    dot[(1, 2)] = 1.0;
    let (u, s, v_t) = svd(&a.zip_map(&dot, Dual::new));
    assert!(s.iter().all(|x| x.tangent().is_finite()));
    assert!(u.iter().chain(v_t.iter()).all(|x| x.tangent().is_finite()));
}

#[test]
fn chunked_gradients_through_svd_and_symmetric_eigen() {
    // The nuclear norm Σσᵢ of a 3 × 4 matrix: gradient U·Vᵀ, by gradient_chunked (DualVec
    // lanes) through svd, one chunk of 4 and several of 5.
    let a = matrix(3, 4, 0.7);
    let plain = a.clone().svd(true, true);
    let expected = plain.u.unwrap() * plain.v_t.unwrap();
    let nuclear = |x: &[adroit_forward::DualVec<f64, 5>]| {
        svd(&DMatrix::from_column_slice(3, 4, x))
            .1
            .iter()
            .fold(x[0] * 0.0, |s, &v| s + v)
    };
    let g = adroit_forward::gradient_chunked::<5, _, _>(nuclear, a.as_slice());
    for (g, e) in g.iter().zip(expected.iter()) {
        assert!((g - e).abs() < 1e-13, "{g} against {e}");
    }
    // The largest eigenvalue of the symmetric AᵀA (4 × 4): gradient 2·A·v·vᵀ, lane by lane.
    let top = |x: &[adroit_forward::DualVec<f64, 4>]| {
        let m = DMatrix::from_column_slice(3, 4, x);
        let (values, _) = adroit_forward::symmetric_eigen(&(m.transpose() * m));
        values
            .iter()
            .fold(values[0], |best, &v| if v > best { v } else { best })
    };
    let g = adroit_forward::gradient_chunked::<4, _, _>(top, a.as_slice());
    let eig = (a.transpose() * &a).symmetric_eigen();
    let k = eig.eigenvalues.imax();
    let v = eig.eigenvectors.column(k);
    let expected = (&a * v) * v.transpose() * 2.0;
    for (g, e) in g.iter().zip(expected.iter()) {
        assert!((g - e).abs() < 1e-12, "{g} against {e}");
    }
}

/// `f(x)` for `x` the entries of a `rows × cols` matrix (column-major): `σ₁ + 0.3·σ₂² +
/// u₁₁·v₁₂ · u₂₁…` — a mix of singular values and sign-free vector products, so that every
/// part of `svd_hyperdual`'s second-order output enters a Hessian.
fn mixed<S: RealField + Copy>((u, s, v_t): (DMatrix<S>, DVector<S>, DMatrix<S>)) -> S {
    let w = nalgebra::convert::<f64, S>(0.3);
    s[0] + w * s[1] * s[1] + u[(0, 0)] * v_t[(0, 1)] + u[(1, 1)] * u[(0, 1)]
}

/// The forward gradient of [`mixed`] through the first-order `svd`, at `x` (`rows × cols`).
fn first_order_gradient(x: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    adroit_forward::gradient(
        |v| mixed(svd(&DMatrix::from_column_slice(rows, cols, v))),
        x,
    )
}

#[test]
fn hessians_through_svd_hyperdual_match_differences_of_the_gradient() {
    use adroit_forward::{hessian, svd_hyperdual};
    let triangular = matrix(3, 3, 0.2).upper_triangle();
    let diagonal = DMatrix::from_diagonal(&DVector::from_column_slice(&[4.0, -3.0, 2.0]));
    let cases = [
        matrix(3, 3, 0.4),
        matrix(4, 3, 1.3),
        matrix(3, 4, 2.1),
        triangular,
        diagonal,
    ];
    for a in cases {
        let (rows, cols) = a.shape();
        let h = hessian(
            |v| mixed(svd_hyperdual(&DMatrix::from_column_slice(rows, cols, v))),
            a.as_slice(),
        );
        let step = 1e-6;
        for j in 0..a.len() {
            let (mut plus, mut minus) = (a.as_slice().to_vec(), a.as_slice().to_vec());
            plus[j] += step;
            minus[j] -= step;
            let (gp, gm) = (
                first_order_gradient(&plus, rows, cols),
                first_order_gradient(&minus, rows, cols),
            );
            for i in 0..a.len() {
                let fd = (gp[i] - gm[i]) / (2.0 * step);
                assert!(
                    (h[(i, j)] - fd).abs() <= 1e-6 * (1.0 + fd.abs()),
                    "{rows}×{cols} H[{i},{j}] = {} against {fd}\n{a}",
                    h[(i, j)]
                );
            }
        }
        // symmetric, as a Hessian
        assert!((&h - h.transpose()).amax() < 1e-9 * (1.0 + h.amax()), "{h}");
    }
}

/// The polar factor `U·Vᵀ` and the largest singular-vector tangent of `svd(a + t·dot)`; checks
/// that `U̇·Σ·Vᵀ + U·Σ̇·Vᵀ + U·Σ·V̇ᵀ` reproduces `dot` (all singular values non-zero).
fn polar_tangent(a: &DMatrix<f64>, dot: &DMatrix<f64>) -> (DMatrix<f64>, f64) {
    let (u, s, v_t) = svd(&a.zip_map(dot, Dual::new));
    let back = &u * DMatrix::from_diagonal(&s) * &v_t;
    let error = (back.map(|x| x.tangent()) - dot).amax();
    assert!(
        error <= 1e-12 * (1.0 + dot.amax()),
        "reconstruction off by {error}\nA = {a}Ȧ = {dot}"
    );
    let largest = largest_magnitude(u.iter().chain(v_t.iter()).map(|x| x.tangent()));
    ((&u * &v_t).map(|x| x.tangent()), largest)
}

/// At a repeated singular value (nalgebra returns it a few ulps apart), perturbations that do
/// not mix the pair have exact, finite tangents: scaling (`Ȧ = A`: the vectors stay) and
/// turning (`Ȧ = W·A`, `Ȧ = A·W`: the polar factor `U·Vᵀ` turns by `W`). They were infinite or
/// NaN: the pair's numerators were rounding, divided by a gap taken as 0. Square, tall and
/// wide, thirty rotations each.
#[test]
fn non_mixing_perturbations_at_a_repeated_singular_value() {
    for (rows, cols) in [(3, 3), (4, 3), (3, 5)] {
        for p in 0..30 {
            let phase = 0.37 * f64::from(p);
            let a = with_singular_values(&[3.0, 2.0, 2.0], rows, cols, phase);
            let (polar, still) = polar_tangent(&a, &a);
            assert!(still <= 1e-13, "{rows}×{cols}, {p}: Ȧ = A moved by {still}");
            assert!(polar.amax() <= 1e-13);
            let plain = a.clone().svd(true, true);
            let polar0 = plain.u.unwrap() * plain.v_t.unwrap();
            let (left, right) = (antisymmetric(rows, phase), antisymmetric(cols, phase));
            for (dot, expected) in [
                (&left * &a, &left * &polar0),
                (&a * &right, &polar0 * &right),
            ] {
                let (polar, largest) = polar_tangent(&a, &dot);
                let error = (&polar - &expected).amax();
                assert!(error <= 1e-12, "{rows}×{cols}, {p}: {error}");
                assert!(largest.is_finite());
            }
        }
    }
}

/// The same in f32, and at n = 40 with every singular value 2 but one (the pair spreads over
/// more ulps there: ties count within `8·max(m, n)·ε·max σ`).
#[test]
fn non_mixing_perturbations_at_a_repeated_singular_value_f32_and_large() {
    let a = with_singular_values(&[3.0, 2.0, 2.0], 3, 4, 0.9);
    let single = a.map(|x| Dual::new(x as f32, x as f32));
    let (u, _, v_t) = svd(&single);
    let largest = largest_magnitude(u.iter().chain(v_t.iter()).map(|x| x.tangent()));
    assert!(largest <= 1e-5, "{largest}");
    let n = 40;
    let mut sigma = vec![2.0; n];
    sigma[0] = 5.0;
    let a = with_singular_values(&sigma, n, n, 0.3);
    let (polar, still) = polar_tangent(&a, &a);
    assert!(still <= 1e-11 && polar.amax() <= 1e-11, "{still}");
}

/// A fixed antisymmetric `n × n` matrix `W` (`Wᵀ = −W`): `A + t·W·A` turns `A` by the rotation
/// `exp(t·W)` to first order.
fn antisymmetric(n: usize, phase: f64) -> DMatrix<f64> {
    let m = matrix(n, n, phase + 1.9);
    &m - m.transpose()
}

/// A perturbation `Ȧ = Q·M·Rᵀ` in the singular bases of `A = Q·diag(σ)·Rᵀ` that turns the
/// repeated pair against itself (`M` antisymmetric there) and couples it strongly to the simple
/// pair: the polar factor's tangent is `Q·(2·K ∘ 1/(σⱼ + σᵢ))·Rᵀ`, `K` the antisymmetric part of
/// `M` — also where the simple singular value is far from the pair (10³, 10⁸ against 1, or 1e-3
/// against a pair at 1). There the computed vectors' own error (residual over gap, and the
/// pairing of `uₖ` with `vₖ`) exceeds the product's rounding: without it in the threshold the
/// tangents were infinite (1,166 of 3,000 cases in a search). (Not 1e-8 against 1 in a tall or
/// wide matrix: the vectors of σ = 1e-8 are then only known to `ε/1e-8` towards the complement,
/// and the projection term divides that by σ — the derivative itself is ill-conditioned.)
/// At the 1e-3 pattern nalgebra's own SVD fails (see `primal_svd_is_accurate_where_nalgebras_is_not`).
#[test]
fn non_mixing_perturbations_beside_a_distant_singular_value() {
    let patterns = [
        [1e3, 1.0, 1.0],
        [1e8, 1.0, 1.0],
        [1.0, 1.0, 1e-3],
        [5.0, 5.0, 1.0],
    ];
    for sigma in patterns {
        let simple = if sigma[0] == sigma[1] { 2 } else { 0 };
        let tied: Vec<usize> = (0..3).filter(|&i| i != simple).collect();
        let mut m = DMatrix::zeros(3, 3);
        m[(tied[0], tied[1])] = 1.0;
        m[(tied[1], tied[0])] = -1.0;
        m[(simple, tied[0])] = 1e3;
        m[(tied[1], simple)] = -2e3;
        m[(simple, simple)] = 5e3;
        let turn = DMatrix::from_fn(3, 3, |i, j| (m[(i, j)] - m[(j, i)]) / (sigma[i] + sigma[j]));
        for (rows, cols) in [(3, 3), (4, 3), (3, 5)] {
            for p in 0..40 {
                let phase = 0.137 * f64::from(p);
                let q = matrix(rows, rows, phase).qr().q();
                let r = matrix(cols, cols, phase + 0.7).qr().q();
                let (q, r) = (q.columns(0, 3), r.columns(0, 3));
                let a =
                    q * DMatrix::from_diagonal(&DVector::from_column_slice(&sigma)) * r.transpose();
                let dot = q * &m * r.transpose();
                let (polar, _) = polar_tangent(&a, &dot);
                let expected = q * &turn * r.transpose();
                let error = (&polar - &expected).amax();
                assert!(
                    error <= 1e-6 * (1.0 + expected.amax()),
                    "σ = {sigma:?}, {rows}×{cols}, {p}: {error}"
                );
            }
        }
    }
}

/// nalgebra's SVD does not reproduce `Q·diag(1, 1, 1e-3)·Rᵀ` (off by up to 5e-3·max|A| in
/// most rotations: nalgebra issue #1172), nor some rank-deficient matrices; `svd`'s primal
/// decomposition is checked and recomputed there (one-sided Jacobi), so its values are an SVD
/// to working accuracy, f64 and f32: `U·Σ·Vᵀ = A`, orthonormal `U`, `V`, the singular values
/// chosen.
#[test]
fn primal_svd_is_accurate_where_nalgebras_is_not() {
    let off = |a: &DMatrix<f64>, (u, s, v_t): (DMatrix<f64>, DVector<f64>, DMatrix<f64>)| {
        let back = (&u * DMatrix::from_diagonal(&s) * &v_t - a).amax() / a.amax();
        let eye = |k| DMatrix::<f64>::identity(k, k);
        let k = s.len();
        let orthogonality = (u.transpose() * &u - eye(k))
            .amax()
            .max((&v_t * v_t.transpose() - eye(k)).amax());
        back.max(orthogonality)
    };
    let values = |a: &DMatrix<f64>| {
        let (u, s, v_t) = svd(&a.map(Dual::constant));
        let value = |m: &DMatrix<Dual<f64>>| m.map(|x| x.value());
        (value(&u), s.map(|x| x.value()), value(&v_t))
    };
    let mut nalgebra_failures = 0;
    for (rows, cols) in [(3, 3), (4, 3), (3, 5)] {
        for p in 0..50 {
            let a = with_singular_values(&[1.0, 1.0, 1e-3], rows, cols, 0.137 * f64::from(p));
            let plain = a.clone().svd(true, true);
            let plain = (plain.u.unwrap(), plain.singular_values, plain.v_t.unwrap());
            if off(&a, plain) > 1e-13 {
                nalgebra_failures += 1;
            }
            let ours = values(&a);
            let sigma_error = (&ours.1 - DVector::from_column_slice(&[1.0, 1.0, 1e-3])).amax();
            assert!(sigma_error <= 1e-14, "{rows}×{cols}, {p}: σ = {}", ours.1);
            let error = off(&a, ours);
            assert!(error <= 1e-14, "{rows}×{cols}, {p}: off by {error}");
            let single = a.map(|x| Dual::new(x as f32, 0.0));
            let (u, s, v_t) = svd(&single);
            let back = &u * DMatrix::from_diagonal(&s) * &v_t;
            let error = back
                .iter()
                .zip(single.iter())
                .map(|(b, x)| (b.value() - x.value()).abs())
                .fold(0.0, f32::max);
            assert!(error <= 1e-5, "f32 {rows}×{cols}, {p}: off by {error}");
        }
    }
    assert!(
        nalgebra_failures > 100,
        "the premise: {nalgebra_failures} of 150"
    );
    // rank 3 in 6 × 5: nalgebra's fails for some rotations (1 in 500 here)
    for p in 0..500 {
        let a = with_singular_values(&[3.0, 2.0, 1.0], 6, 5, 0.137 * f64::from(p));
        let error = off(&a, values(&a));
        assert!(error <= 1e-14, "6×5 rank 3, {p}: off by {error}");
    }
}

/// Singular values distinct by a few ulps more than the tie (16ε at 3 × 3, 100ε at 20 × 20: inside
/// the window where rounding-size entries are snapped) at a diagonal matrix, whose decomposition
/// is exact, turned by `W = E₀₁ − E₁₀`: `A + t·W·A = exp(t·W)·A + O(t²)`, so `u₀` turns with slope
/// −1 into `e₁` (and `v₀` likewise for `A·W`). The symmetric part `S = W·(σ₁ − σ₀)/2` is as small
/// as the gap but exact, and `S/(σ₁ − σ₀)` is half the slope: it was snapped as rounding, and the
/// slopes came out −0.5 (a review's finding). Second derivatives through `svd_hyperdual` too.
#[test]
fn turning_a_diagonal_matrix_with_close_singular_values() {
    use adroit_forward::hessian;
    for (n, gap) in [(3, 16.0), (20, 100.0)] {
        let a = DMatrix::from_fn(n, n, |i, j| match (i, j) {
            (0, 0) => 1.0,
            (1, 1) => 1.0 - gap * f64::EPSILON,
            (i, j) if i == j => 0.25 / i as f64,
            _ => 0.0,
        });
        let mut w = DMatrix::zeros(n, n);
        w[(0, 1)] = 1.0;
        w[(1, 0)] = -1.0;
        let (u, _, _) = svd(&a.zip_map(&(&w * &a), Dual::new));
        let slope = (u[(0, 0)] * u[(1, 0)]).tangent();
        assert_eq!(slope, -1.0, "{n}×{n}: u₀ turns by {slope}");
        let (_, _, v_t) = svd(&a.zip_map(&(&a * &w), Dual::new));
        let slope = (v_t[(0, 0)] * v_t[(0, 1)]).tangent();
        assert_eq!(slope, 1.0, "{n}×{n}: v₀ turns by {slope}");
        // f(x₀, x₁) = (u₀v₀ᵀ)₁₀ of (1 + x₁)·A + x₀·W·A = −sin(atan(x₀/(1 + x₁))): H = [[0, 1], [1, 0]]
        let (a2, wa) = (a.clone(), &w * &a);
        let h = hessian(|x| turned_pair_entry(x, &a2, &wa), &[0.0_f64, 0.0]);
        assert!(
            (h[(0, 1)] - 1.0).abs() < 1e-12 && (h[(1, 0)] - 1.0).abs() < 1e-12,
            "{n}×{n}: {h}"
        );
    }
}

/// `[Q·diag(1, 1, 1e-3)·Rᵀ] ⊕ [3e-160]`: nalgebra's decomposition fails the check and Jacobi
/// recomputes it; the tiny block's singular value has the slope 1 in its own entry (it was
/// 1.0000113 or 0.99999351 depending on the rotation: Jacobi's squared norms underflowed; a
/// review's finding).
#[test]
fn a_tiny_block_beside_a_recomputed_one_keeps_its_slope() {
    for p in 0..10 {
        let block = with_singular_values(&[1.0, 1.0, 1e-3], 3, 3, 0.137 * f64::from(p));
        let a = DMatrix::from_fn(4, 4, |i, j| match (i, j) {
            (3, 3) => 3e-160,
            (3, _) | (_, 3) => 0.0,
            _ => block[(i, j)],
        });
        let mut dot = DMatrix::zeros(4, 4);
        dot[(3, 3)] = 1.0;
        let (_, s, _) = svd(&a.zip_map(&dot, Dual::new));
        assert_eq!(s[3].value(), 3e-160, "{p}");
        assert!(
            (s[3].tangent() - 1.0).abs() < 1e-14,
            "{p}: {}",
            s[3].tangent()
        );
    }
}

/// Regression (a review's finding): as above with a largest singular value that is not a
/// power of two (3, 10). Normalising by it rounded the close pair's quotients (the slope came
/// out −1.0079 for −1, the Hessian 1.024 for 1), and nalgebra's singular values of a diagonal
/// matrix could come back an ulp off (0.49999999999999994 for 0.5).
#[test]
fn close_singular_values_of_a_diagonal_matrix_beside_a_larger_one() {
    let e = f64::EPSILON;
    for third in [3.0, 10.0] {
        let a = DMatrix::from_row_slice(
            3,
            3,
            &[1.0, 0.0, 0.0, 0.0, 1.0 - 16.0 * e, 0.0, 0.0, 0.0, third],
        );
        let mut w = DMatrix::zeros(3, 3);
        w[(0, 1)] = 1.0;
        w[(1, 0)] = -1.0;
        let (u, s, v_t) = svd(&a.zip_map(&(&w * &a), Dual::new));
        let k = (0..3).find(|&k| s[k].value() == 1.0).unwrap();
        assert_eq!((u[(1, k)] * v_t[(k, 0)]).tangent(), -1.0, "third {third}");
        // Along E₁₀: d(u₁ₖ·vₖ₀) = σ₀/((σ₀ − σ₁)(σ₀ + σ₁)) (first-order theory, exact here).
        let mut e10 = DMatrix::zeros(3, 3);
        e10[(1, 0)] = 1.0;
        let (u, _, v_t) = svd(&a.zip_map(&e10, Dual::new));
        let (s0, s1) = (1.0, 1.0 - 16.0 * e);
        let exact = s0 / ((s0 - s1) * (s0 + s1));
        let slope = (u[(1, k)] * v_t[(k, 0)]).tangent();
        assert!(
            (slope - exact).abs() <= 1e-15 * exact,
            "third {third}: {slope} vs {exact}"
        );
        // Second order through the hyper-dual, the pair picked by value.
        let wa = &w * &a;
        let h = adroit_forward::hessian(|x| turned_pair_entry(x, &a, &wa), &[0.0_f64, 0.0]);
        assert!(
            (h[(0, 1)] - 1.0).abs() < 1e-12 && (h[(1, 0)] - 1.0).abs() < 1e-12,
            "{h}"
        );
    }
    let a = DMatrix::from_row_slice(
        3,
        3,
        &[1.9, 0.0, 0.0, 0.0, 1.9 - 12.0 * e, 0.0, 0.0, 0.0, 0.5],
    );
    let (_, s, _) = svd(&a.map(Dual::constant));
    let values: Vec<f64> = s.iter().map(|x| x.value()).collect();
    assert_eq!(values, [1.9, 1.9 - 12.0 * e, 0.5]);
}

/// `(uₖvₖᵀ)₁₀` of `(1 + x₁)·A + x₀·W·A` through `svd_hyperdual`, for the pair of singular value
/// 1 (`wa` = `W·A`).
fn turned_pair_entry<const M: usize, const N: usize>(
    x: &[adroit_forward::HyperDualVec<f64, M, N>],
    a: &DMatrix<f64>,
    wa: &DMatrix<f64>,
) -> adroit_forward::HyperDualVec<f64, M, N> {
    let c = adroit_forward::HyperDualVec::<f64, M, N>::constant;
    let m = DMatrix::from_fn(a.nrows(), a.ncols(), |i, j| {
        (c(1.0) + x[1]) * c(a[(i, j)]) + x[0] * c(wa[(i, j)])
    });
    let (u, s, v_t) = adroit_forward::svd_hyperdual(&m);
    let k = (0..s.len())
        .find(|&k| s[k].value() == 1.0)
        .expect("a singular value 1");
    u[(1, k)] * v_t[(k, 0)]
}

/// Regression (a review's finding): singular values near the top of the range. Normalising
/// by a power of two at or below the largest overflowed at `f64::MAX` (`log2` rounds up to
/// 1024: every singular-vector tangent 0) and halved the headroom of the cotangents' products
/// (reverse gradients infinite at σ ≈ 1.5e308: tested in adroit-reverse). Reference: the same
/// computation on the matrix scaled by a power of two (exact, and the tangents do not depend
/// on the scale).
#[test]
fn singular_vectors_at_the_ends_of_the_range() {
    let tangent_of_u10 = |a: &DMatrix<f64>, dot: &DMatrix<f64>| {
        let (u, _, _) = svd(&a.zip_map(dot, Dual::new));
        u[(1, 0)].tangent()
    };
    let off = DMatrix::from_row_slice(2, 2, &[0.0, 1.0, 1.0, 0.0]);
    for largest in [f64::MAX, 1.7976931348623e308, 1.5e308] {
        let a = DMatrix::from_row_slice(2, 2, &[largest, 0.0, 0.0, 1e307]);
        let expected = tangent_of_u10(&(&a / 256.0), &(&off * (1e307 / 256.0)));
        let got = tangent_of_u10(&a, &(&off * 1e307));
        assert!(
            expected != 0.0 && (got - expected).abs() <= 1e-15 * expected.abs(),
            "{got} vs {expected}"
        );
    }
}
