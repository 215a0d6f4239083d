"""Shared by the reference generators: mpmath values rounded to f64 and written as Rust
literals that parse back to the same f64."""
import math

import mpmath


def f64(v):
    """The f64 nearest to the mpmath number v."""
    return mpmath.libmp.to_float(mpmath.mpf(v)._mpf_, rnd="n")


def lit(v):
    """A Rust literal of the f64 v (17 significant digits, signed zeros and infinities)."""
    if v == 0.0:
        return "0.0" if math.copysign(1, v) > 0 else "-0.0"
    if math.isinf(v):
        return "f64::INFINITY" if v > 0 else "f64::NEG_INFINITY"
    m, e = f"{v:.16e}".split("e")
    text = f"{m}e{int(e)}"
    assert float(text) == v
    return text


def print_table(module_doc, item_doc, declaration, rows):
    """Prints a generated Rust reference module: `module_doc` (lines of its //! comment), the
    clippy allowances its literals need, then `declaration` (`pub const NAME: &[T] = &[`)
    with its `item_doc` and one line per row (each already Rust text, without the comma)."""
    for line in module_doc:
        print(f"//! {line}")
    print("#![allow(clippy::excessive_precision, clippy::approx_constant)]")
    print()
    print(f"/// {item_doc}")
    print(declaration)
    for row in rows:
        print(f"    {row},")
    print("];")
