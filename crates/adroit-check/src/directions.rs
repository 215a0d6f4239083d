//! Random directions for the fast checks ([`Mode::Fast`](crate::Mode::Fast)) and the step
//! along them.

use crate::Options;
use rand::Rng;
use rand::rngs::StdRng;

/// A random vector with entries uniform in [−1, 1).
pub(crate) fn random_vector(rng: &mut StdRng, n: usize) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-1.0..1.0)).collect()
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The finite-difference step `h` for `t ↦ g(x + t·u)` and the direction snapped to it,
/// `u' = ((x + h·u) − x)/h`, which makes `x + p·h·u'` exact on the stencil's grid (rounding
/// `x + t·u` would perturb the direction by ~ulp(x)/h: 4e-6 at |x| ≈ 1e8). The step is chosen
/// for the parameter shifted to `τ = t + s`, `s = max(1, |x|∞)`, so that it scales with `x` as a
/// coordinate's step does. `along(direction, t)` evaluates `g(x + t·direction)`; returns
/// `(h, u', s)`: estimate at `τ = s` with `t = τ − s`.
pub(crate) fn snapped_step(
    options: &Options,
    x: &[f64],
    u: &[f64],
    along: &impl Fn(&[f64], f64) -> f64,
) -> (f64, Vec<f64>, f64) {
    let s = x.iter().fold(1.0_f64, |m, v| m.max(v.abs()));
    let h = options.fd.step_at(&|tau| along(u, tau - s), s);
    let snapped = x
        .iter()
        .zip(u)
        .map(|(&a, &b)| ((a + h * b) - a) / h)
        .collect();
    (h, snapped, s)
}
