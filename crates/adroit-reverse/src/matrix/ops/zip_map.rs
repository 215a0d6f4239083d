//! A fused element-wise function of several matrices, recorded as one node: Julia's fused
//! broadcast `f.(a, b, c)`, differentiated as Zygote differentiates it (forward-mode duals
//! through the element function, one tangent direction per argument).

use super::Partial;
use super::broadcast::reduce_to;
use crate::matrix::pool;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use adroit_forward::DualVec;
use nalgebra::DMatrix;

/// Backward of `C = f.(A₁, …, A_K)`: `∂A_k = reduce(G ⊙ ∂f/∂a_k)`, summed over the dimensions
/// along which `A_k` was broadcast. Saves the `K` partial matrices (the result's shape).
struct ZipMap<T, const K: usize> {
    parents: [u32; K],
    shapes: [(usize, usize); K],
    partials: [Partial<T>; K],
}

impl<T: MatScalar, const K: usize> Backward<T> for ZipMap<T, K> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        let last = (0..K).rev().find(|&k| grads.wants(self.parents[k]));
        let Some(last) = last else { return };
        for k in 0..last {
            if grads.wants(self.parents[k]) {
                let d = reduce_to(self.partials[k].times(pool::copy(&g)), self.shapes[k]);
                grads.accumulate(self.parents[k], d);
            }
        }
        let d = reduce_to(self.partials[last].times(g), self.shapes[last]);
        grads.accumulate(self.parents[last], d);
    }

    fn release(self: Box<Self>) {
        self.partials.into_iter().for_each(Partial::release);
    }
}

/// The broadcast shape of `shapes` (each dimension equal or 1, NumPy's rule).
#[track_caller]
fn broadcast_shapes<const K: usize>(shapes: &[(usize, usize); K]) -> (usize, usize) {
    let dim = |pick: fn(&(usize, usize)) -> usize| {
        let n = shapes.iter().map(pick).find(|&n| n != 1).unwrap_or(1);
        shapes
            .iter()
            .all(|s| pick(s) == n || pick(s) == 1)
            .then_some(n)
    };
    match (dim(|s| s.0), dim(|s| s.1)) {
        (Some(rows), Some(cols)) => (rows, cols),
        _ => {
            let list: Vec<String> = shapes.iter().map(|&s| shape_str(s)).collect();
            panic!(
                "zip_map: shape mismatch {} (each dimension must be equal or 1)",
                list.join(" vs ")
            )
        }
    }
}

impl<T: MatScalar> MatVar<T> {
    /// Applies the element function `f` to `K` matrices entry by entry, as one fused node:
    /// `C[i, j] = f(A₁[i, j], …, A_K[i, j])`, with NumPy broadcasting (each dimension of each
    /// input equal to the result's or 1; a `1 × 1` input is a scalar, a column vector is
    /// repeated across the columns).
    ///
    /// `f` is ordinary scalar code, typically a function written once for
    /// `num_traits::Float`; it is called once per entry on [`DualVec`]s carrying one tangent
    /// direction per input (input `k` is seeded in direction `k`), so a single pass gives the
    /// value and every partial `∂f/∂a_k`. The backward pass is `K` element-wise products. This
    /// is Julia's fused broadcast `f.(a, b)` and Zygote's rule for it (dual numbers through the
    /// fused function), and it is how array code runs fast here: a chain of element-wise
    /// operations costs one node and one pass over memory, not one node per operation. Partial
    /// derivatives follow the shared rules' edge conventions, and a zero partial against an
    /// infinite cotangent gives 0 (see [`adroit_forward::chain_product`]).
    ///
    /// `f` is called once per entry: when it is a function of its own, mark it `#[inline]` so
    /// the compiler can inline it into the loop (a call per entry with the duals passed in
    /// memory cost 107 µs against 68 µs inlined for the Rosenbrock gradient below at 10⁴
    /// entries, `--bench reverse`, BENCHMARKS.md §1).
    ///
    /// Only first derivatives flow through the node. `f` must not call matrix operations on
    /// the same element type (they panic: that tape is busy recording this node).
    ///
    /// `inputs`: `K ≥ 1` matrices (`K = 0` fails when the call is compiled to machine code, by
    /// `cargo build`, not `cargo check`); the result has the broadcast shape.
    ///
    /// # Panics
    /// If the shapes do not broadcast (the message lists them all).
    ///
    /// # Example
    /// The extended Rosenbrock function `Σᵢ 100(bᵢ − aᵢ²)² + (1 − aᵢ)²` over the pairs
    /// `(aᵢ, bᵢ) = (x₂ᵢ, x₂ᵢ₊₁)`, its term written once for any `Float`:
    /// ```
    /// use adroit_reverse::nalgebra::DMatrix;
    /// use adroit_reverse::matrix::{self, MatVar};
    /// use adroit_reverse::num_traits::Float;
    ///
    /// #[inline]
    /// fn term<S: Float>(a: S, b: S) -> S {
    ///     let hundred = S::from(100.0).unwrap();
    ///     let (u, v) = (b - a * a, S::one() - a);
    ///     hundred * u * u + v * v
    /// }
    ///
    /// let x = DMatrix::from_vec(4, 1, vec![-1.2, 1.0, 0.5, 0.25]);
    /// let g = matrix::gradient(
    ///     |m| {
    ///         let pairs = m[0].reshape(2, 2); // column i = (x₂ᵢ, x₂ᵢ₊₁)
    ///         MatVar::zip_map([pairs.rows(0, 1), pairs.rows(1, 1)], |[a, b]| term(a, b)).sum()
    ///     },
    ///     &[x],
    /// );
    /// // ∂/∂a = −400a(b − a²) − 2(1 − a), ∂/∂b = 200(b − a²)
    /// let expected = [-215.6, -88.0, -1.0, 0.0];
    /// for (got, want) in g[0].iter().zip(expected) {
    ///     assert!((got - want).abs() < 1e-12);
    /// }
    /// ```
    #[track_caller]
    pub fn zip_map<const K: usize, F>(inputs: [Self; K], f: F) -> Self
    where
        F: Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
    {
        const { assert!(K > 0, "zip_map needs at least one input") };
        let shapes = inputs.map(|m| m.shape());
        let shape = broadcast_shapes(&shapes);
        let parents = inputs.map(|m| m.index());
        Self::nary_op(inputs, |values| {
            let (value, partials) = evaluate(values, shape, &f);
            let backward = ZipMap {
                parents,
                shapes,
                partials: partials.map(Partial::Matrix),
            };
            (value, Box::new(backward))
        })
    }
}

/// The values and the `K` partial matrices of `f` over the broadcast `shape`.
fn evaluate<T: MatScalar, const K: usize>(
    values: [&DMatrix<T>; K],
    (rows, cols): (usize, usize),
    f: &impl Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
) -> (DMatrix<T>, [DMatrix<T>; K]) {
    // Every entry of the value and the partials is written below.
    let mut value = pool::overwritten(rows, cols);
    let mut partials: [DMatrix<T>; K] = core::array::from_fn(|_| pool::overwritten(rows, cols));
    {
        let out = value.as_mut_slice();
        let mut d = partials.each_mut().map(|m| m.as_mut_slice());
        let mut put = |at: usize, args: [T; K]| {
            let y = f(core::array::from_fn(|k| DualVec::variable(args[k], k)));
            out[at] = y.value();
            for (d, t) in d.iter_mut().zip(y.tangents()) {
                d[at] = t;
            }
        };
        if values.iter().all(|m| m.shape() == (rows, cols)) {
            let slices = values.map(|m| m.as_slice());
            #[allow(clippy::needless_range_loop)] // `at` indexes all K slices
            for at in 0..rows * cols {
                put(at, core::array::from_fn(|k| slices[k][at]));
            }
        } else {
            for j in 0..cols {
                for i in 0..rows {
                    let arg = |m: &DMatrix<T>| {
                        let (r, c) = m.shape();
                        m[(if r == 1 { 0 } else { i }, if c == 1 { 0 } else { j })]
                    };
                    put(j * rows + i, core::array::from_fn(|k| arg(values[k])));
                }
            }
        }
    }
    (value, partials)
}
