//! `hessian`'s second-order adjoint engine (one recording with second partials, swept per
//! chunk; taken when there are more inputs than two chunks): every rule's second partials against
//! the SymPy reference (`tools/gen_reference.py`), with variables and constants on either side
//! and one variable on both; against the chunk recordings (`hessian_chunked::<1>`, which never
//! takes it) on the edge conventions, mixed functions, f32; when it is taken and when the
//! chunk recordings are (custom rules), counted by calls of `f`.

use crate::functions::{binary, unary};
use crate::reference::{BINARY, UNARY};
use crate::tolerance::{Tol, assert_close};
use adroit_forward::{DualVec, SpecialFunctions};
use adroit_reverse::{
    TapeScalar, Var, custom_scalar, hessian, hessian_chunked, stop_gradient,
    value_gradient_and_hessian, value_gradient_and_hessian_chunked,
};
use nalgebra::DMatrix;
use num_traits::Float;
use std::cell::Cell;

/// As `elementary.rs`'s second derivatives by the chunk recordings.
const SECOND: Tol = Tol {
    atol: 1e-12,
    rtol: 1e-11,
};

/// A variable of `hessian_chunked::<2>`: with five inputs or more, the engine's.
type V2 = Var<DualVec<f64, 2>>;

fn constant(x: f64) -> V2 {
    Var::constant(DualVec::constant(x))
}

/// `a` and `b` agree entry by entry within `ulps` ε of the largest `|b|` (NaN where `b` is
/// NaN, the same infinity where `b` is infinite).
#[track_caller]
fn assert_same<T: Float + std::fmt::Debug + nalgebra::Scalar>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    ulps: f64,
    what: &str,
) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    let scale = b
        .iter()
        .filter(|v| v.is_finite())
        .fold(T::one(), |m, v| m.max(v.abs()));
    let bound = T::from(ulps).unwrap() * T::epsilon() * scale;
    for (x, y) in a.iter().zip(b.iter()) {
        let ok = if y.is_nan() {
            x.is_nan()
        } else if y.is_infinite() {
            x == y
        } else {
            (*x - *y).abs() <= bound
        };
        assert!(ok, "{what}: {a:?} vs {b:?}");
    }
}

#[test]
fn every_unary_rule_against_the_reference() {
    for c in UNARY {
        let what = format!("{}({})", c.name, c.x);
        // five inputs, chunks of two: the engine; the products add mixed partials
        let f = |v: &[V2]| unary(c.name, v[0]) + v[1] * v[2] + v[3] * v[4];
        let h = hessian_chunked::<2, _, _>(f, &[c.x, 0.5, 1.5, 0.25, -0.5]);
        assert_close(
            h[(0, 0)],
            c.d2,
            SECOND,
            &format!("{what} second derivative"),
        );
        assert_eq!((h[(1, 2)], h[(2, 1)], h[(0, 1)]), (1.0, 1.0, 0.0), "{what}");
        let recorded = hessian_chunked::<1, _, _>(
            |v| unary(c.name, v[0]) + v[1] * v[2] + v[3] * v[4],
            &[c.x, 0.5, 1.5, 0.25, -0.5],
        );
        assert_same(&h, &recorded, 4.0, &what);
    }
}

#[test]
fn every_binary_rule_against_the_reference() {
    for c in BINARY {
        let what = format!("{}({}, {})", c.name, c.x, c.y);
        let f = |v: &[V2]| binary(c.name, v[0], v[1]) + v[2] * v[2] + v[3] * v[4];
        let h = hessian_chunked::<2, _, _>(f, &[c.x, c.y, 1.0, 0.25, -0.5]);
        assert_close(h[(0, 0)], c.dxx, SECOND, &format!("{what} ∂²/∂x²"));
        assert_close(h[(0, 1)], c.dxy, SECOND, &format!("{what} ∂²/∂x∂y"));
        assert_close(h[(1, 0)], c.dxy, SECOND, &format!("{what} ∂²/∂y∂x"));
        assert_close(h[(1, 1)], c.dyy, SECOND, &format!("{what} ∂²/∂y²"));
        assert_eq!((h[(2, 2)], h[(0, 2)], h[(2, 1)]), (2.0, 0.0, 0.0), "{what}");
        // A constant on either side: the node is unary, its one second partial that of the
        // variable operand.
        let f = |v: &[V2]| binary(c.name, v[0], constant(c.y)) + v[1] * v[2] + v[3] * v[4];
        let h = hessian_chunked::<2, _, _>(f, &[c.x, 0.5, 1.5, 0.25, -0.5]);
        assert_close(
            h[(0, 0)],
            c.dxx,
            SECOND,
            &format!("{what} ∂²/∂x², y constant"),
        );
        let f = |v: &[V2]| binary(c.name, constant(c.x), v[0]) + v[1] * v[2] + v[3] * v[4];
        let h = hessian_chunked::<2, _, _>(f, &[c.y, 0.5, 1.5, 0.25, -0.5]);
        assert_close(
            h[(0, 0)],
            c.dyy,
            SECOND,
            &format!("{what} ∂²/∂y², x constant"),
        );
    }
}

/// One variable on both sides of every binary rule (one node whose partial is the sum of the
/// two): against the chunk recordings and the hyper-dual Hessian, at each reference point's
/// first argument, within a few ε of the rule's separate second partials there (whose sum
/// may cancel: `log(x, x) = 1`).
#[test]
fn every_binary_rule_with_one_variable_on_both_sides() {
    fn g<S: Float>(name: &str, v: &[S]) -> S {
        binary(name, v[0], v[0]) * v[1] + v[2] * v[0] + v[3] * v[4]
    }
    for c in BINARY {
        let what = format!("{}(x, x) at {}", c.name, c.x);
        let x = [c.x, 0.75, -1.25, 0.25, -0.5];
        let parts: DMatrix<f64> =
            adroit_forward::hessian(|v| binary(c.name, v[0], v[1]), &[c.x, c.x]);
        let scale = parts.iter().fold(1.0, |m: f64, v| m.max(v.abs()));
        let h = hessian_chunked::<2, _, _>(|v| g(c.name, v), &x);
        let recorded = hessian_chunked::<1, _, _>(|v| g(c.name, v), &x);
        let hyper: DMatrix<f64> = adroit_forward::hessian(|v| g(c.name, v), &x);
        for (other, name) in [(&recorded, "chunk recordings"), (&hyper, "hyper-dual")] {
            for (a, b) in h.iter().zip(other.iter()) {
                let close = (a - b).abs() <= 64.0 * f64::EPSILON * scale || a == b;
                assert!(close, "{what} against the {name}: {h} vs {other}");
            }
        }
    }
}

/// The special functions' second derivatives (their rules are evaluated by `record_rule` as the
/// elementary ones are), against the hyper-dual Hessian.
#[test]
fn special_functions() {
    fn f<S: Float + SpecialFunctions>(v: &[S]) -> S {
        v[0].erf() * v[1].gamma()
            + v[2].erfc() * v[0].ln_gamma()
            + (v[1] * v[2]).erfcx()
            + v[3].ndtri() * v[0]
            + v[2].polygamma(1) * v[3]
            + v[4] * v[0]
    }
    let x = [1.3, 2.2, 0.4, 0.3, -0.7];
    let h = hessian_chunked::<2, _, _>(|v| f(v), &x);
    let hyper: DMatrix<f64> = adroit_forward::hessian(|v| f(v), &x);
    assert_same(&h, &hyper, 64.0, "special functions");
    assert_same(
        &h,
        &hessian_chunked::<1, _, _>(|v| f(v), &x),
        4.0,
        "special",
    );
}

/// The sweep's conventions (a zero factor contributes nothing against an infinite one; ties)
/// give what the chunk recordings give, NaN and infinite entries included.
#[test]
fn edge_conventions_as_the_chunk_recordings() {
    fn edges<S: Float>(v: &[S]) -> S {
        let zero = S::zero();
        // √x at 0 (infinite partials), times a variable; x − x (identically zero) times √y;
        // ties of max and min; powf at 0; floor (zero partial) of something infinite-sloped
        v[0].sqrt() * v[1]
            + (v[2] - v[2]) * v[3].sqrt()
            + v[1].max(v[2]) * v[1].min(v[2])
            + v[0].powf(S::from(1.5).unwrap()) * v[3]
            + (v[3].cbrt() + v[1]).floor()
            + v[4] * zero.max(v[4])
    }
    let points: [[f64; 5]; 3] = [
        [0.0, 2.0, 2.0, 0.0, 0.0],
        [0.0, -1.0, 3.0, 4.0, 1.0],
        [1e-300, 1.0, 1.0, 1e-300, -1.0],
    ];
    for x in points {
        let h = hessian_chunked::<2, _, _>(|v| edges(v), &x);
        let recorded = hessian_chunked::<1, _, _>(|v| edges(v), &x);
        assert_same(&h, &recorded, 4.0, &format!("edges at {x:?}"));
        let (value, grad, _) = value_gradient_and_hessian_chunked::<2, _, _>(|v| edges(v), &x);
        let (v1, g1, _) = value_gradient_and_hessian_chunked::<1, _, _>(|v| edges(v), &x);
        assert_eq!(value.to_bits(), v1.to_bits(), "value at {x:?}");
        for (a, b) in grad.iter().zip(&g1) {
            assert!(a == b || a.is_nan() && b.is_nan(), "{grad:?} vs {g1:?}");
        }
    }
    // The first point's infinite and NaN entries are reached (√x at 0).
    let h = hessian_chunked::<2, _, _>(|v| edges(v), &[0.0, 2.0, 2.0, 0.0, 0.0]);
    assert!(h[(0, 0)].is_infinite() && h[(0, 1)].is_infinite(), "{h}");
}

/// A function of many inputs mixing separable terms and dense ones, with the default chunk
/// (n = 25 and 40: three and four chunks, the last partial), in f64 and f32: the engine against
/// the chunk recordings and the hyper-dual Hessian; value and gradient as well.
#[test]
fn mixed_functions_of_many_inputs() {
    fn f<S: Float>(v: &[S]) -> S {
        let s = v.iter().fold(S::zero(), |a, &x| a + x);
        let pairs = v.windows(2).fold(S::zero(), |a, w| {
            a + (w[0] * w[1]).sin() + (w[1] - w[0] * w[0]).powi(2)
        });
        pairs + (s / S::from(v.len()).unwrap()).exp() + v[0] / (S::one() + v[v.len() - 1] * v[3])
    }
    for n in [25, 40] {
        let x: Vec<f64> = (0..n).map(|i| 0.1 * i as f64 - 0.7).collect();
        let (value, grad, h) = value_gradient_and_hessian(|v| f(v), &x);
        let (v1, g1, recorded) = value_gradient_and_hessian_chunked::<1, _, _>(|v| f(v), &x);
        assert_eq!((value, &grad), (v1, &g1), "n = {n}");
        assert_same(&h, &recorded, 4.0, &format!("n = {n}"));
        let hyper: DMatrix<f64> = adroit_forward::hessian(|v| f(v), &x);
        assert_same(&h, &hyper, 64.0, &format!("n = {n} against the hyper-dual"));
        let x32: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let h32 = hessian(|v| f(v), &x32);
        let recorded32 = hessian_chunked::<1, _, _>(|v| f(v), &x32);
        assert_same(&h32, &recorded32, 8.0, &format!("f32, n = {n}"));
    }
}

/// Counts the calls of `f`: one recording when the engine applies (more inputs than two
/// chunks, no custom rule), one per chunk otherwise — one more, the engine's, when a custom rule
/// sends it back to the chunk recordings. The results agree either way.
#[test]
fn when_the_engine_is_taken() {
    fn count<const N: usize>(x: &[f64], custom: bool) -> (usize, DMatrix<f64>)
    where
        DualVec<f64, N>: TapeScalar,
    {
        let calls = Cell::new(0);
        let h = hessian_chunked::<N, _, _>(
            |v| {
                calls.set(calls.get() + 1);
                let q = v
                    .iter()
                    .fold(Var::constant(DualVec::constant(0.0)), |a, &x| a + x * x * x);
                if custom {
                    // softplus(v₀) as a custom rule: softplus'' = σ(1 − σ)
                    let y = v[0].value();
                    let sigma = (DualVec::constant(1.0) + (-y).exp()).recip();
                    q + custom_scalar(&[v[0]], (y.exp()).ln_1p(), &[sigma])
                } else {
                    q
                }
            },
            x,
        );
        (calls.get(), h)
    }
    let x = [0.5, -1.0, 2.0, 0.25, 1.5];
    assert_eq!(
        count::<2>(&x, false).0,
        1,
        "5 inputs in chunks of 2: one recording"
    );
    assert_eq!(count::<4>(&x, false).0, 2, "two chunks: a recording each");
    assert_eq!(count::<8>(&x, false).0, 1, "one chunk: its recording");
    assert_eq!(count::<1>(&x, false).0, 5, "chunks of 1: a recording each");
    assert_eq!(
        count::<2>(&x, true).0,
        1 + 3,
        "a custom rule: the chunk recordings"
    );
    let (with_engine, without) = (count::<2>(&x, false).1, count::<1>(&x, false).1);
    assert_eq!(with_engine, without);
    assert_eq!(with_engine[(2, 2)], 12.0);
    // softplus'' at 0.5 through the custom rule, on top of 6·0.5
    let sigma = 1.0 / (1.0 + (-0.5_f64).exp());
    let h = count::<2>(&x, true).1;
    assert!(
        (h[(0, 0)] - (3.0 + sigma * (1.0 - sigma))).abs() < 1e-15,
        "{h}"
    );
}

/// An output that depends on no input's perturbation (piecewise constant, or a constant
/// returned as is) has zero gradient and Hessian; the engine answers from its one recording,
/// as the chunk recordings do from theirs.
#[test]
fn an_output_constant_at_the_point() {
    let x = [2.5, -1.0, 0.5, 3.0, 1.5];
    let calls = Cell::new(0);
    let stepped = |v: &[V2]| {
        calls.set(calls.get() + 1);
        (v[0].floor() + v[1].signum()) * v[2].ceil() + constant(0.25)
    };
    let (value, gradient, h) = value_gradient_and_hessian_chunked::<2, _, _>(stepped, &x);
    assert_eq!(calls.get(), 1, "the engine's one recording");
    assert_eq!((value, gradient), (1.25, vec![0.0; 5]));
    assert_eq!(h, DMatrix::zeros(5, 5));
    let (_, _, by_chunks) = value_gradient_and_hessian_chunked::<1, _, _>(
        |v| (v[0].floor() + v[1].signum()) * v[2].ceil(),
        &x,
    );
    assert_eq!(by_chunks, h);
    let (value, gradient, h) =
        value_gradient_and_hessian_chunked::<2, _, _>(|_: &[V2]| constant(-7.0), &x);
    assert_eq!(
        (value, gradient, h),
        (-7.0, vec![0.0; 5], DMatrix::zeros(5, 5))
    );
}

/// Under the engine a constant made from a variable's value is a constant at every order (as
/// `stop_gradient` makes one), as the docs of `hessian` say: x₀·c(x₀) has ∂²/∂x₀² = 0.
#[test]
fn a_constant_from_a_value_is_constant_at_every_order() {
    let x = [3.0, 1.0, 2.0, 0.5, 0.5];
    let h = hessian_chunked::<2, _, _>(
        |v: &[V2]| v[0] * Var::constant(v[0].value()) + v[1] * v[2] + v[3] * v[4],
        &x,
    );
    assert_eq!(h[(0, 0)], 0.0);
    let cut = hessian_chunked::<2, _, _>(
        |v: &[V2]| v[0] * stop_gradient(v[0]) + v[1] * v[2] + v[3] * v[4],
        &x,
    );
    assert_eq!(h, cut);
    assert_eq!(h[(1, 2)], 1.0);
    // A constant given tangents of its own (seeded by hand), as a variable's operand or as a
    // plain number (shift, scale, unscale), adds, multiplies and divides as a constant: the
    // nodes have no second partials.
    let seeded = || DualVec::<f64, 2>::variable(2.0, 1);
    let h = hessian_chunked::<2, _, _>(
        |v: &[V2]| {
            let c = Var::constant(seeded());
            (v[0] * seeded() + seeded()) * v[1]
                + v[2] / seeded() * v[1]
                + v[0] * c * v[2] / c
                + v[3] * v[4]
        },
        &x,
    );
    let mut expected = DMatrix::zeros(5, 5);
    for (i, j, e) in [(0, 1, 2.0), (1, 2, 0.5), (0, 2, 1.0), (3, 4, 1.0)] {
        (expected[(i, j)], expected[(j, i)]) = (e, e);
    }
    assert_eq!(h, expected);
}

/// Another derivative call inside `f` (on a chunk type of its own, recorded the other way)
/// leaves the engine's recording alone.
#[test]
fn an_inner_hessian_inside_the_engine() {
    let inner = |a: f64| hessian_chunked::<4, _, _>(|w| w[0] * w[0] * w[1], &[a, 2.0])[(0, 0)];
    let f = |v: &[V2]| v[0] * v[1] * v[2] * inner(v[0].value().value()) + v[0].sin() + v[3] * v[4];
    let x = [0.5, 1.5, -2.0, 1.0, 1.0];
    let h = hessian_chunked::<2, _, _>(f, &x);
    let g = |v: &[Var<DualVec<f64, 1>>]| {
        v[0] * v[1] * v[2] * inner(v[0].value().value()) + v[0].sin() + v[3] * v[4]
    };
    assert_same(&h, &hessian_chunked::<1, _, _>(g, &x), 4.0, "inner hessian");
    assert_eq!(h[(1, 2)], 4.0 * 0.5);
}
