//! The check of the `weights_load` fuzz target, shared with adroit-nn's tests (which replay the
//! seeds in `fuzz/seeds/weights_load/`): arbitrary bytes loaded as a safetensors weight file
//! into small models (`f32` and `f64`, a `Chain` of two `Dense` layers around a `LayerNorm`).
//! Nothing may panic; a refused load leaves the model as it was (checked on a model whose
//! values differ from every seed's, so a partial write shows); an accepted one leaves every
//! parameter finite and of its shape, and where both element types accept the bytes, the `f32`
//! model holds the `f64` model's values rounded to `f32` (`F64` tensors round to nearest,
//! `F32` ones widen exactly).

use adroit_nn::adroit_reverse::matrix::MatScalar;
use adroit_nn::io::load_safetensors_bytes;
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::rand::SeedableRng;
use adroit_nn::rand::rngs::StdRng;
use adroit_nn::{Activation, Chain, Dense, Layer, LayerNorm};

/// The model the seeds were saved from (`seed` 0; the check loads into seed 1): 3 → 4 (tanh) →
/// layer norm → 2.
pub fn model<T: MatScalar>(seed: u64) -> Chain<T> {
    let mut rng = StdRng::seed_from_u64(seed);
    // The layer norm starts at γ = 1, β = 0 whatever the seed: shift it by the seed, so that
    // every parameter of the checked model differs from the seeds' (seed 0: unshifted).
    let mut norm = LayerNorm::new(4);
    let shift = T::from_u64(seed).unwrap_or_else(T::zero);
    norm.scale = norm.scale.add_scalar(shift);
    norm.bias = norm.bias.add_scalar(shift);
    Chain::new()
        .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
        .push(norm)
        .push(Dense::new(4, 2, Activation::Identity, &mut rng))
}

/// The parameters of `m`, in its visiting order.
fn params<T: MatScalar>(m: &Chain<T>) -> Vec<DMatrix<T>> {
    let mut out = Vec::new();
    m.visit_params(&mut |p| out.push(p.clone()));
    out
}

/// Loads `data` into a fresh model of each element type and checks the outcome (panics on a
/// violation); returns whether each load was accepted (`f32`, `f64`).
pub fn check_weights_bytes(data: &[u8]) -> (bool, bool) {
    let (narrow, wide) = (check::<f32>(data), check::<f64>(data));
    if let (Some(narrow), Some(wide)) = (&narrow, &wide) {
        for (n, w) in narrow.iter().zip(wide) {
            let rounded = w.map(|v| v as f32);
            assert_eq!(
                n, &rounded,
                "the f32 model's values are not the f64 model's, rounded"
            );
        }
    }
    (narrow.is_some(), wide.is_some())
}

/// [`check_weights_bytes`] for one element type: the loaded parameters if accepted.
fn check<T: MatScalar>(data: &[u8]) -> Option<Vec<DMatrix<T>>> {
    let mut m = model::<T>(1);
    let before = params(&m);
    let accepted = load_safetensors_bytes(&mut m, data).is_ok();
    let after = params(&m);
    assert_eq!(after.len(), before.len());
    for (a, b) in after.iter().zip(&before) {
        assert_eq!(a.shape(), b.shape(), "a parameter changed shape");
        if accepted {
            assert!(
                a.iter().all(|v| v.is_finite()),
                "a loaded parameter is not finite"
            );
        } else {
            assert_eq!(a, b, "a refused load changed the model");
        }
    }
    accepted.then_some(after)
}
