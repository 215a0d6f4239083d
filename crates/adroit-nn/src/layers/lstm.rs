//! [`Lstm`]: a long short-term memory layer over sequences.

use super::padding::check_mask_value;
use super::unroll::{StepState, Unroll, evaluated};
use crate::cast::cast_matrix;
use crate::{Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// A long short-term memory layer (Hochreiter & Schmidhuber 1997, with the forget gate of
/// Gers et al. 2000), run over a whole sequence from a zero state: Flux's `LSTM(in => out)`,
/// PyTorch's one-layer `nn.LSTM(in, out)`. At each step `t`, with `σ` the logistic sigmoid,
///
/// ```text
/// [i; f; g; o] = W_ih·xₜ + W_hh·hₜ₋₁ + b      (four blocks of `hidden` rows)
/// cₜ = σ(f) ⊙ cₜ₋₁ + σ(i) ⊙ tanh(g)
/// hₜ = σ(o) ⊙ tanh(cₜ)
/// ```
///
/// from `h₀ = c₀ = 0` (the gate order is PyTorch's and Flux's: input, forget, cell, output).
///
/// Shapes: a batch of sequences of `steps` steps is `x`: `(input·steps) × batch`, rows
/// `t·input .. (t + 1)·input` holding step `t` — Flux's `input × steps × batch` array in
/// column-major order, one sequence per column; `steps` is the input's rows over `input` (any
/// length, a multiple of `input`). The output holds every step's hidden state the same way,
/// `(hidden·steps) × batch` (Flux's default; PyTorch's `output`), or with
/// [`last_only`](Self::last_only) the final one alone, `hidden × batch` (PyTorch's `h_n`, what
/// a classifier of whole sequences takes). Parameters: `weight_ih` `4·hidden × input`,
/// `weight_hh` `4·hidden × hidden`, `bias` `4·hidden × 1` — PyTorch's `weight_ih_l0` and
/// `weight_hh_l0` as they are and its two biases summed (`bias_ih_l0 + bias_hh_l0`). Each call
/// starts from the zero state: no state is kept between calls (Flux 0.15, PyTorch without
/// `h₀`); to start from another state and get the final one (`h_n`, `c_n`),
/// [`forward_with_state`](Self::forward_with_state).
///
/// # Every step through a dense layer
/// For an output at every step (sequence tagging; Flux applies a `Dense` to the 3-D array),
/// wrap the layer in a [`TimeDistributed`](crate::TimeDistributed), or do what it does:
/// reshape every step's states to `hidden × (steps·batch)` — column `b·steps + t` is step `t`
/// of sequence `b` — apply the layer, and reshape its output back to `(out·steps) × batch`,
/// the same layout of steps. (The same holds for [`Gru`](crate::Gru) and [`Rnn`](crate::Rnn).)
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Context, Dense, Layer, Lstm, Mode};
/// let mut rng = StdRng::seed_from_u64(0);
/// let (lstm, dense) = (Lstm::new(2, 4, &mut rng), Dense::new(4, 2, Activation::Identity, &mut rng));
/// let x = DMatrix::<f64>::from_fn(10, 3, |r, c| (r as f64 - c as f64).sin()); // 5 steps of 2
/// let (y, _) = matrix::pullback(
///     |_| {
///         let mut ctx = Context::new(Mode::Eval, 0);
///         let h = lstm.forward(MatVar::constant(x.clone()), &mut ctx); // (4·5) × 3
///         let per_step = dense.forward(h.reshape(4, 5 * 3), &mut ctx); // 2 × 15
///         per_step.reshape(2 * 5, 3) // (2·5) × 3
///     },
///     &[],
/// );
/// // Step 1 of sequence 2: the dense layer on that step's state.
/// let state = lstm.predict(&x).unwrap().view((4, 2), (4, 1)).into_owned();
/// assert!((y.view((2, 2), (2, 1)) - dense.predict(&state).unwrap()).amax() < 1e-15);
/// ```
///
/// # Stacking
/// What a [`Chain`](crate::Chain) can check before any step is sizes: that the rows reaching
/// the layer are whole steps of `input` features and, after a [`last_only`](Self::last_only)
/// layer, that the next layer takes `hidden` features. It cannot see how rows are grouped into
/// steps: a recurrent layer after another must take that one's `hidden` features per step, but
/// one that takes fewer reads the same rows as more, shorter steps without an error (below).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Layer, Lstm};
/// let mut rng = StdRng::seed_from_u64(0);
/// // Sequences of 5 steps of 2 features, 3 sequences: 10 × 3.
/// let x = DMatrix::<f64>::from_fn(10, 3, |r, c| (r as f64 - c as f64) / 10.0);
/// let lstm = Lstm::new(2, 4, &mut rng);
/// assert_eq!(lstm.predict(&x).unwrap().shape(), (4 * 5, 3)); // every step's hidden state
/// // A sequence classifier: the final hidden state into a dense layer.
/// let model = Chain::new()
///     .push(Lstm::new(2, 4, &mut rng).last_only())
///     .push(Dense::new(4, 3, Activation::Identity, &mut rng));
/// assert_eq!(model.predict(&x).unwrap().shape(), (3, 3));
/// // Rows that are not whole steps: an error before any step.
/// assert!(model.predict(&DMatrix::zeros(9, 3)).is_err());
/// // Stacked layers: the second should take 4 features per step; taking 2, it reads the 5
/// // steps of 4 as 10 steps of 2, which no size check can tell apart.
/// let stacked = Chain::new()
///     .push(Lstm::new(2, 4, &mut rng))
///     .push(Lstm::new(2, 3, &mut rng));
/// assert_eq!(stacked.predict(&x).unwrap().shape(), (3 * 10, 3));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Lstm<T> {
    /// `W_ih`, `4·hidden × input`: the input's weights, gates in the order input, forget,
    /// cell, output.
    pub weight_ih: DMatrix<T>,
    /// `W_hh`, `4·hidden × hidden`: the previous hidden state's weights, same order.
    pub weight_hh: DMatrix<T>,
    /// `b`, `4·hidden × 1`.
    pub bias: DMatrix<T>,
    /// Output the final hidden state alone (`hidden × batch`) instead of every step's.
    pub last_only: bool,
    /// Steps whose every feature equals this value are padding ([`Lstm::masking`]); `None`:
    /// every step is real.
    pub mask_value: Option<f64>,
}

/// The state an [`Lstm`] carries from one step to the next: the hidden state `h` and the cell
/// state `c`, each `hidden × batch` (PyTorch's `(h_n, c_n)`, Flux's `(h, c)`), as variables of
/// the recording so that gradients flow through them. Given to and returned by
/// [`Lstm::forward_with_state`].
///
/// # Example
/// ```
/// use adroit_nn::adroit_reverse::matrix::{self, MatVar};
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Context, Lstm, LstmState, Mode};
/// let lstm = Lstm::<f64>::new(1, 2, &mut StdRng::seed_from_u64(0));
/// let (h_n, _) = matrix::pullback(
///     |_| {
///         let mut ctx = Context::new(Mode::Eval, 0);
///         // One state for all 3 sequences (2 × 1), broadcast.
///         let start = LstmState { h: MatVar::constant(DMatrix::zeros(2, 1)), c: MatVar::constant(DMatrix::zeros(2, 1)) };
///         let x = MatVar::constant(DMatrix::from_element(4, 3, 0.5)); // 4 steps of 1
///         let (_, last) = lstm.forward_with_state(x, Some(start), &mut ctx).unwrap();
///         assert_eq!(last.c.shape(), (2, 3));
///         last.h
///     },
///     &[],
/// );
/// assert_eq!(h_n.shape(), (2, 3));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct LstmState<T: MatScalar> {
    /// The hidden state, `hidden × batch`.
    pub h: MatVar<T>,
    /// The cell state, `hidden × batch`.
    pub c: MatVar<T>,
}

/// At a padding step both parts carry over.
impl<T: MatScalar> StepState<T> for LstmState<T> {
    fn select(real: &DMatrix<bool>, next: Self, previous: Option<Self>) -> Self {
        Self {
            h: StepState::select(real, next.h, previous.map(|p| p.h)),
            c: StepState::select(real, next.c, previous.map(|p| p.c)),
        }
    }
}

impl<T: MatScalar> Lstm<T> {
    /// An LSTM from `input` features to `hidden` with Glorot-uniform weights (seeded by `rng`;
    /// `W_ih` then `W_hh`) and zero bias, as Flux's `LSTM(input => hidden)`. (PyTorch draws
    /// every weight and both biases from `U(−1/√hidden, 1/√hidden)`; set the fields to use
    /// other values.)
    ///
    /// # Panics
    /// If a weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold, as [`glorot_uniform`](crate::init::glorot_uniform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Lstm;
    /// let lstm = Lstm::<f32>::new(3, 8, &mut StdRng::seed_from_u64(0));
    /// assert_eq!((lstm.weight_ih.shape(), lstm.weight_hh.shape()), ((32, 3), (32, 8)));
    /// assert_eq!((lstm.hidden(), lstm.bias.shape()), (8, (32, 1)));
    /// ```
    #[track_caller]
    pub fn new(input: usize, hidden: usize, rng: &mut impl Rng) -> Self {
        let gates = hidden
            .checked_mul(4)
            .expect("Lstm::new: 4·hidden overflows usize");
        Self {
            weight_ih: init::glorot_uniform(rng, gates, input),
            weight_hh: init::glorot_uniform(rng, gates, hidden),
            bias: DMatrix::zeros(gates, 1),
            last_only: false,
            mask_value: None,
        }
    }

    /// A layer from given parameters (every step's states output): `weight_ih` `4·hidden ×
    /// input`, `weight_hh` `4·hidden × hidden`, `bias` `4·hidden × 1`, gates in the order input,
    /// forget, cell, output. From PyTorch's `nn.LSTM`: its `weight_ih_l0` and `weight_hh_l0` as
    /// they are, and `bias = bias_ih_l0 + bias_hh_l0`.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the shapes do not fit together (`weight_hh`'s rows four
    /// times its columns, the others' rows the same); [`NnError::InvalidConfig`] if `4·hidden`
    /// overflows.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Layer, Lstm, NnError};
    /// // hidden 2, input 3
    /// let lstm = Lstm::from_parts(DMatrix::<f64>::zeros(8, 3), DMatrix::zeros(8, 2), DMatrix::zeros(8, 1));
    /// assert_eq!(lstm.unwrap().predict(&DMatrix::zeros(6, 1)).unwrap().shape(), (4, 1));
    /// // A GRU's 3·hidden rows do not fit.
    /// let bad = Lstm::from_parts(DMatrix::<f64>::zeros(6, 3), DMatrix::zeros(6, 2), DMatrix::zeros(6, 1));
    /// assert!(matches!(bad, Err(NnError::ShapeMismatch { .. })));
    /// ```
    pub fn from_parts(
        weight_ih: DMatrix<T>,
        weight_hh: DMatrix<T>,
        bias: DMatrix<T>,
    ) -> Result<Self, NnError> {
        let lstm = Self {
            weight_ih,
            weight_hh,
            bias,
            last_only: false,
            mask_value: None,
        };
        lstm.check_params()?;
        Ok(lstm)
    }

    /// The same layer returning only the final hidden state, `hidden × batch`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Layer, Lstm};
    /// let all = Lstm::<f64>::new(1, 2, &mut StdRng::seed_from_u64(3));
    /// let last = all.clone().last_only();
    /// let x = DMatrix::from_column_slice(3, 1, &[0.5, -1.0, 2.0]); // 3 steps of 1 feature
    /// let (every, fin) = (all.predict(&x).unwrap(), last.predict(&x).unwrap());
    /// assert_eq!(fin, every.rows(4, 2)); // step 2's hidden state
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
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Layer, Lstm};
    /// let layer = Lstm::<f64>::new(2, 3, &mut StdRng::seed_from_u64(0)).masking(0.0).last_only();
    /// // Two steps of 2 features, alone and padded with a zero step beside a longer sequence.
    /// let alone = layer.predict(&dmatrix![0.5; -1.0; 2.0; 0.25]).unwrap();
    /// let padded = layer.predict(&dmatrix![0.5, 1.0; -1.0, 1.0; 2.0, 1.0; 0.25, 1.0; 0.0, 1.0; 0.0, 1.0]);
    /// assert_eq!(padded.unwrap().column(0), alone.column(0));
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
    /// use adroit_nn::Lstm;
    /// assert_eq!(Lstm::<f64>::new(5, 7, &mut StdRng::seed_from_u64(0)).hidden(), 7);
    /// ```
    pub fn hidden(&self) -> usize {
        self.weight_hh.ncols()
    }

    /// The number of features of one step (`weight_ih`'s columns).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Lstm;
    /// assert_eq!(Lstm::<f64>::new(5, 7, &mut StdRng::seed_from_u64(0)).input(), 5);
    /// ```
    pub fn input(&self) -> usize {
        self.weight_ih.ncols()
    }

    /// The layer run from the state `initial` (`None`: the zero state, as
    /// [`forward`](Layer::forward)), returning its output (as `forward`'s: every step's hidden
    /// state, or with [`last_only`](Self::last_only) the final one) and the state after the
    /// last step: PyTorch's `output, (h_n, c_n) = lstm(x, (h_0, c_0))`; Flux's
    /// `lstm(x, (h, c))` takes an initial state too (and returns the output alone). For a
    /// sequence in pieces each piece starts from the last one's final state: passed as it is
    /// within one recording, gradients flow through every piece; carried into the next
    /// gradient call as values (`MatVar::constant(h_n.value())` and the same for `c_n`,
    /// PyTorch's `.detach()`), the backward pass stops at the boundary (truncated
    /// backpropagation through time). A state computed by another layer, or learned, is passed
    /// as its variables. On plain matrices: [`predict_with_state`](Self::predict_with_state).
    ///
    /// Shapes: `x` `(input·steps) × batch` as for `forward`; each of the initial state's
    /// matrices `hidden × batch`, or `hidden × 1` for one state of every sequence, broadcast;
    /// the returned state's `hidden × batch`. An input of no steps returns the initial state
    /// (the zero state, as constants, without one).
    ///
    /// # Errors
    /// The parameters' errors ([`check_params`](Layer::check_params)); [`NnError::InvalidData`]
    /// if `x`'s rows are not whole steps of `input` features (or `input` is 0);
    /// [`NnError::ShapeMismatch`] for a state matrix of another shape.
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
    /// use adroit_nn::{Context, Lstm, LstmState, Mode};
    /// let lstm = Lstm::<f64>::new(2, 3, &mut StdRng::seed_from_u64(0));
    /// let x = DMatrix::from_fn(8, 5, |r, c| (r as f64 - c as f64).sin()); // 4 steps of 2
    /// // The gradient of Σ c_n in the initial state (h₀, c₀), here zero.
    /// let zero = DMatrix::zeros(3, 5);
    /// let grads = matrix::gradient(
    ///     |s| {
    ///         let mut ctx = Context::new(Mode::Train, 0);
    ///         let start = LstmState { h: s[0], c: s[1] };
    ///         let seq = MatVar::constant(x.clone());
    ///         let (_, last) = lstm.forward_with_state(seq, Some(start), &mut ctx).unwrap();
    ///         // The same sequence in two halves, the second from the first's final state.
    ///         let first = MatVar::constant(x.rows(0, 4).into_owned());
    ///         let second = MatVar::constant(x.rows(4, 4).into_owned());
    ///         let (_, mid) = lstm.forward_with_state(first, Some(start), &mut ctx).unwrap();
    ///         let (_, end) = lstm.forward_with_state(second, Some(mid), &mut ctx).unwrap();
    ///         assert!((last.c.value() - end.c.value()).amax() < 1e-15);
    ///         // A state of the wrong shape is an error.
    ///         let bad = LstmState { h: s[0], c: MatVar::constant(DMatrix::zeros(3, 4)) };
    ///         assert!(lstm.forward_with_state(seq, Some(bad), &mut ctx).is_err());
    ///         last.c.sum()
    ///     },
    ///     &[zero.clone(), zero],
    /// );
    /// assert_eq!((grads[0].shape(), grads[1].shape()), ((3, 5), (3, 5)));
    /// assert!(grads[1].amax() > 0.0); // c_n depends on c₀
    /// ```
    ///
    /// Truncated backpropagation through time: a long sequence in chunks of 3 steps, each
    /// chunk's gradient from the last chunk's final state, carried as values.
    /// ```
    /// use adroit_nn::adroit_reverse::matrix::MatVar;
    /// use adroit_nn::losses::{Agg, mse};
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Lstm, LstmState};
    /// let lstm = Lstm::<f64>::new(1, 2, &mut StdRng::seed_from_u64(1));
    /// // 4 sequences of 12 steps of 1 feature, and targets for every step's 2 states.
    /// let series = DMatrix::from_fn(12, 4, |r, c| ((r + c) as f64 * 0.5).sin());
    /// let targets = DMatrix::from_fn(24, 4, |r, c| ((r + 2 * c) as f64 * 0.3).cos());
    /// let mut carried = (DMatrix::zeros(2, 4), DMatrix::zeros(2, 4));
    /// for chunk in 0..4 {
    ///     let x = series.rows(3 * chunk, 3).into_owned();
    ///     let target = targets.rows(6 * chunk, 6).into_owned();
    ///     let mut last_values = None;
    ///     let (loss, grad) = adroit_nn::gradient(&lstm, |m, ctx| {
    ///         let start = LstmState {
    ///             h: MatVar::constant(carried.0.clone()),
    ///             c: MatVar::constant(carried.1.clone()),
    ///         };
    ///         let (out, last) = m.forward_with_state(MatVar::constant(x.clone()), Some(start), ctx)?;
    ///         last_values = Some((last.h.value(), last.c.value()));
    ///         mse(out, &target, Agg::Mean)
    ///     })
    ///     .unwrap();
    ///     assert!(loss.is_finite() && grad.weight_ih.shape() == (8, 1));
    ///     // (an optimiser's step on `grad` here)
    ///     carried = last_values.unwrap();
    /// }
    /// ```
    #[track_caller]
    pub fn forward_with_state(
        &self,
        x: MatVar<T>,
        initial: Option<LstmState<T>>,
        ctx: &mut Context<T>,
    ) -> Result<(MatVar<T>, LstmState<T>), NnError> {
        self.check_params()?;
        let unroll = self.unroll();
        unroll.check_steps("Lstm", &x)?;
        let initial = match initial {
            Some(LstmState { h, c }) => Some(LstmState {
                h: unroll.initial("Lstm", "h", &x, h)?,
                c: unroll.initial("Lstm", "c", &x, c)?,
            }),
            None => None,
        };
        let (output, last) = self.unrolled(x, initial, ctx);
        let (h, c) = last.map(|s| (s.h, s.c)).unzip();
        Ok((
            output,
            LstmState {
                h: unroll.state_or_zero(&x, h),
                c: unroll.state_or_zero(&x, c),
            },
        ))
    }

    /// [`forward_with_state`](Self::forward_with_state) on plain matrices, in
    /// [`Mode::Eval`](crate::Mode::Eval): the output and the final state `(h_n, c_n)` for `x`
    /// (`(input·steps) × batch`) from `initial` `(h₀, c₀)` (each `hidden × batch` or `hidden ×
    /// 1`; `None`: zeros), e.g. to run a sequence as it arrives, each piece from the last one's
    /// state (the returned pair, passed back as it is).
    ///
    /// # Errors
    /// As [`forward_with_state`](Self::forward_with_state).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Lstm;
    /// let lstm = Lstm::<f64>::new(2, 3, &mut StdRng::seed_from_u64(0));
    /// let x = DMatrix::from_fn(8, 5, |r, c| (r as f64 * 0.7 - c as f64).sin()); // 4 steps of 2
    /// let (whole, (h_n, c_n)) = lstm.predict_with_state(&x, None).unwrap();
    /// // One step at a time, each from the last one's state (h, c).
    /// let mut state = (DMatrix::zeros(3, 5), DMatrix::zeros(3, 5));
    /// for t in 0..4 {
    ///     let step = x.rows(2 * t, 2).into_owned();
    ///     let (out, next) = lstm.predict_with_state(&step, Some(&state)).unwrap();
    ///     assert!((out - whole.rows(3 * t, 3)).amax() < 1e-15);
    ///     state = next;
    /// }
    /// assert!((&state.0 - &h_n).amax() < 1e-15 && (&state.1 - &c_n).amax() < 1e-15);
    /// // A state of another batch size is an error.
    /// let small = (DMatrix::zeros(3, 2), DMatrix::zeros(3, 2));
    /// assert!(lstm.predict_with_state(&x, Some(&small)).is_err());
    /// ```
    #[allow(clippy::type_complexity)] // PyTorch's `output, (h_n, c_n)`, spelt out
    pub fn predict_with_state(
        &self,
        x: &DMatrix<T>,
        initial: Option<&(DMatrix<T>, DMatrix<T>)>,
    ) -> Result<(DMatrix<T>, (DMatrix<T>, DMatrix<T>)), NnError> {
        let (output, [h_n, c_n]) = evaluated(|ctx| {
            let initial = initial.map(|(h, c)| LstmState {
                h: MatVar::constant(h.clone()),
                c: MatVar::constant(c.clone()),
            });
            let (y, last) = self.forward_with_state(MatVar::constant(x.clone()), initial, ctx)?;
            Ok((y, [last.h, last.c]))
        })?;
        Ok((output, (h_n, c_n)))
    }

    /// The recurrence over `x`'s steps from `initial`, after the checks: the output and the
    /// last state.
    #[track_caller]
    fn unrolled(
        &self,
        x: MatVar<T>,
        initial: Option<LstmState<T>>,
        ctx: &mut Context<T>,
    ) -> (MatVar<T>, Option<LstmState<T>>) {
        let hidden = self.hidden();
        let w_ih = ctx.param(&self.weight_ih);
        let w_hh = ctx.param(&self.weight_hh);
        let bias = ctx.param(&self.bias);
        self.unroll().run(
            "Lstm",
            x,
            initial,
            |state| state.h,
            |x_t, state: Option<LstmState<T>>| {
                let mut gates = w_ih.affine(x_t, bias);
                if let Some(LstmState { h, .. }) = state {
                    gates = gates + w_hh * h;
                }
                let gate = |k: usize| gates.rows(k * hidden, hidden);
                let (i, f, g, o) = (
                    gate(0).sigmoid(),
                    gate(1).sigmoid(),
                    gate(2).tanh(),
                    gate(3).sigmoid(),
                );
                let c = match state {
                    Some(LstmState { c, .. }) => f.component_mul(c) + i.component_mul(g),
                    None => i.component_mul(g),
                };
                let h = o.component_mul(c.tanh());
                (h, LstmState { h, c })
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

impl<T: MatScalar> Layer<T> for Lstm<T> {
    /// The value given to [`masking`](Lstm::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// Every step's hidden state, `(hidden·steps) × batch`, or the last one (`hidden ×
    /// batch`) with [`last_only`](Lstm::last_only), for `x`: `(input·steps) × batch`. An
    /// input of no steps gives `0 × batch` (every state: none), or the zero state.
    ///
    /// # Panics
    /// If `x`'s rows are not a multiple of `input` (or `input` is 0), or the parameters' shapes
    /// do not fit ([`Layer::predict`], [`train`](crate::train()) and the other entry points
    /// report both as errors first; see [`check_params`](Layer::check_params)).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("Lstm: {e}");
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

    /// `hidden` with [`last_only`](Lstm::last_only), whatever the input (so that a
    /// [`Chain`](crate::Chain)'s [`check_params`](Layer::check_params) checks the layer after
    /// it); else `None`, every step's states taking `hidden·steps` rows.
    fn output_size(&self) -> Option<usize> {
        self.unroll().output_size()
    }

    /// `hidden·steps` (or `hidden` with [`last_only`](Lstm::last_only)) for an input of
    /// `input·steps` rows.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `input` rows are not whole steps.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.unroll().output_size_for("Lstm input", input)
    }

    /// `weight_ih` must be `4·hidden × input`, `weight_hh` `4·hidden × hidden` (square blocks:
    /// its rows four times its columns) and `bias` `4·hidden × 1`.
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("Lstm", self.mask_value)?;
        Unroll::check_weights(
            "Lstm",
            4,
            &self.weight_ih,
            &self.weight_hh,
            &[("bias", &self.bias)],
        )
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weights and bias converted (see [`Cast`]).
impl<T: MatScalar> Cast for Lstm<T> {
    type Output<U: MatScalar> = Lstm<U>;

    fn cast<U: MatScalar>(&self) -> Result<Lstm<U>, NnError> {
        Ok(Lstm {
            weight_ih: cast_matrix(&self.weight_ih),
            weight_hh: cast_matrix(&self.weight_hh),
            bias: cast_matrix(&self.bias),
            last_only: self.last_only,
            mask_value: self.mask_value,
        })
    }
}
