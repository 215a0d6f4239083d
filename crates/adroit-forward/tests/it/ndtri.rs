//! `SpecialFunctions::ndtri` (`Φ⁻¹`) against mpmath (`tools/gen_ndtri_reference.py`): the
//! value and the first three derivatives by three nested duals, the hyper-dual's second
//! derivative, `f32`, the round trip with `ndtr`, and the conventions at 0, 1, outside
//! `[0, 1]` and NaN.

use crate::ndtri_reference::NDTRI;
use crate::third_order::third_order;
use adroit_forward::normal::{ndtr, ndtri};
use adroit_forward::{Dual, HyperDual, SpecialFunctions, derivative};

type D1 = Dual<f64>;

/// `[Φ⁻¹(p), (Φ⁻¹)'(p), (Φ⁻¹)''(p), (Φ⁻¹)'''(p)]` from one evaluation on three nested duals.
fn by_nested_duals(p: f64) -> [f64; 4] {
    third_order(p, |v| v.ndtri())
}

/// Error in units of `ε·|want|` (0 for an exact match, infinite for a mismatched zero or
/// infinity).
fn ulps(got: f64, want: f64) -> f64 {
    if got == want {
        0.0
    } else if want == 0.0 || want.is_infinite() {
        f64::INFINITY
    } else {
        (got - want).abs() / (f64::EPSILON * want.abs())
    }
}

#[test]
fn values_and_three_derivatives_match_mpmath() {
    let mut worst = [0.0_f64; 4];
    for &(p, want) in NDTRI {
        let got = by_nested_duals(p);
        for k in 0..4 {
            let e = ulps(got[k], want[k]);
            worst[k] = worst[k].max(e);
            // measured at these points: 0.9, 1.0, 3.0 and 3.8 (a review's 390,000-point scan:
            // 2.0, 3.5, 6.6, 9.4), in units of ε relative
            let bound = [2.0, 4.0, 8.0, 8.0][k];
            assert!(
                e <= bound,
                "ndtri derivative {k} at {p}: {} vs mpmath {} ({e:.1} ulps)",
                got[k],
                want[k]
            );
        }
    }
    // the table reaches the tails: subnormal p and p one ulp below 1
    assert!(NDTRI[0].1[0] < -38.0 && NDTRI[NDTRI.len() - 1].1[0] > 8.0);
    assert!(
        worst[0] > 0.0,
        "no rounding anywhere is not credible: {worst:?}"
    );
}

#[test]
fn the_hyper_dual_gives_the_same_second_derivative() {
    for &(p, want) in NDTRI.iter().filter(|(_, w)| w[2].is_finite()) {
        let h = HyperDual::new(p, [1.0], [1.0], [[0.0]]).ndtri();
        assert!(ulps(h.eps1()[0], want[1]) <= 8.0, "first derivative at {p}");
        assert!(ulps(h.eps12()[0][0], want[2]) <= 16.0, "second at {p}");
    }
}

#[test]
fn single_precision_rounds_the_double_value() {
    for &(p, want) in NDTRI {
        let p32 = p as f32;
        let got = SpecialFunctions::ndtri(p32);
        assert_eq!(got, ndtri(f64::from(p32)) as f32, "at {p}");
        if f64::from(p32) == p && want[0].is_finite() {
            let err = (f64::from(got) - want[0]).abs();
            assert!(
                err <= f64::from(f32::EPSILON) * want[0].abs(),
                "at {p}: {got}"
            );
        }
    }
}

#[test]
fn inverts_ndtr_and_is_antisymmetric() {
    // Φ(Φ⁻¹(p)) = p up to Φ's conditioning: a relative error δ in x moves Φ by about
    // x²·δ relative in the tail (|x|·φ(x)/Φ(x) ≈ x²), so the bound grows with x²
    for k in 1..=3000 {
        let p = 10f64.powf(-(k as f64) / 10.0);
        let x = ndtri(p);
        let tolerance = 8.0 * f64::EPSILON * (1.0 + x * x);
        assert!((ndtr(x) / p - 1.0).abs() <= tolerance, "at {p}: {x}");
        // the upper half by symmetry, where 1 − q is exact (q ≥ ½)
        let q = 1.0 - p;
        if q > 0.75 {
            assert_eq!(ndtri(q), -ndtri(1.0 - q), "at {q}");
        }
    }
    for k in 0..=1000 {
        let p = 0.25 + 0.5 * k as f64 / 1000.0;
        let x = ndtri(p);
        assert!((ndtr(x) - p).abs() <= 4.0 * f64::EPSILON * p, "at {p}: {x}");
        let q = p - 0.5; // exact
        if 0.5 - q - 0.5 == -q {
            assert_eq!(ndtri(0.5 - q), -x, "antisymmetric at {p}");
        }
    }
    // next to ½ the result keeps its relative precision (p − ½ is exact): the f64 above ½
    let q = 2.0_f64.powi(-53);
    let tiny = ndtri(0.5 + q);
    let exact = (2.0 * std::f64::consts::PI).sqrt() * q; // + O(q³)
    assert!(ulps(tiny, exact) <= 2.0, "{tiny} vs {exact}");
    // Φ⁻¹ ∘ Φ is the identity, and so is its derivative (not far right: Φ(6) = 1 − 1e-9
    // rounds its tail to 1e-7 relative, which no inverse can recover)
    for x in [-30.0_f64, -8.0, -1.5, 0.3, 2.0] {
        let d = derivative(|t| ndtri(ndtr(t)), x);
        assert!((d - 1.0).abs() <= 1e-12 * (1.0 + x * x), "at {x}: {d}");
    }
}

#[test]
fn conventions_at_the_ends_and_outside() {
    assert_eq!(ndtri(0.0_f64), f64::NEG_INFINITY);
    assert_eq!(ndtri(1.0_f64), f64::INFINITY);
    assert_eq!(ndtri(0.5_f64), 0.0);
    for p in [
        -0.0_f64,
        -1e-300,
        1.0 + f64::EPSILON,
        2.0,
        f64::INFINITY,
        f64::NAN,
    ] {
        let got = ndtri(p);
        // −0 is 0: Φ⁻¹(0) = −∞
        if p == 0.0 {
            assert_eq!(got, f64::NEG_INFINITY);
        } else {
            assert!(got.is_nan(), "at {p}: {got}");
            assert!(D1::variable(p).ndtri().tangent().is_nan(), "slope at {p}");
        }
    }
    // the derivative is +∞ at both ends, where Φ⁻¹ is ∓∞, and the higher orders are the
    // one-sided limits (as at the smallest subnormal, where they overflow)
    assert_eq!(
        by_nested_duals(0.0)[1..],
        [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]
    );
    assert_eq!(by_nested_duals(1.0)[1..], [f64::INFINITY; 3]);
    let h = HyperDual::new(0.0, [1.0], [1.0], [[0.0]]).ndtri();
    assert_eq!(
        (h.eps1()[0], h.eps12()[0][0]),
        (f64::INFINITY, f64::NEG_INFINITY)
    );
    assert_eq!(
        by_nested_duals(5e-324)[1..],
        [f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY]
    );
    for p in [0.0, 1.0] {
        let d = D1::variable(p).ndtri();
        assert_eq!(d.tangent(), f64::INFINITY, "at {p}");
        // a constant there stays a constant (0·∞ = 0)
        assert_eq!(D1::constant(p).ndtri().tangent(), 0.0, "at {p}");
    }
    // finite for every positive p: the smallest subnormal
    assert!((ndtri(f64::from_bits(1)) + 38.467405617144344).abs() < 1e-13);
}
