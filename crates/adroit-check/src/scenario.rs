//! Tape-misuse scenarios decoded from bytes: sequences of correct and incorrect uses of the
//! reverse-mode API (stale variables, variables sent to other threads, variables mixed across
//! nested scopes, long-lived pullbacks). Used by the `tape_misuse` fuzz target and by ordinary
//! tests that replay its corpus.

use crate::matrix_program::{RESCALE_DOWN, RESCALE_UP};
use adroit_forward::Dual;
use adroit_reverse::{Pullback, Var};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The function differentiated in scenarios: `f(x₀, x₁) = x₀·sin x₁ + x₀²`.
fn f<S: num_traits::Float>(x: &[S]) -> S {
    x[0] * x[1].sin() + x[0] * x[0]
}

fn expected_gradient(x: &[f64]) -> Vec<f64> {
    vec![x[1].sin() + 2.0 * x[0], x[0] * x[1].cos()]
}

fn point(byte: u8) -> [f64; 2] {
    [
        f64::from(byte) / 64.0 - 2.0,
        f64::from(byte.rotate_left(3)) / 50.0 - 2.5,
    ]
}

fn check_gradient(g: &[f64], x: &[f64], what: &str) -> Result<(), String> {
    let expected = expected_gradient(x);
    for (a, b) in g.iter().zip(&expected) {
        if (a - b).abs() > 1e-12 * (1.0 + b.abs()) {
            return Err(format!(
                "{what}: gradient {g:?} at {x:?}, expected {expected:?}"
            ));
        }
    }
    Ok(())
}

fn expect_panic<R>(what: &str, action: impl FnOnce() -> R) -> Result<(), String> {
    match catch_unwind(AssertUnwindSafe(action)) {
        Err(_) => Ok(()),
        Ok(_) => Err(format!("{what}: misuse did not panic")),
    }
}

/// Runs the scenario encoded by `data` (one action per byte, its argument in the next byte).
/// Returns the number of actions run, or a description of the first violation: a wrong
/// gradient, or a misuse that did not panic.
///
/// Misuses panic by design, so this prints panic messages unless the caller installed a quiet
/// panic hook.
///
/// # Errors
/// The first violation found, described.
///
/// # Example
/// ```
/// assert!(adroit_check::scenario::run_tape_scenario(&[0, 7, 1, 9, 3, 2]).is_ok());
/// ```
pub fn run_tape_scenario(data: &[u8]) -> Result<usize, String> {
    let mut stash: Option<Var<f64>> = None;
    let mut kept: Option<(Pullback<f64>, [f64; 2])> = None;
    let mut steps = 0;
    for pair in data.chunks(2).take(64) {
        let (action, arg) = (pair[0], pair.get(1).copied().unwrap_or(0));
        let x = point(arg);
        steps += 1;
        match action % 8 {
            0 => check_gradient(&adroit_reverse::gradient(f, &x), &x, "plain gradient")?,
            1 => {
                let g = adroit_reverse::gradient(
                    |v| {
                        stash = Some(v[0]);
                        f(v)
                    },
                    &x,
                );
                check_gradient(&g, &x, "gradient that leaks a variable")?;
            }
            2 => {
                if let Some(v) = stash {
                    expect_panic("stale variable used outside any scope", || v * 2.0)?;
                    if arg % 2 == 1 {
                        let joined = std::thread::spawn(move || {
                            catch_unwind(AssertUnwindSafe(|| {
                                adroit_reverse::gradient(|w| w[0] + v, &[1.0])
                            }))
                            .is_err()
                        })
                        .join();
                        if !matches!(joined, Ok(true)) {
                            return Err("variable sent to another thread did not panic".into());
                        }
                    }
                }
            }
            3 => {
                if let Some(v) = stash {
                    expect_panic("stale variable mixed into a new scope", || {
                        adroit_reverse::gradient(|w| w[0] * v, &x)
                    })?;
                }
                check_gradient(
                    &adroit_reverse::gradient(f, &x),
                    &x,
                    "gradient after misuse",
                )?;
            }
            4 => {
                let mut inner = Vec::new();
                let g = adroit_reverse::gradient(
                    |v| {
                        inner = adroit_reverse::gradient(f, &x);
                        f(v)
                    },
                    &x,
                );
                check_gradient(&g, &x, "outer gradient around a nested one")?;
                check_gradient(&inner, &x, "nested gradient")?;
            }
            5 => {
                expect_panic("outer variable used in an inner scope", || {
                    adroit_reverse::gradient(
                        |v| {
                            let outer = v[0];
                            let _ = adroit_reverse::gradient(|w| w[0] * outer, &[1.0]);
                            f(v)
                        },
                        &x,
                    )
                })?;
                check_gradient(
                    &adroit_reverse::gradient(f, &x),
                    &x,
                    "gradient after nested misuse",
                )?;
            }
            6 => {
                let (_, pb) = adroit_reverse::pullback(|v| vec![f(v)], &x);
                kept = Some((pb, x));
            }
            _ => {
                if let Some((pb, at)) = &kept {
                    check_gradient(&pb.call(&[1.0]), at, "long-lived pullback")?;
                }
            }
        }
    }
    Ok(steps)
}

/// The check of the `program` fuzz target: decodes a program and a point from `data`
/// ([`Program::decode`](crate::program::Program::decode)), evaluates it on `f64`, forward duals
/// and reverse variables, and requires that nothing panics, that the three values agree and
/// that the forward gradient agrees with the reverse one and with the tape's forward sweep
/// ([`Pullback::pushforward`](adroit_reverse::Pullback::pushforward) of each unit vector)
/// wherever both are finite, within
/// `1e-9·(1 + |g|) + 8ε·size·sᵢ + 4·fᵢ` where `sᵢ` is the derivative scale
/// ([`Expr::derivative_scale`](crate::program::Expr::derivative_scale)): the two modes sum the
/// same chain-rule products in different orders, and huge terms that cancel (found by this
/// fuzz target: `x⁶⁴·((x − x) − (x − x))`) leave rounding errors of that size; and `fᵢ` the
/// rounding floor of derivatives that pass through subnormal magnitudes
/// ([`Expr::derivative_floor`](crate::program::Expr::derivative_floor), also found by this
/// target). A disagreement is confirmed against forward mode seeded with `2⁵¹²` (and scaled
/// back) before it fails: at that scale no tangent underflows where the tape, which multiplies
/// partials before tangents, kept its digits — and then against the tape's sweep seeded with
/// `2⁵¹²` too, where no adjoint or tangent underflows that did at 1 (found by this target: a
/// tower of powers at `+∞` whose `∂/∂x₂`, `−2.49996e124` in forward mode seeded up, is 0 in
/// forward mode and `−2.49271e124` on the tape's pushforward seeded with 1, whose tangents
/// passed through subnormal numbers, and `−2.49996e124` seeded up). Where the floor outweighs
/// the rest of the tolerance, agreeing at seed 1 proves little: the derivatives seeded up
/// decide (found by this target: `∂/∂x₂` of `3.1e11` through a tangent of `5e-480`, 0 in
/// forward mode and `8.7e-6` off seeded up, exact on the tape — within the floor once the
/// floor counted the guards' stages and its scale stopped underflowing).
///
/// # Errors
/// A description of the disagreement.
///
/// # Example
/// ```
/// assert!(adroit_check::scenario::check_program_bytes(&[2, 0, 8, 0, 248, 45, 1, 3, 0]).is_ok());
/// ```
pub fn check_program_bytes(data: &[u8]) -> Result<(), String> {
    let (p, x) = crate::program::Program::decode(data);
    let value = p.eval(&x);
    let (fv, forward) = adroit_forward::value_and_gradient(|v| p.eval(v), &x);
    let (rv, reverse) = adroit_reverse::value_and_gradient(|v| p.eval(v), &x);
    let same = |a: f64, b: f64| a == b || (a.is_nan() && b.is_nan());
    if !same(value, fv) || !same(value, rv) {
        return Err(format!(
            "{p} at {x:?}: values f64 {value}, forward {fv}, reverse {rv}"
        ));
    }
    let scale = p.expr.derivative_scale(&x);
    let floor = p.expr.derivative_floor(&x);
    let size = p.expr.size() as f64;
    // The tape's own forward sweep (`Pullback::pushforward`) gives the same partials.
    let (_, recorded) = adroit_reverse::pullback(|v| vec![p.eval(v)], &x);
    let mut seed = vec![0.0; x.len()];
    for (i, (f, r)) in forward.iter().zip(&reverse).enumerate() {
        seed[i] = 1.0;
        let pushed = recorded.pushforward(&seed)[0];
        seed[i] = 0.0;
        let tolerance = Tolerance {
            scale: 8.0 * f64::EPSILON * size * scale[i],
            floor: floor[i],
        };
        // The tape's two sweeps seeded with 2⁵¹² as well (scaled back, exact), where no
        // intermediate adjoint or tangent underflows that did at 1.
        let reverse_up = || recorded.call(&[RESCALE_UP])[i] * RESCALE_DOWN;
        let pushed_up = || {
            let mut seed = vec![0.0; x.len()];
            seed[i] = RESCALE_UP;
            recorded.pushforward(&seed)[0] * RESCALE_DOWN
        };
        let forward_up = || forward_seeded_up(&p, &x, i);
        let sweeps: [(&str, f64, &dyn Fn() -> f64); 2] = [
            ("reverse", *r, &reverse_up),
            ("the tape's pushforward", pushed, &pushed_up),
        ];
        for (mode, other, other_up) in sweeps {
            if let Some((up, other_up)) = tolerance.disagreement(*f, other, &forward_up, other_up) {
                return Err(format!(
                    "{p} at {x:?}: ∂/∂x{i} forward {f} (seeded up: {up}) vs {mode} {other} \
                     (seeded up: {other_up})"
                ));
            }
        }
    }
    Ok(())
}

/// The tolerance of one derivative of [`check_program_bytes`]: `1e-9·(1 + |g|) + scale +
/// 4·floor`, the floor seeded with 1.
struct Tolerance {
    /// `8ε·size·sᵢ`, the rounding of the chain-rule terms summed in different orders.
    scale: f64,
    /// The subnormal rounding floor `fᵢ` of the derivatives seeded with 1.
    floor: f64,
}

impl Tolerance {
    /// The tolerance's terms other than the floor, for derivatives `a` and `b`.
    fn relative(&self, a: f64, b: f64) -> f64 {
        1e-9 * (1.0 + a.abs().max(b.abs())) + self.scale
    }

    /// True when `a` and `b` are finite and differ by more than the tolerance with `floor`.
    /// (A NaN tolerance, from a NaN partial in the scales, compares nothing.)
    fn differ(&self, a: f64, b: f64, floor: f64) -> bool {
        a.is_finite() && b.is_finite() && (a - b).abs() > self.relative(a, b) + 4.0 * floor
    }

    /// A confirmed disagreement between forward mode's derivative `forward` and a sweep's
    /// `other` (both seeded with 1), as the two seeded with `2⁵¹²` and scaled back (`up` and
    /// `other_up`, computed only when needed): `None` where they agree at seed 1 or where the
    /// forward derivative seeded up agrees with `other`, unless the floor outweighs the
    /// rest of the tolerance — then agreeing at seed 1 proves little, and the two seeded up
    /// decide. Seeded up, the subnormal spacing is `2⁵¹²` times smaller against the
    /// derivatives, and so is their floor once scaled back.
    fn disagreement(
        &self,
        forward: f64,
        other: f64,
        up: &dyn Fn() -> f64,
        other_up: &dyn Fn() -> f64,
    ) -> Option<(f64, f64)> {
        let floor_dominates = 4.0 * self.floor > self.relative(forward, other);
        if !floor_dominates && !self.differ(forward, other, self.floor) {
            return None;
        }
        let up = up();
        if !floor_dominates && !self.differ(up, other, self.floor) {
            return None;
        }
        let other_up = other_up();
        self.differ(up, other_up, self.floor * RESCALE_DOWN)
            .then_some((up, other_up))
    }
}

/// `∂f/∂xᵢ` in forward mode with the seed `2⁵¹²` instead of 1 and the result scaled back by
/// `2⁻⁵¹²` (exact: the tangent is linear in the seed), so that a tangent that underflows on the
/// way at seed 1 does not. Found by the `program` fuzz target: `(…)^(2·tanh b)` with `b ≈ 269`
/// multiplies `b`'s tangent `2.4e-116` by `tanh′ b ≈ 1e-233` (0 in forward mode), where the
/// tape multiplies the partials first (`1.3e-169`) and keeps a derivative of `7.2e145` above.
fn forward_seeded_up(p: &crate::program::Program, x: &[f64], i: usize) -> f64 {
    let seeded: Vec<Dual<f64>> = x
        .iter()
        .enumerate()
        .map(|(j, &v)| Dual::new(v, if i == j { RESCALE_UP } else { 0.0 }))
        .collect();
    p.eval(&seeded).tangent() * RESCALE_DOWN
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dominant_floor_moves_the_comparison_to_the_seeded_derivatives() {
        let unreachable = || -> f64 { panic!("not needed") };
        // A floor of the size of the fuzz seed regression-guard-shrinking-a-subnormal-tangent's:
        // 0 in forward mode against 3.1e11 on the tape is within it at seed 1, …
        let tolerance = Tolerance {
            scale: 0.0,
            floor: 9.2e159,
        };
        assert!(!tolerance.differ(0.0, 3.1e11, tolerance.floor));
        // … so the derivatives seeded up decide, with the floor scaled down: agreeing …
        let agree = tolerance.disagreement(0.0, 3.1e11, &|| 3.1e11, &|| 3.1e11 + 1e6);
        assert_eq!(agree, None);
        // … or not
        let differ = tolerance.disagreement(0.0, 3.1e11, &|| 3.1e11, &|| 3.2e11);
        assert_eq!(differ, Some((3.1e11, 3.2e11)));
        // Without a dominant floor, agreeing at seed 1 settles it.
        let small = Tolerance {
            scale: 0.0,
            floor: 0.0,
        };
        assert_eq!(
            small.disagreement(1.0, 1.0, &unreachable, &unreachable),
            None
        );
        // and a disagreement at seed 1 that forward mode seeded up removes
        assert_eq!(small.disagreement(0.0, 1.0, &|| 1.0, &unreachable), None);
        assert_eq!(
            small.disagreement(0.0, 1.0, &|| 0.0, &|| 1.0),
            Some((0.0, 1.0))
        );
    }
}
