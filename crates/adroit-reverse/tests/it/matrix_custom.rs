//! `matrix::custom_rule`: a matrix function with its own pullback, against the tape's own
//! operations, closed forms and central differences; several inputs, constants, repeated
//! inputs, repeated pullback calls, a pullback that differentiates, misuse.

use crate::misuse::panic_message;
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};

/// `A·B` with a hand-written pullback `(Ȳ·Bᵀ, Aᵀ·Ȳ)`.
fn product(a: MatVar<f64>, b: MatVar<f64>) -> MatVar<f64> {
    let (va, vb) = (a.value(), b.value());
    let value = &va * &vb;
    matrix::custom_rule(&[a, b], value, move |g| {
        vec![g * vb.transpose(), va.transpose() * g]
    })
}

/// The Frobenius norm `‖A‖` with the pullback `Ȳ·A/‖A‖`.
fn norm(a: MatVar<f64>) -> MatVar<f64> {
    let va = a.value();
    let n = va.norm();
    matrix::custom_rule(&[a], dmatrix![n], move |g| vec![&va * (g[(0, 0)] / n)])
}

fn inputs() -> [DMatrix<f64>; 3] {
    [
        dmatrix![0.5, -1.0, 2.0; 1.5, 0.25, -0.75],
        dmatrix![1.0, 0.3; -0.7, 2.0; 0.2, -1.1],
        dmatrix![0.4, -0.2; 0.9, 1.3],
    ]
}

#[test]
fn a_custom_product_matches_the_recorded_product() {
    let loss = |custom: bool| {
        move |m: &[MatVar<f64>]| {
            let y = if custom {
                product(m[0], m[1])
            } else {
                m[0] * m[1]
            };
            (y + m[2]).tanh().component_mul(m[2]).sum()
        }
    };
    let (v1, g1) = matrix::value_and_gradient(loss(true), &inputs());
    let (v2, g2) = matrix::value_and_gradient(loss(false), &inputs());
    assert_eq!(v1, v2);
    for (a, b) in g1.iter().zip(&g2) {
        assert!((a - b).amax() < 1e-15, "{a} {b}");
    }
}

#[test]
fn a_custom_norm_matches_central_differences() {
    let a = inputs()[0].clone();
    let g = matrix::gradient(|m| norm(m[0] * m[0].transpose()), std::slice::from_ref(&a));
    let f = |x: &DMatrix<f64>| (x * x.transpose()).norm();
    let h = 1e-6;
    for k in 0..a.len() {
        let (mut up, mut down) = (a.clone(), a.clone());
        up[k] += h;
        down[k] -= h;
        let fd = (f(&up) - f(&down)) / (2.0 * h);
        assert!(
            (g[0][k] - fd).abs() < 1e-8 * fd.abs().max(1.0),
            "{k}: {} {fd}",
            g[0][k]
        );
    }
}

#[test]
fn repeated_inputs_accumulate_and_constants_are_skipped() {
    // A·A through the rule: both cotangents reach A (∂ sum(A·A) = 1·Aᵀ + Aᵀ·1)
    let a = dmatrix![1.0, 2.0; -0.5, 3.0];
    let g = matrix::gradient(|m| product(m[0], m[0]).sum(), std::slice::from_ref(&a));
    let ones = DMatrix::from_element(2, 2, 1.0);
    assert_eq!(g[0], &ones * a.transpose() + a.transpose() * &ones);
    // a constant operand: only the input's cotangent is used
    let b = dmatrix![0.5; -1.0];
    let g = matrix::gradient(
        |m| product(m[0], MatVar::constant(b.clone())).sum(),
        std::slice::from_ref(&a),
    );
    assert_eq!(g[0], DMatrix::from_element(2, 1, 1.0) * b.transpose());
}

#[test]
fn the_pullback_is_not_called_when_no_input_needs_it() {
    let called = std::rc::Rc::new(std::cell::Cell::new(0));
    let seen = called.clone();
    let g = matrix::gradient(
        |m| {
            let c = MatVar::constant(dmatrix![2.0]);
            let ruled = matrix::custom_rule(&[c], dmatrix![4.0], move |g| {
                seen.set(seen.get() + 1);
                vec![g * 4.0]
            });
            m[0].sum() + ruled
        },
        &[dmatrix![1.0, 2.0]],
    );
    assert_eq!((g[0].clone(), called.get()), (dmatrix![1.0, 1.0], 0));
}

#[test]
fn a_pullback_called_twice_gives_each_cotangents_vjp() {
    let [a, b, _] = inputs();
    let (value, pullback) = matrix::pullback(|m| product(m[0], m[1]), &[a.clone(), b.clone()]);
    assert_eq!(value, &a * &b);
    for g in [dmatrix![1.0, 0.0; 0.0, 0.0], dmatrix![0.3, -2.0; 1.0, 0.5]] {
        let got = pullback.call(&g);
        assert_eq!(got, vec![&g * b.transpose(), a.transpose() * &g]);
    }
}

#[test]
fn a_pullback_may_differentiate_with_adroit() {
    // sum(tanh(A)) with the pullback computed by a nested gradient call of its own
    let a = inputs()[2].clone();
    let g = matrix::gradient(
        |m| {
            let va = m[0].value();
            let value = dmatrix![va.map(f64::tanh).sum()];
            matrix::custom_rule(&[m[0]], value, move |g| {
                let inner = matrix::gradient(|n| n[0].tanh().sum(), std::slice::from_ref(&va));
                vec![&inner[0] * g[(0, 0)]]
            })
        },
        std::slice::from_ref(&a),
    );
    assert_eq!(g[0], a.map(|v| 1.0 - v.tanh().powi(2)));
}

#[test]
fn a_wrong_pullback_panics_naming_it_and_the_tape_recovers() {
    let a = dmatrix![1.0, 2.0];
    let rule_line = line!() + 3; // the line of `custom_rule` below
    let count = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| matrix::custom_rule(&[m[0], m[0]], dmatrix![1.0], |g| vec![g.clone()]),
            std::slice::from_ref(&a),
        )
    });
    // the message names where the rule was recorded
    let recorded_at = format!("matrix::custom_rule (recorded at {}:{rule_line}:", file!());
    let message = panic_message(count.unwrap_err());
    assert!(
        message.starts_with(&recorded_at)
            && message.ends_with("): the pullback returned 1 cotangents for 2 inputs"),
        "{message}"
    );
    let shape = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| matrix::custom_rule(&[m[0]], dmatrix![1.0], |g| vec![g.clone()]),
            std::slice::from_ref(&a),
        )
    });
    let message = panic_message(shape.unwrap_err());
    assert!(
        message.starts_with("matrix::custom_rule (recorded at ")
            && message.ends_with("): the pullback's cotangent 0 is 1×1, input 0 is 1×2"),
        "{message}"
    );
    // the next recording works
    let g = matrix::gradient(|m| norm(m[0]), &[dmatrix![3.0, 4.0]]);
    assert!((&g[0] - dmatrix![0.6, 0.8]).amax() < 1e-15, "{}", g[0]);
}

#[test]
#[should_panic(expected = "another")]
fn an_input_of_another_scope_panics() {
    let mut escaped = None;
    let _ = matrix::gradient(
        |m| {
            escaped = Some(m[0]);
            m[0].sum()
        },
        &[dmatrix![1.0]],
    );
    let stale = escaped.expect("recorded");
    let _ = matrix::gradient(
        |m| matrix::custom_rule(&[stale], dmatrix![1.0], |g| vec![g.clone()]) + m[0].sum(),
        &[dmatrix![1.0]],
    );
}
