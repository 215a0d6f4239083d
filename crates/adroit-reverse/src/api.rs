//! The user-facing functions: gradients, pullbacks (VJPs), Jacobians, Hessians, HVPs.

use crate::record::Recording;
use crate::{Pullback, TapeScalar, Var};
use adroit_forward::{Dual, DualVec};
use nalgebra::DMatrix;
use num_traits::Float;

/// The gradient `∇f(x)` of `f: ℝⁿ → ℝ`, by one recording of `f` and one backward sweep.
///
/// `x`: `n` inputs; returns `n` partial derivatives. `f` may be any code written for
/// `num_traits::Float` (branches, loops, recursion, mutation of `Vec<Var<T>>` included); an
/// input used several times (`x[0]` read in several places) accumulates every contribution.
/// The entries of `x` are independent inputs, also when their values are equal.
///
/// # Panics
/// If `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// use adroit_reverse::num_traits;
/// use adroit_reverse::num_traits::Float;
/// fn f<S: Float>(x: &[S]) -> S { x[0] * x[1].sin() }
/// let g = adroit_reverse::gradient(|x| f(x), &[2.0, 0.0]);
/// assert_eq!(g, vec![0.0, 2.0]);
/// ```
#[track_caller]
pub fn gradient<T: TapeScalar, F: FnOnce(&[Var<T>]) -> Var<T>>(f: F, x: &[T]) -> Vec<T> {
    value_and_gradient(f, x).1
}

/// `(f(x), ∇f(x))`, as [`gradient`].
///
/// # Panics
/// As [`gradient`]: if `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// let (v, g) = adroit_reverse::value_and_gradient(|x| x[0] * x[0] + 3.0 * x[1], &[5.0, 7.0]);
/// assert_eq!((v, g), (46.0, vec![10.0, 3.0]));
/// ```
#[track_caller]
pub fn value_and_gradient<T, F>(f: F, x: &[T]) -> (T, Vec<T>)
where
    T: TapeScalar,
    F: FnOnce(&[Var<T>]) -> Var<T>,
{
    let (value, grad, ()) = value_and_gradient_with_aux(|x| (f(x), ()), x);
    (value, grad)
}

/// `(f(x), ∇f(x), aux)` for `f` returning `(loss, aux)`: `aux` is any extra output that is
/// passed through, not differentiated (JAX's `has_aux`). Return plain values in `aux`, not
/// variables (they cannot be used after the call).
///
/// # Panics
/// As [`gradient`]: if `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// let (v, g, aux) = adroit_reverse::value_and_gradient_with_aux(
///     |x| {
///         let y = x[0] * x[0];
///         (y, y.value() > 1.0)
///     },
///     &[3.0],
/// );
/// assert_eq!((v, g, aux), (9.0, vec![6.0], true));
/// ```
#[track_caller]
pub fn value_and_gradient_with_aux<T, A, F>(f: F, x: &[T]) -> (T, Vec<T>, A)
where
    T: TapeScalar,
    F: FnOnce(&[Var<T>]) -> (Var<T>, A),
{
    let ((y, aux), rec) = Recording::new(x, f);
    rec.check_output(&y);
    (y.value(), rec.backward([(&y, T::one())]), aux)
}

/// Records `f: ℝⁿ → ℝᵐ` once and returns `(f(x), pullback)`, where the [`Pullback`] maps any
/// output cotangent `w` (`m` entries) to the input cotangent `wᵀJ` (`n` entries) — the
/// vector-Jacobian product (VJP) — and can be called many times.
///
/// # Panics
/// If `f` returns a variable of another scope.
///
/// # Example
/// ```
/// let (y, pb) = adroit_reverse::pullback(|x| vec![x[0] * x[1]], &[2.0, 3.0]);
/// assert_eq!((y, pb.call(&[2.0])), (vec![6.0], vec![6.0, 4.0]));
/// ```
#[track_caller]
pub fn pullback<T, F>(f: F, x: &[T]) -> (Vec<T>, Pullback<T>)
where
    T: TapeScalar,
    F: FnOnce(&[Var<T>]) -> Vec<Var<T>>,
{
    let (ys, rec) = Recording::new(x, f);
    for y in &ys {
        rec.check_output(y);
    }
    let values = ys.iter().map(Var::value).collect();
    (values, Pullback::new(rec, ys))
}

/// The vector-Jacobian product `(f(x), wᵀJ(x))` in one call (see [`pullback`] to reuse the
/// recording for several cotangents: JAX's `vjp`, which returns the function, is [`pullback`]
/// here; this is PyTorch's `torch.func.vjp` applied to one cotangent).
///
/// # Panics
/// If `w.len()` differs from the number of outputs.
///
/// # Example
/// ```
/// let (y, vjp) = adroit_reverse::vjp(|x| vec![x[0] * x[1], x[1]], &[2.0, 3.0], &[1.0, 1.0]);
/// assert_eq!((y, vjp), (vec![6.0, 3.0], vec![3.0, 3.0]));
/// ```
#[track_caller]
pub fn vjp<T, F>(f: F, x: &[T], w: &[T]) -> (Vec<T>, Vec<T>)
where
    T: TapeScalar,
    F: FnOnce(&[Var<T>]) -> Vec<Var<T>>,
{
    let (y, pb) = pullback(f, x);
    assert_eq!(
        w.len(),
        y.len(),
        "vjp: the cotangent w has {} entries but the function has {} outputs",
        w.len(),
        y.len()
    );
    let ct = pb.call(w);
    (y, ct)
}

/// The Jacobian of `f: ℝⁿ → ℝᵐ`: one recording, one backward sweep per output.
///
/// `x`: `n` inputs; returns the `m × n` matrix with `J[(i, j)] = ∂fᵢ/∂xⱼ` (row `i` is `∇fᵢ`).
/// Prefer it to forward mode when `m < n`. [`value_and_jacobian`] also returns `f(x)`.
///
/// # Panics
/// If `f` returns a `Var` that was not computed from its inputs in this call (a variable of
/// another scope), or uses one of them.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// let j = adroit_reverse::jacobian(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0]);
/// assert_eq!(j, adroit_reverse::nalgebra::dmatrix![3.0, 2.0; 1.0, 1.0]);
/// ```
#[track_caller]
#[inline]
pub fn jacobian<T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: TapeScalar + nalgebra::Scalar,
    F: FnOnce(&[Var<T>]) -> Vec<Var<T>>,
{
    value_and_jacobian(f, x).1
}

/// `(f(x), J)`: the `m` values of `f: ℝⁿ → ℝᵐ` and its `m × n` Jacobian, from the one
/// recording [`jacobian`] makes — for Newton's method and Gauss–Newton, which need both.
///
/// # Panics
/// As [`jacobian`].
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// let (y, j) = adroit_reverse::value_and_jacobian(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0]);
/// assert_eq!((y, j), (vec![6.0, 5.0], dmatrix![3.0, 2.0; 1.0, 1.0]));
/// ```
#[track_caller]
pub fn value_and_jacobian<T, F>(f: F, x: &[T]) -> (Vec<T>, DMatrix<T>)
where
    T: TapeScalar + nalgebra::Scalar,
    F: FnOnce(&[Var<T>]) -> Vec<Var<T>>,
{
    let (ys, rec) = Recording::new(x, f);
    let mut jac = DMatrix::from_element(ys.len(), x.len(), T::zero());
    let mut values = Vec::with_capacity(ys.len());
    for (i, y) in ys.iter().enumerate() {
        rec.check_output(y);
        values.push(y.value());
        for (j, g) in rec.backward([(y, T::one())]).into_iter().enumerate() {
            jac[(i, j)] = g;
        }
    }
    (values, jac)
}

/// The number of Hessian columns [`hessian`] computes per sweep (the lanes of the dual type its
/// closure records on).
///
/// # Example
/// ```
/// use adroit_reverse::{HESSIAN_CHUNK, Var, adroit_forward::DualVec};
/// // `hessian` hands its closure Var<DualVec<T, HESSIAN_CHUNK>>: a 13-input Hessian takes two
/// // chunks of 12 directions.
/// let h = adroit_reverse::hessian(
///     |x: &[Var<DualVec<f64, HESSIAN_CHUNK>>]| x.iter().map(|&v| v * v).sum(),
///     &[1.0; 13],
/// );
/// assert_eq!(h[(12, 12)], 2.0);
/// ```
pub const HESSIAN_CHUNK: usize = 12;

/// The chunk sizes `N` that [`hessian_chunked`] (and
/// [`matrix::hessian_chunked`](crate::matrix::hessian_chunked)) can record: `DualVec<T, N>` is
/// a [`TapeScalar`] for these (each type has its own thread-local tape). Another size does not
/// compile (`E0277`, "cannot be recorded on adroit-reverse's tape").
///
/// # Example
/// ```
/// assert!(adroit_reverse::HESSIAN_CHUNKS.contains(&adroit_reverse::HESSIAN_CHUNK));
/// ```
/// ```compile_fail,E0277
/// // 3 is not among them: take 4 for three inputs
/// let h = adroit_reverse::hessian_chunked::<3, _, _>(|x| x[0] * x[1] * x[2], &[1.0, 2.0, 3.0]);
/// ```
pub const HESSIAN_CHUNKS: [usize; 5] = [1, 2, 4, 8, 12];

/// The Hessian `∇²f(x)` of `f: ℝⁿ → ℝ` by forward-over-reverse, on `Var<DualVec<T, 12>>`
/// ([`HESSIAN_CHUNK`]): 12 coordinate directions per chunk, the tangents of the gradient along
/// them being 12 columns of the Hessian. For a few inputs a smaller chunk is faster:
/// [`hessian_chunked`].
///
/// Two engines, giving the same Hessians up to rounding:
/// - **more than two chunks** (`n > 24`): `f` is recorded once, each node with its
///   second partials from the rule table, and each chunk is one tangent sweep and one
///   second-order adjoint sweep over that tape (the second-order adjoint mode of ADOL-C;
///   Griewank & Walther, *Evaluating Derivatives*, 2008, §5.4). Nodes that do not depend on
///   the chunk's inputs are skipped, so a function whose terms each involve a few inputs costs
///   each chunk only the terms that involve it (extended Rosenbrock at n = 100: 37 µs against
///   123 µs recording per chunk, `--bench peers -- rosenbrock_hessian`, BENCHMARKS.md §T.12);
/// - **one or two chunks** (`n ≤ 24`, where the one recording does not pay for itself), or a
///   recording holding a custom rule ([`custom_rule`](crate::custom_rule),
///   [`custom_scalar`](crate::custom_scalar), [`checkpoint`](crate::checkpoint),
///   [`svd`](crate::svd), [`symmetric_eigen`](crate::symmetric_eigen), whose pullbacks carry
///   no second partials): `f` is recorded once per chunk with the chunk's directions seeded in
///   its inputs' tangents, and each recording swept once.
///
/// Range: the first engine forms each rule's second partial alone (for unit seeds) before
/// scaling it by the adjoint and the tangents, as adroit-forward's hyper-dual numbers do, so
/// where that partial alone underflows or overflows while the whole term would not, the entry
/// is 0 or wrong: in `f32`, `1/(x·y)` at `x·y = 2·10¹⁵` (`f'' = 2.5·10⁻⁴⁶`: `∂²/∂y²` 0, not
/// `2.5·10⁻¹⁶`); in `f64`, `√(x·y)` at `x·y = 4·10³⁰⁰`. The per-chunk recordings form it along
/// the tangents and reach further; [`hessian_chunked`] with `N = 1` always takes them.
///
/// Under the first engine the variables' values carry no tangents, so a constant made from a
/// value (`Var::constant(x.value())`) is a constant at every order, as
/// [`stop_gradient`](crate::stop_gradient) makes one; under the second its tangents reach the
/// Hessian (not the gradient). Use `stop_gradient` for the same result at every size.
///
/// `x`: `n` inputs; returns the `n × n` matrix `H[(i, j)] = ∂²f/∂xᵢ∂xⱼ` (symmetric up to
/// rounding). Only the second-order parts are returned: where `f` or its gradient is NaN (a
/// point outside its domain) the Hessian can still be finite — [`value_gradient_and_hessian`]
/// shows the value. For a Hessian-vector product use [`hvp`] (one recording). Near overflow (a naive
/// `ln Σ exp(xᵢ)` at large `xᵢ`) second derivatives can be finite and wrong, as JAX's and
/// PyTorch's are: see adroit-forward's crate docs, "Second derivatives near overflow". If the
/// compiler asks for type annotations (`E0282`) with a closure mixing float literals into the
/// variables, give the point's type: `&[0.5_f64]`. The closure's variables are not `Var<T>`
/// but `Var<DualVec<T, 12>>`: annotating them `|x: &[Var<f64>]|`, or passing a function taking
/// `&[Var<f64>]`, fails with a type mismatch (`E0631`, "expected closure signature") — write
/// the function generically (`fn f<S: Float>(x: &[S]) -> S`) and pass `|x| f(x)`, as below.
///
/// # Panics
/// As [`gradient`]: if `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// use adroit_reverse::{nalgebra, num_traits};
/// use adroit_reverse::num_traits::Float;
/// fn f<S: Float>(x: &[S]) -> S { x[0] * x[0] * x[1] }
/// let h = adroit_reverse::hessian(|x| f(x), &[1.0, 2.0]);
/// assert_eq!(h, adroit_reverse::nalgebra::dmatrix![4.0, 2.0; 2.0, 0.0]);
/// // plain floats work on either side of the recorded variables' operators
/// let h = adroit_reverse::hessian(|x| 3.0 * x[0] * x[0] + x[1] / 2.0, &[1.0, 2.0]);
/// assert_eq!(h, adroit_reverse::nalgebra::dmatrix![6.0, 0.0; 0.0, 0.0]);
/// // a `Float` method takes a variable (its argument is `Self`): a constant by `num_traits`
/// let h = adroit_reverse::hessian(|x| x[0].max(num_traits::zero()).powi(3), &[2.0]);
/// assert_eq!(h[(0, 0)], 12.0);
/// // any other constant by `num_traits::cast` (the AD types have no `From<f64>`)
/// let h = adroit_reverse::hessian(|x| x[0].min(num_traits::cast(1.5).unwrap()).powi(2), &[1.0]);
/// assert_eq!(h[(0, 0)], 2.0);
/// // through nalgebra's decompositions: ln det(diag(2, 4) + x) by LU, Hessian −diag(1/4, 1/16)
/// let h = adroit_reverse::hessian(
///     |x| {
///         let a = nalgebra::DMatrix::from_fn(2, 2, |i, j| {
///             if i == j { x[i] + 2.0 * (i as f64 + 1.0) } else { num_traits::zero() }
///         });
///         a.lu().determinant().ln()
///     },
///     &[0.0, 0.0],
/// );
/// assert_eq!(h, nalgebra::dmatrix![-0.25, 0.0; 0.0, -0.0625]);
/// ```
#[track_caller]
pub fn hessian<T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    DualVec<T, HESSIAN_CHUNK>: TapeScalar,
    F: Fn(&[Var<DualVec<T, HESSIAN_CHUNK>>]) -> Var<DualVec<T, HESSIAN_CHUNK>>,
{
    hessian_chunked::<HESSIAN_CHUNK, T, F>(f, x)
}

/// [`hessian`] with a chosen chunk size `N` (one of [`HESSIAN_CHUNKS`]: 1, 2, 4, 8, 12), as
/// ForwardDiff.jl's `Chunk{N}`: `N` directions per chunk, by [`hessian`]'s two engines — for
/// `n > 2N` (and `N ≥ 2`, a rule's two operands taking a lane each) one recording with second
/// partials and `⌈n/N⌉` pairs of sweeps; otherwise `⌈n/N⌉` recordings on `Var<DualVec<T, N>>`,
/// each seeded with `N` coordinate directions. Every operation recorded carries `N` tangents
/// whatever `n`, so for a few inputs the smallest chunk of at least `n` is the fastest (a
/// Gaussian process's likelihood over 20 points in 3 hyperparameters, through nalgebra's
/// Cholesky: 123 µs with `N = 4` against 175 µs with 12, `--bench reverse --
/// gp_hyperparameter_hessian`); for many inputs a larger chunk needs fewer sweeps.
///
/// `x`: `n` inputs; returns the `n × n` Hessian, equal to [`hessian`]'s up to rounding. Empty
/// `x` gives a 0 × 0 matrix without calling `f`. A forward-mode derivative inside `f` on the same type
/// `DualVec<T, N>` is refused as a nested call of that type (the perturbation-confusion
/// guard), also one the library makes: a matrix `zip_map` of `N` inputs inside an inner
/// `matrix::gradient` evaluates its element function on `DualVec<T, N>` — there take another
/// chunk size, or wrap the inner call in `adroit_forward::independent`.
///
/// # Panics
/// As [`gradient`]: if `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// use adroit_reverse::num_traits::Float;
/// fn f<S: Float>(x: &[S]) -> S { x[0] * x[0] * x[1] + x[2].exp() }
/// let h = adroit_reverse::hessian_chunked::<4, _, _>(|x| f(x), &[1.0, 2.0, 0.0]);
/// assert_eq!(h, dmatrix![4.0, 2.0, 0.0; 2.0, 0.0, 0.0; 0.0, 0.0, 1.0]);
/// ```
#[track_caller]
pub fn hessian_chunked<const N: usize, T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    DualVec<T, N>: TapeScalar,
    F: Fn(&[Var<DualVec<T, N>>]) -> Var<DualVec<T, N>>,
{
    if x.is_empty() {
        return DMatrix::from_element(0, 0, T::zero());
    }
    hessian_recordings(&f, x).2
}

/// `(f(x), ∇f(x), ∇²f(x))` from the work [`hessian`] does, at no extra cost: the value and
/// the gradient are the recording's value and first-order adjoints, or the primal parts of a
/// chunk recording's results (as ForwardDiff.jl's
/// `hessian!` fills a `DiffResults.HessianResult`). For Newton-type methods, which need all
/// three at each point.
///
/// `x`: `n` inputs; returns the value, the `n` partials and the `n × n` Hessian, equal to
/// [`hessian`]'s. With `x` empty, `f` is recorded once, for the value.
///
/// # Panics
/// As [`gradient`]: if `f` returns a variable of another scope, or uses one (see [`Var`]).
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// // f = x²y at (1, 2): value 2, gradient (2xy, x²) = (4, 1), Hessian [2y 2x; 2x 0].
/// let (value, grad, hess) =
///     adroit_reverse::value_gradient_and_hessian(|x| x[0] * x[0] * x[1], &[1.0, 2.0]);
/// assert_eq!((value, grad), (2.0, vec![4.0, 1.0]));
/// assert_eq!(hess, dmatrix![4.0, 2.0; 2.0, 0.0]);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian<T, F>(f: F, x: &[T]) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    DualVec<T, HESSIAN_CHUNK>: TapeScalar,
    F: Fn(&[Var<DualVec<T, HESSIAN_CHUNK>>]) -> Var<DualVec<T, HESSIAN_CHUNK>>,
{
    value_gradient_and_hessian_chunked::<HESSIAN_CHUNK, T, F>(f, x)
}

/// [`value_gradient_and_hessian`] with a chosen chunk size `N`, as [`hessian_chunked`].
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra::{self, dmatrix};
/// let (value, grad, hess) =
///     adroit_reverse::value_gradient_and_hessian_chunked::<2, _, _>(|x| x[0] * x[1], &[3.0, 2.0]);
/// assert_eq!((value, grad), (6.0, vec![2.0, 3.0]));
/// assert_eq!(hess, dmatrix![0.0, 1.0; 1.0, 0.0]);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian_chunked<const N: usize, T, F>(
    f: F,
    x: &[T],
) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    DualVec<T, N>: TapeScalar,
    F: Fn(&[Var<DualVec<T, N>>]) -> Var<DualVec<T, N>>,
{
    if x.is_empty() {
        let (value, _) = value_and_gradient(&f, &[]);
        return (
            value.value(),
            Vec::new(),
            DMatrix::from_element(0, 0, T::zero()),
        );
    }
    hessian_recordings(&f, x)
}

/// [`hessian_chunked`]'s engines (`x` not empty): the second-order adjoint sweeps of one
/// recording when they apply, else one recording per `N` coordinate directions, the value and
/// gradient being the first recording's primal parts.
#[track_caller]
fn hessian_recordings<const N: usize, T, F>(f: &F, x: &[T]) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    DualVec<T, N>: TapeScalar,
    F: Fn(&[Var<DualVec<T, N>>]) -> Var<DualVec<T, N>>,
{
    // Recorded as in `hvp`.
    let _nesting = adroit_forward::record_perturbation::<DualVec<T, N>, F>();
    if let Some(result) = crate::second_order_adjoint::hessian(f, x) {
        return result;
    }
    let n = x.len();
    let mut hess = DMatrix::from_element(n, n, T::zero());
    let mut primal = None;
    let mut point = vec![DualVec::constant(T::zero()); n];
    for start in (0..n).step_by(N) {
        for (j, (p, &xj)) in point.iter_mut().zip(x).enumerate() {
            *p = if (start..start + N).contains(&j) {
                DualVec::variable(xj, j - start)
            } else {
                DualVec::constant(xj)
            };
        }
        let (value, grad) = value_and_gradient(f, &point);
        let width = N.min(n - start);
        for (i, g) in grad.iter().enumerate() {
            let t = g.tangents();
            for k in 0..width {
                hess[(i, start + k)] = t[k];
            }
        }
        primal.get_or_insert_with(|| (value.value(), grad.iter().map(DualVec::value).collect()));
    }
    let (value, grad) = primal.unwrap_or_else(|| (T::zero(), Vec::new()));
    (value, grad, hess)
}

/// The Hessian-vector product `∇²f(x)·v` by forward-over-reverse in one recording (the
/// gradient evaluated on `Dual`s seeded with `v`; its tangent is `H·v`).
///
/// `x`, `v`: `n` entries each; returns `n` entries.
///
/// # Panics
/// If `x.len() != v.len()`; if `f` runs a forward-mode derivative seeding `Dual<T>` that is
/// not wrapped in `adroit_forward::independent` — one of adroit-forward's functions at plain
/// `T` points, another `hvp`, or a `matrix::gradient` whose element-wise maps differentiate
/// their functions on `Dual<T>` (adroit-forward's perturbation-confusion guard).
///
/// # Example
/// ```
/// let hv = adroit_reverse::hvp(|x| x[0] * x[0] * x[1], &[1.0, 2.0], &[1.0, 0.0]);
/// assert_eq!(hv, vec![4.0, 2.0]);
/// ```
#[track_caller]
pub fn hvp<T, F>(f: F, x: &[T], v: &[T]) -> Vec<T>
where
    T: Float,
    Dual<T>: TapeScalar,
    F: FnOnce(&[Var<Dual<T>>]) -> Var<Dual<T>>,
{
    assert_eq!(
        x.len(),
        v.len(),
        "hvp: the point has {} entries but the direction has {}",
        x.len(),
        v.len()
    );
    // The point's duals carry a perturbation: recorded as adroit-forward's functions do, so
    // that `f` cannot confuse it with an enclosing forward-mode call's (nor start another).
    let _nesting = adroit_forward::record_perturbation::<Dual<T>, F>();
    let point: Vec<Dual<T>> = x.iter().zip(v).map(|(&a, &b)| Dual::new(a, b)).collect();
    gradient(f, &point).iter().map(Dual::tangent).collect()
}
