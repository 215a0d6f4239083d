"""Fits the polynomial of adroit-reverse's f32 `ndtr` kernel
(crates/adroit-reverse/src/matrix/activation_kernels.rs): Mills' ratio of the standard normal
distribution, M(u) = Φ(−u)/φ(u), on u in [0, 15] (beyond, φ(u) underflows in f32), as
M(u) ≈ t·P(t), t = 1/(1 + u/4), P of degree 11, minimising the largest relative error
(Lawson's iteratively reweighted least squares on 1,500 Chebyshev nodes in t). Prints the
coefficients as Rust literals (constant term first) and the fit's largest relative error,
measured against mpmath (40 digits) on 30,001 points of [0, 15].

Run: python3 tools/fit_mills_ratio.py   (numpy and mpmath)
"""
import mpmath as mp
import numpy as np

from f64_literals import lit

mp.mp.dps = 40
P = 0.25  # t = 1/(1 + P·u)
U_MAX = 15.0
DEGREE = 11


def mills(u):
    """Φ(−u)/φ(u) = √(π/2)·erfcx(u/√2), in mpmath."""
    u = mp.mpf(u)
    return mp.sqrt(mp.pi / 2) * mp.erfc(u / mp.sqrt(2)) * mp.exp(u * u / 2)


def fit():
    n = 1500
    t_min = 1 / (1 + P * U_MAX)
    k = np.arange(n)
    ts = (t_min + 1) / 2 + (1 - t_min) / 2 * np.cos(np.pi * (k + 0.5) / n)
    g = np.array([float(mills((1 / t - 1) / P) / t) for t in ts])  # M(u)/t
    vander = np.vander(ts, DEGREE + 1, increasing=True)
    w = np.ones(n)
    for _ in range(60):
        scale = w / np.abs(g)
        c, *_ = np.linalg.lstsq(vander * scale[:, None], g * scale, rcond=None)
        err = (vander @ c - g) / g
        w = np.maximum(w * np.abs(err), 1e-300)
        w /= w.sum()
    return c


def main():
    c = fit()
    worst = mp.mpf(0)
    for u in np.linspace(0, U_MAX, 30001):
        t = mp.mpf(1) / (1 + P * mp.mpf(u))
        approx = t * mp.polyval([mp.mpf(v) for v in c[::-1]], t)
        worst = max(worst, abs(approx / mills(u) - 1))
    print("const MILLS: [f64; %d] = [" % len(c))
    for v in c:
        print("    %s," % lit(float(v)))
    print("];")
    print("// largest relative error of the fit on [0, %g]: %.2e" % (U_MAX, float(worst)))


if __name__ == "__main__":
    main()
