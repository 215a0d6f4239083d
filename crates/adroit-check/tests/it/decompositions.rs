//! `gradcheck` and `hessian_check` of code through nalgebra's decompositions and adroit's
//! exact-derivative SVD and eigendecomposition (`GenericFn`s bound by `Decompositions`), and
//! the checks catching nalgebra's own iteration on duals where its derivatives are wrong.

use adroit_check::adroit_forward::Decompositions;
use adroit_check::nalgebra::{DMatrix, DVector, Matrix3, convert};
use adroit_check::{GenericFn, Mode, Options, gradcheck, hessian_check};
use proptest::test_runner::TestCaseError;

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

/// Sign-invariant quantities of the SVD of the 3 × 3 matrix `x` (column-major): a weighted
/// sum of the singular values and products of singular-vector entries of one singular pair.
struct SvdQuantities;

impl GenericFn for SvdQuantities {
    fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
        let (u, s, v_t) = S::svd(&DMatrix::from_column_slice(3, 3, x));
        let half = convert::<f64, S>(0.5);
        vec![
            s[0] + half * s[1] + half * half * s[2],
            u[(0, 0)] * v_t[(0, 1)],
            u[(1, 1)] * u[(2, 1)],
            v_t[(2, 0)] * v_t[(2, 2)],
        ]
    }
}

/// Order- and sign-invariant quantities of the eigendecomposition of the symmetric matrix
/// whose lower triangle `x` holds: `Σλᵢ³` and entries of the largest eigenvalue's projector.
struct EigenQuantities;

impl GenericFn for EigenQuantities {
    fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
        let (values, vectors) = S::symmetric_eigen(&DMatrix::from_column_slice(3, 3, x));
        let k = (0..3).fold(0, |k, i| if values[i] > values[k] { i } else { k });
        let cubes = values.iter().fold(S::zero(), |acc, &v| acc + v * v * v);
        vec![
            cubes,
            vectors[(0, k)] * vectors[(1, k)],
            vectors[(2, k)] * vectors[(2, k)],
        ]
    }
}

/// The smallest gap between the sorted `values`, relative to the largest magnitude.
fn relative_gap(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let scale = values.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
    values
        .windows(2)
        .fold(f64::INFINITY, |g, w| g.min(w[1] - w[0]))
        / scale
}

/// A random 3 × 3 point, made diagonal (`structure` 2) or upper triangular (1) in value — the
/// points where nalgebra's iterations on duals lose tangents — or left general (0).
fn structured(entries: &[f64], structure: u8) -> Vec<f64> {
    let mut x = entries.to_vec();
    for j in 0..3 {
        for i in 0..3 {
            let zero = match structure {
                2 => i != j,
                1 => i > j,
                _ => false,
            };
            if zero {
                x[i + 3 * j] = 0.0;
            }
        }
    }
    x
}

proptest::proptest! {
    #![proptest_config(adroit_check::strategy::config(24))]

    /// `S::svd` and `S::symmetric_eigen` pass `gradcheck` and `hessian_check` (forward,
    /// reverse, forward-over-reverse and central differences agree) at random points with
    /// well-separated values, including diagonal and triangular ones perturbed off their
    /// structure.
    #[test]
    fn decompositions_pass_both_checks(
        entries in proptest::collection::vec(-2.0..2.0_f64, 9),
        structure in 0..3_u8,
    ) {
        let x = structured(&entries, structure);
        let a = DMatrix::from_column_slice(3, 3, &x);
        let singular = a.clone().svd(false, false).singular_values;
        let smallest = singular.iter().fold(f64::INFINITY, |m, &v| m.min(v));
        proptest::prop_assume!(relative_gap(singular.iter().copied().collect()) > 0.05);
        proptest::prop_assume!(smallest > 0.05 * singular.max());
        // Central differences lose about 1e-6 of relative accuracy to the curvature (∝ 1/gap)
        // of singular-vector quantities (a 5000-case run: 1.5e-6 at a 9 % gap).
        let options = Options::for_precision::<f64>()
            .with_fd_tolerance(adroit_check::Tolerance::new(1e-6, 1e-5));
        let check = |what: &str, f: &dyn Fn() -> Result<adroit_check::Report, Box<adroit_check::Mismatch>>| {
            f().map(|_| ()).map_err(|m| TestCaseError::fail(format!("{what} at {x:?}: {m}")))
        };
        check("svd gradcheck", &|| gradcheck(&SvdQuantities, &x, &options))?;
        check("svd hessian_check", &|| hessian_check(&SvdQuantities, &x, &options))?;
        let symmetric = Matrix3::from_fn(|i, j| x[i.max(j) + 3 * i.min(j)]);
        let eigenvalues = symmetric.symmetric_eigenvalues();
        proptest::prop_assume!(relative_gap(eigenvalues.iter().copied().collect()) > 0.05);
        check("eigen gradcheck", &|| gradcheck(&EigenQuantities, &x, &options))?;
        check("eigen hessian_check", &|| hessian_check(&EigenQuantities, &x, &options))?;
    }
}

/// A mixture of singular values and singular-vector products of the 3 × 3 matrix `x`
/// (row-major): Σ (0.3 + 0.2i)·σᵢ² + 0.1·ln σᵢ + (0.5 + i)·u₂ᵢu₀ᵢ + (0.25 + i)·vᵢ₂vᵢ₀ + u₂ᵢσᵢvᵢ₀.
struct SvdMixture;

impl GenericFn for SvdMixture {
    fn eval<S: Decompositions>(&self, x: &[S]) -> Vec<S> {
        let c = |v: f64| convert::<f64, S>(v);
        let (u, s, v_t) = S::svd(&DMatrix::from_row_slice(3, 3, x));
        let mut sum = S::zero();
        for i in 0..3 {
            let k = i as f64;
            sum += s[i] * s[i] * c(0.3 + 0.2 * k) + s[i].ln() * c(0.1);
            sum += u[(2, i)] * u[(0, i)] * c(0.5 + k) + v_t[(i, 2)] * v_t[(i, 0)] * c(0.25 + k);
            sum += u[(2, i)] * v_t[(i, 0)] * s[i];
        }
        vec![sum]
    }
}

/// At singular values 3 % apart (2.577, 2.499, 1.402) the fast check in `f32` used to reject
/// this correct code (`vᵀHu` −0.3066 against −0.3121 by differences in `f64`), which an audit
/// took for `f32` rounding of the Hessian's large entries: it was nalgebra's `f32` SVD there,
/// which reproduces the matrix only to 4e-5 (30 times the rounding of a backward-stable one)
/// and is now checked and recomputed (adroit-forward's `svd`). Every check passes at that
/// point, fast and full, `f32` and `f64`.
#[test]
fn fast_hessian_check_in_f32_passes_at_close_singular_values() {
    let x64 = [0.9, 2.0, -1.0, 1.5, 0.3, 0.7, -0.4, 1.1, 2.2_f64];
    let x32 = x64.map(|v| v as f32);
    let a = DMatrix::from_row_slice(3, 3, &x32);
    let plain = a.clone().svd(true, true);
    let (u, v_t) = (plain.u.unwrap(), plain.v_t.unwrap());
    let off = (&u * DMatrix::from_diagonal(&plain.singular_values) * &v_t - &a).amax();
    assert!(
        off > 2e-5,
        "the premise: nalgebra's f32 SVD is off by {off}"
    );
    for seed in 0..4 {
        let fast = Mode::Fast { seed, trials: 1 };
        hessian_check(
            &SvdMixture,
            &x32,
            &Options::for_precision::<f32>().with_mode(fast),
        )
        .unwrap();
    }
    hessian_check(&SvdMixture, &x32, &Options::for_precision::<f32>()).unwrap();
    let x64 = x32.map(f64::from);
    let fast = Mode::Fast { seed: 3, trials: 1 };
    hessian_check(
        &SvdMixture,
        &x64,
        &Options::for_precision::<f64>().with_mode(fast),
    )
    .unwrap();
    hessian_check(&SvdMixture, &x64, &Options::for_precision::<f64>()).unwrap();
}
