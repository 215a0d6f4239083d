//! Element-wise binary operations with broadcasting (`+`, `-`, `component_mul`,
//! `component_div`, any binary rule).
//!
//! Broadcasting follows NumPy for two dimensions: each dimension of the operands must be equal
//! or 1, and a dimension of 1 is repeated. So a `rows × cols` matrix combines with a `1 × cols`
//! row vector (repeated down the rows), a `rows × 1` column vector (repeated across the
//! columns, e.g. a bias in the features × batch layout) or a `1 × 1` scalar.

use super::reduce::sum_along;
use super::{Along, Partial};
use crate::matrix::pool;
use crate::matrix::tape::{Backward, Grads};
use crate::matrix::value::NodeValue;
use crate::matrix::var::shape_str;
use crate::matrix::{MatScalar, MatVar};
use adroit_forward::rules::{self, BinaryRule};
use nalgebra::DMatrix;

/// Backward of `C = A ∘ B` (broadcast): `∂A = reduce(G ⊙ ∂C/∂A)` summed over the dimensions
/// along which `A` was repeated, likewise `∂B`. Saves the partials (constants for `+`/`-`).
struct Zip<T> {
    a: u32,
    b: u32,
    a_shape: (usize, usize),
    b_shape: (usize, usize),
    da: Partial<T>,
    db: Partial<T>,
}

impl<T: MatScalar> Backward<T> for Zip<T> {
    fn backward(&self, g: DMatrix<T>, _: &[NodeValue<T>], grads: &mut Grads<'_, T>) {
        match (grads.wants(self.a), grads.wants(self.b)) {
            (true, true) => {
                grads.accumulate(self.a, reduce_to(self.da.times_copy(&g), self.a_shape));
                grads.accumulate(self.b, reduce_to(self.db.times(g), self.b_shape));
            }
            (true, false) => grads.accumulate(self.a, reduce_to(self.da.times(g), self.a_shape)),
            (false, true) => grads.accumulate(self.b, reduce_to(self.db.times(g), self.b_shape)),
            (false, false) => {}
        }
    }

    fn release(self: Box<Self>) {
        self.da.release();
        self.db.release();
    }
}

/// Sums `g` over the dimensions in which `shape` is 1 but `g` is not (undoes broadcasting).
pub(crate) fn reduce_to<T: MatScalar>(g: DMatrix<T>, shape: (usize, usize)) -> DMatrix<T> {
    if reductions(g.shape(), shape) == (false, false) {
        return g;
    }
    let sums = reduced(&g, shape);
    pool::recycle(g);
    sums
}

/// [`reduce_to`] of a borrowed `g` (a copy when `shape` is `g`'s own): down the columns
/// first, then across the rows.
pub(super) fn reduced<T: MatScalar>(g: &DMatrix<T>, shape: (usize, usize)) -> DMatrix<T> {
    match reductions(g.shape(), shape) {
        (false, false) => pool::copy(g),
        (true, false) => sum_along(g, Along::Rows),
        (false, true) => sum_along(g, Along::Cols),
        (true, true) => {
            let rows = sum_along(g, Along::Rows);
            let sums = sum_along(&rows, Along::Cols);
            pool::recycle(rows);
            sums
        }
    }
}

/// Whether `g` (of `from`'s shape) is summed down its columns and across its rows to reach
/// `shape`: where `shape` has 1 and `from` does not.
fn reductions(from: (usize, usize), shape: (usize, usize)) -> (bool, bool) {
    (shape.0 == 1 && from.0 != 1, shape.1 == 1 && from.1 != 1)
}

/// The broadcast shape of two operands.
#[track_caller]
fn broadcast_shape(op: &str, a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    let dim = |x: usize, y: usize| match (x, y) {
        _ if x == y => Some(x),
        (1, y) => Some(y),
        (x, 1) => Some(x),
        _ => None,
    };
    match (dim(a.0, b.0), dim(a.1, b.1)) {
        (Some(r), Some(c)) => (r, c),
        _ => panic!(
            "{op}: shape mismatch {} vs {} (each dimension must be equal or 1)",
            shape_str(a),
            shape_str(b)
        ),
    }
}

/// One column of a broadcast operand: its own entries, or one entry repeated.
#[derive(Clone, Copy)]
enum Column<'a, T> {
    Entries(&'a [T]),
    Repeated(T),
}

/// Column `j` of `m` broadcast to `rows` rows (`m` is `rows × cols`, `rows × 1`, `1 × cols` or
/// `1 × 1`, as `broadcast_shape` checked).
fn column<T: Copy>(m: &DMatrix<T>, rows: usize, j: usize) -> Column<'_, T> {
    let j = if m.ncols() == 1 { 0 } else { j };
    if m.nrows() == rows && rows != 1 {
        Column::Entries(&m.as_slice()[j * rows..(j + 1) * rows])
    } else {
        Column::Repeated(m[(0, j)])
    }
}

/// Calls `f(out, a, b)` for the entries of one column of the broadcast result, `out` its
/// place in the outputs (`outs` yields one per entry), with the operands' forms matched once
/// per column: the loops run over plain slices, without bounds tests, and vectorise where `f`
/// does.
#[inline(always)]
fn for_each_in_column<T: Copy, O>(
    outs: impl Iterator<Item = O>,
    a: Column<'_, T>,
    b: Column<'_, T>,
    mut f: impl FnMut(O, T, T),
) {
    match (a, b) {
        (Column::Entries(x), Column::Entries(y)) => {
            for ((out, &x), &y) in outs.zip(x).zip(y) {
                f(out, x, y);
            }
        }
        (Column::Entries(x), Column::Repeated(y)) => {
            for (out, &x) in outs.zip(x) {
                f(out, x, y);
            }
        }
        (Column::Repeated(x), Column::Entries(y)) => {
            for (out, &y) in outs.zip(y) {
                f(out, x, y);
            }
        }
        (Column::Repeated(x), Column::Repeated(y)) => {
            for out in outs {
                f(out, x, y);
            }
        }
    }
}

/// `out += b` with `b` broadcast to `out`'s shape (`rows × 1`, `1 × cols`, `1 × 1` or
/// `out`'s own; the caller checked it).
pub(super) fn add_broadcast_in_place<T: MatScalar>(out: &mut DMatrix<T>, b: &DMatrix<T>) {
    let rows = out.nrows();
    if rows == 0 {
        return;
    }
    for (j, out) in out.as_mut_slice().chunks_exact_mut(rows).enumerate() {
        match column(b, rows, j) {
            Column::Entries(b) => out.iter_mut().zip(b).for_each(|(o, &b)| *o += b),
            Column::Repeated(b) => out.iter_mut().for_each(|o| *o += b),
        }
    }
}

/// The broadcast result's values `rule(a, b)` (of shape `(rows, cols)`), without
/// materialising a broadcast operand.
fn broadcast_values<T: MatScalar, R: BinaryRule>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    (rows, cols): (usize, usize),
    rule: R,
) -> DMatrix<T> {
    let mut value = pool::overwritten(rows, cols);
    if rows > 0 {
        for (j, out) in value.as_mut_slice().chunks_exact_mut(rows).enumerate() {
            let (x, y) = (column(a, rows, j), column(b, rows, j));
            for_each_in_column(out.iter_mut(), x, y, |v, x, y| *v = rule.eval(x, y).0);
        }
    }
    value
}

/// The broadcast result's values and both partials (each of shape `(rows, cols)`).
fn broadcast_values_and_partials<T: MatScalar, R: BinaryRule>(
    a: &DMatrix<T>,
    b: &DMatrix<T>,
    (rows, cols): (usize, usize),
    rule: R,
) -> [DMatrix<T>; 3] {
    let mut outputs: [DMatrix<T>; 3] = std::array::from_fn(|_| pool::overwritten(rows, cols));
    if rows > 0 {
        let [value, da, db] = outputs
            .each_mut()
            .map(|m| m.as_mut_slice().chunks_exact_mut(rows));
        for (j, ((v, pa), pb)) in value.zip(da).zip(db).enumerate() {
            let outs = v.iter_mut().zip(pa.iter_mut()).zip(pb.iter_mut());
            let (x, y) = (column(a, rows, j), column(b, rows, j));
            for_each_in_column(outs, x, y, |((v, pa), pb), x, y| {
                (*v, *pa, *pb) = rule.eval(x, y);
            });
        }
    }
    outputs
}

impl<T: MatScalar> MatVar<T> {
    /// `rule(a, b)` entry by entry, with broadcasting; `linear` rules (`+`, `-`) have constant
    /// partials, evaluated once.
    #[track_caller]
    fn zip<R: BinaryRule>(self, other: Self, rule: R, op: &str, linear: bool) -> Self {
        let shape = broadcast_shape(op, self.shape(), other.shape());
        let (ia, ib, sa, sb) = (self.index(), other.index(), self.shape(), other.shape());
        self.binary_op(other, |a, b| {
            let (value, da, db) = if linear {
                let (_, da, db) = rule.eval(T::zero(), T::zero());
                let value = broadcast_values(a, b, shape, rule);
                (value, Partial::Constant(da), Partial::Constant(db))
            } else {
                let [value, da, db] = broadcast_values_and_partials(a, b, shape, rule);
                (value, Partial::Matrix(da), Partial::Matrix(db))
            };
            let backward = Zip {
                a: ia,
                b: ib,
                a_shape: sa,
                b_shape: sb,
                da,
                db,
            };
            (value, Box::new(backward))
        })
    }

    /// Entry-wise product `self ⊙ other` (Hadamard), with broadcasting.
    ///
    /// # Panics
    /// If the shapes are not broadcast-compatible (the message gives both).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂A sum(A ⊙ b) = b repeated; ∂/∂b = the row sums of A (b, 2 × 1, is broadcast)
    /// let (a, b) = (dmatrix![1.0, 2.0; 3.0, 4.0], dmatrix![10.0; 20.0]);
    /// let g = matrix::gradient(|m| m[0].component_mul(m[1]).sum(), &[a, b]);
    /// assert_eq!(g[0], dmatrix![10.0, 10.0; 20.0, 20.0]);
    /// assert_eq!(g[1], dmatrix![3.0; 7.0]);
    /// ```
    #[track_caller]
    pub fn component_mul(self, other: Self) -> Self {
        self.zip(other, rules::Mul, "component_mul", false)
    }

    /// Entry-wise quotient `self ⊘ other`, with broadcasting.
    ///
    /// # Panics
    /// If the shapes are not broadcast-compatible.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// // ∂/∂A sum(A ⊘ B) = 1 ⊘ B, ∂/∂B = −A ⊘ B²
    /// let (a, b) = (dmatrix![1.0, 2.0], dmatrix![2.0, 4.0]);
    /// let g = matrix::gradient(|m| m[0].component_div(m[1]).sum(), &[a, b]);
    /// assert_eq!((g[0].clone(), g[1].clone()), (dmatrix![0.5, 0.25], dmatrix![-0.25, -0.125]));
    /// ```
    #[track_caller]
    pub fn component_div(self, other: Self) -> Self {
        self.zip(other, rules::Div, "component_div", false)
    }

    /// Any binary rule of the table entry by entry, with broadcasting (e.g. `rules::Max`,
    /// `rules::Powf`), with that rule's derivatives and edge conventions.
    ///
    /// # Panics
    /// If the shapes are not broadcast-compatible.
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::nalgebra;
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::dmatrix;
    ///
    /// use adroit_reverse::adroit_forward::rules::Max;
    /// // max(A, B): the larger side gets the cotangent, a tie splits it ½/½
    /// let (a, b) = (dmatrix![1.0, 5.0, 3.0], dmatrix![2.0, 4.0, 3.0]);
    /// let (y, pb) = matrix::pullback(|m| m[0].zip_rule(m[1], Max), &[a, b]);
    /// assert_eq!(y, dmatrix![2.0, 5.0, 3.0]);
    /// let g = pb.call(&dmatrix![1.0, 1.0, 1.0]);
    /// assert_eq!(g, vec![dmatrix![0.0, 1.0, 0.5], dmatrix![1.0, 0.0, 0.5]]);
    /// ```
    #[track_caller]
    pub fn zip_rule<R: BinaryRule>(self, other: Self, rule: R) -> Self {
        self.zip(other, rule, "zip_rule", false)
    }

    /// `max(a, b)` entry by entry, with broadcasting (JAX's `jnp.maximum`, PyTorch's
    /// `torch.maximum`; [`max`](Self::max) is the reduction): the larger side gets the
    /// cotangent, a tie splits it ½/½ (as JAX's); a NaN entry on either side gives NaN (as
    /// JAX's), with the cotangent to the other side (adroit-forward's `rules::Maximum`; JAX
    /// 0.10.2 gives both sides 0; both NaN: to `a`) — `f64::max` and `rules::Max` ignore a NaN
    /// instead.
    ///
    /// # Panics
    /// If the shapes are not broadcast-compatible (both in the message).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// // a ReLU as max(x, 0), the zero broadcast from 1 × 1: derivative ½ at the tie
    /// let zero = || matrix::MatVar::constant(dmatrix![0.0]);
    /// let g = matrix::gradient(|m| m[0].maximum(zero()).sum(), &[dmatrix![-1.0, 0.0, 2.0]]);
    /// assert_eq!(g[0], dmatrix![0.0, 0.5, 1.0]);
    /// ```
    #[track_caller]
    pub fn maximum(self, other: Self) -> Self {
        self.zip(other, rules::Maximum, "maximum", false)
    }

    /// `min(a, b)` entry by entry, with broadcasting (JAX's `jnp.minimum`; [`min`](Self::min)
    /// is the reduction): the smaller side gets the cotangent, a tie splits it ½/½; a NaN entry
    /// on either side gives NaN (as [`maximum`](Self::maximum)).
    ///
    /// # Panics
    /// If the shapes are not broadcast-compatible (both in the message).
    ///
    /// # Example
    /// ```
    /// use adroit_reverse::matrix;
    /// use adroit_reverse::nalgebra::{self, dmatrix};
    /// let (a, b) = (dmatrix![1.0, 5.0, 3.0], dmatrix![2.0, 4.0, 3.0]);
    /// let g = matrix::gradient(|m| m[0].minimum(m[1]).sum(), &[a, b]);
    /// assert_eq!(g, vec![dmatrix![1.0, 0.0, 0.5], dmatrix![0.0, 1.0, 0.5]]);
    /// ```
    #[track_caller]
    pub fn minimum(self, other: Self) -> Self {
        self.zip(other, rules::Minimum, "minimum", false)
    }
}

impl<T: MatScalar> core::ops::Add for MatVar<T> {
    type Output = Self;
    /// Entry-wise sum with broadcasting (e.g. `W·x + b` with `b` a column vector).
    #[track_caller]
    fn add(self, other: Self) -> Self {
        self.zip(other, rules::Add, "add", true)
    }
}

impl<T: MatScalar> core::ops::Sub for MatVar<T> {
    type Output = Self;
    /// Entry-wise difference with broadcasting.
    #[track_caller]
    fn sub(self, other: Self) -> Self {
        self.zip(other, rules::Sub, "sub", true)
    }
}
