//! Element-wise passes over parameters on the CPU's wider vector instructions, chosen at run
//! time.

/// Runs `body` in a copy compiled for AVX-512F, or AVX2, when the CPU has it (x86-64), else as
/// compiled: `body`, marked `#[inline(always)]` by the caller, is inlined into each copy, so
/// its loops over `f32` entries run 16 or 8 lanes wide where the baseline target's SSE2 has 4.
/// Callers pass `move` closures: coefficients captured by reference are reloaded at every
/// entry, and the loop stays scalar.
///
/// Results other than NaN are the same bit for bit in every copy: lane-wise IEEE arithmetic,
/// correctly rounded square roots and quotients, and no fused multiply-add (Rust never
/// contracts `a·b + c`, although the AVX-512F copy has FMA enabled). A NaN's sign and payload
/// may differ (Rust leaves them unspecified), and `max`/`min` of `+0` and `−0` may return
/// either zero, as Rust documents for them (the rules never produce `−0` in a state where they
/// take a maximum). AVX-512F is tried first: on AMD Zen 5 it measured a little faster than AVX2
/// (`BENCHMARKS.md` §W.11); on Intel CPUs whose clock drops under 512-bit instructions that
/// was not measured (with the feature `gemm`, their matrix products run on AVX-512 anyway).
pub(crate) fn vectorised<R>(body: impl FnOnce() -> R) -> R {
    #[cfg(test)]
    if let Some(level) = tests::FORCED.with(core::cell::Cell::get) {
        return tests::run_at(level, body);
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
pub(crate) mod tests {
    use crate::optim::{
        AdaDelta, AdaGrad, AdaMax, Adam, AdamW, AmsGrad, ClipGlobalNorm, ClipNorm, ClipValue,
        Descent, Lion, Momentum, NAdam, Nesterov, Optimizer, RAdam, RmsProp, WeightDecay,
    };
    use adroit_reverse::matrix::MatScalar;
    use core::cell::Cell;
    use nalgebra::DMatrix;
    use num_traits::Float;

    /// A copy of [`vectorised`](super::vectorised)'s body.
    #[derive(Clone, Copy, Debug, PartialEq)]
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    pub(crate) enum Level {
        /// As compiled (SSE2 on the default x86-64 target).
        Baseline,
        /// Compiled for AVX2.
        Avx2,
        /// Compiled for AVX-512F.
        Avx512,
    }

    thread_local! {
        /// The copy [`vectorised`](super::vectorised) runs on this thread, set by
        /// [`at_level`].
        pub(super) static FORCED: Cell<Option<Level>> = const { Cell::new(None) };
    }

    /// Runs `body` in the copy `level` (one the CPU has).
    pub(super) fn run_at<R>(level: Level, body: impl FnOnce() -> R) -> R {
        match level {
            Level::Baseline => body(),
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            // SAFETY: `available` lists AVX2 only where the CPU has it.
            Level::Avx2 => unsafe { super::on_avx2(body) },
            #[cfg(target_arch = "x86_64")]
            #[allow(unsafe_code)]
            // SAFETY: `available` lists AVX-512F only where the CPU has it.
            Level::Avx512 => unsafe { super::on_avx512(body) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => unreachable!("no such copy on this target"),
        }
    }

    /// The copies this CPU can run.
    #[cfg_attr(not(target_arch = "x86_64"), allow(unused_mut))]
    pub(crate) fn available() -> Vec<Level> {
        let mut levels = vec![Level::Baseline];
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                levels.push(Level::Avx2);
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                levels.push(Level::Avx512);
            }
        }
        levels
    }

    /// `f()` with every [`vectorised`](super::vectorised) pass on this thread in the copy
    /// `level`, which must be one the CPU has (a panic otherwise: running another would be
    /// undefined behaviour); the previous choice is restored when `f` returns or panics.
    pub(crate) fn at_level<R>(level: Level, f: impl FnOnce() -> R) -> R {
        assert!(
            available().contains(&level),
            "this CPU has no {level:?} copy"
        );
        struct Restore(Option<Level>);
        impl Drop for Restore {
            fn drop(&mut self) {
                FORCED.with(|l| l.set(self.0));
            }
        }
        let _restore = Restore(FORCED.with(|l| l.replace(Some(level))));
        f()
    }

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
            (
                "AdamW (masked decay)",
                Box::new(AdamW::new(0.01).with_decay_mask(vec![true, false, true, false, true])),
            ),
            ("NAdam", Box::new(NAdam::new(0.01))),
            ("RAdam", Box::new(RAdam::new(0.01))),
            ("AmsGrad", Box::new(AmsGrad::new(0.01))),
            ("AdaMax", Box::new(AdaMax::new(0.01))),
            ("AdaGrad", Box::new(AdaGrad::new(0.01))),
            ("AdaDelta", Box::new(AdaDelta::new(1.0))),
            ("Lion", Box::new(Lion::new(0.001))),
            (
                "Lion (masked decay)",
                Box::new(
                    Lion::with(0.001, 0.9, 0.99, 0.1)
                        .with_decay_mask(vec![false, true, true, false, true]),
                ),
            ),
            ("ClipValue", Box::new(ClipValue::new(0.5))),
            ("ClipNorm", Box::new(ClipNorm::new(1.0))),
            ("ClipGlobalNorm", Box::new(ClipGlobalNorm::new(1.0))),
            ("WeightDecay", Box::new(WeightDecay::new(0.1))),
        ]
    }

    /// Step `t`'s gradients: five arrays (lengths 35, 33, 256, 1 and 399: remainders, whole
    /// 16-lane blocks, and more than one pass of a 4 × 16 unrolled loop) with entries of both
    /// signs over twelve orders of magnitude and zeros of both signs; at `t = 7` also NaN,
    /// ±∞, the largest finite value (whose square overflows) and a subnormal.
    fn gradients<T: MatScalar>(t: usize) -> Vec<DMatrix<T>> {
        [(7, 5), (33, 1), (16, 16), (1, 1), (19, 21)]
            .iter()
            .enumerate()
            .map(|(a, &(r, c))| {
                let wide = |v: T| v.to_f64().unwrap_or(f64::NAN);
                DMatrix::from_fn(r, c, |i, j| {
                    let k = (i + r * j + 7 * a + 13 * t) as f64;
                    let v = match (k as usize % 11, t == 7 && (i + j) % 5 == 0) {
                        (0, true) => f64::NAN,
                        (1, true) => f64::INFINITY,
                        (2, true) => f64::NEG_INFINITY,
                        (3, true) => wide(<T as Float>::max_value()),
                        (4, true) => wide(<T as Float>::min_positive_value()) / 4.0,
                        (0, _) => 0.0,
                        (1, _) => -0.0,
                        _ => (k * 0.7).sin() * 10f64.powi((k as i32 % 13) - 6),
                    };
                    T::from(v).unwrap_or_else(T::zero)
                })
            })
            .collect()
    }

    /// Equal bits, or both NaN.
    fn same<T: MatScalar>(a: &[DMatrix<T>], b: &[DMatrix<T>]) -> bool {
        let wide = |v: &T| v.to_f64().unwrap_or(f64::NAN);
        let (a, b) = (
            a.iter().flat_map(|m| m.iter().map(wide)),
            b.iter().flat_map(|m| m.iter().map(wide)),
        );
        a.zip(b)
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
    }

    fn same_as_the_baseline<T: MatScalar>() {
        let params = gradients::<T>(100);
        let refs: Vec<&DMatrix<T>> = params.iter().collect();
        for level in available() {
            for ((name, mut fast), (_, mut baseline)) in rules::<T>().into_iter().zip(rules::<T>())
            {
                // Ten steps: RAdam's rectification starts at the sixth, and a rule's state
                // after a step shows in the later steps' updates.
                for t in 0..10 {
                    let (mut a, mut b) = (gradients::<T>(t), gradients::<T>(t));
                    at_level(level, || fast.update(&mut a, &refs));
                    at_level(Level::Baseline, || baseline.update(&mut b, &refs));
                    assert!(
                        same(&a, &b),
                        "{name} on {level:?}, step {t}: {a:?} against {b:?}"
                    );
                }
            }
        }
    }

    /// Every rule's updates in every copy this CPU can run (AVX-512F, AVX2) equal the baseline
    /// build's bit for bit (NaN for NaN) over ten steps, `f32` and `f64`. Meaningful in an
    /// optimised build, where LLVM vectorises (CI runs it with `--release`); it prints the
    /// copies compared.
    #[test]
    fn every_rule_updates_the_same_bits_in_every_copy() {
        println!("copies compared with the baseline: {:?}", available());
        same_as_the_baseline::<f32>();
        same_as_the_baseline::<f64>();
    }
}
