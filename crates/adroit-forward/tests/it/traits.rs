//! The standard traits: operators on either side, comparisons on the primal, conversions,
//! formatting, constants.

use adroit_forward::{Dual, DualVec, HyperDual};
use num_traits::{
    Float, FloatConst, FromPrimitive, Inv, Num, NumCast, One, Signed, ToPrimitive, Zero,
};
use std::ops::{Add, Div, Mul, Rem, Sub};

/// `c ∘ x` and `x ∘ c` for each operator `∘` with a plain `f64` `c` (2, 6 or 7), in the order
/// of [`PLAIN_FLOAT_VALUES`].
fn with_plain_floats<S>(x: S) -> [S; 10]
where
    S: Copy
        + Add<f64, Output = S>
        + Sub<f64, Output = S>
        + Mul<f64, Output = S>
        + Div<f64, Output = S>
        + Rem<f64, Output = S>,
    f64: Add<S, Output = S>
        + Sub<S, Output = S>
        + Mul<S, Output = S>
        + Div<S, Output = S>
        + Rem<S, Output = S>,
{
    [
        2.0 + x,
        x + 2.0,
        2.0 - x,
        x - 2.0,
        2.0 * x,
        x * 2.0,
        6.0 / x,
        x / 2.0,
        7.0 % x,
        x % 2.0,
    ]
}

/// The value and derivative of each of [`with_plain_floats`]'s results at x = 3.
const PLAIN_FLOAT_VALUES: [(f64, f64); 10] = [
    (5.0, 1.0),
    (5.0, 1.0),
    (-1.0, -1.0),
    (1.0, 1.0),
    (6.0, 2.0),
    (6.0, 2.0),
    (2.0, -6.0 / 9.0),
    (1.5, 0.5),
    (1.0, -2.0),
    (1.0, 1.0),
];

#[test]
fn arithmetic_with_plain_floats_on_either_side() {
    let cases = with_plain_floats(Dual::variable(3.0_f64));
    for (i, (y, (v, d))) in cases.into_iter().zip(PLAIN_FLOAT_VALUES).enumerate() {
        assert_eq!((y.value(), y.tangent()), (v, d), "case {i}");
    }
    let x = Dual::variable(3.0_f32);
    let y = 2.0_f32 * x + 1.0;
    assert_eq!((y.value(), y.tangent()), (7.0, 2.0));
    let v = 2.0 * DualVec::<f64, 2>::variable(1.0, 1) - 1.0;
    assert_eq!(v.tangents(), [0.0, 2.0]);
    let h = 2.0_f32 * HyperDual::variable(1.0_f32) * HyperDual::variable(1.0);
    assert_eq!(h.eps12()[0][0], 4.0);
    // A hyper-dual (perturbed once along each direction): value, both first-order parts, the
    // second-order (ε₁ε₂) part, which only 6/x has: 12/x³.
    let cases = with_plain_floats(HyperDual::variable(3.0_f64));
    for (i, (y, (v, d))) in cases.into_iter().zip(PLAIN_FLOAT_VALUES).enumerate() {
        let parts = (y.value(), y.eps1()[0], y.eps2()[0]);
        assert_eq!(parts, (v, d, d), "case {i}");
        let d2 = if i == 6 { 12.0 / 27.0 } else { 0.0 };
        assert!(
            (y.eps12()[0][0] - d2).abs() <= 1e-16,
            "case {i}: {}",
            y.eps12()[0][0]
        );
    }
    // A chunk of two directions, x perturbed along the second.
    let cases = with_plain_floats(DualVec::<f64, 2>::variable(3.0, 1));
    for (i, (y, (v, d))) in cases.into_iter().zip(PLAIN_FLOAT_VALUES).enumerate() {
        assert_eq!((y.value(), y.tangents()), (v, [0.0, d]), "chunk case {i}");
    }
}

#[test]
fn assign_operators() {
    let mut x = Dual::variable(2.0_f64);
    x += Dual::variable(1.0);
    x -= 0.5;
    x *= Dual::new(2.0, 0.0);
    x /= 4.0;
    x %= Dual::constant(10.0);
    assert_eq!((x.value(), x.tangent()), (1.25, 1.0));
    let mut y = Dual::variable(2.0_f64);
    y += 1.0;
    y *= 3.0;
    y -= Dual::constant(1.0);
    y /= Dual::constant(2.0);
    y %= 3.0;
    assert_eq!((y.value(), y.tangent()), (1.0, 1.5));
}

#[test]
fn comparisons_use_the_primal_value() {
    let a = Dual::new(1.0_f64, 5.0);
    let b = Dual::new(1.0, -5.0);
    assert_eq!(a, b);
    assert!(Dual::new(0.5, 9.0) < a);
    assert!(a.partial_cmp(&Dual::nan()).is_none());
    assert_eq!(Dual::<f64>::default(), Dual::constant(0.0));
    assert_eq!(Dual::<f64>::default().tangent(), 0.0);
}

#[test]
fn zero_means_every_part_is_zero() {
    assert!(Dual::<f64>::zero().is_zero());
    assert!(!Dual::new(0.0_f64, 1.0).is_zero());
    assert!(Dual::new(0.0_f64, 1.0) == Dual::zero());
    assert!(Dual::<f64>::one().is_one());
    assert!(!DualVec::<f64, 2>::variable(0.0, 1).is_zero());
    assert!(!HyperDual::variable(0.0_f64).is_zero());
}

#[test]
fn sum_and_product() {
    let xs = [
        Dual::variable(2.0_f64),
        Dual::constant(3.0),
        Dual::variable(4.0),
    ];
    let s: Dual<f64> = xs.iter().sum();
    assert_eq!((s.value(), s.tangent()), (9.0, 2.0));
    let p: Dual<f64> = xs.into_iter().product();
    // d/dt (2+t)·3·(4+t) at 0 = 3·4 + 2·3
    assert_eq!((p.value(), p.tangent()), (24.0, 18.0));
    let p: Dual<f64> = xs.iter().product();
    assert_eq!(p.tangent(), 18.0);
    let s: Dual<f64> = xs.into_iter().sum();
    assert_eq!(s.value(), 9.0);
}

#[test]
fn negation_inverse_signed() {
    let x = Dual::variable(-2.0_f64);
    assert_eq!((-x).tangent(), -1.0);
    assert_eq!(x.inv().tangent(), -0.25);
    assert_eq!(Signed::abs(&x).tangent(), -1.0);
    assert_eq!(Signed::signum(&x).tangent(), 0.0);
    assert!(x.is_negative() && !x.is_positive());
    assert_eq!(Signed::abs_sub(&x, &Dual::constant(-3.0)).tangent(), 1.0);
    assert_eq!(Signed::abs_sub(&x, &Dual::constant(0.0)).tangent(), 0.0);
    assert_eq!(Float::abs_sub(x, Dual::constant(-3.0)).value(), 1.0);
}

#[test]
fn conversions() {
    let x: Dual<f64> = NumCast::from(3_i32).unwrap();
    assert_eq!((x.value(), x.tangent()), (3.0, 0.0));
    assert_eq!(Dual::<f32>::from_f64(0.5).unwrap().value(), 0.5);
    assert_eq!(Dual::<f64>::from_i64(-4).unwrap().value(), -4.0);
    assert_eq!(Dual::<f64>::from_u64(4).unwrap().value(), 4.0);
    assert_eq!(Dual::new(2.7_f64, 1.0).to_i64(), Some(2));
    assert_eq!(Dual::new(2.5_f32, 1.0).to_f64(), Some(2.5));
    assert_eq!(Dual::<f64>::from_str_radix("1.5", 10).unwrap().value(), 1.5);
    assert!(Dual::<f64>::from_str_radix("x", 10).is_err());
    assert_eq!(
        <DualVec<f64, 3> as NumCast>::from(2.0_f32)
            .unwrap()
            .tangents(),
        [0.0; 3]
    );
}

#[test]
fn constants_and_classification() {
    assert_eq!(Dual::<f64>::PI().value(), core::f64::consts::PI);
    assert_eq!(Dual::<f32>::E().tangent(), 0.0);
    assert_eq!(Dual::<f64>::TAU().value(), core::f64::consts::TAU);
    assert!(Dual::<f64>::nan().is_nan());
    assert!(Dual::<f64>::infinity().is_infinite());
    assert!(Dual::<f64>::neg_zero().is_sign_negative());
    assert_eq!(Dual::<f64>::epsilon().value(), f64::EPSILON);
    assert_eq!(Dual::<f64>::max_value().value(), f64::MAX);
    assert_eq!(Dual::<f64>::min_positive_value().value(), f64::MIN_POSITIVE);
    assert_eq!(
        Dual::new(1.0_f64, 3.0).classify(),
        core::num::FpCategory::Normal
    );
    assert_eq!(
        Dual::new(1.0_f64, 3.0).integer_decode(),
        1.0_f64.integer_decode()
    );
    assert!(Dual::new(1e-310_f64, 1.0).is_subnormal());
}

#[test]
fn mul_add_sin_cos_powi_and_angle_conversions() {
    let x = Dual::variable(0.5_f64);
    let y = x.mul_add(Dual::constant(3.0), Dual::constant(1.0));
    assert_eq!((y.value(), y.tangent()), (2.5, 3.0));
    let z = x.mul_add(x, x); // x² + x
    assert_eq!(z.tangent(), 2.0);
    let (s, c) = x.sin_cos();
    assert_eq!((s.tangent(), c.tangent()), (0.5_f64.cos(), -0.5_f64.sin()));
    assert_eq!(x.powi(3).tangent(), 0.75);
    assert_eq!(x.to_degrees().tangent(), 180.0 / core::f64::consts::PI);
    assert_eq!(x.to_radians().tangent(), core::f64::consts::PI / 180.0);
}

#[test]
fn formatting() {
    assert_eq!(Dual::new(1.5_f64, -2.0).to_string(), "1.5 - 2ε");
    assert_eq!(
        Dual::new(1.5_f64, f64::NEG_INFINITY).to_string(),
        "1.5 - infε"
    );
    assert_eq!(Dual::new(-1.5_f64, 0.0).to_string(), "-1.5 + 0ε");
    assert_eq!(Dual::new(1.0_f64, -0.0).to_string(), "1 - 0ε");
    assert_eq!(format!("{:.2}", Dual::new(1.0_f64, 0.5)), "1.00 + 0.50ε");
    assert_eq!(format!("{:.1}", Dual::new(1.0_f32, -0.25)), "1.0 - 0.2ε");
    assert_eq!(format!("{:+}", Dual::new(1.0_f64, 2.0)), "+1 + 2ε");
    assert_eq!(format!("{:+.1}", Dual::new(-1.0_f64, -2.0)), "-1.0 - 2.0ε");
    // Width, fill and alignment apply to the whole number (they padded each number before).
    assert_eq!(format!("{:>8}", Dual::new(1.0_f64, -2.0)), "  1 - 2ε");
    assert_eq!(format!("{:*<8}", Dual::new(1.0_f64, 2.0)), "1 + 2ε**");
    assert_eq!(format!("{:^9.1}", Dual::new(1.0_f64, 2.0)), "1.0 + 2.0ε"); // wider than 9
    assert_eq!(format!("{:^12.1}", Dual::new(1.0_f64, 2.0)), " 1.0 + 2.0ε ");
    let vector = DualVec::new(1.0_f64, [2.0, 3.0]);
    assert_eq!(format!("{vector:>12}"), " 1 + [2, 3]ε");
    let hyper = HyperDual::variable(2.0_f64);
    assert_eq!(format!("{hyper:<31}|"), "2 + [1]ε₁ + [1]ε₂ + [[0]]ε₁ε₂  |");
    // Nested: each part of the outer dual in parentheses, so the inner ε stays apart.
    let nested = Dual::new(Dual::new(1.0_f64, 1.0), Dual::new(-2.0, 0.5));
    assert_eq!(nested.to_string(), "(1 + 1ε) + (-2 + 0.5ε)ε");
    assert_eq!(
        DualVec::new(Dual::new(1.0_f64, -1.0), [Dual::new(2.0, 0.0)]).to_string(),
        "(1 - 1ε) + [(2 + 0ε)]ε"
    );
    assert_eq!(DualVec::new(1.0_f64, [2.0, 3.0]).to_string(), "1 + [2, 3]ε");
    assert_eq!(
        HyperDual::variable(2.0_f64).to_string(),
        "2 + [1]ε₁ + [1]ε₂ + [[0]]ε₁ε₂"
    );
    // Two directions of each kind: the second parts' rows separated.
    let wide = adroit_forward::HyperDualVec::new(
        1.0_f64,
        [2.0, 3.0],
        [4.0, 5.0],
        [[6.0, 7.0], [8.0, 9.0]],
    );
    assert_eq!(
        wide.to_string(),
        "1 + [2, 3]ε₁ + [4, 5]ε₂ + [[6, 7], [8, 9]]ε₁ε₂"
    );
    assert!(format!("{:?}", Dual::new(1.0_f64, 2.0)).contains("tangent: 2.0"));
}

/// The plain float's own answer for the trait methods a hunt (session 61) found answered
/// otherwise by every dual type (and `Var`, through the same macro): `Signed`'s sign tests
/// (by the sign bit), the 128-bit conversions (the defaults went through 64 bits: `None`
/// from about 2⁶³), and `Sum` (from `−0.0`, as the floats' own). `lift` makes a number of the
/// type `S` checked whose primal is the plain float `P` (`f64` or `f32`).
fn plain_float_parity<P, S>(lift: impl Fn(P) -> S)
where
    P: Float + Signed + FromPrimitive + std::iter::Sum + for<'a> std::iter::Sum<&'a P>,
    S: Float + Signed + FromPrimitive + std::iter::Sum + for<'a> std::iter::Sum<&'a S>,
{
    let bits = |x: f64| x.to_bits();
    let plain = |x: f64| P::from_f64(x).unwrap();
    for x in [
        0.0,
        -0.0,
        f64::NAN,
        -f64::NAN,
        2.0,
        -2.0,
        f64::INFINITY,
        -f64::INFINITY,
    ] {
        let (x, y) = (plain(x), lift(plain(x)));
        let signs = |p: bool, n: bool| (p, n);
        assert_eq!(
            signs(Signed::is_positive(&y), Signed::is_negative(&y)),
            signs(Signed::is_positive(&x), Signed::is_negative(&x)),
            "{:?}",
            x.to_f64()
        );
    }
    for x in [
        1e20,
        -1e20,
        9.3e18,
        1e38,
        -1.7e38,
        f64::MAX,
        0.5,
        -0.5,
        f64::NAN,
    ] {
        let (x, y) = (plain(x), lift(plain(x)));
        assert_eq!(
            (y.to_i128(), y.to_u128()),
            (x.to_i128(), x.to_u128()),
            "{:?}",
            x.to_f64()
        );
    }
    let primal_bits = |y: S| bits(y.to_f64().unwrap());
    let plain_bits = |x: P| bits(x.to_f64().unwrap());
    for n in [i128::MIN, i128::MAX, 1 << 70, -(1 << 100), 3] {
        assert_eq!(
            S::from_i128(n).map(primal_bits),
            P::from_i128(n).map(plain_bits),
            "{n}"
        );
    }
    for n in [u128::MAX, 1 << 70, 7] {
        assert_eq!(
            S::from_u128(n).map(primal_bits),
            P::from_u128(n).map(plain_bits),
            "{n}"
        );
    }
    let empty: S = std::iter::empty::<S>().sum();
    let want: P = std::iter::empty::<P>().sum();
    assert_eq!(primal_bits(empty), plain_bits(want), "the empty sum");
    for terms in [
        vec![-0.0],
        vec![-0.0, -0.0],
        vec![-0.0, 0.0],
        vec![1.0, -1.0],
    ] {
        let terms: Vec<P> = terms.into_iter().map(plain).collect();
        let want: P = terms.iter().sum();
        let by_value: S = terms.iter().map(|&t| lift(t)).sum();
        let lifted: Vec<S> = terms.iter().map(|&t| lift(t)).collect();
        let by_reference: S = lifted.iter().sum();
        assert_eq!(primal_bits(by_value), plain_bits(want));
        assert_eq!(primal_bits(by_reference), plain_bits(want));
    }
}

#[test]
fn signs_128_bit_conversions_and_sums_as_plain_floats() {
    plain_float_parity(Dual::<f64>::variable);
    plain_float_parity(|x: f32| Dual::new(x, 1.0));
    plain_float_parity(|x: f64| DualVec::<f64, 3>::new(x, [1.0, 0.0, -1.0]));
    plain_float_parity(|x: f64| HyperDual::new(x, [1.0], [1.0], [[0.0]]));
    plain_float_parity(|x: f64| Dual::new(Dual::variable(x), Dual::constant(1.0)));
}

#[test]
fn clamp_checks_its_bounds_as_plain_floats_and_realfield_clamp_does_not() {
    use std::panic::catch_unwind;
    // f64::clamp panics on min > max or a NaN bound; simba's RealField::clamp does not.
    let bad = [(2.0, 0.0), (f64::NAN, 2.0), (0.0, f64::NAN)];
    for (lo, hi) in bad {
        assert!(catch_unwind(|| Float::clamp(1.0_f64, lo, hi)).is_err());
        let (x, lo, hi) = (Dual::variable(1.0), Dual::constant(lo), Dual::constant(hi));
        let message = *catch_unwind(|| Float::clamp(x, lo, hi))
            .unwrap_err()
            .downcast::<&str>()
            .unwrap();
        assert!(
            message.contains("min > max, or either was NaN"),
            "{message}"
        );
        let plain = nalgebra::RealField::clamp(1.0_f64, lo.value(), hi.value());
        let dual = nalgebra::RealField::clamp(x, lo, hi);
        assert_eq!(dual.value().to_bits(), plain.to_bits());
    }
    // Good bounds: selection, the input's tangent inside (bounds included), a bound's outside.
    let (lo, hi) = (Dual::constant(-0.5), Dual::constant(0.5));
    assert_eq!(Float::clamp(Dual::variable(0.5), lo, hi).tangent(), 1.0);
    assert_eq!(Float::clamp(Dual::variable(0.7), lo, hi).tangent(), 0.0);
    assert!(
        Float::clamp(Dual::variable(f64::NAN), lo, hi)
            .value()
            .is_nan()
    );
}
