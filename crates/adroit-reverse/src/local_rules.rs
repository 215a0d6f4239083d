//! A rule evaluated for a tape that records second partials ([`hessian`](crate::hessian)'s
//! second-order adjoint recording; see [`Tape::is_local`](crate::tape::Tape::is_local)): its
//! operands seeded in lanes of their own, so that each partial's lanes hold the rule's second
//! partials, and the value recorded without tangents.
//!
//! The chunk types evaluate the rule on two-lane duals (one lane per operand) and widen the
//! partials to the chunk's `N` lanes, lanes 2 and up zero: the rule's arithmetic runs on two
//! lanes, not `N`, and gives the same numbers in lanes 0 and 1 (the lanes are independent).
//! The other tape scalars never record second partials; theirs is the plain evaluation, never
//! reached.

use adroit_forward::DualVec;
use adroit_forward::rules::{BinaryRule, UnaryRule};
use num_traits::Float;

/// The plain evaluations, for the tape scalars that never record second partials.
pub(crate) mod plain {
    use super::*;

    /// `rule` at `x`: the value and the derivative.
    #[inline(always)]
    pub(crate) fn unary<S: Float, R: UnaryRule>(x: S, rule: R) -> (S, S) {
        rule.eval(x)
    }

    /// `rule` at `(x, y)`: the value and both partials.
    #[inline(always)]
    pub(crate) fn binary<S: Float, R: BinaryRule>(x: S, y: S, _: [bool; 2], rule: R) -> (S, S, S) {
        rule.eval(x, y)
    }
}

/// The evaluations on two lanes, for the chunk types.
pub(crate) mod lanes {
    use super::*;

    /// `rule` at `x` seeded in lane 0: the value without tangents, and the derivative with
    /// `f''` in lane 0.
    #[inline(always)]
    pub(crate) fn unary<P: Float, const N: usize, R: UnaryRule>(
        x: DualVec<P, N>,
        rule: R,
    ) -> (DualVec<P, N>, DualVec<P, N>) {
        let (value, d) = rule.eval(DualVec::<P, 2>::variable(x.value(), 0));
        (DualVec::constant(value.value()), widen(d))
    }

    /// `rule` at `(x, y)`, `x` seeded in lane 0 if `seed[0]` and `y` in lane 1 if `seed[1]`
    /// (an operand not seeded is a constant: without tangents): the value without tangents and
    /// the partials, `∂f/∂x` with `(∂²f/∂x², ∂²f/∂x∂y)` in lanes 0 and 1, `∂f/∂y` with
    /// `(∂²f/∂y∂x, ∂²f/∂y²)`. With `y` not seeded, `∂f/∂y` is not formed (zero).
    #[inline(always)]
    pub(crate) fn binary<P: Float, const N: usize, R: BinaryRule>(
        x: DualVec<P, N>,
        y: DualVec<P, N>,
        seed: [bool; 2],
        rule: R,
    ) -> (DualVec<P, N>, DualVec<P, N>, DualVec<P, N>) {
        let lift = |v: DualVec<P, N>, lane: usize, seeded: bool| {
            if seeded {
                DualVec::<P, 2>::variable(v.value(), lane)
            } else {
                DualVec::<P, 2>::constant(v.value())
            }
        };
        let (x, y) = (lift(x, 0, seed[0]), lift(y, 1, seed[1]));
        if !seed[1] {
            let (value, dx) = rule.eval_dx(x, y);
            return (
                DualVec::constant(value.value()),
                widen(dx),
                DualVec::constant(P::zero()),
            );
        }
        let (value, dx, dy) = rule.eval(x, y);
        (DualVec::constant(value.value()), widen(dx), widen(dy))
    }

    /// `d` with its two lanes first and the other `N − 2` zero.
    #[inline(always)]
    fn widen<P: Float, const N: usize>(d: DualVec<P, 2>) -> DualVec<P, N> {
        let mut tangents = [P::zero(); N];
        for (t, &u) in tangents.iter_mut().zip(&d.tangents()) {
            *t = u;
        }
        DualVec::new(d.value(), tangents)
    }
}
