//! What the recurrent layers share: the layout of a batch of sequences and the loop over its
//! steps from a given or the zero state.

use super::padding::real_steps;
use crate::error::check_shape;
use crate::{Context, Mode, NnError};
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;

/// A recurrent layer's sizes: `input` features per step in, `hidden` out, and whether only
/// the final hidden state is output; and the value marking padding steps, if any.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Unroll {
    pub(crate) input: usize,
    pub(crate) hidden: usize,
    pub(crate) last_only: bool,
    /// A step of a sequence whose every feature equals this value is padding: the state
    /// carries over it and its output is this value (the layers' `masking`).
    pub(crate) mask_value: Option<f64>,
}

/// A recurrent layer's state between steps, whose parts a padding step carries over.
pub(crate) trait StepState<T: MatScalar>: Copy {
    /// `next` where `real` (`hidden × batch`) is true, `previous` (the zero state for `None`)
    /// elsewhere, part by part.
    fn select(real: &DMatrix<bool>, next: Self, previous: Option<Self>) -> Self;
}

impl<T: MatScalar> StepState<T> for MatVar<T> {
    fn select(real: &DMatrix<bool>, next: Self, previous: Option<Self>) -> Self {
        let previous = previous.unwrap_or_else(|| MatVar::constant(DMatrix::zeros(1, 1)));
        MatVar::select(real, next, previous)
    }
}

impl Unroll {
    /// The number of steps in an input of `rows` rows (`(input·steps) × batch`), or why there
    /// is none.
    pub(crate) fn steps(&self, rows: usize) -> Result<usize, String> {
        let input = self.input;
        if input == 0 {
            return Err("the layer takes 0 features per step".to_string());
        }
        if !rows.is_multiple_of(input) {
            return Err(format!(
                "{rows} input rows are not whole steps of {input} features \
                 (x is (input·steps) × batch)"
            ));
        }
        Ok(rows / input)
    }

    /// [`Layer::output_size_for`](crate::Layer::output_size_for) of the layer `name`:
    /// `hidden·steps`, or `hidden` for the final state alone.
    pub(crate) fn output_size_for(
        &self,
        name: &'static str,
        rows: usize,
    ) -> Result<Option<usize>, NnError> {
        let steps = self
            .steps(rows)
            .map_err(|reason| NnError::InvalidConfig { name, reason })?;
        Ok(Some(if self.last_only {
            self.hidden
        } else {
            self.hidden * steps
        }))
    }

    /// [`Layer::output_size`](crate::Layer::output_size): `hidden` for the final state alone,
    /// whatever the number of steps; unknown (`None`) for every step's states.
    pub(crate) fn output_size(&self) -> Option<usize> {
        self.last_only.then_some(self.hidden)
    }

    /// Runs `step` over `x`'s steps in order from `initial` (`None`: the zero state):
    /// `step(xₜ, state)` returns `hₜ` and the state the next step gets (`None` at the first
    /// step from the zero state). Returns every `hₜ` stacked, `(hidden·steps) × batch`, or the
    /// last one, `hidden × batch` (`hidden_of` the initial state, or the zero state, for no
    /// steps), and the state after the last step (the initial one for no steps).
    ///
    /// # Panics
    /// If `x`'s rows are not whole steps (message prefixed with `name`).
    ///
    /// With a mask value, at a step where a sequence is padding `hₜ` is the mask value and
    /// the state carries over unchanged ([`StepState::select`]), so the final state is the
    /// one after each sequence's last real step.
    #[track_caller]
    pub(crate) fn run<T: MatScalar, S: StepState<T>>(
        &self,
        name: &str,
        x: MatVar<T>,
        initial: Option<S>,
        hidden_of: impl Fn(&S) -> MatVar<T>,
        mut step: impl FnMut(MatVar<T>, Option<S>) -> (MatVar<T>, S),
    ) -> (MatVar<T>, Option<S>) {
        let steps = self
            .steps(x.nrows())
            .unwrap_or_else(|reason| panic!("{name}: {reason}"));
        let real = self.real_steps(&x, steps);
        let padding = self
            .mask_value
            .and_then(T::from_f64)
            .map(|v| MatVar::constant(DMatrix::from_element(1, 1, v)));
        let mut state = initial;
        let mut outputs = Vec::with_capacity(if self.last_only { 0 } else { steps });
        for t in 0..steps {
            let (mut h, mut next) = step(x.rows(t * self.input, self.input), state);
            if let (Some(Some(real)), Some(padding)) = (real.get(t), padding) {
                h = MatVar::select(real, h, padding);
                next = S::select(real, next, state);
            }
            if !self.last_only {
                outputs.push(h);
            }
            state = Some(next);
        }
        let output = if self.last_only {
            self.state_or_zero(&x, state.as_ref().map(hidden_of))
        } else if outputs.is_empty() {
            MatVar::constant(DMatrix::zeros(0, x.ncols()))
        } else {
            MatVar::vcat(&outputs)
        };
        (output, state)
    }

    /// For each of `x`'s `steps` steps where some sequence is padding (every feature equal to
    /// the mask value), which entries of a `hidden × batch` state are at real steps; `None`
    /// for a step without padding. Empty without a mask value or padding. The values are read
    /// from `x` (a decision, not differentiated).
    fn real_steps<T: MatScalar>(&self, x: &MatVar<T>, steps: usize) -> Vec<Option<DMatrix<bool>>> {
        let Some(real) = real_steps(x, self.input, self.mask_value) else {
            return Vec::new();
        };
        (0..steps)
            .map(|t| {
                let padded = real.row(t).iter().any(|&r| !r);
                padded.then(|| DMatrix::from_fn(self.hidden, real.ncols(), |_, b| real[(t, b)]))
            })
            .collect()
    }

    /// Checks what [`Self::run`] would panic on, for a layer's `forward_with_state` (`layer`
    /// names it).
    ///
    /// # Errors
    /// [`NnError::InvalidData`] if `x`'s rows are not whole steps (or `input` is 0).
    pub(crate) fn check_steps<T: MatScalar>(
        &self,
        layer: &str,
        x: &MatVar<T>,
    ) -> Result<(), NnError> {
        self.steps(x.nrows())
            .map(|_| ())
            .map_err(|reason| NnError::InvalidData {
                what: format!("{layer} input: {reason}"),
            })
    }

    /// An initial state matrix (`name`d) for `x`'s batch: `hidden × batch` as it is, or
    /// `hidden × 1` — one state for every sequence, such as a learned one (Flux's) — broadcast
    /// to it (its gradient then sums over the batch).
    ///
    /// # Errors
    /// [`NnError::ShapeMismatch`] for another shape.
    pub(crate) fn initial<T: MatScalar>(
        &self,
        layer: &str,
        name: &str,
        x: &MatVar<T>,
        state: MatVar<T>,
    ) -> Result<MatVar<T>, NnError> {
        let (hidden, batch) = (self.hidden, x.ncols());
        match state.shape() {
            found if found == (hidden, batch) => Ok(state),
            (rows, 1) if rows == hidden => {
                Ok(state + MatVar::constant(DMatrix::zeros(hidden, batch)))
            }
            found => Err(NnError::ShapeMismatch {
                what: format!(
                    "{layer} initial {name} (hidden × batch, or hidden × 1 for every sequence)"
                ),
                expected: (hidden, batch),
                found,
            }),
        }
    }

    /// `forward_with_state` of a layer whose state is its hidden state alone, after its
    /// parameters' check: the checks above, then `unrolled(x, initial)` (the output and the
    /// last state), the zero state for no steps from none.
    pub(crate) fn with_hidden_state<T: MatScalar>(
        &self,
        layer: &str,
        x: MatVar<T>,
        initial: Option<MatVar<T>>,
        unrolled: impl FnOnce(MatVar<T>, Option<MatVar<T>>) -> (MatVar<T>, Option<MatVar<T>>),
    ) -> Result<(MatVar<T>, MatVar<T>), NnError> {
        self.check_steps(layer, &x)?;
        let initial = initial
            .map(|h| self.initial(layer, "h", &x, h))
            .transpose()?;
        let (output, last) = unrolled(x, initial);
        Ok((output, self.state_or_zero(&x, last)))
    }

    /// The state [`Self::run`] returned, or for no steps from no initial state the zero state
    /// (`hidden × batch` of `x`, a constant).
    pub(crate) fn state_or_zero<T: MatScalar>(
        &self,
        x: &MatVar<T>,
        last: Option<MatVar<T>>,
    ) -> MatVar<T> {
        last.unwrap_or_else(|| MatVar::constant(DMatrix::zeros(self.hidden, x.ncols())))
    }

    /// Checks a recurrent layer's parameters (`layer` names it): `weight_ih` `gates·hidden ×
    /// input`, `weight_hh` `gates·hidden × hidden` (so its rows are `gates` times its
    /// columns), each named bias `gates·hidden × 1`.
    pub(crate) fn check_weights<T: MatScalar>(
        layer: &str,
        gates: usize,
        weight_ih: &DMatrix<T>,
        weight_hh: &DMatrix<T>,
        biases: &[(&str, &DMatrix<T>)],
    ) -> Result<(), NnError> {
        let hidden = weight_hh.ncols();
        let rows = hidden.checked_mul(gates).ok_or(NnError::InvalidConfig {
            name: "recurrent layer size",
            reason: format!("{layer}: {gates}·hidden overflows usize"),
        })?;
        check_shape(
            &format!("{layer} weight_hh"),
            (rows, hidden),
            weight_hh.shape(),
        )?;
        check_shape(
            &format!("{layer} weight_ih"),
            (rows, weight_ih.ncols()),
            weight_ih.shape(),
        )?;
        for (name, bias) in biases {
            check_shape(&format!("{layer} {name}"), (rows, 1), bias.shape())?;
        }
        Ok(())
    }
}

/// Runs `run` (a layer's `forward_with_state` on constants) in a recording of its own, in
/// [`Mode::Eval`], and returns the values of its output and `K` states: the plain-matrix
/// `predict_with_state` of the recurrent layers.
///
/// # Errors
/// `run`'s error, else the first error a layer reported through the context.
pub(crate) fn evaluated<T: MatScalar, const K: usize>(
    run: impl FnOnce(&mut Context<T>) -> Result<(MatVar<T>, [MatVar<T>; K]), NnError>,
) -> Result<(DMatrix<T>, [DMatrix<T>; K]), NnError> {
    let mut ctx = Context::new(Mode::Eval, 0);
    let mut result = None;
    let _ = matrix::evaluate(
        |_: &[MatVar<T>]| {
            let values = run(&mut ctx).map(|(y, states)| (y.value(), states.map(|s| s.value())));
            result = Some(values);
            MatVar::constant(DMatrix::zeros(0, 0))
        },
        &[] as &[DMatrix<T>],
    );
    let values = result.expect("the recording runs its closure once")?;
    match ctx.take_outcome().1 {
        Some(error) => Err(error),
        None => Ok(values),
    }
}

/// `predict_with_state` of a layer whose state is its hidden state alone, through its
/// `forward_with_state`.
///
/// # Errors
/// As the layer's `forward_with_state`.
pub(crate) fn predict_with_hidden_state<T: MatScalar>(
    x: &DMatrix<T>,
    initial: Option<&DMatrix<T>>,
    forward_with_state: impl FnOnce(
        MatVar<T>,
        Option<MatVar<T>>,
        &mut Context<T>,
    ) -> Result<(MatVar<T>, MatVar<T>), NnError>,
) -> Result<(DMatrix<T>, DMatrix<T>), NnError> {
    let (output, [h_n]) = evaluated(|ctx| {
        let h = initial.map(|h| MatVar::constant(h.clone()));
        let (y, h_n) = forward_with_state(MatVar::constant(x.clone()), h, ctx)?;
        Ok((y, [h_n]))
    })?;
    Ok((output, h_n))
}
