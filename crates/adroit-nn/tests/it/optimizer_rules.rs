//! The optimiser rules the state tests run on, and a synthetic problem to run them on.

use adroit_nn::MatScalar;
use adroit_nn::nalgebra::{DMatrix, Scalar};
use adroit_nn::optim::{
    AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, ClipGlobalNorm, ClipNorm, ClipValue, Descent,
    Lion, Masked, Momentum, NAdam, Nesterov, Optimizer, RAdam, RmsProp, Schedule, WeightDecay,
    chain,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Parameter shapes of the synthetic problem.
pub(crate) const SHAPES: [(usize, usize); 3] = [(3, 2), (3, 1), (1, 4)];

/// A deterministic gradient for step `k` (varied signs and sizes, one all-zero step).
pub(crate) fn grads<T: MatScalar>(k: usize) -> Vec<DMatrix<T>> {
    SHAPES
        .iter()
        .enumerate()
        .map(|(a, &(r, c))| {
            DMatrix::from_fn(r, c, |i, j| {
                let v = if k == 4 {
                    0.0
                } else {
                    (0.7 * k as f64 + 1.3 * i as f64 + 0.4 * j as f64 + a as f64).sin()
                        * if k.is_multiple_of(3) { 2.0 } else { 0.2 }
                };
                T::from_f64(v).unwrap()
            })
        })
        .collect()
}

/// Runs `opt` from step `from` to `to` on `params` (θ ← θ + u).
pub(crate) fn advance<T: MatScalar, O: Optimizer<T>>(
    opt: &mut O,
    params: &mut [DMatrix<T>],
    from: usize,
    to: usize,
) {
    for k in from..to {
        let mut updates = grads::<T>(k);
        let refs: Vec<&DMatrix<T>> = params.iter().collect();
        opt.update(&mut updates, &refs);
        for (p, u) in params.iter_mut().zip(&updates) {
            *p += u;
        }
    }
}

/// The parameters at step 0.
pub(crate) fn start<T: MatScalar>() -> Vec<DMatrix<T>> {
    SHAPES
        .iter()
        .map(|&(r, c)| {
            DMatrix::from_fn(r, c, |i, j| {
                T::from_f64(0.1 * (i + 2 * j) as f64 - 0.2).unwrap()
            })
        })
        .collect()
}

/// A check run on each rule of [`every_rule`] (`make` builds a fresh rule).
pub(crate) trait RuleCheck<T: MatScalar> {
    fn run<O>(&self, name: &str, make: impl Fn() -> O)
    where
        O: Optimizer<T> + Serialize + DeserializeOwned + PartialEq + Clone + std::fmt::Debug;
}

fn warmup_cosine() -> Schedule {
    Schedule::Warmup {
        steps: 3,
        then: Box::new(Schedule::Cosine {
            init: 0.05,
            decay_steps: 10,
            alpha: 0.1,
        }),
    }
}

/// Runs `check` on every built-in rule and some compositions, each with settings that give
/// every part of its state a role.
pub(crate) fn every_rule<T, C>(check: &C)
where
    T: MatScalar + Scalar + Serialize + DeserializeOwned,
    C: RuleCheck<T>,
{
    check.run("Descent", || Descent::new(0.1));
    check.run("Descent (step schedule)", || {
        Descent::new(Schedule::Step {
            init: 0.1,
            boundaries_and_scales: vec![(5, 0.5), (10, 0.1)],
        })
    });
    check.run("Momentum", || Momentum::<T>::with_beta(0.05, 0.9));
    check.run("Nesterov", || Nesterov::<T>::with_beta(0.05, 0.8));
    check.run("RmsProp", || RmsProp::<T>::new(0.01));
    check.run("RmsProp (centred)", || {
        RmsProp::<T>::with(0.01, 0.9, 1e-6, true)
    });
    check.run("Adam", || Adam::<T>::new(warmup_cosine()));
    check.run("AdamW (masked decay)", || {
        AdamW::<T>::with(0.02, 0.1, 0.9, 0.999, 1e-8).with_decay_mask(vec![true, false, true])
    });
    check.run("AdaGrad", || AdaGrad::<T>::new(0.1));
    check.run("AdaDelta", || AdaDelta::<T>::new(1.0));
    check.run("AmsGrad", || AmsGrad::<T>::new(0.01));
    check.run("NAdam", || NAdam::<T>::new(0.01));
    check.run("RAdam", || RAdam::<T>::new(0.01));
    check.run("AdaMax", || AdaMax::<T>::new(0.01));
    check.run("Lion (masked decay)", || {
        Lion::<T>::with(0.01, 0.9, 0.99, 0.1).with_decay_mask(vec![false, true, true])
    });
    check.run("Momentum on a mask", || {
        Masked::new(Momentum::<T>::with_beta(0.05, 0.9), vec![true, false, true])
    });
    check.run("WeightDecay+Descent", || {
        chain(WeightDecay::new(0.01), Descent::new(0.1))
    });
    check.run("clipped, masked decay, Adam with warm-up", || {
        chain(
            ClipGlobalNorm::new(1.0),
            chain(
                chain(ClipValue::new(0.8), ClipNorm::new(1.5)),
                chain(
                    Masked::new(WeightDecay::new(0.05), vec![true, false, true]),
                    Adam::<T>::new(warmup_cosine()),
                ),
            ),
        )
    });
}
