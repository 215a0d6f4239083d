//! Activation functions: each written once, generically over `num_traits::Float` (GELU's erf
//! form over adroit-forward's `SpecialFunctions`, which adds the error function) and
//! numerically stable, so its derivative comes from the rule table of `adroit-forward` (through
//! forward-mode duals) and it works on `f64`, `Dual`, `Var` alike; and [`Activation`], the
//! choice of a layer, applied entry-wise to matrices (`Softmax` and `LogSoftmax` column by
//! column) — through those duals, except `Tanh`, `Sigmoid`, `GeluTanh`, `GeluErf`, `Swish`,
//! `Elu`, `Selu`, `Softplus`, `LogSigmoid` and `Mish`, which [`Activation::apply`] forms over
//! whole slices on adroit-reverse's `tanh`/`logistic`/`ndtr`/`expm1`/`log1p_exp`/
//! `log_logistic_entries` (vectorised kernels for `f32`, several times faster; the same
//! functions to a few ulps, tested against the dual path).
//!
//! Definitions and constants follow Flux/NNlib. Kinks: `relu'(0) = 0`, and every
//! piecewise-linear activation takes the derivative of its flat or lower piece at a kink
//! (`relu6'(6) = 0`, `hardtanh'(±1) = 0`, `hardsigmoid'(±3) = 0`). At a NaN input these four
//! give NaN, with the slope of the piece that passes it on (1 for `relu`, `relu6` and
//! `hardtanh`, ⅙ for `hardsigmoid`; JAX's `relu` has 0).

use crate::NnError;
use crate::activation_slices;
use adroit_forward::normal::ndtr;
use adroit_forward::{Dual, SpecialFunctions, log_exp};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use num_traits::Float;

/// The constant `v` as `S` (rounded to it; NaN where `S` cannot hold it).
pub(crate) fn c<S: Float>(v: f64) -> S {
    S::from(v).unwrap_or_else(S::nan)
}

/// The logistic sigmoid `σ(x) = 1/(1 + e⁻ˣ)`, computed without overflow for any `x`
/// (adroit-forward's [`log_exp::logistic`]).
///
/// # Example
/// ```
/// assert_eq!(adroit_nn::activation::sigmoid(0.0), 0.5);
/// assert_eq!(adroit_nn::activation::sigmoid(-1000.0_f64), 0.0);
/// ```
pub fn sigmoid<S: Float>(x: S) -> S {
    log_exp::logistic(x)
}

/// `max(x, 0)`; derivative 0 at 0; NaN for a NaN `x` (as NNlib's `max(x, 0)` and JAX's
/// `relu`: a diverging model is not hidden behind zeros).
///
/// # Example
/// ```
/// use adroit_nn::activation::relu;
/// assert_eq!((relu(-1.0), relu(0.0), relu(2.5)), (0.0, 0.0, 2.5));
/// // The derivative through adroit's reverse mode: 0 at the kink, 1 above it.
/// let d = |x: f64| adroit_nn::adroit_reverse::gradient(|v| relu(v[0]), &[x])[0];
/// assert_eq!((d(0.0), d(3.0)), (0.0, 1.0));
/// ```
pub fn relu<S: Float>(x: S) -> S {
    // Not `x > 0 ? x : 0`, which would map NaN to 0.
    if x <= S::zero() { S::zero() } else { x }
}

/// `x` for `x > 0`, `a·x` otherwise (NNlib's `leakyrelu`, whose default slope is
/// [`LEAKY_RELU_SLOPE`] = 0.01).
///
/// # Example
/// ```
/// use adroit_nn::activation::leaky_relu;
/// assert_eq!(leaky_relu(3.0, 0.01), 3.0);
/// assert_eq!(leaky_relu(-2.0, 0.25), -0.5); // a·x below 0
/// ```
pub fn leaky_relu<S: Float>(x: S, a: S) -> S {
    if x > S::zero() { x } else { a * x }
}

/// `min(max(x, 0), 6)`; derivative 0 at 0 and at 6.
///
/// # Example
/// ```
/// use adroit_nn::activation::relu6;
/// assert_eq!((relu6(-1.0), relu6(3.0), relu6(7.0)), (0.0, 3.0, 6.0));
/// // At the upper kink the derivative is that of the flat piece.
/// assert_eq!(adroit_nn::adroit_reverse::gradient(|v| relu6(v[0]), &[6.0]), [0.0]);
/// ```
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

/// NNlib's default slope of [`leaky_relu`] (`leakyrelu(x, a = 0.01)`); also
/// [`Activation::LEAKY_RELU`].
///
/// # Example
/// ```
/// use adroit_nn::activation::{LEAKY_RELU_SLOPE, leaky_relu};
/// assert_eq!(leaky_relu(-2.0, LEAKY_RELU_SLOPE), -0.02);
/// ```
pub const LEAKY_RELU_SLOPE: f64 = 0.01;

/// NNlib's default `α` of [`elu`] (`elu(x, α = 1)`); also [`Activation::ELU`].
///
/// # Example
/// ```
/// use adroit_nn::activation::{ELU_ALPHA, elu};
/// assert_eq!(elu(0.0, ELU_ALPHA), 0.0);
/// assert!((elu(-1.0, ELU_ALPHA) - (1.0_f64.exp().recip() - 1.0)).abs() < 1e-15);
/// ```
pub const ELU_ALPHA: f64 = 1.0;

/// `x` for `x > 0`, `α·(eˣ − 1)` otherwise (Clevert et al. 2015).
///
/// # Example
/// ```
/// use adroit_nn::activation::elu;
/// assert_eq!(elu(2.0, 1.0), 2.0);
/// // At x = ln ½ with α = 2: 2·(½ − 1) = −1; far below 0 it tends to −α.
/// assert!((elu(0.5f64.ln(), 2.0) + 1.0).abs() < 1e-15);
/// assert_eq!(elu(-100.0, 2.0), -2.0);
/// ```
pub fn elu<S: Float>(x: S, alpha: S) -> S {
    if x > S::zero() { x } else { alpha * x.exp_m1() }
}

/// SELU's λ and α (Klambauer et al. 2017).
const SELU_LAMBDA: f64 = 1.050_700_987_355_480_5;
const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;

/// Scaled ELU with λ ≈ 1.0507, α ≈ 1.6733 (Klambauer et al. 2017).
///
/// # Example
/// ```
/// use adroit_nn::activation::selu;
/// assert!((selu(1.0_f64) - 1.0507).abs() < 1e-4); // λ·x above 0
/// assert!((selu(-100.0_f64) + 1.0507 * 1.6733).abs() < 1e-4); // −λα far below 0
/// ```
pub fn selu<S: Float>(x: S) -> S {
    c::<S>(SELU_LAMBDA) * elu(x, c::<S>(SELU_ALPHA))
}

/// GELU, tanh approximation: `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (Hendrycks & Gimpel 2016),
/// computed as `x·σ(2u)`, `u = √(2/π)(x + 0.044715x³)` (the same function: `½(1 + tanh u) =
/// σ(2u)`), which keeps full precision in the negative tail, where `1 + tanh u` cancels (in
/// `f32` it is 30 % off at `x = −5`).
///
/// # Example
/// ```
/// use adroit_nn::activation::gelu_tanh;
/// assert_eq!(gelu_tanh(0.0), 0.0);
/// // Within 2e-4 of the exact GELU(1) = Φ(1) = 0.841345 (standard normal CDF).
/// assert!((gelu_tanh(1.0_f64) - 0.841345).abs() < 2e-4);
/// assert_eq!(gelu_tanh(10.0), 10.0); // x·1 once tanh saturates
/// ```
pub fn gelu_tanh<S: Float>(x: S) -> S {
    let two_k = c::<S>(2.0 * (2.0 / core::f64::consts::PI).sqrt());
    x * sigmoid(two_k * (x + c::<S>(0.044_715) * x * x * x))
}

/// GELU, exact form `x·Φ(x) = ½x(1 + erf(x/√2))` (Hendrycks & Gimpel 2016; NNlib's
/// `gelu_erf`, PyTorch's default `GELU`), for any number type with the error function
/// ([`SpecialFunctions`], re-exported as `adroit_nn::SpecialFunctions`: `f32`, `f64`, dual
/// numbers, tape variables), so its
/// derivative `Φ(x) + x·φ(x)` comes from the rule table. `Φ(x)` is adroit-forward's [`ndtr`],
/// accurate relative to its value in the negative tail (where `1 + erf` cancels, and
/// `½·erfc(−x/√2)` magnifies the rounding of `x/√2` by `x²`: in `f32`, 195 ulp at
/// `x = −12.99`). In `f32` this form is within 5 ulp of `x·Φ(x)` for `x` in `[−12.9, −1]`;
/// below, where `Φ` is subnormal and `x·Φ(x)` not (down to about −13.17), the rounding of `Φ`
/// grows by `|x|`: up to 10 ulp.
///
/// # Example
/// ```
/// use adroit_nn::activation::gelu_erf;
/// assert_eq!(gelu_erf(0.0), 0.0);
/// // GELU(1) = Φ(1) = 0.8413447 (normal tables)
/// assert!((gelu_erf(1.0_f64) - 0.8413447).abs() < 1e-7);
/// // its derivative, through adroit's reverse mode: Φ(1) + φ(1) = 0.8413447 + 0.2419707
/// let d = adroit_nn::adroit_reverse::gradient(|v| gelu_erf(v[0]), &[1.0_f64])[0];
/// assert!((d - 1.0833154).abs() < 1e-7);
/// ```
pub fn gelu_erf<S: SpecialFunctions>(x: S) -> S {
    x * ndtr(x)
}

/// [`gelu_erf`] and its derivative `Φ(x) + x·φ(x)` in one evaluation (on a [`Dual`]), for
/// matrix code that takes an entry's value and slope together
/// ([`MatVar::map_with_derivative`]).
///
/// # Example
/// ```
/// use adroit_nn::activation::gelu_erf_with_derivative;
/// assert_eq!(gelu_erf_with_derivative(0.0), (0.0, 0.5)); // Φ(0) = ½
/// // At 1: Φ(1) = 0.8413447 and Φ(1) + φ(1) = 0.8413447 + 0.2419707 (normal tables).
/// let (y, dy) = gelu_erf_with_derivative(1.0_f64);
/// assert!((y - 0.8413447).abs() < 1e-7 && (dy - 1.0833154).abs() < 1e-7);
/// ```
pub fn gelu_erf_with_derivative<T: MatScalar>(x: T) -> (T, T) {
    let y = gelu_erf(Dual::variable(x));
    (y.value(), y.tangent())
}

/// Swish / SiLU `x·σ(x)` (Ramachandran et al. 2017).
///
/// # Example
/// ```
/// use adroit_nn::activation::swish;
/// assert_eq!(swish(0.0), 0.0);
/// assert!((swish(1.0) - 1.0 / (1.0 + (-1.0f64).exp())).abs() < 1e-15); // 1·σ(1)
/// // swish'(0) = σ(0) + 0·σ'(0) = ½
/// assert_eq!(adroit_nn::adroit_reverse::gradient(|v| swish(v[0]), &[0.0]), [0.5]);
/// ```
pub fn swish<S: Float>(x: S) -> S {
    x * sigmoid(x)
}

/// `ln(1 + eˣ)`, computed without overflow: `x + ln(1 + e⁻ˣ)` for `x > 0` (adroit-forward's
/// [`log_exp::log1p_exp`], whose second derivative is exact at 0 too).
///
/// # Example
/// ```
/// use adroit_nn::activation::softplus;
/// assert_eq!(softplus(0.0), 2f64.ln());
/// assert_eq!((softplus(1000.0), softplus(-1000.0)), (1000.0, 0.0)); // no overflow
/// ```
pub fn softplus<S: Float>(x: S) -> S {
    log_exp::log1p_exp(x)
}

/// `x / (1 + |x|)`, derivative `1/(1 + |x|)²`: computed as `sign(x)·(1 − 1/(1 + |x|))` for
/// `|x| ≥ 1`, so that the derivative, differentiated through this expression, keeps full
/// precision for large `|x|` (through `x/(1 + |x|)` it cancels: all digits lost by `|x| ≈ 1e8`
/// in `f32`).
///
/// # Example
/// ```
/// use adroit_nn::activation::softsign;
/// assert_eq!((softsign(1.0), softsign(-3.0), softsign(0.0)), (0.5, -0.75, 0.0));
/// ```
pub fn softsign<S: Float>(x: S) -> S {
    let denominator = S::one() + x.abs();
    if x.abs() < S::one() {
        x / denominator
    } else {
        x.signum() * (S::one() - denominator.recip())
    }
}

/// `relu6(x + 3)/6 = clamp((x + 3)/6, 0, 1)` (NNlib's `hardσ`, PyTorch's `Hardsigmoid`);
/// derivative ⅙ for −3 < x < 3 and 0 elsewhere, 0 at ±3.
///
/// The pieces are chosen by comparing `x` itself with ±3, as PyTorch's gradient does, not
/// `x + 3` with 0 and 6: just below 3, `x + 3` rounds to 6, which would put the kink one ulp
/// early.
///
/// # Example
/// ```
/// use adroit_nn::activation::hard_sigmoid;
/// assert_eq!((hard_sigmoid(-4.0), hard_sigmoid(0.0), hard_sigmoid(3.0)), (0.0, 0.5, 1.0));
/// let d = |x: f64| adroit_nn::adroit_reverse::gradient(|v| hard_sigmoid(v[0]), &[x])[0];
/// assert_eq!((d(0.0), d(3.0)), (1.0 / 6.0, 0.0)); // slope ⅙ inside, 0 at the kink
/// assert_eq!(d(3.0 - 4.5e-16), 1.0 / 6.0); // the float just below 3 is inside
/// ```
pub fn hard_sigmoid<S: Float>(x: S) -> S {
    let three = c::<S>(3.0);
    if x <= -three {
        S::zero()
    } else if x >= three {
        S::one()
    } else {
        (x + three) / c(6.0)
    }
}

/// `clamp(x, −1, 1)`; derivative 0 at ±1.
///
/// # Example
/// ```
/// use adroit_nn::activation::hard_tanh;
/// assert_eq!((hard_tanh(-2.0), hard_tanh(0.5), hard_tanh(2.0)), (-1.0, 0.5, 1.0));
/// assert_eq!(adroit_nn::adroit_reverse::gradient(|v| hard_tanh(v[0]), &[1.0]), [0.0]);
/// ```
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
///
/// # Example
/// ```
/// use adroit_nn::activation::mish;
/// // tanh(ln(1 + e)) = ((1 + e)² − 1)/((1 + e)² + 1) = (e² + 2e)/(e² + 2e + 2)
/// let e = 1f64.exp();
/// assert!((mish(1.0) - (e * e + 2.0 * e) / (e * e + 2.0 * e + 2.0)).abs() < 1e-15);
/// assert_eq!(mish(0.0), 0.0);
/// ```
pub fn mish<S: Float>(x: S) -> S {
    x * softplus(x).tanh()
}

/// `ln σ(x) = −softplus(−x)`, finite for any finite `x` (adroit-forward's
/// [`log_exp::log_logistic`]).
///
/// # Example
/// ```
/// use adroit_nn::activation::log_sigmoid;
/// assert_eq!(log_sigmoid(0.0), -(2f64.ln())); // ln ½
/// assert_eq!(log_sigmoid(-1000.0), -1000.0); // where ln(σ(x)) would give ln 0 = −∞
/// ```
pub fn log_sigmoid<S: Float>(x: S) -> S {
    log_exp::log_logistic(x)
}

/// The activation of a layer, applied entry-wise (or, for `Softmax`/`LogSoftmax`, down each
/// column: over the features of each sample).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Dense, Layer};
/// // y = leakyrelu(1·x) with slope 0.25, on 2 samples of 1 feature.
/// let layer = Dense::from_parts(dmatrix![1.0], None, Activation::LeakyRelu(0.25)).unwrap();
/// assert_eq!(layer.predict(&dmatrix![-2.0, 3.0]).unwrap(), dmatrix![-0.5, 3.0]);
/// ```
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
    /// [`gelu_tanh`] (PyTorch's `GELU(approximate='tanh')`, Flux's `gelu`).
    #[doc(alias = "gelu")]
    GeluTanh,
    /// [`gelu_erf`] (PyTorch's `GELU()`, Flux's `gelu_erf`).
    #[doc(alias = "gelu")]
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
    /// [`Activation::LeakyRelu`] with NNlib's default slope, [`LEAKY_RELU_SLOPE`] (Flux's
    /// `leakyrelu`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Activation;
    /// assert_eq!(Activation::LEAKY_RELU, Activation::LeakyRelu(0.01));
    /// ```
    pub const LEAKY_RELU: Activation = Activation::LeakyRelu(LEAKY_RELU_SLOPE);

    /// [`Activation::Elu`] with NNlib's default `α`, [`ELU_ALPHA`] (Flux's `elu`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Activation;
    /// assert_eq!(Activation::ELU, Activation::Elu(1.0));
    /// ```
    pub const ELU: Activation = Activation::Elu(ELU_ALPHA);

    /// Checks the activation's parameter (the slope of `LeakyRelu`, the α of `Elu`): it must be
    /// finite. `name` names it in the error (e.g. `"Dense activation parameter"`).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] for a NaN or infinite parameter.
    pub(crate) fn check_parameter(self, name: &'static str) -> Result<(), NnError> {
        match self {
            Activation::LeakyRelu(a) | Activation::Elu(a) if !a.is_finite() => {
                Err(NnError::InvalidConfig {
                    name,
                    reason: format!("{a} in {self:?} is not finite"),
                })
            }
            _ => Ok(()),
        }
    }

    /// Applies the activation to a `features × batch` matrix.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Activation;
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// // Softmax down each column (the 2 features of each of 2 samples): equal logits give ½, ½.
    /// let x = dmatrix![3.0, -1.0; 3.0, -1.0];
    /// let (y, _) = matrix::pullback(|p| Activation::Softmax.apply(p[0]), &[x]);
    /// assert_eq!(y, dmatrix![0.5, 0.5; 0.5, 0.5]);
    /// // ReLU entry-wise: the gradient of Σ relu(x) is 0 where x < 0 and 1 where x > 0.
    /// let g = matrix::gradient(|p| Activation::Relu.apply(p[0]).sum(), &[dmatrix![-1.0, 2.0]]);
    /// assert_eq!(g[0], dmatrix![0.0, 1.0]);
    /// ```
    #[track_caller]
    pub fn apply<T: MatScalar>(self, x: MatVar<T>) -> MatVar<T> {
        match self {
            Activation::Identity => x,
            Activation::Tanh => x.tanh(),
            Activation::Sigmoid => x.sigmoid(),
            Activation::Relu => x.map(relu),
            Activation::LeakyRelu(a) => x.map(move |v| leaky_relu(v, c(a))),
            Activation::Relu6 => x.map(relu6),
            Activation::Elu(a) => x.map_slices(|x: &[T], v: &mut [T], d: &mut [T]| {
                activation_slices::elu_entries(x, v, d, c(a), T::one())
            }),
            Activation::Selu => x.map_slices(|x: &[T], v: &mut [T], d: &mut [T]| {
                activation_slices::elu_entries(x, v, d, c(SELU_ALPHA), c(SELU_LAMBDA))
            }),
            Activation::GeluTanh => x.map_slices(activation_slices::gelu_tanh_entries),
            Activation::GeluErf => x.map_slices(activation_slices::gelu_erf_entries),
            Activation::Swish => x.map_slices(activation_slices::swish_entries),
            Activation::Softplus => x.softplus(),
            Activation::Softsign => x.map(softsign),
            Activation::HardSigmoid => x.map(hard_sigmoid),
            Activation::HardTanh => x.map(hard_tanh),
            Activation::Mish => x.map_slices(activation_slices::mish_entries),
            Activation::LogSigmoid => x.log_sigmoid(),
            Activation::Softmax => x.softmax(Along::Rows),
            Activation::LogSoftmax => x.logsoftmax(Along::Rows),
        }
    }
}
