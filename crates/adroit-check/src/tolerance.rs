//! [`Tolerance`]: the one comparison rule, `|a − b| ≤ atol + rtol·|b|`.

use num_traits::Float;
use std::fmt;

/// Accepts `a` against the reference `b` when `|a − b| ≤ atol + rtol·|b|`. Infinite values must
/// match exactly; NaN is never accepted (unless both are NaN, which is reported by the
/// caller's context as agreement of two modes that both failed).
///
/// Defaults per precision (used by [`Options`](crate::Options)):
///
/// | comparison | `f64` | `f32` |
/// |---|---|---|
/// | forward vs reverse (same rules, different summation order) | `1e-12 + 1e-10·|b|` | `1e-4 + 1e-3·|b|` |
/// | AD vs finite differences (5-point central, adaptive step, in `f64`) | `1e-7 + 1e-6·|b|` | `1e-3 + 1e-2·|b|` |
///
/// The `f32` tolerances are loose, because correct `f32` code can be that far from the exact
/// value where the problem is ill-conditioned (an SVD's second derivatives at singular values
/// 3 % apart: 1.3e-3 relative, `tests/it/decompositions.rs`), and so they let real errors
/// through: by the formula, a derivative of magnitude 1 wrong by 1.1 %, one of 7.7e-3 by 14 %,
/// and one below about 5e-4 of the wrong sign (found by a review). Check a rule in `f64`
/// (PyTorch's `gradcheck` asks for double precision too), and use `f32` checks for code that
/// differs in `f32`.
///
/// # Example
/// ```
/// use adroit_check::Tolerance;
/// let t = Tolerance::new(1e-8, 1e-6);
/// assert!(t.accepts(1.0 + 1e-7, 1.0));
/// assert!(!t.accepts(1.01, 1.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the reference `|b|`).
    pub rtol: f64,
}

impl Tolerance {
    /// A tolerance: `|a − b| ≤ atol + rtol·|b|`.
    ///
    /// # Panics
    /// If `atol` or `rtol` is negative or NaN (every comparison would fail, and the report
    /// would blame the derivatives) or infinite (every comparison would pass, and the report
    /// would show a tolerance used of 0); in a `const`, at compile time.
    ///
    /// # Example
    /// ```
    /// use adroit_check::Tolerance;
    /// // A const fn, so a tolerance can be a named constant.
    /// const LOOSE: Tolerance = Tolerance::new(1e-6, 0.0);
    /// assert!(LOOSE.accepts(1.0 + 5e-7, 1.0) && !LOOSE.accepts(1.0 + 2e-6, 1.0));
    /// assert!(std::panic::catch_unwind(|| Tolerance::new(-1.0, 0.0)).is_err());
    /// assert!(std::panic::catch_unwind(|| Tolerance::new(f64::INFINITY, 0.0)).is_err());
    /// ```
    #[track_caller]
    pub const fn new(atol: f64, rtol: f64) -> Self {
        assert!(
            atol >= 0.0 && rtol >= 0.0 && atol.is_finite() && rtol.is_finite(),
            "Tolerance::new: atol and rtol must be finite and ≥ 0 (not NaN or infinite)"
        );
        Self { atol, rtol }
    }

    /// Panics, naming `who` and the tolerance `which`, if it is one [`Tolerance::new`] refuses
    /// (the fields are public, so a literal can hold one).
    #[track_caller]
    pub(crate) fn check(&self, who: &str, which: &str) {
        let ok = |v: f64| v >= 0.0 && v.is_finite();
        assert!(
            ok(self.atol) && ok(self.rtol),
            "{who}: {which} ({self}) must have finite atol and rtol ≥ 0 (negative or NaN fails \
             every comparison and blames the derivatives; infinite passes every one)"
        );
    }

    /// Default for forward vs reverse mode at the precision of `T`. In `f32` the two modes'
    /// roundings differ by more than their summation order suggests wherever a factorisation
    /// amplifies them (with the condition number, up to its square): a Gaussian likelihood
    /// through Cholesky at `cond(Σ) = 166` had a gradient entry 5.8e-4 apart, relatively,
    /// between the modes; at the former default `1e-5 + 1e-4·|b|`, 23 of 1000
    /// random points of that function failed [`hessian_check`](crate::hessian_check) and 1
    /// [`gradcheck`](crate::gradcheck), none now (`tests/it/f32_tolerance.rs`). The price: an
    /// `f32` check no longer sees errors of about 1e-3 relative (a rule's derivative 1e-3 off
    /// was caught by `hessian_check` at 200 of 200 points before, at none now; 3e-3 and more
    /// as before). Check generic code in `f64` for finer errors.
    ///
    /// # Example
    /// ```
    /// use adroit_check::Tolerance;
    /// assert_eq!(Tolerance::ad_vs_ad::<f64>(), Tolerance::new(1e-12, 1e-10));
    /// assert_eq!(Tolerance::ad_vs_ad::<f32>(), Tolerance::new(1e-4, 1e-3));
    /// ```
    pub fn ad_vs_ad<T: Float>() -> Self {
        if is_single::<T>() {
            Self::new(1e-4, 1e-3)
        } else {
            Self::new(1e-12, 1e-10)
        }
    }

    /// Default for AD vs finite differences at the precision of `T`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::Tolerance;
    /// assert_eq!(Tolerance::ad_vs_fd::<f64>(), Tolerance::new(1e-7, 1e-6));
    /// assert_eq!(Tolerance::ad_vs_fd::<f32>(), Tolerance::new(1e-3, 1e-2));
    /// ```
    pub fn ad_vs_fd<T: Float>() -> Self {
        if is_single::<T>() {
            Self::new(1e-3, 1e-2)
        } else {
            Self::new(1e-7, 1e-6)
        }
    }

    /// The bound `atol + rtol·|reference|`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::Tolerance;
    /// // atol + rtol·|reference| = 0.5 + 0.25·|−4|.
    /// assert_eq!(Tolerance::new(0.5, 0.25).bound(-4.0), 1.5);
    /// ```
    pub fn bound(&self, reference: f64) -> f64 {
        self.atol + self.rtol * reference.abs()
    }

    /// True when `actual` is within tolerance of `reference`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::Tolerance;
    /// let t = Tolerance::new(0.5, 0.0);
    /// assert!(t.accepts(1.5, 1.0)); // an error equal to the bound is accepted
    /// assert!(!t.accepts(1.75, 1.0));
    /// // Infinities must match exactly; NaN is accepted only against NaN.
    /// assert!(t.accepts(f64::INFINITY, f64::INFINITY) && !t.accepts(f64::INFINITY, f64::MAX));
    /// assert!(!t.accepts(f64::NAN, 1.0) && t.accepts(f64::NAN, f64::NAN));
    /// ```
    pub fn accepts(&self, actual: f64, reference: f64) -> bool {
        if actual.is_nan() || reference.is_nan() {
            return actual.is_nan() && reference.is_nan();
        }
        if actual.is_infinite() || reference.is_infinite() {
            return actual == reference;
        }
        (actual - reference).abs() <= self.bound(reference)
    }
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "atol {:e} + rtol {:e}·|reference|", self.atol, self.rtol)
    }
}

/// True for `f32`-like precision.
pub(crate) fn is_single<T: Float>() -> bool {
    T::epsilon().to_f64().is_some_and(|e| e > 1e-10)
}
