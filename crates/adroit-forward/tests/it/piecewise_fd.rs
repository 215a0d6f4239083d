//! `max`, `min`, `copysign`, `clamp` and `mul_add` on a grid of points away from their kinks,
//! ties and sign changes: the partials from `gradient` (through `Dual<T>`, in f32 and f64)
//! against central finite differences of the plain f64 functions, and `mul_add`'s partials
//! against the analytic ones `(a, x, 1)`.
//!
//! The functions are piecewise linear (bilinear for `mul_add`), so a central difference has no
//! truncation error as long as `x ± h` stays in one piece; only rounding remains, of order
//! `ε·|f|/h ≈ 1e-10` for `h = 1e-6` and `|f| ≤ 10`. The grid keeps every kink more than
//! `MARGIN = 100·h` from each point.

use adroit_forward::{Dual, gradient};
use num_traits::Float;

const H: f64 = 1e-6;
const MARGIN: f64 = 100.0 * H;
/// Rounding error of the central difference, with room to spare.
const FD_TOL: f64 = 1e-8;

/// An irregular grid over [−3, 3] that includes values exactly representable in f32 (so that
/// the f32 point equals the f64 point) and avoids 0: 31 points `−3 + 3k/16 + 1/64`, all
/// multiples of 1/64.
fn grid() -> Vec<f64> {
    (0..31)
        .map(|k| -3.0 + 0.1875 * f64::from(k) + 1.0 / 64.0)
        .collect()
}

/// Central differences of `f` at `x` in each coordinate.
fn central_differences(f: &dyn Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| {
            let (mut up, mut down) = (x.to_vec(), x.to_vec());
            up[i] += H;
            down[i] -= H;
            (f(&up) - f(&down)) / (2.0 * H)
        })
        .collect()
}

/// Asserts that the `Dual<T>` gradient of `fd` matches the central differences of `f64f` at
/// `x`, and that the primal values agree; returns the gradient for further checks.
#[track_caller]
fn check_against_fd<T: Float>(
    fd: impl Fn(&[Dual<T>]) -> Dual<T>,
    f64f: &dyn Fn(&[f64]) -> f64,
    x: &[f64],
    what: &str,
) -> Vec<f64> {
    let xt: Vec<T> = x.iter().map(|&v| T::from(v).unwrap()).collect();
    // the grid points are representable in f32, so both precisions see the same point
    assert!(
        xt.iter().zip(x).all(|(a, b)| a.to_f64().unwrap() == *b),
        "{what}: grid point {x:?} not exact"
    );
    let g: Vec<f64> = gradient(fd, &xt)
        .iter()
        .map(|v| v.to_f64().unwrap())
        .collect();
    let reference = central_differences(f64f, x);
    let rtol = 8.0 * T::epsilon().to_f64().unwrap();
    for (i, (a, b)) in g.iter().zip(&reference).enumerate() {
        assert!(
            (a - b).abs() <= FD_TOL + rtol * b.abs(),
            "{what} at {x:?}: ∂{i} = {a} from Dual, {b} by central differences"
        );
    }
    g
}

fn max_min<T: Float>() {
    let mut checked = 0;
    for &x in &grid() {
        for &y in &grid() {
            if (x - y).abs() < MARGIN {
                continue; // the tie, covered in `edges`
            }
            let g = check_against_fd::<T>(|v| v[0].max(v[1]), &|v| v[0].max(v[1]), &[x, y], "max");
            // and the closed form: the larger argument's partial is 1, the other's 0
            let larger = if x > y { [1.0, 0.0] } else { [0.0, 1.0] };
            assert_eq!(g, larger, "max at ({x}, {y})");
            let g = check_against_fd::<T>(|v| v[0].min(v[1]), &|v| v[0].min(v[1]), &[x, y], "min");
            assert_eq!(g, [larger[1], larger[0]], "min at ({x}, {y})");
            // composed with smooth functions: the tie x² = sin y is a curve, so skip the grid
            // points near it
            if ((x * x) - y.sin()).abs() < 10.0 * MARGIN {
                continue;
            }
            check_against_fd::<T>(
                |v| (v[0] * v[0]).max(v[1].sin()),
                &|v| (v[0] * v[0]).max(v[1].sin()),
                &[x, y],
                "max(x², sin y)",
            );
            checked += 1;
        }
    }
    assert!(checked > 900, "{checked} points");
}

fn min_of_smooth<T: Float>() {
    // min(x·y, exp(y/3)): its kink is the curve x·y = exp(y/3), skipped with a margin
    // scaled to the gradients (≤ 4) of the two pieces.
    let mut branches = [0; 2];
    for &x in &grid() {
        for &y in &grid() {
            if (x * y - (y / 3.0).exp()).abs() < 10.0 * MARGIN {
                continue;
            }
            branches[usize::from(x * y < (y / 3.0).exp())] += 1;
            check_against_fd::<T>(
                |v| (v[0] * v[1]).min((v[1] / T::from(3.0).unwrap()).exp()),
                &|v| (v[0] * v[1]).min((v[1] / 3.0).exp()),
                &[x, y],
                "min(x·y, exp(y/3))",
            );
        }
    }
    assert!(branches.iter().all(|&n| n > 100), "branches {branches:?}");
}

fn copysign<T: Float>() {
    // |x|·sign(s): kink at x = 0, jump at s = 0; the grid excludes 0 by construction.
    for &x in &grid() {
        for &s in &grid() {
            assert!(x.abs() > MARGIN && s.abs() > MARGIN);
            let g = check_against_fd::<T>(
                |v| v[0].copysign(v[1]),
                &|v| v[0].copysign(v[1]),
                &[x, s],
                "copysign",
            );
            // and the closed form: ∂x = sign(x)·sign(s), ∂s = 0
            assert_eq!(g, [x.signum() * s.signum(), 0.0], "copysign at ({x}, {s})");
        }
    }
}

fn clamp<T: Float>() {
    // clamp(x, lo, hi) with all three arguments variable, for lo < hi: one of the three
    // partials is 1 and the other two are 0, whichever branch is taken.
    let bounds = grid();
    let mut seen = [0; 3];
    for &x in &grid() {
        for &lo in bounds.iter().step_by(3) {
            for &hi in bounds.iter().skip(1).step_by(3) {
                if hi - lo < MARGIN || (x - lo).abs() < MARGIN || (x - hi).abs() < MARGIN {
                    continue;
                }
                let g = check_against_fd::<T>(
                    |v| v[0].clamp(v[1], v[2]),
                    &|v| v[0].clamp(v[1], v[2]),
                    &[x, lo, hi],
                    "clamp",
                );
                let branch = g.iter().position(|&d| d == 1.0).expect("one partial is 1");
                assert_eq!(g.iter().sum::<f64>(), 1.0, "clamp({x}, {lo}, {hi})");
                seen[branch] += 1;
            }
        }
    }
    // all three branches were exercised
    assert!(seen.iter().all(|&n| n > 50), "branches {seen:?}");
}

fn mul_add<T: Float>() {
    // x·a + b is bilinear: the central difference is exact up to rounding, and the analytic
    // partials are (a, x, 1).
    let g = grid();
    for &x in g.iter().step_by(2) {
        for &a in g.iter().skip(1).step_by(2) {
            for &b in g.iter().step_by(5) {
                let grad = check_against_fd::<T>(
                    |v| v[0].mul_add(v[1], v[2]),
                    &|v| v[0].mul_add(v[1], v[2]),
                    &[x, a, b],
                    "mul_add",
                );
                // the grid values are multiples of 1/64 in [−3, 3]: exact in f32 too
                assert_eq!(grad, [a, x, 1.0], "mul_add partials at ({x}, {a}, {b})");
                // nested: mul_add(x, x, a·b) = x² + a·b, partials (2x, b, a)
                let grad = check_against_fd::<T>(
                    |v| v[0].mul_add(v[0], v[1] * v[2]),
                    &|v| v[0].mul_add(v[0], v[1] * v[2]),
                    &[x, a, b],
                    "mul_add(x, x, a·b)",
                );
                assert_eq!(grad, [2.0 * x, b, a], "x² + a·b at ({x}, {a}, {b})");
            }
        }
    }
}

both_precisions! {
    max_min_on_grid => max_min;
    min_of_smooth_on_grid => min_of_smooth;
    copysign_on_grid => copysign;
    clamp_on_grid => clamp;
    mul_add_on_grid => mul_add;
}
