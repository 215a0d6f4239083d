//! The edge conventions of the rule table hold in reverse mode too.

use adroit_reverse::{Var, gradient};
use num_traits::Float;

fn c<T: Float>(x: f64) -> T {
    T::from(x).unwrap()
}

fn conventions<T: adroit_reverse::TapeScalar>() {
    let (zero, one, half) = (T::zero(), T::one(), c::<T>(0.5));
    assert_eq!(gradient(|x| x[0].abs(), &[zero]), vec![zero], "abs'(0)");
    assert_eq!(
        gradient(|x| x[0].signum(), &[c::<T>(3.0)]),
        vec![zero],
        "signum'"
    );
    assert_eq!(
        gradient(|x| x[0].max(x[1]), &[one, one]),
        vec![half, half],
        "max tie"
    );
    assert_eq!(
        gradient(|x| x[0].min(x[1]), &[one, one]),
        vec![half, half],
        "min tie"
    );
    let clamp = |x: &[Var<T>]| x[0].clamp(Var::constant(zero), Var::constant(one));
    assert_eq!(
        gradient(clamp, &[one]),
        vec![one],
        "clamp at the upper bound"
    );
    assert_eq!(
        gradient(clamp, &[zero]),
        vec![one],
        "clamp at the lower bound"
    );
    assert_eq!(gradient(clamp, &[c::<T>(2.0)]), vec![zero], "clamp outside");
    assert_eq!(
        gradient(|x| x[0].sqrt(), &[zero]),
        vec![T::infinity()],
        "sqrt'(0)"
    );
    assert_eq!(
        gradient(|x| x[0].hypot(x[1]), &[zero, zero]),
        vec![zero, zero],
        "hypot(0, 0)"
    );
    assert_eq!(
        gradient(|x| x[0].atan2(x[1]), &[zero, zero]),
        vec![zero, zero],
        "atan2(0, 0)"
    );
    assert_eq!(
        gradient(|x| x[0].powf(x[1]), &[zero, c::<T>(2.5)]),
        vec![zero, zero],
        "0^2.5"
    );
    assert_eq!(
        gradient(|x| x[0].powf(x[1]), &[zero, one]),
        vec![one, zero],
        "0^1"
    );
    assert_eq!(
        gradient(|x| x[0].powf(x[1]), &[zero, half]),
        vec![T::infinity(), zero]
    );
    assert_eq!(
        gradient(|x| x[0].powf(x[1]), &[zero, zero]),
        vec![zero, T::neg_infinity()]
    );
    let g: Vec<T> = gradient(|x| x[0].cbrt(), &[c(-8.0)]);
    assert!((g[0] - c::<T>(1.0 / 12.0)).abs() <= T::epsilon() * c::<T>(4.0));
    assert_eq!(
        gradient(|x| x[0].floor() + x[0].round(), &[c::<T>(2.5)]),
        vec![zero]
    );
    // ReLU-like kinks have derivative 0 there: abs_sub(x, y) = max(x − y, 0) at the tie,
    // copysign at x = ±0; and 1/−1 beyond them.
    assert_eq!(
        gradient(|x| x[0].abs_sub(x[1]), &[c::<T>(2.0), c(2.0)]),
        vec![zero; 2]
    );
    assert_eq!(
        gradient(|x| x[0].abs_sub(x[1]), &[c::<T>(3.0), c(2.0)]),
        vec![one, -one]
    );
    assert_eq!(
        gradient(|x| x[0].abs_sub(x[1]), &[c::<T>(1.0), c(2.0)]),
        vec![zero; 2]
    );
    for (x, s) in [(0.0, 1.0), (-0.0, 1.0), (0.0, -1.0), (-0.0, -1.0)] {
        assert_eq!(
            gradient(|v| v[0].copysign(v[1]), &[c::<T>(x), c(s)]),
            vec![zero; 2],
            "copysign at ({x}, {s})"
        );
    }
    assert_eq!(
        gradient(|v| v[0].copysign(v[1]), &[c::<T>(-2.0), c(-1.0)]),
        vec![one, zero]
    );
    // A zero adjoint is never multiplied by an infinite partial.
    assert_eq!(
        gradient(|x| x[0].sqrt() * zero_var() + x[1], &[zero, one]),
        vec![zero, one]
    );
}

fn zero_var<T: adroit_reverse::TapeScalar>() -> Var<T> {
    Var::constant(T::zero())
}

#[test]
fn conventions_f64() {
    conventions::<f64>();
}

#[test]
fn conventions_f32() {
    conventions::<f32>();
}

/// The documented difference of accumulation order (crate docs, "one rule table"): an infinite
/// partial meeting a cancellation of two nodes is finite in forward mode, NaN in reverse mode;
/// a cancellation within one folded chain (`x − x·1`, one node) is finite in both.
#[test]
fn infinite_partial_meeting_a_cancellation() {
    let f = |v: &[Var<f64>]| (v[0] * v[1] - v[1] * v[0]).cbrt() + v[0];
    let forward =
        adroit_forward::gradient(|v| (v[0] * v[1] - v[1] * v[0]).cbrt() + v[0], &[1.0, 1.0]);
    let reverse = gradient(f, &[1.0, 1.0]);
    assert_eq!(forward, vec![1.0, 0.0]);
    assert!(reverse.iter().all(|g| g.is_nan()), "{reverse:?}");
    let forward = adroit_forward::derivative(|x| (x - x * 1.0).cbrt() + x, 1.0);
    let reverse = gradient(|x| (x[0] - x[0] * 1.0).cbrt() + x[0], &[1.0]);
    assert_eq!(forward, 1.0);
    assert_eq!(reverse, vec![1.0]);
}

/// A norm written `sqrt(Σ xᵢ²)` at the zero vector has gradient 0 (the adjoint `+∞` of `Σ xᵢ²`
/// meets the zero partials `2xᵢ`), as `hypot`'s; its Hessian is `+∞` on the diagonal
/// (README, "Conventions"; forward mode agrees, adroit-forward's `a_norm_at_the_zero_vector`).
#[test]
fn a_norm_at_the_zero_vector() {
    fn sqrt_norm<S: Float>(x: &[S]) -> S {
        x.iter().fold(S::zero(), |s, &v| s + v * v).sqrt()
    }
    assert_eq!(gradient(|x| sqrt_norm(x), &[0.0, 0.0]), vec![0.0; 2]);
    let h = adroit_reverse::hessian(|x| sqrt_norm(x), &[0.0, 0.0]);
    assert_eq!((h[(0, 0)], h[(1, 1)]), (f64::INFINITY, f64::INFINITY));
    // its square: Hessian 0 there (exact 2I), the README's warning
    let h = adroit_reverse::hessian(
        |x| {
            let n = sqrt_norm(x);
            n * n
        },
        &[0.0, 0.0],
    );
    assert!(h.iter().all(|&v| v == 0.0), "{h}");
}
