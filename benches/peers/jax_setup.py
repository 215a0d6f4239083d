"""The command line and XLA settings the JAX scripts share; `configure` must run before `jax` is
imported (XLA reads its flags then, and starts its threads on the CPUs the process may use)."""

import argparse
import os


def configure(doc):
    """Parses `--threads`, `--repeats` and `--min-time` (the script's docstring `doc` is the
    help text), limits XLA to `--threads` CPU threads and returns the arguments."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1, help="XLA CPU threads (default 1)")
    parser.add_argument("--repeats", type=int, default=25, help="timeit repeats (default 25)")
    parser.add_argument("--min-time", type=float, default=0.05,
                        help="seconds per repeat (default 0.05)")
    args = parser.parse_args()
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + f" --xla_cpu_multi_thread_eigen={'true' if args.threads > 1 else 'false'}"
        + f" intra_op_parallelism_threads={args.threads}"
    )
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    limit_cpus(args.threads)
    return args


def limit_cpus(threads):
    """Pins this process (and every thread it starts later) to its first `threads` allowed
    CPUs. XLA's flags alone do not hold jaxlib 0.10.2 to one thread: with them, a jitted
    512 × 784 by 784 × 128 product kept 1.79 CPUs busy on the 2-vCPU machine of BENCHMARKS.md
    §V (611 µs per product; pinned to one CPU, 970 µs at 1.00)."""
    if not hasattr(os, "sched_setaffinity"):
        print("warning: cannot pin CPUs on this platform; XLA may use more threads")
        return
    cpus = sorted(os.sched_getaffinity(0))
    if threads < len(cpus):
        os.sched_setaffinity(0, cpus[:threads])
