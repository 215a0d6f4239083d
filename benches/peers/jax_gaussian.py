"""JAX (CPU, f64) on `gaussian_likelihood_200` of `benches/reverse.rs`, with the same inputs
(`stdrng.py` reproduces the Rust seed bit for bit): the gradient in K of the Gaussian
log-likelihood −½ yᵀK⁻¹y − ½ ln det K for a 200 × 200 squared-exponential covariance plus
0.01·I, through a Cholesky factor and a triangular solve (`jit(value_and_grad)`), and the
primal alone (`jit`).

Before timing, the gradient is checked against the closed form ½(ααᵀ − K⁻¹), α = K⁻¹y, within
1e-8 relative to its largest entry. JAX's `cholesky` symmetrises its input and its gradient is
symmetric, as adroit's. Compilation is excluded; every timed call ends with
`block_until_ready`. Prints the median time per call over `--repeats` timeit repeats; XLA is
limited to `--threads` threads (default 1).

Run: `python3 benches/peers/jax_gaussian.py` (about 10 seconds).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from jax_setup import configure  # noqa: E402

args = configure(__doc__)

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jax.scipy.linalg as jsl  # noqa: E402
import numpy as np  # noqa: E402

jax.config.update("jax_enable_x64", True)

from stdrng import StdRng  # noqa: E402
from timing import make_report  # noqa: E402

report = make_report(args.repeats, args.min_time)


def gaussian_likelihood():
    n = 200
    x = StdRng(0x6A55).uniform_f64(-2.0, 2.0, n)
    k = np.exp(-((x[:, None] - x[None, :]) ** 2) / 0.5) + 0.01 * np.eye(n)
    y = np.sin(3.0 * x).reshape(n, 1)
    y_j = jnp.asarray(y)

    def loss(k):
        l = jnp.linalg.cholesky(k)
        z = jsl.solve_triangular(l, y_j, lower=True)
        return -0.5 * jnp.sum(z * z) - jnp.sum(jnp.log(jnp.diag(l)))

    value_and_grad = jax.jit(jax.value_and_grad(loss))
    primal = jax.jit(loss)
    k_j = jnp.asarray(k)
    _, g = value_and_grad(k_j)
    inverse = np.linalg.inv(k)
    alpha = inverse @ y
    closed = 0.5 * (alpha @ alpha.T - inverse)
    err = np.max(np.abs(np.asarray(g) - closed)) / np.max(np.abs(closed))
    assert err < 1e-8, err
    group = "gaussian_likelihood_200"
    report(f"{group}/jax_jit_primal", lambda: primal(k_j).block_until_ready())
    report(f"{group}/jax_jit_value_and_grad",
           lambda: jax.block_until_ready(value_and_grad(k_j)))


if __name__ == "__main__":
    print(f"jax {jax.__version__}, numpy {np.__version__}, threads {args.threads}")
    gaussian_likelihood()
