//! [`GroupNorm`]: normalisation over groups of channels of each image.

use super::normalise::{check_epsilon, standardise};
use super::window::{assert_image_rows, check_images};
use crate::cast::{cast_entry, cast_matrix};
use crate::error::check_shape;
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// `y = γ ⊙ (x − μ)/√(σ² + ε) + β` with the mean `μ` and (biased) variance `σ²` of each image's
/// channels taken in `groups` groups of `channels/groups` consecutive channels, over all their
/// pixels (Wu & He 2018; PyTorch's `GroupNorm(groups, channels)`, Flux's
/// `GroupNorm(channels, groups)`; ε = 1e-5 as both). `γ` (`scale`, initialised to 1) and `β`
/// (`bias`, 0) are `channels × 1`, one per channel. Unlike [`BatchNorm`](super::BatchNorm) it
/// does not depend on the batch, so training and evaluation agree and a batch of one works.
///
/// `groups = 1` normalises each image as a whole (PyTorch's `LayerNorm([C, H, W])` with
/// per-channel `γ`, `β`); `groups = channels` normalises each channel of each image
/// (PyTorch's `InstanceNorm2d(C, affine=True)`). A group whose squared deviations overflow is
/// handled as in [`LayerNorm`](super::LayerNorm).
///
/// Shapes: `x` and `y` are `(channels·height·width) × batch` in [`Conv2d`](super::Conv2d)'s
/// pixel order.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::{GroupNorm, Layer};
/// // 4 channels of 2 × 2 pixels in 2 groups: channels 0–1 and 2–3 each get mean 0 and
/// // variance 1 (up to ε) per image.
/// let norm = GroupNorm::<f64>::new((4, 2, 2), 2).unwrap();
/// let x = DMatrix::from_fn(16, 3, |r, b| (r * r) as f64 + 10.0 * b as f64);
/// let y = norm.predict(&x).unwrap();
/// for b in 0..3 {
///     for group in [0..8, 8..16] {
///         let part = y.view((group.start, b), (8, 1));
///         assert!(part.mean().abs() < 1e-12);
///         assert!((part.map(|v| v * v).mean() - 1.0).abs() < 1e-4);
///     }
/// }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct GroupNorm<T> {
    /// `γ`, `channels × 1`.
    pub scale: DMatrix<T>,
    /// `β`, `channels × 1`.
    pub bias: DMatrix<T>,
    /// `ε`.
    pub epsilon: T,
    input: (usize, usize, usize),
    groups: usize,
}

impl<T: MatScalar> GroupNorm<T> {
    /// Normalisation of `input = (channels, height, width)` images in `groups` groups of
    /// channels, with `γ = 1`, `β = 0`, `ε = 1e-5`.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if a dimension of `input` is 0, an image's features
    /// [exceed what an allocation holds](crate#sizes-and-memory), or `groups` is 0 or does not
    /// divide the channels.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{GroupNorm, NnError};
    /// let norm = GroupNorm::<f32>::new((32, 8, 8), 8).unwrap();
    /// assert_eq!((norm.groups(), norm.scale.shape()), (8, (32, 1)));
    /// assert!(matches!(GroupNorm::<f32>::new((32, 8, 8), 5), Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new(input: (usize, usize, usize), groups: usize) -> Result<Self, NnError> {
        // Bounds the features per image, so the channels' scale and bias fit an allocation.
        check_images("GroupNorm", input)?;
        let channels = input.0;
        if groups == 0 || !channels.is_multiple_of(groups) {
            return Err(NnError::InvalidConfig {
                name: "GroupNorm",
                reason: format!(
                    "{groups} groups for {channels} channels (at least one group, dividing \
                     the channels)"
                ),
            });
        }
        Ok(Self {
            scale: DMatrix::from_element(channels, 1, T::one()),
            bias: DMatrix::zeros(channels, 1),
            epsilon: T::from_f64(1e-5).unwrap_or_else(T::zero),
            input,
            groups,
        })
    }

    /// The number of groups.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::GroupNorm;
    /// assert_eq!(GroupNorm::<f64>::new((6, 4, 4), 3).unwrap().groups(), 3);
    /// ```
    pub fn groups(&self) -> usize {
        self.groups
    }

    /// The images' `(channels, height, width)`, the same in and out.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::GroupNorm;
    /// assert_eq!(GroupNorm::<f64>::new((6, 4, 5), 3).unwrap().input_shape(), (6, 4, 5));
    /// ```
    pub fn input_shape(&self) -> (usize, usize, usize) {
        self.input
    }
}

impl<T: MatScalar> Layer<T> for GroupNorm<T> {
    /// `γ ⊙ (x − μ)/√(σ² + ε) + β` per image and group of channels, for `x`:
    /// `(channels·height·width) × batch`.
    ///
    /// # Panics
    /// If `x` does not have `channels·height·width` rows, or `scale` or `bias` was set to a
    /// matrix that is not `channels × 1` ([`Layer::predict`] and [`train`](crate::train())
    /// report these as [`NnError::ShapeMismatch`] first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        assert_image_rows("GroupNorm", x.nrows(), self.input);
        if let Err(e) = self.check_params() {
            panic!("GroupNorm: {e}");
        }
        let (channels, h, w) = self.input;
        let (features, batch) = (channels * h * w, x.ncols());
        // Each image's groups are consecutive blocks of its column: one column per group.
        let per_group = features / self.groups;
        let normalised = standardise(
            x.reshape(per_group, self.groups * batch),
            Along::Rows,
            self.epsilon,
        )
        .output
        .reshape(features, batch);
        let channel_of_row: Vec<usize> = (0..features).map(|r| r / (h * w)).collect();
        let scale = ctx.param(&self.scale).take_rows(&channel_of_row);
        let bias = ctx.param(&self.bias).take_rows(&channel_of_row);
        normalised.component_mul(scale) + bias
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}scale"), &self.scale);
        f(&format!("{prefix}bias"), &self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.scale);
        f(&mut self.bias);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.scale);
        f(&self.bias);
    }

    /// `scale` and `bias` must both be `channels × 1`, `epsilon` finite and `≥ 0`.
    fn check_params(&self) -> Result<(), NnError> {
        let column = (self.input.0, 1);
        check_shape("GroupNorm scale", column, self.scale.shape())?;
        check_shape("GroupNorm bias", column, self.bias.shape())?;
        check_epsilon("GroupNorm epsilon", self.epsilon)
    }

    fn input_size(&self) -> Option<usize> {
        Some(self.input.0 * self.input.1 * self.input.2)
    }

    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        Some(self.input)
    }

    fn preserves_size(&self) -> bool {
        true
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// `γ`, `β` and `ε` converted (see [`Cast`]); the shape and groups kept.
impl<T: MatScalar> Cast for GroupNorm<T> {
    type Output<U: MatScalar> = GroupNorm<U>;

    fn cast<U: MatScalar>(&self) -> Result<GroupNorm<U>, NnError> {
        Ok(GroupNorm {
            scale: cast_matrix(&self.scale),
            bias: cast_matrix(&self.bias),
            epsilon: cast_entry(self.epsilon),
            input: self.input,
            groups: self.groups,
        })
    }
}
