#!/usr/bin/env python3
"""Reference values for adroit-nn's Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, Upsample and
GroupNorm from PyTorch's `nn.Conv2d`, `nn.ConvTranspose2d`, `nn.MaxPool2d`, `nn.AvgPool2d`,
`nn.Upsample` and `nn.GroupNorm`, float64.

Usage (from the repository root; `pip install torch numpy mpmath`, the last for the shared
`tools/f64_literals.py`):

    python3 tools/gen_conv_reference.py > crates/adroit-nn/tests/it/conv_reference.rs
    cargo fmt --all

Setup: a batch of 2 images of 2 channels, 5 x 6 pixels, entries by formula (no two equal, so
no max-pool window has a tie). Each case runs one module on it and the loss sum(C * output),
C by formula; recorded: the output and the loss's gradients in the input and the parameters.
Cases:
- CONV_A: Conv2d(2, 3, kernel_size=3, stride=2, padding=1), bias, then tanh;
- CONV_B: Conv2d(2, 2, kernel_size=(2, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 1),
  bias=False);
- MAX: MaxPool2d(kernel_size=3, stride=2, padding=1);
- AVG: AvgPool2d(kernel_size=2, stride=(2, 1), padding=(1, 0)) (count_include_pad=True);
- CONV_G: Conv2d(2, 4, kernel_size=(2, 3), padding=1, groups=2), bias (two output channels
  per input channel);
- TCONV_A: ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1), bias,
  then tanh;
- TCONV_B: ConvTranspose2d(2, 2, kernel_size=(2, 3), stride=(1, 2), padding=(0, 1),
  output_padding=(2, 0), dilation=(3, 1), bias=False) (an output padding at or above the
  stride, below the dilation);
- UP_NEAREST: Upsample(scale_factor=(2, 3), mode="nearest");
- UP_BILINEAR: Upsample(scale_factor=(3, 2), mode="bilinear") (align_corners=False);
- UP_CORNERS: Upsample(scale_factor=2, mode="bilinear", align_corners=True);
- GN_ONE: GroupNorm(1, 2) (one group of both channels), GN_TWO: GroupNorm(2, 2) (a group per
  channel), weight and bias set by formula.
Images are printed in adroit's layout, (channels*height*width) x batch with pixel (c, y, x)
at row c*H*W + y*W + x (x.reshape(N, -1).T); a conv weight (out, in/groups, kh, kw) as
out x (in/groups*kh*kw) (weight.reshape(out, -1)), a transposed conv's (in, out, kh, kw) as
in x (out*kh*kw) (weight.reshape(in, -1)); matrices as arrays of rows.
"""

import math

import torch

from f64_literals import lit

torch.set_default_dtype(torch.float64)

BATCH, CHANNELS, HEIGHT, WIDTH = 2, 2, 5, 6

X = torch.tensor(
    [[[[math.sin(0.37 * (n * 61 + c * 31 + y * 7 + x) + 0.2) * (1.0 + 0.01 * (c * 30 + y * 6 + x))
        for x in range(WIDTH)] for y in range(HEIGHT)] for c in range(CHANNELS)] for n in range(BATCH)]
)


def rows(m):
    return "[" + ", ".join("[" + ", ".join(lit(float(v)) for v in row) + "]" for row in m) + "]"


def images(t):
    """An (N, C, H, W) tensor as adroit's (C*H*W) x N matrix, as arrays of rows."""
    return t.reshape(t.shape[0], -1).T.tolist()


def weights_for(shape, phase):
    out = torch.empty(shape)
    flat = out.view(-1)
    for k in range(flat.numel()):
        flat[k] = 0.5 * math.sin(0.9 * k + phase)
    return out


def case(name, module, after=None):
    """Runs module on X with the loss sum(C * output); prints its values."""
    with torch.no_grad():
        for p_name, p in module.named_parameters():
            p.copy_(weights_for(p.shape, 0.3 if p_name == "weight" else 1.1))
    x = X.clone().requires_grad_(True)
    out = module(x)
    if after is not None:
        out = after(out)
    c = torch.empty(out.shape)
    flat = c.view(-1)
    for k in range(flat.numel()):
        flat[k] = math.cos(0.45 * k - 0.2)
    (c * out).sum().backward()
    n = out.shape[1] * out.shape[2] * out.shape[3]
    print(f"/// `{module}`" + (" then tanh" if after is not None else "") + ".")
    print(f"pub mod {name.lower()} {{")
    print(f"    /// The output, (channels·height·width) × batch: {tuple(out.shape[1:])} per image.")
    print(f"    pub const OUTPUT: [[f64; {BATCH}]; {n}] = {rows(images(out.detach()))};")
    print(f"    /// The loss is Σ C ⊙ output.")
    print(f"    pub const C: [[f64; {BATCH}]; {n}] = {rows(images(c))};")
    print(f"    /// ∂loss/∂x.")
    print(f"    pub const GRAD_X: [[f64; {BATCH}]; {CHANNELS * HEIGHT * WIDTH}] = {rows(images(x.grad))};")
    if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
        w = module.weight
        o, k = w.shape[0], w.shape[1] * w.shape[2] * w.shape[3]
        if isinstance(module, torch.nn.Conv2d):
            print(f"    /// The weight, out × (in/groups·kh·kw).")
        else:
            print(f"    /// The weight, in × (out·kh·kw).")
        print(f"    pub const WEIGHT: [[f64; {k}]; {o}] = {rows(w.detach().reshape(o, -1).tolist())};")
        print(f"    /// ∂loss/∂weight.")
        print(f"    pub const GRAD_WEIGHT: [[f64; {k}]; {o}] = {rows(w.grad.reshape(o, -1).tolist())};")
        if module.bias is not None:
            print(f"    /// The bias.")
            b = len(module.bias)
            print(f"    pub const BIAS: [[f64; 1]; {b}] = {rows([[v] for v in module.bias.tolist()])};")
            print(f"    /// ∂loss/∂bias.")
            print(f"    pub const GRAD_BIAS: [[f64; 1]; {b}] = {rows([[v] for v in module.bias.grad.tolist()])};")
    if isinstance(module, torch.nn.GroupNorm):
        column = lambda t: rows([[v] for v in t.tolist()])
        k = len(module.weight)
        print(f"    /// γ (the weight), channels × 1.")
        print(f"    pub const SCALE: [[f64; 1]; {k}] = {column(module.weight.detach())};")
        print(f"    /// β (the bias).")
        print(f"    pub const BIAS: [[f64; 1]; {k}] = {column(module.bias.detach())};")
        print(f"    /// ∂loss/∂γ.")
        print(f"    pub const GRAD_SCALE: [[f64; 1]; {k}] = {column(module.weight.grad)};")
        print(f"    /// ∂loss/∂β.")
        print(f"    pub const GRAD_BIAS: [[f64; 1]; {k}] = {column(module.bias.grad)};")
    print("}")


print("//! Reference values of PyTorch's `nn.Conv2d`, `nn.ConvTranspose2d`, `nn.MaxPool2d`,")
print("//! `nn.AvgPool2d`, `nn.Upsample` and `nn.GroupNorm` (float64), generated by")
print("//! `tools/gen_conv_reference.py` (see its docstring for the setup). Images are")
print("//! (channels·height·width) × batch (adroit's layout), matrices arrays of rows.")
print("#![allow(clippy::excessive_precision, clippy::unreadable_literal)]")
print()
print(f"/// The input: {BATCH} images of {CHANNELS} channels, {HEIGHT} × {WIDTH} pixels.")
print(f"pub const X: [[f64; {BATCH}]; {CHANNELS * HEIGHT * WIDTH}] = {rows(images(X))};")
case("CONV_A", torch.nn.Conv2d(2, 3, kernel_size=3, stride=2, padding=1), torch.tanh)
case("CONV_B", torch.nn.Conv2d(2, 2, kernel_size=(2, 3), stride=(1, 2), padding=(0, 1), dilation=(2, 1), bias=False))
case("MAX", torch.nn.MaxPool2d(kernel_size=3, stride=2, padding=1))
case("AVG", torch.nn.AvgPool2d(kernel_size=2, stride=(2, 1), padding=(1, 0)))
case("CONV_G", torch.nn.Conv2d(2, 4, kernel_size=(2, 3), padding=1, groups=2))
case("TCONV_A", torch.nn.ConvTranspose2d(2, 3, kernel_size=3, stride=2, padding=1, output_padding=1), torch.tanh)
case("TCONV_B", torch.nn.ConvTranspose2d(2, 2, kernel_size=(2, 3), stride=(1, 2), padding=(0, 1), output_padding=(2, 0), dilation=(3, 1), bias=False))
case("UP_NEAREST", torch.nn.Upsample(scale_factor=(2, 3), mode="nearest"))
case("UP_BILINEAR", torch.nn.Upsample(scale_factor=(3, 2), mode="bilinear"))
case("UP_CORNERS", torch.nn.Upsample(scale_factor=2, mode="bilinear", align_corners=True))
case("GN_ONE", torch.nn.GroupNorm(1, 2))
case("GN_TWO", torch.nn.GroupNorm(2, 2))
