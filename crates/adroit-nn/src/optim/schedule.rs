//! [`Schedule`]: learning rates as functions of the step count (Optax's schedules).

/// A learning rate as a function of the step count `t` (0 at the first update, as Optax).
///
/// # Example
/// Any rule takes a schedule where it takes a learning rate; it advances one step per update.
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Descent, Optimizer, Schedule};
/// // Halve the rate from the third update on (t = 2, counting from 0).
/// let mut opt = Descent::new(Schedule::Step { init: 0.5, boundaries_and_scales: vec![(2, 0.5)] });
/// let mut rates = Vec::new();
/// for _ in 0..4 {
///     let mut u = vec![dmatrix![1.0]]; // g = 1, so u = −η(t)
///     opt.update(&mut u, &[&dmatrix![0.0]]);
///     rates.push(-u[0][0]);
/// }
/// assert_eq!(rates, [0.5, 0.5, 0.25, 0.25]);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[non_exhaustive]
pub enum Schedule {
    /// `η` at every step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::{Descent, Schedule};
    /// assert_eq!(Schedule::Constant(0.1).at(1000), 0.1);
    /// // A plain number is a constant schedule.
    /// assert_eq!(Schedule::from(0.1), Schedule::Constant(0.1));
    /// assert_eq!(Descent::new(0.1), Descent::new(Schedule::Constant(0.1)));
    /// ```
    Constant(f64),
    /// Step decay (Optax's `piecewise_constant_schedule`): `η₀` multiplied by each `scale`
    /// whose `boundary ≤ t`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let s = Schedule::Step { init: 1.0, boundaries_and_scales: vec![(10, 0.5), (20, 0.1)] };
    /// assert_eq!((s.at(9), s.at(10), s.at(25)), (1.0, 0.5, 0.05)); // 1·0.5·0.1 from t = 20
    /// ```
    Step {
        /// `η₀`.
        init: f64,
        /// `(boundary, scale)` pairs.
        boundaries_and_scales: Vec<(usize, f64)>,
    },
    /// Exponential decay `η₀·rate^(t/transition_steps)`, or with `staircase`
    /// `η₀·rate^⌊t/transition_steps⌋` (Optax's `exponential_decay` and its `staircase`; for
    /// `rate > 0` and `transition_steps > 0` the staircase is PyTorch's
    /// `StepLR(step_size = transition_steps, gamma = rate)`, which a finite [`Schedule::Step`]
    /// list cannot express). With `transition_steps = 0` or `rate = 0` the decay is disabled:
    /// `η₀` at every step, as in Optax (PyTorch's StepLR gives 0 from `step_size` on for
    /// `gamma = 0`, and fails on a step size of 0 with a division by zero).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let s = Schedule::Exponential { init: 1.0, rate: 0.5, transition_steps: 10, staircase: false };
    /// assert_eq!((s.at(0), s.at(10), s.at(20)), (1.0, 0.5, 0.25)); // halved every 10 steps
    /// assert!((s.at(5) - 0.5f64.sqrt()).abs() < 1e-15); // and smoothly in between
    /// let stairs = Schedule::Exponential { init: 1.0, rate: 0.5, transition_steps: 10, staircase: true };
    /// assert_eq!((stairs.at(9), stairs.at(10), stairs.at(19), stairs.at(1000)), (1.0, 0.5, 0.5, 0.5f64.powi(100)));
    /// let off = Schedule::Exponential { init: 1.0, rate: 0.5, transition_steps: 0, staircase: false };
    /// assert_eq!((off.at(0), off.at(7)), (1.0, 1.0));
    /// ```
    Exponential {
        /// `η₀`.
        init: f64,
        /// The decay rate per `transition_steps`.
        rate: f64,
        /// Steps per factor of `rate`.
        transition_steps: usize,
        /// Decay in whole factors of `rate` every `transition_steps` steps instead of
        /// smoothly.
        staircase: bool,
    },
    /// Cosine decay `η₀·((1 − α)·½(1 + cos(π·min(t, T)/T)) + α)` (Loshchilov & Hutter 2017;
    /// Optax's `cosine_decay_schedule`). `T = 0`, which Optax refuses, decays at once: `η₀` at
    /// `t = 0`, `α·η₀` from `t = 1`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let s = Schedule::Cosine { init: 1.0, decay_steps: 100, alpha: 0.1 };
    /// assert_eq!(s.at(0), 1.0);
    /// assert!((s.at(50) - 0.55).abs() < 1e-15); // 0.9·½(1 + cos(π/2)) + 0.1
    /// // α·η₀ from T on:
    /// assert!((s.at(100) - 0.1).abs() < 1e-15 && (s.at(500) - 0.1).abs() < 1e-15);
    /// ```
    Cosine {
        /// `η₀`.
        init: f64,
        /// `T`.
        decay_steps: usize,
        /// The final fraction `α` of `η₀`.
        alpha: f64,
    },
    /// Linear interpolation from `init` to `end` over `steps`, then `end` (Optax's
    /// `linear_schedule`; a linear warm-up with `init = 0`). `steps = 0` holds `init`, as in
    /// Optax.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let s = Schedule::Linear { init: 0.0, end: 0.1, steps: 10 };
    /// assert_eq!((s.at(0), s.at(5), s.at(10), s.at(50)), (0.0, 0.05, 0.1, 0.1));
    /// ```
    Linear {
        /// The rate at `t = 0`.
        init: f64,
        /// The rate from `t = steps` on (unless `steps = 0`: then `init` throughout).
        end: f64,
        /// Length of the ramp.
        steps: usize,
    },
    /// A linear warm-up from 0 to the value of `then` at its start over `steps`, then `then`
    /// (shifted to start after the warm-up): Optax's `join_schedules([linear_schedule(0,
    /// then(0), steps), then], [steps])`. Optax's `warmup_cosine_decay_schedule(0, peak, w,
    /// d, end)` is `Warmup { steps: w, then: Cosine { init: peak, decay_steps: d − w, alpha:
    /// end/peak } }` (α = 0 for peak = 0, as Optax; its `decay_steps` count the warm-up; tested
    /// against Optax, which rounds the joined schedule to `f32`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let decay = Schedule::Exponential { init: 0.1, rate: 0.5, transition_steps: 10, staircase: false };
    /// let s = Schedule::Warmup { steps: 4, then: Box::new(decay) };
    /// // 0, 0.1·2/4 half-way, then the decay from its start: 0.1 at t = 4, 0.1·0.5 at t = 14.
    /// assert_eq!((s.at(0), s.at(2), s.at(4), s.at(14)), (0.0, 0.05, 0.1, 0.05));
    /// ```
    Warmup {
        /// Length of the warm-up.
        steps: usize,
        /// The schedule after the warm-up.
        then: Box<Schedule>,
    },
}

impl Schedule {
    /// The learning rate at step `t`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Schedule;
    /// let s = Schedule::Cosine { init: 0.1, decay_steps: 10, alpha: 0.0 };
    /// assert_eq!(s.at(0), 0.1);
    /// assert!(s.at(10).abs() < 1e-12);
    /// ```
    pub fn at(&self, t: usize) -> f64 {
        match self {
            Schedule::Constant(eta) => *eta,
            Schedule::Step {
                init,
                boundaries_and_scales,
            } => boundaries_and_scales
                .iter()
                .filter(|(b, _)| *b <= t)
                .fold(*init, |v, (_, s)| v * s),
            Schedule::Exponential {
                init,
                rate,
                transition_steps,
                staircase,
            } => {
                if *transition_steps == 0 || *rate == 0.0 {
                    return *init; // Optax's convention: the decay is disabled
                }
                let exponent = if *staircase {
                    (t / transition_steps) as f64
                } else {
                    t as f64 / *transition_steps as f64
                };
                init * rate.powf(exponent)
            }
            Schedule::Cosine {
                init,
                decay_steps,
                alpha,
            } => {
                let steps = (*decay_steps).max(1) as f64;
                let progress = (t as f64).min(steps) / steps;
                let cosine = 0.5 * (1.0 + (core::f64::consts::PI * progress).cos());
                init * ((1.0 - alpha) * cosine + alpha)
            }
            // `end` itself from `steps` on (`init + (end − init)·1` can be an ulp off it).
            Schedule::Linear { end, steps, .. } if t >= *steps && *steps > 0 => *end,
            Schedule::Linear { init, end, steps } => {
                let frac = (t as f64).min(*steps as f64) / (*steps).max(1) as f64;
                init + (end - init) * frac
            }
            Schedule::Warmup { steps, then } => {
                if t < *steps {
                    then.at(0) * t as f64 / *steps as f64
                } else {
                    then.at(t - steps)
                }
            }
        }
    }
}

impl From<f64> for Schedule {
    /// A constant learning rate.
    fn from(eta: f64) -> Self {
        Schedule::Constant(eta)
    }
}

/// A schedule and the step count of the rule that uses it.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub(crate) struct LearningRate {
    schedule: Schedule,
    count: super::Count<usize>,
}

impl LearningRate {
    pub(crate) fn new(schedule: impl Into<Schedule>) -> Self {
        Self {
            schedule: schedule.into(),
            count: super::Count::new(0),
        }
    }

    /// The rate for this update, without advancing the count.
    pub(crate) fn peek(&self) -> f64 {
        self.schedule.at(self.count.get())
    }

    /// The number of updates made so far.
    pub(crate) fn steps_taken(&self) -> usize {
        self.count.get()
    }

    /// The rate for this update (`schedule(t)` with `t` from 0), advancing the count.
    pub(crate) fn next(&mut self) -> f64 {
        let eta = self.schedule.at(self.count.get());
        self.count.set(self.count.get().saturating_add(1));
        eta
    }

    /// [`next`](Self::next) for a step already applied (a committed uniform step): advances
    /// with nothing to undo.
    pub(crate) fn commit(&mut self) {
        self.next();
        self.count.forget();
    }

    /// Undoes the last [`next`](Self::next).
    pub(crate) fn undo(&mut self) {
        self.count.undo();
    }
}
