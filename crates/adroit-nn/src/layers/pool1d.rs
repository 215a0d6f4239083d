//! [`Pool1d`] ([`MaxPool1d`], [`AvgPool1d`]): each channel's windows along a sequence reduced
//! to one value.

use super::padding::{check_step_features, steps_and_batch, whole_steps};
use super::pool::{Max, Mean, PoolReduction};
use super::window1d::{Padding1d, Window1d};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use core::marker::PhantomData;
use nalgebra::DMatrix;

/// Each channel's windows of steps reduced by `R`: [`MaxPool1d`] or [`AvgPool1d`] (PyTorch's
/// `MaxPool1d`/`AvgPool1d` with floor rounding, Keras's `MaxPooling1D`/`AveragePooling1D`),
/// over sequences in the layout of [`Conv1d`](crate::Conv1d) and the recurrent layers.
///
/// Shapes: `x` is `(channels·steps) × batch`, rows `t·channels .. (t + 1)·channels` holding
/// step `t`, at least one step; the output `(channels·out_steps) × batch` in the same layout,
/// `out_steps = ⌊(steps + 2·padding − dilation·(kernel − 1) − 1)/stride⌋ + 1`. No parameters.
/// Padding counts as `−∞` for a maximum and as zeros for a mean (always divided by `kernel`,
/// PyTorch's `count_include_pad=True`); see [`Max`] for ties. Steps of padded sequences
/// (other layers' [`masking`](Layer::mask_value)) are pooled as any other: put a pool before
/// padding matters, or mask after it.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{AvgPool1d, Layer, MaxPool1d};
/// // One sequence of 4 steps of 2 features: (1, 8), (5, 2), (3, 0), (4, 6).
/// let x = dmatrix![1.0; 8.0; 5.0; 2.0; 3.0; 0.0; 4.0; 6.0];
/// let max = MaxPool1d::new(2, 2).unwrap(); // windows of 2 steps, stride 2
/// assert_eq!(Layer::<f64>::predict(&max, &x).unwrap(), dmatrix![5.0; 8.0; 4.0; 6.0]);
/// let avg = AvgPool1d::new(2, 2).unwrap();
/// assert_eq!(Layer::<f64>::predict(&avg, &x).unwrap(), dmatrix![3.0; 5.0; 3.5; 3.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pool1d<R> {
    channels: usize,
    window: Window1d,
    reduction: PhantomData<R>,
}

/// Max pooling over sequences: PyTorch's `MaxPool1d`, Keras's `MaxPooling1D`.
pub type MaxPool1d = Pool1d<Max>;

/// Average pooling over sequences: PyTorch's `AvgPool1d`, Keras's `AveragePooling1D`.
pub type AvgPool1d = Pool1d<Mean>;

impl<R: PoolReduction> Pool1d<R> {
    /// Pooling over steps of `channels` features with windows of `kernel` steps, stride
    /// `kernel` (PyTorch's default), no padding.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `channels` or `kernel` is 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{MaxPool1d, NnError};
    /// let pool = MaxPool1d::new(16, 2).unwrap();
    /// assert_eq!((pool.channels(), pool.kernel(), pool.output_steps(9)), (16, 2, Some(4)));
    /// assert!(matches!(MaxPool1d::new(16, 0), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(channels: usize, kernel: usize) -> Result<Self, NnError> {
        let pool = Self {
            channels,
            window: Window1d::new(kernel, kernel),
            reduction: PhantomData,
        };
        pool.check()?;
        Ok(pool)
    }

    /// The same pool moving its window `stride` steps at a time (0 is refused by
    /// [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::MaxPool1d;
    /// assert_eq!(MaxPool1d::new(1, 3).unwrap().stride(1).output_steps(5), Some(3));
    /// ```
    pub fn stride(mut self, stride: usize) -> Self {
        self.window.stride = stride;
        self
    }

    /// The same pool with `padding` steps before the first step and after the last (at most
    /// half the kernel, as PyTorch's pools; else [`check_params`](Layer::check_params)
    /// refuses it).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::AvgPool1d;
    /// let pool = AvgPool1d::new(1, 3).unwrap().stride(1).padding(1);
    /// assert_eq!(pool.output_steps(5), Some(5));
    /// ```
    pub fn padding(mut self, padding: usize) -> Self {
        self.window.padding = Padding1d::Sides(padding, padding);
        self
    }

    /// The same pool reading every `dilation`-th step ([`MaxPool1d`] only, as PyTorch;
    /// [`check_params`](Layer::check_params) refuses it for an [`AvgPool1d`], and 0). A
    /// dilated window may then lie on the padding alone (kernel 2, dilation 3, padding 1 over
    /// 2 steps): its maximum is `−∞`, with no gradient, as in PyTorch.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::MaxPool1d;
    /// let pool = MaxPool1d::new(1, 2).unwrap().stride(1).dilation(3);
    /// assert_eq!(pool.output_steps(6), Some(3)); // windows of steps (0, 3), (1, 4), (2, 5)
    /// ```
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.window.dilation = dilation;
        self
    }

    /// The features of a step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::AvgPool1d;
    /// assert_eq!(AvgPool1d::new(7, 2).unwrap().channels(), 7);
    /// ```
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The steps of a window (before dilation).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::AvgPool1d;
    /// assert_eq!(AvgPool1d::new(7, 2).unwrap().kernel(), 2);
    /// ```
    pub fn kernel(&self) -> usize {
        self.window.kernel
    }

    /// The output steps for `steps` input steps; `None` for no steps or if the padded
    /// sequence is shorter than a window (PyTorch's errors), the stride is 0 or the sizes
    /// overflow.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::MaxPool1d;
    /// let pool = MaxPool1d::new(1, 4).unwrap();
    /// assert_eq!((pool.output_steps(9), pool.output_steps(3)), (Some(2), None));
    /// ```
    pub fn output_steps(&self, steps: usize) -> Option<usize> {
        self.window.output_steps(steps)
    }

    /// Checks the sizes, the window, the padding (at most half the kernel) and the dilation
    /// (1 for a mean).
    fn check(&self) -> Result<(), NnError> {
        let w = &self.window;
        check_step_features(R::SEQUENCE_NAME, self.channels)?;
        w.check(R::SEQUENCE_NAME)?;
        let reason = if w.padding_steps().0 > w.kernel / 2 {
            format!(
                "the padding {} must be at most half the kernel {} (as in PyTorch)",
                w.padding_steps().0,
                w.kernel
            )
        } else if !R::DILATES && w.dilation != 1 {
            format!(
                "the dilation {} must be 1 (PyTorch's average pool has none)",
                w.dilation
            )
        } else {
            return Ok(());
        };
        Err(NnError::InvalidConfig {
            name: R::SEQUENCE_NAME,
            reason,
        })
    }
}

impl<T: MatScalar, R: PoolReduction> Layer<T> for Pool1d<R> {
    /// Each window's maximum or mean, channel by channel.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `channels` features, the padded sequence is
    /// shorter than a window, or the window is invalid ([`Layer::predict`] and the other entry
    /// points report these as errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check() {
            panic!("{}: {e}", R::SEQUENCE_NAME);
        }
        let (steps, batch) = steps_and_batch(R::SEQUENCE_NAME, &x, self.channels);
        let positions = (self.window.positions(steps, self.channels))
            .unwrap_or_else(|reason| panic!("{}: {reason}", R::SEQUENCE_NAME));
        let outputs = self.channels * positions;
        if batch == 0 {
            return MatVar::constant(DMatrix::zeros(outputs, 0));
        }
        // Column (b, p, c): sequence b's window p of channel c, its taps down the rows.
        let taps = self.window.taps(steps, positions, self.channels);
        let windows = x
            .take_rows_padded(&taps, R::fill())
            .reshape(self.window.kernel, outputs * batch);
        R::reduce(windows).reshape(outputs, batch)
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    /// `channels·out_steps`, if `input` rows are whole steps of `channels` features and
    /// enough of them for one window.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not, or the windows' taps are more than an
    /// allocation holds ([sizes and memory](crate#sizes-and-memory)).
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        let name = R::SEQUENCE_NAME;
        self.check()?;
        whole_steps(name, input, self.channels)?;
        let steps = input / self.channels;
        // The outputs, channels·positions, are at most the taps.
        let positions = (self.window.positions(steps, self.channels))
            .map_err(|reason| NnError::InvalidConfig { name, reason })?;
        Ok(Some(positions * self.channels))
    }

    /// Kernel, stride and dilation at least 1, the padding at most half the kernel, no
    /// dilation for a mean.
    fn check_params(&self) -> Result<(), NnError> {
        self.check()
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// No parameters: the same layer for every number type.
impl<R: PoolReduction> Cast for Pool1d<R> {
    type Output<U: MatScalar> = Pool1d<R>;

    fn cast<U: MatScalar>(&self) -> Result<Pool1d<R>, NnError> {
        Ok(*self)
    }
}
