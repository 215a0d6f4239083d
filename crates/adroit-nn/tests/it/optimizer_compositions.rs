//! Compositions of optimisers — clipping, weight decay, schedules, chains, and their use by
//! `train_step` and `step` on a model — against Optax's trajectories (and PyTorch's where a
//! test says so), in `f64`, 20 steps on fixed gradient sequences that make every clip trigger
//! on alternate pairs of steps and include an all-zero step. Reference values from
//! `tools/gen_composition_reference.py` (in `optimizer_compositions/reference.rs`).

mod masks;
mod reference;
use reference as r;

use adroit_nn::adroit_reverse::matrix::MatVar;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::nalgebra::{DMatrix, dmatrix};
use adroit_nn::optim::{
    Adam, AdamW, ClipGlobalNorm, ClipNorm, ClipValue, Descent, Lion, Momentum, Nesterov, Optimizer,
    RmsProp, Schedule, WeightDecay, chain, step,
};
use adroit_nn::{Activation, Chain, Dense, Layer, gradient, train_step};

const TOL: f64 = 1e-10;

fn split(flat: &[f64], shapes: &[(usize, usize)]) -> Vec<DMatrix<f64>> {
    let mut off = 0;
    shapes
        .iter()
        .map(|&(rr, c)| {
            let m = DMatrix::from_column_slice(rr, c, &flat[off..off + rr * c]);
            off += rr * c;
            m
        })
        .collect()
}

fn concat(ms: &[DMatrix<f64>]) -> Vec<f64> {
    ms.iter().flat_map(|m| m.iter().copied()).collect()
}

fn run<O: Optimizer<f64>>(mut opt: O, steps: usize) -> Vec<Vec<f64>> {
    let mut params = split(&r::P0, &r::SHAPES);
    let mut out = Vec::new();
    for k in 0..steps {
        let mut updates = split(&r::GRADS[k], &r::SHAPES);
        {
            let refs: Vec<&DMatrix<f64>> = params.iter().collect();
            opt.update(&mut updates, &refs);
        }
        for (p, u) in params.iter_mut().zip(&updates) {
            *p += u;
        }
        out.push(concat(&params));
    }
    out
}

/// The first step (0-based) with an entry off by more than `TOL` relative, with a message.
fn first_mismatch<const N: usize>(got: &[Vec<f64>], want: &[[f64; N]]) -> Option<(usize, String)> {
    got.iter().zip(want).enumerate().find_map(|(k, (g, w))| {
        g.iter().zip(w).enumerate().find_map(|(i, (&a, &b))| {
            let rel = if a == b {
                0.0
            } else {
                (a - b).abs() / b.abs().max(1e-300)
            };
            (rel > TOL || rel.is_nan()).then(|| {
                (
                    k,
                    format!(
                        "step {} entry {i}: adroit {a:e} vs reference {b:e} (relative {rel:e})",
                        k + 1
                    ),
                )
            })
        })
    })
}

fn check<const N: usize>(name: &str, got: &[Vec<f64>], want: &[[f64; N]]) {
    assert_eq!(got.len(), want.len(), "{name}: steps");
    if let Some((_, message)) = first_mismatch(got, want) {
        panic!("{name}: {message}");
    }
}

fn warmcos() -> Schedule {
    Schedule::Warmup {
        steps: 3,
        then: Box::new(Schedule::Cosine {
            init: 0.1,
            decay_steps: 12,
            alpha: 0.01 / 0.1,
        }),
    }
}

#[test]
fn clipgn_adamw_warmcos() {
    let opt = chain(
        ClipGlobalNorm::new(1.0),
        AdamW::with(warmcos(), 0.05, 0.9, 0.999, 1e-8),
    );
    let got = run(opt, 20);
    // warm-up from 0: the first update is exactly zero
    assert_eq!(
        got[0],
        r::P0.to_vec(),
        "first step of a warm-up from 0 must not move"
    );
    check("CLIPGN_ADAMW_WARMCOS", &got, &r::CLIPGN_ADAMW_WARMCOS);
}

#[test]
fn clipval_wd_momentum() {
    let opt = chain(
        ClipValue::new(0.5),
        chain(WeightDecay::new(0.01), Momentum::with_beta(0.05, 0.9)),
    );
    check(
        "CLIPVAL_WD_MOMENTUM",
        &run(opt, 20),
        &r::CLIPVAL_WD_MOMENTUM,
    );
}

#[test]
fn clipval_wd_nesterov_exp() {
    let s = Schedule::Exponential {
        init: 0.1,
        rate: 0.5,
        transition_steps: 4,
        staircase: false,
    };
    let opt = chain(
        ClipValue::new(0.5),
        chain(WeightDecay::new(0.01), Nesterov::with_beta(s, 0.9)),
    );
    check(
        "CLIPVAL_WD_NESTEROV_EXP",
        &run(opt, 20),
        &r::CLIPVAL_WD_NESTEROV_EXP,
    );
}

fn staircase() -> Schedule {
    // exponential_decay(0.2, 3, 0.5, staircase=True)
    Schedule::Exponential {
        init: 0.2,
        rate: 0.5,
        transition_steps: 3,
        staircase: true,
    }
}

#[test]
fn sgd_exp_staircase() {
    check(
        "SGD_EXP_STAIRCASE",
        &run(Descent::new(staircase()), 20),
        &r::SGD_EXP_STAIRCASE,
    );
}

fn piecewise() -> Schedule {
    Schedule::Step {
        init: 0.1,
        boundaries_and_scales: vec![(3, 0.5), (7, 0.2)],
    }
}

#[test]
fn clipgn_adam_piecewise() {
    let opt = chain(ClipGlobalNorm::new(2.0), Adam::new(piecewise()));
    check(
        "CLIPGN_ADAM_PIECEWISE",
        &run(opt, 20),
        &r::CLIPGN_ADAM_PIECEWISE,
    );
}

fn warmexp() -> Schedule {
    Schedule::Warmup {
        steps: 2,
        then: Box::new(Schedule::Exponential {
            init: 0.01,
            rate: 0.3,
            transition_steps: 5,
            staircase: false,
        }),
    }
}

#[test]
fn lion_wd_warmexp() {
    let got = run(Lion::with(warmexp(), 0.9, 0.99, 0.1), 20);
    assert_eq!(got[0], r::P0.to_vec());
    check("LION_WD_WARMEXP", &got, &r::LION_WD_WARMEXP);
}

#[test]
fn lion_wd_cosine() {
    let s = Schedule::Cosine {
        init: 0.01,
        decay_steps: 10,
        alpha: 0.1,
    };
    let opt = chain(ClipGlobalNorm::new(1.0), Lion::with(s, 0.9, 0.99, 0.1));
    check("LION_WD_COSINE", &run(opt, 20), &r::LION_WD_COSINE);
}

#[test]
fn clipnorm_rmsprop_centred_linear() {
    let s = Schedule::Linear {
        init: 0.05,
        end: 0.005,
        steps: 10,
    };
    let opt = chain(ClipNorm::new(1.0), RmsProp::with(s, 0.9, 1e-8, true));
    check(
        "CLIPNORM_RMSPROP_CENTRED_LINEAR",
        &run(opt, 20),
        &r::CLIPNORM_RMSPROP_CENTRED_LINEAR,
    );
}

#[test]
fn wd_adam_l2() {
    let opt = chain(WeightDecay::new(0.1), Adam::new(0.01));
    check("WD_ADAM_L2", &run(opt, 20), &r::WD_ADAM_L2);
}

#[test]
fn sgd_warmup_step() {
    let s = Schedule::Warmup {
        steps: 4,
        then: Box::new(Schedule::Step {
            init: 0.1,
            boundaries_and_scales: vec![(3, 0.1)],
        }),
    };
    check(
        "SGD_WARMUP_STEP",
        &run(Descent::new(s), 20),
        &r::SGD_WARMUP_STEP,
    );
}

#[test]
fn clipgn_adamw_warmup_const() {
    let s = Schedule::Warmup {
        steps: 5,
        then: Box::new(Schedule::Constant(0.02)),
    };
    let opt = chain(ClipGlobalNorm::new(0.5), AdamW::new(s)); // default λ = 1e-4 as Optax
    check(
        "CLIPGN_ADAMW_WARMUP_CONST",
        &run(opt, 20),
        &r::CLIPGN_ADAMW_WARMUP_CONST,
    );
}

#[test]
fn clipnorm_rmsprop_exp() {
    let s = Schedule::Exponential {
        init: 0.01,
        rate: 0.8,
        transition_steps: 2,
        staircase: false,
    };
    let opt = chain(ClipNorm::new(0.7), RmsProp::with(s, 0.95, 1e-6, false));
    check(
        "CLIPNORM_RMSPROP_EXP",
        &run(opt, 20),
        &r::CLIPNORM_RMSPROP_EXP,
    );
}

#[test]
fn boxed_chain_same_as_unboxed() {
    let boxed: Box<dyn Optimizer<f64>> = Box::new(chain(
        ClipGlobalNorm::new(1.0),
        AdamW::with(warmcos(), 0.05, 0.9, 0.999, 1e-8),
    ));
    check(
        "BOXED CLIPGN_ADAMW_WARMCOS",
        &run(boxed, 20),
        &r::CLIPGN_ADAMW_WARMCOS,
    );
}

// ---------------------------------------------------------------- schedules

fn sched_check(name: &str, s: &Schedule, want: &[f64]) {
    for (t, &w) in want.iter().enumerate() {
        let g = s.at(t);
        let rel = if g == w {
            0.0
        } else {
            (g - w).abs() / w.abs().max(1e-300)
        };
        assert!(
            rel <= TOL,
            "{name}: at({t}) = {g:e} vs {w:e} (relative {rel:e})"
        );
    }
}

#[test]
fn schedules_against_optax() {
    sched_check("WARMCOS", &warmcos(), &r::SCHED_WARMCOS);
    sched_check(
        "EXP",
        &Schedule::Exponential {
            init: 0.1,
            rate: 0.5,
            transition_steps: 4,
            staircase: false,
        },
        &r::SCHED_EXP,
    );
    sched_check("STAIR", &staircase(), &r::SCHED_STAIR);
    sched_check("PIECEWISE", &piecewise(), &r::SCHED_PIECEWISE);
    sched_check("WARMEXP", &warmexp(), &r::SCHED_WARMEXP);
    sched_check(
        "COSINE",
        &Schedule::Cosine {
            init: 0.01,
            decay_steps: 10,
            alpha: 0.1,
        },
        &r::SCHED_COSINE,
    );
    sched_check(
        "LINEAR",
        &Schedule::Linear {
            init: 0.05,
            end: 0.005,
            steps: 10,
        },
        &r::SCHED_LINEAR,
    );
}

#[test]
fn schedule_edges() {
    // value at step 0
    assert_eq!(warmcos().at(0), 0.0);
    assert_eq!(
        Schedule::Cosine {
            init: 0.1,
            decay_steps: 12,
            alpha: 0.1
        }
        .at(0),
        0.1
    );
    assert_eq!(
        Schedule::Exponential {
            init: 0.1,
            rate: 0.5,
            transition_steps: 4,
            staircase: false
        }
        .at(0),
        0.1
    );
    assert_eq!(piecewise().at(0), 0.1);
    // boundary: scale applies at t == boundary (Optax: t >= b)
    assert_eq!(piecewise().at(2), 0.1);
    assert_eq!(piecewise().at(3), 0.05);
    // cosine end value
    let c = Schedule::Cosine {
        init: 0.1,
        decay_steps: 12,
        alpha: 0.1,
    };
    assert!((c.at(12) - 0.01).abs() <= 1e-17, "{}", c.at(12));
    assert_eq!(c.at(12), c.at(1000));
    assert!(
        (warmcos().at(15) - 0.01).abs() <= 1e-17,
        "{}",
        warmcos().at(15)
    );
    // warm-up reaches the peak exactly at t = steps
    assert_eq!(warmcos().at(3), 0.1);
}

// ---------------------------------------------------------------- clipping edges

#[test]
fn clip_edges() {
    let p: [DMatrix<f64>; 2] = [dmatrix![0.0], dmatrix![0.0]];
    let pr = [&p[0], &p[1]];
    // global norm exactly at the threshold: unchanged
    let mut u: Vec<DMatrix<f64>> = vec![dmatrix![3.0], dmatrix![4.0]];
    ClipGlobalNorm::new(5.0).update(&mut u, &pr);
    assert_eq!(u, [dmatrix![3.0], dmatrix![4.0]]);
    // per-array norm exactly at the threshold
    let mut u = vec![dmatrix![3.0, 4.0]];
    ClipNorm::new(5.0).update(&mut u, &[&dmatrix![0.0, 0.0]]);
    assert_eq!(u, [dmatrix![3.0, 4.0]]);
    // value exactly at the threshold
    let mut u = vec![dmatrix![0.5, -0.5]];
    ClipValue::new(0.5).update(&mut u, &[&dmatrix![0.0, 0.0]]);
    assert_eq!(u, [dmatrix![0.5, -0.5]]);
    // global over all arrays together (not per array)
    let mut u: Vec<DMatrix<f64>> = vec![dmatrix![3.0], dmatrix![4.0]];
    ClipGlobalNorm::new(1.0).update(&mut u, &pr);
    assert!(
        (u[0][0] - 0.6).abs() < 2e-16 && (u[1][0] - 0.8).abs() < 2e-16,
        "{u:?}"
    );
    let mut u: Vec<DMatrix<f64>> = vec![dmatrix![3.0], dmatrix![4.0]];
    ClipNorm::new(1.0).update(&mut u, &pr);
    assert_eq!(u, [dmatrix![1.0], dmatrix![1.0]]);
    // zero gradients: no NaN
    for max in [0.0, 1.0] {
        let mut u = vec![dmatrix![0.0, 0.0], dmatrix![0.0]];
        let q = [dmatrix![1.0, 1.0], dmatrix![1.0]];
        ClipNorm::new(max).update(&mut u, &[&q[0], &q[1]]);
        assert_eq!(u, [dmatrix![0.0, 0.0], dmatrix![0.0]]);
        ClipGlobalNorm::new(max).update(&mut u, &[&q[0], &q[1]]);
        assert_eq!(u, [dmatrix![0.0, 0.0], dmatrix![0.0]]);
    }
    // zero gradient through a clip+Adam chain: finite
    let mut opt = chain(ClipNorm::new(1.0), Adam::<f64>::new(0.1));
    let mut u = vec![dmatrix![0.0, 0.0]];
    opt.update(&mut u, &[&dmatrix![1.0, 1.0]]);
    assert!(u[0].iter().all(|v| v.is_finite()), "{u:?}");
}

// ---------------------------------------------------------------- PyTorch conventions

#[test]
fn torch_sgd_momentum_wd_steplr() {
    // StepLR(step_size = 4, gamma = 0.5)
    let s = Schedule::Exponential {
        init: 0.05,
        rate: 0.5,
        transition_steps: 4,
        staircase: true,
    };
    let opt = chain(WeightDecay::new(0.01), Momentum::with_beta(s, 0.9));
    check(
        "TORCH_SGD_MOM_WD_STEPLR",
        &run(opt, 20),
        &r::TORCH_SGD_MOM_WD_STEPLR,
    );
}

#[test]
fn torch_sgd_nesterov_wd_explr() {
    let s = Schedule::Exponential {
        init: 0.05,
        rate: 0.8,
        transition_steps: 1,
        staircase: false,
    };
    let opt = chain(WeightDecay::new(0.01), Nesterov::with_beta(s, 0.9));
    check(
        "TORCH_SGD_NESTEROV_WD_EXPLR",
        &run(opt, 20),
        &r::TORCH_SGD_NESTEROV_WD_EXPLR,
    );
}

#[test]
fn torch_adamw_cosine() {
    // CosineAnnealingLR(T_max = 10, eta_min = 0.01) from 0.1, until T_max: after it PyTorch's
    // rate rises again, while Optax's cosine (adroit's) stays at α·η₀.
    let s = Schedule::Cosine {
        init: 0.1,
        decay_steps: 10,
        alpha: 0.1,
    };
    let got = run(AdamW::with(s, 0.05, 0.9, 0.999, 1e-8), 20);
    check(
        "TORCH_ADAMW_COSINE",
        &got[..11],
        &r::TORCH_ADAMW_COSINE[..11],
    );
    assert!(first_mismatch(&got[11..], &r::TORCH_ADAMW_COSINE[11..]).is_some());
}

#[test]
fn torch_adam_l2() {
    let opt = chain(WeightDecay::new(0.1), Adam::new(0.01));
    check("TORCH_ADAM_L2", &run(opt, 20), &r::TORCH_ADAM_L2);
}

#[test]
fn torch_clip_grad_norm_differs_by_its_epsilon_only() {
    // PyTorch's clip_grad_norm_ scales by max/(norm + 1e-6) (documented on ClipGlobalNorm):
    // a relative difference of about 1e-6/norm per clipped step, nothing more.
    let got = run(chain(ClipGlobalNorm::new(1.0), Descent::new(0.1)), 20);
    assert!(first_mismatch(&got, &r::TORCH_CLIPGN_SGD).is_some());
    for (g, w) in got.iter().zip(&r::TORCH_CLIPGN_SGD) {
        for (&a, &b) in g.iter().zip(w) {
            assert!((a - b).abs() <= 1e-4 * b.abs(), "{a} vs {b}");
        }
    }
}

// ---------------------------------------------------------------- model: train_step / step

fn model() -> Chain<f64> {
    let p = split(&r::MODEL_P0, &[(4, 3), (4, 1), (2, 4)]);
    Chain::new()
        .push(Dense::from_parts(p[0].clone(), Some(p[1].clone()), Activation::Tanh).unwrap())
        .push(Dense::from_parts(p[2].clone(), None, Activation::Identity).unwrap())
}

fn model_flat(m: &Chain<f64>) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit_params(&mut |p| out.extend(p.iter().copied()));
    out
}

fn run_model<O: Optimizer<f64>>(mut opt: O, use_step: bool) -> (Vec<Vec<f64>>, Vec<f64>) {
    let x = DMatrix::from_column_slice(3, 5, &r::MODEL_X);
    let y = DMatrix::from_column_slice(2, 5, &r::MODEL_Y);
    let mut m = model();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let (mut traj, mut losses) = (Vec::new(), Vec::new());
    for _ in 0..r::MODEL_SGD_PIECEWISE.len() {
        let l = if use_step {
            let (l, g) = gradient(&m, |mm, ctx| {
                mse(mm.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
            })
            .unwrap();
            step(&mut opt, &mut m, g).unwrap();
            l
        } else {
            train_step(&mut m, &x, &y, &loss, &mut opt, 0).unwrap()
        };
        losses.push(l);
        traj.push(model_flat(&m));
    }
    (traj, losses)
}

fn check_losses(name: &str, got: &[f64], want: &[f64]) {
    for (k, (a, b)) in got.iter().zip(want).enumerate() {
        let rel = (a - b).abs() / b.abs();
        assert!(
            rel <= TOL,
            "{name}: loss at step {}: {a:.17e} vs {b:.17e}",
            k + 1
        );
    }
}

#[test]
fn model_clipgn_adamw_warmcos() {
    let s = Schedule::Warmup {
        steps: 2,
        then: Box::new(Schedule::Cosine {
            init: 0.05,
            decay_steps: 8,
            alpha: 0.005 / 0.05,
        }),
    };
    for use_step in [false, true] {
        let (t, l) = run_model(
            chain(
                ClipGlobalNorm::new(0.5),
                AdamW::with(s.clone(), 0.1, 0.9, 0.999, 1e-8),
            ),
            use_step,
        );
        check(
            &format!("MODEL_CLIPGN_ADAMW_WARMCOS (step={use_step})"),
            &t,
            &r::MODEL_CLIPGN_ADAMW_WARMCOS,
        );
        check_losses(
            "MODEL_CLIPGN_ADAMW_WARMCOS",
            &l,
            &r::MODEL_CLIPGN_ADAMW_WARMCOS_LOSS,
        );
    }
}

#[test]
fn model_sgd_piecewise() {
    let s = Schedule::Step {
        init: 0.3,
        boundaries_and_scales: vec![(2, 0.5), (5, 0.5)],
    };
    for use_step in [false, true] {
        let (t, l) = run_model(Descent::new(s.clone()), use_step);
        check(
            &format!("MODEL_SGD_PIECEWISE (step={use_step})"),
            &t,
            &r::MODEL_SGD_PIECEWISE,
        );
        check_losses("MODEL_SGD_PIECEWISE", &l, &r::MODEL_SGD_PIECEWISE_LOSS);
        let boxed: Box<dyn Optimizer<f64>> = Box::new(Descent::new(s.clone()));
        let (t, _) = run_model(boxed, use_step);
        check(
            &format!("MODEL_SGD_PIECEWISE boxed (step={use_step})"),
            &t,
            &r::MODEL_SGD_PIECEWISE,
        );
        let (t, _) = run_model(
            chain(ClipValue::new(1e9), Descent::new(s.clone())),
            use_step,
        );
        check(
            &format!("MODEL_SGD_PIECEWISE chained (step={use_step})"),
            &t,
            &r::MODEL_SGD_PIECEWISE,
        );
    }
}

#[test]
fn model_wd_nesterov() {
    for use_step in [false, true] {
        let (t, l) = run_model(
            chain(WeightDecay::new(0.05), Nesterov::with_beta(0.1, 0.8)),
            use_step,
        );
        check(
            &format!("MODEL_WD_NESTEROV (step={use_step})"),
            &t,
            &r::MODEL_WD_NESTEROV,
        );
        check_losses("MODEL_WD_NESTEROV", &l, &r::MODEL_WD_NESTEROV_LOSS);
    }
}
