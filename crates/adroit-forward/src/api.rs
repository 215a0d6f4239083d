//! The user-facing functions: derivatives, gradients, Jacobians, JVPs, Hessians, HVPs.

use crate::nesting;
use crate::{Dual, DualVec, HyperDual, HyperDualVec};
use nalgebra::DMatrix;
use num_traits::Float;

/// The chunk size used by [`hessian`] and [`hvp`], and suggested for [`gradient_chunked`] and
/// [`jacobian_chunked`]: the number of directions carried by one evaluation.
///
/// Larger chunks mean fewer evaluations but more work per operation; 8 keeps a
/// [`DualVec<f64, 8>`] in two cache lines. ForwardDiff.jl's default threshold is 12.
///
/// # Example
/// ```
/// use adroit_forward::{DEFAULT_CHUNK, gradient_chunked};
/// // ∇(x·y + z) at (2, 3, 4) = (3, 2, 1), in one evaluation of 8 directions
/// let g = gradient_chunked::<DEFAULT_CHUNK, _, _>(|x| x[0] * x[1] + x[2], &[2.0, 3.0, 4.0]);
/// assert_eq!(g, vec![3.0, 2.0, 1.0]);
/// ```
pub const DEFAULT_CHUNK: usize = 8;

/// The derivative `f'(x)` of a scalar function, by one evaluation on a [`Dual`].
///
/// Exact to rounding (no truncation error). `f` may be any code written for `num_traits::Float`.
/// Source: forward mode on dual numbers (Griewank & Walther, *Evaluating Derivatives*, 2nd ed.,
/// SIAM 2008, ch. 3); ForwardDiff.jl's `derivative`.
///
/// # Example
/// ```
/// // f(x) = 3x² + 2x + 1, f'(x) = 6x + 2
/// let d = adroit_forward::derivative(|x| 3.0 * x * x + 2.0 * x + 1.0, 5.0);
/// assert_eq!(d, 32.0);
/// ```
#[track_caller]
#[inline]
pub fn derivative<T: Float, F: FnOnce(Dual<T>) -> Dual<T>>(f: F, x: T) -> T {
    let _nesting = nesting::record_perturbation::<Dual<T>, F>();
    f(Dual::variable(x)).tangent()
}

/// `(f(x), f'(x))` in one evaluation, as [`derivative`] (ForwardDiff.jl's `DiffResults`
/// form).
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// let (v, d) = adroit_forward::value_and_derivative(|x| x.sin(), 0.0_f64);
/// assert_eq!((v, d), (0.0, 1.0));
/// ```
#[track_caller]
#[inline]
pub fn value_and_derivative<T: Float, F: FnOnce(Dual<T>) -> Dual<T>>(f: F, x: T) -> (T, T) {
    let _nesting = nesting::record_perturbation::<Dual<T>, F>();
    let y = f(Dual::variable(x));
    (y.value(), y.tangent())
}

/// The second derivative `f''(x)`, by one evaluation on a [`HyperDual`] (exact, no nesting;
/// near overflow see the crate docs, "Second derivatives near overflow").
/// Source: hyper-dual numbers (Fike & Alonso, "The development of hyper-dual numbers for exact
/// second-derivative calculations", AIAA 2011-886).
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// // d²/dx² sin x = -sin x
/// let d2 = adroit_forward::second_derivative(|x| x.sin(), 1.0_f64);
/// assert!((d2 + 1.0_f64.sin()).abs() < 1e-15);
/// ```
#[track_caller]
#[inline]
pub fn second_derivative<T: Float, F: FnOnce(HyperDual<T>) -> HyperDual<T>>(f: F, x: T) -> T {
    let _nesting = nesting::record_perturbation::<HyperDual<T>, F>();
    f(HyperDual::variable(x)).eps12()[0][0]
}

/// The gradient `∇f(x)` of `f: ℝⁿ → ℝ`, by `n` evaluations on [`Dual`] (one per input).
///
/// `x`: `n` inputs; returns `n` partial derivatives (empty for `n = 0`, without calling `f`).
/// For large `n` prefer [`gradient_chunked`] (`⌈n/N⌉` evaluations) or reverse mode
/// (`adroit-reverse`, one evaluation). Source: ForwardDiff.jl's `gradient` with chunk size 1
/// (Revels, Lubin & Papamarkou, "Forward-Mode Automatic Differentiation in Julia", 2016).
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// fn f<S: Float>(x: &[S]) -> S { x[0] * x[1].sin() }
/// let g = adroit_forward::gradient(|x| f(x), &[2.0, 0.0]);
/// assert_eq!(g, vec![0.0, 2.0]);
/// ```
#[track_caller]
pub fn gradient<T: Float, F: Fn(&[Dual<T>]) -> Dual<T>>(f: F, x: &[T]) -> Vec<T> {
    if x.is_empty() {
        return Vec::new();
    }
    value_and_gradient(f, x).1
}

/// `(f(x), ∇f(x))`, as [`gradient`] (same source). For `n = 0`, `f` is evaluated once for the
/// value.
///
/// # Example
/// ```
/// let (v, g) = adroit_forward::value_and_gradient(|x| x[0] * x[1], &[3.0, 4.0]);
/// assert_eq!((v, g), (12.0, vec![4.0, 3.0]));
/// ```
#[track_caller]
#[inline]
pub fn value_and_gradient<T: Float, F: Fn(&[Dual<T>]) -> Dual<T>>(f: F, x: &[T]) -> (T, Vec<T>) {
    let _nesting = nesting::record_perturbation::<Dual<T>, F>();
    let mut seeds: Vec<Dual<T>> = x.iter().map(|&xi| Dual::constant(xi)).collect();
    if x.is_empty() {
        return (f(&seeds).value(), Vec::new());
    }
    let mut value = T::zero();
    let mut grad = Vec::with_capacity(x.len());
    for i in 0..x.len() {
        seeds[i] = Dual::variable(x[i]);
        let y = f(&seeds);
        seeds[i] = Dual::constant(x[i]);
        value = y.value();
        grad.push(y.tangent());
    }
    (value, grad)
}

/// Seeds chunk `start..start + N` of `x` into `buf`: input `start + k` gets tangent `eₖ`, the
/// others are constants.
pub(crate) fn seed_chunk<T: Float, const N: usize>(
    buf: &mut [DualVec<T, N>],
    x: &[T],
    start: usize,
) {
    for (j, (b, &xj)) in buf.iter_mut().zip(x).enumerate() {
        // Lane k of input j is 1 exactly when j = start + k.
        let tangents = core::array::from_fn(|k| {
            if j.wrapping_sub(start) == k {
                T::one()
            } else {
                T::zero()
            }
        });
        *b = DualVec::new(xj, tangents);
    }
}

/// The gradient of `f: ℝⁿ → ℝ` in chunk mode: `⌈n/N⌉` evaluations on [`DualVec<T, N>`], each
/// giving `N` partial derivatives (ForwardDiff.jl's chunk mode; with no inputs `f` is not
/// called, as for [`gradient`]). [`DEFAULT_CHUNK`] is a good `N`; for small `n`, `N = n`
/// computes the gradient in one evaluation.
///
/// `x`: `n` inputs; returns `n` partial derivatives.
///
/// # Example
/// ```
/// use adroit_forward::num_traits::Float;
/// fn f<S: Float>(x: &[S]) -> S { x.iter().fold(S::zero(), |acc, &xi| acc + xi * xi) }
/// let g = adroit_forward::gradient_chunked::<2, _, _>(|x| f(x), &[1.0, 2.0, 3.0]);
/// assert_eq!(g, vec![2.0, 4.0, 6.0]);
/// ```
///
/// A chunk size of 0 is rejected when the program is compiled:
/// ```compile_fail
/// let g = adroit_forward::gradient_chunked::<0, _, _>(|x| x[0], &[1.0]);
/// ```
#[track_caller]
pub fn gradient_chunked<const N: usize, T, F>(f: F, x: &[T]) -> Vec<T>
where
    T: Float,
    F: Fn(&[DualVec<T, N>]) -> DualVec<T, N>,
{
    if x.is_empty() {
        return Vec::new();
    }
    let mut grad = vec![T::zero(); x.len()];
    gradient_chunked_into(f, x, &mut grad);
    grad
}

/// [`gradient_chunked`] writing `∇f(x)` into `grad` and returning `f(x)`: no allocation when
/// `x.len() ≤ N` and `N` is small (the seeds then live on the stack; up to `N ≈ 90` for
/// `f64`), for use in hot loops (ForwardDiff.jl's `gradient!`). With `x` empty, `f` is
/// called once, for the value.
///
/// # Panics
/// If `grad.len() != x.len()`.
///
/// # Example
/// ```
/// let mut g = [0.0; 2];
/// let v = adroit_forward::gradient_chunked_into::<2, _, _>(|x| x[0] * x[1], &[3.0, 4.0], &mut g);
/// assert_eq!((v, g), (12.0, [4.0, 3.0]));
/// ```
#[track_caller]
#[inline]
pub fn gradient_chunked_into<const N: usize, T, F>(f: F, x: &[T], grad: &mut [T]) -> T
where
    T: Float,
    F: Fn(&[DualVec<T, N>]) -> DualVec<T, N>,
{
    let _nesting = nesting::record_perturbation::<DualVec<T, N>, F>();
    const { assert!(N > 0, "the chunk size must be at least 1") };
    assert_eq!(
        x.len(),
        grad.len(),
        "gradient_chunked_into: {} inputs but room for {} partials",
        x.len(),
        grad.len()
    );
    // Seeds on the stack only while they are small (N·(N + 1) numbers: 8 MiB at N = 1024,
    // which overflowed the stack); the stack array lives in its own function, so that a large
    // N never reserves it, in debug builds too.
    let small = const { N * size_of::<DualVec<T, N>>() <= 64 * 1024 };
    if small && x.len() <= N {
        chunked_on_stack(&f, x, grad)
    } else {
        let mut buf = vec![DualVec::constant(T::zero()); x.len()];
        chunked_sweep(&f, x, grad, &mut buf)
    }
}

/// [`gradient_chunked_into`] for `x.len() ≤ N` with the seeds in a stack array.
#[inline]
fn chunked_on_stack<const N: usize, T, F>(f: &F, x: &[T], grad: &mut [T]) -> T
where
    T: Float,
    F: Fn(&[DualVec<T, N>]) -> DualVec<T, N>,
{
    let mut on_stack = [DualVec::constant(T::zero()); N];
    chunked_sweep(f, x, grad, &mut on_stack[..x.len()])
}

/// The chunk loop of [`gradient_chunked_into`]: `buf` holds `x.len()` seeds.
#[inline]
fn chunked_sweep<const N: usize, T, F>(
    f: &F,
    x: &[T],
    grad: &mut [T],
    buf: &mut [DualVec<T, N>],
) -> T
where
    T: Float,
    F: Fn(&[DualVec<T, N>]) -> DualVec<T, N>,
{
    if x.is_empty() {
        return f(buf).value();
    }
    let mut value = T::zero();
    for start in (0..x.len()).step_by(N.max(1)) {
        seed_chunk(buf, x, start);
        let y = f(buf);
        value = y.value();
        let width = N.min(x.len() - start);
        grad[start..start + width].copy_from_slice(&y.tangents()[..width]);
    }
    value
}

/// Checks that an evaluation returned as many outputs as the first one.
#[track_caller]
fn check_output_len(expected: usize, found: usize) {
    assert_eq!(
        expected, found,
        "jacobian: the function returned {found} outputs, but {expected} on an earlier evaluation"
    );
}

/// The Jacobian of `f: ℝⁿ → ℝᵐ`, by `n` evaluations on [`Dual`] (one column each).
///
/// `x`: `n` inputs; returns the `m × n` matrix `J` with `J[(i, j)] = ∂fᵢ/∂xⱼ` (row `i` is
/// `∇fᵢ`). For `n = 0`, `f` is evaluated once to learn `m`. Source: ForwardDiff.jl's
/// `jacobian` with chunk size 1 (JAX's `jacfwd`). [`value_and_jacobian`] also returns `f(x)`.
///
/// # Panics
/// If `f` returns outputs of different lengths on different evaluations.
///
/// # Example
/// ```
/// use adroit_forward::nalgebra;
/// let j = adroit_forward::jacobian(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0]);
/// assert_eq!(j, adroit_forward::nalgebra::dmatrix![3.0, 2.0; 1.0, 1.0]);
/// ```
#[track_caller]
#[inline]
pub fn jacobian<T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[Dual<T>]) -> Vec<Dual<T>>,
{
    value_and_jacobian(f, x).1
}

/// `(f(x), J)`: the values of `f: ℝⁿ → ℝᵐ` (`m` entries, from the first evaluation) and its
/// `m × n` Jacobian, as [`jacobian`] computes it — for Newton's method and Gauss–Newton, which
/// need both (ForwardDiff.jl's `DiffResults`).
///
/// # Panics
/// As [`jacobian`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra::{self, dmatrix};
/// let (y, j) = adroit_forward::value_and_jacobian(|x| vec![x[0] * x[1], x[0] + x[1]], &[2.0, 3.0]);
/// assert_eq!((y, j), (vec![6.0, 5.0], dmatrix![3.0, 2.0; 1.0, 1.0]));
/// ```
#[track_caller]
pub fn value_and_jacobian<T, F>(f: F, x: &[T]) -> (Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[Dual<T>]) -> Vec<Dual<T>>,
{
    let _nesting = nesting::record_perturbation::<Dual<T>, F>();
    let mut seeds: Vec<Dual<T>> = x.iter().map(|&xi| Dual::constant(xi)).collect();
    if x.is_empty() {
        let y: Vec<T> = f(&seeds).iter().map(Dual::value).collect();
        let jac = DMatrix::zeros_generic(nalgebra::Dyn(y.len()), nalgebra::Dyn(0));
        return (y, jac);
    }
    let mut out: Option<(Vec<T>, DMatrix<T>)> = None;
    for j in 0..x.len() {
        seeds[j] = Dual::variable(x[j]);
        let y = f(&seeds);
        seeds[j] = Dual::constant(x[j]);
        let (_, jac) = out.get_or_insert_with(|| {
            let values = y.iter().map(Dual::value).collect();
            (values, DMatrix::from_element(y.len(), x.len(), T::zero()))
        });
        check_output_len(jac.nrows(), y.len());
        for (i, yi) in y.iter().enumerate() {
            jac[(i, j)] = yi.tangent();
        }
    }
    out.unwrap_or_else(|| unreachable!("x is not empty"))
}

/// The Jacobian of `f: ℝⁿ → ℝᵐ` in chunk mode: `⌈n/N⌉` evaluations on [`DualVec<T, N>`] (one
/// for `n = 0`, to learn `m`). [`value_and_jacobian_chunked`] also returns `f(x)`.
///
/// Same shapes and panics as [`jacobian`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra;
/// let j = adroit_forward::jacobian_chunked::<2, _, _>(|x| vec![x[0] * x[1]], &[2.0, 3.0]);
/// assert_eq!(j, adroit_forward::nalgebra::dmatrix![3.0, 2.0]);
/// ```
#[track_caller]
#[inline]
pub fn jacobian_chunked<const N: usize, T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[DualVec<T, N>]) -> Vec<DualVec<T, N>>,
{
    value_and_jacobian_chunked(f, x).1
}

/// `(f(x), J)` in chunk mode, as [`jacobian_chunked`] computes the Jacobian (the values from
/// the first evaluation).
///
/// Same shapes and panics as [`jacobian`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra::{self, dmatrix};
/// let (y, j) =
///     adroit_forward::value_and_jacobian_chunked::<2, _, _>(|x| vec![x[0] * x[1]], &[2.0, 3.0]);
/// assert_eq!((y, j), (vec![6.0], dmatrix![3.0, 2.0]));
/// ```
#[track_caller]
#[inline]
pub fn value_and_jacobian_chunked<const N: usize, T, F>(f: F, x: &[T]) -> (Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[DualVec<T, N>]) -> Vec<DualVec<T, N>>,
{
    let _nesting = nesting::record_perturbation::<DualVec<T, N>, F>();
    const { assert!(N > 0, "the chunk size must be at least 1") };
    let mut buf = vec![DualVec::constant(T::zero()); x.len()];
    if x.is_empty() {
        let y: Vec<T> = f(&buf).iter().map(DualVec::value).collect();
        let jac = DMatrix::zeros_generic(nalgebra::Dyn(y.len()), nalgebra::Dyn(0));
        return (y, jac);
    }
    let mut out: Option<(Vec<T>, DMatrix<T>)> = None;
    for start in (0..x.len()).step_by(N.max(1)) {
        seed_chunk(&mut buf, x, start);
        let y = f(&buf);
        let (_, jac) = out.get_or_insert_with(|| {
            let values = y.iter().map(DualVec::value).collect();
            (values, DMatrix::from_element(y.len(), x.len(), T::zero()))
        });
        check_output_len(jac.nrows(), y.len());
        let width = N.min(x.len() - start);
        for (i, yi) in y.iter().enumerate() {
            let t = yi.tangents();
            for k in 0..width {
                jac[(i, start + k)] = t[k];
            }
        }
    }
    out.unwrap_or_else(|| unreachable!("x is not empty"))
}

/// The Jacobian-vector product (directional derivative) `J(x)·v` of `f: ℝⁿ → ℝᵐ`, with
/// `f(x)`, in one evaluation on [`Dual`] seeded with `v`.
///
/// `x`, `v`: `n` entries each; returns `(f(x), J·v)`, `m` entries each. Source: JAX's `jvp`
/// (one pass, the tangent seeded with `v`; Griewank & Walther 2008, §3.1).
///
/// # Panics
/// If `x.len() != v.len()`.
///
/// # Example
/// ```
/// let (y, jv) = adroit_forward::jvp(|x| vec![x[0] * x[1]], &[2.0, 3.0], &[1.0, 1.0]);
/// assert_eq!((y, jv), (vec![6.0], vec![5.0]));
/// ```
#[track_caller]
#[inline]
pub fn jvp<T, F>(f: F, x: &[T], v: &[T]) -> (Vec<T>, Vec<T>)
where
    T: Float,
    F: FnOnce(&[Dual<T>]) -> Vec<Dual<T>>,
{
    let _nesting = nesting::record_perturbation::<Dual<T>, F>();
    assert_eq!(
        x.len(),
        v.len(),
        "jvp: the point has {} entries but the direction has {}",
        x.len(),
        v.len()
    );
    let seeds: Vec<Dual<T>> = x
        .iter()
        .zip(v)
        .map(|(&xi, &vi)| Dual::new(xi, vi))
        .collect();
    f(&seeds).iter().map(|y| (y.value(), y.tangent())).unzip()
}

/// The Hessian `∇²f(x)` of `f: ℝⁿ → ℝ`, exact, by evaluations on square chunks of
/// [`HyperDualVec<T, DEFAULT_CHUNK, DEFAULT_CHUNK>`]: one evaluation per block on or above the
/// diagonal, `b(b+1)/2` with `b = ⌈n/DEFAULT_CHUNK⌉`.
///
/// `x`: `n` inputs; returns the symmetric `n × n` matrix `H[(i, j)] = ∂²f/∂xᵢ∂xⱼ` (the lower
/// triangle is mirrored from the upper). Empty `x` gives a 0 × 0 matrix without calling `f`.
///
/// A closure given a type of its own takes `&[HyperDualVec<T, 8, 8>]` ([`DEFAULT_CHUNK`] = 8;
/// adroit-reverse's `hessian` records `Var<DualVec<T, 12>>` instead, its `HESSIAN_CHUNK`).
/// Every operation carries all `8 × 8` second-order parts whatever `n`: for fewer inputs,
/// [`hessian_chunked`]`::<n>` is faster (`n = 3`, a Gaussian-process likelihood over 20
/// points, release build: 0.21 ms against 1.09 ms). The chunk is a type parameter, so it
/// cannot be picked from `n` at run time as ForwardDiff.jl does.
/// Only the second-order parts are returned: a NaN value or gradient inside `f` is not seen.
/// Near overflow (a naive `ln Σ exp(xᵢ)` at large `xᵢ`) second derivatives can be finite and
/// wrong, as JAX's and PyTorch's are: see the crate docs, "Second derivatives near overflow".
/// Source: hyper-dual numbers (Fike & Alonso 2011) in ForwardDiff.jl's chunked layout
/// (ForwardDiff's own `hessian` nests duals instead; the result is the same).
///
/// # Example
/// ```
/// use adroit_forward::nalgebra;
/// use adroit_forward::num_traits::Float;
/// use adroit_forward::{DEFAULT_CHUNK, HyperDualVec};
/// fn f<S: Float>(x: &[S]) -> S { x[0] * x[0] * x[1] }
/// let h = adroit_forward::hessian(|x| f(x), &[1.0, 2.0]);
/// assert_eq!(h, adroit_forward::nalgebra::dmatrix![4.0, 2.0; 2.0, 0.0]);
/// // the same, with the closure's argument type written out
/// type H = HyperDualVec<f64, DEFAULT_CHUNK, DEFAULT_CHUNK>;
/// let g = |x: &[H]| x[0] * x[0] * x[1];
/// assert_eq!(adroit_forward::hessian(g, &[1.0, 2.0]), h);
/// ```
#[track_caller]
pub fn hessian<T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    F: Fn(
        &[HyperDualVec<T, DEFAULT_CHUNK, DEFAULT_CHUNK>],
    ) -> HyperDualVec<T, DEFAULT_CHUNK, DEFAULT_CHUNK>,
{
    hessian_chunked::<DEFAULT_CHUNK, T, F>(f, x)
}

/// [`hessian`] with a chosen chunk size `N`: one evaluation on [`HyperDualVec<T, N, N>`] per
/// `N × N` block on or above the diagonal, `b(b+1)/2` with `b = ⌈n/N⌉` (`N = n` gives the whole
/// Hessian in one evaluation; larger `N` means fewer evaluations of `N²` second-order parts
/// each).
///
/// `x`: `n` inputs; returns the symmetric `n × n` Hessian (upper triangle computed, lower
/// mirrored); empty `x` gives a 0 × 0 matrix without calling `f`. `N = 0` is rejected at
/// compile time. Source: as [`hessian`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra;
/// let h = adroit_forward::hessian_chunked::<1, _, _>(|x| x[0] * x[1], &[1.0, 2.0]);
/// assert_eq!(h, adroit_forward::nalgebra::dmatrix![0.0, 1.0; 1.0, 0.0]);
/// ```
#[track_caller]
pub fn hessian_chunked<const N: usize, T, F>(f: F, x: &[T]) -> DMatrix<T>
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[HyperDualVec<T, N, N>]) -> HyperDualVec<T, N, N>,
{
    const { assert!(N > 0, "the chunk size must be at least 1") };
    if x.is_empty() {
        return DMatrix::from_element(0, 0, T::zero());
    }
    hessian_blocks(&f, x).2
}

/// `(f(x), ∇f(x), ∇²f(x))` from the evaluations [`hessian`] makes, at no extra cost: the value
/// and the gradient are parts of the hyper-dual results it discards (ForwardDiff.jl's
/// `hessian!` into a `DiffResults.HessianResult`). For Newton-type methods, which need all
/// three at each point.
///
/// `x`: `n` inputs; returns the value, the `n` partials (the first-order parts of the
/// diagonal blocks' evaluations: [`gradient`]'s rules) and the symmetric `n × n` Hessian,
/// equal to [`hessian`]'s. With `x` empty, `f` is called once, for the value. Source: as
/// [`hessian`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra::{self, dmatrix};
/// // f = x²y at (1, 2): value 2, gradient (2xy, x²) = (4, 1), Hessian [2y 2x; 2x 0].
/// let (value, grad, hess) =
///     adroit_forward::value_gradient_and_hessian(|x| x[0] * x[0] * x[1], &[1.0, 2.0]);
/// assert_eq!((value, grad), (2.0, vec![4.0, 1.0]));
/// assert_eq!(hess, dmatrix![4.0, 2.0; 2.0, 0.0]);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian<T, F>(f: F, x: &[T]) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    F: Fn(
        &[HyperDualVec<T, DEFAULT_CHUNK, DEFAULT_CHUNK>],
    ) -> HyperDualVec<T, DEFAULT_CHUNK, DEFAULT_CHUNK>,
{
    value_gradient_and_hessian_chunked::<DEFAULT_CHUNK, T, F>(f, x)
}

/// [`value_gradient_and_hessian`] with a chosen chunk size `N`, as [`hessian_chunked`].
///
/// # Example
/// ```
/// use adroit_forward::nalgebra;
/// let (value, grad, hess) =
///     adroit_forward::value_gradient_and_hessian_chunked::<1, _, _>(|x| x[0] * x[1], &[3.0, 2.0]);
/// assert_eq!((value, grad), (6.0, vec![2.0, 3.0]));
/// assert_eq!(hess, adroit_forward::nalgebra::dmatrix![0.0, 1.0; 1.0, 0.0]);
/// ```
#[track_caller]
pub fn value_gradient_and_hessian_chunked<const N: usize, T, F>(
    f: F,
    x: &[T],
) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[HyperDualVec<T, N, N>]) -> HyperDualVec<T, N, N>,
{
    const { assert!(N > 0, "the chunk size must be at least 1") };
    if x.is_empty() {
        return (
            f(&[]).value(),
            Vec::new(),
            DMatrix::from_element(0, 0, T::zero()),
        );
    }
    hessian_blocks(&f, x)
}

/// The evaluations of [`hessian_chunked`] (`x` not empty): one per `N × N` block on or above
/// the diagonal. The diagonal blocks seed `ε₁` with every coordinate once, so their `ε₁` parts
/// are the gradient; the value is any evaluation's (the first's).
#[track_caller]
fn hessian_blocks<const N: usize, T, F>(f: &F, x: &[T]) -> (T, Vec<T>, DMatrix<T>)
where
    T: Float + nalgebra::Scalar,
    F: Fn(&[HyperDualVec<T, N, N>]) -> HyperDualVec<T, N, N>,
{
    let _nesting = nesting::record_perturbation::<HyperDualVec<T, N, N>, F>();
    let n = x.len();
    let mut hess = DMatrix::from_element(n, n, T::zero());
    let mut grad = vec![T::zero(); n];
    let mut value = None;
    let mut buf = vec![HyperDualVec::constant(T::zero()); n];
    for row0 in (0..n).step_by(N) {
        for col0 in (row0..n).step_by(N) {
            for (k, (b, &xk)) in buf.iter_mut().zip(x).enumerate() {
                let mut e1 = [T::zero(); N];
                let mut e2 = [T::zero(); N];
                if (row0..row0 + N).contains(&k) {
                    e1[k - row0] = T::one();
                }
                if (col0..col0 + N).contains(&k) {
                    e2[k - col0] = T::one();
                }
                *b = HyperDualVec::new(xk, e1, e2, [[T::zero(); N]; N]);
            }
            let y = f(&buf);
            value.get_or_insert(y.value());
            if col0 == row0 {
                for (g, &e) in grad[row0..].iter_mut().zip(y.eps1().iter()) {
                    *g = e;
                }
            }
            let block = y.eps12();
            for (i, row) in block.iter().enumerate().take(n - row0) {
                for (j, &h) in row.iter().enumerate().take(n - col0) {
                    hess[(row0 + i, col0 + j)] = h;
                    hess[(col0 + j, row0 + i)] = h;
                }
            }
        }
    }
    (value.unwrap_or_else(T::zero), grad, hess)
}

/// The Hessian-vector product `∇²f(x)·v`, exact, without forming the Hessian:
/// `⌈n/DEFAULT_CHUNK⌉` evaluations on [`HyperDualVec<T, DEFAULT_CHUNK, 1>`] (`ε₂` seeded with
/// `v`).
///
/// `x`, `v`: `n` entries each; returns `n` entries. Source: forward-over-forward
/// Hessian-vector products (Pearlmutter, "Fast exact multiplication by the Hessian", Neural
/// Computation 1994, computed here in forward mode on hyper-dual numbers).
///
/// Only the second-order parts are returned: where `f` or its gradient is NaN (a point outside
/// its domain) the product can still be finite.
///
/// # Panics
/// If `x.len() != v.len()`.
///
/// # Example
/// ```
/// let hv = adroit_forward::hvp(|x| x[0] * x[0] * x[1], &[1.0, 2.0], &[1.0, 0.0]);
/// assert_eq!(hv, vec![4.0, 2.0]);
/// ```
#[track_caller]
pub fn hvp<T, F>(f: F, x: &[T], v: &[T]) -> Vec<T>
where
    T: Float,
    F: Fn(&[HyperDualVec<T, DEFAULT_CHUNK, 1>]) -> HyperDualVec<T, DEFAULT_CHUNK, 1>,
{
    let _nesting = nesting::record_perturbation::<HyperDualVec<T, DEFAULT_CHUNK, 1>, F>();
    assert_eq!(
        x.len(),
        v.len(),
        "hvp: the point has {} entries but the direction has {}",
        x.len(),
        v.len()
    );
    const C: usize = DEFAULT_CHUNK;
    let mut buf = vec![HyperDualVec::constant(T::zero()); x.len()];
    let mut out = Vec::with_capacity(x.len());
    for start in (0..x.len()).step_by(C) {
        for (k, b) in buf.iter_mut().enumerate() {
            let mut e1 = [T::zero(); C];
            if (start..start + C).contains(&k) {
                e1[k - start] = T::one();
            }
            *b = HyperDualVec::new(x[k], e1, [v[k]], [[T::zero()]; C]);
        }
        let block = f(&buf).eps12();
        let width = C.min(x.len() - start);
        out.extend(block[..width].iter().map(|row| row[0]));
    }
    out
}
