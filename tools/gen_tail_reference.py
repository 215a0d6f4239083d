"""Reference values for adroit-nn's activation tails (crates/adroit-nn/tests/it/tails.rs).

GELU's two forms in their negative tails, where textbook formulas cancel, computed with mpmath
at 50 significant digits and printed as the nearest f64. Run:
`python3 tools/gen_tail_reference.py` (needs `pip install mpmath`).
"""
from mpmath import mp, mpf, tanh, sqrt, pi, erfc, diff

mp.dps = 50

def gelu_tanh(x):
    u = sqrt(2 / pi) * (x + mpf("0.044715") * x**3)
    return x / 2 * (1 + tanh(u))

def gelu_erf(x):
    return x * erfc(-x / sqrt(2)) / 2

for name, f in [("gelu_tanh", gelu_tanh), ("gelu_erf", gelu_erf)]:
    for x in ["-5", "-8", "-10"]:
        x = mpf(x)
        print(f"{name}({x}) = {float(f(x))!r}, derivative {float(diff(f, x))!r}")
