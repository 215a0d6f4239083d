//! Parameter initialisers.

use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;
use rand::Rng;

/// Glorot (Xavier) uniform: entries uniform in `±√(6/(fan_in + fan_out))` (Glorot & Bengio
/// 2010; Flux's default for `Dense`). Returns a `fan_out × fan_in` matrix.
///
/// # Panics
/// If the matrix would have more entries than `usize` counts, or more bytes than an allocation
/// can hold (nalgebra does not check the count, and its matrix would then index past its
/// buffer). A size within those limits but beyond the machine's memory fails as any
/// allocation does.
///
/// # Example
/// ```
/// use adroit_nn::{nalgebra, rand};
/// use adroit_nn::rand::SeedableRng;
/// let w: nalgebra::DMatrix<f64> =
///     adroit_nn::init::glorot_uniform(&mut rand::rngs::StdRng::seed_from_u64(0), 3, 4);
/// assert_eq!(w.shape(), (3, 4));
/// assert!(w.amax() <= (6.0f64 / 7.0).sqrt());
/// ```
#[track_caller]
pub fn glorot_uniform<T: MatScalar>(
    rng: &mut impl Rng,
    fan_out: usize,
    fan_in: usize,
) -> DMatrix<T> {
    let bytes = fan_out
        .checked_mul(fan_in)
        .and_then(|n| n.checked_mul(size_of::<T>()));
    assert!(
        bytes.is_some_and(|b| b <= isize::MAX as usize),
        "glorot_uniform: a {fan_out} × {fan_in} matrix has more entries than usize can count"
    );
    let limit = (6.0 / (fan_in as f64 + fan_out as f64).max(1.0)).sqrt();
    DMatrix::from_fn(fan_out, fan_in, |_, _| {
        T::from_f64(rng.random_range(-limit..=limit)).unwrap_or_else(T::zero)
    })
}
