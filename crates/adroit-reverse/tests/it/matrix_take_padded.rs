//! `take_rows_padded`: values and gradients against the same gather written as a product with
//! a 0/1 selection matrix plus the fill, finite differences, a Hessian, a fill of −∞ under a
//! maximum, and out-of-range indices.

use crate::matrices::matrix;
use crate::matrix_linear_solve::{differences, gradient_differences};
use crate::misuse::panic_message;
use adroit_reverse::matrix::{self, Along, MatScalar, MatVar};
use nalgebra::DMatrix;

/// Repeats, a never-taken row (2) and fills.
const INDICES: [Option<usize>; 7] = [Some(3), None, Some(0), Some(3), Some(1), None, Some(0)];

/// `Σ wᵢⱼ·sin(mᵢⱼ)` with `wᵢⱼ = i + 3j − 2.5`: a loss in which every entry matters
/// differently (also the scatter tests').
pub(crate) fn weighted_sin_sum<T: MatScalar>(m: MatVar<T>) -> MatVar<T> {
    let w = DMatrix::from_fn(m.nrows(), m.ncols(), |i, j| {
        T::from_f64((i + 3 * j) as f64 - 2.5).unwrap()
    });
    m.map(num_traits::Float::sin)
        .component_mul(MatVar::constant(w))
        .sum()
}

/// A loss through the padded gather.
fn loss<T: MatScalar>(m: MatVar<T>, fill: f64) -> MatVar<T> {
    weighted_sin_sum(m.take_rows_padded(&INDICES, T::from_f64(fill).unwrap()))
}

#[test]
fn values_and_gradients_match_a_selection_product_and_differences() {
    let x = matrix(4, 3, 0.4);
    let fill = 0.7;
    let (value, g) = matrix::value_and_gradient(|m| loss(m[0], fill), &[&x]);
    // The same gather as S·x + f, S the 7 × 4 selection, f the fill on the rows of `None`.
    let s = DMatrix::from_fn(7, 4, |k, i| f64::from(u8::from(INDICES[k] == Some(i))));
    let f = DMatrix::from_fn(7, 3, |k, _| if INDICES[k].is_none() { fill } else { 0.0 });
    let (value_product, g_product) = matrix::value_and_gradient(
        |m| {
            weighted_sin_sum(MatVar::constant(s.clone()).matmul(m[0]) + MatVar::constant(f.clone()))
        },
        &[&x],
    );
    assert!((value - value_product).abs() < 1e-13);
    assert!((&g[0] - &g_product[0]).amax() < 1e-14);
    assert!(
        g[0].row(2).iter().all(|&v| v == 0.0),
        "row 2 is never taken"
    );
    let fd = differences(
        |p| matrix::value_and_gradient(|m| loss(m[0], fill), &[p]).0,
        &x,
    );
    assert!((&g[0] - fd).amax() < 1e-8);
}

#[test]
fn hessian_matches_differences_of_the_gradient() {
    let x = matrix(4, 2, 0.9);
    let h = matrix::hessian(|m| loss(m[0], -0.3), std::slice::from_ref(&x));
    let fd = gradient_differences(|m| loss(m[0], -0.3), &x);
    assert!((&h - &fd).amax() < 1e-7 * h.amax().max(1.0));
}

#[test]
fn a_negative_infinite_fill_never_wins_a_maximum() {
    // Windows of two over three rows with one −∞ pad each side, as a max pool pads.
    let x = DMatrix::from_column_slice(3, 2, &[-5.0, -7.0, -6.0, 1.0, 3.0, 2.0]);
    let windows = [None, Some(0), Some(1), Some(2), Some(2), None];
    let (y, g) = matrix::pullback(
        |m| {
            m[0].take_rows_padded(&windows, f64::NEG_INFINITY)
                .reshape(2, 6)
                .max_along(Along::Rows)
        },
        std::slice::from_ref(&x),
    );
    assert_eq!(
        y,
        DMatrix::from_row_slice(1, 6, &[-5.0, -6.0, -6.0, 1.0, 3.0, 2.0])
    );
    let g = g.call(&DMatrix::from_row_slice(
        1,
        6,
        &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0],
    ));
    assert_eq!(
        g[0],
        DMatrix::from_column_slice(3, 2, &[1.0, 0.0, 6.0, 8.0, 16.0, 32.0])
    );
}

#[test]
fn empty_selections_and_out_of_range_indices() {
    let x = matrix(2, 3, 0.1);
    let (y, g) = matrix::pullback(
        |m| m[0].take_rows_padded(&[], 1.0),
        std::slice::from_ref(&x),
    );
    assert_eq!(y.shape(), (0, 3));
    assert_eq!(g.call(&DMatrix::zeros(0, 3)), vec![DMatrix::zeros(2, 3)]);
    let (y, _) = matrix::pullback(
        |m| m[0].take_rows_padded(&[None], 1.5),
        std::slice::from_ref(&x),
    );
    assert_eq!(y, DMatrix::from_element(1, 3, 1.5));
    let err = std::panic::catch_unwind(|| {
        matrix::pullback(
            |m| m[0].take_rows_padded(&[None, Some(1), Some(2)], 0.0),
            std::slice::from_ref(&x),
        );
    })
    .unwrap_err();
    assert_eq!(
        panic_message(err),
        "take_rows_padded: row index 2 (entry 2 of the indices) is out of range for a 2×3 matrix"
    );
}
