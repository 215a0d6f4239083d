//! A fused element-wise function of several matrices, recorded as one node: Julia's fused
//! broadcast `f.(a, b, c)`, differentiated as Zygote differentiates it (forward-mode duals
//! through the element function, one tangent direction per argument).

use super::Partial;
use super::broadcast::reduce_to;
use crate::matrix::pool;
use crate::matrix::tape::{Adjoint, Backward, Grads};
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
                let d = reduce_to(self.partials[k].times_copy(&g), self.shapes[k]);
                grads.accumulate(self.parents[k], d);
            }
        }
        let d = reduce_to(self.partials[last].times(g), self.shapes[last]);
        grads.accumulate(self.parents[last], d);
    }

    fn backward_uniform(
        &self,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        // Scaled partials when the value allows it for every input (each is a saved matrix,
        // so that is when it is finite and non-zero), else the entries written out.
        let mut scaled: [Option<Adjoint<T>>; K] = core::array::from_fn(|_| None);
        for k in (0..K).filter(|&k| grads.wants(self.parents[k])) {
            match self.partials[k].times_uniform(value, shape) {
                Some(d) => scaled[k] = Some(d),
                None => {
                    scaled
                        .into_iter()
                        .flatten()
                        .for_each(|d| pool::recycle(d.into_dense()));
                    let g = Adjoint::Uniform { value, shape }.into_dense();
                    return self.backward(g, values, grads);
                }
            }
        }
        for (k, d) in scaled.into_iter().enumerate() {
            let Some(d) = d else { continue };
            let d = if self.shapes[k] == shape {
                d
            } else {
                Adjoint::Dense(reduce_to(d.into_dense(), self.shapes[k]))
            };
            grads.accumulate_adjoint(self.parents[k], d);
        }
    }

    fn release(self: Box<Self>) {
        self.partials.into_iter().for_each(Partial::release);
    }

    fn backward_uniform_once(
        self: Box<Self>,
        value: T,
        shape: (usize, usize),
        values: &[NodeValue<T>],
        grads: &mut Grads<'_, T>,
    ) {
        let wanted = |k: usize| grads.wants(self.parents[k]);
        if !(0..K)
            .filter(|&k| wanted(k))
            .all(|k| self.partials[k].scales_uniformly(value))
        {
            self.backward_uniform(value, shape, values, grads);
            self.release();
            return;
        }
        // The saved partials, scaled in their own buffers, are the contributions.
        let ZipMap {
            parents,
            shapes,
            partials,
        } = *self;
        for ((parent, to), partial) in parents.into_iter().zip(shapes).zip(partials) {
            if !grads.wants(parent) {
                partial.release();
                continue;
            }
            let d = partial.into_times_uniform(value, shape);
            let d = if to == shape {
                d
            } else {
                Adjoint::Dense(reduce_to(d.into_dense(), to))
            };
            grads.accumulate_adjoint(parent, d);
        }
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
    /// entries, `--bench reverse`, BENCHMARKS.md §1). Inlined, a function of arithmetic alone
    /// (no calls into the maths library) vectorises across entries; on x86-64 CPUs with AVX2
    /// the loop runs in a second build of it compiled for AVX2, chosen at run time, which
    /// gives the same results bit for bit.
    ///
    /// Inside `f`, the arguments' methods (`sqrt`, `max`, …) come from `num_traits::Float`:
    /// bring it into scope (`use adroit_reverse::num_traits::Float;`), or the compiler suggests
    /// unrelated traits.
    ///
    /// Under [`matrix::hvp`](crate::matrix::hvp) and [`matrix::hessian`](crate::matrix::hessian)
    /// the entries are duals and `f` runs on duals of duals, so second derivatives flow through
    /// the node too. `f` must not call matrix operations on the same element type (they panic:
    /// that tape is busy recording this node).
    ///
    /// `inputs`: `K ≥ 1` matrices (`K = 0` fails when the call is compiled to machine code, by
    /// `cargo build`, not `cargo check`); the result has the broadcast shape.
    ///
    /// # Panics
    /// If the shapes do not broadcast (the message lists them all), if `f` calls a matrix
    /// operation on the same element type, or an input is stale (see [`MatVar`]).
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
            // `f` runs on duals this crate seeds: recorded against perturbation confusion.
            let _nesting = adroit_forward::record_perturbation::<DualVec<T, K>, F>();
            let (value, partials) = evaluate_dispatched(values, shape, &f);
            let backward = ZipMap {
                parents,
                shapes,
                partials: partials.map(Partial::Matrix),
            };
            (value, Box::new(backward))
        })
    }
}

/// [`evaluate`], on x86-64 CPUs with AVX2 compiled for AVX2 (chosen at run time): the loop
/// over the entries, with `f` inlined into it, then runs four `f64` (eight `f32`) lanes wide
/// where the baseline target's SSE2 has two (four). The results are the same bit for bit:
/// lane-wise IEEE arithmetic either way, and no fused multiply-add (Rust never contracts
/// `a·b + c`, and the FMA feature is not enabled). (One latitude: `max`/`min` of `+0` and `−0`
/// may return either zero, as Rust documents for them; both builds lower them alike on x86-64,
/// and the bit-identity test includes that pair.)
fn evaluate_dispatched<T: MatScalar, const K: usize>(
    values: [&DMatrix<T>; K],
    shape: (usize, usize),
    f: &impl Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
) -> (DMatrix<T>, [DMatrix<T>; K]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[allow(unsafe_code)]
        // SAFETY: `evaluate_avx2` needs AVX2, which the CPU has (tested just above).
        return unsafe { evaluate_avx2(values, shape, f) };
    }
    evaluate(values, shape, f)
}

/// [`evaluate`] compiled with AVX2 enabled (see [`evaluate_dispatched`]); calling it is
/// `unsafe` outside code compiled with AVX2: the CPU must have it.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn evaluate_avx2<T: MatScalar, const K: usize>(
    values: [&DMatrix<T>; K],
    shape: (usize, usize),
    f: &impl Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
) -> (DMatrix<T>, [DMatrix<T>; K]) {
    evaluate(values, shape, f)
}

/// The values and the `K` partial matrices of `f` over the broadcast `shape`.
#[inline(always)]
fn evaluate<T: MatScalar, const K: usize>(
    values: [&DMatrix<T>; K],
    (rows, cols): (usize, usize),
    f: &impl Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
) -> (DMatrix<T>, [DMatrix<T>; K]) {
    // Every entry of the value and the partials is written below.
    let mut value = pool::overwritten(rows, cols);
    let mut partials: [DMatrix<T>; K] = core::array::from_fn(|_| pool::overwritten(rows, cols));
    {
        let n = rows * cols;
        let out = &mut value.as_mut_slice()[..n];
        let mut d = partials.each_mut().map(|m| &mut m.as_mut_slice()[..n]);
        let mut put = |at: usize, args: [T; K]| {
            let y = f(core::array::from_fn(|k| DualVec::variable(args[k], k)));
            out[at] = y.value();
            for (d, t) in d.iter_mut().zip(y.tangents()) {
                d[at] = t;
            }
        };
        if values.iter().all(|m| m.shape() == (rows, cols)) {
            // Every slice cut to the entry count, so that the loop runs without bounds tests.
            let slices = values.map(|m| &m.as_slice()[..n]);
            #[allow(clippy::needless_range_loop)] // `at` indexes all K slices
            for at in 0..n {
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

#[cfg(test)]
mod tests {
    use super::*;
    use num_traits::Float;

    /// Edge values and ordinary ones of both signs, every pairing of them over the columns.
    fn grid<T: MatScalar>(rows: usize, shift: usize) -> DMatrix<T> {
        let specials = [
            0.0,
            -0.0,
            1.0,
            -2.5,
            0.5,
            1e-310,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            3.75,
            -7.0,
        ];
        DMatrix::from_fn(rows, 37, |i, j| {
            let v = specials[(i * 5 + j * (shift + 1) + shift) % specials.len()];
            T::from_f64(v).unwrap_or_else(T::nan)
        })
    }

    /// Equal bit for bit, NaN payloads aside.
    fn same<T: MatScalar>(a: &DMatrix<T>, b: &DMatrix<T>) -> bool {
        a.shape() == b.shape()
            && a.iter().zip(b.iter()).all(|(x, y)| {
                (x.is_nan() && y.is_nan())
                    || x.to_f64().map(f64::to_bits) == y.to_f64().map(f64::to_bits)
            })
    }

    fn check<T: MatScalar, const K: usize>(
        values: [&DMatrix<T>; K],
        shape: (usize, usize),
        f: impl Fn([DualVec<T, K>; K]) -> DualVec<T, K>,
    ) {
        let (value, partials) = evaluate(values, shape, &f);
        let (value2, partials2) = evaluate_dispatched(values, shape, &f);
        assert!(same(&value, &value2));
        for (p, q) in partials.iter().zip(&partials2) {
            assert!(same(p, q));
        }
    }

    /// The run-time choice of the AVX2 build changes no bit of the values or partials (on a
    /// CPU without AVX2 both sides are the baseline build and the test is trivially true).
    fn dispatch_is_bit_identical<T: MatScalar>() {
        let (a, b, c) = (grid::<T>(6, 0), grid::<T>(6, 1), grid::<T>(6, 2));
        let column = grid::<T>(6, 3).columns(0, 1).into_owned();
        check([&a], (6, 37), |[x]| {
            Float::exp(x) * Float::sin(x) / (x * x + DualVec::constant(T::one()))
        });
        check([&a, &b], (6, 37), |[x, y]| {
            let hundred = DualVec::constant(T::from_f64(100.0).unwrap_or_else(T::one));
            let u = y - x * x;
            let v = DualVec::constant(T::one()) - x;
            hundred * u * u + v * v
        });
        check([&a, &b], (6, 37), |[x, y]| {
            Float::max(x, y) - Float::powf(y, x) + Float::atan2(x, y) + Float::sqrt(Float::abs(x))
        });
        check([&a, &b, &c], (6, 37), |[x, y, z]| {
            (x * y) / z + Float::tanh(z) * Float::hypot(x, y)
        });
        // Broadcasting (the loop over rows and columns).
        check([&a, &column], (6, 37), |[x, y]| x * y - y / x);
    }

    #[test]
    fn dispatch_is_bit_identical_f64() {
        dispatch_is_bit_identical::<f64>();
    }

    #[test]
    fn dispatch_is_bit_identical_f32() {
        dispatch_is_bit_identical::<f32>();
    }
}
