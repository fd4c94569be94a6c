//! opal, the opioid prescribing analyser.
//!
//! The library behind the `opal` binary: the product dictionary and name parser
//! ([`dictionary`], [`names`], [`resolve`]), conversion factors ([`factors`], [`ome`]), and the
//! command-line front end ([`cli`], [`cmd`]). See `ARCHITECTURE.md` for the bird's-eye view
//! and `METHOD.md` for the clinical method.

pub mod cli;
pub mod cmd;
pub mod dictionary;
pub mod dose;
pub mod factors;
pub mod input;
pub mod names;
pub mod ome;
pub mod output;
pub mod product;
pub mod resolve;
