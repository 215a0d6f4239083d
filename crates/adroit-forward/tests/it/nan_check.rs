//! `find_nan`: the first operation that makes a NaN from operands that are not, by rule name,
//! line, operands and derivatives; inputs, nesting, plain-number arithmetic, special functions.

use adroit_forward::num_traits::Float;
use adroit_forward::{NanCheck, NanOrigin, SpecialFunctions, find_nan};

/// The operation, operands and line of an origin that must be an operation's.
fn operation(origin: Option<NanOrigin>) -> (&'static str, Vec<f64>, u32) {
    match origin {
        Some(NanOrigin::Operation {
            operation,
            operands,
            location,
            ..
        }) => (operation, operands, location.line()),
        other => panic!("expected an operation, got {other:?}"),
    }
}

#[test]
fn the_first_nan_is_named_by_rule_operands_and_line() {
    let line = line!() + 3;
    let f = |x: &[NanCheck<f64>]| {
        let zero = x[0] - x[0];
        let q = zero / zero; // NaN: 0/0
        let later = (x[1] - 5.0).sqrt(); // another NaN, after the first
        q + later
    };
    let (op, operands, at) = operation(find_nan(f, &[1.0, 2.0]));
    assert_eq!((op, operands, at), ("Div", vec![0.0, 0.0], line));
    // Without the first, the second is named.
    let g = |x: &[NanCheck<f64>]| (x[1] - 5.0).sqrt() + x[0];
    assert_eq!(operation(find_nan(g, &[1.0, 2.0])).0, "Sqrt");
    // Finite code: nothing.
    assert_eq!(find_nan(|x| x[0].sin() * x[1].exp(), &[1.0, 2.0]), None);
}

#[test]
fn infinities_are_not_nan_but_inf_minus_inf_is() {
    // √0 has an infinite derivative, 1/0 an infinite value: not noted
    assert_eq!(find_nan(|x| x[0].sqrt() + x[0].recip(), &[0.0]), None);
    let (op, operands, _) = operation(find_nan(|x| x[0].recip() - x[0].recip(), &[0.0]));
    assert_eq!((op, operands), ("Sub", vec![f64::INFINITY, f64::INFINITY]));
}

#[test]
fn plain_number_arithmetic_and_special_functions() {
    // x · 0 is `scale`, ∞ · 0 is NaN
    let (op, _, _) = operation(find_nan(|x| x[0].exp() * 0.0, &[1000.0]));
    assert_eq!(op, "scale");
    let (op, operands, _) = operation(find_nan(|x| x[0].ndtri(), &[1.5]));
    assert_eq!((op, operands), ("Ndtri", vec![1.5]));
    let (op, _, _) = operation(find_nan(|x| x[0].acos() + x[0].ln(), &[2.0]));
    assert_eq!(op, "Acos");
    // f32
    let (op, operands, _) = operation(find_nan(|x| (x[0] - 3.0).ln(), &[1.0_f32]));
    assert_eq!((op, operands), ("Ln", vec![-2.0]));
}

#[test]
fn a_nan_input_and_nested_calls() {
    assert_eq!(
        find_nan(|x| x[0] + x[1], &[1.0, f64::NAN]),
        Some(NanOrigin::Input { index: 1 })
    );
    // An inner call reports its own first NaN and leaves the outer call's alone.
    let outer = find_nan(
        |x| {
            let first = x[0].ln(); // the outer call's first NaN (ln of −1)
            let inner = find_nan(|y| y[0].sqrt(), &[-4.0]);
            assert_eq!(operation(inner).1, vec![-4.0]);
            first + x[0].sqrt()
        },
        &[-1.0],
    );
    assert_eq!(operation(outer).0, "Ln");
    // Outside `find_nan` nothing is noted, and a later call starts clean.
    let nan = NanCheck::new(-1.0_f64).sqrt();
    assert!(nan.value().is_nan());
    assert_eq!(find_nan(|x| x[0] * 2.0, &[3.0]), None);
}

#[test]
fn a_nan_derivative_of_a_finite_value_is_noted() {
    // Generic code the same as for duals: the origin's derivative is reported too.
    let origin = find_nan(|x| x[0].powf(x[1]), &[-8.0, 1.0 / 3.0]);
    match origin {
        Some(NanOrigin::Operation {
            operation,
            value,
            derivatives,
            ..
        }) => {
            assert_eq!(operation, "Powf");
            assert!(value.is_nan() || derivatives.iter().any(|d| d.is_nan()));
        }
        other => panic!("{other:?}"),
    }
    // The Display line names it all.
    let text = find_nan(|x| x[0].ln(), &[-1.0]).unwrap().to_string();
    assert!(
        text.starts_with("Ln at ") && text.contains("of [-1.0] gave NaN"),
        "{text}"
    );
}

#[test]
fn nalgebra_code_runs_on_checking_numbers() {
    use adroit_forward::nalgebra::{DMatrix, DVector};
    // ln det A of a matrix whose determinant is negative: nalgebra's LU on NanCheck numbers
    let origin = find_nan(
        |x| {
            let a = DMatrix::from_row_slice(2, 2, &[x[0], x[1], x[1], x[0]]);
            let v = DVector::from_column_slice(x);
            (a.determinant() + v.dot(&v) * 0.0).ln()
        },
        &[1.0, 2.0],
    );
    let (op, operands, _) = operation(origin);
    assert_eq!(op, "Ln");
    assert!((operands[0] + 3.0).abs() < 1e-12, "{operands:?}");
}

/// From a review: nalgebra's `RealField` methods and the provided `digamma` reported lines
/// inside the library; each names the caller's line now.
#[test]
fn locations_are_the_callers_lines() {
    use adroit_forward::nalgebra::RealField;
    fn root<T: RealField>(x: T) -> T {
        x.sqrt()
    }
    let line = line!() - 2;
    let at = |origin| operation(origin).2;
    assert_eq!(at(find_nan(|x| root(x[0] - 5.0), &[1.0])), line);
    // (`Iterator::sum` is not `#[track_caller]`: a sum names a line inside the libraries)
    let line = line!() + 1;
    let origin = find_nan(|x| (x[0] - 2.0).digamma(), &[1.0]);
    let (op, _, l) = operation(origin);
    assert_eq!((op, l), ("Polygamma", line));
}

/// A NaN constant is not an operation: nothing made it from NaN-free operands (documented).
#[test]
fn a_nan_constant_is_not_an_origin() {
    assert_eq!(find_nan(|x| x[0] + NanCheck::new(f64::NAN), &[1.0]), None);
}

/// Code written once over `Decompositions` (a trial's loss): the largest singular value minus
/// 3 under a square root, NaN where σ₁ < 3.
fn top_root<S: adroit_forward::Decompositions>(x: &[S]) -> S {
    let a = nalgebra::DMatrix::from_row_slice(2, 2, &[x[0], x[1], x[1], x[0]]);
    let s = S::svd(&a).1[0] - nalgebra::convert::<f64, S>(3.0);
    s.sqrt()
}

#[test]
fn decompositions_run_on_checking_numbers() {
    // at (2, 2): σ₁ = 4, no NaN, the same value as on f64
    assert_eq!(find_nan(|x| top_root(x), &[2.0_f64, 2.0]), None);
    let checked = top_root(&[NanCheck::new(2.0_f64), NanCheck::new(2.0)]);
    assert_eq!(checked.value(), top_root(&[2.0_f64, 2.0]));
    // at (1, 0.5): σ₁ = 1.5, √(−1.5) in the user's function (`sqrt` on RealField's path)
    let (op, operands, _) = operation(find_nan(|x| top_root(x), &[1.0_f64, 0.5]));
    assert_eq!(op, "Sqrt");
    assert!((operands[0] + 1.5).abs() < 1e-12, "{operands:?}");
    // an infinite entry: every result NaN, noted as the decomposition's, at the caller's line
    let line = line!() + 3;
    let svd_of_inf = |x: &[NanCheck<f32>]| {
        let a = nalgebra::DMatrix::from_row_slice(1, 2, &[x[0] / x[1], x[0]]);
        <NanCheck<f32> as adroit_forward::Decompositions>::svd(&a).1[0]
    };
    let (op, operands, at) = operation(find_nan(svd_of_inf, &[1.0_f32, 0.0]));
    assert_eq!((op, operands, at), ("Svd", vec![f64::INFINITY], line));
    let eigen_of_inf = |x: &[NanCheck<f64>]| {
        // the lower triangle is read: the upper entry's infinity is not an operand
        let a = nalgebra::DMatrix::from_row_slice(2, 2, &[x[0], x[0] / x[1], -x[0] / x[1], x[0]]);
        <NanCheck<f64> as adroit_forward::Decompositions>::symmetric_eigen(&a).0[0]
    };
    let (op, operands, _) = operation(find_nan(eigen_of_inf, &[1.0_f64, 0.0]));
    assert_eq!((op, operands), ("SymmetricEigen", vec![f64::NEG_INFINITY]));
}

/// Generic code bounded by `StopGradient` runs on the checking numbers too (a hunt, session
/// 61: `NanCheck` did not implement it); what follows the cut is still checked.
#[test]
fn stop_gradient_in_checked_code() {
    use adroit_forward::StopGradient;
    fn f<S: Float + StopGradient>(x: &[S]) -> S {
        let scale = x[0].stop_gradient();
        (x[1] / scale).ln()
    }
    assert_eq!(find_nan(|x| f(x), &[2.0, 3.0]), None);
    let origin = find_nan(|x| f(x), &[2.0, -3.0]).expect("ln of a negative number");
    assert!(origin.to_string().starts_with("Ln at "), "{origin}");
}
