//! The recurrent layers run from a given state (`forward_with_state`, `predict_with_state`):
//! outputs, final states and gradients in the input, the initial state and the parameters
//! against PyTorch's `module(x, h_0)`; a sequence split in two equals it whole; no initial
//! state is the zero state of `forward`; a state of one column is broadcast; bad input and
//! states are typed errors.

use crate::recurrent::{assert_close, from_rows, reference_gru, reference_lstm, reference_rnn};
use crate::recurrent_reference as torch;
use adroit_nn::{Activation, Context, Gru, Layer, Lstm, LstmState, Mode, NnError, Rnn};
use adroit_reverse::matrix::{self, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// A layer whose state is its hidden state alone (`Gru`, `Rnn`), run from a state.
type SingleRun<'a> = &'a dyn Fn(
    MatVar<f64>,
    Option<MatVar<f64>>,
    &mut Context<f64>,
) -> Result<(MatVar<f64>, MatVar<f64>), NnError>;

/// What PyTorch recorded for one run from a state (`c_n`, `∂/∂c₀` for the LSTM alone).
struct StateRun<'a> {
    output: &'a [[f64; 2]; 12],
    h_n: &'a [[f64; 2]; 3],
    c_n: Option<&'a [[f64; 2]; 3]>,
    grad_x: &'a [[f64; 2]; 8],
    grad_h0: &'a [[f64; 2]; 3],
    grad_c0: Option<&'a [[f64; 2]; 3]>,
}

/// The [`StateRun`] of the generator's module `$t` (`lstm` for the LSTM's cell state too).
macro_rules! recorded_run {
    ($t:ident) => {
        StateRun {
            output: &$t::OUTPUT,
            h_n: &$t::H_N,
            c_n: None,
            grad_x: &$t::GRAD_X,
            grad_h0: &$t::GRAD_H0,
            grad_c0: None,
        }
    };
    ($t:ident, lstm) => {
        StateRun {
            c_n: Some(&$t::C_N),
            grad_c0: Some(&$t::GRAD_C0),
            ..recorded_run!($t)
        }
    };
}

/// The loss of the generator's runs from a state, Σ C ⊙ output + Σ D ⊙ h_n (+ Σ E ⊙ c_n),
/// and its gradients in `[x, h₀, (c₀,) parameters…]`; `run(x, h₀, c₀, ctx)` is the layer from
/// the state (`c₀` only for the LSTM), checked against `expected`'s values on the way.
fn state_gradients(
    layer: &impl Layer<f64>,
    lstm: bool,
    expected: &StateRun<'_>,
    run: impl Fn(MatVar<f64>, MatVar<f64>, MatVar<f64>, &mut Context<f64>) -> [MatVar<f64>; 3],
) -> Vec<DMatrix<f64>> {
    let mut params = Vec::new();
    layer.visit_params(&mut |p| params.push(p));
    let states = if lstm { 2 } else { 1 };
    let mut inputs = vec![from_rows(&torch::X), from_rows(&torch::H0)];
    if lstm {
        inputs.push(from_rows(&torch::C0));
    }
    inputs.extend(params.iter().map(|p| (*p).clone()));
    matrix::value_and_gradient(
        |v| {
            let mut ctx = Context::new(Mode::Train, 0);
            for (p, var) in params.iter().zip(&v[1 + states..]) {
                ctx.bind(p, *var);
            }
            let c0 = if lstm { v[2] } else { v[1] };
            let [out, h_n, c_n] = run(v[0], v[1], c0, &mut ctx);
            assert_close(&out.value(), &from_rows(expected.output), 1e-14, "output");
            assert_close(&h_n.value(), &from_rows(expected.h_n), 1e-14, "h_n");
            let weight = |m: DMatrix<f64>| MatVar::constant(m);
            let mut loss = out.component_mul(weight(from_rows(&torch::C))).sum()
                + h_n.component_mul(weight(from_rows(&torch::D))).sum();
            if let Some(c_expected) = expected.c_n {
                assert_close(&c_n.value(), &from_rows(c_expected), 1e-14, "c_n");
                loss = loss + c_n.component_mul(weight(from_rows(&torch::E))).sum();
            }
            loss
        },
        &inputs,
    )
    .1
}

/// Checks the gradients in the input and the state; returns the parameters'.
fn check_input_and_state(g: &[DMatrix<f64>], expected: &StateRun<'_>) -> Vec<DMatrix<f64>> {
    assert_close(&g[0], &from_rows(expected.grad_x), 1e-14, "∂/∂x");
    assert_close(&g[1], &from_rows(expected.grad_h0), 1e-14, "∂/∂h₀");
    match expected.grad_c0 {
        Some(grad_c0) => {
            assert_close(&g[2], &from_rows(grad_c0), 1e-14, "∂/∂c₀");
            g[3..].to_vec()
        }
        None => g[2..].to_vec(),
    }
}

/// `Lstm::forward_with_state` from `(H0, C0)` against PyTorch's `lstm(x, (h_0, c_0))`.
#[test]
fn lstm_from_a_state_matches_pytorch() {
    use torch::lstm_state as t;
    let lstm = reference_lstm();
    let expected = recorded_run!(t, lstm);
    let g = state_gradients(&lstm, true, &expected, |x, h, c, ctx| {
        let (out, last) = lstm
            .forward_with_state(x, Some(LstmState { h, c }), ctx)
            .unwrap();
        [out, last.h, last.c]
    });
    let p = check_input_and_state(&g, &expected);
    assert_close(&p[0], &from_rows(&t::GRAD_WEIGHT_IH), 1e-14, "∂/∂W_ih");
    assert_close(&p[1], &from_rows(&t::GRAD_WEIGHT_HH), 1e-14, "∂/∂W_hh");
    assert_close(&p[2], &from_rows(&t::GRAD_BIAS), 1e-14, "∂/∂b");
}

/// `Gru::forward_with_state` from `H0` against PyTorch's `gru(x, h_0)`.
#[test]
fn gru_from_a_state_matches_pytorch() {
    use torch::gru_state as t;
    let gru = reference_gru();
    let expected = recorded_run!(t);
    let g = state_gradients(&gru, false, &expected, |x, h, _, ctx| {
        let (out, h_n) = gru.forward_with_state(x, Some(h), ctx).unwrap();
        [out, h_n, h_n]
    });
    let p = check_input_and_state(&g, &expected);
    assert_close(&p[0], &from_rows(&t::GRAD_WEIGHT_IH), 1e-14, "∂/∂W_ih");
    assert_close(&p[1], &from_rows(&t::GRAD_WEIGHT_HH), 1e-14, "∂/∂W_hh");
    assert_close(&p[2], &from_rows(&t::GRAD_BIAS_IH), 1e-14, "∂/∂b_ih");
    assert_close(&p[3], &from_rows(&t::GRAD_BIAS_HH), 1e-14, "∂/∂b_hh");
}

/// `Rnn::forward_with_state` from `H0` against PyTorch's `rnn(x, h_0)`, tanh and relu.
#[test]
fn rnn_from_a_state_matches_pytorch() {
    macro_rules! case {
        ($t:ident, $activation:expr) => {{
            use torch::$t as t;
            let rnn = reference_rnn($activation);
            let expected = recorded_run!(t);
            let g = state_gradients(&rnn, false, &expected, |x, h, _, ctx| {
                let (out, h_n) = rnn.forward_with_state(x, Some(h), ctx).unwrap();
                [out, h_n, h_n]
            });
            let p = check_input_and_state(&g, &expected);
            let what = stringify!($t);
            assert_close(&p[0], &from_rows(&t::GRAD_WEIGHT_IH), 1e-14, what);
            assert_close(&p[1], &from_rows(&t::GRAD_WEIGHT_HH), 1e-14, what);
            assert_close(&p[2], &from_rows(&t::GRAD_BIAS), 1e-14, what);
        }};
    }
    case!(rnn_state, Activation::Tanh);
    case!(rnn_relu_state, Activation::Relu);
}

/// Runs `f` in a recording scope with a fresh context (the values it asserts on are formed
/// there).
fn recorded(f: impl FnOnce(&mut Context<f64>)) {
    let _ = matrix::pullback(
        |_: &[MatVar<f64>]| {
            let mut ctx = Context::new(Mode::Eval, 0);
            f(&mut ctx);
            MatVar::constant(DMatrix::zeros(1, 1))
        },
        &[],
    );
}

/// Every step's states and the final state agree with `forward` from no state, and a sequence
/// run in two pieces, the second from the first's final state, gives the whole run's states
/// exactly; with `last_only` the output is the final hidden state.
#[test]
fn a_sequence_in_pieces_equals_it_whole() {
    let mut rng = StdRng::seed_from_u64(21);
    let x = DMatrix::from_fn(3 * 6, 4, |r, c| ((r * 4 + c) as f64 * 0.29).sin() * 1.5);
    let lstm = Lstm::<f64>::new(3, 5, &mut rng);
    let gru = Gru::<f64>::new(3, 5, &mut rng);
    let rnn = Rnn::<f64>::new(3, 5, Activation::Tanh, &mut rng);
    let constant = |rows: (usize, usize)| MatVar::constant(x.rows(rows.0, rows.1).into_owned());
    let (head, tail) = ((0, 6), (6, 12)); // 2 steps, then 4
    recorded(|ctx| {
        let (whole, last) = lstm
            .forward_with_state(constant((0, 18)), None, ctx)
            .unwrap();
        assert_eq!(whole.value(), lstm.forward(constant((0, 18)), ctx).value());
        let (first, mid) = lstm.forward_with_state(constant(head), None, ctx).unwrap();
        let (second, end) = lstm
            .forward_with_state(constant(tail), Some(mid), ctx)
            .unwrap();
        assert_eq!(whole.value().rows(0, 10), first.value());
        assert_eq!(whole.value().rows(10, 20), second.value());
        assert_eq!(
            (last.h.value(), last.c.value()),
            (end.h.value(), end.c.value())
        );
        assert_eq!(last.h.value(), whole.value().rows(25, 5));
        let (h_n, _) = lstm
            .clone()
            .last_only()
            .forward_with_state(constant(tail), Some(mid), ctx)
            .unwrap();
        assert_eq!(h_n.value(), end.h.value());
    });
    let single = |run: SingleRun<'_>, layer: &dyn Layer<f64>| {
        recorded(|ctx| {
            let (whole, last) = run(constant((0, 18)), None, ctx).unwrap();
            assert_eq!(whole.value(), layer.forward(constant((0, 18)), ctx).value());
            let (first, mid) = run(constant(head), None, ctx).unwrap();
            let (second, end) = run(constant(tail), Some(mid), ctx).unwrap();
            assert_eq!(whole.value().rows(0, 10), first.value());
            assert_eq!(whole.value().rows(10, 20), second.value());
            assert_eq!(last.value(), end.value());
            assert_eq!(last.value(), whole.value().rows(25, 5));
        });
    };
    single(&|x, h, ctx| gru.forward_with_state(x, h, ctx), &gru);
    single(&|x, h, ctx| rnn.forward_with_state(x, h, ctx), &rnn);
}

/// [`no_steps_and_bad_input`] for a layer whose state is its hidden state (`name` starts its
/// errors), `h0` a 3 × 4 state.
fn single_state_edges(name: &str, run: SingleRun<'_>, h0: &DMatrix<f64>, ctx: &mut Context<f64>) {
    let empty = MatVar::constant(DMatrix::zeros(0, 4));
    let (out, last) = run(empty, None, ctx).unwrap();
    assert_eq!((out.shape(), last.value()), ((0, 4), DMatrix::zeros(3, 4)));
    let (_, last) = run(empty, Some(MatVar::constant(h0.clone())), ctx).unwrap();
    assert_eq!(&last.value(), h0);
    // 5 rows: not whole steps of 2.
    let err = run(MatVar::constant(DMatrix::zeros(5, 4)), None, ctx).unwrap_err();
    assert!(
        matches!(&err, NnError::InvalidData { what } if what.starts_with(name)),
        "{err}"
    );
    // A state for 3 sequences, given 4.
    let small = MatVar::constant(DMatrix::zeros(3, 3));
    let err = run(MatVar::constant(DMatrix::zeros(4, 4)), Some(small), ctx).unwrap_err();
    assert!(
        matches!(
            err,
            NnError::ShapeMismatch {
                expected: (3, 4),
                found: (3, 3),
                ..
            }
        ),
        "{err}"
    );
}

/// No steps return the initial state (the zero state without one); rows that are not whole
/// steps, states of the wrong shape and parameters that do not fit are typed errors.
#[test]
fn no_steps_and_bad_input() {
    let mut rng = StdRng::seed_from_u64(5);
    let lstm = Lstm::<f64>::new(2, 3, &mut rng);
    let gru = Gru::<f64>::new(2, 3, &mut rng);
    let rnn = Rnn::<f64>::new(2, 3, Activation::Tanh, &mut rng);
    let h0 = DMatrix::from_fn(3, 4, |r, c| (r + c) as f64 * 0.1);
    recorded(|ctx| {
        let empty = MatVar::constant(DMatrix::zeros(0, 4));
        let given = MatVar::constant(h0.clone());
        // The LSTM: its state, or zeros.
        let (out, last) = lstm.forward_with_state(empty, None, ctx).unwrap();
        assert_eq!(out.shape(), (0, 4));
        assert_eq!(last.h.value(), DMatrix::zeros(3, 4));
        assert_eq!(last.c.value(), DMatrix::zeros(3, 4));
        let c0 = h0.map(|v| 1.0 - v);
        let state = LstmState {
            h: given,
            c: MatVar::constant(c0.clone()),
        };
        let (out, last) = lstm
            .clone()
            .last_only()
            .forward_with_state(empty, Some(state), ctx)
            .unwrap();
        assert_eq!(out.value(), h0);
        assert_eq!((last.h.value(), last.c.value()), (h0.clone(), c0));
        single_state_edges(
            "Gru",
            &|x, h, ctx| gru.forward_with_state(x, h, ctx),
            &h0,
            ctx,
        );
        single_state_edges(
            "Rnn",
            &|x, h, ctx| rnn.forward_with_state(x, h, ctx),
            &h0,
            ctx,
        );
        let x = MatVar::constant(DMatrix::zeros(4, 4));
        // The LSTM's cell state is checked too.
        let bad = LstmState {
            h: given,
            c: MatVar::constant(DMatrix::zeros(2, 4)),
        };
        let err = lstm.forward_with_state(x, Some(bad), ctx).unwrap_err();
        assert!(err.to_string().contains("initial c"), "{err}");
        // Parameters that do not fit.
        let mut broken = gru.clone();
        broken.bias_hh = DMatrix::zeros(4, 1);
        assert!(matches!(
            broken.forward_with_state(x, None, ctx),
            Err(NnError::ShapeMismatch { .. })
        ));
    });
}

/// One state for every sequence (`hidden × 1`, as a learned initial state is) is broadcast:
/// the same outputs and final state as that state repeated over the batch, and its gradient
/// the repeated state's summed over the batch.
#[test]
fn a_state_of_one_column_is_broadcast_over_the_batch() {
    let mut rng = StdRng::seed_from_u64(13);
    let lstm = Lstm::<f64>::new(2, 3, &mut rng);
    let gru = Gru::<f64>::new(2, 3, &mut rng);
    let rnn = Rnn::<f64>::new(2, 3, Activation::Tanh, &mut rng);
    let x = DMatrix::from_fn(6, 4, |r, c| ((r * 4 + c) as f64 * 0.41).cos());
    let one = DMatrix::from_column_slice(3, 1, &[0.4, -0.3, 0.2]);
    let repeated = DMatrix::from_fn(3, 4, |r, _| one[r]);
    // Σ of every output and final state, from state `h` (and `c`).
    type Run<'a> = &'a dyn Fn(&[MatVar<f64>], &mut Context<f64>) -> MatVar<f64>;
    let check = |name: &str, states: usize, run: Run<'_>| {
        let gradient = |state: &DMatrix<f64>| {
            matrix::value_and_gradient(
                |v| run(v, &mut Context::new(Mode::Train, 0)),
                &vec![state.clone(); states],
            )
        };
        let (value_one, g_one) = gradient(&one);
        let (value_all, g_all) = gradient(&repeated);
        assert!((value_one - value_all).abs() < 1e-14, "{name}");
        for (a, b) in g_one.iter().zip(&g_all) {
            assert_eq!(a.shape(), (3, 1));
            let summed = DMatrix::from_fn(3, 1, |r, _| b.row(r).sum());
            assert_close(a, &summed, 1e-14, name);
        }
    };
    let seq = || MatVar::constant(x.clone());
    check("Lstm", 2, &|v, ctx| {
        let state = LstmState { h: v[0], c: v[1] };
        let (out, last) = lstm.forward_with_state(seq(), Some(state), ctx).unwrap();
        out.sum() + last.h.sum() + last.c.sum()
    });
    check("Gru", 1, &|v, ctx| {
        let (out, h_n) = gru.forward_with_state(seq(), Some(v[0]), ctx).unwrap();
        out.sum() + h_n.sum()
    });
    check("Rnn", 1, &|v, ctx| {
        let (out, h_n) = rnn.forward_with_state(seq(), Some(v[0]), ctx).unwrap();
        out.sum() + h_n.sum()
    });
    // No steps: the state comes back broadcast to hidden × batch.
    let (_, h_n) = gru
        .predict_with_state(&DMatrix::zeros(0, 4), Some(&one))
        .unwrap();
    assert_eq!(h_n, repeated);
    // No sequences: a state of one column for none.
    let (out, h_n) = rnn
        .predict_with_state(&DMatrix::zeros(6, 0), Some(&one))
        .unwrap();
    assert_eq!((out.shape(), h_n.shape()), ((9, 0), (3, 0)));
    // A state of 2 columns for 4 sequences is neither.
    let two = DMatrix::zeros(3, 2);
    assert!(matches!(
        rnn.predict_with_state(&x, Some(&two)),
        Err(NnError::ShapeMismatch { .. })
    ));
}

/// `predict_with_state` on plain matrices gives PyTorch's values of the runs from a state.
#[test]
fn predict_with_state_matches_pytorch() {
    let x = from_rows(&torch::X);
    let (h0, c0) = (from_rows(&torch::H0), from_rows(&torch::C0));
    let (out, (h_n, c_n)) = reference_lstm()
        .predict_with_state(&x, Some(&(h0.clone(), c0)))
        .unwrap();
    assert_close(&out, &from_rows(&torch::lstm_state::OUTPUT), 1e-14, "Lstm");
    assert_close(&h_n, &from_rows(&torch::lstm_state::H_N), 1e-14, "Lstm h_n");
    assert_close(&c_n, &from_rows(&torch::lstm_state::C_N), 1e-14, "Lstm c_n");
    let (out, h_n) = reference_gru().predict_with_state(&x, Some(&h0)).unwrap();
    assert_close(&out, &from_rows(&torch::gru_state::OUTPUT), 1e-14, "Gru");
    assert_close(&h_n, &from_rows(&torch::gru_state::H_N), 1e-14, "Gru h_n");
    let relu = reference_rnn(Activation::Relu);
    let (out, h_n) = relu.predict_with_state(&x, Some(&h0)).unwrap();
    assert_close(
        &out,
        &from_rows(&torch::rnn_relu_state::OUTPUT),
        1e-14,
        "Rnn",
    );
    assert_close(
        &h_n,
        &from_rows(&torch::rnn_relu_state::H_N),
        1e-14,
        "Rnn h_n",
    );
    // Errors come back as errors, not panics.
    assert!(matches!(
        relu.predict_with_state(&DMatrix::zeros(5, 2), None),
        Err(NnError::InvalidData { .. })
    ));
}
