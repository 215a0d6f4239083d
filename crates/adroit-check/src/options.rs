//! [`Options`] of the checks: mode, tolerances, finite-difference method.

use crate::Tolerance;
use crate::fd::FiniteDifference;
use num_traits::Float;

/// Which derivatives a check compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Every entry of the Jacobian: `n` forward passes, `m` reverse sweeps and `m·n`
    /// finite-difference estimates (like PyTorch's `gradcheck`).
    Full,
    /// `trials` random input directions `u` and output cotangents `v` (seeded): compares
    /// `vᵀ(J·u)` from forward mode and from finite differences with `(vᵀJ)·u` from reverse mode
    /// (like JAX's `check_grads`); cost independent of `n` and `m`.
    Fast {
        /// Seed of the random directions.
        seed: u64,
        /// Number of random direction pairs.
        trials: usize,
    },
}

/// Options of [`gradcheck`](crate::gradcheck), [`hessian_check`](crate::hessian_check) and
/// [`rule_check`](crate::rule_check).
///
/// Finite differences are always evaluated in `f64` (the checked function is generic), so for
/// `f32` they are a more accurate reference than the AD results being checked.
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
    pub fn for_precision<T: Float>() -> Self {
        Self {
            mode: Mode::Full,
            ad_tolerance: Tolerance::ad_vs_ad::<T>(),
            fd_tolerance: Tolerance::ad_vs_fd::<T>(),
            fd: FiniteDifference::default(),
        }
    }

    /// With `mode`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// With the finite-difference method `fd` (e.g. bounded by a domain boundary).
    pub fn with_fd(mut self, fd: FiniteDifference) -> Self {
        self.fd = fd;
        self
    }

    /// With the AD-vs-finite-difference tolerance `tolerance`.
    pub fn with_fd_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.fd_tolerance = tolerance;
        self
    }

    /// With the forward-vs-reverse tolerance `tolerance`.
    pub fn with_ad_tolerance(mut self, tolerance: Tolerance) -> Self {
        self.ad_tolerance = tolerance;
        self
    }
}
