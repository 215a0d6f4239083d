//! [`Var`]: a reverse-mode variable, a `Copy` handle to a node of the thread's active tape.

use crate::TapeScalar;
use crate::active::{check_active, record_binary, record_unary, recording_local};
use adroit_forward::rules::{BinaryRule, UnaryRule};
use adroit_forward::{ChainRule, DerivativeOrder};
use std::fmt;

/// A reverse-mode variable: its primal value and the index of its node on the tape of the
/// differentiation scope that created it.
///
/// `Var<T>` implements `num_traits::Float` (and the rest of the traits of
/// [`adroit_forward::Dual`]; `nalgebra::RealField` for `T = f32, f64` and the duals
/// [`hessian`](crate::hessian) and [`hvp`](crate::hvp) record), so code written for any
/// `Float` records itself on the tape. Each operation stores its local partials (from the rule
/// table of `adroit-forward`) at record time; [`gradient`](crate::gradient) then sweeps the tape
/// once backwards.
///
/// Variables exist only inside the closure given to [`gradient`](crate::gradient),
/// [`pullback`](crate::pullback), [`jacobian`](crate::jacobian), ... Using one after that call
/// returned, on another thread, or together with a variable of another scope panics with a
/// message naming the problem; it never reads another tape's node.
///
/// Constants ([`Var::constant`], or literals converted with `S::from`) are not recorded and may
/// be created and combined anywhere.
///
/// Mutation just works: variables are plain values, so writing them into a `Vec<Var<T>>`,
/// overwriting elements and looping all differentiate correctly (unlike Zygote, which forbids
/// mutating arrays).
///
/// # Folded scales
/// For `T = f32, f64` a variable is a node *times a pending scale*: an operation with one
/// variable operand (`sin`, `exp`, `x * 2.0`, `x + 1.0`, `x * x`, ...) multiplies the scale by
/// its partial instead of recording a node, and the next operation with two variable operands
/// (or an output seeded by the sweep) uses the product as its partial. So
/// `100·(b − a²)² + (1 − a)²` records 2 nodes, not 8: a chain of one-operand operations costs no
/// tape and no sweep, as in tape libraries' preaccumulation of local Jacobians. The product of
/// a chain's partials is formed in the order forward mode forms its tangent, and a chain whose
/// product would not be a normal number (an infinite or overflowing partial, a product
/// rounding to zero or subnormal) is recorded node by node instead, so no *partial* overflows
/// or underflows where the chain's nodes' would not. The *sweep* then sums adjoints in another
/// order: a folded variable used by several operations hands its scale to each, so terms that
/// cancelled at its node before the scale was applied now meet at its parent after it —
/// usually the better order (products of partials stay in range where a chain of adjoints
/// overflowed), but where those terms are near overflow they can overflow before cancelling
/// (`u = 1e10·x` in `(u·y − u·z)·1e300` at `y = z`: `∂/∂x` NaN, where forward mode and a
/// node-by-node sweep give 0; write `(y − z)·u` to cancel first). A small term reaching an
/// input alongside cancelling huge ones can likewise be lost to rounding in one order and not
/// the other: results agree with [`adroit_forward`]'s to rounding *of the terms summed*. The
/// duals of [`hessian`](crate::hessian) and [`hvp`](crate::hvp) record every operation (their
/// variables store no scale).
///
/// # Example
/// ```
/// let g = adroit_reverse::gradient(|x| x[0] * x[0] + 3.0 * x[1], &[5.0, 7.0]);
/// assert_eq!(g, vec![10.0, 3.0]);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Var<T: TapeScalar> {
    value: T,
    /// The pending scale: this variable is `scale · node` (see "Folded scales"); 1 for a
    /// recorded node, unused for constants, not stored for the dual types.
    scale: T::Scale,
    index: u32,
    /// The id of the recording tape; 0 for constants.
    tape: u64,
}

impl<T: TapeScalar> Var<T> {
    /// A constant: not recorded, its derivative is zero.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::{Var, gradient};
    /// // d/dx (3x + 1) = 3; constants can be made outside a scope as well
    /// let (three, one) = (Var::constant(3.0), Var::constant(1.0));
    /// assert!(three.is_constant());
    /// assert_eq!(gradient(|x| three * x[0] + one, &[5.0]), vec![3.0]);
    /// ```
    #[inline]
    pub fn constant(value: T) -> Self {
        Self {
            value,
            scale: T::stored_scale(T::zero()),
            index: 0,
            tape: 0,
        }
    }

    /// A variable recorded on a tape.
    #[inline(always)]
    pub(crate) fn on_tape(value: T, index: u32, tape: u64) -> Self {
        Self {
            value,
            scale: T::stored_scale(T::one()),
            index,
            tape,
        }
    }

    /// The primal value.
    ///
    /// # Example
    /// ```
    /// // branch on the primal value: |x| by hand, slope −1 at −2
    /// let abs = |x: &[adroit_reverse::Var<f64>]| if x[0].value() < 0.0 { -x[0] } else { x[0] };
    /// assert_eq!(adroit_reverse::gradient(abs, &[-2.0]), vec![-1.0]);
    /// ```
    #[inline]
    pub fn value(&self) -> T {
        self.value
    }

    /// True for a constant (not recorded on any tape): made by [`Var::constant`] or
    /// [`stop_gradient`](crate::stop_gradient), computed from constants only, or the result
    /// of an operation whose partial derivative is zero *at this point* — everywhere
    /// (`x * 0.0`, `x.floor()`) or only here (`x.max(0.0)` at a negative `x`, `x.powi(2)` or
    /// `x.abs()` at 0), or a combination of one variable whose partials cancel exactly
    /// (`x * 2.0 + x - x * 3.0`: "Folded scales" above): it carries no derivative and is
    /// therefore not recorded. So
    /// `is_constant` says that no derivative flows through this value at the point
    /// evaluated, not that the value does not depend on the inputs.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::num_traits::Float;
    /// use adroit_reverse::{Var, gradient};
    /// let g = gradient(
    ///     |x| {
    ///         assert!(!x[0].is_constant() && x[0].floor().is_constant());
    ///         // ReLU at a negative input: slope 0 here, so not recorded either
    ///         assert!((x[0] - 2.0).max(Var::constant(0.0)).is_constant());
    ///         x[0] * Var::constant(3.0)
    ///     },
    ///     &[1.5],
    /// );
    /// assert_eq!(g, vec![3.0]);
    /// ```
    #[inline]
    pub fn is_constant(&self) -> bool {
        self.tape == 0
    }

    /// The node index on its tape (0, the sink, for constants).
    #[inline(always)]
    pub(crate) fn index(&self) -> u32 {
        self.index
    }

    /// The pending scale: the variable is `scale` times its node (1 unless `T::FOLDS`).
    #[inline(always)]
    pub(crate) fn pending_scale(&self) -> T {
        T::scale_value(self.scale)
    }

    /// Whether the variable differs from its node by a pending scale (never for the dual
    /// types, which store none).
    #[inline(always)]
    pub(crate) fn is_scaled(&self) -> bool {
        T::FOLDS && self.pending_scale() != T::one()
    }

    /// `w` carried through the pending scale, `w · scale` (`w` itself when the scale is 1):
    /// a cotangent seeded at this variable as its node's adjoint, or its node's tangent as
    /// this variable's. A zero `w` contributes nothing.
    #[inline(always)]
    pub(crate) fn seed(&self, w: T) -> T {
        if self.is_scaled() && !w.is_zero() {
            w * self.pending_scale()
        } else {
            w
        }
    }

    /// This variable's node times `scale`: another variable's pending scale carried across a
    /// checkpoint's boundary (its inputs' into both runs, its outputs' onto the running tape),
    /// so that the operations on it fold the scale into their partials as they would on one
    /// recording. `scale` is normal (a pending scale is), and 1 for the dual types, which
    /// store none.
    #[inline]
    pub(crate) fn with_pending_scale(self, scale: T) -> Self {
        Self {
            scale: T::stored_scale(scale),
            ..self
        }
    }

    /// The id of the tape it belongs to (0 for constants).
    #[inline(always)]
    pub(crate) fn tape_id(&self) -> u64 {
        self.tape
    }

    /// Records `value = f(self)` with partial `d`: for the plain floats folded into the
    /// pending scale when `d · scale` is a normal number (no node), else as a node on `self`'s
    /// node (its pending scale recorded first).
    #[inline(always)]
    #[track_caller]
    pub(crate) fn record_unary(self, value: T, d: T) -> Self {
        if self.is_constant() {
            return Self::constant(value);
        }
        if T::FOLDS {
            check_active(&self);
            let scale = d * self.pending_scale();
            if scale.is_normal() {
                return Self {
                    value,
                    scale: T::stored_scale(scale),
                    ..self
                };
            }
        }
        record_unary(&self, value, d)
    }

    /// Records `f(self)`, `eval` giving its value and derivative: on a tape recording second
    /// partials ([`hessian`](crate::hessian)'s), evaluated on the value seeded in lane 0, so
    /// that the partial's lane 0 is `f''`, and the value kept without tangents.
    #[inline(always)]
    #[track_caller]
    pub(crate) fn record_rule(self, eval: impl FnOnce(T) -> (T, T)) -> Self {
        if !self.is_constant() && recording_local::<T>() {
            let (value, d) = eval(self.value.seeded(0));
            return self.record_unary(value.detached(), d);
        }
        let (value, d) = eval(self.value);
        self.record_unary(value, d)
    }

    /// [`ChainRule::apply_binary`] on a tape recording second partials (not both operands
    /// constant): the first operand seeded in lane 0, the second in lane 1, constants without
    /// tangents, so that `∂f/∂x` carries `(∂²f/∂x², ∂²f/∂x∂y)` in lanes 0 and 1 and `∂f/∂y`
    /// `(∂²f/∂y∂x, ∂²f/∂y²)`; one variable on both sides records the sum of the two partials,
    /// whose lanes add up to its second derivative.
    #[track_caller]
    fn apply_binary_local<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        let seed = [!self.is_constant(), !other.is_constant()];
        let (value, dx, dy) = T::local_binary(self.value, other.value, seed, rule);
        if other.is_constant() {
            return self.record_unary(value, dx);
        }
        if self.is_constant() {
            return other.record_unary(value, dy);
        }
        if self.index == other.index && self.tape == other.tape {
            return self.record_unary(value, dx + dy);
        }
        record_binary(&self, &other, value, dx, dy)
    }
}

/// A constant operand of a linear operation: without tangents on a tape recording second
/// partials (so that the partial it becomes has no second-order part).
#[inline(always)]
fn linear_constant<T: TapeScalar>(c: T) -> T {
    if recording_local::<T>() {
        c.detached()
    } else {
        c
    }
}

/// One order more than its primal's: `Var<f64>` carries gradients (1), the `Var<Dual<f64>>` of
/// [`hvp`](crate::hvp) and the `Var<DualVec<f64, 12>>` of [`hessian`](crate::hessian) second
/// derivatives (2).
impl<T: TapeScalar + DerivativeOrder> DerivativeOrder for Var<T> {
    const ORDER: usize = T::ORDER + 1;
}

impl<T: TapeScalar> ChainRule for Var<T> {
    type Primal = T;

    #[inline(always)]
    fn primal(&self) -> T {
        self.value
    }

    #[inline(always)]
    fn constant(value: T) -> Self {
        Self::constant(value)
    }

    #[inline]
    fn is_identically_zero(&self) -> bool {
        self.is_constant() && self.value.is_zero()
    }

    #[inline(always)]
    #[track_caller]
    fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
        if !self.is_constant() && recording_local::<T>() {
            let (value, d) = T::local_unary(self.value, rule);
            return self.record_unary(value, d);
        }
        let (value, d) = rule.eval(self.value);
        self.record_unary(value, d)
    }

    #[inline(always)]
    #[track_caller]
    fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        if !(self.is_constant() && other.is_constant()) && recording_local::<T>() {
            return self.apply_binary_local(other, rule);
        }
        match (self.is_constant(), other.is_constant()) {
            (true, true) => Self::constant(rule.eval_dx(self.value, other.value).0),
            (false, true) => {
                let (value, dx) = rule.eval_dx(self.value, other.value);
                self.record_unary(value, dx)
            }
            (true, false) => {
                let (value, _, dy) = rule.eval(self.value, other.value);
                other.record_unary(value, dy)
            }
            (false, false) => {
                let (value, dx, dy) = rule.eval(self.value, other.value);
                if self.index == other.index && self.tape == other.tape {
                    // One node on both sides (`x * x`, `x + x`): one parent, whose partial
                    // is the sum (`2x`): half the backward work for squares.
                    if self.pending_scale() == other.pending_scale() {
                        return self.record_unary(value, dx + dy);
                    }
                    // `a·x ∘ b·x` (pending scales `a ≠ b` of one node `x`): the partial
                    // `dx·a + dy·b` folded, an exact cancellation of normal terms making a
                    // constant as above; any other sum recorded as a node on `x` twice.
                    let (p, q) = (dx * self.pending_scale(), dy * other.pending_scale());
                    let scale = p + q;
                    if scale.is_normal() || (scale.is_zero() && p.is_normal()) {
                        check_active(&self);
                        if scale.is_zero() {
                            return Self::constant(value);
                        }
                        return Self {
                            value,
                            scale: T::stored_scale(scale),
                            ..self
                        };
                    }
                }
                record_binary(&self, &other, value, dx, dy)
            }
        }
    }

    #[inline(always)]
    #[track_caller]
    fn shift(self, c: T) -> Self {
        self.record_unary(self.value + linear_constant(c), T::one())
    }

    #[inline(always)]
    #[track_caller]
    fn scale(self, c: T) -> Self {
        let c = linear_constant(c);
        self.record_unary(self.value * c, c)
    }

    #[inline(always)]
    #[track_caller]
    fn unscale(self, c: T) -> Self {
        let c = linear_constant(c);
        let value = self.value / c;
        let r = c.recip();
        if !r.is_infinite() || c.is_zero() {
            return self.record_unary(value, r);
        }
        // 1/c overflowed (a subnormal c) although t/c, forward mode's tangent, need not: the
        // partial as two finite factors, 2/ε and 1/(c·2/ε) (c·2/ε is normal, and scaling by a
        // power of two is exact), recorded as two nodes.
        let s = (T::one() + T::one()) / T::epsilon();
        self.record_unary(self.value * s, s)
            .record_unary(value, (c * s).recip())
    }
}

impl<T: TapeScalar + fmt::Display> fmt::Display for Var<T> {
    /// Formats the primal value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}

adroit_forward::impl_scalar_traits!([T: TapeScalar] Var<T>, T);
adroit_forward::impl_scalar_lhs_ops!([] Var<f64>, f64);
adroit_forward::impl_scalar_lhs_ops!([] Var<f32>, f32);
adroit_forward::impl_scalar_lhs_ops!([] Var<adroit_forward::Dual<f64>>, adroit_forward::Dual<f64>);
adroit_forward::impl_scalar_lhs_ops!([] Var<adroit_forward::Dual<f32>>, adroit_forward::Dual<f32>);
adroit_forward::impl_nested_float_ops!([] Var<adroit_forward::Dual<f64>>, f64);
adroit_forward::impl_nested_float_ops!([] Var<adroit_forward::Dual<f32>>, f32);
adroit_forward::impl_nalgebra_traits!([] Var<f64>, f64);
adroit_forward::impl_nalgebra_traits!([] Var<f32>, f32);
// The types `hvp` and `hessian` record (forward-over-reverse), so that second derivatives go
// through nalgebra's decompositions as first derivatives do.
adroit_forward::impl_nalgebra_traits!([] Var<adroit_forward::Dual<f64>>, f64);
adroit_forward::impl_nalgebra_traits!([] Var<adroit_forward::Dual<f32>>, f32);

/// The chunked types of `hessian_chunked`: plain floats on either side, and nalgebra.
macro_rules! chunk_var_traits {
    ($($n:literal),*) => {$(
        adroit_forward::impl_nested_float_ops!([] Var<adroit_forward::DualVec<f64, $n>>, f64);
        adroit_forward::impl_nested_float_ops!([] Var<adroit_forward::DualVec<f32, $n>>, f32);
        adroit_forward::impl_nalgebra_traits!([] Var<adroit_forward::DualVec<f64, $n>>, f64);
        adroit_forward::impl_nalgebra_traits!([] Var<adroit_forward::DualVec<f32, $n>>, f32);
    )*};
}
with_hessian_chunks!(chunk_var_traits);
