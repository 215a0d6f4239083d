//! Proptest strategies for derivative tests: floats in a domain (away from kinks or exactly on
//! them), vectors, matrices, and a configuration that honours `PROPTEST_CASES`.
//!
//! Shrinking: proptest's shrinking of a float often stops early, so a failing float is
//! reported near where it was drawn rather than at the boundary of the failing region — a bug
//! confined to `x > 2` may be reported at 9.03. Floats from [`float_in`] shrink towards 0,
//! clamped into their range (towards its nearer end when 0 is outside it); those from
//! [`float_away_from`] towards the start of its first allowed interval. Vectors keep their
//! length and shrink entry by entry, as floats do (a failure that depends on one entry is
//! reported with the others shrunk and that one near where it was drawn); random programs
//! ([`program`](crate::program)) shrink to small expressions. To locate a threshold, narrow
//! the range by hand or test the points of interest with [`float_on`].

use nalgebra::DMatrix;
use num_traits::Float;
use proptest::prelude::*;
use proptest::test_runner::Config;
use std::fmt::Debug;

fn cast<T: Float>(v: f64) -> T {
    T::from(v).unwrap_or_else(T::nan)
}

/// `[lo, hi)` cut to the finite values of `T` (`f32`'s are narrower than `f64`'s).
///
/// Panics, naming `who`, if a bound is NaN or infinite, if `lo >= hi`, or if the range lies
/// beyond `T`'s finite values.
#[track_caller]
fn finite_range<T: Float>(who: &str, lo: f64, hi: f64) -> (f64, f64) {
    assert!(
        lo.is_finite() && hi.is_finite(),
        "{who}: the bounds must be finite, not [{lo:?}, {hi:?}) (a uniform draw needs a finite width)"
    );
    assert!(lo < hi, "{who}: empty range [{lo:?}, {hi:?})");
    let max = T::max_value().to_f64().unwrap_or(f64::MAX);
    let (cut_lo, cut_hi) = (lo.max(-max), hi.min(max));
    assert!(
        cut_lo < cut_hi,
        "{who}: [{lo:?}, {hi:?}) lies beyond the finite {} (the largest is {max:e})",
        std::any::type_name::<T>()
    );
    (cut_lo, cut_hi)
}

/// Floats uniform in `[lo, hi)`, as `T` (`f32` or `f64`); a range reaching beyond `T`'s finite
/// values is cut to them (`float_in::<f32>(0.0, 1e300)` draws from `[0, f32::MAX)`).
///
/// A range narrower than `T`'s spacing, holding no `T` at all, is not detected: every draw is
/// rejected and proptest fails with "Too many local rejects".
///
/// # Panics
/// If `lo >= hi`, a bound is NaN or infinite, or the range lies beyond `T`'s finite values.
///
/// # Example
/// ```
/// use adroit_check::strategy::float_in;
/// use adroit_check::proptest::prelude::*;
/// proptest!(|(x in float_in::<f32>(0.5, 2.0))| prop_assert!(x >= 0.5 && x < 2.0));
/// ```
#[track_caller]
pub fn float_in<T: Float + Debug + 'static>(lo: f64, hi: f64) -> BoxedStrategy<T> {
    let (lo, hi) = finite_range::<T>("float_in", lo, hi);
    // Rounding to T can leave the range (to hi, for a range narrower than T's spacing):
    // such values are rejected.
    (lo..hi)
        .prop_map(cast::<T>)
        .prop_filter("outside the range once rounded to T", move |v| {
            v.to_f64().is_some_and(|v| lo <= v && v < hi)
        })
        .boxed()
}

/// Floats in `[lo, hi)` at least `margin` away from every point of `kinks` (where the function
/// under test is not differentiable, so finite differences are meaningful), and never a kink
/// itself (with `margin` 0 too): uniform over the part of the range that is allowed (a draw in
/// its length, mapped onto the allowed intervals in order), so no draw is rejected however
/// little of the range that is — but one that rounds, in `T`, onto a kink or outside the
/// range (an `f32` range a few ulps wide). A failing value shrinks towards the start of the
/// first allowed interval (`lo` unless a kink's margin covers it), not towards 0 or a kink.
///
/// # Panics
/// As [`float_in`]; also if `margin` is negative, NaN or infinite, a kink is NaN, or no part of
/// the range is `margin` away from every kink.
///
/// # Example
/// Away from its kink at 0, `abs` must agree with finite differences:
/// ```
/// use adroit_check::strategy::float_away_from;
/// use adroit_check::{Options, generic_fn, gradcheck};
/// use adroit_check::proptest::prelude::*;
/// let f = generic_fn!(|x| vec![x[0].abs()]);
/// let options = Options::for_precision::<f64>();
/// proptest!(|(x in float_away_from::<f64>(-1.0, 1.0, vec![0.0], 0.1))| {
///     prop_assert!(x.abs() >= 0.1);
///     // `?` fails the case with the whole report (`prop_assert!(….is_ok())` would hide it)
///     gradcheck(&f, &[x], &options)?;
/// });
/// // A thousandth of the range left, drawn from without rejections:
/// proptest!(|(x in float_away_from::<f64>(-1.0, 1.0, vec![0.0], 0.999))| {
///     prop_assert!(x.abs() >= 0.999);
/// });
/// ```
#[track_caller]
pub fn float_away_from<T: Float + Debug + 'static>(
    lo: f64,
    hi: f64,
    kinks: Vec<f64>,
    margin: f64,
) -> BoxedStrategy<T> {
    let who = "float_away_from";
    let (lo, hi) = finite_range::<T>(who, lo, hi);
    assert!(
        margin >= 0.0 && margin.is_finite(),
        "{who}: the margin must be finite and ≥ 0, not {margin:?}"
    );
    assert!(
        !kinks.iter().any(|k| k.is_nan()),
        "{who}: a kink is NaN, in {kinks:?}"
    );
    let allowed = allowed_intervals(lo, hi, &kinks, margin);
    let length = allowed
        .iter()
        .fold(0.0, |sum, &interval| sum + half_length(interval));
    assert!(
        length > 0.0,
        "{who}: only {:.1e} of [{lo:?}, {hi:?}) is {margin:?} away from every kink in \
         {kinks:?}: nothing to draw from",
        length / (hi / 2.0 - lo / 2.0)
    );
    // Range and margin are checked on the value rounded to T (in f32 rounding can land on a
    // kink or at hi).
    (0.0..length)
        .prop_map(move |t| cast::<T>(point_at(&allowed, t)))
        .prop_filter("outside the range or too close to a kink", move |v| {
            v.to_f64().is_some_and(|v| {
                lo <= v && v < hi && kinks.iter().all(|k| v != *k && (v - k).abs() >= margin)
            })
        })
        .boxed()
}

/// Half the length of `[start, end)`, which cannot overflow: the whole of `[−MAX, MAX)` is
/// twice the largest float.
fn half_length((start, end): (f64, f64)) -> f64 {
    end / 2.0 - start / 2.0
}

/// The point at distance `2t` into the `allowed` intervals laid end to end, in half units so
/// that no length overflows (the last interval's end for a `t` past their half length, which
/// rounding can give).
fn point_at(allowed: &[(f64, f64)], mut t: f64) -> f64 {
    for &(start, end) in allowed {
        let half = half_length((start, end));
        if t < half {
            return ((start / 2.0 + t) * 2.0).clamp(start, end);
        }
        t -= half;
    }
    allowed.last().map_or(f64::NAN, |&(_, end)| end)
}

/// The parts of `[lo, hi)` at least `margin` from every kink, in order: the gaps between the
/// kinks' intervals `(k − margin, k + margin)`, merged in order of their start.
fn allowed_intervals(lo: f64, hi: f64, kinks: &[f64], margin: f64) -> Vec<(f64, f64)> {
    let mut excluded: Vec<(f64, f64)> = kinks
        .iter()
        .map(|k| ((k - margin).max(lo), (k + margin).min(hi)))
        .filter(|(start, end)| end > start)
        .collect();
    excluded.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (mut allowed, mut reach) = (Vec::new(), lo);
    for (start, end) in excluded {
        if start > reach {
            allowed.push((reach, start));
        }
        reach = reach.max(end);
    }
    if hi > reach {
        allowed.push((reach, hi));
    }
    allowed
}

/// Exactly the given points (kinks, domain boundaries), to test edge conventions.
///
/// # Panics
/// If `points` is empty.
///
/// # Example
/// The convention `abs'(0) = 0`, on both zeros:
/// ```
/// use adroit_check::strategy::float_on;
/// use adroit_check::adroit_forward::num_traits::Float;
/// use adroit_check::proptest::prelude::*;
/// proptest!(|(x in float_on::<f64>(vec![0.0, -0.0]))| {
///     prop_assert_eq!(x, 0.0);
///     prop_assert_eq!(adroit_check::adroit_forward::derivative(|x| x.abs(), x), 0.0);
/// });
/// ```
pub fn float_on<T: Float + Debug + 'static>(points: Vec<f64>) -> BoxedStrategy<T> {
    proptest::sample::select(points).prop_map(cast::<T>).boxed()
}

/// Vectors of `len` floats uniform in `[lo, hi)`.
///
/// # Panics
/// If `lo >= hi` (as [`float_in`]).
///
/// # Example
/// ```
/// use adroit_check::strategy::vector;
/// use adroit_check::{Options, generic_fn, gradcheck};
/// use adroit_check::proptest::prelude::*;
/// let f = generic_fn!(|x| vec![x[0] * x[1] + x[2].sin()]);
/// let options = Options::for_precision::<f64>();
/// proptest!(|(x in vector::<f64>(3, -2.0, 2.0))| {
///     prop_assert!(x.len() == 3 && x.iter().all(|v| (-2.0..2.0).contains(v)));
///     gradcheck(&f, &x, &options)?;
/// });
/// ```
pub fn vector<T: Float + Debug + 'static>(len: usize, lo: f64, hi: f64) -> BoxedStrategy<Vec<T>> {
    proptest::collection::vec(float_in::<T>(lo, hi), len).boxed()
}

/// `rows × cols` matrices with entries uniform in `[lo, hi)`.
///
/// # Panics
/// If `lo >= hi` (as [`float_in`]).
///
/// # Example
/// ```
/// use adroit_check::strategy::matrix;
/// use adroit_check::proptest::prelude::*;
/// proptest!(|(m in matrix::<f64>(2, 2, -1.0, 1.0))| {
///     prop_assert_eq!(m.shape(), (2, 2));
///     // Jacobi's formula: the gradient of det [[a, b], [c, d]] is [[d, −c], [−b, a]]
///     // (`as_slice` is column-major: a, c, b, d)
///     let g = adroit_check::adroit_forward::gradient(|v| v[0] * v[3] - v[2] * v[1], m.as_slice());
///     prop_assert_eq!(g, vec![m[(1, 1)], -m[(0, 1)], -m[(1, 0)], m[(0, 0)]]);
/// });
/// ```
pub fn matrix<T: Float + nalgebra::Scalar>(
    rows: usize,
    cols: usize,
    lo: f64,
    hi: f64,
) -> BoxedStrategy<DMatrix<T>> {
    proptest::collection::vec(float_in::<T>(lo, hi), rows * cols)
        .prop_map(move |v| DMatrix::from_vec(rows, cols, v))
        .boxed()
}

/// A proptest configuration running `default_cases` cases, or `PROPTEST_CASES` when that
/// environment variable is set (to run long campaigns without editing tests).
///
/// # Example
/// ```
/// use adroit_check::strategy::{config, float_in};
/// use adroit_check::proptest::prelude::*;
/// let c = config(64);
/// if std::env::var_os("PROPTEST_CASES").is_none() {
///     assert_eq!(c.cases, 64);
/// }
/// proptest!(c, |(x in float_in::<f64>(0.0, 1.0))| prop_assert!(x.sqrt() >= x));
/// ```
pub fn config(default_cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default_cases);
    // Rejections (points too close to a kink) scale with the number of cases.
    Config {
        cases,
        max_global_rejects: cases.max(1024),
        ..Config::default()
    }
}
