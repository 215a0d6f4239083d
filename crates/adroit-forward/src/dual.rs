//! [`Dual`]: a primal value and one tangent, for first derivatives in one direction.

use crate::chain_rule::chain_quotient;
use crate::display;
use crate::rules::{BinaryRule, UnaryRule};
use crate::{ChainRule, chain_product};
use core::fmt;
use num_traits::Float;

/// A first-order dual number `value + tangent·ε` with `ε² = 0`.
///
/// Evaluating `f` on `Dual::new(x, v)` gives `f(x) + f'(x)·v·ε`: the primal value and the
/// directional derivative (JVP) in direction `v`. `Dual<T>` implements `num_traits::Float` (and
/// `nalgebra::RealField` for `T = f32, f64`), so generic numeric code differentiates unchanged.
///
/// Nesting is allowed and safe: `Dual<Dual<f64>>` is a scalar whose inner and outer
/// perturbations are different *types*, so they cannot be mixed up in arithmetic (an explicit
/// [`Dual::constant`] lifts an outer value inward). Rust infers a nested call's type from its
/// arguments, though: in `derivative(|x| x * derivative(|y| x + y, 1.0), 1.0)` the literal
/// makes the inner variable a `Dual<f64>` like the captured `x`, which would confuse the two
/// perturbations (2 instead of 1); [`derivative`](crate::derivative) and the other functions
/// of this crate refuse a call nested in a running one of the same dual type into another
/// function, with a panic naming the fix: nest one level up, lifting the inner point and the
/// captured variables (below), or use [`independent`](crate::independent) for code of plain
/// numbers. The check is per thread, sees only the library's functions (not dual numbers
/// built by hand) and tells functions apart by type name; its limits are listed on
/// [`independent`](crate::independent).
///
/// ```
/// use adroit_forward::{Dual, derivative};
/// // d/dx [x · (d/dy (x + y) at y = 1)] = 1 (Siskind & Pearlmutter's example), the inner
/// // call on Dual<Dual<f64>>:
/// let d = derivative(|x| x * derivative(|y| Dual::constant(x) + y, Dual::constant(1.0)), 1.0);
/// assert_eq!(d, 1.0);
/// // Written without the lift, the inner call would confuse the perturbations: refused.
/// let confused = std::panic::catch_unwind(|| derivative(|x| x * derivative(|y| x + y, 1.0), 1.0));
/// assert!(confused.is_err());
/// ```
///
/// Comparisons (`==`, `<`, ...) look at the primal value only, so control flow matches the
/// plain-float program. [`num_traits::Zero::is_zero`] is true only when the tangent is zero too.
///
/// # Example
/// ```
/// use adroit_forward::Dual;
/// let x = Dual::variable(5.0_f64);
/// let y = 3.0 * x * x + 2.0 * x + 1.0;
/// assert_eq!((y.value(), y.tangent()), (86.0, 32.0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Dual<T> {
    value: T,
    tangent: T,
}

impl<T: Float> Dual<T> {
    /// A dual number with the given primal value and tangent (the seed of the direction).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// // seed direction 3: the tangent of x² at 2 is 2·2·3
    /// let x = Dual::new(2.0_f64, 3.0);
    /// assert_eq!((x * x).tangent(), 12.0);
    /// ```
    #[inline]
    pub const fn new(value: T, tangent: T) -> Self {
        Self { value, tangent }
    }

    /// The independent variable at `x`: tangent 1.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// use adroit_forward::num_traits::Float;
    /// // d/dx (x·eˣ) = (1 + x)·eˣ = 1 at 0
    /// let x = Dual::variable(0.0_f64);
    /// assert_eq!((x * x.exp()).tangent(), 1.0);
    /// ```
    #[inline]
    pub fn variable(x: T) -> Self {
        Self::new(x, T::one())
    }

    /// A constant: tangent 0.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// // d/dx (c·x) = c
    /// let (c, x) = (Dual::constant(4.0_f64), Dual::variable(3.0));
    /// assert_eq!((c.tangent(), (c * x).tangent()), (0.0, 4.0));
    /// ```
    #[inline]
    pub fn constant(x: T) -> Self {
        Self::new(x, T::zero())
    }

    /// The primal value.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// let y = Dual::variable(3.0_f64) * 2.0 + 1.0;
    /// assert_eq!(y.value(), 7.0);
    /// ```
    #[inline]
    pub fn value(&self) -> T {
        self.value
    }

    /// The tangent (the derivative along the seeded direction).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// // d/dx x³ = 3x² = 12 at 2
    /// let x = Dual::variable(2.0_f64);
    /// assert_eq!((x * x * x).tangent(), 12.0);
    /// ```
    #[inline]
    pub fn tangent(&self) -> T {
        self.tangent
    }

    /// True when the tangent is zero.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::Dual;
    /// let x = Dual::variable(2.0_f64);
    /// assert!(!x.is_constant() && Dual::constant(2.0_f64).is_constant());
    /// // x − x has derivative 0, so it is a constant too
    /// assert!((x - x).is_constant());
    /// ```
    #[inline]
    pub fn is_constant(&self) -> bool {
        self.tangent.is_zero()
    }

    /// `f(x)` from its value and its derivative `d` at the primal: tangent `d·t` (the
    /// `0·∞ = 0` product). The core of [`ChainRule::apply_unary`], shared with the special
    /// functions, whose values do not come from a [`UnaryRule`].
    #[inline(always)]
    pub(crate) fn chain_unary(self, value: T, d: T) -> Self {
        Self::new(value, chain_product(d, self.tangent))
    }
}

impl<T: Float> ChainRule for Dual<T> {
    type Primal = T;

    #[inline]
    fn primal(&self) -> T {
        self.value
    }

    #[inline]
    fn constant(value: T) -> Self {
        Self::constant(value)
    }

    #[inline]
    fn is_identically_zero(&self) -> bool {
        self.value.is_zero() && self.tangent.is_zero()
    }

    #[inline(always)]
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(self.value);
        self.chain_unary(value, d)
    }

    #[inline(always)]
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        if R::EXPENSIVE_DY && other.tangent.is_zero() {
            let (value, dx) = rule.eval_dx(self.value, other.value);
            return Self::new(value, chain_product(dx, self.tangent));
        }
        let (value, dx, dy) = rule.eval(self.value, other.value);
        Self::new(
            value,
            chain_product(dx, self.tangent) + chain_product(dy, other.tangent),
        )
    }

    #[inline]
    fn shift(self, c: T) -> Self {
        Self::new(self.value + c, self.tangent)
    }

    #[inline]
    fn scale(self, c: T) -> Self {
        Self::new(self.value * c, chain_product(c, self.tangent))
    }

    #[inline]
    fn unscale(self, c: T) -> Self {
        Self::new(self.value / c, chain_quotient(self.tangent, c))
    }
}

impl<T: Float + fmt::Display> fmt::Display for Dual<T> {
    /// Formats as `value + tangentε` (`1 - 0.5ε` for a negative tangent), honouring the
    /// precision and `+` flags (`{:.3}`) on both numbers and the width, fill and alignment
    /// (`{:>12}`) on the whole; the parts of a nested dual are put in parentheses:
    /// `(1 + 1ε) + (2 + 0ε)ε`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = display::part(f, &self.value);
        display::push_term(&mut text, f, &self.tangent, "ε");
        display::pad(f, &text)
    }
}

crate::impl_scalar_traits!([T: Float] Dual<T>, T);
crate::impl_scalar_lhs_ops!([] Dual<f64>, f64);
crate::impl_scalar_lhs_ops!([] Dual<f32>, f32);
crate::impl_nested_float_ops!([] Dual<Dual<f64>>, f64);
crate::impl_nested_float_ops!([] Dual<Dual<f32>>, f32);
