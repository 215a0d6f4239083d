"""JAX (CPU, f32) on `lstm_training_step_f32` of `benches/nn.rs`: one training step of an LSTM
classifier — 32 steps of 16 features, hidden 64 (gates input, forget, cell, output, one bias,
from h₀ = c₀ = 0), its last hidden state through a dense layer to 10 classes, softmax
cross-entropy (mean over the batch of 32), Adam (lr 1e-3, β = (0.9, 0.999), ε = 1e-8) — as
`jit` of forward, backward (`value_and_grad` through `lax.scan`) and update in one function.

The shapes and the work are adroit's; the numbers are not (the inputs are uniform in [−1, 1),
the weights Glorot-uniform as adroit's defaults, from NumPy's generator rather than a port of
adroit's seeded draws): the loss differs, the time does not depend on it. Before timing, the
gradient is checked in f64 against central finite differences of the loss along a random
direction (relative 1e-6). Compilation is excluded; every timed call ends with
`block_until_ready`. Prints the median time per call over `--repeats` timeit repeats; XLA is
limited to `--threads` threads (default 1).

Run: `python3 benches/peers/jax_lstm.py` (about 10 seconds).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_setup import configure  # noqa: E402

args = configure(__doc__)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)  # for the check; the timed step is f32

from timing import make_report  # noqa: E402

report = make_report(args.repeats, args.min_time)

FEATURES, HIDDEN, STEPS, CLASSES, BATCH = 16, 64, 32, 10, 32


def glorot(rng, rows, cols):
    limit = np.sqrt(6.0 / (rows + cols))
    return rng.uniform(-limit, limit, (rows, cols))


def case(rng):
    """Parameters (features × batch layout, as adroit), inputs `steps × features × batch` and
    one-hot labels `classes × batch`."""
    params = {
        "w_ih": glorot(rng, 4 * HIDDEN, FEATURES),
        "w_hh": glorot(rng, 4 * HIDDEN, HIDDEN),
        "b": np.zeros((4 * HIDDEN, 1)),
        "w": glorot(rng, CLASSES, HIDDEN),
        "b_out": np.zeros((CLASSES, 1)),
    }
    x = rng.uniform(-1.0, 1.0, (STEPS, FEATURES, BATCH))
    y = np.eye(CLASSES)[:, np.arange(BATCH) % CLASSES]
    return params, x, y


def loss(params, x, y):
    def cell(carry, x_t):
        h, c = carry
        gates = params["w_ih"] @ x_t + params["b"] + params["w_hh"] @ h
        i, f, g, o = jnp.split(gates, 4, axis=0)
        c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
        h = jax.nn.sigmoid(o) * jnp.tanh(c)
        return (h, c), None

    zeros = jnp.zeros((HIDDEN, x.shape[2]), x.dtype)
    (h, _), _ = jax.lax.scan(cell, (zeros, zeros), x)
    logits = params["w"] @ h + params["b_out"]
    return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits, axis=0), axis=0))


def check_gradient(params, x, y, rng):
    """`grad` against central differences along a random direction, in f64."""
    grad = jax.grad(loss)(params, x, y)
    direction = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    analytic = sum(float(jnp.sum(grad[k] * direction[k])) for k in params)
    h = 1e-6
    plus = {k: v + h * direction[k] for k, v in params.items()}
    minus = {k: v - h * direction[k] for k, v in params.items()}
    numeric = (float(loss(plus, x, y)) - float(loss(minus, x, y))) / (2 * h)
    assert abs(analytic - numeric) <= 1e-6 * abs(numeric), (analytic, numeric)


@jax.jit
def train_step(params, moments, count, x, y):
    value, grad = jax.value_and_grad(loss)(params, x, y)
    count = count + 1
    b1, b2, lr, eps = 0.9, 0.999, 1e-3, 1e-8
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, moments[0], grad)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, moments[1], grad)
    c1, c2 = 1 - b1**count, 1 - b2**count
    params = jax.tree_util.tree_map(
        lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v
    )
    return params, (m, v), count, value


def lstm_step():
    rng = np.random.default_rng(4)
    params, x, y = case(rng)
    check_gradient(params, x, y, rng)
    f32 = lambda a: jnp.asarray(a, jnp.float32)  # noqa: E731
    params = {k: f32(v) for k, v in params.items()}
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    state = [params, (zeros, zeros), jnp.float32(0.0)]
    x, y = f32(x), f32(y)

    def step():
        # The parameters move every call, as the Rust bench's (Adam with a live learning rate).
        state[0], state[1], state[2], value = train_step(state[0], state[1], state[2], x, y)
        value.block_until_ready()

    report("lstm_training_step_f32/jax_jit/16-64x32-10", step)


if __name__ == "__main__":
    print(f"jax {jax.__version__}, numpy {np.__version__}, threads {args.threads}")
    lstm_step()
