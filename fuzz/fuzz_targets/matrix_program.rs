//! Fuzz target: a byte string decoded into a random program of whole-matrix operations, its
//! inputs and an output cotangent; the matrix tape's value and pullback must agree with the
//! scalar tape's, and repeated or fresh recordings (reusing the pooled buffers) must give the
//! same bits.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = adroit_check::matrix_program::check_bytes(data) {
        panic!("{e}");
    }
});
