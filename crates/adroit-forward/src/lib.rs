//! Forward-mode automatic differentiation with dual numbers.
//!
//! Write numeric code once, generically over [`num_traits::Float`], and evaluate it on the
//! number types of this crate to get exact derivatives (no truncation error):
//!
//! | type | carries | use |
//! |---|---|---|
//! | [`Dual<T>`] | one tangent | [`derivative`], [`gradient`], [`jacobian`], [`jvp`] |
//! | [`DualVec<T, N>`] | `N` tangents | chunk mode: [`gradient_chunked`], [`jacobian_chunked`]; on nalgebra's `SVector<T, N>` in one evaluation: [`gradient_static`], [`jacobian_static`] |
//! | [`HyperDualVec<T, M, N>`] / [`HyperDual<T>`] | second-order parts | [`second_derivative`], [`hessian`], [`value_gradient_and_hessian`] ([`value_gradient_and_hessian_static`]), [`hvp`] |
//!
//! All of them implement `num_traits::{Float, FloatConst, Num, NumCast, ToPrimitive,
//! FromPrimitive, Signed, Zero, One, Inv}`, the arithmetic operators (with plain `f32`/`f64`
//! on either side, for `Dual<Dual<f32 | f64>>` too; a deeper nesting takes constants of its
//! primal type, e.g. `Dual::constant(2.0)`), `Sum`, `Product`, and, over `f32`/`f64`,
//! `nalgebra::RealField` (nested duals are not: through nalgebra, take second derivatives
//! with [`HyperDualVec`], which is), so
//! `DMatrix<Dual<f64>>` supports LU, Cholesky, QR, `solve`, `determinant`, `try_inverse` and
//! `SymmetricEigen`. Nesting (`Dual<Dual<f64>>`) works, and a derivative call nested in a
//! running one of its own number type — which would confuse their perturbations — panics
//! (see [`Dual`]; the check's limits and [`independent`], for plain-number routines inside a
//! derivative, are documented there).
//! [`log_exp`] has the log-space compositions statistics code needs (`logistic`, `logit`,
//! `log1p_exp` — softplus —, `log_logistic`, `log1m_exp`, `logaddexp`, `logsubexp`,
//! `logsumexp`) in forms that
//! neither overflow nor lose second derivatives at their branch points, and
//! [`SpecialFunctions`] the error and gamma functions (`erf`, `erfcx`, `ln_gamma`, `digamma`,
//! …), with [`ln_beta`] for the beta function's logarithm without cancellation at large
//! arguments, [`normal`] for the normal distribution function, its logarithm in both tails
//! and its inverse (`ndtr`, `log_ndtr`, `ndtri`: probit models, censored likelihoods,
//! quantiles), and [`incomplete_gamma`] for the gamma, chi-square and Poisson distribution
//! functions (`gammainc`, `gammaincc`, differentiable in the shape too).
//! [`StopGradient`] cuts a derivative in generic code (`S: Float + StopGradient`), on plain
//! floats, every dual type and adroit-reverse's `Var`.
//!
//! `ToPrimitive` and `NumCast` convert through the primal value, as a dual number has no
//! other `f64` to give: `S::from(x.to_f64().unwrap())` and `num_traits::cast::<_, S>(x)` are
//! constants, with no derivative (like `stop_gradient`; ForwardDiff.jl refuses the conversion
//! instead, JAX raises on a traced value). Use them for constants (`S::from(0.5)`), never for
//! a value computed from the variables. nalgebra's `try_convert`/`SubsetOf` to `f32`/`f64`
//! (`try_convert::<Dual<f64>, f64>`, a `DMatrix<Dual<f64>>` to `DMatrix<f64>`) likewise give
//! the primal values, for every element: nalgebra converts this way internally to choose
//! discrete parameters, such as the matrix exponential's Padé degree.
//!
//! Every elementary function's derivative is written once, in [`rules`]; the dual types (and
//! the reverse tape of `adroit-reverse`) apply those rules through [`ChainRule`]. Each rule
//! documents its convention at edge points (`abs'(0) = 0`, ties of `max`/`min` split ½/½,
//! `sqrt'(0) = +∞`, ...).
//!
//! Comparisons look at primal values only, so branches take the same path as the plain-float
//! program (`Zero::is_zero`, see "Singular matrices", is true only for an identically zero
//! number: code branching on it, nalgebra's pivot tests among it, can take another path than
//! the plain program, and in chunk mode another path in each chunk, as which inputs a chunk
//! seeds decides which numbers carry a tangent). Comparisons are between numbers of one type:
//! compare with a plain number through `x.value() > 0.0` or `x > Dual::constant(0.0)` (in
//! generic code, `x > S::zero()`). `Dual<f64>: PartialOrd<f64>` is not implemented on
//! purpose: it would give `f64` a second comparison target and break type inference in
//! plain-float code (`s == v.iter().sum()`). The derivative of a program is the derivative of
//! the branch taken.
//!
//! # Edge conventions beside JAX's
//! Where a derivative is not defined, each library picks a value. adroit's (asserted below)
//! and JAX 0.10.2's (float64, `jax.grad`, measured), for code porting between them:
//!
//! | at | adroit | JAX |
//! |---|---|---|
//! | `abs'(0)` | 0 | 1 |
//! | `max(x, y)` at a tie | ½, ½ | ½, ½ |
//! | `clamp(x, 0, 1)` at a bound (`jnp.clip`) | 1 (a selection) | ½ (max/min ties) |
//! | `sqrt'(0)` | +∞ | +∞ |
//! | `hypot` at `(0, 0)` | 0, 0 | ½, ½ |
//! | `atan2` at `(0, 0)` | 0, 0 | NaN, NaN |
//! | `√(Σ xᵢ²)` at `x = 0` | 0, 0 (zero tangents times `+∞`: 0) | NaN, NaN |
//! | `xᵖ` at `(0, 0)`, `(∂x, ∂p)` | 0, −∞ | NaN, 0 |
//! | `xᵖ` at `(−2, 3)` | 12, `−8·ln 2` (`ln |x|`) | 12, NaN |
//! | `ln Γ` at 0 | −∞ (`ψ(+0)`) | NaN |
//! | `clamp(NaN, −1, 1)` (`jnp.clip`), all three partials | 1, 0, 0 (NaN passes) | 0, 0, 0 |
//! | `x.copysign(s)` at `(NaN, 1)`, `∂x` | 1 (by the sign bits, as at any `x`) | −1 |
//! | `atan''`, `asinh''`, `erf''` at `+∞` | 0 (the limits) | NaN |
//! | `atanh''(1)` | `+∞` (one-sided) | NaN |
//! | `acosh'(−2)`, below the domain | NaN | `0.577`, the formula `1/√(x² − 1)` |
//!
//! Elsewhere outside a function's domain both give the formula's derivative beside a NaN
//! value: `ln'(−1) = −1`, `atanh'(2) = −⅓`, `asin'(2)` NaN; for `xᵖ` at `x < 0` and a
//! fractional `p`, `∂x = p·xᵖ⁻¹` and `∂p` NaN (see [`rules::Powf`]). adroit's `acosh'` is
//! `1/(√(x − 1)·√(x + 1))`, whose form keeps huge `x` from overflowing, and so NaN below 1.
//!
//! A maximum folded pairwise over tied values (`a.max(b).max(c)`) splits as the fold does:
//! ¼, ¼, ½ — adroit-reverse's `MatVar::max` and JAX's `jnp.max` split a reduction evenly.
//! nalgebra's own reductions (`max`, `min`, `amax`, `amin`, `sup`, `inf`, the `UniformNorm`)
//! and simba's `simd_max`/`simd_min` do neither: simba implements them for every scalar whose
//! `SimdBool` is `bool` (these types included, a blanket implementation adroit cannot
//! replace) by a comparison, so at a tie they select one argument, gradient 1, 0. Fold with
//! `Float::max` where the split matters.
//!
//! Nested duals (`Dual<Dual<T>>`) apply the `0·∞ = 0` convention to factors that are
//! identically zero: where a partial is infinite and the tangent's value is 0 but not its own
//! tangent (`√(x²)` at 0: `(x²)' = 0`, `(x²)'' = 2`), the outer first derivative is NaN
//! (`Dual(NaN, +∞)`) where `Dual` gives 0. `HyperDual` and reverse mode over duals
//! (`adroit_reverse::hessian`) give 0 there (with second derivative `+∞`): use them for
//! second derivatives at such points.
//! ```
//! use adroit_forward::num_traits::Float;
//! use adroit_forward::{Dual, SpecialFunctions, derivative, gradient};
//! let c = Dual::constant;
//! assert_eq!(derivative(|x| x.abs(), 0.0), 0.0);
//! assert_eq!(gradient(|v| v[0].max(v[1]), &[1.0, 1.0]), [0.5, 0.5]);
//! assert_eq!(derivative(|x| x.clamp(c(0.0), c(1.0)), 0.0), 1.0);
//! assert_eq!(derivative(|x| x.sqrt(), 0.0), f64::INFINITY);
//! assert_eq!(gradient(|v| v[0].hypot(v[1]), &[0.0, 0.0]), [0.0, 0.0]);
//! assert_eq!(gradient(|v| v[0].atan2(v[1]), &[0.0, 0.0]), [0.0, 0.0]);
//! assert_eq!(gradient(|v| (v[0] * v[0] + v[1] * v[1]).sqrt(), &[0.0, 0.0]), [0.0, 0.0]);
//! assert_eq!(gradient(|v| v[0].powf(v[1]), &[0.0, 0.0]), [0.0, f64::NEG_INFINITY]);
//! let g = gradient(|v| v[0].powf(v[1]), &[-2.0, 3.0]);
//! assert!(g[0] == 12.0 && (g[1] + 8.0 * 2.0_f64.ln()).abs() < 1e-14);
//! assert_eq!(derivative(|x| x.ln_gamma(), 0.0), f64::NEG_INFINITY);
//! assert_eq!(gradient(|v| v[0].clamp(v[1], v[2]), &[f64::NAN, -1.0, 1.0]), [1.0, 0.0, 0.0]);
//! assert_eq!(gradient(|v| v[0].copysign(v[1]), &[f64::NAN, 1.0]), [1.0, 0.0]);
//! use adroit_forward::second_derivative;
//! assert_eq!(second_derivative(|x| x.atan(), f64::INFINITY), 0.0);
//! assert_eq!(second_derivative(|x| x.asinh(), f64::INFINITY), 0.0);
//! assert_eq!(second_derivative(|x| x.erf(), f64::INFINITY), 0.0);
//! assert_eq!(second_derivative(|x| x.atanh(), 1.0), f64::INFINITY);
//! assert!(derivative(|x| x.acosh(), -2.0).is_nan());
//! assert_eq!((derivative(|x| x.ln(), -1.0), derivative(|x| x.atanh(), 2.0)), (-1.0, -1.0 / 3.0));
//! let g = gradient(|v| v[0].max(v[1]).max(v[2]), &[1.0, 1.0, 1.0]);
//! assert_eq!(g, [0.25, 0.25, 0.5]);
//! // nalgebra's reduction selects at a tie
//! let g = gradient(|v| adroit_forward::nalgebra::DVector::from_column_slice(v).max(), &[1.0, 1.0]);
//! assert_eq!(g, [1.0, 0.0]);
//! // the nested limit: NaN where Dual and HyperDual give 0
//! use adroit_forward::HyperDual;
//! let nested = derivative(|y| (y * y).sqrt(), Dual::variable(0.0));
//! assert!(nested.value().is_nan());
//! let h = HyperDual::variable(0.0);
//! let r = (h * h).sqrt();
//! assert_eq!((r.eps1(), r.eps2(), r.eps12()), ([0.0], [0.0], [[f64::INFINITY]]));
//! ```
//!
//! # Second derivatives near overflow
//! A second derivative is a sum of products such as `f''(u)·u'²`. Where an intermediate value
//! is so large that one factor overflows (`u'² = ∞`) while the other underflows
//! (`f''(u) = −1/u² → 0`), the convention that a zero times an infinity contributes zero (see
//! [`chain_product`]) drops that term, and the result is finite and wrong rather than NaN:
//! `ln(exp(x))` gets second derivative 1 instead of 0 at `x = 400`, and a log-sum-exp written
//! naively, `ln Σ exp(xᵢ)`, gets the Hessian `diag(p)` without its `−p·pᵀ` part (`p` the
//! softmax) at logits near 700. JAX's `hessian` (forward-over-reverse) and PyTorch's
//! `autograd.functional.hessian` give the same numbers there (JAX 0.10.2, PyTorch 2.15.0);
//! adroit-reverse's `hessian` does too. Values and first derivatives are right at such
//! points. Write such code in its stable form — shift by the largest entry
//! (`m + ln Σ exp(xᵢ − m)`), use `ln_1p` and `exp_m1` — and its second derivatives are right
//! as well (both tested).
//!
//! The other side of the same limit: a second derivative whose exact value is finite but
//! within a few orders of magnitude of overflow can come out `±∞` or NaN, when a term of its
//! product rule overflows before the sum that would bring it back into range
//! (`y.atan2(x)`'s `∂²/∂y²` at `(1e-200, 1e-160)` gives `−∞` for `−2e280`). Rescale inputs
//! towards 1.
//!
//! And near underflow: where an argument is subnormal (below about 2.2e-308 in `f64`), or for
//! `atan2` where the squared radius is (radius below about 1.5e-154), second derivatives of
//! division, `powf`, `log`, `atan2` and `hypot` can be `±∞` (of either sign), NaN, or lose
//! digits, although the exact value is far from overflow (checked against mpmath:
//! `atan2`'s `∂²/∂y²` at `(1e-300, 1e-160)`, exact `−2e180`, gives `−∞`; `powf`'s `∂²/∂p∂x` at
//! `(1e-310, 1.5)` is off by 9e-4 in one of its two entries, so a reverse-mode Hessian is not
//! symmetric there; at `(1e-310, 0.5)` one mixed entry of a reverse-mode Hessian is `+∞`
//! where the other is the exact `−3.559e157` (forward mode gives both; `∂²/∂x²` is the `−∞` of
//! an exact `−2.5e464`); a division by a number below `1/f64::MAX` ≈ 5.6e-309 has an
//! infinite first derivative, see [`rules::Div`]). Values and first derivatives at normal
//! arguments are unaffected. Rescale inputs towards 1.
//!
//! And at infinite arguments, where second derivatives of `powf` are limits of `0·∞` forms:
//! `xᵖ`'s mixed partial `xᵖ⁻¹·(1 + p·ln x)` at `(+∞, ½)` tends to 0, but forward mode gives
//! NaN, and adroit-reverse's `hessian` gives 0 in one order and NaN in the other (so its
//! Hessian is not symmetric there). Where the value is NaN, reverse mode's two orders can
//! differ too (`x.log(b)` at a base of `−∞`: 0 and NaN, forward mode 0 and 0; `xᵖ` at
//! `(−2, 1e-17)`: −0.5 and NaN). A hunt against JAX 0.10.2 and mpmath found these, and no
//! wrong second derivative at finite normal arguments where the function is defined.
//! ```
//! use adroit_forward::num_traits::Float;
//! let h = adroit_forward::hessian(|v| v[0].powf(v[1]), &[f64::INFINITY, 0.5]);
//! assert!(h[(0, 1)].is_nan() && h[(1, 0)].is_nan());
//! ```
//!
//! # Generic code through nalgebra's decompositions
//! Write a function that calls nalgebra's decompositions once, generic over
//! `S: nalgebra::RealField + Copy`, and every adroit number type runs it: `f64`, [`Dual`],
//! [`DualVec`] (chunked gradients), [`HyperDualVec`] (Hessians) and adroit-reverse's `Var`.
//! Bound by `RealField` rather than `num_traits::Float`: with both bounds, methods both traits
//! define (`exp`, `ln`, `sqrt`, …) are ambiguous (error E0034) — use `RealField`'s, or call
//! `Float::ln(x)` by its path. The same holds on concrete types when both traits are imported
//! (`use num_traits::Float; use nalgebra::RealField;`): `x.max(y)`, `x.atan2(y)`,
//! `x.clamp(a, b)` on a `Dual<f64>` or a `Var<f64>` are ambiguous — write `Float::max(x, y)`,
//! or import one trait per module.
//! ```
//! use adroit_forward::nalgebra::{self, DMatrix, RealField};
//! // ln det of the symmetric positive definite A(θ) = [[2 + θ₀, θ₁], [θ₁, 3]], by Cholesky:
//! // ∂/∂θ₀ = (A⁻¹)₀₀ and ∂/∂θ₁ = 2·(A⁻¹)₀₁.
//! fn log_det<S: RealField + Copy>(theta: &[S]) -> S {
//!     let c = |v: f64| nalgebra::convert::<f64, S>(v);
//!     let a = DMatrix::from_row_slice(2, 2, &[c(2.0) + theta[0], theta[1], theta[1], c(3.0)]);
//!     let l = a.cholesky().expect("positive definite").l();
//!     (l[(0, 0)] * l[(1, 1)]).ln() * c(2.0)
//! }
//! let g = adroit_forward::gradient(|t| log_det(t), &[0.5_f64, 1.0]);
//! let a_inv = nalgebra::dmatrix![2.5_f64, 1.0; 1.0, 3.0].try_inverse().unwrap();
//! assert!((g[0] - a_inv[(0, 0)]).abs() < 1e-14 && (g[1] - 2.0 * a_inv[(0, 1)]).abs() < 1e-14);
//! // the same function, chunked and second order
//! let chunked = adroit_forward::gradient_chunked::<2, _, _>(|t| log_det(t), &[0.5, 1.0]);
//! assert_eq!(chunked, g);
//! let h = adroit_forward::hessian(|t| log_det(t), &[0.5, 1.0]);
//! assert!((h[(0, 0)] + a_inv[(0, 0)] * a_inv[(0, 0)]).abs() < 1e-14); // −(A⁻¹)₀₀²
//! ```
//!
//! For an SVD or a symmetric eigendecomposition, bound by [`Decompositions`] (which implies
//! `RealField + Copy`) and call `S::svd(&a)` / `S::symmetric_eigen(&a)`: each type then takes
//! its exact-derivative version (see "Eigendecompositions and SVD" below) — one function for
//! the primal, [`gradient`], [`hessian`] and adroit-reverse's modes.
//!
//! # Singular matrices
//! `num_traits::Zero::is_zero` is true only for an *identically* zero number (value and every
//! perturbation zero), so linear algebra that skips zeros never drops a derivative. The price:
//! nalgebra's zero-pivot tests do not see a pivot whose value is 0 but which carries a tangent.
//! At such a singular matrix, LU-based results (`lu()`, `determinant()` from 4 × 4, `solve`,
//! `try_inverse`) are NaN or infinite and `is_invertible`/`try_inverse` do not report the
//! singularity, where plain `f64` gives 0 or `None` (ForwardDiff's duals behave the same);
//! in a direction where the zero pivot carries no tangent they do report it, so chunked
//! calls can disagree between chunks. They can also be **finite and wrong**: where every
//! primal in a pivot column is 0, partial pivoting picks the first row, and if that entry
//! carries no tangent while entries below it do, nalgebra skips the column and drops their
//! tangents (rows `[0, 1, 2, 3]`, `[0, 4, 5, 6]`, `[0, 7, 8, 10]`, `[0, 2, 9, 1]` perturbed in
//! entry (1, 0): `determinant()` gives derivative 0 where the cofactor is −85, a test; likewise
//! at matrices with dependent columns).
//! `cholesky()` likewise: at a positive semi-definite matrix with a zero pivot that carries a
//! tangent (`[[1 + t, 1], [1, 1]]` at `t = 0`) it returns `Some`, with an `L` whose diagonal
//! entry is 0 with an infinite tangent (so `ln det` is −∞ with infinite derivatives), where
//! plain `f64` returns `None`: do not use `cholesky().is_none()` on duals as the
//! positive-definiteness test — run it on the primal matrix. A clearly indefinite matrix gives
//! `None` in both.
//!
//! At matrices that may be singular, take determinants with `full_piv_lu().determinant()`,
//! whose pivot is the largest entry of the whole remaining block (tested against central
//! differences at matrices of rank n − 1), and decide singularity on the primal values. At
//! rank n − 2 or less it fails too where elimination leaves a block of exact zeros that carry
//! tangents: it divides 0 by 0, and the gradient and Hessian hold NaN (a 3 × 3 matrix of rank
//! 1, a test) where the gradient is 0. For n ≤ 3, `determinant()` is nalgebra's closed form,
//! exact at every rank (the same test):
//! ```
//! use adroit_forward::Dual;
//! use adroit_forward::nalgebra::DMatrix;
//! // [[1, 2], [2, 4]] + t·I is singular at t = 0.
//! let a = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 4.0]);
//! let m = a.map(Dual::constant) + DMatrix::identity(2, 2).map(|e: f64| Dual::new(0.0, e));
//! assert!(m.clone().try_inverse().unwrap()[(0, 0)].value().is_infinite()); // not None
//! assert!(m.map(|x| x.value()).try_inverse().is_none()); // the plain program's answer
//! // cholesky: [[1 + t, 1], [1, 1]] is positive semi-definite at t = 0
//! let (c, t) = (Dual::constant, Dual::new(1.0_f64, 1.0));
//! let p = DMatrix::from_row_slice(2, 2, &[t, c(1.0), c(1.0), c(1.0)]);
//! let l = p.clone().cholesky().unwrap().l(); // Some, with a zero pivot of infinite slope
//! assert!(l[(1, 1)].value() == 0.0 && l[(1, 1)].tangent().is_infinite());
//! assert!(p.map(|x| x.value()).cholesky().is_none()); // the plain program's answer
//! ```
//!
//! # Rotations, and other branches on exact values
//! Comparisons look at primal values, so a program takes the branches of the plain-float
//! program — including shortcuts for an exact or negligible value. nalgebra's geometry has
//! several: for an angle or vector that is 0, or that its own test treats as 0, it returns the
//! identity, a constant, and the derivative there is silently 0 — at angle exactly 0 for
//! `Rotation3::from_axis_angle`; up to about `|θ| = 2ε` (4.4e-16) for `UnitQuaternion::new`
//! and `from_scaled_axis`; where `θ²` underflows to 0 (`|θ|` below about 2e-162) for
//! `Rotation3::new`/`from_scaled_axis`; also `ln()` at the identity, `rotation_between` of
//! parallel vectors. `UnitQuaternion::slerp` returns the first rotation itself where the two
//! quaternions' dot product is 1 or more — equal rotations, unless rounding leaves it just
//! below 1, and rotations within about 2e-8 rad of each other — so there the derivative
//! follows the first rotation alone: with respect to it twice the true one at `t = ½`, with
//! respect to the second 0 (measured between equal rotations about one axis at angles 0, 1
//! and 2; at 0.3 the dot product rounds below 1 and both derivatives are exact). And `Rotation3`'s `angle()`,
//! `scaled_axis()` and `axis_angle()` take the angle as `acos` of the trace, which loses the
//! angle itself below about 1e-7 (in plain `f64` too): their derivatives there are infinite
//! or a few % off; `UnitQuaternion`'s are exact.
//! ForwardDiff.jl's duals do the same; JAX traces one branch too. Exact
//! at 0: `UnitQuaternion::from_axis_angle` and `from_euler_angles` (of `UnitQuaternion` and
//! `Rotation3`), which have no such test, or the exponential map written with its Taylor
//! series near 0. Both sides of such a branch must be accurate in value *and* derivatives
//! where they meet: `sin(θ/2)/θ` loses `ε/θ²` of its derivative to cancellation, so the
//! series below takes over at `θ² < 10⁻³` (first derivatives within about 1e-13 of the exact
//! ones on both sides; at a switch at `θ² = 10⁻⁸` they were 7e-8 off just above it):
//! ```
//! use adroit_forward::{derivative, second_derivative, Dual, HyperDual};
//! use adroit_forward::nalgebra::{self, Quaternion, RealField, UnitQuaternion, Vector3};
//!
//! /// exp of a rotation vector `v` (angle `θ = |v|` about `v/θ`): `(cos θ/2, sin(θ/2)/θ · v)`.
//! fn exp_so3<S: RealField + Copy>(v: Vector3<S>) -> UnitQuaternion<S> {
//!     let c = |x: f64| nalgebra::convert::<f64, S>(x);
//!     let t = v.norm_squared();
//!     let (w, k) = if t < c(1e-3) {
//!         // the series of cos(θ/2) and sin(θ/2)/θ in t = θ², to t⁴ (the next terms < 1e-22)
//!         let w = c(1.0) - t * (c(1.0 / 8.0) - t * (c(1.0 / 384.0) - t * (c(1.0 / 46080.0)
//!             - t * c(1.0 / 10321920.0))));
//!         let k = c(0.5) - t * (c(1.0 / 48.0) - t * (c(1.0 / 3840.0) - t * (c(1.0 / 645120.0)
//!             - t * c(1.0 / 185794560.0))));
//!         (w, k)
//!     } else {
//!         let theta = t.sqrt();
//!         ((theta * c(0.5)).cos(), (theta * c(0.5)).sin() / theta)
//!     };
//!     UnitQuaternion::new_unchecked(Quaternion::new(w, v.x * k, v.y * k, v.z * k))
//! }
//!
//! // about z by θ: the quaternion's k is sin(θ/2), its derivative cos(θ/2)/2
//! fn k_about_z<S: RealField + Copy>(theta: S) -> S {
//!     exp_so3(Vector3::new(S::zero(), S::zero(), theta)).k
//! }
//! assert_eq!(derivative(|t| k_about_z(t), 0.0_f64), 0.5);
//! for theta in [1e-9, 0.0316, 0.0317, 0.5_f64] {
//!     // on both sides of the switch at θ = √10⁻³ ≈ 0.03162
//!     let d = derivative(|t| k_about_z(t), theta);
//!     assert!((d - 0.5 * (theta / 2.0).cos()).abs() < 1e-13, "{theta}: {d}");
//!     let d2 = second_derivative(|t: HyperDual<f64>| k_about_z(t), theta);
//!     assert!((d2 + 0.25 * (theta / 2.0).sin()).abs() < 1e-10, "{theta}: {d2}");
//! }
//! // nalgebra's exponential loses the derivative at 0
//! let about_z = |t: Dual<f64>| Vector3::new(Dual::constant(0.0), Dual::constant(0.0), t);
//! assert_eq!(derivative(|t| UnitQuaternion::from_scaled_axis(about_z(t)).k, 0.0_f64), 0.0);
//! ```
//! The same holds for code of one's own that tests `x == 0.0` to take a shortcut.
//!
//! # Eigendecompositions and SVD
//! nalgebra's iterative decompositions run on the dual numbers, deciding convergence on the
//! primal values (see also the accuracy note in `nalgebra_traits`), and deflate entries that
//! are zero (or negligible) in value by setting them to zero — which drops their tangents.
//! Symmetric eigenvalue derivatives are right for distinct eigenvalues; what is not (checked
//! against finite differences):
//! - **eigenvector derivatives** at a matrix whose off-diagonal part is already zero in value
//!   but perturbed (a diagonal or block-diagonal matrix moved off its blocks,
//!   `diag(1, 3) + t·E₁₂`) are zero (`Dual` and adroit-reverse's `Var` alike).
//!   [`symmetric_eigen`] forms them from the primal decomposition instead,
//!   `vᵢ' = Σⱼ≠ᵢ vⱼ·(vⱼᵀ·Ȧ·vᵢ)/(λᵢ − λⱼ)`, for `Dual` matrices (adroit-reverse's
//!   `symmetric_eigen` does the same for `Var` matrices, as one node with the exact pullback);
//! - **singular vectors and values**: `svd()` on duals gives wrong singular-vector tangents at
//!   a diagonal or triangular matrix (zero for a square one; for a wide one `Vᵀ`'s are
//!   non-zero and wrong: 1/3 for 0.375 at `[[3, 0, 0], [0, 1, 0]]` moved in entry (0, 1)),
//!   and wrong singular-value tangents at a rank-deficient one
//!   (`u·vᵀ + t·ones`: 0.200 for 0.926). [`svd`] forms them from the primal
//!   decomposition instead (adroit-reverse's `svd` for `Var` matrices);
//! - **eigenvalues of a non-symmetric matrix** (`eigenvalues()`, `complex_eigenvalues()`,
//!   `schur()`) are wrong, **even when distinct**, at a matrix with a subdiagonal entry zero
//!   in value but perturbed (a triangular or block-triangular matrix moved off it:
//!   `[[3, 1, 0], [t, 2, 1], [0, 0, 1]]` gives tangents 0 for ±1). No rule is provided here:
//!   use `λ' = wᴴ·Ȧ·v / (wᴴ·v)` with the left and right eigenvectors `w`, `v` of the primal
//!   matrix, or move away from such matrices;
//! - second-order duals (`HyperDual`) give **NaN eigenvalues, and wrong (zero) second
//!   derivatives for the others** at such matrices (`diag(1, 3) + t·(E₁₂ + E₂₁)`: NaN for
//!   λ = 3, and λ'' = 0 instead of −1 for λ = 1): the squared norm of the zero-valued column
//!   carries a second-order part, so it is not `is_zero`, and nalgebra divides by its square
//!   root, 0. [`symmetric_eigen_hyperdual`] forms eigenvalues and eigenvectors with their first
//!   and second derivatives from the primal decomposition instead (second-order perturbation
//!   theory), exact at such matrices too. Likewise `hessenberg()`, `bidiagonalize()` and
//!   `schur()` give NaN at triangular or diagonal inputs, and `eigenvalues()` returns `None`
//!   or does not terminate there;
//! - with second-order duals, **`svd()` panics** ("Singular value was NaN", 2 × 2 and 2 × 3)
//!   **or never converges and loops forever** (3 × 3 and larger: NaN never meets its
//!   tolerance); with
//!   an iteration limit nalgebra's `try_svd(compute_u, compute_v, eps, max_niter)` returns
//!   `None` in the 3 × 3 case (the 2 × 2 one panics in it too). [`svd_hyperdual`] forms the
//!   SVD with its first and second derivatives from [`svd`]'s tangent map applied twice
//!   instead (a Hessian through an SVD: [`hessian`] of a function calling it), exact at
//!   diagonal and triangular matrices of distinct non-zero singular values too — but not at a
//!   rank-deficient matrix or a repeated singular value (see its docs).
//!
//! At a repeated eigenvalue no derivative exists; the result is then `diag(VᵀȦV)` for the
//! basis `V` nalgebra happens to return (as most AD tools). A loss that does not depend on
//! the basis (`ln det A` or `yᵀA⁻¹y` written through eigenvectors and eigenvalues) is
//! differentiable there, but reaching it through the decomposition is fragile: reverse mode
//! cannot form it from the cotangents (NaN or infinite at an exact tie; at one up to rounding
//! see below). Eigenvalues or
//! singular values equal **up to rounding** — as nalgebra returns for an exactly repeated
//! one (2 and 1.9999999999999998) — are handled as follows. Symmetric eigenvectors divide by
//! the computed gap, so distinct eigenvalues keep exact tangents however close they are; between
//! eigenvalues within `8nε·max|λ|` of each other, a part of the perturbation (or cotangent) in
//! the eigenbasis of rounding size counts as zero, so a perturbation that does not mix the
//! pair (`Ȧ = I`, `Ȧ = A`) gives 0, as in exact arithmetic, while one that mixes it gives
//! tangents of size 1/gap, finite and not a derivative. Singular vectors likewise: between
//! singular values within `8·max(m, n)·ε·max σ`, a rounding-size symmetric part of `UᵀȦV`
//! (or entry of `UᵀŪ + VᵀV̄`) counts as zero, so scaling or turning the matrix (`Ȧ = A`,
//! `W·A`, `A·W`) gives finite, exact tangents; singular values within 8ε of the pair's
//! larger (relatively: 8 to 16 ulps) count as repeated, so a perturbation that mixes them gives infinite or NaN
//! tangents. A basis-independent loss written through the decomposition is finite and wrong
//! at a tie up to rounding (0.5 % off at an isotropic `Σ = 2I` rotated; `yᵀA⁻¹y` through the
//! eigenvectors of a rotated `diag(2, 2, 5)` in reverse mode: finite and wrong in 174 of 200
//! rotations tried, non-finite in the others). Where that can happen (an isotropic start
//! `Σ = σ²I`), compute such losses by Cholesky or LU instead.
//!
//! # Custom derivative rules
//! A function of your own with a known derivative — an implicit function solved by iteration,
//! a call into another library, a special function — becomes one rule, the forward
//! counterpart of JAX's `custom_jvp` and ChainRules.jl's `frule`: implement
//! [`rules::UnaryRule`] (or [`rules::BinaryRule`]), whose `eval` returns the value and the
//! derivative, and apply it with [`ChainRule::apply_unary`] (`apply_binary`). One rule serves
//! every number type: [`Dual`], [`DualVec`], [`HyperDualVec`], adroit-reverse's `Var`, where
//! it records one node, and plain `f32`/`f64`, where it gives its value — so code written for
//! `S: Float + ChainRule` runs on all of them. Second-order types call `eval` on a dual number
//! and read the second derivative as the tangent of the first, so `eval` must keep its value's
//! tangent: solve on the primal value, then take one Newton step in `S` from the root (the
//! same value; its tangent is the implicit function theorem's), as below. That step serves
//! the rule's `eval`, which also returns the derivative; as plain generic code without a rule,
//! `k` Newton steps in `S` from the root give derivatives exact up to order `2ᵏ − 1` only (one
//! step: the first derivative, not the second). A solver that uses this crate's
//! derivatives itself runs inside [`independent`] (it reads only plain numbers; a forward call
//! of the caller's type would otherwise be refused as nested). (adroit-reverse's `custom_rule`
//! is the reverse-only form, for code that cannot be written generically.) For a system of
//! equations `F(y, p) = 0` — several unknowns, several parameters, any order of derivatives —
//! implement [`ImplicitFunction`] instead: its `eval` takes the steps for you.
//! ```
//! use adroit_forward::num_traits::Float;
//! use adroit_forward::rules::UnaryRule;
//! use adroit_forward::{ChainRule, derivative, second_derivative};
//!
//! /// y(p), the real root of y³ + p·y − 1 = 0 for p ≥ 0, by Newton's method on plain numbers;
//! /// dy/dp = −y/(3y² + p) by the implicit function theorem.
//! #[derive(Clone, Copy)]
//! struct Root;
//!
//! impl UnaryRule for Root {
//!     fn eval<S: Float>(self, p: S) -> (S, S) {
//!         let p0 = p.to_f64().unwrap();
//!         let mut y0 = 1.0;
//!         for _ in 0..60 {
//!             y0 -= (y0 * y0 * y0 + p0 * y0 - 1.0) / (3.0 * y0 * y0 + p0);
//!         }
//!         // One Newton step in S from the root: the value stays y0; on a dual `p` (second
//!         // derivatives) y gets the tangent −y/(3y² + p)·dp.
//!         let (y0, three) = (S::from(y0).unwrap(), S::from(3.0).unwrap());
//!         let y = y0 - (y0 * y0 * y0 + p * y0 - S::one()) / (three * y0 * y0 + p);
//!         (y, -y / (three * y * y + p))
//!     }
//! }
//!
//! let p = 1.0_f64;
//! let y = Root.eval(p).0; // 0.6823…: y³ + y = 1
//! let dy = -y / (3.0 * y * y + p);
//! let d2y = -(dy * (3.0 * y * y + p) - y * (6.0 * y * dy + 1.0)) / (3.0 * y * y + p).powi(2);
//! assert!((y * y * y + p * y - 1.0).abs() < 1e-15);
//! assert!((derivative(|p| p.apply_unary(Root), p) - dy).abs() < 1e-15);
//! assert!((second_derivative(|p| p.apply_unary(Root), p) - d2y).abs() < 1e-14);
//! // on a plain number, the rule's value
//! assert_eq!(p.apply_unary(Root), y);
//! ```
//!
//! # Example
//! ```
//! use adroit_forward::nalgebra;
//! use adroit_forward::num_traits::Float;
//!
//! fn f<S: Float>(x: &[S]) -> S {
//!     // extended Rosenbrock, two variables
//!     let a = S::one() - x[0];
//!     let b = x[1] - x[0] * x[0];
//!     a * a + S::from(100.0).unwrap() * b * b
//! }
//!
//! let g = adroit_forward::gradient(|x| f(x), &[1.0, 1.0]);
//! assert_eq!(g, vec![0.0, 0.0]);
//! let h = adroit_forward::hessian(|x| f(x), &[1.0, 1.0]);
//! assert_eq!(h, adroit_forward::nalgebra::dmatrix![802.0, -400.0; -400.0, 200.0]);
//! ```
#![warn(missing_docs)]

mod api;
mod chain_rule;
mod decompositions;
mod digamma_root;
mod display;
mod dual;
mod dual_vec;
mod eigenvector_errors;
mod erfcx;
mod fixed_size;
mod hyper_dual;
mod implicit;
pub mod incomplete_gamma;
mod jacobi_svd;
mod lanes;
mod ln_beta;
pub mod log_exp;
mod nalgebra_traits;
mod nan_check;
mod ndtri;
mod nesting;
pub mod normal;
mod order;
mod plain;
mod polygamma;
pub mod rules;
mod scalar_traits;
mod special;
mod stop_gradient;
mod svd;
mod svd_hyperdual;
mod svd_ties;
mod symmetric_eigen;
mod symmetric_eigen_hyperdual;

pub use api::{
    DEFAULT_CHUNK, derivative, gradient, gradient_chunked, gradient_chunked_into, hessian,
    hessian_chunked, hvp, jacobian, jacobian_chunked, jvp, second_derivative, value_and_derivative,
    value_and_gradient, value_and_jacobian, value_and_jacobian_chunked, value_gradient_and_hessian,
    value_gradient_and_hessian_chunked,
};
pub use chain_rule::{
    ChainRule, chain_matmul, chain_product, chain_product_assign, chain_product_into,
};
pub use decompositions::Decompositions;
pub use dual::Dual;
pub use dual_vec::DualVec;
pub use fixed_size::{
    gradient_static, jacobian_static, value_and_jacobian_static, value_gradient_and_hessian_static,
};
pub use hyper_dual::{HyperDual, HyperDualVec};
pub use implicit::{ImplicitError, ImplicitFunction, SolveError};
pub use lanes::TangentLanes;
pub use ln_beta::ln_beta;
pub use nan_check::{NanCheck, NanOrigin, find_nan};
pub use nesting::{Perturbation, independent, record_perturbation};
pub use order::DerivativeOrder;
pub use special::SpecialFunctions;
pub use stop_gradient::StopGradient;
pub use svd::{Svd, svd};
pub use svd_hyperdual::svd_hyperdual;
pub use symmetric_eigen::symmetric_eigen;
pub use symmetric_eigen_hyperdual::symmetric_eigen_hyperdual;

/// The `nalgebra` crate whose matrices this one returns and whose `RealField` it implements.
pub use nalgebra;
/// The `num_traits` crate this one implements (`Float` and friends), re-exported so a user of
/// `adroit-forward` alone can name the traits.
pub use num_traits;

/// Re-exports used by the exported macros; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::eigenvector_errors::{EigenvectorErrors, frobenius};
    pub use crate::nalgebra_traits::odd_factorial_series;
    pub use crate::scalar_traits::clamp_by_selection;
    pub use crate::svd::{empty_svd, primal_svd, svd_pullback};
    pub use crate::svd_ties::SvdTies;
    pub use crate::symmetric_eigen::{
        abs_product, column_norms, gap_quotient, near_ties, primal_symmetric_eigen,
        rounding_factor, signed_unit_columns, snap_tied, symmetric_from_lower,
    };
    pub use approx;
    pub use num_traits;
    pub use simba;
}
