//! [`MatScalar`]: the element types of tracked matrices, each with its own thread-local tapes.

use super::gemm::{self, Operand};
use super::pool::BufferPool;
use super::tape::MatTapeStack;
use crate::TapeScalar;
use adroit_forward::SpecialFunctions;
use core::mem::MaybeUninit;
use nalgebra::RealField;
use std::cell::RefCell;

/// An element type of [`MatVar`](super::MatVar): `f32` or `f64` (sealed). Besides `Float` and
/// nalgebra's `RealField` it provides adroit-forward's `SpecialFunctions` (`erf`, `erfc`), so
/// element-wise maps may use them.
///
/// As a bound, it lets array code be written once for both:
/// ```
/// use adroit_reverse::matrix::{self, MatScalar};
/// use adroit_reverse::nalgebra::DMatrix;
/// fn sum_gradient<T: MatScalar>(x: DMatrix<T>) -> DMatrix<T> {
///     matrix::gradient(|m| m[0].sum(), &[x]).remove(0)
/// }
/// assert_eq!(sum_gradient(DMatrix::from_element(2, 2, 5.0_f32)), DMatrix::from_element(2, 2, 1.0));
/// ```
///
/// The thread-local matrix tapes (which may point into a caller's matrices during a gradient
/// call) are reachable from this crate only:
/// ```compile_fail,E0624
/// fn reach<T: adroit_reverse::matrix::MatScalar>() {
///     T::with_mat_tapes(|_| ()); // private to adroit-reverse
/// }
/// ```
#[allow(private_bounds)] // the point: the supertrait's functions are private to this crate
pub trait MatScalar: TapeScalar + RealField + SpecialFunctions + Copy + sealed::Sealed {}

/// The per-type thread-locals and kernel, reachable only from inside this crate (a private
/// supertrait of [`MatScalar`]: code outside the crate can neither name it nor call its
/// functions, not even through a `T: MatScalar` bound, so it cannot reach the tapes, whose
/// inputs may be borrowed).
pub(crate) mod sealed {
    use super::*;

    pub(crate) trait Sealed: Sized + 'static {
        /// Runs `f` on this thread's matrix-tape stack for `Self`.
        fn with_mat_tapes<R>(f: impl FnOnce(&mut MatTapeStack<Self>) -> R) -> R;

        /// As [`with_mat_tapes`](Self::with_mat_tapes), doing nothing during thread teardown.
        fn try_with_mat_tapes(f: impl FnOnce(&mut MatTapeStack<Self>));

        /// Runs `f` on this thread's matrix buffer pool for this element type; `None` during
        /// thread teardown or when the pool is in use (then callers allocate as usual).
        fn with_pool<R>(f: impl FnOnce(&mut BufferPool<Self>) -> R) -> Option<R>;

        /// Writes `a·b` (column-major, `a.rows × b.cols`, inner dimension ≥ 1) on the fast
        /// kernel into `c`, which it never reads: on return every entry is initialised.
        fn gemm(a: Operand<'_, Self>, b: Operand<'_, Self>, c: &mut [MaybeUninit<Self>]);
    }
}

macro_rules! mat_scalar {
    ($($t:ty => $tls:ident, $pool:ident, $gemm:path),* $(,)?) => {$(
        thread_local! {
            static $tls: RefCell<MatTapeStack<$t>> = const { RefCell::new(MatTapeStack::new()) };
            static $pool: RefCell<BufferPool<$t>> = const { RefCell::new(BufferPool::new()) };
        }

        impl MatScalar for $t {}

        impl sealed::Sealed for $t {
            fn with_mat_tapes<R>(f: impl FnOnce(&mut MatTapeStack<Self>) -> R) -> R {
                $tls.with(|stack| match stack.try_borrow_mut() {
                    Ok(mut stack) => f(&mut stack),
                    Err(_) => reentrant_matrix_operation(),
                })
            }

            fn try_with_mat_tapes(f: impl FnOnce(&mut MatTapeStack<Self>)) {
                let _ = $tls.try_with(|stack| {
                    if let Ok(mut stack) = stack.try_borrow_mut() {
                        f(&mut stack);
                    }
                });
            }

            fn with_pool<R>(f: impl FnOnce(&mut BufferPool<Self>) -> R) -> Option<R> {
                $pool
                    .try_with(|pool| pool.try_borrow_mut().ok().map(|mut pool| f(&mut pool)))
                    .ok()
                    .flatten()
            }

            fn gemm(a: Operand<'_, Self>, b: Operand<'_, Self>, c: &mut [MaybeUninit<Self>]) {
                $gemm(a, b, c)
            }
        }
    )*};
}

mat_scalar! {
    f32 => MAT_TAPES_F32, POOL_F32, gemm::sgemm,
    f64 => MAT_TAPES_F64, POOL_F64, gemm::dgemm,
}

/// The panic of a matrix operation started while another one is being recorded: from inside
/// the element function of `map` or a similar closure, or from an input's `Borrow`
/// implementation while `matrix::gradient` records the inputs.
#[cold]
#[inline(never)]
fn reentrant_matrix_operation() -> ! {
    panic!(
        "adroit-reverse: a matrix operation (or matrix::gradient, MatVar::constant, ...) was \
         called while another matrix operation was recording: from inside its element \
         function (e.g. a `map` closure) or from an input's `Borrow` implementation while \
         matrix::gradient (or pullback, ...) records the inputs; element functions and `borrow` \
         must be plain code: compute matrix values outside them"
    )
}
