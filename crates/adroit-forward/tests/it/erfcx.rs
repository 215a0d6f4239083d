//! `SpecialFunctions::erfcx` against mpmath (`tools/gen_erfcx_reference.py`): the value and
//! the first three derivatives (a `Dual`, a `Dual` of a `Dual`, and three nested levels), the
//! hyper-dual's second derivative, `f32`, and the conventions at `±∞` and NaN.

use crate::erfcx_reference::ERFCX;
use adroit_forward::{Dual, HyperDual, SpecialFunctions};

type D1 = Dual<f64>;
type D2 = Dual<D1>;
type D3 = Dual<D2>;

/// `[erfcx y, erfcx' y, erfcx'' y, erfcx''' y]` by three nested duals seeded at `y`.
fn by_nested_duals(y: f64) -> [f64; 4] {
    let one = |v: f64| D1::new(v, 0.0);
    let x2 = D2::new(D1::new(y, 1.0), one(1.0));
    let x3 = D3::new(x2, D2::new(one(1.0), one(0.0)));
    let out = x3.erfcx();
    let d1 = D1::variable(y).erfcx().tangent();
    let d2 = D2::new(D1::variable(y), one(1.0))
        .erfcx()
        .tangent()
        .tangent();
    [
        out.value().value().value(),
        d1,
        d2,
        out.tangent().tangent().tangent(),
    ]
}

/// `|got − want| ≤ ulps·ε·|want|` (exact agreement for zeros and infinities).
fn close(got: f64, want: f64, ulps: f64) -> bool {
    if want == 0.0 || want.is_infinite() {
        return got == want;
    }
    (got - want).abs() <= ulps * f64::EPSILON * want.abs()
}

#[test]
fn values_and_three_derivatives_match_mpmath() {
    for &(y, want) in ERFCX {
        let got = by_nested_duals(y);
        // measured at most 1.1, 5.3, 22 and 97 ulps (170 just below 2; the last three below 2, where the
        // closed form's cancellation, up to 2y² = 8, compounds with each order; 2 from there)
        let ulps = [4.0, 16.0, 64.0, 256.0];
        for k in 0..4 {
            // derivatives that underflow in f64 (beyond y ≈ 1e100) are checked as tiny
            if want[k].abs() < 1e-290 && got[k].abs() < 1e-290 {
                continue;
            }
            assert!(
                close(got[k], want[k], ulps[k]),
                "erfcx derivative {k} at {y}: {} vs mpmath {} ({:.1} ulps)",
                got[k],
                want[k],
                (got[k] - want[k]).abs() / (f64::EPSILON * want[k].abs())
            );
        }
    }
}

#[test]
fn the_hyper_dual_gives_the_same_second_derivative() {
    for &(y, want) in ERFCX
        .iter()
        .filter(|(y, w)| y.abs() < 1e8 && w[2].is_finite())
    {
        let h = HyperDual::new(y, [1.0], [1.0], [[0.0]]).erfcx();
        assert!(close(h.eps1()[0], want[1], 16.0), "first derivative at {y}");
        assert!(
            close(h.eps12()[0][0], want[2], 64.0),
            "second derivative at {y}"
        );
    }
}

#[test]
fn single_precision_rounds_the_double_value() {
    for &(y, want) in ERFCX.iter().filter(|(y, _)| y.abs() < 9.0 || *y > 0.0) {
        let got = SpecialFunctions::erfcx(y as f32);
        let expected = (SpecialFunctions::erfcx(f64::from(y as f32))) as f32;
        assert_eq!(got, expected, "at {y}");
        if (y as f32) as f64 == y && want[0] < 3e38 {
            assert!(((got as f64) - want[0]).abs() <= 2.0 * f32::EPSILON as f64 * want[0]);
        }
    }
}

#[test]
fn conventions_at_infinities_and_nan() {
    assert_eq!(SpecialFunctions::erfcx(f64::INFINITY), 0.0);
    assert_eq!(SpecialFunctions::erfcx(f64::NEG_INFINITY), f64::INFINITY);
    assert_eq!(SpecialFunctions::erfcx(-27.0_f64), f64::INFINITY); // 2e^729 overflows
    assert!(SpecialFunctions::erfcx(f64::NAN).is_nan());
    let at_infinity = D1::variable(f64::INFINITY).erfcx();
    assert_eq!(at_infinity.value(), 0.0);
    assert!(at_infinity.tangent() == 0.0 && at_infinity.tangent().is_sign_negative());
    let below = D1::variable(-30.0).erfcx();
    assert_eq!(
        (below.value(), below.tangent()),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    assert_eq!(SpecialFunctions::erfcx(0.0_f64), 1.0);
}

#[test]
fn the_branches_meet_continuously() {
    // at y = 2 (continued fraction) and 12 (series) the methods change: both sides agree to
    // rounding in every order
    for edge in [2.0_f64, 12.0] {
        let below = by_nested_duals(edge - edge * f64::EPSILON);
        let above = by_nested_duals(edge);
        for k in 0..4 {
            assert!(
                close(below[k], above[k], 256.0),
                "order {k} at {edge}: {below:?} vs {above:?}"
            );
        }
    }
}
