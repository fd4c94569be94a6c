//! One file per subcommand: each turns its clap arguments into a config, calls the library,
//! and writes the results.

pub mod audit;
pub mod dose;
pub mod epd;
pub mod factors;
pub mod products;
pub mod synth;
