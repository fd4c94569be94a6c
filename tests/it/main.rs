//! opal's integration tests, one binary (linking opal, and so polars, once rather than seven
//! times): a module per area.
#![allow(clippy::unwrap_used)]

mod audit;
mod chunks;
mod dose;
mod epd;
mod products;
mod properties;
mod robustness;
