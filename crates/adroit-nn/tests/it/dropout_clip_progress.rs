//! The gradient through [`Dropout`] in train mode against the mask read off the forward output
//! and against finite differences of the same seeded forward pass, and the fraction it drops;
//! [`ClipGlobalNorm`] across
//! arrays of different shapes against `g·min(1, c/‖g‖_global)` computed here; and `train` with
//! the progress bar on against the same run with it off.

use adroit_check::fd;
use adroit_nn::data::DataLoader;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::{Adam, ClipGlobalNorm, ClipNorm, Optimizer};
use adroit_nn::{Activation, Chain, Context, Dense, Dropout, Layer, Mode, TrainConfig, train};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;

#[test]
fn dropout_gradient_is_the_mask_scaled_by_one_over_one_minus_p() {
    let p = 0.3;
    let layer = Dropout::new(p).unwrap();
    let keep = 1.0 / (1.0 - p);
    // Nonzero inputs, so the mask is readable as y/x; an upstream cotangent with distinct
    // entries.
    let x = DMatrix::from_fn(6, 7, |i, j| 0.25 + 0.5 * i as f64 - 0.3 * j as f64 + 0.01);
    assert!(x.iter().all(|&v| v != 0.0));
    let w = DMatrix::from_fn(6, 7, |i, j| ((i * 7 + j) as f64 * 0.71).cos());
    let seed = 11;
    let (y, pb) = matrix::pullback(
        |m| layer.forward(m[0], &mut Context::new(Mode::Train, seed)),
        std::slice::from_ref(&x),
    );
    // The mask, read off the forward output: each entry 0 or 1/(1 − p).
    let mask = y.component_div(&x);
    for &m in mask.iter() {
        assert!(
            m == 0.0 || (m - keep).abs() < 1e-14,
            "mask entry {m} is neither 0 nor {keep}"
        );
    }
    let dropped = mask.iter().filter(|&&m| m == 0.0).count();
    assert!(
        0 < dropped && dropped < mask.len(),
        "{dropped} of {} dropped: the mask must mix both",
        mask.len()
    );
    // Backward: the upstream gradient times the same mask.
    let g = pb.call(&w).remove(0);
    let expected = w.component_mul(&mask);
    assert!(
        (&g - &expected).amax() < 1e-14,
        "{g} vs w ⊙ mask {expected}"
    );
    // Finite differences of x ↦ Σ w ⊙ dropout(x) with the same seed (same mask every call).
    let f = |v: &[f64]| {
        let xv = DMatrix::from_column_slice(6, 7, v);
        let (out, _) = matrix::pullback(
            |_| {
                layer.forward(
                    MatVar::constant(xv.clone()),
                    &mut Context::new(Mode::Train, seed),
                )
            },
            &[],
        );
        out.component_mul(&w).sum()
    };
    let numeric = fd::gradient(f, x.as_slice());
    for (k, (a, b)) in g.iter().zip(&numeric).enumerate() {
        assert!(
            (a - b).abs() < 1e-8,
            "entry {k}: {a} vs finite difference {b}"
        );
    }
    // Eval mode: the identity, gradient = upstream.
    let (_, pb) = matrix::pullback(
        |m| layer.forward(m[0], &mut Context::new(Mode::Eval, seed)),
        std::slice::from_ref(&x),
    );
    assert_eq!(pb.call(&w).remove(0), w);
}

/// The fraction dropped over 10⁵ entries is `p` within five standard deviations of a binomial
/// count, for small, middle and large `p`; the kept entries are exactly `1/(1 − p)` for an input
/// of ones; another seed gives another mask; and `p` below the draws' resolution (2⁻³³) drops
/// nothing.
#[test]
fn dropout_drops_a_fraction_p_of_the_entries() {
    let x = DMatrix::from_element(200, 500, 1.0);
    let run = |p: f64, seed: u64| {
        let layer = Dropout::new(p).unwrap();
        matrix::pullback(
            |_| {
                layer.forward(
                    MatVar::constant(x.clone()),
                    &mut Context::new(Mode::Train, seed),
                )
            },
            &[],
        )
        .0
    };
    let n = x.len() as f64;
    for p in [0.01, 0.1, 0.3, 0.5, 0.75, 0.99] {
        let y = run(p, 21);
        let keep = 1.0 / (1.0 - p);
        assert!(y.iter().all(|&v| v == 0.0 || v == keep), "p = {p}");
        let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64;
        let sigma = (n * p * (1.0 - p)).sqrt();
        assert!(
            (dropped - n * p).abs() < 5.0 * sigma,
            "p = {p}: {dropped} of {n} dropped, expected {} ± {sigma}",
            n * p
        );
        assert!(run(p, 22) != y, "p = {p}: another seed, another mask");
    }
    assert!(
        run(1e-12, 21).iter().all(|&v| v != 0.0),
        "p = 1e-12 is below the draws' resolution"
    );
}

/// Gradients of four different shapes.
fn grads() -> Vec<DMatrix<f64>> {
    vec![
        DMatrix::from_fn(2, 3, |i, j| 0.4 * i as f64 - 0.3 * j as f64 + 0.1),
        DMatrix::from_element(1, 1, -0.7),
        DMatrix::from_fn(4, 1, |i, _| 0.2 * i as f64 - 0.35),
        DMatrix::from_fn(1, 2, |_, j| 0.6 - 1.1 * j as f64),
    ]
}

#[test]
fn clip_global_norm_scales_all_arrays_by_the_joint_norm() {
    let g = grads();
    let global = g
        .iter()
        .flat_map(|m| m.iter())
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt();
    let largest_single = g.iter().map(|m| m.norm()).fold(0.0, f64::max);
    // A bound below the global norm but above every array's own norm: per-array clipping
    // would change nothing, global clipping must scale every array.
    let c = 0.5 * (global + largest_single);
    assert!(
        largest_single < c && c < global,
        "{largest_single} {c} {global}"
    );
    let params: Vec<DMatrix<f64>> = g.iter().map(|m| m.map(|_| 0.0)).collect();
    let param_refs: Vec<&DMatrix<f64>> = params.iter().collect();
    for bound in [c, 0.3, global * 2.0] {
        let mut updates = g.clone();
        ClipGlobalNorm::new(bound).update(&mut updates, &param_refs);
        let factor = (bound / global).min(1.0);
        for (k, (u, orig)) in updates.iter().zip(&g).enumerate() {
            assert_eq!(u.shape(), orig.shape());
            let expected = orig * factor;
            assert!(
                (u - &expected).amax() < 1e-15,
                "bound {bound}, array {k}: {u} vs g·min(1, c/‖g‖) = {expected}"
            );
        }
        let after = updates
            .iter()
            .flat_map(|m| m.iter())
            .map(|v| v * v)
            .sum::<f64>()
            .sqrt();
        assert!(
            (after - global.min(bound)).abs() < 1e-14,
            "global norm after clipping {after}"
        );
    }
    // The contrast: per-array clipping at the same bound leaves them all unchanged.
    let mut per_array = g.clone();
    ClipNorm::new(c).update(&mut per_array, &param_refs);
    assert_eq!(per_array, g);
    // f32: the same scaling.
    let g32: Vec<DMatrix<f32>> = g.iter().map(|m| m.map(|v| v as f32)).collect();
    let p32: Vec<DMatrix<f32>> = g32.iter().map(|m| m.map(|_| 0.0)).collect();
    let p32_refs: Vec<&DMatrix<f32>> = p32.iter().collect();
    let mut u32s = g32.clone();
    ClipGlobalNorm::new(c).update(&mut u32s, &p32_refs);
    for (u, orig) in u32s.iter().zip(&g) {
        let expected = orig * (c / global);
        for (a, b) in u.iter().zip(expected.iter()) {
            assert!((f64::from(*a) - b).abs() < 1e-6, "f32: {a} vs {b}");
        }
    }
}

#[test]
fn training_with_the_progress_bar_gives_the_same_history() {
    // y = 2x − 1 + 0.5x² on 24 samples, a small Chain, shuffled batches of 6.
    let x = DMatrix::from_fn(1, 24, |_, j| j as f64 / 12.0 - 1.0);
    let y = x.map(|v| 2.0 * v - 1.0 + 0.5 * v * v);
    let mut r = rand::rngs::StdRng::seed_from_u64(5);
    let start = Chain::<f64>::new()
        .push(Dense::new(1, 4, Activation::Tanh, &mut r))
        .push(Dropout::new(0.1).unwrap())
        .push(Dense::new(4, 1, Activation::Identity, &mut r));
    let run = |progress: bool, log: bool| {
        let mut model = start.clone();
        let mut loader = DataLoader::new(x.clone(), y.clone(), 6).unwrap().shuffle(2);
        let config = TrainConfig {
            epochs: 15,
            progress,
            seed: 9,
            log,
        };
        let history = train(
            &mut model,
            &mut loader,
            |p, t| mse(p, t, Agg::Mean),
            &mut Adam::new(0.02),
            &config,
            &mut [],
        )
        .unwrap();
        (history, model.predict(&x).unwrap())
    };
    let (off, out_off) = run(false, false);
    assert_eq!(off.epochs.len(), 15);
    assert!(!off.stopped_early);
    assert!(
        off.epochs[14].loss < off.epochs[0].loss,
        "{} vs {}",
        off.epochs[14].loss,
        off.epochs[0].loss
    );
    for (progress, log) in [(true, false), (true, true)] {
        let (on, out_on) = run(progress, log);
        assert_eq!(on, off, "progress {progress}, log {log}: history");
        assert_eq!(out_on, out_off, "progress {progress}, log {log}: model");
    }
}

/// Calling `train` once per epoch on the same loader (Flux's `train!` in a loop) gives the
/// same model as one call over all the epochs: the dropout masks continue from the loader's
/// epoch count instead of restarting (they repeated every call before), and the shuffles
/// continue with the loader's own generator.
#[test]
fn training_epoch_by_epoch_draws_fresh_dropout_masks() {
    let x = DMatrix::from_fn(2, 16, |i, j| ((i + 1) * j) as f64 / 16.0 - 0.5);
    let y = DMatrix::from_fn(1, 16, |_, j| (j as f64 / 8.0).sin());
    let mut r = rand::rngs::StdRng::seed_from_u64(3);
    let start = Chain::<f64>::new()
        .push(Dense::new(2, 8, Activation::Tanh, &mut r))
        .push(Dropout::new(0.5).unwrap())
        .push(Dense::new(8, 1, Activation::Identity, &mut r));
    let config = |epochs| TrainConfig {
        epochs,
        seed: 4,
        ..TrainConfig::default()
    };
    let fit = |model: &mut Chain<f64>, loader: &mut DataLoader<f64>, opt: &mut Adam<f64>, n| {
        train(
            model,
            loader,
            |p, t| mse(p, t, Agg::Mean),
            opt,
            &config(n),
            &mut [],
        )
        .unwrap()
    };
    let (mut once, mut opt) = (start.clone(), Adam::new(0.01));
    let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap().shuffle(1);
    fit(&mut once, &mut loader, &mut opt, 3);
    let (mut stepwise, mut opt) = (start.clone(), Adam::new(0.01));
    let mut loader = DataLoader::new(x.clone(), y.clone(), 4).unwrap().shuffle(1);
    for _ in 0..3 {
        fit(&mut stepwise, &mut loader, &mut opt, 1);
    }
    assert_eq!(loader.batches_drawn(), 12);
    assert_eq!(stepwise.predict(&x).unwrap(), once.predict(&x).unwrap());
}

/// Norms of f64 gradients beyond ~1e154, whose squares overflow, are computed by rescaling:
/// the arrays are clipped to the threshold in their direction (the plain sum of squares gave
/// an infinite norm, a factor 0 and a zero update).
#[test]
fn norm_clipping_of_huge_f64_gradients_keeps_the_direction() {
    let p = [DMatrix::<f64>::zeros(2, 1), DMatrix::zeros(1, 1)];
    let refs: Vec<&DMatrix<f64>> = p.iter().collect();
    let mut per_array = vec![
        DMatrix::from_column_slice(2, 1, &[3e200, 4e200]),
        DMatrix::from_element(1, 1, 1.0),
    ];
    ClipNorm::new(1.0).update(&mut per_array, &refs);
    assert!((per_array[0][0] - 0.6).abs() < 1e-15 && (per_array[0][1] - 0.8).abs() < 1e-15);
    assert_eq!(per_array[1][0], 1.0);
    let mut global = vec![
        DMatrix::from_column_slice(2, 1, &[3e200, 0.0]),
        DMatrix::from_element(1, 1, 4e200),
    ];
    ClipGlobalNorm::new(10.0).update(&mut global, &refs);
    assert!((global[0][0] - 6.0).abs() < 1e-14 && (global[1][0] - 8.0).abs() < 1e-14);
    assert_eq!(global[0][1], 0.0);
}

/// A negative or NaN clipping threshold is refused (it would flip the clipped entries' signs).
#[test]
fn negative_or_nan_clipping_thresholds_panic() {
    use adroit_nn::optim::ClipValue;
    for bad in [-1.0, f64::NAN] {
        for make in [
            (|t| {
                let _ = ClipValue::new(t);
            }) as fn(f64),
            |t| {
                let _ = ClipNorm::new(t);
            },
            |t| {
                let _ = ClipGlobalNorm::new(t);
            },
        ] {
            let message = std::panic::catch_unwind(|| make(bad)).expect_err("must panic");
            let message = message
                .downcast_ref::<String>()
                .expect("a formatted message");
            assert!(
                message.contains("::new: the threshold must be a number ≥ 0"),
                "{message}"
            );
        }
    }
    // 0 is allowed: every entry clipped to 0.
    let p = [DMatrix::<f64>::zeros(1, 1)];
    let mut u = vec![DMatrix::from_element(1, 1, 3.0)];
    ClipValue::new(0.0).update(&mut u, &[&p[0]]);
    assert_eq!(u[0][0], 0.0);
}
