"""PyTorch (CPU, eager autograd) on the workloads of `benches/peers.rs` and `benches/nn.rs`,
with the same inputs (`stdrng.py` reproduces the Rust seeds bit for bit): extended-Rosenbrock
gradient (f64) for n = 10, 100, 10⁴, 10⁶, its Hessian for n = 100
(`torch.autograd.functional.hessian`), and an MLP training step (forward, backward, SGD update;
f32; softmax cross-entropy, mean over the batch).

Prints the median time per call over `--repeats` timeit repeats. Torch is limited to `--threads`
intra-op threads (default 1).

Run: `python3 benches/peers/torch_bench.py` (about a minute).
"""

import argparse
import os
import sys
import timeit

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from stdrng import mlp_case, points  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
parser.add_argument("--repeats", type=int, default=25, help="timeit repeats (default 25)")
parser.add_argument("--min-time", type=float, default=0.05, help="seconds per repeat (default 0.05)")
args = parser.parse_args()


def median_time(fn, repeats=args.repeats, min_time=args.min_time):
    """Median seconds per call of `fn` (already warmed up): `number` calls per repeat, `number`
    chosen so that a repeat takes at least `min_time`."""
    timer = timeit.Timer(fn)
    number = 1
    while timer.timeit(number) < min_time:
        number *= 2
    return float(np.median(timer.repeat(repeat=repeats, number=number))) / number, number


def format_time(t):
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9)):
        if t >= scale:
            return f"{t / scale:.4g} {unit}"
    return f"{t / 1e-9:.4g} ns"


def report(name, fn):
    fn()  # warm up
    fn()
    t, number = median_time(fn)
    print(f"{name:<45} {format_time(t):>12}   ({args.repeats} x {number})", flush=True)


def rosenbrock(x):
    a, b = x[0::2], x[1::2]
    u = b - a * a
    v = 1.0 - a
    return torch.sum(100.0 * u * u + v * v)


def rosenbrock_gradient_np(x):
    a, b = x[0::2], x[1::2]
    u, v = b - a * a, 1.0 - a
    g = np.empty_like(x)
    g[0::2], g[1::2] = -400.0 * u * a - 2.0 * v, 200.0 * u
    return g


def main():
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads {torch.get_num_threads()}")
    for n in (10, 100, 10_000, 1_000_000):
        x = torch.tensor(points(n), dtype=torch.float64, requires_grad=True)

        def gradient():
            (g,) = torch.autograd.grad(rosenbrock(x), x)
            return g

        np.testing.assert_allclose(gradient().numpy(), rosenbrock_gradient_np(points(n)),
                                   rtol=1e-12, atol=1e-12)
        with torch.no_grad():
            report(f"rosenbrock_gradient/torch_primal/{n}", lambda: rosenbrock(x))
        report(f"rosenbrock_gradient/torch_autograd/{n}", gradient)

    x = torch.tensor(points(100), dtype=torch.float64)
    h = torch.autograd.functional.hessian(rosenbrock, x)
    assert h.shape == (100, 100) and h[1, 1].item() == 200.0
    report("rosenbrock_hessian/torch_functional_hessian/100",
           lambda: torch.autograd.functional.hessian(rosenbrock, x))

    for sizes, batch in (([4, 16, 3], 16), ([784, 128, 10], 64), ([784, 512, 512, 10], 128)):
        xs, ys, init = mlp_case(sizes, batch)
        x = torch.from_numpy(xs)
        labels = torch.from_numpy(ys.argmax(axis=1))
        params = []
        for w, b in init:
            params += [torch.from_numpy(w).requires_grad_(), torch.from_numpy(b).requires_grad_()]
        assert params[0].dtype == torch.float32
        opt = torch.optim.SGD(params, lr=1e-3)

        def train_step():
            opt.zero_grad(set_to_none=True)
            h = x
            for k in range(0, len(params) - 2, 2):
                h = torch.relu(F.linear(h, params[k], params[k + 1]))
            logits = F.linear(h, params[-2], params[-1])
            loss = F.cross_entropy(logits, labels)  # softmax cross-entropy, mean
            loss.backward()
            opt.step()
            return loss

        name = "-".join(map(str, sizes))
        report(f"mlp_training_step_f32/torch_eager/{name}", train_step)


if __name__ == "__main__":
    main()
