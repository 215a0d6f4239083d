//! Second derivatives that keep the precision the function allows where a first derivative
//! written naively cancels once differentiated again (found by a review in the fifth session:
//! each case below lost most or all of its digits). References are the analytic second
//! derivatives, evaluated in `f64` where they are well conditioned.

use super::third_order::{D3, third_order};
use super::tolerance::{Tol, assert_close};
use adroit_forward::nalgebra::ComplexField;
use adroit_forward::{Dual, HyperDual, derivative, hessian, second_derivative};

/// A relative tolerance alone (the suite's rule with `atol = 0`).
const fn rel(rtol: f64) -> Tol {
    Tol { atol: 0.0, rtol }
}

#[test]
fn inverse_trig_and_atanh_second_derivatives_at_small_arguments() {
    // asin'' = x/(1 − x²)^{3/2} = −acos'', atanh'' = 2x/(1 − x²)²: ≈ x and 2x at tiny x, where
    // differentiating (1 − x)(1 + x) gave (1 − x) − (1 + x), 0 at x = 1e-300.
    for x in [
        1e-300, 1e-100, 1e-16, 1e-10, -1e-10, 1e-4, 0.3, 0.49, 0.51, 0.9, -0.99,
    ] {
        let s: f64 = 1.0 - x * x;
        let asin2 = x / (s * s.sqrt());
        let atanh2 = 2.0 * x / (s * s);
        assert_close(
            second_derivative(|v| v.asin(), x),
            asin2,
            rel(1e-13),
            "asin''",
        );
        assert_close(
            second_derivative(|v| v.acos(), x),
            -asin2,
            rel(1e-13),
            "acos''",
        );
        assert_close(
            second_derivative(|v| v.atanh(), x),
            atanh2,
            rel(1e-13),
            "atanh''",
        );
    }
    for x in [1e-30_f32, 1e-10, 1e-7, 1e-5, 1e-3, 0.3, -0.7] {
        let xd = f64::from(x);
        let s = 1.0 - xd * xd;
        let asin2 = xd / (s * s.sqrt());
        let got = f64::from(second_derivative(|v| v.asin(), x));
        assert_close(got, asin2, rel(1e-5), "asin'' (f32)");
        let got = f64::from(second_derivative(|v| v.atanh(), x));
        assert_close(got, 2.0 * xd / (s * s), rel(1e-5), "atanh'' (f32)");
    }
}

#[test]
fn hypot_hessian_when_one_argument_dominates() {
    // ∇²h = [[y², −xy], [−xy, x²]]/h³; the quotient rule on x/h gave 1/h − x²/h³, which
    // cancels to 0 when |x| ≫ |y|.
    for (x, y) in [
        (3.0, 4.0),
        (1e5, 1.0),
        (1e8, 1.0),
        (-2.0, 1e-12),
        (1e-3, -2.0),
        (0.0, 5.0),
    ] {
        let h: f64 = x.hypot(y);
        let h3 = h * h * h;
        let expected = [[y * y / h3, -x * y / h3], [-x * y / h3, x * x / h3]];
        let got = hessian(|v| v[0].hypot(v[1]), &[x, y]);
        for i in 0..2 {
            for j in 0..2 {
                let e = expected[i][j];
                let tolerance = 1e-14 * e.abs().max(f64::MIN_POSITIVE);
                assert!((got[(i, j)] - e).abs() <= tolerance, "({x}, {y}): {got}");
            }
        }
    }
    for (x, y) in [(1e3_f32, 1.0_f32), (1e4, 1.0), (7e2, 1.0), (1e-3, -2.0)] {
        let (xd, yd) = (f64::from(x), f64::from(y));
        let h = xd.hypot(yd);
        let got = hessian(|v| v[0].hypot(v[1]), &[x, y]);
        assert_close(
            f64::from(got[(0, 0)]),
            yd * yd / (h * h * h),
            rel(1e-5),
            "hypot h_xx (f32)",
        );
        assert_close(
            f64::from(got[(1, 1)]),
            xd * xd / (h * h * h),
            rel(1e-5),
            "hypot h_yy (f32)",
        );
    }
}

#[test]
fn powf_at_subnormal_arguments() {
    // x⁰ has slope 0 everywhere (it was NaN from p·xᵖ/x overflowing), and (x¹)'' = 0.
    for x in [1e-310, 5e-324, 1e-300] {
        assert_eq!(
            derivative(|v| v.powf(Dual::constant(0.0)), x),
            0.0,
            "x = {x:e}"
        );
        assert_eq!(
            second_derivative(|v| v.powf(HyperDual::constant(1.0)), x),
            0.0,
            "x = {x:e}"
        );
        // d/dx xˣ = xˣ(ln x + 1) (it was +∞)
        let expected = x.powf(x) * (x.ln() + 1.0);
        assert_close(derivative(|v| v.powf(v), x), expected, rel(1e-14), "(xˣ)'");
    }
    let x = 1e-40_f32;
    let xd = f64::from(x);
    let expected = xd.powf(xd) * (xd.ln() + 1.0);
    assert_close(
        f64::from(derivative(|v| v.powf(v), x)),
        expected,
        rel(1e-5),
        "(xˣ)' (f32)",
    );
}

#[test]
fn powf_second_derivative_with_a_small_exponent() {
    // (xᵖ)'' = p(p − 1)xᵖ⁻² and (xˣ)'' = xˣ((ln x + 1)² + 1/x), representable in f32 here,
    // came out −∞ through the intermediate xᵖ⁻¹/x.
    let (x, p) = (1e-20_f32, 1e-10_f32);
    let (xd, pd) = (f64::from(x), f64::from(p));
    let expected = pd * (pd - 1.0) * xd.powf(pd - 2.0);
    let got = f64::from(second_derivative(|v| v.powf(HyperDual::constant(p)), x));
    assert_close(got, expected, rel(1e-4), "(x^1e-10)'' (f32)");
    let x = 1e-30_f32;
    let xd = f64::from(x);
    let expected = xd.powf(xd) * ((xd.ln() + 1.0).powi(2) + 1.0 / xd);
    let got = f64::from(second_derivative(|v| v.powf(v), x));
    assert_close(got, expected, rel(1e-4), "(xˣ)'' (f32)");
}

#[test]
fn powf_second_derivative_with_an_exponent_near_one() {
    // (xᵖ)'' = p(p − 1)xᵖ⁻²: through the slope p·xᵖ/x it was the difference p²xᵖ⁻² − p·xᵖ⁻²,
    // which cancelled to a relative error of ε/|p − 1| (0.0100021 against 0.0100009 at
    // (1e-10, 1 + 1e-12); 2.0000000635e-7 against 2.0000000625e-7 at (0.5, 1 + 1e-7)).
    // References: mpmath at 50 digits, p·(p − 1)·x^(p − 2) and p(p − 1)(p − 2)·x^(p − 3) at
    // the f64 arguments.
    let cases = [
        (
            1e-10,
            1.000000000001,
            0.010000889005603112,
            -100008890.0559311,
        ),
        (
            0.5,
            1.0000001,
            2.0000000625382893e-7,
            -3.999_999_725_076_566e-7,
        ),
        (
            3.0,
            0.999999999,
            -3.3333332320648546e-10,
            1.1111110784660626e-10,
        ),
        (2.0, 0.8, -0.06964404506368992, 0.04178642703821395),
    ];
    for (x, p, second, third) in cases {
        let got = second_derivative(|v| v.powf(HyperDual::constant(p)), x);
        assert_close(got, second, rel(1e-14), "(xᵖ)''");
        let h = hessian(|v| v[0].powf(v[1]), &[x, p]);
        assert_close(h[(0, 0)], second, rel(1e-14), "∂²xᵖ/∂x²");
        // the third derivative, the slope of the second: as accurate
        let c = |v: f64| D3::constant(Dual::constant(Dual::constant(v)));
        let got = third_order(x, |v| num_traits::Float::powf(v, c(p)))[3];
        assert_close(got, third, rel(1e-14), "(xᵖ)‴");
    }
}

#[test]
fn sinc_and_sinhc_derivatives_near_zero() {
    // sinc'' = −1/3 + x²/10 − x⁴/168 + …, sinhc'' = 1/3 + x²/10 + x⁴/168 + … near 0, where
    // differentiating sin x / x cancels (sinc'' was 0 at 1e-8); direct formulas away from 0:
    // sinc'' = ((2 − x²)·sin x − 2x·cos x)/x³, sinhc'' = ((2 + x²)·sinh x − 2x·cosh x)/x³.
    let series = |x: f64, sign: f64| sign / 3.0 + x * x / 10.0 + sign * x.powi(4) / 168.0;
    for x in [0.0, 1e-8, 1e-5, -1e-3, 1e-2] {
        assert_close(
            second_derivative(|v| v.sinc(), x),
            series(x, -1.0),
            rel(1e-13),
            "sinc''",
        );
        assert_close(
            second_derivative(|v| v.sinhc(), x),
            series(x, 1.0),
            rel(1e-13),
            "sinhc''",
        );
        // first derivatives: −x/3 and x/3 to leading order
        let d = derivative(|v| v.sinc(), x);
        assert!((d + x / 3.0).abs() <= 1e-14 * x.abs().max(1e-300) + x.abs().powi(3) / 29.0);
    }
    for x in [0.99, 1.01, 2.0, -3.0] {
        let (s, c) = f64::sin_cos(x);
        let sinc2 = ((2.0 - x * x) * s - 2.0 * x * c) / (x * x * x);
        let sinhc2 = ((2.0 + x * x) * x.sinh() - 2.0 * x * x.cosh()) / (x * x * x);
        assert_close(
            second_derivative(|v| v.sinc(), x),
            sinc2,
            rel(1e-13),
            "sinc''",
        );
        assert_close(
            second_derivative(|v| v.sinhc(), x),
            sinhc2,
            rel(1e-13),
            "sinhc''",
        );
    }
    let got = f64::from(second_derivative(|v| v.sinc(), 1e-3_f32));
    assert_close(got, series(1e-3, -1.0), rel(1e-6), "sinc'' (f32)");
}

#[test]
fn powf_mixed_second_derivative_at_zero_base_is_symmetric() {
    // ∂²xᵖ/∂x∂p at x = 0 (one-sided): xᵖ⁻¹(1 + p·ln x) → −∞ for 0 < p ≤ 1, 0 for p > 1. The
    // p-derivative of ∂x and the x-derivative of ∂p must agree; the latter was 0 for p = 1,
    // and for 0 < p < 1 the former was NaN (∞ − ∞ in the product rule on p·xᵖ⁻¹; a subagent's
    // hunt against mpmath).
    let inf = f64::INFINITY;
    for (p, mixed, xx) in [
        (0.01, -inf, -inf),
        (0.5, -inf, -inf),
        (0.8, -inf, -inf),
        (0.99, -inf, -inf),
        (1.0, -inf, 0.0),
        (1.5, 0.0, inf),
        (2.0, 0.0, 2.0),
        (3.5, 0.0, 0.0),
    ] {
        for x in [0.0, -0.0] {
            let h = hessian(|v| v[0].powf(v[1]), &[x, p]);
            assert_eq!((h[(0, 1)], h[(1, 0)]), (mixed, mixed), "({x}, {p}): {h}");
            assert_eq!(h[(1, 1)], 0.0, "∂²/∂p² = xᵖ·ln²x → 0: {h}");
            assert_eq!(h[(0, 0)], xx, "∂²/∂x² = p(p − 1)xᵖ⁻²: {h}");
            let hv = adroit_forward::hvp(|v| v[0].powf(v[1]), &[x, p], &[0.0, 1.0]);
            assert_eq!(hv, vec![mixed, 0.0], "({x}, {p})");
        }
        let h = hessian(|v| v[0].powf(v[1]), &[0.0_f32, p as f32]);
        assert_eq!(
            (h[(0, 1)], h[(1, 0)]),
            (mixed as f32, mixed as f32),
            "f32 p = {p}: {h}"
        );
    }
}

#[test]
fn atan_second_derivative_at_large_arguments() {
    // atan'' = −2x/(1 + x²)² ≈ −2/x³: formed through (1/(1 + x²))² it underflowed to 0 in f32
    // from |x| ≈ 3e11 (and in f64 from ≈ 1e77) while −2/x³ is still a normal number.
    for x in [0.5, -2.0, 1e3, 1e80, -1e100] {
        let expected = -2.0 * x / (1.0 + x * x).powi(2);
        let expected = if expected.is_finite() && expected != 0.0 {
            expected
        } else {
            -2.0 / (x * x * x)
        };
        assert_close(
            second_derivative(|v| v.atan(), x),
            expected,
            rel(1e-14),
            "atan''",
        );
    }
    for x in [3e11_f32, 1e12, -5e11] {
        let xd = f64::from(x);
        let got = f64::from(second_derivative(|v| v.atan(), x));
        assert_close(got, -2.0 / (xd * xd * xd), rel(1e-5), "atan'' (f32)");
    }
}

/// The documented limit ("Second derivatives near overflow", crate docs): where `f''(u)`
/// underflows against an overflowing `u'²`, the `0·∞ = 0` convention drops the term — the naive
/// `ln(exp(x))` at 400 has second derivative 1 (exact: 0) in every second-order type, as
/// JAX's `hessian` and PyTorch's give (checked by hand: JAX 0.10.2 and PyTorch 2.15.0 both
/// return 1) — while the stable forms are right. Found by a user trial; pinned so that a
/// change to the convention shows here.
#[test]
fn second_derivatives_near_overflow_follow_the_documented_limit() {
    // `Float`'s methods by path: `ComplexField`, imported above, has methods of the same names.
    // Naive: 1 in the hyper-dual, the nested dual and the Hessian; fine at 300.
    assert_eq!(
        second_derivative(|x| num_traits::Float::ln(num_traits::Float::exp(x)), 400.0),
        1.0
    );
    let nested = derivative(
        |x: Dual<Dual<f64>>| num_traits::Float::ln(num_traits::Float::exp(x)),
        Dual::variable(400.0),
    );
    assert_eq!(nested.tangent(), 1.0);
    assert_eq!(
        hessian(
            |x| num_traits::Float::ln(num_traits::Float::exp(x[0])),
            &[400.0]
        )[(0, 0)],
        1.0
    );
    assert!(
        second_derivative(|x| num_traits::Float::ln(num_traits::Float::exp(x)), 300.0).abs()
            < 1e-12
    );
    // The other side: finite exact values near overflow come out NaN or infinite (the docs'
    // example): atan2's ∂²/∂y² at (1e-200, 1e-160) (exact −2e280). x^0.9 at 1.06e-281 (exact
    // −1.0596057974381929e308, mpmath) was NaN through xᵖ/x; its slope p·xᵖ⁻¹ for an
    // exponent near 1 now reaches it.
    let p09 = |x: HyperDual<f64>| num_traits::Float::powf(x, HyperDual::constant(0.9));
    assert_close(
        second_derivative(p09, 1.0628033e-281),
        -1.0596057974381929e308,
        rel(1e-14),
        "(x^0.9)'' near overflow",
    );
    let h = hessian(|v| num_traits::Float::atan2(v[0], v[1]), &[1e-200, 1e-160]);
    assert_eq!(h[(0, 0)], f64::NEG_INFINITY);
    // Naive log-sum-exp at logits near 700: diag(p) without −p·pᵀ. Stable: right.
    let x = [700.0, 701.0, 699.5];
    let m = 701.0;
    let p: Vec<f64> = {
        let e: Vec<f64> = x.iter().map(|&v: &f64| (v - m).exp()).collect();
        let s: f64 = e.iter().sum();
        e.iter().map(|v| v / s).collect()
    };
    let naive = hessian(
        |v| {
            num_traits::Float::ln(
                v.iter()
                    .map(|&t| num_traits::Float::exp(t))
                    .sum::<HyperDual8>(),
            )
        },
        &x,
    );
    let stable = hessian(
        |v| {
            let m = v.iter().fold(v[0], |a, &b| num_traits::Float::max(a, b));
            m + num_traits::Float::ln(
                v.iter()
                    .map(|&t| num_traits::Float::exp(t - m))
                    .sum::<HyperDual8>(),
            )
        },
        &x,
    );
    for i in 0..3 {
        for j in 0..3 {
            let exact = if i == j { p[i] } else { 0.0 } - p[i] * p[j];
            assert_close(
                stable[(i, j)],
                exact,
                Tol {
                    atol: 1e-15,
                    rtol: 0.0,
                },
                "stable log-sum-exp",
            );
            let dropped = if i == j { p[i] } else { 0.0 };
            assert_close(
                naive[(i, j)],
                dropped,
                Tol {
                    atol: 1e-15,
                    rtol: 0.0,
                },
                "naive log-sum-exp",
            );
        }
    }
}

/// The element type [`hessian`] hands its closure.
type HyperDual8 = adroit_forward::HyperDualVec<f64, 8, 8>;

/// A binary rule's mixed term that overflows when formed as `f_xy·(a₁·b₂)` but not as a
/// balanced product is re-formed: `∂²(x/y)` along `x`'s
/// first perturbation 1e200 and `y`'s second 1e200 at y = 1e150 is
/// `−1/y² · 1e200 · 1e200 = −1e100`, where the naive association gives `−1e-300 · ∞`. (An
/// infinite entry is detected as a NaN of `c − c`.)
#[test]
fn a_binary_rules_overflowing_mixed_term_is_re_formed() {
    let x = HyperDual::new(1.0_f64, [1e200], [0.0], [[0.0]]);
    let y = HyperDual::new(1e150, [0.0], [1e200], [[0.0]]);
    let q = x / y;
    assert_close(q.eps12()[0][0], -1e100, rel(1e-15), "(x/y)'s ε₁ε₂ part");
    assert_eq!(
        (q.value(), q.eps1()[0], q.eps2()[0]),
        (1e-150, 1e50, -1e-100)
    );
}

/// A unary rule's `f''·(a·b)` likewise: sin'' = −sin is −1e-200 at 1e-200, times the two
/// perturbations 1e200 · 1e200 (whose product overflows) is −1e200.
#[test]
fn a_unary_rules_overflowing_second_order_part_is_re_formed() {
    let x = HyperDual::new(1e-200_f64, [1e200], [1e200], [[0.0]]);
    let s = num_traits::Float::sin(x);
    assert_close(s.eps12()[0][0], -1e200, rel(1e-15), "sin's ε₁ε₂ part");
}
