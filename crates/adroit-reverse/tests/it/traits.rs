//! The standard traits `Var` shares with the forward crate's `Dual`: `Sum`/`Product`, the
//! assigning operators (`%=` included), `Display`, `Default`, the conversions (`NumCast`,
//! `FromPrimitive`, `ToPrimitive`, `Num`), the `FloatConst` constants and the comparisons
//! (on the primal value). Values are checked against the same computation on plain floats,
//! gradients against the analytic derivative.

use adroit_reverse::{Var, gradient, value_and_gradient};
use num_traits::{Float, FloatConst, FromPrimitive, Num, NumCast, One, ToPrimitive, Zero};

#[test]
fn sum_over_an_iterator_of_variables() {
    // Σ xᵢ² by value and by reference: value Σ xᵢ², gradient 2x.
    let x = [1.5, -2.0, 0.25, 3.0];
    let (v, g) = value_and_gradient(|v| v.iter().map(|&xi| xi * xi).sum(), &x);
    assert_eq!(v, 1.5 * 1.5 + 4.0 + 0.0625 + 9.0);
    assert_eq!(g, vec![3.0, -4.0, 0.5, 6.0]);
    // `Sum<&Var>`, with a constant among the terms (its derivative is zero).
    let (v, g) = value_and_gradient(
        |v| {
            let terms = [v[0], Var::constant(10.0), v[1], v[0]];
            terms.iter().sum()
        },
        &[1.0, 2.0],
    );
    assert_eq!((v, g), (14.0, vec![2.0, 1.0]));
    // The empty sum is the constant −0.0, as the plain floats' (a sum starts from −0.0).
    let empty: Var<f64> = std::iter::empty::<Var<f64>>().sum();
    let plain: f64 = std::iter::empty::<f64>().sum();
    assert!(empty.is_constant() && empty.value().to_bits() == plain.to_bits());
    // A sum of −0.0s is −0.0, with gradient 1 (a hunt, session 61: it was +0.0).
    let (v, g) = value_and_gradient(|v| v.iter().sum(), &[-0.0_f64, -0.0]);
    assert_eq!((v.to_bits(), g), ((-0.0_f64).to_bits(), vec![1.0, 1.0]));
}

#[test]
fn signs_and_128_bit_conversions_of_variables_as_plain_floats() {
    // A hunt (session 61): `Signed::is_positive`/`is_negative` compared with zero (false at
    // ±0.0 and NaN, where the plain floats read the sign bit), and the 128-bit conversions
    // went through 64 bits (`None` from about 2⁶³).
    use num_traits::Signed;
    let _ = gradient(
        |v| {
            for (x, &plain) in v.iter().zip(&[0.0, -0.0, f64::NAN, 1e20, -1.7e38]) {
                let signs = (Signed::is_positive(x), Signed::is_negative(x));
                assert_eq!(
                    signs,
                    (Signed::is_positive(&plain), Signed::is_negative(&plain))
                );
                assert_eq!(
                    (x.to_i128(), x.to_u128()),
                    (plain.to_i128(), plain.to_u128())
                );
            }
            v[0]
        },
        &[0.0, -0.0, f64::NAN, 1e20, -1.7e38],
    );
    let n = i128::MIN;
    assert_eq!(
        Var::<f64>::from_i128(n).map(|c| c.value()),
        f64::from_i128(n)
    );
    assert_eq!(
        Var::<f32>::from_u128(u128::MAX).map(|c| c.value()),
        Some(f32::INFINITY)
    );
}

#[test]
fn product_over_an_iterator_of_variables() {
    // ∂/∂xᵢ Π xⱼ = Π_{j≠i} xⱼ.
    let x = [2.0, -3.0, 0.5, 4.0];
    let (v, g) = value_and_gradient(|v| v.iter().copied().product(), &x);
    assert_eq!(v, -12.0);
    assert_eq!(g, vec![-6.0, 4.0, -24.0, -3.0]);
    // `Product<&Var>` with a zero factor: only the zero factor's partial survives
    // (Π of the others = 6); the others get x₀·(...) = 0.
    let (v, g) = value_and_gradient(|v| v.iter().product(), &[0.0, 2.0, 3.0]);
    assert_eq!((v, g), (0.0, vec![6.0, 0.0, 0.0]));
    // A repeated variable: x·x·x = x³, derivative 3x² = 12 at 2.
    let g = gradient(|v| [v[0], v[0], v[0]].iter().product(), &[2.0]);
    assert_eq!(g, vec![12.0]);
    // The empty product is the constant 1; in f32 too.
    let empty: Var<f32> = std::iter::empty::<Var<f32>>().product();
    assert!(empty.is_constant() && empty.value() == 1.0);
    let g = gradient(|v| v.iter().copied().product(), &[3.0_f32, 5.0]);
    assert_eq!(g, vec![5.0_f32, 3.0]);
}

#[test]
fn assign_operators_with_variables_and_plain_floats() {
    // z = ((a + b − ½)·b/4) % a at (a, b) = (2, 3): w = 3.375, z = w − 1·a = 1.375 (the
    // quotient is 1, so ∂z/∂a = ∂w/∂a − 1).
    // ∂w/∂a = b/4 = 0.75, ∂w/∂b = (a + 2b − ½)/4 = 1.875.
    let (v, g) = value_and_gradient(
        |x| {
            let mut z = x[0];
            z += x[1];
            z -= 0.5;
            z *= x[1];
            z /= 4.0;
            z %= x[0];
            z
        },
        &[2.0, 3.0],
    );
    assert_eq!(v, 1.375);
    assert_eq!(g, vec![0.75 - 1.0, 1.875]);
    // The other half of each pair: y = ((3(a + 1) − b)/b) % 2 at (2, 4) = 1.25 % 2 = 1.25;
    // ∂y/∂a = 3/b = 0.75, ∂y/∂b = −3(a + 1)/b² = −0.5625 (`%= 2.0` has slope 1).
    let (v, g) = value_and_gradient(
        |x| {
            let mut y = x[0];
            y += 1.0;
            y *= 3.0;
            y -= x[1];
            y /= x[1];
            y %= 2.0;
            y
        },
        &[2.0, 4.0],
    );
    assert_eq!(v, 1.25);
    assert_eq!(g, vec![0.75, -0.5625]);
    // f32: the same first chain.
    let (v, g) = value_and_gradient(
        |x| {
            let mut z = x[0];
            z += x[1];
            z -= 0.5_f32;
            z *= x[1];
            z /= 4.0_f32;
            z %= x[0];
            z
        },
        &[2.0_f32, 3.0],
    );
    assert_eq!((v, g), (1.375, vec![-0.25, 1.875]));
}

#[test]
fn remainder_derivatives() {
    // x % y = x − q·y with q = trunc(x/y): ∂/∂x = 1, ∂/∂y = −q.
    // 7.5 % 2 = 1.5 (q = 3); −7.5 % 2 = −1.5 (q = −3); 7.5 % −2 = 1.5 (q = −3).
    for (x, y, value, q) in [
        (7.5, 2.0, 1.5, 3.0),
        (-7.5, 2.0, -1.5, -3.0),
        (7.5, -2.0, 1.5, -3.0),
    ] {
        let (v, g) = value_and_gradient(|v| v[0] % v[1], &[x, y]);
        assert_eq!((v, g), (value, vec![1.0, -q]), "{x} % {y}");
        // A plain float on the left: ∂(x % y)/∂y only.
        let (v, g) = value_and_gradient(|v| x % v[0], &[y]);
        assert_eq!((v, g), (value, vec![-q]), "{x} % variable {y}");
        // ... and on the right: ∂/∂x only.
        let (v, g) = value_and_gradient(|v| v[0] % y, &[x]);
        assert_eq!((v, g), (value, vec![1.0]), "variable {x} % {y}");
    }
}

#[test]
fn display_formats_the_primal_value() {
    let g = gradient(
        |x| {
            // A variable formats like its value, formatting flags included.
            assert_eq!(x[0].to_string(), 1.5_f64.to_string());
            assert_eq!(format!("{:.3}", x[0]), "1.500");
            assert_eq!(format!("{:>8.2}|", x[0] * 2.0), "    3.00|");
            x[0]
        },
        &[1.5],
    );
    assert_eq!(g, vec![1.0]);
    assert_eq!(Var::constant(-0.25_f64).to_string(), "-0.25");
    assert_eq!(Var::constant(f64::NAN).to_string(), "NaN");
    assert_eq!(Var::constant(f64::NEG_INFINITY).to_string(), "-inf");
    assert_eq!(
        format!("{:.1}", Var::constant(2.25_f32)),
        format!("{:.1}", 2.25_f32)
    );
}

#[test]
fn default_zero_and_one_are_constants() {
    let d = Var::<f64>::default();
    assert!(d.is_constant() && d.value() == 0.0);
    assert!(Var::<f32>::default().is_constant());
    assert!(Var::<f64>::zero().is_zero() && Var::<f64>::one().value() == 1.0);
    // Adding them to a variable changes nothing: f(x) = x·1 + 0, f' = 1.
    let (v, g) = value_and_gradient(|x| x[0] * Var::one() + Var::default(), &[4.0]);
    assert_eq!((v, g), (4.0, vec![1.0]));
    // `is_zero` means identically zero: a variable whose value is 0 is not (its derivative
    // is not), though it compares equal to zero.
    let g = gradient(
        |x| {
            assert!(!x[0].is_zero());
            assert!(x[0] == Var::zero());
            assert!((x[0] * 0.0).is_zero());
            x[0] * 5.0
        },
        &[0.0],
    );
    assert_eq!(g, vec![5.0]);
}

#[test]
fn conversions_give_constants_and_read_the_primal() {
    // NumCast / FromPrimitive / Num: constants, never recorded.
    let three: Var<f64> = NumCast::from(3_i32).unwrap();
    assert!(three.is_constant() && three.value() == 3.0);
    let half: Var<f32> = NumCast::from(0.5_f64).unwrap();
    assert_eq!(half.value(), 0.5_f32);
    assert_eq!(Var::<f64>::from_i64(-4).unwrap().value(), -4.0);
    assert_eq!(Var::<f64>::from_u64(7).unwrap().value(), 7.0);
    assert_eq!(Var::<f64>::from_f32(0.25).unwrap().value(), 0.25);
    assert_eq!(Var::<f32>::from_f64(1.5).unwrap().value(), 1.5);
    assert!(Var::<f64>::from_f64(2.0).unwrap().is_constant());
    assert_eq!(Var::<f64>::from_str_radix("1.5", 10).unwrap().value(), 1.5);
    assert!(Var::<f64>::from_str_radix("x", 10).is_err());
    // In generic code `S::from(c)` is how literals enter: f(x) = 2.5x + 4, f' = 2.5.
    fn affine<S: Float>(x: S) -> S {
        S::from(2.5).unwrap() * x + S::from(4_u8).unwrap()
    }
    let (v, g) = value_and_gradient(|x| affine(x[0]), &[2.0]);
    assert_eq!((v, g), (9.0, vec![2.5]));
    let (v, g) = value_and_gradient(|x| affine(x[0]), &[2.0_f32]);
    assert_eq!((v, g), (9.0, vec![2.5]));
    // ToPrimitive reads the primal value of a variable (as the plain float would convert).
    let g = gradient(
        |x| {
            assert_eq!(x[0].to_i64(), Some(2));
            assert_eq!(x[0].to_u64(), Some(2));
            assert_eq!(x[0].to_f64(), Some(2.7));
            assert_eq!(x[0].to_f32(), Some(2.7_f32));
            assert_eq!((-x[0]).to_i64(), Some(-2));
            assert_eq!((-x[0]).to_u64(), None);
            x[0]
        },
        &[2.7],
    );
    assert_eq!(g, vec![1.0]);
    assert_eq!(Var::constant(2.5_f32).to_f64(), Some(2.5));
    assert_eq!(Var::constant(f64::NAN).to_i64(), None);
}

#[test]
fn float_constants_are_constants_with_the_primal_values() {
    use std::f64::consts as c;
    let pairs: [(Var<f64>, f64); 19] = [
        (Var::E(), c::E),
        (Var::FRAC_1_PI(), c::FRAC_1_PI),
        (Var::FRAC_1_SQRT_2(), c::FRAC_1_SQRT_2),
        (Var::FRAC_2_PI(), c::FRAC_2_PI),
        (Var::FRAC_2_SQRT_PI(), c::FRAC_2_SQRT_PI),
        (Var::FRAC_PI_2(), c::FRAC_PI_2),
        (Var::FRAC_PI_3(), c::FRAC_PI_3),
        (Var::FRAC_PI_4(), c::FRAC_PI_4),
        (Var::FRAC_PI_6(), c::FRAC_PI_6),
        (Var::FRAC_PI_8(), c::FRAC_PI_8),
        (Var::LN_10(), c::LN_10),
        (Var::LN_2(), c::LN_2),
        (Var::LOG10_E(), c::LOG10_E),
        (Var::LOG2_E(), c::LOG2_E),
        (Var::PI(), c::PI),
        (Var::SQRT_2(), c::SQRT_2),
        (Var::TAU(), c::TAU),
        (Var::LOG10_2(), c::LOG10_2),
        (Var::LOG2_10(), c::LOG2_10),
    ];
    for (k, (var, value)) in pairs.into_iter().enumerate() {
        assert!(var.is_constant(), "constant {k}");
        assert_eq!(var.value(), value, "constant {k}");
    }
    assert_eq!(Var::<f32>::PI().value(), std::f32::consts::PI);
    assert_eq!(Var::<f32>::LN_2().value(), std::f32::consts::LN_2);
    // Used in a function they scale the derivative and add none of their own:
    // f(x) = π·x² + e, f' = 2πx.
    let (v, g) = value_and_gradient(|x| Var::PI() * x[0] * x[0] + Var::E(), &[3.0]);
    assert_eq!(v, c::PI * 3.0 * 3.0 + c::E);
    assert_eq!(g, vec![2.0 * c::PI * 3.0]);
    // The `Float` constants too.
    assert!(Var::<f64>::nan().is_nan() && Var::<f64>::nan().is_constant());
    assert_eq!(Var::<f64>::infinity().value(), f64::INFINITY);
    assert_eq!(Var::<f64>::epsilon().value(), f64::EPSILON);
    assert_eq!(Var::<f32>::max_value().value(), f32::MAX);
    assert!(Var::<f64>::neg_zero().is_sign_negative());
}

#[test]
fn comparisons_use_the_primal_value() {
    let g = gradient(
        |x| {
            let (a, b, c) = (x[0], x[1], x[2]);
            // Equal values compare equal whatever the node (two inputs, a variable and a
            // constant, a variable and a function of it).
            assert!(a == b);
            assert!(a == Var::constant(1.0));
            assert!(a == a * 1.0);
            assert!(a != c && a < c && c > b && a <= b && a >= b);
            assert_eq!(a.partial_cmp(&c), Some(std::cmp::Ordering::Less));
            assert_eq!(a.partial_cmp(&b), Some(std::cmp::Ordering::Equal));
            assert_eq!(a.partial_cmp(&Var::nan()), None);
            assert!(Var::<f64>::nan() != Var::nan());
            // A branch on a comparison follows the primal: max(a, c)·b picks c.
            let m = if a > c { a } else { c };
            m * b
        },
        &[1.0, 1.0, 2.0],
    );
    // f = c·b at (1, 1, 2): ∂/∂a = 0, ∂/∂b = c = 2, ∂/∂c = b = 1.
    assert_eq!(g, vec![0.0, 2.0, 1.0]);
    // Sorting variables by value (through `PartialOrd`) keeps each one's derivative: the
    // smallest of (3, −1, 2) scaled by 10 is ∂/∂x₁.
    let g = gradient(
        |x| {
            let mut v = x.to_vec();
            v.sort_by(|p, q| p.partial_cmp(q).unwrap());
            v[0] * 10.0 + v[2]
        },
        &[3.0, -1.0, 2.0],
    );
    assert_eq!(g, vec![1.0, 10.0, 0.0]);
    assert!(Var::constant(1.0_f32) < Var::constant(1.5));
}
