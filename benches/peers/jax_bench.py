"""JAX (CPU) on the workloads of `benches/peers.rs` and `benches/nn.rs`, with the same inputs
(`stdrng.py` reproduces the Rust seeds bit for bit), f64 except the MLP:

- `chain_10k_points`: value and derivative of `f(x) = ln(sin(x)·eˣ/(1 + x²) + 2)^1.5` at each of
  10⁴ points in [0.1, 2) per call (`jit(vmap(value_and_grad(f)))`; primal `jit(vmap(f))`);
- `rosenbrock_gradient`: extended-Rosenbrock gradient (`jit(grad)`, primal `jit(f)`) for
  n = 2, 10, 100, 10⁴, 10⁶;
- `rosenbrock_hessian`: its dense Hessian for n = 10 and 100 (`jit(hessian)`);
- `jacobian_100_to_100`: the dense Jacobian of the ring map `yᵢ = sin(xᵢ)·xᵢ₊₁ + xᵢ₋₁²`
  (wrap-around), n = 100 (`jit(jacfwd)`, `jit(jacrev)`; primal `jit(f)`);
- `mlp_training_step_f32`: an MLP training step (forward, backward, SGD update; f32; softmax
  cross-entropy, mean over the batch);
- `cnn_training_step_f32`: the same for a 3 × 3 convolution to 8 channels (padding 1, ReLU), a
  2 × 2 max pool and a dense layer to 10 classes on 64 images of 1 × 28 × 28 (and its forward
  pass alone, `jit`).
Every derivative is checked against the hand-written one (NumPy) before it is timed.

Compilation is excluded (every function is called until compiled before timing) and every timed
call ends with `block_until_ready`. Prints the median time per call over `--repeats` timeit
repeats. XLA is limited to `--threads` threads (default 1) through XLA_FLAGS, set before `jax`
is imported.

Run: `python3 benches/peers/jax_bench.py` (about 45 seconds).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_setup import configure  # noqa: E402

args = configure(__doc__)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)  # all but the MLP are f64, as in Rust

from reference import (  # noqa: E402
    chain_derivative_np,
    ring_jacobian_np,
    rosenbrock_gradient_np,
    rosenbrock_hessian_np,
)
from stdrng import cnn_case, mlp_case, points  # noqa: E402
from timing import make_report  # noqa: E402
from workloads import bind  # noqa: E402


report = make_report(args.repeats, args.min_time)


rosenbrock, chain, ring = bind(jnp)


def main():
    print(f"jax {jax.__version__}, jaxlib {jax.lib.__version__}, numpy {np.__version__}, "
          f"devices {jax.devices()}, threads {args.threads}")
    xs = points(10_000, 0.1, 2.0)
    want_value, want_derivative = chain_derivative_np(xs)
    xs = jnp.asarray(xs)
    chain_primal = jax.jit(jax.vmap(chain))
    chain_vg = jax.jit(jax.vmap(jax.value_and_grad(chain)))
    value, derivative = chain_vg(xs)
    assert value.dtype == jnp.float64 and value.shape == (10_000,)
    np.testing.assert_allclose(np.asarray(value), want_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(derivative), want_derivative, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(np.asarray(chain_primal(xs)), want_value, rtol=1e-12, atol=1e-12)
    report("chain_10k_points/jax_jit_vmap_primal", lambda: chain_primal(xs).block_until_ready())
    report("chain_10k_points/jax_jit_vmap_value_and_grad",
           lambda: jax.block_until_ready(chain_vg(xs)))

    primal = jax.jit(rosenbrock)
    grad = jax.jit(jax.grad(rosenbrock))
    for n in (2, 10, 100, 10_000, 1_000_000):
        x = jnp.asarray(points(n))
        np.testing.assert_allclose(np.asarray(grad(x)), rosenbrock_gradient_np(points(n)),
                                   rtol=1e-12, atol=1e-12)
        report(f"rosenbrock_gradient/jax_jit_primal/{n}", lambda: primal(x).block_until_ready())
        report(f"rosenbrock_gradient/jax_jit_grad/{n}", lambda: grad(x).block_until_ready())

    hess = jax.jit(jax.hessian(rosenbrock))
    for n in (10, 100):
        x = jnp.asarray(points(n))
        np.testing.assert_allclose(np.asarray(hess(x)), rosenbrock_hessian_np(points(n)),
                                   rtol=1e-12, atol=1e-12)
        report(f"rosenbrock_hessian/jax_jit_hessian/{n}", lambda: hess(x).block_until_ready())

    x = jnp.asarray(points(100))
    want = ring_jacobian_np(points(100))
    ring_primal = jax.jit(ring)
    jacfwd, jacrev = jax.jit(jax.jacfwd(ring)), jax.jit(jax.jacrev(ring))
    for jac in (jacfwd, jacrev):
        np.testing.assert_allclose(np.asarray(jac(x)), want, rtol=1e-12, atol=1e-12)
    report("jacobian_100_to_100/jax_jit_primal", lambda: ring_primal(x).block_until_ready())
    report("jacobian_100_to_100/jax_jit_jacfwd", lambda: jacfwd(x).block_until_ready())
    report("jacobian_100_to_100/jax_jit_jacrev", lambda: jacrev(x).block_until_ready())

    lr = 1e-3

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = jax.nn.relu(h @ w.T + b)
        w, b = params[-1]
        logits = h @ w.T + b
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(logits, axis=1), axis=1))

    @jax.jit
    def step(params, x, y):
        value, grads = jax.value_and_grad(loss)(params, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads), value

    for sizes, batch in (([4, 16, 3], 16), ([784, 128, 10], 64), ([784, 512, 512, 10], 128)):
        x, y, params = mlp_case(sizes, batch)
        x, y = jnp.asarray(x), jnp.asarray(y)
        state = {"params": [(jnp.asarray(w), jnp.asarray(b)) for w, b in params]}
        assert state["params"][0][0].dtype == jnp.float32

        def train_step():
            state["params"], value = step(state["params"], x, y)
            jax.block_until_ready((state["params"], value))

        name = "-".join(map(str, sizes))
        report(f"mlp_training_step_f32/jax_jit/{name}", train_step)

    xs, labels, init = cnn_case()
    x = jnp.asarray(xs)
    y = jax.nn.one_hot(jnp.asarray(labels), 10, dtype=jnp.float32)

    def cnn_logits(params, x):
        w, b, wd, bd = params
        z = jax.lax.conv_general_dilated(x, w, (1, 1), ((1, 1), (1, 1)))
        h = jax.nn.relu(z + b[None, :, None, None])
        h = jax.lax.reduce_window(h, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
        return h.reshape(h.shape[0], -1) @ wd.T + bd

    def cnn_loss(params, x, y):
        return -jnp.mean(jnp.sum(y * jax.nn.log_softmax(cnn_logits(params, x), axis=1), axis=1))

    @jax.jit
    def cnn_step(params, x, y):
        value, grads = jax.value_and_grad(cnn_loss)(params, x, y)
        return [p - lr * g for p, g in zip(params, grads)], value

    cnn_forward = jax.jit(cnn_logits)
    cnn_state = {"params": [jnp.asarray(p) for p in init]}
    # adroit's loss at these parameters (`train_step` with a zero learning rate): 2.4541576
    assert abs(float(cnn_loss(cnn_state["params"], x, y)) - 2.4541576) < 1e-5

    def cnn_train_step():
        cnn_state["params"], value = cnn_step(cnn_state["params"], x, y)
        jax.block_until_ready((cnn_state["params"], value))

    report("cnn_training_step_f32/jax_jit_forward/conv8-pool-dense",
           lambda: jax.block_until_ready(cnn_forward(cnn_state["params"], x)))
    report("cnn_training_step_f32/jax_jit/conv8-pool-dense", cnn_train_step)


if __name__ == "__main__":
    main()
