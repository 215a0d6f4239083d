//! `max`, `min`, `clamp`, `copysign` and `mul_add` in reverse mode, in f32 and f64: every
//! partial equals forward mode's (`adroit_forward::gradient` on `Dual<T>`, the same rule table)
//! exactly — on a grid inside each piece, at ties and kinks (where both follow the
//! documented conventions) and at signed zeros — and, inside the pieces, the analytic partial
//! (0 or 1 for the piecewise-linear functions, `(a, x, 1)` for `x·a + b`).

use adroit_reverse::{TapeScalar, gradient};
use num_traits::Float;
use std::fmt::Debug;

/// Points in [−3, 3], multiples of 1/64 (exact in f32), with the ties and signed zeros the
/// conventions decide.
fn points() -> Vec<f64> {
    let mut p: Vec<f64> = (0..13)
        .map(|k| -3.0 + 0.5 * f64::from(k) + 1.0 / 64.0)
        .collect();
    p.extend([0.0, -0.0, 1.0, -1.0, 2.0]);
    p
}

/// Reverse and forward gradients of `f` at `x` (in `T`), as f64, with the primal value.
fn both<T: TapeScalar + Debug>(
    reverse: impl Fn(&[adroit_reverse::Var<T>]) -> adroit_reverse::Var<T>,
    forward: impl Fn(&[adroit_forward::Dual<T>]) -> adroit_forward::Dual<T>,
    x: &[f64],
) -> (Vec<f64>, Vec<f64>) {
    let xt: Vec<T> = x.iter().map(|&v| T::from(v).unwrap()).collect();
    let widen = |g: Vec<T>| g.iter().map(|v| v.to_f64().unwrap()).collect::<Vec<f64>>();
    (
        widen(gradient(reverse, &xt)),
        widen(adroit_forward::gradient(forward, &xt)),
    )
}

/// Asserts reverse = forward exactly (as numbers: a zero partial may differ in sign, since
/// reverse mode accumulates into adjoints that start at +0; NaN never expected) and returns
/// the partials.
#[track_caller]
fn same<T: TapeScalar + Debug>(
    reverse: impl Fn(&[adroit_reverse::Var<T>]) -> adroit_reverse::Var<T>,
    forward: impl Fn(&[adroit_forward::Dual<T>]) -> adroit_forward::Dual<T>,
    x: &[f64],
    what: &str,
) -> Vec<f64> {
    let (r, f) = both(reverse, forward, x);
    assert_eq!(r, f, "{what} at {x:?}: reverse {r:?}, forward {f:?}");
    r
}

fn max_min<T: TapeScalar + Debug>() {
    for &x in &points() {
        for &y in &points() {
            let g = same::<T>(|v| v[0].max(v[1]), |v| v[0].max(v[1]), &[x, y], "max");
            let h = same::<T>(|v| v[0].min(v[1]), |v| v[0].min(v[1]), &[x, y], "min");
            let expected = if x > y {
                ([1.0, 0.0], [0.0, 1.0])
            } else if x < y {
                ([0.0, 1.0], [1.0, 0.0])
            } else {
                // a tie (also +0 against −0): the cotangent split ½/½, the documented convention
                ([0.5, 0.5], [0.5, 0.5])
            };
            assert_eq!(
                (g.as_slice(), h.as_slice()),
                (&expected.0[..], &expected.1[..])
            );
        }
    }
}

fn clamp<T: TapeScalar + Debug>() {
    // at a bound the input passes through with partial 1 (`clamp` selects by `<` and `>`)
    let p = points();
    let mut pieces = [0usize; 3];
    for &x in &p {
        for (&lo, &hi) in p.iter().zip(p.iter().skip(4)).filter(|(lo, hi)| lo < hi) {
            let g = same::<T>(
                |v| v[0].clamp(v[1], v[2]),
                |v| v[0].clamp(v[1], v[2]),
                &[x, lo, hi],
                "clamp",
            );
            if x > lo && x < hi {
                assert_eq!(g, [1.0, 0.0, 0.0], "clamp({x}, {lo}, {hi}) inside");
                pieces[0] += 1;
            } else if x < lo {
                assert_eq!(g, [0.0, 1.0, 0.0], "clamp({x}, {lo}, {hi}) below");
                pieces[1] += 1;
            } else if x > hi {
                assert_eq!(g, [0.0, 0.0, 1.0], "clamp({x}, {lo}, {hi}) above");
                pieces[2] += 1;
            } else {
                // at a bound: the input passes through (boundaries included, documented)
                assert_eq!(g, [1.0, 0.0, 0.0], "clamp({x}, {lo}, {hi}) at a bound");
            }
        }
    }
    assert!(pieces.iter().all(|&n| n > 10), "pieces reached {pieces:?}");
}

fn copysign<T: TapeScalar + Debug>() {
    for &x in &points() {
        for &s in &points() {
            let g = same::<T>(
                |v| v[0].copysign(v[1]),
                |v| v[0].copysign(v[1]),
                &[x, s],
                "copysign",
            );
            // ±1 for the magnitude (−1 when the sign bits differ), 0 for the sign; at the kink
            // x = ±0, ∂x = 0 (the documented convention, as abs'(0) = 0).
            let flip = x.is_sign_negative() != s.is_sign_negative();
            let dx = if x == 0.0 {
                0.0
            } else if flip {
                -1.0
            } else {
                1.0
            };
            assert_eq!(g, [dx, 0.0], "copysign({x}, {s})");
        }
    }
}

fn mul_add<T: TapeScalar + Debug>() {
    let p = points();
    for &x in &p {
        for &a in p.iter().step_by(3) {
            for &b in p.iter().step_by(4) {
                let g = same::<T>(
                    |v| v[0].mul_add(v[1], v[2]),
                    |v| v[0].mul_add(v[1], v[2]),
                    &[x, a, b],
                    "mul_add",
                );
                assert_eq!(g, [a, x, 1.0], "mul_add({x}, {a}, {b})");
                // one variable in two places: x·x + a·b, partials (2x, b, a)
                let g = same::<T>(
                    |v| v[0].mul_add(v[0], v[1] * v[2]),
                    |v| v[0].mul_add(v[0], v[1] * v[2]),
                    &[x, a, b],
                    "mul_add(x, x, a·b)",
                );
                assert_eq!(g, [2.0 * x, b, a], "x² + a·b at ({x}, {a}, {b})");
            }
        }
    }
}

macro_rules! both_precisions {
    ($($name:ident => $f:ident;)*) => {
        mod f64_cases {
            $(#[test] fn $name() { super::$f::<f64>(); })*
        }
        mod f32_cases {
            $(#[test] fn $name() { super::$f::<f32>(); })*
        }
    };
}

both_precisions! {
    max_and_min_agree_with_forward_mode => max_min;
    clamp_agrees_with_forward_mode => clamp;
    copysign_agrees_with_forward_mode => copysign;
    mul_add_agrees_with_forward_mode => mul_add;
}
