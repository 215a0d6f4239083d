//! Branches of the rule table (and of `chain_matmul`) that no other test of this binary
//! reached: each test below fails on a mutant of the code it names (cargo-mutants 27.1.0 over
//! `src/rules/` and `src/chain_rule.rs`, session 69), and passes on the code as written. The
//! expected values are analytic or mpmath's (40 digits).

use adroit_forward::nalgebra::dmatrix;
use adroit_forward::rules::{BinaryRule, Div, Hypot, Log, Powf, Rem};
use adroit_forward::{Dual, chain_matmul, derivative, second_derivative};
use num_traits::Float;

use crate::regressions::relative as rel;

/// `Powf`'s ∂p at `x = 0` and its slope in `x` (the mixed partial read from ∂p, as
/// forward-over-reverse reads it): 0 for `p > 1`, the one-sided `−∞` for `0 < p ≤ 1`.
#[test]
fn powf_dp_at_a_zero_base_has_the_one_sided_slope() {
    let slope = |p: f64| {
        Powf.eval(Dual::variable(0.0), Dual::constant(p))
            .2
            .tangent()
    };
    assert_eq!(slope(2.0), 0.0);
    assert_eq!(slope(1.0), f64::NEG_INFINITY);
    assert_eq!(slope(0.5), f64::NEG_INFINITY);
}

/// `Powf`'s ∂p as `x·(xᵖ⁻¹·ln|x|)` where `xᵖ` overflows or underflows at a normal `x`: the
/// value, and its slope in `x`, `xᵖ⁻¹·(1 + p·ln x)`, finite where `xᵖ` is not.
#[test]
fn powf_dp_where_the_power_overflows_or_underflows() {
    let (value, _, dp) = Powf.eval(1e160_f64, 2.0);
    assert_eq!((value, dp), (f64::INFINITY, f64::INFINITY));
    let slope = Powf
        .eval(Dual::variable(1e160), Dual::constant(2.0))
        .2
        .tangent();
    let want = 1e160 * (1.0 + 2.0 * 1e160_f64.ln());
    assert!(rel(slope, want) < 1e-13, "{slope:e} against {want:e}");
    // 0.5¹¹⁰⁰ underflows to 0, and so does ∂p (≈ −1e-331)
    let (value, _, dp) = Powf.eval(0.5_f64, 1100.0);
    assert!(value == 0.0 && dp == 0.0, "∂p = {dp:e}");
    // 0.5¹⁰⁵⁰ = 2⁻¹⁰⁵⁰ is subnormal; ∂p = 2⁻¹⁰⁵⁰·ln ½ = −5.7455e-317 (subnormal: 6 digits)
    let (_, _, dp) = Powf.eval(0.5_f64, 1050.0);
    assert!(rel(dp, -5.745_529e-317) < 1e-6, "∂p = {dp:e}");
}

/// `Hypot`'s partials where the value overflows or is subnormal: from the arguments scaled by
/// a power of two, still `x/h` and `y/h`.
#[test]
fn hypot_partials_where_the_value_overflows_or_is_subnormal() {
    let r = std::f64::consts::FRAC_1_SQRT_2;
    let (value, dx, dy) = Hypot.eval(1.5e308_f64, 1.5e308);
    assert!(value.is_infinite() && (dx - r).abs() < 1e-15 && (dy - r).abs() < 1e-15);
    let r32 = std::f32::consts::FRAC_1_SQRT_2;
    let (value, dx, dy) = Hypot.eval(3e38_f32, -3e38);
    assert!(value.is_infinite() && (dx - r32).abs() < 1e-6 && (dy + r32).abs() < 1e-6);
    // 3·2⁻¹⁰³⁰ and 4·2⁻¹⁰³⁰, exact subnormals: hypot 5·2⁻¹⁰³⁰, partials (0.6, 0.8)
    let u = f64::MIN_POSITIVE / 256.0;
    let (value, dx, dy) = Hypot.eval(3.0 * u, 4.0 * u);
    assert!(!value.is_normal() && (dx - 0.6).abs() < 1e-15 && (dy - 0.8).abs() < 1e-15);
}

/// `Log`'s ∂x = `1/(x·ln b)` at a huge `x`, on the normal path (the subnormal path's `x·2⁶⁴`
/// overflows from `x` ≈ 1.8e19 in `f32`).
#[test]
fn log_dx_at_a_huge_argument() {
    let want = 1.0 / (1e300 * std::f64::consts::LN_2);
    let (_, dx, _) = Log.eval(1e300_f64, 2.0);
    assert!(rel(dx, want) < 1e-14, "{dx:e} against {want:e}");
    let d = derivative(|x| x.log(Dual::constant(2.0)), 1e300_f64);
    assert!(rel(d, want) < 1e-14, "{d:e} against {want:e}");
    // 1/(1e20·ln 10) in f32 (1e20 rounds to 100000002004087734272)
    let (_, dx, _) = Log.eval(1e20_f32, 10.0);
    assert!((dx / 4.342_944_6e-21 - 1.0).abs() < 1e-6, "{dx:e}");
}

/// `Log`'s ∂b = `−ln x/(b·ln²b)` at a subnormal base, on the plain path (the scaled path is
/// for normal bases below `√MIN_POSITIVE`; a subnormal's binade is 0).
#[test]
fn log_db_at_a_subnormal_base() {
    let (_, _, db) = Log.eval(2.0_f64, 1e-310);
    // mpmath at the f64 nearest 1e-310 (a subnormal of ~45 significant bits)
    assert!(rel(db, -1.360_412_757_588_213e304) < 1e-9, "{db:e}");
}

/// `Tanh`'s derivative in the tails, `4e/(1 + e)²` with `e = e^(−2|x|)`: its digits where
/// `tanh x` rounds to ±1 (`1 − tanh²` gives 0 at 20), and 0 rather than NaN where `e^(2|x|)`
/// would overflow.
#[test]
fn tanh_derivative_in_the_tails() {
    let want = 1.0 / 20_f64.cosh().powi(2);
    let d = derivative(|x| x.tanh(), 20.0_f64);
    assert!(rel(d, want) < 1e-14, "{d:e} against {want:e}");
    let d2 = second_derivative(|x| x.tanh(), 20.0_f64);
    assert!(rel(d2, -2.0 * want) < 1e-14, "{d2:e}");
    for x in [400.0_f64, -400.0] {
        assert_eq!(derivative(|x| x.tanh(), x), 0.0, "tanh'({x})");
        assert_eq!(second_derivative(|x| x.tanh(), x), 0.0, "tanh''({x})");
    }
    // 4e⁻¹⁰⁰ ≈ 1.5e-43, a subnormal f32
    let d = derivative(|x| x.tanh(), 50.0_f32);
    assert!(d.is_finite() && d > 0.0 && d < 1e-42, "{d:e}");
}

/// `Div::eval_dx`, the path of a constant divisor: the value `x/y` and the partial `1/y`.
#[test]
fn div_with_a_constant_divisor() {
    assert_eq!(Div.eval_dx(3.0_f64, 2.0), (1.5, 0.5));
    assert_eq!(derivative(|x| x / Dual::constant(2.0), 3.0), 0.5);
    assert_eq!((Dual::variable(3.0) / 2.0).value(), 1.5);
}

/// `Powf`'s ∂x where `xᵖ` overflows or underflows at a normal `x`: `p·xᵖ⁻¹` by a second
/// `powf`, not `p·(xᵖ/x)` (`∞/x = ∞`, `0/x = 0`).
#[test]
fn powf_dx_where_the_power_overflows_or_underflows() {
    for x in [1e200_f64, -1e200, 1e-200, -1e-200] {
        assert_eq!(Powf.eval_dx(x, 2.0), (x * x, 2.0 * x), "x = {x:e}");
        let y = Dual::variable(x).powf(Dual::constant(2.0));
        assert_eq!(y.tangent(), 2.0 * x, "Dual, x = {x:e}");
    }
    assert_eq!(Powf.eval_dx(1e120_f64, 3.0).1, 3.0 * 1e120_f64.powf(2.0));
}

/// `Powf`'s ∂x at a tiny `x` whose second derivative overflows, formed as `(p·h)·h` with
/// `h = |x|^((p − 1)/2)` and `xᵖ⁻¹`'s sign (a product of signs, ±1).
#[test]
fn powf_dx_at_a_tiny_base_where_the_second_derivative_overflows() {
    let dx = Powf.eval_dx(1e-207_f64, 0.5).1;
    let want = 0.5 / 1e-207_f64.sqrt();
    assert!(rel(dx, want) < 1e-14, "{dx:e} against {want:e}");
    let dx = Powf.eval_dx(1e-306_f64, 1e-10).1;
    let want = 1e-10 * 1e-306_f64.powf(1e-10 - 1.0);
    assert!(rel(dx, want) < 1e-13, "{dx:e} against {want:e}");
}

/// `Powf`'s ∂x at `x = ±0` for `0 < p < 1`: `+∞`, through `exp(ln p + (p − 1)·ln x)`, on both
/// paths into it (`xᵖ = 0` not moderate at `p = ½`; `p` near 1 at 0.9).
#[test]
fn powf_dx_at_a_zero_base_for_a_fractional_power_is_infinite() {
    for p in [0.5_f64, 0.9] {
        assert_eq!(Powf.eval_dx(0.0_f64, p), (0.0, f64::INFINITY), "p = {p}");
        assert_eq!(
            Powf.eval_dx(-0.0_f64, p).1,
            f64::INFINITY,
            "x = −0, p = {p}"
        );
    }
}

/// `Powf`'s ∂x within a factor 1024 of overflow (`(1e154)² = 1e308`): by a second `powf`, so
/// that its slope in `p`, the mixed partial `xᵖ⁻¹·(1 + p·ln x)` = 7.1e156, stays finite.
#[test]
fn powf_mixed_partial_near_overflow_read_from_dx() {
    let x = 1e154_f64;
    let dx = Powf.eval(Dual::constant(x), Dual::variable(2.0)).1;
    let want = x * (1.0 + 2.0 * x.ln());
    assert!(rel(dx.tangent(), want) < 1e-13, "{dx:?} against {want:e}");
    assert_eq!(dx.value(), 2.0 * x);
}

/// `chain_matmul` recomputes an entry that the plain product made NaN term by term under the
/// `0·∞ = 0` convention: `2·3 + 0·∞ + 1·4 = 10`; the other entries are the plain product's.
#[test]
fn chain_matmul_recomputes_a_nan_entry_term_by_term() {
    let inf = f64::INFINITY;
    let a = dmatrix![2.0, 0.0, 1.0; 1.0, 1.0, 1.0];
    let b = dmatrix![3.0; inf; 4.0];
    assert_eq!(chain_matmul(&a, &b), dmatrix![10.0; inf]);
}

/// `Rem::eval_dx`, the path of a constant divisor: the value `x mod y` and the partial 1.
#[test]
fn rem_with_a_constant_divisor() {
    assert_eq!(Rem.eval_dx(7.0_f64, 3.0), (1.0, 1.0));
    assert_eq!(Rem.eval_dx(-7.5_f64, 2.0), (-1.5, 1.0));
}
