//! `matrix::evaluate`: matrix code run for its value alone, against the value the
//! differentiation calls record, and its scoping.

use super::matrix::mat;
use super::misuse::panic_message;
use adroit_reverse::matrix::{self, Along, MatVar};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

/// A small network's output and a loss: each the same to the last bit as the value
/// `pullback` records (the same operations, run without keeping their rules).
#[test]
fn equals_the_recorded_value_bit_for_bit() {
    let (w, b, x) = (mat(3, 4, 1), mat(3, 1, 2), mat(4, 5, 3));
    let network = |m: &[MatVar<f64>]| {
        let h = (m[0].matmul(m[2]) + m[1]).map(|v| v.tanh());
        h.logsoftmax(Along::Rows)
    };
    let loss = |m: &[MatVar<f64>]| network(m).component_mul(network(m)).mean();
    let inputs = [w.clone(), b.clone(), x.clone()];
    for f in [&network as &dyn Fn(&[MatVar<f64>]) -> MatVar<f64>, &loss] {
        let (recorded, _) = matrix::pullback(f, &inputs);
        let evaluated = matrix::evaluate(f, &inputs);
        assert_eq!(evaluated.shape(), recorded.shape());
        assert!(
            evaluated
                .iter()
                .zip(&recorded)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        // Borrowed inputs, as value_and_gradient takes them.
        assert_eq!(matrix::evaluate(f, &[&w, &b, &x]), evaluated);
    }
    let (value, _) = matrix::value_and_gradient(loss, &inputs);
    assert_eq!(
        matrix::evaluate(loss, &inputs)[(0, 0)].to_bits(),
        value.to_bits()
    );
}

/// The result may be an input itself (a copy: the input is only borrowed), a constant, or of
/// any shape; the inputs are left as they were.
#[test]
fn returns_inputs_constants_and_any_shape() {
    let a = mat(2, 3, 4);
    assert_eq!(matrix::evaluate(|m| m[0], &[&a]), a);
    assert_eq!(matrix::evaluate(|m| m[0].transpose(), &[&a]), a.transpose());
    let c = matrix::evaluate(
        |_| MatVar::constant(dmatrix![1.0, 2.0]),
        &[] as &[DMatrix<f64>],
    );
    assert_eq!(c, dmatrix![1.0, 2.0]);
    assert_eq!(
        matrix::evaluate(|m| m[0].sum(), &[DMatrix::<f64>::zeros(0, 3)]),
        dmatrix![0.0]
    );
    assert_eq!(a, mat(2, 3, 4));
    // Again after other recordings have used (and pooled: 80 entries, above the pool's floor
    // of 64) buffers: the same values.
    let big = mat(2, 40, 5);
    let first = matrix::evaluate(|m| m[0].map(|v| v.exp()).sum_along(Along::Rows), &[&big]);
    let _ = matrix::gradient(|m| m[0].map(|v| v.sin()).sum(), &[&big]);
    let again = matrix::evaluate(|m| m[0].map(|v| v.exp()).sum_along(Along::Rows), &[&big]);
    assert_eq!(first, again);
}

/// The result comes in a buffer of its own size, as the gradients do, though the recording
/// took it from the buffer pool, whose buffers can be up to twice as large (a review found
/// 1023 entries of room for a 513-entry result).
#[test]
fn the_result_has_a_buffer_of_its_size() {
    let large = DMatrix::from_element(1023, 1, 0.5);
    let x = DMatrix::from_element(513, 1, 0.25);
    for _ in 0..3 {
        let _ = matrix::gradient(|m| m[0].tanh().sum(), &[&large]);
        let y = matrix::evaluate(|m| m[0].tanh(), &[&x]);
        assert_eq!((y.len(), y.data.as_vec().capacity()), (513, 513));
        assert_eq!(y, x.map(f64::tanh));
    }
}

/// Inside a gradient call, an evaluation is a recording of its own: a value computed from
/// plain data feeds the outer loss as a constant (no gradient flows through it), and an outer
/// variable used inside it panics as any variable of another tape does.
#[test]
fn nests_inside_a_gradient_call() {
    let (a, data) = (mat(2, 2, 5), mat(2, 2, 6));
    let g = matrix::gradient(
        |m| {
            let scale = matrix::evaluate(|d| d[0].component_mul(d[0]).sum(), &[&data]);
            (m[0] * scale[(0, 0)]).sum()
        },
        &[&a],
    );
    let scale = data.component_mul(&data).sum();
    assert_eq!(g[0], DMatrix::from_element(2, 2, scale));
    let outcome = std::panic::catch_unwind(|| {
        matrix::gradient(
            |m| {
                let outer = m[0];
                let _ = matrix::evaluate(|d| d[0] + outer, &[&data]);
                m[0].sum()
            },
            &[&a],
        )
    });
    let message = panic_message(outcome.unwrap_err());
    assert!(message.contains("from another tape"), "{message}");
}
