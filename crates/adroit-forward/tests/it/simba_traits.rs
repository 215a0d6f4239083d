//! nalgebra's scalar traits (simba's `ComplexField`, `RealField`, `SimdValue`, `SubsetOf`;
//! approx's comparisons) on each kind of dual (`Dual` in `f64` and `f32`, `DualVec`,
//! `HyperDual`), called through the trait as generic nalgebra code calls them: each method
//! that has a `Float` namesake gives its value and every perturbation bit for bit (`Float`'s
//! derivatives are tested against references elsewhere), the others the formula's (`cosc`,
//! `argument`, the constants), so that a method forwarded to the wrong function or dropping the
//! perturbation fails here. Methods of both traits are named in full: many exist in `Float`
//! too.

use adroit_forward::{Dual, DualVec, HyperDual};
use nalgebra::{ComplexField, RealField};
use num_traits::{Float, FloatConst};
use simba::scalar::SubsetOf;
use simba::simd::SimdValue;

/// Every part of a number (value first, then the perturbations), in `f64`.
trait Parts: Copy {
    fn parts(self) -> Vec<f64>;
}

impl Parts for Dual<f64> {
    fn parts(self) -> Vec<f64> {
        vec![self.value(), self.tangent()]
    }
}

impl Parts for Dual<f32> {
    fn parts(self) -> Vec<f64> {
        vec![f64::from(self.value()), f64::from(self.tangent())]
    }
}

impl Parts for DualVec<f64, 2> {
    fn parts(self) -> Vec<f64> {
        let [a, b] = self.tangents();
        vec![self.value(), a, b]
    }
}

impl Parts for HyperDual<f64> {
    fn parts(self) -> Vec<f64> {
        vec![
            self.value(),
            self.eps1()[0],
            self.eps2()[0],
            self.eps12()[0][0],
        ]
    }
}

/// The same parts, bit for bit.
#[track_caller]
fn same<S: Parts>(got: S, want: S, what: &str) {
    let (g, w) = (got.parts(), want.parts());
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert!(bits(&g) == bits(&w), "{what}: {g:?} against {w:?}");
}

/// `x`'s value with no perturbation, as parts: what a constant is.
fn constant_parts<S: Parts>(x: S, value: f64) -> Vec<f64> {
    let mut p = vec![0.0; x.parts().len()];
    p[0] = value;
    p
}

/// The methods of `ComplexField` and `RealField` that have a `Float` namesake (or an
/// equivalent), at `x`, `y`, `z` (non-zero; `x, z > 0` and not 1, `y < 0`) and a perturbed
/// `zero`.
fn forwarded<S>(x: S, y: S, z: S, zero: S)
where
    S: ComplexField<RealField = S> + RealField + Float + FloatConst + Parts,
{
    same(
        ComplexField::mul_add(x, y, z),
        Float::mul_add(x, y, z),
        "mul_add",
    );
    same(ComplexField::log(x, z), Float::log(x, z), "log(x, base z)");
    same(ComplexField::log(z, x), Float::log(z, x), "log(z, base x)");
    for n in [-2, 0, 3] {
        same(ComplexField::powi(x, n), Float::powi(x, n), "powi");
    }
    same(ComplexField::powf(x, y), Float::powf(x, y), "powf");
    same(ComplexField::powc(x, y), Float::powf(x, y), "powc");
    same(ComplexField::hypot(x, y), Float::hypot(x, y), "hypot");
    same(ComplexField::modulus(y), Float::abs(y), "modulus");
    same(ComplexField::norm1(y), Float::abs(y), "norm1");
    same(ComplexField::modulus_squared(y), y * y, "modulus_squared");
    same(ComplexField::scale(x, y), x * y, "scale");
    same(ComplexField::unscale(x, y), x / y, "unscale");
    same(ComplexField::conjugate(y), y, "conjugate");
    same(ComplexField::real(y), y, "real");
    same(ComplexField::from_real(y), y, "from_real");
    let (s, c) = ComplexField::sin_cos(y);
    same(s, Float::sin(y), "sin_cos's sine");
    same(c, Float::cos(y), "sin_cos's cosine");
    same(ComplexField::signum(y), Float::signum(y), "signum");
    same(ComplexField::exp(y), Float::exp(y), "exp");
    same(ComplexField::atan(y), Float::atan(y), "atan");
    same(RealField::copysign(x, y), Float::copysign(x, y), "copysign");
    same(RealField::copysign(y, x), Float::copysign(y, x), "copysign");
    same(RealField::atan2(y, x), Float::atan2(y, x), "atan2");
    same(RealField::max(x, y), Float::max(x, y), "max");
    same(RealField::min(x, y), Float::min(x, y), "min");
    match ComplexField::try_sqrt(x) {
        Some(r) => same(r, Float::sqrt(x), "try_sqrt"),
        None => panic!("try_sqrt of a positive number"),
    }
    assert!(
        ComplexField::try_sqrt(-x).is_none(),
        "try_sqrt of a negative number"
    );
    assert!(ComplexField::is_finite(&x) && !ComplexField::is_finite(&(x / S::zero())));
    // The imaginary part of a real number is 0, and so is its derivative.
    assert_eq!(ComplexField::imaginary(x).parts(), constant_parts(x, 0.0));
    // The argument is 0 or π (piecewise constant).
    assert_eq!(ComplexField::argument(x).parts(), constant_parts(x, 0.0));
    let pi = std::f64::consts::PI;
    let pi_here = <S as FloatConst>::PI().parts()[0];
    assert_eq!(
        ComplexField::argument(-x).parts(),
        constant_parts(x, pi_here)
    );
    assert!((pi_here - pi).abs() < 1e-6);
    // Signs are the primal value's, ±0 included.
    for (v, positive) in [(x, true), (-x, false)] {
        assert_eq!(RealField::is_sign_positive(&v), positive);
        assert_eq!(RealField::is_sign_negative(&v), !positive);
    }
    assert!(RealField::is_sign_positive(&zero) && RealField::is_sign_negative(&-zero));
}

/// `cos x / x` and `cosh x / x` at a non-zero `x` (as the quotient of their `Float` parts),
/// and 1, a constant, at a perturbed `zero` (simba's convention for the plain floats).
fn cardinal<S>(x: S, zero: S)
where
    S: ComplexField<RealField = S> + Float + Parts,
{
    same(ComplexField::cosc(x), Float::cos(x) / x, "cosc");
    same(ComplexField::coshc(x), Float::cosh(x) / x, "coshc");
    assert_eq!(ComplexField::cosc(zero).parts(), constant_parts(x, 1.0));
    assert_eq!(ComplexField::coshc(zero).parts(), constant_parts(x, 1.0));
    assert_eq!(ComplexField::cosc(0.0_f64), 1.0, "simba's convention");
}

/// The constants of `RealField` are `FloatConst`'s, unperturbed; the bounds are `Float`'s.
fn constants<S>(x: S)
where
    S: RealField + Float + FloatConst + Parts,
{
    let pairs: [(S, S, &str); 16] = [
        (S::pi(), S::PI(), "pi"),
        (S::two_pi(), S::TAU(), "two_pi"),
        (S::frac_pi_2(), S::FRAC_PI_2(), "frac_pi_2"),
        (S::frac_pi_3(), S::FRAC_PI_3(), "frac_pi_3"),
        (S::frac_pi_4(), S::FRAC_PI_4(), "frac_pi_4"),
        (S::frac_pi_6(), S::FRAC_PI_6(), "frac_pi_6"),
        (S::frac_pi_8(), S::FRAC_PI_8(), "frac_pi_8"),
        (S::frac_1_pi(), S::FRAC_1_PI(), "frac_1_pi"),
        (S::frac_2_pi(), S::FRAC_2_PI(), "frac_2_pi"),
        (S::frac_2_sqrt_pi(), S::FRAC_2_SQRT_PI(), "frac_2_sqrt_pi"),
        (S::e(), S::E(), "e"),
        (S::log2_e(), S::LOG2_E(), "log2_e"),
        (S::log10_e(), S::LOG10_E(), "log10_e"),
        (S::ln_2(), S::LN_2(), "ln_2"),
        (S::ln_10(), S::LN_10(), "ln_10"),
        (
            RealField::max_value().expect("bounded"),
            Float::max_value(),
            "max_value",
        ),
    ];
    for (got, want, name) in pairs {
        same(got, want, name);
        assert_eq!(got.parts(), constant_parts(x, want.parts()[0]), "{name}");
    }
    let lowest = <S as RealField>::min_value().expect("bounded");
    same(lowest, Float::min_value(), "min_value");
    assert!(lowest.parts()[0] < -1e38);
    let tau = S::two_pi().parts()[0];
    assert!((tau - 2.0 * std::f64::consts::PI).abs() < 1e-6);
}

/// One lane: splat, extract and replace are the number itself, perturbations included;
/// `SubsetOf<Self>` is the identity.
fn one_lane<S>(x: S, y: S)
where
    S: SimdValue<Element = S, SimdBool = bool> + SubsetOf<S> + Parts,
{
    assert_eq!(S::LANES, 1);
    same(S::splat(x), x, "splat");
    same(x.extract(0), x, "extract");
    #[allow(unsafe_code)]
    // SAFETY: lane 0 exists.
    let unchecked = unsafe { x.extract_unchecked(0) };
    same(unchecked, x, "extract_unchecked");
    let mut z = x;
    z.replace(0, y);
    same(z, y, "replace");
    let mut z = x;
    #[allow(unsafe_code)]
    // SAFETY: lane 0 exists.
    unsafe {
        z.replace_unchecked(0, y)
    };
    same(z, y, "replace_unchecked");
    same(x.select(true, y), x, "select(true)");
    same(x.select(false, y), y, "select(false)");
    same(x.to_superset(), x, "to_superset");
    same(S::from_superset_unchecked(&x), x, "from_superset_unchecked");
    assert!(<S as SubsetOf<S>>::is_in_subset(&x));
}

/// Every check above at `x`, `y`, `z` and a perturbed `zero`.
fn every_check<S>(x: S, y: S, z: S, zero: S)
where
    S: ComplexField<RealField = S>
        + RealField
        + Float
        + FloatConst
        + SimdValue<Element = S, SimdBool = bool>
        + SubsetOf<S>
        + Parts,
{
    forwarded(x, y, z, zero);
    cardinal(y, zero);
    constants(x);
    one_lane(x, y);
}

#[test]
fn complex_and_real_field_methods_on_first_order_duals() {
    let y = Dual::new(-0.6_f64, 1.25);
    every_check(
        Dual::new(1.7, 0.3),
        y,
        Dual::new(2.5, -0.5),
        Dual::new(0.0, 2.0),
    );
    // cosc'(x) = −sin x / x − cos x / x², coshc'(x) = sinh x / x − cosh x / x², at y (its
    // tangent 1.25)
    let v = -0.6_f64;
    let want = (-v.sin() / v - v.cos() / (v * v)) * 1.25;
    let got = ComplexField::cosc(y).tangent();
    assert!((got - want).abs() <= 1e-15 * want.abs(), "{got} vs {want}");
    let want = (v.sinh() / v - v.cosh() / (v * v)) * 1.25;
    let got = ComplexField::coshc(y).tangent();
    assert!((got - want).abs() <= 1e-15 * want.abs(), "{got} vs {want}");
}

#[test]
fn complex_and_real_field_methods_on_f32_and_chunked_duals() {
    every_check(
        Dual::new(1.7_f32, 0.3),
        Dual::new(-0.6, 1.25),
        Dual::new(2.5, -0.5),
        Dual::new(0.0, 2.0),
    );
    every_check(
        DualVec::new(1.7_f64, [1.0, 0.0]),
        DualVec::new(-0.6, [0.0, 1.0]),
        DualVec::new(2.5, [0.5, -0.5]),
        DualVec::new(0.0, [1.0, -1.0]),
    );
}

#[test]
fn complex_and_real_field_methods_on_hyper_duals() {
    // Second derivatives too: each number perturbed along both directions.
    let y = HyperDual::variable(-0.6_f64);
    every_check(
        HyperDual::variable(1.7),
        y,
        HyperDual::variable(2.5),
        HyperDual::variable(0.0),
    );
    // (cos x / x)'' = −cos x / x + 2 sin x / x² + 2 cos x / x³ at −0.6
    let v = -0.6_f64;
    let want = -v.cos() / v + 2.0 * v.sin() / (v * v) + 2.0 * v.cos() / (v * v * v);
    let got = ComplexField::cosc(y).eps12()[0][0];
    assert!((got - want).abs() <= 1e-14 * want.abs(), "{got} vs {want}");
}

/// approx's comparisons read the primal values only, with the primal float's approx defaults.
#[test]
fn approximate_equality_compares_primal_values() {
    use approx::{AbsDiffEq, RelativeEq, UlpsEq};
    let a = Dual::new(1.0_f64, 5.0);
    let b = Dual::new(1.0 + f64::EPSILON, -3.0);
    let far = Dual::new(1.1_f64, 5.0);
    assert_eq!(
        Dual::<f64>::default_epsilon().parts(),
        vec![f64::EPSILON, 0.0]
    );
    assert_eq!(
        Dual::<f64>::default_max_relative().parts(),
        vec![f64::EPSILON, 0.0]
    );
    assert_eq!(Dual::<f64>::default_max_ulps(), f64::default_max_ulps());
    let eps = Dual::<f64>::default_epsilon();
    assert!(a.abs_diff_eq(&b, eps));
    assert!(!a.abs_diff_eq(&far, Dual::constant(0.01)));
    assert!(a.relative_eq(&b, eps, Dual::<f64>::default_max_relative()));
    assert!(!a.relative_eq(&far, Dual::constant(0.0), Dual::constant(0.01)));
    assert!(a.ulps_eq(&b, eps, 4));
    assert!(!a.ulps_eq(&far, Dual::constant(0.0), 4));
    approx::assert_relative_eq!(HyperDual::variable(2.0_f64), HyperDual::constant(2.0));
    approx::assert_ulps_eq!(Dual::new(3.0_f32, 1.0), Dual::new(3.0, -1.0));
}
