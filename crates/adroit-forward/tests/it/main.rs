//! Integration tests of `adroit-forward`, one binary with one module per concern.

// The tests call `gradient(|x| f(x), &x0)` on purpose: that closure form is the API promise.
#![allow(clippy::redundant_closure)]

/// `both_precisions! { name => check; … }`: a module `name` with tests `f64` and `f32` running
/// the generic `check::<T>()` of the enclosing module in each precision.
macro_rules! both_precisions {
    ($($name:ident => $check:ident;)*) => {$(
        mod $name {
            #[test]
            fn f64() {
                super::$check::<f64>();
            }
            #[test]
            fn f32() {
                super::$check::<f32>();
            }
        }
    )*};
}

mod api;
mod digamma_root_reference;
mod edges;
mod elementary;
mod erfcx;
mod erfcx_reference;
mod fixed_size;
mod functions;
mod gamma;
mod gamma_reference;
mod gammainc;
mod gammainc_reference;
mod implicit;
mod linalg;
mod linalg_second_order;
mod ln_beta;
mod ln_beta_reference;
mod log_exp;
mod log_exp_reference;
mod log_ndtr_reference;
mod matrices;
mod nan_check;
mod ndtri;
mod ndtri_reference;
mod nested;
mod normal;
mod piecewise_fd;
mod reference;
mod regressions;
mod rotations;
mod rule_branches;
mod second_order_precision;
mod simba_traits;
mod special;
mod special_reference;
mod svd;
mod symmetric_eigen_hyperdual;
mod third_order;
mod tolerance;
mod traits;
mod traits_f32;
