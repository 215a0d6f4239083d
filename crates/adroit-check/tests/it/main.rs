//! Integration tests of `adroit-check`, one binary with one module per concern: the finite
//! differences themselves, the checkers, and the property suites that cross-check forward
//! mode, reverse mode and finite differences on every elementary function, on random programs
//! and on the matrix-level operations.

// `gradient(|x| f(x), &x0)` is the API promise the tests exercise.
#![allow(clippy::redundant_closure)]

mod checkers;
mod corpus;
mod decompositions;
mod elementary;
mod f32_tolerance;
mod fd;
#[path = "../../../adroit-forward/tests/it/functions.rs"]
mod functions;
mod implicit;
mod matrix;
mod matrix_gradcheck;
mod matrix_hessian_check;
mod matrix_linear_solve;
mod matrix_program;
mod matrix_vjp_check;
mod messages;
mod misconfiguration;
mod programs;
mod reverse_hessian_check;
mod review5;
