//! Operands and output buffers for the product kernels' tests (`small`'s and the dispatch's).

use super::Operand;
use crate::matrix::MatScalar;
use core::mem::MaybeUninit;
use nalgebra::DMatrix;

/// `rows × cols`, small integers (every product and sum below is exact, so any order of
/// summation, fused or not, gives the same entries).
pub(super) fn integers<T: MatScalar>(rows: usize, cols: usize, seed: usize) -> DMatrix<T> {
    DMatrix::from_fn(rows, cols, |i, j| {
        T::from_usize((i * 7 + j * 13 + seed * 5) % 11).unwrap_or_else(T::nan)
            - T::from_f64(5.0).unwrap_or_else(T::nan)
    })
}

/// The storage an operand equal to `x` is read from in form `form`: plain, the stored
/// transpose (read transposed), a block inside a larger NaN-filled matrix, or the transpose
/// of such a block (read as a transposed block).
pub(super) fn stored<T: MatScalar>(x: &DMatrix<T>, form: usize) -> DMatrix<T> {
    let inside = |x: &DMatrix<T>| {
        let mut big = DMatrix::from_element(x.nrows() + 3, x.ncols() + 2, T::nan());
        big.view_mut((2, 1), x.shape()).copy_from(x);
        big
    };
    match form {
        0 => x.clone(),
        1 => x.transpose(),
        2 => inside(x),
        _ => inside(&x.transpose()),
    }
}

/// The operand of `shape` that form `form` reads from `storage` (see [`stored`]).
pub(super) fn operand<T: MatScalar>(
    storage: &DMatrix<T>,
    (rows, cols): (usize, usize),
    form: usize,
) -> Operand<'_, T> {
    match form {
        0 => Operand::plain(storage),
        1 => Operand::transposed(storage),
        2 => Operand::block(storage, (2, 1), (rows, cols), false),
        _ => Operand::block(storage, (2, 1), (cols, rows), true),
    }
}

/// `m·n` output entries, each NaN until written.
pub(super) fn unwritten<T: MatScalar>(len: usize) -> Vec<MaybeUninit<T>> {
    vec![MaybeUninit::new(T::nan()); len]
}

/// The entries of a buffer every entry of which was initialised (by [`unwritten`]).
pub(super) fn entries<T: MatScalar>(m: usize, n: usize, c: Vec<MaybeUninit<T>>) -> DMatrix<T> {
    // SAFETY: `unwritten` initialised every entry (with NaN), and writers only store
    // initialised values.
    let c = c.into_iter().map(|v| unsafe { v.assume_init() });
    DMatrix::from_iterator(m, n, c)
}
