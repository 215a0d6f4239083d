//! The f32 counterparts of the f64-only checks in `traits`: `mul_add`, `sin_cos`, `Neg`,
//! `inv` and `abs_sub`, on `Dual<f32>`, `DualVec<f32, 2>` and `HyperDual<f32>`. Values and
//! derivatives are compared with the hand-derived formulas evaluated in f64 (`tolerance::F32`),
//! and exact-arithmetic cases (`±1`, `0`, products of small integers) with `assert_eq!`.

use crate::tolerance::{F32, assert_close};
use adroit_forward::{Dual, DualVec, HyperDual};
use num_traits::{Float, Inv, Signed};

#[test]
fn mul_add_f32() {
    // x·3 + 1 at x = 0.5: value 2.5, d/dx = 3 (exact in f32)
    let x = Dual::variable(0.5_f32);
    let y = x.mul_add(Dual::constant(3.0), Dual::constant(1.0));
    assert_eq!((y.value(), y.tangent()), (2.5, 3.0));
    // x·x + x: d/dx = 2x + 1 = 2
    assert_eq!(x.mul_add(x, x).tangent(), 2.0);
    // the three partials of a·b + c at (1.5, −2.25, 0.75) are (b, a, 1)
    let v = |i| DualVec::<f32, 3>::variable([1.5, -2.25, 0.75][i], i);
    let y = v(0).mul_add(v(1), v(2));
    assert_eq!(y.value(), 1.5 * -2.25 + 0.75);
    assert_eq!(y.tangents(), [-2.25, 1.5, 1.0]);
    // second derivative of x·x + x is 2; of x·(x·x) + 1 is 6x
    let h = HyperDual::variable(0.5_f32);
    assert_eq!(h.mul_add(h, h).eps12()[0][0], 2.0);
    assert_eq!(
        h.mul_add(h * h, HyperDual::constant(1.0)).eps12()[0][0],
        3.0
    );
    // a non-representable point: x = 0.1, f = x·sin(x) + cos(x), f' = x·cos(x)
    let x0 = 0.1_f64;
    let y = Dual::variable(x0 as f32);
    let f = y.mul_add(y.sin(), y.cos());
    assert_close(f.value(), x0 * x0.sin() + x0.cos(), F32, "x·sin x + cos x");
    assert_close(f.tangent(), x0 * x0.cos(), F32, "d/dx (x·sin x + cos x)");
}

#[test]
fn sin_cos_f32() {
    for x0 in [-2.5_f64, -0.5, 0.0, 0.3, 1.0, 3.0] {
        let x = x0 as f32;
        let (s, c) = Dual::variable(x).sin_cos();
        // the pair agrees with the separate methods and with the primitive sin_cos
        assert_eq!((s.value(), c.value()), x.sin_cos(), "values at {x0}");
        assert_eq!(
            s.tangent(),
            Dual::variable(x).sin().tangent(),
            "sin' at {x0}"
        );
        assert_eq!(
            c.tangent(),
            Dual::variable(x).cos().tangent(),
            "cos' at {x0}"
        );
        let x0 = x as f64; // the f32 point, exactly
        assert_close(s.tangent(), x0.cos(), F32, "sin' = cos");
        assert_close(c.tangent(), -x0.sin(), F32, "cos' = −sin");
        // second derivatives: sin'' = −sin, cos'' = −cos
        let (s, c) = HyperDual::variable(x).sin_cos();
        assert_close(s.eps12()[0][0], -x0.sin(), F32, "sin'' = −sin");
        assert_close(c.eps12()[0][0], -x0.cos(), F32, "cos'' = −cos");
        // sin² + cos² = 1 has zero derivative
        let one = s * s + c * c;
        assert_close(one.eps1()[0], 0.0, F32, "(sin² + cos²)'");
        assert_close(one.eps12()[0][0], 0.0, F32, "(sin² + cos²)''");
    }
}

#[test]
fn negation_f32() {
    let x = Dual::new(-2.0_f32, 0.75);
    let n = -x;
    assert_eq!((n.value(), n.tangent()), (2.0, -0.75));
    assert_eq!((-n).tangent(), 0.75);
    let v = -DualVec::<f32, 2>::new(1.5, [2.0, -3.0]);
    assert_eq!((v.value(), v.tangents()), (-1.5, [-2.0, 3.0]));
    let h = -(HyperDual::variable(3.0_f32) * HyperDual::variable(3.0));
    // −x²: −9, −2x = −6, −2
    assert_eq!(
        (h.value(), h.eps1()[0], h.eps2()[0], h.eps12()[0][0]),
        (-9.0, -6.0, -6.0, -2.0)
    );
    // negating zero keeps the sign bit of the value
    assert!((-Dual::variable(0.0_f32)).value().is_sign_negative());
}

#[test]
fn inv_f32() {
    assert_eq!(Dual::variable(-2.0_f32).inv().tangent(), -0.25);
    assert_eq!(Dual::variable(4.0_f32).recip().tangent(), -0.0625);
    for x0 in [-3.0_f64, -0.7, 0.1, 0.5, 2.0, 100.0] {
        let x = x0 as f32;
        let x0 = x as f64;
        let d = Dual::variable(x).inv();
        assert_close(d.value(), 1.0 / x0, F32, "1/x");
        assert_close(d.tangent(), -1.0 / (x0 * x0), F32, "(1/x)' = −1/x²");
        let h = HyperDual::variable(x).inv();
        assert_close(h.eps12()[0][0], 2.0 / (x0 * x0 * x0), F32, "(1/x)'' = 2/x³");
        let v = DualVec::<f32, 2>::new(x, [1.0, -2.0]).inv();
        assert_close(v.tangents()[1], 2.0 / (x0 * x0), F32, "(1/x)' along −2");
    }
}

#[test]
fn abs_sub_f32() {
    let x = Dual::variable(-2.0_f32);
    // abs_sub(x, y) = x − y above the tie (∂x = 1), 0 below (∂x = 0)
    assert_eq!(Signed::abs_sub(&x, &Dual::constant(-3.0)).tangent(), 1.0);
    assert_eq!(Signed::abs_sub(&x, &Dual::constant(0.0)).tangent(), 0.0);
    assert_eq!(Float::abs_sub(x, Dual::constant(-3.0)).value(), 1.0);
    assert_eq!(Float::abs_sub(x, Dual::constant(0.0)).value(), 0.0);
    // both partials, on each side of the tie
    let p = |a: f32, b: f32| {
        let y = Float::abs_sub(DualVec::<f32, 2>::variable(a, 0), DualVec::variable(b, 1));
        (y.value(), y.tangents())
    };
    assert_eq!(p(3.5, 1.25), (2.25, [1.0, -1.0]));
    assert_eq!(p(1.25, 3.5), (0.0, [0.0, 0.0]));
    // the primal agrees with the f32 definition max(x − y, 0)
    for (a, b) in [(0.1_f32, 0.3_f32), (0.3, 0.1), (-1e-3, -2e-3)] {
        let y = Float::abs_sub(Dual::variable(a), Dual::constant(b));
        assert_eq!(y.value(), (a - b).max(0.0), "abs_sub({a}, {b})");
    }
}
