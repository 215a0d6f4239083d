#!/usr/bin/env python3
"""Reference values for adroit-nn's TransformerEncoderLayer from PyTorch's
`nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, batch_first=True)`, float64.

Usage (from the repository root; `pip install torch numpy mpmath`):

    python3 tools/gen_transformer_reference.py > crates/adroit-nn/tests/it/transformer_reference.rs
    cargo fmt --all
    # the layer's PyTorch state dict as a weight file (`pip install safetensors`):
    python3 tools/gen_transformer_reference.py --state-dict crates/adroit-nn/tests/data/transformer_encoder_layer.safetensors

Setup: the input, loss weights and attention parameters of `gen_attention_reference.py` (steps
of 4 features, sequences of 3 steps, a batch of 2), 2 heads, a feed-forward width of 6, the
other parameters set by formula (below). The layer runs in training mode with dropout 0 (the
same function as evaluation; training mode keeps PyTorch off its fused inference path). Cases:
post-norm with ReLU, pre-norm (norm_first), GELU (PyTorch's erf form), causal (is_causal with
the boolean mask above the diagonal), and on the padded input of `gen_attention_reference.py`
(the second sequence of length 2, padded with 0.0, given to PyTorch as src_key_padding_mask)
post-norm and pre-norm causal: there the loss weights are 0 at the padding step, whose output
is printed as 0, adroit's mask value. Recorded per case: the output and the gradients of
sum(C * out) in the input and in every parameter, in adroit's order (self_attn's four, linear1,
linear2, norm1, norm2, weight then bias each). Printed in adroit's layout, as
`gen_attention_reference.py` prints.
"""

import math

import torch

from gen_attention_reference import BATCH, C, C_PADDED, DIM, IN_B, IN_W, OUT_B, OUT_W, STEPS, X, X_PADDED, LENGTHS, stacked
from gen_recurrent_reference import column, rows

torch.set_default_dtype(torch.float64)

HEADS, FF = 2, 6
W1 = [[0.7 * math.cos(0.8 * r + 1.3 * c - 0.4) for c in range(DIM)] for r in range(FF)]
B1 = [0.2 * math.sin(1.1 * r + 0.3) for r in range(FF)]
W2 = [[0.5 * math.sin(0.6 * r - 0.9 * c + 0.7) for c in range(FF)] for r in range(DIM)]
B2 = [0.1 * math.cos(2.1 * r - 0.5) for r in range(DIM)]
G1 = [1.0 + 0.2 * math.sin(1.7 * r) for r in range(DIM)]
N1 = [0.1 * math.cos(0.9 * r + 0.2) for r in range(DIM)]
G2 = [1.0 - 0.15 * math.cos(1.3 * r + 0.5) for r in range(DIM)]
N2 = [0.05 * math.sin(2.2 * r - 0.3) for r in range(DIM)]


def reference_layer(norm_first=False, activation="relu"):
    """The layer with the parameters set by formula, in training mode (dropout 0)."""
    layer = torch.nn.TransformerEncoderLayer(
        DIM, HEADS, FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    )
    layer.train()
    with torch.no_grad():
        for p, v in [
            (layer.self_attn.in_proj_weight, IN_W),
            (layer.self_attn.in_proj_bias, IN_B),
            (layer.self_attn.out_proj.weight, OUT_W),
            (layer.self_attn.out_proj.bias, OUT_B),
            (layer.linear1.weight, W1),
            (layer.linear1.bias, B1),
            (layer.linear2.weight, W2),
            (layer.linear2.bias, B2),
            (layer.norm1.weight, G1),
            (layer.norm1.bias, N1),
            (layer.norm2.weight, G2),
            (layer.norm2.bias, N2),
        ]:
            p.copy_(torch.tensor(v))
    return layer


def case(name, norm_first=False, activation="relu", causal=False, padded=False):
    layer = reference_layer(norm_first, activation)
    x = torch.tensor(X_PADDED if padded else X).requires_grad_(True)
    c = torch.tensor(C_PADDED if padded else C)
    mask = torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool), diagonal=1) if causal else None
    keys = torch.tensor([[t >= n for t in range(STEPS)] for n in LENGTHS]) if padded else None
    out = layer(x, src_mask=mask, src_key_padding_mask=keys, is_causal=causal)
    (c * out).sum().backward()
    if padded:
        out = out.detach() * (c != 0)  # the padding step's output as adroit's: the mask value 0
    params = [
        ("IN_PROJ_WEIGHT", layer.self_attn.in_proj_weight),
        ("IN_PROJ_BIAS", layer.self_attn.in_proj_bias),
        ("OUT_PROJ_WEIGHT", layer.self_attn.out_proj.weight),
        ("OUT_PROJ_BIAS", layer.self_attn.out_proj.bias),
        ("LINEAR1_WEIGHT", layer.linear1.weight),
        ("LINEAR1_BIAS", layer.linear1.bias),
        ("LINEAR2_WEIGHT", layer.linear2.weight),
        ("LINEAR2_BIAS", layer.linear2.bias),
        ("NORM1_SCALE", layer.norm1.weight),
        ("NORM1_BIAS", layer.norm1.bias),
        ("NORM2_SCALE", layer.norm2.weight),
        ("NORM2_BIAS", layer.norm2.bias),
    ]
    words = ["pre-norm" if norm_first else "post-norm", activation]
    if causal:
        words.append("causal")
    if padded:
        words.append("padded")
    print()
    print(f"/// {', '.join(words)}.")
    print(f"pub mod {name} {{")
    print(f"    /// Layer norms first.\n    pub const NORM_FIRST: bool = {'true' if norm_first else 'false'};")
    print(f"    /// GELU (erf) rather than ReLU.\n    pub const GELU: bool = {'true' if activation == 'gelu' else 'false'};")
    print(f"    /// Each step attends only to itself and the steps before it.\n    pub const CAUSAL: bool = {'true' if causal else 'false'};")
    print(f"    /// The output.\n    pub const OUTPUT: [[f64; {BATCH}]; {DIM * STEPS}] = {rows(stacked(out.detach().tolist()))};")
    print(f"    /// ∂loss/∂x.\n    pub const GRAD_X: [[f64; {BATCH}]; {DIM * STEPS}] = {rows(stacked(x.grad.tolist()))};")
    for label, p in params:
        g = p.grad.tolist()
        if p.dim() == 1:
            print(f"    /// ∂loss/∂{label.lower()}.\n    pub const GRAD_{label}: [[f64; 1]; {len(g)}] = {column(g)};")
        else:
            print(f"    /// ∂loss/∂{label.lower()}.\n    pub const GRAD_{label}: [[f64; {len(g[0])}]; {len(g)}] = {rows(g)};")
    print("}")


def main():
    print("//! Reference values of PyTorch's `nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0,")
    print("//! batch_first=True)` (float64), generated by `tools/gen_transformer_reference.py` (see")
    print("//! its docstring for the setup; the input, loss weights and attention parameters are")
    print("//! `attention_reference`'s). Sequences are (dim·steps) × batch, matrices arrays of rows.")
    print("#![allow(clippy::excessive_precision, clippy::unreadable_literal)]")
    print()
    print(f"/// The number of heads.\npub const HEADS: usize = {HEADS};")
    print(f"/// `linear1.weight`.\npub const LINEAR1_WEIGHT: [[f64; {DIM}]; {FF}] = {rows(W1)};")
    print(f"/// `linear1.bias`.\npub const LINEAR1_BIAS: [[f64; 1]; {FF}] = {column(B1)};")
    print(f"/// `linear2.weight`.\npub const LINEAR2_WEIGHT: [[f64; {FF}]; {DIM}] = {rows(W2)};")
    print(f"/// `linear2.bias`.\npub const LINEAR2_BIAS: [[f64; 1]; {DIM}] = {column(B2)};")
    print(f"/// `norm1.weight`.\npub const NORM1_SCALE: [[f64; 1]; {DIM}] = {column(G1)};")
    print(f"/// `norm1.bias`.\npub const NORM1_BIAS: [[f64; 1]; {DIM}] = {column(N1)};")
    print(f"/// `norm2.weight`.\npub const NORM2_SCALE: [[f64; 1]; {DIM}] = {column(G2)};")
    print(f"/// `norm2.bias`.\npub const NORM2_BIAS: [[f64; 1]; {DIM}] = {column(N2)};")
    case("post_norm")
    case("pre_norm", norm_first=True)
    case("gelu", activation="gelu")
    case("causal", causal=True)
    case("padded", padded=True)
    case("pre_norm_causal_padded", norm_first=True, causal=True, padded=True)
    print(f"// generated with torch {torch.__version__}")


def state_dict_file(path):
    """The post-norm layer's state dict, as PyTorch holds it (1-D biases), in a safetensors file."""
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in reference_layer().state_dict().items()}, path)


if __name__ == "__main__":
    import sys

    if len(sys.argv) == 3 and sys.argv[1] == "--state-dict":
        state_dict_file(sys.argv[2])
    else:
        main()
