"""Reference values for adroit-nn's logitcrossentropy where a class of zero target weight has
log-probability −∞ (crates/adroit-nn/tests/it/regressions.rs): a masked logit of −∞, and
logits ±3e38 apart in f32.

PyTorch's `cross_entropy` with class-index targets reads only the true class's
log-probability, so it is finite there (with probability targets it computes 0·(−∞) = NaN).
Its mean over samples is Flux's `Agg::Mean` (one-hot targets, no class weights). Run:
`python3 tools/gen_logitcrossentropy_reference.py` (needs `pip install torch`).
"""
import torch
import torch.nn.functional as F

from f64_literals import lit

INF = float("inf")
# classes × batch, as adroit's matrices; the true class of each sample.
CASES = [
    ("f64", [[0.0, 0.5], [2.0, -1.0], [-INF, -INF]], [1, 0]),
    ("f32", [[3e38, 0.5], [-3e38, -1.0], [0.0, -INF]], [0, 1]),
]

for name, logits, true_class in CASES:
    dtype = torch.float64 if name == "f64" else torch.float32
    x = torch.tensor(logits, dtype=dtype).T.clone().requires_grad_(True)  # batch × classes
    loss = F.cross_entropy(x, torch.tensor(true_class), reduction="mean")
    loss.backward()
    print(f"{name}: loss {lit(loss.item())}")
    print(f"{name}: gradient (classes × batch, column-major)",
          ", ".join(lit(v) for v in x.grad.double().flatten().tolist()))
