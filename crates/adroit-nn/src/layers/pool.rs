//! [`Pool2d`] ([`MaxPool2d`], [`AvgPool2d`]): each channel's windows reduced to one value.

use super::window::{Geometry, Window2d};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use core::marker::PhantomData;
use nalgebra::DMatrix;

/// How a [`Pool2d`] reduces a window: [`Max`] or [`Mean`]. Sealed: the two are the layers
/// PyTorch and Flux have.
pub trait PoolReduction:
    sealed::Sealed + Copy + core::fmt::Debug + Eq + Send + Sync + 'static
{
    /// The layer's name in messages (`"MaxPool2d"`).
    const NAME: &'static str;

    /// The sequence layer's name in messages (`"MaxPool1d"`).
    const SEQUENCE_NAME: &'static str;

    /// The whole-sequence layer's name in messages (`"GlobalMaxPool1d"`).
    const GLOBAL_NAME: &'static str;

    /// Whether the window may be dilated (PyTorch's `MaxPool2d` may, its `AvgPool2d` not).
    const DILATES: bool;

    /// The padding's value: `−∞` for a maximum, `0` for a mean.
    fn fill<T: MatScalar>() -> T;

    /// Each column's reduction, `taps × n` to `1 × n`.
    fn reduce<T: MatScalar>(windows: MatVar<T>) -> MatVar<T>;

    /// The factor turning [`reduce`](Self::reduce) over `steps` entries, all but `real` of
    /// them [`fill`](Self::fill), into the reduction over the `real` ones (for
    /// [`GlobalPool1d`](crate::GlobalPool1d)'s masking): `steps/real` for a mean (0 for no
    /// real entry), 1 for a maximum (a line without a real entry is `−∞`: the caller
    /// replaces it).
    fn over_real_steps<T: MatScalar>(steps: usize, real: usize) -> T;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::Max {}
    impl Sealed for super::Mean {}
}

/// A window's maximum, padding counted as `−∞` ([`MaxPool2d`], [`MaxPool1d`](crate::MaxPool1d)).
///
/// Gradient at ties: the entries tied for a window's maximum share its cotangent equally
/// ([`MatVar::max_along`]'s convention, JAX's for `max`); PyTorch gives all of it to the first
/// of them. Both are subgradients; they differ only at exact ties (e.g. after a ReLU's zeros).
/// A window whose real entries are all `−∞` ties with its padding too, which then takes its
/// shares of the cotangent (lost: the real entries get less than all of it, where PyTorch
/// gives all of it to the first); the output there is `−∞`, so a finite loss of it (after a
/// ReLU, a sigmoid) sends it a zero cotangent anyway.
///
/// # Example
/// ```
/// use adroit_nn::{Max, PoolReduction};
/// assert_eq!(Max::NAME, "MaxPool2d");
/// assert_eq!(Max::fill::<f64>(), f64::NEG_INFINITY);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Max;

impl PoolReduction for Max {
    const NAME: &'static str = "MaxPool2d";
    const SEQUENCE_NAME: &'static str = "MaxPool1d";
    const GLOBAL_NAME: &'static str = "GlobalMaxPool1d";
    const DILATES: bool = true;

    fn fill<T: MatScalar>() -> T {
        T::neg_infinity()
    }

    fn reduce<T: MatScalar>(windows: MatVar<T>) -> MatVar<T> {
        windows.max_along(Along::Rows)
    }

    fn over_real_steps<T: MatScalar>(_: usize, _: usize) -> T {
        T::one()
    }
}

/// A window's mean, padding counted as zeros and always divided by `kh·kw` (PyTorch's
/// default `count_include_pad=True`, Flux's `MeanPool`) ([`AvgPool2d`],
/// [`AvgPool1d`](crate::AvgPool1d)).
///
/// # Example
/// ```
/// use adroit_nn::{Mean, PoolReduction};
/// assert_eq!(Mean::NAME, "AvgPool2d");
/// assert_eq!(Mean::fill::<f64>(), 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Mean;

impl PoolReduction for Mean {
    const NAME: &'static str = "AvgPool2d";
    const SEQUENCE_NAME: &'static str = "AvgPool1d";
    const GLOBAL_NAME: &'static str = "GlobalAvgPool1d";
    const DILATES: bool = false;

    fn fill<T: MatScalar>() -> T {
        T::zero()
    }

    fn reduce<T: MatScalar>(windows: MatVar<T>) -> MatVar<T> {
        windows.mean_along(Along::Rows)
    }

    fn over_real_steps<T: MatScalar>(steps: usize, real: usize) -> T {
        match (T::from_usize(steps), T::from_usize(real)) {
            (Some(s), Some(r)) if real > 0 => s / r,
            _ => T::zero(),
        }
    }
}

/// Each channel's windows reduced to one value by `R`: [`MaxPool2d`] or [`AvgPool2d`] (floor
/// rounding of the output size, as PyTorch's default and Flux's).
///
/// Shapes: `x` is `(channels·height·width) × batch` and the output `(channels·out_height·
/// out_width) × batch`, both in [`Conv2d`](crate::Conv2d)'s pixel order. No parameters.
///
/// Global pooling (Flux's `GlobalMaxPool`/`GlobalMeanPool`, PyTorch's `AdaptiveAvgPool2d(1)`)
/// is a window of the whole image, `Window2d::pool((height, width))`: one value per channel.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{AvgPool2d, Layer, MaxPool2d, Window2d};
/// // One 2 × 4 image, 2 × 2 windows: each half's maximum and mean.
/// let image = dmatrix![1.0; 5.0; 2.0; 0.0; 3.0; 4.0; 8.0; 6.0]; // rows [1 5 2 0], [3 4 8 6]
/// let max = MaxPool2d::new((1, 2, 4), Window2d::pool((2, 2))).unwrap();
/// assert_eq!(Layer::<f64>::predict(&max, &image).unwrap(), dmatrix![5.0; 8.0]);
/// let avg = AvgPool2d::new((1, 2, 4), Window2d::pool((2, 2))).unwrap();
/// assert_eq!(Layer::<f64>::predict(&avg, &image).unwrap(), dmatrix![3.25; 4.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool2d<R> {
    geometry: Geometry,
    reduction: PhantomData<R>,
}

/// Max pooling: PyTorch's `MaxPool2d`, Flux's `MaxPool` (see [`Max`] for ties).
pub type MaxPool2d = Pool2d<Max>;

/// Average pooling: PyTorch's `AvgPool2d`, Flux's `MeanPool` (see [`Mean`]).
pub type AvgPool2d = Pool2d<Mean>;

impl<R: PoolReduction> Pool2d<R> {
    /// Pooling over `input = (channels, height, width)` images with `window`
    /// ([`Window2d::pool`] for PyTorch's default stride).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` is 0, the window does not fit the
    /// images, the sizes per image [exceed what an allocation holds](crate#sizes-and-memory), the padding is more than half the kernel
    /// (PyTorch's rule), or an
    /// [`AvgPool2d`]'s window is dilated (PyTorch's has no dilation). A dilated max pool's
    /// window may still lie on the padding alone (a 2 × 2 window of dilation 2 padded by 1
    /// over a 1 × 1 image): its maximum is then `−∞`, with no gradient.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{MaxPool2d, NnError, Window2d};
    /// let pool = MaxPool2d::new((8, 28, 28), Window2d::pool((2, 2))).unwrap();
    /// assert_eq!(pool.output_shape(), (8, 14, 14));
    /// let bad = MaxPool2d::new((8, 28, 28), Window2d::pool((2, 2)).padding((2, 2)));
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(input: (usize, usize, usize), window: Window2d) -> Result<Self, NnError> {
        let geometry = Geometry::new(R::NAME, input, window)?;
        let (kernel, padding) = (window.kernel, window.padding);
        if padding.0 > kernel.0 / 2 || padding.1 > kernel.1 / 2 {
            return Err(NnError::InvalidConfig {
                name: R::NAME,
                reason: format!(
                    "the padding {padding:?} must be at most half the kernel {kernel:?} (as in \
                     PyTorch)"
                ),
            });
        }
        if !R::DILATES && window.dilation != (1, 1) {
            return Err(NnError::InvalidConfig {
                name: R::NAME,
                reason: format!(
                    "the dilation {:?} must be (1, 1) (PyTorch's AvgPool2d has none)",
                    window.dilation
                ),
            });
        }
        Ok(Self {
            geometry,
            reduction: PhantomData,
        })
    }

    /// The input images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{MaxPool2d, Window2d};
    /// let pool = MaxPool2d::new((3, 7, 7), Window2d::pool((2, 2))).unwrap();
    /// assert_eq!(pool.input_shape(), (3, 7, 7));
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.geometry.input
    }

    /// The output images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{AvgPool2d, MaxPool2d, Window2d};
    /// let pool = MaxPool2d::new((3, 7, 7), Window2d::pool((2, 2))).unwrap();
    /// assert_eq!(pool.output_shape(), (3, 3, 3)); // ⌊7/2⌋
    /// let pool = AvgPool2d::new((3, 7, 7), Window2d::new((3, 3)).padding((1, 1))).unwrap();
    /// assert_eq!(pool.output_shape(), (3, 7, 7));
    /// ```
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (oh, ow) = self.geometry.output;
        (self.geometry.input.0, oh, ow)
    }
}

impl<T: MatScalar, R: PoolReduction> Layer<T> for Pool2d<R> {
    /// Each window's maximum or mean.
    ///
    /// # Panics
    /// If `x` does not have `channels·height·width` rows ([`Layer::predict`] and
    /// [`train`](crate::train()) report it as [`NnError::ShapeMismatch`] first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        let g = &self.geometry;
        g.assert_input_rows(R::NAME, x.nrows());
        let batch = x.ncols();
        let outputs = g.input.0 * g.positions();
        let windows = x
            .take_rows_padded(&g.windows(), R::fill())
            .reshape(g.taps(), outputs * batch);
        R::reduce(windows).reshape(outputs, batch)
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn input_size(&self) -> Option<usize> {
        Some(self.geometry.input_size())
    }

    fn output_size(&self) -> Option<usize> {
        Some(self.geometry.input.0 * self.geometry.positions())
    }

    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        Some(self.input_shape())
    }

    fn output_image_shape(&self) -> Option<(usize, usize, usize)> {
        Some(self.output_shape())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// No parameters: the same layer for every number type.
impl<R: PoolReduction> Cast for Pool2d<R> {
    type Output<U: MatScalar> = Pool2d<R>;

    fn cast<U: MatScalar>(&self) -> Result<Pool2d<R>, NnError> {
        Ok(*self)
    }
}
