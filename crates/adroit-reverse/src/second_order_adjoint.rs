//! [`hessian`](crate::hessian)'s engine: one recording with second partials, then for each
//! chunk of directions a tangent sweep and a second-order adjoint sweep over it.
//!
//! This is forward-over-reverse done on the tape (the second-order adjoint mode of ADOL-C's
//! `hos_ov_reverse`; Griewank & Walther, *Evaluating Derivatives*, 2nd ed., 2008, §5.4)
//! instead of by recording the function once per chunk on `Var<DualVec<T, N>>`. Each node
//! `v = φ(x, y)` stores its partials `∂φ/∂x`, `∂φ/∂y` and second partials, all from the rule
//! table: the rule is evaluated with `x` seeded in lane 0 and `y` in lane 1 (see
//! [`Tape::is_local`](crate::tape::Tape::is_local)), so the partials' lanes are
//! `(∂²φ/∂x², ∂²φ/∂x∂y)` and `(∂²φ/∂y∂x, ∂²φ/∂y²)`. Then, with `v̄` the gradient's adjoints
//! (one sweep) and, per chunk, `v̇` the tangents of the chunk's `N` coordinate directions:
//!
//! - tangent sweep: `v̇ = ∂φ/∂x·ẋ + ∂φ/∂y·ẏ`;
//! - second-order adjoint sweep, for each operand `z` of each node (last node first):
//!   `z̄̇ += ∂φ/∂z·v̄̇ + (v̄·∂²φ/∂z∂x)·ẋ + (v̄·∂²φ/∂z∂y)·ẏ`, the bracketed products formed
//!   once for all chunks;
//!
//! and the inputs' `x̄̇` are the Hessian's columns of the chunk. A node none of whose operands
//! depends on the chunk's inputs has no tangent, and one that receives no second-order adjoint
//! and has no curvature along the chunk passes none on: both sweeps skip such nodes whole, and
//! stop where no node further on has work, so a function whose terms each touch few inputs (a
//! partially separable one, such as extended Rosenbrock) costs each chunk only the nodes that
//! depend on it, with the sums that carry every term (their flags only: a tangent is formed
//! only where a node with curvature reads it).
//!
//! The products follow the sweep's `0·∞ = 0` convention ([`adroit_forward::chain_product`]),
//! as the recordings on `Var<DualVec<T, N>>` do: the two engines give the same Hessians up to
//! rounding (a rule's second partial is formed once for unit seeds, then scaled by the adjoint
//! and the tangents, where a chunk's recording forms it along the tangents, then scales it by
//! the adjoint).
//!
//! A custom rule ([`custom_rule`](crate::custom_rule), [`checkpoint`](crate::checkpoint),
//! [`svd`](crate::svd), [`symmetric_eigen`](crate::symmetric_eigen)) has a pullback but no
//! second partials: a recording with one is not swept here, and the caller records the
//! function per chunk instead.

use crate::active::mark_local;
use crate::record::Recording;
use crate::tape::Tape;
use crate::{TapeScalar, Var};
use adroit_forward::{DualVec, chain_product};
use nalgebra::DMatrix;
use num_traits::Float;

/// `(f(x), ∇f(x), ∇²f(x))` by the second-order adjoint sweeps of one recording of `f` (module
/// docs), `N` directions per chunk; `None` when `x` fits in two chunks (`n ≤ 2N`), when `N < 2`
/// (a rule's two operands need a lane each), or (after recording `f` once) when the recording
/// holds a custom rule.
///
/// `x`: `n ≥ 1` inputs.
///
/// # Panics
/// As [`gradient`](crate::gradient): if `f` returns a variable of another scope.
#[track_caller]
pub(crate) fn hessian<const N: usize, T, F>(f: &F, x: &[T]) -> Option<(T, Vec<T>, DMatrix<T>)>
where
    T: Float + nalgebra::Scalar,
    DualVec<T, N>: TapeScalar,
    F: Fn(&[Var<DualVec<T, N>>]) -> Var<DualVec<T, N>>,
{
    // One or two chunks: recording each on `Var<DualVec<T, N>>` is as fast or faster. The one
    // recording here costs about as much as a chunk's there, and reading its partials half as
    // much again; where every node depends on every input, a chunk's sweeps here cost a little
    // less than a chunk's recording and sweep there (dense log-sum-exp, `--bench reverse --
    // dense_hessian`: 88–93 against 90 µs at two chunks, 301 against 301 µs at three, 4.33
    // against 5.52 ms at eight; BENCHMARKS.md §T.12).
    if !<DualVec<T, N> as crate::scalar::sealed::Sealed>::LOCAL_LANES || x.len() <= 2 * N {
        return None;
    }
    let point: Vec<DualVec<T, N>> = x.iter().map(|&v| DualVec::constant(v)).collect();
    let (y, recording) = Recording::new(&point, |inputs| {
        mark_local::<DualVec<T, N>>();
        f(inputs)
    });
    recording.check_output(&y);
    let tape = recording.tape();
    if tape.has_custom() {
        return None;
    }
    let n = x.len();
    let value = y.value().value();
    if y.is_constant() {
        return Some((
            value,
            vec![T::zero(); n],
            DMatrix::from_element(n, n, T::zero()),
        ));
    }
    let sweeps = Sweeps::new(tape, n, y.index());
    let gradient = sweeps.adjoint[1..=n].to_vec();
    Some((value, gradient, sweeps.hessian()))
}

/// A local recording's nodes, as the sweeps read them.
struct Sweeps<'a, T, const N: usize> {
    /// Each node's two operands (the sink, node 0, for a unary node's second).
    parents: &'a [[u32; 2]],
    /// `∂φ/∂x`, `∂φ/∂y`.
    partials: Vec<[T; 2]>,
    /// The first-order adjoints `v̄` of the output.
    adjoint: Vec<T>,
    /// `v̄·[∂²φ/∂x², ∂²φ/∂x∂y, ∂²φ/∂y∂x, ∂²φ/∂y²]` (for a unary node `[v̄·φ'', 0, 0, 0]`):
    /// the second-order terms, the same for every chunk.
    scaled: Vec<[T; 4]>,
    /// Whether any of them is non-zero.
    curved: Vec<bool>,
    /// Whether the node's tangent is read: by a node with curvature, or on the way to one
    /// (the others, such as the running sum of a function's terms, need only their flags).
    needed: Vec<bool>,
    /// For each input, the first node that reads it (the tape's length if none does): no
    /// node below it depends on that input.
    first_use: Vec<usize>,
    /// Number of inputs (nodes `1..=n`).
    n: usize,
}

impl<'a, T: Float + nalgebra::Scalar, const N: usize> Sweeps<'a, T, N>
where
    DualVec<T, N>: TapeScalar,
{
    /// Reads the partials and second partials off a local recording's tape and sweeps it
    /// once for the first-order adjoints of the output `y` (node index).
    fn new(tape: &'a Tape<DualVec<T, N>>, n: usize, y: u32) -> Self {
        let (parents, recorded) = tape.nodes();
        let len = parents.len();
        let partials: Vec<[T; 2]> = recorded
            .iter()
            .map(|[dx, dy]| [dx.value(), dy.value()])
            .collect();
        let mut adjoint = vec![T::zero(); len];
        adjoint[y as usize] = T::one();
        for i in (n + 1..=y as usize).rev() {
            let a = adjoint[i];
            if a.is_zero() {
                continue;
            }
            for (&p, &w) in parents[i].iter().zip(&partials[i]) {
                // A zero partial contributes nothing, even against an infinite adjoint.
                if !w.is_zero() {
                    adjoint[p as usize] = adjoint[p as usize] + a * w;
                }
            }
        }
        let mut scaled = Vec::with_capacity(len);
        let mut curved = Vec::with_capacity(len);
        for ((&[_, p1], [dx, dy]), &a) in parents.iter().zip(recorded).zip(&adjoint) {
            let (tx, ty) = (dx.tangents(), dy.tangents());
            let h = if p1 == 0 {
                // A unary node, or one variable on both sides: its partial is the sum of the
                // two operands', whose lanes add up to the second derivative.
                [tx[0] + tx[1], T::zero(), T::zero(), T::zero()]
            } else {
                [tx[0], tx[1], ty[0], ty[1]]
            };
            // A zero adjoint or second partial contributes nothing.
            let g = h.map(|h| chain_product(a, h));
            curved.push(g.iter().any(|c| !c.is_zero()));
            scaled.push(g);
        }
        let mut needed = vec![false; len];
        for i in (n + 1..len).rev() {
            if curved[i] || needed[i] {
                for &p in &parents[i] {
                    needed[p as usize] = true;
                }
            }
        }
        let mut first_use = vec![len; n];
        for (i, pair) in parents.iter().enumerate().skip(n + 1).rev() {
            for &p in pair {
                if (1..=n).contains(&(p as usize)) {
                    first_use[p as usize - 1] = i;
                }
            }
        }
        Self {
            parents,
            partials,
            adjoint,
            scaled,
            curved,
            needed,
            first_use,
            n,
        }
    }

    /// The `n × n` Hessian: per chunk of `N` inputs, the tangent sweep and the second-order
    /// adjoint sweep (module docs), given the first-order adjoints.
    fn hessian(&self) -> DMatrix<T> {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            #[allow(unsafe_code)]
            // SAFETY: `hessian_avx2` needs AVX2, which the CPU has (tested just above).
            return unsafe { self.hessian_avx2() };
        }
        self.chunks()
    }

    /// [`chunks`](Self::chunks) compiled with AVX2 enabled, chosen at run time by
    /// [`hessian`](Self::hessian): the lane loops run four `f64` (eight `f32`) wide where the
    /// baseline target's SSE2 has two (four). The results are the same bit for bit: lane-wise
    /// IEEE arithmetic either way, and no fused multiply-add (Rust never contracts `a·b + c`,
    /// and the FMA feature is not enabled). Calling it is `unsafe` outside code compiled with
    /// AVX2: the CPU must have it.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn hessian_avx2(&self) -> DMatrix<T> {
        self.chunks()
    }

    /// [`hessian`](Self::hessian)'s chunks: the sweeps of each, the Hessian's columns read off
    /// the inputs' second-order adjoints.
    #[inline(always)]
    fn chunks(&self) -> DMatrix<T> {
        let (n, len) = (self.n, self.parents.len());
        let mut hess = DMatrix::from_element(n, n, T::zero());
        let mut tangent = vec![[T::zero(); N]; len];
        let mut active = vec![false; len];
        let mut second = vec![[T::zero(); N]; len];
        let mut carries = vec![false; len];
        for start in (0..n).step_by(N) {
            let width = N.min(n - start);
            active.fill(false);
            for k in 0..width {
                active[1 + start + k] = true;
                tangent[1 + start + k] = [T::zero(); N];
                tangent[1 + start + k][k] = T::one();
            }
            // No node below the first one reading a seeded input depends on the chunk.
            let from = self.first_use[start..start + width]
                .iter()
                .copied()
                .min()
                .unwrap_or(len);
            let top = self.tangent_sweep(from, &mut tangent, &mut active);
            self.second_order_sweep(from, top, &tangent, &active, &mut second, &mut carries);
            for j in 0..n {
                for k in 0..width {
                    hess[(j, start + k)] = second[1 + j][k];
                }
                second[1 + j] = [T::zero(); N];
                carries[1 + j] = false;
            }
            second[0] = [T::zero(); N];
            carries[0] = false;
        }
        hess
    }

    /// `v̇ = ∂φ/∂x·ẋ + ∂φ/∂y·ẏ` for every node from `from` on, given the inputs' tangents;
    /// `active` marks the nodes that depend on the seeded inputs (the others' tangents, and
    /// those of nodes not [`needed`](Self::needed), are stale and never read; every flag below
    /// `from` but the inputs' is false). Returns one past
    /// the last node with curvature along the chunk (where the second-order adjoints start).
    #[inline(always)]
    fn tangent_sweep(&self, from: usize, tangent: &mut [[T; N]], active: &mut [bool]) -> usize {
        let mut top = from;
        for i in from..self.parents.len() {
            let [p0, p1] = self.parents[i];
            let (a0, a1) = (active[p0 as usize], active[p1 as usize]);
            active[i] = a0 || a1;
            if !active[i] {
                continue;
            }
            if self.curved[i] {
                top = i + 1;
            }
            if !self.needed[i] {
                continue;
            }
            let [w0, w1] = self.partials[i];
            let (below, at) = tangent.split_at_mut(i);
            let t = &mut at[0];
            *t = [T::zero(); N];
            if a0 {
                add_scaled(t, w0, &below[p0 as usize]);
            }
            if a1 {
                add_scaled(t, w1, &below[p1 as usize]);
            }
        }
        top
    }

    /// `z̄̇ += ∂φ/∂z·v̄̇ + (v̄·∂²φ/∂z∂x)·ẋ + (v̄·∂²φ/∂z∂y)·ẏ` for each operand `z` of each node,
    /// last node first; `carries` marks the nodes whose `v̄̇` may be non-zero. The sweep starts at
    /// the last node with curvature along the chunk (below `top`: above it no node has a
    /// non-zero `v̄̇`) and stops below `from` (where no node has a tangent) once no node
    /// below is marked. Every node above the inputs is left zero.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn second_order_sweep(
        &self,
        from: usize,
        top: usize,
        tangent: &[[T; N]],
        active: &[bool],
        second: &mut [[T; N]],
        carries: &mut [bool],
    ) {
        let first = self.n + 1;
        // The lowest node above the inputs marked so far.
        let mut lowest = top;
        for i in (first..top).rev() {
            if i < from && i < lowest {
                break;
            }
            let [p0, p1] = self.parents[i];
            let (a0, a1) = (active[p0 as usize], active[p1 as usize]);
            let curved = self.curved[i] && (a0 || a1);
            let carried = carries[i];
            if !carried && !curved {
                continue;
            }
            carries[i] = false;
            let (below, at) = second.split_at_mut(i);
            let incoming = &mut at[0];
            let g = self.scaled[i];
            for (slot, &p) in [p0, p1].iter().enumerate() {
                let w = self.partials[i][slot];
                let (gx, gy) = (g[2 * slot], g[2 * slot + 1]);
                // A zero factor contributes nothing (and the sink takes no contribution).
                let by_adjoint = carried && !w.is_zero();
                let (by_x, by_y) = (curved && a0 && !gx.is_zero(), curved && a1 && !gy.is_zero());
                if !(by_adjoint || by_x || by_y) {
                    continue;
                }
                let target = &mut below[p as usize];
                if by_adjoint {
                    add_scaled(target, w, incoming);
                }
                if by_x {
                    add_scaled(target, gx, &tangent[p0 as usize]);
                }
                if by_y {
                    add_scaled(target, gy, &tangent[p1 as usize]);
                }
                carries[p as usize] = true;
                if p as usize >= first {
                    lowest = lowest.min(p as usize);
                }
            }
            *incoming = [T::zero(); N];
        }
    }
}

/// `acc += w·t` lane by lane, a zero factor contributing zero even against an infinite or NaN
/// one (the convention of [`adroit_forward::chain_product`]).
#[inline(always)]
fn add_scaled<T: Float, const N: usize>(acc: &mut [T; N], w: T, t: &[T; N]) {
    if w.is_zero() {
        return;
    }
    if w.is_finite() {
        // A finite factor times a zero lane is zero already.
        for (s, &t) in acc.iter_mut().zip(t) {
            *s = *s + w * t;
        }
    } else {
        for (s, &t) in acc.iter_mut().zip(t) {
            if !t.is_zero() {
                *s = *s + w * t;
            }
        }
    }
}
