//! `erf` and `erfc` on tape variables: gradients equal forward mode's (the same rules) in f64
//! and f32, and forward-over-reverse Hessians and HVPs (`Var<DualVec>`) equal the hyper-dual
//! ones, mixed partials included.

use adroit_forward::SpecialFunctions;
use adroit_reverse::{gradient, hessian, hvp};
use nalgebra::DVector;

/// `erf(x·y) + erfc(x − y)·x`, generic over every number type with the error function.
fn f<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).erf() + (v[0] - v[1]).erfc() * v[0]
}

macro_rules! agree_with_forward_mode {
    ($($name:ident: $t:ty;)*) => {$(
        #[test]
        fn $name() {
            for (x, y) in [(0.6, -0.4), (-1.5, 2.0), (0.0, 0.0), (3.0, 0.25)] {
                let p: [$t; 2] = [x, y];
                let reverse = gradient(|v| f(v), &p);
                let forward = adroit_forward::gradient(|v| f(v), &p);
                assert_eq!(reverse, forward, "gradient at ({x}, {y})");
                let h = hessian(|v| f(v), &p);
                let hd = adroit_forward::hessian(|v| f(v), &p);
                let bound = 8.0 * <$t>::EPSILON * hd.iter().fold(1.0, |m: $t, v| m.max(v.abs()));
                let err = h.iter().zip(hd.iter()).fold(0.0, |m: $t, (a, b)| m.max((a - b).abs()));
                assert!(err <= bound, "Hessian at ({x}, {y}): reverse {h} hyper-dual {hd}");
                assert_ne!(h[(0, 1)], 0.0, "a mixed partial is reached");
                let v: [$t; 2] = [1.0, -1.0];
                let hv = hvp(|v| f(v), &p, &v);
                let expected = &hd * DVector::from_column_slice(&v);
                for (a, b) in hv.iter().zip(expected.iter()) {
                    let what = format!("HVP at ({x}, {y}): {hv:?} vs {expected}");
                    assert!((a - b).abs() <= 2.0 * bound, "{what}");
                }
            }
        }
    )*};
}

agree_with_forward_mode! {
    erf_and_erfc_agree_with_forward_mode_f64: f64;
    erf_and_erfc_agree_with_forward_mode_f32: f32;
}
