//! `matrix_gradcheck`: matrix-tape gradients against finite differences of the same code —
//! correct losses pass in both modes, a wrong derivative is caught and located.

use adroit_check::{Comparison, Mode, Options, matrix_gradcheck};
use adroit_reverse::matrix::{Along, MatVar};
use nalgebra::{DMatrix, dmatrix};
use num_traits::Float;

fn inputs() -> Vec<DMatrix<f64>> {
    vec![
        DMatrix::from_fn(3, 4, |i, j| ((i * 4 + j) as f64 * 0.37).sin()),
        DMatrix::from_fn(3, 1, |i, _| 0.1 * i as f64 - 0.05),
        DMatrix::from_fn(4, 5, |i, j| ((i + 2 * j) as f64 * 0.21).cos()),
    ]
}

/// A softmax cross-entropy of a tanh layer plus a fused softplus penalty.
fn loss(p: &[MatVar<f64>]) -> MatVar<f64> {
    let h = (p[0] * p[2] + p[1]).tanh();
    let penalty = MatVar::zip_map([p[0]], |[w]| w.max(w * 0.0) + (-w.abs()).exp().ln_1p());
    h.logsoftmax(Along::Rows).mean() * -1.0 + penalty.sum() * 0.01
}

fn fast() -> Options {
    Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 5, trials: 6 })
}

#[test]
fn correct_matrix_code_passes_in_both_modes() {
    let full = matrix_gradcheck(loss, &inputs(), &Options::for_precision::<f64>()).unwrap();
    assert_eq!(full.comparisons, 12 + 3 + 20);
    assert!(full.max_fd_error < 1e-8, "{full:?}");
    let fast = matrix_gradcheck(loss, &inputs(), &fast()).unwrap();
    assert_eq!(fast.comparisons, 6);
}

#[test]
fn a_wrong_derivative_is_caught_and_located() {
    // x² with the derivative 3x instead of 2x, on the second input only: the first mismatch is
    // that input's first entry, numbered after the 12 entries of the first.
    let wrong = |p: &[MatVar<f64>]| {
        let square = p[1].map_with_derivative(|x| (x * x, 3.0 * x));
        (p[0] * p[2]).sum() + square.sum()
    };
    let m = matrix_gradcheck(wrong, &inputs(), &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(m.comparison, Comparison::ReverseVsFiniteDifference);
    // entry 0 of the bias is −0.05: reverse 3x = −0.15, finite difference 2x = −0.1
    assert_eq!((m.input, m.output), (Some(12), Some(0)));
    assert_eq!(m.matrix_entry, Some((1, 0, 0)));
    assert!(
        m.to_string().contains("∂f/∂inputs[1][(0, 0)] (entry 12 "),
        "{m}"
    );
    assert!((m.reverse.unwrap() + 0.15).abs() < 1e-12, "{m}");
    assert!((m.finite_difference.unwrap() + 0.1).abs() < 1e-8, "{m}");
    // Fast mode: a random direction, no entry named (as gradcheck's fast mode).
    let m = matrix_gradcheck(wrong, &inputs(), &fast()).unwrap_err();
    assert_eq!((m.input, m.output, m.matrix_entry), (None, None, None));
    assert!(m.to_string().contains("random direction"), "{m}");
}

/// A wrong derivative at one entry inside a matrix is named by its row and column: (3, 4) of
/// the third input, a 4 × 5 matrix whose entries cos(0.21·(i + 2j)) take that value nowhere
/// else, is its entry 19 in column-major order, number 12 + 3 + 19 = 34 (from 0) of the list.
#[test]
fn a_wrong_entry_inside_a_matrix_is_named_by_row_and_column() {
    let target = inputs()[2][(3, 4)];
    assert_eq!(inputs()[2].iter().filter(|&&v| v == target).count(), 1);
    let wrong = move |p: &[MatVar<f64>]| {
        let square = p[2].map_with_derivative(move |x| {
            let slope = if x == target { 3.0 * x } else { 2.0 * x };
            (x * x, slope)
        });
        p[0].sum() + p[1].sum() + square.sum()
    };
    let m = matrix_gradcheck(wrong, &inputs(), &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!(m.matrix_entry, Some((2, 3, 4)), "{m}");
    assert_eq!(m.input, Some(12 + 3 + 19));
    assert!(m.to_string().contains("∂f/∂inputs[2][(3, 4)]"), "{m}");
}

#[test]
#[should_panic(expected = "matrix_gradcheck: Mode::Fast with 0 trials would check nothing")]
fn fast_mode_with_no_trial_panics() {
    let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 0, trials: 0 });
    let _ = matrix_gradcheck(|p| p[0].sum(), &[dmatrix![1.0]], &options);
}

#[test]
#[should_panic(expected = "must return a 1×1 matrix")]
fn a_loss_that_is_not_scalar_panics() {
    let _ = matrix_gradcheck(
        |p| p[0],
        &[dmatrix![1.0, 2.0]],
        &Options::for_precision::<f64>(),
    );
}

#[test]
#[should_panic(expected = "matrix_gradcheck: nothing to compare")]
fn inputs_without_entries_panic() {
    let _ = matrix_gradcheck(
        |p| p[0].sum(),
        &[DMatrix::<f64>::zeros(0, 3)],
        &Options::for_precision::<f64>(),
    );
}

#[test]
#[should_panic(expected = "matrix_gradcheck: entry (1, 0) of input 0 is not finite")]
fn matrix_gradcheck_refuses_an_infinite_entry() {
    // A hunt: in Mode::Fast it panicked with an internal message about a NaN fixed step.
    let x = dmatrix![1.0; f64::INFINITY];
    let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 2 });
    let _ = matrix_gradcheck(|m| m[0].tanh().sum(), &[x], &options);
}

/// `matrix::custom_rule`'s documented example, a Cholesky log-determinant, passes the check it
/// recommends when its input is symmetrised first, and fails it without (Cholesky reads the
/// lower triangle, the pullback `Ȳ·A⁻¹` assumes every entry: a user trial, −0.0909 against
/// −0.1818 at an off-diagonal entry).
#[test]
fn a_cholesky_custom_rule_checks_only_on_a_symmetrised_input() {
    use adroit_reverse::matrix::custom_rule;
    fn logdet(a: MatVar<f64>, symmetrise: bool) -> MatVar<f64> {
        let s = if symmetrise {
            (a + a.transpose()) * 0.5
        } else {
            a
        };
        let cholesky = s.value().cholesky().expect("symmetric positive definite");
        let logdet: f64 = 2.0 * cholesky.l().diagonal().iter().map(|d| d.ln()).sum::<f64>();
        let inverse = cholesky.inverse();
        custom_rule(&[s], dmatrix![logdet], move |g| vec![&inverse * g[(0, 0)]])
    }
    let a = dmatrix![4.0, 1.0, 0.5; 1.0, 3.0, -0.2; 0.5, -0.2, 2.0];
    let options = Options::for_precision::<f64>();
    matrix_gradcheck(|m| logdet(m[0], true), std::slice::from_ref(&a), &options).unwrap();
    assert!(matrix_gradcheck(|m| logdet(m[0], false), &[a], &options).is_err());
}

/// The loss of `loss` for every element type, and a version whose pullback is wrong in `f32`
/// only (`map_with_derivative` with slope `2x·1.1` when `T` is 4 bytes wide): what
/// `matrix_gradcheck_generic` is for, a rule or kernel of one precision.
struct Layer {
    f32_slope_off: bool,
}

impl adroit_check::MatrixFn for Layer {
    fn eval<T: adroit_reverse::matrix::MatScalar>(&self, p: &[MatVar<T>]) -> MatVar<T> {
        let c = |v: f64| T::from(v).unwrap();
        let h = (p[0] * p[2] + p[1]).tanh();
        let factor = if self.f32_slope_off && size_of::<T>() == 4 {
            c(1.1)
        } else {
            c(1.0)
        };
        let square = p[1].map_with_derivative(move |x| (x * x, c(2.0) * x * factor));
        h.logsoftmax(Along::Rows).mean() * c(-1.0) + square.sum()
    }
}

/// `matrix_gradcheck_generic`: the f32 gradient passes against f64 finite differences with
/// f32 tolerances (and the f64 one with f64's), in both modes; an error of the f32 path alone
/// (10 % of a slope) is caught there and located, and passes in f64.
#[test]
fn matrix_gradcheck_generic_checks_the_inputs_precision() {
    use adroit_check::matrix_gradcheck_generic;
    let right = Layer {
        f32_slope_off: false,
    };
    let wrong = Layer {
        f32_slope_off: true,
    };
    let narrow: Vec<DMatrix<f32>> = inputs().into_iter().map(|m| m.cast()).collect();
    let f32_options = Options::for_precision::<f32>();
    let report = matrix_gradcheck_generic(&right, &narrow, &f32_options).unwrap();
    assert_eq!(report.comparisons, 12 + 3 + 20);
    let fast32 = f32_options
        .clone()
        .with_mode(Mode::Fast { seed: 5, trials: 6 });
    assert_eq!(
        matrix_gradcheck_generic(&right, &narrow, &fast32)
            .unwrap()
            .comparisons,
        6
    );
    let report = matrix_gradcheck_generic(&right, &inputs(), &Options::for_precision::<f64>());
    assert!(report.unwrap().max_fd_error < 1e-8);

    let m = matrix_gradcheck_generic(&wrong, &narrow, &f32_options).unwrap_err();
    // the bias (−0.05, 0.05, 0.15): slopes 2x read 2.2x, first seen in the bias
    assert_eq!(m.matrix_entry.map(|(k, _, _)| k), Some(1), "{m}");
    assert!(matrix_gradcheck_generic(&wrong, &narrow, &fast32).is_err());
    assert!(matrix_gradcheck_generic(&wrong, &inputs(), &Options::for_precision::<f64>()).is_ok());
}

/// A fast-mode mismatch gives the random direction it compared `⟨∇f, U⟩` along.
#[test]
fn a_fast_mode_mismatch_gives_its_direction() {
    // Σ x⊙sg(x): the gradient sg(x) = x, half the true 2x.
    let x = vec![DMatrix::from_fn(3, 4, |i, j| {
        0.5 + 0.1 * (i + 4 * j) as f64
    })];
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 2, trials: 2 });
    let m = matrix_gradcheck(
        |m| m[0].component_mul(m[0].stop_gradient()).sum(),
        &x,
        &fast,
    )
    .unwrap_err();
    let u = m.direction.clone().expect("the direction");
    assert_eq!(u.len(), 12);
    let along: f64 = x[0].iter().zip(&u).map(|(a, b)| a * b).sum();
    assert!((m.reverse.unwrap() - along).abs() < 1e-12, "{m}");
    assert!(m.to_string().contains("for the direction u = ["), "{m}");
    assert!(m.to_string().contains("… 4 more]"), "{m}");
}
