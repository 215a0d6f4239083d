//! The guards that bring each operand into its operation's domain (`ln(a² + ½)`,
//! `asin(0.9·tanh a)`, …), as stages whose effect on a tangent the derivative floor follows.

use super::ops::{BinaryOp, UnaryOp};
use adroit_forward::Dual;
use num_traits::Float;

/// How an operand is brought into its operation's domain before the operation proper.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Guard {
    /// The operand itself.
    Plain,
    /// `a² + c` (`c` not added when 0): into `[c, ∞)`.
    Square(f64),
    /// `k·tanh a` (`k` not applied when 1): into `(−k, k)`.
    Squashed(f64),
}

impl Guard {
    /// The guarded operand.
    pub(crate) fn apply<S: Float>(self, a: S) -> S {
        let lit = |v: f64| S::from(v).unwrap_or_else(S::nan);
        match self {
            Guard::Plain => a,
            Guard::Square(0.0) => a * a,
            Guard::Square(c) => a * a + lit(c),
            Guard::Squashed(1.0) => a.tanh(),
            Guard::Squashed(k) => a.tanh() * lit(k),
        }
    }

    /// The smallest factor by which the guard's stages scale a tangent of the operand at `a`:
    /// `2|a|` for a square (the shift leaves it), `sech² a · min(1, k)` for a squashing (the
    /// tangent after `tanh`, then after the factor `k`); 1 for a plain operand. A tangent that
    /// is normal on entry may be subnormal after a stage that shrinks it, and its rounding
    /// there is magnified by the rest of the operation: by `∂node/∂a` over this factor.
    pub(crate) fn contraction(self, a: f64) -> f64 {
        let slope = self.apply(Dual::new(a, 1.0)).tangent().abs();
        match self {
            Guard::Squashed(k) if k > 1.0 => slope / k,
            _ => slope,
        }
    }
}

/// The guard of a unary operation's operand (see [`UnaryOp`]).
pub(crate) fn unary_guard(op: UnaryOp) -> Guard {
    use UnaryOp::*;
    match op {
        Recip | Ln | Log2 | Log10 | LnGamma | Digamma => Guard::Square(0.5),
        Sqrt => Guard::Square(0.25),
        Acosh => Guard::Square(1.5),
        Ln1p => Guard::Square(0.0),
        Exp | Exp2 | Sinh | Cosh => Guard::Squashed(3.0),
        ExpM1 => Guard::Squashed(1.0),
        Tan => Guard::Squashed(1.2),
        Asin | Acos | Atanh => Guard::Squashed(0.9),
        Neg | Cbrt | Sin | Cos | Atan | Tanh | Asinh | Abs | Signum | Floor | Ceil | Round
        | Trunc | Fract | ToDegrees | ToRadians | Erf | Erfc => Guard::Plain,
    }
}

/// The guards of a binary operation's two operands (see [`BinaryOp`]).
pub(crate) fn binary_guards(op: BinaryOp) -> [Guard; 2] {
    use BinaryOp::*;
    match op {
        Div => [Guard::Plain, Guard::Square(0.5)],
        Rem => [Guard::Plain, Guard::Square(1.0)],
        Powf => [Guard::Square(0.5), Guard::Squashed(2.0)],
        Log => [Guard::Square(0.5), Guard::Square(2.0)],
        Add | Sub | Mul | Atan2 | Hypot | Max | Min | Copysign => [Guard::Plain; 2],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_contraction_is_the_smallest_stage_slope() {
        // a² + ½ at 0.25: slope 2·0.25
        assert_eq!(Guard::Square(0.5).contraction(0.25), 0.5);
        // 3·tanh a at 2: the tangent after tanh is sech² 2, smaller than 3·sech² 2
        let sech2 = 1.0 / 2.0_f64.cosh().powi(2);
        assert!((Guard::Squashed(3.0).contraction(2.0) - sech2).abs() < 1e-15);
        // 0.9·tanh a: the factor shrinks it further
        assert!((Guard::Squashed(0.9).contraction(2.0) - 0.9 * sech2).abs() < 1e-15);
        assert_eq!(Guard::Plain.contraction(1e-300), 1.0);
    }

    #[test]
    fn a_unit_factor_or_a_zero_shift_is_not_applied() {
        assert_eq!(Guard::Square(0.0).apply(-3.0), 9.0);
        assert_eq!(Guard::Squashed(1.0).apply(0.5_f64), 0.5_f64.tanh());
        assert_eq!(Guard::Squashed(2.0).apply(0.5_f64), 0.5_f64.tanh() * 2.0);
    }
}
