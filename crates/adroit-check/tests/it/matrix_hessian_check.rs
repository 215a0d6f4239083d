//! `matrix_hessian_check`: second derivatives of matrix-tape code against finite differences
//! of its gradient — correct losses pass in both modes; a derivative right to first order but
//! constant to the second (the trap of a derivative taken as a plain number) is caught and
//! located, where `matrix_gradcheck` passes it.

use adroit_check::{
    Comparison, MatrixFn, Mode, Options, matrix_fn, matrix_gradcheck, matrix_hessian_check,
};
use adroit_reverse::matrix::{self, Along, MatScalar, MatVar};
use nalgebra::{DMatrix, dmatrix};

fn inputs() -> Vec<DMatrix<f64>> {
    vec![
        DMatrix::from_fn(3, 2, |i, j| ((i * 2 + j) as f64 * 0.37).sin()),
        DMatrix::from_fn(3, 1, |i, _| 0.1 * i as f64 - 0.05),
    ]
}

/// A softmax cross-entropy of a tanh layer over a fixed batch, plus a softplus penalty.
struct Network;

impl MatrixFn for Network {
    fn eval<T: MatScalar>(&self, p: &[MatVar<T>]) -> MatVar<T> {
        let x = MatVar::constant(
            DMatrix::from_fn(2, 4, |i, j| ((i + 3 * j) as f64 * 0.21).cos()).cast(),
        );
        let h = p[0].affine(x, p[1]).tanh();
        let penalty = p[0].map(|w| adroit_forward::log_exp::log1p_exp(w));
        -h.logsoftmax(Along::Rows).mean() + penalty.sum() * T::from(0.01).unwrap()
    }
}

fn fast() -> Options {
    Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 5, trials: 6 })
}

#[test]
fn correct_matrix_code_passes_in_both_modes() {
    let full = matrix_hessian_check(&Network, &inputs(), &Options::for_precision::<f64>()).unwrap();
    assert_eq!(full.comparisons, 2 * 9 * 9);
    assert!(full.max_fd_error < 1e-7, "{full:?}");
    let fast = matrix_hessian_check(&Network, &inputs(), &fast()).unwrap();
    assert_eq!(fast.comparisons, 2 * 6);
}

/// `Σ x³` entry by entry with the derivative `3x²` formed from the entries' plain values when
/// `constant_derivative` (right to first order; to the second a constant, so the Hessian's
/// diagonal comes out 0 instead of `6x`), else in `T`'s arithmetic.
fn cubes<T: MatScalar>(m: MatVar<T>, constant_derivative: bool) -> MatVar<T> {
    m.map_with_derivative(|x| {
        let three = T::from(3.0).unwrap();
        let d = if constant_derivative {
            T::from(3.0 * x.to_f64().unwrap().powi(2)).unwrap()
        } else {
            three * x * x
        };
        (x * x * x, d)
    })
    .sum()
}

#[test]
fn a_derivative_constant_to_second_order_is_caught_and_located() {
    let right = matrix_fn!(|m| cubes(m[0], false) + m[1].sum());
    let wrong = matrix_fn!(|m| cubes(m[0], true) + m[1].sum());
    let x = inputs();
    let options = Options::for_precision::<f64>();
    // first order: both right
    assert!(matrix_gradcheck(|m| wrong.eval(m), &x, &options).is_ok());
    assert!(matrix_hessian_check(&right, &x, &options).is_ok());
    let mismatch = matrix_hessian_check(&wrong, &x, &options).unwrap_err();
    assert_eq!(mismatch.comparison, Comparison::ReverseVsFiniteDifference);
    assert!(mismatch.second_order);
    // the first entry with x ≠ 0: (0, 0) of the first input is sin(0) = 0, so 6x = 0 there
    assert_eq!((mismatch.output, mismatch.input), (Some(1), Some(1)));
    // entry 1 of the inputs in order is row 1, column 0 of the first (3 × 2) matrix
    let entry = Some((0, 1, 0));
    assert_eq!(
        (mismatch.matrix_row_entry, mismatch.matrix_entry),
        (entry, entry)
    );
    let expected = 6.0 * x[0][1];
    assert!(
        (mismatch.finite_difference.unwrap() - expected).abs() < 1e-6,
        "{mismatch}"
    );
    assert_eq!(mismatch.reverse, Some(0.0));
    let text = mismatch.to_string();
    assert!(
        text.contains("second-derivative mismatch")
            && text.contains("∂²f/∂inputs[0][(1, 0)]∂inputs[0][(1, 0)] (entries 1 and 1"),
        "{text}"
    );
    // fast mode sees it along a random direction pair
    let fast = matrix_hessian_check(&wrong, &x, &fast()).unwrap_err();
    assert!(fast.second_order && fast.input.is_none());
}

#[test]
fn the_check_uses_the_hessian_functions_of_the_matrix_tape() {
    // its reference, recomputed here: central differences of the gradient
    let x = inputs();
    let h = matrix::hessian(|m| Network.eval(m), &x);
    let flat: Vec<f64> = x.iter().flat_map(|m| m.iter().copied()).collect();
    let gradient_at = |p: &[f64]| -> Vec<f64> {
        let matrices = [
            DMatrix::from_column_slice(3, 2, &p[..6]),
            DMatrix::from_column_slice(3, 1, &p[6..]),
        ];
        let g = matrix::gradient(|m| Network.eval(m), &matrices);
        g.iter().flat_map(|m| m.iter().copied()).collect()
    };
    let fd = adroit_check::fd::jacobian(gradient_at, &flat);
    assert!((&h - &fd).amax() < 1e-7, "{h}\nvs\n{fd}");
}

#[test]
#[should_panic(expected = "matrix_hessian_check: nothing to compare")]
fn inputs_without_entries_panic() {
    let f = matrix_fn!(|m| m[0].sum());
    let _ = matrix_hessian_check(
        &f,
        &[DMatrix::zeros(0, 2)],
        &Options::for_precision::<f64>(),
    );
}

#[test]
#[should_panic(expected = "entry (1, 0) of input 0 is not finite")]
fn a_non_finite_entry_panics() {
    let f = matrix_fn!(|m| m[0].sum());
    let x = dmatrix![1.0; f64::NAN];
    let _ = matrix_hessian_check(&f, &[x], &Options::for_precision::<f64>());
}

#[test]
#[should_panic(expected = "trials")]
fn fast_mode_without_trials_panics() {
    let f = matrix_fn!(|m| m[0].sum());
    let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 0, trials: 0 });
    let _ = matrix_hessian_check(&f, &[dmatrix![1.0]], &options);
}

#[test]
fn captured_data_reach_the_function() {
    let weights = dmatrix![1.0, -2.0];
    let f = matrix_fn!([weights: DMatrix<f64>, scale: f64 = 0.5] |m| {
        let w = MatVar::constant(weights.clone().cast());
        m[0].component_mul(m[0]).component_mul(w).sum() * T::from(*scale).unwrap()
    });
    // H = diag(2·w·scale) = diag(1, −2)
    let h = matrix::hessian(|m| f.eval(m), &[dmatrix![0.3, 0.7]]);
    assert_eq!(h, dmatrix![1.0, 0.0; 0.0, -2.0]);
    assert!(
        matrix_hessian_check(&f, &[dmatrix![0.3, 0.7]], &Options::for_precision::<f64>()).is_ok()
    );
}

#[test]
fn tolerances_scale_with_the_loss() {
    // a review's cases: the trap scaled by 1e-8 passed under the fixed atol, and a correct
    // tanh layer scaled by 1e6 failed an exact zero against the differences' noise
    let x = inputs();
    let options = Options::for_precision::<f64>();
    let tiny_wrong = matrix_fn!(|m| (cubes(m[0], true) + m[1].sum()) * T::from(1e-8).unwrap());
    let tiny_right = matrix_fn!(|m| (cubes(m[0], false) + m[1].sum()) * T::from(1e-8).unwrap());
    assert!(matrix_hessian_check(&tiny_wrong, &x, &options).is_err());
    assert!(matrix_hessian_check(&tiny_right, &x, &options).is_ok());
    let huge = matrix_fn!(|m| {
        let y = m[0].matmul(m[1].transpose()).tanh();
        y.component_mul(y).sum() * T::from(1e6).unwrap()
    });
    let y = vec![mat_of(3, 2, 0.4), mat_of(3, 2, -0.7)];
    assert!(matrix_hessian_check(&huge, &y, &options).is_ok());
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 2, trials: 4 });
    assert!(matrix_hessian_check(&huge, &y, &fast).is_ok());
    assert!(matrix_hessian_check(&tiny_wrong, &x, &fast).is_err());
}

/// A `rows × cols` matrix of distinct entries around `shift`.
fn mat_of(rows: usize, cols: usize, shift: f64) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |i, j| {
        shift + 0.3 * ((i * cols + j) as f64 * 1.7).sin()
    })
}

#[test]
fn a_stiff_block_does_not_hide_a_wrong_entry_in_full_mode() {
    // k·x² + Σy³ with the cubes' derivative constant to second order (3 for 6 at y = 1)
    let stiff =
        matrix_fn!(|m| m[0].component_mul(m[0]).sum() * T::from(1e8).unwrap() + cubes(m[1], true));
    let x = vec![dmatrix![1.0], dmatrix![1.0]];
    let mismatch = matrix_hessian_check(&stiff, &x, &Options::for_precision::<f64>()).unwrap_err();
    assert_eq!((mismatch.output, mismatch.input), (Some(1), Some(1)));
    // named as entries of the input matrices too
    let named = "∂²f/∂inputs[1][(0, 0)]∂inputs[1][(0, 0)] (entries 1 and 1 of the inputs";
    assert!(mismatch.to_string().contains(named), "{mismatch}");
}

/// ½·a·x² + x·y + ½y² with `eps·(x − sg x)(y − sg y)` added: value and gradient exact
/// everywhere, the cross second derivative `1 + eps` (symmetric) where the differences see 1.
struct StiffBesideWrong {
    a: f64,
    eps: f64,
}

impl MatrixFn for StiffBesideWrong {
    fn eval<T: MatScalar>(&self, m: &[MatVar<T>]) -> MatVar<T> {
        let c = |v: f64| T::from(v).unwrap();
        let (x, y) = (m[0], m[1]);
        let (dx, dy) = (x - x.stop_gradient(), y - y.stop_gradient());
        (x.component_mul(x) * c(0.5 * self.a)
            + x.component_mul(y)
            + y.component_mul(y) * c(0.5)
            + dx.component_mul(dy) * c(self.eps))
        .sum()
    }
}

#[test]
fn a_stiff_entry_does_not_hide_a_wrong_entry_in_its_row() {
    // A review's case: beside ∂²f/∂x² = 1e6, a cross entry 5 % off passed (its scale was the
    // stiff row's); 1e-4 off is caught now (the other row differences it), and exact passes.
    let x = vec![dmatrix![0.3], dmatrix![-0.7]];
    let options = Options::for_precision::<f64>();
    for eps in [5e-2, 1e-4] {
        let f = StiffBesideWrong { a: 1e6, eps };
        let m = matrix_hessian_check(&f, &x, &options).expect_err("a wrong cross entry");
        assert_eq!((m.output, m.input), (Some(1), Some(0)), "{m}");
        // the message says how the tolerance was scaled (row 1's largest entry: 1 + eps)
        let note = format!("atol 1e-7 × {:e} (the largest second derivative", 1.0 + eps);
        assert!(m.to_string().contains(&note), "{m}");
    }
    let exact = StiffBesideWrong { a: 1e6, eps: 0.0 };
    assert!(matrix_hessian_check(&exact, &x, &options).is_ok());
}

#[test]
fn fast_mode_allows_for_the_rounding_of_a_steep_gradient() {
    // 1e8·Σx + ½Σx⊙x: Hessian exactly I, gradient entries near 1e8
    let steep = matrix_fn!(|m| m[0].sum() * T::from(1e8).unwrap()
        + m[0].component_mul(m[0]).sum() * T::from(0.5).unwrap());
    let x = vec![mat_of(3, 2, 0.2)];
    let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 3, trials: 8 });
    assert!(matrix_hessian_check(&steep, &x, &fast).is_ok());
    assert!(matrix_hessian_check(&steep, &x, &Options::for_precision::<f64>()).is_ok());
}

#[test]
fn full_mode_allows_for_the_rounding_of_a_steep_gradient() {
    // a review's case: ½(x − 1e7)² + Σ cos x, exact Hessian I − diag(cos x), gradients near 1e7
    let steep = matrix_fn!([c0: f64 = 1e7] |m| {
        let d = m[0] - T::from(*c0).unwrap();
        d.component_mul(d).sum() * T::from(0.5).unwrap() + m[0].map(|v| v.cos()).sum()
    });
    let x = vec![dmatrix![0.5; 0.25; -1.3]];
    assert!(matrix_hessian_check(&steep, &x, &Options::for_precision::<f64>()).is_ok());
    // and still sees a second derivative lost under the same steep gradient
    let wrong = matrix_fn!([c0: f64 = 1e7] |m| {
        let d = m[0] - T::from(*c0).unwrap();
        d.component_mul(d).sum() * T::from(0.5).unwrap() + cubes(m[0], true)
    });
    assert!(matrix_hessian_check(&wrong, &x, &Options::for_precision::<f64>()).is_err());
}

/// `x₀·x₁` recorded with a pullback that is no gradient: `(x₁, 2x₀)`, whose Jacobian (the
/// Hessian forward-over-reverse finds, and the differences of the gradient agree with) is
/// `[[0, 1], [2, 0]]`; with `zero_above`, `(x₀, 2x₀)`: `[[1, 0], [2, 0]]`.
struct NotAGradient {
    zero_above: bool,
}

impl MatrixFn for NotAGradient {
    fn eval<T: MatScalar>(&self, p: &[MatVar<T>]) -> MatVar<T> {
        let x = p[0].value();
        let value = DMatrix::from_element(1, 1, x[0] * x[1]);
        let zero_above = self.zero_above;
        matrix::custom_rule(&[p[0]], value, move |g| {
            let two = T::from(2.0).unwrap();
            let first = if zero_above { x[0] } else { x[1] };
            vec![DMatrix::from_column_slice(
                2,
                1,
                &[g[0] * first, g[0] * two * x[0]],
            )]
        })
    }
}

#[test]
fn a_symmetry_failure_shows_both_entries() {
    let x = [dmatrix![0.5; -1.5]];
    let options = Options::for_precision::<f64>();
    let m = matrix_hessian_check(&NotAGradient { zero_above: false }, &x, &options).unwrap_err();
    assert_eq!(m.comparison, Comparison::Symmetry);
    assert_eq!((m.output, m.input), (Some(1), Some(0)));
    assert_eq!((m.reverse, m.transposed), (Some(2.0), Some(1.0)));
    // The entry passed its finite difference; the symmetry report does not carry it.
    assert_eq!(m.finite_difference, None);
    let text = m.to_string();
    assert!(
        text.contains("transposed entry") && text.contains("Hessian symmetry"),
        "{text}"
    );
    // against a transposed entry of 0 the relative error is infinite, and says why
    let m = matrix_hessian_check(&NotAGradient { zero_above: true }, &x, &options).unwrap_err();
    assert_eq!((m.reverse, m.transposed), (Some(2.0), Some(0.0)));
    assert!(
        m.to_string()
            .contains("relative ∞ (the reference is 0 or subnormal)"),
        "{m}"
    );
}

/// `Σ (√x)² = Σ x`: a Hessian of 0 whose products come out at rounding level; fast mode passed
/// its differences but failed its symmetry on the products' last bits (−2.8e-17 against
/// 4.4e-17, a tolerance of 1e-28), before the symmetry allowed for the same rounding.
#[test]
fn a_zero_hessian_up_to_rounding_passes_fast_mode_symmetry() {
    let f = matrix_fn!(|m| {
        let y = m[0].sqrt();
        y.component_mul(y).sum()
    });
    let x = DMatrix::from_fn(2, 3, |i, j| 0.2 + 2.8 * ((i * 3 + j) as f64 + 0.5) / 6.0);
    let options = Options::for_precision::<f64>();
    assert!(matrix_hessian_check(&f, std::slice::from_ref(&x), &options).is_ok());
    for seed in 0..8 {
        let fast = options.clone().with_mode(Mode::Fast { seed, trials: 4 });
        if let Err(m) = matrix_hessian_check(&f, std::slice::from_ref(&x), &fast) {
            panic!("seed {seed}: {m}");
        }
    }
}
