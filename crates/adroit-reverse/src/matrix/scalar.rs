//! [`MatScalar`]: the element types of tracked matrices, each with its own thread-local tapes.

use super::gemm::{self, Operand};
use super::tape::MatTapeStack;
use crate::TapeScalar;
use nalgebra::{DMatrix, RealField};
use std::cell::RefCell;

/// An element type of [`MatVar`](super::MatVar): `f32` or `f64` (sealed).
pub trait MatScalar: TapeScalar + RealField + Copy + sealed::Sealed {
    /// Runs `f` on this thread's matrix-tape stack for `Self`.
    #[doc(hidden)]
    fn with_mat_tapes<R>(f: impl FnOnce(&mut MatTapeStack<Self>) -> R) -> R;

    /// As [`with_mat_tapes`](Self::with_mat_tapes), doing nothing during thread teardown.
    #[doc(hidden)]
    fn try_with_mat_tapes(f: impl FnOnce(&mut MatTapeStack<Self>));

    /// `c = a·b` on the fast kernel (`c` zeroed, of the product's shape).
    #[doc(hidden)]
    fn gemm(a: Operand<'_, Self>, b: Operand<'_, Self>, c: &mut DMatrix<Self>);
}

mod sealed {
    pub trait Sealed {}
}

macro_rules! mat_scalar {
    ($($t:ty => $tls:ident, $gemm:path),* $(,)?) => {$(
        thread_local! {
            static $tls: RefCell<MatTapeStack<$t>> = const { RefCell::new(MatTapeStack::new()) };
        }

        impl sealed::Sealed for $t {}

        impl MatScalar for $t {
            fn with_mat_tapes<R>(f: impl FnOnce(&mut MatTapeStack<Self>) -> R) -> R {
                $tls.with(|stack| f(&mut stack.borrow_mut()))
            }

            fn try_with_mat_tapes(f: impl FnOnce(&mut MatTapeStack<Self>)) {
                let _ = $tls.try_with(|stack| {
                    if let Ok(mut stack) = stack.try_borrow_mut() {
                        f(&mut stack);
                    }
                });
            }

            fn gemm(a: Operand<'_, Self>, b: Operand<'_, Self>, c: &mut DMatrix<Self>) {
                $gemm(a, b, c)
            }
        }
    )*};
}

mat_scalar! {
    f32 => MAT_TAPES_F32, gemm::sgemm,
    f64 => MAT_TAPES_F64, gemm::dgemm,
}
