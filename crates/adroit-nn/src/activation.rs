//! Activation functions: each written once, generically over `num_traits::Float` and
//! numerically stable, so its derivative comes from the rule table of `adroit-forward` (through
//! forward-mode duals) and it works on `f64`, `Dual`, `Var` alike; and [`Activation`], the
//! choice of a layer, applied entry-wise to matrices.
//!
//! Definitions and constants follow Flux/NNlib. Kinks: `relu'(0) = 0`, and every
//! piecewise-linear activation takes the derivative of its flat or lower piece at a kink
//! (`relu6'(6) = 0`, `hardtanh'(±1) = 0`, `hardsigmoid'(±3) = 0`).

use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use num_traits::Float;

fn c<S: Float>(v: f64) -> S {
    S::from(v).unwrap_or_else(S::nan)
}

/// The logistic sigmoid `σ(x) = 1/(1 + e⁻ˣ)`, computed without overflow for any `x`.
///
/// # Example
/// ```
/// assert_eq!(adroit_nn::activation::sigmoid(0.0), 0.5);
/// assert_eq!(adroit_nn::activation::sigmoid(-1000.0_f64), 0.0);
/// ```
pub fn sigmoid<S: Float>(x: S) -> S {
    if x >= S::zero() {
        (S::one() + (-x).exp()).recip()
    } else {
        let e = x.exp();
        e / (S::one() + e)
    }
}

/// `max(x, 0)`; derivative 0 at 0.
pub fn relu<S: Float>(x: S) -> S {
    if x > S::zero() { x } else { S::zero() }
}

/// `x` for `x > 0`, `a·x` otherwise (NNlib's `leakyrelu`, `a = 0.01` by default).
pub fn leaky_relu<S: Float>(x: S, a: S) -> S {
    if x > S::zero() { x } else { a * x }
}

/// `min(max(x, 0), 6)`; derivative 0 at 0 and at 6.
pub fn relu6<S: Float>(x: S) -> S {
    let six = c::<S>(6.0);
    if x <= S::zero() {
        S::zero()
    } else if x >= six {
        six
    } else {
        x
    }
}

/// `x` for `x > 0`, `α·(eˣ − 1)` otherwise (Clevert et al. 2015).
pub fn elu<S: Float>(x: S, alpha: S) -> S {
    if x > S::zero() { x } else { alpha * x.exp_m1() }
}

/// Scaled ELU with λ ≈ 1.0507, α ≈ 1.6733 (Klambauer et al. 2017).
pub fn selu<S: Float>(x: S) -> S {
    let lambda = c::<S>(1.050_700_987_355_480_5);
    let alpha = c::<S>(1.673_263_242_354_377_3);
    lambda * elu(x, alpha)
}

/// GELU, tanh approximation: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (Hendrycks & Gimpel 2016).
pub fn gelu_tanh<S: Float>(x: S) -> S {
    let k = c::<S>((2.0 / core::f64::consts::PI).sqrt());
    c::<S>(0.5) * x * (S::one() + (k * (x + c::<S>(0.044_715) * x * x * x)).tanh())
}

/// GELU, exact form `x·Φ(x) = ½x(1 + erf(x/√2))` with its derivative `Φ(x) + x·φ(x)`, for
/// `f32`/`f64` (the error function comes from the `libm` crate, so this one is not generic).
pub fn gelu_erf_with_derivative<T: MatScalar>(x: T) -> (T, T) {
    let xf = x.to_f64().unwrap_or(f64::NAN);
    let cdf = 0.5 * (1.0 + libm::erf(xf / core::f64::consts::SQRT_2));
    let pdf = (-0.5 * xf * xf).exp() / (2.0 * core::f64::consts::PI).sqrt();
    (c(xf * cdf), c(cdf + xf * pdf))
}

/// Swish / SiLU `x·σ(x)` (Ramachandran et al. 2017).
pub fn swish<S: Float>(x: S) -> S {
    x * sigmoid(x)
}

/// `ln(1 + eˣ)`, computed without overflow: `x + ln(1 + e⁻ˣ)` for `x > 0`.
pub fn softplus<S: Float>(x: S) -> S {
    if x > S::zero() {
        x + (-x).exp().ln_1p()
    } else {
        x.exp().ln_1p()
    }
}

/// `x / (1 + |x|)`.
pub fn softsign<S: Float>(x: S) -> S {
    x / (S::one() + x.abs())
}

/// `relu6(x + 3)/6` (NNlib's `hardσ`); derivative 0 at ±3.
pub fn hard_sigmoid<S: Float>(x: S) -> S {
    relu6(x + c(3.0)) / c(6.0)
}

/// `clamp(x, −1, 1)`; derivative 0 at ±1.
pub fn hard_tanh<S: Float>(x: S) -> S {
    if x <= -S::one() {
        -S::one()
    } else if x >= S::one() {
        S::one()
    } else {
        x
    }
}

/// Mish `x·tanh(softplus(x))` (Misra 2019).
pub fn mish<S: Float>(x: S) -> S {
    x * softplus(x).tanh()
}

/// `ln σ(x) = −softplus(−x)`, finite for any `x`.
pub fn log_sigmoid<S: Float>(x: S) -> S {
    -softplus(-x)
}

/// The activation of a layer, applied entry-wise (or, for `Softmax`/`LogSoftmax`, down each
/// column: over the features of each sample).
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// `x`.
    Identity,
    /// [`sigmoid`].
    Sigmoid,
    /// `tanh`.
    Tanh,
    /// [`relu`].
    Relu,
    /// [`leaky_relu`] with this slope.
    LeakyRelu(f64),
    /// [`relu6`].
    Relu6,
    /// [`elu`] with this α.
    Elu(f64),
    /// [`selu`].
    Selu,
    /// [`gelu_tanh`].
    GeluTanh,
    /// [`gelu_erf_with_derivative`].
    GeluErf,
    /// [`swish`] (also called SiLU).
    Swish,
    /// [`softplus`].
    Softplus,
    /// [`softsign`].
    Softsign,
    /// [`hard_sigmoid`].
    HardSigmoid,
    /// [`hard_tanh`].
    HardTanh,
    /// [`mish`].
    Mish,
    /// [`log_sigmoid`].
    LogSigmoid,
    /// Softmax over each column.
    Softmax,
    /// Log-softmax over each column.
    LogSoftmax,
}

impl Activation {
    /// Applies the activation to a `features × batch` matrix.
    pub fn apply<T: MatScalar>(self, x: MatVar<T>) -> MatVar<T> {
        match self {
            Activation::Identity => x,
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.map(sigmoid),
            Activation::Relu => x.map(relu),
            Activation::LeakyRelu(a) => x.map(move |v| leaky_relu(v, c(a))),
            Activation::Relu6 => x.map(relu6),
            Activation::Elu(a) => x.map(move |v| elu(v, c(a))),
            Activation::Selu => x.map(selu),
            Activation::GeluTanh => x.map(gelu_tanh),
            Activation::GeluErf => x.map_with_derivative(gelu_erf_with_derivative),
            Activation::Swish => x.map(swish),
            Activation::Softplus => x.map(softplus),
            Activation::Softsign => x.map(softsign),
            Activation::HardSigmoid => x.map(hard_sigmoid),
            Activation::HardTanh => x.map(hard_tanh),
            Activation::Mish => x.map(mish),
            Activation::LogSigmoid => x.map(log_sigmoid),
            Activation::Softmax => x.softmax(Along::Rows),
            Activation::LogSoftmax => x.logsoftmax(Along::Rows),
        }
    }
}
