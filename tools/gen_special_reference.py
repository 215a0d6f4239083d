#!/usr/bin/env python3
"""Reference values of the error function family for adroit-forward's tests.

For each input x (a decimal literal parsed to the f64 the Rust test feeds), prints
erf x, erf' x = 2/sqrt(pi) exp(-x^2), erf'' x = -2x erf' x, and erfc x with its
derivatives (the negatives of erf's), evaluated with mpmath at 50 digits and rounded
to the nearest f64 (mpmath.libmp.to_float with rnd='n'). Cross-checks: mpmath's
erf/erfc against numerical differentiation (mpmath.diff at 60 digits) and against
Python's math.erf/math.erfc at f64 accuracy; the script aborts on a mismatch.

Run: python3 tools/gen_special_reference.py > crates/adroit-forward/tests/it/special_reference.rs
"""
import math
import sys

import mpmath

mpmath.mp.dps = 50
POINTS = ["-6.0", "-3.0", "-1.0", "-0.5", "0.0", "1e-8", "0.3", "1.0", "2.5", "5.0", "10.0", "26.0"]
# Tail points whose square is not an f64 (the slope's x² must be formed exactly there).
POINTS += ["-18.17", "5.3", "10.7", "15.3", "20.9", "26.0733"]


def f64(v):
    return mpmath.libmp.to_float(mpmath.mpf(v)._mpf_, rnd="n")


def lit(v):
    if v == 0.0:
        return "0.0"
    m, e = f"{v:.16e}".split("e")
    text = f"{m}e{int(e)}"
    assert float(text) == v
    return text


rows = []
for p in POINTS:
    x = mpmath.mpf(float(p))
    slope = 2 / mpmath.sqrt(mpmath.pi) * mpmath.exp(-x * x)
    curve = -2 * x * slope
    erf, erfc = mpmath.erf(x), mpmath.erfc(x)
    with mpmath.workdps(60):
        for fn, d1, d2 in [(mpmath.erf, slope, curve), (mpmath.erfc, -slope, -curve)]:
            for k, want in [(1, d1), (2, d2)]:
                got = mpmath.diff(fn, x, k)
                if abs(got - want) > mpmath.mpf(10) ** -40 * (1 + abs(want)):
                    sys.exit(f"derivative {k} of {fn.__name__} at {p}: {got} vs {want}")
    if abs(f64(erf) - math.erf(float(p))) > 4e-16 * max(1e-300, abs(f64(erf))):
        sys.exit(f"erf({p}) disagrees with math.erf")
    if abs(f64(erfc) - math.erfc(float(p))) > 4e-15 * abs(f64(erfc)):
        sys.exit(f"erfc({p}) disagrees with math.erfc")
    rows.append((float(p), [f64(v) for v in (erf, slope, curve, erfc, -slope, -curve)]))

print("//! Reference values of `erf` and `erfc` with their first and second derivatives, generated")
print(f"//! by `tools/gen_special_reference.py` (mpmath {mpmath.__version__}, 50 digits, rounded to")
print("//! the nearest f64). Do not edit by hand: rerun the script.")
print("#![allow(clippy::excessive_precision, clippy::approx_constant)]")
print()
print("/// `(x, [erf, erf', erf'', erfc, erfc', erfc''])`.")
print(f"pub const SPECIAL: [(f64, [f64; 6]); {len(rows)}] = [")
for x, vals in rows:
    print(f"    (\n        {lit(x)},\n        [")
    for v in vals:
        print(f"            {lit(v)},")
    print("        ],\n    ),")
print("];")
