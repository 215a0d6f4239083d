//! Recording a function on a fresh tape: the step shared by every API function.

use crate::tape::{Scope, Tape};
use crate::{TapeScalar, Var};

/// A finished recording: the tape, and where the inputs live on it (nodes `1..=n`).
pub(crate) struct Recording<T> {
    pub(crate) tape: Tape<T>,
    pub(crate) n_inputs: usize,
}

impl<T: TapeScalar> Recording<T> {
    /// Runs `f` on fresh input variables holding `x`, on a fresh tape.
    pub(crate) fn new<R>(x: &[T], f: impl FnOnce(&[Var<T>]) -> R) -> (R, Self) {
        let scope = Scope::<T>::enter();
        let inputs = scope.inputs(x);
        let out = f(&inputs);
        let tape = scope.finish();
        (
            out,
            Self {
                tape,
                n_inputs: x.len(),
            },
        )
    }

    /// Panics unless `y` is a constant or was recorded on this tape.
    #[track_caller]
    pub(crate) fn check_output(&self, y: &Var<T>) {
        assert!(
            y.is_constant() || y.tape_id() == self.tape.id(),
            "adroit-reverse: the function returned a Var that was not computed from its inputs \
             in this call (it comes from another scope)"
        );
    }

    /// A zeroed adjoint buffer, one entry per node.
    pub(crate) fn adjoint_buffer(&self) -> Vec<T> {
        vec![T::zero(); self.tape.len()]
    }

    /// Sweeps `adjoint` (seeded at the outputs) and returns the input adjoints.
    pub(crate) fn input_adjoints(&self, adjoint: &mut [T]) -> Vec<T> {
        self.tape.sweep(adjoint);
        adjoint[1..=self.n_inputs].to_vec()
    }

    /// Seeds `seed` at output `y` (nothing for a constant output, whose derivative is zero).
    pub(crate) fn seed(adjoint: &mut [T], y: &Var<T>, seed: T) {
        if !y.is_constant() {
            let i = y.index() as usize;
            adjoint[i] = adjoint[i] + seed;
        }
    }
}
