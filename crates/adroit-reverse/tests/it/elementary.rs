//! Every elementary function: reverse derivative = forward derivative (tight) and = the SymPy
//! reference (`tools/gen_reference.py`), in f64 and f32; second derivatives by
//! forward-over-reverse against the reference.

use crate::functions::{binary, unary};
use crate::reference::{BINARY, UNARY};
use crate::tolerance::{Tol, assert_close, tol_for};
use adroit_forward::{Dual, derivative};
use adroit_reverse::{TapeScalar, gradient, hessian, value_and_gradient};
use num_traits::Float;
use std::fmt::Debug;

fn cast<T: Float>(x: f64) -> T {
    T::from(x).expect("finite reference input")
}

/// Forward and reverse run the same rules, so they must agree to the last bit or nearly.
const SAME: Tol = Tol {
    atol: 0.0,
    rtol: 4.0 * f64::EPSILON,
};

fn unary_cases<T: TapeScalar + Debug>() {
    let tol = tol_for::<T>();
    for c in UNARY {
        let what = format!("{}({})", c.name, c.x);
        let x = cast::<T>(c.x);
        let (value, g) = value_and_gradient(|v| unary(c.name, v[0]), &[x]);
        assert_close(value, c.value, tol, &format!("{what} value"));
        let g = g[0];
        let fwd = derivative(|v| unary(c.name, v), x);
        assert_close(
            g,
            fwd.to_f64().unwrap(),
            SAME,
            &format!("{what} reverse vs forward"),
        );
        assert_close(g, c.d1, tol, &format!("{what} reverse vs reference"));
    }
}

fn binary_cases<T: TapeScalar + Debug>() {
    let tol = tol_for::<T>();
    for c in BINARY {
        let what = format!("{}({}, {})", c.name, c.x, c.y);
        let (x, y) = (cast::<T>(c.x), cast::<T>(c.y));
        let (value, g) = value_and_gradient(|v| binary(c.name, v[0], v[1]), &[x, y]);
        assert_close(value, c.value, tol, &format!("{what} value"));
        let fx = derivative(|v| binary(c.name, v, Dual::constant(y)), x);
        let fy = derivative(|v| binary(c.name, Dual::constant(x), v), y);
        assert_close(
            g[0],
            fx.to_f64().unwrap(),
            SAME,
            &format!("{what} ∂x reverse vs forward"),
        );
        assert_close(
            g[1],
            fy.to_f64().unwrap(),
            SAME,
            &format!("{what} ∂y reverse vs forward"),
        );
        assert_close(g[0], c.dx, tol, &format!("{what} ∂x"));
        assert_close(g[1], c.dy, tol, &format!("{what} ∂y"));
        // With one argument constant (the recorded node is then unary).
        let gx = gradient(
            |v| binary(c.name, v[0], adroit_reverse::Var::constant(y)),
            &[x],
        );
        assert_close(gx[0], c.dx, tol, &format!("{what} ∂x, y constant"));
    }
}

#[test]
fn unary_f64() {
    unary_cases::<f64>();
}

#[test]
fn unary_f32() {
    unary_cases::<f32>();
}

#[test]
fn binary_f64() {
    binary_cases::<f64>();
}

#[test]
fn binary_f32() {
    binary_cases::<f32>();
}

#[test]
fn second_derivatives_by_forward_over_reverse() {
    let tol = Tol {
        atol: 1e-12,
        rtol: 1e-11,
    };
    for c in UNARY {
        let h = hessian(|v| unary(c.name, v[0]), &[c.x]);
        assert_close(
            h[(0, 0)],
            c.d2,
            tol,
            &format!("{}({}) second derivative", c.name, c.x),
        );
    }
    for c in BINARY {
        let h = hessian(|v| binary(c.name, v[0], v[1]), &[c.x, c.y]);
        let what = format!("{}({}, {})", c.name, c.x, c.y);
        assert_close(h[(0, 0)], c.dxx, tol, &format!("{what} ∂²/∂x²"));
        assert_close(h[(0, 1)], c.dxy, tol, &format!("{what} ∂²/∂x∂y"));
        assert_close(h[(1, 0)], c.dxy, tol, &format!("{what} ∂²/∂y∂x"));
        assert_close(h[(1, 1)], c.dyy, tol, &format!("{what} ∂²/∂y²"));
    }
}
