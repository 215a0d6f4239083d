//! Element-wise passes over parameters on the CPU's wider vector instructions, chosen at run
//! time.

/// Runs `body` in a copy compiled for AVX-512F, or AVX2, when the CPU has it (x86-64), else as
/// compiled: `body`, marked `#[inline(always)]` by the caller, is inlined into each copy, so
/// its loops over `f32` entries run 16 or 8 lanes wide where the baseline target's SSE2 has 4.
/// The results are the same bit for bit: lane-wise IEEE arithmetic, and no fused multiply-add
/// (Rust never contracts `a·b + c`, and the FMA feature is not enabled).
pub(crate) fn vectorised<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(test)]
    if BASELINE_ONLY.with(core::cell::Cell::get) {
        return body();
    }
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            #[allow(unsafe_code)]
            // SAFETY: `on_avx512` needs AVX-512F, which the CPU has (tested just above).
            return unsafe { on_avx512(body) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: `on_avx2` needs AVX2, which the CPU has (tested just above).
            return unsafe { on_avx2(body) };
        }
    }
    body()
}

#[cfg(test)]
thread_local! {
    /// Set by the tests: [`vectorised`] runs `body` as compiled, the build a CPU without
    /// AVX2 runs, to compare the two on this one.
    static BASELINE_ONLY: core::cell::Cell<bool> = const { core::cell::Cell::new(false) };
}

/// `body()` compiled with AVX-512F enabled; calling it is `unsafe` outside code compiled with
/// AVX-512F: the CPU must have it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
fn on_avx512<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// `body()` compiled with AVX2 enabled; calling it is `unsafe` outside code compiled with AVX2:
/// the CPU must have it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn on_avx2<R>(body: impl FnOnce() -> R) -> R {
    body()
}

#[cfg(test)]
mod tests {
    use super::BASELINE_ONLY;
    use crate::optim::{
        AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, ClipGlobalNorm, ClipNorm, ClipValue,
        Descent, Lion, Momentum, NAdam, Nesterov, Optimizer, RAdam, RmsProp, WeightDecay,
    };
    use adroit_reverse::matrix::MatScalar;
    use nalgebra::DMatrix;

    /// Every rule, fresh.
    fn rules<T: MatScalar>() -> Vec<(&'static str, Box<dyn Optimizer<T>>)> {
        vec![
            ("Descent", Box::new(Descent::new(0.1))),
            ("Momentum", Box::new(Momentum::new(0.1))),
            ("Nesterov", Box::new(Nesterov::new(0.1))),
            ("RmsProp", Box::new(RmsProp::new(0.01))),
            ("RmsProp centred", Box::new(RmsProp::centred(0.01))),
            ("Adam", Box::new(Adam::new(0.01))),
            ("AdamW", Box::new(AdamW::new(0.01))),
            ("NAdam", Box::new(NAdam::new(0.01))),
            ("RAdam", Box::new(RAdam::new(0.01))),
            ("AmsGrad", Box::new(AmsGrad::new(0.01))),
            ("AdaMax", Box::new(AdaMax::new(0.01))),
            ("AdaGrad", Box::new(AdaGrad::new(0.01))),
            ("AdaDelta", Box::new(AdaDelta::new(1.0))),
            ("Lion", Box::new(Lion::new(0.001))),
            ("ClipValue", Box::new(ClipValue::new(0.5))),
            ("ClipNorm", Box::new(ClipNorm::new(1.0))),
            ("ClipGlobalNorm", Box::new(ClipGlobalNorm::new(1.0))),
            ("WeightDecay", Box::new(WeightDecay::new(0.1))),
        ]
    }

    /// Step `t`'s gradients: four arrays (lengths 35, 33, 256, 1: whole 16-lane blocks and
    /// remainders) with entries of both signs over twelve orders of magnitude, zeros of both
    /// signs among them.
    fn gradients<T: MatScalar>(t: usize) -> Vec<DMatrix<T>> {
        [(7, 5), (33, 1), (16, 16), (1, 1)]
            .iter()
            .enumerate()
            .map(|(a, &(r, c))| {
                DMatrix::from_fn(r, c, |i, j| {
                    let k = (i + r * j + 7 * a + 13 * t) as f64;
                    let v = match k as usize % 11 {
                        0 => 0.0,
                        1 => -0.0,
                        _ => (k * 0.7).sin() * 10f64.powi((k as i32 % 13) - 6),
                    };
                    T::from(v).unwrap_or_else(T::zero)
                })
            })
            .collect()
    }

    /// Bits of every entry, for exact comparison (NaN included).
    fn bits<T: MatScalar>(arrays: &[DMatrix<T>]) -> Vec<f64> {
        arrays
            .iter()
            .flat_map(|a| a.iter().map(|v| v.to_f64().unwrap_or(f64::NAN)))
            .collect()
    }

    fn same_bits_as_the_baseline<T: MatScalar>() {
        let params = gradients::<T>(100);
        let refs: Vec<&DMatrix<T>> = params.iter().collect();
        for ((name, mut wide), (_, mut baseline)) in rules::<T>().into_iter().zip(rules::<T>()) {
            // Ten steps: RAdam's rectification starts at the sixth.
            for t in 0..10 {
                let (mut a, mut b) = (gradients::<T>(t), gradients::<T>(t));
                wide.update(&mut a, &refs);
                BASELINE_ONLY.with(|f| f.set(true));
                baseline.update(&mut b, &refs);
                BASELINE_ONLY.with(|f| f.set(false));
                let (a, b) = (bits(&a), bits(&b));
                let same = a.iter().zip(&b).all(|(x, y)| x.to_bits() == y.to_bits());
                assert!(same, "{name}, step {t}: {a:?} against {b:?}");
            }
        }
    }

    /// Every rule's updates in the build chosen at run time (AVX-512F or AVX2 where the CPU
    /// has them) equal the baseline build's bit for bit over ten steps, `f32` and `f64`.
    #[test]
    fn every_rule_updates_the_same_bits_as_the_baseline_build() {
        same_bits_as_the_baseline::<f32>();
        same_bits_as_the_baseline::<f64>();
    }
}
