//! [`hessian_check`]: forward-over-reverse, forward-over-forward and finite differences of the
//! gradient must agree, and the Hessian must be symmetric.

use crate::directions::{dot, random_vector, snapped_step};
use crate::fd::Step;
use crate::mismatch::{Checker, Entry};
use crate::scalar::assert_finite_inputs;
use crate::second_order::{self, Scale};
use crate::{CheckScalar, Comparison, GenericFn, Mismatch, Mode, Options, Report, Tolerance};
use adroit_forward::{ChainRule, Decompositions, DerivativeOrder, SpecialFunctions, StopGradient};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;

/// Checks the Hessian of `f` at `x` — of its output, or, for a function of several outputs, of
/// `wᵀf` for random output weights `w` in `[−1, 1)` (drawn from a fixed seed, or from one
/// derived from [`Mode::Fast`]'s; as PyTorch's `gradgradcheck` draws random output
/// cotangents), so that every output's second derivatives take part at the cost of one
/// Hessian (so every output must be twice differentiable at `x`); a [`Mismatch`] then gives
/// `w` as its `cotangent`. The tolerances are relative to the weighted Hessian: an error in
/// an output whose second derivatives are small beside another's (`1e8·x₀²` beside a wrong
/// `x₀x₁`) stays below them and passes, as would one that cancels in the sum — check outputs
/// of very different scales one at a time (a function returning one of them). The
/// comparison: forward-over-reverse
/// ([`adroit_reverse::hessian`], reported as "reverse") against forward-over-forward
/// ([`adroit_forward::hessian`], "forward") within `options.ad_tolerance`, the first against
/// finite differences of the reverse-mode gradient (in `f64`) within `options.fd_tolerance`
/// — its absolute part grown by the gradient's rounding in its differences, `4ε·|gᵢ|/h` for
/// entry `(i, j)` and its step `h` (without it, `x₀²⁰ + x₀x₁` at `(1e3, 1)` failed: the
/// differences of `∂f/∂x₀ ≈ 2e58` along `x₁` cannot see the `1`; the entry's transpose,
/// differenced from `∂f/∂x₁`, checks it) — and the symmetry `H[i][j] = H[j][i]` of the
/// forward-over-reverse Hessian within `options.ad_tolerance`. Unlike
/// [`matrix_hessian_check`](crate::matrix_hessian_check)'s, these tolerances are not scaled
/// by the Hessian's rows. The gradient itself is not compared: the reference is finite
/// differences of the same (reverse-mode) gradient, so a wrong first derivative passes, or
/// shows only through what it does to the second derivatives (a forward-over-forward vs
/// forward-over-reverse or a symmetry failure, which then blames no mode in particular) —
/// run [`gradcheck`](crate::gradcheck) first.
///
/// [`Mode::Full`](crate::Mode::Full) compares every entry, 3 comparisons each (`n²`
/// finite-difference estimates of the gradient's entries, each with its own adaptive step,
/// the gradients at the points visited along an input shared by its column);
/// [`Mode::Fast`](crate::Mode::Fast) compares `vᵀHu` for random `u`, `v` — Hessian-vector
/// products of both modes against the finite difference of `t ↦ vᵀ∇f(x + t·u)` (its
/// tolerance's absolute part grown by the gradient's rounding, `4ε·Σ|vᵢ·gᵢ|/h`) — and the
/// symmetry `vᵀ(Hu) = uᵀ(Hv)`: 4 comparisons per trial, at a cost linear in `n`.
///
/// Fast mode in `f32` can reject correct code where the projection cancels: its tolerance is
/// relative to `vᵀHu`, while the `f32` Hessian's rounding scales with its entries (and with
/// the conditioning: near-repeated singular values or eigenvalues). Confirm such a failure in
/// `f64`. (The case that showed it, singular values 3 % apart, turned out to be nalgebra's
/// inaccurate `f32` SVD, which adroit-forward's `svd` now checks and recomputes.)
///
/// # Errors
/// The first [`Mismatch`] (its comparison is of second derivatives: "forward" is
/// forward-over-forward, "reverse" forward-over-reverse, "finite difference" that of the
/// gradient); in full mode its `input` and `output` are the column and row of the entry. A
/// pair that is NaN on both sides fails (it proves nothing).
///
/// # Panics
/// If there are no inputs, if `f` has no outputs at `x` (or another number of outputs near
/// `x`, for several outputs), with [`Mode::Fast`] and `trials: 0`
/// (it would check nothing and pass), if an input is NaN or infinite, or on
/// `options` holding a tolerance or stencil its builders refuse (see [`Options`]).
///
/// # Example
/// ```
/// use adroit_check::{Options, generic_fn, hessian_check};
/// let f = generic_fn!(|x| vec![x[0] * x[0] * x[1] + x[1].sin()]);
/// assert!(hessian_check(&f, &[0.3, 0.7], &Options::for_precision::<f64>()).is_ok());
/// // Fast mode: 4 comparisons per random direction pair, whatever n.
/// let fast = Options::for_precision::<f64>().with_mode(adroit_check::Mode::Fast { seed: 3, trials: 5 });
/// assert_eq!(hessian_check(&f, &[0.3, 0.7], &fast).unwrap().comparisons, 4 * 5);
/// ```
#[track_caller]
pub fn hessian_check<T, F>(f: &F, x: &[T], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    options.mode.check_trials("hessian_check");
    options.check("hessian_check");
    assert!(
        !x.is_empty(),
        "hessian_check: nothing to compare (no inputs)"
    );
    assert_finite_inputs("hessian_check", x);
    let outputs = f
        .eval(&x.iter().map(|v| v.to_f64_lossless()).collect::<Vec<f64>>())
        .len();
    assert!(outputs > 0, "hessian_check: the function has no outputs");
    let result = if outputs == 1 {
        check(f, x, options)
    } else {
        // In fast mode a seed of its own, not the directions' (they would share draws).
        let seed = match options.mode {
            Mode::Fast { seed, .. } => seed ^ WEIGHTS_SEED,
            Mode::Full => WEIGHTS_SEED,
        };
        // Weights exact in `T`, so that both modes and the f64 differences weigh alike.
        let weights: Vec<f64> = random_vector(&mut StdRng::seed_from_u64(seed), outputs)
            .iter()
            .map(|&w| T::from_f64_rounded(w).to_f64_lossless())
            .collect();
        let weighted = Weighted {
            f,
            weights: &weights,
        };
        check(&weighted, x, options).map_err(|mut m| {
            m.cotangent = Some(weights.clone());
            m
        })
    };
    result.map_err(|mut m| {
        m.second_order = true;
        options.note_precision::<T>(m)
    })
}

/// The seed of the output weights of a function of several outputs in [`Mode::Full`].
const WEIGHTS_SEED: u64 = 0x4845_5353;

/// [`Mode::Full`] or [`Mode::Fast`] on the (first) output of `f`.
fn check<T, F>(f: &F, x: &[T], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    match options.mode {
        Mode::Fast { seed, trials } => fast(f, x, options, seed, trials),
        Mode::Full => full(f, x, options),
    }
}

/// `wᵀf` as a function of one output.
struct Weighted<'a, F> {
    f: &'a F,
    weights: &'a [f64],
}

impl<F: GenericFn> GenericFn for Weighted<'_, F> {
    fn eval<S: SpecialFunctions + Decompositions + StopGradient + ChainRule + DerivativeOrder>(
        &self,
        x: &[S],
    ) -> Vec<S> {
        let y = self.f.eval(x);
        assert!(
            y.len() == self.weights.len(),
            "hessian_check: the function has {} outputs at x but {} at a point near it",
            self.weights.len(),
            y.len()
        );
        let weighted = y.into_iter().zip(self.weights).map(|(y, &w)| {
            // Exact: `w` is representable in every type the check evaluates on.
            y * S::from(w).expect("an f64 weight converts to every checked type")
        });
        vec![weighted.fold(S::zero(), |sum, term| sum + term)]
    }
}

/// [`Mode::Full`]: every entry.
fn full<T, F>(f: &F, x: &[T], options: &Options) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    let reverse = T::reverse_hessian(f, x);
    let forward = T::forward_hessian(f, x);
    let mut checker = Checker::default();
    let n = x.len();
    for j in 0..n {
        for i in 0..n {
            let (fw, rv) = (forward[(i, j)], reverse[(i, j)]);
            let (fw, rv) = (fw.to_f64_lossless(), rv.to_f64_lossless());
            let entry = Entry {
                input: Some(j),
                output: Some(i),
                forward: Some(fw),
                reverse: Some(rv),
                ..Entry::default()
            };
            checker.compare(
                Comparison::ForwardVsReverse,
                entry,
                rv,
                fw,
                options.ad_tolerance,
            )?;
        }
    }
    // Forward-over-reverse against the differences of the gradient, and its symmetry, as the
    // other second-order checks compare them but with the options' tolerances unscaled (plus
    // the gradient's rounding in its differences).
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let reverse64 = DMatrix::from_fn(n, n, |i, j| reverse[(i, j)].to_f64_lossless());
    let gradient_at = |v: &[f64]| adroit_reverse::gradient(|w| f.eval(w)[0], v);
    let differences = second_order::full(&reverse64, &x64, &gradient_at, options, Scale::Fixed)?;
    Ok(checker.finish().merged(differences))
}

/// [`Mode::Fast`]: `vᵀHu` three ways and `vᵀ(Hu) = uᵀ(Hv)` for `trials` random pairs.
fn fast<T, F>(
    f: &F,
    x: &[T],
    options: &Options,
    seed: u64,
    trials: usize,
) -> Result<Report, Box<Mismatch>>
where
    T: CheckScalar,
    F: GenericFn,
{
    let mut rng = StdRng::seed_from_u64(seed);
    let x64: Vec<f64> = x.iter().map(|v| v.to_f64_lossless()).collect();
    let to_t = |a: &[f64]| -> Vec<T> { a.iter().map(|&v| T::from_f64_rounded(v)).collect() };
    let to_f64 = |a: &[T]| -> Vec<f64> { a.iter().map(|v| v.to_f64_lossless()).collect() };
    let mut checker = Checker::default();
    let g = adroit_reverse::gradient(|w| f.eval(w)[0], &x64);
    for _ in 0..trials {
        let u = random_vector(&mut rng, x.len());
        let v = to_f64(&to_t(&random_vector(&mut rng, x.len())));
        // t ↦ vᵀ∇f(x + t·u), its gradient by reverse mode in f64.
        let along = |direction: &[f64], t: f64| -> f64 {
            let point: Vec<f64> = x64.iter().zip(direction).map(|(a, b)| a + t * b).collect();
            dot(&v, &adroit_reverse::gradient(|w| f.eval(w)[0], &point))
        };
        let (h, u, s) = snapped_step(options, &x64, &u, &along);
        let u_t = to_t(&u);
        let u = to_f64(&u_t);
        let forward = to_f64(&T::forward_hvp(f, x, &u_t));
        let reverse_u = to_f64(&T::reverse_hvp(f, x, &u_t));
        let reverse_v = to_f64(&T::reverse_hvp(f, x, &to_t(&v)));
        let fixed = options.fd.clone().with_step(Step::Fixed(h));
        let fdv = fixed.estimate(|tau| along(&u, tau - s), s);
        let (fw, rv) = (dot(&v, &forward), dot(&v, &reverse_u));
        let entry = Entry {
            forward: Some(fw),
            reverse: Some(rv),
            finite_difference: Some(fdv),
            ..Entry::default()
        };
        // The gradient's rounding in the differences, as in full mode.
        let fd = Tolerance::new(
            options.fd_tolerance.atol + second_order::gradient_rounding(&v, &g, h),
            options.fd_tolerance.rtol,
        );
        checker.compare_modes(entry, options.ad_tolerance, fd)?;
        let transposed = dot(&u, &reverse_v);
        checker.compare_symmetry(Entry::default(), rv, transposed, options.ad_tolerance)?;
    }
    Ok(checker.finish())
}
