//! Activations: derivatives (forward duals, i.e. the rule table) against finite differences and
//! reverse mode, stability for huge inputs, kink conventions, and the matrix application.

use adroit_check::fd::{self, FiniteDifference};
use adroit_nn::Activation;
use adroit_nn::activation::*;
use adroit_reverse::matrix;
use nalgebra::DMatrix;

type Scalar = fn(adroit_forward::Dual<f64>) -> adroit_forward::Dual<f64>;
type Plain = fn(f64) -> f64;
/// (name, generic function on duals, the same on f64, naive reference formula, kinks)
type Case = (&'static str, Scalar, Plain, Plain, Vec<f64>);

fn table() -> Vec<Case> {
    vec![
        (
            "sigmoid",
            sigmoid,
            sigmoid,
            |x| 1.0 / (1.0 + (-x).exp()),
            vec![],
        ),
        ("relu", relu, relu, |x| x.max(0.0), vec![0.0]),
        (
            "leaky_relu",
            |x| leaky_relu(x, adroit_forward::Dual::constant(0.01)),
            |x| leaky_relu(x, 0.01),
            |x| if x > 0.0 { x } else { 0.01 * x },
            vec![0.0],
        ),
        ("relu6", relu6, relu6, |x| x.clamp(0.0, 6.0), vec![0.0, 6.0]),
        (
            "elu",
            |x| elu(x, adroit_forward::Dual::constant(1.0)),
            |x| elu(x, 1.0),
            |x| if x > 0.0 { x } else { x.exp() - 1.0 },
            vec![0.0],
        ),
        (
            "selu",
            selu,
            selu,
            |x| {
                1.0507009873554805
                    * if x > 0.0 {
                        x
                    } else {
                        1.6732632423543772 * (x.exp() - 1.0)
                    }
            },
            vec![0.0],
        ),
        (
            "gelu_tanh",
            gelu_tanh,
            gelu_tanh,
            |x| {
                0.5 * x
                    * (1.0
                        + ((2.0 / std::f64::consts::PI).sqrt() * (x + 0.044715 * x.powi(3))).tanh())
            },
            vec![],
        ),
        ("swish", swish, swish, |x| x / (1.0 + (-x).exp()), vec![]),
        (
            "softplus",
            softplus,
            softplus,
            |x| (1.0 + x.exp()).ln(),
            vec![],
        ),
        (
            "softsign",
            softsign,
            softsign,
            |x| x / (1.0 + x.abs()),
            vec![],
        ),
        (
            "hard_sigmoid",
            hard_sigmoid,
            hard_sigmoid,
            |x| ((x + 3.0) / 6.0).clamp(0.0, 1.0),
            vec![-3.0, 3.0],
        ),
        (
            "hard_tanh",
            hard_tanh,
            hard_tanh,
            |x| x.clamp(-1.0, 1.0),
            vec![-1.0, 1.0],
        ),
        (
            "mish",
            mish,
            mish,
            |x| x * (1.0 + x.exp()).ln().tanh(),
            vec![],
        ),
        (
            "log_sigmoid",
            log_sigmoid,
            log_sigmoid,
            |x| (1.0 / (1.0 + (-x).exp())).ln(),
            vec![],
        ),
    ]
}

#[test]
fn values_and_derivatives_against_naive_formulas_and_finite_differences() {
    for (name, dual, plain, naive, kinks) in table() {
        for i in 0..81 {
            let x = -8.0 + 0.2 * i as f64 + 0.013;
            if kinks.iter().any(|k| (x - k).abs() < 0.05) {
                continue;
            }
            let y = dual(adroit_forward::Dual::variable(x));
            assert!(
                (y.value() - naive(x)).abs() <= 1e-12 * (1.0 + naive(x).abs()),
                "{name}({x}) value"
            );
            assert_eq!(plain(x), y.value(), "{name}({x}) f64 vs dual value");
            let margin = kinks
                .iter()
                .fold(0.04f64, |m, k| m.min((x - k).abs() / 2.0));
            let numeric = FiniteDifference::default()
                .with_max_range(margin)
                .estimate(naive, x);
            assert!(
                (y.tangent() - numeric).abs() <= 1e-7 * (1.0 + numeric.abs()),
                "{name}'({x}): {} vs {numeric}",
                y.tangent()
            );
            let reverse = adroit_reverse::gradient(|v| generic(name, v[0]), &[x])[0];
            assert!(
                (reverse - y.tangent()).abs() <= 1e-14 * (1.0 + reverse.abs()),
                "{name}'({x}) reverse"
            );
        }
    }
}

/// The same activations on reverse variables (generic dispatch by name).
fn generic<S: num_traits::Float>(name: &str, x: S) -> S {
    let c = |v: f64| S::from(v).unwrap();
    match name {
        "sigmoid" => sigmoid(x),
        "relu" => relu(x),
        "leaky_relu" => leaky_relu(x, c(0.01)),
        "relu6" => relu6(x),
        "elu" => elu(x, c(1.0)),
        "selu" => selu(x),
        "gelu_tanh" => gelu_tanh(x),
        "swish" => swish(x),
        "softplus" => softplus(x),
        "softsign" => softsign(x),
        "hard_sigmoid" => hard_sigmoid(x),
        "hard_tanh" => hard_tanh(x),
        "mish" => mish(x),
        "log_sigmoid" => log_sigmoid(x),
        _ => panic!("unknown activation {name}"),
    }
}

#[test]
fn finite_for_huge_inputs() {
    for (name, dual, _, _, _) in table() {
        for x in [-1000.0, 1000.0] {
            let y = dual(adroit_forward::Dual::variable(x));
            assert!(
                y.value().is_finite() && y.tangent().is_finite(),
                "{name}({x}) = {y}"
            );
        }
    }
    assert_eq!(sigmoid(-1000.0), 0.0);
    assert_eq!(log_sigmoid(-1000.0), -1000.0);
    assert_eq!(softplus(1000.0), 1000.0);
}

/// A NaN input gives a NaN output in every activation, as in NNlib and JAX (`max(NaN, 0)`
/// is NaN there): a diverging model must not be hidden behind a finite activation.
#[test]
fn nan_propagates() {
    for (name, dual, _, _, _) in table() {
        let y = dual(adroit_forward::Dual::variable(f64::NAN));
        assert!(y.value().is_nan(), "{name}(NaN) = {y}");
        assert!(generic(name, f64::NAN).is_nan(), "{name}(NaN) on f64");
        assert!(generic(name, f32::NAN).is_nan(), "{name}(NaN) on f32");
    }
    assert!(gelu_erf_with_derivative(f64::NAN).0.is_nan());
    // Through a layer's activation and the losses built on `relu`.
    let x = DMatrix::from_row_slice(1, 2, &[f64::NAN, 1.0]);
    let (v, _) = matrix::value_and_gradient(|p| Activation::Relu.apply(p[0]).sum(), &[x]);
    assert!(v.is_nan());
}

#[test]
fn kink_conventions() {
    let d = |f: Scalar, x: f64| f(adroit_forward::Dual::variable(x)).tangent();
    assert_eq!(d(relu, 0.0), 0.0, "relu'(0) = 0");
    assert_eq!(d(relu6, 6.0), 0.0);
    assert_eq!(d(hard_tanh, 1.0), 0.0);
    assert_eq!(d(hard_tanh, -1.0), 0.0);
    assert_eq!(d(hard_sigmoid, 3.0), 0.0);
    assert_eq!(d(hard_sigmoid, -3.0), 0.0);
    // The floats next to ±3 on the inside have slope ⅙ (PyTorch's mask `-3 < x < 3`), though
    // `x + 3` rounds to 6 just below 3.
    let below_three = 3.0 - 2.0 * f64::EPSILON; // the float below 3 (ulp = 2ε in [2, 4))
    assert!(below_three < 3.0 && below_three + 3.0 == 6.0);
    assert_eq!(d(hard_sigmoid, below_three), 1.0 / 6.0);
    assert_eq!(d(hard_sigmoid, -below_three), 1.0 / 6.0);
    let below_three_f32 = 3.0 - 2.0 * f32::EPSILON;
    assert!(below_three_f32 + 3.0 == 6.0);
    let d32 = adroit_forward::Dual::variable(below_three_f32);
    assert_eq!(hard_sigmoid(d32).tangent(), 1.0 / 6.0);
    assert_eq!(hard_sigmoid(below_three), 1.0);
    assert_eq!(d(softplus, 0.0), 0.5);
    assert_eq!(d(softsign, 0.0), 1.0);
    // At NaN: the slope of the piece that passes the NaN on (the module's docs).
    let nan = |f: Scalar, slope: f64| {
        let y = f(adroit_forward::Dual::variable(f64::NAN));
        assert!(y.value().is_nan() && y.tangent() == slope, "{y}");
    };
    nan(relu, 1.0);
    nan(relu6, 1.0);
    nan(hard_tanh, 1.0);
    nan(hard_sigmoid, 1.0 / 6.0);
}

#[test]
fn gelu_erf_is_generic_with_derivatives_from_the_rules() {
    use adroit_forward::{HyperDual, second_derivative};
    // GELU'' = φ(x)·(2 − x²), φ the standard normal density.
    let phi = |x: f64| (-0.5 * x * x).exp() / (2.0 * std::f64::consts::PI).sqrt();
    for x in [-7.5, -2.0, -0.3, 0.0, 0.8, 3.0] {
        let (v, d) = gelu_erf_with_derivative(x);
        // reverse mode (Var<f64>) and forward mode agree with the one-pass form, to the
        // rounding of their different product orders (the chain's factors associate from the
        // input in forward mode, from the output in reverse)
        let reverse: f64 = adroit_reverse::gradient(|p| gelu_erf(p[0]), &[x])[0];
        assert!(
            (reverse - d).abs() <= 4.0 * f64::EPSILON * d.abs(),
            "gelu_erf'({x}): reverse {reverse:e}, forward {d:e}"
        );
        assert_eq!(gelu_erf(x), v);
        let d2 = second_derivative(|u: HyperDual<f64>| gelu_erf(u), x);
        let want = phi(x) * (2.0 - x * x);
        assert!(
            (d2 - want).abs() <= 1e-14 * want.abs() + 1e-300,
            "gelu_erf''({x}) = {d2} vs {want}"
        );
        // f32 through the same code
        let (v32, d32) = gelu_erf_with_derivative(x as f32);
        assert!(
            (f64::from(v32) - v).abs() <= 1e-6 * (1.0 + v.abs()),
            "f32 value at {x}"
        );
        assert!(
            (f64::from(d32) - d).abs() <= 1e-6 * (1.0 + d.abs()),
            "f32 slope at {x}"
        );
    }
}

#[test]
fn gelu_erf_against_the_tanh_form_and_finite_differences() {
    for i in 0..41 {
        let x = -4.0 + 0.2 * i as f64 + 0.01;
        let (v, d) = gelu_erf_with_derivative(x);
        assert!(
            (v - gelu_tanh(x)).abs() < 1e-3,
            "the tanh form approximates the exact one"
        );
        let numeric = fd::derivative(|t: f64| gelu_erf_with_derivative(t).0, x);
        assert!(
            (d - numeric).abs() < 1e-9,
            "gelu_erf'({x}): {d} vs {numeric}"
        );
    }
}

/// GELU's exact form in `f32` keeps its digits in the negative tail, the scalar function
/// (through `Dual<f32>`) and the layer's vectorised kernel alike: values and derivatives
/// within 4 ulp of mpmath's `x·Φ(x)` and `Φ(x) + x·φ(x)` rounded to `f32` at these points
/// (`x·½·erfc(−x/√2)` in `f32` magnifies the rounding of `x/√2` by `x²`: 6 ulp off at
/// `x = −3`, 195 at `−12.99` over every `f32` of `[−13, −12]`).
#[test]
fn gelu_erf_in_f32_is_accurate_in_the_tail() {
    // (x, value, derivative): mpmath at 30 digits, rounded to f32.
    let references: [(f32, f32, f32); 6] = [
        (-10.0, -7.619_853e-23, -7.618_4e-22),
        (-7.5, -2.393_168_7e-13, -1.793_831_5e-12),
        (-5.0, -1.433_257_8e-6, -7.146_946e-6),
        (-3.0, -0.004_049_694, -0.011_945_647),
        (-0.75, -0.169_970_51, 0.000_774_278_25),
        (2.0, 1.954_499_7, 1.085_231_8),
    ];
    let ulps = |a: f32, b: f32| (a.to_bits() as i64 - b.to_bits() as i64).unsigned_abs();
    let x = DMatrix::from_iterator(6, 1, references.iter().map(|r| r.0));
    let (y, pb) = matrix::pullback(
        |m| Activation::GeluErf.apply(m[0]),
        std::slice::from_ref(&x),
    );
    let d = pb.call(&DMatrix::from_element(6, 1, 1.0)).remove(0);
    for (i, &(x, value, slope)) in references.iter().enumerate() {
        let (v, s) = gelu_erf_with_derivative(x);
        for (what, got, want) in [
            ("scalar value", v, value),
            ("scalar derivative", s, slope),
            ("layer value", y[i], value),
            ("layer derivative", d[i], slope),
        ] {
            // Near its zero (x ≈ −0.75) the derivative Φ(x) + x·φ(x) cancels: 4 ulp of its
            // terms' size (≈ 0.23, ulp 2⁻²⁶) there.
            let near_zero = x == -0.75 && what.ends_with("derivative");
            let close =
                ulps(got, want) <= 4 || (near_zero && (got - want).abs() <= 4.0 * 2f32.powi(-26));
            assert!(close, "{what} at {x}: {got:e} against {want:e}");
        }
    }
}

#[test]
fn matrix_application_matches_the_scalar_functions() {
    let x = DMatrix::from_fn(3, 4, |i, j| i as f64 - 1.3 * j as f64 + 0.37);
    let cases: Vec<(Activation, Plain)> = vec![
        (Activation::Sigmoid, sigmoid),
        (Activation::Relu, relu),
        (Activation::Swish, swish),
        (Activation::Mish, mish),
        (Activation::Selu, selu),
        (Activation::Identity, |v| v),
        (Activation::Tanh, f64::tanh),
    ];
    for (act, f) in cases {
        let (y, g) =
            matrix::value_and_gradient(|m| act.apply(m[0]).sum(), std::slice::from_ref(&x));
        assert!((y - x.map(f).sum()).abs() < 1e-12, "{act:?}");
        let numeric = fd::gradient(
            |v: &[f64]| v.iter().map(|&t| f(t)).sum::<f64>(),
            x.as_slice(),
        );
        for (a, b) in g[0].iter().zip(&numeric) {
            assert!((a - b).abs() < 1e-7, "{act:?}: {a} vs {b}");
        }
    }
    // Softmax over each column (features of a sample) sums to 1.
    let (y, _) = matrix::pullback(
        |m| Activation::Softmax.apply(m[0]),
        std::slice::from_ref(&x),
    );
    for col in y.column_iter() {
        assert!((col.sum() - 1.0).abs() < 1e-14);
    }
}
