//! Property suite: every elementary function of the rule table, forward = reverse (tight) and
//! both ≈ finite differences (loose), on random points of its domain away from its kinks, in
//! f32 and f64.

use crate::functions::{binary, unary};
use adroit_check::strategy::config;
use adroit_check::{CheckScalar, GenericFn, Options, gradcheck};
use num_traits::Float;
use proptest::prelude::*;

/// An interval `[lo, hi)`.
type Domain = (f64, f64);

/// (name, domain, kinks): points are drawn from the domain at least 0.05 from every kink.
const UNARY: &[(&str, Domain, &[f64])] = &[
    ("sin", (-10.0, 10.0), &[]),
    ("cos", (-10.0, 10.0), &[]),
    ("tan", (-1.4, 1.4), &[]),
    ("asin", (-0.95, 0.95), &[]),
    ("acos", (-0.95, 0.95), &[]),
    ("atan", (-10.0, 10.0), &[]),
    ("sinh", (-5.0, 5.0), &[]),
    ("cosh", (-5.0, 5.0), &[]),
    ("tanh", (-5.0, 5.0), &[]),
    ("asinh", (-10.0, 10.0), &[]),
    ("acosh", (1.05, 10.0), &[]),
    ("atanh", (-0.95, 0.95), &[]),
    ("exp", (-5.0, 5.0), &[]),
    ("exp2", (-5.0, 5.0), &[]),
    ("exp_m1", (-5.0, 5.0), &[]),
    ("ln", (0.05, 20.0), &[]),
    ("log2", (0.05, 20.0), &[]),
    ("log10", (0.05, 20.0), &[]),
    ("ln_1p", (-0.9, 10.0), &[]),
    ("sqrt", (0.01, 10.0), &[]),
    ("cbrt", (-10.0, 10.0), &[0.0]),
    ("recip", (-10.0, 10.0), &[0.0, -0.05, 0.05]),
    ("abs", (-5.0, 5.0), &[0.0]),
    ("to_degrees", (-5.0, 5.0), &[]),
    ("to_radians", (-5.0, 5.0), &[]),
    ("powi_3", (-3.0, 3.0), &[]),
    ("powi_m2", (0.2, 3.0), &[]),
    ("powi_0", (-3.0, 3.0), &[]),
    (
        "floor",
        (-4.0, 4.0),
        &[-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
    ),
    (
        "ceil",
        (-4.0, 4.0),
        &[-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0],
    ),
    (
        "trunc",
        (-4.0, 4.0),
        &[-4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0],
    ),
    (
        "fract",
        (-4.0, 4.0),
        &[-4.0, -3.0, -2.0, -1.0, 1.0, 2.0, 3.0, 4.0],
    ),
    (
        "round",
        (-4.0, 4.0),
        &[-3.5, -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5],
    ),
    ("signum", (-4.0, 4.0), &[0.0]),
];

/// (name, domain of x, domain of y).
const BINARY: &[(&str, Domain, Domain)] = &[
    ("add", (-5.0, 5.0), (-5.0, 5.0)),
    ("sub", (-5.0, 5.0), (-5.0, 5.0)),
    ("mul", (-5.0, 5.0), (-5.0, 5.0)),
    ("div", (-5.0, 5.0), (0.2, 5.0)),
    ("rem", (-5.0, 5.0), (0.7, 3.0)),
    ("powf", (0.1, 3.0), (-2.0, 2.0)),
    ("atan2", (-3.0, 3.0), (0.1, 3.0)),
    ("hypot", (-3.0, 3.0), (0.1, 3.0)),
    ("log", (0.1, 10.0), (1.5, 10.0)),
];

struct Unary(&'static str);
impl GenericFn for Unary {
    fn eval<S: Float>(&self, x: &[S]) -> Vec<S> {
        vec![unary(self.0, x[0])]
    }
}

struct Binary(&'static str);
impl GenericFn for Binary {
    fn eval<S: Float>(&self, x: &[S]) -> Vec<S> {
        vec![binary(self.0, x[0], x[1])]
    }
}

fn check_unary<T: CheckScalar>(index: usize, t: f64) -> Result<(), TestCaseError> {
    let (name, (lo, hi), kinks) = UNARY[index];
    let x = lo + t * (hi - lo);
    prop_assume!(kinks.iter().all(|k| (x - k).abs() >= 0.05));
    let x = T::from_f64_rounded(x);
    // The finite differences must not step over a kink: bound their range.
    let margin = kinks
        .iter()
        .fold(1.0_f64, |m, k| m.min((x.to_f64_lossless() - k).abs()));
    let options = Options::for_precision::<T>()
        .with_fd(adroit_check::fd::FiniteDifference::default().with_max_range(margin / 2.0));
    if let Err(m) = gradcheck(&Unary(name), &[x], &options) {
        return Err(TestCaseError::fail(format!("{name}({x:?}):\n{m}")));
    }
    Ok(())
}

fn check_binary<T: CheckScalar>(index: usize, s: f64, t: f64) -> Result<(), TestCaseError> {
    let (name, (xl, xh), (yl, yh)) = BINARY[index];
    let (x, y) = (xl + s * (xh - xl), yl + t * (yh - yl));
    if name == "rem" {
        let q = x / y;
        // Far enough from the jumps (q integer) that the ±0.02 finite-difference range in y
        // cannot cross one.
        prop_assume!(q.abs() < 0.5 || (q - q.round()).abs() > 0.1);
    }
    let point = [T::from_f64_rounded(x), T::from_f64_rounded(y)];
    let options = Options::for_precision::<T>()
        .with_fd(adroit_check::fd::FiniteDifference::default().with_max_range(0.02));
    if let Err(m) = gradcheck(&Binary(name), &point, &options) {
        return Err(TestCaseError::fail(format!("{name}({x}, {y}):\n{m}")));
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn every_unary_rule_f64(index in 0..UNARY.len(), t in 0.0..1.0f64) {
        check_unary::<f64>(index, t)?;
    }

    #[test]
    fn every_unary_rule_f32(index in 0..UNARY.len(), t in 0.0..1.0f64) {
        check_unary::<f32>(index, t)?;
    }

    #[test]
    fn every_binary_rule_f64(index in 0..BINARY.len(), s in 0.0..1.0f64, t in 0.0..1.0f64) {
        check_binary::<f64>(index, s, t)?;
    }

    #[test]
    fn every_binary_rule_f32(index in 0..BINARY.len(), s in 0.0..1.0f64, t in 0.0..1.0f64) {
        check_binary::<f32>(index, s, t)?;
    }
}

#[test]
fn max_min_copysign_away_from_ties() {
    for (x, y) in [(0.3, -1.2), (-2.0, 1.5), (4.0, 4.5)] {
        for name in ["max", "min", "copysign"] {
            let r = gradcheck(&Binary(name), &[x, y], &Options::for_precision::<f64>());
            assert!(r.is_ok(), "{name}({x}, {y}): {}", r.unwrap_err());
        }
    }
}
