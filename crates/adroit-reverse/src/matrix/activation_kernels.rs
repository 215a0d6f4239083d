//! `tanh` and the logistic sigmoid of `f32` matrices with their derivatives, and the
//! exponential, in loops the compiler vectorises: [`MatVar::tanh`](super::MatVar::tanh) and
//! [`MatVar::sigmoid`](super::MatVar::sigmoid) of `f32` entries (recurrent layers' gates,
//! activations) spent most of their time in the C library's scalar `tanhf` and `expf`;
//! [`MatVar::exp`](super::MatVar::exp) and the softmax family's `exp(x − max)` use
//! [`exp_entries`] and [`exp_shifted_in_place`]; ELU in adroit-nn [`expm1_entries`];
//! [`MatVar::softplus`](super::MatVar::softplus) and
//! [`MatVar::log_sigmoid`](super::MatVar::log_sigmoid) (Mish and the logit binary
//! cross-entropy in adroit-nn) [`log1p_exp_entries`] and [`log_logistic_entries`];
//! [`MatVar::ndtr`](super::MatVar::ndtr) (GELU's exact form in adroit-nn) [`ndtr_entries`]
//! (see [`ndtr_with_derivative`]); [`MatVar::ln`](super::MatVar::ln) [`ln_entries`] (see
//! [`ln_with_derivative`]).
//!
//! Both functions are formed from one exponential `e = e^{−k|x|}` (`k = 2` for `tanh`, 1 for
//! the sigmoid), never above 1 and so never overflowing, and its companion
//! `expm1(−k|x|) = e − 1`, accurate where `e` is near 1:
//! - `tanh|x| = −expm1(−2|x|)/(1 + e)`, with the sign of `x` (so `tanh(−0) = −0`);
//!   derivative `1 − tanh²x` for `|x| ≤ ½` and `4e/(1 + e)²` above, where `1 − tanh²`
//!   cancels (adroit-forward's `Tanh` rule switches at 1, with the C library's `tanh`);
//! - `σ(x) = 1/(1 + e)` for `x ≥ 0` and `e/(1 + e)` below, derivative `e/(1 + e)²` (without
//!   the `1 − σ` that cancels for large `x`);
//! - the softplus `ln(1 + eˣ) = max(x, 0) + ln(1 + e)` (`k = 1`), `ln(1 + e)` by the series of
//!   `2·atanh(e/(2 + e))` (see [`log1p_unit`]), derivative `σ(x)` as above; the log-sigmoid
//!   `ln σ(x) = −softplus(−x)`, derivative `σ(−x)`.
//!
//! The exponential reduces its argument by Cody and Waite's method, `y = n·ln 2 + r` with
//! `|r| ≤ ½ ln 2` (`ln 2` split in two so that `n·ln 2`'s first part is exact), evaluates
//! `expm1(r)` by its Taylor series to `r⁸/8!` (truncation ≈ 7·10⁻¹⁰ relative at `|r| = ½ ln 2`,
//! far below `f32`'s 6·10⁻⁸) and
//! scales by `2ⁿ` in two halves, so results down to the subnormal range are formed (J.-M.
//! Muller, *Elementary Functions*, ch. 11). Rounding to an integer and forming `2ⁿ` use the
//! float tricks of adding `1.5·2²³` and shifting the biased exponent, with no conversion
//! that would stop the vectorisation on plain x86-64 (SSE2). No fused multiply-add: the same
//! bits on every machine whose `f32` arithmetic is IEEE single precision (every x86-64 and
//! ARM target; a review hashed the outputs for all 2³² inputs from an SSE2 and an AVX-512
//! build: identical). Not on x87 targets (i586), where extended precision would break both
//! tricks. On x86-64 CPUs with AVX2 the kernels' loops run in a build compiled for AVX2,
//! chosen at run time (eight lanes instead of SSE2's four; the same bits: compared over all
//! 2³² inputs in the vector loop, over a sample with the special values in its remainder).
//!
//! Accuracy, against the functions evaluated in `f64` and rounded to `f32`: `tanh` ≤ 3 ulp,
//! its derivative ≤ 4 ulp, `σ` ≤ 2 ulp, its derivative ≤ 4 ulp (over all 2³² inputs, a
//! review's exhaustive run; the C library's `tanhf` is within 1–2 ulp), `exp` ≤ 1 ulp (over
//! every 7th bit pattern), `expm1` ≤ 1 ulp for `x ≤ 0` and ≤ 3 ulp above (all 2³² inputs),
//! the softplus and the log-sigmoid ≤ 3 ulp, their derivatives ≤ 2 ulp, `Φ` and `φ` ≤ 2 ulp,
//! `ln` ≤ 2 ulp (all 2³² inputs); tests check these bounds over every 9973rd. `σ` is not monotone
//! in the last bit at some points of `[−1.95, −0.69]` (nor was the C library's path). NaN
//! gives NaN (quiet) and NaN; `±∞` gives `±1` (`1`, `0` for `σ`) with derivative 0; the
//! softplus is `+∞` at `+∞` (derivative 1) and `0` at `−∞` (derivative 0).

/// Rounds `v` to an integer (ties to even) for `|v| < 2²²`: adding and subtracting
/// `1.5·2²³` leaves no fraction bits (`roundss` needs SSE4.1).
#[inline(always)]
fn round(v: f32) -> f32 {
    const SHIFT: f32 = 12_582_912.0; // 1.5·2²³
    (v + SHIFT) - SHIFT
}

/// `2ⁿ` for an integer-valued `n` in `[−126, 127]`: `n + 127 + 2²³` holds `n + 127` in its
/// low mantissa bits, which a shift moves into the exponent field.
#[inline(always)]
fn pow2(n: f32) -> f32 {
    const BIASED: f32 = 8_388_735.0; // 2²³ + 127
    f32::from_bits((n + BIASED).to_bits() << 23)
}

/// `ln 2 = LN2_HI + LN2_LO`, `LN2_HI` with 8 trailing zero bits: `n·LN2_HI` is exact for
/// `|n| < 256`.
const LN2_HI: f32 = 0.693_145_75;
/// See [`LN2_HI`].
const LN2_LO: f32 = 1.428_606_8e-6;

/// `(e^y − 1, e^y)` (`(−1, 0)` at `−∞`, `(∞, ∞)` from `y ≈ 88.73`, NaN at NaN).
#[inline(always)]
fn expm1_exp(y: f32) -> (f32, f32) {
    expm1_exp_reduced(y, |clamped, n| (clamped - n * LN2_HI) - n * LN2_LO)
}

/// `e^{high + low}` for `|low| ≤ 0.1` (a sum that does not fit one `f32`): the reduced
/// argument is `((high − n·ln 2_hi) + low) − n·ln 2_lo`, whose first difference is exact.
#[inline(always)]
fn exp_two_part(high: f32, low: f32) -> f32 {
    expm1_exp_reduced(high, |clamped, n| {
        ((clamped - n * LN2_HI) + low) - n * LN2_LO
    })
    .1
}

/// [`expm1_exp`] with the reduced argument `r = y − n·ln 2` formed by `reduce(clamped y, n)`.
#[inline(always)]
fn expm1_exp_reduced(y: f32, reduce: impl Fn(f32, f32) -> f32) -> (f32, f32) {
    const LOG2_E: f32 = core::f32::consts::LOG2_E;
    // Below −104, e^y rounds to 0 in f32 (half the smallest subnormal is 2⁻¹⁵⁰ ≈ e^−103.97);
    // from −110 it is 0 however rounded. Above ln(f32::MAX) ≈ 88.72 it overflows to ∞; at 89
    // the scaling below is still in range (2⁶⁵ twice).
    let clamped = if y < -110.0 { -110.0 } else { y };
    let clamped = if clamped > 89.0 { 89.0 } else { clamped };
    let n = round(clamped * LOG2_E);
    let n = if n.is_nan() { 0.0 } else { n };
    let r = reduce(clamped, n);
    // expm1(r) = r + r²·(1/2! + r/3! + … + r⁶/8!), Horner.
    let mut p = 1.0 / 40_320.0;
    for c in [
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ] {
        p = p * r + c;
    }
    let expm1_r = r + r * (r * p);
    // e^y = 2ⁿ·e^r, scaled by 2^⌊n/2⌋ and then 2^⌈n/2⌉ (each in [2⁻⁸⁰, 2⁶⁵], normal).
    let low = round(n * 0.5 - 0.25);
    let exp = (expm1_r + 1.0) * pow2(low) * pow2(n - low);
    let reduced = n == 0.0;
    let expm1 = if reduced { expm1_r } else { exp - 1.0 };
    let exp = if reduced { expm1_r + 1.0 } else { exp };
    // `y + y`: a signalling NaN comes out quiet, as from arithmetic.
    if y.is_nan() {
        (y + y, y + y)
    } else {
        (expm1, exp)
    }
}

/// `tanh x` and its derivative (see the module docs).
#[inline(always)]
fn tanh_with_derivative(x: f32) -> (f32, f32) {
    let a = x.abs();
    let (expm1, e) = expm1_exp(-2.0 * a);
    let t = -expm1 / (1.0 + e);
    let d = if a > 0.5 {
        4.0 * e / ((1.0 + e) * (1.0 + e))
    } else {
        1.0 - t * t
    };
    (t.copysign(x), d)
}

/// `σ(x) = 1/(1 + e⁻ˣ)` and its derivative (see the module docs).
#[inline(always)]
fn logistic_with_derivative(x: f32) -> (f32, f32) {
    let (_, e) = expm1_exp(-x.abs());
    let value = if x >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    };
    (
        // `x + x`: a signalling NaN comes out quiet, as from arithmetic.
        if x.is_nan() { x + x } else { value },
        e / ((1.0 + e) * (1.0 + e)),
    )
}

/// `2·atanh(s) = ln((1 + s)/(1 − s))` for `|s| ≤ 0.1716` (`(1 + s)/(1 − s)` within
/// `[√½, √2]`), by its series to `s⁹`: the truncation, `s¹¹/11` relative to `2s`, is below
/// 2·10⁻⁹, far below `f32`'s rounding (J.-M. Muller, *Elementary Functions*, ch. 11).
#[inline(always)]
fn two_atanh(s: f32) -> f32 {
    let z = s * s;
    // atanh(s)/s − 1 = z/3 + z²/5 + z³/7 + z⁴/9, Horner.
    let p = z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0))));
    (s + s) + (s + s) * p
}

/// `ln(1 + t)` for `t` in `[0, 1]` (NaN at NaN): [`two_atanh`] of `s = t/(2 + t)` for
/// `t ≤ √2 − 1` and `ln 2 + 2·atanh((t − 1)/(t + 3))` above (the same function, `ln((1 + t)/2)`
/// added to `ln 2`), so `|s| ≤ 0.1716`. `s` is formed from `t` itself, never from a rounded
/// `1 + t`, so tiny `t` keep their digits; below `2⁻²⁴` it is `t` itself.
#[inline(always)]
fn log1p_unit(t: f32) -> f32 {
    const SQRT2_M1: f32 = 0.414_213_57;
    const LN2: f32 = core::f32::consts::LN_2;
    let above = t > SQRT2_M1;
    let (numerator, denominator) = if above {
        (t - 1.0, t + 3.0)
    } else {
        (t, t + 2.0)
    };
    let series = two_atanh(numerator / denominator);
    // Below 2⁻²⁴, ln(1 + t) rounds to t (its relative distance t/2 is under half an ulp); the
    // quotient would round a subnormal t's last bit away.
    const TINY: f32 = 5.960_464_5e-8; // 2⁻²⁴
    if above {
        LN2 + series
    } else if t < TINY {
        t
    } else {
        series
    }
}

/// `ln x` and its derivative `1/x` (adroit-forward's `Ln` rule: `ln(±0) = −∞` with derivative
/// `+∞`, NaN for `x < 0` with the finite derivative `1/x`, `+∞` at `+∞` with derivative 0,
/// NaN and NaN at NaN). `x = 2ᵏ·m` with `m` in `[√½, √2)`, read from the bits (subnormal `x`
/// scaled by `2²³` first), and `ln x = k·ln 2 + 2·atanh((m − 1)/(m + 1))` ([`two_atanh`];
/// `m − 1` is exact), `k·ln 2` in two parts ([`LN2_HI`]: `k·LN2_HI` is exact).
#[inline(always)]
fn ln_with_derivative(x: f32) -> (f32, f32) {
    const SQRT_HALF_BITS: u32 = 0x3f35_04f3; // √½ rounded down
    let subnormal = x < f32::MIN_POSITIVE;
    let scaled = if subnormal { x * 8_388_608.0 } else { x }; // 2²³
    // Subtracting √½'s bits leaves k in the exponent field exactly when m ≥ √½.
    let offset = scaled.to_bits().wrapping_sub(SQRT_HALF_BITS);
    let k = ((offset as i32) >> 23) as f32 - if subnormal { 23.0 } else { 0.0 };
    let m = f32::from_bits((offset & 0x007f_ffff) + SQRT_HALF_BITS);
    let f = m - 1.0;
    let ln = k * LN2_HI + (k * LN2_LO + two_atanh(f / (2.0 + f)));
    let value = if x == 0.0 {
        f32::NEG_INFINITY
    } else if x < 0.0 {
        f32::NAN
    } else if x == f32::INFINITY {
        f32::INFINITY
    } else {
        ln
    };
    // `x + x`: a signalling NaN comes out quiet, as from arithmetic.
    (if x.is_nan() { x + x } else { value }, 1.0 / (x + 0.0))
}

/// `softplus x = ln(1 + eˣ)` and its derivative `σ(x)`: `max(x, 0) + ln(1 + e)` and `1/(1 + e)`
/// or `e/(1 + e)`, from `e = e^{−|x|}` (see [`log1p_unit`]). `+∞` at `+∞` (derivative 1), `0` at
/// `−∞` (derivative 0), NaN and NaN at NaN.
#[inline(always)]
fn log1p_exp_with_derivative(x: f32) -> (f32, f32) {
    let (_, e) = expm1_exp(-x.abs());
    let log1p = log1p_unit(e);
    let positive = x > 0.0;
    let value = if positive { x + log1p } else { log1p };
    let slope = (if positive { 1.0 } else { e }) / (1.0 + e);
    // `x + x`: a signalling NaN comes out quiet, as from arithmetic.
    if x.is_nan() {
        (x + x, x + x)
    } else {
        (value, slope)
    }
}

/// `ln σ(x) = −softplus(−x)` and its derivative `σ(−x)` (adroit-forward's `log_logistic`,
/// formed the same way: `−0` at `+∞`, derivative 0; `−∞` at `−∞`, derivative 1).
#[inline(always)]
fn log_logistic_with_derivative(x: f32) -> (f32, f32) {
    let (value, slope) = log1p_exp_with_derivative(-x);
    (-value, slope)
}

/// `(ln σ(x), ln σ(−x), σ(x), σ(−x))` from one exponential and one logarithm: the same bits
/// as [`log_logistic_with_derivative`] at `x` and [`log1p_exp_with_derivative`] at `x` (whose
/// softplus is `−ln σ(−x)`), NaN payloads aside.
#[inline(always)]
fn log_sigmoid_pair(x: f32) -> (f32, f32, f32, f32) {
    let (_, e) = expm1_exp(-x.abs());
    let log1p = log1p_unit(e);
    let (positive, negative) = (x > 0.0, -x > 0.0);
    // softplus(x) and softplus(−x), each formed as `log1p_exp_with_derivative` forms it.
    let softplus = if positive { x + log1p } else { log1p };
    let softplus_neg = if negative { -x + log1p } else { log1p };
    let sigma = (if positive { 1.0 } else { e }) / (1.0 + e);
    let sigma_neg = (if negative { 1.0 } else { e }) / (1.0 + e);
    if x.is_nan() {
        // `x + x`: a signalling NaN comes out quiet, as from arithmetic.
        (x + x, x + x, x + x, x + x)
    } else {
        (-softplus_neg, -softplus, sigma, sigma_neg)
    }
}

/// `M(u) ≈ t·P(t)`, `t = 1/(1 + u/4)`: the coefficients of `P` (constant term first) for
/// Mills' ratio `M(u) = Φ(−u)/φ(u)` on `[0, 15]`, largest relative error 2.4·10⁻¹⁰ (fitted
/// by `tools/fit_mills_ratio.py`).
const MILLS: [f64; 12] = [
    2.499_949_747_972_696e-1,
    2.501_250_074_757_286e-1,
    2.330_173_635_509_214e-1,
    2.115_595_092_421_613_5e-1,
    1.263_201_798_110_969e-1,
    1.903_469_276_920_500_8e-1,
    -6.553_083_482_177_036e-2,
    1.031_815_416_422_57e-1,
    4.347_521_337_860_279e-2,
    -1.745_323_539_016_239e-1,
    1.061_868_397_595_505_1e-1,
    -2.083_023_158_106_036e-2,
];

/// The standard normal distribution function `Φ(x)` and its density `φ(x) = e^{−x²/2}/√(2π)`:
/// with `u = |x|`, `Φ(−u) = φ(u)·M(u)` (Mills' ratio [`MILLS`], in `f64`), and
/// `Φ(x) = 1 − Φ(−x)` for `x > 0`. `e^{−u²/2}` is [`exp_two_part`] of
/// `u² = h² + (u − h)(u + h)`, `h` the first 12 significant bits of `u` (so `h²` is exact):
/// `u²/2` rounded to `f32` would be off by up to `u²·2⁻²⁵`, a relative error of the same size
/// in the exponential (up to 32 ulp of `φ` for `u` in `[9.5, 10.5]`). `(1, 0)` at `+∞`,
/// `(0, 0)` at `−∞`, NaN and NaN at NaN.
#[inline(always)]
fn ndtr_with_derivative(x: f32) -> (f32, f32) {
    const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
    let u = x.abs();
    // From 15, e^{−u²/2} is 0 in f32; the clamp keeps u² finite (∞ − ∞ would be NaN).
    let clamped = if u > 20.0 { 20.0 } else { u };
    let head = f32::from_bits(clamped.to_bits() & 0xffff_f000);
    let e = exp_two_part(
        -0.5 * (head * head),
        -0.5 * ((clamped - head) * (clamped + head)),
    );
    let density = f64::from(e) * FRAC_1_SQRT_2PI;
    let t = 1.0 / (1.0 + 0.25 * f64::from(u));
    let mut p = MILLS[MILLS.len() - 1];
    for &c in MILLS[..MILLS.len() - 1].iter().rev() {
        p = p * t + c;
    }
    let tail = density * (t * p);
    let cdf = if x > 0.0 { 1.0 - tail } else { tail };
    // `x + x`: a signalling NaN comes out quiet, as from arithmetic.
    if x.is_nan() {
        (x + x, x + x)
    } else {
        (cdf as f32, density as f32)
    }
}

/// Defines the function `$name` whose body `$body` runs, on x86-64 CPUs with AVX2, in a copy
/// compiled for AVX2 (chosen at run time, as `zip_map`'s): the kernels' loops get eight `f32`
/// lanes where the baseline target's SSE2 has four. The body is an `#[inline(always)]`
/// function called by name in both copies, and so are the per-entry functions it calls, so
/// each is inlined into each copy (passed as closures to a generic loop, the larger ones were
/// not, and ran as a call per entry). The results are the same bit for bit — lane-wise IEEE
/// arithmetic and the same integer tricks either way, and no fused multiply-add (Rust never
/// contracts `a·b + c`, and the FMA feature is not enabled); a test compares the two builds.
macro_rules! avx2_dispatched {
    ($(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) $body:block) => {
        $(#[$doc])*
        pub(crate) fn $name($($arg: $ty),*) {
            /// The body, on the instructions of the function it is inlined into.
            #[inline(always)]
            fn run($($arg: $ty),*) $body
            /// The body compiled with AVX2 enabled; calling it is `unsafe` outside code
            /// compiled with AVX2: the CPU must have it.
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            fn avx2($($arg: $ty),*) {
                run($($arg),*);
            }
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                #[allow(unsafe_code)]
                // SAFETY: `avx2` needs AVX2, which the CPU has (tested just above).
                return unsafe { avx2($($arg),*) };
            }
            run($($arg),*);
        }
    };
}

/// Defines `$name(x, value, derivative)`: `(value[i], derivative[i]) = $f(x[i])` for every
/// entry (`$f` an `#[inline(always)]` function), panicking if the slices differ in length; in
/// an AVX2 build where the CPU has it ([`avx2_dispatched`]).
macro_rules! kernel {
    ($(#[$doc:meta])* $name:ident = $f:ident) => {
        avx2_dispatched! {
            $(#[$doc])*
            ///
            /// # Panics
            /// If the slices differ in length.
            fn $name(x: &[f32], value: &mut [f32], derivative: &mut [f32]) {
                assert!(x.len() == value.len() && x.len() == derivative.len());
                for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
                    (*v, *d) = $f(x);
                }
            }
        }
    };
}

kernel! {
    /// `value[i] = tanh x[i]`, `derivative[i] = tanh′ x[i]`.
    tanh_entries = tanh_with_derivative
}

kernel! {
    /// `value[i] = σ(x[i])`, `derivative[i] = σ′(x[i])`.
    logistic_entries = logistic_with_derivative
}

kernel! {
    /// `value[i] = ln(1 + e^{x[i]})`, `derivative[i] = σ(x[i])`.
    log1p_exp_entries = log1p_exp_with_derivative
}

kernel! {
    /// `value[i] = ln σ(x[i])`, `derivative[i] = σ(−x[i])`.
    log_logistic_entries = log_logistic_with_derivative
}

kernel! {
    /// `value[i] = ln x[i]`, `derivative[i] = 1/x[i]`.
    ln_entries = ln_with_derivative
}

kernel! {
    /// `value[i] = Φ(x[i])`, `derivative[i] = φ(x[i])`.
    ndtr_entries = ndtr_with_derivative
}

kernel! {
    /// `value[i] = e^{x[i]}` and `derivative[i]` the same.
    exp_entries = exp_twice
}

kernel! {
    /// `value[i] = e^{x[i]} − 1`, `derivative[i] = e^{x[i]}`.
    expm1_entries = expm1_exp
}

avx2_dispatched! {
    /// `log_p[i] = ln σ(x[i])`, `log_q[i] = ln σ(−x[i])`, `p[i] = σ(x[i])`, `q[i] = σ(−x[i])`:
    /// [`log_logistic_entries`] and the softplus of [`log1p_exp_entries`] (negated) in one
    /// pass, the same bits; in an AVX2 build where the CPU has it, as the kernels above.
    ///
    /// # Panics
    /// If the slices differ in length.
    fn log_sigmoid_pair_entries(
        x: &[f32],
        log_p: &mut [f32],
        log_q: &mut [f32],
        p: &mut [f32],
        q: &mut [f32],
    ) {
        let n = x.len();
        assert!(log_p.len() == n && log_q.len() == n && p.len() == n && q.len() == n);
        let outputs = log_p
            .iter_mut()
            .zip(log_q.iter_mut())
            .zip(p.iter_mut())
            .zip(q.iter_mut());
        for ((((log_p, log_q), p), q), &x) in outputs.zip(x) {
            (*log_p, *log_q, *p, *q) = log_sigmoid_pair(x);
        }
    }
}

/// `(eʸ, eʸ)`: the exponential as its own derivative.
#[inline(always)]
fn exp_twice(y: f32) -> (f32, f32) {
    let e = expm1_exp(y).1;
    (e, e)
}

avx2_dispatched! {
    /// `v ← e^{v − shift}` for every entry (a softmax's terms); in an AVX2 build where the
    /// CPU has it, as the kernels above.
    fn exp_shifted_in_place(values: &mut [f32], shift: f32) {
        for v in values {
            *v = expm1_exp(*v - shift).1;
        }
    }
}

/// `(value[i], derivative[i]) = f(x[i])` for every entry: the loop of the other element
/// types' rules entry by entry, and of `MatVar::map_with_derivative` (on the baseline target's
/// instructions: a user's closure compiled into an AVX2 loop need not be inlined, and a call
/// per entry is slower than the narrower loop).
///
/// # Panics
/// If the slices differ in length.
#[inline(always)]
pub(crate) fn entries<T: Copy>(
    x: &[T],
    value: &mut [T],
    derivative: &mut [T],
    f: impl Fn(T) -> (T, T),
) {
    assert!(x.len() == value.len() && x.len() == derivative.len());
    for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
        (*v, *d) = f(x);
    }
}

#[cfg(test)]
mod tests {
    use super::{
        expm1_exp, ln_with_derivative, log_logistic_with_derivative, log1p_exp_with_derivative,
        logistic_with_derivative, ndtr_with_derivative, tanh_with_derivative,
    };

    /// The distance in representable `f32`s (0 for equal values, NaN with NaN).
    fn ulps(a: f32, b: f32) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        if a.is_nan() || b.is_nan() {
            return u64::MAX;
        }
        let key = |v: f32| {
            let i = i64::from(v.to_bits() as i32);
            if i < 0 { i64::from(i32::MIN) - i } else { i }
        };
        key(a).abs_diff(key(b))
    }

    /// The references in `f64`: `tanh`, `sech²` (from `e^{−2|x|}` where `cosh²` overflows),
    /// `σ`, `σ′`, `exp` and `expm1`.
    fn references(x: f64) -> [f64; 6] {
        let e2 = (-2.0 * x.abs()).exp();
        let e1 = (-x.abs()).exp();
        [
            x.tanh(),
            4.0 * e2 / ((1.0 + e2) * (1.0 + e2)),
            1.0 / (1.0 + (-x).exp()),
            e1 / ((1.0 + e1) * (1.0 + e1)),
            x.exp(),
            x.exp_m1(),
        ]
    }

    /// Asserts that `kernels(x)` is within `bounds` ulp of `references(x)`, entry by entry,
    /// over every 9973rd bit pattern (430,000 values, every binade of both signs), and that
    /// the sample met some rounding in every entry.
    fn within_ulps<const N: usize>(
        bounds: [u64; N],
        kernels: impl Fn(f32) -> [f32; N],
        references: impl Fn(f64) -> [f64; N],
    ) {
        let mut worst = [0; N];
        for bits in (0..=u32::MAX).step_by(9973) {
            let x = f32::from_bits(bits);
            if x.is_nan() {
                continue;
            }
            let got = kernels(x);
            for (k, r) in references(f64::from(x)).into_iter().enumerate() {
                let u = ulps(got[k], r as f32);
                assert!(
                    u <= bounds[k],
                    "entry {k} at {x:e}: {} against {r:e}, {u} ulp",
                    got[k]
                );
                worst[k] = worst[k].max(u);
            }
        }
        assert!(
            worst.iter().all(|&w| w >= 1),
            "the sample reached no rounding: {worst:?}"
        );
    }

    #[test]
    fn within_a_few_ulps_of_the_f64_functions_over_a_sample_of_all_floats() {
        let kernels = |x| {
            let (t, dt) = tanh_with_derivative(x);
            let (s, ds) = logistic_with_derivative(x);
            [t, dt, s, ds, expm1_exp(x).1, expm1_exp(x).0]
        };
        within_ulps([3, 4, 2, 4, 1, 3], kernels, references);
    }

    /// The references in `f64`: softplus, `σ`, `ln σ` and `σ(−x)`.
    fn softplus_references(x: f64) -> [f64; 4] {
        let softplus = |x: f64| {
            if x > 0.0 {
                x + (-x).exp().ln_1p()
            } else {
                x.exp().ln_1p()
            }
        };
        let sigma = |x: f64| 1.0 / (1.0 + (-x).exp());
        [softplus(x), sigma(x), -softplus(-x), sigma(-x)]
    }

    #[test]
    fn softplus_and_log_sigmoid_within_a_few_ulps_over_a_sample_of_all_floats() {
        let kernels = |x| {
            let (v, d) = log1p_exp_with_derivative(x);
            let (lv, ld) = log_logistic_with_derivative(x);
            [v, d, lv, ld]
        };
        // Over all 2³² inputs: 3, 2, 3, 2 ulp.
        within_ulps([3, 2, 3, 2], kernels, softplus_references);
    }

    /// The references in `f64`: `Φ` (adroit-forward's `ndtr`, within 3 ulp in `f64`) and `φ`
    /// (`x²` is exact in `f64` for an `f32` `x`).
    fn ndtr_references(x: f64) -> [f64; 2] {
        let density = (-0.5 * x * x).exp() / (2.0 * core::f64::consts::PI).sqrt();
        [adroit_forward::normal::ndtr(x), density]
    }

    #[test]
    fn ndtr_within_a_few_ulps_over_a_sample_of_all_floats() {
        let kernels = |x| {
            let (v, d) = ndtr_with_derivative(x);
            [v, d]
        };
        // Over all 2³² inputs: 2 and 2 ulp.
        within_ulps([2, 2], kernels, ndtr_references);
    }

    #[test]
    fn ln_within_a_few_ulps_over_a_sample_of_all_floats() {
        // Over all 2³² inputs: 2 ulp. (The derivative is one IEEE division, correctly rounded.)
        within_ulps([2], |x| [ln_with_derivative(x).0], |x: f64| [x.ln()]);
    }

    #[test]
    fn special_values_follow_the_rule_table() {
        let t = tanh_with_derivative;
        let s = logistic_with_derivative;
        assert_eq!(t(0.0), (0.0, 1.0));
        assert!(t(-0.0).0.is_sign_negative());
        assert_eq!(
            (t(f32::INFINITY), t(f32::NEG_INFINITY)),
            ((1.0, 0.0), (-1.0, 0.0))
        );
        assert_eq!((t(20.0).0, t(-1e30)), (1.0, (-1.0, 0.0)));
        assert!(ulps(t(20.0).1, (4.0 * (-40.0f64).exp()) as f32) <= 4);
        assert_eq!(t(1e-30), (1e-30, 1.0));
        assert_eq!(s(0.0), (0.5, 0.25));
        assert_eq!(s(-0.0), (0.5, 0.25));
        assert_eq!(
            (s(f32::INFINITY), s(f32::NEG_INFINITY)),
            ((1.0, 0.0), (0.0, 0.0))
        );
        // Subnormal results are formed, not flushed: σ(−100) = e⁻¹⁰⁰ ≈ 3.7·10⁻⁴⁴.
        assert_eq!(ulps(s(-100.0).0, (-100.0f64).exp() as f32), 0);
        assert!(s(-100.0).0 > 0.0 && s(-105.0).0 == 0.0 && s(-1e30) == (0.0, 0.0));
        let e = |x: f32| expm1_exp(x).1;
        assert_eq!((e(0.0), e(-0.0), e(f32::NEG_INFINITY)), (1.0, 1.0, 0.0));
        assert_eq!(
            (e(f32::INFINITY), e(88.73), e(1e30)),
            (f32::INFINITY, f32::INFINITY, f32::INFINITY)
        );
        assert_eq!(e(88.72), f64::from(88.72f32).exp() as f32); // the largest: no overflow inside
        assert!(e(f32::NAN).is_nan() && expm1_exp(f32::NAN).0.is_nan());
        let p = log1p_exp_with_derivative;
        let l = log_logistic_with_derivative;
        assert_eq!(
            (p(0.0), p(-0.0)),
            (
                (core::f32::consts::LN_2, 0.5),
                (core::f32::consts::LN_2, 0.5)
            )
        );
        assert_eq!(
            (p(f32::INFINITY), p(f32::NEG_INFINITY)),
            ((f32::INFINITY, 1.0), (0.0, 0.0))
        );
        assert_eq!((p(1000.0), p(-1000.0)), ((1000.0, 1.0), (0.0, 0.0)));
        // Tiny values keep their digits: softplus(−100) = e⁻¹⁰⁰ (subnormal), σ(−100) the same.
        assert_eq!(p(-100.0).0, (-100.0f64).exp() as f32);
        assert_eq!(p(-100.0).1, (-100.0f64).exp() as f32);
        assert_eq!(p(-20.0).0, (-20.0f64).exp().ln_1p() as f32);
        assert_eq!(l(0.0), (-core::f32::consts::LN_2, 0.5));
        assert_eq!(
            (l(f32::NEG_INFINITY), l(-1000.0)),
            ((f32::NEG_INFINITY, 1.0), (-1000.0, 1.0))
        );
        assert!(l(f32::INFINITY) == (0.0, 0.0) && l(f32::INFINITY).0.is_sign_negative());
        let n = ndtr_with_derivative;
        assert_eq!(n(0.0), (0.5, 0.398_942_3));
        assert_eq!(n(-0.0), n(0.0));
        assert_eq!(
            (n(f32::INFINITY), n(f32::NEG_INFINITY)),
            ((1.0, 0.0), (0.0, 0.0))
        );
        assert_eq!(
            (n(1e30), n(-1e30), n(16.0), n(-16.0)),
            ((1.0, 0.0), (0.0, 0.0), (1.0, 0.0), (0.0, 0.0))
        );
        // The tail keeps its digits: Φ(−10) = 7.619853e-24, φ(−10) = 7.694599e-23 (mpmath).
        assert!(ulps(n(-10.0).0, 7.619_853e-24) <= 1 && ulps(n(-10.0).1, 7.694_599e-23) <= 1);
        // Subnormal: Φ(−13.5) = 7.8e-42.
        assert!(n(-13.5).0 > 0.0 && n(-13.5).0 < f32::MIN_POSITIVE);
        let ln = ln_with_derivative;
        assert_eq!((ln(1.0), ln(2.0).0), ((0.0, 1.0), core::f32::consts::LN_2));
        assert_eq!(
            (ln(0.0), ln(-0.0)),
            (
                (f32::NEG_INFINITY, f32::INFINITY),
                (f32::NEG_INFINITY, f32::INFINITY)
            )
        );
        assert_eq!(ln(f32::INFINITY), (f32::INFINITY, 0.0));
        assert!(ln(-2.0).0.is_nan() && ln(-2.0).1 == -0.5 && ln(f32::NEG_INFINITY).0.is_nan());
        // Subnormal: the smallest is 2⁻¹⁴⁹.
        assert_eq!(
            ln(f32::from_bits(1)).0,
            (-149.0 * core::f64::consts::LN_2) as f32
        );
        assert_eq!(ln(f32::MAX).0, f64::from(f32::MAX).ln() as f32);
        let quiet = |v: f32| v.is_nan() && v.to_bits() & 0x0040_0000 != 0;
        let signalling = f32::from_bits(0x7f80_0001);
        for f in [t, s, |x| expm1_exp(x), p, l, n, ln] {
            let (v, d) = f(f32::NAN);
            assert!(v.is_nan() && d.is_nan());
            assert!(quiet(f(signalling).0) && quiet(f(signalling).1));
        }
    }

    /// Panics unless every kernel (in the AVX2 build where the CPU has it) gives the same bits
    /// at every entry of `x` as its function called through a pointer (one entry at a time,
    /// never vectorised); `exp_shifted_in_place` too, and `log_sigmoid_pair_entries` the bits
    /// of the log-sigmoid's and the softplus's functions. NaNs may differ in payload only.
    fn same_bits_as_one_at_a_time(x: &[f32]) {
        type Kernel = (
            &'static str,
            fn(&[f32], &mut [f32], &mut [f32]),
            fn(f32) -> (f32, f32),
        );
        let kernels: [Kernel; 8] = [
            ("tanh", super::tanh_entries, tanh_with_derivative),
            ("σ", super::logistic_entries, logistic_with_derivative),
            (
                "softplus",
                super::log1p_exp_entries,
                log1p_exp_with_derivative,
            ),
            (
                "ln σ",
                super::log_logistic_entries,
                log_logistic_with_derivative,
            ),
            ("ln", super::ln_entries, ln_with_derivative),
            ("Φ", super::ndtr_entries, ndtr_with_derivative),
            ("exp", super::exp_entries, super::exp_twice),
            ("expm1", super::expm1_entries, expm1_exp),
        ];
        let n = x.len();
        let first_difference = |a: &[f32], b: &[f32]| {
            a.iter()
                .zip(b)
                .position(|(a, b)| a.to_bits() != b.to_bits() && !(a.is_nan() && b.is_nan()))
        };
        let (mut v, mut d, mut v0, mut d0) =
            (vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for (name, kernel, one) in kernels {
            kernel(x, &mut v, &mut d);
            super::entries(x, &mut v0, &mut d0, one);
            for (what, a, b) in [("value", &v, &v0), ("derivative", &d, &d0)] {
                if let Some(k) = first_difference(a, b) {
                    panic!("{name} {what} at {:e}: {} against {}", x[k], a[k], b[k]);
                }
            }
        }
        // The pair kernel against the log-sigmoid's and the softplus's functions.
        let (mut log_p, mut log_q) = (vec![0.0; n], vec![0.0; n]);
        super::log_sigmoid_pair_entries(x, &mut log_p, &mut log_q, &mut v, &mut d);
        let one_at_a_time = x.iter().map(|&x| {
            let ((lp, q), (sp, p)) = (
                log_logistic_with_derivative(x),
                log1p_exp_with_derivative(x),
            );
            [lp, -sp, p, q]
        });
        for (k, want) in one_at_a_time.enumerate() {
            let got = [log_p[k], log_q[k], v[k], d[k]];
            if first_difference(&got, &want).is_some() {
                panic!("log_sigmoid_pair at {:e}: {got:?} against {want:?}", x[k]);
            }
        }
        let mut shifted = x.to_vec();
        super::exp_shifted_in_place(&mut shifted, 1.5);
        let one_at_a_time: Vec<f32> = x.iter().map(|&v| expm1_exp(v - 1.5).1).collect();
        if let Some(k) = first_difference(&shifted, &one_at_a_time) {
            panic!("exp_shifted_in_place at {:e}", x[k]);
        }
    }

    /// The kernels' loops, AVX2 where the CPU has it, over the special values (signed zeros,
    /// infinities, NaNs, subnormals, extremes) at each of the eight lane positions, then every
    /// 9973rd bit pattern, in one slice, so that an optimised build runs its vector loop on
    /// them (`cargo test --release` checks the vectorised code; a debug build's loops are
    /// scalar); and slices of 1 to 17 entries, which end in the vector loop's remainder.
    #[test]
    fn the_kernels_give_the_bits_of_their_functions_one_at_a_time() {
        let specials = [
            0.0,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MIN_POSITIVE,
            f32::MAX,
            -f32::MAX,
            f32::from_bits(1),
            f32::from_bits(0x8000_0001),
            f32::from_bits(0x7f80_0001),
            f32::NAN,
            -0.5,
            89.0,
            -110.0,
        ];
        let mut x = Vec::new();
        for offset in 0..8 {
            x.extend(core::iter::repeat_n(1.0, offset));
            x.extend(specials);
        }
        x.extend((0..=u32::MAX).step_by(9973).map(f32::from_bits));
        same_bits_as_one_at_a_time(&x);
        for n in 1..=17 {
            same_bits_as_one_at_a_time(&x[..n]);
            same_bits_as_one_at_a_time(&x[8 * 14..8 * 14 + n]);
        }
    }

    /// As above over all 2³² bit patterns, in slices of 2²⁰ (the vector loop: the remainder's
    /// loop sees the sample above):
    /// `cargo test --release -p adroit-reverse --lib every_float -- --ignored` (19 minutes on
    /// one Zen 4 core; it passed on 2026-12-05).
    #[test]
    #[ignore = "exhaustive: 2³² inputs per kernel, for a release build"]
    fn the_kernels_give_the_bits_of_their_functions_one_at_a_time_at_every_float() {
        for block in 0..1u32 << 12 {
            let x: Vec<f32> = (0..1u32 << 20)
                .map(|k| f32::from_bits(block << 20 | k))
                .collect();
            same_bits_as_one_at_a_time(&x);
        }
    }
}
