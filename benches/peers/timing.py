"""Timing shared by the Python peer scripts: the median time per call over timeit repeats."""

import timeit

import numpy as np


def median_time(fn, repeats, min_time):
    """Median seconds per call of `fn` (already warmed up) over `repeats` repeats of `number`
    calls, `number` chosen so that a repeat takes at least `min_time` seconds; returns
    `(seconds, number)`."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < min_time:
        number *= 2
    return float(np.median(timer.repeat(repeat=repeats, number=number))) / number, number


def format_time(t):
    """`t` seconds with a unit (s, ms, µs, ns) and four significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if t >= scale:
            return f"{t / scale:.4g} {unit}"
    return f"{t / 1e-9:.4g} ns"


def make_report(repeats, min_time):
    """A `report(name, fn)` that warms `fn` up (two calls, which also compile a JAX function)
    and prints its median time per call under `name` (the criterion group/ID it matches)."""

    def report(name, fn):
        fn()
        fn()
        t, number = median_time(fn, repeats, min_time)
        print(f"{name:<45} {format_time(t):>12}   ({repeats} x {number})", flush=True)

    return report
