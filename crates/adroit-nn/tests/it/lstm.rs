//! Lstm: output and gradients against PyTorch's `nn.LSTM` and the defining recurrence written
//! out in plain loops, Hessians against differences of the gradient, sizes through a Chain,
//! bad input and parameters, casts, weight files and a sequence task it learns.

use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Cast, Chain, Context, Dense, Layer, Lstm, Mode, NnError};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;

/// A matrix from an array of rows.
fn from_rows<const R: usize, const C: usize>(rows: &[[f64; C]; R]) -> DMatrix<f64> {
    DMatrix::from_fn(R, C, |i, j| rows[i][j])
}

/// The layer of `tools/gen_lstm_reference.py`.
fn reference_layer() -> Lstm<f64> {
    use crate::lstm_reference as torch;
    let mut lstm = Lstm::new(2, 3, &mut rand::rngs::StdRng::seed_from_u64(0));
    lstm.weight_ih = from_rows(&torch::WEIGHT_IH);
    lstm.weight_hh = from_rows(&torch::WEIGHT_HH);
    lstm.bias = from_rows(&torch::BIAS);
    lstm
}

/// `a` within `tol` of `b`, relative to `b`'s largest entry (at least 1).
fn assert_close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    let scale = b.amax().max(1.0);
    assert!((a - b).amax() <= tol * scale, "{what}: {a} vs {b}");
}

/// Output, final state and the loss's gradients in the input and every parameter against
/// PyTorch's `nn.LSTM` (float64, `tools/gen_lstm_reference.py`).
#[test]
fn output_and_gradients_match_pytorch_lstm() {
    use crate::lstm_reference as torch;
    let lstm = reference_layer();
    let (x, c) = (from_rows(&torch::X), from_rows(&torch::C));
    let (_, g) = matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            ctx.bind(&lstm.weight_ih, v[1]);
            ctx.bind(&lstm.weight_hh, v[2]);
            ctx.bind(&lstm.bias, v[3]);
            let y = lstm.forward(v[0], &mut ctx);
            assert_close(&y.value(), &from_rows(&torch::OUTPUT), 1e-14, "output");
            y.component_mul(MatVar::constant(c.clone())).sum()
        },
        &[
            x.clone(),
            lstm.weight_ih.clone(),
            lstm.weight_hh.clone(),
            lstm.bias.clone(),
        ],
    );
    assert_close(&g[0], &from_rows(&torch::GRAD_X), 1e-14, "∂/∂x");
    assert_close(&g[1], &from_rows(&torch::GRAD_WEIGHT_IH), 1e-14, "∂/∂W_ih");
    assert_close(&g[2], &from_rows(&torch::GRAD_WEIGHT_HH), 1e-14, "∂/∂W_hh");
    assert_close(&g[3], &from_rows(&torch::GRAD_BIAS), 1e-14, "∂/∂b");
    let last = lstm.clone().last_only().predict(&x).unwrap();
    assert_close(&last, &from_rows(&torch::LAST), 1e-14, "h_n");
}

/// The logistic function.
fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// The recurrence of the docs, entry by entry in plain loops: every step's hidden state.
fn recurrence(lstm: &Lstm<f64>, x: &DMatrix<f64>) -> DMatrix<f64> {
    let (input, hidden) = (lstm.input(), lstm.hidden());
    let steps = x.nrows() / input;
    let mut out = DMatrix::zeros(hidden * steps, x.ncols());
    for b in 0..x.ncols() {
        let (mut h, mut c) = (vec![0.0; hidden], vec![0.0; hidden]);
        for t in 0..steps {
            let pre = |r: usize| {
                let mut s = lstm.bias[r];
                for k in 0..input {
                    s += lstm.weight_ih[(r, k)] * x[(t * input + k, b)];
                }
                for (k, h_k) in h.iter().enumerate() {
                    s += lstm.weight_hh[(r, k)] * h_k;
                }
                s
            };
            let gates: Vec<f64> = (0..4 * hidden).map(pre).collect();
            for j in 0..hidden {
                let i = sigmoid(gates[j]);
                let f = sigmoid(gates[hidden + j]);
                let g = gates[2 * hidden + j].tanh();
                c[j] = f * c[j] + i * g;
            }
            for j in 0..hidden {
                let o = sigmoid(gates[3 * hidden + j]);
                h[j] = o * c[j].tanh();
                out[(t * hidden + j, b)] = h[j];
            }
        }
    }
    out
}

/// Random weights and a longer sequence: the layer computes the documented recurrence
/// (gate order input, forget, cell, output; state from zero).
#[test]
fn the_output_is_the_documented_recurrence() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let mut lstm = Lstm::<f64>::new(3, 5, &mut rng);
    lstm.bias = DMatrix::from_fn(20, 1, |r, _| (r as f64 * 0.7).sin());
    let x = DMatrix::from_fn(3 * 7, 4, |r, c| ((r * 4 + c) as f64 * 0.37).cos() * 2.0);
    assert_close(
        &lstm.predict(&x).unwrap(),
        &recurrence(&lstm, &x),
        1e-14,
        "recurrence",
    );
}

/// Hessians of a sequence model's loss in its parameters, in both modes, against differences
/// of its gradient; the model cast to duals carries the LSTM.
#[test]
fn hessians_match_differences_of_the_gradient() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(8);
    let model = Chain::<f64>::new()
        .push(Lstm::new(1, 2, &mut rng).last_only())
        .push(Dense::new(2, 1, Activation::Identity, &mut rng));
    let x = DMatrix::from_fn(3, 4, |r, c| ((r * 4 + c) as f64 * 0.8).sin());
    let y = DMatrix::from_fn(1, 4, |_, c| (c as f64 * 0.5).cos());
    let (_, _, h) = adroit_nn::hessian_with(
        &model,
        Mode::Train,
        0,
        crate::second_order::chain_mse(&x, &y),
    )
    .unwrap();
    assert_eq!(h.shape(), (35, 35)); // 8 + 16 + 8, 2 + 1
    let fd = crate::second_order::hessian_by_differences(&model, |m| {
        adroit_nn::gradient_with(m, Mode::Train, 0, crate::second_order::chain_mse(&x, &y))
            .unwrap()
            .1
    });
    let scale = h.amax();
    assert!(scale > 0.01);
    assert!((&h - &fd).amax() <= 1e-7 * scale);
    assert!((&h - h.transpose()).amax() <= 1e-14 * scale);
}

/// A Chain follows the sizes: every step's states, or the last; rows that are not whole steps
/// and parameters that do not fit are errors before any forward pass.
#[test]
fn sizes_and_bad_input_are_checked() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(1);
    let lstm = Lstm::<f64>::new(2, 3, &mut rng);
    assert_eq!(lstm.output_size_for(8).unwrap(), Some(12));
    assert_eq!(
        lstm.clone().last_only().output_size_for(8).unwrap(),
        Some(3)
    );
    assert!(matches!(
        lstm.output_size_for(7),
        Err(NnError::InvalidConfig { .. })
    ));
    // A dense layer after every step's states must take hidden·steps features.
    let fits =
        Chain::new()
            .push(lstm.clone())
            .push(Dense::new(12, 1, Activation::Identity, &mut rng));
    assert_eq!(fits.predict(&DMatrix::zeros(8, 2)).unwrap().shape(), (1, 2));
    assert!(fits.predict(&DMatrix::zeros(6, 2)).is_err()); // 3 steps: 9 features, not 12
    let err = fits.predict(&DMatrix::zeros(7, 2)).unwrap_err();
    assert!(err.to_string().contains("whole steps"), "{err}");
    // Parameters set to shapes that do not fit.
    let mut bad = lstm.clone();
    bad.bias = DMatrix::zeros(11, 1);
    assert!(matches!(
        bad.predict(&DMatrix::zeros(8, 2)),
        Err(NnError::ShapeMismatch { .. })
    ));
    let mut bad = lstm.clone();
    bad.weight_hh = DMatrix::zeros(12, 4);
    assert!(bad.check_params().is_err());
    // No steps: no states, or the zero state.
    assert_eq!(lstm.predict(&DMatrix::zeros(0, 3)).unwrap().shape(), (0, 3));
    assert_eq!(
        lstm.clone()
            .last_only()
            .predict(&DMatrix::zeros(0, 3))
            .unwrap(),
        DMatrix::zeros(3, 3)
    );
}

/// Parameter names, weight files and casts keep the layer.
#[test]
fn names_files_and_casts() {
    let model = Chain::<f64>::new().push(reference_layer().last_only());
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        ["layers.0.weight_ih", "layers.0.weight_hh", "layers.0.bias"]
    );
    let x = from_rows(&crate::lstm_reference::X);
    let single: Chain<f32> = model.cast().unwrap();
    let (a, b) = (
        model.predict(&x).unwrap(),
        single.predict(&x.clone().cast::<f32>()).unwrap(),
    );
    assert!((a - b.cast::<f64>()).amax() < 1e-6);
    let dir = std::env::temp_dir().join(format!("adroit-lstm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("lstm.safetensors");
    adroit_nn::io::save_safetensors(&model, &path).unwrap();
    let mut fresh = Chain::<f64>::new()
        .push(Lstm::new(2, 3, &mut rand::rngs::StdRng::seed_from_u64(99)).last_only());
    adroit_nn::io::load_safetensors(&mut fresh, &path).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), model.predict(&x).unwrap());
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A task that needs memory: the first step's value, read out after the last step of a
/// sequence of smaller noise. The LSTM's final state learns to carry it (error under 5 % of
/// the variance, that of predicting the mean).
#[test]
fn learns_to_recall_the_first_step() {
    let steps = 5;
    let mut rng = rand::rngs::StdRng::seed_from_u64(12);
    let x = DMatrix::from_fn(steps, 128, |r, c| {
        let v = ((r * 131 + c * 17) as f64 * 0.613).sin();
        if r == 0 { v } else { 0.3 * v }
    });
    let y = x.rows(0, 1).into_owned();
    let mut model = Chain::<f64>::new()
        .push(Lstm::new(1, 8, &mut rng).last_only())
        .push(Dense::new(8, 1, Activation::Identity, &mut rng));
    let mut loader = adroit_nn::data::DataLoader::new(x.clone(), y.clone(), 32)
        .unwrap()
        .shuffle(3);
    let config = adroit_nn::TrainConfig {
        epochs: 200,
        ..adroit_nn::TrainConfig::default()
    };
    let mut opt = adroit_nn::optim::Adam::new(0.01);
    let loss = |p, t: &DMatrix<f64>| mse(p, t, Agg::Mean);
    adroit_nn::train(&mut model, &mut loader, loss, &mut opt, &config, &mut []).unwrap();
    let error = (model.predict(&x).unwrap() - &y).map(|v| v * v).mean();
    let variance = y.map(|v| v * v).mean() - y.mean().powi(2);
    assert!(error < 0.05 * variance, "mse {error}, variance {variance}");
}
