//! The regularised incomplete gamma functions against mpmath
//! (`tools/gen_gammainc_reference.py`): `P`, `Q`, and `P`'s gradient and Hessian in both
//! arguments by forward mode (hyper-duals), `f32`, identities (Poisson and chi-square
//! distribution functions, `P + Q = 1`, monotonicity), and the conventions at `x = 0`,
//! `x = ∞` and outside the domain.

use crate::gammainc_reference::GAMMAINC;
use crate::third_order::{D3, third_order};
use adroit_forward::incomplete_gamma::{gammainc, gammaincc};
use adroit_forward::{Dual, SpecialFunctions, derivative, gradient, value_gradient_and_hessian};

/// `|got − want|` in units of `ε·max(|want|, floor)` (and at least of the smallest normal
/// number's: subnormal results keep only absolute precision).
fn ulps(got: f64, want: f64, floor: f64) -> f64 {
    if got == want {
        0.0
    } else {
        let scale = want.abs().max(floor).max(f64::MIN_POSITIVE);
        (got - want).abs() / (f64::EPSILON * scale)
    }
}

/// `1 + |ln v|`: the rounding of an exponent of size `ln v` is that many ulps of `v`.
fn log_size(v: f64) -> f64 {
    1.0 + if v == 0.0 { 0.0 } else { v.abs().ln().abs() }
}

#[test]
fn values_and_derivatives_match_mpmath() {
    for &(a, x, want) in GAMMAINC {
        let (p, g, h) = value_gradient_and_hessian(|v| gammainc(v[0], v[1]), &[a, x]);
        let got = [
            p,
            gammaincc(a, x),
            g[0],
            g[1],
            h[(0, 0)],
            h[(0, 1)],
            h[(1, 1)],
        ];
        // the smaller of P and Q relative to its value, the rounding of its exponent
        // included, and for large shapes the rounding of the series' and fraction's √a terms
        // (measured: at most 10·(1 + |ln v|) ulps, 48 at a = 1e5); the larger, and Q where it
        // is 1 − P above a + 1 for large shapes, to (8 + 0.5·√a) ε absolutely
        let band = a >= 10.0 && x >= a + 1.0 && x < a + 1.0 + a.sqrt();
        // below a = 10 the exponent's terms a·ln x and ln Γ(1 + a) round too (a third
        // review: 39 ulps of Q(9, 9.44) ≈ 0.4)
        let exponent_terms = if a < 10.0 {
            2.0 * (a * x.ln().abs() + SpecialFunctions::ln_gamma(1.0 + a))
        } else {
            0.0
        };
        for k in [0, 1] {
            let absolute = want[k] >= 0.5 || (k == 1 && band);
            let err = (got[k] - want[k]).abs() / f64::EPSILON;
            let relative =
                (16.0 * log_size(want[k]) + 0.2 * a.sqrt() + exponent_terms) * want[k].abs();
            let allowed = relative.max(if absolute {
                8.0 + 0.5 * a.sqrt() + exponent_terms
            } else {
                0.0
            });
            assert!(
                err <= allowed.max(f64::MIN_POSITIVE / f64::EPSILON),
                "{} at ({a}, {x}): {} vs mpmath {} ({:.1} ulps)",
                ["P", "Q"][k],
                got[k],
                want[k],
                ulps(got[k], want[k], 0.0)
            );
        }
        // the gradient entries relative to the gradient's largest (measured: 2·(1 + |ln|), and
        // 77 ulps at a = 1e5),
        // the Hessian's to its largest, which lose about √a ulps next to x = a, where the
        // series and the fraction run 8.5·√a terms (measured: 10,500 ulps at a = 1e5)
        let gradient_scale = want[2].abs().max(want[3].abs());
        let hessian_scale = want[4].abs().max(want[5].abs()).max(want[6].abs());
        for k in 2..7 {
            let (scale, bound) = if k < 4 {
                (
                    gradient_scale,
                    8.0 * log_size(gradient_scale) + a.sqrt() + exponent_terms,
                )
            } else {
                // (below a = 10 no √a: a review measured 518 ε at (9.5, 9) when the prefactor
                // was three factors, whose a-derivatives cancelled)
                let terms = if a < 10.0 { 1.0 } else { 1.0 + a.sqrt() };
                (hessian_scale, 64.0 * terms * log_size(hessian_scale))
            };
            let e = ulps(got[k], want[k], scale);
            assert!(
                e <= bound,
                "derivative {k} at ({a}, {x}): {} vs mpmath {} ({e:.1} ulps of {scale:e})",
                got[k],
                want[k]
            );
        }
    }
}

#[test]
fn single_precision() {
    for &(a, x, want) in GAMMAINC.iter().filter(|(a, x, _)| *a < 1e3 && *x < 1e3) {
        let (a32, x32) = (a as f32, x as f32);
        if f64::from(a32) != a || f64::from(x32) != x || want[0] < 1e-30 || want[1] < 1e-30 {
            continue;
        }
        let (p, q) = (gammainc(a32, x32), gammaincc(a32, x32));
        let eps = f64::from(f32::EPSILON);
        for (got, want) in [(p, want[0]), (q, want[1])] {
            let err = (f64::from(got) - want).abs();
            assert!(
                err <= 64.0 * eps * log_size(want) * want.max(0.01),
                "({a}, {x}): {got} vs {want}"
            );
        }
    }
}

#[test]
fn poisson_and_chi_square_distribution_functions() {
    // P(N ≤ k) for a Poisson count of mean λ is Q(k + 1, λ), and its derivative in λ is
    // −e^−λ·λᵏ/k!
    for (k, lambda) in [(0_u32, 0.5_f64), (2, 3.0), (7, 4.25), (30, 25.0)] {
        let mut term = (-lambda).exp();
        let mut cdf = term;
        for j in 1..=k {
            term *= lambda / f64::from(j);
            cdf += term;
        }
        let a = f64::from(k + 1);
        let q = gammaincc(a, lambda);
        assert!((q - cdf).abs() <= 1e-14 * cdf, "k = {k}: {q} vs {cdf}");
        let d = derivative(|l| gammaincc(Dual::constant(a), l), lambda);
        assert!((d + term).abs() <= 1e-13 * term, "k = {k}: {d} vs −{term}");
    }
    // the chi-square with 1 degree of freedom: P(½, x/2) = 0.95 at its 95 % quantile
    let p = gammainc(0.5, 3.841458820694124_f64 / 2.0);
    assert!((p - 0.95).abs() < 1e-15, "{p}");
    // and with 10 at 18.307038053275146
    assert!((gammainc(5.0, 18.307038053275146_f64 / 2.0) - 0.95).abs() < 1e-14);
}

#[test]
fn complementary_and_monotone() {
    for a in [0.01, 0.3, 1.0, 1.5, 7.0, 19.0, 60.0, 400.0] {
        let mut last = 0.0;
        for i in 1..=400 {
            let x = a * 3.0 * f64::from(i) / 400.0;
            let (p, q) = (gammainc(a, x), gammaincc(a, x));
            assert!(
                (p + q - 1.0).abs() <= 4.0 * f64::EPSILON,
                "({a}, {x}): {p} + {q}"
            );
            assert!(p >= last, "P decreases at ({a}, {x})");
            last = p;
            // increasing in x, decreasing in a, on both sides of the switch at x = a + 1
            let g = gradient(|v| gammainc(v[0], v[1]), &[a, x]);
            assert!(g[1] >= 0.0 && g[0] <= 0.0, "({a}, {x}): {g:?}");
        }
    }
}

#[test]
fn conventions_at_zero_infinity_and_outside() {
    // at x = 0: P = 0, its slope in x +∞, 1 or 0 for a below, at or above 1; in a, 0
    for (a, slope) in [(0.5, f64::INFINITY), (1.0, 1.0), (2.5, 0.0)] {
        let g = gradient(|v| gammainc(v[0], v[1]), &[a, 0.0]);
        assert_eq!((gammainc(a, 0.0), g[1], g[0]), (0.0, slope, 0.0), "a = {a}");
        assert_eq!(gammaincc(a, 0.0_f64), 1.0);
    }
    // at x = ∞: P = 1, Q = 0, constants
    let g = gradient(|v| gammainc(v[0], v[1]), &[2.0, f64::INFINITY]);
    assert_eq!(
        (gammainc(2.0, f64::INFINITY), gammaincc(2.0, f64::INFINITY)),
        (1.0, 0.0)
    );
    assert_eq!(g, vec![0.0, 0.0]);
    // NaN outside the domain, in the derivatives too
    for (a, x) in [
        (0.0, 1.0),
        (-1.0, 1.0),
        (1.0, -1e-300),
        (f64::INFINITY, 1.0),
        (f64::NAN, 1.0),
        (1.0, f64::NAN),
    ] {
        assert!(
            gammainc(a, x).is_nan() && gammaincc(a, x).is_nan(),
            "({a}, {x})"
        );
        let g = gradient(|v| gammainc(v[0], v[1]), &[a, x]);
        assert!(g.iter().all(|d| d.is_nan()), "({a}, {x}): {g:?}");
    }
    // far tails: Q(1, x) = e⁻ˣ relative to its value; P flushed to 1
    assert!((gammaincc(1.0, 700.0_f64) / (-700.0_f64).exp() - 1.0).abs() < 1e-13);
    assert_eq!(gammainc(1.0, 1e300_f64), 1.0);
    assert_eq!(gammaincc(3.0, 1e300_f64), 0.0);
}

/// `[P, ∂P/∂x, ∂²P/∂x², ∂³P/∂x³]` at `(a, x)` by three nested duals in `x`.
fn x_derivatives(a: f64, x: f64) -> [f64; 4] {
    third_order(x, |v| {
        gammainc(D3::constant(Dual::constant(Dual::constant(a))), v)
    })
}

#[test]
fn derivatives_at_and_next_to_zero() {
    // P(1, x) = 1 − e⁻ˣ: derivatives e⁻ˣ, −e⁻ˣ, e⁻ˣ at 0 and down to subnormal x (where ln x's
    // a/x² would overflow); P(2, x) = 1 − (1 + x)e⁻ˣ: xe⁻ˣ, (1 − x)e⁻ˣ, (x − 2)e⁻ˣ
    for x in [0.0_f64, 1e-310, 1e-300, 1e-100, 1e-30, 1e-15, 1e-5] {
        let e = (-x).exp();
        let close = |got: f64, want: f64| (got - want).abs() <= 4.0 * f64::EPSILON * want.abs();
        let d = x_derivatives(1.0, x);
        assert!(close(d[1], e) && close(d[2], -e), "a = 1, x = {x}: {d:?}");
        assert!(close(d[3], e), "a = 1, x = {x}: {d:?}");
        let d = x_derivatives(2.0, x);
        assert!(
            close(d[1], x * e) && close(d[2], (1.0 - x) * e),
            "a = 2, x = {x}: {d:?}"
        );
        assert!(close(d[3], (x - 2.0) * e), "a = 2, x = {x}: {d:?}");
    }
    // a small shape with P > ½ (its own series for Q): ∂²P/∂x² = x^(a−2)·e⁻ˣ·((a − 1) − x)/Γ(a)
    // ≈ −a/x², finite down to x ≈ 1e-154 (below, NaN: documented)
    let d = x_derivatives(1e-5, 1e-150);
    let want = -(1e-150_f64).powf(1e-5 - 2.0) * (1.0 - 1e-5 + 1e-150) / 99999.42279422555; // Γ(1e-5)
    assert!((d[2] / want - 1.0).abs() < 1e-12, "{d:?} vs {want}");
    // ∂P/∂x = x^(a−1)·e⁻ˣ/Γ(a) stays normal where P underflows (mpmath: 3.482403368665948e-263)
    let d = x_derivatives(5.216885474927977, 1.3233437694648867e-62);
    assert!(
        d[0] < 1e-300 && (d[1] / 3.482403368665948e-263 - 1.0).abs() < 1e-13,
        "{d:?}"
    );
    // ∂²P/∂x² = x^(a−2)·e⁻ˣ·((a − 1) − x)/Γ(a) stays normal where P underflows
    let d = x_derivatives(2.5, 1e-160);
    let gamma = 1.329340388179137; // Γ(2.5)
    assert!((d[2] / (1e-80 * 1.5 / gamma) - 1.0).abs() < 1e-14, "{d:?}");
}

#[test]
fn tiny_shapes_and_far_tails() {
    // for a → 0, Q(a, x) → a·E₁(x): E₁(0.5) = 0.5597735947761608
    let q = gammaincc(1e-300, 0.5_f64);
    assert!((q / 5.597735947761608e-301 - 1.0).abs() < 1e-14, "{q}");
    // e⁻ˣ subnormal or 0 while Q is a normal number (a review: 75 % off at (9.9, 745))
    for x in [720.0_f64, 745.0, 750.0] {
        let (q, p) = (gammaincc(9.9, x), gammainc(9.9, x));
        assert!(q > 1e-307 && q.is_normal() && p == 1.0, "({x}): {q}");
    }
    // in f32: no ∞·0 (NaN) where xᵃ overflows and e⁻ˣ underflows, and a normal Q where e⁻ˣ
    // alone is not (Q(9.9, 110) ≈ 9.3e-36)
    for (a, x) in [(9.9_f32, 4e4_f32), (3.0, 1e20), (2.0, 1e30), (9.5, 1e6)] {
        assert_eq!((gammainc(a, x), gammaincc(a, x)), (1.0, 0.0), "({a}, {x})");
    }
    let q = gammaincc(9.9_f32, 110.0);
    let want = gammaincc(9.9_f64, 110.0);
    assert!((f64::from(q) / want - 1.0).abs() < 1e-4, "{q} vs {want}");
}

#[test]
fn continuous_across_the_method_switches() {
    // each switch between neighbouring f64s: x = a + 1 (series / fraction below a = 10,
    // small-shape series / fraction below 1), x = a + 1 + √a (from a = 10), a = 10 (the
    // prefactor's forms), a = 0.2 (ln Γ(1 + a)'s series)
    let below = |v: f64| v - v.abs() * f64::EPSILON;
    let cases = [
        (0.5, 1.5),
        (3.0, 4.0),
        (30.0, 31.0 + 30f64.sqrt()),
        (1e4, 1e4 + 101.0),
    ];
    for (a, x) in cases {
        let (p1, g1, h1) = value_gradient_and_hessian(|v| gammainc(v[0], v[1]), &[a, below(x)]);
        let (p2, g2, h2) = value_gradient_and_hessian(|v| gammainc(v[0], v[1]), &[a, x]);
        let gscale = g2[0].abs().max(g2[1].abs());
        assert!((p1 - p2).abs() <= 32.0 * f64::EPSILON, "P at ({a}, {x})");
        // (the gradient's rounding noise grows like √a: one ulp of x moves it by 106 ε at
        // a = 1e4 inside either method)
        let bound = (64.0 + 2.0 * a.sqrt()) * f64::EPSILON * gscale;
        for k in 0..2 {
            assert!((g1[k] - g2[k]).abs() <= bound, "∂{k} at ({a}, {x})");
        }
        let hscale = h2.amax();
        assert!((h1 - &h2).amax() <= 1e-12 * hscale, "Hessian at ({a}, {x})");
    }
    for (a, x) in [(10.0, 5.0), (10.0, 12.0), (0.2, 0.3)] {
        let g1 = gradient(|v| gammainc(v[0], v[1]), &[below(a), x]);
        let g2 = gradient(|v| gammainc(v[0], v[1]), &[a, x]);
        let gscale = g2[0].abs().max(g2[1].abs());
        for k in 0..2 {
            assert!(
                (g1[k] - g2[k]).abs() <= 1e-13 * gscale,
                "∂{k} at ({a}, {x})"
            );
        }
    }
}

/// From a subagent's f32 hunt: for a shape in [½, 1) at a tiny x, xᵃ was formed as x·xᵃ⁻¹,
/// whose slope (a − 1)·xᵃ⁻² overflowed, so ∂P/∂x = xᵃ⁻¹e⁻ˣ/Γ(a) came out −∞ (f32 from
/// P(0.5, 1.3e-26) down, f64 below about 1e-206); ∂Q/∂x +∞. The exact values: x^(a−1)/Γ(a)
/// (e⁻ˣ = 1), in range.
#[test]
fn x_derivative_of_a_shape_below_one_at_a_tiny_x() {
    for (a, x) in [
        (0.5_f32, 1e-30_f32),
        (0.5, 1e-37),
        (0.9, 1e-37),
        (0.75, 1e-20),
    ] {
        let (a64, x64) = (f64::from(a), f64::from(x));
        let want = x64.powf(a64 - 1.0) / SpecialFunctions::gamma(a64);
        let p = derivative(|t| gammainc(Dual::constant(a), t), x);
        let q = derivative(|t| gammaincc(Dual::constant(a), t), x);
        assert!(
            (f64::from(p) / want - 1.0).abs() < 1e-5,
            "P'({a}, {x}): {p} for {want}"
        );
        assert!(
            (f64::from(q) / want + 1.0).abs() < 1e-5,
            "Q'({a}, {x}): {q} for {want}"
        );
    }
    for (a, x) in [(0.5_f64, 1e-250_f64), (0.5, 1e-300), (0.6, 1e-300)] {
        let want = x.powf(a - 1.0) / SpecialFunctions::gamma(a);
        let g = gradient(|v| gammainc(v[0], v[1]), &[a, x]);
        assert!(
            (g[1] / want - 1.0).abs() < 1e-12,
            "P'({a}, {x}): {} for {want}",
            g[1]
        );
    }
}
