//! `normal::log_ndtr` and `normal::ndtr` against mpmath (`tools/gen_log_ndtr_reference.py`):
//! values and the first two derivatives of `ln Φ` from the far left tail (`−1e6`) to the far
//! right (`1e3`), across the formulas' switches at `±1`, and the tape's agreement.

use crate::log_ndtr_reference::LOG_NDTR;
use adroit_forward::Dual;
use adroit_forward::normal::{log_ndtr, ndtr};

type D2 = Dual<Dual<f64>>;

/// `[ln Φ(x), (ln Φ)'(x), (ln Φ)''(x)]` by a dual of a dual seeded at `x`.
fn derivatives(x: f64) -> [f64; 3] {
    let seeded = D2::new(Dual::new(x, 1.0), Dual::new(1.0, 0.0));
    let out = log_ndtr(seeded);
    [
        out.value().value(),
        out.value().tangent(),
        out.tangent().tangent(),
    ]
}

/// `|got − want| ≤ ulps·ε·|want|` (exact for zeros and infinities; a subnormal `want`, whose
/// digits gradual underflow loses, within `1e-9` relative).
fn close(got: f64, want: f64, ulps: f64) -> bool {
    if want == 0.0 || want.is_infinite() {
        return got == want;
    }
    if want.abs() < f64::MIN_POSITIVE {
        return (got - want).abs() <= 1e-9 * want.abs();
    }
    (got - want).abs() <= ulps * f64::EPSILON * want.abs()
}

#[test]
fn log_ndtr_and_two_derivatives_match_mpmath() {
    for &(x, cdf, want) in LOG_NDTR {
        let got = derivatives(x);
        for k in 0..3 {
            assert!(
                close(got[k], want[k], 8.0),
                "order {k} at {x}: {} vs mpmath {} ({:.1} ulps)",
                got[k],
                want[k],
                (got[k] - want[k]).abs() / (f64::EPSILON * want[k].abs())
            );
        }
        assert!(
            close(ndtr(x), cdf, 8.0) || (cdf < 1e-300 && ndtr(x) < 1e-300),
            "Φ({x})"
        );
    }
}

#[test]
fn the_switches_at_plus_minus_one_are_continuous_in_every_order() {
    for edge in [-1.0_f64, 1.0] {
        let (below, above) = (derivatives(edge - 2.0 * f64::EPSILON), derivatives(edge));
        for k in 0..3 {
            assert!(
                close(below[k], above[k], 16.0),
                "order {k} at {edge}: {below:?} vs {above:?}"
            );
        }
    }
}

#[test]
fn conventions_at_infinities_and_nan() {
    assert_eq!(log_ndtr(f64::NEG_INFINITY), f64::NEG_INFINITY);
    assert_eq!(log_ndtr(f64::INFINITY), 0.0);
    assert!(log_ndtr(f64::NAN).is_nan());
    assert_eq!((ndtr(f64::NEG_INFINITY), ndtr(f64::INFINITY)), (0.0, 1.0));
    let right = log_ndtr(Dual::variable(f64::INFINITY));
    assert_eq!((right.value(), right.tangent()), (0.0, 0.0));
}

#[test]
fn a_probit_likelihood_has_the_gradient_of_its_differences_and_is_concave() {
    // Σ yᵢ ln Φ(β₀ + β₁xᵢ) + (1 − yᵢ) ln Φ(−β₀ − β₁xᵢ), points in both far tails included
    fn likelihood<S: adroit_forward::SpecialFunctions>(b: &[S]) -> S {
        let data = [
            (-3.0, 0.0),
            (-0.5, 1.0),
            (0.2, 0.0),
            (1.5, 1.0),
            (40.0, 1.0),
            (-60.0, 1.0),
        ];
        data.iter().fold(S::zero(), |sum, &(x, y)| {
            let z = b[0] + b[1] * S::from(x).unwrap();
            let (y, not_y) = (S::from(y).unwrap(), S::from(1.0 - y).unwrap());
            sum + y * log_ndtr(z) + not_y * log_ndtr(-z)
        })
    }
    let beta = [0.3_f64, 0.05];
    let g = adroit_forward::gradient(|b| likelihood(b), &beta);
    let h = 1e-6;
    for k in 0..2 {
        let (mut up, mut down) = (beta, beta);
        up[k] += h;
        down[k] -= h;
        let fd = (likelihood(&up) - likelihood(&down)) / (2.0 * h);
        assert!(
            (g[k] - fd).abs() < 1e-6 * g[k].abs().max(1.0),
            "∂{k}: {} vs {fd}",
            g[k]
        );
    }
    let hess = adroit_forward::hessian(|b| likelihood(b), &beta);
    assert!(
        hess[(0, 0)] < 0.0 && hess.determinant() > 0.0,
        "concave: {hess}"
    );
}

#[test]
fn ndtr_derivatives_in_the_right_tail_are_the_density() {
    // φ(x) by mpmath (60 digits); through ½ erfc(−x/√2) these were 47 and 1,094 ulps off
    for (x, density) in [
        (7.953598453281778, 7.315_341_246_936_248e-15),
        (37.303910130337684, 2.647_164_687_145_21e-303),
        (13.0, 7.998_827_757_006_812e-38),
    ] {
        let d = adroit_forward::derivative(|v| ndtr(v), x);
        assert!(close(d, density, 4.0), "φ({x}): {d} vs {density}");
    }
}

#[test]
fn far_left_values_stay_finite_until_half_the_square_overflows() {
    // ln Φ(x) ≈ −x²/2 − ln(−x√(2π)) and (ln Φ)' ≈ −x − 1/x: where x² overflows but x²/2 does
    // not, the value was −∞ (a subagent's f32 hunt: log_ndtr(−2e19f32)). The logarithmic
    // terms are below an ulp of x²/2 here.
    for x in [-1.5e154_f64, -1.8e154] {
        let [value, slope, curvature] = derivatives(x);
        assert!(close(value, -(x * (x * 0.5)), 2.0), "{x}: {value}");
        assert!(close(slope, -x, 2.0), "{x}: {slope}");
        assert!(close(curvature, -1.0, 2.0), "{x}: {curvature}");
    }
    for x in [-2e19_f32, -2.6e19] {
        let out = log_ndtr(Dual::variable(x));
        let want = -(x * (x * 0.5));
        assert!(want.is_finite() && (out.value() - want).abs() <= 2.0 * f32::EPSILON * -want);
        assert!(
            (out.tangent() + x).abs() <= 2.0 * f32::EPSILON * -x,
            "{x}: {out}"
        );
    }
    // Past that, the value is −∞, as x²/2 is.
    assert_eq!(log_ndtr(-2e154_f64), f64::NEG_INFINITY);
    assert_eq!(log_ndtr(-2.7e19_f32), f32::NEG_INFINITY);
}
