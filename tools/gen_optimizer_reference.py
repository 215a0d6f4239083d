#!/usr/bin/env python3
"""Generate reference optimizer trajectories with Optax for the `adroit-nn` tests.

Purpose
-------
The Rust optimizers in ``crates/adroit-nn/src/optim`` reimplement a set of
Optax optimizers (see ``tools/optimizer_spec.md`` for the exact update rules).
This script runs each of them in Optax, in float64, and prints the resulting
parameter trajectories as a Rust source file that the integration tests
compare against.

Setup (identical for every optimizer)
-------------------------------------
* One parameter vector ``p0 = [0.5, -1.0, 2.0]`` (float64).
* A fixed gradient sequence that does NOT depend on the parameters::

      g_k[i] = sin(1.3*k + 0.7*i) * (1 + 0.1*k),   k = 0..9, i = 0..2

  evaluated in f64 exactly in this order: ``math.sin(1.3 * k + 0.7 * i) *
  (1.0 + 0.1 * k)``. The Rust tests read the gradients from ``GRADS`` instead
  of recomputing them, so both sides use bit-identical gradients.
* ``state = opt.init(params)``, then for k = 0..9::

      updates, state = opt.update(g_k, state, params)
      params = optax.apply_updates(params, updates)

  and the parameters after each of the 10 steps are recorded.
* The cases named in ``SPLIT`` run on two parameter arrays instead of one,
  ``{"a": p[0:2], "b": p[2:3]}`` (gradients split the same way), so that a
  clipping rule's reach (global across arrays, or per array) shows; their rows
  are the two arrays concatenated.
* ``jax.config.update("jax_enable_x64", True)``: everything is float64.

Verification
------------
Every trajectory is recomputed by an independent plain-Python/NumPy
implementation of the rule written in ``tools/optimizer_spec.md`` (functions
``ref_*`` below) and the script aborts unless the two agree to 1e-12
(absolute, on every entry of every step). The script also reports on stderr
how far the discontinuous decisions (Lion's sign, RAdam's threshold,
clipping) are from their switching points, so that tiny rounding differences
in a reimplementation cannot flip them.

Usage (from the repository root; requires ``pip install optax jax numpy``)::

    python3 tools/gen_optimizer_reference.py > crates/adroit-nn/tests/it/optimizer_reference.rs

The output header records the Optax and JAX versions. The output is
deterministic for a given Optax/JAX version.
"""

import math
import sys

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

STEPS = 10
P0 = [0.5, -1.0, 2.0]
TOL = 1e-12


def gradient(k, i):
    """g_k[i] = sin(1.3*k + 0.7*i) * (1 + 0.1*k), in this f64 evaluation order."""
    return math.sin(1.3 * k + 0.7 * i) * (1.0 + 0.1 * k)


GRADS = [[gradient(k, i) for i in range(3)] for k in range(STEPS)]


# ---------------------------------------------------------------------------
# The Optax cases (name, exact call as text, factory)
# ---------------------------------------------------------------------------

CASES = [
    ("descent", "optax.sgd(0.1)", lambda: optax.sgd(0.1)),
    ("momentum", "optax.sgd(0.1, momentum=0.9)",
     lambda: optax.sgd(0.1, momentum=0.9)),
    ("nesterov", "optax.sgd(0.1, momentum=0.9, nesterov=True)",
     lambda: optax.sgd(0.1, momentum=0.9, nesterov=True)),
    ("rmsprop", "optax.rmsprop(0.1, decay=0.9, eps=1e-8)",
     lambda: optax.rmsprop(0.1, decay=0.9, eps=1e-8)),
    ("rmsprop_centered",
     "optax.rmsprop(0.1, decay=0.9, eps=1e-8, centered=True)",
     lambda: optax.rmsprop(0.1, decay=0.9, eps=1e-8, centered=True)),
    ("adam", "optax.adam(0.1, b1=0.9, b2=0.999, eps=1e-8)",
     lambda: optax.adam(0.1, b1=0.9, b2=0.999, eps=1e-8)),
    ("adamw",
     "optax.adamw(0.1, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4)",
     lambda: optax.adamw(0.1, b1=0.9, b2=0.999, eps=1e-8, weight_decay=1e-4)),
    ("adagrad", "optax.adagrad(0.1, initial_accumulator_value=0.1, eps=1e-7)",
     lambda: optax.adagrad(0.1, initial_accumulator_value=0.1, eps=1e-7)),
    ("adadelta", "optax.adadelta(learning_rate=1.0, rho=0.9, eps=1e-6)",
     lambda: optax.adadelta(learning_rate=1.0, rho=0.9, eps=1e-6)),
    ("amsgrad", "optax.amsgrad(0.1, b1=0.9, b2=0.999, eps=1e-8)",
     lambda: optax.amsgrad(0.1, b1=0.9, b2=0.999, eps=1e-8)),
    ("nadam", "optax.nadam(0.1, b1=0.9, b2=0.999, eps=1e-8)",
     lambda: optax.nadam(0.1, b1=0.9, b2=0.999, eps=1e-8)),
    ("radam", "optax.radam(0.1, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0)",
     lambda: optax.radam(0.1, b1=0.9, b2=0.999, eps=1e-8, threshold=5.0)),
    ("adamax", "optax.adamax(0.1, b1=0.9, b2=0.999, eps=1e-8)",
     lambda: optax.adamax(0.1, b1=0.9, b2=0.999, eps=1e-8)),
    ("lion", "optax.lion(0.1, b1=0.9, b2=0.99, weight_decay=1e-3)",
     lambda: optax.lion(0.1, b1=0.9, b2=0.99, weight_decay=1e-3)),
    ("clip_by_global_norm_then_sgd",
     "optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))",
     lambda: optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))),
    ("clip_then_sgd", "optax.chain(optax.clip(0.3), optax.sgd(0.1))",
     lambda: optax.chain(optax.clip(0.3), optax.sgd(0.1))),
    ("clip_by_global_norm_split_then_sgd",
     "optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1)) on {a: p[0:2], b: p[2:3]}",
     lambda: optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))),
    ("clip_by_norm_per_array_split_then_sgd",
     "optax.multi_transform({a, b: optax.chain(optax.clip_by_global_norm(0.5), "
     "optax.sgd(0.1))}) on {a: p[0:2], b: p[2:3]} (each array clipped by its own norm)",
     lambda: optax.multi_transform(
         {"a": optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1)),
          "b": optax.chain(optax.clip_by_global_norm(0.5), optax.sgd(0.1))},
         {"a": "a", "b": "b"})),
    ("weight_decay_then_sgd",
     "optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1))",
     lambda: optax.chain(optax.add_decayed_weights(0.01), optax.sgd(0.1))),
    ("adam_cosine_schedule",
     "optax.adam(optax.cosine_decay_schedule(init_value=0.1, decay_steps=10, "
     "alpha=0.0))",
     lambda: optax.adam(optax.cosine_decay_schedule(
         init_value=0.1, decay_steps=10, alpha=0.0))),
    ("sgd_exponential_schedule",
     "optax.sgd(optax.exponential_decay(init_value=0.1, transition_steps=1, "
     "decay_rate=0.8))",
     lambda: optax.sgd(optax.exponential_decay(
         init_value=0.1, transition_steps=1, decay_rate=0.8))),
    ("sgd_warmup",
     "optax.sgd(optax.linear_schedule(init_value=0.0, end_value=0.1, "
     "transition_steps=4))",
     lambda: optax.sgd(optax.linear_schedule(
         init_value=0.0, end_value=0.1, transition_steps=4))),
    ("adam_warmup_cosine",
     "optax.adam(optax.warmup_cosine_decay_schedule(init_value=0.0, peak_value=0.1, "
     "warmup_steps=3, decay_steps=10, end_value=0.0))",
     lambda: optax.adam(optax.warmup_cosine_decay_schedule(
         init_value=0.0, peak_value=0.1, warmup_steps=3, decay_steps=10,
         end_value=0.0))),
    ("sgd_step_schedule",
     "optax.sgd(optax.piecewise_constant_schedule(init_value=0.1, "
     "boundaries_and_scales={3: 0.5, 6: 0.5}))",
     lambda: optax.sgd(optax.piecewise_constant_schedule(
         init_value=0.1, boundaries_and_scales={3: 0.5, 6: 0.5}))),
]


# Cases run on two arrays, {"a": p[0:2], "b": p[2:3]}.
SPLIT = {"clip_by_global_norm_split_then_sgd", "clip_by_norm_per_array_split_then_sgd"}


def _split(values):
    v = jnp.asarray(values, dtype=jnp.float64)
    return {"a": v[0:2], "b": v[2:3]}


def _flat(params):
    if isinstance(params, dict):
        return [float(v) for v in np.concatenate([np.asarray(params["a"]), np.asarray(params["b"])])]
    return [float(v) for v in np.asarray(params)]


def run_optax(name, factory):
    """Run one optimizer for STEPS steps; return the list of parameter rows."""
    opt = factory()
    shape = _split if name in SPLIT else (lambda v: jnp.asarray(v, dtype=jnp.float64))
    params = shape(P0)
    state = opt.init(params)
    rows = []
    for k in range(STEPS):
        g = shape(GRADS[k])
        updates, state = opt.update(g, state, params)
        params = optax.apply_updates(params, updates)
        assert all(leaf.dtype == jnp.float64 for leaf in jax.tree_util.tree_leaves(params))
        rows.append(_flat(params))
    return rows


# ---------------------------------------------------------------------------
# Independent reimplementation of tools/optimizer_spec.md (plain NumPy, f64).
# Every function returns the trajectory (list of 10 rows) and may record
# "margins": distances of discontinuous decisions from their switch points.
# ---------------------------------------------------------------------------

MARGINS = {}


def _margin(name, value):
    MARGINS[name] = min(MARGINS.get(name, math.inf), value)


def _grads():
    return [np.array(g, dtype=np.float64) for g in GRADS]


def _run(step):
    """step(t, g, p) -> new p; t = 1..10 is the 1-based step number."""
    p = np.array(P0, dtype=np.float64)
    rows = []
    for t, g in enumerate(_grads(), start=1):
        p = step(t, g, p)
        rows.append([float(v) for v in p])
    return rows


def ref_sgd(lr_fn):
    """p <- p - lr(t-1) * g (lr_fn takes the 0-based step index)."""
    return _run(lambda t, g, p: p + (-lr_fn(t - 1)) * g)


def ref_momentum(lr, beta, nesterov):
    v = np.zeros(3)

    def step(t, g, p):
        nonlocal v
        v = g + beta * v
        d = g + beta * v if nesterov else v
        return p + (-lr) * d
    return _run(step)


def ref_rmsprop(lr, rho, eps, centered):
    nu = np.zeros(3)
    mu = np.zeros(3)

    def step(t, g, p):
        nonlocal nu, mu
        nu = (1 - rho) * (g * g) + rho * nu
        if centered:
            mu = (1 - rho) * g + rho * mu
            d = (1.0 / np.sqrt(nu - mu * mu + eps)) * g
        else:
            d = (1.0 / np.sqrt(nu + eps)) * g
        return p + (-lr) * d
    return _run(step)


def ref_adam(lr_fn, b1, b2, eps, wd=0.0, nesterov=False):
    m = np.zeros(3)
    v = np.zeros(3)

    def step(t, g, p):
        nonlocal m, v
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g * g) + b2 * v
        if nesterov:
            m_hat = b1 * (m / (1 - b1 ** (t + 1))) + (1 - b1) * (g / (1 - b1 ** t))
        else:
            m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        d = m_hat / (np.sqrt(v_hat) + eps)
        if wd:
            d = d + wd * p
        return p + (-lr_fn(t - 1)) * d
    return _run(step)


def ref_amsgrad(lr, b1, b2, eps):
    m = np.zeros(3)
    v = np.zeros(3)
    v_max = np.zeros(3)

    def step(t, g, p):
        nonlocal m, v, v_max
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g * g) + b2 * v
        m_hat = m / (1 - b1 ** t)
        v_hat = v / (1 - b2 ** t)
        v_max = np.maximum(v_max, v_hat)
        d = m_hat / (np.sqrt(v_max) + eps)
        return p + (-lr) * d
    return _run(step)


def ref_radam(lr, b1, b2, eps, threshold):
    m = np.zeros(3)
    v = np.zeros(3)
    rho_inf = 2.0 / (1.0 - b2) - 1.0

    def step(t, g, p):
        nonlocal m, v
        m = (1 - b1) * g + b1 * m
        v = (1 - b2) * (g * g) + b2 * v
        b2t = b2 ** t
        rho = rho_inf - 2 * t * b2t / (1 - b2t)
        _margin("radam |rho_t - threshold|", abs(rho - threshold))
        m_hat = m / (1 - b1 ** t)
        if rho >= threshold:
            v_hat = v / (1 - b2 ** t)
            r = math.sqrt((rho - 4.0) * (rho - 2.0) * rho_inf
                          / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho))
            d = r * m_hat / (np.sqrt(v_hat) + eps)
        else:
            d = m_hat
        return p + (-lr) * d
    return _run(step)


def ref_adagrad(lr, init, eps):
    s = np.full(3, init)

    def step(t, g, p):
        nonlocal s
        s = g * g + s
        d = np.where(s > 0, 1.0 / np.sqrt(s + eps), 0.0) * g
        return p + (-lr) * d
    return _run(step)


def ref_adadelta(lr, rho, eps):
    eg = np.zeros(3)
    ex = np.zeros(3)

    def step(t, g, p):
        nonlocal eg, ex
        eg = (1 - rho) * (g * g) + rho * eg
        d = (np.sqrt(ex + eps) / np.sqrt(eg + eps)) * g
        ex = (1 - rho) * (d * d) + rho * ex
        return p + (-lr) * d
    return _run(step)


def ref_adamax(lr, b1, b2, eps):
    m = np.zeros(3)
    u = np.zeros(3)

    def step(t, g, p):
        nonlocal m, u
        m = (1 - b1) * g + b1 * m
        u = np.maximum(np.abs(g) + eps, b2 * u)
        d = (m / (1 - b1 ** t)) / u
        return p + (-lr) * d
    return _run(step)


def ref_lion(lr, b1, b2, wd):
    m = np.zeros(3)

    def step(t, g, p):
        nonlocal m
        c = (1.0 - b1) * g + b1 * m
        # Exact zeros (step 1, entry 0: g = sin(0) = 0, m = 0) give sign 0;
        # the margin is over the non-zero arguments.
        nonzero = np.abs(c[c != 0.0])
        if nonzero.size:
            _margin("lion min non-zero |(1-b1) g + b1 m|", float(np.min(nonzero)))
        d = np.sign(c) + wd * p
        m = (1 - b2) * g + b2 * m
        return p + (-lr) * d
    return _run(step)


def ref_clip_global_norm_sgd(lr, max_norm):
    def step(t, g, p):
        norm = math.sqrt(float(np.sum(g * g)))
        _margin("global norm |norm - max_norm|", abs(norm - max_norm))
        if not norm < max_norm:
            g = (g / norm) * max_norm
        return p + (-lr) * g
    return _run(step)


def ref_clip_sgd(lr, delta):
    def step(t, g, p):
        _margin("clip min ||g| - delta|", float(np.min(np.abs(np.abs(g) - delta))))
        return p + (-lr) * np.clip(g, -delta, delta)
    return _run(step)


def ref_clip_norm_per_array_sgd(lr, max_norm, arrays):
    """Each of `arrays` (slices of the parameter vector) clipped to norm `max_norm` on its own;
    with one slice covering everything this is the global-norm rule."""
    def step(t, g, p):
        g = g.copy()
        for part in arrays:
            norm = math.sqrt(float(np.sum(g[part] * g[part])))
            _margin(f"norm of {part} |norm - max_norm|", abs(norm - max_norm))
            if not norm < max_norm:
                g[part] = (g[part] / norm) * max_norm
        return p + (-lr) * g
    return _run(step)


def ref_weight_decay_sgd(lr, wd):
    return _run(lambda t, g, p: p + (-lr) * (g + wd * p))


# Schedules, indexed by the 0-based step index n (= number of previous updates).
def cosine(init, steps, alpha):
    def f(n):
        c = min(n, steps)
        return init * ((1 - alpha) * (0.5 * (1 + math.cos(math.pi * c / steps))) + alpha)
    return f


# exponential_decay and linear_schedule are evaluated by optax in float32
# (JAX computes `int32 count / int` in float32 even with x64 enabled; the
# Python float constants then adopt float32), and the f32 result is widened
# to f64 when it scales the f64 update. Emulated exactly here with np.float32.
F32 = np.float32


def _powf(base, exponent):
    """Correctly rounded f32 power (what XLA returned for all steps used)."""
    return F32(float(base) ** float(exponent))


def exponential(init, steps, rate):
    def f(n):
        if n <= 0:
            return float(F32(init))
        p = F32(n) / F32(steps)
        return float(F32(init) * _powf(F32(rate), p))
    return f


def linear(init, end, steps):
    def f(n):
        c = F32(min(max(n, 0), steps))
        frac = F32(1) - c / F32(steps)
        return float(F32(init - end) * frac + F32(end))
    return f


def warmup(steps, then):
    """Optax's join_schedules([linear_schedule(0, then(0), steps), then], [steps]):
    the linear ramp (f32, as `linear`), then `then` restarted at 0 — rounded to f32
    too, since the join selects between the two with the ramp's f32 type."""
    ramp = linear(0.0, then(0), steps)

    def f(n):
        return ramp(n) if n < steps else float(F32(then(n - steps)))
    return f


def piecewise(init, boundaries_and_scales):
    def f(n):
        v = init
        for b, s in sorted(boundaries_and_scales.items()):
            if n >= b:
                v = s * v
        return v
    return f


REFS = {
    "descent": lambda: ref_sgd(lambda n: 0.1),
    "momentum": lambda: ref_momentum(0.1, 0.9, False),
    "nesterov": lambda: ref_momentum(0.1, 0.9, True),
    "rmsprop": lambda: ref_rmsprop(0.1, 0.9, 1e-8, False),
    "rmsprop_centered": lambda: ref_rmsprop(0.1, 0.9, 1e-8, True),
    "adam": lambda: ref_adam(lambda n: 0.1, 0.9, 0.999, 1e-8),
    "adamw": lambda: ref_adam(lambda n: 0.1, 0.9, 0.999, 1e-8, wd=1e-4),
    "adagrad": lambda: ref_adagrad(0.1, 0.1, 1e-7),
    "adadelta": lambda: ref_adadelta(1.0, 0.9, 1e-6),
    "amsgrad": lambda: ref_amsgrad(0.1, 0.9, 0.999, 1e-8),
    "nadam": lambda: ref_adam(lambda n: 0.1, 0.9, 0.999, 1e-8, nesterov=True),
    "radam": lambda: ref_radam(0.1, 0.9, 0.999, 1e-8, 5.0),
    "adamax": lambda: ref_adamax(0.1, 0.9, 0.999, 1e-8),
    "lion": lambda: ref_lion(0.1, 0.9, 0.99, 1e-3),
    "clip_by_global_norm_then_sgd": lambda: ref_clip_global_norm_sgd(0.1, 0.5),
    "clip_then_sgd": lambda: ref_clip_sgd(0.1, 0.3),
    "clip_by_global_norm_split_then_sgd":
        lambda: ref_clip_norm_per_array_sgd(0.1, 0.5, [slice(0, 3)]),
    "clip_by_norm_per_array_split_then_sgd":
        lambda: ref_clip_norm_per_array_sgd(0.1, 0.5, [slice(0, 2), slice(2, 3)]),
    "weight_decay_then_sgd": lambda: ref_weight_decay_sgd(0.1, 0.01),
    "adam_cosine_schedule":
        lambda: ref_adam(cosine(0.1, 10, 0.0), 0.9, 0.999, 1e-8),
    "sgd_exponential_schedule": lambda: ref_sgd(exponential(0.1, 1, 0.8)),
    "sgd_warmup": lambda: ref_sgd(linear(0.0, 0.1, 4)),
    "adam_warmup_cosine":
        lambda: ref_adam(warmup(3, cosine(0.1, 7, 0.0)), 0.9, 0.999, 1e-8),
    "sgd_step_schedule": lambda: ref_sgd(piecewise(0.1, {3: 0.5, 6: 0.5})),
}


# The five schedules, as optax objects and as the spec's emulation; their
# values at n = 0..9 must agree (to 1e-17 relative: the f32 emulation must be
# bit-exact, the f64 cosine may differ by an ulp in `cos`).
SCHEDULES = [
    ("cosine_decay_schedule",
     lambda: optax.cosine_decay_schedule(init_value=0.1, decay_steps=10, alpha=0.0),
     cosine(0.1, 10, 0.0)),
    ("exponential_decay",
     lambda: optax.exponential_decay(init_value=0.1, transition_steps=1, decay_rate=0.8),
     exponential(0.1, 1, 0.8)),
    ("linear_schedule",
     lambda: optax.linear_schedule(init_value=0.0, end_value=0.1, transition_steps=4),
     linear(0.0, 0.1, 4)),
    ("warmup_cosine_decay_schedule",
     lambda: optax.warmup_cosine_decay_schedule(
         init_value=0.0, peak_value=0.1, warmup_steps=3, decay_steps=10, end_value=0.0),
     warmup(3, cosine(0.1, 7, 0.0))),
    ("piecewise_constant_schedule",
     lambda: optax.piecewise_constant_schedule(
         init_value=0.1, boundaries_and_scales={3: 0.5, 6: 0.5}),
     piecewise(0.1, {3: 0.5, 6: 0.5})),
]


def verify_schedules():
    for name, make, emulated in SCHEDULES:
        sched = make()
        for n in range(STEPS):
            # optax calls the schedule with the int32 update count.
            got = float(sched(jnp.asarray(n, dtype=jnp.int32)))
            want = emulated(n)
            if abs(got - want) > 2e-17 * abs(want):
                raise SystemExit(f"{name}({n}): optax {got!r}, spec {want!r}")


def verify(name, rows):
    ref = REFS[name]()
    err = max(abs(a - b) for ra, rb in zip(rows, ref) for a, b in zip(ra, rb))
    if not err <= TOL:
        raise SystemExit(f"{name}: spec reimplementation differs from optax by {err:.3e}")
    return err


# ---------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------


def rust_f64(v):
    """17 significant digits in Rust syntax, e.g. `1.2345678901234567e-3`."""
    if not math.isfinite(v):
        raise ValueError(f"non-finite value {v!r}")
    if v == 0.0:
        v = 0.0  # never print a negative zero
    mantissa, exponent = f"{v:.16e}".split("e")
    text = f"{mantissa}e{int(exponent)}"
    assert float(text) == v, (text, v)
    return text


def row(values, indent):
    """A `[f64; 3]` literal laid out as rustfmt does (one element a line).

    `indent` is the indentation of the line holding the opening bracket; the
    result is stable under `cargo fmt` (rows are wider than rustfmt's
    `array_width` of 60, so rustfmt would break them anyway).
    """
    pad = " " * indent
    inner = "".join(f"{pad}    {rust_f64(v)},\n" for v in values)
    return f"[\n{inner}{pad}]"


HEADER = """\
//! Reference trajectories generated by `tools/gen_optimizer_reference.py` (optax {optax}, jax {jax}, float64).
//! Do not edit by hand: rerun the script.
#![allow(clippy::excessive_precision, clippy::approx_constant)]

/// Initial parameters.
pub const P0: [f64; 3] = {p0};

/// Gradient at step k (k = 0..9): `g[k][i] = sin(1.3k + 0.7i)·(1 + 0.1k)`.
pub const GRADS: [[f64; 3]; 10] = [
{grads}
];

/// One optimizer's trajectory: the parameters after each of the 10 steps.
pub struct Trajectory {{
    /// The name (see the script for the exact optax call).
    pub name: &'static str,
    /// Parameters after steps 1..=10.
    pub params: [[f64; 3]; 10],
}}
"""


def render(results):
    out = [HEADER.format(
        optax=optax.__version__, jax=jax.__version__, p0=row(P0, 0),
        grads="\n".join(f"    {row(g, 4)}," for g in GRADS))]
    out.append("/// All trajectories.")
    out.append("pub const TRAJECTORIES: &[Trajectory] = &[")
    for (name, call, _), rows in zip(CASES, results):
        out.append(f"    // {call}")
        out.append("    Trajectory {")
        out.append(f'        name: "{name}",')
        out.append("        params: [")
        for r in rows:
            out.append(f"            {row(r, 12)},")
        out.append("        ],")
        out.append("    },")
    out.append("];")
    return "\n".join(out) + "\n"


def main():
    assert [c[0] for c in CASES] == list(REFS), "case lists out of sync"
    verify_schedules()
    results = []
    worst = 0.0
    for name, _, factory in CASES:
        rows = run_optax(name, factory)
        assert all(math.isfinite(v) for r in rows for v in r), name
        worst = max(worst, verify(name, rows))
        results.append(rows)
    sys.stdout.write(render(results))
    print(
        f"gen_optimizer_reference: {len(CASES)} optimizers x {STEPS} steps "
        f"(optax {optax.__version__}, jax {jax.__version__}); spec "
        f"reimplementation matches optax to {worst:.3e} (tolerance {TOL:g})",
        file=sys.stderr,
    )
    for what, m in MARGINS.items():
        print(f"  margin: {what} >= {m:.3e}", file=sys.stderr)


if __name__ == "__main__":
    main()
