//! The recorded whole-matrix operations, one concept per file, each with its backward rule.

mod affine;
mod broadcast;
mod cholesky;
pub(crate) mod custom;
mod determinant;
mod diagonal;
mod extremum;
mod gather;
mod linear_solve;
mod map;
mod matmul;
mod reduce;
mod reshape;
mod scatter_add;
mod select;
mod singular_values;
mod slice;
mod softmax;
mod stop_gradient;
mod svd;
mod symmetric_eigen;
mod take;
mod take_padded;
mod transpose;
mod triangular_solve;
mod variance;
mod zip_map;

/// The dimension along which a reduction or a normalisation runs.
///
/// With the features × batch layout (one sample per column, as Flux), a per-sample softmax
/// over classes is `Along::Rows`.
///
/// The reduced dimension is kept (NumPy's and JAX's `keepdims=True`; `Along::Rows` is their
/// `axis=0`, `Along::Cols` their `axis=1`), so the result broadcasts against its input — and
/// a `rows × 1` result combined with a `1 × cols` one broadcasts to `rows × cols` without an
/// error: reduce both along the same dimension.
///
/// # Example
/// ```
/// use adroit_reverse::nalgebra;
/// use adroit_reverse::matrix::{self, Along};
/// use adroit_reverse::nalgebra::dmatrix;
///
/// let x = dmatrix![1.0, 2.0, 3.0; 4.0, 5.0, 6.0];
/// // down each column: 1 × 3; across each row: 2 × 1
/// let (by_column, _) = matrix::pullback(|m| m[0].sum_along(Along::Rows), &[x.clone()]);
/// let (by_row, _) = matrix::pullback(|m| m[0].sum_along(Along::Cols), &[x]);
/// assert_eq!((by_column, by_row), (dmatrix![5.0, 7.0, 9.0], dmatrix![6.0; 15.0]));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Along {
    /// Along the row index, down each column: one result per column (`1 × cols`).
    Rows,
    /// Along the column index, across each row: one result per row (`rows × 1`).
    Cols,
}

use crate::matrix::MatScalar;
use crate::matrix::tape::Adjoint;
use nalgebra::DMatrix;

/// `g ⊙ d` entry by entry, in `g`'s buffer, with the convention of
/// [`adroit_forward::chain_product`]: a zero on either side gives 0, never `0·∞ = NaN` (so a
/// zero cotangent contributes zero even against a NaN or infinite derivative). `d` has `g`'s
/// shape.
pub(crate) fn times_entrywise<T: MatScalar>(d: &DMatrix<T>, mut g: DMatrix<T>) -> DMatrix<T> {
    // One pass (the former finiteness scan, product and NaN scan took three): only a NaN
    // product with a zero factor departs from the plain product.
    T::tape_product_assign(d.as_slice(), g.as_mut_slice());
    g
}

/// True when `v` is exactly 1 in every part (a dual's tangents 0 too: `==` compares a dual's
/// value only, and skipping a product with `Dual(1, t)` would drop its tangent).
#[inline(always)]
fn is_one<T: MatScalar>(v: T) -> bool {
    (v - T::one()).is_zero()
}

/// A local derivative saved by an element-wise operation: the same number everywhere (linear
/// operations) or one per entry.
pub(crate) enum Partial<T> {
    /// `∂out/∂in` is this constant for every entry.
    Constant(T),
    /// `∂out/∂in` entry by entry (the output's shape).
    Matrix(DMatrix<T>),
}

impl<T: MatScalar> Partial<T> {
    /// Gives a saved matrix back to the buffer pool.
    pub(crate) fn release(self) {
        if let Partial::Matrix(m) = self {
            crate::matrix::pool::recycle(m);
        }
    }

    /// `g ⊙ partial` with the convention of [`adroit_forward::chain_product`] (a zero on
    /// either side gives 0, never `0·∞ = NaN`), computed in `g`'s buffer, skipping the work
    /// for a constant 1.
    pub(crate) fn times(&self, mut g: DMatrix<T>) -> DMatrix<T> {
        match self {
            Partial::Constant(c) if is_one(*c) => g,
            Partial::Constant(c) if c.is_zero() => {
                g.as_mut_slice().fill(T::zero());
                g
            }
            // A nonzero finite value (a dual of value 0 with a tangent goes term by term).
            Partial::Constant(c) if c.is_finite() && *c != T::zero() => {
                g *= *c;
                g
            }
            Partial::Constant(c) => g.map(|v| T::tape_product(*c, v)),
            Partial::Matrix(d) => times_entrywise(d, g),
        }
    }

    /// [`Self::times`] of a cotangent with `value` in every entry (of the partial's shape),
    /// when `value` is finite and non-zero — then each entry-wise `chain_product` is the plain
    /// product, so the saved derivative scaled by `value` is the same bit for bit. `None`
    /// otherwise (and for a non-finite constant partial): the caller writes the entries out.
    pub(crate) fn times_uniform(&self, value: T, shape: (usize, usize)) -> Option<Adjoint<T>> {
        if !self.scales_uniformly(value) {
            return None;
        }
        match self {
            // As `times` writes them: zeros, or each entry times the constant.
            Partial::Constant(c) if c.is_zero() => Some(Adjoint::Uniform {
                value: T::zero(),
                shape,
            }),
            Partial::Constant(c) if c.is_finite() => Some(Adjoint::Uniform {
                value: value * *c,
                shape,
            }),
            Partial::Constant(_) => None,
            Partial::Matrix(d) => {
                let mut out = crate::matrix::pool::overwritten(d.nrows(), d.ncols());
                for (o, &p) in out.as_mut_slice().iter_mut().zip(d.as_slice()) {
                    *o = p * value;
                }
                Some(Adjoint::Dense(out))
            }
        }
    }

    /// True when [`Self::times_uniform`] applies: `value` finite and non-zero, and the
    /// partial not a non-finite constant.
    pub(crate) fn scales_uniformly(&self, value: T) -> bool {
        let constant_ok = match self {
            Partial::Constant(c) => c.is_finite(),
            Partial::Matrix(_) => true,
        };
        // `!= 0` compares values: a dual of value 0 carrying a tangent does not scale plainly
        // (its value times an infinite partial would be NaN, where `tape_product` gives 0).
        value != T::zero() && value.is_finite() && constant_ok
    }

    /// [`Self::times_uniform`] consuming the partial: a saved matrix is scaled in its own
    /// buffer and handed on (the same products, no copy) — in a tape's last sweep.
    ///
    /// # Panics
    /// Unless [`Self::scales_uniformly`] (`value`) holds (callers test it first).
    pub(crate) fn into_times_uniform(self, value: T, shape: (usize, usize)) -> Adjoint<T> {
        assert!(
            self.scales_uniformly(value),
            "into_times_uniform: a value or partial that does not scale"
        );
        match self {
            Partial::Matrix(mut d) => {
                // A scalar loss's seed is 1, and 1·p = p exactly: no pass over the matrix.
                if !is_one(value) {
                    for p in d.as_mut_slice() {
                        *p *= value;
                    }
                }
                Adjoint::Dense(d)
            }
            constant => constant
                .times_uniform(value, shape)
                .unwrap_or_else(|| unreachable!("a constant that scales (tested above)")),
        }
    }

    /// [`Self::times`] leaving `g` as it is (for a cotangent several partials multiply): an
    /// entry-wise product is written straight into a new buffer, not into a copy of `g`.
    pub(crate) fn times_copy(&self, g: &DMatrix<T>) -> DMatrix<T> {
        let Partial::Matrix(d) = self else {
            return self.times(crate::matrix::pool::copy(g));
        };
        let mut out = crate::matrix::pool::overwritten(g.nrows(), g.ncols());
        T::tape_product_into(d.as_slice(), g.as_slice(), out.as_mut_slice());
        out
    }
}
