//! The fixed-size (`SVector`) API against the slice API: the same numbers, f64 and f32.

use adroit_forward::{
    gradient, gradient_static, hessian, jacobian, jacobian_static, value_and_jacobian_static,
    value_gradient_and_hessian_static,
};
use nalgebra::{SVector, vector};
use num_traits::Float;

/// A planar three-link arm's end point and orientation `(x, y, sin φ, cos φ)` for joint angles
/// `q` and link lengths 1, 0.8, 0.5.
fn arm<S: Float>(q: &[S]) -> Vec<S> {
    let c = |v: f64| S::from(v).expect("a constant");
    let (a, b) = (q[0], q[0] + q[1]);
    let phi = b + q[2];
    let x = a.cos() + c(0.8) * b.cos() + c(0.5) * phi.cos();
    let y = a.sin() + c(0.8) * b.sin() + c(0.5) * phi.sin();
    vec![x, y, phi.sin(), phi.cos()]
}

fn rosenbrock<S: Float>(x: &[S]) -> S {
    let c = |v: f64| S::from(v).expect("a constant");
    (0..x.len() - 1).fold(S::zero(), |s, i| {
        let (a, b) = (c(1.0) - x[i], x[i + 1] - x[i] * x[i]);
        s + a * a + c(100.0) * b * b
    })
}

#[test]
fn fixed_size_results_equal_the_slice_api() {
    let q = vector![0.3, -1.1, 0.7];
    let (y, j) = value_and_jacobian_static(
        |q| SVector::<_, 4>::from_column_slice(&arm(q.as_slice())),
        &q,
    );
    assert_eq!(y.as_slice(), arm(q.as_slice()).as_slice());
    assert_eq!(j.as_slice(), jacobian(|q| arm(q), q.as_slice()).as_slice());
    let x = vector![-1.2, 1.0, 0.5, 2.0];
    let g = gradient_static(|x| rosenbrock(x.as_slice()), &x);
    assert_eq!(
        g.as_slice(),
        gradient(|x| rosenbrock(x), x.as_slice()).as_slice()
    );
    let (v, g2, h) = value_gradient_and_hessian_static(|x| rosenbrock(x.as_slice()), &x);
    assert_eq!(v, rosenbrock(x.as_slice()));
    assert_eq!(g2, g);
    assert_eq!(
        h.as_slice(),
        hessian(|x| rosenbrock(x), x.as_slice()).as_slice()
    );
    assert_eq!(h, h.transpose());
}

#[test]
fn fixed_size_works_in_f32() {
    let q = vector![0.3_f32, -1.1, 0.7];
    let j = jacobian_static(
        |q| SVector::<_, 4>::from_column_slice(&arm(q.as_slice())),
        &q,
    );
    let want = jacobian(|q| arm(q), q.as_slice());
    assert_eq!(j.as_slice(), want.as_slice());
}
