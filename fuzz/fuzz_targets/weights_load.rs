//! Fuzz target: arbitrary bytes loaded as a safetensors weight file (see
//! `shared/weights_check.rs`): nothing may panic, a refused load leaves the model unchanged, an
//! accepted one leaves it finite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../shared/weights_check.rs"]
mod weights_check;

fuzz_target!(|data: &[u8]| {
    weights_check::check_weights_bytes(data);
});
