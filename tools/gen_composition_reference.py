#!/usr/bin/env python3
"""Reference trajectories for *compositions* of adroit-nn optimisers (clipping, weight decay,
schedules, chains) from Optax (and PyTorch where a case says so), float64.

Usage (from the repository root; `pip install optax==0.2.8 jax==0.10.2 torch numpy`):

    python3 tools/gen_composition_reference.py \
        > crates/adroit-nn/tests/it/optimizer_compositions/reference.rs

Diagnostics (clip triggers, edge cases as Optax and PyTorch see them) go to stderr.
Schedules are called with a float64 step: with an int32 counter Optax's exponential, linear
and joined schedules return float32 rates even with x64 enabled.

Setup: three parameter arrays of shapes 2x3, 3x1, 1x2 (printed column-major, as nalgebra's
from_column_slice), fixed gradient sequences that do not depend on the parameters; steps
0..3 mod 4 alternate large (x3, clipping triggers) and small (x0.15) gradients, and step 6
is all zero.  Each case records the parameters after every step (all arrays concatenated).

Model cases: Chain[Dense(3->4, tanh, bias), Dense(4->2, identity, no bias)], mse (mean) on a
fixed batch; gradients by JAX autodiff; the parameters after every train_step.
"""

import math
import sys

import jax

jax.config.update("jax_enable_x64", True)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

STEPS = 20
SHAPES = [(2, 3), (3, 1), (1, 2)]


def grad_entry(k, j, i):
    if k == 6:
        return 0.0
    s = 3.0 if k % 4 in (0, 1) else 0.15
    return math.sin(0.9 * k + 0.61 * i + 1.7 * j + 0.3) * s


def p0_entry(j, i):
    return 0.3 * math.cos(0.5 * i + j) + 0.1 * j


def as_arrays(fn):
    out = []
    for j, (r, c) in enumerate(SHAPES):
        flat = np.array([fn(j, i) for i in range(r * c)], dtype=np.float64)
        out.append(jnp.asarray(flat.reshape((r, c), order="F")))
    return out


P0 = as_arrays(p0_entry)
GRADS = [as_arrays(lambda j, i, k=k: grad_entry(k, j, i)) for k in range(STEPS)]


def flat(arrs):
    return np.concatenate([np.asarray(a).flatten(order="F") for a in arrs])


def clip_norm_per_array(max_norm):
    """Flux's ClipNorm: each array times min(max/‖t‖, 1)."""

    def init_fn(params):
        return optax.EmptyState()

    def update_fn(updates, state, params=None):
        def f(t):
            n = jnp.sqrt(jnp.sum(t * t))
            return t * jnp.minimum(max_norm / n, 1.0)

        return jax.tree.map(f, updates), state

    return optax.GradientTransformation(init_fn, update_fn)


def f64(schedule):
    """Optax calls a schedule with its int32 step count; exponential/linear/joined schedules
    then come out in float32 even with jax_enable_x64.  Call them with a float64 count."""
    return lambda count: schedule(jnp.asarray(count, jnp.float64))


def staircase_steps(init, transition, rate, upto):
    return {b: rate for b in range(transition, upto + 1, transition)}


CASES = [
    (
        "CLIPGN_ADAMW_WARMCOS",
        lambda: optax.chain(
            optax.clip_by_global_norm(1.0),
            optax.adamw(
                f64(optax.warmup_cosine_decay_schedule(0.0, 0.1, 3, 15, 0.01)),
                b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.05,
            ),
        ),
    ),
    (
        "CLIPVAL_WD_MOMENTUM",
        lambda: optax.chain(
            optax.clip(0.5), optax.add_decayed_weights(0.01), optax.sgd(0.05, momentum=0.9)
        ),
    ),
    (
        "CLIPVAL_WD_NESTEROV_EXP",
        lambda: optax.chain(
            optax.clip(0.5),
            optax.add_decayed_weights(0.01),
            optax.sgd(f64(optax.exponential_decay(0.1, 4, 0.5)), momentum=0.9, nesterov=True),
        ),
    ),
    (
        "SGD_EXP_STAIRCASE",
        lambda: optax.sgd(f64(optax.exponential_decay(0.2, 3, 0.5, staircase=True))),
    ),
    (
        "CLIPGN_ADAM_PIECEWISE",
        lambda: optax.chain(
            optax.clip_by_global_norm(2.0),
            optax.adam(f64(optax.piecewise_constant_schedule(0.1, {3: 0.5, 7: 0.2}))),
        ),
    ),
    (
        "LION_WD_WARMEXP",
        lambda: optax.lion(
            f64(optax.warmup_exponential_decay_schedule(0.0, 0.01, 2, 5, 0.3)),
            b1=0.9, b2=0.99, weight_decay=0.1,
        ),
    ),
    (
        "LION_WD_COSINE",
        lambda: optax.chain(
            optax.clip_by_global_norm(1.0),
            optax.lion(f64(optax.cosine_decay_schedule(0.01, 10, 0.1)), b1=0.9, b2=0.99,
                       weight_decay=0.1),
        ),
    ),
    (
        "CLIPNORM_RMSPROP_CENTRED_LINEAR",
        lambda: optax.chain(
            clip_norm_per_array(1.0),
            optax.rmsprop(f64(optax.linear_schedule(0.05, 0.005, 10)), decay=0.9, eps=1e-8,
                          centered=True),
        ),
    ),
    (
        "WD_ADAM_L2",
        lambda: optax.chain(optax.add_decayed_weights(0.1), optax.adam(0.01)),
    ),
    (
        "SGD_WARMUP_STEP",
        lambda: optax.sgd(
            f64(optax.join_schedules(
                [optax.linear_schedule(0.0, 0.1, 4),
                 optax.piecewise_constant_schedule(0.1, {3: 0.1})],
                [4],
            ))
        ),
    ),
    (
        "CLIPGN_ADAMW_WARMUP_CONST",
        lambda: optax.chain(
            optax.clip_by_global_norm(0.5),
            optax.adamw(
                f64(optax.join_schedules(
                    [optax.linear_schedule(0.0, 0.02, 5), optax.constant_schedule(0.02)], [5]
                )),
                weight_decay=1e-4,
            ),
        ),
    ),
    # Masks: Optax's `mask` argument (decay on some arrays only) and `masked` (a rule on some
    # arrays only; the others' updates pass through unchanged).
    (
        "ADAMW_DECAY_MASK",
        lambda: optax.adamw(0.05, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.2,
                            mask=[True, False, True]),
    ),
    (
        "LION_DECAY_MASK",
        lambda: optax.lion(0.01, b1=0.9, b2=0.99, weight_decay=0.3, mask=[False, True, True]),
    ),
    (
        "MASKED_WD_MOMENTUM",
        lambda: optax.chain(
            optax.masked(optax.add_decayed_weights(0.1), [True, False, True]),
            optax.sgd(0.05, momentum=0.9),
        ),
    ),
    (
        "MASKED_ADAM_THEN_SGD",
        lambda: optax.chain(
            optax.masked(optax.adam(0.01), [False, True, False]),
            optax.masked(optax.sgd(0.1), [True, False, True]),
        ),
    ),
    (
        # Nested: Optax indexes the inner decay mask over the whole model ([T, F, T]); adroit's
        # inner rule sees the two selected arrays, its mask restricted with Mask::within.
        "NESTED_MASKS",
        lambda: optax.chain(
            optax.masked(optax.adamw(0.01, weight_decay=0.5, mask=[True, False, True]),
                         [True, True, False]),
            optax.masked(optax.sgd(0.1), [False, False, True]),
        ),
    ),
    (
        "CLIPNORM_RMSPROP_EXP",
        lambda: optax.chain(
            clip_norm_per_array(0.7),
            optax.rmsprop(f64(optax.exponential_decay(0.01, 2, 0.8)), decay=0.95, eps=1e-6),
        ),
    ),
]


def run(factory):
    opt = factory()
    params = list(P0)
    state = opt.init(params)
    traj = []
    for k in range(STEPS):
        updates, state = opt.update(list(GRADS[k]), state, params)
        params = optax.apply_updates(params, updates)
        traj.append(flat(params))
    return traj


def schedule_values():
    s = {
        "WARMCOS": optax.warmup_cosine_decay_schedule(0.0, 0.1, 3, 15, 0.01),
        "EXP": optax.exponential_decay(0.1, 4, 0.5),
        "STAIR": optax.exponential_decay(0.2, 3, 0.5, staircase=True),
        "PIECEWISE": optax.piecewise_constant_schedule(0.1, {3: 0.5, 7: 0.2}),
        "WARMEXP": optax.warmup_exponential_decay_schedule(0.0, 0.01, 2, 5, 0.3),
        "COSINE": optax.cosine_decay_schedule(0.01, 10, 0.1),
        "LINEAR": optax.linear_schedule(0.05, 0.005, 10),
    }
    return {name: [float(f(t)) for t in range(STEPS + 5)] for name, f in s.items()}


# ---------------------------------------------------------------------------
# Model cases
# ---------------------------------------------------------------------------

X = np.array([[math.sin(1.0 + 0.3 * i + 0.7 * j) for j in range(5)] for i in range(3)])
Y = np.array([[math.cos(0.2 + 0.5 * i - 0.4 * j) for j in range(5)] for i in range(2)])
W1 = np.array([[0.4 * math.sin(0.8 * i + 0.3 * j + 0.1) for j in range(3)] for i in range(4)])
B1 = np.array([[0.1 * (i - 1.5)] for i in range(4)])
W2 = np.array([[0.5 * math.cos(0.6 * i + 0.9 * j) for j in range(4)] for i in range(2)])
MODEL_P0 = [jnp.asarray(W1), jnp.asarray(B1), jnp.asarray(W2)]


def model_loss(p):
    w1, b1, w2 = p
    h = jnp.tanh(w1 @ X + b1)
    return jnp.mean((w2 @ h - Y) ** 2)


MODEL_STEPS = 12
MODEL_CASES = [
    (
        "MODEL_CLIPGN_ADAMW_WARMCOS",
        lambda: optax.chain(
            optax.clip_by_global_norm(0.5),
            optax.adamw(f64(optax.warmup_cosine_decay_schedule(0.0, 0.05, 2, 10, 0.005)),
                        weight_decay=0.1),
        ),
    ),
    (
        "MODEL_SGD_PIECEWISE",
        lambda: optax.sgd(f64(optax.piecewise_constant_schedule(0.3, {2: 0.5, 5: 0.5}))),
    ),
    (
        "MODEL_ADAMW_DECAY_WEIGHTS",
        lambda: optax.adamw(0.03, weight_decay=0.3, mask=[True, False, True]),
    ),
    (
        "MODEL_WD_NESTEROV",
        lambda: optax.chain(optax.add_decayed_weights(0.05),
                            optax.sgd(0.1, momentum=0.8, nesterov=True)),
    ),
]


def run_model(factory):
    opt = factory()
    params = list(MODEL_P0)
    state = opt.init(params)
    traj, losses = [], []
    vg = jax.value_and_grad(model_loss)
    for _ in range(MODEL_STEPS):
        loss, g = vg(params)
        losses.append(float(loss))
        updates, state = opt.update(list(g), state, params)
        params = optax.apply_updates(params, updates)
        traj.append(flat(params))
    return traj, losses


# ---------------------------------------------------------------------------
# PyTorch cases (the conventions adroit's docs claim to share with PyTorch)
# ---------------------------------------------------------------------------


def torch_cases():
    try:
        import torch
    except ImportError:
        return {}
    torch.set_default_dtype(torch.float64)
    out = {}

    def go(make_opt, make_sched, clip=None):
        ps = [torch.tensor(np.asarray(p), dtype=torch.float64, requires_grad=True) for p in P0]
        opt = make_opt(ps)
        sched = make_sched(opt) if make_sched else None
        traj = []
        for k in range(STEPS):
            for p, g in zip(ps, GRADS[k]):
                p.grad = torch.tensor(np.asarray(g), dtype=torch.float64)
            if clip is not None:
                clip(ps)
            opt.step()
            if sched:
                sched.step()
            traj.append(np.concatenate([p.detach().numpy().flatten(order="F") for p in ps]))
        return traj

    # SGD(momentum, weight_decay) with StepLR = chain(WeightDecay, Momentum(Step schedule))
    out["TORCH_SGD_MOM_WD_STEPLR"] = go(
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01),
        lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5),
    )
    out["TORCH_SGD_NESTEROV_WD_EXPLR"] = go(
        lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True),
        lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.8),
    )
    # AdamW (decoupled, decay multiplied by lr) with CosineAnnealingLR
    out["TORCH_ADAMW_COSINE"] = go(
        lambda ps: torch.optim.AdamW(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
    )
    # Adam(weight_decay) is L2: chain(WeightDecay, Adam)
    out["TORCH_ADAM_L2"] = go(
        lambda ps: torch.optim.Adam(ps, lr=0.01, weight_decay=0.1), None
    )
    # AdamW with two parameter groups: decay on the first and third arrays only
    out["TORCH_ADAMW_GROUPS"] = go(
        lambda ps: torch.optim.AdamW(
            [{"params": [ps[0], ps[2]]}, {"params": [ps[1]], "weight_decay": 0.0}],
            lr=0.05, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.2,
        ),
        None,
    )
    # clip_grad_norm_ then SGD: PyTorch's max/(norm + 1e-6) (adroit documents the difference)
    out["TORCH_CLIPGN_SGD"] = go(
        lambda ps: torch.optim.SGD(ps, lr=0.1),
        None,
        clip=lambda ps: torch.nn.utils.clip_grad_norm_(ps, 1.0),
    )
    return out


# ---------------------------------------------------------------------------
# Diagnostics: distance of the discontinuous decisions from their switch points
# ---------------------------------------------------------------------------


def diagnostics():
    for k in range(STEPS):
        g = flat(GRADS[k])
        gn = float(np.sqrt(np.sum(g * g)))
        per = [float(np.sqrt(np.sum(np.asarray(a) ** 2))) for a in GRADS[k]]
        print(f"step {k}: global norm {gn:.6g}; per-array {['%.4g' % x for x in per]}; "
              f"max|g| {np.max(np.abs(g)):.4g}", file=sys.stderr)


def edge_report():
    """Optax / PyTorch behaviour at the clipping edges (stderr, informational)."""
    tx = optax.clip_by_global_norm(5.0)
    u, _ = tx.update([jnp.array([3.0]), jnp.array([4.0])], tx.init(None))
    print(f"optax clip_by_global_norm(5) on [3],[4] (norm exactly 5): {[float(x[0]) for x in u]}",
          file=sys.stderr)
    tx = optax.clip_by_global_norm(0.0)
    u, _ = tx.update([jnp.zeros(2)], tx.init(None))
    print(f"optax clip_by_global_norm(0) on zeros: {np.asarray(u[0])}", file=sys.stderr)
    try:
        import torch
        ps = [torch.zeros(1, dtype=torch.float64, requires_grad=True) for _ in range(2)]
        ps[0].grad = torch.tensor([3.0], dtype=torch.float64)
        ps[1].grad = torch.tensor([4.0], dtype=torch.float64)
        torch.nn.utils.clip_grad_norm_(ps, 5.0)
        print(f"torch clip_grad_norm_(5) on [3],[4]: {[float(p.grad[0]) for p in ps]}",
              file=sys.stderr)
    except ImportError:
        pass
    # Lion's sign argument: distance from 0 (a flip would be a false mismatch)
    for clip in (None, 1.0):
        m = np.zeros(sum(r * c for r, c in SHAPES))
        smallest = np.inf
        for k in range(STEPS):
            g = flat(GRADS[k])
            n = np.sqrt(np.sum(g * g))
            if clip is not None and n > clip:
                g = g * (clip / n)
            smallest = min(smallest, np.abs(0.9 * m + 0.1 * g).min())
            m = 0.99 * m + 0.01 * g
        print(f"Lion sign argument (clip={clip}): smallest |.| = {smallest:.3g}", file=sys.stderr)


def emit(name, rows, out):
    n = len(rows[0])
    out.append(f"pub const {name}: [[f64; {n}]; {len(rows)}] = [")
    for r in rows:
        out.append("    [" + ", ".join(f"{float(v):.17e}" for v in r) + "],")
    out.append("];")


def emit1(name, vals, out):
    out.append(f"pub const {name}: [f64; {len(vals)}] = [" +
               ", ".join(f"{float(v):.17e}" for v in vals) + "];")


def main():
    diagnostics()
    edge_report()
    out = [
        f"// Generated by tools/gen_composition_reference.py (optax {optax.__version__}, "
        f"jax {jax.__version__}, float64).",
        "#![allow(clippy::excessive_precision, clippy::approx_constant, dead_code)]",
        f"pub const SHAPES: [(usize, usize); {len(SHAPES)}] = {SHAPES!r};".replace("[(", "[(")
        .replace("= [", "= ["),
    ]
    emit1("P0", flat(P0), out)
    emit("GRADS", [flat(g) for g in GRADS], out)
    for name, f in CASES:
        emit(name, run(f), out)
    for name, vals in schedule_values().items():
        emit1("SCHED_" + name, vals, out)
    emit1("MODEL_X", X.flatten(order="F"), out)
    emit1("MODEL_Y", Y.flatten(order="F"), out)
    emit1("MODEL_P0", flat(MODEL_P0), out)
    for name, f in MODEL_CASES:
        traj, losses = run_model(f)
        emit(name, traj, out)
        emit1(name + "_LOSS", losses, out)
    for name, traj in torch_cases().items():
        emit(name, traj, out)
    print("\n".join(out))


if __name__ == "__main__":
    main()
