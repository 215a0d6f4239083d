//! A non-negative magnitude with an unbounded exponent, for derivative scales that pass
//! through more orders of magnitude than `f64` holds.

/// `m·2ᵉ` with `m` in `[1, 2)`, or `m` zero, infinite or NaN (then `e = 0`): a derivative
/// scale carried through a program neither underflows nor overflows on the way, however far
/// its factors spread (found by the `program` fuzz target: a tangent of `1e-566` on the way to
/// a derivative of 3460, flushed to 0 in `f64` even seeded with `2⁵¹²`) — unless one node's
/// partial is itself outside `f64`'s range (`∂x⁴/∂x` at `1e-200`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Wide {
    m: f64,
    e: i64,
}

impl Wide {
    /// Zero.
    pub(crate) const ZERO: Wide = Wide { m: 0.0, e: 0 };

    /// True for the magnitude 0.
    pub(crate) fn is_zero(self) -> bool {
        self.m == 0.0
    }

    /// `|v|`, exactly.
    pub(crate) fn new(v: f64) -> Wide {
        let v = v.abs();
        if v == 0.0 || !v.is_finite() {
            return Wide { m: v, e: 0 };
        }
        // Subnormal: lift into the normal range first (exact).
        let (v, lift) = if v < f64::MIN_POSITIVE {
            (v * 2f64.powi(64), -64)
        } else {
            (v, 0)
        };
        let e = ((v.to_bits() >> 52) as i64) - 1023;
        let m = f64::from_bits((v.to_bits() & ((1 << 52) - 1)) | (1023 << 52));
        Wide { m, e: e + lift }
    }

    /// The magnitude in `f64`: rounded to a subnormal or 0 below the normal range, `+∞` above
    /// it.
    pub(crate) fn to_f64(self) -> f64 {
        if self.m == 0.0 || !self.m.is_finite() {
            return self.m;
        }
        // 2ᵉ in two factors, each within range, so that only the result rounds.
        let e = self.e.clamp(-1200, 1200) as i32;
        let half = e / 2;
        self.m * 2f64.powi(half) * 2f64.powi(e - half)
    }

    /// `|local(self)|` for a `local` linear in its argument, evaluated at half the significand
    /// (in `[½, 1)`, so that a slope up to the largest `f64` does not overflow where the
    /// product would not — from a review: `((0.375·x)+(0.375·x))·1.5e308`) so that no
    /// intermediate underflows or overflows unless `local`'s slope itself does.
    pub(crate) fn through(self, local: &dyn Fn(f64) -> f64) -> Wide {
        if self.m == 0.0 || !self.m.is_finite() {
            return Wide::new(local(self.m));
        }
        let y = Wide::new(local(self.m * 0.5));
        if y.m == 0.0 || !y.m.is_finite() {
            return y;
        }
        Wide {
            m: y.m,
            e: y.e + self.e + 1,
        }
    }

    /// The sum of two magnitudes.
    pub(crate) fn add(self, other: Wide) -> Wide {
        if self.m == 0.0 {
            return other;
        }
        if other.m == 0.0 {
            return self;
        }
        if !self.m.is_finite() || !other.m.is_finite() {
            return Wide::new(self.m + other.m);
        }
        let (big, small) = if self.e >= other.e {
            (self, other)
        } else {
            (other, self)
        };
        // The smaller term at the larger one's exponent: below 2⁻¹⁰⁰ of it, it does not
        // change the sum's f64 significand.
        let gap = (small.e - big.e).max(-100) as i32;
        let sum = Wide::new(big.m + small.m * 2f64.powi(gap));
        Wide {
            m: sum.m,
            e: sum.e + big.e,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Wide;

    #[test]
    fn magnitudes_round_trip_through_the_whole_f64_range() {
        for v in [
            1.0,
            3.5,
            1e-300,
            5e-324,
            2.2e-308,
            1.7e308,
            0.0,
            f64::INFINITY,
        ] {
            assert_eq!(Wide::new(v).to_f64(), v, "{v}");
            assert_eq!(Wide::new(-v).to_f64(), v, "{v}");
        }
        assert!(Wide::new(f64::NAN).to_f64().is_nan());
    }

    #[test]
    fn a_product_below_the_subnormals_keeps_its_digits() {
        // 1e-200 through ×1e-200 then ×1e300: 1e-100, where f64 flushes the middle to 0
        let tiny = Wide::new(1e-200).through(&|t| t * 1e-200);
        assert_eq!(tiny.to_f64(), 0.0);
        let back = tiny.through(&|t| t * 1e300).to_f64();
        assert!((back - 1e-100).abs() < 1e-14 * 1e-100, "{back}");
        // a slope near the largest f64 on a magnitude below 1 (from a review: evaluated at
        // the significand in [1, 2), it overflowed)
        let steep = Wide::new(0.75).through(&|t| t * 1.5e308).to_f64();
        assert_eq!(steep, 0.75 * 1.5e308);
        // and above the overflow
        let huge = Wide::new(1e200).through(&|t| t * 1e200);
        assert_eq!(huge.to_f64(), f64::INFINITY);
        assert!((huge.through(&|t| t * 1e-300).to_f64() - 1e100).abs() < 1e-14 * 1e100);
    }

    #[test]
    fn a_floor_survives_a_node_that_shrinks_then_grows_it() {
        // The derivative floor's values start at the subnormal spacing: 2⁻¹⁰⁷⁴·1e-10 flushes
        // to 0 before ·1e300 would lift it to ≈ 4.9e-34 (found by the `program` fuzz target:
        // a floor 2⁻¹⁰⁷⁴ through ∂(Bᴰ)/∂D ≈ 1e242 came out 0, its product 1e-81).
        let spacing = f64::from_bits(1);
        let local = |t: f64| t * 1e-10 * 1e300;
        assert_eq!(local(spacing), 0.0);
        let lifted = Wide::new(spacing).through(&local).to_f64();
        assert!((lifted - 4.940656458412465e-34).abs() < 1e-15 * 4.94e-34);
        // a magnitude of 1 or above, and 0, go through as the plain product
        assert_eq!(Wide::new(3.0).through(&local).to_f64(), local(3.0));
        assert_eq!(Wide::new(0.0).through(&local).to_f64(), 0.0);
        // a slope near the largest f64 on a magnitude below 1 does not overflow
        let steep = |t: f64| t * 1.5e308;
        assert_eq!(Wide::new(0.3).through(&steep).to_f64(), 0.3 * 1.5e308);
    }

    #[test]
    fn sums_align_their_exponents() {
        let sum = Wide::new(3.0).add(Wide::new(0.25)).to_f64();
        assert_eq!(sum, 3.25);
        let far = Wide::new(1e300).through(&|t| t * 1e300);
        assert_eq!(far.add(Wide::new(1.0)), far);
        assert_eq!(Wide::ZERO.add(Wide::new(2.0)).to_f64(), 2.0);
        let tiny = Wide::new(1e-200).through(&|t| t * 1e-200);
        let doubled = tiny.add(tiny).through(&|t| t * 1e300).to_f64();
        assert!((doubled - 2e-100).abs() < 1e-14 * 2e-100);
    }
}
