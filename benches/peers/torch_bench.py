"""PyTorch (CPU, eager autograd) on the workloads of `benches/peers.rs` and `benches/nn.rs`,
with the same inputs (`stdrng.py` reproduces the Rust seeds bit for bit), f64 except the MLP:

- `chain_10k_points`: value and derivative of `f(x) = ln(sin(x)·eˣ/(1 + x²) + 2)^1.5` at each of
  10⁴ points in [0.1, 2) per call (vectorised over the points, one `torch.autograd.grad` of the
  sum; primal: the same vectorised evaluation under `no_grad`);
- `rosenbrock_gradient`: extended-Rosenbrock gradient (`torch.autograd.grad`; and the primal)
  for n = 2, 10, 100, 10⁴, 10⁶;
- `rosenbrock_hessian`: its dense Hessian for n = 10 and 100 (`torch.autograd.functional.hessian`);
- `jacobian_100_to_100`: the dense Jacobian of the ring map `yᵢ = sin(xᵢ)·xᵢ₊₁ + xᵢ₋₁²`
  (wrap-around), n = 100 (`torch.func.jacfwd`, `torch.func.jacrev`; and the primal);
- `mlp_training_step_f32`: an MLP training step (forward, backward, SGD update; f32; softmax
  cross-entropy, mean over the batch);
- `cnn_training_step_f32`: the same for a 3 × 3 convolution to 8 channels (padding 1, ReLU), a
  2 × 2 max pool and a dense layer to 10 classes on 64 images of 1 × 28 × 28 (and its forward
  pass alone, under `no_grad`).
Every derivative is checked against the hand-written one (NumPy) before it is timed.

Prints the median time per call over `--repeats` timeit repeats. Torch is limited to `--threads`
intra-op threads (default 1).

Run: `python3 benches/peers/torch_bench.py` (about 45 seconds).
"""

import argparse
import os
import sys
import warnings

import numpy as np
import torch
import torch.func  # noqa: F401  (jacfwd, jacrev)
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import (  # noqa: E402
    chain_derivative_np,
    ring_jacobian_np,
    rosenbrock_gradient_np,
    rosenbrock_hessian_np,
)
from stdrng import cnn_case, mlp_case, points  # noqa: E402
from timing import make_report  # noqa: E402
from workloads import bind  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--threads", type=int, default=1, help="intra-op threads (default 1)")
parser.add_argument("--repeats", type=int, default=25, help="timeit repeats (default 25)")
parser.add_argument("--min-time", type=float, default=0.05, help="seconds per repeat (default 0.05)")
args = parser.parse_args()


report = make_report(args.repeats, args.min_time)


rosenbrock, chain, ring = bind(torch)


def main():
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, threads {torch.get_num_threads()}")
    xs = torch.tensor(points(10_000, 0.1, 2.0), dtype=torch.float64, requires_grad=True)

    def chain_value_and_derivative():
        y = chain(xs)
        (d,) = torch.autograd.grad(y.sum(), xs)  # dy_i/dx_j = 0 for i ≠ j
        return y.detach(), d

    want_value, want_derivative = chain_derivative_np(points(10_000, 0.1, 2.0))
    value, derivative = chain_value_and_derivative()
    assert value.dtype == torch.float64 and value.shape == (10_000,)
    np.testing.assert_allclose(value.numpy(), want_value, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(derivative.numpy(), want_derivative, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        np.testing.assert_allclose(chain(xs).numpy(), want_value, rtol=1e-12, atol=1e-12)
        report("chain_10k_points/torch_primal", lambda: chain(xs))
    report("chain_10k_points/torch_autograd", chain_value_and_derivative)

    for n in (2, 10, 100, 10_000, 1_000_000):
        x = torch.tensor(points(n), dtype=torch.float64, requires_grad=True)

        def gradient():
            (g,) = torch.autograd.grad(rosenbrock(x), x)
            return g

        np.testing.assert_allclose(gradient().numpy(), rosenbrock_gradient_np(points(n)),
                                   rtol=1e-12, atol=1e-12)
        with torch.no_grad():
            report(f"rosenbrock_gradient/torch_primal/{n}", lambda: rosenbrock(x))
        report(f"rosenbrock_gradient/torch_autograd/{n}", gradient)

    for n in (10, 100):
        x = torch.tensor(points(n), dtype=torch.float64)
        h = torch.autograd.functional.hessian(rosenbrock, x)
        np.testing.assert_allclose(h.numpy(), rosenbrock_hessian_np(points(n)),
                                   rtol=1e-12, atol=1e-12)
        report(f"rosenbrock_hessian/torch_functional_hessian/{n}",
               lambda: torch.autograd.functional.hessian(rosenbrock, x))

    x = torch.tensor(points(100), dtype=torch.float64)
    want = ring_jacobian_np(points(100))
    jacfwd, jacrev = torch.func.jacfwd(ring), torch.func.jacrev(ring)
    for jac in (jacfwd, jacrev):
        with warnings.catch_warnings():
            # The first jacfwd loads torch's forward-mode decompositions, which go through the
            # deprecated torch.jit.script (a FutureWarning from torch itself, not from here).
            warnings.filterwarnings("ignore", "`torch.jit.script` is deprecated", FutureWarning)
            got = jac(x)
        assert got.dtype == torch.float64
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    report("jacobian_100_to_100/torch_primal", lambda: ring(x))
    report("jacobian_100_to_100/torch_func_jacfwd", lambda: jacfwd(x))
    report("jacobian_100_to_100/torch_func_jacrev", lambda: jacrev(x))

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

    xs, labels, init = cnn_case()
    x, labels = torch.from_numpy(xs), torch.from_numpy(labels)
    params = [torch.from_numpy(p).requires_grad_() for p in init]
    opt = torch.optim.SGD(params, lr=1e-3)

    def cnn_logits():
        h = F.max_pool2d(torch.relu(F.conv2d(x, params[0], params[1], padding=1)), 2)
        return F.linear(h.flatten(1), params[2], params[3])

    def cnn_step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(cnn_logits(), labels)
        loss.backward()
        opt.step()
        return loss

    def cnn_forward():
        with torch.no_grad():
            return cnn_logits()

    # adroit's loss at these parameters (`train_step` with a zero learning rate): 2.4541576
    with torch.no_grad():
        assert abs(F.cross_entropy(cnn_logits(), labels).item() - 2.4541576) < 1e-5
    report("cnn_training_step_f32/torch_no_grad_forward/conv8-pool-dense", cnn_forward)
    report("cnn_training_step_f32/torch_eager/conv8-pool-dense", cnn_step)


if __name__ == "__main__":
    main()
