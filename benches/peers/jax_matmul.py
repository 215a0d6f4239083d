"""JAX (XLA, CPU, one thread) on the matrix products of one 784-512-512-10 batch-128 training
step, and of one 784-128-10 batch-64 step, alone, f32: `C = op(A)·op(B)` for the shapes `tools/gemm_compare` times on the Rust GEMM
libraries, to tell the matrix kernel's share of the gap between JAX's and adroit's training
steps (`BENCHMARKS.md` §5).

Each product is `jit`-compiled and called once before timing; every timed call ends with
`block_until_ready`; prints the median of 200 calls and its GFLOP/s.

Run: `python3 benches/peers/jax_matmul.py` (a few seconds).
"""

import os
import time

from jax_setup import limit_cpus

os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "")
    + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
)
os.environ.setdefault("JAX_PLATFORMS", "cpu")
# The flags alone let XLA use every CPU (see jax_setup.limit_cpus): pin to one.
limit_cpus(1)

import jax  # noqa: E402  (XLA_FLAGS and the CPU pin must be set first)
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def median_seconds(f, *operands):
    """Median wall time of `f(*operands)` over 200 calls, after one compiling call."""
    f(*operands).block_until_ready()
    times = []
    for _ in range(200):
        start = time.perf_counter()
        f(*operands).block_until_ready()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    rng = np.random.default_rng(0)
    # (name, m, k, n, A read transposed, B read transposed), as in tools/gemm_compare.
    products = [
        ("W1·X", 512, 784, 128, False, False),
        ("W2·H1", 512, 512, 128, False, False),
        ("G1·Xᵀ", 512, 128, 784, False, True),
        ("G2·H1ᵀ", 512, 128, 512, False, True),
        ("W2ᵀ·G2", 512, 512, 128, True, False),
        # 784-128-10, batch 64
        ("W1·X", 128, 784, 64, False, False),
        ("W2·H1", 10, 128, 64, False, False),
        ("G1·Xᵀ", 128, 64, 784, False, True),
        ("G2·H1ᵀ", 10, 64, 128, False, True),
        ("W2ᵀ·G2", 128, 10, 64, True, False),
    ]
    print(f"jax {jax.__version__}, one thread")
    for name, m, k, n, a_t, b_t in products:
        a = jnp.asarray(rng.standard_normal((k, m) if a_t else (m, k)), dtype=jnp.float32)
        b = jnp.asarray(rng.standard_normal((n, k) if b_t else (k, n)), dtype=jnp.float32)
        product = jax.jit(
            lambda a, b, a_t=a_t, b_t=b_t: (a.T if a_t else a) @ (b.T if b_t else b)
        )
        seconds = median_seconds(product, a, b)
        gflops = 2 * m * n * k / seconds / 1e9
        print(f"{name:8} {m}×{k}×{n}: {seconds * 1e6:.1f} µs ({gflops:.0f} GFLOP/s)")


if __name__ == "__main__":
    main()
