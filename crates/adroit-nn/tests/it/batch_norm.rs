//! BatchNorm: its output and gradients against the paper's formulas and finite differences,
//! its running statistics through training steps (once per step, kept on failure, through a
//! checkpoint), evaluation, weight files, casts and bad input.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::optim::Descent;
use adroit_nn::{
    Activation, BatchNorm, Cast, Chain, Checkpoint, Context, Dense, Layer, Mode, NnError,
    gradient_with_state, loss_with_params, param_values, train_step,
};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::{DMatrix, dmatrix};
use rand::SeedableRng;

/// A batch with features of different scales: 3 features × 5 samples.
fn batch() -> DMatrix<f64> {
    dmatrix![
        0.5, -1.0, 2.0, 0.25, 1.5;
        10.0, 12.0, 9.0, 11.5, 10.5;
        -3.0, 0.0, 4.0, 1.0, -2.5
    ]
}

/// A layer with non-trivial γ, β and running statistics.
fn layer() -> BatchNorm<f64> {
    let mut bn = BatchNorm::new(3);
    bn.scale = dmatrix![1.5; -0.5; 2.0];
    bn.bias = dmatrix![0.1; 0.2; -0.3];
    bn.running_mean = dmatrix![0.5; 10.0; -1.0];
    bn.running_var = dmatrix![2.0; 0.5; 4.0];
    bn
}

/// `bn`'s output on `x` in `mode` (a plain matrix).
fn run(bn: &BatchNorm<f64>, x: &DMatrix<f64>, mode: Mode) -> DMatrix<f64> {
    let mut ctx = Context::new(mode, 0);
    matrix::pullback(|_| bn.forward(MatVar::constant(x.clone()), &mut ctx), &[]).0
}

/// The training-mode output entry by entry, from the paper's definitions in plain loops.
#[test]
fn train_mode_output_is_the_batch_standardised_then_scaled_and_shifted() {
    let (bn, x) = (layer(), batch());
    let y = run(&bn, &x, Mode::Train);
    let m = x.ncols() as f64;
    for i in 0..3 {
        let mean = x.row(i).iter().sum::<f64>() / m;
        let var = x.row(i).iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        for j in 0..x.ncols() {
            let expected = bn.scale[i] * (x[(i, j)] - mean) / (var + 1e-5).sqrt() + bn.bias[i];
            assert!((y[(i, j)] - expected).abs() < 1e-13, "({i}, {j})");
        }
    }
}

/// Evaluation normalises each sample with the running statistics alone: a sample's output
/// does not depend on the others in its batch.
#[test]
fn eval_mode_uses_the_running_statistics() {
    let (bn, x) = (layer(), batch());
    let y = run(&bn, &x, Mode::Eval);
    for i in 0..3 {
        for j in 0..x.ncols() {
            let expected = bn.scale[i] * (x[(i, j)] - bn.running_mean[i])
                / (bn.running_var[i] + 1e-5).sqrt()
                + bn.bias[i];
            assert!((y[(i, j)] - expected).abs() < 1e-13, "({i}, {j})");
        }
    }
    let one = run(&bn, &x.columns(2, 1).into_owned(), Mode::Eval);
    assert_eq!(one, y.columns(2, 1));
    assert_eq!(bn.predict(&x).unwrap(), y);
}

/// The input gradient of `Σ c ⊙ y` in training against the closed form of Ioffe & Szegedy
/// (their backward pass, per feature): ∂/∂x = γ/σ · (c − mean(c) − x̂·mean(c ⊙ x̂)).
#[test]
fn train_mode_input_gradient_matches_the_closed_form() {
    let (bn, x) = (layer(), batch());
    let c = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            bn.forward(v[0], &mut ctx)
                .component_mul(MatVar::constant(c.clone()))
                .sum()
        },
        std::slice::from_ref(&x),
    );
    let m = x.ncols() as f64;
    for i in 0..3 {
        let mean = x.row(i).sum() / m;
        let var = x.row(i).iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        let sigma = (var + 1e-5).sqrt();
        let xhat: Vec<f64> = x.row(i).iter().map(|v| (v - mean) / sigma).collect();
        let c_mean = c.row(i).sum() / m;
        let cx_mean = (0..5).map(|j| c[(i, j)] * xhat[j]).sum::<f64>() / m;
        for j in 0..5 {
            let expected = bn.scale[i] / sigma * (c[(i, j)] - c_mean - xhat[j] * cx_mean);
            assert!((g[0][(i, j)] - expected).abs() < 1e-12, "({i}, {j})");
        }
    }
}

/// Every gradient of a model holding a BatchNorm, in both modes, against finite differences:
/// the parameters (through `loss_with_params`) and the input.
#[test]
fn gradients_match_finite_differences_in_both_modes() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let model = Chain::<f64>::new()
        .push(Dense::new(3, 4, Activation::Tanh, &mut rng))
        .push({
            let mut bn = BatchNorm::new(4);
            bn.scale = dmatrix![1.2; 0.8; -1.1; 0.5];
            bn.bias = dmatrix![0.1; -0.2; 0.3; 0.0];
            bn.running_mean = dmatrix![0.1; -0.1; 0.2; 0.0];
            bn.running_var = dmatrix![0.5; 1.5; 0.8; 2.0];
            bn
        })
        .push(Dense::new(4, 2, Activation::Identity, &mut rng));
    let x = batch();
    let y = DMatrix::from_fn(2, 5, |i, j| ((i + 2 * j) % 3) as f64 - 1.0);
    let options = adroit_check::Options::for_precision::<f64>();
    for mode in [Mode::Train, Mode::Eval] {
        let loss = |m: &Chain<f64>, ctx: &mut Context<f64>| {
            mse(m.forward(MatVar::constant(x.clone()), ctx), &y, Agg::Mean)
        };
        let report = adroit_check::matrix_gradcheck(
            |p| loss_with_params(&model, p, mode, 0, loss).unwrap(),
            &param_values(&model),
            &options,
        )
        .unwrap();
        assert_eq!(
            report.comparisons,
            3 * 4 + 4 + 4 + 4 + 4 * 2 + 2,
            "{mode:?}"
        );
        let report = adroit_check::matrix_gradcheck(
            |v| {
                let mut ctx = Context::new(mode, 0);
                mse(model.forward(v[0], &mut ctx), &y, Agg::Mean).unwrap()
            },
            std::slice::from_ref(&x),
            &options,
        )
        .unwrap();
        assert_eq!(report.comparisons, 15, "{mode:?}");
    }
}

/// A training step of gradient descent with learning rate `lr` on the mean squared output.
fn step(model: &mut impl Layer<f64>, x: &DMatrix<f64>, lr: f64) -> Result<f64, NnError> {
    let target = DMatrix::zeros(model.output_size().unwrap_or(x.nrows()), x.ncols());
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    train_step(model, x, &target, &loss, &mut Descent::new(lr), 0)
}

/// A training step with a zero learning rate: it changes the running statistics only.
fn frozen_step(model: &mut impl Layer<f64>, x: &DMatrix<f64>) -> Result<f64, NnError> {
    step(model, x, 0.0)
}

/// Each training step moves the running statistics once, by PyTorch's rule (momentum 0.1,
/// unbiased batch variance), and evaluation then uses them.
#[test]
fn training_steps_move_the_running_statistics_once_each() {
    let mut bn = BatchNorm::<f64>::new(3).with_momentum(0.25);
    let x = batch();
    let (mut mean, mut var) = (DMatrix::zeros(3, 1), DMatrix::from_element(3, 1, 1.0));
    for step in 0..3 {
        let shifted = x.map(|v| v + step as f64);
        frozen_step(&mut bn, &shifted).unwrap();
        for i in 0..3 {
            let row = shifted.row(i);
            let m = row.len() as f64;
            let batch_mean = row.sum() / m;
            let unbiased = row.iter().map(|v| (v - batch_mean).powi(2)).sum::<f64>() / (m - 1.0);
            mean[i] = 0.75 * mean[i] + 0.25 * batch_mean;
            var[i] = 0.75 * var[i] + 0.25 * unbiased;
        }
        assert!((&bn.running_mean - &mean).amax() < 1e-13, "step {step}");
        assert!((&bn.running_var - &var).amax() < 1e-13, "step {step}");
    }
    let expected = (x.clone() - &bn.running_mean * DMatrix::from_element(1, 5, 1.0)).component_div(
        &(bn.running_var.map(|v| (v + 1e-5).sqrt()) * DMatrix::from_element(1, 5, 1.0)),
    );
    assert!((bn.predict(&x).unwrap() - expected).amax() < 1e-13);
}

/// A BatchNorm inside a Checkpoint: the block runs twice per step, the statistics move once,
/// as without the checkpoint; gradients equal too.
#[test]
fn a_checkpointed_batch_norm_moves_its_statistics_once_per_step() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let block = Chain::<f64>::new()
        .push(Dense::new(3, 4, Activation::Identity, &mut rng))
        .push(BatchNorm::new(4));
    let mut plain = Chain::new().push(block.clone());
    let mut wrapped = Chain::new().push(Checkpoint::new(block));
    let x = batch();
    for _ in 0..2 {
        frozen_step(&mut plain, &x).unwrap();
        frozen_step(&mut wrapped, &x).unwrap();
    }
    let state = |m: &dyn Layer<f64>| {
        let mut out = Vec::new();
        m.visit_state("", &mut |name, v| out.push((name.to_string(), v.clone())));
        out
    };
    let (s0, s1) = (state(&plain), state(&wrapped));
    assert_eq!(s0.len(), 2);
    assert_eq!(s0[0].0, "layers.0.layers.1.running_mean");
    assert_eq!(s1[0].0, "layers.0.layers.1.running_mean");
    for ((_, a), (_, b)) in s0.iter().zip(&s1) {
        assert!((a - b).amax() < 1e-14);
    }
    assert_ne!(s0[0].1, DMatrix::zeros(4, 1));
}

/// A batch of one sample in training is a typed error (PyTorch raises too), the model
/// unchanged; in evaluation one sample is fine.
#[test]
fn one_sample_in_training_is_an_error_and_changes_nothing() {
    let mut bn = layer();
    let before = bn.clone();
    let one = batch().columns(0, 1).into_owned();
    let err = frozen_step(&mut bn, &one).unwrap_err();
    let NnError::InvalidData { what } = &err else {
        panic!("{err:?}")
    };
    assert!(what.contains("at least 2 samples"), "{what}");
    assert_eq!(bn, before);
    let err = gradient_with_state(&bn, Mode::Train, 0, |m, ctx| {
        Ok(m.forward(MatVar::constant(one.clone()), ctx).sum())
    })
    .unwrap_err();
    assert!(matches!(err, NnError::InvalidData { .. }));
    fn sum_loss<T: adroit_nn::MatScalar>(
        x: &DMatrix<f64>,
    ) -> impl Fn(&BatchNorm<T>, &mut Context<T>) -> Result<MatVar<T>, NnError> {
        let x: DMatrix<T> = x.clone().cast();
        move |m, ctx| Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
    }
    let err = adroit_nn::hessian(&bn, sum_loss(&one)).unwrap_err();
    assert!(matches!(err, NnError::InvalidData { .. }), "{err:?}");
    assert_eq!(bn.predict(&one).unwrap().shape(), (3, 1));
}

/// A step whose loss is NaN keeps the parameters and the running statistics; a feature whose
/// variance overflows keeps them too, and the error names the running variance.
#[test]
fn failed_steps_keep_the_last_good_state() {
    let mut bn = layer();
    let before = bn.clone();
    let mut x = batch();
    x[(1, 2)] = f64::NAN;
    assert!(matches!(
        step(&mut bn, &x, 0.1),
        Err(NnError::NonFinite { .. })
    ));
    assert_eq!(bn, before);
    let mut huge = batch();
    huge[(0, 0)] = 1e200;
    // The loss and the gradients are finite here: only the running variance is not.
    let err = step(&mut bn, &huge, 0.1).unwrap_err();
    let NnError::NonFinite { what, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(what.contains("running_var"), "{what}");
    assert_eq!(bn, before);
    // The output itself is finite there (standardised after rescaling, as LayerNorm).
    assert!(run(&bn, &huge, Mode::Train).iter().all(|v| v.is_finite()));
    // A good step changes both.
    step(&mut bn, &batch(), 0.1).unwrap();
    assert!(bn.scale != before.scale && bn.running_mean != before.running_mean);
}

/// The state is saved and loaded with the parameters, under PyTorch's buffer names, and a
/// cast carries it.
#[test]
fn running_statistics_are_saved_loaded_and_cast() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let model = Chain::<f64>::new()
        .push(Dense::new(3, 2, Activation::Relu, &mut rng))
        .push({
            let mut bn = BatchNorm::new(2);
            bn.running_mean = dmatrix![0.25; -0.5];
            bn.running_var = dmatrix![2.0; 0.125];
            bn
        });
    let bytes = adroit_nn::io::to_safetensors_bytes(&model).unwrap();
    let mut fresh = Chain::<f64>::new()
        .push(Dense::new(3, 2, Activation::Relu, &mut rng))
        .push(BatchNorm::new(2));
    let report = adroit_nn::io::load_safetensors_bytes_partial(&mut fresh, &bytes).unwrap();
    assert_eq!(
        report.loaded,
        [
            "layers.0.weight",
            "layers.0.bias",
            "layers.1.scale",
            "layers.1.bias",
            "layers.1.running_mean",
            "layers.1.running_var"
        ]
    );
    assert_eq!(
        fresh.predict(&batch()).unwrap(),
        model.predict(&batch()).unwrap()
    );
    let single: Chain<f32> = model.cast().unwrap();
    let bn = single.layer::<BatchNorm<f32>>(1).unwrap();
    assert_eq!(bn.running_var, dmatrix![2.0f32; 0.125]);
    // A NaN running statistic is refused on saving, as a NaN parameter.
    let mut broken = model.clone();
    broken.layer_mut::<BatchNorm<f64>>(1).unwrap().running_mean[0] = f64::NAN;
    let err = adroit_nn::io::to_safetensors_bytes(&broken).unwrap_err();
    assert!(err.to_string().contains("layers.1.running_mean"), "{err}");
}

/// Settings out of range are typed errors before any forward pass.
#[test]
fn settings_out_of_range_are_refused() {
    let x = batch();
    let check = |edit: &dyn Fn(&mut BatchNorm<f64>)| {
        let mut bn = layer();
        edit(&mut bn);
        (bn.check_params().unwrap_err(), bn.predict(&x).unwrap_err())
    };
    let (a, b) = check(&|bn| bn.momentum = 1.5);
    assert!(
        matches!(
            a,
            NnError::InvalidConfig {
                name: "BatchNorm momentum",
                ..
            }
        ) && a == b
    );
    let (a, _) = check(&|bn| bn.epsilon = -1e-5);
    assert!(matches!(
        a,
        NnError::InvalidConfig {
            name: "BatchNorm epsilon",
            ..
        }
    ));
    let (a, _) = check(&|bn| bn.running_var[1] = -0.5);
    assert!(matches!(
        a,
        NnError::InvalidConfig {
            name: "BatchNorm running_var",
            ..
        }
    ));
    let (a, _) = check(&|bn| bn.running_mean = DMatrix::zeros(2, 1));
    assert!(matches!(a, NnError::ShapeMismatch { .. }));
    let err = BatchNorm::<f64>::new(3)
        .predict(&DMatrix::zeros(2, 4))
        .unwrap_err();
    assert!(matches!(err, NnError::ShapeMismatch { .. }));
}

/// A layer of your own, `x ⊙ w`, that proposes `proposal` as its `count`'s new value in every
/// forward pass, and lists `count` as state when `listed`.
#[derive(Clone, Debug, PartialEq)]
struct Proposing {
    w: DMatrix<f64>,
    count: DMatrix<f64>,
    proposal: DMatrix<f64>,
    listed: bool,
}

impl Layer<f64> for Proposing {
    fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
        ctx.update_state(&self.count, self.proposal.clone());
        x.component_mul(ctx.param(&self.w))
    }
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        f(&format!("{prefix}w"), &self.w);
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        f(&mut self.w);
    }
    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
        if self.listed {
            f(&format!("{prefix}count"), &self.count);
        }
    }
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
        if self.listed {
            f(&mut self.count);
        }
    }
}

/// A layer of your own that proposes a value for a matrix it does not list as state is
/// refused: the value would never be set or saved.
#[test]
fn proposals_for_unlisted_state_are_refused() {
    let mut layer = Proposing {
        w: dmatrix![2.0],
        count: dmatrix![0.0],
        proposal: dmatrix![1.0],
        listed: false,
    };
    let err = frozen_step(&mut layer, &dmatrix![1.0, 2.0]).unwrap_err();
    let NnError::InvalidConfig { reason, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(reason.contains("visit_state"), "{reason}");
}

/// A layer of your own that proposes a value of another shape than its state matrix is
/// refused with both shapes, the model unchanged; so are a BatchNorm's new statistics applied
/// to a BatchNorm of another width.
#[test]
fn proposals_of_another_shape_are_refused() {
    let mut layer = Proposing {
        w: dmatrix![2.0],
        count: dmatrix![0.0],
        proposal: dmatrix![1.0; 1.0],
        listed: true,
    };
    // `(what, expected, found)` of a shape mismatch.
    let mismatch = |err: NnError| match err {
        NnError::ShapeMismatch {
            what,
            expected,
            found,
        } => (what, expected, found),
        other => panic!("{other:?}"),
    };
    let before = layer.clone();
    let (what, expected, found) = mismatch(step(&mut layer, &dmatrix![1.0, 2.0], 0.1).unwrap_err());
    assert!(
        what.contains("the new value proposed for state count"),
        "{what}"
    );
    assert_eq!((expected, found), ((1, 1), (2, 1)));
    assert_eq!(layer, before);

    // One BatchNorm's statistics, another's width.
    let (_, _, state) = gradient_with_state(&BatchNorm::<f64>::new(2), Mode::Train, 0, |m, ctx| {
        Ok(
            m.forward(MatVar::constant(batch().rows(0, 2).into_owned()), ctx)
                .sum(),
        )
    })
    .unwrap();
    let mut wider = BatchNorm::<f64>::new(3);
    let untouched = wider.clone();
    let (what, expected, found) = mismatch(state.apply(&mut wider).unwrap_err());
    assert!(what.contains("the new value for state"), "{what}");
    assert_eq!((expected, found), ((3, 1), (2, 1)));
    assert_eq!(wider, untouched);
}

/// Training with a BatchNorm learns a target whose inputs have wildly different scales (a
/// plain dense layer trained the same way does not), and its predictions in evaluation use
/// the learned statistics.
#[test]
fn a_model_with_batch_norm_trains() {
    let x = DMatrix::from_fn(2, 64, |i, j| {
        let t = (j as f64 * 0.37).sin();
        if i == 0 {
            1000.0 * t + 5000.0
        } else {
            0.001 * (j as f64 * 0.91).cos()
        }
    });
    let y = DMatrix::from_fn(1, 64, |_, j| {
        (x[(0, j)] - 5000.0) / 1000.0 - 2.0 * x[(1, j)] / 0.001
    });
    let fit = |normalise: bool| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let mut model = Chain::<f64>::new();
        if normalise {
            model = model.push(BatchNorm::new(2));
        }
        model = model.push(Dense::new(2, 1, Activation::Identity, &mut rng));
        let mut loader = adroit_nn::data::DataLoader::new(x.clone(), y.clone(), 16)
            .unwrap()
            .shuffle(2);
        let config = adroit_nn::TrainConfig {
            epochs: 150,
            ..adroit_nn::TrainConfig::default()
        };
        let mut opt = adroit_nn::optim::Adam::new(0.05);
        let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
        adroit_nn::train(&mut model, &mut loader, loss, &mut opt, &config, &mut []).unwrap();
        (model.predict(&x).unwrap() - &y).map(|v| v * v).mean()
    };
    let (with, without) = (fit(true), fit(false));
    assert!(
        with < 1e-2 && without > 100.0 * with,
        "{with} with, {without} without"
    );
}

/// The Hessian in the parameters of a model holding a BatchNorm (the model cast to duals,
/// running statistics and all), in both modes, against differences of its gradient.
#[test]
fn hessians_through_batch_norm_match_differences_of_the_gradient() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(21);
    let model = Chain::<f64>::new()
        .push(Dense::new(3, 3, Activation::Tanh, &mut rng))
        .push({
            let mut bn = BatchNorm::new(3);
            bn.scale = dmatrix![1.3; -0.7; 0.9];
            bn.running_mean = dmatrix![0.2; -0.1; 0.0];
            bn.running_var = dmatrix![0.6; 1.4; 0.9];
            bn
        })
        .push(Dense::new(3, 1, Activation::Identity, &mut rng));
    let x = DMatrix::from_fn(3, 6, |i, j| ((i * 6 + j) as f64 * 0.9).cos());
    let y = DMatrix::from_fn(1, 6, |_, j| (j as f64 * 0.4).sin());
    for mode in [Mode::Train, Mode::Eval] {
        let (_, _, h) =
            adroit_nn::hessian_with(&model, mode, 0, crate::second_order::chain_mse(&x, &y))
                .unwrap();
        assert_eq!(h.shape(), (22, 22)); // 9 + 3, 3 + 3, 3 + 1
        let fd = crate::second_order::hessian_by_differences(&model, |m| {
            adroit_nn::gradient_with(m, mode, 0, crate::second_order::chain_mse(&x, &y))
                .unwrap()
                .1
        });
        let scale = h.amax();
        assert!(scale > 0.01, "{mode:?}");
        assert!((&h - &fd).amax() <= 1e-7 * scale, "{mode:?}");
        assert!((&h - h.transpose()).amax() <= 1e-14 * scale, "{mode:?}");
    }
}

/// A matrix from an array of rows.
fn from_rows<const R: usize, const C: usize>(rows: &[[f64; C]; R]) -> DMatrix<f64> {
    DMatrix::from_fn(R, C, |i, j| rows[i][j])
}

/// Three training steps and an evaluation against PyTorch's `nn.BatchNorm1d` (float64,
/// `tools/gen_batch_norm_reference.py`): outputs, gradients in x, γ and β, running
/// statistics.
#[test]
fn steps_match_pytorch_batch_norm_1d() {
    use crate::batch_norm_reference as torch;
    let mut bn = BatchNorm::<f64>::new(3).with_momentum(torch::MOMENTUM);
    bn.scale = from_rows(&torch::GAMMA);
    bn.bias = from_rows(&torch::BETA);
    bn.running_mean = from_rows(&torch::RUNNING_MEAN);
    bn.running_var = from_rows(&torch::RUNNING_VAR);
    let c = from_rows(&torch::C);
    let close = |a: &DMatrix<f64>, b: &DMatrix<f64>, what: &str| {
        let scale = b.amax().max(1.0);
        assert!(
            (a - b).amax() <= 1e-14 * scale,
            "{what}: {a} vs PyTorch {b}"
        );
    };
    for (k, expected) in torch::STEPS.iter().enumerate() {
        let x = from_rows(&torch::X).add_scalar(k as f64);
        let mut proposals = Vec::new();
        let (_, g) = matrix::value_and_gradient(
            |v| {
                let mut ctx = Context::new(Mode::Train, 0);
                ctx.bind(&bn.scale, v[1]);
                ctx.bind(&bn.bias, v[2]);
                let y = bn.forward(v[0], &mut ctx);
                close(&y.value(), &from_rows(&expected.y), "y");
                for state in [&bn.running_mean, &bn.running_var] {
                    proposals.push(ctx.proposed_state(state).unwrap().clone());
                }
                y.component_mul(MatVar::constant(c.clone())).sum()
            },
            &[x, bn.scale.clone(), bn.bias.clone()],
        );
        close(&g[0], &from_rows(&expected.grad_x), "∂/∂x");
        close(&g[1], &from_rows(&expected.grad_gamma), "∂/∂γ");
        close(&g[2], &from_rows(&expected.grad_beta), "∂/∂β");
        close(
            &proposals[0],
            &from_rows(&expected.running_mean),
            "running mean",
        );
        close(
            &proposals[1],
            &from_rows(&expected.running_var),
            "running var",
        );
        bn.running_mean = proposals[0].clone();
        bn.running_var = proposals[1].clone();
    }
    close(
        &run(&bn, &from_rows(&torch::X), Mode::Eval),
        &from_rows(&torch::EVAL),
        "eval",
    );
}

/// An error a layer reports with `Context::fail` reaches every entry point that runs a
/// forward pass and returns a `Result`.
#[test]
fn errors_reported_by_a_layer_reach_every_entry_point() {
    #[derive(Clone, Debug)]
    struct Picky {
        w: DMatrix<f64>,
    }
    impl Layer<f64> for Picky {
        fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
            if x.value().iter().any(|&v| v < 0.0) {
                ctx.fail(NnError::InvalidData {
                    what: "negative input".into(),
                });
            }
            x.component_mul(ctx.param(&self.w))
        }
        fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
            f(&format!("{prefix}w"), &self.w);
        }
        fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
            f(&mut self.w);
        }
    }
    let layer = Picky { w: dmatrix![2.0] };
    let (good, bad) = (dmatrix![1.0, 2.0], dmatrix![1.0, -2.0]);
    let expected = NnError::InvalidData {
        what: "negative input".into(),
    };
    assert!(layer.predict(&good).is_ok());
    assert_eq!(layer.predict(&bad).unwrap_err(), expected);
    let forward = |x: &DMatrix<f64>| {
        let x = x.clone();
        move |m: &Picky, ctx: &mut Context<f64>| {
            Ok(m.forward(MatVar::constant(x.clone()), ctx).sum())
        }
    };
    assert!(adroit_nn::gradient(&layer, forward(&good)).is_ok());
    assert_eq!(
        adroit_nn::gradient(&layer, forward(&bad)).unwrap_err(),
        expected
    );
    let implicit = adroit_nn::params(&layer)
        .gradient(|ctx| Ok(layer.forward(MatVar::constant(bad.clone()), ctx).sum()));
    assert_eq!(implicit.unwrap_err(), expected);
    let (_, _) = matrix::pullback(
        |p| {
            let r = loss_with_params(&layer, p, Mode::Eval, 0, forward(&bad));
            assert_eq!(r.as_ref().unwrap_err(), &expected);
            p[0].sum()
        },
        std::slice::from_ref(&layer.w),
    );
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let validation = adroit_nn::Validation::new(&layer, good.clone(), good.clone(), loss).unwrap();
    assert!(validation.evaluate(&layer).is_ok());
    let validation = adroit_nn::Validation::new(&layer, bad.clone(), bad.clone(), loss);
    let err = validation.and_then(|v| v.evaluate(&layer)).unwrap_err();
    assert_eq!(err, expected);
    let mut model = layer.clone();
    assert_eq!(step(&mut model, &bad, 0.1).unwrap_err(), expected);
    assert_eq!(model.w, layer.w);
}

/// A loss that runs the layer on two batches moves the running statistics twice, in order,
/// as PyTorch and Flux do (momentum 0.1: mean 0.9·(0.1·2) + 0.1·12, variance 0.9·1.1 + 0.1·8,
/// a review's figures).
#[test]
fn two_forward_calls_in_one_pass_move_the_statistics_twice() {
    let mut bn = BatchNorm::<f64>::new(1);
    let (_, _, state) = gradient_with_state(&bn, Mode::Train, 0, |m, ctx| {
        let a = m.forward(MatVar::constant(dmatrix![1.0, 3.0]), ctx).sum();
        let b = m.forward(MatVar::constant(dmatrix![10.0, 14.0]), ctx).sum();
        Ok(a + b)
    })
    .unwrap();
    state.apply(&mut bn).unwrap();
    assert!(
        (bn.running_mean[0] - 1.38).abs() < 1e-14,
        "{}",
        bn.running_mean
    );
    assert!(
        (bn.running_var[0] - 1.79).abs() < 1e-14,
        "{}",
        bn.running_var
    );
}

/// In `train`, a last partial batch of one sample stops with the error naming the epoch and
/// batch; the steps before it are kept, the failing one changes nothing.
#[test]
fn a_batch_of_one_in_train_names_where() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let mut model = Chain::<f64>::new()
        .push(Dense::new(3, 3, Activation::Identity, &mut rng))
        .push(BatchNorm::new(3));
    let x = DMatrix::from_fn(3, 5, |i, j| ((i * 5 + j) as f64).sin());
    let mut loader = adroit_nn::data::DataLoader::new(x.clone(), x, 2).unwrap();
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    let config = adroit_nn::TrainConfig::default();
    let err = adroit_nn::train(
        &mut model,
        &mut loader,
        loss,
        &mut Descent::new(0.1),
        &config,
        &mut [],
    )
    .unwrap_err();
    let NnError::InvalidData { what } = &err.error else {
        panic!("{:?}", err.error)
    };
    assert!(what.ends_with("(epoch 0, batch 2)"), "{what}");
    assert!(what.contains("at least 2 samples"), "{what}");
}
