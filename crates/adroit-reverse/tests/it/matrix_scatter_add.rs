//! `scatter_add_rows`: values and gradients against the same sum written as a product with the
//! transposed 0/1 selection matrix, finite differences, a Hessian, its adjointness to
//! `take_rows_padded`, and bad indices.

use crate::matrices::matrix;
use crate::matrix_linear_solve::{differences, gradient_differences};
use crate::matrix_take_padded::weighted_sin_sum;
use crate::misuse::panic_message;
use adroit_reverse::matrix::{self, MatScalar, MatVar};
use nalgebra::DMatrix;

/// Repeats (rows 3 and 0 receive twice), a row nothing lands in (2) and dropped rows.
const INDICES: [Option<usize>; 7] = [Some(3), None, Some(0), Some(3), Some(1), None, Some(0)];

/// The 5 × 7 selection `Sᵀ`: entry `(i, k)` is 1 where `INDICES[k] = Some(i)`.
fn selection_transposed() -> DMatrix<f64> {
    DMatrix::from_fn(5, 7, |i, k| f64::from(u8::from(INDICES[k] == Some(i))))
}

/// A loss through the scatter.
fn loss<T: MatScalar>(m: MatVar<T>) -> MatVar<T> {
    weighted_sin_sum(m.scatter_add_rows(&INDICES, 5))
}

#[test]
fn values_and_gradients_match_a_selection_product_and_differences() {
    let x = matrix(7, 3, 0.4);
    let (value, g) = matrix::value_and_gradient(|m| loss(m[0]), &[&x]);
    let folded = matrix::pullback(
        |m| m[0].scatter_add_rows(&INDICES, 5),
        std::slice::from_ref(&x),
    )
    .0;
    assert!((&folded - selection_transposed() * &x).amax() < 1e-15);
    assert!(folded.row(2).iter().all(|&v| v == 0.0) && folded.row(4).iter().all(|&v| v == 0.0));
    let (value_product, g_product) = matrix::value_and_gradient(
        |m| weighted_sin_sum(MatVar::constant(selection_transposed()).matmul(m[0])),
        &[&x],
    );
    assert!((value - value_product).abs() < 1e-13);
    assert!((&g[0] - &g_product[0]).amax() < 1e-14);
    for dropped in [1, 5] {
        assert!(
            g[0].row(dropped).iter().all(|&v| v == 0.0),
            "row {dropped} is dropped"
        );
    }
    let fd = differences(|p| matrix::value_and_gradient(|m| loss(m[0]), &[p]).0, &x);
    assert!((&g[0] - fd).amax() < 1e-8);
}

#[test]
fn it_is_the_adjoint_of_the_padded_gather() {
    // ⟨take_rows_padded(u), v⟩ = ⟨u, scatter_add_rows(v)⟩ for any u (5 × 2) and v (7 × 2).
    let (u, v) = (matrix(5, 2, 0.3), matrix(7, 2, 1.1));
    let gathered = matrix::pullback(
        |m| m[0].take_rows_padded(&INDICES, 0.0),
        std::slice::from_ref(&u),
    )
    .0;
    let folded = matrix::pullback(
        |m| m[0].scatter_add_rows(&INDICES, 5),
        std::slice::from_ref(&v),
    )
    .0;
    let (left, right) = (gathered.dot(&v), u.dot(&folded));
    assert!(
        (left - right).abs() < 1e-14 * left.abs().max(1.0),
        "{left} vs {right}"
    );
    // So the pullback of one is the other.
    let (_, pullback) = matrix::pullback(
        |m| m[0].scatter_add_rows(&INDICES, 5),
        std::slice::from_ref(&v),
    );
    assert_eq!(pullback.call(&u)[0], gathered);
}

#[test]
fn hessian_matches_differences_of_the_gradient() {
    let x = matrix(7, 2, 0.9);
    let h = matrix::hessian(|m| loss(m[0]), std::slice::from_ref(&x));
    let fd = gradient_differences(|m| loss(m[0]), &x);
    assert!((&h - &fd).amax() < 1e-7 * h.amax().max(1.0));
}

#[test]
fn empty_shapes_and_bad_indices() {
    let x = matrix(2, 3, 0.1);
    let (y, g) = matrix::pullback(
        |m| m[0].scatter_add_rows(&[None, None], 4),
        std::slice::from_ref(&x),
    );
    assert_eq!(y, DMatrix::zeros(4, 3));
    assert_eq!(
        g.call(&DMatrix::from_element(4, 3, 1.0)),
        vec![DMatrix::zeros(2, 3)]
    );
    let (y, _) = matrix::pullback(
        |m| m[0].scatter_add_rows(&[Some(0), None], 1).rows(0, 0),
        std::slice::from_ref(&x),
    );
    assert_eq!(y.shape(), (0, 3));
    let message = |indices: &'static [Option<usize>], rows: usize| {
        let x = x.clone();
        panic_message(
            std::panic::catch_unwind(move || {
                matrix::pullback(
                    |m| m[0].scatter_add_rows(indices, rows),
                    std::slice::from_ref(&x),
                );
            })
            .unwrap_err(),
        )
    };
    assert_eq!(
        message(&[Some(0)], 3),
        "scatter_add_rows: 1 indices for a 2×3 matrix (one per row)"
    );
    assert_eq!(
        message(&[None, Some(3)], 3),
        "scatter_add_rows: row index 3 (entry 1 of the indices) is out of range for a 3×3 result"
    );
    assert_eq!(
        message(&[None, None], usize::MAX),
        format!(
            "scatter_add_rows: a {}×3 result has more entries than usize counts",
            usize::MAX
        )
    );
}
