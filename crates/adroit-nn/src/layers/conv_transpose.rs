//! [`ConvTranspose2d`]: a transposed two-dimensional convolution (fractionally strided, the
//! upsampling layer of decoders) over images stored one per column.

use super::weight_bias;
use super::window::{
    Geometry, Window2d, assert_image_rows, check_images_and_window, transpose_rows,
};
use crate::cast::cast_matrix;
use crate::error::check_shape;
use crate::{Activation, Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// `y = σ(Wᵀ ⋆ x + b)`: the transposed convolution of `in_channels` images to `out_channels`,
/// as PyTorch's `ConvTranspose2d` computes it. Input
/// pixel `(c, y, x)` adds `x[c, y, x]·W[c, o, i, j]` to output pixel `(o, y·stride −
/// padding + i·dilation, x·stride − padding + j·dilation)` of every output channel `o` and
/// tap `(i, j)` that lands inside the output. It is the adjoint (the gradient with respect to
/// the input) of a [`Conv2d`](super::Conv2d) with the same window from the output images to
/// the input ones, so it undoes that convolution's shapes: a stride-2 convolution halves the
/// images, this layer with the same window doubles them. Flux's `ConvTranspose` is the
/// adjoint of its `Conv`, which flips the kernel (see [`Conv2d`](super::Conv2d)): its kernels
/// are these flipped in both spatial dimensions.
///
/// Along each dimension an input of `n` pixels gives `(n − 1)·stride − 2·padding +
/// dilation·(kernel − 1) + output_padding + 1` outputs (PyTorch's formula). The output padding
/// (PyTorch's `output_padding`, usually 0) lengthens the output at the bottom and right by
/// that many rows and columns, which the kernels' taps reach when there is padding to give
/// back, so a stride-`s` convolution's input size can be recovered exactly (a stride-2
/// convolution maps both 27 and 28 pixels to 14; an output padding of 1 picks 28). It must be
/// smaller than the stride or the dilation along its dimension, as in PyTorch. It is a
/// separate argument of the constructors, `(rows, columns)` right after the window, and is not
/// the window's `padding` (which, as in PyTorch, *removes* that many pixels from each side of
/// the output).
///
/// There are no groups (PyTorch's `groups` argument must be 1 to load its weights here); a
/// grouped or depthwise convolution is [`Conv2d::grouped`](super::Conv2d::grouped).
///
/// Shapes: `x` is `(in_channels·height·width) × batch`, one image per column, pixel `(c, y,
/// x)` at row `c·height·width + y·width + x` (PyTorch's `(N, C, H, W)` batch as
/// `x.reshape(N, -1).T`); `y` is `(out_channels·out_height·out_width) × batch` in the same
/// order. `weight` is `in_channels × (out_channels·kh·kw)`, row `c` holding input channel
/// `c`'s kernels in `(o, i, j)` order (PyTorch's weight of shape `(in, out, kh, kw)` as
/// `weight.reshape(in_channels, -1)`); `bias` is `out_channels × 1`.
///
/// Each forward pass multiplies `weightᵀ` by every image's pixels at once and adds the
/// resulting patches into the output images ([`MatVar::scatter_add_rows`], col2im); the
/// gradient gathers them back.
///
/// # Examples
/// Upsampling by two: a 2 × 2 kernel at stride 2 turns each pixel into a 2 × 2 block.
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, ConvTranspose2d, Layer, Window2d};
/// let window = Window2d::pool((2, 2)); // kernel 2 × 2, stride 2
/// let kernel = dmatrix![1.0, 2.0, 3.0, 4.0]; // one input and one output channel
/// let up = ConvTranspose2d::from_parts((1, 1, 2), window, (0, 0), kernel, None,
///     Activation::Identity).unwrap();
/// assert_eq!(up.output_shape(), (1, 2, 4));
/// let y = up.predict(&dmatrix![1.0; 10.0]).unwrap(); // one 1 × 2 image: [1 10]
/// // Rows [1 2 10 20] and [3 4 30 40].
/// assert_eq!(y, dmatrix![1.0; 2.0; 10.0; 20.0; 3.0; 4.0; 30.0; 40.0]);
/// ```
///
/// A decoder step that inverts a stride-2 convolution's shapes:
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Conv2d, ConvTranspose2d, Layer, Window2d};
/// let mut rng = StdRng::seed_from_u64(0);
/// let window = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
/// let down = Conv2d::<f32>::new((1, 28, 28), 8, window, Activation::Relu, &mut rng).unwrap();
/// assert_eq!(down.output_shape(), (8, 14, 14));
/// // (14 − 1)·2 − 2 + 2 + 1 = 27 pixels; an output padding of 1 gives back 28.
/// let up = ConvTranspose2d::<f32>::new((8, 14, 14), 1, window, (1, 1), Activation::Sigmoid,
///     &mut rng).unwrap();
/// assert_eq!(up.output_shape(), (1, 28, 28));
/// let y = up.predict(&down.predict(&DMatrix::zeros(28 * 28, 4)).unwrap()).unwrap();
/// assert_eq!(y.shape(), (28 * 28, 4));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ConvTranspose2d<T> {
    /// `in_channels × (out_channels·kh·kw)`.
    pub weight: DMatrix<T>,
    /// `out_channels × 1`, or `None` for a layer without bias.
    pub bias: Option<DMatrix<T>>,
    /// The activation `σ`.
    pub activation: Activation,
    /// `(channels, height, width)` of each input image.
    input: (usize, usize, usize),
    output_padding: (usize, usize),
    /// The window over the output images (whose positions include the input's pixels).
    geometry: Geometry,
}

impl<T: MatScalar> ConvTranspose2d<T> {
    /// A layer over `input = (channels, height, width)` images to `out_channels`, with
    /// kernels of `window`'s size, `output_padding` rows and columns (`(0, 0)` for none),
    /// Glorot-uniform weights (seeded by `rng`) and zero bias: entries uniform in
    /// `±√(6/((in_channels + out_channels)·kh·kw))`, the bound of
    /// [`Conv2d::new`](super::Conv2d::new) (Flux's default for both layers).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` or `out_channels` is 0, the
    /// window's kernel, stride or dilation has a 0, an output padding is not smaller than
    /// both the stride and the dilation, the output has no pixel, the sizes per image
    /// [exceed what an allocation holds](crate#sizes-and-memory), or the activation's parameter is not finite.
    ///
    /// # Panics
    /// If the weight would have more bytes than an allocation can hold.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, ConvTranspose2d, NnError, Window2d};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let window = Window2d::new((4, 4)).stride((2, 2)).padding((1, 1));
    /// let relu = Activation::Relu;
    /// let up = ConvTranspose2d::<f64>::new((16, 7, 7), 8, window, (0, 0), relu, &mut rng)
    ///     .unwrap();
    /// assert_eq!(up.output_shape(), (8, 14, 14)); // DCGAN's doubling step
    /// assert_eq!(up.weight.shape(), (16, 8 * 4 * 4));
    /// // With an output padding of 1: 15 × 15.
    /// let up = ConvTranspose2d::<f64>::new((16, 7, 7), 8, window, (1, 1), relu, &mut rng)
    ///     .unwrap();
    /// assert_eq!(up.output_shape(), (8, 15, 15));
    /// // An output padding of 2 is not below the stride 2.
    /// let bad = ConvTranspose2d::<f64>::new((16, 7, 7), 8, window, (2, 0), relu, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// // A padding of 3 on a 1 × 1 image with a 3 × 3 kernel leaves nothing.
    /// let window = Window2d::new((3, 3)).padding((3, 3));
    /// let bad = ConvTranspose2d::<f64>::new((1, 1, 1), 1, window, (0, 0), relu, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    #[track_caller]
    pub fn new(
        input: (usize, usize, usize),
        out_channels: usize,
        window: Window2d,
        output_padding: (usize, usize),
        activation: Activation,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        let geometry = output_geometry(input, out_channels, window, output_padding)?;
        let kernels = out_channels * geometry.taps();
        init::check_size::<T>("ConvTranspose2d::new", input.0, kernels);
        let fans = (input.0 + out_channels) * geometry.taps();
        let limit = (6.0 / fans.max(1) as f64).sqrt();
        let layer = Self {
            weight: init::uniform(rng, input.0, kernels, limit),
            bias: Some(DMatrix::zeros(out_channels, 1)),
            activation,
            input,
            output_padding,
            geometry,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// A layer over `input = (channels, height, width)` images with `output_padding` from
    /// given parameters, the output channels read from `weight`'s columns
    /// (`out_channels·kh·kw`): PyTorch's
    /// `ConvTranspose2d` weight `(in, out, kh, kw)` is `weight.reshape(in, -1)` here. Its flat
    /// buffer is row-major: build the matrix with `DMatrix::from_row_slice(in, out·kh·kw,
    /// &flat)` (nalgebra's `from_vec` reads column by column and would scramble it).
    ///
    /// # Errors
    /// As [`ConvTranspose2d::new`]; and [`NnError::ShapeMismatch`] if `weight` does not have
    /// `channels` rows and a positive multiple of `kh·kw` columns, or `bias` is not
    /// `out_channels × 1`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, ConvTranspose2d, Layer, Window2d};
    /// // PyTorch's weight of shape (1, 2, 1, 2), flattened row-major: from one input channel
    /// // to two output channels, each a 1 × 2 kernel.
    /// let weight = nalgebra::DMatrix::from_row_slice(1, 4, &[1.0, 2.0, 3.0, 4.0]);
    /// let up = ConvTranspose2d::from_parts((1, 1, 1), Window2d::new((1, 2)), (0, 0), weight,
    ///     Some(dmatrix![0.5; -0.5]), Activation::Identity).unwrap();
    /// assert_eq!(up.output_shape(), (2, 1, 2));
    /// // One pixel of 10: channel 0 gets [10 20] + 0.5, channel 1 gets [30 40] − 0.5.
    /// assert_eq!(up.predict(&dmatrix![10.0]).unwrap(), dmatrix![10.5; 20.5; 29.5; 39.5]);
    /// ```
    pub fn from_parts(
        input: (usize, usize, usize),
        window: Window2d,
        output_padding: (usize, usize),
        weight: DMatrix<T>,
        bias: Option<DMatrix<T>>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let taps = window.kernel.0.saturating_mul(window.kernel.1);
        let out_channels = weight.ncols() / taps.max(1);
        if taps == 0 || out_channels == 0 || !weight.ncols().is_multiple_of(taps) {
            // The window's own error first (a zero kernel), else the weight's shape.
            output_geometry(input, 1, window, output_padding)?;
            return Err(NnError::ShapeMismatch {
                what: format!(
                    "ConvTranspose2d weight (in_channels × out_channels·kh·kw): its columns \
                     must be a positive multiple of the {taps} taps of a {:?} kernel",
                    window.kernel
                ),
                expected: (input.0, taps.saturating_mul(out_channels.max(1))),
                found: weight.shape(),
            });
        }
        let layer = Self {
            weight,
            bias,
            activation,
            input,
            output_padding,
            geometry: output_geometry(input, out_channels, window, output_padding)?,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// The same layer without a bias (PyTorch's `bias=False`, Flux's `bias=false`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, ConvTranspose2d, Window2d};
    /// let up = ConvTranspose2d::<f32>::new((2, 3, 3), 1, Window2d::new((2, 2)),
    ///     (0, 0), Activation::Identity, &mut StdRng::seed_from_u64(0)).unwrap().without_bias();
    /// assert!(up.bias.is_none());
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
    /// use adroit_nn::{Activation, ConvTranspose2d, Window2d};
    /// let up = ConvTranspose2d::<f32>::new((3, 8, 8), 1, Window2d::new((2, 2)),
    ///     (0, 0), Activation::Identity, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(up.input_shape(), (3, 8, 8));
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.input
    }

    /// The output images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, ConvTranspose2d, Window2d};
    /// let up = ConvTranspose2d::<f32>::new((3, 8, 8), 2, Window2d::new((3, 3)),
    ///     (0, 0), Activation::Identity, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(up.output_shape(), (2, 10, 10)); // (8 − 1) + 2 + 1
    /// ```
    pub fn output_shape(&self) -> (usize, usize, usize) {
        self.geometry.input
    }

    /// The sliding window (over the output images).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, ConvTranspose2d, Window2d};
    /// let window = Window2d::new((3, 3)).stride((2, 2));
    /// let up = ConvTranspose2d::<f32>::new((1, 4, 4), 1, window, (0, 0), Activation::Identity,
    ///     &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(up.window(), window);
    /// ```
    pub fn window(&self) -> Window2d {
        self.geometry.window
    }

    /// The output padding `(rows, columns)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, ConvTranspose2d, Window2d};
    /// let up = ConvTranspose2d::<f32>::new((1, 4, 4), 1, Window2d::new((3, 3)).stride((2, 2)),
    ///     (1, 0), Activation::Identity, &mut StdRng::seed_from_u64(0)).unwrap();
    /// assert_eq!(up.output_padding(), (1, 0));
    /// assert_eq!(up.output_shape(), (1, 10, 9));
    /// ```
    pub fn output_padding(&self) -> (usize, usize) {
        self.output_padding
    }
}

/// The window over the output images of a transposed convolution from `input` images to
/// `out_channels` with `output_padding`: its "input" is those output images, its positions
/// cover the input's pixels.
fn output_geometry(
    input: (usize, usize, usize),
    out_channels: usize,
    window: Window2d,
    output_padding: (usize, usize),
) -> Result<Geometry, NnError> {
    let invalid = |reason: String| NnError::InvalidConfig {
        name: "ConvTranspose2d",
        reason,
    };
    check_images_and_window("ConvTranspose2d", input, window)?;
    if out_channels == 0 {
        return Err(invalid(
            "a transposed convolution needs at least one output channel".into(),
        ));
    }
    let (_, h, w) = input;
    let Window2d {
        kernel,
        stride,
        padding,
        dilation,
    } = window;
    let along = |n: usize, k: usize, s: usize, p: usize, d: usize, op: usize| {
        if op >= s.max(d) {
            return Err(invalid(format!(
                "the output padding {output_padding:?} must be smaller than the stride \
                 {stride:?} or the dilation {dilation:?} along each dimension (as PyTorch)"
            )));
        }
        // (n − 1)·s + d·(k − 1) + op + 1 − 2p
        let span = (n - 1)
            .checked_mul(s)
            .and_then(|a| d.checked_mul(k - 1).and_then(|b| a.checked_add(b)))
            .and_then(|a| a.checked_add(op + 1))
            .ok_or_else(|| invalid(format!("{window:?} on {h} × {w} pixels overflows usize")))?;
        span.checked_sub(p.saturating_mul(2))
            .filter(|&m| m > 0)
            .ok_or_else(|| {
                invalid(format!(
                    "the padding {padding:?} on each side leaves no output pixel ({span} along a \
                 dimension before it, output padding included, for {h} × {w} input pixels)"
                ))
            })
    };
    let out_h = along(
        h,
        kernel.0,
        stride.0,
        padding.0,
        dilation.0,
        output_padding.0,
    )?;
    let out_w = along(
        w,
        kernel.1,
        stride.1,
        padding.1,
        dilation.1,
        output_padding.1,
    )?;
    let geometry = Geometry::new("ConvTranspose2d", (out_channels, out_h, out_w), window)?;
    debug_assert!(
        geometry.output.0 >= h && geometry.output.1 >= w,
        "the window over the output reaches every input pixel"
    );
    Ok(geometry)
}

impl<T: MatScalar> Layer<T> for ConvTranspose2d<T> {
    /// `σ(Wᵀ ⋆ x + b)` for `x`: `(in_channels·height·width) × batch`.
    ///
    /// # Panics
    /// If `x` does not have `in_channels·height·width` rows, or the `weight` or `bias` field
    /// was set to a matrix of the wrong shape ([`Layer::predict`] and
    /// [`train`](crate::train()) report these as [`NnError::ShapeMismatch`] first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        assert_image_rows("ConvTranspose2d", x.nrows(), self.input);
        if let Err(e) = self.check_params() {
            panic!("ConvTranspose2d: {e}");
        }
        let (in_channels, h, w) = self.input;
        let g = &self.geometry;
        let (positions, batch) = (h * w, x.ncols());
        let (out_channels, kernels) = (g.input.0, self.weight.ncols());
        // Each image's pixels as columns (channels × positions), all images side by side.
        let pixels = x
            .take_rows(&transpose_rows(positions, in_channels))
            .reshape(in_channels, positions * batch);
        // Column p of an image's block: what pixel p adds under each output channel's taps.
        let patches = ctx
            .param(&self.weight)
            .transpose()
            .matmul(pixels)
            .reshape(kernels * positions, batch);
        let y = patches.scatter_add_rows(&g.patches_over((h, w)), g.input_size());
        let y = match &self.bias {
            Some(b) => {
                let per_pixel = g.input.1 * g.input.2;
                let rows: Vec<usize> = (0..out_channels)
                    .flat_map(|o| std::iter::repeat_n(o, per_pixel))
                    .collect();
                y + ctx.param(b).take_rows(&rows)
            }
            None => y,
        };
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

    /// The weight must be `in_channels × (out_channels·kh·kw)`, the bias, when there is one,
    /// `out_channels × 1`, and the activation's parameter finite.
    fn check_params(&self) -> Result<(), NnError> {
        self.activation
            .check_parameter("ConvTranspose2d activation parameter")?;
        let g = &self.geometry;
        check_shape(
            "ConvTranspose2d weight (in_channels × out_channels·kh·kw)",
            (self.input.0, g.input.0 * g.taps()),
            self.weight.shape(),
        )?;
        match &self.bias {
            Some(b) => check_shape("ConvTranspose2d bias", (g.input.0, 1), b.shape()),
            None => Ok(()),
        }
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.input.0 * self.input.1 * self.input.2)
    }

    fn output_size(&self) -> Option<usize> {
        Some(self.geometry.input_size())
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

/// The weight and bias converted entry by entry (see [`Cast`]); the activation, the window
/// and the output padding are kept.
impl<T: MatScalar> Cast for ConvTranspose2d<T> {
    type Output<U: MatScalar> = ConvTranspose2d<U>;

    fn cast<U: MatScalar>(&self) -> Result<ConvTranspose2d<U>, NnError> {
        Ok(ConvTranspose2d {
            weight: cast_matrix(&self.weight),
            bias: self.bias.as_ref().map(cast_matrix),
            activation: self.activation,
            input: self.input,
            output_padding: self.output_padding,
            geometry: self.geometry,
        })
    }
}
