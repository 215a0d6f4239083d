//! f(x) = 3x² + 2x + 1 has f'(5) = 32, in forward and reverse mode.
//!
//! Run: `cargo run --example quickstart`.

fn main() {
    let (forward, reverse) = adroit_examples::quickstart::run();
    println!("f(x) = 3x² + 2x + 1, f'(5) = {forward} (forward mode) = {reverse} (reverse mode)");
}
