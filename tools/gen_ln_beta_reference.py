#!/usr/bin/env python3
"""Reference values of adroit-forward's ln_beta for its tests.

For each point (a, b) (decimal literals parsed to the f64 the Rust test feeds), prints
ln B(a, b) and its first and second partial derivatives from their closed forms
(d/da = psi(a) - psi(a + b), d2/da db = -psi_1(a + b), ...), evaluated with mpmath at 400
digits and rounded to the nearest f64. Cross-check: ln B against mpmath.log(mpmath.beta)
and the closed-form partials against mpmath.diff at moderate points; the script aborts on a
mismatch.

Run: python3 tools/gen_ln_beta_reference.py > crates/adroit-forward/tests/it/ln_beta_reference.rs
"""
import sys

import mpmath

from f64_literals import f64, lit

mpmath.mp.dps = 400  # ψ(50 + 1e-300) − ψ(50) must not round away
POINTS = [
    ("1.0", "1.0"), ("0.5", "0.5"), ("1e-8", "1.0"), ("2.0", "3.0"), ("3.0", "2.0"),
    ("9.5", "9.9"), ("9.9", "10.1"), ("10.0", "10.0"), ("12.0", "30.0"), ("1000.0", "1000.0"),
    ("1e6", "5.0"), ("5.0", "1e12"), ("0.3", "1e12"), ("1e10", "1e10"), ("50.0", "1e-300"),
    ("1e-300", "1e-300"), ("1e15", "1e15"), ("7.5", "1e300"), ("1e300", "1e300"),
    ("0.001", "25.0"), ("40.0", "0.7"), ("15.0", "15.5"), ("200.0", "1e8"),
]

rows = []
for pa, pb in POINTS:
    a, b = mpmath.mpf(float(pa)), mpmath.mpf(float(pb))
    value = mpmath.loggamma(a) + mpmath.loggamma(b) - mpmath.loggamma(a + b)
    da = mpmath.digamma(a) - mpmath.digamma(a + b)
    db = mpmath.digamma(b) - mpmath.digamma(a + b)
    t = mpmath.polygamma(1, a + b)
    daa, dab, dbb = mpmath.polygamma(1, a) - t, -t, mpmath.polygamma(1, b) - t
    if 1e-3 <= a <= 1e6 and 1e-3 <= b <= 1e6:
        if abs(value - mpmath.log(mpmath.beta(a, b))) > mpmath.mpf(10) ** -40 * (1 + abs(value)):
            sys.exit(f"ln B({pa}, {pb}) disagrees with log(beta)")
        f = lambda u, v: mpmath.log(mpmath.beta(u, v))
        with mpmath.workdps(80):
            for want, order in [(da, (1, 0)), (db, (0, 1)), (daa, (2, 0)), (dab, (1, 1)), (dbb, (0, 2))]:
                got = mpmath.diff(f, (a, b), order)
                if abs(got - want) > mpmath.mpf(10) ** -30 * (1 + abs(want)):
                    sys.exit(f"partial {order} of ln B at ({pa}, {pb}): {got} vs {want}")
    rows.append((float(pa), float(pb), [f64(v) for v in (value, da, db, daa, dab, dbb)]))

print("//! Reference values of `ln_beta` with its first and second partial derivatives, generated")
print(f"//! by `tools/gen_ln_beta_reference.py` (mpmath {mpmath.__version__}, 400 digits, rounded to the")
print("//! nearest f64). Do not edit by hand: rerun the script.")
print("#![allow(clippy::excessive_precision, clippy::approx_constant)]")
print()
print("/// `(a, b, [ln B, ∂a, ∂b, ∂aa, ∂ab, ∂bb])`.")
print(f"pub const LN_BETA: [(f64, f64, [f64; 6]); {len(rows)}] = [")
for a, b, vals in rows:
    print(f"    ({lit(a)}, {lit(b)}, [{', '.join(lit(v) for v in vals)}]),")
print("];")
