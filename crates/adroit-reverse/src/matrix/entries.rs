//! Element-wise kernels over whole slices — `tanh`, the logistic sigmoid, `exp`, `expm1`, `ln`, the
//! softplus, the log-sigmoid and the standard normal distribution function, each with its
//! derivative — for element-wise functions of your own built on them and recorded with
//! [`MatVar::map_slices`](super::MatVar::map_slices): for `f32` they run the vectorised kernels
//! behind [`MatVar::tanh`](super::MatVar::tanh), [`MatVar::sigmoid`](super::MatVar::sigmoid),
//! [`MatVar::exp`](super::MatVar::exp), [`MatVar::ln`](super::MatVar::ln),
//! [`MatVar::softplus`](super::MatVar::softplus),
//! [`MatVar::log_sigmoid`](super::MatVar::log_sigmoid) and [`MatVar::ndtr`](super::MatVar::ndtr)
//! (within 3, 2, 1, 2, 3, 3 and 2 ulp of the functions evaluated in `f64`, `expm1` 1 ulp for
//! `x ≤ 0` and 3 above; derivatives within 4 ulp), for other element types adroit-forward's rules
//! entry by entry (in the element type's arithmetic, so second derivatives flow through them under
//! [`hvp`](super::hvp) and [`hessian`](super::hessian)).

use super::MatScalar;

/// Panics unless the three slices have one length.
#[track_caller]
fn check_lengths<T>(name: &str, x: &[T], value: &[T], derivative: &[T]) {
    assert!(
        x.len() == value.len() && x.len() == derivative.len(),
        "{name}: {} inputs, {} values, {} derivatives (one of each per entry)",
        x.len(),
        value.len(),
        derivative.len()
    );
}

/// `value[i] = tanh x[i]`, `derivative[i] = 1 − tanh² x[i]` (adroit-forward's `Tanh` rule:
/// `tanh(−0) = −0`, derivative 0 at `±∞`).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::tanh_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 2], [0.0_f32; 2]);
/// tanh_entries(&[0.0, f32::INFINITY], &mut value, &mut derivative);
/// assert_eq!((value, derivative), ([0.0, 1.0], [1.0, 0.0]));
/// ```
#[track_caller]
pub fn tanh_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("tanh_entries", x, value, derivative);
    T::tanh_entries(x, value, derivative);
}

/// `value[i] = σ(x[i]) = 1/(1 + e^{−x[i]})`, `derivative[i] = σ(x[i])·(1 − σ(x[i]))`
/// (adroit-forward's `log_exp::logistic`: `σ(+∞) = 1`, `σ(−∞) = 0`, derivative 0 at both).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::logistic_entries;
/// let (mut value, mut derivative) = ([0.0_f64; 2], [0.0_f64; 2]);
/// logistic_entries(&[0.0, -1000.0], &mut value, &mut derivative);
/// assert_eq!((value, derivative), ([0.5, 0.0], [0.25, 0.0]));
/// ```
#[track_caller]
pub fn logistic_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("logistic_entries", x, value, derivative);
    T::logistic_entries(x, value, derivative);
}

/// `value[i] = derivative[i] = e^{x[i]}` (adroit-forward's `Exp` rule).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::exp_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 2], [0.0_f32; 2]);
/// exp_entries(&[0.0, f32::NEG_INFINITY], &mut value, &mut derivative);
/// assert_eq!((value, derivative), ([1.0, 0.0], [1.0, 0.0]));
/// ```
#[track_caller]
pub fn exp_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("exp_entries", x, value, derivative);
    T::exp_entries(x, value, derivative);
}

/// `value[i] = e^{x[i]} − 1` (accurate near 0, where `exp(x) − 1` cancels) and
/// `derivative[i] = e^{x[i]}` (adroit-forward's `ExpM1` rule).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::expm1_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 2], [0.0_f32; 2]);
/// expm1_entries(&[1e-10, f32::NEG_INFINITY], &mut value, &mut derivative);
/// assert_eq!((value, derivative), ([1e-10, -1.0], [1.0, 0.0]));
/// ```
#[track_caller]
pub fn expm1_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("expm1_entries", x, value, derivative);
    T::expm1_entries(x, value, derivative);
}

/// `value[i] = ln x[i]`, `derivative[i] = 1/x[i]` (adroit-forward's `Ln` rule: `ln(±0) = −∞`
/// with derivative `+∞`; NaN for `x < 0`, with the finite derivative `1/x`).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::ln_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 3], [0.0_f32; 3]);
/// ln_entries(&[1.0, 4.0, 0.0], &mut value, &mut derivative);
/// assert_eq!(value, [0.0, 4f32.ln(), f32::NEG_INFINITY]);
/// assert_eq!(derivative, [1.0, 0.25, f32::INFINITY]);
/// ```
#[track_caller]
pub fn ln_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("ln_entries", x, value, derivative);
    T::ln_entries(x, value, derivative);
}

/// `value[i] = ln(1 + e^{x[i]})` (the softplus), `derivative[i] = σ(x[i])` (adroit-forward's
/// `log_exp::log1p_exp`: `x` itself for large `x`, `e^{x}` with all its digits for very negative
/// `x`; `+∞` at `+∞` with derivative 1, `0` at `−∞` with derivative 0).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::log1p_exp_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 3], [0.0_f32; 3]);
/// log1p_exp_entries(&[0.0, 1000.0, -1000.0], &mut value, &mut derivative);
/// assert_eq!(value, [2f32.ln(), 1000.0, 0.0]);
/// assert_eq!(derivative, [0.5, 1.0, 0.0]);
/// ```
#[track_caller]
pub fn log1p_exp_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("log1p_exp_entries", x, value, derivative);
    T::log1p_exp_entries(x, value, derivative);
}

/// `value[i] = ln σ(x[i]) = −ln(1 + e^{−x[i]})` (the log-sigmoid), `derivative[i] = σ(−x[i])`
/// (adroit-forward's `log_exp::log_logistic`: finite for every finite `x`, `−∞` at `−∞` with
/// derivative 1, `−0` at `+∞` with derivative 0).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::log_logistic_entries;
/// let (mut value, mut derivative) = ([0.0_f64; 2], [0.0_f64; 2]);
/// log_logistic_entries(&[0.0, -1000.0], &mut value, &mut derivative);
/// assert_eq!(value, [-(2f64.ln()), -1000.0]); // ln σ(−1000) = −1000, not ln 0
/// assert_eq!(derivative, [0.5, 1.0]);
/// ```
#[track_caller]
pub fn log_logistic_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("log_logistic_entries", x, value, derivative);
    T::log_logistic_entries(x, value, derivative);
}

/// The log-probabilities and probabilities of both classes of a binary classifier's logits:
/// `log_p[i] = ln σ(x[i])`, `log_q[i] = ln σ(−x[i]) = ln(1 − σ(x[i]))`, `p[i] = σ(x[i])`,
/// `q[i] = σ(−x[i])` — [`log_logistic_entries`] and the negated softplus of
/// [`log1p_exp_entries`] in one pass, the same numbers (for `f32` one vectorised kernel sharing
/// the exponential and the logarithm). Each log-probability keeps its digits where its
/// probability is near 1 (no `1 − σ` is formed), and `q` is the derivative of `log_p`, `−p`
/// that of `log_q`: a binary cross-entropy from logits and its gradient, as in
/// adroit-nn's `logitbinarycrossentropy`.
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::log_sigmoid_pair_entries;
/// let mut out = [[0.0_f32; 2]; 4];
/// let [log_p, log_q, p, q] = &mut out;
/// log_sigmoid_pair_entries(&[0.0, 30.0], log_p, log_q, p, q);
/// assert_eq!((log_p[0], log_q[0], p[0], q[0]), (-(2f32.ln()), -(2f32.ln()), 0.5, 0.5));
/// // σ(30) rounds to 1 in f32, but ln σ(30) = −e⁻³⁰ and σ(−30) = e⁻³⁰ keep their digits.
/// assert_eq!((p[1], log_q[1]), (1.0, -30.0));
/// let tail = (-30f32).exp();
/// assert!((log_p[1] / -tail - 1.0).abs() < 1e-6 && (q[1] / tail - 1.0).abs() < 1e-6);
/// ```
#[track_caller]
pub fn log_sigmoid_pair_entries<T: MatScalar>(
    x: &[T],
    log_p: &mut [T],
    log_q: &mut [T],
    p: &mut [T],
    q: &mut [T],
) {
    let n = x.len();
    assert!(
        log_p.len() == n && log_q.len() == n && p.len() == n && q.len() == n,
        "log_sigmoid_pair_entries: {n} inputs, {}, {}, {} and {} outputs (one of each per entry)",
        log_p.len(),
        log_q.len(),
        p.len(),
        q.len()
    );
    T::log_sigmoid_pair_entries(x, log_p, log_q, p, q);
}

/// `value[i] = Φ(x[i])`, the standard normal distribution function, and `derivative[i] =
/// φ(x[i]) = e^{−x[i]²/2}/√(2π)`, its density (adroit-forward's `normal::ndtr`: accurate
/// relative to its value in the left tail; `1` and `0` at `±∞`, density 0 there).
///
/// # Panics
/// If the slices differ in length.
///
/// # Example
/// ```
/// use adroit_reverse::matrix::ndtr_entries;
/// let (mut value, mut derivative) = ([0.0_f32; 2], [0.0_f32; 2]);
/// ndtr_entries(&[0.0, f32::NEG_INFINITY], &mut value, &mut derivative);
/// assert_eq!((value, derivative), ([0.5, 0.0], [0.398_942_3, 0.0])); // φ(0) = 1/√(2π)
/// ```
#[track_caller]
pub fn ndtr_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    check_lengths("ndtr_entries", x, value, derivative);
    T::ndtr_entries(x, value, derivative);
}
