"""JAX (CPU, f64) on `gp_hyperparameter_hessian` of `benches/reverse.rs`, with the same inputs
(`stdrng.py` reproduces the Rust seed bit for bit): the 3 × 3 Hessian of a Gaussian process's
log marginal likelihood `−½ yᵀK⁻¹y − Σ ln Lᵢᵢ` over 20 points in its hyperparameters
`θ = (ln ℓ, ln σ_f², ln σ_n²)` (squared-exponential kernel plus noise, through a Cholesky
factor and a triangular solve), by `jit(hessian)` (forward-over-reverse), and the primal alone
(`jit`).

Before timing, the Hessian is checked for symmetry and against central differences of
`jit(grad)` (step 1e-5) within 1e-6 relative to its largest entry. Compilation is excluded;
every timed call ends with `block_until_ready`. Prints the median time per call over
`--repeats` timeit repeats; XLA is limited to `--threads` threads (default 1).

Run: `python3 benches/peers/jax_gp_hessian.py` (about 10 seconds).
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


def gp_hyperparameter_hessian():
    rng = StdRng(0x6B9)
    x = rng.uniform_f64(-3.0, 3.0, 20)
    # the Rust bench draws the noise after all of x, one per point in order
    y = np.sin(x) + 0.1 * rng.uniform_f64(-1.0, 1.0, 20)
    x_j, y_j = jnp.asarray(x), jnp.asarray(y)

    def loss(theta):
        length, signal, noise = jnp.exp(theta[0]), jnp.exp(theta[1]), jnp.exp(theta[2])
        d = (x_j[:, None] - x_j[None, :]) / length
        k = signal * jnp.exp(-0.5 * d * d) + noise * jnp.eye(20)
        l = jnp.linalg.cholesky(k)
        z = jsl.solve_triangular(l, y_j, lower=True)
        return -0.5 * jnp.dot(z, z) - jnp.sum(jnp.log(jnp.diag(l)))

    theta = jnp.asarray([0.1, -0.2, -2.0])
    hessian = jax.jit(jax.hessian(loss))
    grad = jax.jit(jax.grad(loss))
    primal = jax.jit(loss)
    h = np.asarray(hessian(theta))
    step = 1e-5
    fd = np.stack(
        [
            (np.asarray(grad(theta.at[j].add(step))) - np.asarray(grad(theta.at[j].add(-step))))
            / (2 * step)
            for j in range(3)
        ],
        axis=1,
    )
    scale = np.max(np.abs(h))
    assert np.max(np.abs(h - h.T)) <= 1e-12 * scale, h
    assert np.max(np.abs(h - fd)) <= 1e-6 * scale, (h, fd)
    group = "gp_hyperparameter_hessian"
    report(f"{group}/jax_jit_primal", lambda: primal(theta).block_until_ready())
    report(f"{group}/jax_jit_hessian", lambda: hessian(theta).block_until_ready())


gp_hyperparameter_hessian()
