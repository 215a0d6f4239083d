//! The examples of adroit, as library functions (so the test suite runs them in a fast mode
//! and checks their outputs) with thin command-line front ends in `examples/`.
//!
//! - [`iris`]: the main job — an MLP on the Iris dataset, with a progress bar, per-epoch
//!   metrics, training curves, and a weight file reloaded into a fresh model.
//! - [`wine`]: regression of red-wine quality, compared with a published baseline.
//! - [`classic`]: the gradients of a `Dense` 3 → 2 layer, explicit, implicit and by finite
//!   differences.
//! - [`quickstart`]: f(x) = 3x² + 2x + 1 has f'(5) = 32, forward and reverse.

pub mod classic;
pub mod iris;
pub mod plot;
pub mod quickstart;
pub mod wine;

/// The error type of the examples.
pub type Error = Box<dyn std::error::Error>;

// Compile and run the README's snippets as doctests (this crate depends on every other).
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
