//! Lstm, Gru and Rnn: outputs and gradients against PyTorch's `nn.LSTM`, `nn.GRU` and `nn.RNN`
//! and against their recurrences written out in plain loops, Hessians against differences of
//! the gradient, sizes through a Chain, bad input and parameters, casts, weight files and a
//! sequence task each learns. (Runs from a given state: `recurrent_state.rs`.)

use crate::recurrent_reference as torch;
use adroit_check::fd;
use adroit_nn::losses::{Agg, mse};
use adroit_nn::{Activation, Cast, Chain, Context, Dense, Gru, Layer, Lstm, Mode, NnError, Rnn};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A matrix from an array of rows.
pub(crate) fn from_rows<const R: usize, const C: usize>(rows: &[[f64; C]; R]) -> DMatrix<f64> {
    DMatrix::from_fn(R, C, |i, j| rows[i][j])
}

/// The LSTM of `tools/gen_recurrent_reference.py`.
pub(crate) fn reference_lstm() -> Lstm<f64> {
    Lstm::from_parts(
        from_rows(&torch::lstm::WEIGHT_IH),
        from_rows(&torch::lstm::WEIGHT_HH),
        from_rows(&torch::lstm::BIAS),
    )
    .unwrap()
}

/// The GRU of `tools/gen_recurrent_reference.py`.
pub(crate) fn reference_gru() -> Gru<f64> {
    Gru::from_parts(
        from_rows(&torch::gru::WEIGHT_IH),
        from_rows(&torch::gru::WEIGHT_HH),
        from_rows(&torch::gru::BIAS_IH),
        from_rows(&torch::gru::BIAS_HH),
    )
    .unwrap()
}

/// The RNN of `tools/gen_recurrent_reference.py`, with activation `activation` (PyTorch's
/// `nonlinearity`).
pub(crate) fn reference_rnn(activation: Activation) -> Rnn<f64> {
    Rnn::from_parts(
        from_rows(&torch::rnn::WEIGHT_IH),
        from_rows(&torch::rnn::WEIGHT_HH),
        from_rows(&torch::rnn::BIAS),
        activation,
    )
    .unwrap()
}

/// `a` within `tol` of `b`, relative to `b`'s largest entry (at least 1).
pub(crate) fn assert_close(a: &DMatrix<f64>, b: &DMatrix<f64>, tol: f64, what: &str) {
    assert_eq!(a.shape(), b.shape(), "{what}");
    let scale = b.amax().max(1.0);
    assert!((a - b).amax() <= tol * scale, "{what}: {a} vs {b}");
}

/// Each of `got` within `tol` of the same entry of `want` (as [`assert_close`]), as many of
/// each; `case` names them in a failure (`case gradient k`).
pub(crate) fn assert_all_close(got: &[DMatrix<f64>], want: &[DMatrix<f64>], tol: f64, case: &str) {
    assert_eq!(got.len(), want.len(), "{case}");
    for (k, (g, w)) in got.iter().zip(want).enumerate() {
        assert_close(g, w, tol, &format!("{case} gradient {k}"));
    }
}

/// The output on `torch::X` (checked against `output`) and the gradients of Σ C ⊙ output in
/// the input and in each of the layer's parameters, in `visit` order.
fn output_and_gradients(layer: &impl Layer<f64>, output: &DMatrix<f64>) -> Vec<DMatrix<f64>> {
    weighted_output_gradients(layer, output, &from_rows(&torch::C))
}

/// As [`output_and_gradients`] for the loss Σ `c` ⊙ output.
pub(crate) fn weighted_output_gradients(
    layer: &impl Layer<f64>,
    output: &DMatrix<f64>,
    c: &DMatrix<f64>,
) -> Vec<DMatrix<f64>> {
    weighted_output_gradients_at(layer, &from_rows(&torch::X), output, c)
}

/// The output on `x` (checked against `output`) and the gradients of Σ `c` ⊙ output in `x`
/// and in each of the layer's parameters, in `visit` order.
pub(crate) fn weighted_output_gradients_at(
    layer: &impl Layer<f64>,
    x: &DMatrix<f64>,
    output: &DMatrix<f64>,
    c: &DMatrix<f64>,
) -> Vec<DMatrix<f64>> {
    let mut params = Vec::new();
    layer.visit_params(&mut |p| params.push(p));
    let mut inputs = vec![x.clone()];
    inputs.extend(params.iter().map(|p| (*p).clone()));
    matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            for (p, var) in params.iter().zip(&v[1..]) {
                ctx.bind(p, *var);
            }
            let y = layer.forward(v[0], &mut ctx);
            assert_close(&y.value(), output, 1e-14, "output");
            y.component_mul(MatVar::constant(c.clone())).sum()
        },
        &inputs,
    )
    .1
}

/// The gradients of Σ `w` ⊙ `layer(x)` in `x` and in every parameter against central
/// differences (each parameter moved through `visit_mut`), to `tol` relative to the largest
/// entry (at least 1).
pub(crate) fn assert_gradients_match_finite_differences<L: Layer<f64> + Clone>(
    layer: &L,
    x: &DMatrix<f64>,
    w: &DMatrix<f64>,
    tol: f64,
) {
    let loss = |layer: &L, x: &DMatrix<f64>| layer.predict(x).unwrap().component_mul(w).sum();
    let g = weighted_output_gradients_at(layer, x, &layer.predict(x).unwrap(), w);
    let (rows, cols) = x.shape();
    let fd_x = fd::gradient(
        |v: &[f64]| loss(layer, &DMatrix::from_column_slice(rows, cols, v)),
        x.as_slice(),
    );
    assert_close(
        &g[0],
        &DMatrix::from_column_slice(rows, cols, &fd_x),
        tol,
        "∂/∂x",
    );
    let mut params = Vec::new();
    layer.visit_params(&mut |p| params.push(p.clone()));
    assert_eq!(g.len(), params.len() + 1);
    for (k, p) in params.iter().enumerate() {
        let fd_p = fd::gradient(
            |v: &[f64]| {
                let mut moved = layer.clone();
                let mut at = 0;
                moved.visit_mut(&mut |m| {
                    if at == k {
                        m.copy_from_slice(v);
                    }
                    at += 1;
                });
                loss(&moved, x)
            },
            p.as_slice(),
        );
        let fd_p = DMatrix::from_column_slice(p.nrows(), p.ncols(), &fd_p);
        assert_close(&g[k + 1], &fd_p, tol, &format!("parameter {k}"));
    }
}

/// Output, final state and the loss's gradients in the input and every parameter against
/// PyTorch's `nn.LSTM` (float64).
#[test]
fn lstm_matches_pytorch() {
    let lstm = reference_lstm();
    let g = output_and_gradients(&lstm, &from_rows(&torch::lstm::OUTPUT));
    assert_close(&g[0], &from_rows(&torch::lstm::GRAD_X), 1e-14, "∂/∂x");
    assert_close(
        &g[1],
        &from_rows(&torch::lstm::GRAD_WEIGHT_IH),
        1e-14,
        "∂/∂W_ih",
    );
    assert_close(
        &g[2],
        &from_rows(&torch::lstm::GRAD_WEIGHT_HH),
        1e-14,
        "∂/∂W_hh",
    );
    assert_close(&g[3], &from_rows(&torch::lstm::GRAD_BIAS), 1e-14, "∂/∂b");
    let last = lstm.last_only().predict(&from_rows(&torch::X)).unwrap();
    assert_close(&last, &from_rows(&torch::lstm::LAST), 1e-14, "h_n");
}

/// The same against PyTorch's `nn.GRU` (float64): the two biases kept apart.
#[test]
fn gru_matches_pytorch() {
    let gru = reference_gru();
    let g = output_and_gradients(&gru, &from_rows(&torch::gru::OUTPUT));
    assert_close(&g[0], &from_rows(&torch::gru::GRAD_X), 1e-14, "∂/∂x");
    assert_close(
        &g[1],
        &from_rows(&torch::gru::GRAD_WEIGHT_IH),
        1e-14,
        "∂/∂W_ih",
    );
    assert_close(
        &g[2],
        &from_rows(&torch::gru::GRAD_WEIGHT_HH),
        1e-14,
        "∂/∂W_hh",
    );
    assert_close(
        &g[3],
        &from_rows(&torch::gru::GRAD_BIAS_IH),
        1e-14,
        "∂/∂b_ih",
    );
    assert_close(
        &g[4],
        &from_rows(&torch::gru::GRAD_BIAS_HH),
        1e-14,
        "∂/∂b_hh",
    );
    let last = gru.last_only().predict(&from_rows(&torch::X)).unwrap();
    assert_close(&last, &from_rows(&torch::gru::LAST), 1e-14, "h_n");
}

/// The same against PyTorch's `nn.RNN` (tanh, float64): its two biases summed.
#[test]
fn rnn_matches_pytorch() {
    let rnn = reference_rnn(Activation::Tanh);
    let g = output_and_gradients(&rnn, &from_rows(&torch::rnn::OUTPUT));
    assert_close(&g[0], &from_rows(&torch::rnn::GRAD_X), 1e-14, "∂/∂x");
    assert_close(
        &g[1],
        &from_rows(&torch::rnn::GRAD_WEIGHT_IH),
        1e-14,
        "∂/∂W_ih",
    );
    assert_close(
        &g[2],
        &from_rows(&torch::rnn::GRAD_WEIGHT_HH),
        1e-14,
        "∂/∂W_hh",
    );
    assert_close(&g[3], &from_rows(&torch::rnn::GRAD_BIAS), 1e-14, "∂/∂b");
    let last = rnn.last_only().predict(&from_rows(&torch::X)).unwrap();
    assert_close(&last, &from_rows(&torch::rnn::LAST), 1e-14, "h_n");
}

/// The logistic function.
fn sigmoid(v: f64) -> f64 {
    1.0 / (1.0 + (-v).exp())
}

/// `W·v + b` for the rows of `w`.
fn affine(w: &DMatrix<f64>, v: &[f64], b: &DMatrix<f64>) -> Vec<f64> {
    (0..w.nrows())
        .map(|r| {
            b[r] + v
                .iter()
                .enumerate()
                .map(|(k, x)| w[(r, k)] * x)
                .sum::<f64>()
        })
        .collect()
}

/// A recurrence's every hidden state, entry by entry: `cell(xₜ, hₜ₋₁, cₜ₋₁)` gives the next
/// `(h, c)` from the zero state.
fn unrolled(
    x: &DMatrix<f64>,
    input: usize,
    hidden: usize,
    cell: impl Fn(&[f64], &[f64], &[f64]) -> (Vec<f64>, Vec<f64>),
) -> DMatrix<f64> {
    let steps = x.nrows() / input;
    let mut out = DMatrix::zeros(hidden * steps, x.ncols());
    for b in 0..x.ncols() {
        let (mut h, mut c) = (vec![0.0; hidden], vec![0.0; hidden]);
        for t in 0..steps {
            let x_t: Vec<f64> = (0..input).map(|k| x[(t * input + k, b)]).collect();
            (h, c) = cell(&x_t, &h, &c);
            for (j, v) in h.iter().enumerate() {
                out[(t * hidden + j, b)] = *v;
            }
        }
    }
    out
}

/// Random weights and a longer sequence: each layer computes its documented recurrence
/// (gate order; the GRU's reset gate on the hidden side's candidate after its bias).
#[test]
fn outputs_are_the_documented_recurrences() {
    let mut rng = StdRng::seed_from_u64(4);
    let x = DMatrix::from_fn(3 * 7, 4, |r, c| ((r * 4 + c) as f64 * 0.37).cos() * 2.0);
    let mut lstm = Lstm::<f64>::new(3, 5, &mut rng);
    lstm.bias = DMatrix::from_fn(20, 1, |r, _| (r as f64 * 0.7).sin());
    let expected = unrolled(&x, 3, 5, |x_t, h, c| {
        let ih = affine(&lstm.weight_ih, x_t, &lstm.bias);
        let zero = DMatrix::zeros(20, 1);
        let a: Vec<f64> = ih
            .iter()
            .zip(affine(&lstm.weight_hh, h, &zero))
            .map(|(p, q)| p + q)
            .collect();
        let c: Vec<f64> = (0..5)
            .map(|j| sigmoid(a[5 + j]) * c[j] + sigmoid(a[j]) * a[10 + j].tanh())
            .collect();
        let h = (0..5).map(|j| sigmoid(a[15 + j]) * c[j].tanh()).collect();
        (h, c)
    });
    assert_close(
        &lstm.predict(&x).unwrap(),
        &expected,
        1e-14,
        "LSTM recurrence",
    );
    let mut gru = Gru::<f64>::new(3, 5, &mut rng);
    gru.bias_ih = DMatrix::from_fn(15, 1, |r, _| (r as f64 * 0.7).sin());
    gru.bias_hh = DMatrix::from_fn(15, 1, |r, _| (r as f64 * 1.3).cos());
    let expected = unrolled(&x, 3, 5, |x_t, h, _| {
        let a = affine(&gru.weight_ih, x_t, &gru.bias_ih);
        let b = affine(&gru.weight_hh, h, &gru.bias_hh);
        let h = (0..5)
            .map(|j| {
                let r = sigmoid(a[j] + b[j]);
                let z = sigmoid(a[5 + j] + b[5 + j]);
                let n = (a[10 + j] + r * b[10 + j]).tanh();
                (1.0 - z) * n + z * h[j]
            })
            .collect();
        (h, Vec::new())
    });
    assert_close(
        &gru.predict(&x).unwrap(),
        &expected,
        1e-14,
        "GRU recurrence",
    );
    // Any activation (as Flux's RNN takes any σ): the logistic one here.
    let mut rnn = Rnn::<f64>::new(3, 5, Activation::Sigmoid, &mut rng);
    rnn.bias = DMatrix::from_fn(5, 1, |r, _| (r as f64 * 0.9).cos());
    let expected = unrolled(&x, 3, 5, |x_t, h, _| {
        let a = affine(&rnn.weight_ih, x_t, &rnn.bias);
        let b = affine(&rnn.weight_hh, h, &DMatrix::zeros(5, 1));
        let h = (0..5).map(|j| sigmoid(a[j] + b[j])).collect();
        (h, Vec::new())
    });
    assert_close(
        &rnn.predict(&x).unwrap(),
        &expected,
        1e-14,
        "RNN recurrence",
    );
}

/// Hessians of a sequence model's loss in its parameters against differences of its
/// gradient: the model cast to duals carries the recurrent layer.
#[test]
fn hessians_match_differences_of_the_gradient() {
    let mut rng = StdRng::seed_from_u64(8);
    let x = DMatrix::from_fn(3, 4, |r, c| ((r * 4 + c) as f64 * 0.8).sin());
    let y = DMatrix::from_fn(1, 4, |_, c| (c as f64 * 0.5).cos());
    let lstm = Lstm::new(1, 2, &mut rng).last_only();
    let mut gru = Gru::new(1, 2, &mut rng).last_only();
    gru.bias_hh = DMatrix::from_fn(6, 1, |r, _| 0.3 * (r as f64).cos());
    let mut rnn = Rnn::new(1, 2, Activation::Tanh, &mut rng).last_only();
    rnn.bias = DMatrix::from_fn(2, 1, |r, _| 0.2 * (r as f64 + 1.0));
    let models = [
        (Chain::<f64>::new().push(lstm), 35), // 8 + 16 + 8, then 2 + 1
        (Chain::<f64>::new().push(gru), 33),  // 6 + 12 + 6 + 6, then 2 + 1
        (Chain::<f64>::new().push(rnn), 11),  // 2 + 4 + 2, then 2 + 1
    ];
    for (model, n) in models {
        let model = model.push(Dense::new(2, 1, Activation::Identity, &mut rng));
        let loss = crate::second_order::chain_mse(&x, &y);
        let (_, _, h) = adroit_nn::hessian_with(&model, Mode::Train, 0, loss).unwrap();
        assert_eq!(h.shape(), (n, n));
        let fd = crate::second_order::hessian_by_differences(&model, |m| {
            adroit_nn::gradient_with(m, Mode::Train, 0, crate::second_order::chain_mse(&x, &y))
                .unwrap()
                .1
        });
        let scale = h.amax();
        assert!(scale > 0.01);
        assert!((&h - &fd).amax() <= 1e-7 * scale, "{model:?}");
        assert!((&h - h.transpose()).amax() <= 1e-14 * scale, "{model:?}");
    }
}

/// A Chain follows the sizes: every step's states, or the last; rows that are not whole steps
/// and parameters that do not fit are errors before any forward pass.
#[test]
fn sizes_and_bad_input_are_checked() {
    let mut rng = StdRng::seed_from_u64(1);
    let lstm = Lstm::<f64>::new(2, 3, &mut rng);
    let gru = Gru::<f64>::new(2, 3, &mut rng);
    let rnn = Rnn::<f64>::new(2, 3, Activation::Tanh, &mut rng);
    let layers: [Box<dyn Layer<f64>>; 3] = [
        Box::new(lstm.clone()),
        Box::new(gru.clone()),
        Box::new(rnn.clone()),
    ];
    for layer in &layers {
        assert_eq!(layer.output_size_for(8).unwrap(), Some(12));
        assert!(matches!(
            layer.output_size_for(7),
            Err(NnError::InvalidConfig { .. })
        ));
        // No steps: no states.
        assert_eq!(
            layer.predict(&DMatrix::zeros(0, 3)).unwrap().shape(),
            (0, 3)
        );
    }
    assert_eq!(
        lstm.clone().last_only().output_size_for(8).unwrap(),
        Some(3)
    );
    assert_eq!(gru.clone().last_only().output_size_for(8).unwrap(), Some(3));
    // A dense layer after every step's states must take hidden·steps features.
    let fits =
        Chain::new()
            .push(gru.clone())
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
    let mut bad = gru.clone();
    bad.bias_hh = DMatrix::zeros(9, 2);
    assert!(matches!(
        bad.check_params(),
        Err(NnError::ShapeMismatch { .. })
    ));
    let mut bad = gru.clone();
    bad.weight_ih = DMatrix::zeros(12, 2); // 4·hidden rows: an LSTM's
    assert!(bad.predict(&DMatrix::zeros(8, 2)).is_err());
    let mut bad = rnn.clone();
    bad.weight_ih = DMatrix::zeros(9, 2); // 3·hidden rows: a GRU's
    assert!(matches!(
        bad.predict(&DMatrix::zeros(8, 2)),
        Err(NnError::ShapeMismatch { .. })
    ));
    // from_parts checks what check_params does.
    let w = |r, c| DMatrix::<f64>::zeros(r, c);
    assert!(matches!(
        Lstm::from_parts(w(12, 2), w(12, 3), w(12, 2)),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Gru::from_parts(w(9, 2), w(9, 4), w(9, 1), w(9, 1)),
        Err(NnError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        Rnn::from_parts(w(3, 2), w(3, 3), w(3, 1), Activation::Elu(f64::INFINITY)),
        Err(NnError::InvalidConfig { .. })
    ));
    let mut bad = rnn.clone();
    bad.activation = Activation::LeakyRelu(f64::NAN);
    assert!(matches!(
        bad.check_params(),
        Err(NnError::InvalidConfig {
            name: "Rnn activation parameter",
            ..
        })
    ));
    assert_eq!(rnn.clone().last_only().output_size_for(8).unwrap(), Some(3));
    // The final state of no steps is the zero state.
    assert_eq!(
        gru.last_only().predict(&DMatrix::zeros(0, 3)).unwrap(),
        DMatrix::zeros(3, 3)
    );
}

/// Parameter names, weight files and casts keep the layers. (The GRU reads the LSTM's 4
/// steps of 3 states as 6 steps of 2 features: sizes are all a chain can check.)
#[test]
fn names_files_and_casts() {
    let model = Chain::<f64>::new()
        .push(reference_lstm())
        .push(reference_gru().last_only());
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        [
            "layers.0.weight_ih",
            "layers.0.weight_hh",
            "layers.0.bias",
            "layers.1.weight_ih",
            "layers.1.weight_hh",
            "layers.1.bias_ih",
            "layers.1.bias_hh",
        ]
    );
    let x = DMatrix::from_fn(8, 2, |r, c| ((r + 3 * c) as f64 * 0.3).sin());
    let expected = model.predict(&x).unwrap();
    assert_eq!(expected.shape(), (3, 2));
    let single: Chain<f32> = model.cast().unwrap();
    let narrowed = single.predict(&x.clone().cast::<f32>()).unwrap();
    assert!((&expected - narrowed.cast::<f64>()).amax() < 1e-6);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("recurrent.safetensors");
    adroit_nn::io::save_safetensors(&model, &path).unwrap();
    let mut rng = StdRng::seed_from_u64(99);
    let mut fresh = Chain::<f64>::new()
        .push(Lstm::new(2, 3, &mut rng))
        .push(Gru::new(2, 3, &mut rng).last_only());
    adroit_nn::io::load_safetensors(&mut fresh, &path).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), expected);
    // An Rnn: its three parameters by name, its activation kept by a cast.
    let rnn = Chain::<f64>::new().push(reference_rnn(Activation::Relu).last_only());
    let mut names = Vec::new();
    rnn.visit("", &mut |name, _| names.push(name.to_string()));
    assert_eq!(
        names,
        ["layers.0.weight_ih", "layers.0.weight_hh", "layers.0.bias"]
    );
    let expected = rnn.predict(&x).unwrap();
    let single: Chain<f32> = rnn.cast().unwrap();
    let narrowed = single.predict(&x.clone().cast::<f32>()).unwrap();
    assert!((&expected - narrowed.cast::<f64>()).amax() < 1e-6);
    let path = dir.path().join("rnn.safetensors");
    adroit_nn::io::save_safetensors(&rnn, &path).unwrap();
    let mut fresh =
        Chain::<f64>::new().push(Rnn::new(2, 3, Activation::Relu, &mut rng).last_only());
    adroit_nn::io::load_safetensors(&mut fresh, &path).unwrap();
    assert_eq!(fresh.predict(&x).unwrap(), expected);
}

/// A task that needs memory: the first step's value, read out after the last step of a
/// sequence of smaller noise. Each layer's final state learns to carry it (error under 5 % of
/// the variance, that of predicting the mean).
#[test]
fn each_learns_to_recall_the_first_step() {
    let steps = 5;
    let x = DMatrix::from_fn(steps, 128, |r, c| {
        let v = ((r * 131 + c * 17) as f64 * 0.613).sin();
        if r == 0 { v } else { 0.3 * v }
    });
    let y = x.rows(0, 1).into_owned();
    let variance = y.map(|v| v * v).mean() - y.mean().powi(2);
    let mut rng = StdRng::seed_from_u64(12);
    let lstm = Chain::<f64>::new().push(Lstm::new(1, 8, &mut rng).last_only());
    let gru = Chain::<f64>::new().push(Gru::new(1, 8, &mut rng).last_only());
    let rnn = Chain::<f64>::new().push(Rnn::new(1, 8, Activation::Tanh, &mut rng).last_only());
    for model in [lstm, gru, rnn] {
        let mut model = model.push(Dense::new(8, 1, Activation::Identity, &mut rng));
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
        assert!(
            error < 0.05 * variance,
            "{model:?}: mse {error}, variance {variance}"
        );
    }
}

/// The final state alone has `hidden` features whatever the input: a layer after it that takes
/// another number is a `check_params` error, so `gradient` (which sees no data) reports it
/// instead of panicking inside the dense layer, and a `Parallel` knows its output size.
#[test]
fn the_final_state_fixes_the_output_size() {
    fn check(layer: impl Layer<f64> + Clone + 'static) {
        let mut rng = StdRng::seed_from_u64(2);
        let x = DMatrix::from_fn(8, 3, |r, c| ((r * 3 + c) as f64 * 0.41).sin());
        let y = DMatrix::zeros(1, 3);
        assert_eq!(layer.output_size(), Some(3));
        let bad =
            Chain::new()
                .push(layer.clone())
                .push(Dense::new(4, 1, Activation::Identity, &mut rng));
        assert!(matches!(
            bad.check_params(),
            Err(NnError::InvalidConfig { .. })
        ));
        let loss = crate::second_order::chain_mse(&x, &y);
        assert!(matches!(
            adroit_nn::gradient(&bad, loss),
            Err(NnError::InvalidConfig { .. })
        ));
        let both = adroit_nn::Parallel::new(adroit_nn::Connection::Concat)
            .push(layer.clone())
            .push(layer);
        assert_eq!(both.output_size(), Some(6));
    }
    let mut rng = StdRng::seed_from_u64(2);
    let lstm = Lstm::<f64>::new(2, 3, &mut rng);
    let gru = Gru::<f64>::new(2, 3, &mut rng);
    let rnn = Rnn::<f64>::new(2, 3, Activation::Tanh, &mut rng);
    // hidden·steps
    assert_eq!(
        (lstm.output_size(), gru.output_size(), rnn.output_size()),
        (None, None, None)
    );
    check(lstm.last_only());
    check(gru.last_only());
    check(rnn.last_only());
}
