//! [`HyperDualVec`]: second-order numbers for exact second derivatives and Hessians.

use crate::chain_rule::{chain_product_lanewise as cp, chain_product_select, chain_quotient};
use crate::display;
use crate::rules::{BinaryRule, UnaryRule};
use crate::{ChainRule, Dual, DualVec};
use core::fmt;
use num_traits::Float;

/// A hyper-dual number `value + Σᵢ aᵢ·ε₁ᵢ + Σⱼ bⱼ·ε₂ⱼ + Σᵢⱼ cᵢⱼ·ε₁ᵢε₂ⱼ` with two independent
/// sets of perturbations (`M` of the first kind, `N` of the second; all squares and products
/// within a set vanish).
///
/// Seeding `ε₁` with directions `u₁…u_M` and `ε₂` with `v₁…v_N` gives in the `ε₁ε₂` block the
/// exact second derivatives `uᵢᵀ ∇²f vⱼ`, with no truncation error and no nesting overhead
/// (Fike & Alonso, *The Development of Hyper-Dual Numbers for Exact Second-Derivative
/// Calculations*, AIAA 2011-886). [`HyperDual`] is the scalar case `M = N = 1`, used by
/// [`second_derivative`](crate::second_derivative); [`hessian`](crate::hessian) uses square
/// chunks.
///
/// Second derivatives of every elementary function come from the same rule table as the first
/// ones: a rule evaluated on a [`Dual`] yields its second derivative as the tangent of the first.
///
/// Range: the chain rule's second-order term `f''(u)·aᵢ·bⱼ` is formed as `f''·(aᵢ·bⱼ)`, symmetric
/// in the two kinds of perturbation (so Hessians are symmetric whatever the input order), and
/// re-formed with a balanced association (a large `|f''|` times the smaller tangent first)
/// where that overflows. `f''(u)` itself is evaluated alone (for a unit tangent): where it
/// underflows or overflows while the whole term would not — e.g. `√(10³⁰·x)` in `f32`, whose
/// `f''` is 10⁻⁴⁵ — the result is 0 or infinite; nested [`Dual`]s, which fold the tangent in
/// before forming `f''`, reach further. Likewise a product `aᵢ·bⱼ` of tiny tangents underflows
/// to 0 (`f32` tangents of 1e-25: `exp` at 60 gives a second-order part 0 where nested duals
/// give 1.1e-24); seed unit tangents and scale afterwards.
///
/// Zeros: the first-order parts `aᵢ`, `bⱼ` equal [`Dual`]'s tangents bit for bit, signed
/// zeros included (`erfcx′(+∞) = −0`); the `ε₁ε₂` part, formed in a vectorised loop, gives
/// `+0` for every zero term, where the plain product's sign would be `−0`.
///
/// # Example
/// ```
/// use adroit_forward::HyperDual;
/// let x = HyperDual::variable(2.0_f64);
/// let y = x * x * x; // y'' = 6x
/// assert_eq!((y.value(), y.eps1()[0], y.eps12()[0][0]), (8.0, 12.0, 12.0));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct HyperDualVec<T, const M: usize, const N: usize> {
    value: T,
    eps1: [T; M],
    eps2: [T; N],
    eps12: [[T; N]; M],
}

/// The scalar hyper-dual number `value + a·ε₁ + b·ε₂ + c·ε₁ε₂`.
///
/// # Example
/// ```
/// use adroit_forward::HyperDual;
/// // f(x) = 1/x at 1: f' = −1/x² = −1, f'' = 2/x³ = 2
/// let y = 1.0 / HyperDual::variable(1.0_f64);
/// assert_eq!((y.value(), y.eps1()[0], y.eps12()[0][0]), (1.0, -1.0, 2.0));
/// ```
pub type HyperDual<T> = HyperDualVec<T, 1, 1>;

impl<T: Float> HyperDualVec<T, 1, 1> {
    /// The independent variable at `x` for a second derivative: `ε₁` and `ε₂` parts 1,
    /// `ε₁ε₂` part 0. After evaluation, `eps12()[0][0]` holds `f''(x)`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDual;
    /// use adroit_forward::num_traits::Float;
    /// // (eˣ)'' = eˣ = 1 at 0
    /// let y = HyperDual::variable(0.0_f64).exp();
    /// assert_eq!((y.value(), y.eps1()[0], y.eps12()[0][0]), (1.0, 1.0, 1.0));
    /// ```
    #[inline]
    pub fn variable(x: T) -> Self {
        Self::new(x, [T::one()], [T::one()], [[T::zero()]])
    }
}

impl<T: Float, const M: usize, const N: usize> HyperDualVec<T, M, N> {
    /// A number with the given parts.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDualVec;
    /// // seed x and y in both sets of directions: the ε₁ε₂ block of f is the Hessian
    /// let x = HyperDualVec::new(3.0_f64, [1.0, 0.0], [1.0, 0.0], [[0.0; 2]; 2]);
    /// let y = HyperDualVec::new(4.0_f64, [0.0, 1.0], [0.0, 1.0], [[0.0; 2]; 2]);
    /// // f(x, y) = x·y: gradient (y, x), Hessian [[0, 1], [1, 0]]
    /// let f = x * y;
    /// assert_eq!((f.eps1(), f.eps12()), ([4.0, 3.0], [[0.0, 1.0], [1.0, 0.0]]));
    /// ```
    #[inline]
    pub const fn new(value: T, eps1: [T; M], eps2: [T; N], eps12: [[T; N]; M]) -> Self {
        Self {
            value,
            eps1,
            eps2,
            eps12,
        }
    }

    /// A constant: all perturbation parts 0.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDual;
    /// // (c·x²)'' = 2c
    /// let (c, x) = (HyperDual::constant(5.0_f64), HyperDual::variable(3.0));
    /// assert_eq!((c * x * x).eps12()[0][0], 10.0);
    /// ```
    #[inline]
    pub fn constant(x: T) -> Self {
        Self::new(x, [T::zero(); M], [T::zero(); N], [[T::zero(); N]; M])
    }

    /// The primal value.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDual;
    /// let x = HyperDual::variable(3.0_f64);
    /// assert_eq!((x * x - 1.0).value(), 8.0);
    /// ```
    #[inline]
    pub fn value(&self) -> T {
        self.value
    }

    /// The `ε₁` parts (first derivatives along the first set of directions).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDual;
    /// // (x²)' = 2x = 6 at 3
    /// let x = HyperDual::variable(3.0_f64);
    /// assert_eq!((x * x).eps1(), [6.0]);
    /// ```
    #[inline]
    pub fn eps1(&self) -> [T; M] {
        self.eps1
    }

    /// The `ε₂` parts (first derivatives along the second set of directions).
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDualVec;
    /// // ε₁ seeds x only, ε₂ seeds x and y: f = x²y at (3, 4)
    /// let x = HyperDualVec::new(3.0_f64, [1.0], [1.0, 0.0], [[0.0; 2]]);
    /// let y = HyperDualVec::new(4.0_f64, [0.0], [0.0, 1.0], [[0.0; 2]]);
    /// // ε₂ parts: the gradient (2xy, x²)
    /// assert_eq!((x * x * y).eps2(), [24.0, 9.0]);
    /// ```
    #[inline]
    pub fn eps2(&self) -> [T; N] {
        self.eps2
    }

    /// The `ε₁ε₂` parts: `eps12()[i][j]` is the second derivative along `ε₁ᵢ` and `ε₂ⱼ`.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDualVec;
    /// // ε₁ seeds x only, ε₂ seeds x and y: f = x²y at (3, 4)
    /// let x = HyperDualVec::new(3.0_f64, [1.0], [1.0, 0.0], [[0.0; 2]]);
    /// let y = HyperDualVec::new(4.0_f64, [0.0], [0.0, 1.0], [[0.0; 2]]);
    /// // the Hessian row of x: (∂²f/∂x², ∂²f/∂x∂y) = (2y, 2x)
    /// assert_eq!((x * x * y).eps12(), [[8.0, 6.0]]);
    /// ```
    #[inline]
    pub fn eps12(&self) -> [[T; N]; M] {
        self.eps12
    }

    /// True when every perturbation part is zero.
    ///
    /// # Example
    /// ```
    /// use adroit_forward::HyperDual;
    /// let x = HyperDual::variable(2.0_f64);
    /// assert!(!x.is_constant() && HyperDual::constant(2.0_f64).is_constant());
    /// ```
    #[inline]
    pub fn is_constant(&self) -> bool {
        self.eps1.iter().chain(&self.eps2).all(|t| t.is_zero())
            && self.eps12.iter().flatten().all(|t| t.is_zero())
    }
}

impl<T: Float, const M: usize, const N: usize> ChainRule for HyperDualVec<T, M, N> {
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

    /// `f(x)` with `f'` and `f''` from the rule evaluated on a [`Dual`]:
    /// `ε₁ᵢε₂ⱼ` part `f'·cᵢⱼ + f''·aᵢ·bⱼ`.
    #[inline]
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        let (value, d) = rule.eval(Dual::variable(self.value));
        self.chain_unary(value.value(), d)
    }

    /// `f(x, y)` with first and second partials from the rule evaluated on a two-direction
    /// [`DualVec`].
    #[inline]
    #[allow(clippy::eq_op)] // c − c is the finiteness test
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        let x = DualVec::<T, 2>::variable(self.value, 0);
        let y = DualVec::<T, 2>::variable(other.value, 1);
        let (value, dx, dy) = rule.eval(x, y);
        let (fx, fy) = (dx.value(), dy.value());
        let [fxx, fxy] = dx.tangents();
        let fyy = dy.tangents()[1];
        let mut eps12 = self.eps12;
        let mut nan_lanes = [T::zero(); N];
        for (i, row) in eps12.iter_mut().enumerate() {
            let (a1, b1) = (self.eps1[i], other.eps1[i]);
            for (j, (c, lane)) in row.iter_mut().zip(&mut nan_lanes).enumerate() {
                let (a2, b2) = (self.eps2[j], other.eps2[j]);
                *c = cp(fx, *c)
                    + cp(fy, other.eps12[i][j])
                    + cp(fxx, cp(a1, a2))
                    + cp(fxy, cp(a1, b2) + cp(b1, a2))
                    + cp(fyy, cp(b1, b2));
                *lane = *lane + (*c - *c);
            }
        }
        if nan_lanes.iter().any(|l| l.is_nan()) {
            // As in `apply_unary`: re-form the non-finite entries with balanced products.
            for (i, row) in eps12.iter_mut().enumerate() {
                let (a1, b1) = (self.eps1[i], other.eps1[i]);
                for (j, c) in row.iter_mut().enumerate() {
                    if !c.is_finite() {
                        let (a2, b2) = (self.eps2[j], other.eps2[j]);
                        *c = cp(fx, self.eps12[i][j])
                            + cp(fy, other.eps12[i][j])
                            + balanced_product(fxx, a1, a2)
                            + (balanced_product(fxy, a1, b2) + balanced_product(fxy, b1, a2))
                            + balanced_product(fyy, b1, b2);
                    }
                }
            }
        }
        let eps1 = first_order(fx, self.eps1, fy, &other.eps1);
        let eps2 = first_order(fx, self.eps2, fy, &other.eps2);
        Self::new(value.value(), eps1, eps2, eps12)
    }

    #[inline]
    fn shift(self, c: T) -> Self {
        Self::new(self.value + c, self.eps1, self.eps2, self.eps12)
    }

    #[inline]
    fn scale(self, c: T) -> Self {
        Self::new(
            self.value * c,
            self.eps1.map(|t| chain_product_select(c, t)),
            self.eps2.map(|t| chain_product_select(c, t)),
            self.eps12.map(|row| row.map(|t| cp(c, t))),
        )
    }

    #[inline]
    fn unscale(self, c: T) -> Self {
        Self::new(
            self.value / c,
            self.eps1.map(|t| chain_quotient(t, c)),
            self.eps2.map(|t| chain_quotient(t, c)),
            self.eps12.map(|row| row.map(|t| chain_quotient(t, c))),
        )
    }
}

impl<T: Float + fmt::Display, const M: usize, const N: usize> fmt::Display
    for HyperDualVec<T, M, N>
{
    /// Formats as `value + [..]ε₁ + [..]ε₂ + [[..]]ε₁ε₂`, honouring the precision and `+`
    /// flags on every number and the width, fill and alignment on the whole; a nested dual's
    /// parts are put in parentheses.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = display::part(f, &self.value);
        text.push_str(" + ");
        display::push_list(&mut text, f, &self.eps1);
        text.push_str("ε₁ + ");
        display::push_list(&mut text, f, &self.eps2);
        text.push_str("ε₂ + [");
        for (i, row) in self.eps12.iter().enumerate() {
            if i > 0 {
                text.push_str(", ");
            }
            display::push_list(&mut text, f, row);
        }
        text.push_str("]ε₁ε₂");
        display::pad(f, &text)
    }
}

crate::impl_scalar_traits!([T: Float, const M: usize, const N: usize] HyperDualVec<T, M, N>, T);
crate::impl_scalar_lhs_ops!([const M: usize, const N: usize] HyperDualVec<f64, M, N>, f64);
crate::impl_scalar_lhs_ops!([const M: usize, const N: usize] HyperDualVec<f32, M, N>, f32);

/// `f·p·q` (with [`chain_product`](crate::chain_product)'s `0·∞ = 0`) associated to stay in
/// range: a large `|f|` is multiplied by the smaller of `p`, `q` first, a small one by the
/// larger — symmetric in `p` and `q`. Used where `f·(p·q)` overflowed.
fn balanced_product<T: Float>(f: T, p: T, q: T) -> T {
    let (small, large) = if p.abs() <= q.abs() { (p, q) } else { (q, p) };
    if f.abs() >= T::one() {
        cp(cp(f, small), large)
    } else {
        cp(cp(f, large), small)
    }
}

impl<T: Float, const M: usize, const N: usize> HyperDualVec<T, M, N> {
    /// `f(x)` from its value and its derivative `d` evaluated on a [`Dual`] (`f'` the value,
    /// `f''` the tangent): `ε₁ᵢε₂ⱼ` part `f'·cᵢⱼ + f''·aᵢ·bⱼ`. The core of
    /// [`ChainRule::apply_unary`], shared with the special functions, whose values do not come
    /// from a [`UnaryRule`].
    #[inline]
    #[allow(clippy::eq_op)] // c − c is the finiteness test
    pub(crate) fn chain_unary(self, value: T, d: Dual<T>) -> Self {
        let (d1, d2) = (d.value(), d.tangent());
        // f''·(a·b): symmetric in the two kinds of perturbation, so Hessians stay symmetric.
        // `nan_lanes` collects c − c per column (NaN where an entry is not finite) without a
        // loop-carried sum, so the loop still vectorises.
        let mut eps12 = self.eps12;
        let mut nan_lanes = [T::zero(); N];
        for (row, &a) in eps12.iter_mut().zip(&self.eps1) {
            for ((c, &b), lane) in row.iter_mut().zip(&self.eps2).zip(&mut nan_lanes) {
                *c = cp(d1, *c) + cp(d2, cp(a, b));
                *lane = *lane + (*c - *c);
            }
        }
        if nan_lanes.iter().any(|l| l.is_nan()) {
            // Rare: an entry overflowed (or is NaN). Where a·b alone overflowed, the balanced
            // association brings the term back into range.
            for (i, row) in eps12.iter_mut().enumerate() {
                for (j, c) in row.iter_mut().enumerate() {
                    if !c.is_finite() {
                        let term = balanced_product(d2, self.eps1[i], self.eps2[j]);
                        *c = cp(d1, self.eps12[i][j]) + term;
                    }
                }
            }
        }
        Self::new(
            value,
            self.eps1.map(|a| chain_product_select(d1, a)),
            self.eps2.map(|b| chain_product_select(d1, b)),
            eps12,
        )
    }
}

/// `fx·a + fy·b` lane by lane with the convention of `chain_product`, signed zeros included:
/// a binary operation's first-order parts, equal to [`Dual`]'s tangents bit for bit.
#[inline(always)]
fn first_order<T: Float, const K: usize>(fx: T, a: [T; K], fy: T, b: &[T; K]) -> [T; K] {
    let mut out = a;
    for (o, &b) in out.iter_mut().zip(b) {
        *o = chain_product_select(fx, *o) + chain_product_select(fy, b);
    }
    out
}
