//! [`Gru`]: a gated recurrent unit layer over sequences.

use super::padding::check_mask_value;
use super::unroll::{Unroll, predict_with_hidden_state};
use crate::cast::cast_matrix;
use crate::{Cast, CastSlot, Context, Layer, NnError, init};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;
use rand::Rng;

/// A gated recurrent unit layer (Cho et al. 2014) run over a whole sequence from a zero
/// state, as PyTorch's one-layer `nn.GRU(in, out)` computes it: the first version of the
/// paper's cell, with the reset gate applied after the hidden side's product, as Flux's
/// `GRU(in => out)` too (Flux's `GRUv3` applies it before). At each step `t`, with `σ` the
/// logistic sigmoid and `[·; ·; ·]` the three blocks of `hidden` rows (reset, update,
/// candidate),
///
/// ```text
/// [aᵣ; a_z; aₙ] = W_ih·xₜ + b_ih        [bᵣ; b_z; bₙ] = W_hh·hₜ₋₁ + b_hh
/// r = σ(aᵣ + bᵣ)    z = σ(a_z + b_z)    n = tanh(aₙ + r ⊙ bₙ)
/// hₜ = (1 − z) ⊙ n + z ⊙ hₜ₋₁
/// ```
///
/// from `h₀ = 0`. The reset gate scales the hidden side's candidate block after its bias,
/// which is why the two biases are kept apart (PyTorch's `bias_ih_l0` and `bias_hh_l0`).
/// Flux's `GRU` has one bias, added outside the reset gate: its `bias` is `bias_ih` here with
/// `bias_hh` zero (as [`Gru::new`] leaves it).
///
/// Shapes as [`Lstm`](crate::Lstm): `x` is `(input·steps) × batch`, rows `t·input .. (t +
/// 1)·input` holding step `t` (Flux's `input × steps × batch`, column-major); the output every
/// step's hidden state, `(hidden·steps) × batch`, or with [`last_only`](Self::last_only) the
/// final one, `hidden × batch`. Parameters: `weight_ih` `3·hidden × input`, `weight_hh`
/// `3·hidden × hidden`, `bias_ih` and `bias_hh` `3·hidden × 1` (PyTorch's `weight_ih_l0`,
/// `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` as they are). No state is kept between calls; to
/// start from another state and get the final one, [`forward_with_state`](Self::forward_with_state).
/// What a [`Chain`](crate::Chain) can check is sizes, as for an [`Lstm`](crate::Lstm#stacking).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Gru, Layer};
/// let gru = Gru::<f64>::new(2, 4, &mut StdRng::seed_from_u64(0));
/// let x = DMatrix::from_fn(6, 5, |r, c| (r as f64 + c as f64).sin()); // 3 steps of 2
/// assert_eq!(gru.predict(&x).unwrap().shape(), (12, 5));
/// assert_eq!(gru.clone().last_only().predict(&x).unwrap().shape(), (4, 5));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Gru<T> {
    /// `W_ih`, `3·hidden × input`: the input's weights, blocks reset, update, candidate.
    pub weight_ih: DMatrix<T>,
    /// `W_hh`, `3·hidden × hidden`: the previous hidden state's weights, same order.
    pub weight_hh: DMatrix<T>,
    /// `b_ih`, `3·hidden × 1`.
    pub bias_ih: DMatrix<T>,
    /// `b_hh`, `3·hidden × 1`.
    pub bias_hh: DMatrix<T>,
    /// Output the final hidden state alone (`hidden × batch`) instead of every step's.
    pub last_only: bool,
    /// Steps whose every feature equals this value are padding ([`Gru::masking`]); `None`:
    /// every step is real.
    pub mask_value: Option<f64>,
}

impl<T: MatScalar> Gru<T> {
    /// A GRU from `input` features to `hidden` with Glorot-uniform weights (seeded by `rng`;
    /// `W_ih` then `W_hh`) and zero biases, as [`Lstm::new`](crate::Lstm::new). (PyTorch
    /// draws every weight and bias from `U(−1/√hidden, 1/√hidden)`.)
    ///
    /// # Panics
    /// If a weight would have more entries than `usize` counts or more bytes than an
    /// allocation can hold, as [`glorot_uniform`](crate::init::glorot_uniform).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Gru;
    /// let gru = Gru::<f32>::new(3, 8, &mut StdRng::seed_from_u64(0));
    /// assert_eq!((gru.weight_ih.shape(), gru.weight_hh.shape()), ((24, 3), (24, 8)));
    /// assert_eq!((gru.input(), gru.hidden(), gru.bias_hh.shape()), (3, 8, (24, 1)));
    /// ```
    #[track_caller]
    pub fn new(input: usize, hidden: usize, rng: &mut impl Rng) -> Self {
        let gates = hidden
            .checked_mul(3)
            .expect("Gru::new: 3·hidden overflows usize");
        Self {
            weight_ih: init::glorot_uniform(rng, gates, input),
            weight_hh: init::glorot_uniform(rng, gates, hidden),
            bias_ih: DMatrix::zeros(gates, 1),
            bias_hh: DMatrix::zeros(gates, 1),
            last_only: false,
            mask_value: None,
        }
    }

    /// A layer from given parameters (every step's states output): `weight_ih` `3·hidden ×
    /// input`, `weight_hh` `3·hidden × hidden`, `bias_ih` and `bias_hh` `3·hidden × 1`, blocks
    /// in the order reset, update, candidate — PyTorch's `nn.GRU` parameters `weight_ih_l0`,
    /// `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0` as they are.
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] if the shapes do not fit together (`weight_hh`'s rows three
    /// times its columns, the others' rows the same); [`NnError::InvalidConfig`] if `3·hidden`
    /// overflows.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::{Gru, Layer, NnError};
    /// // hidden 2, input 3
    /// let zeros = |r, c| DMatrix::<f64>::zeros(r, c);
    /// let gru = Gru::from_parts(zeros(6, 3), zeros(6, 2), zeros(6, 1), zeros(6, 1)).unwrap();
    /// assert_eq!(gru.predict(&zeros(6, 1)).unwrap().shape(), (4, 1)); // 2 steps
    /// let bad = Gru::from_parts(zeros(6, 3), zeros(6, 2), zeros(6, 1), zeros(3, 1));
    /// assert!(matches!(bad, Err(NnError::ShapeMismatch { .. })));
    /// ```
    pub fn from_parts(
        weight_ih: DMatrix<T>,
        weight_hh: DMatrix<T>,
        bias_ih: DMatrix<T>,
        bias_hh: DMatrix<T>,
    ) -> Result<Self, NnError> {
        let gru = Self {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            last_only: false,
            mask_value: None,
        };
        gru.check_params()?;
        Ok(gru)
    }

    /// The same layer returning only the final hidden state, `hidden × batch`.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Gru, Layer};
    /// let all = Gru::<f64>::new(1, 2, &mut StdRng::seed_from_u64(3));
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
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Layer, Gru};
    /// let layer = Gru::<f64>::new(2, 3, &mut StdRng::seed_from_u64(0)).masking(0.0).last_only();
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
    /// use adroit_nn::Gru;
    /// assert_eq!(Gru::<f64>::new(5, 7, &mut StdRng::seed_from_u64(0)).hidden(), 7);
    /// ```
    pub fn hidden(&self) -> usize {
        self.weight_hh.ncols()
    }

    /// The number of features of one step (`weight_ih`'s columns).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Gru;
    /// assert_eq!(Gru::<f64>::new(5, 7, &mut StdRng::seed_from_u64(0)).input(), 5);
    /// ```
    pub fn input(&self) -> usize {
        self.weight_ih.ncols()
    }

    /// The layer run from the hidden state `initial` (`None`: the zero state, as
    /// [`forward`](Layer::forward)), returning its output (as `forward`'s) and the hidden state
    /// after the last step: PyTorch's `output, h_n = gru(x, h_0)`; Flux's `gru(x, h)` takes
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
    /// use adroit_nn::{Context, Gru, Mode};
    /// let gru = Gru::<f64>::new(1, 2, &mut StdRng::seed_from_u64(0));
    /// let x = DMatrix::from_column_slice(3, 1, &[0.5, -1.0, 2.0]); // 3 steps of 1 feature
    /// let h0 = DMatrix::from_column_slice(2, 1, &[0.3, -0.2]);
    /// // The gradient of Σ h_n in h₀.
    /// let grad = matrix::gradient(
    ///     |h| {
    ///         let mut ctx = Context::new(Mode::Train, 0);
    ///         let seq = MatVar::constant(x.clone());
    ///         let (out, h_n) = gru.forward_with_state(seq, Some(h[0]), &mut ctx).unwrap();
    ///         assert_eq!(out.value().rows(4, 2), h_n.value()); // the last step's state
    ///         h_n.sum()
    ///     },
    ///     &[h0],
    /// );
    /// assert_eq!(grad[0].shape(), (2, 1));
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
            .with_hidden_state("Gru", x, initial, |x, h| self.unrolled(x, h, ctx))
    }

    /// [`forward_with_state`](Self::forward_with_state) on plain matrices, in
    /// [`Mode::Eval`](crate::Mode::Eval): the output and the final state for `x` (`(input·steps)
    /// × batch`) from `initial` (`hidden × batch` or `hidden × 1`; `None`: zeros), e.g. to run a
    /// sequence as it arrives, step by step, each step from the last one's state.
    ///
    /// # Errors
    /// As [`forward_with_state`](Self::forward_with_state).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::DMatrix;
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::Gru;
    /// let layer = Gru::<f64>::new(2, 3, &mut StdRng::seed_from_u64(0));
    /// let x = DMatrix::from_fn(8, 5, |r, c| (r as f64 * 0.7 - c as f64).sin()); // 4 steps of 2
    /// let (whole, h_n) = layer.predict_with_state(&x, None).unwrap();
    /// // One step at a time, each from the last one's state.
    /// let mut h = DMatrix::zeros(3, 5);
    /// for t in 0..4 {
    ///     let (out, next) = layer.predict_with_state(&x.rows(2 * t, 2).into_owned(), Some(&h)).unwrap();
    ///     assert!((out - whole.rows(3 * t, 3)).amax() < 1e-15);
    ///     h = next;
    /// }
    /// assert!((h - &h_n).amax() < 1e-15);
    /// // One state for every sequence (3 × 1) is broadcast over the batch.
    /// let (_, from_one) = layer.predict_with_state(&x, Some(&DMatrix::zeros(3, 1))).unwrap();
    /// assert_eq!(from_one, h_n);
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
        let hidden = self.hidden();
        let w_ih = ctx.param(&self.weight_ih);
        let w_hh = ctx.param(&self.weight_hh);
        let b_ih = ctx.param(&self.bias_ih);
        let b_hh = ctx.param(&self.bias_hh);
        self.unroll().run(
            "Gru",
            x,
            initial,
            |h| *h,
            |x_t, h: Option<MatVar<T>>| {
                let a = w_ih.affine(x_t, b_ih);
                // From the zero state the hidden side is its bias alone (broadcast over the
                // batch).
                let b = match h {
                    Some(h) => w_hh.affine(h, b_hh),
                    None => b_hh,
                };
                let block = |m: MatVar<T>, k: usize| m.rows(k * hidden, hidden);
                let r = (block(a, 0) + block(b, 0)).sigmoid();
                let z = (block(a, 1) + block(b, 1)).sigmoid();
                let n = (block(a, 2) + r.component_mul(block(b, 2))).tanh();
                let next = match h {
                    Some(h) => n + z.component_mul(h - n),
                    None => n - z.component_mul(n),
                };
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

impl<T: MatScalar> Layer<T> for Gru<T> {
    /// The value given to [`masking`](Gru::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    /// Every step's hidden state, `(hidden·steps) × batch`, or the last one (`hidden ×
    /// batch`) with [`last_only`](Gru::last_only), for `x`: `(input·steps) × batch`. An input
    /// of no steps gives `0 × batch`, or the zero state.
    ///
    /// # Panics
    /// If `x`'s rows are not a multiple of `input` (or `input` is 0), or the parameters' shapes
    /// do not fit ([`Layer::predict`], [`train`](crate::train()) and the other entry points
    /// report both as errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("Gru: {e}");
        }
        self.unrolled(x, None, ctx).0
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        f(&format!("{prefix}weight_ih"), &self.weight_ih);
        f(&format!("{prefix}weight_hh"), &self.weight_hh);
        f(&format!("{prefix}bias_ih"), &self.bias_ih);
        f(&format!("{prefix}bias_hh"), &self.bias_hh);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        f(&mut self.weight_ih);
        f(&mut self.weight_hh);
        f(&mut self.bias_ih);
        f(&mut self.bias_hh);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        f(&self.weight_ih);
        f(&self.weight_hh);
        f(&self.bias_ih);
        f(&self.bias_hh);
    }

    /// `hidden` with [`last_only`](Gru::last_only), whatever the input (so that a
    /// [`Chain`](crate::Chain)'s [`check_params`](Layer::check_params) checks the layer after
    /// it); else `None`, every step's states taking `hidden·steps` rows.
    fn output_size(&self) -> Option<usize> {
        self.unroll().output_size()
    }

    /// `hidden·steps` (or `hidden` with [`last_only`](Gru::last_only)) for an input of
    /// `input·steps` rows.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `input` rows are not whole steps.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        self.unroll().output_size_for("Gru input", input)
    }

    /// `weight_ih` must be `3·hidden × input`, `weight_hh` `3·hidden × hidden` and both biases
    /// `3·hidden × 1`.
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("Gru", self.mask_value)?;
        Unroll::check_weights(
            "Gru",
            3,
            &self.weight_ih,
            &self.weight_hh,
            &[("bias_ih", &self.bias_ih), ("bias_hh", &self.bias_hh)],
        )
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The weights and biases converted (see [`Cast`]).
impl<T: MatScalar> Cast for Gru<T> {
    type Output<U: MatScalar> = Gru<U>;

    fn cast<U: MatScalar>(&self) -> Result<Gru<U>, NnError> {
        Ok(Gru {
            weight_ih: cast_matrix(&self.weight_ih),
            weight_hh: cast_matrix(&self.weight_hh),
            bias_ih: cast_matrix(&self.bias_ih),
            bias_hh: cast_matrix(&self.bias_hh),
            last_only: self.last_only,
            mask_value: self.mask_value,
        })
    }
}
