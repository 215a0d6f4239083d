//! [`FiniteDifference`]: a stencil plus a step-size policy and optional Richardson
//! extrapolation.

use super::Stencil;
use num_traits::Float;

/// How the step `h` is chosen.
///
/// # Example
/// ```
/// use adroit_check::fd::{FiniteDifference, Step};
/// let f = |x: f64| x * x; // f′(1) = 2
/// // A fixed step keeps the forward difference's truncation error: (f(1 + h) − f(1))/h = 2 + h.
/// let fixed = FiniteDifference::forward(2, 1).with_step(Step::Fixed(0.5)).estimate(f, 1.0);
/// assert_eq!(fixed, 2.5);
/// // The adaptive step (the default) balances it against round-off: about √ε for this stencil.
/// let adaptive = FiniteDifference::forward(2, 1).estimate(f, 1.0);
/// assert!((adaptive - 2.0).abs() < 1e-6);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Step {
    /// Balance round-off and truncation error at the point (the approach of Julia's
    /// FiniteDifferences.jl `central_fdm`): estimate the magnitude of the derivative in the
    /// leading error term with a higher-order stencil, then choose the `h` that minimises
    /// `ε·max(|f|, 1)·Σ|wⱼ|/hᵈ + |c|·|f⁽q⁾|·h^(q−d)`.
    ///
    /// The probe starts at the unit scale `ε^(1/(q+2))` and widens (up to that times `max(1,
    /// |x|)`) while it sees rounding noise alone or does not move `x` at all (large `|x|`); a
    /// probe that still sees only noise (a function linear at this scale) gives its own step,
    /// which keeps the stencil close to `x` (away from a kink its probe did not reach) — unless
    /// a probe at 0.3 of its step rises above its own noise, which shows the first aliased an
    /// oscillation (its period dividing the step), and the step shrinks; while the probe leaves
    /// the function's domain (NaN) it shrinks tenfold as long as the step still moves `x`. The
    /// step is never below `ε^(7/8)·|x|` (about 100 ulps of `x` in `f64`) unless
    /// [`with_max_range`](FiniteDifference::with_max_range) caps it lower. Above the unit
    /// scale, a probe that disagrees with one at 0.3 of its step (and is not noise) is taken to
    /// alias an oscillation finer than its step, and shrinks. Rounding beyond `ε·|f|` (a large
    /// intermediate: `sin(x + 1e6)` carries the rounding of `x + 1e6`, `10⁻¹⁰`) reads as a
    /// large derivative and asks for a finer step; when the probe's differences of `f`'s
    /// values then stay level instead of shrinking like `hᑫ`, and are small enough to be
    /// rounding (at most `√ε·max(|f(x)|, 1)` and 1/64 of `f`'s spread over the probe), the
    /// coarser step is kept (`sin(x + 1e6)`: 5·10⁻⁹ relative with the default stencil, where a
    /// step of `4.5·10⁻⁷` gave 3·10⁻⁴; the 2-point forward stencil, whose step is finest,
    /// stays at 10⁻⁴–10⁻² there). If a function still defeats it,
    /// give the point a [`Fixed`](Step::Fixed) step or a small
    /// [`with_max_range`](FiniteDifference::with_max_range).
    ///
    /// Known limits, all from the scale assumptions (values and derivatives of order 1, varying on
    /// the scale `max(1, |x|)`): structure far below the unit scale near a tiny `x` is not seen — a
    /// pole within a step (`1/x` at `x ≤ 1e-13`; in `f32`, whose unit scale is far coarser, already
    /// at `x ≤ 1e-3`: `+6783` there against `−1e6`), `√x` at `x ≤ 1e-15`, `ln x` at `x ≤ 1e-62`, a
    /// fast oscillation of tiny amplitude (`1e-9·sin(1e9·x)`); a function that looks linear at the
    /// probe's first scales widens the probe (up to `ε^(1/(q+2))·|x|`) until it sees structure, so
    /// a kink within a few such steps is crossed (at `|x| = 1e14`, a kink 9 away from `3|x − c| +
    /// x/2`); and a function varying on the unit scale at a large `x` gets the floor step (`sin x`:
    /// 1 % off at `|x| = 4e13`, 34 % at `1e14`, no usable estimate beyond). There, pass a fixed
    /// step or a range bound of the function's own scale.
    Adaptive,
    /// This step (capped by the range bound, and rounded so that `x + h` is representable, never
    /// past the bound). A step too small to move `x` at all gives a NaN estimate, not 0.
    Fixed(f64),
}

/// A finite-difference method: a [`Stencil`], a [`Step`] policy, a bound on how far from `x`
/// it may evaluate, and a number of Richardson extrapolation levels.
///
/// Expected accuracy with [`Step::Adaptive`] for a smooth function whose values and derivatives
/// are of order 1, relative to the derivative: about `ε^((q−d)/q)` — for the default
/// 5-point central first derivative (`q = 5`, order 4) about `3·10⁻¹³` in `f64` and `3·10⁻⁶` in
/// `f32`; 3-point central about `ε^(2/3)` (`4·10⁻¹¹`, `5·10⁻⁵`); 2-point forward about `√ε`
/// (`10⁻⁸`, `3·10⁻⁴`). These are typical figures; the worst over 6,001 points of `[−3, 3]`
/// for `exp` is `7.9·10⁻¹³` and `2.2·10⁻⁴` (default), `3.8·10⁻¹⁰` and `4.0·10⁻⁴` (3-point),
/// `1.3·10⁻⁷` and `1.1·10⁻²` (2-point forward) — in `f32` up to ~100 times the typical
/// figure — and near a zero of the derivative (`sin'` near `±π/2`) the error is of the
/// function's scale, not the derivative's. Each Richardson level raises the order by 2
/// (symmetric stencils) or 1, at a step chosen for the stencil alone (not re-balanced for the
/// extrapolation, which therefore helps a coarse [`Fixed`](Step::Fixed) step more than an
/// adaptive one).
///
/// # Example
/// ```
/// use adroit_check::fd::FiniteDifference;
/// let d = FiniteDifference::default().estimate(|x: f64| x.sin(), 1.0);
/// assert!((d - 1.0_f64.cos()).abs() < 1e-12);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct FiniteDifference {
    stencil: Stencil,
    step: Step,
    max_range: f64,
    richardson: usize,
}

impl Default for FiniteDifference {
    /// 5-point central first derivative, adaptive step, unbounded range, no extrapolation.
    fn default() -> Self {
        Self::new(Stencil::central(5, 1))
    }
}

impl FiniteDifference {
    /// A method with the given stencil, adaptive step, unbounded range, no extrapolation.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Stencil};
    /// // A grid of your own: one-sided, unevenly spaced offsets 0, 1, 3.
    /// let fd = FiniteDifference::new(Stencil::new(&[0.0, 1.0, 3.0], 1));
    /// assert!((fd.estimate(|x: f64| x.exp(), 0.0) - 1.0).abs() < 1e-8);
    /// // The named constructors are shorthands: central(3, 1) is the grid −1, 0, 1.
    /// let central = FiniteDifference::new(Stencil::new(&[-1.0, 0.0, 1.0], 1));
    /// assert_eq!(central, FiniteDifference::central(3, 1));
    /// ```
    pub fn new(stencil: Stencil) -> Self {
        Self {
            stencil,
            step: Step::Adaptive,
            max_range: f64::INFINITY,
            richardson: 0,
        }
    }

    /// Central differences with `points` points for the `derivative`-th derivative.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// // A second derivative: sin″ = −sin.
    /// let d2 = FiniteDifference::central(3, 2).estimate(|x: f64| x.sin(), 0.5);
    /// assert!((d2 + 0.5f64.sin()).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn central(points: usize, derivative: usize) -> Self {
        Self::new(Stencil::central(points, derivative))
    }

    /// Forward differences (evaluates only at and right of `x`).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// use std::cell::Cell;
    /// let leftmost = Cell::new(f64::INFINITY);
    /// let sqrt = |x: f64| {
    ///     leftmost.set(leftmost.get().min(x));
    ///     x.sqrt()
    /// };
    /// let d = FiniteDifference::forward(3, 1).estimate(sqrt, 0.25);
    /// assert!((d - 1.0).abs() < 1e-8); // 1/(2√0.25)
    /// assert_eq!(leftmost.get(), 0.25); // never evaluated left of x
    /// ```
    #[track_caller]
    pub fn forward(points: usize, derivative: usize) -> Self {
        Self::new(Stencil::forward(points, derivative))
    }

    /// Backward differences (evaluates only at and left of `x`).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// use std::cell::Cell;
    /// let rightmost = Cell::new(f64::NEG_INFINITY);
    /// let f = |x: f64| {
    ///     rightmost.set(rightmost.get().max(x));
    ///     (1.0 - x).sqrt() // defined for x ≤ 1
    /// };
    /// let d = FiniteDifference::backward(3, 1).estimate(f, 0.75);
    /// assert!((d + 1.0).abs() < 1e-8); // −1/(2√0.25)
    /// assert_eq!(rightmost.get(), 0.75); // never evaluated right of x
    /// ```
    #[track_caller]
    pub fn backward(points: usize, derivative: usize) -> Self {
        Self::new(Stencil::backward(points, derivative))
    }

    /// Uses the step policy `step`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Step};
    /// // Central differences of x³ at 1 with h = 2⁻¹⁰: (f(1 + h) − f(1 − h))/2h = 3 + h², the
    /// // leading error term c·f‴·h² = ⅙·6·h² of the 3-point stencil.
    /// let h = 0.5f64.powi(10);
    /// let fd = FiniteDifference::central(3, 1).with_step(Step::Fixed(h));
    /// let d = fd.estimate(|x: f64| x * x * x, 1.0);
    /// assert!((d - (3.0 + h * h)).abs() < 1e-12);
    /// ```
    ///
    /// # Panics
    /// On `Step::Fixed(h)` with `h` not positive and finite.
    #[track_caller]
    pub fn with_step(mut self, step: Step) -> Self {
        if let Step::Fixed(h) = step {
            assert!(
                h > 0.0 && h.is_finite(),
                "FiniteDifference::with_step: the fixed step {h} is not positive and finite"
            );
        }
        self.step = step;
        self
    }

    /// Never evaluates farther than `max_range` from `x` (e.g. the distance to a domain
    /// boundary or a kink).
    ///
    /// # Panics
    /// If `max_range` is not positive.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// use std::cell::Cell;
    /// // √x near 0: keep every evaluation within 0.01 of x = 0.04, so above 0.
    /// let farthest = Cell::new(0.0f64);
    /// let sqrt = |x: f64| {
    ///     farthest.set(farthest.get().max((x - 0.04).abs()));
    ///     x.sqrt()
    /// };
    /// let d = FiniteDifference::default().with_max_range(0.01).estimate(sqrt, 0.04);
    /// assert!((d - 2.5).abs() < 1e-8); // 1/(2√0.04)
    /// assert!(farthest.get() <= 0.01 + 1e-15); // up to the rounding of |x − 0.04|
    /// ```
    #[track_caller]
    pub fn with_max_range(mut self, max_range: f64) -> Self {
        assert!(
            max_range > 0.0,
            "FiniteDifference::with_max_range: {max_range} is not > 0"
        );
        self.max_range = max_range;
        self
    }

    /// Adds `levels` levels of Richardson extrapolation (steps `h, h/2, …, h/2^levels`).
    ///
    /// # Panics
    /// If `levels` is above 8 (steps below `h/256`): each level amplifies the rounding of the
    /// finer steps' differences, and beyond that it outweighs what extrapolation gains (with the
    /// default stencil and step, `exp(1000x)`'s derivative at 0.3 is 3.8e-11 off, relative,
    /// with no level, 4.9e-9 with 8, 9.9e-6 with 20).
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Step};
    /// // exp′(0) = 1 by the 3-point central stencil at the coarse step h = ½: the plain estimate
    /// // sinh(h)/h = 1 + h²/6 + … is 4 % off; two levels (h, h/2, h/4) cancel the h² and h⁴ terms.
    /// let coarse = FiniteDifference::central(3, 1).with_step(Step::Fixed(0.5));
    /// let plain = coarse.estimate(|x: f64| x.exp(), 0.0);
    /// let extrapolated = coarse.with_richardson(2).estimate(|x: f64| x.exp(), 0.0);
    /// assert!((plain - 1.0).abs() > 0.04);
    /// assert!((extrapolated - 1.0).abs() < 1e-6);
    /// ```
    #[track_caller]
    pub fn with_richardson(mut self, levels: usize) -> Self {
        assert!(
            levels <= 8,
            "FiniteDifference::with_richardson: {levels} levels; at most 8 (steps down to h/256)"
        );
        self.richardson = levels;
        self
    }

    /// The stencil.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Stencil};
    /// assert_eq!(FiniteDifference::default().stencil(), &Stencil::central(5, 1));
    /// assert_eq!(FiniteDifference::backward(3, 1).stencil().grid(), &[-2.0, -1.0, 0.0]);
    /// ```
    pub fn stencil(&self) -> &Stencil {
        &self.stencil
    }

    /// Applies the stencil with step `h`. For a derivative the weights sum to 0, so the
    /// values are taken relative to `f(x)`: a constant function then gives exactly 0, and
    /// large offsets do not swamp the differences.
    fn apply<T: Float, F: Fn(T) -> T>(&self, f: &F, x: T, h: f64) -> f64 {
        // Every step used (the probes', Richardson's h/2ᵏ) on the grid of T at x, so the points
        // are where the weights assume: a step that is not a representable difference moves
        // them by up to half an ulp of x, an error of f'·ulp(x) the noise model does not see.
        // And within the range bound, which that rounding could pass.
        let h = bounded_grid_step(x, h, self.max_step());
        let s = &self.stencil;
        let base = if s.derivative() > 0 {
            f(x).to_f64().unwrap_or(f64::NAN)
        } else {
            0.0
        };
        let sum: f64 = s
            .grid()
            .iter()
            .zip(s.weights())
            .filter(|(_, w)| **w != 0.0)
            .map(|(p, w)| {
                let xp = x + T::from(p * h).unwrap_or_else(T::zero);
                // (For d = 0, interpolation, the base is 0 and the centre needs its value.)
                let fp = if *p == 0.0 && s.derivative() > 0 {
                    base
                } else {
                    f(xp).to_f64().unwrap_or(f64::NAN)
                };
                w * (fp - base)
            })
            .sum();
        sum / h.powi(s.derivative() as i32)
    }

    /// The range of `f`'s values at the stencil's points with step `h` other than `x` itself
    /// (NaN if one is not finite). (With `x`, a pole at `x` would set it: `1/x` at `1e-12`.)
    fn spread<T: Float, F: Fn(T) -> T>(&self, f: &F, x: T, h: f64) -> f64 {
        let h = bounded_grid_step(x, h, self.max_step());
        let (mut low, mut high) = (f64::INFINITY, f64::NEG_INFINITY);
        for p in self.stencil.grid().iter().filter(|p| **p != 0.0) {
            let v = f(x + T::from(p * h).unwrap_or_else(T::zero))
                .to_f64()
                .unwrap_or(f64::NAN);
            if !v.is_finite() {
                return f64::NAN;
            }
            (low, high) = (low.min(v), high.max(v));
        }
        high - low
    }

    /// The largest step the range bound allows.
    fn max_step(&self) -> f64 {
        self.max_range / self.stencil.max_offset().max(1.0)
    }

    /// The step for `f` at `x` by the policy.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::{FiniteDifference, Step};
    /// let f = |x: f64| x.sin();
    /// // A fixed step is used as given, within the range bound: the 5-point central stencil
    /// // reaches x ± 2h, so a range of 0.5 caps h at 0.25.
    /// let fixed = FiniteDifference::default().with_step(Step::Fixed(0.125));
    /// assert_eq!(fixed.step_at(&f, 1.0), 0.125);
    /// assert_eq!(fixed.with_step(Step::Fixed(1.0)).with_max_range(0.5).step_at(&f, 1.0), 0.25);
    /// // Adaptive for sin at 1: about ε^(1/5) ≈ 10⁻³ (round-off ε/h against truncation h⁴).
    /// let h = FiniteDifference::default().step_at(&f, 1.0);
    /// assert!(1e-4 < h && h < 1e-2);
    /// ```
    pub fn step_at<T: Float, F: Fn(T) -> T>(&self, f: &F, x: T) -> f64 {
        if !x.is_finite() {
            return f64::NAN; // no derivative to estimate at NaN or ±∞
        }
        let h = match self.step {
            Step::Fixed(h) => h,
            Step::Adaptive => {
                // Never below ε^(7/8)·|x| (about 100 units in the last place in f64, 7 in
                // f32): a step estimated from noise could otherwise be so small that x + h = x.
                // Relative to |x| alone: ε^(3/4)·max(1, |x|) overrode good steps at both ends
                // (1.8 for sin at 1e12, 0.6 % off; 1.8e-12 for a forward difference of √x at
                // 1e-12, 14 % off), as √ε·|x| had (0.15 for sin at 1e7).
                let eps = T::epsilon().to_f64().unwrap_or(f64::EPSILON);
                let floor = eps.powf(0.875) * x.to_f64().unwrap_or(0.0).abs();
                self.adaptive_step(f, x).max(floor)
            }
        };
        bounded_grid_step(x, h, self.max_step())
    }

    fn adaptive_step<T: Float, F: Fn(T) -> T>(&self, f: &F, x: T) -> f64 {
        let s = &self.stencil;
        let eps = T::epsilon().to_f64().unwrap_or(f64::EPSILON);
        let xf = x.to_f64().unwrap_or(0.0);
        let (d, q) = (s.derivative() as f64, s.error_power());
        // Estimate |f⁽q⁾| with a (q + 2)-point stencil of the same kind at a moderate step.
        let probe_points = q + 2;
        // (With the range bound: each of its steps is kept within it after rounding to the
        // grid, as the final step is. Without, rounding took probes half an ulp past it: √x
        // probed at −8.7e-19 from x = 0.005 with a range of 0.005, a subagent's hunt.)
        let probe = if s.is_symmetric() {
            FiniteDifference::central(probe_points + (probe_points + 1) % 2, q)
        } else if s.grid().iter().all(|p| *p >= 0.0) {
            FiniteDifference::forward(probe_points, q)
        } else {
            FiniteDifference::backward(probe_points, q)
        }
        .with_max_range(self.max_range);
        // A moderate probe step, shrunk while the probe leaves the function's domain (NaN).
        let mut h0 = (eps.powf(1.0 / (q as f64 + 2.0)) * xf.abs().max(1.0)).min(probe.max_step());
        // Round-off of f's values: ε·|f(x)|, but at least ε — a value much smaller than the
        // quantities it was computed from (a cancellation, exp(x) − e near 1) carries their
        // rounding, not its own, and taking ε·|f| then gives a step far too small.
        let fx = f(x).to_f64().unwrap_or(1.0).abs().max(1.0);
        let roundoff = eps * fx * s.weights().iter().map(|w| w.abs()).sum::<f64>();
        let mut h = h0;
        // The probe is trusted only near the scale of the step it suggests. Much coarser, it
        // may alias a fast oscillation and underestimate the derivative; much finer, rounding
        // noise swamps it and it can come out near zero by cancellation, suggesting a step far
        // too large (seen: h = 0.15 at x = 0.95 for a smooth softmax loss, 0.7 % error). Either
        // way, re-probe at the suggested scale until the two agree.
        let max_probe_step = probe.max_step();
        // The probe's own rounding noise at step `h`: an estimate below a hundred times it is
        // noise, not the function.
        let probe_weights = probe.stencil.weights().iter().map(|w| w.abs()).sum::<f64>();
        let probe_roundoff = eps * fx * probe_weights;
        let probe_noise = |h: f64| probe_roundoff / h.powi(q as i32);
        // The probe's typical difference of f's values behind an estimate at step `h`.
        let differences = |h: f64, estimate: f64| estimate * h.powi(q as i32) / probe_weights;
        // Start at the unit scale ε^(1/(q+2)) and widen tenfold only while the probe sees
        // nothing but rounding noise (a polynomial at large |x|), up to the |x|-scaled step: a
        // probe wider than needed can alias an oscillation finer than its step (seen: sin at
        // 427562.89 was given h = 726 from a first probe at 2490).
        let widest = h0;
        let unit = eps.powf(1.0 / (q as f64 + 2.0));
        h0 = h0.min(unit);
        while h0 < widest {
            // A step below the resolution of x (x + h = x, from about |x| > 4e13 in f64 at the
            // unit scale) probes nothing: widen past it rather than stop there (x² at 8e13 was
            // left at the floor step ε^(7/8)·|x| ≈ 1.6, where f's rounding gave a 0.1 % error).
            if x + T::from(h0).unwrap_or_else(T::zero) != x {
                let estimate = probe.apply(f, x, h0).abs();
                if !estimate.is_finite() || estimate > 100.0 * probe_noise(h0) {
                    break;
                }
            }
            h0 = (10.0 * h0).min(widest);
        }
        // The last probe that asked for a finer step, `(step, estimate)`.
        let mut shrunk_from: Option<(f64, f64)> = None;
        for _ in 0..12 {
            let mut high = probe.apply(f, x, h0).abs();
            // Shrink by decades while the probe leaves the domain (NaN), as long as the step
            // still moves x (ln at 1e-10 needs 9 decades from the unit scale).
            while !high.is_finite() && x + T::from(h0 / 10.0).unwrap_or_else(T::zero) != x {
                h0 /= 10.0;
                high = probe.apply(f, x, h0).abs();
            }
            // f's values may carry more rounding than ε·|f| (a large intermediate: sin(x + 1e6)
            // rounds x + 1e6 to 1e-10): the probe then reads that noise as a large derivative
            // and asks for a finer step, where the noise only grows. The probe's differences in
            // f's units, estimate·hᑫ/Σ|wⱼ|, shrink like hᑫ on a smooth function in the
            // asymptotic regime (by 4⁵ at least for the default stencil's quarter step) but stay
            // level on noise. If they stayed level (down by at most 4, up by at most 16), both
            // small enough to be rounding (at most √ε·max(|f(x)|, 1): an intermediate up to
            // 1/√ε times f) and the coarser at most 1/64 of f's spread over its probe's points
            // other than x (a function varying on a scale below the step comes near that: ln or
            // 1/x near 0, whose differences stay level or grow too), the coarser step was
            // already at the noise, and is kept (sin(x + 1e6) at 0.3 was given h = 4.5e-7, a
            // 3e-4 error; the unit scale gives 5e-9).
            if let Some((coarser, coarser_high)) = shrunk_from.take()
                && high.is_finite()
            {
                let level = differences(coarser, coarser_high);
                // (No difference at all is the same sign: f's values resolve no finer. Much
                // larger ones are not noise but structure the coarser probe missed: an aliased
                // oscillation, sin(300x) in f32 at its unit scale 0.041.)
                let finer = differences(h0, high);
                let level_or_flat = high == 0.0 || (4.0 * finer >= level && finer <= 16.0 * level);
                let rounding = eps.sqrt() * fx;
                if level_or_flat
                    && level.max(finer) <= rounding
                    && level <= probe.spread(f, x, coarser) / 64.0
                {
                    return coarser;
                }
            }
            // A probe that sees only rounding noise cannot tell the truncation error, which is
            // then below about a hundred times the round-off at this step: keep the step rather
            // than grow it from a quotient of noise. (Growing it only bought accuracy far below
            // any tolerance, and reached across the kinks of piecewise-linear functions: relu
            // at 0.03 was given h ≈ 0.02, whose stencil crossed 0.)
            if high <= 100.0 * probe_noise(h0) {
                // Unless it is aliased: an oscillation whose period divides the step looks
                // flat at the grid points (sin(1082.44x) at the f64 unit scale 5.8047e-3),
                // while a probe at 0.3 of the step, whose noise level is higher, still sees it
                // — with differences above what rounding beyond ε·|f| could give (as above).
                let finer = probe.apply(f, x, 0.3 * h0).abs();
                if finer.is_finite()
                    && finer > 100.0 * probe_noise(0.3 * h0)
                    && differences(0.3 * h0, finer) > eps.sqrt() * fx
                {
                    h0 *= 0.3;
                    continue;
                }
                return h0;
            }
            let truncation = s.error_coefficient().abs() * high;
            if !(truncation.is_finite() && truncation > 0.0 && roundoff > 0.0) {
                // No usable estimate (a polynomial of low degree, or nothing finite nearby):
                // the probe step, which stayed inside the domain, is a safe choice.
                return h0;
            }
            h = (d.max(1.0) * roundoff / ((q as f64 - d) * truncation)).powf(1.0 / q as f64);
            if h < h0 / 8.0 {
                shrunk_from = Some((h0, high));
                h0 = 2.0 * h;
                continue;
            }
            // Before accepting the probe or growing it, check that it did not alias an
            // oscillation finer than its step: in the asymptotic regime a probe at 0.3·h0
            // agrees with it within a factor 4; an aliased one does not (unless the finer probe
            // is rounding noise, when h0 is as fine as the estimate can go). The ratio 0.3 is
            // not a simple fraction, so one period rarely aliases both probes.
            // (Only above the unit scale: aliasing comes from steps scaled with a large |x|,
            // and below it the noise estimate, from |f| alone, is too unreliable to tell an
            // aliased probe from a noisy one.)
            if h0 > unit {
                let finer = probe.apply(f, x, 0.3 * h0).abs();
                let disagree = finer > 4.0 * high || 4.0 * finer < high;
                if finer.is_finite() && disagree && finer > 100.0 * probe_noise(0.3 * h0) {
                    h0 *= 0.3;
                    continue;
                }
            }
            if h > 8.0 * h0 && h0 < max_probe_step {
                h0 = (h / 2.0).min(max_probe_step);
            } else {
                break;
            }
        }
        h
    }

    /// The estimate of the stencil's derivative of `f` at `x`.
    ///
    /// Evaluates `f` at the grid points around `x` (never farther than the range bound), in
    /// the precision of `T`; the combination is done in `f64`.
    ///
    /// # Example
    /// ```
    /// use adroit_check::fd::FiniteDifference;
    /// let fd = FiniteDifference::default();
    /// // d/dx x³ at 2 is 12, in f64 and in f32 (f evaluated in f32: a few 10⁻⁶ relative).
    /// assert!((fd.estimate(|x: f64| x.powi(3), 2.0) - 12.0).abs() < 1e-9);
    /// assert!((fd.estimate(|x: f32| x.powi(3), 2.0) - 12.0).abs() < 1e-3);
    /// ```
    pub fn estimate<T: Float, F: Fn(T) -> T>(&self, f: F, x: T) -> T {
        let h = self.step_at(&f, x);
        let value = if self.richardson == 0 {
            self.apply(&f, x, h)
        } else {
            self.richardson_estimate(&f, x, h)
        };
        T::from(value).unwrap_or_else(T::nan)
    }

    /// Richardson extrapolation over steps `h, h/2, …`.
    fn richardson_estimate<T: Float, F: Fn(T) -> T>(&self, f: &F, x: T, h: f64) -> f64 {
        let mut table: Vec<f64> = (0..=self.richardson)
            .map(|k| self.apply(f, x, h / 2f64.powi(k as i32)))
            .collect();
        let increment = if self.stencil.is_symmetric() { 2 } else { 1 };
        let mut order = self.stencil.accuracy_order();
        for level in 1..table.len() {
            let factor = 2f64.powi(order as i32);
            for k in (level..table.len()).rev() {
                table[k] = (factor * table[k] - table[k - 1]) / (factor - 1.0);
            }
            order += increment;
        }
        table[table.len() - 1]
    }
}

/// `h` on the grid of `T` at `x` ([`grid_step`]) and not past `bound`: rounding to nearest
/// can lengthen a step by half an ulp of `x + h`, so it is shortened by twice any such excess
/// and rounded again.
fn bounded_grid_step<T: Float>(x: T, h: f64, bound: f64) -> f64 {
    let mut h = h.min(bound);
    let mut exact = grid_step(x, h);
    for _ in 0..4 {
        if exact <= bound || exact.is_nan() {
            break;
        }
        h -= 2.0 * (exact - h);
        exact = grid_step(x, h);
    }
    exact
}

/// `h` rounded so that `x + h` is exactly representable in `T` (the precision `f` is evaluated
/// in), so the grid is what the weights assume; NaN where no such step is left (`x + h` rounds
/// back to `x`: every point would be `x`, and the estimate a silent 0).
fn grid_step<T: Float>(x: T, h: f64) -> f64 {
    let exact = T::from(h)
        .map(|ht| ((x + ht) - x).to_f64().unwrap_or(0.0))
        .unwrap_or(0.0);
    if exact > 0.0 { exact } else { f64::NAN }
}
