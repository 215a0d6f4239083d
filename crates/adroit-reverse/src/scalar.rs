//! [`TapeScalar`]: the primal types a tape can record, each with its own thread-local tapes.

use crate::api::HESSIAN_CHUNK;
use crate::tape::TapeStack;
use adroit_forward::{Dual, DualVec};
use num_traits::Float;
use std::cell::RefCell;
use std::fmt::Debug;

/// A primal type that [`Var`](crate::Var) can wrap: `f32`, `f64`, and the forward-mode duals
/// `Dual<f32>`, `Dual<f64>` (for forward-over-reverse Hessian-vector products) and
/// `DualVec<f32, 12>`, `DualVec<f64, 12>` (for chunked forward-over-reverse Hessians).
///
/// Each type has its own thread-local stack of tapes, so gradients run in parallel on different
/// threads, and `Var<f64>` and `Var<Dual<f64>>` scopes never interfere. The trait is sealed.
pub trait TapeScalar: Float + Debug + 'static + sealed::Sealed {
    /// Runs `f` on this thread's tape stack for `Self`.
    #[doc(hidden)]
    fn with_tapes<R>(f: impl FnOnce(&mut TapeStack<Self>) -> R) -> R;

    /// As [`with_tapes`](Self::with_tapes), doing nothing if the thread-local is gone (during
    /// thread teardown).
    #[doc(hidden)]
    fn try_with_tapes(f: impl FnOnce(&mut TapeStack<Self>));
}

mod sealed {
    pub trait Sealed {}
}

/// Frees a thread's spare tape buffers when the thread exits.
struct ReleaseOnExit<T: TapeScalar>(&'static RefCell<TapeStack<T>>);

impl<T: TapeScalar> Drop for ReleaseOnExit<T> {
    fn drop(&mut self) {
        if let Ok(mut stack) = self.0.try_borrow_mut() {
            *stack = TapeStack::new();
        }
    }
}

macro_rules! tape_scalar {
    ($($t:ty => $tls:ident, $guard:ident),* $(,)?) => {$(
        thread_local! {
            // A leaked `&'static` (no destructor, so every access is a plain TLS load); the
            // buffers it owns are released at thread exit by the guard below, leaving only
            // the small stack header behind.
            static $tls: &'static RefCell<TapeStack<$t>> = {
                let stack: &'static RefCell<TapeStack<$t>> =
                    Box::leak(Box::new(RefCell::new(TapeStack::new())));
                $guard.with(|g| g.set(Some(ReleaseOnExit(stack))));
                stack
            };
            static $guard: std::cell::Cell<Option<ReleaseOnExit<$t>>> =
                const { std::cell::Cell::new(None) };
        }

        impl sealed::Sealed for $t {}

        impl TapeScalar for $t {
            #[inline(always)]
            fn with_tapes<R>(f: impl FnOnce(&mut TapeStack<Self>) -> R) -> R {
                let stack = $tls.with(|stack| *stack);
                f(&mut stack.borrow_mut())
            }

            fn try_with_tapes(f: impl FnOnce(&mut TapeStack<Self>)) {
                if let Ok(stack) = $tls.try_with(|stack| *stack) {
                    if let Ok(mut stack) = stack.try_borrow_mut() {
                        f(&mut stack);
                    }
                }
            }
        }
    )*};
}

tape_scalar! {
    f32 => TAPES_F32, RELEASE_F32,
    f64 => TAPES_F64, RELEASE_F64,
    Dual<f32> => TAPES_DUAL_F32, RELEASE_DUAL_F32,
    Dual<f64> => TAPES_DUAL_F64, RELEASE_DUAL_F64,
    DualVec<f32, HESSIAN_CHUNK> => TAPES_CHUNK_F32, RELEASE_CHUNK_F32,
    DualVec<f64, HESSIAN_CHUNK> => TAPES_CHUNK_F64, RELEASE_CHUNK_F64,
}
