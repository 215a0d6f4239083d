//! `ln_beta`: value, gradient and Hessian against mpmath references
//! (`tools/gen_ln_beta_reference.py`, 400 digits) on both sides of the switch to Stirling's
//! series and far beyond it (where `ln Γ(a) + ln Γ(b) − ln Γ(a + b)` keeps no digits), in f64
//! and f32, and the edge conventions.

use crate::ln_beta_reference::LN_BETA;
use adroit_forward::{Dual, SpecialFunctions, derivative, gradient, hessian, ln_beta};
use num_traits::Float;

/// `|got − want| ≤ k·ε·scale + (smallest normal)`, or equal.
#[track_caller]
fn within(got: f64, want: f64, k: f64, eps: f64, scale: f64, what: &str) {
    let bound = k * eps * scale + f64::MIN_POSITIVE;
    assert!(
        got == want || (got - want).abs() <= bound,
        "{what}: {got:e} vs reference {want:e}"
    );
}

/// Inside the documented range (larger argument below 1e70, `y²/x` below 1e230) the value,
/// both partials and the Hessian are within 8ε (the value within 8ε of `max(|ln B|, 1)`:
/// `ln B(1, 1) = 0` comes out as a rounding error of the Stirling terms); measured worst 3.4ε
/// at these points. Outside it the value still is, and at the tiny arguments here the
/// gradient.
#[test]
fn matches_mpmath_in_f64() {
    let eps = f64::EPSILON;
    let mut full = 0;
    for (a, b, [v, da, db, daa, dab, dbb]) in LN_BETA {
        let what = |part: &str| format!("ln B({a:e}, {b:e}) {part}");
        within(ln_beta(a, b), v, 8.0, eps, v.abs().max(1.0), &what("value"));
        let (x, y) = (a.min(b), a.max(b));
        if y > 1e70 || y * y / x > 1e230 && x > 1e-150 {
            continue; // partials lose through underflowing intermediate steps (documented)
        }
        let g = gradient(|x| ln_beta(x[0], x[1]), &[a, b]);
        within(g[0], da, 8.0, eps, da.abs(), &what("∂a"));
        within(g[1], db, 8.0, eps, db.abs(), &what("∂b"));
        if a.min(b) < 1e-150 {
            continue; // ψ₁ of the arguments overflows
        }
        full += 1;
        let h = hessian(|x| ln_beta(x[0], x[1]), &[a, b]);
        within(h[(0, 0)], daa, 8.0, eps, daa.abs(), &what("∂aa"));
        within(h[(0, 1)], dab, 8.0, eps, dab.abs(), &what("∂ab"));
        within(h[(1, 1)], dbb, 8.0, eps, dbb.abs(), &what("∂bb"));
        assert_eq!(h[(0, 1)], h[(1, 0)]);
    }
    assert!(full >= 18, "{full} rows fully checked");
}

/// `f32` at the reference points it represents (through `lgammaf` and the same series).
#[test]
fn matches_mpmath_in_f32() {
    let eps = f64::from(f32::EPSILON);
    let mut checked = 0;
    for (a, b, [v, da, db, ..]) in LN_BETA {
        let (a32, b32) = (a as f32, b as f32);
        if f64::from(a32) != a || f64::from(b32) != b || a.max(b) > 1e30 || a.min(b) < 1e-30 {
            continue;
        }
        checked += 1;
        let what = |part: &str| format!("f32 ln B({a:e}, {b:e}) {part}");
        within(
            f64::from(ln_beta(a32, b32)),
            v,
            16.0,
            eps,
            v.abs().max(1.0),
            &what("value"),
        );
        let g = gradient(|x| ln_beta(x[0], x[1]), &[a32, b32]);
        within(f64::from(g[0]), da, 16.0, eps, da.abs(), &what("∂a"));
        within(f64::from(g[1]), db, 16.0, eps, db.abs(), &what("∂b"));
    }
    assert!(checked >= 10, "{checked} points");
}

/// The negative-binomial rewrite the docs give: `ln Γ(k + r) − ln Γ(r) − ln Γ(k + 1)` as
/// `−ln B(r, k + 1) − ln(r + k)` keeps the derivative in `r` at large `r`, where the `ln Γ`
/// differences lose it (`∂/∂r = ψ(k + r) − ψ(r) = Σⱼ<ₖ 1/(r + j)` for an integer `k`).
#[test]
fn negative_binomial_terms_keep_their_derivative() {
    let k = 5.0;
    for r in [1e3, 1e8, 1e13] {
        let want: f64 = (0..5).map(|j| 1.0 / (r + f64::from(j))).sum();
        let stable = derivative(
            |r: Dual<f64>| -ln_beta(r, Dual::constant(k + 1.0)) - (r + k).ln(),
            r,
        );
        assert!(
            (stable - want).abs() <= 8.0 * f64::EPSILON * want,
            "at r = {r}: {stable} vs {want}"
        );
        let naive = derivative(|r: Dual<f64>| (r + k).ln_gamma() - r.ln_gamma(), r);
        if r >= 1e13 {
            assert!(
                (naive - want).abs() > 1e-3 * want,
                "the naive form keeps digits at {r}?"
            );
        }
    }
}

/// The documented conventions: `+∞` at a zero argument (partial `−∞` there), `−∞` at an
/// infinite one, NaN (with NaN partials) for negative arguments, `∞` with 0, and NaN.
#[test]
fn edge_conventions() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    let g = |a: f64, b: f64| gradient(|x| ln_beta(x[0], x[1]), &[a, b]);
    assert_eq!(ln_beta(0.0, 2.0), inf);
    assert_eq!(g(0.0, 2.0), vec![-inf, 0.0]);
    assert_eq!(g(2.0, 0.0), vec![0.0, -inf]);
    assert_eq!(ln_beta(0.0, 0.0), inf);
    assert_eq!(g(0.0, 0.0), vec![-inf, -inf]);
    assert_eq!(ln_beta(2.0, inf), -inf);
    assert_eq!(g(2.0, inf), vec![0.0, 0.0]);
    for (a, b) in [(-1.0, 2.0), (2.0, -0.5), (0.0, inf), (nan, 1.0), (1.0, nan)] {
        assert!(ln_beta(a, b).is_nan(), "({a}, {b})");
        assert!(
            g(a, b).iter().all(|p| p.is_nan()),
            "({a}, {b}): {:?}",
            g(a, b)
        );
    }
    // symmetric, bit for bit
    assert_eq!(ln_beta(3.5, 120.0), ln_beta(120.0, 3.5));
    assert!((ln_beta(2.0_f32, 3.0) + 12.0_f32.ln()).abs() <= 4.0 * f32::EPSILON * 2.5);
}
