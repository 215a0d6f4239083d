//! Folded scales (`Var`'s docs): chains of one-operand operations record no node, their
//! partials multiplied into a pending scale, and every way out of a variable (a two-operand
//! operation, a seeded output, a pushed-forward output, a custom rule's input) applies it.

use adroit_reverse::num_traits::Float;
use adroit_reverse::{Var, custom_scalar, gradient, jacobian, pullback};

/// The sink and the inputs: the nodes of a recording before any operation.
fn nodes_before(n: usize) -> usize {
    1 + n
}

#[test]
fn a_rosenbrock_term_records_two_nodes() {
    let term = |v: &[Var<f64>]| {
        let (a, b) = (v[0], v[1]);
        let (u, w) = (b - a * a, 1.0 - a);
        100.0 * u * u + w * w
    };
    let x = [0.7, -0.4];
    let (_, pb) = pullback(|v| vec![term(v)], &x);
    // `b − a²` and the final sum; `a²`, `100·u`, `·u`, `1 − a`, `w²` fold.
    assert_eq!(pb.tape_len(), nodes_before(2) + 2);
    let (a, b) = (x[0], x[1]);
    let want = [
        -400.0 * a * (b - a * a) - 2.0 * (1.0 - a),
        200.0 * (b - a * a),
    ];
    let got = pb.call(&[1.0]);
    for k in 0..2 {
        assert!((got[k] - want[k]).abs() <= 1e-13 * want[k].abs(), "{got:?}");
    }
}

/// A long chain of one-operand functions: no node at all, and the gradient forward mode's.
#[test]
fn a_chain_of_unary_functions_records_no_node() {
    fn chain<S: Float>(x: S) -> S {
        let two = S::from(2.0).unwrap();
        (0..50).fold(x, |y, _| (y.sin() * two).exp().ln_1p() - y.tanh())
    }
    for x in [-1.3, 0.2, 2.5] {
        let (_, pb) = pullback(|v| vec![chain(v[0])], &[x]);
        assert_eq!(pb.tape_len(), nodes_before(1));
        let reverse = pb.call(&[1.0])[0];
        let forward = adroit_forward::derivative(chain, x);
        assert!(
            (reverse - forward).abs() <= 1e-14 * forward.abs(),
            "{reverse} {forward}"
        );
    }
}

/// `a·x ∘ b·x` with different pending scales on one node folds to `dx·a + dy·b`; an exact
/// cancellation makes a constant, as `x − x` does.
#[test]
fn one_node_under_two_scales() {
    let (_, pb) = pullback(|v| vec![v[0] * 2.0 + v[0] * 3.0], &[1.5]);
    assert_eq!(pb.tape_len(), nodes_before(1));
    assert_eq!(pb.call(&[1.0]), vec![5.0]);
    // (2x)·(3x) = 6x²: derivative 12x
    assert_eq!(
        gradient(|v| (v[0] * 2.0) * (v[0] * 3.0), &[1.5]),
        vec![18.0]
    );
    gradient(
        |v| {
            let y = v[0] * 3.0 + v[0] * -3.0;
            assert!(y.is_constant());
            let z = v[0] - v[0];
            assert!(z.is_constant());
            y + z
        },
        &[1.5],
    );
}

/// A product of partials that would underflow or overflow is recorded node by node, so the
/// gradient keeps the range of the chain of nodes (forward mode's tangent loses it here).
#[test]
fn a_fold_out_of_range_is_recorded_node_by_node() {
    let tiny = |v: &[Var<f64>]| v[0] * 1e-200 * 1e-200 * 1e300;
    let (_, pb) = pullback(|v| vec![tiny(v)], &[1.0]);
    assert_eq!(pb.tape_len(), nodes_before(1) + 2);
    let g = pb.call(&[1.0])[0];
    assert!((g / 1e-100 - 1.0).abs() < 1e-14, "{g}");
    let huge = |v: &[Var<f64>]| v[0] * 1e200 * 1e200 * 1e-300;
    let g = gradient(huge, &[1.0])[0];
    assert!((g / 1e100 - 1.0).abs() < 1e-14, "{g}");
    // An infinite partial is a node of its own: √ at 0 after a scale.
    assert_eq!(
        gradient(|v| (v[0] * 4.0).sqrt(), &[0.0]),
        vec![f64::INFINITY]
    );
    // A subnormal product as well: the sweep forms 1e-160·1e-160 from the adjoint.
    let g = gradient(|v| v[0] * 1e-160 * 1e-160 * 1e200, &[1.0])[0];
    assert!((g / 1e-120 - 1.0).abs() < 1e-14, "{g}");
}

/// Every way out of a variable applies its pending scale: seeded outputs (several outputs on
/// one node), pushed-forward outputs, a custom rule's inputs.
#[test]
fn every_use_applies_the_pending_scale() {
    let f = |v: &[Var<f64>]| vec![v[0] * 3.0, v[0].sin(), v[0] * v[1] * -2.0];
    let x = [0.5, 4.0];
    let (_, pb) = pullback(f, &x);
    let want_row = |w: [f64; 3]| {
        [
            3.0 * w[0] + x[0].cos() * w[1] - 2.0 * x[1] * w[2],
            -2.0 * x[0] * w[2],
        ]
    };
    for w in [[1.0, 0.0, 0.0], [0.5, -2.0, 1.0]] {
        let got = pb.call(&w);
        let want = want_row(w);
        for k in 0..2 {
            assert!(
                (got[k] - want[k]).abs() <= 1e-15 * want[k].abs().max(1.0),
                "{got:?}"
            );
        }
    }
    let t = [1.0, -1.0];
    let pushed = pb.pushforward(&t);
    let want = [3.0, x[0].cos(), -2.0 * (x[1] - x[0])];
    for k in 0..3 {
        assert!(
            (pushed[k] - want[k]).abs() <= 1e-15 * want[k].abs(),
            "{pushed:?}"
        );
    }
    let j = jacobian(f, &x);
    assert_eq!(j[(0, 0)], 3.0);
    assert_eq!(j[(2, 1)], -2.0 * x[0]);
    // a custom rule's input with a pending scale: d/dx c(5x) = 5·c'
    let g = gradient(
        |v| {
            let y = v[0] * 5.0;
            custom_scalar(&[y], y.value() * y.value(), &[2.0 * y.value()])
        },
        &[0.3],
    );
    assert!((g[0] - 50.0 * 0.3).abs() < 1e-14, "{g:?}");
}

#[test]
fn folding_in_f32() {
    let (_, pb) = pullback(
        |v: &[Var<f32>]| vec![(v[0] * 2.0).exp() * v[1]],
        &[0.5f32, 3.0],
    );
    assert_eq!(pb.tape_len(), nodes_before(2) + 1);
    let g = pb.call(&[1.0]);
    let e = 1.0f32.exp();
    assert!(
        (g[0] - 6.0 * e).abs() <= 4.0 * f32::EPSILON * 6.0 * e,
        "{g:?}"
    );
    assert!((g[1] - e).abs() <= 2.0 * f32::EPSILON * e, "{g:?}");
}

/// The documented cost of folding (`Var`'s docs, "Folded scales"): a folded variable used by
/// two operations hands its scale to both, so huge terms that cancelled at its node now meet at
/// its parent after the scale and overflow first; cancelling before scaling keeps them finite.
#[test]
fn a_scale_handed_to_two_uses_can_overflow_before_a_cancellation() {
    fn h<S: Float>(v: &[S]) -> S {
        let u = v[0] * S::from(1e10).unwrap();
        (u * v[1] - u * v[2]) * S::from(1e300).unwrap()
    }
    let x = [1e-10, 1.0, 1.0];
    assert_eq!(adroit_forward::gradient(h, &x), vec![0.0, 1e300, -1e300]);
    let reverse = gradient(|v| h(v), &x);
    assert!(reverse[0].is_nan(), "{reverse:?}");
    assert_eq!(&reverse[1..], &[1e300, -1e300]);
    let cancelled_first = gradient(|v| (v[1] - v[2]) * (v[0] * 1e10) * 1e300, &x);
    assert_eq!(cancelled_first, vec![0.0, 1e300, -1e300]);
}
