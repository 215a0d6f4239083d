//! Plain floats as [`ChainRule`] types: a rule applied to an `f32` or `f64` gives its value,
//! so code that applies custom rules runs unchanged on plain numbers.

use crate::ChainRule;
use crate::rules::{BinaryRule, UnaryRule};

/// Implements [`ChainRule`] for a plain float type: no perturbations, so a rule's value alone.
macro_rules! impl_plain_chain_rule {
    ($($t:ty),*) => {$(
        /// A plain number carries no perturbation: a rule applied to it is its value (the
        /// derivative `eval` also returns is dropped), `constant` is the identity, and
        /// `is_identically_zero` is `== 0`. So a function written for `S: Float + ChainRule`
        /// that applies custom rules runs on plain numbers too, as on every dual type and
        /// adroit-reverse's `Var`.
        ///
        /// # Example
        /// ```
        /// use adroit_forward::num_traits::Float;
        /// use adroit_forward::rules::UnaryRule;
        /// use adroit_forward::{ChainRule, derivative};
        ///
        /// /// `x³`: derivative `3x²`.
        /// #[derive(Clone, Copy)]
        /// struct Cube;
        /// impl UnaryRule for Cube {
        ///     fn eval<S: Float>(self, x: S) -> (S, S) {
        ///         (x * x * x, (x + x + x) * x)
        ///     }
        /// }
        ///
        /// fn f<S: Float + ChainRule>(x: S) -> S {
        ///     x.apply_unary(Cube) + x
        /// }
        /// assert_eq!(f(2.0_f64), 10.0);
        /// assert_eq!(f(2.0_f32), 10.0);
        /// assert_eq!(derivative(f, 2.0), 13.0);
        /// ```
        impl ChainRule for $t {
            type Primal = $t;

            #[inline]
            fn primal(&self) -> $t {
                *self
            }

            #[inline]
            fn constant(value: $t) -> Self {
                value
            }

            #[inline]
            fn is_identically_zero(&self) -> bool {
                *self == 0.0
            }

            #[inline]
            fn apply_unary<R: UnaryRule>(self, rule: R) -> Self {
                rule.eval(self).0
            }

            #[inline]
            fn apply_binary<R: BinaryRule>(self, other: Self, rule: R) -> Self {
                rule.eval_dx(self, other).0
            }

            #[inline]
            fn shift(self, c: $t) -> Self {
                self + c
            }

            #[inline]
            fn scale(self, c: $t) -> Self {
                self * c
            }

            #[inline]
            fn unscale(self, c: $t) -> Self {
                self / c
            }
        }
    )*};
}

impl_plain_chain_rule!(f32, f64);

#[cfg(test)]
mod tests {
    use crate::ChainRule;
    use crate::rules::{Atan2, Hypot, Powf, Sin};

    #[test]
    fn rules_on_plain_floats_give_their_values() {
        assert_eq!(0.5_f64.apply_unary(Sin), 0.5_f64.sin());
        assert_eq!(0.5_f32.apply_unary(Sin), 0.5_f32.sin());
        assert_eq!(2.0_f64.apply_binary(1.5, Powf), 2.0_f64.powf(1.5));
        assert_eq!(3.0_f64.apply_binary(4.0, Hypot), 5.0);
        assert_eq!(1.0_f32.apply_binary(-1.0, Atan2), 1.0_f32.atan2(-1.0));
        assert_eq!(<f64 as ChainRule>::constant(2.5), 2.5);
        assert!(0.0_f64.is_identically_zero() && (-0.0_f32).is_identically_zero());
        assert!(!1e-300_f64.is_identically_zero());
        assert_eq!(
            (2.0_f64.shift(1.0), 2.0_f64.scale(3.0), 3.0_f64.unscale(2.0)),
            (3.0, 6.0, 1.5)
        );
    }
}
