//! The large-product kernels against the definition: `matrixmultiply`'s, the `gemm` crate's
//! (with the feature) and the dispatch between them, on every operand storage.

use super::test_support::{entries, integers, operand, stored, unwritten};
use super::{Operand, dgemm, dgemm_matrixmultiply, sgemm, sgemm_matrixmultiply};
use crate::matrix::MatScalar;
use core::mem::MaybeUninit;
use nalgebra::DMatrix;

/// A product kernel: writes `a·b` into `c`.
type Kernel<T> = fn(Operand<'_, T>, Operand<'_, T>, &mut [MaybeUninit<T>]);

/// Shapes `(m, k, n)` above the tiny sizes: both orientations, a single row or column, depths
/// on either side of `gemm_crate::MAX_TRANSPOSED_LEFT_DEPTH` (the dispatch takes either kernel
/// for a transposed left operand) and beyond `gemm`'s depth block of 256.
const SHAPES: [(usize, usize, usize); 8] = [
    (17, 16, 18),
    (40, 3, 33),
    (1, 300, 40),
    (33, 300, 1),
    (24, 256, 9),
    (9, 257, 24),
    (20, 600, 12),
    (64, 64, 64),
];

/// Every kernel of `kernels` on every storage of either operand equals the definition (the
/// entries are small integers, so every order of summation is exact), every entry written
/// (the output starts NaN, which a kernel that read it would keep).
fn matches_the_definition<T: MatScalar>(kernels: &[(&str, Kernel<T>)]) {
    for (m, k, n) in SHAPES {
        let (x, y) = (integers::<T>(m, k, m), integers::<T>(k, n, n));
        let expected = &x * &y;
        for (fa, fb) in (0..4).flat_map(|fa| (0..4).map(move |fb| (fa, fb))) {
            let (sa, sb) = (stored(&x, fa), stored(&y, fb));
            for &(name, kernel) in kernels {
                let (a, b) = (operand(&sa, (m, k), fa), operand(&sb, (k, n), fb));
                let mut c = unwritten(m * n);
                kernel(a, b, &mut c);
                assert_eq!(
                    entries(m, n, c),
                    expected,
                    "{name}: {m}×{k}×{n}, storages {fa} and {fb}"
                );
            }
        }
    }
}

/// `f32` and `f64` kernels: the dispatch, `matrixmultiply`, and `gemm` (with the feature).
fn kernels_f32() -> Vec<(&'static str, Kernel<f32>)> {
    vec![
        ("dispatch", sgemm),
        ("matrixmultiply", sgemm_matrixmultiply),
        #[cfg(feature = "gemm")]
        ("gemm", |a, b, c| {
            super::gemm_crate::product(a, b, c, 0.0, 1.0)
        }),
    ]
}

/// As [`kernels_f32`].
fn kernels_f64() -> Vec<(&'static str, Kernel<f64>)> {
    vec![
        ("dispatch", dgemm),
        ("matrixmultiply", dgemm_matrixmultiply),
        #[cfg(feature = "gemm")]
        ("gemm", |a, b, c| {
            super::gemm_crate::product(a, b, c, 0.0, 1.0)
        }),
    ]
}

#[test]
fn large_products_match_the_definition_on_every_operand_storage_f32() {
    matches_the_definition(&kernels_f32());
}

#[test]
fn large_products_match_the_definition_on_every_operand_storage_f64() {
    matches_the_definition(&kernels_f64());
}

/// On every kernel a `0·∞` term makes its entry NaN and an infinite term an infinite entry,
/// as IEEE arithmetic gives them: `pullback_product` relies on the NaN to find and repair
/// such terms by the chain-product convention. Other entries stay exact.
#[test]
fn a_zero_times_infinity_term_is_nan_on_every_kernel() {
    let (m, k, n) = (40, 70, 30);
    let mut x = integers::<f32>(m, k, 1);
    x[(2, 1)] = f32::INFINITY;
    let mut y = integers::<f32>(k, n, 2);
    y.row_mut(1).fill(1.0);
    y[(1, 0)] = 0.0;
    for (name, kernel) in kernels_f32() {
        let mut c = unwritten(m * n);
        kernel(Operand::plain(&x), Operand::plain(&y), &mut c);
        let c: DMatrix<f32> = entries(m, n, c);
        assert!(c[(2, 0)].is_nan(), "{name}");
        assert_eq!(c[(2, 1)], f32::INFINITY, "{name}");
        let finite = integers::<f32>(m, k, 1).row(3) * &y;
        assert_eq!(c.row(3), finite, "{name}");
    }
}

/// The dispatch's choice with the feature: a transposed left operand goes to `gemm` up to the
/// depth limit and to `matrixmultiply` beyond it; a plain one (or a single row) always to
/// `gemm`.
#[cfg(feature = "gemm")]
#[test]
fn deep_products_with_a_transposed_left_operand_stay_on_matrixmultiply() {
    use super::gemm_crate::{MAX_TRANSPOSED_LEFT_DEPTH, takes};
    let limit = MAX_TRANSPOSED_LEFT_DEPTH;
    let (shallow, deep) = (
        DMatrix::<f32>::zeros(limit, 8),
        DMatrix::<f32>::zeros(limit + 1, 8),
    );
    assert!(takes(&Operand::transposed(&shallow)));
    assert!(!takes(&Operand::transposed(&deep)));
    assert!(takes(&Operand::plain(&deep.transpose())));
    assert!(takes(&Operand::transposed(&DMatrix::<f32>::zeros(
        limit + 1,
        1
    ))));
}
