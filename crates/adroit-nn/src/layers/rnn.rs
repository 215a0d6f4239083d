//! [`Rnn`]: the plain (Elman) recurrent layer over sequences.

use super::padding::check_mask_value;
use super::unroll::{Unroll, predict_with_hidden_state};
use crate::cast::cast_matrix;
use crate::{Activation, Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// The plain recurrent layer (Elman 1990), run over a whole sequence from a zero state:
/// Flux's `RNN(in => out, σ)`, PyTorch's one-layer `nn.RNN(in, out, nonlinearity)`. At each
/// step `t`,
///
/// ```text
/// hₜ = σ(W_ih·xₜ + W_hh·hₜ₋₁ + b)
/// ```
///
/// from `h₀ = 0`, with `σ` the layer's [`Activation`] (`Tanh` as Flux's and PyTorch's default;
/// PyTorch also offers `Relu`, Flux any function).
///
/// Shapes as [`Lstm`](crate::Lstm): `x` is `(input·steps) × batch`, rows `t·input .. (t +
/// 1)·input` holding step `t` (Flux's `input × steps × batch`, column-major); the output every
/// step's hidden state, `(hidden·steps) × batch`, or with [`last_only`](Self::last_only) the
/// final one, `hidden × batch`. Parameters: `weight_ih` `hidden × input`, `weight_hh` `hidden ×
/// hidden`, `bias` `hidden × 1` — PyTorch's `weight_ih_l0` and `weight_hh_l0` as they are and
/// its two biases summed (`bias_ih_l0 + bias_hh_l0`). No state is kept between calls; to start
/// from another state, [`forward_with_state`](Self::forward_with_state). What a
/// [`Chain`](crate::Chain) can check is sizes, as for an [`Lstm`](crate::Lstm#stacking).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Layer, Rnn};
/// let rnn = Rnn::<f64>::new(2, 4, Activation::Tanh, &mut StdRng::seed_from_u64(0));
/// let x = DMatrix::from_fn(6, 5, |r, c| (r as f64 + c as f64).sin()); // 3 steps of 2
/// assert_eq!(rnn.predict(&x).unwrap().shape(), (12, 5));
/// assert_eq!(rnn.clone().last_only().predict(&x).unwrap().shape(), (4, 5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Rnn<T> {
    /// `W_ih`, `hidden × input`: the input's weights.
    pub weight_ih: DMatrix<T>,
    /// `W_hh`, `hidden × hidden`: the previous hidden state's weights.
    pub weight_hh: DMatrix<T>,
    /// `b`, `hidden × 1`.
    pub bias: DMatrix<T>,
    /// The activation `σ`.
    pub activation: Activation,
    /// Output the final hidden state alone (`hidden × batch`) instead of every step's.
    pub last_only: bool,
    /// Steps whose every feature equals this value are padding ([`Rnn::masking`]); `None`:
    /// every step is real.
    pub mask_value: Option<f64>,
}

impl<T: MatScalar> Rnn<T> {
    /// A recurrent layer from `input` features to `hidden` with activation `activation`,
    /// Glorot-uniform weights (seeded by `rng`; `W_ih` then `W_hh`) and zero bias, as Flux's
    /// `RNN(input => hidden, activation)`. (PyTorch draws every weight and both biases from
    /// `U(−1/√hidden, 1/√hidden)`; set the fields to use other values.)
    ///
    /// # Panics
    /// If a weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold, as [`glorot_uniform`](crate::init::glorot_uniform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Rnn};
    /// let rnn = Rnn::<f32>::new(3, 8, Activation::Relu, &mut StdRng::seed_from_u64(0));
    /// assert_eq!((rnn.weight_ih.shape(), rnn.weight_hh.shape()), ((8, 3), (8, 8)));
    /// assert_eq!((rnn.input(), rnn.hidden(), rnn.bias.shape()), (3, 8, (8, 1)));
    /// ```
    #[track_caller]
    pub fn new(input: usize, hidden: usize, activation: Activation, rng: &mut impl Rng) -> Self {
        Self {
            weight_ih: init::glorot_uniform(rng, hidden, input),
            weight_hh: init::glorot_uniform(rng, hidden, hidden),
            bias: DMatrix::zeros(hidden, 1),
            activation,
            last_only: false,
            mask_value: None,
        }
    }

    /// A layer from given parameters (every step's states output): `weight_ih` `hidden ×
    /// input`, `weight_hh` `hidden × hidden`, `bias` `hidden × 1`. From PyTorch's `nn.RNN`: its
    /// `weight_ih_l0` and `weight_hh_l0` as they are, `bias = bias_ih_l0 + bias_hh_l0`, and
    /// `Activation::Tanh` or `Activation::Relu` for its `nonlinearity`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the shapes do not fit together; [`NnError::InvalidConfig`]
    /// if the activation's parameter (`LeakyRelu`'s slope, `Elu`'s α) is not finite.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Layer, NnError, Rnn};
    /// // hₜ = relu(xₜ − hₜ₋₁): over x = (1, 3), h = (1, 2).
    /// let rnn = Rnn::from_parts(dmatrix![1.0], dmatrix![-1.0], dmatrix![0.0], Activation::Relu);
    /// assert_eq!(rnn.unwrap().predict(&dmatrix![1.0; 3.0]).unwrap(), dmatrix![1.0; 2.0]);
    /// let bad = Rnn::from_parts(dmatrix![1.0], dmatrix![-1.0], dmatrix![0.0; 0.0], Activation::Relu);
    /// assert!(matches!(bad, Err(NnError::ShapeMismatch { .. })));
    /// ```
    pub fn from_parts(
        weight_ih: DMatrix<T>,
        weight_hh: DMatrix<T>,
        bias: DMatrix<T>,
        activation: Activation,
    ) -> Result<Self, NnError> {
        let rnn = Self {
            weight_ih,
            weight_hh,
            bias,
            activation,
            last_only: false,
            mask_value: None,
        };
        rnn.check_params()?;
        Ok(rnn)
    }

    /// The same layer returning only the final hidden state, `hidden × batch`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Layer, Rnn};
    /// let all = Rnn::<f64>::new(1, 2, Activation::Tanh, &mut StdRng::seed_from_u64(3));
    /// let x = DMatrix::from_column_slice(3, 1, &[0.5, -1.0, 2.0]); // 3 steps of 1 feature
    /// let last = all.clone().last_only().predict(&x).unwrap();
    /// assert_eq!(last, all.predict(&x).unwrap().rows(4, 2)); // step 2's hidden state
    /// ```
    pub fn last_only(mut self) -> Self {
        self.last_only = true;
        self
    }

    /// The same layer skipping padding steps: a step of a sequence whose every feature equals
    /// `mask_value` is padding, where the state carries over and the output is `mask_value` —
    /// so a batch of sequences of different lengths, padded to one length, gives each
    /// sequence's own final state. The rules, whose conventions they follow, and how to stack
    /// masked layers are [`Layer::mask_value`]'s. A `mask_value` that
    /// is not finite (NaN equals no feature) is refused by
    /// [`check_params`](Layer::check_params), so by `predict` and `train`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Layer, Rnn};
    /// // hₜ = xₜ + hₜ₋₁ (a running sum): sequences (1, 2, 3) and (4, 5), padded with 0.
    /// let rnn = Rnn::from_parts(dmatrix![1.0], dmatrix![1.0], dmatrix![0.0], Activation::Identity)
    ///     .unwrap()
    ///     .masking(0.0);
    /// let x = dmatrix![1.0, 4.0; 2.0, 5.0; 3.0, 0.0];
    /// assert_eq!(rnn.predict(&x).unwrap(), dmatrix![1.0, 4.0; 3.0, 9.0; 6.0, 0.0]);
    /// assert_eq!(rnn.last_only().predict(&x).unwrap(), dmatrix![6.0, 9.0]); // each one's sum
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }

    /// The number of hidden features (`weight_hh`'s columns).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Rnn};
    /// let rnn = Rnn::<f64>::new(5, 7, Activation::Tanh, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(rnn.hidden(), 7);
    /// ```
    pub fn hidden(&self) -> usize {
        self.weight_hh.ncols()
    }

    /// The number of features of one step (`weight_ih`'s columns).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Rnn};
    /// let rnn = Rnn::<f64>::new(5, 7, Activation::Tanh, &mut StdRng::seed_from_u64(0));
    /// assert_eq!(rnn.input(), 5);
    /// ```
    pub fn input(&self) -> usize {
        self.weight_ih.ncols()
    }

    /// The layer run from the hidden state `initial` (`None`: the zero state, as
    /// [`forward`](Layer::forward)), returning its output (as `forward`'s) and the hidden state
    /// after the last step: PyTorch's `output, h_n = rnn(x, h_0)`; Flux's `rnn(x, h)` takes
    /// an initial state too (and returns the output alone). For a sequence in pieces each piece
    /// starts from the last one's final state: passed as it is within one recording, gradients
    /// flow through every piece; carried into the next gradient call as values
    /// (`MatVar::constant(h_n.value())`, PyTorch's `h_n.detach()`), the backward pass stops at
    /// the boundary (truncated backpropagation through time). On plain matrices:
    /// [`predict_with_state`](Self::predict_with_state).
    ///
    /// Shapes: `x` `(input·steps) × batch` as for `forward`; the initial state `hidden ×
    /// batch`, or `hidden × 1` for one state of every sequence (a learned one, as Flux's),
    /// broadcast; the returned state `hidden × batch`. An input of no steps returns the initial
    /// state (the zero state, a constant, without one).
    ///
    /// # Errors
    /// The parameters' errors ([`check_params`](Layer::check_params)); [`NnError::InvalidData`]
    /// if `x`'s rows are not whole steps of `input` features (or `input` is 0);
    /// [`NnError::ShapeMismatch`] for a state of another shape.
    ///
    /// # Panics
    /// Outside a recording (a gradient call's closure, or `matrix::pullback`'s), or given a
    /// state of another recording (a `MatVar` kept from an earlier gradient call), as any
    /// operation on such a variable.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Context, Mode, Rnn};
    /// let mut rnn = Rnn::<f64>::new(1, 1, Activation::Identity, &mut StdRng::seed_from_u64(0));
    /// (rnn.weight_ih[(0, 0)], rnn.weight_hh[(0, 0)]) = (1.0, 0.5);
    /// // hₜ = xₜ + 0.5·hₜ₋₁ from h₀ = 4 over x = (1, 1): h₂ = 1 + 0.5·(1 + 0.5·4) = 2.5, and
    /// // ∂h₂/∂h₀ = 0.25.
    /// let x = DMatrix::from_column_slice(2, 1, &[1.0, 1.0]);
    /// let (h_n, grad) = matrix::value_and_gradient(
    ///     |h| {
    ///         let mut ctx = Context::new(Mode::Train, 0);
    ///         let seq = MatVar::constant(x.clone());
    ///         rnn.forward_with_state(seq, Some(h[0]), &mut ctx).unwrap().1
    ///     },
    ///     &[DMatrix::from_element(1, 1, 4.0)],
    /// );
    /// assert_eq!((h_n, grad[0][(0, 0)]), (2.5, 0.25));
    /// ```
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: MatVar<T>,
        initial: Option<MatVar<T>>,
        ctx: &mut Context<T>,
    ) -> Result<(MatVar<T>, MatVar<T>), NnError> {
        self.check_params()?;
        self.unroll()
            .with_hidden_state("Rnn", x, initial, |x, h| self.unrolled(x, h, ctx))
    }

    /// [`forward_with_state`](Self::forward_with_state) on plain matrices, in
    /// [`Mode::Eval`](crate::Mode::Eval): the output and the final state for `x` (`(input·steps)
    /// × batch`) from `initial` (`hidden × batch` or `hidden × 1`; `None`: zeros), e.g. to run a
    /// sequence as it arrives, each piece from the last one's state.
    ///
    /// # Errors
    /// As [`forward_with_state`](Self::forward_with_state).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Rnn};
    /// // hₜ = xₜ + 0.5·hₜ₋₁ over x = (1, 1) from h₀ = 4: h = (3, 2.5), for 2 sequences.
    /// let rnn = Rnn::from_parts(dmatrix![1.0], dmatrix![0.5], dmatrix![0.0], Activation::Identity);
    /// let x = dmatrix![1.0, 1.0; 1.0, 1.0];
    /// let (out, h_n) = rnn.unwrap().predict_with_state(&x, Some(&dmatrix![4.0])).unwrap();
    /// assert_eq!((out, h_n), (dmatrix![3.0, 3.0; 2.5, 2.5], dmatrix![2.5, 2.5]));
    /// ```
    pub fn predict_with_state(
        &self,
        x: &DMatrix<T>,
        initial: Option<&DMatrix<T>>,
    ) -> Result<(DMatrix<T>, DMatrix<T>), NnError> {
        predict_with_hidden_state(x, initial, |x, h, ctx| self.forward_with_state(x, h, ctx))
    }

    /// The recurrence over `x`'s steps from `initial`, after the checks: the output and the
    /// last state.
    #[track_caller]
    fn unrolled(
        &self,
        x: MatVar<T>,
        initial: Option<MatVar<T>>,
        ctx: &mut Context<T>,
    ) -> (MatVar<T>, Option<MatVar<T>>) {
        let w_ih = ctx.param(&self.weight_ih);
        let w_hh = ctx.param(&self.weight_hh);
        let bias = ctx.param(&self.bias);
        let activation = self.activation;
        self.unroll().run(
            "Rnn",
            x,
            initial,
            |h| *h,
            |x_t, h: Option<MatVar<T>>| {
                let mut z = w_ih.affine(x_t, bias);
                if let Some(h) = h {
                    z = z + w_hh * h;
                }
                let next = activation.apply(z);
                (next, next)
            },
        )
    }

    /// The sizes the step loop needs.
    fn unroll(&self) -> Unroll {
        Unroll {
            input: self.input(),
            hidden: self.hidden(),
            last_only: self.last_only,
            mask_value: self.mask_value,
        }
    }
}

impl<T: MatScalar> Layer<T> for Rnn<T> {
    /// The value given to [`masking`](Rnn::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// Every step's hidden state, `(hidden·steps) × batch`, or the last one (`hidden ×
    /// batch`) with [`last_only`](Rnn::last_only), for `x`: `(input·steps) × batch`. An input
    /// of no steps gives `0 × batch`, or the zero state.
    ///
    /// # Panics
    /// If `x`'s rows are not a multiple of `input` (or `input` is 0), or the parameters do
    /// not fit ([`Layer::predict`], [`train`](crate::train()) and the other entry points report
    /// both as errors first; see [`check_params`](Layer::check_params)).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("Rnn: {e}");
        }
        self.unrolled(x, None, ctx).0
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}weight_ih"), &self.weight_ih);
        f(&format!("{prefix}weight_hh"), &self.weight_hh);
        f(&format!("{prefix}bias"), &self.bias);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.weight_ih);
        f(&mut self.weight_hh);
        f(&mut self.bias);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.weight_ih);
        f(&self.weight_hh);
        f(&self.bias);
    }

    /// `hidden` with [`last_only`](Rnn::last_only), whatever the input; else `None`, every
    /// step's states taking `hidden·steps` rows.
    fn output_size(&self) -> Option<usize> {
        self.unroll().output_size()
    }

    /// `hidden·steps` (or `hidden` with [`last_only`](Rnn::last_only)) for an input of
    /// `input·steps` rows.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `input` rows are not whole steps.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.unroll().output_size_for("Rnn input", input)
    }

    /// `weight_ih` must be `hidden × input`, `weight_hh` `hidden × hidden` and `bias` `hidden ×
    /// 1`, and the activation's parameter (the slope of `LeakyRelu`, the α of `Elu`) finite.
    fn check_params(&self) -> Result<(), NnError> {
        self.activation
            .check_parameter("Rnn activation parameter")?;
        check_mask_value::<T>("Rnn", self.mask_value)?;
        Unroll::check_weights(
            "Rnn",
            1,
            &self.weight_ih,
            &self.weight_hh,
            &[("bias", &self.bias)],
        )
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weights and bias converted (see [`Cast`]); the activation is kept.
impl<T: MatScalar> Cast for Rnn<T> {
    type Output<U: MatScalar> = Rnn<U>;

    fn cast<U: MatScalar>(&self) -> Result<Rnn<U>, NnError> {
        Ok(Rnn {
            weight_ih: cast_matrix(&self.weight_ih),
            weight_hh: cast_matrix(&self.weight_hh),
            bias: cast_matrix(&self.bias),
            activation: self.activation,
            last_only: self.last_only,
            mask_value: self.mask_value,
        })
    }
}
