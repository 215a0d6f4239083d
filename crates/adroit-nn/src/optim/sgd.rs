//! Gradient descent, with classical or Nesterov momentum.

use super::config;
use super::schedule::LearningRate;
use super::slots::each_entry;
use super::{Optimizer, Schedule, Slots, cast};
use crate::NnError;
use adroit_reverse::matrix::MatScalar;
use nalgebra::DMatrix;

/// Plain gradient descent `u = −η·g` (Optax's `sgd`, Flux's `Descent`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Descent, Optimizer};
/// let mut opt = Descent::new(0.1);
/// let mut updates = vec![dmatrix![2.0, -1.0]]; // g
/// opt.update(&mut updates, &[&dmatrix![0.0, 0.0]]);
/// assert_eq!(updates[0], dmatrix![-0.2, 0.1]); // −η·g: θ decreases by 0.2 where g = 2
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Descent {
    eta: LearningRate,
}

impl Descent {
    /// Descent with learning rate (or schedule) `eta`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Descent, Optimizer, Schedule};
    /// // A learning rate halved at every step (a plain number is a constant rate).
    /// let mut opt = Descent::new(Schedule::Exponential { init: 1.0, rate: 0.5, transition_steps: 1, staircase: false });
    /// let mut next = || {
    ///     let mut u = vec![dmatrix![1.0]]; // g = 1, so u = −η(t)
    ///     opt.update(&mut u, &[&dmatrix![0.0]]);
    ///     u[0][0]
    /// };
    /// assert_eq!((next(), next(), next()), (-1.0, -0.5, -0.25));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self {
            eta: LearningRate::new(eta),
        }
    }
}

impl<T: MatScalar> Optimizer<T> for Descent {
    fn check_config(&self) -> Result<(), NnError> {
        config::learning_rate("Descent", &self.eta)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        let scale: T = cast(-self.eta.next());
        for u in updates {
            *u *= scale;
        }
    }

    fn uniform_scale(&self) -> Option<T> {
        Some(cast(-self.eta.peek()))
    }

    fn commit_uniform_step(&mut self) {
        // An applied step: `undo_update` must not take it back.
        self.eta.commit();
    }

    fn undo_update(&mut self) {
        self.eta.undo();
    }
}

/// The momentum trace `t ← g + β·t` shared by [`Momentum`] and [`Nesterov`].
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
struct Trace<T> {
    eta: LearningRate,
    beta: f64,
    nesterov: bool,
    trace: Slots<T>,
}

impl<T: MatScalar> Trace<T> {
    fn check_config(&self, rule: &str) -> Result<(), NnError> {
        config::learning_rate(rule, &self.eta)?;
        config::non_negative(rule, "momentum β", self.beta)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>]) {
        let beta: T = cast(self.beta);
        let scale: T = cast(-self.eta.next());
        let nesterov = self.nesterov;
        let trace = self.trace.advance(updates, T::zero());
        each_entry(
            updates,
            trace,
            #[inline(always)]
            move |g, (t_old, t)| {
                *t = *g + t_old * beta;
                let direction = if nesterov { *g + *t * beta } else { *t };
                *g = direction * scale;
            },
        );
    }

    fn undo(&mut self) {
        self.eta.undo();
        self.trace.undo();
    }
}

/// Gradient descent with momentum: `t ← g + β·t`, `u = −η·t` (Optax's `sgd(momentum=β)`,
/// PyTorch's `SGD(momentum=β)`; default `β = 0.9`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Momentum, Optimizer};
/// let mut opt = Momentum::<f64>::new(0.1); // β = 0.9
/// let mut next = |g: f64| {
///     let mut u = vec![dmatrix![g]];
///     opt.update(&mut u, &[&dmatrix![0.0]]);
///     u[0][0]
/// };
/// // g = 1 twice: t = 1, then t = 1 + 0.9·1 = 1.9; u = −η·t.
/// assert_eq!(next(1.0), -0.1);
/// assert!((next(1.0) + 0.19).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct Momentum<T>(Trace<T>);

impl<T: MatScalar> Momentum<T> {
    /// Momentum with learning rate `eta` and `β = 0.9`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Momentum;
    /// // The default β = 0.9.
    /// assert_eq!(Momentum::<f64>::new(0.01), Momentum::with_beta(0.01, 0.9));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with_beta(eta, 0.9)
    }

    /// Momentum with learning rate `eta` and coefficient `beta`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Momentum, Optimizer};
    /// let mut opt = Momentum::<f64>::with_beta(0.1, 0.5);
    /// let mut next = |g: f64| {
    ///     let mut u = vec![dmatrix![g]];
    ///     opt.update(&mut u, &[&dmatrix![0.0]]);
    ///     u[0][0]
    /// };
    /// // g = 1 twice: t = 1, then t = 1 + 0.5·1 = 1.5; u = −η·t.
    /// assert!((next(1.0) + 0.1).abs() < 1e-15);
    /// assert!((next(1.0) + 0.15).abs() < 1e-15);
    /// ```
    pub fn with_beta(eta: impl Into<Schedule>, beta: f64) -> Self {
        Self(Trace {
            eta: LearningRate::new(eta),
            beta,
            nesterov: false,
            trace: Slots::default(),
        })
    }
}

impl<T: MatScalar> Optimizer<T> for Momentum<T> {
    fn check_config(&self) -> Result<(), NnError> {
        self.0.check_config("Momentum")
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.0.trace.check("Momentum", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.0.update(updates);
    }

    fn undo_update(&mut self) {
        self.0.undo();
    }
}

/// Gradient descent with Nesterov momentum: `t ← g + β·t`, `u = −η·(g + β·t)` (Optax's
/// `sgd(momentum=β, nesterov=True)`, Sutskever et al. 2013; default `β = 0.9`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::optim::{Nesterov, Optimizer};
/// let mut opt = Nesterov::<f64>::new(0.1); // β = 0.9
/// let mut next = |g: f64| {
///     let mut u = vec![dmatrix![g]];
///     opt.update(&mut u, &[&dmatrix![0.0]]);
///     u[0][0]
/// };
/// // g = 1 twice: t = 1, u = −0.1·(1 + 0.9·1); then t = 1.9, u = −0.1·(1 + 0.9·1.9).
/// assert!((next(1.0) + 0.19).abs() < 1e-15);
/// assert!((next(1.0) + 0.271).abs() < 1e-15);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(bound = "T: crate::optim::SerdeScalar"))]
pub struct Nesterov<T>(Trace<T>);

impl<T: MatScalar> Nesterov<T> {
    /// Nesterov momentum with learning rate `eta` and `β = 0.9`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::optim::Nesterov;
    /// // The default β = 0.9.
    /// assert_eq!(Nesterov::<f64>::new(0.01), Nesterov::with_beta(0.01, 0.9));
    /// ```
    pub fn new(eta: impl Into<Schedule>) -> Self {
        Self::with_beta(eta, 0.9)
    }

    /// Nesterov momentum with learning rate `eta` and coefficient `beta`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::optim::{Nesterov, Optimizer};
    /// let mut opt = Nesterov::<f64>::with_beta(0.1, 0.5);
    /// let mut next = |g: f64| {
    ///     let mut u = vec![dmatrix![g]];
    ///     opt.update(&mut u, &[&dmatrix![0.0]]);
    ///     u[0][0]
    /// };
    /// // g = 1 twice: t = 1, u = −0.1·(1 + 0.5·1); then t = 1.5, u = −0.1·(1 + 0.5·1.5).
    /// assert!((next(1.0) + 0.15).abs() < 1e-15);
    /// assert!((next(1.0) + 0.175).abs() < 1e-15);
    /// ```
    pub fn with_beta(eta: impl Into<Schedule>, beta: f64) -> Self {
        Self(Trace {
            eta: LearningRate::new(eta),
            beta,
            nesterov: true,
            trace: Slots::default(),
        })
    }
}

impl<T: MatScalar> Optimizer<T> for Nesterov<T> {
    fn check_config(&self) -> Result<(), NnError> {
        self.0.check_config("Nesterov")
    }

    fn check_params(&self, shapes: &[(usize, usize)]) -> Result<(), NnError> {
        self.0.trace.check("Nesterov", shapes)
    }

    fn update(&mut self, updates: &mut [DMatrix<T>], params: &[&DMatrix<T>]) {
        super::check_counts(updates, params);
        self.0.update(updates);
    }

    fn undo_update(&mut self) {
        self.0.undo();
    }
}
