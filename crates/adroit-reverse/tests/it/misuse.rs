//! Misusing variables panics with a clear message and never gives a wrong number.

use adroit_reverse::matrix::{self, MatVar};
use adroit_reverse::{Var, gradient, pullback};
use nalgebra::DMatrix;

/// A variable smuggled out of a finished `gradient` call.
fn leaked_variable() -> Var<f64> {
    let mut leaked = None;
    let _ = gradient(
        |x| {
            leaked = Some(x[0]);
            x[0]
        },
        &[1.0],
    );
    leaked.expect("the closure ran")
}

/// A matrix variable (the input, `value`) smuggled out of a finished `matrix::gradient` call.
fn leaked_matvar(value: &DMatrix<f64>) -> MatVar<f64> {
    let mut leaked = None;
    let _ = matrix::gradient(
        |m| {
            leaked = Some(m[0]);
            m[0].sum()
        },
        std::slice::from_ref(value),
    );
    leaked.expect("the closure ran")
}

#[test]
#[should_panic(expected = "used outside the scope that recorded it")]
fn variable_used_after_its_gradient_call_returned() {
    let _ = leaked_variable() * 3.0;
}

/// A custom rule's pullback runs in the backward sweep, after recording: a variable it
/// captured is stale there, and the message says so.
#[test]
#[should_panic(expected = "a custom rule's pullback is running")]
fn variable_captured_by_a_custom_pullback() {
    let _ = gradient(
        |x| {
            let captured = x[0];
            adroit_reverse::custom_rule(&[x[0]], &[x[0].value()], move |w| {
                vec![(captured * w[0]).value()]
            })[0]
        },
        &[1.0],
    );
}

#[test]
#[should_panic(expected = "from another tape")]
fn stale_variable_mixed_into_a_new_scope() {
    let stale = leaked_variable();
    let _ = gradient(|x| x[0] * stale, &[2.0]);
}

#[test]
#[should_panic(expected = "from another tape")]
fn outer_variable_used_in_an_inner_scope() {
    let _ = gradient(
        |x| {
            let outer = x[0];
            let inner = gradient(|y| y[0] * outer, &[1.0]);
            x[0] * inner[0]
        },
        &[1.0],
    );
}

/// The message of a panic's payload (`String` or `&str`; empty otherwise).
pub(crate) fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .unwrap_or_default(),
    }
}

#[test]
fn variable_sent_to_another_thread_panics() {
    let v = leaked_variable();
    let result = std::thread::spawn(move || gradient(|x| x[0] + v, &[1.0])).join();
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("from another tape"), "{message}");
    // Used while no scope runs on that thread:
    let result = std::thread::spawn(move || (v * 2.0).value()).join();
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("outside the scope"), "{message}");
    // The message names the thread as a cause (a user trial missed it).
    assert!(message.contains("sent to another thread"), "{message}");
}

#[test]
fn matvar_sent_to_another_thread_panics() {
    let ones = DMatrix::from_element(2, 2, 1.0);
    // While its scope is recording on this thread: the other thread has no matrix tape open.
    let g = matrix::gradient(
        |p| {
            let m = p[0];
            let result = std::thread::scope(|s| s.spawn(move || m.sum().nrows()).join());
            let message = panic_message(result.unwrap_err());
            assert!(
                message.contains("a MatVar was used outside the scope that recorded it"),
                "{message}"
            );
            // The recording here is unaffected: ∂/∂A sum(2A) = 2.
            (p[0] * 2.0).sum()
        },
        std::slice::from_ref(&ones),
    );
    assert_eq!(g[0], DMatrix::from_element(2, 2, 2.0));
    // After its call returned: mixed into a scope of the other thread, or used with none.
    let m = leaked_matvar(&ones);
    let inputs = [ones.clone()];
    let result = std::thread::spawn(move || matrix::gradient(|p| (p[0] + m).sum(), &inputs)).join();
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("a MatVar from another tape"), "{message}");
    let result = std::thread::spawn(move || m.value()).join();
    let message = panic_message(result.unwrap_err());
    assert!(message.contains("outside the scope"), "{message}");
    assert!(message.contains("sent to another thread"), "{message}");
}

#[test]
#[should_panic(expected = "not computed from its inputs in this call")]
fn returning_a_variable_of_another_scope() {
    let v = leaked_variable();
    let _ = pullback(move |_| vec![v], &[1.0]);
}

/// The matrix tape's check of the returned loss: a `MatVar` of a finished call (its shape
/// 1 × 1, so only the tape's id can tell) is refused, not read as a node of this tape.
#[test]
#[should_panic(expected = "a MatVar from another tape")]
fn matrix_returning_a_matvar_of_another_scope() {
    let one = DMatrix::from_element(1, 1, 2.0_f64);
    let v = leaked_matvar(&one);
    let _ = matrix::gradient(move |_| v, &[one]);
}

/// `hvp`'s point and direction must have one entry each per input.
#[test]
#[should_panic(expected = "hvp: the point has 2 entries but the direction has 1")]
fn hvp_with_a_direction_of_another_length() {
    let _ = adroit_reverse::hvp(|x| x[0] * x[1], &[1.0, 2.0], &[1.0]);
}

#[test]
fn a_panic_inside_the_function_leaves_no_tape_behind() {
    let result =
        std::panic::catch_unwind(|| gradient(|x| -> Var<f64> { panic!("{}", x[0]) }, &[1.0]));
    assert!(result.is_err());
    // The next call works normally.
    assert_eq!(gradient(|x| x[0] * x[0], &[3.0]), vec![6.0]);
}

#[test]
fn constants_work_anywhere() {
    let c = Var::constant(2.0_f64) * Var::constant(3.0) + 1.0;
    assert_eq!(c.value(), 7.0);
    assert_eq!(gradient(|x| x[0] * c, &[1.0]), vec![7.0]);
}

#[test]
fn a_panic_inside_a_pullback_leaves_no_dirty_adjoints_behind() {
    // The adjoint buffer is reused without clearing; one abandoned mid-sweep must not be.
    let result = std::panic::catch_unwind(|| {
        gradient(
            |x| {
                let y = x[0] * 5.0 + x[1];
                let z = adroit_reverse::custom_rule::<f64, _>(&[y], &[y.value()], |_| {
                    panic!("pullback")
                });
                z[0] * x[1]
            },
            &[1.0, 2.0],
        )
    });
    assert!(result.is_err());
    assert_eq!(gradient(|x| x[0] * x[0], &[3.0]), vec![6.0]);
    assert_eq!(
        gradient(|x| x[2] + x[0] * 0.5, &[1.0, 2.0, 3.0]),
        vec![0.5, 0.0, 1.0]
    );
}

/// Runs `run` with a panic hook that records where each panic on this thread happened, and
/// returns `run`'s result with the lines of this file among them.
fn panic_lines_here<R>(run: impl FnOnce() -> R) -> (R, Vec<u32>) {
    use std::sync::Mutex;
    static SEEN: Mutex<Vec<(std::thread::ThreadId, String, u32)>> = Mutex::new(Vec::new());
    // The hook is the process's: one test at a time installs and restores it.
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let _turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        if let Some(l) = info.location() {
            let me = std::thread::current().id();
            SEEN.lock()
                .unwrap()
                .push((me, l.file().to_string(), l.line()));
        }
    }));
    let result = run();
    std::panic::set_hook(previous);
    let me = std::thread::current().id();
    let mut seen = SEEN.lock().unwrap();
    let here = seen
        .iter()
        .filter(|(t, f, _)| *t == me && f.ends_with("misuse.rs"))
        .map(|(_, _, l)| *l)
        .collect();
    seen.retain(|(t, _, _)| *t != me);
    (result, here)
}

#[test]
fn a_stale_variable_panics_at_the_line_that_used_it() {
    // The panic's location was inside adroit (var.rs): operators and methods now pass the
    // caller's location through (#[track_caller]), so it names the user's line.
    let x = leaked_variable();
    use num_traits::{Float, Inv, Signed};
    let (results, here) = panic_lines_here(|| {
        let lines: Vec<u32> = (1..=9).map(|k| line!() + k).collect();
        let a = std::panic::catch_unwind(|| x + x).is_err();
        let b = std::panic::catch_unwind(|| Float::sin(x)).is_err();
        let c = std::panic::catch_unwind(|| 2.0 * x).is_err();
        let d = std::panic::catch_unwind(|| Float::powi(x, 3)).is_err();
        let e = std::panic::catch_unwind(|| Float::mul_add(x, x, x)).is_err();
        let f = std::panic::catch_unwind(|| Float::sin_cos(x)).is_err();
        let g = std::panic::catch_unwind(|| Signed::abs(&x)).is_err();
        let h = std::panic::catch_unwind(|| Inv::inv(x)).is_err();
        let i = std::panic::catch_unwind(|| Signed::abs_sub(&x, &Var::constant(0.5))).is_err();
        (lines, [a, b, c, d, e, f, g, h, i])
    });
    let (lines, panicked) = results;
    assert!(panicked.iter().all(|&p| p));
    assert_eq!(here, lines);
}

#[test]
fn a_stale_matvar_panics_at_the_line_that_used_it() {
    // The check ran inside the thread-local access, where `#[track_caller]` does not reach: the
    // panic named adroit's var.rs. It now names the user's line, for every kind of operation.
    let x = leaked_matvar(&DMatrix::from_element(2, 2, 1.0));
    let in_scope = |f: &(dyn Fn(MatVar<f64>) -> MatVar<f64> + std::panic::RefUnwindSafe)| {
        std::panic::catch_unwind(|| {
            matrix::gradient(|m| f(m[0]).sum(), &[DMatrix::from_element(2, 2, 1.0)])
        })
    };
    let (results, here) = panic_lines_here(|| {
        let lines: Vec<u32> = (1..=10).map(|k| line!() + k).collect();
        let a = in_scope(&|m| m + x);
        let b = in_scope(&|_| x.tanh());
        let c = in_scope(&|m| MatVar::zip_map([m, x], |[p, q]| p * q));
        let d = in_scope(&|m| x.affine(m, m));
        let e = in_scope(&|m| MatVar::vcat(&[m, x]));
        let f = in_scope(&|_| MatVar::constant(x.value()));
        let g = in_scope(&|_| x.rows(0, 1));
        let h = in_scope(&|_| x.sum());
        let i = in_scope(&|_| x.mean_along(matrix::Along::Cols));
        let j = in_scope(&|_| x.logsumexp(matrix::Along::Rows));
        (lines, [a, b, c, d, e, f, g, h, i, j])
    });
    let (lines, outcomes) = results;
    for (k, r) in outcomes.into_iter().enumerate() {
        let message = panic_message(r.unwrap_err());
        assert!(message.contains("from another tape"), "{k}: {message}");
    }
    assert_eq!(here, lines);
}

/// Matrix recording needs an open recording: outside one, even operations that read no
/// variable (a constant, a custom rule or a checkpoint without inputs) panic with a message
/// instead of recording on the thread's placeholder tape.
/// The panic names the caller's line (it was raised inside the thread-local access, at
/// adroit's var.rs) and where matrix code runs, `matrix::evaluate` included.
#[test]
fn matrix_constant_outside_a_recording() {
    let ((line, outcome), here) = panic_lines_here(|| {
        let one = DMatrix::from_element(1, 1, 2.0);
        let line = line!() + 1;
        let outcome = std::panic::catch_unwind(|| MatVar::constant(one));
        (line, outcome)
    });
    let message = panic_message(outcome.unwrap_err());
    assert!(
        message.contains("MatVar::constant called outside every matrix recording")
            && message.contains("matrix::evaluate"),
        "{message}"
    );
    assert_eq!(here, vec![line]);
}

#[test]
#[should_panic(expected = "no matrix recording is active")]
fn matrix_custom_rule_without_inputs_outside_a_recording() {
    let _ = matrix::custom_rule::<f64, _>(&[], DMatrix::from_element(1, 1, 2.0), |_| vec![]);
}

#[test]
#[should_panic(expected = "no matrix recording is active")]
fn matrix_checkpoint_without_inputs_outside_a_recording() {
    let _ = matrix::checkpoint(|_| MatVar::constant(DMatrix::from_element(1, 1, 2.0)), &[]);
}
