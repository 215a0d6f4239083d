//! Fuzz target: a byte string decoded into a random program and a point, evaluated on f64,
//! forward duals and reverse variables; nothing may panic, the values must agree, and forward
//! and reverse gradients must agree wherever both are finite.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(e) = adroit_check::scenario::check_program_bytes(data) {
        panic!("{e}");
    }
});
