//! [`DualVec`]: a primal value and `N` tangents, for chunked gradients and Jacobians.

use crate::ChainRule;
use crate::chain_rule::{chain_product_lanewise, chain_quotient, is_finite_deep, scale_tangents};
use crate::display;
use crate::rules::{BinaryRule, UnaryRule};
use core::fmt;
use num_traits::Float;

/// A multi-direction dual number `value + Σᵢ tangentᵢ·εᵢ` with `εᵢεⱼ = 0`: `N` directional
/// derivatives in one evaluation.
///
/// This is ForwardDiff.jl's chunk mode: a gradient of `n` inputs takes `⌈n/N⌉` evaluations
/// instead of `n`. See [`gradient_chunked`](crate::gradient_chunked) and
/// [`DEFAULT_CHUNK`](crate::DEFAULT_CHUNK).
///
/// Zeros: a zero tangent may come out `+0` where [`Dual`](crate::Dual)'s is `−0` (binary
/// operations with at most four directions, and scaling by a zero partial, take branch-free
/// lane-wise products for speed); equal as numbers. [`HyperDualVec`](crate::HyperDualVec)'s
/// first-order parts keep `Dual`'s signs.
///
/// # Example
/// ```
/// use adroit_forward::DualVec;
/// let x = DualVec::<f64, 2>::variable(3.0, 0);
/// let y = DualVec::<f64, 2>::variable(4.0, 1);
/// let f = x * y;
/// assert_eq!(f.value(), 12.0);
/// assert_eq!(f.tangents(), [4.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DualVec<T, const N: usize> {
    value: T,
    tangents: [T; N],
}

impl<T: Float, const N: usize> DualVec<T, N> {
    /// A number with the given primal value and tangents.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// // x = 2 seeded in two directions (1 and ½): d(x²) = 2x times each seed
    /// let x = DualVec::new(2.0_f64, [1.0, 0.5]);
    /// assert_eq!((x * x).tangents(), [4.0, 2.0]);
    /// ```
    #[inline]
    pub const fn new(value: T, tangents: [T; N]) -> Self {
        Self { value, tangents }
    }

    /// The `i`-th independent variable at `x`: tangent `eᵢ` (`1` in slot `i`, `0` elsewhere).
    ///
    /// # Panics
    /// If `i >= N`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// let y = DualVec::<f64, 3>::variable(5.0, 1);
    /// assert_eq!((y.value(), y.tangents()), (5.0, [0.0, 1.0, 0.0]));
    /// ```
    #[inline]
    #[track_caller]
    pub fn variable(x: T, i: usize) -> Self {
        assert!(
            i < N,
            "DualVec::variable: direction {i} out of range for {N} tangents"
        );
        let mut tangents = [T::zero(); N];
        tangents[i] = T::one();
        Self::new(x, tangents)
    }

    /// A constant: all tangents 0.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// // ∇(c·x) = (c, 0) for the first of two inputs
    /// let c = DualVec::<f64, 2>::constant(3.0);
    /// assert_eq!((c * DualVec::variable(5.0, 0)).tangents(), [3.0, 0.0]);
    /// ```
    #[inline]
    pub fn constant(x: T) -> Self {
        Self::new(x, [T::zero(); N])
    }

    /// The primal value.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// let (x, y) = (DualVec::<f64, 2>::variable(3.0, 0), DualVec::variable(4.0, 1));
    /// assert_eq!((x * x + y * y).value(), 25.0);
    /// ```
    #[inline]
    pub fn value(&self) -> T {
        self.value
    }

    /// The `N` tangents.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// // ∇(x²y) = (2xy, x²) = (24, 9) at (3, 4)
    /// let (x, y) = (DualVec::<f64, 2>::variable(3.0, 0), DualVec::variable(4.0, 1));
    /// assert_eq!((x * x * y).tangents(), [24.0, 9.0]);
    /// ```
    #[inline]
    pub fn tangents(&self) -> [T; N] {
        self.tangents
    }

    /// True when every tangent is zero.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::DualVec;
    /// let x = DualVec::<f64, 2>::variable(1.0, 0);
    /// assert!(!x.is_constant() && DualVec::<f64, 2>::constant(1.0).is_constant());
    /// ```
    #[inline]
    pub fn is_constant(&self) -> bool {
        self.tangents.iter().all(|t| t.is_zero())
    }

    /// `f(x)` from its value and its derivative `d` at the primal: every tangent scaled by `d`
    /// (the `0·∞ = 0` product). The core of [`ChainRule::apply_unary`], shared with the
    /// special functions, whose values do not come from a [`UnaryRule`].
    #[inline(always)]
    pub(crate) fn chain_unary(self, value: T, d: T) -> Self {
        let mut tangents = self.tangents;
        scale_tangents(d, &mut tangents);
        Self::new(value, tangents)
    }
}

impl<T: Float, const N: usize> ChainRule for DualVec<T, N> {
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
        self.value.is_zero() && self.is_constant()
    }

    #[inline(always)]
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(self.value);
        self.chain_unary(value, d)
    }

    #[inline(always)]
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        if R::EXPENSIVE_DY && other.is_constant() {
            let (value, dx) = rule.eval_dx(self.value, other.value);
            let mut tangents = self.tangents;
            scale_tangents(dx, &mut tangents);
            return Self::new(value, tangents);
        }
        let (value, dx, dy) = rule.eval(self.value, other.value);
        let mut tangents = self.tangents;
        if N <= 4 {
            // Few directions (`zip_map`'s one per argument, small chunks): no branch on the
            // partials, so that loops of such operations over many entries run without
            // mispredictions and may vectorise. (The lane-wise product gives `+0` where the
            // plain product would give `−0`: a zero tangent may come out `+0` here and `−0` in
            // `Dual` or a wider `DualVec` — equal as numbers, as `chain_product` allows.)
            for (t, &u) in tangents.iter_mut().zip(&other.tangents) {
                *t = chain_product_lanewise(dx, *t) + chain_product_lanewise(dy, u);
            }
            return Self::new(value, tangents);
        }
        let nonzero_finite = |d: T| !d.is_zero() && is_finite_deep(d);
        if nonzero_finite(dx) && nonzero_finite(dy) {
            for (t, &u) in tangents.iter_mut().zip(&other.tangents) {
                *t = dx * *t + dy * u;
            }
        } else {
            let mut others = other.tangents;
            scale_tangents(dx, &mut tangents);
            scale_tangents(dy, &mut others);
            for (t, u) in tangents.iter_mut().zip(others) {
                *t = *t + u;
            }
        }
        Self::new(value, tangents)
    }

    #[inline]
    fn shift(self, c: T) -> Self {
        Self::new(self.value + c, self.tangents)
    }

    #[inline]
    fn scale(self, c: T) -> Self {
        let mut tangents = self.tangents;
        scale_tangents(c, &mut tangents);
        Self::new(self.value * c, tangents)
    }

    #[inline]
    fn unscale(self, c: T) -> Self {
        Self::new(self.value / c, self.tangents.map(|t| chain_quotient(t, c)))
    }
}

impl<T: Float + fmt::Display, const N: usize> fmt::Display for DualVec<T, N> {
    /// Formats as `value + [t₀, t₁, …]ε`, honouring the precision and `+` flags on every
    /// number and the width, fill and alignment on the whole; a nested dual's parts are put in
    /// parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = display::part(f, &self.value);
        text.push_str(" + ");
        display::push_list(&mut text, f, &self.tangents);
        text.push('ε');
        display::pad(f, &text)
    }
}

crate::impl_scalar_traits!([T: Float, const N: usize] DualVec<T, N>, T);
crate::impl_scalar_lhs_ops!([const N: usize] DualVec<f64, N>, f64);
crate::impl_scalar_lhs_ops!([const N: usize] DualVec<f32, N>, f32);
