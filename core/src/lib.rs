//! opal-core: the clinical method of opal, the opioid prescribing analyser (METHOD.md).
//!
//! Products and their dictionary ([`product`], [`dictionary`], [`names`], [`resolve`]),
//! conversion factors and the OME of a unit ([`factors`], [`ome`]), dose directions
//! ([`dose`]), dates, quantities and day counts ([`values`]), and a patient's exposure timeline
//! and measures ([`timeline`]). Data in, data out: this crate reads no file, starts no thread
//! and looks at no environment — the compiler holds that, as it depends on nothing that could.

// Printing is the root package's (write/terminal.rs, cli.rs); core/clippy.toml keeps files,
// threads, the environment, processes and clocks out of reach.
#![deny(clippy::print_stdout, clippy::print_stderr)]

pub mod checks;
pub mod cns;
pub mod codelists;
pub mod deciles;
pub mod dictionary;
pub mod dose;
pub mod epd;
pub mod epd_trend;
pub mod factors;
pub mod followup;
pub mod item;
pub mod names;
pub mod ome;
pub mod patient;
pub mod problem;
pub mod product;
pub mod resolve;
pub mod settings;
pub mod spc;
pub mod summary;
pub mod timeline;
pub mod trajectory;
pub mod trend;
pub mod values;
