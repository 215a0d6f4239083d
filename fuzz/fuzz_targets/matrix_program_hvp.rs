//! Fuzz target: a byte string decoded into a random program of whole-matrix operations, its
//! inputs, output weights and a direction; on programs without kinks, the matrix tape's
//! Hessian-vector product (`matrix::hvp`, the program recorded on dual entries) must agree with
//! the scalar tape's (`adroit_reverse::hvp` of the program written entry by entry).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = adroit_check::matrix_program::check_hvp_bytes(data) {
        panic!("{e}");
    }
});
