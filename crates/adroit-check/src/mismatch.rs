//! [`Mismatch`] and [`Report`]: what a check found.

use crate::{CheckScalar, Tolerance};
use nalgebra::DMatrix;
use std::fmt;

/// Which two values were compared.
///
/// # Example
/// A custom rule for `y = 2x` that records the wrong value `2x + 1` fails the value comparison:
/// ```
/// use adroit_check::{Comparison, Options, rule_check};
/// use adroit_check::adroit_reverse::{Var, custom_rule};
/// let recorded = |x: &[Var<f64>]| {
///     custom_rule(x, &[2.0 * x[0].value() + 1.0], |w| vec![2.0 * w[0]])
/// };
/// let primal = |x: &[f64]| vec![2.0 * x[0]];
/// let options = Options::for_precision::<f64>();
/// let mismatch = rule_check(primal, recorded, &[1.0], 1, 0, &options).unwrap_err();
/// assert_eq!(mismatch.comparison, Comparison::Value);
/// assert_eq!((mismatch.output, mismatch.abs_error), (Some(0), 1.0));
/// assert_eq!((mismatch.reverse, mismatch.primal), (Some(3.0), Some(2.0))); // recorded, primal
/// assert!(mismatch.to_string().starts_with("value mismatch at output[0]:"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Comparison {
    /// Forward-mode vs reverse-mode derivative.
    ForwardVsReverse,
    /// Forward mode vs finite differences.
    ForwardVsFiniteDifference,
    /// Reverse mode vs finite differences.
    ReverseVsFiniteDifference,
    /// A Hessian entry vs its transpose.
    Symmetry,
    /// A recorded value vs the primal function's value.
    Value,
}

/// A failed check: where, the values compared, the errors and the tolerance.
///
/// Its `Display` is meant to be read in a test failure, and its `Debug` is the same text (as
/// `anyhow::Error`'s), so `.unwrap()`, `.expect(…)` and a `#[test]` returning
/// `Result<(), Box<Mismatch>>` print it too; the fields are public for programs:
/// ```text
/// derivative mismatch (forward vs reverse) at ∂output[0]/∂input[1]:
///   forward            = 3.0000000000000000e0
///   reverse            = 2.0000000000000000e0
///   finite difference  = 3.0000000000000004e0
///   |error| = 1.0e0, relative 3.3e-1, tolerance atol 1e-7 + rtol 1e-6·|reference|
/// ```
///
/// # Example
/// A custom rule for `x₀·x₁` whose pullback gets `∂/∂x₁` wrong (`x₁` where it should be `x₀`):
/// ```
/// use adroit_check::{Comparison, Options, rule_check};
/// use adroit_check::adroit_reverse::{Var, custom_rule};
/// let recorded = |x: &[Var<f64>]| {
///     let (a, b) = (x[0].value(), x[1].value());
///     custom_rule(x, &[a * b], move |w| vec![w[0] * b, w[0] * b])
/// };
/// let primal = |x: &[f64]| vec![x[0] * x[1]];
/// let options = Options::for_precision::<f64>();
/// let m = rule_check(primal, recorded, &[2.0, 3.0], 1, 7, &options).unwrap_err();
/// assert_eq!(m.comparison, Comparison::ReverseVsFiniteDifference);
/// assert_eq!((m.input, m.output, m.forward), (Some(1), None, None));
/// // at (2, 3) the pullback gives w·3 where finite differences give w·2
/// let ratio = m.reverse.unwrap() / m.finite_difference.unwrap();
/// assert!((ratio - 1.5).abs() < 1e-6 && (m.rel_error - 0.5).abs() < 1e-6);
/// let text = m.to_string();
/// assert!(text.starts_with("derivative mismatch (reverse vs finite differences) at input[1]:"));
/// // Both values are scaled by the random output cotangent w, which the message shows.
/// let w = m.cotangent.clone().unwrap()[0];
/// assert!((m.reverse.unwrap() - w * 3.0).abs() < 1e-12 && text.contains("output cotangent w = ["));
/// ```
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub struct Mismatch {
    /// The comparison that failed.
    pub comparison: Comparison,
    /// The input index (`None` in directional checks).
    pub input: Option<usize>,
    /// The output index (`None` in directional checks).
    pub output: Option<usize>,
    /// The forward-mode value, if computed.
    pub forward: Option<f64>,
    /// The reverse-mode value, if computed.
    pub reverse: Option<f64>,
    /// The finite-difference estimate, if computed.
    pub finite_difference: Option<f64>,
    /// The primal function's value: in a [`Comparison::Value`], the primal function's (where
    /// `reverse` is the value the rule recorded); in [`gradcheck`](crate::gradcheck), the
    /// value of output `output` at the point, evaluated in `f64` (`wᵀf(x)` for
    /// [`Mode::Fast`](crate::Mode::Fast)'s random output weights `w`), so a point outside the
    /// function's domain shows as such.
    pub primal: Option<f64>,
    /// True for a second-derivative comparison ([`hessian_check`](crate::hessian_check)):
    /// "forward" is then forward-over-forward, "reverse" forward-over-reverse, and the finite
    /// difference is that of the reverse-mode gradient.
    pub second_order: bool,
    /// The random output cotangent `w` of a [`rule_check`](crate::rule_check) or
    /// [`matrix_vjp_check`](crate::matrix_vjp_check) pullback comparison (a matrix's entries
    /// column-major): `reverse` and `finite difference` are then `wᵀ·∂f/∂input`. In a
    /// [`hessian_check`](crate::hessian_check) of a function of several outputs, the random
    /// output weights `w`: the values compared are second derivatives of `wᵀf`.
    pub cotangent: Option<Vec<f64>>,
    /// In [`gradcheck`](crate::gradcheck)'s and [`matrix_gradcheck`](crate::matrix_gradcheck)'s
    /// [`Mode::Fast`](crate::Mode::Fast), the random input direction `u` (snapped to the step;
    /// matrices' entries in order, column-major): the values compared are `wᵀ·J·u`, with `w`
    /// the output weights in `cotangent` (for several outputs), or `⟨∇f, u⟩`.
    pub direction: Option<Vec<f64>>,
    /// In a [`Comparison::Symmetry`] failure, the transposed entry `H[col][row]` (`reverse`
    /// is `H[row][col]`, both forward-over-reverse).
    pub transposed: Option<f64>,
    /// In [`matrix_gradcheck`](crate::matrix_gradcheck)'s and
    /// [`matrix_hessian_check`](crate::matrix_hessian_check)'s full mode, the entry that
    /// `input` numbers, as `(k, i, j)`: row `i`, column `j` of the `k`-th input matrix.
    pub matrix_entry: Option<(usize, usize, usize)>,
    /// In [`matrix_hessian_check`](crate::matrix_hessian_check)'s full mode, the entry that
    /// `output` (the Hessian's row) numbers, as `(k, i, j)`.
    pub matrix_row_entry: Option<(usize, usize, usize)>,
    /// `|a − b|` of the compared pair.
    pub abs_error: f64,
    /// `|a − b| / |b|` of the compared pair.
    pub rel_error: f64,
    /// The tolerance that was exceeded.
    pub tolerance: Tolerance,
    /// A remark on the check's set-up that may explain the failure: `f32` inputs failing a
    /// tolerance far finer than `f32`'s default, which would have accepted the pair (`Options`
    /// made for `f64`); or how a second-order check grew the options' absolute tolerance
    /// (scaled by the Hessian's rows, plus the gradient's rounding).
    pub note: Option<String>,
}

impl fmt::Debug for Mismatch {
    /// The [`Display`](fmt::Display) text: what `unwrap` and a failing `#[test]` print.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.comparison {
            Comparison::ForwardVsReverse => "forward vs reverse",
            Comparison::ForwardVsFiniteDifference => "forward vs finite differences",
            Comparison::ReverseVsFiniteDifference => "reverse vs finite differences",
            Comparison::Symmetry => "Hessian symmetry",
            Comparison::Value => "value",
        };
        let at = match (self.output, self.input, self.matrix_entry) {
            (_, Some(n), Some((k, i, j))) => {
                format!("∂f/∂inputs[{k}][({i}, {j})] (entry {n} of the inputs in order)")
            }
            (Some(o), Some(i), None) => format!("∂output[{o}]/∂input[{i}]"),
            (None, Some(i), _) => format!("input[{i}]"),
            (Some(o), None, _) => format!("output[{o}]"),
            (None, None, _) => "a random direction (vᵀ·J·u; ⟨∇f, u⟩ for a scalar f; Mode::Full \
                                 names the entry)"
                .to_string(),
        };
        let value = self.comparison == Comparison::Value;
        if value {
            writeln!(f, "value mismatch at {at}:")?;
        } else if self.second_order {
            let what = what
                .replace("forward", "forward-over-forward")
                .replace("reverse", "forward-over-reverse")
                .replace("finite differences", "finite differences of the gradient");
            let at = match (
                self.output,
                self.input,
                self.matrix_row_entry,
                self.matrix_entry,
            ) {
                (Some(row), Some(col), Some((k, i, j)), Some((l, p, q))) => format!(
                    "∂²f/∂inputs[{k}][({i}, {j})]∂inputs[{l}][({p}, {q})] (entries {row} and \
                     {col} of the inputs in order)"
                ),
                (Some(row), Some(col), ..) => format!("∂²f/∂x[{row}]∂x[{col}]"),
                _ => "a random direction pair (vᵀ·H·u; Mode::Full names the entry)".to_string(),
            };
            writeln!(f, "second-derivative mismatch ({what}) at {at}:")?;
        } else {
            writeln!(f, "derivative mismatch ({what}) at {at}:")?;
        }
        let line = |f: &mut fmt::Formatter<'_>, name: &str, v: Option<f64>| match v {
            Some(v) => writeln!(f, "  {name:<18} = {v:.16e}"),
            None => Ok(()),
        };
        line(f, "forward", self.forward)?;
        line(f, if value { "recorded" } else { "reverse" }, self.reverse)?;
        line(f, "finite difference", self.finite_difference)?;
        line(f, "transposed entry", self.transposed)?;
        line(f, "primal", self.primal)?;
        match (&self.cotangent, &self.direction) {
            (Some(w), Some(u)) => writeln!(
                f,
                "  (all are wᵀ·J·u for the output weights w = {} and the input direction u = {})",
                listed(w),
                listed(u)
            )?,
            (None, Some(u)) => {
                writeln!(f, "  (all are ⟨∇f, u⟩ for the direction u = {})", listed(u))?
            }
            (Some(w), None) => {
                let what = if self.second_order {
                    "second derivatives of wᵀf for the output weights"
                } else {
                    "wᵀ·∂f/∂input for the output cotangent"
                };
                writeln!(f, "  (both are {what} w = {})", listed(w))?;
            }
            (None, None) => {}
        }
        if self.rel_error.is_infinite() && self.abs_error.is_finite() {
            write!(
                f,
                "  |error| = {:.1e}, relative ∞ (the reference is 0 or subnormal), tolerance {}",
                self.abs_error, self.tolerance
            )?;
        } else {
            write!(
                f,
                "  |error| = {:.1e}, relative {:.1e}, tolerance {}",
                self.abs_error, self.rel_error, self.tolerance
            )?;
        }
        if let Some(hint) = self.hint() {
            write!(f, "\n  {hint}")?;
        }
        if let Some(note) = &self.note {
            write!(f, "\n  note: {note}")?;
        }
        Ok(())
    }
}

impl Mismatch {
    /// What the values themselves suggest about the failure, if anything: a point outside the
    /// function's domain, on its boundary, or a stencil that left it.
    fn hint(&self) -> Option<&'static str> {
        let ad = [self.forward, self.reverse];
        let ad = ad.iter().flatten();
        let fd_nan = self.finite_difference.is_some_and(f64::is_nan);
        let primal = self.primal.filter(|_| self.comparison != Comparison::Value);
        if primal.is_some_and(f64::is_nan) {
            Some(
                "f itself is NaN at this point: it lies outside the function's domain (e.g. √x \
                 or ln x at a negative x); there is no derivative to check",
            )
        } else if primal.is_some_and(f64::is_infinite) || ad.clone().any(|v| v.is_infinite()) {
            Some(
                "f or its derivative is infinite here: the point is on the boundary of the \
                 function's domain (√x or ln x at 0, asin x at ±1), at a vertical tangent, or \
                 where f overflows; there is no finite derivative to check",
            )
        } else if fd_nan && ad.clone().any(|v| v.is_finite()) {
            Some(
                "the finite difference is NaN: did its stencil leave the function's domain? \
                 Bound its reach with FiniteDifference::with_max_range",
            )
        } else if [
            self.forward,
            self.reverse,
            self.finite_difference,
            self.primal,
        ]
        .iter()
        .flatten()
        .all(|v| v.is_nan())
        {
            Some(
                "every value is NaN: is the function defined at this point (e.g. the square \
                 root or logarithm of a negative number)?",
            )
        } else {
            None
        }
    }
}

impl std::error::Error for Mismatch {}

/// `v` as `[a, b, …]` with 6 decimals, its first 8 entries and a count of the rest.
fn listed(v: &[f64]) -> String {
    let shown: Vec<String> = v.iter().take(8).map(|x| format!("{x:.6}")).collect();
    let rest = v.len().saturating_sub(8);
    if rest == 0 {
        format!("[{}]", shown.join(", "))
    } else {
        format!("[{}, … {rest} more]", shown.join(", "))
    }
}

/// What a successful check covered.
///
/// # Example
/// ```
/// use adroit_check::{Mode, Options, generic_fn, gradcheck};
/// let f = generic_fn!(|x| vec![x[0] * x[1]]);
/// // full mode: 3 comparisons (forward vs reverse, each vs finite differences) per Jacobian entry
/// let report = gradcheck(&f, &[2.0, 3.0], &Options::for_precision::<f64>()).unwrap();
/// assert_eq!(report.comparisons, 3 * 2);
/// assert!(report.max_ad_error < 1e-12 && report.max_fd_error < 1e-7);
/// // how much of each tolerance the worst comparison used (at most 1 when the check passes)
/// assert!(report.max_ad_tolerance_used <= 1.0 && report.max_fd_tolerance_used <= 1.0);
/// // fast mode: 3 comparisons per random direction
/// let fast = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 1, trials: 4 });
/// assert_eq!(gradcheck(&f, &[2.0, 3.0], &fast).unwrap().comparisons, 3 * 4);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Number of value pairs compared.
    pub comparisons: usize,
    /// Largest `|a − b|` between the two AD modes.
    pub max_ad_error: f64,
    /// Largest `|a − b|` between AD and finite differences.
    pub max_fd_error: f64,
    /// Largest share of its tolerance that an AD-vs-AD error used: `|a − b|` divided by the
    /// comparison's bound `atol + rtol·|b|` (0 for an exact match; at most 1 in a passing
    /// check). Unlike the absolute errors it is on one scale for large and small derivatives:
    /// it says how near the check came to failing.
    pub max_ad_tolerance_used: f64,
    /// The same for AD against finite differences (PyTorch's `gradcheck` reports neither;
    /// JAX's `check_grads` neither: both only pass or fail).
    pub max_fd_tolerance_used: f64,
}

impl Report {
    /// Two reports as one: comparisons added, the largest errors kept.
    pub(crate) fn merged(self, other: Report) -> Report {
        Report {
            comparisons: self.comparisons + other.comparisons,
            max_ad_error: self.max_ad_error.max(other.max_ad_error),
            max_fd_error: self.max_fd_error.max(other.max_fd_error),
            max_ad_tolerance_used: self.max_ad_tolerance_used.max(other.max_ad_tolerance_used),
            max_fd_tolerance_used: self.max_fd_tolerance_used.max(other.max_fd_tolerance_used),
        }
    }
}

impl fmt::Display for Report {
    /// One line: the number of comparisons and how near the closest came to failing.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{Options, generic_fn, gradcheck};
    /// let f = generic_fn!(|x| vec![x[0] * x[0]]);
    /// let report = gradcheck(&f, &[3.0], &Options::for_precision::<f64>()).unwrap();
    /// assert!(report.to_string().starts_with("3 comparisons passed; AD vs AD: largest |error| "));
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} comparisons passed; AD vs AD: largest |error| {:.1e} ({:.0}% of its tolerance); \
             AD vs finite differences: largest |error| {:.1e} ({:.0}% of its tolerance)",
            self.comparisons,
            self.max_ad_error,
            100.0 * self.max_ad_tolerance_used,
            self.max_fd_error,
            100.0 * self.max_fd_tolerance_used
        )
    }
}

/// Collects comparisons, failing on the first out-of-tolerance pair.
#[derive(Default)]
pub(crate) struct Checker {
    report: Option<Report>,
}

/// The values available at one checked entry.
#[derive(Clone, Copy, Default)]
pub(crate) struct Entry {
    pub(crate) input: Option<usize>,
    pub(crate) output: Option<usize>,
    pub(crate) forward: Option<f64>,
    pub(crate) reverse: Option<f64>,
    pub(crate) finite_difference: Option<f64>,
    pub(crate) primal: Option<f64>,
}

impl Checker {
    fn report(&mut self) -> &mut Report {
        self.report.get_or_insert(Report {
            comparisons: 0,
            max_ad_error: 0.0,
            max_fd_error: 0.0,
            max_ad_tolerance_used: 0.0,
            max_fd_tolerance_used: 0.0,
        })
    }

    /// Compares `actual` against `reference` for `entry`.
    pub(crate) fn compare(
        &mut self,
        comparison: Comparison,
        entry: Entry,
        actual: f64,
        reference: f64,
        tolerance: Tolerance,
    ) -> Result<(), Box<Mismatch>> {
        let abs_error = (actual - reference).abs();
        let report = self.report();
        report.comparisons += 1;
        let finite = abs_error.is_finite();
        // The share of the bound used: 0 for an exact match (also against a bound of 0).
        let used = if abs_error == 0.0 {
            0.0
        } else {
            abs_error / tolerance.bound(reference)
        };
        if finite {
            let (error, share) = match comparison {
                Comparison::ForwardVsFiniteDifference | Comparison::ReverseVsFiniteDifference => {
                    (&mut report.max_fd_error, &mut report.max_fd_tolerance_used)
                }
                _ => (&mut report.max_ad_error, &mut report.max_ad_tolerance_used),
            };
            *error = error.max(abs_error);
            *share = share.max(used);
        }
        // NaN against NaN agrees but proves nothing (a function undefined at the point, or a
        // derivative lost on both sides): a failed check, as PyTorch's gradcheck.
        let both_nan = actual.is_nan() && reference.is_nan();
        if !both_nan && tolerance.accepts(actual, reference) {
            return Ok(());
        }
        Err(Box::new(Mismatch {
            comparison,
            input: entry.input,
            output: entry.output,
            forward: entry.forward,
            reverse: entry.reverse,
            finite_difference: entry.finite_difference,
            primal: entry.primal,
            second_order: false,
            cotangent: None,
            direction: None,
            transposed: None,
            matrix_entry: None,
            matrix_row_entry: None,
            abs_error,
            rel_error: abs_error / reference.abs(),
            tolerance,
            note: None,
        }))
    }

    /// `value` (forward-over-reverse, at `entry`) against its transposed counterpart within
    /// `tolerance`: a Hessian's symmetry.
    pub(crate) fn compare_symmetry(
        &mut self,
        entry: Entry,
        value: f64,
        transposed: f64,
        tolerance: Tolerance,
    ) -> Result<(), Box<Mismatch>> {
        let entry = Entry {
            reverse: Some(value),
            ..entry
        };
        self.compare(Comparison::Symmetry, entry, value, transposed, tolerance)
            .map_err(|mut m| {
                m.transposed = Some(transposed);
                m
            })
    }

    /// The three comparisons of one entry whose forward, reverse and finite-difference values
    /// are all set: forward vs reverse within `ad`, each AD mode vs finite differences within
    /// `fd`.
    pub(crate) fn compare_modes(
        &mut self,
        entry: Entry,
        ad: Tolerance,
        fd: Tolerance,
    ) -> Result<(), Box<Mismatch>> {
        let (Some(fw), Some(rv), Some(fdv)) =
            (entry.forward, entry.reverse, entry.finite_difference)
        else {
            return Ok(());
        };
        self.compare(Comparison::ForwardVsReverse, entry, rv, fw, ad)?;
        self.compare(Comparison::ForwardVsFiniteDifference, entry, fw, fdv, fd)?;
        self.compare(Comparison::ReverseVsFiniteDifference, entry, rv, fdv, fd)
    }

    /// Compares three matrices entry by entry with [`compare_modes`](Self::compare_modes)
    /// (`input` = column, `output` = row); `values`: the function's outputs at the point, if
    /// the entries are first derivatives (reported as `primal`).
    pub(crate) fn compare_matrices<T: CheckScalar>(
        &mut self,
        (forward, reverse, fd): (&DMatrix<T>, &DMatrix<T>, &DMatrix<f64>),
        values: Option<&[f64]>,
        ad: Tolerance,
        fd_tolerance: Tolerance,
    ) -> Result<(), Box<Mismatch>> {
        for i in 0..forward.nrows() {
            for j in 0..forward.ncols() {
                let entry = Entry {
                    input: Some(j),
                    output: Some(i),
                    forward: Some(forward[(i, j)].to_f64_lossless()),
                    reverse: Some(reverse[(i, j)].to_f64_lossless()),
                    finite_difference: Some(fd[(i, j)]),
                    primal: values.map(|v| v[i]),
                };
                self.compare_modes(entry, ad, fd_tolerance)?;
            }
        }
        Ok(())
    }

    /// The report of all comparisons so far.
    pub(crate) fn finish(mut self) -> Report {
        self.report().clone()
    }
}
