"""The workloads of `benches/src/lib.rs` and `benches/peers.rs`, written once for any array
module with NumPy's names (`jax.numpy`, `torch`, `autograd.numpy`): each script binds them to its
own with `bind(module)`."""

from functools import partial


def rosenbrock(xp, x):
    """Extended Rosenbrock: Σ 100·(x₂ᵢ − x₂ᵢ₋₁²)² + (1 − x₂ᵢ₋₁)² over pairs."""
    a, b = x[0::2], x[1::2]
    u = b - a * a
    v = 1.0 - a
    return xp.sum(100.0 * u * u + v * v)


def chain(xp, x):
    """`chain` of `benches/src/lib.rs`, elementwise: ln(sin(x)·eˣ/(1 + x²) + 2)^1.5."""
    return xp.log(xp.sin(x) * xp.exp(x) / (1.0 + x * x) + 2.0) ** 1.5


def ring(xp, x):
    """`ring` of `benches/peers.rs`: yᵢ = sin(xᵢ)·xᵢ₊₁ + xᵢ₋₁², indices wrapping around."""
    prev = xp.roll(x, 1)
    return xp.sin(x) * xp.roll(x, -1) + prev * prev


def bind(xp):
    """`(rosenbrock, chain, ring)` on the array module `xp`."""
    return partial(rosenbrock, xp), partial(chain, xp), partial(ring, xp)
