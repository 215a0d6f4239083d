//! Recording a function on a fresh tape: the step shared by every API function.

use crate::active::Scope;
use crate::tape::{Tape, recycle};
use crate::{TapeScalar, Var};

/// A finished recording: the tape, and where the inputs live on it (nodes `1..=n`).
pub(crate) struct Recording<T: TapeScalar> {
    /// Always `Some` until dropped.
    tape: Option<Box<Tape<T>>>,
    pub(crate) n_inputs: usize,
}

impl<T: TapeScalar> Recording<T> {
    /// Runs `f` on fresh input variables holding `x`, on a fresh tape.
    pub(crate) fn new<R>(x: &[T], f: impl FnOnce(&[Var<T>]) -> R) -> (R, Self) {
        Self::with_scales(x, &[], f)
    }

    /// [`new`](Self::new), the first `scales.len()` inputs carrying those pending scales (see
    /// [`Var::with_pending_scale`]): the input adjoints [`backward`](Self::backward) returns
    /// are then their nodes', the scales applied.
    pub(crate) fn with_scales<R>(
        x: &[T],
        scales: &[T],
        f: impl FnOnce(&[Var<T>]) -> R,
    ) -> (R, Self) {
        let scope = Scope::<T>::enter();
        let mut inputs = scope.inputs(x);
        for (input, &scale) in inputs.iter_mut().zip(scales) {
            *input = input.with_pending_scale(scale);
        }
        let out = f(&inputs);
        let tape = scope.finish();
        (
            out,
            Self {
                tape: Some(tape),
                n_inputs: x.len(),
            },
        )
    }

    /// The recorded tape.
    pub(crate) fn tape(&self) -> &Tape<T> {
        self.tape.as_deref().expect("recording already dropped")
    }

    /// Panics unless `y` is a constant or was recorded on this tape.
    #[track_caller]
    pub(crate) fn check_output(&self, y: &Var<T>) {
        assert!(
            y.is_constant() || y.tape_id() == self.tape().id(),
            "adroit-reverse: the function returned a Var that was not computed from its inputs \
             in this call (it comes from another scope)"
        );
    }

    /// One backward sweep: seeds each output `y` with its cotangent `w` (constant outputs,
    /// whose derivative is zero, are skipped) and returns the input adjoints.
    pub(crate) fn backward<'a>(&self, seeds: impl IntoIterator<Item = (&'a Var<T>, T)>) -> Vec<T> {
        let tape = self.tape();
        // A zero buffer of its own when the pool cannot be reached (thread teardown).
        let mut buffer = take_buffer(tape.len());
        let adjoint = &mut buffer[..tape.len()];
        // The sweep starts at the last seeded node: every node above it has a zero adjoint.
        let mut seeded_end = 0;
        for (y, w) in seeds {
            if !y.is_constant() {
                let i = y.index() as usize;
                adjoint[i] = adjoint[i] + y.seed(w);
                seeded_end = seeded_end.max(i + 1);
            }
        }
        // Nodes 1..=n are the inputs: nothing to propagate from them. The sweep leaves every
        // node above them zero; the sink (node 0) and the inputs are reset here, so the buffer
        // goes back to the pool all zero.
        let first = self.n_inputs + 1;
        tape.sweep(adjoint, first, tape.sweep_end(seeded_end));
        let grad = adjoint[1..first].to_vec();
        adjoint[..first].fill(T::zero());
        return_buffer(buffer);
        grad
    }

    /// One forward sweep: seeds the inputs with `tangent` (`n_inputs` entries) and returns
    /// each output's tangent (zero for a constant output).
    pub(crate) fn forward(&self, tangent: &[T], outputs: &[Var<T>]) -> Vec<T> {
        let tape = self.tape();
        let mut buffer = take_buffer(tape.len());
        let entries = &mut buffer[..tape.len()];
        entries[1..=self.n_inputs].copy_from_slice(tangent);
        // The sweep stops after the last output: no later node is read.
        let last_output = outputs
            .iter()
            .filter(|y| !y.is_constant())
            .map(|y| y.index() as usize + 1)
            .max()
            .unwrap_or(0);
        tape.sweep_forward(entries, self.n_inputs + 1, tape.sweep_end(last_output));
        let out = outputs
            .iter()
            .map(|y| {
                if y.is_constant() {
                    T::zero()
                } else {
                    y.seed(entries[y.index() as usize])
                }
            })
            .collect();
        entries.fill(T::zero());
        return_buffer(buffer);
        out
    }
}

/// An all-zero buffer of at least `len` entries: this thread's spare one, or a new one when
/// the pool cannot be reached (thread teardown) or is in use.
fn take_buffer<T: TapeScalar>(len: usize) -> Vec<T> {
    T::tape_pool()
        .try_with(|pool| pool.try_borrow_mut().ok().map(|mut p| p.take_adjoint(len)))
        .ok()
        .flatten()
        .unwrap_or_else(|| vec![T::zero(); len])
}

/// Gives an all-zero buffer back to this thread's pool (dropped if the pool cannot take it).
fn return_buffer<T: TapeScalar>(buffer: Vec<T>) {
    let _ = T::tape_pool().try_with(|pool| {
        if let Ok(mut pool) = pool.try_borrow_mut() {
            pool.return_adjoint(buffer);
        }
    });
}

impl<T: TapeScalar> Drop for Recording<T> {
    fn drop(&mut self) {
        if let Some(tape) = self.tape.take() {
            recycle(tape);
        }
    }
}
