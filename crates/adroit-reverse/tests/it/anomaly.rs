//! `matrix::detect_anomaly`: the first matrix operation whose result holds NaN panics at the
//! user's line, also under second order and inside custom rules and checkpoints; outside it
//! nothing is checked.

use adroit_reverse::matrix::{self, MatVar, detect_anomaly};
use adroit_reverse::num_traits::Float;
use nalgebra::{DMatrix, dmatrix};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The panic message of `f`, which must panic.
fn message_of<R>(f: impl FnOnce() -> R) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).err().expect("a panic");
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(p) => p.downcast_ref::<&str>().expect("a message").to_string(),
    }
}

#[test]
fn the_first_nan_panics_at_its_line() {
    let a = dmatrix![1.0, -2.0; 3.0, 4.0];
    let line = line!() + 1;
    let f = |m: &[MatVar<f64>]| (m[0] - 2.0).map(|v| v.ln()).sum();
    // Without the check the loss is silently NaN.
    assert!(
        matrix::value_and_gradient(f, std::slice::from_ref(&a))
            .0
            .is_nan()
    );
    let message = message_of(|| detect_anomaly(|| matrix::gradient(f, std::slice::from_ref(&a))));
    assert!(message.contains("detect_anomaly"), "{message}");
    assert!(
        message.contains(&format!("anomaly.rs:{line}:")),
        "{message}"
    );
    assert!(
        message.contains("NaN at entry (0, 0) of its 2×2 result"),
        "{message}"
    );
    assert!(message.contains("its operands held none"), "{message}");
    // The check ends with the call (also when it panicked): unchecked again, the tape works.
    assert!(
        matrix::value_and_gradient(f, std::slice::from_ref(&a))
            .0
            .is_nan()
    );
    let g = matrix::gradient(|m| (m[0] * 3.0).sum(), std::slice::from_ref(&a));
    assert_eq!(g[0], DMatrix::from_element(2, 2, 3.0));
}

#[test]
fn a_nan_input_is_named_at_the_first_operation_it_reaches() {
    let bad = dmatrix![1.0, f64::NAN];
    let message = message_of(|| {
        detect_anomaly(|| matrix::gradient(|m| (m[0] * 2.0).sum(), std::slice::from_ref(&bad)))
    });
    assert!(
        message.contains("NaN at entry (0, 1) of its 1×2 result"),
        "{message}"
    );
    assert!(message.contains("an operand already held NaN"), "{message}");
}

#[test]
fn finite_matrix_code_is_unchanged() {
    let a = dmatrix![1.0, -2.0; 3.0, 4.0];
    let g = |m: &[MatVar<f64>]| {
        (m[0] * m[0].transpose())
            .tanh()
            .logsumexp(matrix::Along::Rows)
            .sum()
    };
    let want = matrix::gradient(g, std::slice::from_ref(&a));
    assert_eq!(
        detect_anomaly(|| matrix::gradient(g, std::slice::from_ref(&a))),
        want
    );
    // infinities are not anomalies (∞ − ∞ would be: a sum of mixed signs)
    let positive = a.abs();
    let (v, g) = detect_anomaly(|| {
        matrix::value_and_gradient(
            |m| (m[0] * 1e308 * 10.0).sum(),
            std::slice::from_ref(&positive),
        )
    });
    assert_eq!(v, f64::INFINITY);
    assert_eq!(g[0], DMatrix::from_element(2, 2, 1e308 * 10.0));
}

#[test]
fn custom_rules_checkpoints_and_second_order_are_checked() {
    let a = dmatrix![0.5, 2.0];
    let message = message_of(|| {
        detect_anomaly(|| {
            matrix::gradient(
                |m| matrix::custom_rule(&[m[0]], dmatrix![f64::NAN], |g| vec![g * 0.0]).sum(),
                std::slice::from_ref(&a),
            )
        })
    });
    assert!(
        message.contains("NaN at entry (0, 0) of its 1×1 result"),
        "{message}"
    );
    // an operation inside a checkpointed block (its first run) is checked too
    let message = message_of(|| {
        detect_anomaly(|| {
            matrix::gradient(
                |m| matrix::checkpoint(|q| (q[0] - 1.0).map(|v| v.sqrt()), &[m[0]]).sum(),
                std::slice::from_ref(&a),
            )
        })
    });
    assert!(message.contains("NaN at entry (0, 0)"), "{message}");
    // second order: the primal values of the dual entries are checked
    fn root<S: matrix::MatScalar>(m: &[MatVar<S>]) -> MatVar<S> {
        (m[0] - S::one()).map(|v| v.sqrt()).sum()
    }
    let message = message_of(|| detect_anomaly(|| matrix::hessian(root, std::slice::from_ref(&a))));
    assert!(message.contains("NaN at entry (0, 0)"), "{message}");
}

/// From a review: a recording inside another (a checkpointed block's first run) that ended on
/// a NaN read from the outer one reported its own line; the outer recording's first NaN is the
/// one to report.
#[test]
fn a_nested_recording_reports_the_outer_recordings_earlier_nan() {
    let a = dmatrix![-1.0, 4.0];
    let line = line!() + 2;
    let f = |m: &[MatVar<f64>]| {
        let y = m[0].map(|v| v.sqrt());
        let z = matrix::checkpoint(|q| q[0] * 3.0, &[y]);
        z.sum()
    };
    let message = message_of(|| detect_anomaly(|| matrix::gradient(f, std::slice::from_ref(&a))));
    assert!(
        message.contains(&format!("anomaly.rs:{line}:")),
        "{message}"
    );
    assert!(message.contains("its operands held none"), "{message}");
    // and the watch state is clean afterwards: a later watched recording reports its own NaN
    let g = |m: &[MatVar<f64>]| (m[0] * 0.0).map(|v| v.ln() * 0.0).sum();
    let message = message_of(|| detect_anomaly(|| matrix::gradient(g, std::slice::from_ref(&a))));
    assert!(
        message.contains("NaN at entry (0, 0) of its 1×2 result"),
        "{message}"
    );
}

/// A pullback recorded unwatched runs its checkpointed blocks again in its backward sweep:
/// inside `detect_anomaly` those runs are new recordings, and are checked (documented).
#[test]
fn a_blocks_rerun_in_a_backward_sweep_is_a_checked_recording() {
    let a = dmatrix![-1.0, 4.0];
    let (_, pb) = matrix::pullback(
        |m| matrix::checkpoint(|q| q[0].map(|v| v.sqrt()), &[m[0]]),
        &[a],
    );
    assert!(pb.call(&dmatrix![1.0, 1.0])[0][(0, 0)].is_nan());
    let message = message_of(|| detect_anomaly(|| pb.call(&dmatrix![1.0, 1.0])));
    assert!(
        message.contains("NaN at entry (0, 0) of its 1×2 result"),
        "{message}"
    );
}

/// The backward sweep is checked too (PyTorch's `detect_anomaly` checks every backward
/// function): a derivative that is NaN where the value is finite — `√v − ∛v` at 0, whose slopes
/// are both +∞ — makes the gradient NaN with every result finite, and is reported at the line
/// of the operation whose rule made it.
#[test]
fn a_nan_made_by_a_backward_rule_is_reported_at_its_line() {
    let a = dmatrix![1.0, 0.0; 4.0, 9.0];
    let line = line!() + 1;
    let f = |m: &[MatVar<f64>]| m[0].map(|v| v.sqrt() - v.cbrt()).sum();
    let (v, g) = matrix::value_and_gradient(f, std::slice::from_ref(&a));
    assert!(v.is_finite() && g[0][(0, 1)].is_nan() && g[0][(0, 0)].is_finite());
    let message = message_of(|| detect_anomaly(|| matrix::gradient(f, std::slice::from_ref(&a))));
    assert!(message.contains("in the backward sweep"), "{message}");
    assert!(
        message.contains(&format!("anomaly.rs:{line}:")),
        "{message}"
    );
    assert!(
        message.contains("NaN at entry (0, 1) of the cotangent of its 2×2 operand (an input"),
        "{message}"
    );
    // Infinite contributions of opposite signs meeting in one adjoint (∞ − ∞): the rule blamed
    // is the one whose contribution made the NaN, the first square root (the sweep runs last
    // operation first).
    let b = dmatrix![0.0, 1.0];
    let line = line!() + 2;
    let h = |m: &[MatVar<f64>]| {
        let first = m[0].map(|v| v.sqrt());
        let second = m[0].map(|v| v.sqrt());
        (first - second).sum()
    };
    let (v, g) = matrix::value_and_gradient(h, std::slice::from_ref(&b));
    assert!(v == 0.0 && g[0][(0, 0)].is_nan() && g[0][(0, 1)] == 0.0);
    let message = message_of(|| detect_anomaly(|| matrix::gradient(h, std::slice::from_ref(&b))));
    assert!(
        message.contains(&format!("anomaly.rs:{line}:")),
        "{message}"
    );
    assert!(
        message.contains("NaN at entry (0, 0) of the cotangent of its 1×2 operand (an input"),
        "{message}"
    );
}

/// A NaN in the cotangent a pullback is given is passed on by every rule, and none is blamed;
/// a pullback recorded before `detect_anomaly` has its sweeps checked inside it, without the
/// line (not kept for a recording not watched).
#[test]
fn a_nan_cotangent_is_passed_on_and_an_older_pullbacks_sweep_is_checked() {
    let a = dmatrix![1.0, 4.0];
    let (_, pb) = detect_anomaly(|| matrix::pullback(|m| m[0].map(|v| v.sqrt()) * 3.0, &[a]));
    let g = detect_anomaly(|| pb.call(&dmatrix![f64::NAN, 1.0]));
    assert!(g[0][(0, 0)].is_nan());
    assert_eq!(g[0][(0, 1)], 0.75);
    let zero = dmatrix![0.0, 1.0];
    let (_, old) = matrix::pullback(|m| m[0].map(|v| v.sqrt() - v.cbrt()), &[zero]);
    assert!(old.call(&dmatrix![1.0, 1.0])[0][(0, 0)].is_nan());
    let message = message_of(|| detect_anomaly(|| old.call(&dmatrix![1.0, 1.0])));
    assert!(
        message.contains("the matrix operation at a line not known"),
        "{message}"
    );
}

/// A custom rule whose pullback makes a NaN is blamed at the `custom_rule` line; a pullback
/// recorded inside `detect_anomaly` checks its sweeps when called after it returned.
#[test]
fn a_custom_pullbacks_nan_and_a_watched_pullbacks_later_calls_are_reported() {
    let a = dmatrix![1.0, 2.0];
    let line = line!() + 3;
    let f = |m: &[MatVar<f64>]| {
        let v = m[0].value().clone();
        matrix::custom_rule(&[m[0]], v, |g| vec![g.map(|_| f64::NAN)]).sum()
    };
    let message = message_of(|| detect_anomaly(|| matrix::gradient(f, std::slice::from_ref(&a))));
    assert!(message.contains("in the backward sweep"), "{message}");
    assert!(
        message.contains(&format!("anomaly.rs:{line}:")),
        "{message}"
    );
    let zero = dmatrix![0.0, 1.0];
    let (_, pb) =
        detect_anomaly(|| matrix::pullback(|m| m[0].map(|v| v.sqrt() - v.cbrt()), &[zero]));
    let message = message_of(|| pb.call(&dmatrix![1.0, 1.0]));
    assert!(message.contains("in the backward sweep"), "{message}");
    assert!(
        message.contains("NaN at entry (0, 0) of the cotangent of its 1×2 operand (an input"),
        "{message}"
    );
}

/// A NaN given in the cotangent marks only the entries it reaches: a rule that then makes a NaN
/// in another entry of the same adjoint is still reported (a subagent's hunt: it was not, once
/// the adjoint held any NaN).
#[test]
fn a_nan_made_beside_a_given_one_in_the_same_adjoint_is_reported() {
    let line = line!() + 2;
    let f = |m: &[MatVar<f64>]| {
        let made = m[0].map(|v| v.sqrt() - v.cbrt());
        MatVar::vcat(&[m[0] * 2.0, made])
    };
    let (_, pb) = detect_anomaly(|| matrix::pullback(f, &[dmatrix![1.0, 0.0]]));
    let entry = "NaN at entry (0, 1) of the cotangent of its 1×2 operand (an input";
    for given in [0.0, f64::NAN] {
        let message = message_of(|| pb.call(&dmatrix![given, 0.0; 1.0, 1.0]));
        assert!(
            message.contains(&format!("anomaly.rs:{line}:")),
            "{message}"
        );
        assert!(message.contains(entry), "{message}");
    }
}
