//! Reverse-mode automatic differentiation (backpropagation) on a fast, scoped tape.
//!
//! Write a function once, generically over [`num_traits::Float`]; call it on [`Var`]s inside
//! [`gradient`], [`pullback`], [`jacobian`], [`hessian`], ... and get exact derivatives:
//!
//! - **one rule table**: every operation's local partials come from
//!   [`adroit_forward::rules`], so forward and reverse mode share every derivative and every
//!   edge convention (`abs'(0) = 0`, ties of `max`/`min` split ½/½, ...). They accumulate in
//!   different orders, so where an infinite partial meets a cancellation the modes can differ:
//!   `∂/∂x [(x·y − y·x).cbrt() + x]` at `(1, 1)` is 1 in forward mode (the tangents cancel
//!   before meeting `cbrt'(0) = ∞`) and NaN in reverse mode (the infinite adjoint spreads to
//!   both products, then cancels), as in PyTorch and JAX. Likewise an adjoint on the way down
//!   can overflow where every tangent stays finite: `∂/∂x [x·y·z·w]` at `(1, 1e-300, 1e200,
//!   1e200)` is `1e100` in forward mode but `+∞` in reverse mode, whose adjoint of `x·y` is
//!   `z·w` (group the small factor with the large ones, `x·(y·z·w)`, to keep it finite).
//!   Chains of one-operand operations are folded into one partial in forward mode's order
//!   ([`Var`], "Folded scales", which says how that moves sums of adjoints too), so there the
//!   modes agree: `(x − x·1).cbrt() + x` is 1 in both;
//! - **a compact tape**: struct-of-arrays, 32-bit indices, partials stored at record time,
//!   no allocation per operation (24 bytes per binary operation for `f64`), thread-local (so
//!   gradients run in parallel on different threads) and scoped (each call records on a fresh
//!   tape, whose buffers (up to 256 MiB) the thread keeps for the next call —
//!   [`release_buffers`] frees them;
//!   nested calls restore the outer tape);
//! - **safe**: a variable used outside its scope panics with a clear message; it never reads
//!   another tape's node;
//! - **custom rules** ([`custom_rule`], [`custom_scalar`]; for whole matrices
//!   [`matrix::custom_rule`]) and [`stop_gradient`] (also the
//!   method of adroit-forward's `StopGradient` trait, for code generic over the number type);
//! - **both directions from one recording**: a [`Pullback`] maps cotangents back (VJP,
//!   [`Pullback::call`]) and tangents forward (JVP, [`Pullback::pushforward`], JAX's
//!   `linearize`) over the same tape;
//! - **checkpointing** ([`checkpoint`]; [`matrix::checkpoint`]): a segment kept as one node and
//!   recorded again in the backward sweep, trading recomputation for tape memory;
//! - **forward-over-reverse** Hessians and HVPs through `Var<Dual<T>>` (plain `f32`/`f64`
//!   work on either side of these variables' arithmetic operators too, so
//!   `|x| 3.0 * x[0] * x[0]` is a Hessian closure; `Float` methods take a variable, as for
//!   `Var<f64>`: `x[0].max(num_traits::zero())`, in generic code `x[0].max(S::zero())`);
//! - [`matrix`]: whole-matrix operations recorded as single nodes, for fast array code, with
//!   gradients and, by forward-over-reverse, Hessian-vector products and Hessians
//!   ([`matrix::hvp`], [`matrix::hessian`]);
//! - `Var<f32>`/`Var<f64>` implement `nalgebra::RealField`, so LU, Cholesky, `solve` and
//!   `determinant` on `DMatrix<Var<f64>>` differentiate too. At a singular matrix LU-based
//!   results are NaN or infinite rather than 0 or `None`, or finite and wrong where partial
//!   pivoting skips a zero column whose derivatives sit below the pivot (use
//!   `full_piv_lu().determinant()` there), as for adroit-forward's duals (see its "Singular
//!   matrices"): a `Var` is `is_zero` only when it is the constant 0 (not recorded: made
//!   constant, or with a zero partial at this point, as `x.powi(2)` at `x = 0`), so a zero
//!   pivot computed from the inputs is in general not seen; likewise `cholesky()` returns
//!   `Some` at a positive semi-definite matrix where `f64` gives `None` (its `L` then has a
//!   zero pivot: `ln det` −∞, infinite gradients). Decide singularity and definiteness on the
//!   primal values (`a.map(|x| x.value())`). Second derivatives too: [`hessian`] and [`hvp`]
//!   record `Var<DualVec<T, 12>>`/`Var<Dual<T>>` ([`hessian_chunked`]: `Var<DualVec<T, N>>`),
//!   which implement `RealField` as well, so
//!   Hessians go through LU, Cholesky, QR, `solve` and `determinant` with the same caveats
//!   (tested against matrix calculus, adroit-forward's `hessian` and central differences).
//!   In a debug build nalgebra's closed-form 4 × 4 `try_inverse()` under [`hessian`] needs a
//!   stack of about 6.5 MiB (rustc 1.95, 16 inputs: 6 MiB overflowed, 6.5 MiB sufficed; a test
//!   thread has 2 MiB: the process aborts on the overflow);
//!   use `lu().try_inverse()` there, a release build, or a thread with a larger stack.
//!   Eigenvectors: nalgebra's `symmetric_eigen` on `Var`s loses their derivatives at a
//!   matrix whose off-diagonal part is zero in value; [`symmetric_eigen`] records the
//!   decomposition as one node with the exact pullback; [`svd`] likewise for the singular
//!   value decomposition (nalgebra's `svd` on `Var`s gets its derivatives wrong at
//!   triangular, diagonal and rank-deficient matrices); both nodes' Hessians are exact too
//!   where the eigenvalues are distinct (the singular values distinct and non-zero; at a zero
//!   or repeated one, a kink, they are infinite, NaN or finite and not a derivative: see
//!   [`MatVar::singular_values`](matrix::MatVar::singular_values)). Both implement adroit-forward's
//!   `Decompositions` for `Var`, so code bound by it runs in every mode. As `ToPrimitive`,
//!   nalgebra's `try_convert` of a `Var` to `f64` gives its primal value (no derivative);
//! - **`unsafe` only where the speed is**: the workspace denies `unsafe` code; this crate allows
//!   it in three small modules and a few call sites, each stating its soundness argument: the
//!   thread's active-tape pointer (`active`), the matrix-product kernels' calls with strided
//!   operands (`matrix::gemm`; with the feature `parallel`, blocks of rows of one output
//!   written by calls on several threads), matrix gradients reading their inputs in place
//!   (`matrix::value`, whose two callers, in `matrix::api`, are `matrix::value_and_gradient`
//!   and `matrix::evaluate`),
//!   the call of `zip_map`'s AVX2 build after the CPU was found to have AVX2
//!   (`matrix::ops::zip_map`), that of the tiny matrix products' AVX2 + FMA build after the
//!   CPU was found to have both (`matrix::gemm`), and that of the second-order adjoint
//!   sweeps' AVX2 build after the same test (`second_order_adjoint`, for [`hessian`] of more
//!   than 24 inputs), the element-wise activation kernels' AVX2 builds
//!   (`matrix::activation_kernels`), and `all_finite`'s AVX-512F and AVX2 builds after the CPU
//!   was found to have them (`matrix::finite`). Miri (Stacked Borrows) finds no undefined
//!   behaviour in the integration tests of misuse, the API, buffers, checkpoints,
//!   pushforwards, custom matrix rules, uniform adjoints, `zip_map` and the matrix kernels,
//!   nor in the unit tests it finishes (the larger triangular solves take too long under it)
//!   (`MIRIFLAGS=-Zmiri-deterministic-floats cargo +nightly miri test -p adroit-reverse --test
//!   it -- misuse:: api:: …`; without the flag, Miri's deliberately inexact `exp` and `sin`
//!   fail the tests that compare two paths bit for bit). Under Miri the CPU test fails, so the
//!   AVX2 and AVX-512F builds are checked by their review alone (and the feature `gemm`, off
//!   there, by its review and its tests against `matrixmultiply` and the definition).
//!
//! # Cargo features
//! - `gemm` (off by default; adroit-nn turns it on by default): the matrix tape's `f32`
//!   products, but for tiny ones (a loop of this crate's own) and those whose left operand is
//!   read transposed at a depth above 256, run on the `gemm` crate's kernels instead of
//!   `matrixmultiply`'s, on the calling thread. On an AVX-512 CPU (AMD Zen 5) they took a
//!   784-128-10 MLP's training step (f32, batch 64, one thread) from 214–223 µs to 167–176 µs
//!   (criterion; see `BENCHMARKS.md` §W.10). The kernels sum in different blocked orders, so
//!   `f32` products differ between builds by rounding, and with the feature a `Dual<f32>`
//!   recording's values (the gradient of an `f32` [`matrix::value_gradient_and_hvp`]) may
//!   differ from a plain `f32` one's in the last bit; `f64` products stay on
//!   `matrixmultiply`, whose order makes them agree exactly. On first use `gemm` reads the
//!   CPU's cache sizes (from `/sys`, or by running `lscpu`), and keeps a buffer of about the L2
//!   cache's size per thread. The feature brings eighteen crates to compile on Linux x86-64
//!   (gemm's six, `pulp`, `dyn-stack`, `raw-cpuid`, ..., and a build dependency). Its products
//!   were measured on AMD Zen 4 and Zen 5, its training steps on Zen 5, an Intel Xeon
//!   (`BENCHMARKS.md` §X.5) and an AMD Zen 1 (§Y.8).
//! - `parallel` (off by default, includes `gemm`; adroit-nn turns it on by default): an `f32`
//!   product of at least 2²⁴ multiply-adds (in two from 2²² on an x86 CPU without AVX-512)
//!   on the `gemm` crate's kernels is split into blocks of rows (multiples of 64), run on
//!   adroit's own product threads (which wait for the next block spinning for 20 µs, then
//!   asleep) —
//!   `RAYON_NUM_THREADS` threads where that is set, else one per CPU the process may use (a
//!   global pool sized in code does not change it), at most `MATMUL_NUM_THREADS` where that is
//!   set (the variable `matrixmultiply`'s own threads follow), the caller taking one block —
//!   one block per 2²³ multiply-adds. A
//!   pool of its own, so that a caller holding a lock which the global pool's threads wait
//!   for (its own `par_iter` over a model behind a mutex) does not wait for ever (a program
//!   keeping both pools busy at once runs up to 2N − 1 threads for N CPUs). On the
//!   2-vCPU Zen 5 machine it took a 784-512-512-10 MLP's step (f32, batch 128) on two threads
//!   from 2.00–2.37 ms to 1.49–1.75 ms (`BENCHMARKS.md` §W.12, on rayon's global pool; the
//!   same on a rayon pool of product threads, §X.5; 2.45–2.62 ms there against 2.25–2.40 ms on
//!   the product threads of today on the 2-vCPU Intel machine, §X.9); smaller products, which
//!   splitting would slow (a rayon job reached the other thread 20–50 µs after it was started
//!   there), stay whole, and so does a product computed on a thread of a rayon pool (code of
//!   one's own in `par_iter`: that pool's threads already occupy the CPUs). Without AVX-512
//!   the kernels are slower, and products from 2²² multiply-adds, split in two, pay for the
//!   start (the
//!   784-128-10 step on a 2-vCPU AMD Zen 1: 526–531 µs split in two against 730–789 µs
//!   whole, §Y.9). While one thread's product holds the product threads, another thread's
//!   product runs whole on its own thread. An entry of a split product may differ in its last
//!   bits from the whole product's where `gemm` chooses other depth blocks for the block's
//!   shape (for the 784-512-512-10 step's products it did not; for the 784-128-10 step's
//!   first, split on the Zen 1, it did). Brings rayon and its five dependencies (to tell a
//!   rayon pool's threads).
//!
//! # Example
//! ```
//! // f(x, y) = x² + 3y at (5, 7): value 46, gradient (10, 3)
//! let (value, grad) = adroit_reverse::value_and_gradient(|v| v[0] * v[0] + 3.0 * v[1], &[5.0, 7.0]);
//! assert_eq!(value, 46.0);
//! assert_eq!(grad, vec![10.0, 3.0]);
//! ```
#![warn(missing_docs)]

/// Invokes `$callback!` with every chunk size `N` for which `DualVec<f32|f64, N>` is a
/// [`TapeScalar`] and a [`matrix::MatScalar`] ([`HESSIAN_CHUNKS`]), so that each per-type list
/// of the crate names them in one place.
macro_rules! with_hessian_chunks {
    ($callback:ident) => {
        $callback!(1, 2, 4, 8, 12);
    };
}

mod active;
mod api;
mod buffers;
mod checkpoint;
mod custom;
mod decompositions;
mod local_rules;
pub mod matrix;
mod pullback;
mod record;
mod scalar;
mod scope;
mod second_order_adjoint;
mod special;
mod svd;
mod symmetric_eigen;
mod tape;
mod var;

pub use api::{
    HESSIAN_CHUNK, HESSIAN_CHUNKS, gradient, hessian, hessian_chunked, hvp, jacobian, pullback,
    value_and_gradient, value_and_gradient_with_aux, value_and_jacobian,
    value_gradient_and_hessian, value_gradient_and_hessian_chunked, vjp,
};
pub use buffers::release_buffers;
pub use checkpoint::checkpoint;
pub use custom::{custom_rule, custom_scalar, stop_gradient};
pub use pullback::Pullback;
pub use scalar::TapeScalar;
pub use svd::svd;
pub use symmetric_eigen::symmetric_eigen;
pub use var::Var;

/// The forward-mode crate (its `Dual` is the tangent type of Hessians).
pub use adroit_forward;
/// `erf`/`erfc` on [`Var`] (and every number type of adroit-forward): the trait to import.
pub use adroit_forward::SpecialFunctions;
/// `nalgebra`, whose matrices this crate returns.
pub use nalgebra;
/// `num_traits`, whose `Float` this crate's `Var` implements.
pub use num_traits;
