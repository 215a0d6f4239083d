//! The active tape of each thread and the scopes that set it.
//!
//! Recording an operation must cost a few nanoseconds, so the active tape is reached through a
//! raw pointer kept in a `const`-initialised thread-local `Cell` (a plain thread-local load: no
//! lazy initialisation, no destructor registration, no `RefCell` borrow flag). This module is
//! the crate's only `unsafe` code; the argument that it is sound:
//!
//! - The pointer is either null (no scope open on this thread) or was produced by
//!   `Box::into_raw` in [`Scope::enter`] and is turned back into a `Box` only in
//!   [`Scope::finish`] or `Scope::drop`, which first restore the outer pointer. So a non-null
//!   pointer always designates a live tape owned by a scope that is open on this thread.
//! - Scopes are created only by this crate's recording functions and always close in reverse
//!   order of opening (they live on the stack of those functions and close on return and on
//!   unwinding); `Scope` is neither `Send` nor `Sync`, and `finish` asserts that the scope it
//!   closes is the active one.
//! - The `&mut Tape` handed out by [`with_active`] lives only for the closure passed to it.
//!   Those closures are this crate's own record steps: they never call user code and never
//!   open or close a scope, so no second reference to the same tape can exist meanwhile.

#![allow(unsafe_code)]

use crate::tape::Tape;
use crate::{TapeScalar, Var};
use std::marker::PhantomData;
use std::ptr;

/// Runs `f` on this thread's active tape for `T`.
///
/// # Panics
/// If no differentiation scope for `T` is open on this thread (a variable used after its
/// gradient call returned, or on another thread).
#[inline(always)]
#[track_caller]
pub(crate) fn with_active<T: TapeScalar, R>(f: impl FnOnce(&mut Tape<T>) -> R) -> R {
    let tape = T::active_tape().with(|cell| cell.get());
    if tape.is_null() {
        crate::tape::stale_variable(1, 0);
    }
    // SAFETY: non-null, so it points to the live tape of the innermost open scope of this
    // thread (module docs), and no other reference to it exists while `f` runs.
    f(unsafe { &mut *tape })
}

/// Records `value = f(x)` with partial `d` on the active tape (a function rather than a
/// [`with_active`] closure so that it always inlines into the operators).
///
/// # Panics
/// As [`with_active`], or if `x` belongs to another tape.
#[inline(always)]
#[track_caller]
pub(crate) fn record_unary<T: TapeScalar>(x: &Var<T>, value: T, d: T) -> Var<T> {
    let tape = T::active_tape().with(|cell| cell.get());
    if tape.is_null() {
        crate::tape::stale_variable(1, 0);
    }
    // SAFETY: as in `with_active`; the reference ends with this function.
    let tape = unsafe { &mut *tape };
    let index = tape.push_unary(x, d);
    Var::on_tape(value, index, tape.id())
}

/// Records `value = f(x, y)` with partials `dx`, `dy` on the active tape.
///
/// # Panics
/// As [`with_active`], or if `x` or `y` belongs to another tape.
#[inline(always)]
#[track_caller]
pub(crate) fn record_binary<T: TapeScalar>(
    x: &Var<T>,
    y: &Var<T>,
    value: T,
    dx: T,
    dy: T,
) -> Var<T> {
    let tape = T::active_tape().with(|cell| cell.get());
    if tape.is_null() {
        crate::tape::stale_variable(1, 0);
    }
    // SAFETY: as in `with_active`; the reference ends with this function.
    let tape = unsafe { &mut *tape };
    let index = tape.push_binary(x, y, dx, dy);
    Var::on_tape(value, index, tape.id())
}

/// An open differentiation scope: a fresh tape made the active one of this thread for `T`,
/// the outer tape restored when the scope is finished or dropped (also on panic).
pub(crate) struct Scope<T: TapeScalar> {
    /// This scope's tape, owned (from `Box::into_raw`).
    tape: *mut Tape<T>,
    /// The tape that was active when this scope opened (null if none).
    outer: *mut Tape<T>,
    /// Raw pointers already make the scope `!Send`/`!Sync`; this records the owned tape.
    _owns: PhantomData<Box<Tape<T>>>,
}

impl<T: TapeScalar> Scope<T> {
    /// Opens a scope with a fresh tape (reusing a spare one's buffers), suspending the
    /// active one.
    pub(crate) fn enter() -> Self {
        let fresh = T::tape_pool().with_borrow_mut(|pool| pool.fresh_tape());
        let tape = Box::into_raw(fresh);
        let outer = T::active_tape().with(|cell| cell.replace(tape));
        Self {
            tape,
            outer,
            _owns: PhantomData,
        }
    }

    /// Records the inputs `x` on this scope's tape.
    pub(crate) fn inputs(&self, x: &[T]) -> Vec<Var<T>> {
        with_active(|tape: &mut Tape<T>| {
            debug_assert!(ptr::eq(tape, self.tape));
            let (id, first) = (tape.id(), tape.push_inputs(x.len()));
            x.iter()
                .zip(first..)
                .map(|(&v, index)| Var::on_tape(v, index, id))
                .collect()
        })
    }

    /// Makes the outer tape active again and takes back ownership of this scope's tape.
    fn close(&mut self) -> Box<Tape<T>> {
        T::active_tape().with(|cell| {
            assert!(
                ptr::eq(cell.get(), self.tape),
                "adroit-reverse: differentiation scopes closed out of order"
            );
            cell.set(self.outer);
        });
        let tape = std::mem::replace(&mut self.tape, ptr::null_mut());
        // SAFETY: `tape` came from `Box::into_raw` in `enter`, is no longer reachable through
        // the thread-local, and `self.tape` is now null, so it is reclaimed exactly once.
        unsafe { Box::from_raw(tape) }
    }

    /// Closes the scope, returning its tape and restoring the outer one.
    pub(crate) fn finish(mut self) -> Box<Tape<T>> {
        self.close()
    }
}

impl<T: TapeScalar> Drop for Scope<T> {
    fn drop(&mut self) {
        // Reached with a tape only when the scope was not finished (the user's function
        // panicked): discard the recording, keep the buffers.
        if !self.tape.is_null() {
            let tape = self.close();
            crate::tape::recycle(tape);
        }
    }
}
