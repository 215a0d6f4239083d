"""Reference values for adroit-forward's test
`symmetric_eigen_hyperdual_beside_a_repeated_pair` (tests/it/symmetric_eigen_hyperdual.rs):
the mixed second derivative d²P/(ds dt) of the projector P = v vᵀ onto the eigenvector of the
simple eigenvalue 1 + 2⁻³⁰ of A + s·E1 + t·E2, where A = Q·diag(1, 1, 1 + 2⁻³⁰, 3)·Qᵀ has a
repeated eigenvalue 1 right beside it (all three matrices exact in binary). Computed with
mpmath at 80 digits by mixed central differences (step 1e-30; the same digits at 1e-32).

Run: pip install mpmath==1.3.0 && python3 tools/gen_eigen_neighbour_reference.py
"""
import mpmath as mp

mp.mp.dps = 80

A = [1.5000000002328306, 0.49999999976716936, 0.49999999976716936, 0.5000000002328306,
     0.49999999976716936, 1.5000000002328306, 0.5000000002328306, 0.49999999976716936,
     0.49999999976716936, 0.5000000002328306, 1.5000000002328306, 0.49999999976716936,
     0.5000000002328306, 0.49999999976716936, 0.49999999976716936, 1.5000000002328306]
E1 = [1.0000004375, -2.5e-7, 2.5e-7, -4.375e-7, -2.5e-7, 0.9999994375, 5.625e-7, 2.5e-7,
      2.5e-7, 5.625e-7, 0.9999994375, -2.5e-7, -4.375e-7, 2.5e-7, -2.5e-7, 1.0000004375]
E2 = [0.5, -0.5, 0.0, 0.0, -0.5, 0.5, 0.0, 0.0, 0.0, 0.0, -0.5, 0.5, 0.0, 0.0, 0.5, -0.5]
TARGET = 1 + mp.mpf(2) ** -30


def matrix(s, t):
    # column-major lists, as the Rust test writes them; every value exact in binary
    return mp.matrix(
        [[mp.mpf(A[j * 4 + i]) + s * mp.mpf(E1[j * 4 + i]) + t * mp.mpf(E2[j * 4 + i])
          for j in range(4)] for i in range(4)])


def projector(s, t):
    values, vectors = mp.eigsy(matrix(s, t))
    k = min(range(4), key=lambda i: abs(values[i] - TARGET))
    v = [vectors[r, k] for r in range(4)]
    return [[v[i] * v[j] for j in range(4)] for i in range(4)]


for h in [mp.mpf("1e-30"), mp.mpf("1e-32")]:
    pp, pm, mp_, mm = (projector(h, h), projector(h, -h), projector(-h, h), projector(-h, -h))
    d2 = [[(pp[i][j] - pm[i][j] - mp_[i][j] + mm[i][j]) / (4 * h * h) for j in range(4)]
          for i in range(4)]
    print(f"h = {mp.nstr(h, 3)}:")
    for (i, j) in [(0, 0), (0, 1), (0, 3), (2, 3)]:
        print(f"  d2P[{i}][{j}] = {mp.nstr(d2[i][j], 17)}")
