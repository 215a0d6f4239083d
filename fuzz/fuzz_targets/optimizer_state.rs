//! Fuzz target: arbitrary bytes read as an optimiser checkpoint (serde_json) by thirteen rules
//! and two compositions (see `shared/optimizer_state_check.rs`): nothing may panic, a refused step leaves the model and the
//! rule's state unchanged, an accepted one leaves the model finite.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[path = "../shared/optimizer_state_check.rs"]
mod optimizer_state_check;

fuzz_target!(|data: &[u8]| {
    optimizer_state_check::check_optimizer_bytes(data);
});
