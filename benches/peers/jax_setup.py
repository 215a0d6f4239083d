"""The command line and XLA settings the JAX scripts share; `configure` must run before `jax` is
imported (XLA reads its flags then)."""

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
    return args
