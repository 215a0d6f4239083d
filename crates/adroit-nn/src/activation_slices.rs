//! GELU (`tanh` and `erf` forms), SiLU (swish), ELU/SELU and Mish over whole slices, built on
//! adroit-reverse's [`logistic_entries`], [`ndtr_entries`], [`expm1_entries`],
//! [`log1p_exp_entries`] and [`tanh_entries`] (vectorised kernels for `f32`):
//! [`Activation::apply`]'s path for them, the functions of [`activation`](crate::activation) with
//! their derivatives written out (the `0·∞ = 0` convention of adroit-forward's [`chain_product`]
//! where an infinite `x` meets a zero `σ′`, as the dual numbers give).
//!
//! [`Activation::apply`]: crate::Activation::apply

use crate::activation::c;
use adroit_forward::chain_product;
use adroit_reverse::matrix::{
    MatScalar, expm1_entries, log1p_exp_entries, logistic_entries, ndtr_entries, tanh_entries,
};

/// SiLU `x·σ(x)` and its derivative `σ(x) + x·σ′(x)` of each entry of `x`.
pub(crate) fn swish_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    logistic_entries(x, value, derivative);
    for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
        let s = *v;
        (*v, *d) = (x * s, s + chain_product(x, *d));
    }
}

/// GELU's `tanh` form `x·σ(z)`, `z = 2k(x + 0.044715x³)`, `k = √(2/π)` (see
/// [`gelu_tanh`](crate::activation::gelu_tanh)), and its derivative
/// `σ(z) + x·σ′(z)·2k(1 + 3·0.044715x²)` of each entry of `x`.
pub(crate) fn gelu_tanh_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    let two_k: T = c(2.0 * (2.0 / core::f64::consts::PI).sqrt());
    let (a, three_a): (T, T) = (c(0.044_715), c(3.0 * 0.044_715));
    let mut scratch = [T::zero(); BLOCK];
    for ((x, value), derivative) in blocks(x, value, derivative) {
        // z, then σ(z) and σ′(z).
        let z = &mut scratch[..x.len()];
        for (z, &x) in z.iter_mut().zip(x) {
            *z = two_k * (x + a * x * x * x);
        }
        logistic_entries(z, value, derivative);
        for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
            let s = *v;
            let slope = two_k * (T::one() + three_a * x * x);
            (*v, *d) = (x * s, s + chain_product(x, chain_product(*d, slope)));
        }
    }
}

/// GELU's exact form `x·Φ(x)` (see [`gelu_erf`](crate::activation::gelu_erf)) and its
/// derivative `Φ(x) + x·φ(x)` of each entry of `x`.
pub(crate) fn gelu_erf_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    ndtr_entries(x, value, derivative);
    for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
        let cdf = *v;
        (*v, *d) = (x * cdf, cdf + chain_product(x, *d));
    }
}

/// `scale·elu(x, α)` — `scale·x` for `x > 0`, `scale·α·(eˣ − 1)` otherwise (see
/// [`elu`](crate::activation::elu); SELU is `scale = λ`) — and its derivative `scale` or
/// `scale·α·eˣ`, of each entry of `x`.
pub(crate) fn elu_entries<T: MatScalar>(
    x: &[T],
    value: &mut [T],
    derivative: &mut [T],
    alpha: T,
    scale: T,
) {
    expm1_entries(x, value, derivative);
    for ((v, d), &x) in value.iter_mut().zip(derivative.iter_mut()).zip(x) {
        (*v, *d) = if x > T::zero() {
            (scale * x, scale)
        } else {
            (scale * (alpha * *v), scale * chain_product(alpha, *d))
        };
    }
}

/// Mish `x·tanh(softplus(x))` (see [`mish`](crate::activation::mish)) and its derivative
/// `tanh(softplus(x)) + x·tanh′(softplus(x))·σ(x)` of each entry of `x`.
pub(crate) fn mish_entries<T: MatScalar>(x: &[T], value: &mut [T], derivative: &mut [T]) {
    let (mut softplus, mut sigma) = ([T::zero(); BLOCK], [T::zero(); BLOCK]);
    for ((x, value), derivative) in blocks(x, value, derivative) {
        // softplus and σ: the input and a factor of the tanh's pass.
        let (softplus, sigma) = (&mut softplus[..x.len()], &mut sigma[..x.len()]);
        log1p_exp_entries(x, softplus, sigma);
        tanh_entries(softplus, value, derivative);
        for (((v, d), &x), &sigma) in value
            .iter_mut()
            .zip(derivative.iter_mut())
            .zip(x)
            .zip(&*sigma)
        {
            let t = *v;
            (*v, *d) = (x * t, t + chain_product(x, chain_product(*d, sigma)));
        }
    }
}

/// Entries per block of the functions that need scratch space between two kernels (on the
/// stack, up to three buffers: 1 KiB each for `f32`, 26 KiB for the 12-lane duals of
/// `matrix::hessian`); the binary cross-entropies' too.
pub(crate) const BLOCK: usize = 256;

/// `x`, `value` and `derivative` in matching blocks of [`BLOCK`] entries.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn blocks<'a, T>(
    x: &'a [T],
    value: &'a mut [T],
    derivative: &'a mut [T],
) -> impl Iterator<Item = ((&'a [T], &'a mut [T]), &'a mut [T])> {
    assert!(x.len() == value.len() && x.len() == derivative.len());
    x.chunks(BLOCK)
        .zip(value.chunks_mut(BLOCK))
        .zip(derivative.chunks_mut(BLOCK))
}
