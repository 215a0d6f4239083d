//! Integration tests of `adroit-forward`, one binary with one module per concern.

// The tests call `gradient(|x| f(x), &x0)` on purpose: that closure form is the API promise.
#![allow(clippy::redundant_closure)]

mod api;
mod edges;
mod elementary;
mod functions;
mod linalg;
mod linalg_second_order;
mod nested;
mod piecewise_fd;
mod reference;
mod regressions;
mod tolerance;
mod traits;
mod traits_f32;
