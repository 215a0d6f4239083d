//! [`Upsample`]: images enlarged by integer factors, by nearest-neighbour or bilinear
//! interpolation.

use super::window::{assert_image_rows, check_images, gather_fits};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// How [`Upsample`] forms the new pixels (PyTorch's `mode` and `align_corners`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UpsampleMode {
    /// Each output pixel copies the input pixel it falls in: output row `y` reads input row
    /// `⌊y / scale⌋` (PyTorch's `"nearest"`, Flux's `:nearest`).
    Nearest,
    /// Each output pixel interpolates its four nearest input pixels linearly along each
    /// dimension (PyTorch's `"bilinear"`, Flux's `:bilinear`). Output row `y` sits at input
    /// coordinate `(y + ½)/scale − ½` (clamped at 0), pixel centres aligned, with
    /// `align_corners: false` (PyTorch's default); at `y·(n − 1)/(n·scale − 1)`, the corner
    /// pixels aligned, with `align_corners: true` (the default of NNlib's `upsample_bilinear`,
    /// and the form Flux's `Upsample(:bilinear)` layer uses).
    Bilinear {
        /// Whether the outermost pixels' centres of input and output coincide.
        align_corners: bool,
    },
}

/// Each output pixel's input pixels and their weights, for every output pixel of an image:
/// `rows[t][r]` and `weights[t][r]` are tap `t` of output row `r` (output pixels in
/// [`Conv2d`](super::Conv2d)'s order).
struct Taps {
    rows: Vec<Vec<usize>>,
    weights: Vec<Vec<f64>>,
}

/// Images enlarged by integer factors `(scale_rows, scale_cols)`: PyTorch's
/// `nn.Upsample(scale_factor=…, mode=…)`, Flux's `Upsample`. No parameters. Often paired with
/// a [`Conv2d`](super::Conv2d) in decoders as an alternative to
/// [`ConvTranspose2d`](super::ConvTranspose2d) (which can leave checkerboard patterns).
///
/// Shapes: `x` is `(channels·height·width) × batch` and the output `(channels·(height·
/// scale_rows)·(width·scale_cols)) × batch`, both in [`Conv2d`](super::Conv2d)'s pixel order.
/// Each output pixel is a fixed combination of at most four input pixels of its channel, so
/// the gradient spreads each output cotangent back over them with the same weights.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Layer, Upsample, UpsampleMode};
/// // One 1 × 2 image [1 3], widened twice.
/// let image = dmatrix![1.0; 3.0];
/// let nearest = Upsample::new((1, 1, 2), (1, 2), UpsampleMode::Nearest).unwrap();
/// assert_eq!(Layer::<f64>::predict(&nearest, &image).unwrap(), dmatrix![1.0; 1.0; 3.0; 3.0]);
/// let bilinear = Upsample::new((1, 1, 2), (1, 2), UpsampleMode::Bilinear { align_corners: false })
///     .unwrap();
/// // Columns at input coordinates 0 (clamped from −¼), ¼, ¾ and 1¼ (held at the last pixel).
/// assert_eq!(Layer::<f64>::predict(&bilinear, &image).unwrap(), dmatrix![1.0; 1.5; 2.5; 3.0]);
/// let corners = Upsample::new((1, 1, 2), (1, 2), UpsampleMode::Bilinear { align_corners: true })
///     .unwrap();
/// // Columns at 0, ⅓, ⅔ and 1.
/// let y = Layer::<f64>::predict(&corners, &image).unwrap();
/// assert!((y - dmatrix![1.0; 5.0 / 3.0; 7.0 / 3.0; 3.0]).amax() < 1e-15);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Upsample {
    input: (usize, usize, usize),
    scale: (usize, usize),
    mode: UpsampleMode,
}

impl Upsample {
    /// Upsampling of `input = (channels, height, width)` images by `scale = (rows, columns)`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` or a scale factor is 0, or the
    /// output's features per image [exceed what an allocation holds](crate#sizes-and-memory).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{NnError, Upsample, UpsampleMode};
    /// let up = Upsample::new((16, 7, 7), (2, 2), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(up.output_shape(), (16, 14, 14));
    /// let bad = Upsample::new((16, 7, 7), (0, 2), UpsampleMode::Nearest);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(
        input: (usize, usize, usize),
        scale: (usize, usize),
        mode: UpsampleMode,
    ) -> Result<Self, NnError> {
        check_images("Upsample", input)?;
        let (c, h, w) = input;
        if scale.0 == 0 || scale.1 == 0 {
            return Err(NnError::InvalidConfig {
                name: "Upsample",
                reason: format!("the scale factors {scale:?} must each be at least 1"),
            });
        }
        let outputs = [h, scale.0, w, scale.1]
            .into_iter()
            .try_fold(c, usize::checked_mul);
        if !outputs.is_some_and(gather_fits) {
            return Err(NnError::InvalidConfig {
                name: "Upsample",
                reason: format!(
                    "{c} channels of {h} × {w} pixels scaled by {scale:?} are more features \
                     than an allocation holds"
                ),
            });
        }
        Ok(Self { input, scale, mode })
    }

    /// The input images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Upsample, UpsampleMode};
    /// let up = Upsample::new((3, 4, 5), (3, 1), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(up.input_shape(), (3, 4, 5));
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.input
    }

    /// The scale factors `(rows, columns)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Upsample, UpsampleMode};
    /// let up = Upsample::new((3, 4, 5), (3, 1), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(up.scale(), (3, 1));
    /// ```
    pub fn scale(&self) -> (usize, usize) {
        self.scale
    }

    /// The output images' `(channels, height, width)`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Upsample, UpsampleMode};
    /// let up = Upsample::new((3, 4, 5), (3, 1), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(up.output_shape(), (3, 12, 5));
    /// ```
    pub fn output_shape(&self) -> (usize, usize, usize) {
        let (c, h, w) = self.input;
        (c, h * self.scale.0, w * self.scale.1)
    }

    /// The interpolation.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Upsample, UpsampleMode};
    /// let up = Upsample::new((1, 2, 2), (2, 2), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(up.mode(), UpsampleMode::Nearest);
    /// ```
    pub fn mode(&self) -> UpsampleMode {
        self.mode
    }
}

/// Along one dimension of `n` pixels scaled by `scale`: each output pixel's one (nearest) or
/// two (linear) input pixels and weights, PyTorch's source-index rule.
fn axis_taps(n: usize, scale: usize, mode: UpsampleMode) -> Vec<Vec<(usize, f64)>> {
    let out = n * scale;
    (0..out)
        .map(|d| match mode {
            UpsampleMode::Nearest => vec![((d / scale).min(n - 1), 1.0)],
            UpsampleMode::Bilinear { align_corners } => {
                let source = if align_corners {
                    if out > 1 {
                        d as f64 * (n - 1) as f64 / (out - 1) as f64
                    } else {
                        0.0
                    }
                } else {
                    ((d as f64 + 0.5) / scale as f64 - 0.5).max(0.0)
                };
                let i0 = (source.floor() as usize).min(n - 1);
                let i1 = (i0 + 1).min(n - 1);
                let lambda = (source - i0 as f64).clamp(0.0, 1.0);
                vec![(i0, 1.0 - lambda), (i1, lambda)]
            }
        })
        .collect()
}

/// The taps of every output pixel of `layer`'s images: the products of one tap along the
/// rows and one along the columns.
fn image_taps(layer: &Upsample) -> Taps {
    let (channels, h, w) = layer.input;
    let rows = axis_taps(h, layer.scale.0, layer.mode);
    let cols = axis_taps(w, layer.scale.1, layer.mode);
    let count = rows[0].len() * cols[0].len();
    let mut taps = Taps {
        rows: vec![Vec::new(); count],
        weights: vec![Vec::new(); count],
    };
    for c in 0..channels {
        for row in &rows {
            for col in &cols {
                let pairs = row.iter().flat_map(|&(y, wy)| {
                    col.iter()
                        .map(move |&(x, wx)| ((c * h + y) * w + x, wy * wx))
                });
                for (t, (source, weight)) in pairs.enumerate() {
                    taps.rows[t].push(source);
                    taps.weights[t].push(weight);
                }
            }
        }
    }
    taps
}

impl<T: MatScalar> Layer<T> for Upsample {
    /// Each image enlarged.
    ///
    /// # Panics
    /// If `x` does not have `channels·height·width` rows ([`Layer::predict`] and
    /// [`train`](crate::train()) report it as [`NnError::ShapeMismatch`] first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, _: &mut Context<T>) -> MatVar<T> {
        assert_image_rows("Upsample", x.nrows(), self.input);
        let Taps { rows, weights } = image_taps(self);
        if let [only] = rows.as_slice() {
            return x.take_rows(only);
        }
        rows.iter()
            .zip(&weights)
            .map(|(rows, weights)| {
                let weights = DMatrix::from_iterator(
                    weights.len(),
                    1,
                    weights
                        .iter()
                        .map(|&v| T::from_f64(v).unwrap_or_else(T::zero)),
                );
                x.take_rows(rows).component_mul(MatVar::constant(weights))
            })
            .reduce(|sum, term| sum + term)
            .expect("an upsampling tap")
    }

    fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<T>)) {}

    fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<T>)) {}

    fn input_size(&self) -> Option<usize> {
        Some(self.input.0 * self.input.1 * self.input.2)
    }

    fn output_size(&self) -> Option<usize> {
        let (c, h, w) = self.output_shape();
        Some(c * h * w)
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
impl Cast for Upsample {
    type Output<U: MatScalar> = Upsample;

    fn cast<U: MatScalar>(&self) -> Result<Upsample, NnError> {
        Ok(*self)
    }
}
