//! [`TapeScalar`]: the primal types a tape can record, each with its own thread-local tapes.

use crate::tape::{Tape, TapePool};
use adroit_forward::rules::{BinaryRule, UnaryRule};
use adroit_forward::{Decompositions, Dual, DualVec, Svd, chain_product};
use nalgebra::{DMatrix, DVector, RealField};
use num_traits::Float;
use std::cell::{Cell, RefCell};
use std::fmt::Debug;
use std::thread::LocalKey;

/// A primal type that [`Var`](crate::Var) can wrap: `f32`, `f64`, and the forward-mode duals
/// `Dual<f32>`, `Dual<f64>` (for forward-over-reverse Hessian-vector products) and
/// `DualVec<f32, N>`, `DualVec<f64, N>` for the chunk sizes `N` of
/// [`HESSIAN_CHUNKS`](crate::HESSIAN_CHUNKS) — 1, 2, 4, 8 and 12 (for chunked
/// forward-over-reverse Hessians, [`hessian_chunked`](crate::hessian_chunked)).
///
/// Each type has its own thread-local active tape, so gradients run in parallel on different
/// threads, and `Var<f64>` and `Var<Dual<f64>>` scopes never interfere. The trait is sealed.
///
/// As a bound, it lets code take gradients for any recordable type:
/// ```
/// use adroit_reverse::{TapeScalar, gradient};
/// fn slope<T: TapeScalar>(x: T) -> T {
///     gradient(|v| v[0] * v[0], &[x])[0]
/// }
/// assert_eq!(slope(3.0_f64), 6.0);
/// assert_eq!(slope(3.0_f32), 6.0);
/// ```
///
/// A reverse gradient inside a reverse gradient does not compile (`Var<Var<f64>>` is not a
/// tape scalar; the error says to use [`hessian`](crate::hessian)/[`hvp`](crate::hvp)):
/// ```compile_fail,E0277
/// let g = adroit_reverse::gradient(|x| adroit_reverse::gradient(|y| y[0] * y[0], &[x[0]])[0], &[2.0]);
/// ```
///
/// The thread-local tapes are reachable from this crate only, also through a generic bound:
/// ```compile_fail,E0624
/// fn reach<T: adroit_reverse::TapeScalar>() {
///     let _ = T::active_tape(); // private to adroit-reverse
/// }
/// ```
#[allow(private_bounds)] // the point: the supertrait's functions are private to this crate
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be recorded on adroit-reverse's tape",
    note = "a tape records f32, f64, Dual<f32|f64> and DualVec<f32|f64, N> values only, \
            N one of adroit_reverse::HESSIAN_CHUNKS (1, 2, 4, 8, 12): for hessian_chunked, \
            take the next size up (4 for 3 inputs); code generic over N needs the bound \
            `DualVec<T, N>: TapeScalar`",
    note = "a reverse gradient inside a reverse gradient (Var<Var<_>>) is not supported: for \
            second derivatives use adroit_reverse::hessian or hvp (forward-over-reverse), or \
            adroit_forward for the inner derivative"
)]
pub trait TapeScalar: Float + Debug + 'static + sealed::Sealed {}

/// The per-type thread-locals, reachable only from inside this crate: the trait is private to
/// the crate (a private supertrait of [`TapeScalar`]), so code outside it can neither name it
/// nor call its functions — not even through a `T: TapeScalar` bound — and so cannot set or
/// read the active-tape pointer.
pub(crate) mod sealed {
    use super::*;

    pub(crate) trait Sealed: Sized + 'static {
        /// This thread's active tape for `Self` (null when no scope is open); see the
        /// `active` module for the invariant.
        fn active_tape() -> &'static LocalKey<Cell<*mut Tape<Self>>>;

        /// This thread's spare tapes and adjoint buffers for `Self`.
        fn tape_pool() -> &'static LocalKey<RefCell<TapePool<Self>>>;

        /// The value with every perturbation dropped (a dual's tangents): what
        /// [`stop_gradient`](crate::stop_gradient) keeps, so an outer forward mode sees a
        /// constant too.
        fn detached(self) -> Self;

        /// The sweep's contribution `adjoint · partial`, with the `0·∞ = 0` convention of
        /// [`chain_product`] on every part: for a dual, on the value product too (its own
        /// multiplication keeps the plain `0·∞ = NaN` of the primal, which in a
        /// forward-over-reverse sweep turned a zero adjoint carrying a tangent, times an
        /// infinite partial, into NaN in every lane — entries that depended on how inputs were
        /// chunked).
        fn sweep_product(adjoint: Self, partial: Self) -> Self;

        /// True for the types whose tape can record second partials
        /// ([`hessian`](crate::hessian)'s second-order adjoint recording): the chunks of at
        /// least two lanes, one per operand of a rule.
        const LOCAL_LANES: bool;

        /// True for the plain floats, whose variables fold a chain of one-operand operations
        /// into a pending scale instead of recording a node for each ([`Var`](crate::Var)'s
        /// docs, "Folded scales"); the duals of `hvp` and `hessian` record every operation.
        const FOLDS: bool;

        /// What a variable stores as its pending scale: `Self` where [`FOLDS`](Self::FOLDS),
        /// nothing (so that the variables of the duals stay as small as their values) where
        /// not.
        type Scale: Copy + Debug;

        /// `scale` as a number (1 where nothing is stored).
        fn scale_value(scale: Self::Scale) -> Self;

        /// `value` as a stored scale (dropped where nothing is stored).
        fn stored_scale(value: Self) -> Self::Scale;

        /// The value alone with a unit tangent in `lane` (every other lane zero): an operand of
        /// a rule seeded so that the rule's partials carry its second partials
        /// ([`LOCAL_LANES`](Self::LOCAL_LANES) types only; the identity for the others). For the
        /// special functions, evaluated through closures on `Self`; the rules of the table go
        /// through [`local_unary`](Self::local_unary) and [`local_binary`](Self::local_binary).
        fn seeded(self, lane: usize) -> Self;

        /// `rule` at `x` on a tape recording second partials: the value without tangents and
        /// the derivative with `f''` in lane 0 ([`local_rules`](crate::local_rules); the plain
        /// evaluation for types that are not [`LOCAL_LANES`](Self::LOCAL_LANES)).
        fn local_unary<R: UnaryRule>(x: Self, rule: R) -> (Self, Self);

        /// `rule` at `(x, y)` on a tape recording second partials, the operands marked in `seed`
        /// seeded (the others constants): the value without tangents and both partials with
        /// their second partials in lanes 0 and 1 ([`local_rules`](crate::local_rules)).
        fn local_binary<R: BinaryRule>(
            x: Self,
            y: Self,
            seed: [bool; 2],
            rule: R,
        ) -> (Self, Self, Self);

        /// adroit-forward's [`Decompositions::svd`] of a matrix of values, for
        /// [`svd`](crate::svd), reachable under the public bound `RealField` (every tape
        /// scalar implements `Decompositions`): nalgebra's on a plain float; on a dual (under
        /// [`hessian`](crate::hessian)/[`hvp`](crate::hvp)) exact tangents, where nalgebra's
        /// iteration on duals gets them wrong (diagonal, triangular, rank-deficient matrices),
        /// so that the node's outputs carry exact second-order parts.
        fn thin_svd(a: &DMatrix<Self>) -> Svd<Self>
        where
            Self: RealField;

        /// [`Decompositions::symmetric_eigen`], for
        /// [`symmetric_eigen`](crate::symmetric_eigen), as [`thin_svd`](Self::thin_svd).
        fn eigen_symmetric(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>)
        where
            Self: RealField;
    }
}

macro_rules! tape_scalar {
    ($($t:ty => $active:ident, $pool:ident, $detached:expr, $sweep:expr,
        $local:expr, $seeded:expr, $rules:ident, $folds:expr, $scale:ty,
        $scale_value:expr, $stored:expr),* $(,)?) => {$(
        thread_local! {
            static $active: Cell<*mut Tape<$t>> = const { Cell::new(std::ptr::null_mut()) };
            static $pool: RefCell<TapePool<$t>> = const { RefCell::new(TapePool::new()) };
        }

        impl sealed::Sealed for $t {
            #[inline(always)]
            fn active_tape() -> &'static LocalKey<Cell<*mut Tape<Self>>> {
                &$active
            }

            #[inline(always)]
            fn tape_pool() -> &'static LocalKey<RefCell<TapePool<Self>>> {
                &$pool
            }

            #[inline]
            fn detached(self) -> Self {
                let detach: fn(Self) -> Self = $detached;
                detach(self)
            }

            #[inline(always)]
            fn sweep_product(adjoint: Self, partial: Self) -> Self {
                let product: fn(Self, Self) -> Self = $sweep;
                product(adjoint, partial)
            }

            const LOCAL_LANES: bool = $local;

            const FOLDS: bool = $folds;

            type Scale = $scale;

            #[inline(always)]
            fn scale_value(scale: $scale) -> Self {
                let value: fn($scale) -> Self = $scale_value;
                value(scale)
            }

            #[inline(always)]
            fn stored_scale(value: Self) -> $scale {
                let store: fn(Self) -> $scale = $stored;
                store(value)
            }

            #[inline(always)]
            fn seeded(self, lane: usize) -> Self {
                let seed: fn(Self, usize) -> Self = $seeded;
                seed(self, lane)
            }

            #[inline(always)]
            fn local_unary<R: UnaryRule>(x: Self, rule: R) -> (Self, Self) {
                crate::local_rules::$rules::unary(x, rule)
            }

            #[inline(always)]
            fn local_binary<R: BinaryRule>(x: Self, y: Self, seed: [bool; 2], rule: R)
                -> (Self, Self, Self) {
                crate::local_rules::$rules::binary(x, y, seed, rule)
            }

            fn thin_svd(a: &DMatrix<Self>) -> Svd<Self> {
                <$t as Decompositions>::svd(a)
            }

            fn eigen_symmetric(a: &DMatrix<Self>) -> (DVector<Self>, DMatrix<Self>) {
                <$t as Decompositions>::symmetric_eigen(a)
            }
        }

        impl TapeScalar for $t {}
    )*};
}
// The sweep skips identically zero adjoints and partials; for a plain float that is every
// zero, so a plain product follows the convention.
tape_scalar! {
    f32 => ACTIVE_F32, POOL_F32, |x| x, |a, w| a * w, false, |x, _| x, plain, true, f32,
        |s| s, |v| v,
    f64 => ACTIVE_F64, POOL_F64, |x| x, |a, w| a * w, false, |x, _| x, plain, true, f64,
        |s| s, |v| v,
    Dual<f32> => ACTIVE_DUAL_F32, POOL_DUAL_F32, |x| Dual::constant(x.value()), dual_sweep,
        false, |x, _| x, plain, false, NoScale, |_| num_traits::One::one(), |_| NoScale,
    Dual<f64> => ACTIVE_DUAL_F64, POOL_DUAL_F64, |x| Dual::constant(x.value()), dual_sweep,
        false, |x, _| x, plain, false, NoScale, |_| num_traits::One::one(), |_| NoScale,
}

/// The chunks of `hessian_chunked`, each size's thread-locals in a block of its own.
macro_rules! chunk_tape_scalars {
    ($($n:literal),*) => {$(
        const _: () = {
            tape_scalar! {
                DualVec<f32, $n> => ACTIVE_F32, POOL_F32, |x| DualVec::constant(x.value()),
                    chunk_sweep, $n >= 2, |x, lane| DualVec::variable(x.value(), lane), lanes,
                    false, NoScale, |_| num_traits::One::one(), |_| NoScale,
                DualVec<f64, $n> => ACTIVE_F64, POOL_F64, |x| DualVec::constant(x.value()),
                    chunk_sweep, $n >= 2, |x, lane| DualVec::variable(x.value(), lane), lanes,
                    false, NoScale, |_| num_traits::One::one(), |_| NoScale,
            }
        };
    )*};
}
with_hessian_chunks!(chunk_tape_scalars);

/// The pending scale of a dual type's variable: none, it records every operation
/// ([`Sealed::FOLDS`](sealed::Sealed::FOLDS) is false).
#[derive(Clone, Copy, Debug)]
pub(crate) struct NoScale;

/// [`Sealed::sweep_product`](sealed::Sealed::sweep_product) for `Dual`: the dual product, whose
/// tangents already follow the convention (lane by lane, vectorised), with its value redone by
/// [`chain_product`] in the rare case it is NaN.
#[inline(always)]
pub(crate) fn dual_sweep<T: Float>(a: Dual<T>, w: Dual<T>) -> Dual<T> {
    let product = a * w;
    if product.value().is_nan() {
        Dual::new(chain_product(a.value(), w.value()), product.tangent())
    } else {
        product
    }
}

/// As [`dual_sweep`] for the Hessian's chunks.
#[inline(always)]
pub(crate) fn chunk_sweep<T: Float, const N: usize>(
    a: DualVec<T, N>,
    w: DualVec<T, N>,
) -> DualVec<T, N> {
    let product = a * w;
    if product.value().is_nan() {
        DualVec::new(chain_product(a.value(), w.value()), product.tangents())
    } else {
        product
    }
}
