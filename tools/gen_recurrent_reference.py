#!/usr/bin/env python3
"""Reference values for adroit-nn's Lstm, Gru, Rnn and Bidirectional from PyTorch's one-layer
`nn.LSTM`, `nn.GRU` and `nn.RNN` (one direction and two), float64.

Usage (from the repository root; `pip install torch numpy mpmath`, the last for the shared
`tools/f64_literals.py`):

    python3 tools/gen_recurrent_reference.py > crates/adroit-nn/tests/it/recurrent_reference.rs
    cargo fmt --all

Setup: 2 input features, 3 hidden features, sequences of 4 steps, a batch of 2 sequences.
The weights are set by formula (below), the input-side and hidden-side biases differ (the
LSTM's and the RNN's single bias in adroit is their sum; the GRU keeps both). The input is
x[t, b, i] (PyTorch's sequence x batch x features layout); adroit takes it as
(input*steps) x batch, rows t*input + i. The loss is sum(C * output) over every step's
hidden state, with C fixed; recorded per layer: the output, the final hidden state, and the
loss's gradients in the input, weight_ih_l0, weight_hh_l0 and the biases (the LSTM's and the
RNN's: bias_ih_l0's gradient, equal to bias_hh_l0's up to rounding). Layers: nn.LSTM, nn.GRU,
nn.RNN (tanh).

Then each layer again from a given initial state (H0, and C0 for the LSTM; nn.RNN also with
relu), same weights, with the loss sum(C * output) + sum(D * h_n) (+ sum(E * c_n) for the
LSTM), so that the final state's own gradient path counts: recorded the output, h_n (c_n),
and the gradients in the input, the initial state and the parameters.

Last, bidirectional nn.LSTM and nn.GRU: the forward direction's weights those of the
one-direction module above (not printed again), the reverse direction's by the same formulas
at other phases; the loss sum(C2 * output) with C2 over both
directions' features; recorded the output (each step's forward then backward features), h_n
(forward's final state above backward's) and the gradients in the input and every parameter.
Everything is printed in adroit's layout as arrays of rows (a state hidden x batch).
"""

import math

import torch

from f64_literals import lit

torch.set_default_dtype(torch.float64)

INPUT, HIDDEN, STEPS, BATCH = 2, 3, 4, 2


def weight(rows, cols, phase):
    return [[0.6 * math.sin(1.3 * r + 0.7 * c + phase) for c in range(cols)] for r in range(rows)]


# x[t][b][i] and C[t][b][h]
X = [[[math.sin(0.9 * t + 1.7 * b + 0.4 * i) * 1.5 for i in range(INPUT)] for b in range(BATCH)] for t in range(STEPS)]
C = [[[math.cos(0.5 * t - 1.1 * b + 0.8 * h) for h in range(HIDDEN)] for b in range(BATCH)] for t in range(STEPS)]
C2 = [[[math.cos(0.7 * t + 0.4 * b - 0.3 * h) for h in range(2 * HIDDEN)] for b in range(BATCH)] for t in range(STEPS)]
# initial states and the final states' loss weights, [1][b][h] as PyTorch takes them
H0 = [[[0.7 * math.sin(1.9 * b - 0.6 * h + 0.3) for h in range(HIDDEN)] for b in range(BATCH)]]
C0 = [[[0.9 * math.cos(0.8 * b + 1.3 * h) for h in range(HIDDEN)] for b in range(BATCH)]]
D = [[[math.sin(2.1 * b + 0.9 * h + 0.5) for h in range(HIDDEN)] for b in range(BATCH)]]
E = [[[math.cos(1.4 * b - 0.7 * h) for h in range(HIDDEN)] for b in range(BATCH)]]


def rows(m):
    return "[" + ", ".join("[" + ", ".join(lit(float(v)) for v in row) + "]" for row in m) + "]"


def column(v):
    return rows([[x] for x in v])


def stacked(seq, width):
    """seq[t][b][k] as the (width*steps) x batch matrix of rows t*width + k."""
    return [[seq[t][b][k] for b in range(BATCH)] for t in range(STEPS) for k in range(width)]


def run(module, gates):
    """Sets module's weights by formula, runs it on X; its values and gradients."""
    w_ih, w_hh = weight(gates * HIDDEN, INPUT, 0.1), weight(gates * HIDDEN, HIDDEN, 0.9)
    b_ih = [0.1 * math.cos(k) for k in range(gates * HIDDEN)]
    b_hh = [0.05 * math.sin(2 * k + 1) for k in range(gates * HIDDEN)]
    with torch.no_grad():
        module.weight_ih_l0.copy_(torch.tensor(w_ih))
        module.weight_hh_l0.copy_(torch.tensor(w_hh))
        module.bias_ih_l0.copy_(torch.tensor(b_ih))
        module.bias_hh_l0.copy_(torch.tensor(b_hh))
    x = torch.tensor(X).requires_grad_(True)
    out, state = module(x)
    h_n = state[0] if isinstance(state, tuple) else state
    (torch.tensor(C) * out).sum().backward()
    return w_ih, w_hh, b_ih, b_hh, out, h_n, x.grad


def run_bidirectional(module, gates):
    """Sets both directions' weights by formula (the reverse one at other phases), runs module
    on X; the loss sum(C2 * output). Returns the weights and biases per direction, out, h_n and
    the input's gradient."""
    params = {}
    for suffix, (p_ih, p_hh, p_b) in [("", (0.1, 0.9, 0.0)), ("_reverse", (0.4, 1.7, 0.5))]:
        w_ih = weight(gates * HIDDEN, INPUT, p_ih)
        w_hh = weight(gates * HIDDEN, HIDDEN, p_hh)
        b_ih = [0.1 * math.cos(k + p_b) for k in range(gates * HIDDEN)]
        b_hh = [0.05 * math.sin(2 * k + 1 + p_b) for k in range(gates * HIDDEN)]
        with torch.no_grad():
            getattr(module, "weight_ih_l0" + suffix).copy_(torch.tensor(w_ih))
            getattr(module, "weight_hh_l0" + suffix).copy_(torch.tensor(w_hh))
            getattr(module, "bias_ih_l0" + suffix).copy_(torch.tensor(b_ih))
            getattr(module, "bias_hh_l0" + suffix).copy_(torch.tensor(b_hh))
        params[suffix] = (w_ih, w_hh, b_ih, b_hh)
    x = torch.tensor(X).requires_grad_(True)
    out, state = module(x)
    h_n = state[0] if isinstance(state, tuple) else state
    (torch.tensor(C2) * out).sum().backward()
    return params, out, h_n, x.grad


def print_bidirectional(module, gates, summed):
    params, out, h_n, grad_x = run_bidirectional(module, gates)
    g, n = gates * HIDDEN, INPUT * STEPS
    print(f"    /// Every step's forward then backward hidden state.\n    pub const OUTPUT: [[f64; {BATCH}]; {2 * HIDDEN * STEPS}] = {rows(stacked(out.detach().tolist(), 2 * HIDDEN))};")
    print(f"    /// `h_n`: the forward direction's final state above the backward one's.\n    pub const LAST: [[f64; {BATCH}]; {2 * HIDDEN}] = {rows(h_n[0].T.tolist() + h_n[1].T.tolist())};")
    print(f"    /// ∂loss/∂x.\n    pub const GRAD_X: [[f64; {BATCH}]; {n}] = {rows(stacked(grad_x.tolist(), INPUT))};")
    for suffix, name in [("", "FORWARD"), ("_reverse", "BACKWARD")]:
        w_ih, w_hh, b_ih, b_hh = params[suffix]
        grad = lambda p: getattr(module, p + "_l0" + suffix).grad
        # The forward direction's parameters are the one-direction module's (printed there).
        forward = suffix == ""
        if not forward:
            print(f"    /// `weight_ih_l0{suffix}`.\n    pub const {name}_WEIGHT_IH: [[f64; {INPUT}]; {g}] = {rows(w_ih)};")
            print(f"    /// `weight_hh_l0{suffix}`.\n    pub const {name}_WEIGHT_HH: [[f64; {HIDDEN}]; {g}] = {rows(w_hh)};")
        print(f"    /// ∂loss/∂weight_ih_l0{suffix}.\n    pub const {name}_GRAD_WEIGHT_IH: [[f64; {INPUT}]; {g}] = {rows(grad('weight_ih').tolist())};")
        print(f"    /// ∂loss/∂weight_hh_l0{suffix}.\n    pub const {name}_GRAD_WEIGHT_HH: [[f64; {HIDDEN}]; {g}] = {rows(grad('weight_hh').tolist())};")
        if summed:
            assert torch.allclose(grad("bias_ih"), grad("bias_hh"), rtol=1e-14, atol=1e-15)
            if not forward:
                print(f"    /// `bias_ih_l0{suffix} + bias_hh_l0{suffix}`.\n    pub const {name}_BIAS: [[f64; 1]; {g}] = {column([a + b for a, b in zip(b_ih, b_hh)])};")
            print(f"    /// ∂loss/∂bias (of this direction).\n    pub const {name}_GRAD_BIAS: [[f64; 1]; {g}] = {column(grad('bias_ih').tolist())};")
        else:
            if not forward:
                print(f"    /// `bias_ih_l0{suffix}`.\n    pub const {name}_BIAS_IH: [[f64; 1]; {g}] = {column(b_ih)};")
                print(f"    /// `bias_hh_l0{suffix}`.\n    pub const {name}_BIAS_HH: [[f64; 1]; {g}] = {column(b_hh)};")
            print(f"    /// ∂loss/∂bias_ih_l0{suffix}.\n    pub const {name}_GRAD_BIAS_IH: [[f64; 1]; {g}] = {column(grad('bias_ih').tolist())};")
            print(f"    /// ∂loss/∂bias_hh_l0{suffix}.\n    pub const {name}_GRAD_BIAS_HH: [[f64; 1]; {g}] = {column(grad('bias_hh').tolist())};")


def run_from_state(module, lstm):
    """Runs module (weights already set by run) on X from H0 (and C0); the loss adds the
    final states' terms. Returns out, h_n, c_n (None but for the LSTM), and the gradients in
    x, h0, c0 (None but for the LSTM), the parameters' in the module."""
    module.zero_grad()
    x = torch.tensor(X).requires_grad_(True)
    h0 = torch.tensor(H0).requires_grad_(True)
    c0 = torch.tensor(C0).requires_grad_(True) if lstm else None
    out, state = module(x, (h0, c0) if lstm else h0)
    h_n, c_n = state if lstm else (state, None)
    loss = (torch.tensor(C) * out).sum() + (torch.tensor(D) * h_n).sum()
    if lstm:
        loss = loss + (torch.tensor(E) * c_n).sum()
    loss.backward()
    return out, h_n, c_n, x.grad, h0.grad, (c0.grad if lstm else None)


def state(m):
    """A [1][b][h] state as adroit's hidden x batch rows."""
    return rows(torch.as_tensor(m)[0].T.tolist())


def print_state_run(module, lstm, biases):
    """The run from the initial state: values, then gradients (biases: their names and
    whether they are summed into one, as adroit's LSTM and RNN keep them)."""
    out, h_n, c_n, grad_x, grad_h0, grad_c0 = run_from_state(module, lstm)
    n, m, g = INPUT * STEPS, HIDDEN * STEPS, module.weight_ih_l0.shape[0]
    print(f"    /// Every step's hidden state.\n    pub const OUTPUT: [[f64; {BATCH}]; {m}] = {rows(stacked(out.detach().tolist(), HIDDEN))};")
    print(f"    /// The final hidden state (`h_n`).\n    pub const H_N: [[f64; {BATCH}]; {HIDDEN}] = {state(h_n.detach())};")
    if lstm:
        print(f"    /// The final cell state (`c_n`).\n    pub const C_N: [[f64; {BATCH}]; {HIDDEN}] = {state(c_n.detach())};")
    print(f"    /// ∂loss/∂x.\n    pub const GRAD_X: [[f64; {BATCH}]; {n}] = {rows(stacked(grad_x.tolist(), INPUT))};")
    print(f"    /// ∂loss/∂h₀.\n    pub const GRAD_H0: [[f64; {BATCH}]; {HIDDEN}] = {state(grad_h0)};")
    if lstm:
        print(f"    /// ∂loss/∂c₀.\n    pub const GRAD_C0: [[f64; {BATCH}]; {HIDDEN}] = {state(grad_c0)};")
    print(f"    /// ∂loss/∂weight_ih.\n    pub const GRAD_WEIGHT_IH: [[f64; {INPUT}]; {g}] = {rows(module.weight_ih_l0.grad.tolist())};")
    print(f"    /// ∂loss/∂weight_hh.\n    pub const GRAD_WEIGHT_HH: [[f64; {HIDDEN}]; {g}] = {rows(module.weight_hh_l0.grad.tolist())};")
    if biases == "summed":
        assert torch.allclose(module.bias_ih_l0.grad, module.bias_hh_l0.grad, rtol=1e-14, atol=1e-15)
        print(f"    /// ∂loss/∂bias.\n    pub const GRAD_BIAS: [[f64; 1]; {g}] = {column(module.bias_ih_l0.grad.tolist())};")
    else:
        print(f"    /// ∂loss/∂bias_ih.\n    pub const GRAD_BIAS_IH: [[f64; 1]; {g}] = {column(module.bias_ih_l0.grad.tolist())};")
        print(f"    /// ∂loss/∂bias_hh.\n    pub const GRAD_BIAS_HH: [[f64; 1]; {g}] = {column(module.bias_hh_l0.grad.tolist())};")


def print_common(out, h_n, grad_x, module):
    n, m, g = INPUT * STEPS, HIDDEN * STEPS, module.weight_ih_l0.shape[0]
    print(f"    /// Every step's hidden state.\n    pub const OUTPUT: [[f64; {BATCH}]; {m}] = {rows(stacked(out.detach().tolist(), HIDDEN))};")
    print(f"    /// The final hidden state (`h_n`).\n    pub const LAST: [[f64; {BATCH}]; {HIDDEN}] = {rows(h_n[0].T.tolist())};")
    print(f"    /// ∂loss/∂x.\n    pub const GRAD_X: [[f64; {BATCH}]; {n}] = {rows(stacked(grad_x.tolist(), INPUT))};")
    print(f"    /// ∂loss/∂weight_ih.\n    pub const GRAD_WEIGHT_IH: [[f64; {INPUT}]; {g}] = {rows(module.weight_ih_l0.grad.tolist())};")
    print(f"    /// ∂loss/∂weight_hh.\n    pub const GRAD_WEIGHT_HH: [[f64; {HIDDEN}]; {g}] = {rows(module.weight_hh_l0.grad.tolist())};")


def main():
    lstm = torch.nn.LSTM(INPUT, HIDDEN)
    w_ih, w_hh, b_ih, b_hh, out, h_n, grad_x = run(lstm, 4)
    # equal up to the rounding of PyTorch's two sums
    assert torch.allclose(lstm.bias_ih_l0.grad, lstm.bias_hh_l0.grad, rtol=1e-14, atol=1e-15)

    print("//! Reference values of PyTorch's one-layer `nn.LSTM`, `nn.GRU` and `nn.RNN` (float64; one")
    print("//! direction and two), generated by `tools/gen_recurrent_reference.py` (see its docstring")
    print("//! for the setup). Sequences are (features·steps) × batch (adroit's layout), matrices")
    print("//! arrays of rows.")
    print("#![allow(clippy::excessive_precision, clippy::unreadable_literal)]")
    print()
    print(f"/// The input: {STEPS} steps of {INPUT} features, {BATCH} sequences.\npub const X: [[f64; {BATCH}]; {INPUT * STEPS}] = {rows(stacked(X, INPUT))};")
    print(f"/// The loss is Σ C ⊙ output.\npub const C: [[f64; {BATCH}]; {HIDDEN * STEPS}] = {rows(stacked(C, HIDDEN))};")
    print(f"/// The initial hidden state of the runs from a state.\npub const H0: [[f64; {BATCH}]; {HIDDEN}] = {state(H0)};")
    print(f"/// The LSTM's initial cell state.\npub const C0: [[f64; {BATCH}]; {HIDDEN}] = {state(C0)};")
    print(f"/// The runs from a state add Σ D ⊙ h_n to the loss.\npub const D: [[f64; {BATCH}]; {HIDDEN}] = {state(D)};")
    print(f"/// The LSTM's run from a state adds Σ E ⊙ c_n too.\npub const E: [[f64; {BATCH}]; {HIDDEN}] = {state(E)};")
    print()
    print("/// `nn.LSTM(2, 3)`.")
    print("pub mod lstm {")
    print(f"    /// `weight_ih_l0`.\n    pub const WEIGHT_IH: [[f64; {INPUT}]; {4 * HIDDEN}] = {rows(w_ih)};")
    print(f"    /// `weight_hh_l0`.\n    pub const WEIGHT_HH: [[f64; {HIDDEN}]; {4 * HIDDEN}] = {rows(w_hh)};")
    print(f"    /// `bias_ih_l0 + bias_hh_l0`.\n    pub const BIAS: [[f64; 1]; {4 * HIDDEN}] = {column([a + b for a, b in zip(b_ih, b_hh)])};")
    print_common(out, h_n, grad_x, lstm)
    print(f"    /// ∂loss/∂bias.\n    pub const GRAD_BIAS: [[f64; 1]; {4 * HIDDEN}] = {column(lstm.bias_ih_l0.grad.tolist())};")
    print("}")
    print()
    gru = torch.nn.GRU(INPUT, HIDDEN)
    w_ih, w_hh, b_ih, b_hh, out, h_n, grad_x = run(gru, 3)
    print("/// `nn.GRU(2, 3)`.")
    print("pub mod gru {")
    print(f"    /// `weight_ih_l0`.\n    pub const WEIGHT_IH: [[f64; {INPUT}]; {3 * HIDDEN}] = {rows(w_ih)};")
    print(f"    /// `weight_hh_l0`.\n    pub const WEIGHT_HH: [[f64; {HIDDEN}]; {3 * HIDDEN}] = {rows(w_hh)};")
    print(f"    /// `bias_ih_l0`.\n    pub const BIAS_IH: [[f64; 1]; {3 * HIDDEN}] = {column(b_ih)};")
    print(f"    /// `bias_hh_l0`.\n    pub const BIAS_HH: [[f64; 1]; {3 * HIDDEN}] = {column(b_hh)};")
    print_common(out, h_n, grad_x, gru)
    print(f"    /// ∂loss/∂bias_ih.\n    pub const GRAD_BIAS_IH: [[f64; 1]; {3 * HIDDEN}] = {column(gru.bias_ih_l0.grad.tolist())};")
    print(f"    /// ∂loss/∂bias_hh.\n    pub const GRAD_BIAS_HH: [[f64; 1]; {3 * HIDDEN}] = {column(gru.bias_hh_l0.grad.tolist())};")
    print("}")
    print()
    rnn = torch.nn.RNN(INPUT, HIDDEN)  # tanh
    w_ih, w_hh, b_ih, b_hh, out, h_n, grad_x = run(rnn, 1)
    print("/// `nn.RNN(2, 3)` (tanh).")
    print("pub mod rnn {")
    print(f"    /// `weight_ih_l0`.\n    pub const WEIGHT_IH: [[f64; {INPUT}]; {HIDDEN}] = {rows(w_ih)};")
    print(f"    /// `weight_hh_l0`.\n    pub const WEIGHT_HH: [[f64; {HIDDEN}]; {HIDDEN}] = {rows(w_hh)};")
    print(f"    /// `bias_ih_l0 + bias_hh_l0`.\n    pub const BIAS: [[f64; 1]; {HIDDEN}] = {column([a + b for a, b in zip(b_ih, b_hh)])};")
    print_common(out, h_n, grad_x, rnn)
    assert torch.allclose(rnn.bias_ih_l0.grad, rnn.bias_hh_l0.grad, rtol=1e-14, atol=1e-15)
    print(f"    /// ∂loss/∂bias.\n    pub const GRAD_BIAS: [[f64; 1]; {HIDDEN}] = {column(rnn.bias_ih_l0.grad.tolist())};")
    print("}")
    for name, module, is_lstm, biases in [
        ("lstm", lstm, True, "summed"),
        ("gru", gru, False, "apart"),
        ("rnn", rnn, False, "summed"),
    ]:
        print()
        print(f"/// `{name}` from the state (`H0`{', `C0`' if is_lstm else ''}), its final state in the loss.")
        print(f"pub mod {name}_state {{")
        print_state_run(module, is_lstm, biases)
        print("}")
    relu = torch.nn.RNN(INPUT, HIDDEN, nonlinearity="relu")
    run(relu, 1)  # the same weights as `rnn`
    print()
    print("/// `nn.RNN(2, 3, nonlinearity='relu')` with `rnn`'s weights, from the state `H0`, its")
    print("/// final state in the loss.")
    print("pub mod rnn_relu_state {")
    print_state_run(relu, False, "summed")
    print("}")
    print()
    print(f"/// The bidirectional loss is Σ C2 ⊙ output (both directions' features).\npub const C2: [[f64; {BATCH}]; {2 * HIDDEN * STEPS}] = {rows(stacked(C2, 2 * HIDDEN))};")
    for name, module, gates, summed, one_way in [
        ("lstm", torch.nn.LSTM(INPUT, HIDDEN, bidirectional=True), 4, True, lstm),
        ("gru", torch.nn.GRU(INPUT, HIDDEN, bidirectional=True), 3, False, gru),
    ]:
        print()
        print(f"/// `{type(module).__name__}(2, 3, bidirectional=True)`.")
        print(f"pub mod bidirectional_{name} {{")
        print_bidirectional(module, gates, summed)
        for p in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]:
            assert torch.equal(getattr(module, p + "_l0"), getattr(one_way, p + "_l0"))
        print("}")
    print(f"// generated with torch {torch.__version__}")


if __name__ == "__main__":
    main()
