//! The gamma family of [`SpecialFunctions`] (`gamma`, `ln_gamma`, `digamma`, `polygamma`):
//! values against mpmath references (`tools/gen_gamma_reference.py`: 75 points, orders 0–6),
//! first, second and third derivatives through `Dual`, `DualVec`, the hyper-dual and nested
//! duals, identities the algorithm does not use (the recurrence across its regimes, the
//! duplication formula), `f32` against `f64`, and the edge conventions at the poles, signed
//! zeros, ±∞ and NaN.

use crate::digamma_root_reference::DIGAMMA_NEAR_ROOT;
use crate::gamma_reference::{GAMMA, GammaRow, HIGH_ORDERS};
use adroit_forward::rules::Polygamma;
use adroit_forward::{Dual, DualVec, HyperDual, SpecialFunctions, derivative, second_derivative};

const EPS: f64 = f64::EPSILON;

/// `|got − want| ≤ k·ε·scale`, naming the case on failure.
#[track_caller]
fn within(got: f64, want: f64, k: f64, scale: f64, what: &str) {
    let bound = k * EPS * scale;
    assert!(
        got == want || (got - want).abs() <= bound,
        "{what}: {got:e} vs reference {want:e} (error {:.2e}, bound {bound:.2e})",
        (got - want).abs()
    );
}

/// The polygamma functions are within 8ε of their conditioning scale (the magnitude of the
/// parts the algorithm sums, from the script; the measured worst is 3.8ε, at order 6).
#[test]
fn polygamma_matches_mpmath() {
    assert!(GAMMA.len() >= 70);
    for row in &GAMMA {
        for n in 0..row.polygamma.len() {
            let what = format!("ψ^({n})({:e})", row.x);
            within(
                row.x.polygamma(n as u32),
                row.polygamma[n],
                8.0,
                row.scale[n],
                &what,
            );
        }
        assert_eq!(row.x.digamma(), row.x.polygamma(0));
    }
}

/// On `[1, 2]`, around `ψ`'s positive root `x₀ = 1.46163…`, the digamma function is within a
/// few ulps *relative* (`tools/gen_digamma_root.py`: 75 points, down to the root's own `f64`,
/// where `ψ = −9.2e-17`; the general method's error there is absolute, ~1e-16), and so are
/// the derivatives it gives: `ln Γ' = ψ` and `Γ' = Γ·ψ` at the minimum of `Γ`, through `Dual`.
#[test]
fn digamma_is_relatively_accurate_around_its_root() {
    assert!(DIGAMMA_NEAR_ROOT.len() >= 70);
    for (x, want) in DIGAMMA_NEAR_ROOT {
        let what = format!("ψ({x:e})");
        within(x.digamma(), want, 4.0, want.abs(), &what);
        let ln_gamma_slope = derivative(|t: Dual<f64>| t.ln_gamma(), x);
        within(
            ln_gamma_slope,
            want,
            4.0,
            want.abs(),
            &format!("ln Γ'({x:e})"),
        );
        let gamma_slope = derivative(|t: Dual<f64>| t.gamma(), x);
        let gamma_want = SpecialFunctions::gamma(x) * want;
        within(
            gamma_slope,
            gamma_want,
            6.0,
            gamma_want.abs(),
            &format!("Γ'({x:e})"),
        );
    }
    // The minimum of Γ: ψ changes sign between the root's f64 neighbours, as it must.
    let root = 1.4616321449683622_f64;
    assert!(root.digamma() < 0.0 && f64::from_bits(root.to_bits() + 1).digamma() > 0.0);
}

/// Orders 10, 20, 50 and 100, relative (measured worst: 30 ulps, `ψ⁽¹⁰⁰⁾(−0.3)`, where the
/// reflection's polynomial has degree 101).
#[test]
fn high_orders_match_mpmath() {
    for (x, n, want) in HIGH_ORDERS {
        let got = x.polygamma(n);
        within(got, want, 64.0, want.abs(), &format!("ψ^({n})({x})"));
    }
}

/// `ln|Γ|` and `Γ` (libm's) within a few ulps (`ln|Γ|` absolute near its zeros: 5.6 ulps of
/// `ln|Γ(−2.5)| ≈ −0.056` measured).
#[test]
fn ln_gamma_and_gamma_match_mpmath() {
    for row in &GAMMA {
        let what = format!("ln|Γ({:e})|", row.x);
        let ln_gamma = SpecialFunctions::ln_gamma(row.x);
        within(
            ln_gamma,
            row.ln_gamma,
            8.0,
            row.ln_gamma.abs().max(1.0),
            &what,
        );
        if let Some(gamma) = row.gamma {
            let what = format!("Γ({:e})", row.x);
            within(
                SpecialFunctions::gamma(row.x),
                gamma,
                4.0,
                gamma.abs(),
                &what,
            );
        }
    }
}

/// Rows away from the poles and from `ψ⁽ⁿ⁾`'s underflow (`Γ` may overflow there: the tests of
/// `Γ` take [`normal_gamma`]).
fn ordinary_rows() -> impl Iterator<Item = &'static GammaRow> {
    GAMMA
        .iter()
        .filter(|r| r.x.abs() >= 1e-3 && r.x.abs() <= 1e6)
}

/// `Γ(x)` where it is a normal `f64`.
fn normal_gamma(row: &GammaRow) -> Option<f64> {
    row.gamma.filter(|g| g.is_normal())
}

/// First derivatives on `Dual` and `DualVec`: `ln Γ' = ψ`, `ψ⁽ⁿ⁾' = ψ⁽ⁿ⁺¹⁾`, `Γ' = Γψ`.
#[test]
fn first_derivatives_on_dual_and_dual_vec() {
    let mut checked = 0;
    for row in ordinary_rows() {
        checked += 1;
        let x = row.x;
        let what = |f: &str| format!("d/dx {f} at {x:e}");
        let y = Dual::variable(x).ln_gamma();
        within(
            y.value(),
            row.ln_gamma,
            8.0,
            row.ln_gamma.abs().max(1.0),
            &what("ln Γ (value)"),
        );
        within(
            y.tangent(),
            row.polygamma[0],
            8.0,
            row.scale[0],
            &what("ln Γ"),
        );
        let y = DualVec::<f64, 3>::variable(x, 2).ln_gamma();
        assert_eq!(
            y.tangents(),
            [0.0, 0.0, Dual::variable(x).ln_gamma().tangent()]
        );
        for n in 0..6 {
            let d = derivative(|v: Dual<f64>| v.polygamma(n as u32), x);
            within(
                d,
                row.polygamma[n + 1],
                8.0,
                row.scale[n + 1],
                &what(&format!("ψ^({n})")),
            );
        }
        let d = derivative(|v: Dual<f64>| v.digamma(), x);
        within(d, row.polygamma[1], 8.0, row.scale[1], &what("ψ"));
        if let Some(gamma) = normal_gamma(row) {
            let d = derivative(|v: Dual<f64>| v.gamma(), x);
            within(
                d,
                gamma * row.polygamma[0],
                16.0,
                (gamma * row.scale[0]).abs(),
                &what("Γ"),
            );
        }
    }
    assert!(checked >= 60, "{checked} rows");
}

/// Second derivatives by the hyper-dual and by nesting, third by nesting twice.
#[test]
fn higher_derivatives_by_hyper_dual_and_nesting() {
    for row in ordinary_rows() {
        let x = row.x;
        let what = |f: &str| format!("{f} at {x:e}");
        let psi = &row.polygamma;
        let d2 = second_derivative(|v: HyperDual<f64>| v.ln_gamma(), x);
        within(d2, psi[1], 8.0, row.scale[1], &what("hyper-dual (ln Γ)''"));
        for n in 0..5 {
            let d2 = second_derivative(|v: HyperDual<f64>| v.polygamma(n as u32), x);
            within(
                d2,
                psi[n + 2],
                8.0,
                row.scale[n + 2],
                &what(&format!("hyper-dual ψ^({n})''")),
            );
        }
        let nested = derivative(
            |u: Dual<f64>| derivative(|v: Dual<Dual<f64>>| v.ln_gamma(), u),
            x,
        );
        within(nested, psi[1], 8.0, row.scale[1], &what("nested (ln Γ)''"));
        let third = derivative(
            |u: Dual<f64>| {
                derivative(
                    |v: Dual<Dual<f64>>| derivative(|w: Dual<Dual<Dual<f64>>>| w.ln_gamma(), v),
                    u,
                )
            },
            x,
        );
        within(third, psi[2], 8.0, row.scale[2], &what("nested (ln Γ)'''"));
        // Γ'' = Γ·(ψ² + ψ₁)
        if let Some(gamma) = normal_gamma(row) {
            let want = gamma * (psi[0] * psi[0] + psi[1]);
            let scale = gamma.abs() * (row.scale[0] * row.scale[0] + row.scale[1]);
            let d2 = second_derivative(|v: HyperDual<f64>| v.gamma(), x);
            within(d2, want, 32.0, scale, &what("Γ''"));
        }
    }
}

/// The recurrence `ψ⁽ⁿ⁾(x + 1) − ψ⁽ⁿ⁾(x) = (−1)ⁿ n!/xⁿ⁺¹` across the algorithm's regimes (the
/// reflection below 0, the switch to the asymptotic series at `12 + 2n`), and the duplication
/// formula `ψ(2x) = ½ψ(x) + ½ψ(x + ½) + ln 2`, neither of which the algorithm uses as such.
#[test]
fn recurrence_and_duplication_hold_across_regimes() {
    for k in 0..240 {
        let x = -30.05 + 0.29 * f64::from(k);
        if x == x.round() && x <= 0.0 {
            continue; // a pole (−17.0 is on the grid)
        }
        for n in 0..6u32 {
            let (a, b) = (x.polygamma(n), (x + 1.0).polygamma(n));
            let factorial: f64 = (1..=n).map(f64::from).product();
            let sign = if n % 2 == 0 { 1.0 } else { -1.0 };
            let term = sign * factorial / x.powi(n as i32 + 1);
            let scale = a.abs() + b.abs() + term.abs() + 1.0;
            within(
                b - a,
                term,
                64.0,
                scale,
                &format!("recurrence of ψ^({n}) at {x}"),
            );
        }
        if x > 0.0 {
            let want = 0.5 * x.digamma() + 0.5 * (x + 0.5).digamma() + 2.0_f64.ln();
            within(
                (2.0 * x).digamma(),
                want,
                16.0,
                want.abs() + 4.0,
                &format!("ψ(2·{x})"),
            );
        }
    }
}

/// `f32` values are the `f64` ones at the same argument, rounded (polygamma) or within a few
/// `f32` ulps (libm's `lgammaf`, `tgammaf`); derivatives likewise.
#[test]
fn f32_agrees_with_f64() {
    let eps32 = f64::from(f32::EPSILON);
    for row in ordinary_rows().filter(|r| r.x.abs() < 30.0) {
        let x32 = row.x as f32;
        let x = f64::from(x32);
        for n in 0..4u32 {
            assert_eq!(x32.polygamma(n), x.polygamma(n) as f32, "ψ^({n})({x32})");
        }
        let what = format!("ln|Γ({x32})|");
        let want = SpecialFunctions::ln_gamma(x);
        let got = f64::from(SpecialFunctions::ln_gamma(x32));
        assert!(
            (got - want).abs() <= 8.0 * eps32 * want.abs().max(1.0),
            "{what}: {got} vs {want}"
        );
        let want = SpecialFunctions::gamma(x);
        if want.abs() < 1e38 {
            let got = f64::from(SpecialFunctions::gamma(x32));
            assert!(
                (got - want).abs() <= 8.0 * eps32 * want.abs(),
                "Γ({x32}): {got} vs {want}"
            );
        }
        let d = derivative(|v: Dual<f32>| v.ln_gamma(), x32);
        assert_eq!(d, x.digamma() as f32, "(ln Γ)'({x32})");
        let d2 = second_derivative(|v: HyperDual<f32>| v.ln_gamma(), x32);
        assert_eq!(d2, x.polygamma(1) as f32, "(ln Γ)''({x32})");
    }
}

/// The documented conventions at the poles, signed zeros, ±∞ and NaN.
#[test]
fn edge_conventions() {
    let (inf, nan) = (f64::INFINITY, f64::NAN);
    // digamma: ∓∞ at ±0 (as −1/x), NaN at the negative integers (no two-sided limit) and −∞
    assert_eq!(0.0_f64.digamma(), -inf);
    assert_eq!((-0.0_f64).digamma(), inf);
    for x in [-1.0, -7.0, -1e15, -inf, nan] {
        assert!(x.digamma().is_nan(), "ψ({x})");
    }
    assert_eq!(inf.digamma(), inf);
    // just left of 0, where ψ⁽ⁿ⁾(x) ≈ (−1)ⁿ⁺¹ n!/xⁿ⁺¹ overflows: +∞ for every order (a trial
    // found NaN for negative subnormals, whose cot(πx) is −∞)
    for x in [-1e-310, -5e-324, -1.7e-309] {
        for n in 0..4 {
            assert_eq!(x.polygamma(n), inf, "ψ^({n})({x:e})");
        }
        assert_eq!(
            derivative(|v: Dual<f64>| v.ln_gamma(), x),
            inf,
            "(ln Γ)'({x:e})"
        );
    }
    assert_eq!((-1e-40_f32).digamma(), f32::INFINITY);
    assert_eq!((-1e-300_f64).digamma(), 1e300); // −1/x − γ, still finite
    assert_eq!((-1e-300_f64).polygamma(1), inf);
    // odd orders: +∞ at every pole (the limit from both sides); → +0 at +∞
    for x in [0.0, -0.0, -1.0, -4.0] {
        assert_eq!(x.polygamma(1), inf, "ψ₁({x})");
        assert_eq!(x.polygamma(3), inf, "ψ₃({x})");
    }
    assert!(inf.polygamma(1) == 0.0 && inf.polygamma(1).is_sign_positive());
    // even orders ≥ 2: as the digamma function; → −0 at +∞
    assert_eq!(0.0_f64.polygamma(2), -inf);
    assert_eq!((-0.0_f64).polygamma(2), inf);
    assert!((-3.0_f64).polygamma(2).is_nan());
    assert!(inf.polygamma(2) == 0.0 && inf.polygamma(2).is_sign_negative());
    // ln|Γ|: +∞ at the poles and at ±∞; its derivative ψ
    for x in [0.0, -0.0, -1.0, -2.0, inf, -inf] {
        assert_eq!(SpecialFunctions::ln_gamma(x), inf, "ln|Γ({x})|");
    }
    assert_eq!(derivative(|v: Dual<f64>| v.ln_gamma(), 0.0), -inf);
    assert_eq!(derivative(|v: Dual<f64>| v.ln_gamma(), -0.0), inf);
    assert!(derivative(|v: Dual<f64>| v.ln_gamma(), -2.0).is_nan());
    assert_eq!(derivative(|v: Dual<f64>| v.ln_gamma(), inf), inf);
    // Γ: ±∞ at ±0 with Γ' = −∞ from both sides; NaN at the negative integers and −∞
    let at = |x: f64| {
        let y = Dual::variable(x).gamma();
        (y.value(), y.tangent())
    };
    assert_eq!(at(0.0), (inf, -inf));
    assert_eq!(at(-0.0), (-inf, -inf));
    assert!(at(-2.0).0.is_nan() && at(-2.0).1.is_nan());
    assert!(at(-inf).0.is_nan() && at(-inf).1.is_nan());
    assert_eq!(at(inf), (inf, inf));
    assert_eq!(at(172.0), (inf, inf)); // overflow
    assert_eq!(at(171.5).1, inf); // Γ' overflows first (from 171.31), Γ(171.5) ≈ 9.5e307
    // the documented limit: where Γ = +∞ the third derivative's terms are ∞ of both signs
    let third = derivative(
        |u: Dual<f64>| {
            derivative(
                |v: Dual<Dual<f64>>| derivative(|w: Dual<Dual<Dual<f64>>>| w.gamma(), v),
                u,
            )
        },
        1000.0,
    );
    assert!(third.is_nan());
    // NaN in, NaN out, everywhere
    for v in [
        Dual::variable(nan).ln_gamma(),
        Dual::variable(nan).gamma(),
        Dual::variable(nan).polygamma(3),
    ] {
        assert!(v.value().is_nan() && v.tangent().is_nan());
    }
    // f32 follows the same conventions
    assert_eq!(0.0_f32.digamma(), f32::NEG_INFINITY);
    assert_eq!((-2.0_f32).polygamma(1), f32::INFINITY);
    assert_eq!(SpecialFunctions::ln_gamma(-3.0_f32), f32::INFINITY);
}

/// The order limit: `Polygamma::MAX_ORDER` is computed, one more panics (on a dual number the
/// derivative needs one more, so its last order is one less).
#[test]
fn orders_up_to_the_limit() {
    let max = Polygamma::MAX_ORDER;
    // ψ⁽¹⁰⁰⁾(30) ≈ 99!/30¹⁰⁰·(1 + …): positive? (−1)¹⁰¹ = −1: negative and finite
    let v = 30.0_f64.polygamma(max);
    assert!(v.is_finite() && v < 0.0, "{v}");
    assert!(std::panic::catch_unwind(|| 30.0_f64.polygamma(max + 1)).is_err());
    assert!(
        Dual::variable(30.0_f64)
            .polygamma(max - 1)
            .tangent()
            .is_finite()
    );
    assert!(std::panic::catch_unwind(|| Dual::variable(30.0_f64).polygamma(max)).is_err());
}
