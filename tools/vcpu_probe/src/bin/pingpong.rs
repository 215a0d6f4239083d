//! Core-to-core round trip: two threads hand one cache line back and forth 2·10⁵ times and
//! the mean round trip is printed (tens of ns between cores sharing a cache, hundreds across
//! dies or sockets).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static TURN: AtomicU64 = AtomicU64::new(0);

/// Spins until `TURN` holds `value`.
fn wait_for(value: u64) {
    while TURN.load(Ordering::Acquire) != value {
        std::hint::spin_loop();
    }
}

fn main() {
    let rounds = 200_000u64;
    let partner = std::thread::spawn(move || {
        for i in 0..rounds {
            wait_for(2 * i + 1);
            TURN.store(2 * i + 2, Ordering::Release);
        }
    });
    let start = Instant::now();
    for i in 0..rounds {
        TURN.store(2 * i + 1, Ordering::Release);
        wait_for(2 * i + 2);
    }
    let elapsed = start.elapsed();
    partner.join().expect("the partner thread panicked");
    println!(
        "round trip {:.0} ns",
        elapsed.as_nanos() as f64 / rounds as f64
    );
}
