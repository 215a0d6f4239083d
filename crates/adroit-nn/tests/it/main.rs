//! Integration tests of `adroit-nn`, one binary with one module per concern.

mod activations;
mod classic;
mod data;
mod layers;
mod losses;
mod optimizer_reference;
mod optimizers;
mod regressions;
mod training;
mod weights;
