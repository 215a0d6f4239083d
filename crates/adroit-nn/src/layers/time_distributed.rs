//! [`TimeDistributed`]: one layer applied to every step of a sequence.

use super::padding::{check_mask_value, fill_padding, real_steps};
use crate::{Cast, CastSlot, Context, Layer, NnError};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// A layer applied to every step of a sequence with the same parameters — Keras's
/// `TimeDistributed`; Flux applies a `Dense` to a 3-D array the same way, and PyTorch's
/// `nn.Linear` to the last dimension of `(seq, batch, features)`. For an output at every step
/// (sequence tagging, a forecast per step) after a recurrent layer's every-step states.
///
/// Shapes: `x` is `(input·steps) × batch` (rows `t·input .. (t + 1)·input` step `t`, the
/// recurrent layers' layout), `input` the inner layer's [`input_size`](Layer::input_size);
/// the output `(out·steps) × batch` in the same layout. The steps of all sequences go through
/// the inner layer as one batch of `steps·batch` columns (column `b·steps + t` step `t` of
/// sequence `b`), so a [`BatchNorm`](crate::BatchNorm) inside normalises over them all, and
/// an inner layer's error that names a sample (an [`Embedding`](crate::Embedding)'s id out of
/// range) names such a column: "sample 5" of 3 steps is step 2 of sequence 1.
/// Parameters: the inner layer's, named `layer.` before its own names. After a recurrent
/// layer the inner layer must take that layer's `hidden` features: a [`Chain`](crate::Chain)
/// checks only that the rows are whole steps (see [`Lstm`](crate::Lstm#stacking)). The inner
/// layer must implement [`Cast`](crate::Cast), as adroit-nn's layers do: the wrapper is
/// a [`Layer`] only then (`new` accepts a layer of your own without a `Cast` impl, but
/// then its `predict` does not compile; [`Chain`](crate::Chain),
/// [`SkipConnection`](crate::SkipConnection), [`Parallel`](crate::Parallel) and
/// [`Checkpoint`](crate::Checkpoint) take any layer).
///
/// With [`masking`](Self::masking), padding steps (every feature equal to the mask value)
/// come out as the mask value in every output feature, so that masked layers after it (a
/// [`TransformerEncoderLayer`](crate::TransformerEncoderLayer) after a per-step embedding, a
/// masked [`Lstm`](crate::Lstm)) still find them — Keras's `TimeDistributed` passing its
/// mask on. The inner layer still sees the padding steps (a `BatchNorm` inside counts them),
/// and a real step it maps to the mask value in every feature (a ReLU's zeros with a mask
/// value of 0) is padding to the layers after it: pick a value its outputs cannot all take.
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Chain, Dense, Layer, Lstm, TimeDistributed};
/// let mut rng = StdRng::seed_from_u64(0);
/// // A tag of 3 classes at each of 5 steps: every step's LSTM state through one dense layer.
/// let tagger = Chain::new()
///     .push(Lstm::new(2, 4, &mut rng))
///     .push(TimeDistributed::new(Dense::new(4, 3, Activation::Identity, &mut rng)).unwrap());
/// let x = DMatrix::<f64>::from_fn(10, 6, |r, c| (r as f64 - c as f64).sin()); // 5 steps of 2
/// let y = tagger.predict(&x).unwrap();
/// assert_eq!(y.shape(), (3 * 5, 6));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct TimeDistributed<L> {
    /// The layer applied to each step.
    pub layer: L,
    /// Steps whose every feature equals this value are padding, output as this value
    /// ([`TimeDistributed::masking`]); `None`: every step goes through the layer.
    pub mask_value: Option<f64>,
}

impl<L> TimeDistributed<L> {
    /// `layer` applied to every step.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `layer` does not state its number of input features
    /// ([`Layer::input_size`], which sets the step's size), or takes 0.
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Activation, Dense, Dropout, NnError, TimeDistributed};
    /// let dense = Dense::<f64>::new(4, 3, Activation::Relu, &mut StdRng::seed_from_u64(0));
    /// assert!(TimeDistributed::new(dense).is_ok());
    /// // Dropout takes any number of features: no step size.
    /// let err = TimeDistributed::<Dropout>::new::<f64>(Dropout::new(0.5).unwrap()).unwrap_err();
    /// assert!(matches!(err, NnError::InvalidConfig { .. }));
    /// ```
    pub fn new<T: MatScalar>(layer: L) -> Result<Self, NnError>
    where
        L: Layer<T>,
    {
        step_size(&layer)?;
        Ok(Self {
            layer,
            mask_value: None,
        })
    }

    /// The same layer passing padding steps on: a step whose every feature equals
    /// `mask_value` comes out as `mask_value` in every output feature (see
    /// [`Layer::mask_value`] for the rule; a value that is not finite is refused by
    /// [`check_params`](Layer::check_params)).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::nalgebra::{self, dmatrix};
    /// use adroit_nn::{Activation, Dense, Layer, TimeDistributed};
    /// // Each step's one feature to two, 2·x and −x.
    /// let dense = Dense::from_parts(dmatrix![2.0; -1.0], None, Activation::Identity).unwrap();
    /// let lift = TimeDistributed::new(dense).unwrap().masking(0.0);
    /// // Sequences (1, 3) and (4) padded with 0.
    /// let y = lift.predict(&dmatrix![1.0, 4.0; 3.0, 0.0]).unwrap();
    /// assert_eq!(y, dmatrix![2.0, 8.0; -1.0, -4.0; 6.0, 0.0; -3.0, 0.0]);
    /// ```
    pub fn masking(mut self, mask_value: f64) -> Self {
        self.mask_value = Some(mask_value);
        self
    }
}

/// The features of one step: `layer`'s stated input size, not 0.
fn step_size<T: MatScalar, L: Layer<T> + ?Sized>(layer: &L) -> Result<usize, NnError> {
    match layer.input_size() {
        Some(n) if n > 0 => Ok(n),
        size => Err(NnError::InvalidConfig {
            name: "TimeDistributed layer",
            reason: format!(
                "the layer must state a number of input features (it states {size:?}): it sets \
                 the size of one step"
            ),
        }),
    }
}

impl<T: MatScalar, L: Layer<T> + Cast> Layer<T> for TimeDistributed<L> {
    /// Each step's output of the inner layer, `(out·steps) × batch`, for `x`: `(input·steps)
    /// × batch`. No steps give `0 × batch`.
    ///
    /// # Panics
    /// If `x`'s rows are not a multiple of `input`, or the parameters do not fit
    /// ([`Layer::predict`], [`train`](crate::train()) and the other entry points report both as
    /// errors first).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        let input = step_size(&self.layer)
            .and_then(|n| self.layer.check_params().map(|()| n))
            .unwrap_or_else(|e| panic!("TimeDistributed: {e}"));
        let (rows, batch) = x.shape();
        assert!(
            rows.is_multiple_of(input),
            "TimeDistributed: {rows} input rows are not whole steps of {input} features"
        );
        let steps = rows / input;
        if steps == 0 || batch == 0 {
            let out = self
                .layer
                .output_size_for(input)
                .ok()
                .flatten()
                .unwrap_or(0);
            return MatVar::constant(DMatrix::zeros(out * steps, batch));
        }
        let real = real_steps(&x, input, self.mask_value);
        let y = self.layer.forward(x.reshape(input, steps * batch), ctx);
        let y = fill_padding(y, real.as_ref(), self.mask_value);
        let out = y.nrows();
        y.reshape(out * steps, batch)
    }

    /// The value given to [`masking`](TimeDistributed::masking), if any.
    fn mask_value(&self) -> Option<f64> {
        self.mask_value
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.layer.visit(&format!("{prefix}layer."), f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.layer.visit_mut(f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.layer.visit_params(f);
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.layer.visit_state(&format!("{prefix}layer."), f);
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.layer.visit_state_mut(f);
    }

    /// `out·steps` for an input of `input·steps` rows, when the inner layer states its
    /// output size for one step.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if the rows are not whole steps, or the inner layer's error.
    fn output_size_for(&self, rows: usize) -> Result<Option<usize>, NnError> {
        let input = step_size(&self.layer)?;
        if !rows.is_multiple_of(input) {
            return Err(NnError::InvalidConfig {
                name: "TimeDistributed input",
                reason: format!("{rows} input rows are not whole steps of {input} features"),
            });
        }
        let out = self.layer.output_size_for(input)?;
        Ok(out.map(|out| out * (rows / input)))
    }

    /// The inner layer's parameters, its input size (the step's) and the mask value.
    ///
    /// # Errors
    /// The inner layer's errors; [`NnError::InvalidConfig`] if it no longer states an input
    /// size, or for a mask value that is not finite.
    fn check_params(&self) -> Result<(), NnError> {
        check_mask_value::<T>("TimeDistributed", self.mask_value)?;
        step_size(&self.layer)?;
        self.layer.check_params()
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// The inner layer converted (see [`Cast`]), the mask value kept.
impl<L: Cast> Cast for TimeDistributed<L> {
    type Output<U: MatScalar> = TimeDistributed<L::Output<U>>;

    fn cast<U: MatScalar>(&self) -> Result<TimeDistributed<L::Output<U>>, NnError> {
        Ok(TimeDistributed {
            layer: self.layer.cast()?,
            mask_value: self.mask_value,
        })
    }
}
