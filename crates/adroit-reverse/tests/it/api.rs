//! The API functions: values and gradients against analytic formulas and forward mode.

use crate::tolerance::{F64, Tol, assert_close};
use adroit_forward::DualVec;
use adroit_reverse::{
    Var, custom_rule, custom_scalar, gradient, hessian, hvp, jacobian, pullback, stop_gradient,
    value_and_gradient, value_and_gradient_with_aux, value_gradient_and_hessian, vjp,
};
use nalgebra::{DMatrix, DVector, dmatrix};
use num_traits::Float;

fn rosenbrock<S: Float>(x: &[S]) -> S {
    let hundred = S::from(100.0).unwrap();
    x.chunks_exact(2).fold(S::zero(), |acc, p| {
        let u = p[1] - p[0] * p[0];
        let v = S::one() - p[0];
        acc + hundred * u * u + v * v
    })
}

fn point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.3 + 0.17 * i as f64 - 0.05 * (i % 3) as f64)
        .collect()
}

fn close(a: &[f64], b: &[f64], rtol: f64) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-13 + rtol * y.abs(),
            "entry {i}: {x} vs {y}"
        );
    }
}

#[test]
fn the_classic_example() {
    // f(x, y) = x·x + 3y at (5, 7): value 46, gradient (10, 3)
    let (v, g) = value_and_gradient(|x| x[0] * x[0] + 3.0 * x[1], &[5.0, 7.0]);
    assert_eq!((v, g), (46.0, vec![10.0, 3.0]));
    let (v, g) = value_and_gradient(|x| x[0] * x[0] + 3.0_f32 * x[1], &[5.0_f32, 7.0]);
    assert_eq!((v, g), (46.0, vec![10.0, 3.0]));
}

#[test]
fn reverse_equals_forward_on_generic_code() {
    for n in [2, 10, 100] {
        let x = point(n);
        let r = gradient(|x| rosenbrock(x), &x);
        let f = adroit_forward::gradient(|x| rosenbrock(x), &x);
        close(&r, &f, 1e-15);
    }
}

#[test]
fn repeated_variables_accumulate() {
    // x used four times; f = x·x + x·x = 2x², f' = 4x
    assert_eq!(gradient(|x| x[0] * x[0] + x[0] * x[0], &[3.0]), vec![12.0]);
    // The same input listed twice: each slot gets its own partial.
    let g = gradient(|x| x[0] * x[1], &[3.0, 3.0]);
    assert_eq!(g, vec![3.0, 3.0]);
    // A variable copied into several places of a vector.
    let g = gradient(
        |x| {
            let v = [x[0]; 5];
            v.iter().fold(Var::constant(0.0), |acc, &t| acc + t * t)
        },
        &[2.0],
    );
    assert_eq!(g, vec![20.0]);
}

#[test]
fn control_flow_follows_the_primal() {
    fn f<S: Float>(x: &[S]) -> S {
        if x[0] > S::zero() {
            x[0] * x[1]
        } else {
            x[1].sin()
        }
    }
    assert_eq!(gradient(|x| f(x), &[2.0, 3.0]), vec![3.0, 2.0]);
    assert_eq!(gradient(|x| f(x), &[-2.0, 0.0]), vec![0.0, 1.0]);
}

#[test]
fn long_loops_and_mutation() {
    // x_{k+1} = x_k - 0.01·sin(x_k) for 500 steps, mutating a Vec in place; compare with forward.
    fn iterate<S: Float>(x: &[S]) -> S {
        let mut state = x.to_vec();
        let step = S::from(0.01).unwrap();
        for _ in 0..500 {
            for i in 0..state.len() {
                let j = (i + 1) % state.len();
                state[i] = state[i] - step * (state[i] * state[j]).sin();
            }
        }
        state.iter().fold(S::zero(), |acc, &s| acc + s * s)
    }
    let x = [0.7, -0.4, 1.1];
    close(
        &gradient(|x| iterate(x), &x),
        &adroit_forward::gradient(|x| iterate(x), &x),
        1e-12,
    );
}

#[test]
fn recursion() {
    fn power_tower<S: Float>(x: S, depth: u32) -> S {
        if depth == 0 {
            x
        } else {
            (power_tower(x, depth - 1) * x).sin() + x
        }
    }
    let r = gradient(|x| power_tower(x[0], 30), &[0.4])[0];
    let f = adroit_forward::derivative(|x| power_tower(x, 30), 0.4);
    assert!((r - f).abs() <= 1e-13 * f.abs());
}

fn map<S: Float>(v: &[S]) -> Vec<S> {
    vec![v[0] * v[1], v[2].sin() + v[0], v[1] * v[1] * v[2]]
}

#[test]
fn jacobian_of_a_vector_function() {
    let (x, y, z) = (0.5, -1.5, 2.0_f64);
    let expected = dmatrix![y, x, 0.0; 1.0, 0.0, z.cos(); 0.0, 2.0 * y * z, y * y];
    assert_eq!(jacobian(|v| map(v), &[x, y, z]), expected);
    assert_eq!(adroit_forward::jacobian(|v| map(v), &[x, y, z]), expected);
    // A constant output has a zero row.
    let j = jacobian(|v| vec![v[0], Var::constant(1.0)], &[2.0]);
    assert_eq!(j, dmatrix![1.0; 0.0]);
    // with the values, from the same recording
    let (values, j) = adroit_reverse::value_and_jacobian(|v| map(v), &[x, y, z]);
    assert_eq!((values, j), (map(&[x, y, z]), expected));
}

#[test]
fn pullback_called_twice_with_different_cotangents() {
    let x = [0.5, -1.5, 2.0_f64];
    let (y, pb) = pullback(|v| map(v), &x);
    assert_eq!(y, map(&x));
    assert_eq!((pb.n_inputs(), pb.n_outputs()), (3, 3));
    let j = adroit_forward::jacobian(|v| map(v), &x);
    for w in [[1.0, 0.0, 0.0], [0.3, -2.0, 0.5]] {
        let expected = j.transpose() * DVector::from_column_slice(&w);
        close(&pb.call(&w), expected.as_slice(), 1e-15);
    }
    let (_, v) = vjp(|v| map(v), &x, &[0.3, -2.0, 0.5]);
    close(&v, &pb.call(&[0.3, -2.0, 0.5]), 0.0);
}

#[test]
#[should_panic(expected = "pullback: the cotangent has 1 entries but the function has 3 outputs")]
fn pullback_checks_the_cotangent_length() {
    let (_, pb) = pullback(|v| map(v), &[1.0, 2.0, 3.0]);
    let _ = pb.call(&[1.0]);
}

/// The message names the function called (it said `pullback:`, the function `vjp` calls).
#[test]
#[should_panic(expected = "vjp: the cotangent w has 2 entries but the function has 3 outputs")]
fn vjp_checks_the_cotangent_length_in_its_own_name() {
    let _ = vjp(|v| map(v), &[1.0, 2.0, 3.0], &[1.0, 2.0]);
}

#[test]
fn hessian_with_mixed_partials() {
    fn f<S: Float>(v: &[S]) -> S {
        let (x, y, z) = (v[0], v[1], v[2]);
        x * x * y + (x * z).sin() + y * z.powi(3)
    }
    let x = [0.7, -1.1, 0.4];
    let h = hessian(|v| f(v), &x);
    let expected = adroit_forward::hessian(|v| f(v), &x);
    assert!((&h - &expected).amax() < 1e-14, "{h} vs {expected}");
    // and against the formula (independent of the shared rule table):
    // [[2y − z² sin xz, 2x, cos xz − xz sin xz], [2x, 0, 3z²], [·, 3z², 6yz − x² sin xz]]
    let (a, b, c) = (x[0], x[1], x[2]);
    let (s, co) = ((a * c).sin(), (a * c).cos());
    let mixed = co - a * c * s;
    let formula = dmatrix![
        2.0 * b - c * c * s, 2.0 * a, mixed;
        2.0 * a, 0.0, 3.0 * c * c;
        mixed, 3.0 * c * c, 6.0 * b * c - a * a * s
    ];
    assert!((&h - &formula).amax() < 1e-14, "{h} vs {formula}");
    let v = [0.3, 1.0, -2.0];
    let hv = hvp(|x| f(x), &x, &v);
    close(
        &hv,
        (expected * DVector::from_column_slice(&v)).as_slice(),
        1e-14,
    );
}

#[test]
fn hessian_and_hvp_in_f32() {
    // f(x, y, z) = x²y + x·sin z + y³/3, whose Hessian is
    // [[2y, 2x, cos z], [2x, 2y, 0], [cos z, 0, −x·sin z]]; recorded on Var<DualVec<f32, 12>>
    // (hessian) and Var<Dual<f32>> (hvp), checked against the formula in f64 at the same
    // (f32-representable) point, to a few f32 ulps.
    fn f<S: Float>(v: &[S]) -> S {
        let (x, y, z) = (v[0], v[1], v[2]);
        x * x * y + x * z.sin() + y * y * y / S::from(3.0).unwrap()
    }
    let tol = Tol {
        atol: 1e-7,
        rtol: 1e-6,
    };
    let p = [0.5_f32, -1.25, 0.75];
    let (x, y, z) = (f64::from(p[0]), f64::from(p[1]), f64::from(p[2]));
    let expected = dmatrix![
        2.0 * y, 2.0 * x, z.cos();
        2.0 * x, 2.0 * y, 0.0;
        z.cos(), 0.0, -x * z.sin()
    ];
    let h = hessian(|v| f(v), &p);
    assert_eq!(h.shape(), (3, 3));
    for (k, (&hk, &ek)) in h.iter().zip(expected.iter()).enumerate() {
        assert_close(hk, ek, tol, &format!("f32 Hessian entry {k}"));
    }
    let v = [1.0_f32, -0.5, 2.0];
    let hv = hvp(|x| f(x), &p, &v);
    let expected_hv = &expected * DVector::from_iterator(3, v.iter().map(|&c| f64::from(c)));
    for (k, (&a, &e)) in hv.iter().zip(expected_hv.iter()).enumerate() {
        assert_close(a, e, tol, &format!("f32 HVP entry {k}"));
    }

    // 14 variables, more than one chunk of 12 Hessian columns: g(x) = ½xᵀQx + Σ xᵢ³/6 has
    // the Hessian Q + diag(x).
    let n = 14;
    let q = |i: usize, j: usize| ((i + j) % 5) as f64 - 2.0;
    let g = |x: &[Var<DualVec<f32, 12>>]| {
        let mut s = Var::constant(DualVec::constant(0.0_f32));
        for i in 0..n {
            for j in 0..n {
                s += x[i] * x[j] * DualVec::constant(q(i, j) as f32 * 0.5);
            }
            s += x[i].powi(3) / DualVec::constant(6.0_f32);
        }
        s
    };
    let p: Vec<f32> = (0..n).map(|i| i as f32 * 0.25 - 1.5).collect();
    let h = hessian(g, &p);
    for i in 0..n {
        for j in 0..n {
            let e = q(i, j) + if i == j { f64::from(p[i]) } else { 0.0 };
            assert_close(
                h[(i, j)],
                e,
                tol,
                &format!("14-variable Hessian ({i}, {j})"),
            );
        }
    }
}

#[test]
fn hessian_of_rosenbrock() {
    let x = point(10);
    let h = hessian(|v| rosenbrock(v), &x);
    let expected: DMatrix<f64> = adroit_forward::hessian(|v| rosenbrock(v), &x);
    assert!((&h - &expected).amax() <= 1e-12 * expected.amax());
}

#[test]
fn value_gradient_and_hessian_equal_the_separate_calls() {
    // n = 30: three recordings of 12 directions (the last partial); the gradient is the
    // first recording's primal part.
    for n in [2, 12, 30] {
        let x = point(n);
        let (value, grad, hess) = value_gradient_and_hessian(|v| rosenbrock(v), &x);
        let (plain_value, plain_grad) = value_and_gradient(|v| rosenbrock(v), &x);
        assert_eq!((value, &grad), (plain_value, &plain_grad), "n = {n}");
        assert_eq!(value, rosenbrock(&x));
        assert_eq!(hess, hessian(|v| rosenbrock(v), &x), "n = {n}");
        // Forward mode's hyper-dual version agrees (to rounding: other arithmetic).
        let (fv, fg, fh) = adroit_forward::value_gradient_and_hessian(|v| rosenbrock(v), &x);
        assert_eq!(fv, value);
        for (k, (&r, &f)) in grad.iter().zip(&fg).enumerate() {
            assert_close(r, f, F64, &format!("∂{k}, n = {n}"));
        }
        assert!((&hess - &fh).amax() <= 1e-12 * fh.amax(), "n = {n}");
    }
    // f32; no inputs (f recorded once, for the value).
    let (v, g, h) = value_gradient_and_hessian(|x| x[0] * x[0] * x[1], &[1.0_f32, 2.0]);
    assert_eq!((v, g), (2.0, vec![4.0, 1.0]));
    assert_eq!(h, dmatrix![4.0_f32, 2.0; 2.0, 0.0]);
    let (v, g, h) = value_gradient_and_hessian(|_| Var::constant(DualVec::constant(3.0)), &[]);
    assert_eq!((v, g.len(), h.shape()), (3.0, 0, (0, 0)));
}

#[test]
fn aux_output_is_passed_through() {
    let (v, g, aux) = value_and_gradient_with_aux(
        |x| {
            let y = x[0].exp();
            (y, format!("{:.3}", y.value()))
        },
        &[0.0],
    );
    assert_eq!((v, g, aux.as_str()), (1.0, vec![1.0], "1.000"));
}

#[test]
fn custom_rules_and_stop_gradient() {
    // A custom two-output rule: (x·y, x + y), with its own pullback.
    let (y, pb) = pullback(
        |v| {
            let (a, b) = (v[0].value(), v[1].value());
            let out = custom_rule(&[v[0], v[1]], &[a * b, a + b], move |w| {
                vec![w[0] * b + w[1], w[0] * a + w[1]]
            });
            vec![out[0] * 2.0, out[1]]
        },
        &[3.0, 4.0],
    );
    assert_eq!(y, vec![24.0, 7.0]);
    assert_eq!(pb.call(&[1.0, 0.0]), vec![8.0, 6.0]);
    assert_eq!(pb.call(&[0.0, 1.0]), vec![1.0, 1.0]);
    assert_eq!(pb.call(&[1.0, 1.0]), vec![9.0, 7.0]);
    // Custom scalar with a constant input: only the variable gets a derivative.
    let g = gradient(
        |v| custom_scalar(&[v[0], Var::constant(2.0)], v[0].value() * 2.0, &[2.0, 9.0]),
        &[1.0],
    );
    assert_eq!(g, vec![2.0]);
    // Only constants: nothing recorded, zero gradient.
    let g = gradient(
        |v| v[0] + custom_scalar(&[Var::constant(1.0)], 1.0, &[5.0]),
        &[1.0],
    );
    assert_eq!(g, vec![1.0]);
    assert_eq!(
        gradient(|x| x[0] * stop_gradient(x[0] * x[0]), &[2.0]),
        vec![4.0]
    );
    // A pullback that itself uses adroit (the scope is closed when it runs).
    let g = gradient(
        |v| {
            let a = v[0].value();
            custom_rule(&[v[0]], &[a.sin()], move |w| {
                vec![w[0] * gradient(|x| x[0].sin(), &[a])[0]]
            })[0]
        },
        &[0.0],
    );
    assert_eq!(g, vec![1.0]);
}

#[test]
fn custom_rule_checks_the_pullback_length_naming_where_it_was_recorded() {
    let line = line!() + 3;
    let caught = std::panic::catch_unwind(|| {
        gradient(
            |v| custom_rule(&[v[0], v[1]], &[1.0], |w| vec![w[0]])[0],
            &[1.0, 2.0],
        )
    });
    let payload = caught.expect_err("a pullback with one cotangent for two inputs");
    let message = payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    let expected = format!(
        "custom rule (recorded at {}:{line}:17): the pullback returned 1 cotangents for 2 inputs",
        file!()
    );
    assert_eq!(message, expected);
}

#[test]
fn parallel_gradients_in_four_threads() {
    let handles: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let x = point(20 + 2 * t);
                let mut last = Vec::new();
                for _ in 0..200 {
                    last = gradient(|x| rosenbrock(x), &x);
                }
                (x, last)
            })
        })
        .collect();
    for h in handles {
        let (x, g) = h.join().unwrap();
        close(&g, &adroit_forward::gradient(|x| rosenbrock(x), &x), 1e-15);
    }
}

#[test]
fn nested_scopes_restore_the_outer_tape() {
    let g = gradient(
        |x| {
            // An inner, independent gradient computed in the middle of the outer recording.
            let inner = gradient(|y| y[0] * y[0], &[x[0].value()])[0];
            x[0] * inner + x[0]
        },
        &[3.0],
    );
    assert_eq!(g, vec![7.0]);
}

#[test]
fn tape_is_compact() {
    // 24 bytes per binary operation for f64: two u32 parents and two f64 partials.
    let (_, pb) = pullback(
        |x| vec![(0..1000).fold(x[0], |acc, _| acc * x[1])],
        &[1.0, 1.0],
    );
    assert_eq!(pb.tape_len(), 1 + 2 + 1000);
    // the node arrays' element sizes, read from their types: exactly 24 bytes a node
    assert_eq!(pb.tape_bytes_used(), 1003 * 24);
    // and at most twice that held (growth by doubling)
    assert!(
        pb.tape_bytes() <= 1003 * 24 * 2,
        "{} bytes",
        pb.tape_bytes()
    );
    // f32: 16 bytes a node
    let (_, pb) = pullback(
        |x| vec![(0..1000).fold(x[0], |acc, _| acc * x[1])],
        &[1.0_f32, 1.0],
    );
    assert_eq!(pb.tape_bytes_used(), 1003 * 16);
}

#[test]
fn reused_adjoint_buffers_start_at_zero() {
    // The per-thread adjoint buffer is reused without clearing (each sweep resets what it
    // touched): a long tape with few inputs, then a short one with many inputs whose unused
    // inputs must get exactly +0, then a Jacobian (one sweep per output on one recording).
    let long = gradient(
        |x| (0..500).fold(x[0], |acc, k| acc * 0.999 + x[1] * (k as f64)),
        &[1.0, 2.0],
    );
    assert!((long[0] - 0.999f64.powi(500)).abs() < 1e-12, "{long:?}");
    let wide: Vec<f64> = gradient(|x| x[3] * 2.0, &[1.0; 40]);
    for (i, g) in wide.iter().enumerate() {
        let want = if i == 3 { 2.0 } else { 0.0 };
        assert!(g.to_bits() == f64::to_bits(want), "input {i}: {g}");
    }
    let j = jacobian(
        |x| vec![x[0] * x[1], x[1] + x[2], x[2] * 3.0],
        &[2.0, 5.0, 7.0],
    );
    assert_eq!(j, dmatrix![5.0, 2.0, 0.0; 0.0, 1.0, 1.0; 0.0, 0.0, 3.0]);
}

#[test]
fn one_variable_on_both_sides_of_an_operation() {
    // `x ∘ x` is recorded as one node with the summed partial; results must equal the forward
    // mode's, first and second order.
    for x in [-1.5, 0.0, 0.5, 3.0] {
        let cases: [fn(Var<f64>) -> Var<f64>; 5] = [
            |v| v * v,
            |v| v + v,
            |v| v - v,
            |v| v * v * v,
            |v| {
                let w = v * v + 1.0;
                w.powf(w) + (v * v).sqrt()
            },
        ];
        for (k, f) in cases.iter().enumerate() {
            let rev = gradient(|v| f(v[0]), &[x])[0];
            let fwd = adroit_forward::derivative(
                |v| match k {
                    0 => v * v,
                    1 => v + v,
                    2 => v - v,
                    3 => v * v * v,
                    _ => {
                        let w = v * v + 1.0;
                        w.powf(w) + (v * v).sqrt()
                    }
                },
                x,
            );
            assert!(
                (rev - fwd).abs() <= 1e-14 * (1.0 + fwd.abs()),
                "case {k} at {x}: {rev} vs {fwd}"
            );
        }
    }
    // Second order through the same path (Var<DualVec>): d²(x²)/dx² = 2, d²(x³)/dx² = 6x.
    let h = hessian(|v| v[0] * v[0] + v[1] * v[1] * v[1], &[0.0, 2.0]);
    assert_eq!(h, dmatrix![2.0, 0.0; 0.0, 12.0]);
}

/// The `StopGradient` trait on `Var`: one generic function bounded by `Float + StopGradient`
/// differentiates in reverse mode, forward-over-reverse and reverse-over-forward
/// (`Dual<Var<f64>>`), with the cut at every order: f = x·sg(x·y) + y at (2, 3).
#[test]
fn stop_gradient_trait_in_generic_code() {
    use adroit_forward::{Dual, StopGradient};
    fn f<S: Float + StopGradient>(v: &[S]) -> S {
        v[0] * (v[0] * v[1]).stop_gradient() + v[1]
    }
    assert_eq!(gradient(|v| f(v), &[2.0, 3.0]), vec![6.0, 1.0]);
    assert!(hessian(|v| f(v), &[2.0, 3.0]).iter().all(|e| *e == 0.0));
    assert_eq!(hvp(|v| f(v), &[2.0, 3.0], &[1.0, -1.0]), vec![0.0, 0.0]);
    // Reverse over forward: the gradient of the x-directional derivative ∂f/∂x = sg(xy).
    let g = gradient(
        |v| {
            let d = [Dual::new(v[0], Var::constant(1.0)), Dual::constant(v[1])];
            f(&d).tangent()
        },
        &[2.0, 3.0],
    );
    assert_eq!(g, vec![0.0, 0.0]);
}

/// Pullbacks print their sizes (every public type implements `Debug`).
#[test]
fn pullbacks_print_their_sizes() {
    let (_, pb) = pullback(|x| vec![x[0] * x[1], x[0]], &[2.0, 3.0]);
    assert_eq!(
        format!("{pb:?}"),
        "Pullback { n_inputs: 2, n_outputs: 2, tape_nodes: 4 }"
    );
    let (_, pb) =
        adroit_reverse::matrix::pullback(|m| m[0].transpose(), &[DMatrix::<f64>::zeros(2, 3)]);
    assert_eq!(
        format!("{pb:?}"),
        "MatPullback { output_shape: (3, 2), n_inputs: 1, tape_nodes: 2 }"
    );
}

/// A rule of one's own (adroit-forward's `UnaryRule`: the forward counterpart of `custom_jvp`)
/// applied to `Var`s gives the rule's derivative, and, since `eval` keeps its value's tangent
/// on dual numbers, forward-over-reverse Hessians see the rule's curvature. The implicit root of
/// y³ + p·y − 1 = 0, against the implicit function theorem's dy/dp and d²y/dp².
#[test]
fn a_generic_rule_of_ones_own_gives_first_and_second_derivatives_on_the_tape() {
    use adroit_forward::ChainRule;
    use adroit_forward::rules::UnaryRule;
    #[derive(Clone, Copy)]
    struct Root;
    impl UnaryRule for Root {
        fn eval<S: Float>(self, p: S) -> (S, S) {
            let p0 = p.to_f64().unwrap();
            let mut y0 = 1.0;
            for _ in 0..60 {
                y0 -= (y0 * y0 * y0 + p0 * y0 - 1.0) / (3.0 * y0 * y0 + p0);
            }
            let (y0, three) = (S::from(y0).unwrap(), S::from(3.0).unwrap());
            let y = y0 - (y0 * y0 * y0 + p * y0 - S::one()) / (three * y0 * y0 + p);
            (y, -y / (three * y * y + p))
        }
    }
    for p in [0.5, 1.0, 4.0] {
        let y = Root.eval(p).0;
        let dy = -y / (3.0 * y * y + p);
        let d2y = -(dy * (3.0 * y * y + p) - y * (6.0 * y * dy + 1.0)) / (3.0 * y * y + p).powi(2);
        // y(p)·p: gradient y + p·y', Hessian 2y' + p·y''.
        let f = |x: &[Var<f64>]| x[0].apply_unary(Root) * x[0];
        let g = gradient(f, &[p])[0];
        assert!((g - (y + p * dy)).abs() < 1e-14, "p = {p}: {g}");
        let h = hessian(|x| x[0].apply_unary(Root) * x[0], &[p])[(0, 0)];
        assert!((h - (2.0 * dy + p * d2y)).abs() < 1e-13, "p = {p}: {h}");
    }
}

/// adroit-reverse's functions that seed adroit-forward's dual types record them as
/// adroit-forward's own functions do: forward-mode code nested in them that would confuse the
/// perturbations (a forward call of the same type reading a captured seeded value) panics
/// instead of returning a wrong number — through `MatVar::map` (`Dual`), `zip_map`
/// (`DualVec<_, K>`), `hvp` (`Dual`) and `hessian` (`DualVec<_, 12>`).
#[test]
fn forward_calls_nested_in_seeded_reverse_functions_cannot_confuse_perturbations() {
    use adroit_forward::{Dual, derivative, gradient_chunked};
    use adroit_reverse::matrix::{self, MatVar};
    let refused = |f: Box<dyn FnOnce() + std::panic::UnwindSafe>| {
        let payload = std::panic::catch_unwind(f).expect_err("must be refused");
        let message = crate::misuse::panic_message(payload);
        assert!(message.contains("perturbation confusion"), "{message}");
    };
    // map's element function: d/dy [y·(d/dz (y + z))] = 1, a confused call would give 2.
    refused(Box::new(|| {
        matrix::gradient(
            |m| {
                m[0].map(|y| y * Dual::constant(derivative(|z| y + z, 1.0)))
                    .sum()
            },
            &[dmatrix![3.0]],
        );
    }));
    refused(Box::new(|| {
        matrix::gradient(
            |m| {
                MatVar::zip_map([m[0], m[0]], |[a, b]| {
                    a * b * DualVec::constant(gradient_chunked::<2, _, _>(|z| a + z[0], &[1.0])[0])
                })
                .sum()
            },
            &[dmatrix![3.0]],
        );
    }));
    // reverse hvp inside a forward derivative: both seed Dual<f64>.
    refused(Box::new(|| {
        derivative(
            |x: Dual<f64>| {
                let hv = hvp(|y| Var::constant(x) * y[0] * y[0], &[1.0], &[1.0]);
                x * hv[0]
            },
            1.0,
        );
    }));
    // and a forward derivative at plain numbers inside reverse hvp (its Panics section).
    refused(Box::new(|| {
        let inner = || Var::constant(Dual::constant(derivative(|z| z * z, 2.0)));
        hvp(|y| y[0] * y[0] * inner(), &[1.0], &[1.0]);
    }));
    // a forward chunk-12 gradient inside reverse hessian: both seed DualVec<f64, 12>.
    refused(Box::new(|| {
        hessian(
            |y| {
                let c = y[0].value();
                let g = gradient_chunked::<12, _, _>(|z| z[0] * c, &[1.0]);
                y[0] * y[0] * Var::constant(DualVec::constant(g[0]))
            },
            &[1.0],
        );
    }));
    // Different types nest as before: a forward derivative of plain numbers inside map.
    let g = matrix::gradient(
        |m| {
            m[0].map(|y| y * adroit_forward::independent(|| derivative(|z| z * z, 2.0)))
                .sum()
        },
        &[dmatrix![3.0]],
    );
    assert_eq!(g[0], dmatrix![4.0]);
}

/// `hessian_chunked::<N>` for every supported chunk size equals `hessian`: bit for bit where
/// both record per chunk (each lane's arithmetic is the same whatever the chunk), within a few
/// ε where one takes the second-order adjoint engine (more than two chunks), for n = 1, 3 (one
/// partial chunk) and 13 (several); `value_gradient_and_hessian_chunked` too (its value and
/// gradient bit for bit); f32; empty input; plain floats on either side and nalgebra's LU on
/// the chunked variables.
#[test]
fn hessian_chunked_equals_hessian_for_every_chunk_size() {
    fn f<S: Float>(v: &[S]) -> S {
        let two = S::from(2.0).unwrap();
        v.windows(2)
            .fold(rosenbrock(v), |acc, w| acc + (w[0] * w[1]).sin() / two)
    }
    fn check<const N: usize>(x: &[f64])
    where
        DualVec<f64, N>: adroit_reverse::TapeScalar,
        DualVec<f32, N>: adroit_reverse::TapeScalar,
    {
        // `hessian` records per chunk for n ≤ 24; the engine runs for n > 2N, N ≥ 2.
        let engine = N >= 2 && x.len() > 2 * N;
        let expected = hessian(|v| f(v), x);
        let h = adroit_reverse::hessian_chunked::<N, _, _>(|v| f(v), x);
        let (value, grad, all) =
            adroit_reverse::value_gradient_and_hessian_chunked::<N, _, _>(|v| f(v), x);
        let (v12, g12, _) = value_gradient_and_hessian(|v| f(v), x);
        assert_eq!((value, grad), (v12, g12), "N = {N}");
        assert_eq!(all, h, "N = {N}");
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let h32 = adroit_reverse::hessian_chunked::<N, _, _>(|v| f(v), &x32);
        let expected32 = hessian(|v| f(v), &x32);
        if engine {
            let scale = expected.amax().max(1.0);
            assert!(
                (&h - &expected).amax() <= 4.0 * f64::EPSILON * scale,
                "N = {N}"
            );
            let scale = expected32.amax().max(1.0);
            assert!(
                (&h32 - &expected32).amax() <= 4.0 * f32::EPSILON * scale,
                "f32, N = {N}"
            );
        } else {
            assert_eq!(h, expected, "N = {N}, n = {}", x.len());
            assert_eq!(h32, expected32, "f32, N = {N}");
        }
        let empty = adroit_reverse::hessian_chunked::<N, f64, _>(|v| f(v), &[]);
        assert_eq!(empty.shape(), (0, 0));
    }
    for n in [1, 3, 13] {
        let x = point(n);
        check::<1>(&x);
        check::<2>(&x);
        check::<4>(&x);
        check::<8>(&x);
        check::<12>(&x);
    }
    // plain floats on either side, and nalgebra's LU: ln det [[2 + x, 1], [1, 3 + 2y]]
    let h = adroit_reverse::hessian_chunked::<2, _, _>(
        |v: &[Var<DualVec<f64, 2>>]| {
            let a = DMatrix::from_row_slice(
                2,
                2,
                &[
                    2.0 + v[0],
                    v[0] * 0.0 + 1.0,
                    v[1] * 0.0 + 1.0,
                    3.0 + 2.0 * v[1],
                ],
            );
            a.lu().determinant().ln()
        },
        &[0.0, 0.0],
    );
    // d = (2 + x)(3 + 2y) − 1 = 5: ∂ₓ ln d = (3 + 2y)/d, ∂ᵧ = 2(2 + x)/d
    let expected =
        dmatrix![-9.0 / 25.0, 2.0 / 5.0 - 12.0 / 25.0; 2.0 / 5.0 - 12.0 / 25.0, -16.0 / 25.0];
    assert!((&h - &expected).amax() < 1e-15, "{h} vs {expected}");
}

/// The documented corner of `hessian_chunked`: an inner `matrix::gradient` whose binary
/// `zip_map` evaluates on `DualVec<f64, 2>` is refused inside `hessian_chunked::<2>` (the same
/// type, as any nested derivative call of it), and runs under `adroit_forward::independent`,
/// giving `hessian`'s value.
#[test]
fn hessian_chunked_and_an_inner_derivative_on_the_same_dual_type() {
    use adroit_reverse::matrix::{self, MatVar};
    fn inner(x: f64) -> f64 {
        let g = matrix::gradient(
            |m: &[MatVar<f64>]| MatVar::zip_map([m[0], m[0]], |[a, b]| a * b).sum(),
            &[dmatrix![x]],
        );
        g[0][(0, 0)]
    }
    let f = |v: &[Var<DualVec<f64, 2>>]| v[0] * v[0] * inner(v[0].value().value());
    let refused =
        std::panic::catch_unwind(|| adroit_reverse::hessian_chunked::<2, _, _>(f, &[2.0]));
    let message = refused.expect_err("a nested call on DualVec<f64, 2>");
    let message = message
        .downcast_ref::<String>()
        .expect("a formatted message");
    assert!(
        message.contains("started inside another derivative call"),
        "{message}"
    );
    let h = adroit_reverse::hessian_chunked::<2, _, _>(
        |v| v[0] * v[0] * adroit_forward::independent(|| inner(v[0].value().value())),
        &[2.0],
    );
    let expected = hessian(|v| v[0] * v[0] * inner(v[0].value().value()), &[2.0]);
    assert_eq!(h, expected);
    assert_eq!(h[(0, 0)], 8.0);
}
