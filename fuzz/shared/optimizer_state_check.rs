//! The check of the `optimizer_state` fuzz target, shared with adroit-nn's tests (which replay
//! the seeds in `fuzz/seeds/optimizer_state/`): arbitrary bytes read with serde_json as the
//! checkpoint of thirteen optimiser rules and two compositions (not the clipping rules and
//! weight decay alone), in `f32` and `f64`, then used for two steps on a small model. Nothing
//! may panic; a step refused with an error leaves the model and the rule's state as they were
//! (the state as serialised: NaN and ±∞ all serialise as `null`, so among non-finite entries
//! a change is not seen); an accepted one leaves every parameter finite.

use adroit_nn::adroit_reverse::matrix::MatScalar;
use adroit_nn::nalgebra::DMatrix;
use adroit_nn::optim::{
    AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, Chained, ClipGlobalNorm, Descent, Lion,
    Masked, Momentum, NAdam, Nesterov, Optimizer, RAdam, RmsProp, step,
};
use adroit_nn::{Activation, Chain, Dense, Layer};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The model the seeds were stepped on: 2 → 3 (tanh) → 1, four parameters.
pub fn model<T: MatScalar>() -> Chain<T> {
    let w1 = DMatrix::from_fn(3, 2, |i, j| {
        T::from(0.1 * (i + 2 * j) as f64 - 0.2).unwrap()
    });
    let w2 = DMatrix::from_fn(1, 3, |_, j| T::from(0.3 - 0.2 * j as f64).unwrap());
    Chain::new()
        .push(Dense::from_parts(w1, Some(DMatrix::zeros(3, 1)), Activation::Tanh).unwrap())
        .push(Dense::from_parts(w2, Some(DMatrix::zeros(1, 1)), Activation::Identity).unwrap())
}

/// Step `k`'s gradients for [`model`]: finite, of both signs.
pub fn gradients<T: MatScalar>(k: usize) -> Chain<T> {
    let mut g = model::<T>();
    let mut n = k;
    g.visit_mut(&mut |p| {
        for v in p.iter_mut() {
            n += 1;
            *v = T::from(((n * 37 % 17) as f64 - 8.0) * 0.125).unwrap();
        }
    });
    g
}

/// The parameters of `m`, in its visiting order.
fn params<T: MatScalar>(m: &Chain<T>) -> Vec<DMatrix<T>> {
    let mut out = Vec::new();
    m.visit_params(&mut |p| out.push(p.clone()));
    out
}

/// What the bytes did: the rules that read them (`"Adam f32"`, …) and the steps refused.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The rules (and element types) that read the bytes.
    pub read: Vec<String>,
    /// Steps refused with an error, over all of them.
    pub refused: usize,
}

/// Reads `data` as an `O` and, if it reads, takes two steps with it (panics on a violation),
/// recording the outcome under `name`.
fn check_rule<T, O>(data: &[u8], name: &str, outcome: &mut Outcome)
where
    T: MatScalar,
    O: Optimizer<T> + Serialize + DeserializeOwned,
{
    let Ok(mut opt) = serde_json::from_slice::<O>(data) else {
        return;
    };
    let bits = if size_of::<T>() == 4 { "f32" } else { "f64" };
    outcome.read.push(format!("{name} {bits}"));
    let serialised = |opt: &O| serde_json::to_string(opt).expect("a rule serialises");
    let mut m = model::<T>();
    for k in 0..2 {
        let (before, state) = (params(&m), serialised(&opt));
        match step(&mut opt, &mut m, gradients(k)) {
            Ok(()) => {
                let after = params(&m);
                assert!(
                    after.iter().all(|p| p.iter().all(|v| v.is_finite())),
                    "an accepted step left a parameter not finite"
                );
            }
            Err(_) => {
                outcome.refused += 1;
                assert_eq!(params(&m), before, "a refused step changed the model");
                assert_eq!(
                    serialised(&opt),
                    state,
                    "a refused step changed the rule's state"
                );
            }
        }
    }
}

/// [`check_rule`] for every rule in element type `T`.
fn check_all<T: MatScalar + Serialize + DeserializeOwned>(data: &[u8], out: &mut Outcome) {
    check_rule::<T, Descent>(data, "Descent", out);
    check_rule::<T, Momentum<T>>(data, "Momentum", out);
    check_rule::<T, Nesterov<T>>(data, "Nesterov", out);
    check_rule::<T, RmsProp<T>>(data, "RmsProp", out);
    check_rule::<T, Adam<T>>(data, "Adam", out);
    check_rule::<T, AdamW<T>>(data, "AdamW", out);
    check_rule::<T, NAdam<T>>(data, "NAdam", out);
    check_rule::<T, RAdam<T>>(data, "RAdam", out);
    check_rule::<T, AmsGrad<T>>(data, "AmsGrad", out);
    check_rule::<T, AdaMax<T>>(data, "AdaMax", out);
    check_rule::<T, AdaGrad<T>>(data, "AdaGrad", out);
    check_rule::<T, AdaDelta<T>>(data, "AdaDelta", out);
    check_rule::<T, Lion<T>>(data, "Lion", out);
    check_rule::<T, Masked<Momentum<T>>>(data, "Masked<Momentum>", out);
    check_rule::<T, Chained<ClipGlobalNorm, Adam<T>>>(data, "ClipGlobalNorm+Adam", out);
}

/// Checks `data` as every rule's checkpoint in `f32` and `f64` (panics on a violation).
pub fn check_optimizer_bytes(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::default();
    check_all::<f32>(data, &mut outcome);
    check_all::<f64>(data, &mut outcome);
    outcome
}
