//! `take_columns` / `take_rows`: values, gradients with repeated and unused lines against
//! finite differences and against the same loss written with one-hot products, Hessians, and
//! out-of-range indices.

use crate::matrices::matrix;
use crate::matrix_linear_solve::{differences, gradient_differences};
use crate::misuse::panic_message;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;

/// The `n × k` one-hot matrix whose column `j` is `e_{indices[j]}`.
fn selector(n: usize, indices: &[usize]) -> DMatrix<f64> {
    DMatrix::from_fn(n, indices.len(), |i, j| {
        f64::from(u8::from(indices[j] == i))
    })
}

/// A loss through taken columns and rows, weighted so that every entry matters differently.
fn loss<T: MatScalar>(m: MatVar<T>, cols: &[usize], rows: &[usize]) -> MatVar<T> {
    let picked = m.take_columns(cols).take_rows(rows);
    let w = DMatrix::from_fn(picked.nrows(), picked.ncols(), |i, j| {
        T::from_f64((i + 2 * j) as f64 - 1.5).unwrap()
    });
    picked
        .map(num_traits::Float::sin)
        .component_mul(MatVar::constant(w))
        .sum()
}

#[test]
fn values_and_gradients_match_one_hot_products_and_differences() {
    let x = matrix(4, 5, 0.3);
    let (cols, rows) = ([4, 0, 4, 2, 4], [3, 3, 1]);
    let (value, g) = matrix::value_and_gradient(|m| loss(m[0], &cols, &rows), &[&x]);
    // The same selection as products with one-hot matrices: Rᵀ·x·C.
    let (r, c) = (selector(4, &rows), selector(5, &cols));
    let (value_product, g_product) = matrix::value_and_gradient(
        |m| {
            let picked = MatVar::constant(r.transpose())
                .matmul(m[0])
                .matmul(MatVar::constant(c.clone()));
            let w = DMatrix::from_fn(3, 5, |i, j| (i + 2 * j) as f64 - 1.5);
            picked
                .map(num_traits::Float::sin)
                .component_mul(MatVar::constant(w))
                .sum()
        },
        &[&x],
    );
    assert_eq!(value, value_product);
    assert!((&g[0] - &g_product[0]).amax() < 1e-14);
    // Column 1 and rows 0, 2 are never taken: zero gradient there, exactly.
    assert!(g[0].column(1).iter().all(|&v| v == 0.0));
    assert!(
        g[0].row(0)
            .iter()
            .chain(g[0].row(2).iter())
            .all(|&v| v == 0.0)
    );
    let fd = differences(
        |p| matrix::value_and_gradient(|m| loss(m[0], &cols, &rows), &[p]).0,
        &x,
    );
    assert!((&g[0] - fd).amax() < 1e-8);
}

#[test]
fn hessian_matches_differences_of_the_gradient() {
    let x = matrix(3, 4, 0.7);
    let h = matrix::hessian(
        |m| loss(m[0], &[3, 3, 1], &[0, 2, 0]),
        std::slice::from_ref(&x),
    );
    let fd = gradient_differences(|m| loss(m[0], &[3, 3, 1], &[0, 2, 0]), &x);
    assert!((&h - &fd).amax() < 1e-7 * h.amax().max(1.0));
}

#[test]
fn empty_selections_and_out_of_range_indices() {
    let x = matrix(2, 3, 0.1);
    let (y, g) = matrix::pullback(|m| m[0].take_columns(&[]), std::slice::from_ref(&x));
    assert_eq!(y.shape(), (2, 0));
    assert_eq!(g.call(&DMatrix::zeros(2, 0)), vec![DMatrix::zeros(2, 3)]);
    let err = std::panic::catch_unwind(|| {
        matrix::pullback(|m| m[0].take_columns(&[0, 3]), std::slice::from_ref(&x));
    })
    .unwrap_err();
    assert_eq!(
        panic_message(err),
        "take_columns: column index 3 (entry 1 of the indices) is out of range for a 2×3 matrix"
    );
    let err = std::panic::catch_unwind(|| {
        matrix::pullback(|m| m[0].take_rows(&[2]), std::slice::from_ref(&x));
    })
    .unwrap_err();
    assert!(panic_message(err).starts_with("take_rows: row index 2"));
}
