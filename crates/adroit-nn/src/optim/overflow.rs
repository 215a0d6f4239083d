//! Refusing a step whose squared-gradient state overflowed: the rules that keep `g²` (Adam
//! and its variants but AdaMax, RMSProp, AdaGrad, AdaDelta) pass each update through
//! [`unless_overflowed`] with the state they stored, so that a state entry that became `+∞`
//! makes its update NaN, which the step refuses ([`NnError::NonFinite`](crate::NnError)), the
//! model and the rule's state kept as before it. Without it the update of that entry would be
//! `0` from then on (`m̂/√∞`), a run frozen with no error, and the state could not be saved
//! as JSON (PyTorch's `Adam` freezes the same way).

use num_traits::Float;

/// `u` where `state` is finite, NaN where `state` is infinite or NaN: `u − (s − s)`, where
/// `s − s` is `+0` for a finite `s` and `u − (+0)` is `u` bit for bit (the sign of a zero
/// included). Two operations in a pass bound by memory traffic, vectorised with the rest.
#[inline(always)]
#[allow(clippy::eq_op)] // s − s is the test
pub(crate) fn unless_overflowed<T: Float>(u: T, state: T) -> T {
    u - (state - state)
}

#[cfg(test)]
mod tests {
    use super::unless_overflowed;

    #[test]
    fn finite_state_keeps_the_update_bits_and_overflow_makes_it_nan() {
        for u in [1.5_f64, -0.0, 0.0, -3e-310, f64::MAX] {
            for s in [0.0, 2.0, f64::MAX, 5e-324] {
                assert_eq!(unless_overflowed(u, s).to_bits(), u.to_bits(), "{u} {s}");
            }
            assert!(unless_overflowed(u, f64::INFINITY).is_nan());
            assert!(unless_overflowed(u, f64::NAN).is_nan());
        }
        assert!(unless_overflowed(1.0_f32, f32::INFINITY).is_nan());
        assert_eq!(
            unless_overflowed(-0.0_f32, 1e30).to_bits(),
            (-0.0_f32).to_bits()
        );
    }
}
