//! The regularised incomplete gamma functions against mpmath
//! (`tools/gen_gammainc_reference.py`): `P`, `Q`, and `P`'s gradient and Hessian in both
//! arguments by forward mode (hyper-duals), `f32`, identities (Poisson and chi-square
//! distribution functions, `P + Q = 1`, monotonicity), and the conventions at `x = 0`,
//! `x = ∞` and outside the domain.

use crate::gammainc_reference::GAMMAINC;
use adroit_forward::incomplete_gamma::{gammainc, gammaincc};
use adroit_forward::{Dual, derivative, gradient, value_gradient_and_hessian};

/// `|got − want|` in units of `ε·max(|want|, floor)`.
fn ulps(got: f64, want: f64, floor: f64) -> f64 {
    if got == want {
        0.0
    } else {
        (got - want).abs() / (f64::EPSILON * want.abs().max(floor))
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
        // included (measured: at most 10·(1 + |ln v|) ulps); the larger, formed as the
        // other's complement where they differ most, to a few ε absolutely
        for k in [0, 1] {
            let floor = if want[k] >= 0.5 { 1.0 } else { 0.0 };
            let e = ulps(got[k], want[k], floor);
            assert!(
                e <= 16.0 * log_size(want[k]),
                "{} at ({a}, {x}): {} vs mpmath {} ({e:.1} ulps)",
                ["P", "Q"][k],
                got[k],
                want[k]
            );
        }
        // the gradient entries relative to the gradient's largest (measured: 2·(1 + |ln|)),
        // the Hessian's to its largest, which lose about √a ulps next to x = a, where the
        // series and the fraction run 8.5·√a terms (measured: 10,500 ulps at a = 1e5)
        let gradient_scale = want[2].abs().max(want[3].abs());
        let hessian_scale = want[4].abs().max(want[5].abs()).max(want[6].abs());
        for k in 2..7 {
            let (scale, bound) = if k < 4 {
                (gradient_scale, 8.0 * log_size(gradient_scale))
            } else {
                let terms = 1.0 + a.sqrt();
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
