//! [`Window2d`]: the sliding window of a convolution or pooling layer over images stored one
//! per column, and the gathers it makes (crate-private [`Geometry`]).

use crate::NnError;

/// A sliding window over images: its kernel size, stride, zero padding and dilation, each as
/// `(rows, columns)` — PyTorch's `kernel_size`, `stride`, `padding`, `dilation` of `Conv2d`
/// and `MaxPool2d` (Flux's `Conv` takes the same as `(width, height)` tuples, its images being
/// stored width first; its `pad` is the padding).
///
/// Along each dimension an image of `n` pixels gives `⌊(n + 2·padding − dilation·(kernel − 1)
/// − 1) / stride⌋ + 1` outputs (PyTorch's formula, rounding down).
///
/// # Example
/// ```
/// use adroit_nn::Window2d;
/// // PyTorch's Conv2d(…, kernel_size=3, stride=2, padding=1).
/// let conv = Window2d::new((3, 3)).stride((2, 2)).padding((1, 1));
/// assert_eq!(conv.output_shape((28, 28)), Some((14, 14)));
/// // MaxPool2d(2): the stride is the kernel.
/// assert_eq!(Window2d::pool((2, 2)).output_shape((28, 28)), Some((14, 14)));
/// // A 5 × 5 kernel does not fit a 4 × 4 image.
/// assert_eq!(Window2d::new((5, 5)).output_shape((4, 4)), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Window2d {
    /// Kernel size `(rows, columns)`.
    pub kernel: (usize, usize),
    /// Step between windows `(rows, columns)`.
    pub stride: (usize, usize),
    /// Padding added on each side `(rows, columns)`: zeros for a convolution and an average
    /// pool (counted in its mean, PyTorch's `count_include_pad=True`), `−∞` for a max pool.
    pub padding: (usize, usize),
    /// Spacing between the kernel's taps `(rows, columns)`; 1 for adjacent pixels.
    pub dilation: (usize, usize),
}

impl Window2d {
    /// A `kernel` window with stride 1, no padding and no dilation (PyTorch's `Conv2d`
    /// defaults).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// let w = Window2d::new((3, 3));
    /// assert_eq!((w.stride, w.padding, w.dilation), ((1, 1), (0, 0), (1, 1)));
    /// ```
    pub fn new(kernel: (usize, usize)) -> Self {
        Self {
            kernel,
            stride: (1, 1),
            padding: (0, 0),
            dilation: (1, 1),
        }
    }

    /// A `kernel` window whose stride is the kernel: non-overlapping windows, the default of
    /// PyTorch's `MaxPool2d`/`AvgPool2d` and Flux's `MaxPool`/`MeanPool`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// assert_eq!(Window2d::pool((2, 3)).stride, (2, 3));
    /// ```
    pub fn pool(kernel: (usize, usize)) -> Self {
        Self {
            stride: kernel,
            ..Self::new(kernel)
        }
    }

    /// The same window with `stride`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// assert_eq!(Window2d::new((3, 3)).stride((2, 1)).stride, (2, 1));
    /// ```
    pub fn stride(self, stride: (usize, usize)) -> Self {
        Self { stride, ..self }
    }

    /// The same window with `padding` on each side.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// // "Same" padding for a 3 × 3 kernel at stride 1: the output keeps the input's size.
    /// assert_eq!(Window2d::new((3, 3)).padding((1, 1)).output_shape((7, 5)), Some((7, 5)));
    /// ```
    pub fn padding(self, padding: (usize, usize)) -> Self {
        Self { padding, ..self }
    }

    /// The same window with `dilation`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// // A 3 × 3 kernel with dilation 2 spans 5 × 5 pixels.
    /// assert_eq!(Window2d::new((3, 3)).dilation((2, 2)).output_shape((5, 5)), Some((1, 1)));
    /// ```
    pub fn dilation(self, dilation: (usize, usize)) -> Self {
        Self { dilation, ..self }
    }

    /// The output's `(height, width)` for an input of `(height, width)` pixels, or `None` if
    /// the window is invalid there (a zero kernel, stride or dilation, or a dilated kernel
    /// larger than the padded input).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::Window2d;
    /// assert_eq!(Window2d::new((3, 2)).output_shape((4, 4)), Some((2, 3)));
    /// assert_eq!(Window2d::new((3, 3)).stride((0, 1)).output_shape((4, 4)), None);
    /// ```
    pub fn output_shape(&self, input: (usize, usize)) -> Option<(usize, usize)> {
        let along = |n: usize, kernel: usize, stride: usize, padding: usize, dilation: usize| {
            if kernel == 0 || stride == 0 || dilation == 0 {
                return None;
            }
            let span = checked_span(kernel, dilation)?;
            let padded = padding.checked_mul(2)?.checked_add(n)?;
            padded.checked_sub(span).map(|room| room / stride + 1)
        };
        Some((
            along(
                input.0,
                self.kernel.0,
                self.stride.0,
                self.padding.0,
                self.dilation.0,
            )?,
            along(
                input.1,
                self.kernel.1,
                self.stride.1,
                self.padding.1,
                self.dilation.1,
            )?,
        ))
    }
}

/// A window over images of a given shape: the sizes a layer checks and the gathers it makes.
///
/// Each image is one column of `channels·height·width` features, channel by channel and row by
/// row within a channel: pixel `(c, y, x)` is feature `c·height·width + y·width + x` (PyTorch's
/// `(C, H, W)` tensor flattened, and Flux's `(W, H, C)` array in its column-major order).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// `(channels, height, width)` of each input image.
    pub(crate) input: (usize, usize, usize),
    pub(crate) window: Window2d,
    /// `(height, width)` of each output channel.
    pub(crate) output: (usize, usize),
}

impl Geometry {
    /// The window over `input` images, checked: `who` names the layer in the error.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` is 0 or the window is invalid on
    /// it ([`Window2d::output_shape`] is `None`), or an image's features or its gathered
    /// windows do not [fit a gather](gather_fits).
    pub(crate) fn new(
        who: &'static str,
        input: (usize, usize, usize),
        window: Window2d,
    ) -> Result<Self, NnError> {
        let invalid = |reason: String| NnError::InvalidConfig { name: who, reason };
        check_images_and_window(who, input, window)?;
        let (c, h, w) = input;
        let Window2d {
            kernel,
            dilation,
            padding,
            ..
        } = window;
        let output = window.output_shape((h, w)).ok_or_else(|| {
            invalid(format!(
                "the kernel {kernel:?} at dilation {dilation:?} spans more than the {h} × {w} \
                 images padded by {padding:?}"
            ))
        })?;
        // The gathered windows, channels·taps·positions per image, must fit an allocation (so
        // do their factors: each is at least 1).
        let gathered = [kernel.0, kernel.1, output.0, output.1]
            .into_iter()
            .try_fold(c, usize::checked_mul);
        if !gathered.is_some_and(gather_fits) {
            return Err(invalid(format!(
                "{window:?} on {c} channels of {h} × {w} pixels gathers more entries per image \
                 than an allocation holds ({output:?} positions of {kernel:?} taps)"
            )));
        }
        Ok(Self {
            input,
            window,
            output,
        })
    }

    /// Features per input image, `channels·height·width`.
    pub(crate) fn input_size(&self) -> usize {
        self.input.0 * self.input.1 * self.input.2
    }

    /// Checks that a forward pass's input has [`input_size`](Self::input_size) rows.
    ///
    /// # Panics
    /// If it does not, naming `who` and the image shape.
    #[track_caller]
    pub(crate) fn assert_input_rows(&self, who: &str, rows: usize) {
        assert_image_rows(who, rows, self.input);
    }

    /// Output positions per channel, `out_height·out_width`.
    pub(crate) fn positions(&self) -> usize {
        self.output.0 * self.output.1
    }

    /// Taps per window on one channel, `kernel rows · kernel columns`.
    pub(crate) fn taps(&self) -> usize {
        self.window.kernel.0 * self.window.kernel.1
    }

    /// The input feature under tap `(i, j)` of the window at output position `(oy, ox)` on
    /// channel `c`, or `None` on the padding.
    fn source(&self, c: usize, (oy, ox): (usize, usize), (i, j): (usize, usize)) -> Option<usize> {
        let (_, h, w) = self.input;
        let Window2d {
            stride,
            padding,
            dilation,
            ..
        } = self.window;
        let y = (oy * stride.0 + i * dilation.0).checked_sub(padding.0)?;
        let x = (ox * stride.1 + j * dilation.1).checked_sub(padding.1)?;
        (y < h && x < w).then_some((c * h + y) * w + x)
    }

    /// Each image's convolution patches (im2col), for
    /// [`take_rows_padded`](adroit_reverse::matrix::MatVar::take_rows_padded): position `p =
    /// oy·out_width + ox` after position, all channels' taps `(c, i, j)` in PyTorch's weight
    /// order — reshaped to `channels·taps` rows, column `p` of an image's block is its patch.
    pub(crate) fn patches(&self) -> Vec<Option<usize>> {
        self.patches_over(self.output)
    }

    /// [`patches`](Self::patches) at the positions of a `(rows, cols)` grid (within the
    /// output or beyond it): a transposed convolution's input positions, which are fewer than
    /// the positions of the window over its output when its output padding reaches a stride.
    pub(crate) fn patches_over(&self, grid: (usize, usize)) -> Vec<Option<usize>> {
        let mut rows = Vec::with_capacity(self.input.0 * self.taps() * grid.0 * grid.1);
        for position in positions_of(grid) {
            for c in 0..self.input.0 {
                rows.extend(self.taps_at(c, position));
            }
        }
        rows
    }

    /// Each image's pooling windows: channel by channel, position by position, each window's
    /// taps `(i, j)` — reshaped to `taps` rows, column `c·positions + p` is a window.
    pub(crate) fn windows(&self) -> Vec<Option<usize>> {
        let mut rows = Vec::with_capacity(self.input.0 * self.taps() * self.positions());
        for c in 0..self.input.0 {
            for position in positions_of(self.output) {
                rows.extend(self.taps_at(c, position));
            }
        }
        rows
    }

    /// The sources of channel `c`'s taps at `position`, row by row.
    fn taps_at(
        &self,
        c: usize,
        position: (usize, usize),
    ) -> impl Iterator<Item = Option<usize>> + '_ {
        let (kh, kw) = self.window.kernel;
        (0..kh).flat_map(move |i| (0..kw).map(move |j| self.source(c, position, (i, j))))
    }
}

/// Checks that `(channels, height, width)` images have at least one pixel and a countable
/// number of features, and that `window`'s kernel, stride and dilation have no 0.
///
/// # Errors
/// [`NnError::InvalidConfig`] naming `who` if not.
pub(crate) fn check_images_and_window(
    who: &'static str,
    input: (usize, usize, usize),
    window: Window2d,
) -> Result<(), NnError> {
    check_images(who, input)?;
    let Window2d {
        kernel,
        stride,
        dilation,
        ..
    } = window;
    if [kernel, stride, dilation]
        .iter()
        .any(|&(a, b)| a == 0 || b == 0)
    {
        return Err(NnError::InvalidConfig {
            name: who,
            reason: format!(
                "the kernel {kernel:?}, stride {stride:?} and dilation {dilation:?} must each be \
                 at least 1"
            ),
        });
    }
    Ok(())
}

/// Checks that `(channels, height, width)` images have at least one pixel and that their
/// features [fit a gather](gather_fits).
///
/// # Errors
/// [`NnError::InvalidConfig`] naming `who` if not.
pub(crate) fn check_images(
    who: &'static str,
    (c, h, w): (usize, usize, usize),
) -> Result<(), NnError> {
    let invalid = |reason: String| NnError::InvalidConfig { name: who, reason };
    if c == 0 || h == 0 || w == 0 {
        return Err(invalid(format!(
            "the input images are {c} channels of {h} × {w} pixels; each must be at least 1"
        )));
    }
    if !c
        .checked_mul(h)
        .and_then(|n| n.checked_mul(w))
        .is_some_and(gather_fits)
    {
        return Err(invalid(format!(
            "{c} channels of {h} × {w} pixels are more features than an allocation holds"
        )));
    }
    Ok(())
}

/// `dilation·(kernel − 1) + 1`, the steps (or pixels) a window of `kernel` taps covers;
/// `None` if a `usize` does not hold it (a kernel of 0 covers 1).
pub(crate) fn checked_span(kernel: usize, dilation: usize) -> Option<usize> {
    dilation
        .checked_mul(kernel.saturating_sub(1))?
        .checked_add(1)
}

/// Whether `entries` rows fit a gather: the row indices a layer builds (`Option<usize>`, the
/// widest entry of any buffer a forward pass allocates per entry: 16 bytes) fit one
/// allocation. The bound on the sizes per sample — features, gathered windows, outputs —
/// that the image and sequence layers accept; above it no allocation could hold them
/// ("capacity overflow" in a forward pass). A size below it can still exceed the machine's
/// memory, which aborts the process as Rust's collections do.
pub(crate) fn gather_fits(entries: usize) -> bool {
    crate::init::fits_allocation::<Option<usize>>(entries, 1)
}

/// The positions `(y, x)` of a `(height, width)` grid, row by row.
fn positions_of((height, width): (usize, usize)) -> impl Iterator<Item = (usize, usize)> {
    (0..height).flat_map(move |y| (0..width).map(move |x| (y, x)))
}

/// Checks that a forward pass's input has a row per feature of `(channels, height, width)`
/// images.
///
/// # Panics
/// If it does not, naming `who` and the image shape.
#[track_caller]
pub(crate) fn assert_image_rows(who: &str, rows: usize, (c, h, w): (usize, usize, usize)) {
    let features = c * h * w;
    assert!(
        rows == features,
        "{who}: the input has {rows} rows (features) but the layer takes {features} ({c} \
         channels of {h} × {w} pixels)"
    );
}

/// The rows, for [`take_rows`](adroit_reverse::matrix::MatVar::take_rows), that turn each
/// column holding an `a × b` matrix (column-major) into one holding its `b × a` transpose:
/// entry `i·b + j` is `i + a·j`. Between a product's position-major layout (`channels ×
/// positions` per image) and the images' channel-first one (`positions × channels`).
pub(crate) fn transpose_rows(a: usize, b: usize) -> Vec<usize> {
    (0..a)
        .flat_map(|i| (0..b).map(move |j| i + a * j))
        .collect()
}
