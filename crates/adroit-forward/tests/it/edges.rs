//! The documented edge-point conventions, in f32 and f64.

use adroit_forward::rules::{BinaryRule, Powf};
use adroit_forward::{
    Dual, DualVec, HyperDual, chain_product, chain_product_assign, chain_product_into, derivative,
    gradient, second_derivative,
};
use num_traits::Float;
use std::fmt::Debug;

fn c<T: Float>(x: f64) -> T {
    T::from(x).expect("finite")
}

/// The partials of `f` at `(x, y)`.
fn partials<T: Float, F: Fn(Dual<T>, Dual<T>) -> Dual<T>>(f: F, x: T, y: T) -> (T, T) {
    let g = gradient(|v| f(v[0], v[1]), &[x, y]);
    (g[0], g[1])
}

fn abs_and_signum<T: Float + Debug>() {
    assert_eq!(derivative(|x| x.abs(), T::zero()), T::zero(), "abs'(+0)");
    assert_eq!(derivative(|x| x.abs(), -T::zero()), T::zero(), "abs'(-0)");
    assert_eq!(derivative(|x| x.abs(), c::<T>(-3.0)), c(-1.0));
    assert_eq!(derivative(|x| x.abs(), c::<T>(3.0)), T::one());
    assert!(
        derivative(|x| x.abs(), T::nan()).is_nan(),
        "abs' propagates NaN"
    );
    for x in [-2.0, 0.0, 2.0] {
        assert_eq!(
            derivative(|x| x.signum(), c::<T>(x)),
            T::zero(),
            "signum'({x})"
        );
    }
}

fn max_min_ties<T: Float + Debug>() {
    let one = T::one();
    let half = c::<T>(0.5);
    assert_eq!(partials(|x, y| x.max(y), one, one), (half, half), "max tie");
    assert_eq!(partials(|x, y| x.min(y), one, one), (half, half), "min tie");
    assert_eq!(partials(|x, y| x.max(y), c(2.0), one), (one, T::zero()));
    assert_eq!(partials(|x, y| x.max(y), one, c(2.0)), (T::zero(), one));
    assert_eq!(partials(|x, y| x.min(y), c(2.0), one), (T::zero(), one));
    assert_eq!(partials(|x, y| x.min(y), one, c(2.0)), (one, T::zero()));
    // max(x, x) = x: the two halves add up to the true derivative 1.
    assert_eq!(derivative(|x| x.max(x), one), one);
    // The tie convention is what central differences give.
    let h = c::<T>(0.25);
    let central = ((one + h).max(one) - (one - h).max(one)) / (h + h);
    assert_eq!(derivative(|x| x.max(Dual::constant(one)), one), central);
    // A NaN argument is ignored, as by the primal max.
    assert_eq!(partials(|x, y| x.max(y), T::nan(), one), (T::zero(), one));
    assert_eq!(partials(|x, y| x.min(y), one, T::nan()), (one, T::zero()));
}

fn clamp_passes_tangent_at_boundary<T: Float + Debug>() {
    let (lo, hi) = (T::zero(), T::one());
    let f = |x: Dual<T>| x.clamp(Dual::constant(lo), Dual::constant(hi));
    for x in [0.0, 0.5, 1.0] {
        assert_eq!(
            derivative(f, c::<T>(x)),
            T::one(),
            "clamp'({x}) inside or on a bound"
        );
    }
    for x in [-0.5, 1.5] {
        assert_eq!(derivative(f, c::<T>(x)), T::zero(), "clamp'({x}) outside");
    }
    // Outside, the bound's own perturbation passes.
    let g = gradient(
        |v| v[0].clamp(v[1], v[2]),
        &[c::<T>(2.0), T::zero(), T::one()],
    );
    assert_eq!(g, vec![T::zero(), T::zero(), T::one()]);
}

fn roots_hypot_atan2<T: Float + Debug>() {
    assert_eq!(
        derivative(|x| x.sqrt(), T::zero()),
        T::infinity(),
        "sqrt'(0)"
    );
    assert_eq!(
        partials(|x, y| x.hypot(y), T::zero(), T::zero()),
        (T::zero(), T::zero())
    );
    assert_eq!(
        partials(|y, x| y.atan2(x), T::zero(), T::zero()),
        (T::zero(), T::zero())
    );
    // cbrt of a negative number is real.
    let (v, d) = adroit_forward::value_and_derivative(|x| x.cbrt(), c::<T>(-8.0));
    assert_eq!(v, c(-2.0));
    assert!(
        (d - c::<T>(1.0 / 12.0)).abs() <= T::epsilon() * c(4.0),
        "cbrt'(-8) = {d:?}"
    );
    assert_eq!(
        derivative(|x| x.cbrt(), T::zero()),
        T::infinity(),
        "cbrt'(0)"
    );
}

fn powf_at_zero<T: Float + Debug>() {
    let zero = T::zero();
    let dx = |p: f64| partials(|x, p| x.powf(p), zero, c(p));
    assert_eq!(dx(0.0).0, zero, "∂x 0^0");
    assert_eq!(dx(1.0).0, T::one(), "∂x 0^1");
    assert_eq!(dx(2.0).0, zero, "∂x 0^2");
    assert_eq!(dx(2.5).0, zero, "∂x 0^2.5");
    assert_eq!(dx(0.5).0, T::infinity(), "∂x 0^0.5");
    for p in [0.5, 1.0, 2.0, 2.5] {
        assert_eq!(dx(p).1, zero, "∂p 0^{p}");
    }
    // Constant exponent (the fast path) agrees.
    for p in [0.0, 0.5, 1.0, 2.0, 2.5] {
        let d = derivative(|x| x.powf(Dual::constant(c(p))), zero);
        assert_eq!(d, dx(p).0, "∂x 0^{p}, constant exponent");
    }
    // Finite value and derivatives with fractional p > 1, second order included.
    let y = HyperDual::variable(zero).powf(HyperDual::constant(c(2.5)));
    assert_eq!(
        (y.value(), y.eps1()[0], y.eps12()[0][0]),
        (zero, zero, zero)
    );
    // Negative base, integer exponent: real value, no NaN from ∂p (it uses ln|x|).
    let (gx, gp): (T, T) = partials(|x, p| x.powf(p), c(-2.0), c(3.0));
    assert_eq!(gx, c(12.0));
    let expected = c::<T>(-8.0) * c::<T>(2.0).ln();
    assert!(
        (gp - expected).abs() <= T::epsilon() * c::<T>(16.0),
        "∂p (-2)^3 = {gp:?}"
    );
    // powi(0) has derivative 0 even at x = 0.
    assert_eq!(derivative(|x| x.powi(0), zero), zero);
}

/// `xᵖ` at `x < 0` and a fractional `p`: the value and `∂p` are NaN; `∂x` is the formula's
/// `p·xᵖ⁻¹`. For `|p|` below half an ulp of 1, `p − 1` rounds to `−1`, which made `∂p`
/// `ln 2` (as for an integer `p`) before the value was tested.
fn powf_of_a_negative_base<T: Float + Debug>() {
    let tiny = T::epsilon() / c(8.0);
    for p in [c(0.5), tiny, -tiny, T::min_positive_value()] {
        let (gx, gp) = partials(|x, p| x.powf(p), c(-2.0), p);
        assert!(gp.is_nan(), "∂p (−2)^{p:?} = {gp:?}");
        let expected = p * c::<T>(-2.0).powf(p - T::one());
        assert!(same_bits(gx, expected), "∂x (−2)^{p:?} = {gx:?}");
        let y = HyperDual::variable(c::<T>(-2.0)).powf(HyperDual::constant(p));
        assert!(y.value().is_nan(), "(−2)^{p:?}");
        // ∂p's slope in x (the mixed entry forward-over-reverse reads) is NaN as well
        let (_, _, dp) = Powf.eval(Dual::variable(c::<T>(-2.0)), Dual::constant(p));
        assert!(dp.tangent().is_nan(), "∂²/∂x∂p (−2)^{p:?}: {dp:?}");
    }
}

fn piecewise_constant<T: Float + Debug>() {
    for x in [-1.5, -1.0, 0.0, 0.3, 2.0, 2.5] {
        let x = c::<T>(x);
        assert_eq!(derivative(|x| x.floor(), x), T::zero());
        assert_eq!(derivative(|x| x.ceil(), x), T::zero());
        assert_eq!(derivative(|x| x.round(), x), T::zero());
        assert_eq!(derivative(|x| x.trunc(), x), T::zero());
        assert_eq!(derivative(|x| x.fract(), x), T::one());
    }
    // x % y = x − trunc(x/y)·y: ∂x = 1, ∂y = −trunc(x/y).
    assert_eq!(partials(|x, y| x % y, c(7.5), c(2.0)), (T::one(), c(-3.0)));
    assert_eq!(partials(|x, y| x % y, c(-7.5), c(2.0)), (T::one(), c(3.0)));
    // copysign: ±1 by whether the signs agree, 0 for the sign argument.
    assert_eq!(
        partials(|x, s| x.copysign(s), c(2.0), c(-1.0)),
        (c(-1.0), T::zero())
    );
    assert_eq!(
        partials(|x, s| x.copysign(s), c(-2.0), c(-1.0)),
        (T::one(), T::zero())
    );
    // ... and 0 at x = ±0, the kink of |x|·sign(s), whatever the sign bits.
    for (x, s) in [(0.0, 1.0), (-0.0, 1.0), (0.0, -1.0), (-0.0, -1.0)] {
        assert_eq!(
            partials(|x, s| x.copysign(s), c(x), c(s)),
            (T::zero(), T::zero()),
            "copysign at ({x}, {s})"
        );
    }
    // abs_sub(x, y) = max(x − y, 0) is a ReLU-like kink: 0 at the tie, 1/−1 above it.
    assert_eq!(
        partials(|x, y| x.abs_sub(y), c(2.0), c(2.0)),
        (T::zero(), T::zero())
    );
    assert_eq!(
        partials(|x, y| x.abs_sub(y), c(3.0), c(2.0)),
        (T::one(), -T::one())
    );
    assert_eq!(
        partials(|x, y| x.abs_sub(y), c(1.0), c(2.0)),
        (T::zero(), T::zero())
    );
}

fn log_base_at_zero<T: Float + Debug>() {
    // d/dx log_b x = 1/(x·ln b) → +∞ for b > 1, −∞ for 0 < b < 1 as x → 0⁺ (at +0 and −0).
    for zero in [T::zero(), -T::zero()] {
        assert_eq!(
            partials(|x, b| x.log(b), zero, c(2.0)).0,
            T::infinity(),
            "base 2"
        );
        assert_eq!(
            partials(|x, b| x.log(b), zero, c(0.5)).0,
            T::neg_infinity(),
            "base 0.5"
        );
    }
    // Away from 0 the formula, both bases (checked against ln x / ln b's quotient rule).
    let (x, b) = (c::<T>(3.0), c::<T>(0.5));
    let (dx, db) = partials(|x, b| x.log(b), x, b);
    let tol = c::<T>(1e-5);
    assert!((dx - (x * b.ln()).recip()).abs() < tol);
    assert!((db + x.ln() / (b * b.ln() * b.ln())).abs() < tol);
}

fn tiny_arguments_keep_precision<T: Float + Debug>() {
    let tiny = c::<T>(1e-30);
    let y = Dual::variable(tiny).ln_1p();
    assert_eq!((y.value(), y.tangent()), (tiny, T::one()));
    let y = Dual::variable(tiny).exp_m1();
    assert_eq!((y.value(), y.tangent()), (tiny, T::one()));
}

fn zero_tangent_never_becomes_nan<T: Float + Debug>() {
    // sqrt'(0) = ∞, but the constant input's zero tangent contributes 0, not 0·∞ = NaN.
    let g = gradient(|v| v[0].sqrt() + v[1], &[T::zero(), T::one()]);
    assert_eq!(g, vec![T::infinity(), T::one()]);
    let y = Dual::constant(T::zero()).sqrt() / Dual::constant(T::zero());
    assert_eq!(y.tangent(), T::zero());
    let h = HyperDual::constant(T::zero()).sqrt();
    assert_eq!((h.eps1()[0], h.eps12()[0][0]), (T::zero(), T::zero()));
    // Nested: d/dx x^1.5 is finite at 0 but its derivative is not; a constant 0 must still give
    // zero tangents at both levels (the finite fast path must look inside the nested dual).
    let p = Dual::constant(Dual::constant(c::<T>(1.5)));
    let y = Dual::constant(Dual::new(T::zero(), T::one())).powf(p);
    assert_eq!(y.tangent().value(), T::zero());
    assert_eq!(y.tangent().tangent(), T::zero());
    let three_halves = Dual::constant(Dual::constant(c::<T>(1.5)));
    let d = derivative(|x| x.powf(three_halves), Dual::constant(T::zero()));
    assert_eq!((d.value(), d.tangent()), (T::zero(), T::zero()));
}

fn chain_product_zero_side<T: Float + Debug>() {
    let inf = T::infinity();
    let (zero, one, two) = (T::zero(), T::one(), c::<T>(2.0));
    // Plain numbers: a zero on either side wins over ∞ and NaN; otherwise the plain product.
    for (p, t) in [(zero, inf), (inf, zero), (zero, T::nan()), (T::nan(), zero)] {
        assert_eq!(chain_product(p, t), zero, "{p:?}·{t:?}");
    }
    assert_eq!(chain_product(two, c::<T>(3.0)), c::<T>(6.0));
    assert_eq!(chain_product(inf, two), inf);
    assert!(chain_product(inf, T::nan()).is_nan());
    // Nested: "zero" means identically zero (value and tangent); the infinity may sit in the
    // value or only in the tangent of the other side.
    let d = Dual::new;
    for (p, t) in [
        (d(zero, zero), d(inf, one)),
        (d(zero, zero), d(one, inf)),
        (d(zero, zero), d(inf, inf)),
        (d(inf, one), d(zero, zero)),
        (d(two, inf), d(zero, zero)),
    ] {
        let r = chain_product(p, t);
        assert_eq!((r.value(), r.tangent()), (zero, zero), "{p:?}·{t:?}");
    }
    // Not identically zero: the product rule, NaN where it is 0·∞.
    let r = chain_product(d(zero, one), d(two, c::<T>(5.0)));
    assert_eq!((r.value(), r.tangent()), (zero, two));
    assert!(chain_product(d(zero, one), d(inf, zero)).value().is_nan());
}

/// Edge values and ordinary ones of both signs.
fn specials<T: Float>() -> [T; 9] {
    let inf = T::infinity();
    [
        T::zero(),
        -T::zero(),
        T::one(),
        c(-2.5),
        c(1e-30),
        inf,
        -inf,
        T::nan(),
        c(7.0),
    ]
}

/// Equal bit for bit (signed zeros included), any NaN equal to any NaN.
fn same_bits<T: Float>(a: T, b: T) -> bool {
    (a.is_nan() && b.is_nan()) || (a == b && a.is_sign_negative() == b.is_sign_negative())
}

/// The slice forms give `chain_product` entry for entry, signed zeros and all, at every
/// length (the vectorised loop and its remainder).
fn chain_product_slices_match_the_scalar<T: Float + Debug>() {
    let s = specials::<T>();
    let pairs: Vec<(T, T)> = s
        .iter()
        .flat_map(|&p| s.iter().map(move |&t| (p, t)))
        .collect();
    for len in [0, 1, 3, 8, 17, pairs.len()] {
        let (partials, tangents): (Vec<T>, Vec<T>) = pairs[..len].iter().copied().unzip();
        let mut out = vec![T::nan(); len];
        chain_product_into(&partials, &tangents, &mut out);
        let mut in_place = tangents.clone();
        chain_product_assign(&partials, &mut in_place);
        for k in 0..len {
            let want = chain_product(partials[k], tangents[k]);
            assert!(
                same_bits(out[k], want),
                "{:?}·{:?}",
                partials[k],
                tangents[k]
            );
            assert!(
                same_bits(in_place[k], want),
                "{:?}·{:?}",
                partials[k],
                tangents[k]
            );
        }
    }
}

/// `DualVec` with up to four directions takes a branch-free path through binary operations;
/// wider ones the general path. Both give the same values and tangents (up to the sign of a
/// zero tangent) on every pair of edge values, for every binary operation.
fn small_dual_vecs_follow_the_general_path<T: Float + Debug>() {
    type Op<S> = fn(S, S) -> S;
    fn ops<S: Float>() -> [Op<S>; 8] {
        [
            |x, y| x * y,
            |x, y| x / y,
            |x, y| x + y,
            |x, y| x - y,
            |x, y| x.powf(y),
            |x, y| x.atan2(y),
            |x, y| x.hypot(y),
            |x, y| x.max(y) * y.min(x),
        ]
    }
    let s = specials::<T>();
    for (n, (small, wide)) in ops::<DualVec<T, 2>>()
        .into_iter()
        .zip(ops::<DualVec<T, 6>>())
        .enumerate()
    {
        for &x in &s {
            for &y in &s {
                // Tangents: (1, 0) and (0, 1), or one of them scaled by ∞ or 0.
                // (The last: `y` constant, the shortcut of rules whose ∂y is expensive.)
                for (tx, ty) in [
                    (T::one(), T::one()),
                    (T::infinity(), T::one()),
                    (T::zero(), c(3.0)),
                    (T::one(), T::zero()),
                ] {
                    let a = small(
                        DualVec::new(x, [tx, T::zero()]),
                        DualVec::new(y, [T::zero(), ty]),
                    );
                    let mut wx = [T::zero(); 6];
                    let mut wy = [T::zero(); 6];
                    (wx[0], wy[1]) = (tx, ty);
                    let b = wide(DualVec::new(x, wx), DualVec::new(y, wy));
                    let what = format!("op {n} at ({x:?}, {y:?}), tangents ({tx:?}, {ty:?})");
                    assert!(same_bits(a.value(), b.value()), "{what}: value");
                    for k in 0..2 {
                        let (p, q) = (a.tangents()[k], b.tangents()[k]);
                        assert!(
                            (p.is_nan() && q.is_nan()) || p == q,
                            "{what}: tangent {k}: {p:?} vs {q:?}"
                        );
                    }
                    assert!(
                        b.tangents()[2..].iter().all(|t| t.is_zero()),
                        "{what}: unseeded"
                    );
                }
            }
        }
    }
}

/// The same with nested duals as the scalar type (the path's zero tests then mean
/// "identically zero"): value and inner tangent of every outer tangent agree.
#[test]
fn small_nested_dual_vecs_follow_the_general_path() {
    type Op<S> = fn(S, S) -> S;
    fn ops<S: Float>() -> [Op<S>; 4] {
        [
            |x, y| x * y,
            |x, y| x / y,
            |x, y| x.powf(y),
            |x, y| x.hypot(y) - y,
        ]
    }
    let d = Dual::new;
    let inf = f64::INFINITY;
    let points = [
        d(0.0, 0.0),
        d(0.0, 1.0),
        d(2.0, inf),
        d(-1.5, 0.5),
        d(inf, 0.0),
        d(3.0, 0.0),
    ];
    let parts = |v: Dual<f64>| [v.value(), v.tangent()];
    for (n, (small, wide)) in ops::<DualVec<Dual<f64>, 2>>()
        .into_iter()
        .zip(ops())
        .enumerate()
    {
        let wide: Op<DualVec<Dual<f64>, 5>> = wide;
        for &x in &points {
            for &y in &points {
                for (tx, ty) in [(d(1.0, 0.0), d(0.0, 1.0)), (d(0.0, 0.0), d(inf, 1.0))] {
                    let z = Dual::constant(0.0);
                    let a = small(DualVec::new(x, [tx, z]), DualVec::new(y, [z, ty]));
                    let b = wide(
                        DualVec::new(x, [tx, z, z, z, z]),
                        DualVec::new(y, [z, ty, z, z, z]),
                    );
                    let pairs = [(a.value(), b.value())]
                        .into_iter()
                        .chain(a.tangents().into_iter().zip(b.tangents()));
                    for (p, q) in pairs {
                        for (u, v) in parts(p).into_iter().zip(parts(q)) {
                            assert!(
                                (u.is_nan() && v.is_nan()) || u == v,
                                "op {n} at ({x:?}, {y:?}): {p:?} vs {q:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}

both_precisions! {
    chain_product_slices => chain_product_slices_match_the_scalar;
    small_dual_vec_path => small_dual_vecs_follow_the_general_path;
    abs_signum => abs_and_signum;
    max_min => max_min_ties;
    log_base => log_base_at_zero;
    clamp => clamp_passes_tangent_at_boundary;
    sqrt_hypot_atan2_cbrt => roots_hypot_atan2;
    powf => powf_at_zero;
    powf_negative_base => powf_of_a_negative_base;
    rounding_rem_copysign => piecewise_constant;
    ln_1p_exp_m1 => tiny_arguments_keep_precision;
    nan_safe => zero_tangent_never_becomes_nan;
    chain_product_convention => chain_product_zero_side;
}

/// A norm written `sqrt(Σ xᵢ²)` at the zero vector (the README's "Conventions"): gradient 0
/// (`sqrt'(0) = +∞` meets the zero tangents of `Σ xᵢ²`), as `hypot`'s; Hessian `+∞` on the
/// diagonal (`sqrt'(0) = +∞` times the second derivative 2 of `xᵢ²`), where `hypot`'s is 0.
#[test]
fn a_norm_at_the_zero_vector() {
    use adroit_forward::hessian;
    fn sqrt_norm<S: Float>(x: &[S]) -> S {
        x.iter().fold(S::zero(), |s, &v| s + v * v).sqrt()
    }
    assert_eq!(gradient(|x| sqrt_norm(x), &[0.0, 0.0, 0.0]), vec![0.0; 3]);
    assert_eq!(gradient(|x| x[0].hypot(x[1]), &[0.0, 0.0]), vec![0.0; 2]);
    let h = hessian(|x| sqrt_norm(x), &[0.0, 0.0]);
    assert_eq!((h[(0, 0)], h[(1, 1)]), (f64::INFINITY, f64::INFINITY));
    let h = hessian(|x| x[0].hypot(x[1]), &[0.0, 0.0]);
    assert!(h.iter().all(|&v| v == 0.0), "{h}");
    // its square: Hessian 0 there (exact 2I), the README's warning
    let h = hessian(
        |x| {
            let n = sqrt_norm(x);
            n * n
        },
        &[0.0, 0.0],
    );
    assert!(h.iter().all(|&v| v == 0.0), "{h}");
}

/// The documented limits at subnormal arguments (crate docs, "Second derivatives near
/// overflow"; `rules::Div`), pinned so that the docs stay true: a division by a subnormal dual
/// has an infinite derivative (a plain-float divisor keeps it finite), and `atan2`'s
/// `∂²/∂y²` at a radius whose square is subnormal is `−∞` (exact `−2e180`).
#[test]
fn documented_limits_at_subnormal_arguments() {
    let c = 1e-310;
    assert_eq!(
        derivative(|a| (a * 1e-300) / Dual::constant(c), 1.0),
        f64::INFINITY
    );
    let d = derivative(|a| (a * 1e-300) / c, 1.0);
    assert!((d - 1e10).abs() < 1e-4 * 1e10, "{d}");
    let h = second_derivative(|y| y.atan2(HyperDual::constant(1e-160)), 1e-300);
    assert_eq!(h, f64::NEG_INFINITY);
    // at a normal radius the same expression is exact: −2xy/r⁴ at (y, x) = (1e-3, 2e-3)
    let h = second_derivative(|y| y.atan2(HyperDual::constant(2e-3)), 1e-3);
    let exact = -2.0 * 2e-3 * 1e-3 / (5e-6_f64).powi(2);
    assert!((h - exact).abs() < 1e-12 * exact.abs(), "{h} {exact}");
}
