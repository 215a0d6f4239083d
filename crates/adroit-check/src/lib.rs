//! Prove derivatives right.
//!
//! - [`fd`]: finite differences of any order, with an adaptive step and Richardson
//!   extrapolation.
#![warn(missing_docs)]

pub mod fd;
