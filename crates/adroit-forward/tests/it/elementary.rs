//! Every elementary function against reference values generated independently with SymPy
//! (`tools/gen_reference.py`): value, first derivative (Dual, DualVec), second derivatives
//! (HyperDual, nested Dual), in f64 and f32.

use crate::functions::{binary, unary};
use crate::reference::{BINARY, UNARY};
use crate::tolerance::{Tol, assert_close, tol_for};
use adroit_forward::{Dual, DualVec, HyperDual, HyperDualVec, derivative};
use num_traits::Float;

fn cast<T: Float>(x: f64) -> T {
    T::from(x).expect("finite reference input")
}

fn first_order_unary<T: Float + std::fmt::Debug>() {
    let tol = tol_for::<T>();
    for c in UNARY {
        let y = unary(c.name, Dual::variable(cast::<T>(c.x)));
        let what = format!("{}({})", c.name, c.x);
        assert_close(y.value(), c.value, tol, &format!("{what} value"));
        assert_close(y.tangent(), c.d1, tol, &format!("{what} derivative"));

        let v = unary(
            c.name,
            DualVec::<T, 3>::new(cast(c.x), [T::one(), cast(-2.0), T::zero()]),
        );
        let t = v.tangents();
        assert_close(t[0], c.d1, tol, &format!("{what} DualVec slot 0"));
        assert_close(t[1], -2.0 * c.d1, tol, &format!("{what} DualVec slot 1"));
        assert_close(t[2], 0.0, tol, &format!("{what} DualVec slot 2"));
    }
}

fn second_order_unary<T: Float + std::fmt::Debug>() {
    let tol = Tol {
        rtol: tol_for::<T>().rtol * 10.0,
        ..tol_for::<T>()
    };
    for c in UNARY {
        let what = format!("{}({})", c.name, c.x);
        let y = unary(c.name, HyperDual::variable(cast::<T>(c.x)));
        assert_close(y.value(), c.value, tol, &format!("{what} HyperDual value"));
        assert_close(y.eps1()[0], c.d1, tol, &format!("{what} HyperDual ε₁"));
        assert_close(y.eps2()[0], c.d1, tol, &format!("{what} HyperDual ε₂"));
        assert_close(
            y.eps12()[0][0],
            c.d2,
            tol,
            &format!("{what} HyperDual ε₁ε₂"),
        );

        let nested = derivative(|x: Dual<T>| derivative(|y| unary(c.name, y), x), cast(c.x));
        assert_close(
            nested,
            c.d2,
            tol,
            &format!("{what} nested Dual second derivative"),
        );
    }
}

#[test]
fn unary_first_derivatives_f64() {
    first_order_unary::<f64>();
}

#[test]
fn unary_first_derivatives_f32() {
    first_order_unary::<f32>();
}

#[test]
fn unary_second_derivatives_f64() {
    second_order_unary::<f64>();
}

#[test]
fn unary_second_derivatives_f32() {
    second_order_unary::<f32>();
}

fn binary_cases<T: Float + std::fmt::Debug>() {
    let tol = tol_for::<T>();
    let tol2 = Tol {
        rtol: tol.rtol * 10.0,
        ..tol
    };
    for c in BINARY {
        let what = format!("{}({}, {})", c.name, c.x, c.y);
        let (x, y) = (cast::<T>(c.x), cast::<T>(c.y));

        let fx = binary(c.name, Dual::variable(x), Dual::constant(y));
        let fy = binary(c.name, Dual::constant(x), Dual::variable(y));
        assert_close(fx.value(), c.value, tol, &format!("{what} value"));
        assert_close(fx.tangent(), c.dx, tol, &format!("{what} ∂x"));
        assert_close(fy.tangent(), c.dy, tol, &format!("{what} ∂y"));

        let both = binary(
            c.name,
            DualVec::<T, 2>::variable(x, 0),
            DualVec::variable(y, 1),
        );
        assert_close(both.tangents()[0], c.dx, tol, &format!("{what} DualVec ∂x"));
        assert_close(both.tangents()[1], c.dy, tol, &format!("{what} DualVec ∂y"));

        let (o, l) = (T::one(), T::zero());
        let hx = HyperDualVec::<T, 2, 2>::new(x, [o, l], [o, l], [[l; 2]; 2]);
        let hy = HyperDualVec::<T, 2, 2>::new(y, [l, o], [l, o], [[l; 2]; 2]);
        let h = binary(c.name, hx, hy).eps12();
        assert_close(h[0][0], c.dxx, tol2, &format!("{what} ∂²/∂x²"));
        assert_close(h[0][1], c.dxy, tol2, &format!("{what} ∂²/∂x∂y"));
        assert_close(h[1][0], c.dxy, tol2, &format!("{what} ∂²/∂y∂x"));
        assert_close(h[1][1], c.dyy, tol2, &format!("{what} ∂²/∂y²"));
    }
}

#[test]
fn binary_derivatives_f64() {
    binary_cases::<f64>();
}

#[test]
fn binary_derivatives_f32() {
    binary_cases::<f32>();
}

#[test]
fn reference_table_covers_every_rule() {
    // Every rule of `adroit_forward::rules` that is a named function appears in the table
    // (max, min, copysign and clamp are piecewise-linear and tested in `edges`).
    let names = [
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "sinh",
        "cosh",
        "tanh",
        "asinh",
        "acosh",
        "atanh",
        "exp",
        "exp2",
        "exp_m1",
        "ln",
        "log2",
        "log10",
        "ln_1p",
        "sqrt",
        "cbrt",
        "recip",
        "abs",
        "to_degrees",
        "to_radians",
        "powi_3",
        "fract",
        "floor",
        "ceil",
        "round",
        "trunc",
        "signum",
    ];
    for name in names {
        assert!(
            UNARY.iter().filter(|c| c.name == name).count() >= 4,
            "{name} has < 4 points"
        );
    }
    for name in [
        "add", "sub", "mul", "div", "rem", "powf", "atan2", "hypot", "log",
    ] {
        assert!(
            BINARY.iter().filter(|c| c.name == name).count() >= 4,
            "{name} has < 4 points"
        );
    }
}
