//! [`Dropout`]: random zeroing during training.

use crate::{Cast, CastSlot, Context, Layer, Mode, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// In [`Mode::Train`], zeroes each entry with probability `p` and scales the others by
/// `1/(1 − p)` (inverted dropout, as Flux and PyTorch); in [`Mode::Eval`], the identity
/// (Srivastava et al. 2014). The mask comes from the context's seeded RNG: one 32-bit draw per
/// entry, dropped when below `p·2³²` rounded to the nearest integer (so `p` is realised within
/// 2⁻³³). Input and output:
/// features × batch (any shape: each entry is dropped independently, as Flux's default
/// `dims = :`).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// use adroit_nn::{Context, Dropout, Layer, Mode};
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// let layer = Dropout::new(0.5).unwrap();
/// let x = nalgebra::DMatrix::from_element(4, 4, 1.0);
/// let (y, _) = matrix::pullback(|_| layer.forward(MatVar::constant(x.clone()), &mut Context::new(Mode::Eval, 0)), &[]);
/// assert_eq!(y, x);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dropout {
    p: f64,
}

impl Dropout {
    /// Dropout with probability `p`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] unless `0 ≤ p < 1 − 2⁻³³` (at `p = 1`, and at any `p` whose
    /// threshold `p·2³²` rounds to `2³²`, every entry would be dropped).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Dropout, NnError};
    /// assert!(Dropout::new(0.0).is_ok()); // keeps everything
    /// assert!(Dropout::new(0.5).is_ok());
    /// assert!(matches!(Dropout::new(1.0), Err(NnError::InvalidConfig { .. }))); // would drop everything
    /// assert!(Dropout::new(-0.1).is_err() && Dropout::new(f64::NAN).is_err());
    /// assert!(Dropout::new(1.0 - 1e-12).is_err()); // rounds to "drop everything" too
    /// assert!(Dropout::new(1.0 - 1e-9).is_ok());
    /// ```
    pub fn new(p: f64) -> Result<Self, NnError> {
        if (0.0..1.0).contains(&p) && threshold(p) < 1 << 32 {
            Ok(Self { p })
        } else {
            Err(NnError::InvalidConfig {
                name: "dropout probability",
                reason: format!("{p} is not in [0, 1 − 2⁻³³)"),
            })
        }
    }

    /// The drop probability.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Dropout;
    /// assert_eq!(Dropout::new(0.25).unwrap().p(), 0.25);
    /// ```
    pub fn p(&self) -> f64 {
        self.p
    }
}

/// The draws below which an entry is dropped: `p·2³²` rounded to the nearest integer, so the
/// drop probability is `p` within 2⁻³³.
fn threshold(p: f64) -> u64 {
    (p * 4_294_967_296.0).round() as u64
}

impl<T: MatScalar> Layer<T> for Dropout {
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if ctx.mode() == Mode::Eval || self.p == 0.0 {
            return x;
        }
        let keep = T::from_f64(1.0 / (1.0 - self.p)).unwrap_or_else(T::one);
        let (r, c) = x.shape();
        // One 32-bit draw per entry, generated in blocks.
        let threshold = threshold(self.p);
        let mut draws = vec![0u32; r * c];
        ctx.rng().fill(&mut draws[..]);
        let mask = DMatrix::from_iterator(
            r,
            c,
            draws.iter().map(|&u| {
                if u64::from(u) < threshold {
                    T::zero()
                } else {
                    keep
                }
            }),
        );
        x.component_mul(MatVar::constant(mask))
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn visit_params<'a>(&'a self, _: &mut dyn FnMut(&'a DMatrix<T>)) {}

    fn preserves_size(&self) -> bool {
        true
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// A dropout layer holds no numbers of the element type: it is its own cast.
impl Cast for Dropout {
    type Output<U: MatScalar> = Dropout;

    fn cast<U: MatScalar>(&self) -> Result<Dropout, NnError> {
        Ok(*self)
    }
}
