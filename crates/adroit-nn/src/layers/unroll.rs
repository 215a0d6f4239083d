//! What the recurrent layers share: the layout of a batch of sequences and the loop over its
//! steps from a given or the zero state.

use crate::NnError;
use crate::error::check_shape;
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// A recurrent layer's sizes: `input` features per step in, `hidden` out, and whether only
/// the final hidden state is output.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Unroll {
    pub(crate) input: usize,
    pub(crate) hidden: usize,
    pub(crate) last_only: bool,
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
    #[track_caller]
    pub(crate) fn run<T: MatScalar, S: Copy>(
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
        let mut state = initial;
        let mut outputs = Vec::with_capacity(if self.last_only { 0 } else { steps });
        for t in 0..steps {
            let (h, next) = step(x.rows(t * self.input, self.input), state);
            if !self.last_only {
                outputs.push(h);
            }
            state = Some(next);
        }
        let output = if self.last_only {
            match &state {
                Some(s) => hidden_of(s),
                None => MatVar::constant(DMatrix::zeros(self.hidden, x.ncols())),
            }
        } else if outputs.is_empty() {
            MatVar::constant(DMatrix::zeros(0, x.ncols()))
        } else {
            MatVar::vcat(&outputs)
        };
        (output, state)
    }

    /// Checks what [`Self::run`] would panic on, and each of an initial state's matrices
    /// (`states`, named) against `hidden × batch`, for a layer's `forward_with_state` (`layer`
    /// names it).
    ///
    /// # Errors
    /// [`NnError::InvalidData`] if `x`'s rows are not whole steps; [`NnError::ShapeMismatch`]
    /// for a state matrix of another shape.
    pub(crate) fn check_input<T: MatScalar>(
        &self,
        layer: &str,
        x: &MatVar<T>,
        states: &[(&str, &MatVar<T>)],
    ) -> Result<(), NnError> {
        self.steps(x.nrows())
            .map_err(|reason| NnError::InvalidData {
                what: format!("{layer} input: {reason}"),
            })?;
        for (name, state) in states {
            check_shape(
                &format!("{layer} initial {name} (hidden × batch)"),
                (self.hidden, x.ncols()),
                state.shape(),
            )?;
        }
        Ok(())
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
