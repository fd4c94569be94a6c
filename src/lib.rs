//! opal, the opioid prescribing analyser.
//!
//! The library behind the `opal` binary: the product dictionary and name parser
//! ([`dictionary`], [`names`], [`resolve`]), conversion factors ([`factors`], [`ome`]), and the
//! command-line front end ([`cli`], [`cmd`]). See `ARCHITECTURE.md` for the bird's-eye view
//! and `METHOD.md` for the clinical method.

// The clinical method lives in the `opal-core` crate; its modules keep their paths here.
pub use opal_core::{
    checks, dictionary, dose, item, names, ome, patient, product, resolve, settings, summary,
    timeline, values,
};

pub mod audit;
pub mod cli;
pub mod cmd;
pub mod epd;
pub mod extract;
pub mod factors;
pub mod input;
pub mod interrupt;
pub mod items;
pub mod output;
pub mod practices;
pub mod synth;
pub mod table;
pub mod timing;
pub mod write;
