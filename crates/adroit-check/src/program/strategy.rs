//! Proptest strategies for random programs.

use super::ops::{BinaryOp, UnaryOp};
use super::{Expr, Program};
use proptest::prelude::*;

fn unary_op() -> impl Strategy<Value = UnaryOp> {
    proptest::sample::select(UnaryOp::ALL.to_vec())
}

fn binary_op() -> impl Strategy<Value = BinaryOp> {
    proptest::sample::select(BinaryOp::ALL.to_vec())
}

/// Random expressions over `n_inputs` inputs with at most about `size` nodes and nesting depth
/// `depth`, using every operation of the rule table (`erf`, `erfc`, `ln_gamma` and `digamma` included).
/// Shrinking simplifies towards a single input (proptest's recursive strategies shrink
/// sub-trees first).
///
/// # Panics
/// If `n_inputs` is 0.
///
/// # Example
/// ```
/// use adroit_check::program;
/// use adroit_check::proptest::strategy::{Strategy, ValueTree};
/// use adroit_check::proptest::test_runner::TestRunner;
/// let mut runner = TestRunner::deterministic();
/// let e = program::expr(2, 3, 8).new_tree(&mut runner).unwrap().current();
/// // Every operation is guarded, so the expression is defined at every point.
/// for x in [[0.0_f64, 0.0], [1.5, -2.0], [-0.3, 1.0]] {
///     assert!(!e.eval(&x).is_nan());
/// }
/// ```
pub fn expr(n_inputs: usize, depth: u32, size: u32) -> impl Strategy<Value = Expr> {
    assert!(n_inputs > 0, "a program needs at least one input");
    let leaf = prop_oneof![
        4 => (0..n_inputs).prop_map(Expr::Input),
        1 => (-2.0..2.0f64).prop_map(|v| Expr::Const((v * 8.0).round() / 8.0)),
    ];
    leaf.prop_recursive(depth, size, 2, |inner| {
        prop_oneof![
            3 => (unary_op(), inner.clone()).prop_map(|(op, a)| Expr::Unary(op, Box::new(a))),
            3 => (binary_op(), inner.clone(), inner.clone())
                .prop_map(|(op, a, b)| Expr::Binary(op, Box::new(a), Box::new(b))),
            1 => (inner.clone(), -3..=4i32).prop_map(|(a, n)| Expr::Powi(Box::new(a), n)),
            1 => (inner, -1.5..0.0f64, 0.25..1.5f64)
                .prop_map(|(a, lo, hi)| Expr::Clamp(Box::new(a), lo, hi)),
        ]
    })
}

/// Random programs with 1 to `max_inputs` inputs, nesting depth up to `depth`.
///
/// # Example
/// ```
/// use adroit_check::program;
/// use adroit_check::proptest::strategy::{Strategy, ValueTree};
/// use adroit_check::proptest::test_runner::TestRunner;
///
/// let mut runner = TestRunner::deterministic();
/// let p = program::program(3, 4).new_tree(&mut runner).unwrap().current();
/// let x = vec![0.5; p.n_inputs];
/// let _ = p.eval(&x); // defined everywhere
/// ```
pub fn program(max_inputs: usize, depth: u32) -> impl Strategy<Value = Program> {
    (1..=max_inputs.max(1)).prop_flat_map(move |n| {
        expr(n, depth, 4 * depth).prop_map(move |expr| Program { n_inputs: n, expr })
    })
}

/// A random program with a point to evaluate it at (inputs in `[-2, 2]`).
///
/// # Example
/// ```
/// use adroit_check::program;
/// use adroit_check::proptest::strategy::{Strategy, ValueTree};
/// use adroit_check::proptest::test_runner::TestRunner;
/// let mut runner = TestRunner::deterministic();
/// let (p, x) = program::program_and_point(3, 3).new_tree(&mut runner).unwrap().current();
/// assert!((1..=3).contains(&p.n_inputs));
/// assert_eq!(x.len(), p.n_inputs); // one coordinate per input
/// assert!(x.iter().all(|v| (-2.0..=2.0).contains(v)));
/// ```
pub fn program_and_point(
    max_inputs: usize,
    depth: u32,
) -> impl Strategy<Value = (Program, Vec<f64>)> {
    program(max_inputs, depth).prop_flat_map(|p| {
        let n = p.n_inputs;
        (Just(p), proptest::collection::vec(-2.0..2.0f64, n))
    })
}
