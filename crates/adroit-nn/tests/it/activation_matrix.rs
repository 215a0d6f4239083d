//! Every [`Activation`] variant through the matrix path (`Activation::apply` on a `MatVar`):
//! values and vector–Jacobian products at inputs of ±1000 in `f32` and `f64` against the
//! functions' limits worked out by hand (and, for the column-wise softmax and log-softmax,
//! against a max-shifted reference computed here in `f64`); and gradients of `Softmax`,
//! `LogSoftmax` and `GeluErf` at moderate inputs against finite differences of plain-`f64`
//! formulas written out here.

use adroit_check::fd;
use adroit_nn::{Activation, MatScalar};
use adroit_reverse::matrix;
use nalgebra::DMatrix;

fn to64<T: MatScalar>(v: T) -> f64 {
    num_traits::ToPrimitive::to_f64(&v).unwrap()
}

fn from64<T: MatScalar>(v: f64) -> T {
    <T as num_traits::NumCast>::from(v).unwrap()
}

const LAMBDA: f64 = 1.050_700_987_355_480_5;
const ALPHA: f64 = 1.673_263_242_354_377_3;

/// Every entry-wise variant with its value and derivative at `+1000` and at `−1000`, from the
/// limits of the definitions (e.g. `σ(1000) = 1`, `σ'(±1000) = 0`, `softsign'(±1000) = 1/1001²`,
/// `selu(−1000) = −λα`, `leaky_relu'(−1000) = a`).
fn elementwise_limits() -> Vec<(Activation, [(f64, f64); 2])> {
    let ss = 1000.0 / 1001.0;
    let dss = 1.0 / (1001.0 * 1001.0);
    vec![
        (Activation::Identity, [(1000.0, 1.0), (-1000.0, 1.0)]),
        (Activation::Sigmoid, [(1.0, 0.0), (0.0, 0.0)]),
        (Activation::Tanh, [(1.0, 0.0), (-1.0, 0.0)]),
        (Activation::Relu, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::LeakyRelu(0.01), [(1000.0, 1.0), (-10.0, 0.01)]),
        (Activation::Relu6, [(6.0, 0.0), (0.0, 0.0)]),
        (Activation::Elu(1.0), [(1000.0, 1.0), (-1.0, 0.0)]),
        (
            Activation::Selu,
            [(LAMBDA * 1000.0, LAMBDA), (-LAMBDA * ALPHA, 0.0)],
        ),
        (Activation::GeluTanh, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::GeluErf, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::Swish, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::Softplus, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::Softsign, [(ss, dss), (-ss, dss)]),
        (Activation::HardSigmoid, [(1.0, 0.0), (0.0, 0.0)]),
        (Activation::HardTanh, [(1.0, 0.0), (-1.0, 0.0)]),
        (Activation::Mish, [(1000.0, 1.0), (0.0, 0.0)]),
        (Activation::LogSigmoid, [(0.0, 0.0), (-1000.0, 1.0)]),
    ]
}

/// Inputs of ±1000 only (3 × 4), and a cotangent with distinct entries of both signs.
fn huge_input() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_row_slice(
        3,
        4,
        &[
            1000.0, -1000.0, 1000.0, -1000.0, //
            1000.0, -1000.0, -1000.0, 1000.0, //
            1000.0, -1000.0, -1000.0, 1000.0,
        ],
    );
    let w = DMatrix::from_fn(3, 4, |i, j| 0.5 + i as f64 - 0.75 * j as f64);
    (x, w)
}

fn check_elementwise_at_1000<T: MatScalar>(tol: f64) {
    let (x, w) = huge_input();
    let (xt, wt) = (x.map(from64::<T>), w.map(from64::<T>));
    for (act, limits) in elementwise_limits() {
        let (y, pb) = matrix::pullback(|m| act.apply(m[0]), std::slice::from_ref(&xt));
        let g = pb.call(&wt).remove(0);
        for k in 0..x.len() {
            let (value, derivative) = limits[usize::from(x[k] < 0.0)];
            let (yk, gk) = (to64(y[k]), to64(g[k]));
            assert!(
                yk.is_finite() && gk.is_finite(),
                "{act:?} ({}) at {}: value {yk}, gradient {gk}",
                std::any::type_name::<T>(),
                x[k]
            );
            assert!(
                (yk - value).abs() <= tol * (1.0 + value.abs()),
                "{act:?} ({}) at {}: value {yk} vs limit {value}",
                std::any::type_name::<T>(),
                x[k]
            );
            let expected = w[k] * derivative;
            assert!(
                (gk - expected).abs() <= tol * (1.0 + expected.abs()),
                "{act:?} ({}) at {}: gradient {gk} vs w·f' = {expected}",
                std::any::type_name::<T>(),
                x[k]
            );
        }
    }
}

#[test]
fn every_elementwise_variant_is_finite_with_the_right_limits_at_1000_f64() {
    check_elementwise_at_1000::<f64>(1e-12);
}

#[test]
fn every_elementwise_variant_is_finite_with_the_right_limits_at_1000_f32() {
    check_elementwise_at_1000::<f32>(1e-6);
}

/// Column-wise softmax in `f64` with the maximum subtracted first (the reference).
fn softmax_ref(x: &DMatrix<f64>) -> DMatrix<f64> {
    let mut s = x.clone();
    for mut col in s.column_iter_mut() {
        let m = col.max();
        col.apply(|v| *v = (*v - m).exp());
        let total = col.sum();
        col /= total;
    }
    s
}

/// Column-wise log-softmax in `f64`: `x − max − ln Σ exp(x − max)`.
fn logsoftmax_ref(x: &DMatrix<f64>) -> DMatrix<f64> {
    let mut s = x.clone();
    for mut col in s.column_iter_mut() {
        let m = col.max();
        let lse = m + col.iter().map(|v| (v - m).exp()).sum::<f64>().ln();
        col.apply(|v| *v -= lse);
    }
    s
}

/// VJPs of softmax and log-softmax down each column, written out: with `s = softmax(x)` and
/// cotangent `w`, `s ⊙ (w − ⟨s, w⟩)` and `w − s·Σw`.
fn softmax_vjp_ref(x: &DMatrix<f64>, w: &DMatrix<f64>, log: bool) -> DMatrix<f64> {
    let s = softmax_ref(x);
    DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
        if log {
            w[(i, j)] - s[(i, j)] * w.column(j).sum()
        } else {
            s[(i, j)] * (w[(i, j)] - s.column(j).dot(&w.column(j)))
        }
    })
}

fn check_softmaxes_at_1000<T: MatScalar>(tol: f64) {
    // Columns: all +1000, all −1000, one winner by 1 (999 vs 1000), and ±1000 with a 0.
    let x = DMatrix::from_row_slice(
        3,
        4,
        &[
            1000.0, -1000.0, 1000.0, 0.0, //
            1000.0, -1000.0, 999.0, -1000.0, //
            1000.0, -1000.0, -1000.0, 1000.0,
        ],
    );
    let w = DMatrix::from_fn(3, 4, |i, j| 0.5 + i as f64 - 0.75 * j as f64);
    let (xt, wt) = (x.map(from64::<T>), w.map(from64::<T>));
    for (act, reference) in [
        (Activation::Softmax, softmax_ref(&x)),
        (Activation::LogSoftmax, logsoftmax_ref(&x)),
    ] {
        let (y, pb) = matrix::pullback(|m| act.apply(m[0]), std::slice::from_ref(&xt));
        let g = pb.call(&wt).remove(0);
        let expected_g = softmax_vjp_ref(&x, &w, act == Activation::LogSoftmax);
        for k in 0..x.len() {
            let (yk, gk) = (to64(y[k]), to64(g[k]));
            assert!(
                yk.is_finite() && gk.is_finite(),
                "{act:?} ({}) entry {k}: value {yk}, gradient {gk}",
                std::any::type_name::<T>()
            );
            // Rounded at the result's scale (log-softmax as (x − max) − ln Σ, see
            // `logsoftmax_keeps_relative_precision_for_large_logits`).
            let scale = reference[k].abs();
            assert!(
                (yk - reference[k]).abs() <= tol * (1.0 + scale),
                "{act:?} ({}) entry {k}: {yk} vs {}",
                std::any::type_name::<T>(),
                reference[k]
            );
            assert!(
                (gk - expected_g[k]).abs() <= tol * (1.0 + expected_g[k].abs()),
                "{act:?} ({}) entry {k}: gradient {gk} vs {}",
                std::any::type_name::<T>(),
                expected_g[k]
            );
        }
    }
}

#[test]
fn softmax_and_logsoftmax_are_finite_and_right_at_1000_f64() {
    check_softmaxes_at_1000::<f64>(1e-12);
}

#[test]
fn softmax_and_logsoftmax_are_finite_and_right_at_1000_f32() {
    check_softmaxes_at_1000::<f32>(1e-6);
}

/// The standard normal CDF `Φ(x)` by composite Simpson integration of the density from −10
/// (independent of the `libm` erfc that adroit-forward's `SpecialFunctions` uses; error
/// ~1e-12, far below the tolerances).
fn normal_cdf(x: f64) -> f64 {
    let a = -10.0;
    let n = 4000;
    let h = (x - a) / n as f64;
    let pdf = |t: f64| (-0.5 * t * t).exp() / (2.0 * std::f64::consts::PI).sqrt();
    let mut s = pdf(a) + pdf(x);
    for k in 1..n {
        let t = a + k as f64 * h;
        s += if k % 2 == 1 { 4.0 } else { 2.0 } * pdf(t);
    }
    s * h / 3.0
}

/// A plain-`f64` reference of an activation on a whole matrix.
type Reference = fn(&DMatrix<f64>) -> DMatrix<f64>;

#[test]
fn softmax_logsoftmax_and_gelu_erf_gradients_match_finite_differences() {
    // Moderate inputs (4 × 3), a weighting `w` so that Σ w ⊙ softmax(x) is not constant.
    let x = DMatrix::from_fn(4, 3, |i, j| 0.7 * i as f64 - 1.1 * j as f64 + 0.23);
    let w = DMatrix::from_fn(4, 3, |i, j| ((i * 3 + j) as f64 * 0.9).sin());
    let cases: Vec<(Activation, Reference)> = vec![
        (Activation::Softmax, softmax_ref),
        (Activation::LogSoftmax, logsoftmax_ref),
        (Activation::GeluErf, |m| m.map(|v| v * normal_cdf(v))),
    ];
    for (act, reference) in cases {
        let (value, g) = matrix::value_and_gradient(
            |m| {
                act.apply(m[0])
                    .component_mul(adroit_nn::MatVar::constant(w.clone()))
                    .sum()
            },
            std::slice::from_ref(&x),
        );
        let plain = |v: &[f64]| {
            reference(&DMatrix::from_column_slice(4, 3, v))
                .component_mul(&w)
                .sum()
        };
        assert!(
            (value - plain(x.as_slice())).abs() < 1e-10,
            "{act:?}: value {value} vs {}",
            plain(x.as_slice())
        );
        let numeric = fd::gradient(plain, x.as_slice());
        for (k, (a, b)) in g[0].iter().zip(&numeric).enumerate() {
            assert!(
                (a - b).abs() < 1e-8 * (1.0 + b.abs()),
                "{act:?} entry {k}: {a} vs finite difference {b}"
            );
        }
    }
}

/// The precision of log-softmax for large logits, to a few roundings of the *result*, as the
/// reference libraries (NNlib, JAX, PyTorch) get by computing `(x − max) − ln Σ exp(x − max)`.
/// Regression: `MatVar::logsoftmax` computed `x − (max + ln Σ …)`, rounding at the magnitude
/// of `x` (f32 at x = 1000 gave −1.0986328 for −ln 3; at 1e6, −0.6875 for −ln 2).
#[test]
fn logsoftmax_keeps_relative_precision_for_large_logits() {
    let mut failures = Vec::new();
    for (x, expected) in [
        (vec![1000.0_f32; 3], -(3.0f64.ln())),
        (vec![1.0e6_f32; 2], -(2.0f64.ln())),
    ] {
        let n = x.len();
        let (y, _) = matrix::pullback(
            |m| Activation::LogSoftmax.apply(m[0]),
            &[DMatrix::from_column_slice(n, 1, &x)],
        );
        let v = f64::from(y[0]);
        if (v - expected).abs() > 4.0 * f64::from(f32::EPSILON) * expected.abs() {
            failures.push(format!(
                "f32 logsoftmax({x:?})[0] = {v}, expected {expected}"
            ));
        }
    }
    let (y, _) = matrix::pullback(
        |m| Activation::LogSoftmax.apply(m[0]),
        &[DMatrix::from_column_slice(2, 1, &[1.0e12_f64, 1.0e12])],
    );
    if (y[0] + 2.0f64.ln()).abs() > 4.0 * f64::EPSILON {
        failures.push(format!(
            "f64 logsoftmax([1e12, 1e12])[0] = {}, expected {}",
            y[0],
            -(2.0f64.ln())
        ));
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The slice kernels behind `Tanh`, `Sigmoid`, `GeluTanh`, `GeluErf`, `Swish`, `Elu`, `Selu`,
/// `Softplus`, `LogSigmoid` and `Mish` (vectorised for `f32`)
/// against the activation functions of `adroit_nn::activation` mapped entry by entry through
/// forward-mode duals (`MatVar::map`), value and derivative: in `f64` to 4e-15 relative, in
/// `f32` to a few ulps (6e-7 relative; a derivative relative to `min(|x|, 1)` where larger,
/// the size of its terms), at mixed magnitudes,
/// zeros and the infinities (where both give the same values, NaN included).
#[test]
fn vectorised_activation_kernels_agree_with_the_scalar_functions() {
    use adroit_nn::activation::{
        elu, gelu_erf, gelu_tanh, log_sigmoid, mish, selu, sigmoid, softplus, swish,
    };
    use adroit_reverse::adroit_forward::Dual;
    use adroit_reverse::matrix::MatVar;
    use num_traits::Float;

    fn check<T: MatScalar>(tol: f64) {
        // 1,200 entries: four whole blocks of the kernels with scratch space and a part.
        let mut xs: Vec<f64> = (0..1190)
            .map(|i| ((i as f64) * 0.731).sin() * 10f64.powi(i % 5 - 2))
            .collect();
        xs.extend([
            0.0,
            -0.0,
            3.0,
            -3.0,
            9.5,
            -9.5,
            50.0,
            -50.0,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ]);
        let n = xs.len();
        let x: DMatrix<T> = DMatrix::from_iterator(n, 1, xs.iter().map(|&v| from64::<T>(v)));
        type Scalar<T> = fn(Dual<T>) -> Dual<T>;
        let cases: [(Activation, Scalar<T>); 11] = [
            (Activation::Tanh, |v| v.tanh()),
            (Activation::Sigmoid, sigmoid),
            (Activation::GeluTanh, gelu_tanh),
            (Activation::GeluErf, gelu_erf),
            (Activation::Swish, swish),
            (Activation::ELU, |v| elu(v, Dual::constant(T::one()))),
            (Activation::Elu(0.3), |v| {
                elu(v, Dual::constant(from64(0.3)))
            }),
            (Activation::Selu, selu),
            (Activation::Softplus, softplus),
            (Activation::LogSigmoid, log_sigmoid),
            (Activation::Mish, mish),
        ];
        let ones = DMatrix::from_element(n, 1, T::one());
        for (act, scalar) in cases {
            let (y, pb) = matrix::pullback(|m| act.apply(m[0]), std::slice::from_ref(&x));
            let d = pb.call(&ones).remove(0);
            let (y_ref, pb_ref) =
                matrix::pullback(|m| MatVar::map(m[0], scalar), std::slice::from_ref(&x));
            let d_ref = pb_ref.call(&ones).remove(0);
            for i in 0..n {
                let scales = [1e-30 / tol, xs[i].abs().min(1.0)];
                for (k, (what, got, want)) in
                    [("value", y[i], y_ref[i]), ("derivative", d[i], d_ref[i])]
                        .into_iter()
                        .enumerate()
                {
                    let (g, w) = (to64(got), to64(want));
                    // A derivative is a sum of terms of up to |x|'s size near 0 (GELU's cancels
                    // near x = −0.75): its tolerance is on that scale too.
                    let close = (g.is_nan() && w.is_nan())
                        || g == w
                        || (g - w).abs() <= tol * w.abs().max(scales[k]);
                    assert!(close, "{act:?} {what} at {:e}: {g:e} against {w:e}", xs[i]);
                }
            }
        }
    }
    check::<f64>(4e-15);
    check::<f32>(6e-7);
}
