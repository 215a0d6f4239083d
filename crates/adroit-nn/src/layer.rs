//! The [`Layer`] trait and the [`Context`] a forward pass runs in.

use crate::{CastSlot, NnError};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::SeedableRng;
use rand::rngs::StdRng;
use std::cell::Cell;

/// Whether a forward pass is for training (dropout active) or evaluation.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::{Context, Dropout, Layer, Mode};
/// let dropout = Dropout::new(0.5).unwrap();
/// let x = DMatrix::<f64>::from_element(2, 50, 1.0);
/// let run = |mode| {
///     let mut ctx = Context::new(mode, 1);
///     matrix::pullback(|_| dropout.forward(MatVar::constant(x.clone()), &mut ctx), &[]).0
/// };
/// // Eval: the identity. Train: each entry dropped (0) or scaled by 1/(1 − p) = 2.
/// assert_eq!(run(Mode::Eval), x);
/// let y = run(Mode::Train);
/// assert!(y.iter().all(|&v| v == 0.0 || v == 2.0) && y.iter().any(|&v| v == 0.0));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Training: stochastic layers (dropout) are active.
    Train,
    /// Evaluation: stochastic layers are the identity.
    Eval,
}

/// A building block of a model: a differentiable map of a `features × batch` matrix (one
/// sample per column, as Flux) with named parameters.
///
/// Implement it to write your own layer: `forward` uses [`Context::param`] to read each
/// parameter (so gradients reach it: a parameter read any other way, e.g. as
/// `MatVar::constant(self.w.clone())`, is a constant to the tape and gets a zero gradient),
/// and `visit`/`visit_mut` list the parameters in one fixed order. [`train`](crate::train)
/// and [`train_step`](crate::train_step) refuse a model whose forward pass leaves a listed
/// parameter unread or reads an unlisted one through `ctx.param`;
/// [`gradient`](crate::gradient) and gradient checks of
/// [`loss_with_params`](crate::loss_with_params) cannot tell (a parameter read as a constant
/// has the zero gradient its finite differences confirm). A matrix that is not to be trained
/// (a constant, running statistics) is not a parameter: keep it out of `visit`, or optimisers
/// would still change it (weight decay) and `train` refuses the model. Override
/// [`Layer::input_size`] when the layer fixes its number of input features, so that
/// [`train`](crate::train) checks data against it and returns an error; and check the input's
/// shape in `forward` with a clear panic, as [`Dense`](crate::Dense) and
/// [`LayerNorm`](crate::LayerNorm) do (otherwise a mismatch panics inside the matrix operation
/// that meets it, or broadcasting lets it through).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra;
/// use adroit_nn::{Context, Layer};
/// use adroit_nn::adroit_reverse::matrix::MatVar;
/// use adroit_nn::nalgebra::DMatrix;
///
/// /// y = s ⊙ x with a learned per-feature scale s.
/// #[derive(Clone)]
/// struct Scale { s: DMatrix<f64> }
///
/// impl Layer<f64> for Scale {
///     fn forward(&self, x: MatVar<f64>, ctx: &mut Context<f64>) -> MatVar<f64> {
///         x.component_mul(ctx.param(&self.s))
///     }
///     fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {
///         f(&format!("{prefix}s"), &self.s);
///     }
///     fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<f64>)) {
///         f(&mut self.s);
///     }
/// }
///
/// let layer = Scale { s: DMatrix::from_element(2, 1, 3.0) };
/// let (loss, grad) = adroit_nn::gradient(&layer, |m, ctx| {
///     Ok(m.forward(MatVar::constant(nalgebra::dmatrix![1.0; 2.0]), ctx).sum())
/// }).unwrap();
/// assert_eq!((loss, grad.s), (9.0, nalgebra::dmatrix![1.0; 2.0]));
/// ```
pub trait Layer<T: MatScalar> {
    /// The output for input `x` (`features × batch`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Context, Dense, Layer, Mode};
    /// let layer = Dense::from_parts(dmatrix![1.0, -1.0], None, Activation::Relu).unwrap();
    /// // Σ relu(x₀ − x₁) over the samples (columns) [3, 1] and [1, 3], and its gradient in x.
    /// let (y, g) = matrix::value_and_gradient(
    ///     |x| layer.forward(x[0], &mut Context::new(Mode::Eval, 0)).sum(),
    ///     &[dmatrix![3.0, 1.0; 1.0, 3.0]],
    /// );
    /// assert_eq!(y, 2.0); // relu(2) + relu(−2)
    /// assert_eq!(g[0], dmatrix![1.0, 0.0; -1.0, 0.0]); // Wᵀ for the active sample, 0 for the other
    /// ```
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T>;

    /// Calls `f(name, parameter)` for every parameter, in a fixed order; names are prefixed
    /// with `prefix` (e.g. `layers.0.weight`).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer};
    /// let layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Identity).unwrap();
    /// let mut seen = Vec::new();
    /// layer.visit("encoder.", &mut |name, p| seen.push((name.to_string(), p.len())));
    /// assert_eq!(seen, [("encoder.weight".to_string(), 2), ("encoder.bias".to_string(), 1)]);
    /// ```
    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>));

    /// Calls `f` on every parameter mutably, in the same order as [`visit`](Self::visit)
    /// (training, loading and the explicit gradients refuse a model whose orders differ, see
    /// [`check_visit_order`](crate::check_visit_order)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer};
    /// let (w, b) = (dmatrix![1.0, 2.0], Some(dmatrix![0.5]));
    /// let mut layer = Dense::from_parts(w, b, Activation::Identity).unwrap();
    /// layer.visit_mut(&mut |p| p.fill(0.0)); // e.g. reset every parameter
    /// assert_eq!((layer.weight, layer.bias), (dmatrix![0.0, 0.0], Some(dmatrix![0.0])));
    /// ```
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>));

    /// Calls `f(name, matrix)` for every state matrix of the layer: values the forward pass
    /// uses and updates but that are not trained (a [`BatchNorm`](crate::BatchNorm)'s running
    /// mean and variance; PyTorch's buffers, Flux's non-trainable fields), in a fixed order,
    /// names prefixed with `prefix`. Weight files ([`io`](crate::io)) save and load them with
    /// the parameters; optimisers, gradients and [`params`](crate::params) never see them. A
    /// layer proposes new values with [`Context::update_state`] in its forward pass, and
    /// [`train_step`](crate::train_step) sets them after the step succeeds. The default lists
    /// none.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{BatchNorm, Layer};
    /// let bn = BatchNorm::<f64>::new(3);
    /// let mut names = Vec::new();
    /// bn.visit_state("norm.", &mut |name, m| names.push((name.to_string(), m.shape())));
    /// assert_eq!(names, [("norm.running_mean".to_string(), (3, 1)), ("norm.running_var".to_string(), (3, 1))]);
    /// ```
    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        let _ = (prefix, f);
    }

    /// Calls `f` on every state matrix mutably, in the same order as
    /// [`visit_state`](Self::visit_state). The default lists none.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{BatchNorm, Layer};
    /// let mut bn = BatchNorm::<f64>::new(2);
    /// bn.visit_state_mut(&mut |m| m.fill(0.5)); // e.g. set the running statistics by hand
    /// assert_eq!(bn.running_var, DMatrix::from_element(2, 1, 0.5));
    /// ```
    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        let _ = f;
    }

    /// Calls `f` on every parameter, in the same order as [`visit`](Self::visit), without
    /// building names (what every training step uses). The default goes through `visit`; the
    /// layers of this crate override it so that no name is formatted.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{self, SeedableRng};
    /// use adroit_nn::{Activation, Chain, Dense, Layer};
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let model = Chain::<f64>::new()
    ///     .push(Dense::new(4, 3, Activation::Tanh, &mut rng))
    ///     .push(Dense::new(3, 1, Activation::Identity, &mut rng).without_bias());
    /// let mut count = 0;
    /// model.visit_params(&mut |p| count += p.len());
    /// assert_eq!(count, 3 * 4 + 3 + 1 * 3); // weight 3 × 4, bias 3 × 1, weight 1 × 3
    /// ```
    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.visit("", &mut |_, p| f(p));
    }

    /// The number of input features, when the layer fixes it (used to validate data: with
    /// `None` as the first layer's answer, [`train`](crate::train) cannot check the data's
    /// shape, and a mismatch panics in the first matrix operation it reaches).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Activation, Chain, Dense, Dropout, Layer};
    /// let dense = Dense::from_parts(DMatrix::<f64>::zeros(2, 5), None, Activation::Identity).unwrap();
    /// assert_eq!(dense.input_size(), Some(5)); // the weight is 2 × 5
    /// assert_eq!(Layer::<f64>::input_size(&Dropout::new(0.1).unwrap()), None); // any size
    /// // A chain looks past leading layers that preserve the size.
    /// let model = Chain::<f64>::new().push(Dropout::new(0.1).unwrap()).push(dense);
    /// assert_eq!(model.input_size(), Some(5));
    /// ```
    fn input_size(&self) -> Option<usize> {
        None
    }

    /// True when the output always has the input's number of features (dropout,
    /// normalisation, element-wise activations), so that a [`Chain`](crate::Chain) starting
    /// with such layers takes its input size from the first layer that fixes one. The default,
    /// `false`, is the safe answer for a layer that does not say.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Dropout, Layer, LayerNorm};
    /// assert!(Layer::<f64>::preserves_size(&Dropout::new(0.5).unwrap()));
    /// assert!(LayerNorm::<f64>::new(4).preserves_size());
    /// let dense = Dense::from_parts(dmatrix![1.0, 1.0], None, Activation::Identity).unwrap();
    /// assert!(!dense.preserves_size()); // 2 features in, 1 out
    /// ```
    fn preserves_size(&self) -> bool {
        false
    }

    /// The number of output features, when the layer fixes it (a [`Dense`](crate::Dense)'s
    /// `out`). With [`input_size`](Self::input_size) and
    /// [`preserves_size`](Self::preserves_size), a [`Chain`](crate::Chain)'s
    /// [`check_params`](Self::check_params) checks that each layer takes the features the
    /// layers before it give, so a chain built with mismatched sizes is an error before any
    /// forward pass rather than a panic inside one. The default, `None`, skips the check after
    /// this layer (a layer that preserves the size need not answer: its output has the size
    /// its input has).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Activation, Chain, Dense, Dropout, Layer, NnError};
    /// let dense = |out, inp| {
    ///     Dense::from_parts(DMatrix::<f64>::zeros(out, inp), None, Activation::Relu).unwrap()
    /// };
    /// assert_eq!(dense(2, 5).output_size(), Some(2));
    /// let model = Chain::new().push(dense(4, 3)).push(Dropout::new(0.1).unwrap());
    /// assert_eq!(model.output_size(), Some(4)); // the dropout keeps the dense layer's 4
    /// // A layer taking 5 features after layers giving 4: refused before any forward pass.
    /// let wrong = model.push(dense(2, 5));
    /// assert!(matches!(wrong.check_params(), Err(NnError::InvalidConfig { .. })));
    /// assert!(wrong.predict(&DMatrix::zeros(3, 1)).is_err());
    /// ```
    fn output_size(&self) -> Option<usize> {
        None
    }

    /// The number of output features for an input of `input` features, where known, or an
    /// error if the layer cannot take such an input: what a [`Chain`](crate::Chain)'s checks
    /// follow from layer to layer. The default: an [`NnError::InvalidConfig`] if
    /// [`input_size`](Self::input_size) states another size; else
    /// [`output_size`](Self::output_size), or `input` for a layer that
    /// [`preserves_size`](Self::preserves_size). Containers whose output size depends on their
    /// input's ([`SkipConnection`](crate::SkipConnection), [`Parallel`](crate::Parallel),
    /// [`Chain`](crate::Chain)) override it and check what they hold for that input.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] naming the layer (and, in a container, the part) that cannot
    /// take `input` features.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Activation, Connection, Dense, Layer, SkipConnection};
    /// // [tanh(x); x]: twice the input's features, whatever they are.
    /// let skip = SkipConnection::<f64>::new(Activation::Tanh, Connection::Concat);
    /// assert_eq!((skip.output_size(), skip.output_size_for(4).unwrap()), (None, Some(8)));
    /// // A residual block around a layer that changes the size cannot add its input.
    /// let dense = Dense::from_parts(DMatrix::<f64>::zeros(8, 4), None, Activation::Identity).unwrap();
    /// assert!(dense.output_size_for(5).is_err()); // it takes 4
    /// let bad = SkipConnection::<f64>::new(skip, Connection::Add);
    /// assert!(bad.output_size_for(4).is_err()); // 8 out for 4 in
    /// ```
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        if let Some(n) = self.input_size()
            && n != input
        {
            return Err(NnError::InvalidConfig {
                name: "layer sizes",
                reason: format!("a layer taking {n} input features is given {input}"),
            });
        }
        Ok(self
            .output_size()
            .or_else(|| self.preserves_size().then_some(input)))
    }

    /// The `(channels, height, width)` of the images the layer takes, for a layer over images
    /// whose input rows are those images' pixels in [`Conv2d`](crate::Conv2d)'s order
    /// (convolutions, pools, [`Upsample`](crate::Upsample), [`GroupNorm`](crate::GroupNorm)).
    /// A [`Chain`](crate::Chain) checks it against the images the layers before it give
    /// ([`output_image_shape`](Self::output_image_shape)), so that a layer expecting
    /// `1 × 28 × 28` images after one giving `16 × 7 × 7` — 784 features either way — is an
    /// error rather than a silent reinterpretation of the pixels. The default, `None`, skips
    /// the check: a layer that does not see images, or one that takes any.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{AvgPool2d, Chain, Layer, MaxPool2d, NnError, Window2d};
    /// let pool = MaxPool2d::new((16, 14, 14), Window2d::pool((2, 2))).unwrap();
    /// assert_eq!(Layer::<f32>::input_image_shape(&pool), Some((16, 14, 14)));
    /// assert_eq!(Layer::<f32>::output_image_shape(&pool), Some((16, 7, 7)));
    /// // The next layer takes 784 features too, but as one 28 × 28 image.
    /// let next = AvgPool2d::new((1, 28, 28), Window2d::pool((2, 2))).unwrap();
    /// let model = Chain::<f32>::new().push(pool).push(next);
    /// assert!(matches!(model.check_params(), Err(NnError::InvalidConfig { .. })));
    /// ```
    fn input_image_shape(&self) -> Option<(usize, usize, usize)> {
        None
    }

    /// The `(channels, height, width)` of the images the layer gives, for a layer whose
    /// output rows are images' pixels in [`Conv2d`](crate::Conv2d)'s order; see
    /// [`input_image_shape`](Self::input_image_shape). The default, `None`: a layer that
    /// does not give images, or one that [`preserves_size`](Self::preserves_size) (a
    /// [`Chain`](crate::Chain) carries the images' shape through it).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Layer, Upsample, UpsampleMode};
    /// let up = Upsample::new((8, 7, 7), (2, 2), UpsampleMode::Nearest).unwrap();
    /// assert_eq!(Layer::<f64>::output_image_shape(&up), Some((8, 14, 14)));
    /// ```
    fn output_image_shape(&self) -> Option<(usize, usize, usize)> {
        None
    }

    /// The value marking padding steps, for a layer over sequences that skips them
    /// (`masking` on [`Rnn`](crate::Rnn), [`Lstm`](crate::Lstm), [`Gru`](crate::Gru),
    /// [`MultiHeadAttention`](crate::MultiHeadAttention),
    /// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer),
    /// [`PositionalEncoding`](crate::PositionalEncoding),
    /// [`TimeDistributed`](crate::TimeDistributed),
    /// [`GlobalAvgPool1d`](crate::GlobalAvgPool1d) and, with both directions masked,
    /// [`Bidirectional`](crate::Bidirectional); a [`Checkpoint`](crate::Checkpoint) answers
    /// for its layer); the default, `None`, for a layer that reads every step (containers
    /// such as [`Chain`](crate::Chain) answer `None` whatever they hold). Each masked layer
    /// reads its own input, so every layer that must skip the padding is given the value.
    ///
    /// For the recurrent layers, a step of a sequence (`input` rows of one column of `x`) is
    /// padding when every one of its features equals the mask value — Keras's
    /// `Masking(mask_value)` rule, under which padding may sit anywhere. At a padding step the state (an LSTM's `h` and `c`) carries
    /// over unchanged and the step's output is the mask value in every feature, so the final
    /// state ([`last_only`](crate::Rnn::last_only), `forward_with_state`'s) is the one after
    /// the sequence's last real step. For sequences padded at the end this is PyTorch's
    /// `pack_padded_sequence` run: the same outputs (`pad_packed_sequence(…, padding_value)`
    /// with the mask value as its padding value; 0 by default, as the mask value 0 gives) and
    /// final states, and in a [`Bidirectional`](crate::Bidirectional) layer the reverse
    /// direction starts at each sequence's last real step (it reads the padding first and
    /// carries its initial state over it). Keras instead repeats the last real output at
    /// padding steps. Which steps are padding is read from the input's values and is not
    /// differentiated; padding steps' inputs get gradient 0.
    ///
    /// A real step whose features all happen to equal the mask value is skipped too: choose a
    /// value the data cannot take. The layer reads its own input, so the padding must reach
    /// it as the mask value: a layer before it that changes padded steps (a
    /// [`Dense`](crate::Dense) through a [`TimeDistributed`](crate::TimeDistributed) that is
    /// not [`masking`](crate::TimeDistributed::masking), an [`Embedding`](crate::Embedding))
    /// hides them, and so does a [`Dropout`](crate::Dropout)
    /// in training mode unless the mask value is 0 (it scales what it keeps by `1/(1 − p)`).
    /// The comparison is exact, in the element type: pick a value every float type holds
    /// exactly (0, −1, −9; not 0.1, whose f32 and f64 roundings differ, so data padded in
    /// f32 and widened would not match a mask of 0.1 in an f64 model). `check_params` refuses
    /// a value that is not finite, and one the element type rounds to an infinity or to 0
    /// (1e300 or 1e-50 in f32). A masked layer stacked on another with the
    /// same mask value skips the same steps, since the one below outputs the mask value there;
    /// for that a value the lower layer's states cannot take in every feature is safest (a
    /// value outside `(−1, 1)` for the `tanh`-bounded states of [`Lstm`](crate::Lstm),
    /// [`Gru`](crate::Gru) and a `tanh` [`Rnn`](crate::Rnn), a negative one above a `Relu`
    /// [`Rnn`](crate::Rnn)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Layer, Lstm};
    /// let lstm = Lstm::<f64>::new(2, 4, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(Layer::<f64>::mask_value(&lstm), None);
    /// assert_eq!(Layer::<f64>::mask_value(&lstm.masking(-1.0)), Some(-1.0));
    /// ```
    fn mask_value(&self) -> Option<f64> {
        None
    }

    /// Checks that the layer's parameters fit together (their shapes), for layers whose
    /// parameters are public fields a user can set: [`predict`](Self::predict),
    /// [`train`](crate::train()), [`train_step`](crate::train_step) and
    /// [`gradient`](crate::gradient) call it first, so a mis-set field is a typed error there
    /// rather than a panic inside the forward pass. The default accepts anything.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] naming the parameter, or [`NnError::InvalidConfig`] for a
    /// setting out of range (a [`Dense`](crate::Dense) layer's non-finite activation
    /// parameter) or layers that do not fit together (a [`Chain`](crate::Chain) whose layer
    /// takes a number of features the layers before it do not give, see
    /// [`output_size`](Self::output_size)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, NnError};
    /// let mut layer = Dense::from_parts(dmatrix![1.0, 2.0], Some(dmatrix![0.5]), Activation::Relu).unwrap();
    /// assert!(layer.check_params().is_ok());
    /// layer.bias = Some(dmatrix![1.0, 2.0]); // 1 × 2, not out × 1 = 1 × 1
    /// assert!(matches!(layer.check_params(), Err(NnError::ShapeMismatch { .. })));
    /// assert!(layer.predict(&DMatrix::zeros(2, 2)).is_err());
    /// ```
    fn check_params(&self) -> Result<(), NnError> {
        Ok(())
    }

    /// Leaves a copy of this layer over the slot's element type in `slot`, so that a
    /// [`Chain`](crate::Chain) holding it can be cast ([`Cast`](crate::Cast), e.g. an `f32`
    /// model to `f64`, or to a dual type for [`hessian`](crate::hessian)). A layer that
    /// implements [`Cast`](crate::Cast) overrides it with `slot.fill(self)` (see
    /// [`CastSlot`]); the default leaves the slot empty, and casting a chain that holds the
    /// layer is [`NnError::NotCastable`] with its path.
    ///
    /// # Errors
    /// The error of the layer's own cast (a nested chain holding a layer that cannot be
    /// cast).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::{Activation, Cast, Chain, Context, Dense, Layer, NnError};
    /// /// A layer for `f64` only, without `cast_into`.
    /// #[derive(Clone)]
    /// struct Twice;
    /// impl Layer<f64> for Twice {
    ///     fn forward(&self, x: MatVar<f64>, _: &mut Context<f64>) -> MatVar<f64> { x * 2.0 }
    ///     fn visit<'a>(&'a self, _: &str, _: &mut dyn FnMut(&str, &'a DMatrix<f64>)) {}
    ///     fn visit_mut(&mut self, _: &mut dyn FnMut(&mut DMatrix<f64>)) {}
    /// }
    /// let dense = Dense::from_parts(dmatrix![1.0], None, Activation::Identity).unwrap();
    /// assert!(Chain::new().push(dense.clone()).cast::<f32>().is_ok());
    /// let err = Chain::new().push(dense).push(Twice).cast::<f32>().unwrap_err();
    /// assert!(matches!(err, NnError::NotCastable { .. }));
    /// assert!(err.to_string().starts_with("layers.1 (Twice) cannot be cast to f32"));
    /// ```
    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        let _ = slot;
        Ok(())
    }

    /// The output for a plain `features × batch` matrix, in [`Mode::Eval`].
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if `x` does not have [`input_size`](Self::input_size) rows;
    /// [`NnError::InvalidData`] if, where no layer states the input size, a layer cannot take
    /// the features `x`'s rows give it ([`output_size_for`](Self::output_size_for)); the
    /// error of [`check_params`](Self::check_params) (parameters or layers that do not fit
    /// together, an activation parameter out of range), checked first.
    ///
    /// # Panics
    /// If the forward pass meets sizes that do not fit where the layers do not say theirs (a
    /// layer of your own answering `None` to [`input_size`](Self::input_size) or
    /// [`output_size`](Self::output_size)): the first matrix operation it reaches panics,
    /// naming both shapes.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, DMatrix, dmatrix};
    /// use adroit_nn::{Activation, Chain, Dense, Dropout, Layer, NnError};
    /// let model = Chain::<f64>::new()
    ///     .push(Dropout::new(0.5).unwrap())
    ///     .push(Dense::from_parts(dmatrix![2.0, 1.0], None, Activation::Identity).unwrap());
    /// // Eval mode, so no dropout: 2x₀ + x₁ for the samples (columns) [1, 1] and [0, 5].
    /// assert_eq!(model.predict(&dmatrix![1.0, 0.0; 1.0, 5.0]).unwrap(), dmatrix![3.0, 5.0]);
    /// // A sample must have the model's 2 features.
    /// let err = model.predict(&DMatrix::zeros(3, 2)).unwrap_err();
    /// assert!(matches!(err, NnError::ShapeMismatch { .. }));
    /// ```
    fn predict(&self, x: &DMatrix<T>) -> Result<DMatrix<T>, NnError> {
        self.check_params()?;
        check_data(self, x)?;
        let mut ctx = Context::new(Mode::Eval, 0);
        let y = matrix::evaluate(|m| self.forward(m[0], &mut ctx), &[x]);
        match ctx.take_outcome().1 {
            Some(error) => Err(error),
            None => Ok(y),
        }
    }
}

/// Checks that `model` can take `x` (`features × batch`): its stated input size first (a
/// [`NnError::ShapeMismatch`]), then the sizes followed through its layers from `x`'s rows
/// ([`Layer::output_size_for`]), where no layer states the input size (an
/// [`NnError::InvalidData`] naming the layer that cannot take them).
pub(crate) fn check_data<T: MatScalar, M: Layer<T> + ?Sized>(
    model: &M,
    x: &DMatrix<T>,
) -> Result<(), NnError> {
    check_input(model.input_size(), model.input_image_shape(), x)?;
    features_fit(model, x.nrows())
}

/// [`check_data`]'s second part: the sizes followed from `features` input rows.
pub(crate) fn features_fit<T: MatScalar, M: Layer<T> + ?Sized>(
    model: &M,
    features: usize,
) -> Result<(), NnError> {
    match model.output_size_for(features) {
        Err(NnError::InvalidConfig { reason, .. }) => Err(NnError::InvalidData {
            what: format!("the model cannot take {features} input features: {reason}"),
        }),
        other => other.map(|_| ()),
    }
}

/// Checks that `x` has `expected` rows (features), if the model fixes them; the message names
/// the images those rows hold when the model takes `image = (channels, height, width)`.
pub(crate) fn check_input<T>(
    expected: Option<usize>,
    image: Option<(usize, usize, usize)>,
    x: &DMatrix<T>,
) -> Result<(), NnError> {
    match expected {
        Some(n) if n != x.nrows() => {
            // Perhaps a transposed batch (batch × features), or a batch of as many samples as
            // the model takes features: the message names both readings, `expected` the batch
            // as given.
            let transposed = x.ncols() == n;
            let layout = match image {
                Some((c, h, w)) => format!(
                    "(channels·height·width) × batch, for images of {c} × {h} × {w}, pixels in \
                     Conv2d's order"
                ),
                None => "features × batch".to_string(),
            };
            Err(NnError::ShapeMismatch {
                what: if transposed {
                    format!(
                        "model input ({layout}; {rows} rows where {n} features are expected, \
                         and {n} columns: if its rows are samples, batch × features, transpose \
                         it to {n}×{rows})",
                        rows = x.nrows()
                    )
                } else {
                    format!("model input ({layout})")
                },
                expected: (n, x.ncols()),
                found: x.shape(),
            })
        }
        _ => Ok(()),
    }
}

/// The state of one forward pass: the recorded variable of each parameter, the [`Mode`] and
/// the random-number generator of stochastic layers.
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::{self, dmatrix};
/// use adroit_nn::{Activation, Context, Dense, Layer, Mode};
/// let layer = Dense::from_parts(dmatrix![2.0, -1.0], None, Activation::Identity).unwrap();
/// let x = dmatrix![3.0; 1.0];
/// // A pass by hand, as `gradient` runs it: bind the weight to a tracked input.
/// // y = W·x = 2·3 − 1·1 = 5, and ∂y/∂W = xᵀ.
/// let (y, grads) = matrix::value_and_gradient(
///     |w| {
///         let mut ctx = Context::new(Mode::Train, 0);
///         ctx.bind(&layer.weight, w[0]);
///         layer.forward(MatVar::constant(x.clone()), &mut ctx)
///     },
///     &[&layer.weight],
/// );
/// assert_eq!((y, grads[0].clone()), (5.0, dmatrix![3.0, 1.0]));
/// ```
pub struct Context<T: MatScalar> {
    /// Parameter addresses and their variables (a short list: a linear scan beats hashing).
    bindings: Vec<(usize, MatVar<T>)>,
    /// Whether each binding was read by [`Context::param`].
    read: Vec<Cell<bool>>,
    /// Reads of matrices without a binding while some parameter is bound (a layer reading a
    /// matrix its `visit` does not list).
    unbound_reads: Cell<usize>,
    /// Count reads of unbound matrices even with no parameter bound (a
    /// [`Checkpoint`](crate::Checkpoint)'s block, whose layer may list none).
    count_unbound: bool,
    /// New values proposed for state matrices (by address), in proposal order.
    state: Vec<(usize, DMatrix<T>)>,
    /// The first error a layer reported with [`Context::fail`].
    error: Option<NnError>,
    mode: Mode,
    rng: StdRng,
}

/// Shows the mode and the number of bound parameters (not the dropout RNG's state).
impl<T: MatScalar> std::fmt::Debug for Context<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("mode", &self.mode)
            .field("bound_parameters", &self.bindings.len())
            .finish_non_exhaustive()
    }
}

impl<T: MatScalar> Context<T> {
    /// A context in `mode` with no bound parameters (they are read as constants) and a
    /// dropout RNG seeded with `seed`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Context, Mode};
    /// let ctx = Context::<f64>::new(Mode::Eval, 0);
    /// assert_eq!(ctx.mode(), Mode::Eval);
    /// // Nothing is bound: a parameter reads as a constant copy of its value.
    /// let w = dmatrix![1.5, -2.0];
    /// let (value, _) = matrix::pullback(|_| ctx.param(&w), &[]);
    /// assert_eq!(value, w);
    /// ```
    pub fn new(mode: Mode, seed: u64) -> Self {
        Self {
            bindings: Vec::new(),
            read: Vec::new(),
            unbound_reads: Cell::new(0),
            count_unbound: false,
            state: Vec::new(),
            error: None,
            mode,
            rng: StdRng::seed_from_u64(seed),
        }
    }

    /// Makes `param` read as `var` in this pass (how gradients reach parameters).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Context, Mode};
    /// let w = dmatrix![2.0];
    /// // Binding the same parameter again replaces the first binding: loss = v₀², v₁ unused.
    /// let (loss, grads) = matrix::value_and_gradient(
    ///     |v| {
    ///         let mut ctx = Context::new(Mode::Train, 0);
    ///         ctx.bind(&w, v[1]);
    ///         ctx.bind(&w, v[0]);
    ///         ctx.param(&w).component_mul(ctx.param(&w)).sum()
    ///     },
    ///     &[&w, &w],
    /// );
    /// assert_eq!((loss, grads[0].clone(), grads[1].clone()), (4.0, dmatrix![4.0], dmatrix![0.0]));
    /// ```
    pub fn bind(&mut self, param: &DMatrix<T>, var: MatVar<T>) {
        match self.binding(param) {
            Some(i) => self.bindings[i].1 = var,
            None => {
                self.bindings.push((key(param), var));
                self.read.push(Cell::new(false));
            }
        }
    }

    /// The variable of a parameter: the bound one during a gradient computation, else a
    /// constant copy.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix;
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Context, Mode};
    /// let (w, b) = (dmatrix![3.0], dmatrix![1.0]);
    /// // w is bound (tracked), b is not (read as a constant): loss = w·w + b.
    /// let (loss, grads) = matrix::value_and_gradient(
    ///     |v| {
    ///         let mut ctx = Context::new(Mode::Train, 0);
    ///         ctx.bind(&w, v[0]);
    ///         (ctx.param(&w).component_mul(ctx.param(&w)) + ctx.param(&b)).sum()
    ///     },
    ///     &[&w],
    /// );
    /// assert_eq!((loss, grads[0].clone()), (10.0, dmatrix![6.0])); // ∂/∂w = 2w
    /// ```
    pub fn param(&self, param: &DMatrix<T>) -> MatVar<T> {
        let binding = self.binding(param);
        self.note_read_of(binding);
        self.var_of(binding, param)
    }

    /// The index of `param`'s binding, if it is bound.
    fn binding(&self, param: &DMatrix<T>) -> Option<usize> {
        let k = key(param);
        self.bindings.iter().position(|(p, _)| *p == k)
    }

    /// The variable of `param` whose binding is `binding`: the bound one, else a constant copy.
    fn var_of(&self, binding: Option<usize>, param: &DMatrix<T>) -> MatVar<T> {
        match binding {
            Some(i) => self.bindings[i].1,
            None => MatVar::constant(param.clone()),
        }
    }

    /// Notes a read through `binding`: the binding's flag, or a read of an unbound matrix
    /// (counted while some parameter is bound, or always in a checkpoint's block).
    fn note_read_of(&self, binding: Option<usize>) {
        match binding {
            Some(i) => self.read[i].set(true),
            None => {
                if self.count_unbound || !self.bindings.is_empty() {
                    self.unbound_reads.set(self.unbound_reads.get() + 1);
                }
            }
        }
    }

    /// A context in `mode` whose stochastic layers draw from `rng` (a [`Checkpoint`]
    /// (crate::Checkpoint)'s block, which continues its context's stream).
    pub(crate) fn with_rng(mode: Mode, rng: StdRng) -> Self {
        Self {
            bindings: Vec::new(),
            read: Vec::new(),
            unbound_reads: Cell::new(0),
            count_unbound: true,
            state: Vec::new(),
            error: None,
            mode,
            rng,
        }
    }

    /// [`param`](Self::param) without noting the read (a [`Checkpoint`](crate::Checkpoint)
    /// passes every parameter of its block on, and notes only those the block reads, with
    /// [`note_read`](Self::note_read)).
    pub(crate) fn param_quietly(&self, param: &DMatrix<T>) -> MatVar<T> {
        self.var_of(self.binding(param), param)
    }

    /// Notes a read of `param` as [`param`](Self::param) does.
    pub(crate) fn note_read(&self, param: &DMatrix<T>) {
        self.note_read_of(self.binding(param));
    }

    /// Adds `n` reads of unbound matrices (a [`Checkpoint`](crate::Checkpoint)'s block's).
    pub(crate) fn note_unbound_reads(&self, n: usize) {
        self.unbound_reads.set(self.unbound_reads.get() + n);
    }

    /// The addresses of the bound parameters that were read, and the count of unbound reads:
    /// what a [`Checkpoint`](crate::Checkpoint) hands back to its context.
    pub(crate) fn reads(&self) -> (Vec<usize>, usize) {
        let read = self
            .bindings
            .iter()
            .zip(&self.read)
            .filter(|(_, r)| r.get())
            .map(|((k, _), _)| *k)
            .collect();
        (read, self.unbound_reads.get())
    }

    /// The random-number generator, taken (the context is done).
    pub(crate) fn into_rng(self) -> StdRng {
        self.rng
    }

    /// `(the bound parameters never read, in binding order; the reads of unbound matrices
    /// while parameters were bound)`: how [`train_step`](crate::train_step) tells a layer that
    /// reads a parameter as a constant, or reads one its `visit` does not list.
    pub(crate) fn usage(&self) -> (Vec<usize>, usize) {
        let unread = (0..self.bindings.len())
            .filter(|&i| !self.read[i].get())
            .collect();
        (unread, self.unbound_reads.get())
    }

    /// Proposes `value` as the new value of `state`, a state matrix of the layer (one it lists
    /// in [`Layer::visit_state`], e.g. a running mean), read from the model as borrowed by
    /// this pass. The model is not changed here (the forward pass borrows it):
    /// [`train_step`](crate::train_step) and [`train`](crate::train()) set every proposed
    /// value once the step has succeeded (a step that fails, e.g. on a non-finite loss,
    /// leaves the state as it was), and [`gradient_with_state`](crate::gradient_with_state)
    /// returns them for a loop of your own. A later proposal for the same matrix replaces an
    /// earlier one.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Context, Mode};
    /// let running = dmatrix![0.0];
    /// let mut ctx = Context::<f64>::new(Mode::Train, 0);
    /// ctx.update_state(&running, dmatrix![0.5]);
    /// ctx.update_state(&running, dmatrix![0.25]); // replaces the first proposal
    /// assert_eq!(ctx.proposed_state(&running), Some(&dmatrix![0.25]));
    /// assert_eq!(running, dmatrix![0.0]); // unchanged until a training step sets it
    /// ```
    pub fn update_state(&mut self, state: &DMatrix<T>, value: DMatrix<T>) {
        self.propose_at(key(state), value);
    }

    /// [`update_state`](Self::update_state) for the matrix at address `k` (a
    /// [`Checkpoint`](crate::Checkpoint)'s block's proposals, handed on).
    pub(crate) fn propose_at(&mut self, k: usize, value: DMatrix<T>) {
        match self.state.iter_mut().find(|(p, _)| *p == k) {
            Some(entry) => entry.1 = value,
            None => self.state.push((k, value)),
        }
    }

    /// The value proposed for `state` in this pass by [`update_state`](Self::update_state),
    /// if any.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Context, Mode};
    /// let ctx = Context::<f64>::new(Mode::Train, 0);
    /// assert_eq!(ctx.proposed_state(&dmatrix![1.0]), None);
    /// ```
    pub fn proposed_state(&self, state: &DMatrix<T>) -> Option<&DMatrix<T>> {
        let k = key(state);
        self.state.iter().find(|(p, _)| *p == k).map(|(_, v)| v)
    }

    /// Reports an error met by a layer's forward pass that bad data can cause (the forward
    /// pass returns a matrix, not a `Result`): e.g. a [`BatchNorm`](crate::BatchNorm) given a
    /// batch of one sample in training. [`gradient`](crate::gradient),
    /// [`train_step`](crate::train_step), [`train`](crate::train()),
    /// [`Layer::predict`] and [`loss_with_params`](crate::loss_with_params) return the first
    /// error reported; the layer should still return a matrix of the right shape.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Context, Mode, NnError};
    /// let mut ctx = Context::<f64>::new(Mode::Train, 0);
    /// assert!(ctx.error().is_none());
    /// ctx.fail(NnError::InvalidData { what: "first".into() });
    /// ctx.fail(NnError::InvalidData { what: "second".into() }); // the first one is kept
    /// assert_eq!(ctx.error(), Some(&NnError::InvalidData { what: "first".into() }));
    /// ```
    pub fn fail(&mut self, error: NnError) {
        self.error.get_or_insert(error);
    }

    /// The first error reported with [`fail`](Self::fail) in this pass, if any.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Context, Mode};
    /// assert!(Context::<f64>::new(Mode::Eval, 0).error().is_none());
    /// ```
    pub fn error(&self) -> Option<&NnError> {
        self.error.as_ref()
    }

    /// The proposed state values and the first reported error, taken (the pass is over).
    pub(crate) fn take_outcome(&mut self) -> (Vec<(usize, DMatrix<T>)>, Option<NnError>) {
        (std::mem::take(&mut self.state), self.error.take())
    }

    /// Training or evaluation.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::{Context, Mode};
    /// // What a stochastic layer branches on (dropout is the identity in Eval).
    /// assert_eq!(Context::<f64>::new(Mode::Train, 0).mode(), Mode::Train);
    /// assert_eq!(Context::<f64>::new(Mode::Eval, 0).mode(), Mode::Eval);
    /// ```
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The random-number generator of stochastic layers.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::Rng;
    /// use adroit_nn::{Context, Mode};
    /// // A stochastic layer draws from the context's RNG: the same seed gives the same draws.
    /// let draw = |seed| Context::<f64>::new(Mode::Train, seed).rng().random::<f64>();
    /// assert_eq!(draw(3), draw(3));
    /// assert!((0.0..1.0).contains(&draw(4)));
    /// ```
    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

/// The names of `model`'s parameters, in visiting order (`layers.0.weight`, …), for messages.
pub(crate) fn param_names<T: MatScalar, M: Layer<T> + ?Sized>(model: &M) -> Vec<String> {
    let mut names = Vec::new();
    model.visit("", &mut |name, _| names.push(name.to_string()));
    names
}

/// A parameter's identity: its address (stable while the model is borrowed).
pub(crate) fn key<T>(param: &DMatrix<T>) -> usize {
    param as *const DMatrix<T> as usize
}
