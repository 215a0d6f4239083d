//! The active tape of each thread and the scopes that set it.
//!
//! Recording an operation must cost a few nanoseconds, so the active tape is reached through a
//! raw pointer kept in a `const`-initialised thread-local `Cell` (a plain thread-local load: no
//! lazy initialisation, no destructor registration, no `RefCell` borrow flag). This module holds
//! the scalar tape's `unsafe` code (the crate's only other `unsafe` code is in `matrix::gemm`,
//! `matrix::value` and its one call site in `matrix::api`); the argument that it is sound:
//!
//! - The pointer is either null (no scope open on this thread) or was produced by
//!   `Box::into_raw` in [`Scope::enter`] and is turned back into a `Box` only in
//!   [`Scope::finish`] or `Scope::drop`, which first restore the outer pointer. So a non-null
//!   pointer always designates a live tape owned by a scope that is open on this thread.
//! - Scopes are created only by this crate's recording functions and always close in reverse
//!   order of opening (they live on the stack of those functions and close on return and on
//!   unwinding); `Scope` is neither `Send` nor `Sync`, and `finish` asserts that the scope it
//!   closes is the active one.
//! - The `&mut Tape` made by [`with_active`], [`record_unary`] and [`record_binary`] lives only
//!   for one push. Every check that can panic (stale variable, full tape) runs before it, on a
//!   shared reference, so not even a panic hook can run while it exists; the pushes never call
//!   user code and never open or close a scope, so no second reference to the same tape can
//!   exist meanwhile. And no code outside this crate can reach the pointer: its accessor is in
//!   a private supertrait of `TapeScalar`.

#![allow(unsafe_code)]

use crate::tape::{Tape, TapePool};
use crate::{TapeScalar, Var};
use std::marker::PhantomData;
use std::ptr;

/// This thread's active tape for `T`.
///
/// # Panics
/// If no differentiation scope for `T` is open on this thread (a variable used after its
/// gradient call returned, or on another thread).
#[inline(always)]
#[track_caller]
fn active<T: TapeScalar>() -> *mut Tape<T> {
    let tape = T::active_tape().with(|cell| cell.get());
    if tape.is_null() {
        crate::tape::stale_variable(1, 0);
    }
    tape
}

/// Runs `check` on a shared view of this thread's active tape for `T` (it may panic), then
/// `f` on the tape (it must not panic, so that no panic hook can run while the exclusive
/// reference exists).
///
/// # Panics
/// As [`active`], or as `check`.
#[inline(always)]
#[track_caller]
pub(crate) fn with_active<T: TapeScalar, R>(
    check: impl FnOnce(&Tape<T>),
    f: impl FnOnce(&mut Tape<T>) -> R,
) -> R {
    let tape = active::<T>();
    // SAFETY: non-null, so it points to the live tape of the innermost open scope of this
    // thread (module docs). The shared reference ends before the exclusive one is made, and
    // no other reference to the tape exists while either lives.
    check(unsafe { &*tape });
    f(unsafe { &mut *tape })
}

/// Whether this thread's active tape for `T` records second partials
/// ([`Tape::is_local`]); false when no scope is open (the operation then panics as a stale
/// variable when it records) and, without a thread-local read, for the types that never do.
#[inline(always)]
pub(crate) fn recording_local<T: TapeScalar>() -> bool {
    if !T::LOCAL_LANES {
        return false;
    }
    let tape = T::active_tape().with(|cell| cell.get());
    // SAFETY: non-null, so it points to the live tape of the innermost open scope of this
    // thread (module docs); the shared reference ends here, before any exclusive one.
    !tape.is_null() && unsafe { &*tape }.is_local()
}

/// Makes this thread's active tape for `T` record second partials (see [`Tape::is_local`]).
///
/// # Panics
/// If no scope for `T` is open.
pub(crate) fn mark_local<T: TapeScalar>() {
    with_active(|_: &Tape<T>| {}, Tape::set_local);
}

/// Panics unless `x` (a variable, not a constant) belongs to this thread's active tape for
/// `T`: the check of an operation that folds into `x`'s pending scale without recording.
///
/// # Panics
/// As [`active`], or if `x` belongs to another tape.
#[inline(always)]
#[track_caller]
pub(crate) fn check_active<T: TapeScalar>(x: &Var<T>) {
    let tape = active::<T>();
    // SAFETY: non-null, so it points to the live tape of the innermost open scope of this
    // thread (module docs); the shared reference ends here, before any exclusive one.
    unsafe { &*tape }.check(x);
}

/// Records `value = f(x)` with partial `d` on the active tape (a function rather than a
/// [`with_active`] closure so that it always inlines into the operators).
///
/// A partial that is identically zero (`x · 0`, `floor x`) carries no derivative: the result
/// is then a constant, not a node. Besides saving the node, this keeps the invariant that
/// forward mode's `chain_product` relies on for `Dual<Var<T>>`: a product with an
/// identically zero factor is identically zero (or has a NaN value).
///
/// # Panics
/// As [`active`], if `x` belongs to another tape, or if the tape is full.
#[inline(always)]
#[track_caller]
pub(crate) fn record_unary<T: TapeScalar>(x: &Var<T>, value: T, d: T) -> Var<T> {
    let tape = active::<T>();
    // SAFETY: as in `with_active`: checks on a shared reference, then the push alone on an
    // exclusive one.
    let shared = unsafe { &*tape };
    shared.check(x);
    if d.is_zero() {
        return Var::constant(value);
    }
    shared.check_room(2);
    let tape = unsafe { &mut *tape };
    let parent = tape.materialize(x);
    let index = tape.push_unary(parent, d);
    Var::on_tape(value, index, tape.id())
}

/// Records `value = f(x, y)` with partials `dx`, `dy` on the active tape.
///
/// # Panics
/// As [`active`], if `x` or `y` belongs to another tape, or if the tape is full.
#[inline(always)]
#[track_caller]
pub(crate) fn record_binary<T: TapeScalar>(
    x: &Var<T>,
    y: &Var<T>,
    value: T,
    dx: T,
    dy: T,
) -> Var<T> {
    let tape = active::<T>();
    // SAFETY: as in `record_unary`.
    let shared = unsafe { &*tape };
    shared.check(x);
    shared.check(y);
    shared.check_room(3);
    let tape = unsafe { &mut *tape };
    let (x, dx) = tape.folded_parent(x, dx);
    let (y, dy) = tape.folded_parent(y, dy);
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
        // Without the pool (thread teardown: a gradient in a thread-local's destructor), a
        // tape of its own.
        let fresh = T::tape_pool()
            .try_with(|pool| pool.try_borrow_mut().ok().map(|mut p| p.fresh_tape()))
            .ok()
            .flatten()
            .unwrap_or_else(TapePool::unpooled_tape);
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
        let check = |tape: &Tape<T>| tape.check_room(x.len());
        with_active(check, |tape: &mut Tape<T>| {
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
