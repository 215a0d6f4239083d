//! [`Bidirectional`]: two recurrent layers over a sequence, one of them run from its end.

use super::unroll::Unroll;
use crate::{Cast, CastSlot, Context, Layer, NnError, Recurrent};
use adroit_reverse::matrix::{MatScalar, MatVar};
use nalgebra::DMatrix;

/// A bidirectional recurrent layer: `forward` runs over the sequence from its first step,
/// `backward` from its last, and each step's output is the two directions' hidden states at
/// that step, forward's above backward's (`2·hidden` features per step) — PyTorch's
/// `bidirectional=True` (Schuster & Paliwal 1997). With two `last_only` layers (e.g.
/// [`Gru::last_only`](crate::Gru::last_only); set on both) the output is forward's final state
/// above backward's (backward's after it has read the whole sequence back to step 0), `2·hidden
/// × batch`: PyTorch's `h_n` with its two directions stacked, what a classifier of whole
/// sequences takes. With both layers `masking` by the same value (e.g.
/// [`Lstm::masking`](crate::Lstm::masking)), sequences of different lengths padded at the end
/// run as PyTorch's packed sequences do: the backward direction starts at each sequence's last
/// real step. Both directions start from the zero state; to start them from other states
/// or read both final states with every step's output, run the two layers'
/// `forward_with_state` yourself (the backward one on the steps reversed). The two layers
/// must implement [`Cast`](crate::Cast), as adroit-nn's recurrent layers do: the wrapper is a
/// [`Layer`] only then (`new` accepts a layer of your own without a `Cast` impl, but
/// then its `predict` does not compile; [`Chain`](crate::Chain),
/// [`SkipConnection`](crate::SkipConnection), [`Parallel`](crate::Parallel) and
/// [`Checkpoint`](crate::Checkpoint) take any layer).
///
/// Shapes: `x` is `(input·steps) × batch` as for the layers it holds (rows `t·input .. (t +
/// 1)·input` step `t`); the output `(2·hidden·steps) × batch`, rows `2·hidden·t ..
/// 2·hidden·(t + 1)` step `t`'s, or `2·hidden × batch`. Parameters: forward's then
/// backward's, named `forward.` and `backward.` before each layer's own names (PyTorch's
/// `…_l0` and `…_l0_reverse`). The two layers must take the same `input`, have the same
/// `hidden` and both output every step or both the final state ([`Bidirectional::new`]
/// checks).
///
/// # Example
/// ```
/// use adroit_nn::nalgebra::DMatrix;
/// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
/// use adroit_nn::{Activation, Bidirectional, Chain, Dense, Layer, Lstm};
/// let mut rng = StdRng::seed_from_u64(0);
/// // Sequences of 5 steps of 2 features, 3 sequences: 10 × 3.
/// let x = DMatrix::<f64>::from_fn(10, 3, |r, c| (r as f64 - c as f64) / 10.0);
/// let both = Bidirectional::new(Lstm::new(2, 4, &mut rng), Lstm::new(2, 4, &mut rng)).unwrap();
/// assert_eq!(both.predict(&x).unwrap().shape(), (2 * 4 * 5, 3));
/// // A sequence classifier on both final states.
/// let last = |rng: &mut StdRng| Lstm::new(2, 4, rng).last_only();
/// let model = Chain::new()
///     .push(Bidirectional::new(last(&mut rng), last(&mut rng)).unwrap())
///     .push(Dense::new(8, 3, Activation::Identity, &mut rng));
/// assert_eq!(model.predict(&x).unwrap().shape(), (3, 3));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Bidirectional<L> {
    /// The layer run from the first step.
    pub forward: L,
    /// The layer run from the last step.
    pub backward: L,
    /// The sizes both layers had when paired (checked against them by `check_params`).
    unroll: Unroll,
}

impl<L> Bidirectional<L> {
    /// `forward` and `backward` as one layer (see the type's docs).
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if the two take different numbers of input features, have
    /// different hidden sizes, one outputs every step and the other the final state alone, or
    /// they have different mask values ([`Layer::mask_value`]).
    ///
    /// # Example
    /// ```
    /// use adroit_nn::rand::{SeedableRng, rngs::StdRng};
    /// use adroit_nn::{Bidirectional, Gru, NnError};
    /// let mut rng = StdRng::seed_from_u64(0);
    /// let pair = Bidirectional::new(Gru::<f64>::new(3, 8, &mut rng), Gru::new(3, 8, &mut rng));
    /// assert!(pair.is_ok());
    /// let unequal = Bidirectional::new(Gru::<f64>::new(3, 8, &mut rng), Gru::new(3, 4, &mut rng));
    /// assert!(matches!(unequal, Err(NnError::InvalidConfig { .. })));
    /// ```
    pub fn new<T: MatScalar>(forward: L, backward: L) -> Result<Self, NnError>
    where
        L: Recurrent<T>,
    {
        same_masks(&forward, &backward)?;
        let sizes = |l: &L| (l.step_input(), l.step_hidden(), l.outputs_last_only());
        let (input, hidden, last_only) = sizes(&forward);
        if sizes(&backward) != (input, hidden, last_only) {
            return Err(NnError::InvalidConfig {
                name: "Bidirectional layers",
                reason: format!(
                    "forward takes {input} features per step to {hidden}{}, backward {} to {}{}",
                    if last_only { " (final state)" } else { "" },
                    backward.step_input(),
                    backward.step_hidden(),
                    if backward.outputs_last_only() {
                        " (final state)"
                    } else {
                        ""
                    },
                ),
            });
        }
        Ok(Self {
            forward,
            backward,
            unroll: Unroll {
                input,
                hidden,
                last_only,
                mask_value: None,
            },
        })
    }
}

/// An error unless `forward` and `backward` skip the same padding (equal mask values, 0 and
/// −0 alike, or neither masking; two NaN masks count as equal here, each layer's
/// `check_params` refuses them).
fn same_masks<T: MatScalar, L: Layer<T>>(forward: &L, backward: &L) -> Result<(), NnError> {
    let same = match (forward.mask_value(), backward.mask_value()) {
        (None, None) => true,
        (Some(a), Some(b)) => a == b || (a.is_nan() && b.is_nan()),
        _ => false,
    };
    if same {
        return Ok(());
    }
    Err(NnError::InvalidConfig {
        name: "Bidirectional layers",
        reason: format!(
            "forward's mask value is {:?}, backward's {:?}: both directions must skip the same \
             padding",
            forward.mask_value(),
            backward.mask_value()
        ),
    })
}

/// `x`'s steps of `width` rows in reverse order.
fn reversed<T: MatScalar>(x: MatVar<T>, width: usize, steps: usize) -> MatVar<T> {
    if steps < 2 {
        return x;
    }
    let parts: Vec<MatVar<T>> = (0..steps).rev().map(|t| x.rows(t * width, width)).collect();
    MatVar::vcat(&parts)
}

impl<T: MatScalar, L: Layer<T> + Cast> Layer<T> for Bidirectional<L> {
    /// Each step's two hidden states, `(2·hidden·steps) × batch`, or the two final states
    /// (`2·hidden × batch`), for `x`: `(input·steps) × batch`. No steps give `0 × batch`, or
    /// the two zero states.
    ///
    /// # Panics
    /// If `x`'s rows are not a multiple of `input`, or the parameters do not fit
    /// ([`Layer::predict`], [`train`](crate::train()) and the other entry points report both as
    /// errors first; see [`check_params`](Layer::check_params)).
    #[track_caller]
    fn forward(&self, x: MatVar<T>, ctx: &mut Context<T>) -> MatVar<T> {
        if let Err(e) = self.check_params() {
            panic!("Bidirectional: {e}");
        }
        let Unroll { input, hidden, .. } = self.unroll;
        let steps = self
            .unroll
            .steps(x.nrows())
            .unwrap_or_else(|reason| panic!("Bidirectional: {reason}"));
        let ahead = self.forward.forward(x, ctx);
        let behind = self.backward.forward(reversed(x, input, steps), ctx);
        if self.unroll.last_only {
            return MatVar::vcat(&[ahead, behind]);
        }
        if steps == 0 {
            return MatVar::constant(DMatrix::zeros(0, x.ncols()));
        }
        // Step t: forward's state t above backward's state after reading steps T−1 … t, its
        // (T−1−t)-th.
        let parts: Vec<MatVar<T>> = (0..steps)
            .flat_map(|t| {
                [
                    ahead.rows(t * hidden, hidden),
                    behind.rows((steps - 1 - t) * hidden, hidden),
                ]
            })
            .collect();
        MatVar::vcat(&parts)
    }

    fn visit<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.forward.visit(&format!("{prefix}forward."), f);
        self.backward.visit(&format!("{prefix}backward."), f);
    }

    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.forward.visit_mut(f);
        self.backward.visit_mut(f);
    }

    fn visit_params<'a>(&'a self, f: &mut dyn FnMut(&'a DMatrix<T>)) {
        self.forward.visit_params(f);
        self.backward.visit_params(f);
    }

    fn visit_state<'a>(&'a self, prefix: &str, f: &mut dyn FnMut(&str, &'a DMatrix<T>)) {
        self.forward.visit_state(&format!("{prefix}forward."), f);
        self.backward.visit_state(&format!("{prefix}backward."), f);
    }

    fn visit_state_mut(&mut self, f: &mut dyn FnMut(&mut DMatrix<T>)) {
        self.forward.visit_state_mut(f);
        self.backward.visit_state_mut(f);
    }

    /// The layers' common mask value (see [`Layer::mask_value`]).
    fn mask_value(&self) -> Option<f64> {
        self.forward.mask_value()
    }

    /// `2·hidden` for layers that output their final state, whatever the input; else `None`.
    fn output_size(&self) -> Option<usize> {
        self.unroll.output_size().map(|h| 2 * h)
    }

    /// `2·hidden·steps` (or `2·hidden` for final states) for an input of `input·steps` rows.
    ///
    /// # Errors
    /// [`NnError::InvalidConfig`] if `input` rows are not whole steps.
    fn output_size_for(&self, input: usize) -> Result<Option<usize>, NnError> {
        let size = self.unroll.output_size_for("Bidirectional input", input)?;
        Ok(size.map(|n| 2 * n))
    }

    /// Each layer's own parameters, both still of the sizes they were paired with and with
    /// the same mask value (a layer replaced or changed through the public fields is an
    /// error).
    ///
    /// # Errors
    /// The layers' errors; [`NnError::InvalidConfig`] for a layer of other sizes or differing
    /// mask values.
    fn check_params(&self) -> Result<(), NnError> {
        self.forward.check_params()?;
        self.backward.check_params()?;
        same_masks(&self.forward, &self.backward)?;
        let Unroll {
            input,
            hidden,
            last_only,
            ..
        } = self.unroll;
        for (name, layer) in [("forward", &self.forward), ("backward", &self.backward)] {
            // One step in gives `hidden` features out, either way.
            let one_step = layer.output_size_for(input).ok().flatten();
            let fixed = layer.output_size();
            if one_step != Some(hidden) || fixed.is_some() != last_only {
                return Err(NnError::InvalidConfig {
                    name: "Bidirectional layers",
                    reason: format!(
                        "the {name} layer no longer takes {input} features per step to {hidden}{}",
                        if last_only { " (final state)" } else { "" }
                    ),
                });
            }
        }
        Ok(())
    }

    fn cast_into(&self, slot: &mut CastSlot) -> Result<(), NnError> {
        slot.fill(self)
    }
}

/// Both layers converted (see [`Cast`]).
impl<L: Cast> Cast for Bidirectional<L> {
    type Output<U: MatScalar> = Bidirectional<L::Output<U>>;

    fn cast<U: MatScalar>(&self) -> Result<Bidirectional<L::Output<U>>, NnError> {
        Ok(Bidirectional {
            forward: self.forward.cast()?,
            backward: self.backward.cast()?,
            unroll: self.unroll,
        })
    }
}
