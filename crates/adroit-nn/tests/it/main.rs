//! Integration tests of `adroit-nn`, one binary with one module per concern.

mod activations;
mod classic;
mod layers;
mod losses;
