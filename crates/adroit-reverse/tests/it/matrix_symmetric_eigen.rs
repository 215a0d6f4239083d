//! `MatVar::symmetric_eigen` against the scalar tape's `symmetric_eigen` (the same rule),
//! central finite differences of nalgebra's decomposition, second derivatives, repeated
//! eigenvalues, NaN, empty and non-square matrices.

use crate::matrices::matrix;
use crate::matrix_linear_solve::{differences, gradient_differences};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use adroit_reverse::{TapeScalar, Var};
use nalgebra::{DMatrix, RealField, dmatrix};
use num_traits::Float;

/// `Σₖ sin(λₖ)·V₀ₖ·Vₙ₋₁ₖ`: reads values and vectors, independent of the eigenvalues' order
/// and of each vector's sign.
fn spectral<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let n = m[0].nrows();
    let (values, vectors) = m[0].symmetric_eigen();
    let ends = vectors.rows(0, 1).component_mul(vectors.rows(n - 1, 1));
    ends.matmul(values.map(|x| x.sin()))
}

/// [`spectral`] on the scalar tape.
fn spectral_scalar<T: TapeScalar + RealField>(x: &[Var<T>], n: usize) -> Var<T> {
    let (values, vectors) = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(n, n, x));
    (0..n).fold(x[0] * T::zero(), |t, k| {
        t + values[k].sin() * vectors[(0, k)] * vectors[(n - 1, k)]
    })
}

/// [`spectral`] of plain numbers, through nalgebra's decomposition of the lower triangle.
fn spectral_plain(a: &DMatrix<f64>) -> f64 {
    let n = a.nrows();
    let lower = DMatrix::from_fn(n, n, |i, j| a[(i.max(j), i.min(j))]);
    let eigen = lower.symmetric_eigen();
    (0..n)
        .map(|k| {
            eigen.eigenvalues[k].sin() * eigen.eigenvectors[(0, k)] * eigen.eigenvectors[(n - 1, k)]
        })
        .sum()
}

#[test]
fn gradients_match_the_scalar_tape_and_finite_differences() {
    for n in [1, 2, 3, 5] {
        let a = matrix(n, n, 0.7);
        let (v, g) = matrix::value_and_gradient(spectral, std::slice::from_ref(&a));
        assert!((v - spectral_plain(&a)).abs() < 1e-14, "n = {n}: {v}");
        let scalar = adroit_reverse::gradient(|x| spectral_scalar(x, n), a.as_slice());
        for (m, s) in g[0].iter().zip(&scalar) {
            assert!((m - s).abs() < 1e-13, "n = {n}: {m} vs {s}");
        }
        // Only the lower triangle is read: the upper one gets 0.
        for i in 0..n {
            for j in i + 1..n {
                assert_eq!(g[0][(i, j)], 0.0, "n = {n} ({i}, {j})");
            }
        }
        let fd = differences(spectral_plain, &a);
        for (idx, (got, want)) in g[0].iter().zip(fd.iter()).enumerate() {
            assert!(
                (got - want).abs() < 1e-7,
                "n = {n} [{idx}]: {got} vs {want}"
            );
        }
    }
}

#[test]
fn f32_gradients_match_f64() {
    let a = matrix(4, 4, 0.2);
    let a32 = a.map(|x| x as f32);
    let g = matrix::gradient(spectral, std::slice::from_ref(&a));
    let g32 = matrix::gradient(spectral, std::slice::from_ref(&a32));
    for (x, y) in g[0].iter().zip(g32[0].iter()) {
        assert!((x - f64::from(*y)).abs() < 1e-4, "{x} vs {y}");
    }
}

/// The eigenvalues alone at a repeated eigenvalue: `Σλ²` of `2I` has gradient `2A` folded onto
/// the lower triangle (basis independent, finite), and a mixing eigenvector cotangent there is
/// not finite — both as on the scalar tape.
#[test]
fn repeated_eigenvalues() {
    let a = dmatrix![2.0, 0.0, 0.0; 0.0, 2.0, 0.0; 0.0, 0.0, 5.0];
    let g = matrix::gradient(
        |m| {
            let values = m[0].symmetric_eigen().0;
            values.component_mul(values).sum()
        },
        std::slice::from_ref(&a),
    );
    assert!((&g[0] - &a * 2.0).amax() < 1e-14, "{}", g[0]);
    let mixing = matrix::gradient(
        |m| {
            let vectors = m[0].symmetric_eigen().1;
            vectors.rows(0, 1).component_mul(vectors.rows(1, 1)).sum()
        },
        std::slice::from_ref(&a),
    );
    let scalar = adroit_reverse::gradient(
        |x| {
            let vectors = adroit_reverse::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x)).1;
            (0..3).fold(x[0] * 0.0, |t, k| t + vectors[(0, k)] * vectors[(1, k)])
        },
        a.as_slice(),
    );
    assert!(mixing[0].iter().any(|d| !d.is_finite()), "{}", mixing[0]);
    for (m, s) in mixing[0].iter().zip(&scalar) {
        assert!(m == s || (m.is_nan() && s.is_nan()), "{m} vs {s}");
    }
}

#[test]
fn hessian_matches_the_scalar_tape_and_differences_of_the_gradient() {
    let n = 3;
    let a = matrix(n, n, 0.4);
    let h = matrix::hessian(spectral, std::slice::from_ref(&a));
    let scalar = adroit_reverse::hessian(|x| spectral_scalar(x, n), a.as_slice());
    assert!((&h - &scalar).amax() < 1e-12, "{h}\n{scalar}");
    let fd = gradient_differences(spectral, &a);
    for ((i, j), (got, want)) in (0..a.len())
        .flat_map(|j| (0..a.len()).map(move |i| (i, j)))
        .zip(h.iter().zip(fd.iter()))
    {
        assert!((got - want).abs() < 1e-6, "({i}, {j}): {got} vs {want}");
    }
}

#[test]
fn nan_entries_and_empty_matrices() {
    let (v, g) = matrix::value_and_gradient(
        |m| m[0].symmetric_eigen().0.sum(),
        &[dmatrix![1.0, 0.0; f64::NAN, 1.0]],
    );
    // Every entry read is NaN; the upper triangle, never read, gets 0.
    let (read, unread) = ([g[0][(0, 0)], g[0][(1, 0)], g[0][(1, 1)]], g[0][(0, 1)]);
    assert!(
        v.is_nan() && read.iter().all(|d| d.is_nan()) && unread == 0.0,
        "{v} {}",
        g[0]
    );
    let (y, pb) = matrix::pullback(
        |m| {
            let (values, vectors) = m[0].symmetric_eigen();
            assert_eq!(vectors.shape(), (0, 0));
            values
        },
        &[DMatrix::<f64>::zeros(0, 0)],
    );
    assert_eq!(y.shape(), (0, 1));
    assert_eq!(pb.call(&DMatrix::zeros(0, 1))[0].shape(), (0, 0));
}

#[test]
fn a_non_square_matrix_panics_with_its_shape() {
    let refused = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| m[0].symmetric_eigen().0.sum(),
            &[DMatrix::<f64>::zeros(2, 3)],
        )
    });
    let message = refused
        .err()
        .map(crate::misuse::panic_message)
        .unwrap_or_default();
    assert!(
        message.contains("square") && message.contains("2×3"),
        "{message}"
    );
}

#[test]
fn values_and_vectors_are_a_decomposition() {
    let a = matrix(4, 4, 0.9);
    let lower = DMatrix::from_fn(4, 4, |i, j| a[(i.max(j), i.min(j))]);
    let (y, _) = matrix::pullback(
        |m| {
            let (values, vectors) = m[0].symmetric_eigen();
            MatVar::vcat(&[values.transpose(), vectors])
        },
        std::slice::from_ref(&a),
    );
    let (values, vectors) = (y.rows(0, 1).transpose(), y.rows(1, 4).into_owned());
    let back = &vectors * DMatrix::from_diagonal(&values.column(0)) * vectors.transpose();
    assert!((back - &lower).amax() < 1e-13);
}

/// Eigenvalues ascend (NumPy's, JAX's and PyTorch's `eigh` order), each with its own
/// eigenvector: the largest is the last row, and its gradient `v·vᵀ` (folded) follows it.
#[test]
fn eigenvalues_ascend_with_their_vectors() {
    for n in [2, 3, 5, 8] {
        let a = matrix(n, n, 0.3 + n as f64);
        let lower = DMatrix::from_fn(n, n, |i, j| a[(i.max(j), i.min(j))]);
        let (y, _) = matrix::pullback(
            |m| {
                let (values, vectors) = m[0].symmetric_eigen();
                MatVar::vcat(&[values.transpose(), vectors])
            },
            std::slice::from_ref(&a),
        );
        let (values, vectors) = (y.rows(0, 1).transpose(), y.rows(1, n).into_owned());
        assert!(
            values.as_slice().windows(2).all(|w| w[0] <= w[1]),
            "{values}"
        );
        for k in 0..n {
            let residual = &lower * vectors.column(k) - vectors.column(k) * values[k];
            assert!(residual.amax() < 1e-13, "n = {n}, pair {k}");
        }
        let g = matrix::gradient(
            |m| m[0].symmetric_eigen().0.rows(n - 1, 1),
            std::slice::from_ref(&a),
        );
        let top = vectors.column(n - 1);
        let outer = top * top.transpose();
        let folded = DMatrix::from_fn(n, n, |i, j| match i.cmp(&j) {
            std::cmp::Ordering::Greater => 2.0 * outer[(i, j)],
            std::cmp::Ordering::Equal => outer[(i, i)],
            std::cmp::Ordering::Less => 0.0,
        });
        assert!((&g[0] - folded).amax() < 1e-13, "n = {n}");
    }
}

/// Regression (a review's finding): `cᵀPc` with `P` the projector onto the three eigenvectors
/// of eigenvalues near 1 (two of them 1e-13 apart; the fourth, 3, far) is smooth, but its
/// gradient came out 2.78e13: the pair's two cotangent entries `(Vᵀ·V̄)ₖₗ` and `(Vᵀ·V̄)ₗₖ`
/// (equal) were judged against different thresholds, one zeroed as rounding and the other
/// kept, so their difference over the gap no longer cancelled. Reference: `cᵀPc = |c|² −
/// (cᵀv₃)²` through the well-separated top eigenvector alone, by forward mode (and the
/// review's mpmath value −0.668631).
#[test]
fn a_projector_onto_a_cluster_holding_a_near_pair_has_its_smooth_gradient() {
    let a: [f64; 16] = [
        1.0399204044472612,
        -0.11197366132398559,
        0.07284600340046833,
        0.2457692600012099,
        -0.11197366132398559,
        1.3140775000633205,
        -0.20432743171097198,
        -0.6893638545068782,
        0.07284600340046833,
        -0.20432743171097198,
        1.1329280172607432,
        0.44847512437989534,
        0.2457692600012099,
        -0.6893638545068782,
        0.44847512437989534,
        2.513074078228774,
    ];
    let d: [f64; 16] = [
        -0.6533705200045044,
        -0.860152766444698,
        -0.6632741170668036,
        -1.8292911421581637,
        -0.860152766444698,
        -2.7571493682718273,
        -1.8609397152446134,
        1.4455357005491594,
        -0.6632741170668036,
        -1.8609397152446134,
        0.6746526651500617,
        0.7752196456216243,
        -1.8292911421581637,
        1.4455357005491594,
        0.7752196456216243,
        -3.5220389486548056,
    ];
    let c = [
        0.06761709834450205,
        -0.4350834393045759,
        0.9557129678598352,
        -0.14757219772259983,
    ];
    // Through the top eigenvector only (forward mode; 2 away from the cluster).
    let a_dual = DMatrix::from_fn(4, 4, |i, j| {
        adroit_forward::Dual::new(a[4 * i + j], d[4 * i + j])
    });
    let (values, vectors) = adroit_forward::symmetric_eigen(&a_dual);
    let top = (0..4).find(|&k| values[k].value() > 2.0).unwrap();
    let p = (0..4).fold(adroit_forward::Dual::constant(0.0), |s, r| {
        s + vectors[(r, top)] * c[r]
    });
    let expected = -(p * p).tangent();
    assert!((expected + 0.668631).abs() < 1e-6, "{expected}");
    // The scalar tape, through the cluster's three eigenvectors.
    let g = adroit_reverse::gradient(
        |x: &[Var<f64>]| {
            let m = DMatrix::from_fn(4, 4, |i, j| x[0] * d[4 * i + j] + a[4 * i + j]);
            let (values, vectors) = adroit_reverse::symmetric_eigen(&m);
            (0..4)
                .filter(|&k| values[k].value() < 2.0)
                .fold(Var::constant(0.0), |s, k| {
                    let p = (0..4).fold(Var::constant(0.0), |t, r| t + vectors[(r, k)] * c[r]);
                    s + p * p
                })
        },
        &[0.0],
    );
    // What is left is the pair's rounding over its gap (ε/1e-13).
    assert!((g[0] - expected).abs() < 1e-2, "{} vs {expected}", g[0]);
    // The matrix tape (eigenvalues ascending: the cluster is the first three).
    let a_m = DMatrix::from_row_slice(4, 4, &a);
    let d_m = DMatrix::from_row_slice(4, 4, &d);
    let c_m = DMatrix::from_column_slice(4, 1, &c);
    // The gradient in the matrix (its lower triangle) contracted with the symmetric `D`.
    let (_, g) = matrix::value_and_gradient(
        |x| {
            let (_, vectors) = x[0].symmetric_eigen();
            let p = vectors
                .columns(0, 3)
                .transpose()
                .matmul(MatVar::constant(c_m.clone()));
            p.component_mul(p).sum()
        },
        &[a_m],
    );
    let directional = g[0].component_mul(&d_m).sum();
    assert!(
        (directional - expected).abs() < 1e-2,
        "{directional} vs {expected}"
    );
}
