//! The API functions against analytic derivatives and against each other.

use adroit_forward::{
    Dual, DualVec, derivative, gradient, gradient_chunked, gradient_chunked_into, hessian,
    hessian_chunked, hvp, jacobian, jacobian_chunked, jvp, second_derivative, value_and_derivative,
    value_and_gradient, value_gradient_and_hessian, value_gradient_and_hessian_chunked,
};
use nalgebra::{DMatrix, DVector, dmatrix};
use num_traits::Float;

/// Extended Rosenbrock, written once for any `Float`.
fn rosenbrock<S: Float>(x: &[S]) -> S {
    let hundred = S::from(100.0).unwrap();
    x.chunks_exact(2)
        .map(|p| {
            let u = p[1] - p[0] * p[0];
            let v = S::one() - p[0];
            hundred * u * u + v * v
        })
        .fold(S::zero(), |acc, t| acc + t)
}

fn rosenbrock_gradient(x: &[f64]) -> Vec<f64> {
    x.chunks_exact(2)
        .flat_map(|p| {
            let u = p[1] - p[0] * p[0];
            [-400.0 * u * p[0] - 2.0 * (1.0 - p[0]), 200.0 * u]
        })
        .collect()
}

fn rosenbrock_hessian(x: &[f64]) -> DMatrix<f64> {
    let mut h = DMatrix::zeros(x.len(), x.len());
    for k in (0..x.len()).step_by(2) {
        let (a, b) = (x[k], x[k + 1]);
        h[(k, k)] = 1200.0 * a * a - 400.0 * b + 2.0;
        h[(k, k + 1)] = -400.0 * a;
        h[(k + 1, k)] = -400.0 * a;
        h[(k + 1, k + 1)] = 200.0;
    }
    h
}

fn point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + 0.17 * i as f64 - 0.05 * (i % 3) as f64)
        .collect()
}

fn assert_vec_close(a: &[f64], b: &[f64], rtol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-12 + rtol * y.abs(),
            "entry {i}: {x} vs {y}"
        );
    }
}

#[test]
fn quick_start_example() {
    let d = derivative(|x| 3.0 * x * x + 2.0 * x + 1.0, 5.0);
    assert_eq!(d, 32.0);
    let d32 = derivative(|x| 3.0_f32 * x * x + 2.0 * x + 1.0, 5.0_f32);
    assert_eq!(d32, 32.0);
}

#[test]
fn value_and_derivative_and_second() {
    let (v, d) = value_and_derivative(|x| x.exp() * x, 1.0_f64);
    let e = 1.0_f64.exp();
    assert_eq!(v, e);
    assert!((d - 2.0 * e).abs() < 1e-15);
    let d2 = second_derivative(|x| x.exp() * x, 1.0_f64);
    assert!((d2 - 3.0 * e).abs() < 1e-14);
}

#[test]
fn generic_code_differentiates_without_annotations() {
    let x = point(10);
    let g = gradient(|x| rosenbrock(x), &x);
    assert_vec_close(&g, &rosenbrock_gradient(&x), 1e-14);
    let (v, g2) = value_and_gradient(|x| rosenbrock(x), &x);
    assert_eq!(v, rosenbrock(&x));
    assert_eq!(g, g2);
}

#[test]
fn chunked_gradient_matches_for_every_chunk_size() {
    for n in [2, 6, 10, 17] {
        let x = point(n);
        let expected = gradient(|x| rosenbrock(x), &x);
        assert_eq!(gradient_chunked::<1, _, _>(|x| rosenbrock(x), &x), expected);
        assert_eq!(gradient_chunked::<3, _, _>(|x| rosenbrock(x), &x), expected);
        assert_eq!(gradient_chunked::<8, _, _>(|x| rosenbrock(x), &x), expected);
        assert_eq!(
            gradient_chunked::<32, _, _>(|x| rosenbrock(x), &x),
            expected
        );
    }
}

#[test]
fn gradient_f32() {
    let x: Vec<f32> = point(4).iter().map(|&v| v as f32).collect();
    let g = gradient(|x| rosenbrock(x), &x);
    let expected = rosenbrock_gradient(&point(4));
    for (a, b) in g.iter().zip(&expected) {
        assert!(
            (f64::from(*a) - b).abs() <= 1e-4 + 1e-4 * b.abs(),
            "{a} vs {b}"
        );
    }
}

#[test]
fn empty_inputs() {
    assert!(gradient(|_| Dual::constant(1.0), &[]).is_empty());
    assert!(gradient_chunked::<4, _, _>(|_| DualVec::constant(1.0), &[]).is_empty());
    let j = jacobian(|_| vec![Dual::constant(1.0); 3], &[]);
    assert_eq!(j.shape(), (3, 0));
    assert_eq!(
        hessian(|_| adroit_forward::HyperDualVec::constant(1.0), &[]).shape(),
        (0, 0)
    );
}

/// f(x, y, z) = (x·y, sin z + x, y²·z); J = [[y, x, 0], [1, 0, cos z], [0, 2yz, y²]].
fn map<S: Float>(v: &[S]) -> Vec<S> {
    vec![v[0] * v[1], v[2].sin() + v[0], v[1] * v[1] * v[2]]
}

#[test]
fn jacobian_is_rows_of_gradients() {
    let (x, y, z) = (0.5, -1.5, 2.0_f64);
    let expected = dmatrix![y, x, 0.0; 1.0, 0.0, z.cos(); 0.0, 2.0 * y * z, y * y];
    assert_eq!(jacobian(|v| map(v), &[x, y, z]), expected);
    assert_eq!(
        jacobian_chunked::<2, _, _>(|v| map(v), &[x, y, z]),
        expected
    );
    assert_eq!(
        jacobian_chunked::<8, _, _>(|v| map(v), &[x, y, z]),
        expected
    );
}

#[test]
fn value_and_jacobian_returns_the_values_and_the_same_jacobian() {
    let x = [0.5, -1.5, 2.0_f64];
    let want = (map(&x), jacobian(|v| map(v), &x));
    assert_eq!(adroit_forward::value_and_jacobian(|v| map(v), &x), want);
    assert_eq!(
        adroit_forward::value_and_jacobian_chunked::<2, _, _>(|v| map(v), &x),
        want
    );
    // no inputs: one evaluation for the values, an m × 0 Jacobian
    let (y, j) = adroit_forward::value_and_jacobian(|_| vec![Dual::constant(4.0); 2], &[]);
    assert_eq!((y, j.shape()), (vec![4.0, 4.0], (2, 0)));
    let (y, j) = adroit_forward::value_and_jacobian_chunked::<3, f64, _>(
        |_| vec![DualVec::constant(4.0)],
        &[],
    );
    assert_eq!((y, j.shape()), (vec![4.0], (1, 0)));
}

#[test]
#[should_panic(expected = "jacobian: the function returned")]
fn jacobian_panics_on_changing_output_length() {
    let calls = std::cell::Cell::new(0);
    let _ = jacobian(
        |v| {
            calls.set(calls.get() + 1);
            vec![v[0]; calls.get()]
        },
        &[1.0, 2.0],
    );
}

#[test]
fn jvp_equals_jacobian_times_direction() {
    let x = [0.5, -1.5, 2.0_f64];
    let v = [0.1, 2.0, -0.7];
    let (y, jv) = jvp(|x| map(x), &x, &v);
    assert_eq!(y, map(&x));
    let expected = jacobian(|x| map(x), &x) * DVector::from_column_slice(&v);
    assert_vec_close(&jv, expected.as_slice(), 1e-15);
}

#[test]
#[should_panic(expected = "jvp: the point has 2 entries but the direction has 1")]
fn jvp_panics_on_length_mismatch() {
    let _ = jvp(|x| x.to_vec(), &[1.0, 2.0], &[1.0]);
}

#[test]
fn hessian_of_rosenbrock_is_exact_and_symmetric() {
    for n in [2, 10, 18] {
        let x = point(n);
        let h = hessian(|x| rosenbrock(x), &x);
        assert_eq!(h, h.transpose());
        let expected = rosenbrock_hessian(&x);
        assert!(
            (&h - &expected).amax() <= 1e-12 * expected.amax(),
            "n = {n}"
        );
        assert_eq!(hessian_chunked::<1, _, _>(|x| rosenbrock(x), &x), h);
        assert_eq!(hessian_chunked::<3, _, _>(|x| rosenbrock(x), &x), h);
    }
}

#[test]
fn value_gradient_and_hessian_equal_the_separate_calls() {
    // n = 18: two full diagonal blocks of the default chunk (8) and a partial one; chunks 1
    // and 3 (171 and 21 evaluations).
    for n in [2, 10, 18] {
        let x = point(n);
        let (value, grad, hess) = value_gradient_and_hessian(|x| rosenbrock(x), &x);
        assert_eq!(value, rosenbrock(&x), "n = {n}");
        assert_eq!(grad, gradient(|x| rosenbrock(x), &x), "n = {n}");
        assert_eq!(hess, hessian(|x| rosenbrock(x), &x), "n = {n}");
        assert_vec_close(&grad, &rosenbrock_gradient(&x), 1e-13);
        let chunked = |c| match c {
            1 => value_gradient_and_hessian_chunked::<1, _, _>(|x| rosenbrock(x), &x),
            _ => value_gradient_and_hessian_chunked::<3, _, _>(|x| rosenbrock(x), &x),
        };
        for c in [1, 3] {
            assert_eq!(
                chunked(c),
                (value, grad.clone(), hess.clone()),
                "n = {n}, chunk {c}"
            );
        }
    }
    // f32, and a function with mixed partials and transcendental parts.
    fn f<S: Float>(v: &[S]) -> S {
        v[0] * v[0] * v[1] + (v[0] * v[2]).sin() + v[1] * v[2].powi(3)
    }
    let x = [0.7_f32, -1.1, 0.4];
    let (value, grad, hess) = value_gradient_and_hessian(|v| f(v), &x);
    assert_eq!(value, f(&x));
    assert_eq!(grad, gradient(|v| f(v), &x));
    assert_eq!(hess, hessian(|v| f(v), &x));
    // No inputs: f is called once, for the value.
    let (value, grad, hess) =
        value_gradient_and_hessian(|_| adroit_forward::HyperDualVec::constant(4.0), &[]);
    assert_eq!((value, grad.len(), hess.shape()), (4.0, 0, (0, 0)));
}

#[test]
fn hessian_with_mixed_partials() {
    // f = x²y + sin(xz) + yz³
    fn f<S: Float>(v: &[S]) -> S {
        let (x, y, z) = (v[0], v[1], v[2]);
        x * x * y + (x * z).sin() + y * z.powi(3)
    }
    let (x, y, z) = (0.7, -1.1, 0.4_f64);
    let s = (x * z).sin();
    let c = (x * z).cos();
    let expected = dmatrix![
        2.0 * y - z * z * s, 2.0 * x, c - x * z * s;
        2.0 * x, 0.0, 3.0 * z * z;
        c - x * z * s, 3.0 * z * z, -x * x * s + 6.0 * y * z
    ];
    let h = hessian(|v| f(v), &[x, y, z]);
    assert!((&h - &expected).amax() < 1e-14, "{h} vs {expected}");
}

#[test]
fn hvp_equals_hessian_times_vector() {
    let x = point(11);
    let v: Vec<f64> = (0..11).map(|i| (i as f64 * 0.37).sin()).collect();
    let hv = hvp(|x| rosenbrock(x), &x, &v);
    let expected = hessian(|x| rosenbrock(x), &x) * DVector::from_column_slice(&v);
    assert_vec_close(&hv, expected.as_slice(), 1e-13);
}

#[test]
#[should_panic(expected = "hvp: the point has 2 entries but the direction has 3")]
fn hvp_panics_on_length_mismatch() {
    let _ = hvp(|x| x[0], &[1.0, 2.0], &[1.0, 2.0, 3.0]);
}

/// A large chunk size keeps its seeds off the stack (N·(N + 1) numbers: 8 MiB at N = 1024,
/// which aborted the process with a stack overflow, even for three inputs).
#[test]
fn gradient_chunked_with_a_large_chunk_size() {
    let f = |v: &[DualVec<f64, 1024>]| v[0] * v[1] * v[2];
    assert_eq!(
        gradient_chunked::<1024, _, _>(f, &[1.0, 2.0, 3.0]),
        vec![6.0, 3.0, 2.0]
    );
    let mut g = [0.0; 3];
    let v = gradient_chunked_into::<1024, _, _>(f, &[1.0, 2.0, 3.0], &mut g);
    assert_eq!((v, g), (6.0, [6.0, 3.0, 2.0]));
}
