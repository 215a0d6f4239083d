//! Fuzz target: sequences of correct and incorrect uses of the reverse-mode tape (stale
//! variables, variables sent to other threads, variables mixed across nested scopes,
//! long-lived pullbacks). Every misuse must panic, and every correct use must still give the
//! right gradient.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::Once;

static QUIET: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // Misuses panic by design and are caught; keep their messages out of the fuzzer's output.
    // A violation is reported by the panic below, after the hook is restored for it.
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
    if let Err(e) = adroit_check::scenario::run_tape_scenario(data) {
        let _ = std::panic::take_hook();
        panic!("{e}");
    }
});
