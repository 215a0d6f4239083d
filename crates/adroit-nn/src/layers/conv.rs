//! [`Conv2d`]: a two-dimensional convolution over images stored one per column.

use super::weight_bias;
use super::window::{Geometry, Window2d, gather_fits, transpose_rows};
use crate::cast::cast_matrix;
use crate::error::check_shape;
use crate::{Activation, Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// `y = σ(W ⋆ x + b)`: a 2-D convolution of `in_channels` images to `out_channels`, as a
/// cross-correlation (no kernel flip) as PyTorch's `Conv2d` and Flux's `CrossCor` compute it
/// (Flux's `Conv` flips the kernel: its weights, flipped in both spatial dimensions, are this
/// layer's).
///
/// Shapes: `x` is `(in_channels·height·width) × batch`, one image per column, pixel `(c, y,
/// x)` at row `c·height·width + y·width + x` (PyTorch's `(N, C, H, W)` batch as
/// `x.reshape(N, -1).T`; Flux's `(W, H, C, N)` array as `reshape(x, :, N)`); `y` is
/// `(out_channels·out_height·out_width) × batch` in the same order, the output size given by
/// the [`Window2d`]. `weight` is `out_channels × (in_channels·kh·kw)`, row `o` holding output
/// channel `o`'s kernel in `(c, i, j)` order (PyTorch's `weight.reshape(out_channels, -1)`);
/// `bias` is `out_channels × 1`.
///
/// A grouped convolution ([`Conv2d::grouped`], PyTorch's and Flux's `groups`) splits the
/// input and output channels into `groups` equal groups, each output group seeing only its
/// input group: `weight` is `out_channels × (in_channels/groups·kh·kw)`, row `o` reading input
/// channels `k·in_channels/groups` onwards for `k = o/(out_channels/groups)`. With `groups =
/// in_channels` it is a depthwise convolution (MobileNet's, followed by a 1 × 1 pointwise one).
///
/// A 1-D convolution (PyTorch's `Conv1d`) is this layer over `(channels, 1, length)` images
/// with a `(1, k)` window.
///
/// Each forward pass gathers every image's patches into one matrix (im2col, through
/// [`MatVar::take_rows_padded`]) and multiplies it by `weight` once for the whole batch; the
/// gradient scatters back through the same gather.
///
/// # Examples
/// A LeNet-style network, each layer sized from the one before by `output_shape`:
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Conv2d, Dense, Layer, MaxPool2d, Window2d};
/// let mut rng = StdRng::seed_from_u64(0);
/// let same = Window2d::new((3, 3)).padding((1, 1));
/// let conv1 = Conv2d::<f32>::new((1, 16, 16), 8, same, Activation::Relu, &mut rng).unwrap();
/// let pool1 = MaxPool2d::new(conv1.output_shape(), Window2d::pool((2, 2))).unwrap(); // 8 × 8 × 8
/// let conv2 = Conv2d::new(pool1.output_shape(), 16, same, Activation::Relu, &mut rng).unwrap();
/// let pool2 = MaxPool2d::new(conv2.output_shape(), Window2d::pool((2, 2))).unwrap(); // 16 × 4 × 4
/// let (c, h, w) = pool2.output_shape();
/// let model = Chain::new()
///     .push(conv1)
///     .push(pool1)
///     .push(conv2)
///     .push(pool2)
///     .push(Dense::new(c * h * w, 10, Activation::Identity, &mut rng));
/// assert_eq!(model.predict(&DMatrix::zeros(16 * 16, 3)).unwrap().shape(), (10, 3));
/// ```
///
/// Strides and shapes:
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Conv2d, Layer, Window2d};
/// // 1 × 28 × 28 images → 8 channels of 14 × 14 (3 × 3 kernel, stride 2, padding 1).
/// let window = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
/// let conv = Conv2d::<f32>::new((1, 28, 28), 8, window, Activation::Relu, &mut StdRng::seed_from_u64(0))
///     .unwrap();
/// assert_eq!(conv.output_shape(), (8, 14, 14));
/// let y = conv.predict(&DMatrix::zeros(28 * 28, 5)).unwrap();
/// assert_eq!(y.shape(), (8 * 14 * 14, 5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Conv2d<T> {
    /// `out_channels × (in_channels/groups·kh·kw)` (`in_channels·kh·kw` ungrouped).
    pub weight: DMatrix<T>,
    /// `out_channels × 1`, or `None` for a layer without bias.
    pub bias: Option<DMatrix<T>>,
    /// The activation `σ`.
    pub activation: Activation,
    geometry: Geometry,
    /// The number of channel groups (1: every output channel sees every input channel).
    groups: usize,
}

impl<T: MatScalar> Conv2d<T> {
    /// A layer over `input = (channels, height, width)` images with `out_channels` kernels of
    /// `window`'s size, Glorot-uniform weights (seeded by `rng`) and zero bias. Flux's `Conv`
    /// defaults: entries uniform in `±√(6/((in_channels + out_channels)·kh·kw))`, Glorot's
    /// bound with the fans `in_channels·kh·kw` and `out_channels·kh·kw`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` or `out_channels` is 0, the window
    /// does not fit the images ([`Window2d::output_shape`] is `None`), the sizes per image
    /// [exceed what an allocation holds](crate#sizes-and-memory), or the activation's parameter is not finite.
    ///
    /// # Panics
    /// If the weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, NnError, Window2d};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let conv = Conv2d::<f64>::new((3, 8, 8), 4, Window2d::new((3, 3)), Activation::Tanh, &mut rng)
    ///     .unwrap();
    /// assert_eq!(conv.weight.shape(), (4, 3 * 3 * 3));
    /// assert!(conv.weight.amax() <= (6.0f64 / ((3.0 + 4.0) * 9.0)).sqrt());
    /// // A 9 × 9 kernel does not fit 8 × 8 images.
    /// let bad = Conv2d::<f64>::new((3, 8, 8), 4, Window2d::new((9, 9)), Activation::Tanh, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    #[track_caller]
    pub fn new(
        input: (usize, usize, usize),
        out_channels: usize,
        window: Window2d,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        Self::grouped(input, out_channels, 1, window, activation, rng)
    }

    /// A grouped convolution (PyTorch's `Conv2d(…, groups=groups)`, Flux's `Conv(…; groups)`)
    /// over `input = (channels, height, width)` images to `out_channels`: the channels split
    /// into `groups` groups, each output group convolving only its own input group. Glorot-
    /// uniform weights as Flux's, bound `√(6/((in_channels/groups + out_channels)·kh·kw))`,
    /// and zero bias.
    ///
    /// # Errors
    /// As [`Conv2d::new`]; and [`NnError::InvalidConfig`] if `groups` is 0 or does not divide
    /// both the input and the output channels.
    ///
    /// # Panics
    /// As [`Conv2d::new`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Chain, Conv2d, Window2d};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let same = Window2d::new((3, 3)).padding((1, 1));
    /// // A depthwise separable block: one 3 × 3 kernel per channel, then 1 × 1 across channels.
    /// let depthwise = Conv2d::<f32>::grouped((8, 16, 16), 8, 8, same, Activation::Relu, &mut rng)
    ///     .unwrap();
    /// assert_eq!((depthwise.weight.shape(), depthwise.groups()), ((8, 9), 8));
    /// let pointwise = Conv2d::<f32>::new((8, 16, 16), 32, Window2d::new((1, 1)),
    ///     Activation::Relu, &mut rng).unwrap();
    /// let block = Chain::new().push(depthwise).push(pointwise);
    /// // 3 groups do not divide 8 channels.
    /// assert!(Conv2d::<f32>::grouped((8, 16, 16), 8, 3, same, Activation::Relu, &mut rng).is_err());
    /// ```
    #[track_caller]
    pub fn grouped(
        input: (usize, usize, usize),
        out_channels: usize,
        groups: usize,
        window: Window2d,
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        let geometry = Geometry::new("Conv2d", input, window)?;
        check_groups(input.0, out_channels, groups)?;
        let patch = input.0 / groups * geometry.taps();
        init::check_size::<T>("Conv2d", out_channels, patch);
        let fans = (input.0 / groups + out_channels) * geometry.taps();
        let limit = (6.0 / fans.max(1) as f64).sqrt();
        let layer = Self {
            weight: init::uniform(rng, out_channels, patch, limit),
            bias: Some(DMatrix::zeros(out_channels, 1)),
            activation,
            geometry,
            groups,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// A layer over `input = (channels, height, width)` images from given parameters:
    /// PyTorch's `Conv2d` weight `(out, in, kh, kw)` is `weight.reshape(out, -1)` here. Its
    /// flat buffer is row-major: build the matrix with `DMatrix::from_row_slice(out, in·kh·kw,
    /// &flat)` — nalgebra's `from_vec`/`from_column_slice` read column by column and would
    /// scramble it without an error.
    ///
    /// # Errors
    /// As [`Conv2d::new`]; and [`NnError::ShapeMismatch`] if `weight` does not have
    /// `channels·kh·kw` columns or `bias` is not `weight.nrows() × 1`. A weight whose columns
    /// fit a grouped or depthwise convolution (PyTorch's `groups > 1`) is refused here, with
    /// a message pointing to [`Conv2d::from_grouped_parts`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv2d, Layer, Window2d};
    /// // One 2 × 2 kernel summing its window, over one 2 × 3 image.
    /// let conv = Conv2d::from_parts((1, 2, 3), Window2d::new((2, 2)), dmatrix![1.0, 1.0, 1.0, 1.0],
    ///     Some(dmatrix![0.5]), Activation::Identity).unwrap();
    /// let image = dmatrix![1.0; 2.0; 3.0; 4.0; 5.0; 6.0]; // rows [1 2 3], [4 5 6]
    /// assert_eq!(conv.predict(&image).unwrap(), dmatrix![12.5; 16.5]);
    ///
    /// // PyTorch's weight of shape (2, 1, 2, 2), flattened row-major: two kernels.
    /// let flat = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0]; // top-left tap; bottom-right tap
    /// let weight = nalgebra::DMatrix::from_row_slice(2, 4, &flat);
    /// let conv = Conv2d::from_parts((1, 2, 3), Window2d::new((2, 2)), weight, None,
    ///     Activation::Identity).unwrap();
    /// // Channel 0 reads each window's top-left pixel (1, 2), channel 1 its bottom-right (5, 6).
    /// assert_eq!(conv.predict(&image).unwrap(), dmatrix![1.0; 2.0; 5.0; 6.0]);
    /// ```
    pub fn from_parts(
        input: (usize, usize, usize),
        window: Window2d,
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let taps = window.kernel.0 * window.kernel.1;
        let groups = groups_fitting((input.0, weight.nrows()), taps, weight.ncols());
        Self::from_grouped_parts(input, 1, window, weight, bias, activation)
            .map_err(|e| with_groups_hint(e, "Conv2d", groups))
    }

    /// A grouped convolution ([`Conv2d::grouped`]) from given parameters: PyTorch's weight of
    /// shape `(out, in/groups, kh, kw)` as `weight.reshape(out, -1)`, built with
    /// `DMatrix::from_row_slice` as in [`Conv2d::from_parts`].
    ///
    /// # Errors
    /// As [`Conv2d::from_parts`], the weight being `out_channels × (channels/groups·kh·kw)`;
    /// and [`NnError::InvalidConfig`] if `groups` is 0 or does not divide both the input
    /// channels and the weight's rows.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Conv2d, Layer, Window2d};
    /// // Two channels in two groups, 1 × 1 kernels: each output channel scales its own input.
    /// let conv = Conv2d::from_grouped_parts((2, 1, 2), 2, Window2d::new((1, 1)),
    ///     dmatrix![10.0; 100.0], None, Activation::Identity).unwrap();
    /// let x = dmatrix![1.0; 2.0; 3.0; 4.0]; // channel 0: [1 2], channel 1: [3 4]
    /// assert_eq!(conv.predict(&x).unwrap(), dmatrix![10.0; 20.0; 300.0; 400.0]);
    /// ```
    pub fn from_grouped_parts(
        input: (usize, usize, usize),
        groups: usize,
        window: Window2d,
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let geometry = Geometry::new("Conv2d", input, window)?;
        check_groups(input.0, weight.nrows(), groups)?;
        let layer = Self {
            weight,
            bias,
            activation,
            geometry,
            groups,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// The same layer without a bias (PyTorch's `bias=False`, Flux's `bias=false`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, Window2d};
    /// let conv = Conv2d::<f32>::new((1, 4, 4), 2, Window2d::new((3, 3)), Activation::Relu,
    ///     &mut StdRng::seed_from_u64(0)).unwrap().without_bias();
    /// assert!(conv.bias.is_none());
    /// ```
    pub fn without_bias(mut self) -> Self {
        self.bias = None;
        self
    }

    /// The input images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, Window2d};
    /// let conv = Conv2d::<f32>::new((3, 32, 32), 16, Window2d::new((5, 5)), Activation::Relu,
    ///     &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(conv.input_shape(), (3, 32, 32));
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.geometry.input
    }

    /// The output images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, Window2d};
    /// let conv = Conv2d::<f32>::new((3, 32, 32), 16, Window2d::new((5, 5)), Activation::Relu,
    ///     &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(conv.output_shape(), (16, 28, 28));
    /// ```
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (oh, ow) = self.geometry.output;
        (self.weight.nrows(), oh, ow)
    }

    /// The sliding window.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, Window2d};
    /// let window = Window2d::new((3, 3)).padding((1, 1));
    /// let conv = Conv2d::<f32>::new((1, 8, 8), 2, window, Activation::Relu,
    ///     &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(conv.window(), window);
    /// ```
    pub fn window(&self) -> Window2d {
        self.geometry.window
    }

    /// The number of channel groups: 1 unless built by [`Conv2d::grouped`] or
    /// [`Conv2d::from_grouped_parts`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Conv2d, Window2d};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let conv = Conv2d::<f32>::grouped((4, 8, 8), 6, 2, Window2d::new((3, 3)),
    ///     Activation::Relu, &mut rng).unwrap();
    /// assert_eq!((conv.groups(), conv.weight.shape()), (2, (6, 2 * 3 * 3)));
    /// ```
    pub fn groups(&self) -> usize {
        self.groups
    }
}

/// `e` with a pointer to `layer`'s `from_grouped_parts` when it is the layer's weight-shape
/// error and the weight's columns fit `groups` groups (found by [`groups_fitting`]).
pub(super) fn with_groups_hint(e: NnError, layer: &str, groups: Option<usize>) -> NnError {
    match (e, groups) {
        (
            NnError::ShapeMismatch {
                what,
                expected,
                found,
            },
            Some(groups),
        ) if what.starts_with(&format!("{layer} weight")) => NnError::ShapeMismatch {
            what: format!(
                "{what}; these columns fit a grouped convolution of {groups} groups: see \
                 {layer}::from_grouped_parts"
            ),
            expected,
            found,
        },
        (other, _) => other,
    }
}

/// The number of groups, more than one and dividing both channel counts, whose grouped
/// convolution from `channels.0` input to `channels.1` output channels with `taps` kernel
/// taps has a weight of `columns` columns, if any: a hint for a grouped weight given where a
/// full one is expected.
pub(super) fn groups_fitting(
    channels: (usize, usize),
    taps: usize,
    columns: usize,
) -> Option<usize> {
    if taps == 0 || columns == 0 || !columns.is_multiple_of(taps) {
        return None;
    }
    let (input, output) = channels;
    let per_group = columns / taps;
    let groups =
        (per_group < input && input.is_multiple_of(per_group)).then(|| input / per_group)?;
    output.is_multiple_of(groups).then_some(groups)
}

/// Checks that `groups` is at least 1 and divides both channel counts (PyTorch's rule).
///
/// # Errors
/// [`NnError::InvalidConfig`] if not.
fn check_groups(in_channels: usize, out_channels: usize, groups: usize) -> Result<(), NnError> {
    if groups == 0 || !in_channels.is_multiple_of(groups) || !out_channels.is_multiple_of(groups) {
        return Err(NnError::InvalidConfig {
            name: "Conv2d",
            reason: format!(
                "{groups} groups for {in_channels} input and {out_channels} output channels \
                 (at least one group, dividing both)"
            ),
        });
    }
    Ok(())
}

impl<T: MatScalar> Layer<T> for Conv2d<T> {
    /// `σ(W ⋆ x + b)` for `x`: `(in_channels·height·width) × batch`.
    ///
    /// # Panics
    /// If `x` does not have `in_channels·height·width` rows, or the `weight` or `bias` field
    /// was set to a matrix of the wrong shape ([`Layer::predict`] and
    /// [`train`](crate::train()) report these as [`NnError::ShapeMismatch`] first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let g = &self.geometry;
        g.assert_input_rows("Conv2d", x.nrows());
        if let Err(e) = self.check_params() {
            panic!("Conv2d: {e}");
        }
        let (out_channels, patch) = self.weight.shape();
        let (positions, batch) = (g.positions(), x.ncols());
        let patches = x
            .take_rows_padded(&g.patches(), T::zero())
            .reshape(patch * self.groups, positions * batch);
        let weight = ctx.param(&self.weight);
        let bias = self.bias.as_ref().map(|b| ctx.param(b));
        let z = weight_bias::grouped_affine(weight, patches, bias, self.groups);
        let y = z
            .reshape(out_channels * positions, batch)
            .take_rows(&transpose_rows(out_channels, positions));
        self.activation.apply(y)
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

    /// The weight must have at least one row (output channel), as many as the groups divide,
    /// and `in_channels/groups·kh·kw` columns, the output `out_channels·out_height·out_width`
    /// features must be countable, the bias, when there is one, be `out_channels × 1`, and the
    /// activation's parameter finite.
    fn check_params(&self) -> Result<(), NnError> {
        self.activation
            .check_parameter("Conv2d activation parameter")?;
        let out_channels = self.weight.nrows();
        if out_channels == 0
            || !out_channels
                .checked_mul(self.geometry.positions())
                .is_some_and(gather_fits)
        {
            return Err(NnError::InvalidConfig {
                name: "Conv2d",
                reason: format!(
                    "{out_channels} output channels of {:?} positions (at least one channel, \
                     and no more outputs than an allocation holds)",
                    self.geometry.output
                ),
            });
        }
        check_groups(self.geometry.input.0, out_channels, self.groups)?;
        let patch = self.geometry.input.0 / self.groups * self.geometry.taps();
        check_shape(
            "Conv2d weight (out_channels × in_channels/groups·kh·kw)",
            (out_channels, patch),
            self.weight.shape(),
        )?;
        match &self.bias {
            Some(b) => check_shape("Conv2d bias", (out_channels, 1), b.shape()),
            None => Ok(()),
        }
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.geometry.input_size())
    }

    fn output_size(&self) -> Option<usize> {
        Some(self.weight.nrows() * self.geometry.positions())
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

/// The weight and bias converted entry by entry (see [`Cast`]); the activation and the window
/// are kept.
impl<T: MatScalar> Cast for Conv2d<T> {
    type Output<U: MatScalar> = Conv2d<U>;

    fn cast<U: MatScalar>(&self) -> Result<Conv2d<U>, NnError> {
        Ok(Conv2d {
            weight: cast_matrix(&self.weight),
            bias: self.bias.as_ref().map(cast_matrix),
            activation: self.activation,
            geometry: self.geometry,
            groups: self.groups,
        })
    }
}
