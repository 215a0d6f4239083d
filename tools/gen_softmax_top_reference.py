"""Reference values for the pullbacks of softmax and log-softmax at a saturated column's top
entry (crates/adroit-nn/tests/it/regressions.rs), where `1 − softmax` cancels in floating point.

Logit columns [20, −20, 0] and [37, 0, 0] (exact in f32 and f64) with the cotangent 1 on the
top entry (row 0) of each: log-softmax's pullback is `e₀ − s`, softmax's `s₀·(e₀ − s)`, and
logitcrossentropy's gradient for the one-hot target e₀ (Agg::Sum) is `s − e₀`. Computed with
mpmath at 50 digits and printed as the nearest f64 (column-major, 3 × 2). Run:
`python3 tools/gen_softmax_top_reference.py` (needs `pip install mpmath`).
"""
from mpmath import mp, mpf, exp

from f64_literals import f64, lit

mp.dps = 50
COLUMNS = [[20, -20, 0], [37, 0, 0]]

log_softmax_pullback, softmax_pullback = [], []
for column in COLUMNS:
    x = [mpf(v) for v in column]
    total = sum(exp(v) for v in x)
    s = [exp(v) / total for v in x]
    e0 = [1, 0, 0]
    log_softmax_pullback += [e - p for e, p in zip(e0, s)]
    softmax_pullback += [s[0] * (e - p) for e, p in zip(e0, s)]

print("log-softmax pullback (e0 - s):", ", ".join(lit(f64(v)) for v in log_softmax_pullback))
print("softmax pullback s0 (e0 - s):", ", ".join(lit(f64(v)) for v in softmax_pullback))
