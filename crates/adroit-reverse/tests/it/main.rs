//! Integration tests of `adroit-reverse`, one binary with one module per concern.

// `gradient(|x| f(x), &x0)` is the API promise the tests exercise.
#![allow(clippy::redundant_closure)]

/// `agree_with_forward_mode! { f at [(x, y), …]; name: type; … }`: tests that the gradient,
/// forward-over-reverse Hessian and HVP of the generic two-input function `f` (written over
/// adroit-forward's `SpecialFunctions`) agree with forward mode's gradient and hyper-dual
/// Hessian at each point, in each precision, and that a mixed partial is reached. The Hessians
/// agree within 16 ε of the largest entry, or `f at [...], hessian within k;` for `k` ε.
macro_rules! agree_with_forward_mode {
    ($f:ident at $points:expr; $($name:ident: $t:ty;)*) => {
        agree_with_forward_mode! { $f at $points, hessian within 16.0; $($name: $t;)* }
    };
    ($f:ident at $points:expr, hessian within $ulps:expr; $($name:ident: $t:ty;)*) => {$(
        #[test]
        fn $name() {
            use nalgebra::DVector;
            for (x, y) in $points {
                let p: [$t; 2] = [x, y];
                let reverse = adroit_reverse::gradient(|v| $f(v), &p);
                let forward = adroit_forward::gradient(|v| $f(v), &p);
                let scale = forward.iter().fold(1.0, |m: $t, v| m.max(v.abs()));
                for (a, b) in reverse.iter().zip(&forward) {
                    let what = format!("gradient at ({x}, {y}): {reverse:?} vs {forward:?}");
                    assert!((a - b).abs() <= 4.0 * <$t>::EPSILON * scale, "{what}");
                }
                let h = adroit_reverse::hessian(|v| $f(v), &p);
                let hd = adroit_forward::hessian(|v| $f(v), &p);
                let bound = $ulps * <$t>::EPSILON * hd.iter().fold(1.0, |m: $t, v| m.max(v.abs()));
                let err = h.iter().zip(hd.iter()).fold(0.0, |m: $t, (a, b)| m.max((a - b).abs()));
                assert!(err <= bound, "Hessian at ({x}, {y}): reverse {h} hyper-dual {hd}");
                assert_ne!(h[(0, 1)], 0.0, "a mixed partial is reached");
                let v: [$t; 2] = [1.0, -1.0];
                let hv = adroit_reverse::hvp(|v| $f(v), &p, &v);
                let expected = &hd * DVector::from_column_slice(&v);
                for (a, b) in hv.iter().zip(expected.iter()) {
                    let what = format!("HVP at ({x}, {y}): {hv:?} vs {expected}");
                    assert!((a - b).abs() <= 2.0 * bound, "{what}");
                }
            }
        }
    )*};
}

mod anomaly;
mod api;
mod buffers;
mod checkpoint;
mod decompositions;
mod edges;
mod elementary;
mod folding;
#[path = "../../../adroit-forward/tests/it/functions.rs"]
mod functions;
mod gamma;
mod hessian_engine;
mod implicit;
mod linalg;
mod linalg_second_order;
mod log_exp;
#[path = "../../../adroit-forward/tests/it/matrices.rs"]
mod matrices;
mod matrix;
mod matrix_affine;
mod matrix_cholesky;
mod matrix_custom;
mod matrix_determinant;
mod matrix_diagonal;
mod matrix_evaluate;
mod matrix_extremum;
mod matrix_fd;
mod matrix_hessian;
mod matrix_kernels;
mod matrix_linear_solve;
mod matrix_pool;
mod matrix_scatter_add;
mod matrix_select;
mod matrix_singular_values;
mod matrix_svd;
mod matrix_symmetric_eigen;
mod matrix_take;
mod matrix_take_padded;
mod matrix_uniform;
mod matrix_variance;
mod matrix_zip_map;
mod misuse;
mod piecewise;
mod pushforward;
#[path = "../../../adroit-forward/tests/it/reference.rs"]
mod reference;
mod regressions;
mod scalar_lhs;
mod special;
mod svd;
#[path = "../../../adroit-forward/tests/it/tolerance.rs"]
mod tolerance;
mod traits;
