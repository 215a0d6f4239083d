//! `MatVar::svd` against the scalar tape's `svd` (the same rule), central finite differences
//! of nalgebra's decomposition, second derivatives, NaN and empty matrices.

use crate::matrices::matrix;
use crate::matrix_linear_solve::{differences, gradient_differences};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use adroit_reverse::{TapeScalar, Var};
use nalgebra::{DMatrix, RealField, dmatrix};
use num_traits::Float;

/// `Σₖ sin(σₖ)·U₀ₖ·Vᵀₖ,ₙ₋₁ + Σₖ σₖ²·U₀ₖ²`: reads all three factors, independent of the order
/// of the singular triples and of each pair's common sign.
fn spectral<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let n = m[0].ncols();
    let (u, s, v_t) = m[0].svd();
    let first_row = u.rows(0, 1);
    let last_column = v_t.columns(n - 1, 1).transpose();
    let mixed = first_row
        .component_mul(last_column)
        .matmul(s.map(|x| x.sin()));
    let squares = first_row
        .component_mul(first_row)
        .matmul(s.component_mul(s));
    mixed + squares
}

/// [`spectral`] on the scalar tape.
fn spectral_scalar<T: TapeScalar + RealField>(x: &[Var<T>], rows: usize, cols: usize) -> Var<T> {
    let (u, s, v_t) = adroit_reverse::svd(&DMatrix::from_column_slice(rows, cols, x));
    (0..s.len()).fold(x[0] * T::zero(), |t, k| {
        t + s[k].sin() * u[(0, k)] * v_t[(k, cols - 1)] + s[k] * s[k] * u[(0, k)] * u[(0, k)]
    })
}

/// [`spectral`] of plain numbers, through nalgebra's decomposition.
fn spectral_plain(a: &DMatrix<f64>) -> f64 {
    let n = a.ncols();
    let svd = a.clone().svd(true, true);
    let (u, v_t) = (svd.u.expect("U"), svd.v_t.expect("Vᵀ"));
    (0..svd.singular_values.len())
        .map(|k| {
            let s = svd.singular_values[k];
            s.sin() * u[(0, k)] * v_t[(k, n - 1)] + s * s * u[(0, k)] * u[(0, k)]
        })
        .sum()
}

#[test]
fn gradients_match_the_scalar_tape_and_finite_differences() {
    for (rows, cols) in [(3, 3), (4, 2), (2, 5), (1, 1), (1, 3)] {
        let a = matrix(rows, cols, 0.6);
        let (v, g) = matrix::value_and_gradient(spectral, std::slice::from_ref(&a));
        assert!((v - spectral_plain(&a)).abs() < 1e-13, "{rows}×{cols}: {v}");
        let scalar = adroit_reverse::gradient(|x| spectral_scalar(x, rows, cols), a.as_slice());
        for (m, s) in g[0].iter().zip(&scalar) {
            assert!((m - s).abs() < 1e-13, "{rows}×{cols}: {m} vs {s}");
        }
        let fd = differences(spectral_plain, &a);
        for (idx, (got, want)) in g[0].iter().zip(fd.iter()).enumerate() {
            assert!(
                (got - want).abs() < 1e-7,
                "{rows}×{cols} [{idx}]: {got} vs {want}"
            );
        }
    }
}

#[test]
fn the_factors_reconstruct_the_matrix_and_have_their_shapes() {
    let a = matrix(4, 3, 0.1);
    let (y, _) = matrix::pullback(
        |m| {
            let (u, s, v_t) = m[0].svd();
            assert_eq!(
                (u.shape(), s.shape(), v_t.shape()),
                ((4, 3), (3, 1), (3, 3))
            );
            u * MatVar::from_diagonal(s) * v_t
        },
        std::slice::from_ref(&a),
    );
    assert!((y - &a).amax() < 1e-14);
}

/// The orthogonal polar factor `U·Vᵀ` of a square matrix: its gradient through the vectors
/// against central differences (only `U` and `Vᵀ` get cotangents).
#[test]
fn the_polar_factor_matches_finite_differences() {
    let a = matrix(3, 3, 0.8);
    let w = matrix(3, 3, 0.3);
    let polar = |a: &DMatrix<f64>| {
        let svd = a.clone().svd(true, true);
        (svd.u.expect("U") * svd.v_t.expect("Vᵀ"))
            .component_mul(&w)
            .sum()
    };
    let g = matrix::gradient(
        |m| {
            let (u, _, v_t) = m[0].svd();
            u.matmul(v_t).weighted_sum(w.clone())
        },
        std::slice::from_ref(&a),
    );
    let fd = differences(polar, &a);
    assert!((&g[0] - &fd).amax() < 1e-7, "{}\n{fd}", g[0]);
}

#[test]
fn hessian_matches_the_scalar_tape_and_differences_of_the_gradient() {
    let (rows, cols) = (3, 2);
    let a = matrix(rows, cols, 0.45);
    let h = matrix::hessian(spectral, std::slice::from_ref(&a));
    let scalar = adroit_reverse::hessian(|x| spectral_scalar(x, rows, cols), a.as_slice());
    assert!((&h - &scalar).amax() < 1e-11, "{h}\n{scalar}");
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
    let (v, g) =
        matrix::value_and_gradient(|m| m[0].svd().1.sum(), &[dmatrix![1.0, f64::NAN; 0.5, 2.0]]);
    assert!(
        v.is_nan() && g[0].iter().all(|d| d.is_nan()),
        "{v} {}",
        g[0]
    );
    for (rows, cols) in [(0, 3), (2, 0)] {
        let (y, pb) = matrix::pullback(
            |m| {
                let (u, s, v_t) = m[0].svd();
                assert_eq!(
                    (u.shape(), s.shape(), v_t.shape()),
                    ((rows, 0), (0, 1), (0, cols))
                );
                s
            },
            &[DMatrix::<f64>::zeros(rows, cols)],
        );
        assert_eq!(y.shape(), (0, 1));
        assert_eq!(pb.call(&DMatrix::zeros(0, 1))[0].shape(), (rows, cols));
    }
}

/// `cᵀ·U·Σ·Vᵀ·d`, a linear function of the matrix written through its SVD.
fn bilinear<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
    let (rows, cols) = m[0].shape();
    let cast = |v: f64| T::from(v).unwrap_or_else(T::zero);
    let c = MatVar::constant(DMatrix::from_fn(1, rows, |_, i| {
        cast((1.3 * i as f64 + 0.5).cos())
    }));
    let d = MatVar::constant(DMatrix::from_fn(cols, 1, |j, _| {
        cast((0.7 * j as f64 + 0.2).sin() + 0.3)
    }));
    let (u, s, v_t) = m[0].svd();
    (c * u)
        .component_mul(s.transpose())
        .component_mul((v_t * d).transpose())
        .sum()
}

/// From a subagent's hunt against JAX: at a tall or wide matrix with a zero singular value,
/// `value_gradient_and_hessian` gave an all-NaN gradient where `gradient`'s is finite — the
/// dual numbers' `0/0` in the zero convention. Its value and gradient are the primal parts of
/// its results, so they must be `gradient`'s, to rounding. (Both are off the exact `c·dᵀ`
/// there, and the Hessian is NaN: the singular vectors of a zero singular value of a
/// non-square matrix are not differentiable; documented on `MatVar::svd`.)
#[test]
fn second_order_at_a_zero_singular_value_of_a_non_square_matrix_keeps_the_gradient() {
    let tall = dmatrix![1.0, 2.0, 3.0; 2.0, 1.0, 0.0; 3.0, 3.0, 3.0; 0.0, 1.0, 2.0];
    let wide = dmatrix![1.0, 2.0, 3.0, 0.0; 2.0, 1.0, 0.0, 1.0; 3.0, 3.0, 3.0, 1.0];
    for a in [tall, wide] {
        let s = a.clone().svd(false, false).singular_values;
        assert!(s.min() < 1e-14 * s.max(), "rank 2: {s}");
        let (value, gradient) = matrix::value_and_gradient(bilinear, std::slice::from_ref(&a));
        let (v2, g2, _) = matrix::value_gradient_and_hessian(bilinear, std::slice::from_ref(&a));
        assert!((v2 - value).abs() <= 1e-14 * value.abs(), "{v2} {value}");
        assert!(gradient[0].iter().all(|g| g.is_finite()), "{}", gradient[0]);
        // the same to rounding (the dual entries' products are not the plain kernels')
        assert!(
            (&g2[0] - &gradient[0]).amax() < 1e-14,
            "{} {}",
            g2[0],
            gradient[0]
        );
    }
}

/// From a review of the change above: at tied singular values (`I₂`) the dual numbers' `0/0`
/// between the pair must stay NaN — a function of `U·S·Vᵀ` weighted entry by entry mixes the
/// pair under a turning direction, and reading that `0/0` as 0 gave a finite Hessian-vector
/// product 10 % off (2.75 for 2.5 and 3.0) where the documented answer at a repeated singular
/// value is infinite or NaN. (The NaN reaches the gradient's values under dual numbers too;
/// `matrix::gradient`'s is finite there.)
#[test]
fn a_tie_keeps_its_nan_second_derivative() {
    fn weighted<T: MatScalar>(m: &[MatVar<T>]) -> MatVar<T> {
        let (rows, cols) = m[0].shape();
        let w = DMatrix::from_fn(rows, cols, |i, j| {
            T::from(1.0 + 0.5 * i as f64 + 0.25 * j as f64).unwrap_or_else(T::one)
        });
        let (u, s, v_t) = m[0].svd();
        let a = u * MatVar::from_diagonal(s) * v_t;
        a.component_mul(a).component_mul(MatVar::constant(w)).sum()
    }
    let a = DMatrix::<f64>::identity(2, 2);
    let turning = dmatrix![0.0, 1.0; -1.0, 0.0] * &a;
    let (_, _, hv) = matrix::value_gradient_and_hvp(
        |m| weighted(m),
        std::slice::from_ref(&a),
        std::slice::from_ref(&turning),
    );
    assert!(hv[0].iter().any(|v| v.is_nan()), "{}", hv[0]);
    let g = matrix::gradient(|m| weighted(m), std::slice::from_ref(&a));
    assert!(g[0].iter().all(|v| v.is_finite()), "{}", g[0]);
}
