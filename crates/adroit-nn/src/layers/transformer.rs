//! [`TransformerEncoderLayer`]: self-attention and a feed-forward network, each in a residual
//! block with layer normalisation, over the steps of a sequence.

use super::padding::{
    fill_padding, real_steps, steps_and_batch, whole_steps, zero_padding_columns,
};
use crate::error::check_shape;
use crate::{
    Activation, Cast, CastSlot, Context, Dense, Dropout, Layer, LayerNorm, MultiHeadAttention,
    NnError,
};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// A transformer encoder layer (Vaswani et al. 2017): PyTorch's
/// `nn.TransformerEncoderLayer(dim, heads, feedforward, batch_first=True)`, its parameters of
/// the same names, so a PyTorch state dict loads as it is (see [`io`](crate::io)). For each
/// step `x` of a sequence, with the attention `A` over the sequence's steps
/// ([`MultiHeadAttention`]), the feed-forward network `F(x) = W₂·σ(W₁·x + b₁) + b₂`
/// (`linear1`, `linear2`; `σ` ReLU by default) and dropout `D`:
///
/// ```text
/// post-norm (the default):    y = norm1(x + D(A(x)));         out = norm2(y + D(F(y)))
/// pre-norm (norm_first):      y = x + D(A(norm1(x)));         out = y + D(F(norm2(y)))
/// ```
///
/// with `D` also between `σ` and `W₂` (PyTorch's `dropout1`, `dropout` and `dropout2`; all
/// three use [`dropout`](Self::dropout), `p` = 0.1 by default, in [`Mode::Train`] only).
/// PyTorch also drops attention weights inside the attention; this layer does not. The
/// layer norms act on each step's `dim` features (ε = 10⁻⁵).
///
/// [`causal`](Self::causal) makes each step attend only to itself and the steps before it
/// (PyTorch's causal `src_mask`, `True` above the diagonal, with its `is_causal=True` hint); [`masking`](Self::masking) skips padding steps (PyTorch's
/// `src_key_padding_mask`): they are no step's keys, and their outputs are the mask value,
/// so that encoder layers stacked in a [`Chain`](crate::Chain) skip them too — whatever the
/// mask value, unlike a hand-built residual block (see
/// [`MultiHeadAttention::masking`]).
///
/// Positions are not encoded: put a [`PositionalEncoding`](crate::PositionalEncoding) before
/// the first layer if order matters.
///
/// Shapes: `x` and the output are `(dim·steps) × batch` (rows `t·dim .. (t + 1)·dim` step
/// `t`: PyTorch's `(batch, steps, dim)` tensor as `x.reshape(batch, -1).T`). Parameters:
/// `self_attn.in_proj_weight` (`3·dim × dim`), `self_attn.in_proj_bias`,
/// `self_attn.out_proj.weight` (`dim × dim`), `self_attn.out_proj.bias`, `linear1.weight`
/// (`feedforward × dim`), `linear1.bias`, `linear2.weight` (`dim × feedforward`),
/// `linear2.bias`, `norm1.weight`, `norm1.bias`, `norm2.weight`, `norm2.bias` (the norms'
/// `scale` and `bias`).
///
/// [`Mode::Train`]: crate::Mode::Train
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Chain, Layer, TransformerEncoderLayer};
/// let mut rng = StdRng::seed_from_u64(0);
/// // Two layers over steps of 8 features, 2 heads, a feed-forward width of 32.
/// let encoder = Chain::new()
///     .push(TransformerEncoderLayer::new(8, 2, 32, &mut rng).unwrap())
///     .push(TransformerEncoderLayer::new(8, 2, 32, &mut rng).unwrap());
/// // 3 sequences of 5 steps.
/// let x = DMatrix::<f64>::from_fn(40, 3, |r, c| ((r * 3 + c) as f64).cos());
/// assert_eq!(encoder.predict(&x).unwrap().shape(), (40, 3));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerEncoderLayer<T> {
    /// The self-attention; its `causal` and `mask_value` are the layer's.
    pub self_attn: MultiHeadAttention<T>,
    /// `W₁`, `b₁` and `σ`: `dim → feedforward`.
    pub linear1: Dense<T>,
    /// `W₂`, `b₂`: `feedforward → dim`, no activation.
    pub linear2: Dense<T>,
    /// The layer norm of the attention's block.
    pub norm1: LayerNorm<T>,
    /// The layer norm of the feed-forward block.
    pub norm2: LayerNorm<T>,
    /// The dropout of both blocks' outputs and of the feed-forward network's hidden layer.
    pub dropout: Dropout,
    /// Layer norms on each block's input instead of its output (PyTorch's `norm_first`).
    pub norm_first: bool,
}

impl<T: MatScalar> TransformerEncoderLayer<T> {
    /// PyTorch's defaults: `heads` heads over steps of `dim` features, a ReLU feed-forward
    /// network of width `feedforward`, dropout 0.1, post-norm, not causal, no masking.
    /// Weights Glorot-uniform (seeded by `rng`: the attention's, then `linear1`'s and
    /// `linear2`'s; PyTorch draws its linear layers' weights from `U(±1/√in)`, so set the
    /// fields to start from PyTorch's), biases 0, the norms' `scale` 1 and `bias` 0.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `heads` is 0 or does not divide `dim`, or `dim` or
    /// `feedforward` is 0.
    ///
    /// # Panics
    /// If a weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold, as [`MultiHeadAttention::new`] and [`Dense::new`].
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{NnError, TransformerEncoderLayer};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let layer = TransformerEncoderLayer::<f32>::new(16, 4, 64, &mut rng).unwrap();
    /// assert_eq!(layer.linear1.weight.shape(), (64, 16));
    /// let bad = TransformerEncoderLayer::<f32>::new(16, 3, 64, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    #[track_caller]
    pub fn new(
        dim: usize,
        heads: usize,
        feedforward: usize,
        rng: &mut impl Rng,
    ) -> Result<Self, NnError> {
        let self_attn = MultiHeadAttention::new(dim, heads, rng)?;
        if feedforward == 0 {
            return Err(NnError::InvalidConfig {
                name: "TransformerEncoderLayer",
                reason: "the feed-forward width must be at least 1".to_string(),
            });
        }
        Ok(Self {
            self_attn,
            linear1: Dense::new(dim, feedforward, Activation::Relu, rng),
            linear2: Dense::new(feedforward, dim, Activation::Identity, rng),
            norm1: LayerNorm::new(dim),
            norm2: LayerNorm::new(dim),
            dropout: Dropout::new(0.1)?,
            norm_first: false,
        })
    }

    /// The same layer with its layer norms on each block's input (PyTorch's
    /// `norm_first=True`, the "pre-LN" transformer of Xiong et al. 2020, which trains
    /// without a learning-rate warm-up).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::TransformerEncoderLayer;
    /// let layer = TransformerEncoderLayer::<f64>::new(4, 2, 8, &mut StdRng::seed_from_u64(0));
    /// assert!(layer.unwrap().norm_first().norm_first);
    /// ```
    pub fn norm_first(mut self) -> Self {
        self.norm_first = true;
        self
    }

    /// The same layer with each step attending only to itself and the steps before it
    /// ([`MultiHeadAttention::causal`]).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::TransformerEncoderLayer;
    /// let layer = TransformerEncoderLayer::<f64>::new(4, 2, 8, &mut StdRng::seed_from_u64(0));
    /// assert!(layer.unwrap().causal().self_attn.causal);
    /// ```
    pub fn causal(mut self) -> Self {
        self.self_attn.causal = true;
        self
    }

    /// The same layer skipping padding steps, those whose every feature equals `mask_value`:
    /// no step attends to them and their outputs are `mask_value` (see
    /// [`Layer::mask_value`] for the rule; a value that is not finite is refused by
    /// [`check_params`](Layer::check_params); any finite one works, even `f64::MIN`: the layer
    /// computes padding steps as zeros).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Layer, TransformerEncoderLayer};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let layer = TransformerEncoderLayer::<f64>::new(2, 1, 4, &mut rng).unwrap().masking(-1.0);
    /// // Two sequences of 3 steps; the second's last step is padding.
    /// let mut x = DMatrix::from_fn(6, 2, |r, c| (r + c) as f64 / 4.0);
    /// x.view_mut((4, 1), (2, 1)).fill(-1.0);
    /// let y = layer.predict(&x).unwrap();
    /// assert_eq!((y[(4, 1)], y[(5, 1)]), (-1.0, -1.0));
    /// // The real steps are those of the sequence alone.
    /// let alone = layer.predict(&x.view((0, 1), (4, 1)).into_owned()).unwrap();
    /// assert!((y.view((0, 1), (4, 1)) - alone).amax() < 1e-12);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.self_attn.mask_value = Some(mask_value);
        self
    }

    /// The features of a step.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::TransformerEncoderLayer;
    /// let layer = TransformerEncoderLayer::<f64>::new(6, 3, 8, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(layer.unwrap().dim(), 6);
    /// ```
    pub fn dim(&self) -> usize {
        self.self_attn.dim()
    }

    /// `F(x)`, with dropout on its hidden layer, for steps as columns.
    fn feed_forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let hidden = self.linear1.forward(x, ctx);
        let hidden = self.dropout.forward(hidden, ctx);
        self.linear2.forward(hidden, ctx)
    }
}

impl<T: MatScalar> Layer<T> for TransformerEncoderLayer<T> {
    /// Every step's output, `(dim·steps) × batch`, for `x`: `(dim·steps) × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features, or the parameters do not fit
    /// ([`Layer::predict`], [`train`](crate::train()) and the other entry points report both
    /// as errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("TransformerEncoderLayer: {e}");
        }
        let dim = self.dim();
        let (steps, batch) = steps_and_batch("TransformerEncoderLayer", &x, dim);
        if steps == 0 || batch == 0 {
            return x;
        }
        // Read from the layer's own input: after a norm, padding no longer shows.
        let mask_value = self.self_attn.mask_value;
        let real = real_steps(&x, dim, mask_value);
        let real = real.as_ref();
        // Each step a column from here on; padding steps as zeros (their outputs are set to
        // the mask value at the end): a value like −1e308 would overflow in the norms' sums.
        let x = x.reshape(dim, steps * batch);
        let x = zero_padding_columns(x, real);
        let y = if self.norm_first {
            let normed = self.norm1.forward(x, ctx);
            let attended = self.self_attn.attend(normed, steps, real, ctx);
            let y = x + self.dropout.forward(attended, ctx);
            let normed = self.norm2.forward(y, ctx);
            let fed = self.feed_forward(normed, ctx);
            y + self.dropout.forward(fed, ctx)
        } else {
            let attended = self.self_attn.attend(x, steps, real, ctx);
            let y = self
                .norm1
                .forward(x + self.dropout.forward(attended, ctx), ctx);
            let fed = self.feed_forward(y, ctx);
            self.norm2.forward(y + self.dropout.forward(fed, ctx), ctx)
        };
        fill_padding(y, real, mask_value).reshape(dim * steps, batch)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.self_attn.visit(&format!("{prefix}self_attn."), f);
        self.linear1.visit(&format!("{prefix}linear1."), f);
        self.linear2.visit(&format!("{prefix}linear2."), f);
        // PyTorch's names for the norms' γ (a LayerNorm alone calls it `scale`).
        for (name, norm) in [("norm1", &self.norm1), ("norm2", &self.norm2)] {
            f(&format!("{prefix}{name}.weight"), &norm.scale);
            f(&format!("{prefix}{name}.bias"), &norm.bias);
        }
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.self_attn.visit_mut(f);
        self.linear1.visit_mut(f);
        self.linear2.visit_mut(f);
        self.norm1.visit_mut(f);
        self.norm2.visit_mut(f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.self_attn.visit_params(f);
        self.linear1.visit_params(f);
        self.linear2.visit_params(f);
        self.norm1.visit_params(f);
        self.norm2.visit_params(f);
    }

    /// The attention's mask value ([`masking`](TransformerEncoderLayer::masking)), if any.
    fn mask_value(&self) -> Option<f64> {
        self.self_attn.mask_value
    }

    fn preserves_size(&self) -> bool {
        true
    }

    /// `input` itself, if its rows are whole steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        whole_steps("TransformerEncoderLayer input", input, self.dim())
    }

    /// Each part's own check, and that they fit together: `linear1` takes `dim` features to
    /// some width and `linear2` that width back to `dim`, the norms are over `dim` features.
    ///
    /// # Errors
    /// The parts' errors; [`NnError::ShapeMismatch`] naming the part that does not fit.
    fn check_params(&self) -> Result<(), NnError> {
        self.self_attn.check_params()?;
        self.linear1.check_params()?;
        self.linear2.check_params()?;
        self.norm1.check_params()?;
        self.norm2.check_params()?;
        let (dim, width) = (self.dim(), self.linear1.weight.nrows());
        let shapes = [
            ("linear1.weight", (width, dim), self.linear1.weight.shape()),
            ("linear2.weight", (dim, width), self.linear2.weight.shape()),
            ("norm1.scale", (dim, 1), self.norm1.scale.shape()),
            ("norm2.scale", (dim, 1), self.norm2.scale.shape()),
        ];
        for (name, expected, found) in shapes {
            check_shape(&format!("TransformerEncoderLayer {name}"), expected, found)?;
        }
        Ok(())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// Every part converted (see [`Cast`]); `norm_first`, the dropout, the heads, `causal` and
/// the mask value kept.
impl<T: MatScalar> Cast for TransformerEncoderLayer<T> {
    type Output<U: MatScalar> = TransformerEncoderLayer<U>;

    fn cast<U: MatScalar>(&self) -> Result<TransformerEncoderLayer<U>, NnError> {
        Ok(TransformerEncoderLayer {
            self_attn: self.self_attn.cast()?,
            linear1: self.linear1.cast()?,
            linear2: self.linear2.cast()?,
            norm1: self.norm1.cast()?,
            norm2: self.norm2.cast()?,
            dropout: self.dropout,
            norm_first: self.norm_first,
        })
    }
}
