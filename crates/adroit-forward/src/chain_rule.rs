//! The one trait every differentiable number type implements: how to apply a rule of the table.

use crate::rules::{BinaryRule, UnaryRule};
use num_traits::Float;

/// A number type that carries derivative information alongside a primal value and propagates
/// it by the chain rule, using the rules of [`rules`](crate::rules).
///
/// Implemented by [`Dual`](crate::Dual), [`DualVec`](crate::DualVec),
/// [`HyperDualVec`](crate::HyperDualVec), by the reverse-mode variable of `adroit-reverse`, and
/// by plain `f32` and `f64` (no perturbations: a rule gives its value), so a function written
/// for `S: Float + ChainRule` runs on plain numbers too. All the `num_traits` and `std::ops`
/// implementations of the dual types are written once, in terms of this trait.
///
/// Its method names are short: with this trait in scope, `x.scale(c)` on an `f64` is ambiguous
/// if nalgebra's `ComplexField` (which has a `scale` too) or a trait of one's own with such a
/// method is in scope as well (error E0034) — call the one meant by its path
/// (`ComplexField::scale(x, c)`), or import this trait only where rules are applied.
///
/// # Example
/// ```
/// use adroit_forward::{ChainRule, Dual, rules::Sin};
/// let x = Dual::variable(0.0_f64);
/// let y = x.apply_unary(Sin);
/// assert_eq!((y.value(), y.tangent()), (0.0, 1.0));
/// ```
pub trait ChainRule: Copy {
    /// The type of the primal value (the value without perturbations), e.g. `f64`, or
    /// `Dual<f64>` for a nested `Dual<Dual<f64>>`.
    type Primal: Float;

    /// The primal value.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// let x = Dual::new(2.0_f64, 1.0);
    /// assert_eq!(x.primal(), 2.0);
    /// // nested: the primal of a Dual<Dual<f64>> is a Dual<f64>
    /// let y = Dual::new(Dual::new(2.0_f64, 1.0), Dual::new(1.0, 0.0));
    /// assert_eq!(y.primal(), Dual::new(2.0, 1.0));
    /// ```
    fn primal(&self) -> Self::Primal;

    /// A number with the given primal value and no perturbation (all tangents zero).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// let c = <Dual<f64> as ChainRule>::constant(3.0);
    /// assert_eq!((c.value(), c.tangent()), (3.0, 0.0));
    /// ```
    fn constant(value: Self::Primal) -> Self;

    /// True when the primal value and every perturbation are zero. `num_traits::Zero::is_zero`
    /// means this (not `== 0`, which compares primal values only).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// assert!(Dual::new(0.0_f64, 0.0).is_identically_zero());
    /// // equal to 0 as a number (primal comparison), but carrying a tangent
    /// let x = Dual::new(0.0_f64, 1.0);
    /// assert!(x == Dual::new(0.0, 0.0) && !x.is_identically_zero());
    /// ```
    fn is_identically_zero(&self) -> bool;

    /// `f(self)` for the function described by `rule`, derivatives by the chain rule.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// use adroit_forward::rules::Exp;
    /// // d/dx exp(2x) at x = 0: exp(0)·2 = 2
    /// let y = Dual::new(0.0_f64, 2.0).apply_unary(Exp);
    /// assert_eq!((y.value(), y.tangent()), (1.0, 2.0));
    /// ```
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self;

    /// `f(self, other)` for the function described by `rule`, derivatives by the chain rule.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// use adroit_forward::rules::Mul;
    /// // x·y at (3, 4) along (1, 1): tangent y + x = 7
    /// let z = Dual::new(3.0_f64, 1.0).apply_binary(Dual::new(4.0, 1.0), Mul);
    /// assert_eq!((z.value(), z.tangent()), (12.0, 7.0));
    /// ```
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self;

    /// `self + c` for a constant `c`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// let y = Dual::new(2.0_f64, 1.0).shift(5.0);
    /// assert_eq!((y.value(), y.tangent()), (7.0, 1.0));
    /// ```
    fn shift(self, c: Self::Primal) -> Self;

    /// `self · c` for a constant `c`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// let y = Dual::new(2.0_f64, 1.0).scale(3.0);
    /// assert_eq!((y.value(), y.tangent()), (6.0, 3.0));
    /// ```
    fn scale(self, c: Self::Primal) -> Self;

    /// `self / c` for a constant `c`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::{ChainRule, Dual};
    /// let y = Dual::new(3.0_f64, 1.0).unscale(2.0);
    /// assert_eq!((y.value(), y.tangent()), (1.5, 0.5));
    /// ```
    fn unscale(self, c: Self::Primal) -> Self;
}

/// The contribution `partial · tangent` of one input to an output's tangent (or, in reverse
/// mode, of an output's adjoint to an input's adjoint), with the convention that **a zero on
/// either side contributes zero, even when the other side is infinite or NaN**.
///
/// Without it, a constant input where a partial is infinite (`sqrt` at 0, `powf` at 0 with
/// `0 < p < 1`, division by 0) would turn `0 · ∞` into NaN and poison every derivative
/// computed alongside, and a piecewise-constant function (`floor`, partial 0) of something
/// with an infinite derivative would not have derivative 0 (ForwardDiff.jl offers the same
/// behaviour as its "NaN-safe mode"; the reverse sweep skips zero adjoints and zero partials
/// alike).
///
/// "Zero" means identically zero (`num_traits::Zero::is_zero`: for a nested dual, value and
/// every perturbation). A zero result may be `-0.0` (the sign of the plain product). For a
/// nested number type `T` the implementation relies on `T`'s own multiplication giving an
/// identically zero result for an identically zero factor whenever the result's value is not
/// NaN; every adroit type does (`Dual`, `DualVec`, `HyperDualVec` through this convention,
/// adroit-reverse's `Var` by not recording zero partials), and a user's own `Float` type nested
/// inside a dual must as well.
///
/// # Example
/// ```
/// use adroit_forward::chain_product;
/// assert_eq!(chain_product(f64::INFINITY, 0.0), 0.0);
/// assert_eq!(chain_product(0.0, f64::INFINITY), 0.0);
/// assert_eq!(chain_product(3.0, 2.0), 6.0);
/// ```
#[inline(always)]
pub fn chain_product<T: Float>(partial: T, tangent: T) -> T {
    // The plain product is right unless it is NaN: a zero times a finite number is zero
    // already (and, for nested duals, the inner products follow this convention), so only a
    // NaN product needs the zero test. One multiplication and one rarely taken branch.
    let product = partial * tangent;
    if product.is_nan() && (partial.is_zero() || tangent.is_zero()) {
        T::zero()
    } else {
        product
    }
}

/// [`chain_product`] written as a select instead of a branch, with the same result (signed
/// zeros included): LLVM vectorises loops of it.
#[inline(always)]
pub(crate) fn chain_product_select<T: Float>(partial: T, tangent: T) -> T {
    let product = partial * tangent;
    // `&` and `|`, not `&&` and `||`: no short circuit, so no branch.
    let zero_factor = partial.is_zero() | tangent.is_zero();
    if product.is_nan() & zero_factor {
        T::zero()
    } else {
        product
    }
}

/// [`chain_product`] entry by entry, in place: `tangents[i] ← chain_product(partials[i],
/// tangents[i])`. For whole arrays of partials (reverse-mode pullbacks of element-wise
/// operations): the loop vectorises, which a loop of [`chain_product`] calls does not.
///
/// # Panics
/// If the two slices differ in length.
///
/// # Example
/// ```
/// use adroit_forward::chain_product_assign;
/// let mut tangents = [2.0, 0.0, f64::INFINITY];
/// chain_product_assign(&[3.0, f64::INFINITY, 0.0], &mut tangents);
/// assert_eq!(tangents, [6.0, 0.0, 0.0]);
/// ```
#[track_caller]
pub fn chain_product_assign<T: Float>(partials: &[T], tangents: &mut [T]) {
    assert_eq!(
        partials.len(),
        tangents.len(),
        "chain_product_assign: {} partials for {} tangents",
        partials.len(),
        tangents.len()
    );
    for (t, &p) in tangents.iter_mut().zip(partials) {
        *t = chain_product_select(p, *t);
    }
}

/// [`chain_product`] entry by entry into `out`: `out[i] = chain_product(partials[i],
/// tangents[i])`, vectorised as [`chain_product_assign`].
///
/// # Panics
/// If the three slices differ in length.
///
/// # Example
/// ```
/// use adroit_forward::chain_product_into;
/// let mut out = [0.0; 2];
/// chain_product_into(&[0.0, -2.0], &[f64::NAN, 4.0], &mut out);
/// assert_eq!(out, [0.0, -8.0]);
/// ```
#[track_caller]
pub fn chain_product_into<T: Float>(partials: &[T], tangents: &[T], out: &mut [T]) {
    assert!(
        partials.len() == tangents.len() && tangents.len() == out.len(),
        "chain_product_into: {} partials, {} tangents, room for {}",
        partials.len(),
        tangents.len(),
        out.len()
    );
    for (o, (&p, &t)) in out.iter_mut().zip(partials.iter().zip(tangents)) {
        *o = chain_product_select(p, t);
    }
}

/// The matrix product `a·b` with the convention of [`chain_product`] in every term: a zero
/// entry of either factor against an infinite or NaN entry of the other contributes 0, where
/// the plain product's term is NaN. For pullbacks of matrix functions written with nalgebra
/// (adroit-reverse's `svd` and `symmetric_eigen` nodes), where an infinite cotangent (of `sqrt`
/// at a zero singular value) meets the zeros of a singular vector. The plain product is
/// formed first and only its NaN entries again, term by term.
///
/// # Panics
/// If the inner dimensions differ (as nalgebra's product).
///
/// # Example
/// ```
/// use adroit_forward::chain_matmul;
/// use adroit_forward::nalgebra::{self, dmatrix};
/// let inf = f64::INFINITY;
/// let u = dmatrix![1.0, 0.0; 0.0, 1.0];
/// let scaled = dmatrix![0.0, 0.0; 0.0, inf];
/// assert_eq!(chain_matmul(&u, &scaled), dmatrix![0.0, 0.0; 0.0, inf]);
/// assert!((&u * &scaled)[(0, 1)].is_nan()); // the plain product: 1·0 + 0·∞
/// ```
#[track_caller]
pub fn chain_matmul<T: Float + nalgebra::RealField>(
    a: &nalgebra::DMatrix<T>,
    b: &nalgebra::DMatrix<T>,
) -> nalgebra::DMatrix<T> {
    let mut c = a * b;
    for j in 0..c.ncols() {
        for i in 0..c.nrows() {
            if Float::is_nan(c[(i, j)]) {
                c[(i, j)] = (0..a.ncols()).fold(T::zero(), |sum, k| {
                    sum + chain_product(a[(i, k)], b[(k, j)])
                });
            }
        }
    }
    c
}

/// [`chain_product`] up to the sign of a zero (it gives `+0` for any zero factor, where the
/// plain product may be `−0`), cheaper than [`chain_product_select`] in loops over many lanes:
/// LLVM vectorises it, where the single rarely taken branch of [`chain_product`] (faster on one
/// scalar) would keep the loop scalar.
#[inline(always)]
pub(crate) fn chain_product_lanewise<T: Float>(partial: T, tangent: T) -> T {
    if partial.is_zero() || tangent.is_zero() {
        T::zero()
    } else {
        partial * tangent
    }
}

/// `tangent / c` with the convention of [`chain_product`]: a zero tangent stays zero even
/// when `c` is zero or infinite.
#[inline(always)]
pub(crate) fn chain_quotient<T: Float>(tangent: T, c: T) -> T {
    if tangent.is_zero() {
        T::zero()
    } else {
        tangent / c
    }
}

/// Multiplies every tangent by `partial` with the convention of [`chain_product`], taking a
/// branch-free (vectorisable) path in the common case of a finite non-zero partial.
#[inline(always)]
pub(crate) fn scale_tangents<T: Float>(partial: T, tangents: &mut [T]) {
    if partial.is_zero() {
        tangents.iter_mut().for_each(|t| *t = T::zero());
    } else if is_finite_deep(partial) {
        tangents.iter_mut().for_each(|t| *t = partial * *t);
    } else {
        tangents
            .iter_mut()
            .for_each(|t| *t = chain_product_lanewise(partial, *t));
    }
}

/// True when `x` and every perturbation inside it are finite (for nested duals `is_finite`
/// looks at the primal only; `x − x` is identically zero exactly when all parts are finite).
///
/// Number types use it to take a fast path: when a partial is finite and non-zero,
/// `partial · tangent` already follows [`chain_product`]'s convention, so its per-entry tests
/// can be skipped.
#[inline(always)]
pub(crate) fn is_finite_deep<T: Float>(x: T) -> bool {
    #[allow(clippy::eq_op)] // x − x is the point: zero exactly when every part is finite
    let difference = x - x;
    difference.is_zero()
}
