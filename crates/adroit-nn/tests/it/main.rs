//! Integration tests of `adroit-nn`, one binary with one module per concern.

mod activation_matrix;
mod activations;
mod batch_norm;
mod batch_norm_reference;
mod cast;
mod checkpoint;
mod classic;
mod data;
mod dropout_clip_progress;
mod embedding;
mod init;
mod layers;
mod loss_checks;
mod losses;
mod optimizer_compositions;
mod optimizer_reference;
mod optimizer_state;
mod optimizers;
mod regressions;
mod resume;
mod second_order;
mod skip_connection;
mod tails;
mod training;
mod validation;
mod weights;
