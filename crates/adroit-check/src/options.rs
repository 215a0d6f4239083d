//! [`Options`] of the checks: mode, tolerances, finite-difference method.

use crate::fd::FiniteDifference;
use crate::tolerance::is_single;
use crate::{Comparison, Mismatch, Tolerance};
use num_traits::Float;

/// Which derivatives a check compares.
///
/// # Example
/// ```
/// use adroit_check::{Mode, Options, generic_fn, gradcheck};
/// // f: ℝ³ → ℝ². Full compares each of the 2·3 Jacobian entries three ways (forward vs reverse,
/// // each vs finite differences); Fast compares three values per random direction.
/// let f = generic_fn!(|x| vec![x[0] * x[1] * x[2], (x[0] + x[2]).sin()]);
/// let x = [0.5, -1.0, 2.0];
/// let full = Options::for_precision::<f64>();
/// assert_eq!(gradcheck(&f, &x, &full).unwrap().comparisons, 3 * 2 * 3);
/// let fast = full.with_mode(Mode::Fast { seed: 42, trials: 5 });
/// assert_eq!(gradcheck(&f, &x, &fast).unwrap().comparisons, 3 * 5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every entry of the Jacobian: `n` forward passes, `m` reverse sweeps and `m·n`
    /// finite-difference estimates (like PyTorch's `gradcheck`).
    Full,
    /// `trials` random input directions `u` and output cotangents `v` (seeded): compares
    /// `vᵀ(J·u)` from forward mode and from finite differences with `(vᵀJ)·u` from reverse mode
    /// (like JAX's `check_grads`); cost independent of `n` and `m`.
    ///
    /// The finite difference is of `t ↦ vᵀf(x + t·u)` with one step `h`, chosen as for a
    /// coordinate of size `max(1, |x|∞)`, and `u` snapped to `((x + h·u) − x)/h` so that the
    /// stencil's points are exact (rounding `x + t·u` would perturb the direction by
    /// ~ulp(x)/h); all three sides use the snapped `u`. In
    /// [`hessian_check`](crate::hessian_check), `vᵀHu` is compared the same way, plus the
    /// symmetry `vᵀ(Hu) = uᵀ(Hv)`. Its tolerance is relative to the projected value, which can
    /// cancel: in `f32` at an ill-conditioned point it may reject correct code that the full
    /// check passes (see [`hessian_check`](crate::hessian_check)).
    ///
    /// A screen, not a certificate: a projection weighs every entry, so an error confined to
    /// one entry moves `vᵀJu` by its share only, against a tolerance relative to the whole —
    /// in a review, 50 inputs with one gradient entry 10⁻⁴ off (relative) were caught by 16
    /// of 20 seeds with 1 trial and all 20 with 5, 10⁻⁵ off by 2 and 7 of 20 (full mode
    /// catches 3·10⁻⁶); an output whose derivatives are small beside another's is weighed
    /// down alike (`1.1·cos x` for `cos x` beside an output `1e6·x` passed 5 trials). And the
    /// one step, chosen for the scale `max(1, |x|∞)`, is too coarse for inputs far smaller
    /// than the largest (`ln x₀` with `x₀ = 1e-12` beside `1e12`: a NaN difference). Certify
    /// with [`Full`](Mode::Full).
    Fast {
        /// Seed of the random directions.
        seed: u64,
        /// Number of random direction pairs (at least 1).
        trials: usize,
    },
}

impl Mode {
    /// Panics on `Fast` with no trial: the check would compare nothing and pass.
    #[track_caller]
    pub(crate) fn check_trials(&self, who: &str) {
        if let Mode::Fast { trials: 0, .. } = self {
            panic!("{who}: Mode::Fast with 0 trials would check nothing");
        }
    }
}

/// Options of [`gradcheck`](crate::gradcheck), [`hessian_check`](crate::hessian_check) and
/// [`rule_check`](crate::rule_check) (which takes its number of random cotangents as an
/// argument and ignores [`mode`](Self::mode)).
///
/// Finite differences are always evaluated in `f64` (the checked function is generic), so for
/// `f32` they are a more accurate reference than the AD results being checked.
///
/// Make them for the inputs' precision: `f64` options on `f32` inputs fail on `f32`'s rounding
/// (the [`Mismatch`] then carries a [`note`](Mismatch::note) where `f32`'s default would have
/// accepted the pair), and `f32` options pass derivatives wrong by about 1 % (more at small
/// magnitudes: see [`Tolerance`]), on `f32` or `f64` inputs — check a rule in `f64`.
///
/// The fields are public; a check panics, as the builder methods do, on a tolerance
/// [`Tolerance::new`] refuses or a stencil that is not for a first derivative.
///
/// # Example
/// ```
/// use adroit_check::{Mode, Options, Tolerance};
/// let opts = Options::for_precision::<f32>().with_mode(Mode::Fast { seed: 7, trials: 3 });
/// assert_eq!(opts.ad_tolerance, Tolerance::ad_vs_ad::<f32>());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// Full Jacobian or random directions.
    pub mode: Mode,
    /// Forward vs reverse (and Hessian symmetry).
    pub ad_tolerance: Tolerance,
    /// AD vs finite differences.
    pub fd_tolerance: Tolerance,
    /// The finite-difference method (default: 5-point central, adaptive step).
    pub fd: FiniteDifference,
}

impl Options {
    /// Full mode with the default tolerances of the precision of `T` (see [`Tolerance`]).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// use adroit_check::{Mode, Options, Tolerance};
    /// let o = Options::for_precision::<f64>();
    /// assert_eq!(o.mode, Mode::Full);
    /// assert_eq!(o.ad_tolerance, Tolerance::new(1e-12, 1e-10));
    /// assert_eq!(o.fd_tolerance, Tolerance::new(1e-7, 1e-6));
    /// assert_eq!(o.fd, FiniteDifference::default());
    /// // f32's rounding needs looser tolerances (see Tolerance).
    /// assert_eq!(Options::for_precision::<f32>().fd_tolerance, Tolerance::new(1e-3, 1e-2));
    /// ```
    pub fn for_precision<T: Float>() -> Self {
        Self {
            mode: Mode::Full,
            ad_tolerance: Tolerance::ad_vs_ad::<T>(),
            fd_tolerance: Tolerance::ad_vs_fd::<T>(),
            fd: FiniteDifference::default(),
        }
    }

    /// With `mode`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{Mode, Options, generic_fn, gradcheck};
    /// let options = Options::for_precision::<f64>().with_mode(Mode::Fast { seed: 0, trials: 8 });
    /// assert_eq!(options.mode, Mode::Fast { seed: 0, trials: 8 });
    /// let f = generic_fn!(|x| vec![x[0].exp() * x[1]]);
    /// assert_eq!(gradcheck(&f, &[0.1, 0.2], &options).unwrap().comparisons, 3 * 8);
    /// ```
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// With the finite-difference method `fd` (e.g. bounded by a domain boundary).
    ///
    /// # Panics
    /// If `fd`'s stencil is not one for a first derivative (e.g. `FiniteDifference::central(3,
    /// 2)`, a second-derivative stencil, which the checks would compare with first derivatives).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// use adroit_check::{Options, generic_fn, gradcheck};
    /// // √x at 0.001: finite differences must not step below 0, so bound their range.
    /// let f = generic_fn!(|x| vec![x[0].sqrt()]);
    /// let fd = FiniteDifference::default().with_max_range(5e-4);
    /// assert!(gradcheck(&f, &[1e-3], &Options::for_precision::<f64>().with_fd(fd)).is_ok());
    /// ```
    #[track_caller]
    pub fn with_fd(mut self, fd: FiniteDifference) -> Self {
        assert_first_derivative(&fd, "Options::with_fd: the stencil");
        self.fd = fd;
        self
    }

    /// With the AD-vs-finite-difference tolerance `tolerance`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Step};
    /// use adroit_check::{Comparison, Options, Tolerance, generic_fn, gradcheck};
    /// // A deliberately coarse reference: the 2-point forward difference with h = 0.125 gives
    /// // (f(1.125) − f(1))/0.125 = 2.125 for f = x² at 1, 0.125 off the exact 2.
    /// let f = generic_fn!(|x| vec![x[0] * x[0]]);
    /// let coarse = FiniteDifference::forward(2, 1).with_step(Step::Fixed(0.125));
    /// let strict = Options::for_precision::<f64>().with_fd(coarse);
    /// let mismatch = gradcheck(&f, &[1.0], &strict).unwrap_err();
    /// assert_eq!(mismatch.comparison, Comparison::ForwardVsFiniteDifference);
    /// let loose = strict.with_fd_tolerance(Tolerance::new(0.2, 0.0));
    /// assert!(gradcheck(&f, &[1.0], &loose).is_ok());
    /// ```
    pub fn with_fd_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.fd_tolerance = tolerance;
        self
    }

    /// Panics, naming `who`, on what the builder methods refuse but the public fields let
    /// through: a tolerance [`Tolerance::new`] refuses, a stencil not for a first derivative.
    #[track_caller]
    pub(crate) fn check(&self, who: &str) {
        self.ad_tolerance.check(who, "Options::ad_tolerance");
        self.fd_tolerance.check(who, "Options::fd_tolerance");
        assert_first_derivative(&self.fd, &format!("{who}: Options::fd's stencil"));
    }

    /// `m` with a [`note`](Mismatch::note) when `T` is `f32`, the tolerance `m` exceeded is a
    /// thousandth of `f32`'s default for that comparison or less, and that default accepts the
    /// pair: options made for `f64`, failing on `f32`'s rounding rather than on a wrong
    /// derivative.
    pub(crate) fn note_precision<T: Float>(&self, mut m: Box<Mismatch>) -> Box<Mismatch> {
        if !is_single::<T>() {
            return m;
        }
        let defaults = Self::for_precision::<T>();
        let default = match m.comparison {
            Comparison::ForwardVsFiniteDifference | Comparison::ReverseVsFiniteDifference => {
                defaults.fd_tolerance
            }
            _ => defaults.ad_tolerance,
        };
        let finer =
            m.tolerance.atol <= default.atol * 1e-3 && m.tolerance.rtol <= default.rtol * 1e-3;
        // |reference| from the relative error (0 where that is infinite).
        let reference = if m.rel_error.is_finite() && m.rel_error > 0.0 {
            m.abs_error / m.rel_error
        } else {
            0.0
        };
        if finer && m.abs_error <= default.bound(reference) {
            m.note = Some(format!(
                "the tolerance is far finer than f32's default for this comparison ({default}), \
                 which accepts this pair: were the Options made for f64? \
                 Options::for_precision::<f32>() matches the inputs"
            ));
        }
        m
    }

    /// With the forward-vs-reverse tolerance `tolerance`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::{Options, Tolerance, generic_fn, gradcheck};
    /// // Both modes compute ∂(x₀·x₁) as exactly x₁ and x₀, so even a zero tolerance between them
    /// // passes.
    /// let f = generic_fn!(|x| vec![x[0] * x[1]]);
    /// let exact = Options::for_precision::<f64>().with_ad_tolerance(Tolerance::new(0.0, 0.0));
    /// assert_eq!(gradcheck(&f, &[0.3, 0.7], &exact).unwrap().max_ad_error, 0.0);
    /// ```
    pub fn with_ad_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.ad_tolerance = tolerance;
        self
    }
}

/// Panics unless `fd` estimates a first derivative, the only order the checks compare;
/// `stencil` names it in the message.
#[track_caller]
fn assert_first_derivative(fd: &FiniteDifference, stencil: &str) {
    let order = fd.stencil().derivative();
    assert!(
        order == 1,
        "{stencil} estimates derivative order {order}; the checks compare first derivatives \
         (use an order-1 stencil)"
    );
}
