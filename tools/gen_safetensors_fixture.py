"""Writes the safetensors test fixture with the reference implementation (the `safetensors`
Python package), so adroit-nn's reader is tested against a file it did not write.

Run from the repository root:

    pip install safetensors numpy
    python3 tools/gen_safetensors_fixture.py

It writes `crates/adroit-nn/tests/data/dense_f32.safetensors`: the parameters of a Dense
3 → 2 layer as PyTorch stores them, `weight` a float32 [2, 3] row-major matrix with entries
`weight[i][j] = i + j/10` and `bias` a 1-D float32 [2] vector `[0.5, -0.5]`.
"""

import numpy as np
from safetensors.numpy import save_file

weight = np.array([[i + j / 10 for j in range(3)] for i in range(2)], dtype=np.float32)
bias = np.array([0.5, -0.5], dtype=np.float32)
save_file({"weight": weight, "bias": bias}, "crates/adroit-nn/tests/data/dense_f32.safetensors")
