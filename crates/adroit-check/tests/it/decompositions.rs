//! `gradcheck` and `hessian_check` of code through nalgebra's decompositions and adroit's
//! exact-derivative SVD and eigendecomposition (`GenericFn`s bound by `Decompositions`), and
//! the checks catching nalgebra's own iteration on duals where its derivatives are wrong.

use adroit_check::adroit_forward::Decompositions;
use adroit_check::nalgebra::{DMatrix, DVector, convert};
use adroit_check::{GenericFn, Mode, Options, gradcheck, hessian_check};

/// `A(x) = B·Bᵀ + diag(e^x)` (3 × 3, SPD) for a fixed `B`.
fn spd<S: Decompositions>(x: &[S]) -> DMatrix<S> {
    let b = DMatrix::from_row_slice(3, 3, &[1.0, 0.0, 0.0, 0.5, 0.8, 0.0, -0.3, 0.2, 0.6]);
    let b = b.map(|v| convert::<f64, S>(v));
    let mut a = &b * b.transpose();
    for d in 0..3 {
        a[(d, d)] += x[d].exp();
    }
    a
}

/// Which decomposition a [`Nll`] goes through.
#[derive(Clone, Copy, Debug)]
enum Route {
    Cholesky,
    Lu,
    Eigen,
    Svd,
}

/// `½ ln det A + ½ yᵀA⁻¹y` and `A⁻¹y` (4 outputs) through one decomposition.
struct Nll(Route);

impl GenericFn for Nll {
    fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
        let a = spd(x);
        let c = |v: f64| convert::<f64, S>(v);
        let y = DVector::from_vec(vec![c(0.7), c(-1.2), c(0.4)]);
        let (ln_det, z) = match self.0 {
            Route::Cholesky => {
                let chol = a.cholesky().expect("positive definite");
                let ln_det = chol
                    .l()
                    .diagonal()
                    .iter()
                    .fold(S::zero(), |s, d| s + d.ln());
                (ln_det * c(2.0), chol.solve(&y))
            }
            Route::Lu => {
                let lu = a.lu();
                (lu.determinant().ln(), lu.solve(&y).expect("invertible"))
            }
            Route::Eigen => {
                let (values, vectors) = S::symmetric_eigen(&a);
                let ln_det = values.iter().fold(S::zero(), |s, v| s + v.ln());
                let scaled = DVector::from_fn(3, |i, _| vectors.column(i).dot(&y) / values[i]);
                (ln_det, &vectors * scaled)
            }
            Route::Svd => {
                let (u, s, v_t) = S::svd(&a);
                let ln_det = s.iter().fold(S::zero(), |acc, v| acc + v.ln());
                let scaled = DVector::from_fn(3, |i, _| u.column(i).dot(&y) / s[i]);
                (ln_det, v_t.transpose() * scaled)
            }
        };
        let value = c(0.5) * (ln_det + y.dot(&z));
        vec![value, z[0], z[1], z[2]]
    }
}

#[test]
fn gradcheck_and_hessian_check_pass_through_every_decomposition() {
    let x = [0.1, -0.4, 0.3];
    for route in [Route::Cholesky, Route::Lu, Route::Eigen, Route::Svd] {
        let f = Nll(route);
        let full = Options::for_precision::<f64>();
        let fast = full.clone().with_mode(Mode::Fast { seed: 7, trials: 4 });
        for options in [&full, &fast] {
            gradcheck(&f, &x, options).unwrap_or_else(|m| panic!("{route:?} gradcheck: {m}"));
            hessian_check(&f, &x, options)
                .unwrap_or_else(|m| panic!("{route:?} hessian_check: {m}"));
        }
        let x32 = [0.1_f32, -0.4, 0.3];
        let options = Options::for_precision::<f32>();
        gradcheck(&f, &x32, &options).unwrap_or_else(|m| panic!("{route:?} f32 gradcheck: {m}"));
    }
}

/// The product of the components of the eigenvector of the largest eigenvalue of
/// `[[2 + x₀, x₁], [x₁, 1]]` (its sign cancels), by nalgebra's own `symmetric_eigen` (its
/// iteration, differentiated) or by `S::symmetric_eigen` (exact derivatives).
struct EigenvectorProduct {
    nalgebras_own: bool,
}

impl GenericFn for EigenvectorProduct {
    fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
        let two = S::one() + S::one();
        let a = DMatrix::from_row_slice(2, 2, &[two + x[0], x[1], x[1], S::one()]);
        let (values, vectors) = if self.nalgebras_own {
            let e = a.symmetric_eigen();
            (e.eigenvalues, e.eigenvectors)
        } else {
            S::symmetric_eigen(&a)
        };
        let k = if values[0] > values[1] { 0 } else { 1 };
        vec![vectors[(0, k)] * vectors[(1, k)]]
    }
}

/// At a diagonal matrix nalgebra's iteration on duals drops the eigenvectors' tangents: the
/// derivative in `x₁` comes out 0 in both modes, against 1 (the eigenvector is
/// `(1, x₁/(2 − 1)) + O(x₁²)`), and `gradcheck` says so against central differences; with
/// `S::symmetric_eigen` it passes.
#[test]
fn gradcheck_catches_nalgebras_eigenvectors_on_duals_at_a_diagonal_matrix() {
    let x = [0.0, 0.0];
    let options = Options::for_precision::<f64>();
    gradcheck(
        &EigenvectorProduct {
            nalgebras_own: false,
        },
        &x,
        &options,
    )
    .unwrap_or_else(|m| panic!("exact eigendecomposition: {m}"));
    let mismatch = gradcheck(
        &EigenvectorProduct {
            nalgebras_own: true,
        },
        &x,
        &options,
    )
    .expect_err("nalgebra's symmetric_eigen on duals loses the eigenvector tangent here");
    assert_eq!(mismatch.input, Some(1), "{mismatch}");
    assert!(
        mismatch
            .finite_difference
            .is_some_and(|d| (d.abs() - 1.0).abs() < 1e-6),
        "{mismatch}"
    );
}
