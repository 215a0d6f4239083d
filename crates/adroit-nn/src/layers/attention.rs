//! [`MultiHeadAttention`]: multi-head scaled dot-product self-attention over the steps of a
//! sequence.

use super::padding::{
    check_mask_value, fill_padding, real_steps, steps_and_batch, whole_steps, zero_padding_columns,
};
use crate::cast::cast_matrix;
use crate::error::check_shape;
use crate::{Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{Along, MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// Multi-head scaled dot-product self-attention (Vaswani et al. 2017, "Attention is all you
/// need"): PyTorch's `nn.MultiheadAttention(dim, heads, batch_first=True)` called as
/// `attn(x, x, x)`, Flux's `MultiHeadAttention`. Every step of a sequence attends to every
/// step (or, [`causal`](Self::causal), to itself and the steps before it): with the
/// projections `q = W_q·x + b_q`, `k = W_k·x + b_k`, `v = W_v·x + b_v` of each step split
/// into `heads` parts of `dim/heads` features, each head's output at step `i` is
///
/// ```text
/// Σⱼ softmaxⱼ(kⱼ·qᵢ / √(dim/heads)) vⱼ
/// ```
///
/// and the heads' outputs, stacked, go through `W_o·… + b_o`. No dropout on the attention
/// weights (PyTorch's `dropout=0.0`, its default). Sequences of different lengths padded to
/// one batch: [`masking`](Self::masking). Each head of each sequence is recorded as its own
/// small products on the tape, so the cost grows with `batch·heads` nodes: a layer for small
/// models.
///
/// Shapes: `x` is `(dim·steps) × batch` as for the recurrent layers (rows `t·dim .. (t +
/// 1)·dim` holding step `t`: PyTorch's `(batch, steps, dim)` tensor as `x.reshape(batch,
/// -1).T`), and so is the output. Parameters, named as PyTorch's: `in_proj_weight`, `3·dim
/// × dim` (`W_q`, `W_k`, `W_v` stacked), `in_proj_bias`, `3·dim × 1`, `out_proj.weight`,
/// `dim × dim`, `out_proj.bias`, `dim × 1` — so a PyTorch state dict loads as it is (its 1-D
/// biases too, see [`io`](crate::io)).
///
/// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer) is the transformer's block
/// built on it. Other blocks are built from it and per-step layers: the attention in a
/// [`SkipConnection`](crate::SkipConnection) with [`Connection::Add`](crate::Connection::Add),
/// a per-step [`LayerNorm`](crate::LayerNorm) and feed-forward network each through
/// [`TimeDistributed`](crate::TimeDistributed) (a `LayerNorm` alone would normalise over all
/// the steps of a column). Positions are not encoded: attention treats a sequence's steps as
/// a set, so put a [`PositionalEncoding`](crate::PositionalEncoding) before it if order
/// matters.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Layer, MultiHeadAttention};
/// let attention = MultiHeadAttention::<f64>::new(8, 2, &mut StdRng::seed_from_u64(0)).unwrap();
/// // 5 sequences of 3 steps of 8 features.
/// let x = DMatrix::from_fn(24, 5, |r, c| ((r * 5 + c) as f64).sin());
/// assert_eq!(attention.predict(&x).unwrap().shape(), (24, 5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct MultiHeadAttention<T> {
    /// `W_q`, `W_k` and `W_v` stacked, `3·dim × dim`.
    pub in_proj_weight: DMatrix<T>,
    /// `b_q`, `b_k` and `b_v` stacked, `3·dim × 1`.
    pub in_proj_bias: DMatrix<T>,
    /// `W_o`, `dim × dim`.
    pub out_proj_weight: DMatrix<T>,
    /// `b_o`, `dim × 1`.
    pub out_proj_bias: DMatrix<T>,
    /// Each step attends only to itself and the steps before it.
    pub causal: bool,
    /// Steps whose every feature equals this value are padding ([`MultiHeadAttention::masking`]);
    /// `None`: every step is real.
    pub mask_value: Option<f64>,
    heads: usize,
}

impl<T: MatScalar> MultiHeadAttention<T> {
    /// Attention over steps of `dim` features in `heads` heads, every step attending to every
    /// step, with Glorot-uniform weights (seeded by `rng`; `in_proj_weight` drawn as one `3·dim
    /// × dim` matrix, as PyTorch's `xavier_uniform_`, then `out_proj.weight`) and zero biases.
    /// (PyTorch draws `out_proj.weight` as an `nn.Linear`'s; set the field for other values.)
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `heads` is 0 or does not divide `dim`, or `dim` is 0.
    ///
    /// # Panics
    /// If the `3·dim × dim` input projection would have more entries than `usize` counts or
    /// more bytes than an allocation can hold (`isize::MAX`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{MultiHeadAttention, NnError};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let attention = MultiHeadAttention::<f32>::new(16, 4, &mut rng).unwrap();
    /// assert_eq!((attention.dim(), attention.heads()), (16, 4));
    /// assert_eq!(attention.in_proj_weight.shape(), (48, 16));
    /// let bad = MultiHeadAttention::<f32>::new(16, 3, &mut rng);
    /// assert!(matches!(bad, Err(NnError::InvalidConfig { .. })));
    /// ```
    #[track_caller]
    pub fn new(dim: usize, heads: usize, rng: &mut impl Rng) -> Result<Self, NnError> {
        check_heads(dim, heads)?;
        assert!(
            dim <= usize::MAX / 3,
            "MultiHeadAttention::new: dim {dim} is too large (the input projection's 3·dim \
             rows overflow usize)"
        );
        init::check_size::<T>("MultiHeadAttention::new", 3 * dim, dim);
        Ok(Self {
            in_proj_weight: init::glorot_uniform(rng, 3 * dim, dim),
            in_proj_bias: DMatrix::zeros(3 * dim, 1),
            out_proj_weight: init::glorot_uniform(rng, dim, dim),
            out_proj_bias: DMatrix::zeros(dim, 1),
            causal: false,
            mask_value: None,
            heads,
        })
    }

    /// A layer from given parameters (shapes as on the type; `dim` is `out_proj_weight`'s
    /// size), every step attending to every step.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the shapes do not fit together; [`NnError::InvalidConfig`]
    /// if `heads` is 0 or does not divide `dim`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Layer, MultiHeadAttention};
    /// // One feature, one head; values v = x, queries and keys 0: every step's output is the
    /// // mean of the steps' values.
    /// let w_in = dmatrix![0.0; 0.0; 1.0];
    /// let attention = MultiHeadAttention::from_parts(w_in, DMatrix::zeros(3, 1),
    ///     dmatrix![1.0], dmatrix![0.0], 1).unwrap();
    /// let y = attention.predict(&dmatrix![1.0; 2.0; 6.0]).unwrap(); // 3 steps
    /// assert_eq!(y, dmatrix![3.0; 3.0; 3.0]);
    /// // Causal: step t averages steps 0..=t.
    /// let y = attention.causal().predict(&dmatrix![1.0; 2.0; 6.0]).unwrap();
    /// assert_eq!(y, dmatrix![1.0; 1.5; 3.0]);
    /// ```
    pub fn from_parts(
        in_proj_weight: DMatrix<T>,
        in_proj_bias: DMatrix<T>,
        out_proj_weight: DMatrix<T>,
        out_proj_bias: DMatrix<T>,
        heads: usize,
    ) -> Result<Self, NnError> {
        let layer = Self {
            in_proj_weight,
            in_proj_bias,
            out_proj_weight,
            out_proj_bias,
            causal: false,
            mask_value: None,
            heads,
        };
        layer.check_params()?;
        Ok(layer)
    }

    /// The same layer with each step attending only to itself and the steps before it
    /// (PyTorch's causal `attn_mask`, `−∞` or `True` above the diagonal, which its
    /// `is_causal=True` hints at): the
    /// decoder's self-attention, whose output at step `t` does not depend on later steps.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::MultiHeadAttention;
    /// let attention = MultiHeadAttention::<f64>::new(4, 2, &mut StdRng::seed_from_u64(0));
    /// assert!(attention.unwrap().causal().causal);
    /// ```
    pub fn causal(mut self) -> Self {
        self.causal = true;
        self
    }

    /// The same layer skipping padding steps: a step of a sequence whose every feature equals
    /// `mask_value` is padding — no step attends to it (PyTorch's `key_padding_mask`), and its
    /// own output is `mask_value` in every feature, as a masked recurrent layer's (see
    /// [`Layer::mask_value`] for the rule and its caveats), so that layers after it can skip
    /// it too. In a residual block ([`Connection::Add`](crate::Connection::Add)) the block
    /// outputs the input plus that, `2·mask_value` at padding steps: only a mask value of 0
    /// passes through such blocks unchanged, so pad with 0 when stacking them. A
    /// `mask_value` that is not finite is refused by [`check_params`](Layer::check_params);
    /// any finite one works, even `f64::MIN`: padding steps are projected as zeros (their
    /// values would not reach a real step's output anyway, but projected as they are they
    /// could overflow, and a zero weight times ∞ is NaN).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Layer, MultiHeadAttention};
    /// // Outputs the mean of the steps' values (see `from_parts`): over the real steps only.
    /// let attention = MultiHeadAttention::from_parts(dmatrix![0.0; 0.0; 1.0],
    ///     DMatrix::zeros(3, 1), dmatrix![1.0], dmatrix![0.0], 1).unwrap().masking(-1.0);
    /// // Sequences (1, 2, 6) and (4, 8), padded with −1.
    /// let y = attention.predict(&dmatrix![1.0, 4.0; 2.0, 8.0; 6.0, -1.0]).unwrap();
    /// assert_eq!(y, dmatrix![3.0, 6.0; 3.0, 6.0; 3.0, -1.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The features of a step (`out_proj_weight`'s size).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::MultiHeadAttention;
    /// let attention = MultiHeadAttention::<f64>::new(6, 3, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(attention.unwrap().dim(), 6);
    /// ```
    pub fn dim(&self) -> usize {
        self.out_proj_weight.ncols()
    }

    /// The number of heads.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::MultiHeadAttention;
    /// let attention = MultiHeadAttention::<f64>::new(6, 3, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(attention.unwrap().heads(), 3);
    /// ```
    pub fn heads(&self) -> usize {
        self.heads
    }
}

impl<T: MatScalar> MultiHeadAttention<T> {
    /// The attention output of every step of `x`, `dim × (steps·batch)` (sequence `b`'s steps
    /// at columns `b·steps ..`), in the same layout; with `real` (`steps × batch`) the steps
    /// marked false are read as zeros, are no query's keys, and their own outputs are left as
    /// computed (finite, for the callers to replace). The parameters must fit (checked by the
    /// callers).
    pub(crate) fn attend(
        &self,
        x: MatVar<T>,
        steps: usize,
        real: Option<&DMatrix<bool>>,
        ctx: &mut Context<T>,
    ) -> MatVar<T> {
        let (dim, heads) = (self.dim(), self.heads);
        let (width, batch) = (dim / heads, x.ncols() / steps.max(1));
        let w_in = ctx.param(&self.in_proj_weight);
        let b_in = ctx.param(&self.in_proj_bias);
        let w_out = ctx.param(&self.out_proj_weight);
        let b_out = ctx.param(&self.out_proj_bias);
        // Padding steps projected as zeros: their keys are masked out and their outputs
        // replaced, but a mask value such as −1e308 could project to an infinite value, and
        // its zero attention weight times ∞ would make the real steps' outputs NaN.
        let x = zero_padding_columns(x, real);
        // Every step's query, key and value stacked, 3·dim rows.
        let qkv = w_in.affine(x, b_in);
        let scale = T::from_f64(1.0 / (width as f64).sqrt()).unwrap_or_else(T::one);
        let minus_infinity = MatVar::constant(DMatrix::from_element(1, 1, T::neg_infinity()));
        let sequences: Vec<MatVar<T>> = (0..batch)
            .map(|b| {
                let part = |block: usize, h: usize| {
                    qkv.view((block * dim + h * width, b * steps), (width, steps))
                };
                let allowed = self.allowed(real, b, steps);
                let outputs: Vec<MatVar<T>> = (0..heads)
                    .map(|h| {
                        // Keys × queries: each column holds one query's scores.
                        let mut scores = (part(1, h).transpose() * part(0, h)) * scale;
                        if let Some(allowed) = &allowed {
                            scores = MatVar::select(allowed, scores, minus_infinity);
                        }
                        part(2, h) * scores.softmax(Along::Rows)
                    })
                    .collect();
                MatVar::vcat(&outputs)
            })
            .collect();
        w_out.affine(MatVar::hcat(&sequences), b_out)
    }
}

impl<T> MultiHeadAttention<T> {
    /// Which keys (rows) each query (column) of sequence `b` may read, `steps × steps`, or
    /// `None` for all: with `causal` the keys up to the query; with padding (`real`, `steps ×
    /// batch`) the real keys — a padding query, whose output is replaced, reads every key (so
    /// that its softmax has a finite entry).
    fn allowed(
        &self,
        real: Option<&DMatrix<bool>>,
        b: usize,
        steps: usize,
    ) -> Option<DMatrix<bool>> {
        let is_real = |t: usize| real.is_none_or(|r| r[(t, b)]);
        let padded = (0..steps).any(|t| !is_real(t));
        (self.causal || padded).then(|| {
            DMatrix::from_fn(steps, steps, |j, i| {
                !is_real(i) || (is_real(j) && (!self.causal || j <= i))
            })
        })
    }
}

/// Checks that `heads` divides `dim`, both at least 1 (PyTorch's rule).
///
/// # Errors
/// [`NnError::InvalidConfig`] if not.
fn check_heads(dim: usize, heads: usize) -> Result<(), NnError> {
    if dim == 0 || heads == 0 || !dim.is_multiple_of(heads) {
        return Err(NnError::InvalidConfig {
            name: "MultiHeadAttention",
            reason: format!(
                "{heads} heads must divide the {dim} features of a step (each at least 1)"
            ),
        });
    }
    Ok(())
}

impl<T: MatScalar> Layer<T> for MultiHeadAttention<T> {
    /// The value given to [`masking`](MultiHeadAttention::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// Every step's attention output, `(dim·steps) × batch`, for `x`: `(dim·steps) × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps of `dim` features, or the parameters do not fit
    /// ([`Layer::predict`], [`train`](crate::train()) and the other entry points report both
    /// as errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("MultiHeadAttention: {e}");
        }
        let dim = self.dim();
        let (steps, batch) = steps_and_batch("MultiHeadAttention", &x, dim);
        if steps == 0 || batch == 0 {
            return x;
        }
        // Which steps are real (steps × batch), where some are padding.
        let real = real_steps(&x, dim, self.mask_value);
        let y = self.attend(x.reshape(dim, steps * batch), steps, real.as_ref(), ctx);
        fill_padding(y, real.as_ref(), self.mask_value).reshape(dim * steps, batch)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}in_proj_weight"), &self.in_proj_weight);
        f(&format!("{prefix}in_proj_bias"), &self.in_proj_bias);
        f(&format!("{prefix}out_proj.weight"), &self.out_proj_weight);
        f(&format!("{prefix}out_proj.bias"), &self.out_proj_bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.in_proj_weight);
        f(&mut self.in_proj_bias);
        f(&mut self.out_proj_weight);
        f(&mut self.out_proj_bias);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.in_proj_weight);
        f(&self.in_proj_bias);
        f(&self.out_proj_weight);
        f(&self.out_proj_bias);
    }

    fn preserves_size(&self) -> bool {
        true
    }

    /// `input` itself, if its rows are whole steps of `dim` features.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if they are not.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        whole_steps("MultiHeadAttention input", input, self.dim())
    }

    /// `out_proj.weight` must be `dim × dim`, `in_proj_weight` `3·dim × dim`, the biases
    /// `3·dim × 1` and `dim × 1`, and `heads` must divide `dim`.
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("MultiHeadAttention", self.mask_value)?;
        let dim = self.dim();
        check_shape(
            "MultiHeadAttention out_proj.weight",
            (dim, dim),
            self.out_proj_weight.shape(),
        )?;
        check_heads(dim, self.heads)?;
        check_shape(
            "MultiHeadAttention in_proj_weight",
            (3 * dim, dim),
            self.in_proj_weight.shape(),
        )?;
        check_shape(
            "MultiHeadAttention in_proj_bias",
            (3 * dim, 1),
            self.in_proj_bias.shape(),
        )?;
        check_shape(
            "MultiHeadAttention out_proj.bias",
            (dim, 1),
            self.out_proj_bias.shape(),
        )
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weights and biases converted (see [`Cast`]); the heads, `causal` and the mask value
/// kept.
impl<T: MatScalar> Cast for MultiHeadAttention<T> {
    type Output<U: MatScalar> = MultiHeadAttention<U>;

    fn cast<U: MatScalar>(&self) -> Result<MultiHeadAttention<U>, NnError> {
        Ok(MultiHeadAttention {
            in_proj_weight: cast_matrix(&self.in_proj_weight),
            in_proj_bias: cast_matrix(&self.in_proj_bias),
            out_proj_weight: cast_matrix(&self.out_proj_weight),
            out_proj_bias: cast_matrix(&self.out_proj_bias),
            causal: self.causal,
            mask_value: self.mask_value,
            heads: self.heads,
        })
    }
}
