#!/usr/bin/env python3
"""Reference values for adroit-nn's recurrent layers with `masking(0.0)`, from PyTorch's
packed sequences (`pack_padded_sequence`, `enforce_sorted=False`), float64.

Usage (from the repository root; `pip install torch numpy mpmath`):

    python3 tools/gen_masked_recurrent_reference.py > crates/adroit-nn/tests/it/masked_recurrent_reference.rs
    cargo fmt --all

Setup: 2 input features, 3 hidden features, 4 steps, a batch of 3 sequences of lengths
4, 2 and 3, padded at the end with 0.0 (no real step is all zeros). The layers' weights are
those of `tools/gen_recurrent_reference.py` (the same formulas and phases, so the tests
build the layers from its constants): nn.LSTM, nn.GRU, nn.RNN (tanh), and bidirectional
nn.LSTM and nn.GRU. For one direction the loss is sum(C * out) + sum(D * h_n) (+ sum(E * c_n)
for the LSTM), out being `pad_packed_sequence`'s (0 at padding); recorded the output, the
final states and the gradients in the input and the parameters. For two directions the
loss is sum(C2 * out); recorded the output, h_n (forward's above backward's) and the
gradients. Printed in adroit's layout, (features*steps) x batch, as arrays of rows.
"""

import math

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from f64_literals import lit
from gen_recurrent_reference import column, rows, weight

torch.set_default_dtype(torch.float64)

INPUT, HIDDEN, STEPS = 2, 3, 4
LENGTHS = [4, 2, 3]
BATCH = len(LENGTHS)

# x[t][b][i], 0.0 after each sequence's length
X = [[[math.sin(0.9 * t + 1.7 * b + 0.4 * i) * 1.5 + 0.25 if t < LENGTHS[b] else 0.0
       for i in range(INPUT)] for b in range(BATCH)] for t in range(STEPS)]
C = [[[math.cos(0.5 * t - 1.1 * b + 0.8 * h) for h in range(HIDDEN)] for b in range(BATCH)] for t in range(STEPS)]
C2 = [[[math.cos(0.7 * t + 0.4 * b - 0.3 * h) for h in range(2 * HIDDEN)] for b in range(BATCH)] for t in range(STEPS)]
D = [[[math.sin(2.1 * b + 0.9 * h + 0.5) for h in range(HIDDEN)] for b in range(BATCH)]]
E = [[[math.cos(1.4 * b - 0.7 * h) for h in range(HIDDEN)] for b in range(BATCH)]]


def stacked(seq, width):
    """seq[t][b][k] as the (width*steps) x batch matrix of rows t*width + k."""
    return [[seq[t][b][k] for b in range(BATCH)] for t in range(STEPS) for k in range(width)]


def state(m):
    """A [1][b][h] state as adroit's hidden x batch rows."""
    return rows(torch.as_tensor(m)[0].T.tolist())


def set_weights(module, gates, directions):
    """The weights of gen_recurrent_reference.py: the forward direction at phases (0.1, 0.9,
    0), the reverse one at (0.4, 1.7, 0.5)."""
    phases = [("", (0.1, 0.9, 0.0)), ("_reverse", (0.4, 1.7, 0.5))][:directions]
    with torch.no_grad():
        for suffix, (p_ih, p_hh, p_b) in phases:
            getattr(module, "weight_ih_l0" + suffix).copy_(torch.tensor(weight(gates * HIDDEN, INPUT, p_ih)))
            getattr(module, "weight_hh_l0" + suffix).copy_(torch.tensor(weight(gates * HIDDEN, HIDDEN, p_hh)))
            getattr(module, "bias_ih_l0" + suffix).copy_(torch.tensor([0.1 * math.cos(k + p_b) for k in range(gates * HIDDEN)]))
            getattr(module, "bias_hh_l0" + suffix).copy_(torch.tensor([0.05 * math.sin(2 * k + 1 + p_b) for k in range(gates * HIDDEN)]))


def packed_run(module):
    """module on the packed X: the padded output, the final state(s), and x with its graph."""
    x = torch.tensor(X).requires_grad_(True)
    packed = pack_padded_sequence(x, torch.tensor(LENGTHS), enforce_sorted=False)
    out, states = module(packed)
    out, _ = pad_packed_sequence(out, total_length=STEPS)
    return x, out, states


def print_gradients(module, suffix, gates, summed, prefix):
    g = gates * HIDDEN
    grad = lambda p: getattr(module, p + "_l0" + suffix).grad
    print(f"    /// ∂loss/∂weight_ih_l0{suffix}.\n    pub const {prefix}GRAD_WEIGHT_IH: [[f64; {INPUT}]; {g}] = {rows(grad('weight_ih').tolist())};")
    print(f"    /// ∂loss/∂weight_hh_l0{suffix}.\n    pub const {prefix}GRAD_WEIGHT_HH: [[f64; {HIDDEN}]; {g}] = {rows(grad('weight_hh').tolist())};")
    if summed:
        assert torch.allclose(grad("bias_ih"), grad("bias_hh"), rtol=1e-14, atol=1e-15)
        print(f"    /// ∂loss/∂bias (`bias_ih_l0{suffix} + bias_hh_l0{suffix}`).\n    pub const {prefix}GRAD_BIAS: [[f64; 1]; {g}] = {column(grad('bias_ih').tolist())};")
    else:
        print(f"    /// ∂loss/∂bias_ih_l0{suffix}.\n    pub const {prefix}GRAD_BIAS_IH: [[f64; 1]; {g}] = {column(grad('bias_ih').tolist())};")
        print(f"    /// ∂loss/∂bias_hh_l0{suffix}.\n    pub const {prefix}GRAD_BIAS_HH: [[f64; 1]; {g}] = {column(grad('bias_hh').tolist())};")


def one_direction(name, module, gates, summed, lstm):
    set_weights(module, gates, 1)
    x, out, states = packed_run(module)
    h_n, c_n = states if lstm else (states, None)
    loss = (torch.tensor(C) * out).sum() + (torch.tensor(D) * h_n).sum()
    if lstm:
        loss = loss + (torch.tensor(E) * c_n).sum()
    loss.backward()
    print(f"/// `{type(module).__name__}(2, 3)` on the packed sequences.")
    print(f"pub mod {name} {{")
    print(f"    /// Every step's hidden state (0 at padding).\n    pub const OUTPUT: [[f64; {BATCH}]; {HIDDEN * STEPS}] = {rows(stacked(out.detach().tolist(), HIDDEN))};")
    print(f"    /// The final hidden state (`h_n`).\n    pub const H_N: [[f64; {BATCH}]; {HIDDEN}] = {state(h_n.detach())};")
    if lstm:
        print(f"    /// The final cell state (`c_n`).\n    pub const C_N: [[f64; {BATCH}]; {HIDDEN}] = {state(c_n.detach())};")
    print(f"    /// ∂loss/∂x (0 at padding).\n    pub const GRAD_X: [[f64; {BATCH}]; {INPUT * STEPS}] = {rows(stacked(x.grad.tolist(), INPUT))};")
    print_gradients(module, "", gates, summed, "")
    print("}")


def two_directions(name, module, gates, summed):
    set_weights(module, gates, 2)
    x, out, states = packed_run(module)
    h_n = states[0] if isinstance(states, tuple) else states
    (torch.tensor(C2) * out).sum().backward()
    print(f"/// `{type(module).__name__}(2, 3, bidirectional=True)` on the packed sequences.")
    print(f"pub mod bidirectional_{name} {{")
    print(f"    /// Every step's forward then backward hidden state (0 at padding).\n    pub const OUTPUT: [[f64; {BATCH}]; {2 * HIDDEN * STEPS}] = {rows(stacked(out.detach().tolist(), 2 * HIDDEN))};")
    print(f"    /// `h_n`: the forward direction's final state above the backward one's.\n    pub const LAST: [[f64; {BATCH}]; {2 * HIDDEN}] = {rows(h_n[0].detach().T.tolist() + h_n[1].detach().T.tolist())};")
    print(f"    /// ∂loss/∂x (0 at padding).\n    pub const GRAD_X: [[f64; {BATCH}]; {INPUT * STEPS}] = {rows(stacked(x.grad.tolist(), INPUT))};")
    print_gradients(module, "", gates, summed, "FORWARD_")
    print_gradients(module, "_reverse", gates, summed, "BACKWARD_")
    print("}")


def main():
    print("//! Reference values of PyTorch's one-layer `nn.LSTM`, `nn.GRU` and `nn.RNN` (float64; one")
    print("//! direction and two) on packed sequences of different lengths, generated by")
    print("//! `tools/gen_masked_recurrent_reference.py` (see its docstring for the setup). Sequences")
    print("//! are (features·steps) × batch (adroit's layout), matrices arrays of rows.")
    print("#![allow(clippy::excessive_precision, clippy::unreadable_literal)]")
    print()
    print(f"/// The input: {STEPS} steps of {INPUT} features, sequences of {LENGTHS} steps padded with 0.\npub const X: [[f64; {BATCH}]; {INPUT * STEPS}] = {rows(stacked(X, INPUT))};")
    print(f"/// The sequences' lengths.\npub const LENGTHS: [usize; {BATCH}] = {LENGTHS};")
    print(f"/// The one-direction loss has Σ C ⊙ output.\npub const C: [[f64; {BATCH}]; {HIDDEN * STEPS}] = {rows(stacked(C, HIDDEN))};")
    print(f"/// … + Σ D ⊙ h_n.\npub const D: [[f64; {BATCH}]; {HIDDEN}] = {state(D)};")
    print(f"/// … + Σ E ⊙ c_n for the LSTM.\npub const E: [[f64; {BATCH}]; {HIDDEN}] = {state(E)};")
    print(f"/// The bidirectional loss is Σ C2 ⊙ output.\npub const C2: [[f64; {BATCH}]; {2 * HIDDEN * STEPS}] = {rows(stacked(C2, 2 * HIDDEN))};")
    for name, module, gates, summed, lstm in [
        ("lstm", torch.nn.LSTM(INPUT, HIDDEN), 4, True, True),
        ("gru", torch.nn.GRU(INPUT, HIDDEN), 3, False, False),
        ("rnn", torch.nn.RNN(INPUT, HIDDEN), 1, True, False),
    ]:
        print()
        one_direction(name, module, gates, summed, lstm)
    for name, module, gates, summed in [
        ("lstm", torch.nn.LSTM(INPUT, HIDDEN, bidirectional=True), 4, True),
        ("gru", torch.nn.GRU(INPUT, HIDDEN, bidirectional=True), 3, False),
    ]:
        print()
        two_directions(name, module, gates, summed)
    print(f"// generated with torch {torch.__version__}")


if __name__ == "__main__":
    main()
