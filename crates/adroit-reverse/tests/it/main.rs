//! Integration tests of `adroit-reverse`, one binary with one module per concern.

// `gradient(|x| f(x), &x0)` is the API promise the tests exercise.
#![allow(clippy::redundant_closure)]

mod api;
mod buffers;
mod decompositions;
mod edges;
mod elementary;
#[path = "../../../adroit-forward/tests/it/functions.rs"]
mod functions;
mod linalg;
mod linalg_second_order;
#[path = "../../../adroit-forward/tests/it/matrices.rs"]
mod matrices;
mod matrix;
mod matrix_affine;
mod matrix_custom;
mod matrix_diagonal;
mod matrix_extremum;
mod matrix_fd;
mod matrix_kernels;
mod matrix_linear_solve;
mod matrix_pool;
mod matrix_singular_values;
mod matrix_uniform;
mod matrix_zip_map;
mod misuse;
mod piecewise;
#[path = "../../../adroit-forward/tests/it/reference.rs"]
mod reference;
mod regressions;
mod scalar_lhs;
mod special;
mod svd;
#[path = "../../../adroit-forward/tests/it/tolerance.rs"]
mod tolerance;
mod traits;
