"""HIPS autograd (NumPy, eager, reverse mode by operator overloading) on the workloads of
`benches/peers.rs` and `benches/nn.rs`, with the same inputs (`stdrng.py` reproduces the Rust
seeds bit for bit), f64 except the MLP:

- `chain_10k_points`: value and derivative of `f(x) = ln(sin(x)·eˣ/(1 + x²) + 2)^1.5` at each of
  10⁴ points in [0.1, 2) per call (vectorised over the points: one `make_vjp` and one pullback
  of ones; primal: the same evaluation on plain NumPy arrays);
- `rosenbrock_gradient`: extended-Rosenbrock gradient (`grad`; and the primal) for n = 2, 10,
  100, 10⁴, 10⁶;
- `rosenbrock_hessian`: its dense Hessian for n = 10 and 100 (`hessian`);
- `jacobian_100_to_100`: the dense Jacobian of the ring map `yᵢ = sin(xᵢ)·xᵢ₊₁ + xᵢ₋₁²`
  (wrap-around), n = 100 (`jacobian`, one pullback per output; and the primal);
- `mlp_training_step_f32`: an MLP training step (forward, backward, SGD update; f32; softmax
  cross-entropy, mean over the batch).
Every derivative is checked against the hand-written one (NumPy) before it is timed.

Prints the median time per call over `--repeats` timeit repeats. NumPy's BLAS (the MLP's
matrix products) is limited to `--threads` threads (default 1) through the usual environment
variables, set before NumPy is imported.

Run: `python3 benches/peers/autograd_bench.py` (about a minute).
"""

import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
parser.add_argument("--repeats", type=int, default=25, help="timeit repeats (default 25)")
parser.add_argument("--min-time", type=float, default=0.05, help="seconds per repeat (default 0.05)")
args = parser.parse_args()

for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = str(args.threads)

import autograd  # noqa: E402
import autograd.numpy as anp  # noqa: E402
import numpy as np  # noqa: E402
from autograd.scipy.special import logsumexp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import (  # noqa: E402
    chain_derivative_np,
    ring_jacobian_np,
    rosenbrock_gradient_np,
    rosenbrock_hessian_np,
)
from stdrng import mlp_case, points  # noqa: E402
from timing import make_report  # noqa: E402
from workloads import bind  # noqa: E402

report = make_report(args.repeats, args.min_time)


rosenbrock, chain, ring = bind(anp)


def main():
    print(f"autograd (HIPS) {autograd_version()}, numpy {np.__version__}, threads {args.threads}")
    xs = points(10_000, 0.1, 2.0)
    want_value, want_derivative = chain_derivative_np(xs)

    def chain_value_and_derivative():
        pullback, value = autograd.make_vjp(chain)(xs)
        return value, pullback(np.ones_like(value))  # dy_i/dx_j = 0 for i ≠ j

    value, derivative = chain_value_and_derivative()
    assert value.dtype == np.float64 and value.shape == (10_000,)
    np.testing.assert_allclose(value, want_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(derivative, want_derivative, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(chain(xs), want_value, rtol=1e-12, atol=1e-12)
    report("chain_10k_points/autograd_primal", lambda: chain(xs))
    report("chain_10k_points/autograd_make_vjp", chain_value_and_derivative)

    grad = autograd.grad(rosenbrock)
    for n in (2, 10, 100, 10_000, 1_000_000):
        x = points(n)
        np.testing.assert_allclose(grad(x), rosenbrock_gradient_np(x), rtol=1e-12, atol=1e-12)
        report(f"rosenbrock_gradient/autograd_primal/{n}", lambda: rosenbrock(x))
        report(f"rosenbrock_gradient/autograd_grad/{n}", lambda: grad(x))

    hess = autograd.hessian(rosenbrock)
    for n in (10, 100):
        x = points(n)
        np.testing.assert_allclose(hess(x), rosenbrock_hessian_np(x), rtol=1e-12, atol=1e-12)
        report(f"rosenbrock_hessian/autograd_hessian/{n}", lambda: hess(x))

    x = points(100)
    jac = autograd.jacobian(ring)
    np.testing.assert_allclose(jac(x), ring_jacobian_np(x), rtol=1e-12, atol=1e-12)
    report("jacobian_100_to_100/autograd_primal", lambda: ring(x))
    report("jacobian_100_to_100/autograd_jacobian", lambda: jac(x))

    lr = np.float32(1e-3)

    def loss(params, x, y):
        h = x
        for w, b in params[:-1]:
            h = anp.maximum(anp.dot(h, w.T) + b, 0.0)
        w, b = params[-1]
        logits = anp.dot(h, w.T) + b
        log_probabilities = logits - logsumexp(logits, axis=1, keepdims=True)
        return -anp.mean(anp.sum(y * log_probabilities, axis=1))

    value_and_grad = autograd.value_and_grad(loss)
    for sizes, batch in (([4, 16, 3], 16), ([784, 128, 10], 64), ([784, 512, 512, 10], 128)):
        x, y, params = mlp_case(sizes, batch)
        state = {"params": [(w, b) for w, b in params]}
        assert state["params"][0][0].dtype == np.float32

        def train_step():
            value, grads = value_and_grad(state["params"], x, y)
            state["params"] = [
                (w - lr * gw, b - lr * gb) for (w, b), (gw, gb) in zip(state["params"], grads)
            ]
            return value

        name = "-".join(map(str, sizes))
        report(f"mlp_training_step_f32/autograd/{name}", train_step)


def autograd_version():
    try:
        from importlib.metadata import version

        return version("autograd")
    except Exception:  # noqa: BLE001 (metadata missing: still run)
        return "unknown"


if __name__ == "__main__":
    main()
