//! The recorded whole-matrix operations, one concept per file, each with its backward rule.

mod broadcast;
mod map;
mod matmul;
mod reduce;
mod reshape;
mod softmax;
mod transpose;

/// The dimension along which a reduction or a normalisation runs.
///
/// With the features × batch layout (one sample per column, as Flux), a per-sample softmax
/// over classes is `Along::Rows`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Along {
    /// Along the row index, down each column: one result per column (`1 × cols`).
    Rows,
    /// Along the column index, across each row: one result per row (`rows × 1`).
    Cols,
}

use crate::matrix::MatScalar;
use nalgebra::DMatrix;

/// A local derivative saved by an element-wise operation: the same number everywhere (linear
/// operations) or one per entry.
pub(crate) enum Partial<T> {
    /// `∂out/∂in` is this constant for every entry.
    Constant(T),
    /// `∂out/∂in` entry by entry (the output's shape).
    Matrix(DMatrix<T>),
}

impl<T: MatScalar> Partial<T> {
    /// `g ⊙ partial` with the convention of [`adroit_forward::chain_product`] (a zero on
    /// either side gives 0, never `0·∞ = NaN`), skipping the work for a constant 1.
    pub(crate) fn times(&self, g: &DMatrix<T>) -> DMatrix<T> {
        let product = match self {
            Partial::Constant(c) if *c == T::one() => return g.clone(),
            Partial::Constant(c) => g * *c,
            Partial::Matrix(d) => g.component_mul(d),
        };
        // The plain product is right unless a 0·∞ made a NaN: redo only then.
        if !product.iter().any(|v| v.is_nan()) {
            return product;
        }
        match self {
            Partial::Constant(c) => g.map(|v| adroit_forward::chain_product(*c, v)),
            Partial::Matrix(d) => g.zip_map(d, |v, w| adroit_forward::chain_product(w, v)),
        }
    }
}
