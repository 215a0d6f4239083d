//! [`Conv1d`]: a one-dimensional (temporal) convolution over sequences.

use super::conv::{groups_fitting, with_groups_hint};
use super::padding::{
    check_mask_value, fill_padding, real_steps, replace_padding, steps_and_batch, whole_steps,
};
use super::weight_bias;
use super::window::gather_fits;
use super::window1d::{Padding1d, Window1d};
use crate::cast::cast_matrix;
use crate::error::check_shape;
use crate::{Activation, Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// `y = σ(W ⋆ x + b)` along the steps of sequences: a temporal convolution of `in_channels`
/// features per step to `out_channels`, as a cross-correlation (no kernel flip) as PyTorch's
/// `nn.Conv1d` and Keras's `Conv1D` compute it, with stride, zero padding (on both sides,
/// PyTorch's `"same"`, or causal as Keras's and WaveNet's, van den Oord et al. 2016),
/// dilation and groups.
///
/// Shapes: `x` is `(in_channels·steps) × batch`, rows `t·in_channels .. (t + 1)·in_channels`
/// holding step `t` — the sequence layout of [`Lstm`](crate::Lstm) and the other sequence
/// layers (Keras's channels-last `(batch, steps, channels)`; PyTorch's `(N, C, L)` tensor as
/// `x.permute(0, 2, 1).reshape(N, -1).T`) —, at least one step; the output
/// `(out_channels·out_steps) × batch` in the same layout, with
/// `out_steps = ⌊(steps + before + after − dilation·(kernel − 1) − 1)/stride⌋ + 1`
/// ([`Conv1d::output_steps`]). `weight` is `out_channels × (in_channels/groups·kernel)`, row
/// `o` holding output channel `o`'s kernel in `(channel, tap)` order: PyTorch's
/// `weight.reshape(out_channels, -1)` of its `(out, in, kernel)` tensor; `bias` is
/// `out_channels × 1`.
///
/// A convolution over images of channels first is [`Conv2d`](crate::Conv2d) (for PyTorch's
/// `(N, C, L)` layout as it is: `(channels, 1, length)` images and a `(1, k)` window).
///
/// With [`masking`](Self::masking), padding steps (every feature equal to the mask value, see
/// [`Layer::mask_value`]) are read as zeros — as the convolution's own zero padding — and
/// give the mask value at every output feature, so a sequence padded at its end or its start
/// gives on its real steps what it gives alone. Padding in the middle is not skipped: windows
/// across it read zeros in place of the steps beyond it (unlike the recurrent layers'
/// masking). It takes an output step per input step: stride 1 and padding of
/// `dilation·(kernel − 1)` steps in all ([`same`](Self::same), [`causal`](Self::causal) or
/// sides adding up to it). With a ReLU and mask value 0, a real step whose outputs are all 0
/// becomes padding for the next masked layer (see [`Layer::mask_value`]).
///
/// Each forward pass gathers every window into one matrix (im2col, through
/// [`MatVar::take_rows_padded`]) and multiplies it by `weight` once for the whole batch.
///
/// # Examples
/// A causal stack over sequences of 3 features, then an LSTM:
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Conv1d, Layer, Lstm};
/// let mut rng = StdRng::seed_from_u64(0);
/// let model = Chain::<f64>::new()
///     .push(Conv1d::new(3, 8, 2, Activation::Relu, &mut rng).unwrap().causal())
///     .push(Conv1d::new(8, 8, 2, Activation::Relu, &mut rng).unwrap().dilation(2).causal())
///     .push(Lstm::new(8, 4, &mut rng));
/// let x = DMatrix::from_fn(3 * 10, 5, |r, c| (r as f64 - c as f64).sin()); // 10 steps, 5 sequences
/// assert_eq!(model.predict(&x).unwrap().shape(), (4 * 10, 5));
/// ```
///
/// Strides and shapes:
/// ```
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Conv1d};
/// let conv = Conv1d::<f32>::new(2, 4, 3, Activation::Identity, &mut StdRng::seed_from_u64(0))
///     .unwrap()
///     .stride(2)
///     .padding(1);
/// assert_eq!(conv.weight.shape(), (4, 2 * 3));
/// assert_eq!(conv.output_steps(9), Some(5)); // ⌊(9 + 2 − 2 − 1)/2⌋ + 1
/// assert_eq!(conv.output_steps(1), Some(1)); // one step between two padding steps
/// assert_eq!(conv.output_steps(0), None); // no steps (refused, as by PyTorch)
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv1d<T> {
    /// `out_channels × (in_channels/groups·kernel)`.
    pub weight: DMatrix<T>,
    /// `out_channels × 1`, or `None` for a layer without bias.
    pub bias: Option<DMatrix<T>>,
    /// The activation `σ`.
    pub activation: Activation,
    /// Steps whose every feature equals this value are padding ([`Conv1d::masking`]);
    /// `None`: every step is real.
    pub mask_value: Option<f64>,
    in_channels: usize,
    window: Window1d,
    groups: usize,
}

impl<T: MatScalar> Conv1d<T> {
    /// A layer from `in_channels` features per step to `out_channels` with kernels of
    /// `kernel` steps (stride 1, no padding, no dilation: set them with the builder methods),
    /// Glorot-uniform weights (seeded by `rng`) and zero bias: Flux's `Conv` defaults,
    /// entries uniform in `±√(6/((in_channels + out_channels)·kernel))`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a size is 0 or the activation's parameter is not finite.
    ///
    /// # Panics
    /// If the weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d, NnError};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let conv = Conv1d::<f64>::new(3, 4, 5, Activation::Tanh, &mut rng).unwrap();
    /// assert_eq!(conv.weight.shape(), (4, 3 * 5));
    /// assert!(conv.weight.amax() <= (6.0f64 / ((3.0 + 4.0) * 5.0)).sqrt());
    /// let bad = Conv1d::<f64>::new(3, 4, 0, Activation::Tanh, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    #[track_caller]
    pub fn new(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        Self::grouped(in_channels, out_channels, kernel, 1, activation, rng)
    }

    /// A grouped convolution (PyTorch's `Conv1d(…, groups=groups)`): the channels split into
    /// `groups` groups, each output group convolving only its own input group (`groups =
    /// in_channels`: depthwise). Glorot-uniform weights, bound `√(6/((in_channels/groups +
    /// out_channels)·kernel))`, and zero bias.
    ///
    /// # Errors
    /// As [`Conv1d::new`]; and [`NnError::InvalidConfig`] if `groups` is 0 or does not divide
    /// both channel counts.
    ///
    /// # Panics
    /// As [`Conv1d::new`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// // Depthwise: one kernel of 7 steps per channel.
    /// let depthwise = Conv1d::<f32>::grouped(16, 16, 7, 16, Activation::Identity, &mut rng)
    ///     .unwrap()
    ///     .same();
    /// assert_eq!((depthwise.weight.shape(), depthwise.groups()), ((16, 7), 16));
    /// assert!(Conv1d::<f32>::grouped(16, 16, 7, 3, Activation::Identity, &mut rng).is_err());
    /// ```
    #[track_caller]
    pub fn grouped(
        in_channels: usize,
        out_channels: usize,
        kernel: usize,
        groups: usize,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        check_sizes(in_channels, out_channels, kernel, groups)?;
        let patch = in_channels / groups * kernel;
        init::check_size::<T>("Conv1d", out_channels, patch);
        let fans = (in_channels / groups + out_channels) * kernel;
        let limit = (6.0 / fans as f64).sqrt();
        let weight = init::uniform(rng, out_channels, patch, limit);
        let bias = Some(DMatrix::zeros(out_channels, 1));
        Self::from_grouped_parts(in_channels, groups, kernel, weight, bias, activation)
    }

    /// A layer from given parameters (stride 1, no padding, no dilation): PyTorch's `Conv1d`
    /// weight `(out, in, kernel)` is `weight.reshape(out, -1)` here, built from its flat
    /// row-major buffer with `DMatrix::from_row_slice(out, in·kernel, &flat)`.
    ///
    /// # Errors
    /// As [`Conv1d::new`]; and [`NnError::ShapeMismatch`] if `weight` does not have
    /// `in_channels·kernel` columns or `bias` is not `weight.nrows() × 1`. A weight whose
    /// columns fit a grouped or depthwise convolution is refused here, with a message pointing
    /// to [`Conv1d::from_grouped_parts`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv1d, Layer};
    /// // A moving sum of two steps of one feature.
    /// let conv = Conv1d::from_parts(1, 2, dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    /// assert_eq!(conv.predict(&dmatrix![1.0; 2.0; 4.0]).unwrap(), dmatrix![3.0; 6.0]);
    /// // Two features per step: channel 1's current step minus channel 0's previous one.
    /// let conv = Conv1d::from_parts(2, 2, dmatrix![-1.0, 0.0, 0.0, 1.0], None,
    ///     Activation::Identity).unwrap();
    /// let x = dmatrix![1.0; 10.0; 2.0; 20.0; 3.0; 30.0]; // steps (1, 10), (2, 20), (3, 30)
    /// assert_eq!(conv.predict(&x).unwrap(), dmatrix![19.0; 28.0]);
    /// ```
    pub fn from_parts(
        in_channels: usize,
        kernel: usize,
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let groups = groups_fitting((in_channels, weight.nrows()), kernel, weight.ncols());
        Self::from_grouped_parts(in_channels, 1, kernel, weight, bias, activation)
            .map_err(|e| with_groups_hint(e, "Conv1d", groups))
    }

    /// A grouped convolution ([`Conv1d::grouped`]) from given parameters: PyTorch's weight of
    /// shape `(out, in/groups, kernel)` as `weight.reshape(out, -1)`.
    ///
    /// # Errors
    /// As [`Conv1d::from_parts`], the weight being `out_channels ×
    /// (in_channels/groups·kernel)`; and [`NnError::InvalidConfig`] if `groups` is 0 or does
    /// not divide both channel counts.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv1d, Layer};
    /// // Two channels in two groups, one tap: each output channel scales its own input.
    /// let conv = Conv1d::from_grouped_parts(2, 2, 1, dmatrix![10.0; 100.0], None,
    ///     Activation::Identity).unwrap();
    /// assert_eq!(conv.predict(&dmatrix![1.0; 2.0]).unwrap(), dmatrix![10.0; 200.0]);
    /// ```
    pub fn from_grouped_parts(
        in_channels: usize,
        groups: usize,
        kernel: usize,
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let layer = Self {
            weight,
            bias,
            activation,
            mask_value: None,
            in_channels,
            window: Window1d::new(kernel, 1),
            groups,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// The same layer moving its window `stride` steps at a time (PyTorch's `stride`; 0 is
    /// refused by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 2, Activation::Identity, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .stride(2);
    /// assert_eq!(conv.output_steps(8), Some(4));
    /// ```
    pub fn stride(mut self, stride: usize) -> Self {
        self.window.stride = stride;
        self
    }

    /// The same layer reading every `dilation`-th step (PyTorch's `dilation`: the kernel spans
    /// `dilation·(kernel − 1) + 1` steps; 0 is refused by [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 3, Activation::Identity, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .dilation(4);
    /// assert_eq!(conv.output_steps(10), Some(2)); // a span of 9 steps
    /// ```
    pub fn dilation(mut self, dilation: usize) -> Self {
        self.window.dilation = dilation;
        self
    }

    /// The same layer with `padding` zero steps before the first step and after the last
    /// (PyTorch's integer `padding`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 5, Activation::Identity, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .padding(2);
    /// assert_eq!(conv.output_steps(7), Some(7));
    /// ```
    pub fn padding(self, padding: usize) -> Self {
        self.padding_sides(padding, padding)
    }

    /// The same layer with `before` zero steps before the first step and `after` after the
    /// last (PyTorch's `F.pad(x, (before, after))` then the convolution).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 3, Activation::Identity, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .padding_sides(0, 2);
    /// assert_eq!(conv.output_steps(4), Some(4));
    /// ```
    pub fn padding_sides(mut self, before: usize, after: usize) -> Self {
        self.window.padding = Padding1d::Sides(before, after);
        self
    }

    /// The same layer padded to give as many steps as it reads (PyTorch's `padding="same"`,
    /// stride 1 only): `dilation·(kernel − 1)` zero steps, `⌊·/2⌋` before and the rest after
    /// (the extra one after when `dilation·(kernel − 1)` is odd — an even kernel with an odd
    /// dilation —, as PyTorch), whatever the dilation set later.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 4, Activation::Identity, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .same()
    ///     .dilation(2);
    /// assert_eq!((conv.padding_steps(), conv.output_steps(9)), ((3, 3), Some(9)));
    /// ```
    pub fn same(mut self) -> Self {
        self.window.padding = Padding1d::Same;
        self
    }

    /// The same layer padded before the first step only, by `dilation·(kernel − 1)` zero
    /// steps (Keras's `padding="causal"`): output step `t` reads input steps up to `t`, never
    /// later ones, and there are as many output steps as input steps (with stride 1).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv1d, Layer};
    /// // The previous step plus the current one, the first step's predecessor a zero.
    /// let conv = Conv1d::from_parts(1, 2, dmatrix![1.0, 1.0], None, Activation::Identity)
    ///     .unwrap()
    ///     .causal();
    /// assert_eq!(conv.predict(&dmatrix![1.0; 2.0; 4.0]).unwrap(), dmatrix![1.0; 3.0; 6.0]);
    /// ```
    pub fn causal(mut self) -> Self {
        self.window.padding = Padding1d::Causal;
        self
    }

    /// The same layer without a bias (PyTorch's `bias=False`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(2, 2, 3, Activation::Relu, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .without_bias();
    /// assert!(conv.bias.is_none());
    /// ```
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// The same layer reading padding as zeros: steps whose every feature equals `mask_value`
    /// are read as zeros and give `mask_value` at every output feature (see the type's docs
    /// for where padding may sit; stride 1 and padding of `dilation·(kernel − 1)` steps in
    /// all, as [`same`](Self::same) and [`causal`](Self::causal) give, else
    /// [`check_params`](Layer::check_params) refuses it, as a value that is not finite).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv1d, Layer};
    /// let conv = Conv1d::from_parts(1, 2, dmatrix![1.0, 1.0], None, Activation::Identity)
    ///     .unwrap()
    ///     .causal()
    ///     .masking(-1.0);
    /// // Sequences (1, 2, 4) and (5, 6) padded with −1 at the end.
    /// let y = conv.predict(&dmatrix![1.0, 5.0; 2.0, 6.0; 4.0, -1.0]).unwrap();
    /// assert_eq!(y, dmatrix![1.0, 5.0; 3.0, 11.0; 6.0, -1.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The features of an input step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(3, 5, 2, Activation::Relu, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!((conv.in_channels(), conv.out_channels(), conv.kernel()), (3, 5, 2));
    /// ```
    pub fn in_channels(&self) -> usize {
        self.in_channels
    }

    /// The features of an output step (the weight's rows).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(3, 5, 2, Activation::Relu, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(conv.out_channels(), 5);
    /// ```
    pub fn out_channels(&self) -> usize {
        self.weight.nrows()
    }

    /// The kernel's taps (steps read per window, before dilation).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(3, 5, 4, Activation::Relu, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(conv.kernel(), 4);
    /// ```
    pub fn kernel(&self) -> usize {
        self.window.kernel
    }

    /// The number of channel groups: 1 unless built by [`Conv1d::grouped`] or
    /// [`Conv1d::from_grouped_parts`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::grouped(4, 6, 3, 2, Activation::Relu, &mut StdRng::seed_from_u64(0))
    ///     .unwrap();
    /// assert_eq!((conv.groups(), conv.weight.shape()), (2, (6, 2 * 3)));
    /// ```
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The zero steps added `(before, after)` the sequence.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 3, Activation::Relu, &mut StdRng::seed_from_u64(0))
    ///     .unwrap()
    ///     .dilation(2)
    ///     .causal();
    /// assert_eq!(conv.padding_steps(), (4, 0));
    /// ```
    pub fn padding_steps(&self) -> (usize, usize) {
        self.window.padding_steps()
    }

    /// The output steps for `steps` input steps, `⌊(steps + before + after − span)/stride⌋ +
    /// 1` with `span = dilation·(kernel − 1) + 1`; `None` for no steps or if the padded
    /// sequence is shorter than the span (PyTorch's errors), the stride is 0 or the sizes
    /// overflow.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv1d};
    /// let conv = Conv1d::<f32>::new(1, 1, 3, Activation::Relu, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!((conv.output_steps(5), conv.output_steps(2)), (Some(3), None));
    /// ```
    pub fn output_steps(&self, steps: usize) -> Option<usize> {
        self.window.output_steps(steps)
    }
}

/// Checks that no size is 0 and that `groups` divides both channel counts (PyTorch's rule).
///
/// # Errors
/// [`NnError::InvalidConfig`] if not.
fn check_sizes(
    in_channels: usize,
    out_channels: usize,
    kernel: usize,
    groups: usize,
) -> Result<(), NnError> {
    let reason = if in_channels == 0 || out_channels == 0 || kernel == 0 {
        format!(
            "{in_channels} input channels, {out_channels} output channels and a kernel of \
             {kernel} steps (each at least 1)"
        )
    } else if groups == 0
        || !in_channels.is_multiple_of(groups)
        || !out_channels.is_multiple_of(groups)
    {
        format!(
            "{groups} groups for {in_channels} input and {out_channels} output channels (at \
             least one group, dividing both)"
        )
    } else {
        return Ok(());
    };
    Err(NnError::InvalidConfig {
        name: "Conv1d",
        reason,
    })
}

impl<T: MatScalar> Layer<T> for Conv1d<T> {
    /// `σ(W ⋆ x + b)` for `x`: `(in_channels·steps) × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `in_channels` features, the padded sequence is
    /// shorter than the kernel's span, or a parameter is invalid ([`Layer::predict`] and
    /// [`train`](crate::train()) report these as errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("Conv1d: {e}");
        }
        let channels = self.in_channels;
        let (steps, batch) = steps_and_batch("Conv1d", &x, channels);
        let positions = (self.window.positions(steps, channels))
            .unwrap_or_else(|reason| panic!("Conv1d: {reason}"));
        let (out_channels, patch) = self.weight.shape();
        if batch == 0 {
            return MatVar::constant(DMatrix::zeros(out_channels * positions, 0));
        }
        let real = real_steps(&x, channels, self.mask_value);
        // Padding steps read as zeros.
        let x = match &real {
            Some(real) => replace_padding(x, real, channels, T::zero()),
            None => x,
        };
        // Column b·positions + p: sequence b's window at output step p.
        let patches = x
            .take_rows_padded(&self.window.taps(steps, positions, channels), T::zero())
            .reshape(patch * self.groups, positions * batch);
        let weight = ctx.param(&self.weight);
        let bias = self.bias.as_ref().map(|b| ctx.param(b));
        let z = weight_bias::grouped_affine(weight, patches, bias, self.groups);
        // out_channels × (positions·batch), column by column, is the step-major layout.
        fill_padding(self.activation.apply(z), real.as_ref(), self.mask_value)
            .reshape(out_channels * positions, batch)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        weight_bias::visit(prefix, &self.weight, self.bias.as_ref(), f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        weight_bias::visit_mut(&mut self.weight, self.bias.as_mut(), f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        weight_bias::visit_params(&self.weight, self.bias.as_ref(), f);
    }

    /// `out_channels·out_steps`, if `input` rows are whole steps of `in_channels` features
    /// and enough of them for one window.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not, or the windows' taps or the outputs are
    /// more than an allocation holds ([sizes and memory](crate#sizes-and-memory)).
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.window.check("Conv1d")?;
        whole_steps("Conv1d input", input, self.in_channels)?;
        let steps = input / self.in_channels;
        let invalid = |reason| NnError::InvalidConfig {
            name: "Conv1d input",
            reason,
        };
        let positions = self
            .window
            .positions(steps, self.in_channels)
            .map_err(invalid)?;
        let out_channels = self.weight.nrows();
        positions
            .checked_mul(out_channels)
            .filter(|&n| gather_fits(n))
            .map(Some)
            .ok_or_else(|| {
                invalid(format!(
                    "{out_channels} output channels of {positions} steps are more outputs than \
                     an allocation holds"
                ))
            })
    }

    /// The value given to [`masking`](Conv1d::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// The weight must be `out_channels × (in_channels/groups·kernel)` with at least one row,
    /// as many as the groups divide, the bias, when there is one, `out_channels × 1`; stride
    /// and dilation at least 1, the span `dilation·(kernel − 1) + 1` within `usize`;
    /// [`same`](Conv1d::same) padding with stride 1 only (as
    /// PyTorch); the activation's parameter finite; a mask value finite, kept by `T`, with
    /// stride 1 and `same` or `causal` padding.
    fn check_params(&self) -> Result<(), NnError> {
        self.activation
            .check_parameter("Conv1d activation parameter")?;
        let out_channels = self.weight.nrows();
        let window = &self.window;
        check_sizes(self.in_channels, out_channels, window.kernel, self.groups)?;
        window.check("Conv1d")?;
        check_mask_value::<T>("Conv1d", self.mask_value)?;
        let (before, after) = window.padding_steps();
        if self.mask_value.is_some()
            && (window.stride != 1 || before.checked_add(after) != Some(window.span() - 1))
        {
            return Err(NnError::InvalidConfig {
                name: "Conv1d",
                reason: format!(
                    "masking with stride {} and {:?} padding steps (it takes stride 1 and \
                     dilation·(kernel − 1) = {} padding steps in all: same or causal padding)",
                    window.stride,
                    (before, after),
                    window.span() - 1
                ),
            });
        }
        check_shape(
            "Conv1d weight (out_channels × in_channels/groups·kernel)",
            (out_channels, self.in_channels / self.groups * window.kernel),
            self.weight.shape(),
        )?;
        match &self.bias {
            Some(b) => check_shape("Conv1d bias", (out_channels, 1), b.shape()),
            None => Ok(()),
        }
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weight and bias converted entry by entry (see [`Cast`]); the rest is kept.
impl<T: MatScalar> Cast for Conv1d<T> {
    type Output<U: MatScalar> = Conv1d<U>;

    fn cast<U: MatScalar>(&self) -> Result<Conv1d<U>, NnError> {
        Ok(Conv1d {
            weight: cast_matrix(&self.weight),
            bias: self.bias.as_ref().map(cast_matrix),
            activation: self.activation,
            mask_value: self.mask_value,
            in_channels: self.in_channels,
            window: self.window,
            groups: self.groups,
        })
    }
}
