//! The check of the `weights_load` fuzz target, shared with adroit-nn's tests (which replay the
//! seeds in `fuzz/seeds/weights_load/`): arbitrary bytes loaded as a safetensors weight file
//! into small models (`f32` and `f64`, a `Chain` of two `Dense` layers around a `LayerNorm`).
//! Nothing may panic; a refused load leaves the model as it was; an accepted one leaves every
//! parameter finite and of its shape.

use adroit_nn::adroit_reverse::matrix::MatScalar;
use adroit_nn::io::load_safetensors_bytes;
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::rand::SeedableRng;
use adroit_nn::rand::rngs::StdRng;
use adroit_nn::{Activation, Chain, Dense, Layer, LayerNorm};

/// The model the seeds were saved from: 3 → 4 (tanh) → layer norm → 2, seeded.
pub fn model<T: MatScalar>() -> Chain<T> {
    let mut rng = StdRng::seed_from_u64(0);
    Chain::new()
        .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
        .push(LayerNorm::new(4))
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
    (check::<f32>(data), check::<f64>(data))
}

/// [`check_weights_bytes`] for one element type.
fn check<T: MatScalar>(data: &[u8]) -> bool {
    let mut m = model::<T>();
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
    accepted
}
