//! `erf` and `erfc` on tape variables: gradients equal forward mode's (the same rules) in f64
//! and f32, and forward-over-reverse Hessians and HVPs (`Var<DualVec>`) equal the hyper-dual
//! ones, mixed partials included.

use adroit_forward::SpecialFunctions;

/// `erf(x·y) + erfc(x − y)·x`, generic over every number type with the error function.
fn f<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).erf() + (v[0] - v[1]).erfc() * v[0]
}

agree_with_forward_mode! {
    f at [(0.6, -0.4), (-1.5, 2.0), (0.0, 0.0), (3.0, 0.25)];
    erf_and_erfc_agree_with_forward_mode_f64: f64;
    erf_and_erfc_agree_with_forward_mode_f32: f32;
}

/// `erfcx` on both sides of its method changes (2 and 12) and negative, times a variable.
fn g<S: SpecialFunctions>(v: &[S]) -> S {
    v[0].erfcx() * v[1] + (v[1] * v[1]).erfcx()
}

agree_with_forward_mode! {
    g at [(0.6, -0.4), (-1.5, 2.0), (2.5, 0.25), (15.0, 3.5), (-4.0, 1.0)];
    erfcx_agrees_with_forward_mode_f64: f64;
    erfcx_agrees_with_forward_mode_f32: f32;
}

/// `ln Φ` and `Φ` (adroit-forward's `normal`) in both tails and across their switches at ±1.
fn h<S: SpecialFunctions>(v: &[S]) -> S {
    use adroit_forward::normal::{log_ndtr, ndtr};
    log_ndtr(v[0] * v[1]) + ndtr(v[0] - v[1]) * v[1]
}

agree_with_forward_mode! {
    h at [(0.6, -0.4), (-1.5, 2.0), (6.0, 1.5), (-30.0, 1.25), (0.5, 2.5)];
    log_ndtr_agrees_with_forward_mode_f64: f64;
    log_ndtr_agrees_with_forward_mode_f32: f32;
}

/// `ndtri` in the middle (`|x| < 1`) and both tails, of a product and of a variable's image in
/// `(0, 1)`.
fn ndtri_of<S: SpecialFunctions>(v: &[S]) -> S {
    (v[0] * v[1]).ndtri() + (v[1] * v[1] / (S::one() + v[1] * v[1])).ndtri() * v[0]
}

agree_with_forward_mode! {
    ndtri_of at [(0.5, 0.9), (0.01, 0.3), (0.999, 0.999), (1e-6, 4.0), (0.7, 0.5)];
    ndtri_agrees_with_forward_mode_f64: f64;
    ndtri_agrees_with_forward_mode_f32: f32;
}

/// The incomplete gamma functions (generic code: the tape records each term of the series
/// or level of the fraction) on both sides of their switch at `x = a + 1`, integer and
/// Stirling-form shapes included.
fn incomplete_gamma_of<S: SpecialFunctions>(v: &[S]) -> S {
    use adroit_forward::incomplete_gamma::{gammainc, gammaincc};
    gammainc(v[0], v[1]) + gammaincc(v[0] * v[0], v[1] + v[0]) * v[1]
}

agree_with_forward_mode! {
    incomplete_gamma_of at [(0.5, 0.3), (2.0, 5.0), (3.0, 2.5), (12.0, 11.0), (1.5, 40.0)];
    incomplete_gamma_agrees_with_forward_mode_f64: f64;
    incomplete_gamma_agrees_with_forward_mode_f32: f32;
}
