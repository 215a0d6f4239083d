//! The second-order comparisons shared by [`hessian_check`](crate::hessian_check),
//! [`matrix_hessian_check`](crate::matrix_hessian_check)
//! and [`reverse_hessian_check`](crate::reverse_hessian_check): a Hessian (or Hessian-vector
//! products) against finite differences of the gradient, and its symmetry, with tolerances
//! that scale with the loss.

use crate::directions::{dot, random_vector, snapped_step};
use crate::fd::Step;
use crate::mismatch::{Checker, Entry};
use crate::{Comparison, Mismatch, Options, Report, Tolerance};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::RefCell;
use std::collections::HashMap;

/// How [`full`] scales the options' absolute tolerances.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scale {
    /// By each entry's row (and for the symmetry the larger of its two rows): tolerances that
    /// follow the loss's scale.
    Rows,
    /// Not at all: `atol` as the options give it ([`hessian_check`](crate::hessian_check)).
    Fixed,
}

/// [`Mode::Full`](crate::Mode::Full): every entry against the differences of the gradient, and
/// its transpose; the absolute tolerances scaled as `scale` says, plus the gradient's rounding
/// in its differences.
pub(crate) fn full(
    hessian: &DMatrix<f64>,
    x: &[f64],
    gradient_at: &impl Fn(&[f64]) -> Vec<f64>,
    options: &Options,
    scale: Scale,
) -> Result<Report, Box<Mismatch>> {
    let n = x.len();
    let g = gradient_at(x);
    // Entry (row, col) by differences of the gradient's entry `row` along `x[col]`, with the
    // step the options choose for it, kept for the rounding allowance.
    let mut fd = DMatrix::zeros(n, n);
    let mut steps = DMatrix::zeros(n, n);
    for col in 0..n {
        // The gradient at each point visited along x[col], kept for every row: one gradient
        // serves all N entries of a column wherever their steps' points coincide (the
        // adaptive step's probes and a fixed step's stencil).
        let visited: RefCell<HashMap<u64, Vec<f64>>> = RefCell::default();
        for row in 0..n {
            let along = |t: f64| {
                if let Some(g) = visited.borrow().get(&t.to_bits()) {
                    return g[row];
                }
                let mut point = x.to_vec();
                point[col] = t;
                let g = gradient_at(&point);
                let entry = g[row];
                visited.borrow_mut().insert(t.to_bits(), g);
                entry
            };
            let h = options.fd.step_at(&along, x[col]);
            fd[(row, col)] = options
                .fd
                .clone()
                .with_step(Step::Fixed(h))
                .estimate(along, x[col]);
            steps[(row, col)] = h;
        }
    }
    // Each row's largest entry by either method (the Hessian is symmetric: its column's too).
    // An entry's differences are of the gradient's entry `row`, so its row sets their scale;
    // the other entry's row, `col`, only the symmetry's — with it, a wrong entry beside a
    // million-times stiffer one in its row passed (0.05 off beside 1e6) on both its entries;
    // the row alone catches the one in the other row.
    let rows: Vec<f64> = (0..n)
        .map(|i| match scale {
            Scale::Rows => largest(hessian.row(i).iter().chain(fd.row(i).iter())),
            Scale::Fixed => 1.0,
        })
        .collect();
    let mut checker = Checker::default();
    for col in 0..n {
        for row in 0..n {
            let (value, reference) = (hessian[(row, col)], fd[(row, col)]);
            let at = (Some(col), Some(row));
            let transposed = hessian[(col, row)];
            let atol = Allowance {
                scale: rows[row],
                symmetry_scale: rows[row].max(rows[col]),
                rounding: finite_or_zero(4.0 * f64::EPSILON * g[row].abs() / steps[(row, col)]),
            };
            compare(
                &mut checker,
                at,
                (value, reference, transposed),
                (atol, false),
                options,
            )?;
        }
    }
    Ok(checker.finish())
}

/// [`Mode::Fast`](crate::Mode::Fast): `vᵀHu` against differences and `vᵀ(Hu) = uᵀ(Hv)`, for `trials` random pairs.
pub(crate) fn fast(
    hvp: &impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    gradient_at: &impl Fn(&[f64]) -> Vec<f64>,
    options: &Options,
    (seed, trials): (u64, usize),
) -> Result<Report, Box<Mismatch>> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut checker = Checker::default();
    let g = gradient_at(x);
    for _ in 0..trials {
        let u = random_vector(&mut rng, x.len());
        let v = random_vector(&mut rng, x.len());
        // t ↦ vᵀ∇f(x + t·direction)
        let along = |direction: &[f64], t: f64| -> f64 {
            let point: Vec<f64> = x.iter().zip(direction).map(|(a, b)| a + t * b).collect();
            dot(&v, &gradient_at(&point))
        };
        let (h, u, s) = snapped_step(options, x, &u, &along);
        let (hu, hv) = (hvp(&u), hvp(&v));
        let fixed = options.fd.clone().with_step(Step::Fixed(h));
        let reference = fixed.estimate(|tau| along(&u, tau - s), s);
        let value = dot(&v, &hu);
        let scale = largest(hu.iter().chain(&hv).chain([&reference]));
        let atol = Allowance {
            scale,
            symmetry_scale: scale,
            rounding: gradient_rounding(&v, &g, h),
        };
        compare(
            &mut checker,
            (None, None),
            (value, reference, dot(&u, &hv)),
            (atol, true),
            options,
        )?;
    }
    Ok(checker.finish())
}

/// The largest magnitude among `values` that are finite, or 1 when that is 0 (or there are
/// none): the scale of a Hessian's tolerances.
fn largest<'a>(values: impl Iterator<Item = &'a f64>) -> f64 {
    let m = values
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |m, v| m.max(v.abs()));
    if m > 0.0 { m } else { 1.0 }
}

/// What the rounding of the gradient `g` costs the difference of `t ↦ vᵀ∇f(x + t·u)` at step
/// `h`: `4ε·Σ|vᵢ·gᵢ|/h` (0 when not finite: a NaN or infinite gradient, nothing to allow for).
pub(crate) fn gradient_rounding(v: &[f64], g: &[f64], h: f64) -> f64 {
    let terms: f64 = v.iter().zip(g).map(|(a, b)| (a * b).abs()).sum();
    finite_or_zero(4.0 * f64::EPSILON * terms / h)
}

/// `v`, or 0 when it is not finite (a NaN or infinite gradient: nothing to allow for).
fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// How a comparison's absolute tolerances grow: `atol·scale + rounding` against the
/// differences, `atol·symmetry_scale` (plus the rounding in fast mode) for the symmetry.
#[derive(Clone, Copy)]
struct Allowance {
    scale: f64,
    symmetry_scale: f64,
    rounding: f64,
}

impl Allowance {
    /// `tolerance` with its absolute part `atol·scale + rounding`.
    fn apply(self, tolerance: Tolerance) -> Tolerance {
        Tolerance::new(tolerance.atol * self.scale + self.rounding, tolerance.rtol)
    }

    /// `m` with a note on how its absolute tolerance was built from the options' `atol`, if
    /// it differs from it.
    fn explain(self, mut m: Box<Mismatch>, atol: f64) -> Box<Mismatch> {
        let scale = self.scale;
        if m.note.is_none() && (scale != 1.0 || self.rounding != 0.0) {
            // (A fixed scale, 1, is not explained as a row's: `hessian_check` does not scale,
            // and its note claimed the row's largest entry, 0.86, was 1: a subagent's hunt.)
            let scaled = if scale == 1.0 {
                String::new()
            } else {
                format!(
                    " × {scale:e} (the largest second derivative in the entry's row, or in the \
                     compared products in fast mode)"
                )
            };
            m.note = Some(format!(
                "the absolute tolerance is the options' atol {atol:e}{scaled} + {:e} (the \
                 gradient's rounding in its differences)",
                self.rounding
            ));
        }
        m
    }
}

/// A second derivative (`at`: its column and row, or none for `vᵀHu`) against its finite
/// difference within `options.fd_tolerance`, then against its transposed counterpart within
/// `options.ad_tolerance`, their absolute parts grown by `allowance` (the symmetry's by its
/// scale only, unless `symmetry_rounding`: in fast mode, where the scale is that of the two
/// products themselves, a Hessian that is 0 up to rounding would otherwise fail its symmetry
/// on the products' last bits while passing the differences).
fn compare(
    checker: &mut Checker,
    (input, output): (Option<usize>, Option<usize>),
    (value, reference, transposed): (f64, f64, f64),
    (allowance, symmetry_rounding): (Allowance, bool),
    options: &Options,
) -> Result<(), Box<Mismatch>> {
    let entry = Entry {
        input,
        output,
        reverse: Some(value),
        finite_difference: Some(reference),
        ..Entry::default()
    };
    let comparison = Comparison::ReverseVsFiniteDifference;
    let fd = allowance.apply(options.fd_tolerance);
    checker
        .compare(comparison, entry, value, reference, fd)
        .map_err(|m| allowance.explain(m, options.fd_tolerance.atol))?;
    let entry = Entry {
        finite_difference: None,
        ..entry
    };
    let ad = Allowance {
        scale: allowance.symmetry_scale,
        rounding: if symmetry_rounding {
            allowance.rounding
        } else {
            0.0
        },
        ..allowance
    };
    checker
        .compare_symmetry(entry, value, transposed, ad.apply(options.ad_tolerance))
        .map_err(|m| ad.explain(m, options.ad_tolerance.atol))
}
