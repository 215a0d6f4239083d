//! `Pullback::pushforward`: the tape's forward sweep (a JVP on the recorded partials) equals
//! forward mode's JVP, builds the Jacobian column by column, goes through custom rules and
//! checkpoints, and keeps the `0·∞ = 0` convention.

use adroit_reverse::num_traits::Float;
use adroit_reverse::{Var, checkpoint, custom_rule, jacobian, pullback};

/// Three outputs of two inputs over a mix of the rule table's operations.
fn map<S: Float>(x: &[S]) -> Vec<S> {
    let (a, b) = (x[0], x[1]);
    vec![
        a * b.exp() - (a / (b * b + S::one())).atan(),
        (a * a + b * b).sqrt().ln_1p() + a.tanh() * b.cos(),
        a.powf(b) + b.max(a) - a.hypot(b).cbrt(),
    ]
}

const POINT: [f64; 2] = [0.8, 1.3];

#[test]
fn pushforward_equals_forward_modes_jvp() {
    let (y, pb) = pullback(|x| map(x), &POINT);
    for v in [[1.0, 0.0], [0.0, 1.0], [0.3, -2.0], [1e-300, 1e300]] {
        let (fy, jv) = adroit_forward::jvp(|x| map(x), &POINT, &v);
        assert_eq!(y, fy);
        let pushed = pb.pushforward(&v);
        for (a, b) in pushed.iter().zip(&jv) {
            assert!(
                (a - b).abs() <= 4.0 * f64::EPSILON * b.abs().max(1.0),
                "{pushed:?} vs {jv:?}"
            );
        }
    }
    // f32 too
    let p32 = POINT.map(|v| v as f32);
    let (_, pb32) = pullback(|x| map(x), &p32);
    let (_, jv32) = adroit_forward::jvp(|x| map(x), &p32, &[0.5, 1.0]);
    for (a, b) in pb32.pushforward(&[0.5, 1.0]).iter().zip(&jv32) {
        assert!((a - b).abs() <= 4.0 * f32::EPSILON * b.abs().max(1.0));
    }
}

#[test]
fn the_jacobian_column_by_column_equals_the_reverse_jacobian() {
    let (_, pb) = pullback(|x| map(x), &POINT);
    let j = jacobian(|x| map(x), &POINT);
    for col in 0..2 {
        let mut e = [0.0; 2];
        e[col] = 1.0;
        let pushed = pb.pushforward(&e);
        for row in 0..3 {
            let want = j[(row, col)];
            assert!((pushed[row] - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0));
        }
    }
    // pullbacks and pushforwards interleave on one recording
    assert_eq!(pb.call(&[1.0, 0.0, 0.0]).len(), 2);
    assert_eq!(pb.pushforward(&[0.0, 0.0]), vec![0.0; 3]);
}

#[test]
fn custom_rules_and_checkpoints_are_pushed_through_their_jacobians() {
    // y = (x₀·x₁, x₀ + 2x₁) by a hand-written pullback, fed to x₀·sin(y₀) + y₁²
    let f = |x: &[Var<f64>]| {
        let (a, b) = (x[0].value(), x[1].value());
        let c = Var::constant(3.0);
        let y = custom_rule(&[x[0], x[1], c], &[a * b, a + 2.0 * b], move |w| {
            vec![w[0] * b + w[1], w[0] * a + 2.0 * w[1], 1e300 * w[0]]
        });
        vec![x[0] * y[0].sin() + y[1] * y[1], y[0]]
    };
    let plain = |x: &[Var<f64>]| {
        let y = [x[0] * x[1], x[0] + 2.0 * x[1]];
        vec![x[0] * y[0].sin() + y[1] * y[1], y[0]]
    };
    let (_, pb) = pullback(f, &POINT);
    let (_, want) = pullback(plain, &POINT);
    let (_, kept) = pullback(|x| checkpoint(move |s| plain(s), x), &POINT);
    for v in [[1.0, 0.0], [0.0, 1.0], [2.0, -0.5]] {
        let expected = want.pushforward(&v);
        for got in [pb.pushforward(&v), kept.pushforward(&v)] {
            for (a, b) in got.iter().zip(&expected) {
                assert!(
                    (a - b).abs() <= 8.0 * f64::EPSILON * b.abs().max(1.0),
                    "{got:?} vs {expected:?}"
                );
            }
        }
    }
}

#[test]
fn the_operation_right_after_a_custom_rule_reads_its_outputs_tangent() {
    // The forward sweep keeps the node just below in a register: a product recorded right
    // after a rule's (or a checkpoint's) last output must read that output's new tangent.
    let f = |x: &[Var<f64>]| {
        let (a, b) = (x[0].value(), x[1].value());
        let y = custom_rule(&[x[0], x[1]], &[a + b, a * b], move |w| {
            vec![w[0] + w[1] * b, w[0] + w[1] * a]
        });
        vec![y[1] * x[1] + y[0] * x[0]]
    };
    let plain = |x: &[Var<f64>]| vec![(x[0] * x[1]) * x[1] + (x[0] + x[1]) * x[0]];
    let (_, want) = pullback(plain, &POINT);
    let (_, pb) = pullback(f, &POINT);
    let (_, kept) = pullback(
        |x| {
            let y = checkpoint(|s| vec![s[0] + s[1], s[0] * s[1]], x);
            vec![y[1] * x[1] + y[0] * x[0]]
        },
        &POINT,
    );
    // Only the rule's first output returned: the sweep must still reach the last one, where
    // the rule is pushed forward.
    let (_, first_only) = pullback(
        |x| vec![checkpoint(|s| vec![s[0] - s[1], s[0]], x)[0]],
        &POINT,
    );
    for v in [[1.0, 0.0], [0.0, 1.0], [2.0, -0.5]] {
        let expected = want.pushforward(&v)[0];
        for got in [pb.pushforward(&v)[0], kept.pushforward(&v)[0]] {
            assert!((got - expected).abs() <= 8.0 * f64::EPSILON * expected.abs());
        }
        assert_eq!(first_only.pushforward(&v), vec![v[0] - v[1]]);
    }
}

#[test]
fn a_zero_tangent_meets_an_infinite_partial_as_zero() {
    // √x₀ at x₀ = 0 has an infinite partial; moving x₁ alone gives 1, not NaN (as forward mode)
    let (_, pb) = pullback(
        |x| vec![x[0].sqrt() + x[1], Var::constant(4.0), x[1]],
        &[0.0, 2.0],
    );
    assert_eq!(pb.pushforward(&[0.0, 1.0]), vec![1.0, 0.0, 1.0]);
    assert_eq!(pb.pushforward(&[1.0, 0.0])[0], f64::INFINITY);
    let (_, jv) = adroit_forward::jvp(|x| vec![x[0].sqrt() + x[1]], &[0.0, 2.0], &[0.0, 1.0]);
    assert_eq!(jv, vec![1.0]);
}

#[test]
#[should_panic(expected = "the tangent has 1 entries but the function has 2 inputs")]
fn a_tangent_of_the_wrong_length_panics() {
    let (_, pb) = pullback(|x| vec![x[0] * x[1]], &[1.0, 2.0]);
    let _ = pb.pushforward(&[1.0]);
}

/// A custom rule whose inputs' tangents are all zero is skipped, as `pushforward`'s docs say:
/// its outputs' tangents are zero and its pullback is not called (it would be once per output).
#[test]
fn a_custom_rule_off_the_tangents_path_is_skipped() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&calls);
    // y = (x₁², 3x₁) by a hand-written pullback, fed to x₀·y₀ + y₁
    let (_, pb) = pullback(
        move |x| {
            let b = x[1].value();
            let counted = Arc::clone(&counted);
            let y = custom_rule(&[x[1]], &[b * b, 3.0 * b], move |w| {
                counted.fetch_add(1, Ordering::SeqCst);
                vec![2.0 * b * w[0] + 3.0 * w[1]]
            });
            vec![x[0] * y[0] + y[1]]
        },
        &POINT,
    );
    // along x₀ alone: ∂/∂x₀ = x₁², and the rule is skipped
    assert_eq!(pb.pushforward(&[1.0, 0.0]), vec![POINT[1] * POINT[1]]);
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    // along x₁: its pullback once per output; ∂/∂x₁ = 2x₀x₁ + 3
    let got = pb.pushforward(&[0.0, 1.0])[0];
    assert!((got - (2.0 * POINT[0] * POINT[1] + 3.0)).abs() <= 4.0 * f64::EPSILON * got.abs());
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

/// A custom pullback that returns the wrong number of cotangents is reported by the forward
/// sweep as by the backward one, naming both counts.
#[test]
#[should_panic(expected = "the pullback returned 1 cotangents for 2 inputs")]
fn a_custom_pullback_of_the_wrong_length_in_the_forward_sweep() {
    let (_, pb) = pullback(
        |x| {
            let (a, b) = (x[0].value(), x[1].value());
            custom_rule(&[x[0], x[1]], &[a * b], move |w| vec![w[0] * b])
        },
        &POINT,
    );
    let _ = pb.pushforward(&[1.0, 1.0]);
}

/// A custom rule's infinite Jacobian entry against a zero tangent contributes nothing (the
/// tape's `0·∞ = 0`), while the other input's tangent goes through: y = √x₀ + 2x₁ at x₀ = 0,
/// by a hand-written pullback, pushed along x₁ alone is 2, not NaN.
#[test]
fn a_custom_rules_infinite_partial_meets_a_zero_tangent_as_zero() {
    let (_, pb) = pullback(
        |x| {
            let (a, b) = (x[0].value(), x[1].value());
            vec![
                custom_rule(&[x[0], x[1]], &[a.sqrt() + 2.0 * b], |w| {
                    vec![f64::INFINITY * w[0], 2.0 * w[0]]
                })[0],
            ]
        },
        &[0.0, 1.0],
    );
    assert_eq!(pb.pushforward(&[0.0, 1.0]), vec![2.0]);
    assert_eq!(pb.pushforward(&[1.0, 1.0]), vec![f64::INFINITY]);
}
