//! The binary cross-entropies' terms and their derivatives over whole slices, each loss one
//! element-wise node: [`binarycrossentropy`](super::binarycrossentropy) on adroit-reverse's
//! [`ln_entries`], [`logitbinarycrossentropy`](super::logitbinarycrossentropy) on
//! [`log_sigmoid_pair_entries`] (vectorised kernels for `f32`).

use crate::activation_slices::{BLOCK, blocks};
use adroit_reverse::matrix::{MatScalar, ln_entries, log_sigmoid_pair_entries};

/// `value[i] = −(xlogy(y, a) + xlogy(1 − y, b))` with `a = ŷ + ε` and `b = (1 + ε) − ŷ`
/// (`xlogy(0, ·) = 0`: a term of zero weight takes no part), and its derivative in `ŷ`,
/// `−(y/a − (1 − y)/b)` with the same convention, for `ŷ = y_hat[i]`, `y = y[i]`.
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn binary_crossentropy_entries<T: MatScalar>(
    y: &[T],
    y_hat: &[T],
    eps: T,
    value: &mut [T],
    derivative: &mut [T],
) {
    let (one, zero) = (T::one(), T::zero());
    let (mut a, mut b, mut ln_b) = ([zero; BLOCK], [zero; BLOCK], [zero; BLOCK]);
    assert_eq!(y.len(), y_hat.len(), "one label per prediction");
    let paired = y.chunks(BLOCK).zip(blocks(y_hat, value, derivative));
    for (y, ((y_hat, value), derivative)) in paired {
        let m = y.len();
        let (a, b, ln_b) = (&mut a[..m], &mut b[..m], &mut ln_b[..m]);
        for ((a, b), &p) in a.iter_mut().zip(b.iter_mut()).zip(y_hat) {
            (*a, *b) = (p + eps, (one + eps) - p);
        }
        // ln a into `value`, ln b into `ln_b`; the logarithms' derivatives are not used (both
        // go to `derivative`, overwritten below).
        ln_entries(a, value, derivative);
        ln_entries(b, ln_b, derivative);
        for (k, (v, d)) in value.iter_mut().zip(derivative.iter_mut()).enumerate() {
            let (w1, w0) = (y[k], one - y[k]);
            let (t1, g1) = if w1 == zero {
                (zero, zero)
            } else {
                (w1 * *v, w1 / a[k])
            };
            let (t0, g0) = if w0 == zero {
                (zero, zero)
            } else {
                (w0 * ln_b[k], w0 / b[k])
            };
            (*v, *d) = (-(t1 + t0), -(g1 - g0));
        }
    }
}

/// `value[i] = w₀·softplus(ŷ) + w₁·ln σ(ŷ)` with `w₀ = 1 − y`, `w₁ = −y`, a term of zero weight
/// taking no part (so an infinite logit on its label's side costs 0), and its derivative in
/// `ŷ`, `w₀·σ(ŷ) + w₁·σ(−ŷ)`, for `ŷ = logits[i]`, `y = y[i]`. A NaN logit gives NaN: the two
/// weights are never both zero. (The derivative needs no `0·NaN = 0` convention: `σ` is finite,
/// and where it is NaN the other term is too.)
///
/// # Panics
/// If the slices differ in length.
pub(crate) fn logit_binary_crossentropy_entries<T: MatScalar>(
    y: &[T],
    logits: &[T],
    value: &mut [T],
    derivative: &mut [T],
) {
    let (one, zero) = (T::one(), T::zero());
    let term = |w: T, l: T| if w == zero { zero } else { w * l };
    let (mut log_q, mut p) = ([zero; BLOCK], [zero; BLOCK]);
    assert_eq!(y.len(), logits.len(), "one label per logit");
    let paired = y.chunks(BLOCK).zip(blocks(logits, value, derivative));
    for (y, ((logits, value), derivative)) in paired {
        let m = y.len();
        let (log_q, p) = (&mut log_q[..m], &mut p[..m]);
        // ln σ(ŷ) into `value`, σ(−ŷ) into `derivative`; softplus(ŷ) = −ln σ(−ŷ).
        log_sigmoid_pair_entries(logits, value, log_q, p, derivative);
        for (k, (v, d)) in value.iter_mut().zip(derivative.iter_mut()).enumerate() {
            let (w0, w1) = (one - y[k], -y[k]);
            (*v, *d) = (term(w0, -log_q[k]) + term(w1, *v), w0 * p[k] + w1 * *d);
        }
    }
}
