"""Hand-written derivatives of the peer workloads in NumPy (f64), transcriptions of the Rust
ones in `benches/src/lib.rs` and `benches/peers.rs`: each Python peer checks its results
against these before timing."""

import numpy as np


def rosenbrock_gradient_np(x):
    """Hand-written gradient of `rosenbrock` (`rosenbrock_gradient` of `benches/src/lib.rs`)."""
    a, b = x[0::2], x[1::2]
    u, v = b - a * a, 1.0 - a
    g = np.empty_like(x)
    g[0::2], g[1::2] = -400.0 * u * a - 2.0 * v, 200.0 * u
    return g


def rosenbrock_hessian_np(x):
    """Hand-written dense Hessian of `rosenbrock` (`rosenbrock_hessian` of `benches/src/lib.rs`)."""
    h = np.zeros((x.size, x.size))
    a, b = x[0::2], x[1::2]
    i = np.arange(0, x.size - 1, 2)
    h[i, i] = 1200.0 * a * a - 400.0 * b + 2.0
    h[i, i + 1] = h[i + 1, i] = -400.0 * a
    h[i + 1, i + 1] = 200.0
    return h


def chain_derivative_np(x):
    """Hand-written `(f(x), f'(x))` of `chain` (`chain_derivative` of `benches/src/lib.rs`)."""
    s, c, e = np.sin(x), np.cos(x), np.exp(x)
    q = 1.0 + x * x
    r = s * e / q
    dr = ((c + s) * e * q - s * e * 2.0 * x) / (q * q)
    u = r + 2.0
    l = np.log(u)
    return l ** 1.5, 1.5 * np.sqrt(l) * dr / u


def ring_jacobian_np(x):
    """Hand-written dense Jacobian of `ring` (`ring_jacobian` of `benches/peers.rs`)."""
    n = x.size
    i = np.arange(n)
    nxt, prev = (i + 1) % n, (i - 1) % n
    jac = np.zeros((n, n))
    jac[i, i] = np.cos(x) * x[nxt]
    jac[i, nxt] = np.sin(x)
    jac[i, prev] = 2.0 * x[prev]
    return jac
