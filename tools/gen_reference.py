#!/usr/bin/env python3
"""Generate high-precision reference values for the forward-mode AD tests.

For every elementary function exposed by ``num_traits::Float`` that the
library differentiates, this script evaluates the value, the first and the
second derivative (for two-argument methods: the value, the gradient and the
Hessian) at a handful of points, and prints them as a Rust source file.

How the numbers are obtained
----------------------------
* Every input point is written as a decimal literal, parsed with ``float``
  and the *exact* binary value of that f64 is handed to SymPy (as the exact
  dyadic ``Rational``, checked equal to ``mpmath.mpf(float_value)``) and to
  mpmath (as ``mpmath.mpf(float_value)``), so each reference is the true
  result for the f64 that the Rust test actually feeds to the library.
* Derivatives are obtained symbolically with ``sympy.diff``, the exact input
  is substituted and the result evaluated with ``evalf(50)`` (50 significant
  digits; SymPy's adaptive precision handles cancellation such as
  ``exp(x) - 1`` near 0, and exact zeros stay exact).
* Each 50-digit result is rounded to the nearest f64 (round-half-even, via
  ``mpmath.libmp.to_float(..., rnd='n')``; note that plain ``float(mpf)``
  truncates) and printed with 17 significant digits, which round-trips.
* Independent cross-checks, all of which must pass or the script aborts:
  the SymPy results are compared with mpmath's own implementation of the
  function (e.g. ``mpmath.expm1``, ``mpmath.atan2``) and with mpmath's
  numerical differentiation (``mpmath.diff``) at 60 digits, and the values
  are compared with Python's ``math`` module at f64 accuracy (which also
  guards the argument-order conventions, e.g. Rust's ``x.atan2(y)``).

Functions with kinks or jumps (``abs``, ``cbrt``, ``signum``, ``floor``,
``fract``, ...) are represented by the smooth branch that is valid around
each point; points are chosen strictly away from kinks, jumps and poles.

``powf`` at a negative base with an integer exponent follows the library's
documented convention: the derivatives with respect to the exponent use
ln|x|, i.e. ``dy = x^y ln|x|``, ``dyy = x^y ln|x|^2`` and
``dxy = x^(y-1) (1 + y ln|x|)``.

Usage (from the repository root; requires ``pip install sympy mpmath``)::

    python3 tools/gen_reference.py > crates/adroit-forward/tests/it/reference.rs

The output is deterministic: rerunning the script with the same SymPy and
mpmath versions reproduces the file byte for byte.
"""

import math
import sys

import mpmath
import sympy
from mpmath.libmp import to_float

DIGITS = 50
CHECK_DIGITS = 60

X, Y = sympy.symbols("x y", real=True)


# ---------------------------------------------------------------------------
# Formatting helpers
# ---------------------------------------------------------------------------


def exact_input(literal):
    """Parse a decimal literal to the f64 used by the tests; return both."""
    f = float(literal)
    if not math.isfinite(f):
        raise ValueError(f"non-finite input {literal!r}")
    # The f64 is a dyadic rational; hand its exact value to SymPy as a
    # Rational (so that exact cancellations such as 7 - 7 stay exact zeros).
    m = mpmath.mpf(f)
    exact = sympy.Rational(*f.as_integer_ratio())
    assert mpmath.mpf(exact.p) / exact.q == m
    return f, exact


def to_f64(value):
    """Round a SymPy/mpmath number to the nearest f64 (ties to even)."""
    value = sympy.sympify(value)
    if value.is_zero:
        return 0.0
    if not value.is_Number:
        raise ValueError(f"not a number: {value}")
    if value.is_Rational:
        value = sympy.Float(value, DIGITS)
    return to_float(value._mpf_, rnd="n")


def rust_f64(v):
    """17 significant digits in Rust syntax, e.g. `1.2345678901234567e-3`."""
    if math.isnan(v):
        return "f64::NAN"
    if math.isinf(v):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    if v == 0.0:
        v = 0.0  # never print a negative zero
    mantissa, exponent = f"{v:.16e}".split("e")
    text = f"{mantissa}e{int(exponent)}"
    assert float(text) == v, (text, v)
    return text


# ---------------------------------------------------------------------------
# Function definitions
# ---------------------------------------------------------------------------


def _trunc(f):
    return sympy.Integer(math.trunc(f))


def _sign(f):
    return sympy.Integer(1 if f > 0 else -1)


def _mp_trunc(t):
    return mpmath.floor(t) if t >= 0 else mpmath.ceil(t)


def _mp_cbrt(t):
    return mpmath.sign(t) * mpmath.cbrt(abs(t))


# name -> (sympy expression builder taking the f64 point, mpmath reference
#          implementation, Python `math` implementation or None, points)
# The builder returns the expression of the smooth branch around the point.
UNARY = [
    ("sin", lambda p: sympy.sin(X), mpmath.sin, math.sin,
     ["-10.0", "-0.5", "1e-3", "1.25", "100.0"]),
    ("cos", lambda p: sympy.cos(X), mpmath.cos, math.cos,
     ["-10.0", "-0.5", "1e-3", "1.25", "100.0"]),
    ("tan", lambda p: sympy.tan(X), mpmath.tan, math.tan,
     ["-1.2", "-0.3", "1e-3", "0.7", "1.5", "10.0"]),
    ("asin", lambda p: sympy.asin(X), mpmath.asin, math.asin,
     ["-0.9", "-0.3", "1e-4", "0.3", "0.9"]),
    ("acos", lambda p: sympy.acos(X), mpmath.acos, math.acos,
     ["-0.9", "-0.3", "1e-4", "0.3", "0.9"]),
    ("atan", lambda p: sympy.atan(X), mpmath.atan, math.atan,
     ["-100.0", "-0.75", "1e-4", "0.5", "3.0", "1e6"]),
    ("sinh", lambda p: sympy.sinh(X), mpmath.sinh, math.sinh,
     ["-5.0", "-0.5", "1e-4", "1.0", "3.0", "20.0"]),
    ("cosh", lambda p: sympy.cosh(X), mpmath.cosh, math.cosh,
     ["-5.0", "-0.5", "1e-4", "1.0", "3.0", "20.0"]),
    ("tanh", lambda p: sympy.tanh(X), mpmath.tanh, math.tanh,
     ["-5.0", "-0.5", "1e-4", "1.0", "3.0", "10.0"]),
    ("asinh", lambda p: sympy.asinh(X), mpmath.asinh, math.asinh,
     ["-10.0", "-0.5", "1e-4", "2.0", "1e3"]),
    ("acosh", lambda p: sympy.acosh(X), mpmath.acosh, math.acosh,
     ["1.5", "3.0", "10.0", "1e4"]),
    ("atanh", lambda p: sympy.atanh(X), mpmath.atanh, math.atanh,
     ["-0.9", "-0.3", "1e-4", "0.3", "0.9"]),
    ("exp", lambda p: sympy.exp(X), mpmath.exp, math.exp,
     ["-20.0", "-1.0", "1e-4", "0.5", "5.0", "50.0"]),
    ("exp2", lambda p: 2**X, lambda t: mpmath.power(2, t),
     lambda f: 2.0**f, ["-10.0", "-0.5", "0.25", "3.0", "20.0"]),
    ("exp_m1", lambda p: sympy.exp(X) - 1, mpmath.expm1, math.expm1,
     ["-5.0", "-1e-8", "1e-10", "0.5", "10.0"]),
    ("ln", lambda p: sympy.log(X), mpmath.ln, math.log,
     ["1e-8", "0.01", "0.5", "2.0", "1e5"]),
    ("log2", lambda p: sympy.log(X, 2), lambda t: mpmath.log(t, 2),
     math.log2, ["1e-8", "0.01", "0.5", "2.0", "1e5"]),
    ("log10", lambda p: sympy.log(X, 10), mpmath.log10, math.log10,
     ["1e-8", "0.01", "0.5", "2.0", "1e5"]),
    ("ln_1p", lambda p: sympy.log(1 + X), mpmath.log1p, math.log1p,
     ["-0.5", "-1e-8", "1e-10", "1.0", "1e3"]),
    ("sqrt", lambda p: sympy.sqrt(X), mpmath.sqrt, math.sqrt,
     ["1e-6", "0.25", "2.0", "100.0", "1e10"]),
    ("cbrt",
     lambda p: X ** sympy.Rational(1, 3) if p > 0
     else -((-X) ** sympy.Rational(1, 3)),
     _mp_cbrt, lambda f: math.copysign(abs(f) ** (1.0 / 3.0), f),
     ["-8.0", "-0.1", "1e-6", "2.0", "27.0", "1000.0"]),
    ("recip", lambda p: 1 / X, lambda t: 1 / t, lambda f: 1.0 / f,
     ["-4.0", "-0.1", "0.3", "2.0", "1e5"]),
    ("abs", lambda p: X if p > 0 else -X, abs, abs,
     ["-2.5", "-0.1", "0.1", "2.5", "1e3"]),
    ("to_degrees", lambda p: X * 180 / sympy.pi, mpmath.degrees,
     math.degrees, ["-3.0", "-0.5", "1e-3", "1.0", "6.0"]),
    ("to_radians", lambda p: X * sympy.pi / 180, mpmath.radians,
     math.radians, ["-720.0", "-45.0", "0.5", "100.0", "1e3"]),
    ("powi_3", lambda p: X**3, lambda t: t**3, lambda f: f**3,
     ["-3.0", "-0.5", "1e-3", "2.0", "10.0"]),
    ("powi_m2", lambda p: X**-2, lambda t: t**-2, lambda f: f**-2,
     ["-3.0", "-0.5", "1e-3", "2.0", "10.0"]),
    ("powi_0", lambda p: sympy.Integer(1), lambda t: mpmath.mpf(1),
     lambda f: f**0, ["-2.0", "0.5", "3.0", "1e3"]),
    ("fract", lambda p: X - _trunc(p),
     lambda t: t - _mp_trunc(t), lambda f: f - math.trunc(f),
     ["-2.75", "-0.3", "0.3", "1.75", "1234.25"]),
    ("floor", lambda p: sympy.Integer(math.floor(p)), mpmath.floor,
     math.floor, ["-2.7", "-0.4", "0.3", "1.6", "1234.75"]),
    ("ceil", lambda p: sympy.Integer(math.ceil(p)), mpmath.ceil,
     math.ceil, ["-2.7", "-0.4", "0.3", "1.6", "1234.75"]),
    ("round", lambda p: _sign(p) * math.floor(abs(p) + 0.5),
     lambda t: mpmath.sign(t) * mpmath.floor(abs(t) + mpmath.mpf(0.5)),
     lambda f: math.copysign(math.floor(abs(f) + 0.5), f),
     ["-2.7", "-0.4", "0.3", "1.6", "1234.75"]),
    ("trunc", lambda p: _trunc(p), _mp_trunc, math.trunc,
     ["-2.7", "-0.4", "0.3", "1.6", "1234.75"]),
    ("signum", lambda p: _sign(p), mpmath.sign,
     lambda f: math.copysign(1.0, f), ["-3.0", "-1e-5", "1e-5", "2.0"]),
]


def _mp_fmod(a, b):
    return a - b * _mp_trunc(a / b)


def _powf_expr(px, py):
    """x^y; for a negative base with integer y use the ln|x| convention."""
    if px > 0:
        return X**Y
    if py != int(py):
        raise ValueError("powf: negative base needs an integer exponent")
    n = int(py)
    # (-1)^n |x|^y: equal to x^y at the point, with d/dy giving x^y ln|x|.
    return (-1) ** n * (-X) ** Y


def _powf_mp(px, py):
    if px > 0:
        return lambda a, b: mpmath.power(a, b)
    n = int(py)
    return lambda a, b: (-1) ** n * mpmath.power(-a, b)


# name -> (sympy builder taking (x, y), mpmath builder taking (x, y) and
#          returning a function of (a, b), Python `math` function, points)
BINARY = [
    ("add", lambda px, py: X + Y, lambda px, py: lambda a, b: a + b,
     lambda a, b: a + b,
     [("1.5", "-2.25"), ("-3.0", "0.125"), ("1e-3", "1e5"), ("7.0", "7.0")]),
    ("sub", lambda px, py: X - Y, lambda px, py: lambda a, b: a - b,
     lambda a, b: a - b,
     [("1.5", "-2.25"), ("-3.0", "0.125"), ("1e-3", "1e5"), ("7.0", "7.0")]),
    ("mul", lambda px, py: X * Y, lambda px, py: lambda a, b: a * b,
     lambda a, b: a * b,
     [("1.5", "-2.25"), ("-3.0", "0.125"), ("1e-3", "1e5"), ("-0.7", "-4.0"),
      ("7.0", "7.0")]),
    ("div", lambda px, py: X / Y, lambda px, py: lambda a, b: a / b,
     lambda a, b: a / b,
     [("1.5", "-2.25"), ("-3.0", "0.125"), ("1e-3", "1e5"), ("-0.7", "-4.0"),
      ("10.0", "3.0")]),
    ("rem",
     lambda px, py: X - Y * _trunc(px / py),
     lambda px, py: lambda a, b: _mp_fmod(a, b),
     math.fmod,
     [("7.5", "2.0"), ("-7.5", "2.0"), ("7.5", "-2.0"), ("-7.5", "-2.0"),
      ("5.3", "0.7"), ("0.3", "5.0")]),
    ("powf", _powf_expr, _powf_mp, math.pow,
     [("2.0", "0.5"), ("0.5", "-1.5"), ("3.0", "2.5"), ("10.0", "-0.3"),
      ("1.5", "10.0"), ("-2.0", "3.0"), ("-2.0", "2.0")]),
    # Rust `x.atan2(y)` is the angle of the point (abscissa y, ordinate x);
    # sympy.atan2 and mpmath.atan2 take (ordinate, abscissa) like Rust.
    ("atan2", lambda px, py: sympy.atan2(X, Y),
     lambda px, py: lambda a, b: mpmath.atan2(a, b), math.atan2,
     [("1.0", "2.0"), ("0.5", "-3.0"), ("-1.0", "-2.0"), ("-4.0", "0.25"),
      ("3.0", "1e-3")]),
    ("hypot", lambda px, py: sympy.sqrt(X**2 + Y**2),
     lambda px, py: lambda a, b: mpmath.hypot(a, b), math.hypot,
     [("3.0", "4.0"), ("-3.0", "4.0"), ("1e-3", "-2.0"), ("-5.0", "-12.0"),
      ("1e5", "1.0")]),
    ("log", lambda px, py: sympy.log(X) / sympy.log(Y),
     lambda px, py: lambda a, b: mpmath.log(a, b), math.log,
     [("8.0", "2.0"), ("0.5", "10.0"), ("100.0", "0.5"), ("2.5", "1.5"),
      ("1e-3", "3.0")]),
]


# ---------------------------------------------------------------------------
# Evaluation and checks
# ---------------------------------------------------------------------------


def evaluate(expr, subs):
    """Evaluate `expr` to DIGITS significant digits at the exact inputs."""
    result = sympy.sympify(expr).subs(subs).evalf(DIGITS)
    if result.free_symbols:
        raise ValueError(f"unevaluated: {result}")
    if not result.is_real:
        raise ValueError(f"non-real result {result} for {expr} at {subs}")
    return result


def close(a, b, rel, floor):
    """|a - b| <= rel * max(|a|, |b|) + floor (floor covers exact zeros)."""
    a, b = mpmath.mpf(a), mpmath.mpf(b)
    return abs(a - b) <= rel * max(abs(a), abs(b)) + floor


def check(label, sym_value, mp_value, rel):
    if not close(sym_value, mp_value, rel, mpmath.mpf(rel) ** 1.2):
        raise AssertionError(
            f"{label}: sympy {sym_value} vs mpmath {mp_value} (rel {rel})"
        )


def check_f64(label, ref, py_value):
    """Loose agreement with Python's f64 `math` (catches convention slips)."""
    py_value = float(py_value)
    if not (abs(ref - py_value) <= 1e-13 * max(abs(ref), abs(py_value), 1e-300)):
        raise AssertionError(f"{label}: reference {ref!r} vs math {py_value!r}")


def unary_rows():
    rows = []
    for name, build, mp_func, py_func, points in UNARY:
        for literal in points:
            xf, xs = exact_input(literal)
            expr = build(xf)
            d1 = sympy.diff(expr, X)
            d2 = sympy.diff(d1, X)
            subs = {X: xs}
            values = [evaluate(e, subs) for e in (expr, d1, d2)]
            label = f"{name}({literal})"
            with mpmath.workdps(CHECK_DIGITS):
                xm = mpmath.mpf(xf)
                check(label + " value", values[0], mp_func(xm), 1e-40)
                for order in (1, 2):
                    numeric = mpmath.diff(mp_func, xm, order)
                    check(f"{label} d{order}", values[order], numeric, 1e-25)
            refs = [to_f64(v) for v in values]
            check_f64(label, refs[0], py_func(xf))
            rows.append((name, xf, refs))
    return rows


def binary_rows():
    rows = []
    for name, build, mp_build, py_func, points in BINARY:
        for lx, ly in points:
            xf, xs = exact_input(lx)
            yf, ys = exact_input(ly)
            expr = build(xf, yf)
            dx, dy = sympy.diff(expr, X), sympy.diff(expr, Y)
            hessian = (sympy.diff(dx, X), sympy.diff(dx, Y), sympy.diff(dy, Y))
            subs = {X: xs, Y: ys}
            exprs = (expr, dx, dy) + hessian
            values = [evaluate(e, subs) for e in exprs]
            label = f"{name}({lx}, {ly})"
            orders = [(1, 0), (0, 1), (2, 0), (1, 1), (0, 2)]
            with mpmath.workdps(CHECK_DIGITS):
                f = mp_build(xf, yf)
                xm, ym = mpmath.mpf(xf), mpmath.mpf(yf)
                check(label + " value", values[0], f(xm, ym), 1e-40)
                for value, order in zip(values[1:], orders):
                    numeric = mpmath.diff(f, (xm, ym), order)
                    check(f"{label} d{order}", value, numeric, 1e-25)
            refs = [to_f64(v) for v in values]
            check_f64(label, refs[0], py_func(xf, yf))
            rows.append((name, xf, yf, refs))
    return rows


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------

HEADER = """\
//! Reference values generated by `tools/gen_reference.py` (SymPy {sympy}, mpmath {mpmath}, {digits} digits).
//! Do not edit by hand: rerun the script.

// Literals carry 17 significant digits so that each one round-trips exactly; some happen to equal
// named constants such as FRAC_1_SQRT_2.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

/// One point of a function of one variable: value, first and second derivative.
pub struct Unary {{
    /// Name of the `num_traits::Float` method (with a suffix for a parameter, e.g. `powi_3`).
    pub name: &'static str,
    /// The argument.
    pub x: f64,
    /// f(x).
    pub value: f64,
    /// f'(x).
    pub d1: f64,
    /// f''(x).
    pub d2: f64,
}}

/// One point of a function of two variables: value, gradient and Hessian entries.
pub struct Binary {{
    /// Name of the method, `x.name(y)`.
    pub name: &'static str,
    /// First argument (the receiver).
    pub x: f64,
    /// Second argument.
    pub y: f64,
    /// f(x, y).
    pub value: f64,
    /// ∂f/∂x.
    pub dx: f64,
    /// ∂f/∂y.
    pub dy: f64,
    /// ∂²f/∂x².
    pub dxx: f64,
    /// ∂²f/∂x∂y.
    pub dxy: f64,
    /// ∂²f/∂y².
    pub dyy: f64,
}}
"""


def render(unary, binary):
    out = [HEADER.format(sympy=sympy.__version__, mpmath=mpmath.__version__,
                         digits=DIGITS)]
    out.append("/// Unary cases.")
    out.append("pub const UNARY: &[Unary] = &[")
    for name, xf, (value, d1, d2) in unary:
        out.append("    Unary {")
        out.append(f'        name: "{name}",')
        out.append(f"        x: {rust_f64(xf)},")
        out.append(f"        value: {rust_f64(value)},")
        out.append(f"        d1: {rust_f64(d1)},")
        out.append(f"        d2: {rust_f64(d2)},")
        out.append("    },")
    out.append("];")
    out.append("")
    out.append("/// Binary cases.")
    out.append("pub const BINARY: &[Binary] = &[")
    fields = ("value", "dx", "dy", "dxx", "dxy", "dyy")
    for name, xf, yf, refs in binary:
        out.append("    Binary {")
        out.append(f'        name: "{name}",')
        out.append(f"        x: {rust_f64(xf)},")
        out.append(f"        y: {rust_f64(yf)},")
        for field, v in zip(fields, refs):
            out.append(f"        {field}: {rust_f64(v)},")
        out.append("    },")
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    mpmath.mp.dps = DIGITS
    unary = unary_rows()
    binary = binary_rows()
    sys.stdout.write(render(unary, binary))
    print(
        f"gen_reference: {len(unary)} unary and {len(binary)} binary cases "
        f"(SymPy {sympy.__version__}, mpmath {mpmath.__version__})",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
