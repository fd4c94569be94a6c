//! opal, the opioid prescribing analyser.
//!
//! The library behind the `opal` binary: the product dictionary and name parser
//! ([`dictionary`], [`names`], [`resolve`]), conversion factors ([`factors`], [`ome`]), and the
//! command-line front end ([`cli`], [`cmd`]). See `ARCHITECTURE.md` for the bird's-eye view
//! and `METHOD.md` for the clinical method.

pub mod audit;
pub mod cli;
pub mod cmd;
pub mod dictionary;
pub mod dose;
pub mod epd;
pub mod extract;
pub mod factors;
pub mod input;
pub mod interrupt;
pub mod items;
pub mod names;
pub mod ome;
pub mod output;
pub mod practices;
pub mod product;
pub mod resolve;
pub mod summary;
pub mod synth;
pub mod table;
pub mod timeline;
pub mod timing;
pub mod values;
