"""JAX (CPU, f64) on the second-order matrix workloads of `benches/reverse.rs`, with the same
inputs (`stdrng.py` reproduces the Rust seeds bit for bit):

- `dense_layer_512x512_batch64`: the gradient of ‖tanh(W·X + b)‖² with respect to W (512 × 512)
  and b (512 × 1) for X 512 × 64 (`jit(grad)`), and its Hessian-vector product along
  (V_W, V_b) (`jit` of `jvp` of `grad`: forward-over-reverse, as adroit's `matrix::hvp`);
- `mlp_4_16_3_batch16_second_order`: a 4-16-3 network's softmax cross-entropy (tanh hidden
  layer, mean over a batch of 16, sample j of class j mod 3) as a function of its 131 weights
  and biases: gradient, Hessian-vector product and the 131 × 131 Hessian (`jit(hessian)` of
  the flattened parameters).

Before timing, each Hessian-vector product is checked against the dense Hessian (the layer's
on a 16 × 16 slice of W, by `jit(hessian)`) and the MLP's Hessian for symmetry, within 1e-12.
Compilation is excluded; every timed call ends with `block_until_ready`. Prints the median
time per call over `--repeats` timeit repeats; XLA is limited to `--threads` threads (default 1).

Run: `python3 benches/peers/jax_second_order.py` (about 20 seconds).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_setup import configure  # noqa: E402

args = configure(__doc__)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402

jax.config.update("jax_enable_x64", True)

from stdrng import StdRng  # noqa: E402
from timing import make_report  # noqa: E402

report = make_report(args.repeats, args.min_time)


def column_major(rng, rows, cols, lo, hi):
    """`DMatrix::from_fn(rows, cols, |_, _| rng.random_range(lo..hi))`: drawn column by column."""
    return rng.uniform_f64(lo, hi, rows * cols).reshape(cols, rows).T.copy()


def dense_layer():
    rng = StdRng(0xD15E)
    w, b, x = (column_major(rng, r, c, -0.05, 0.05) for r, c in ((512, 512), (512, 1), (512, 64)))
    v_w, v_b = (column_major(rng, r, c, -0.05, 0.05) for r, c in ((512, 512), (512, 1)))
    x = jnp.asarray(x)

    def loss(w, b):
        h = jnp.tanh(w @ x + b)
        return jnp.sum(h * h)

    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    hvp = jax.jit(lambda w, b, vw, vb: jax.jvp(lambda w, b: grad(w, b), (w, b), (vw, vb))[1])
    w, b, v_w, v_b = map(jnp.asarray, (w, b, v_w, v_b))
    # H·v against the dense Hessian on a 16 × 16 block of W (the other entries held fixed)
    block = jnp.zeros_like(v_w).at[:16, :16].set(v_w[:16, :16])
    got = hvp(w, b, block, jnp.zeros_like(v_b))[0][:16, :16]

    def loss_block(part):
        return loss(w.at[:16, :16].set(part), b)

    h = jax.jit(jax.hessian(loss_block))(w[:16, :16]).reshape(256, 256)
    want = (h @ v_w[:16, :16].reshape(256)).reshape(16, 16)
    np.testing.assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-12, atol=1e-12)
    group = "dense_layer_512x512_batch64"
    report(f"{group}/jax_jit_grad", lambda: jax.block_until_ready(grad(w, b)))
    report(f"{group}/jax_jit_hvp", lambda: jax.block_until_ready(hvp(w, b, v_w, v_b)))


def mlp():
    rng = StdRng(0x4E55)
    shapes = ((16, 4), (16, 1), (3, 16), (3, 1))
    params = [column_major(rng, r, c, -0.5, 0.5) for r, c in shapes]
    direction = [column_major(rng, r, c, -0.5, 0.5) for r, c in shapes]
    x = jnp.asarray(column_major(rng, 4, 16, -0.5, 0.5))
    labels = jnp.arange(16) % 3

    def loss(p):
        h = jnp.tanh(p[0] @ x + p[1])
        logits = p[2] @ h + p[3]
        return -jnp.mean(jax.nn.log_softmax(logits, axis=0)[labels, jnp.arange(16)])

    params = [jnp.asarray(p) for p in params]
    direction = [jnp.asarray(v) for v in direction]
    flat, unravel = ravel_pytree(params)
    flat_v, _ = ravel_pytree(direction)
    grad = jax.jit(jax.grad(loss))
    hvp = jax.jit(lambda p, v: jax.jvp(grad, (p,), (v,))[1])
    hessian = jax.jit(jax.hessian(lambda f: loss(unravel(f))))
    h = hessian(flat)
    assert h.shape == (131, 131)
    np.testing.assert_allclose(np.asarray(h), np.asarray(h.T), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(ravel_pytree(hvp(params, direction))[0]),
                               np.asarray(h @ flat_v), rtol=1e-12, atol=1e-12)
    group = "mlp_4_16_3_batch16_second_order"
    report(f"{group}/jax_jit_grad", lambda: jax.block_until_ready(grad(params)))
    report(f"{group}/jax_jit_hvp", lambda: jax.block_until_ready(hvp(params, direction)))
    report(f"{group}/jax_jit_hessian", lambda: hessian(flat).block_until_ready())


if __name__ == "__main__":
    print(f"jax {jax.__version__}, numpy {np.__version__}, threads {args.threads}")
    dense_layer()
    mlp()
