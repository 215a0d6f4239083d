//! Single precision: correct code through nalgebra's Cholesky passes `gradcheck` and
//! `hessian_check` at moderately conditioned points (a user trial's false alarms).

use adroit_check::adroit_forward::Decompositions;
use adroit_check::nalgebra::{self, DMatrix, DVector};
use adroit_check::{GenericFn, Options, gradcheck, hessian_check};

/// The negative log-likelihood (up to constants) of `y = (0.5, −1, 2)` under a Gaussian with
/// covariance `L·Lᵀ + 0.1·I`, `L` lower triangular with diagonal `exp θ₀, exp θ₂, exp θ₅`.
struct GaussianNll;

impl GenericFn for GaussianNll {
    fn eval<S: Decompositions>(&self, t: &[S]) -> Vec<S> {
        let k = |v: f64| nalgebra::convert::<f64, S>(v);
        let z = S::zero();
        let l = DMatrix::from_row_slice(
            3,
            3,
            &[
                t[0].exp(),
                z,
                z,
                t[1],
                t[2].exp(),
                z,
                t[3],
                t[4],
                t[5].exp(),
            ],
        );
        let sigma = &l * l.transpose() + DMatrix::identity(3, 3) * k(0.1);
        let chol = sigma.cholesky().expect("positive definite");
        let y = DVector::from_column_slice(&[k(0.5), k(-1.0), k(2.0)]);
        let w = chol.l().solve_lower_triangular(&y).expect("regular");
        let logdet = chol.l().diagonal().iter().fold(z, |a, &d| a + d.ln());
        vec![w.norm_squared() * k(0.5) + logdet]
    }
}

#[test]
fn moderately_conditioned_f32_points_pass() {
    let options = Options::for_precision::<f32>();
    // cond(Σ) 166: forward −0.0811416, reverse −0.0810943, f64 −0.0811458
    let x = [
        1.3502907_f32,
        -1.39968,
        1.0217849,
        -0.7003592,
        1.1054381,
        -1.9539545,
    ];
    gradcheck(&GaussianNll, &x, &options).unwrap();
    // cond(Σ) 20: H₀₀ 0.0147773 forward-over-forward, 0.0147543 forward-over-reverse
    let x = [
        0.19783367_f32,
        -0.70642155,
        -0.8027721,
        0.556359,
        0.93006456,
        -0.775747,
    ];
    hessian_check(&GaussianNll, &x, &options).unwrap();
}

/// The false-alarm rate over 1000 points in [−2, 2)⁶ (run by hand: `--ignored --nocapture`).
#[test]
#[ignore = "a measurement"]
fn false_alarm_rate_in_f32() {
    let options = Options::for_precision::<f32>();
    let mut state = 7_u64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((state >> 40) as f32 / (1u64 << 24) as f32) * 4.0 - 2.0
    };
    let (mut g, mut h) = (0, 0);
    for _ in 0..1000 {
        let x: Vec<f32> = (0..6).map(|_| next()).collect();
        g += usize::from(gradcheck(&GaussianNll, &x, &options).is_err());
        h += usize::from(hessian_check(&GaussianNll, &x, &options).is_err());
    }
    println!("false alarms in 1000: gradcheck {g}, hessian_check {h}");
}
