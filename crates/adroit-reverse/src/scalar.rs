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

macro_rules! tape_scalar {
    ($($t:ty => $tls:ident),* $(,)?) => {$(
        thread_local! {
            static $tls: RefCell<TapeStack<$t>> = const { RefCell::new(TapeStack::new()) };
        }

        impl sealed::Sealed for $t {}

        impl TapeScalar for $t {
            #[inline(always)]
            fn with_tapes<R>(f: impl FnOnce(&mut TapeStack<Self>) -> R) -> R {
                $tls.with(|stack| f(&mut stack.borrow_mut()))
            }

            fn try_with_tapes(f: impl FnOnce(&mut TapeStack<Self>)) {
                let _ = $tls.try_with(|stack| {
                    if let Ok(mut stack) = stack.try_borrow_mut() {
                        f(&mut stack);
                    }
                });
            }
        }
    )*};
}

tape_scalar! {
    f32 => TAPES_F32,
    f64 => TAPES_F64,
    Dual<f32> => TAPES_DUAL_F32,
    Dual<f64> => TAPES_DUAL_F64,
    DualVec<f32, HESSIAN_CHUNK> => TAPES_CHUNK_F32,
    DualVec<f64, HESSIAN_CHUNK> => TAPES_CHUNK_F64,
}
