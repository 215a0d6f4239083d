//! [`MatScalar`]: the element types of tracked matrices, each with its own thread-local tapes.

use super::activation_kernels;
use super::gemm::{self, Operand};
use super::pool::BufferPool;
use super::tape::MatTapeStack;
use crate::TapeScalar;
use crate::scalar::{chunk_sweep, dual_sweep};
use adroit_forward::log_exp::{log_logistic, log1p_exp, logistic};
use adroit_forward::normal::ndtr;
use adroit_forward::rules::{self, UnaryRule};
use adroit_forward::{
    Dual, DualVec, SpecialFunctions, chain_product, chain_product_assign, chain_product_into,
};
use core::mem::MaybeUninit;
use nalgebra::RealField;
use num_traits::Float;
use std::cell::{Cell, RefCell};
use std::thread::LocalKey;

/// An element type of [`MatVar`](super::MatVar) (sealed): `f32` and `f64`, and the
/// first-order duals over them that [`hvp`](super::hvp) (`Dual<T>`) and [`hessian`](super::hessian)
/// (`DualVec<T, 12>`, [`HESSIAN_CHUNK`](crate::HESSIAN_CHUNK)) and
/// [`hessian_chunked`](super::hessian_chunked) (`DualVec<T, N>`, `N` one of
/// [`HESSIAN_CHUNKS`](crate::HESSIAN_CHUNKS)) record for second derivatives.
/// Besides `Float` and nalgebra's `RealField` it provides adroit-forward's `SpecialFunctions`
/// (`erf`, `gamma`, …), so element-wise maps may use them. Data enter a function written for
/// any `T: MatScalar` by nalgebra's `cast` (`MatVar::constant(x.clone().cast())`), constants
/// as `T`s (`m * T::from(0.5).unwrap()`: a float literal is not a `T` there, E0277).
///
/// Both `Float` and nalgebra's `ComplexField` (under `RealField`) have methods named `ln`,
/// `exp`, `sqrt`, `abs`, `powi`, …, so in code generic over `T: MatScalar` the method call
/// `x.ln()` is ambiguous (E0034, "multiple applicable items in scope"): name the trait,
/// `Float::ln(x)` (or `ComplexField::ln(x)`; the two agree), as below. On a concrete `f64`
/// the inherent method is taken and no name is needed.
/// ```
/// use adroit_reverse::matrix::MatScalar;
/// use adroit_reverse::num_traits::Float;
/// fn log_sum<T: MatScalar>(x: &[T]) -> T {
///     x.iter().fold(T::zero(), |acc, &v| acc + Float::ln(v)) // not `v.ln()`: E0034
/// }
/// assert_eq!(log_sum(&[1.0_f64, 1.0]), 0.0);
/// ```
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
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an element of adroit-reverse's matrix tape",
    note = "matrix tapes hold f32, f64, Dual<f32|f64> and DualVec<f32|f64, N> entries only, \
            N one of adroit_reverse::HESSIAN_CHUNKS (1, 2, 4, 8, 12): for \
            matrix::hessian_chunked, take the next size up (4 for 3 entries); code generic \
            over N needs the bound `DualVec<T, N>: MatScalar`"
)]
pub trait MatScalar: TapeScalar + RealField + SpecialFunctions + Copy + sealed::Sealed {}

/// The per-type thread-locals and kernel, reachable only from inside this crate (a private
/// supertrait of [`MatScalar`]: code outside the crate can neither name it nor call its
/// functions, not even through a `T: MatScalar` bound, so it cannot reach the tapes, whose
/// inputs may be borrowed).
pub(crate) mod sealed {
    use super::*;

    /// `f` and its derivative at each entry of `x`, through a [`Dual`] seeded here (the rule
    /// table's path of the element-wise kernels for the types without a vectorised one).
    fn dual_entries<T: MatScalar>(
        x: &[T],
        value: &mut [T],
        derivative: &mut [T],
        f: impl Fn(Dual<T>) -> Dual<T>,
    ) {
        activation_kernels::entries(x, value, derivative, |x| {
            let y = f(Dual::variable(x));
            (y.value(), y.tangent())
        });
    }

    pub(crate) trait Sealed: Sized + Copy + 'static {
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

        /// The type sums are accumulated in: `f64` for `f32` and `f64`, the `f64` dual for a
        /// dual (each part widened; a sum is linear, so its tangents are the tangents' sums).
        type Wide: Float;

        /// True when [`Wide`](Self::Wide) is wider than `Self` (`f32` and its duals).
        const WIDENS: bool;

        /// `self` in [`Wide`](Self::Wide), exactly.
        fn widen(self) -> Self::Wide;

        /// `wide` rounded to `Self` (once per part).
        fn narrow(wide: Self::Wide) -> Self;

        /// `partial · tangent` with the tape's `0·∞ = 0` convention on every part: for a
        /// plain float adroit-forward's [`chain_product`](adroit_forward::chain_product); for a
        /// dual the scalar tape's sweep product (the dual product, whose tangents follow the
        /// convention, with a NaN value redone by it: a zero adjoint carrying a tangent against
        /// an infinite partial would otherwise be NaN in every part).
        fn tape_product(partial: Self, tangent: Self) -> Self;

        /// NaN in every part (a dual's tangents too, where `Float::nan` gives a NaN constant):
        /// an undefined result, whose derivatives of every order are undefined as well.
        fn undefined() -> Self;

        /// `self`'s perturbations (a dual's tangents) with the value of `value_of`: the value
        /// exactly, its sign of zero included. For a plain float, `value_of`.
        fn with_value_of(self, value_of: Self) -> Self;

        /// [`tape_product`](Self::tape_product) entry by entry into `tangents` (equal lengths).
        fn tape_product_assign(partials: &[Self], tangents: &mut [Self]) {
            for (t, &p) in tangents.iter_mut().zip(partials) {
                *t = Self::tape_product(p, *t);
            }
        }

        /// [`tape_product`](Self::tape_product) entry by entry into `out` (equal lengths).
        fn tape_product_into(partials: &[Self], tangents: &[Self], out: &mut [Self]) {
            for (o, (&p, &t)) in out.iter_mut().zip(partials.iter().zip(tangents)) {
                *o = Self::tape_product(p, t);
            }
        }

        /// `tanh` of each entry of `x` into `value` and its derivative into `derivative`
        /// (equal lengths): adroit-forward's `Tanh` rule entry by entry, or for `f32` the
        /// vectorised [`activation_kernels`](super::super::activation_kernels).
        fn tanh_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            activation_kernels::entries(x, value, derivative, |x| rules::Tanh.eval(x));
        }

        /// `eˣ` of each entry of `x` into `value` and `derivative` (equal lengths):
        /// adroit-forward's `Exp` rule entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn exp_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            activation_kernels::entries(x, value, derivative, |x| rules::Exp.eval(x));
        }

        /// `ln x` of each entry of `x` into `value` and `1/x` into `derivative` (equal
        /// lengths): adroit-forward's `Ln` rule entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn ln_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            activation_kernels::entries(x, value, derivative, |x| rules::Ln.eval(x));
        }

        /// `eˣ − 1` of each entry of `x` into `value` and `eˣ` into `derivative` (equal
        /// lengths): adroit-forward's `ExpM1` rule entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn expm1_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            activation_kernels::entries(x, value, derivative, |x| rules::ExpM1.eval(x));
        }

        /// `v ← e^{v − shift}` for every entry, in one pass (`Float::exp`, or for `f32` the
        /// vectorised kernel): a softmax's terms.
        fn exp_shifted_in_place(values: &mut [Self], shift: Self)
        where
            Self: MatScalar,
        {
            for v in values {
                *v = Float::exp(*v - shift);
            }
        }

        /// The logistic sigmoid of each entry of `x` into `value` and its derivative into
        /// `derivative` (equal lengths): adroit-forward's `log_exp::logistic` through a dual
        /// entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn logistic_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            dual_entries(x, value, derivative, logistic);
        }

        /// The softplus `ln(1 + eˣ)` of each entry of `x` into `value` and its derivative
        /// `σ(x)` into `derivative` (equal lengths): adroit-forward's `log_exp::log1p_exp`
        /// through a dual entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn log1p_exp_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            dual_entries(x, value, derivative, log1p_exp);
        }

        /// The standard normal distribution function `Φ` of each entry of `x` into `value`
        /// and its density `φ` into `derivative` (equal lengths): adroit-forward's
        /// `normal::ndtr` through a dual entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn ndtr_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            dual_entries(x, value, derivative, ndtr);
        }

        /// `ln σ(x)` of each entry of `x` into `value` and its derivative `σ(−x)` into
        /// `derivative` (equal lengths): adroit-forward's `log_exp::log_logistic` through a
        /// dual entry by entry, or for `f32` the vectorised
        /// [`activation_kernels`](super::super::activation_kernels).
        fn log_logistic_entries(x: &[Self], value: &mut [Self], derivative: &mut [Self])
        where
            Self: MatScalar,
        {
            dual_entries(x, value, derivative, log_logistic);
        }

        /// `ln σ(x)`, `ln σ(−x)`, `σ(x)` and `σ(−x)` of each entry of `x` into `log_p`,
        /// `log_q`, `p` and `q` (equal lengths): [`log_logistic_entries`] and the negated
        /// softplus of [`log1p_exp_entries`], or for `f32` one vectorised pass of the
        /// [`activation_kernels`](super::super::activation_kernels) giving the same bits.
        ///
        /// [`log_logistic_entries`]: Self::log_logistic_entries
        /// [`log1p_exp_entries`]: Self::log1p_exp_entries
        fn log_sigmoid_pair_entries(
            x: &[Self],
            log_p: &mut [Self],
            log_q: &mut [Self],
            p: &mut [Self],
            q: &mut [Self],
        ) where
            Self: MatScalar,
        {
            Self::log1p_exp_entries(x, log_q, p);
            for v in log_q.iter_mut() {
                *v = -*v;
            }
            Self::log_logistic_entries(x, log_p, q);
        }
    }
}

/// Where a thread's matrix tapes live once its own stack is destroyed (thread teardown: a
/// gradient computed in another thread-local's destructor, or in the destructor of a value the
/// stack's tapes own). Holding only a reference, it has no destructor, so it is reachable to
/// the thread's very end; the stack it points to is allocated on first use and leaked (a few
/// words per thread: emptied whenever its last scope closes).
type TeardownSlot<T> = LocalKey<Cell<Option<&'static RefCell<MatTapeStack<T>>>>>;

/// Runs `f` on the teardown stack of `slot`, creating it if `create` (else doing nothing
/// without one), and empties the stack (dropping its spare tape) when no scope is left open.
fn with_teardown_stack<T: MatScalar, R>(
    slot: &'static TeardownSlot<T>,
    create: bool,
    f: impl FnOnce(&mut MatTapeStack<T>) -> R,
) -> Option<R> {
    let stack = match slot.with(Cell::get) {
        Some(stack) => stack,
        None if create => {
            let stack: &'static RefCell<MatTapeStack<T>> =
                Box::leak(Box::new(RefCell::new(MatTapeStack::new())));
            slot.with(|s| s.set(Some(stack)));
            stack
        }
        None => return None,
    };
    let Ok(mut stack) = stack.try_borrow_mut() else {
        reentrant_matrix_operation()
    };
    let out = f(&mut stack);
    if stack.is_idle() {
        *stack = MatTapeStack::new();
    }
    Some(out)
}

macro_rules! mat_scalar {
    ($($t:ty => $tls:ident, $teardown:ident, $pool:ident, $gemm:path,
        $wide:ty, $widens:expr, $widen:expr, $narrow:expr, $product:expr, $undefined:expr,
        $with_value:expr $(, vectorised: $assign:path, $into:path)?
        $(, activations: $($entries:ident => $kernel:path),+;
            exp_shifted_in_place => $exp_shifted_in_place:path,
            log_sigmoid_pair_entries => $log_sigmoid_pair:path)?);*
        $(;)?) => {$(
        thread_local! {
            static $tls: RefCell<MatTapeStack<$t>> = const { RefCell::new(MatTapeStack::new()) };
            static $teardown: Cell<Option<&'static RefCell<MatTapeStack<$t>>>> =
                const { Cell::new(None) };
            static $pool: RefCell<BufferPool<$t>> = const { RefCell::new(BufferPool::new()) };
        }

        impl MatScalar for $t {}

        impl sealed::Sealed for $t {
            fn with_mat_tapes<R>(f: impl FnOnce(&mut MatTapeStack<Self>) -> R) -> R {
                let mut f = Some(f);
                let own = $tls.try_with(|stack| match stack.try_borrow_mut() {
                    Ok(mut stack) => f.take().map(|f| f(&mut stack)),
                    Err(_) => reentrant_matrix_operation(),
                });
                match (own, f) {
                    (Ok(Some(out)), _) => out,
                    // The thread's stack is gone (teardown): its stand-in.
                    (_, Some(f)) => with_teardown_stack(&$teardown, true, f)
                        .expect("the teardown stack is created on demand"),
                    (_, None) => unreachable!("f ran but returned nothing"),
                }
            }

            fn try_with_mat_tapes(f: impl FnOnce(&mut MatTapeStack<Self>)) {
                let mut f = Some(f);
                let _ = $tls.try_with(|stack| {
                    if let Ok(mut stack) = stack.try_borrow_mut() {
                        if let Some(f) = f.take() {
                            f(&mut stack);
                        }
                    }
                });
                // During teardown, the stand-in stack if one is in use (a scope closing there).
                if let Some(f) = f.filter(|_| $tls.try_with(|_| ()).is_err()) {
                    with_teardown_stack(&$teardown, false, f);
                }
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

            type Wide = $wide;
            const WIDENS: bool = $widens;

            #[inline(always)]
            fn widen(self) -> $wide {
                let widen: fn(Self) -> $wide = $widen;
                widen(self)
            }

            #[inline(always)]
            fn narrow(wide: $wide) -> Self {
                let narrow: fn($wide) -> Self = $narrow;
                narrow(wide)
            }

            fn undefined() -> Self {
                $undefined
            }

            #[inline]
            fn with_value_of(self, value_of: Self) -> Self {
                let with_value: fn(Self, Self) -> Self = $with_value;
                with_value(self, value_of)
            }

            #[inline(always)]
            fn tape_product(partial: Self, tangent: Self) -> Self {
                let product: fn(Self, Self) -> Self = $product;
                product(partial, tangent)
            }

            $(
                fn tape_product_assign(partials: &[Self], tangents: &mut [Self]) {
                    $assign(partials, tangents)
                }

                fn tape_product_into(partials: &[Self], tangents: &[Self], out: &mut [Self]) {
                    $into(partials, tangents, out)
                }
            )?

            $(
                $(
                    fn $entries(x: &[Self], value: &mut [Self], derivative: &mut [Self]) {
                        $kernel(x, value, derivative)
                    }
                )+

                fn exp_shifted_in_place(values: &mut [Self], shift: Self) {
                    $exp_shifted_in_place(values, shift)
                }

                fn log_sigmoid_pair_entries(
                    x: &[Self],
                    log_p: &mut [Self],
                    log_q: &mut [Self],
                    p: &mut [Self],
                    q: &mut [Self],
                ) {
                    $log_sigmoid_pair(x, log_p, log_q, p, q)
                }
            )?
        }
    )*};
}

// f32 sums widen exactly to f64 and round once at the end; a dual's parts each do. Plain floats'
// products with the convention are adroit-forward's (vectorised over slices); duals' are the scalar
// tape's sweep products. f32's tanh, sigmoid, exp, ln, softplus, log-sigmoid and normal
// distribution function have vectorised kernels; f64 keeps the C library's functions (correctly
// rounded or nearly), as do the duals.
mat_scalar! {
    f32 => MAT_TAPES_F32, TEARDOWN_F32, POOL_F32, gemm::sgemm,
        f64, true, f64::from, |w| w as f32, chain_product, f32::NAN, |_, v| v,
        vectorised: chain_product_assign, chain_product_into,
        activations:
            tanh_entries => activation_kernels::tanh_entries,
            logistic_entries => activation_kernels::logistic_entries,
            exp_entries => activation_kernels::exp_entries,
            expm1_entries => activation_kernels::expm1_entries,
            log1p_exp_entries => activation_kernels::log1p_exp_entries,
            log_logistic_entries => activation_kernels::log_logistic_entries,
            ndtr_entries => activation_kernels::ndtr_entries,
            ln_entries => activation_kernels::ln_entries;
            exp_shifted_in_place => activation_kernels::exp_shifted_in_place,
            log_sigmoid_pair_entries => activation_kernels::log_sigmoid_pair_entries;
    f64 => MAT_TAPES_F64, TEARDOWN_F64, POOL_F64, gemm::dgemm,
        f64, false, |v| v, |w| w, chain_product, f64::NAN, |_, v| v,
        vectorised: chain_product_assign, chain_product_into;
    Dual<f32> => MAT_TAPES_DUAL_F32, TEARDOWN_DUAL_F32, POOL_DUAL_F32, gemm::dual_gemm,
        Dual<f64>, true, |v| Dual::new(f64::from(v.value()), f64::from(v.tangent())),
        |w| Dual::new(w.value() as f32, w.tangent() as f32), dual_sweep,
        Dual::new(f32::NAN, f32::NAN), |t, v| Dual::new(v.value(), t.tangent());
    Dual<f64> => MAT_TAPES_DUAL_F64, TEARDOWN_DUAL_F64, POOL_DUAL_F64, gemm::dual_gemm,
        Dual<f64>, false, |v| v, |w| w, dual_sweep, Dual::new(f64::NAN, f64::NAN),
        |t, v| Dual::new(v.value(), t.tangent());
}

/// The chunks of `matrix::hessian_chunked`, each size's thread-locals in a block of its own.
macro_rules! chunk_mat_scalars {
    ($($n:literal),*) => {$(
        const _: () = {
            mat_scalar! {
                DualVec<f32, $n> => MAT_TAPES_F32, TEARDOWN_F32, POOL_F32, gemm::dual_gemm,
                    DualVec<f64, $n>, true,
                    |v| DualVec::new(f64::from(v.value()), v.tangents().map(f64::from)),
                    |w| DualVec::new(w.value() as f32, w.tangents().map(|t| t as f32)),
                    chunk_sweep, DualVec::new(f32::NAN, [f32::NAN; $n]),
                    |t, v| DualVec::new(v.value(), t.tangents());
                DualVec<f64, $n> => MAT_TAPES_F64, TEARDOWN_F64, POOL_F64, gemm::dual_gemm,
                    DualVec<f64, $n>, false, |v| v, |w| w, chunk_sweep,
                    DualVec::new(f64::NAN, [f64::NAN; $n]),
                    |t, v| DualVec::new(v.value(), t.tangents());
            }
        };
    )*};
}
with_hessian_chunks!(chunk_mat_scalars);

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
