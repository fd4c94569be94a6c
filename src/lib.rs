//! opal, the opioid prescribing analyser.
//!
//! The library behind the `opal` binary: the product dictionary and name parser
//! ([`dictionary`], [`names`], [`resolve`]), conversion factors ([`factors`], [`ome`]), and the
//! command-line front end ([`cli`], [`cmd`]). See `ARCHITECTURE.md` for the bird's-eye view
//! and `METHOD.md` for the clinical method.

// The clinical method lives in the `opal-core` crate; its modules keep their paths here.
pub use opal_core::{
    checks, cns, codelists, deciles, dictionary, dose, epd, epd_trend, factors, followup, item,
    names, ome, patient, problem, product, resolve, settings, spc, summary, timeline, trajectory,
    trend, values,
};

pub mod cli;
pub mod cmd;
pub mod engine;
pub mod error;
pub mod interrupt;
pub mod read;
pub mod synth;
pub mod timing;
pub mod write;
