//! Integration tests of `adroit-check`, one binary with one module per concern.
