//! Command-line interface: clap types, and the one place errors become messages and exit codes.
//!
//! Exit codes (also in the README): 0 success; 1 an error (bad input file, unreadable data);
//! 2 a usage error (unknown option, bad value, a number out of range); 3 `--strict` stopped at a
//! rejected row; 130 / 143 interrupted (SIGINT / SIGTERM), partial files removed.

use std::io;

use clap::{Parser, Subcommand};

use crate::cmd;

/// opal, the opioid prescribing analyser: oral morphine equivalents (OME) from NHS primary-care
/// prescribing, patients above 120 mg/day or on opioids for more than 3 months, and practice
/// and ICS summaries.
#[derive(Debug, Parser)]
#[command(name = "opal", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Audit(Box<cmd::audit::Args>),
    Epd(cmd::epd::Args),
    Products(cmd::products::Args),
    Dose(cmd::dose::Args),
    Factors(cmd::factors::Args),
    Synth(cmd::synth::Args),
}

/// Exit codes.
pub mod exit {
    pub const OK: i32 = 0;
    pub const ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const STRICT: i32 = 3;
}

/// The documented ranges of the numeric options (README "Exit codes"): a value outside is a
/// usage error (exit 2) from clap, never a wrapped or silently clamped number.
pub mod ranges {
    /// Days options (`--long-term-days`, `--grace-days`, `--max-days-supply`): up to ten years.
    pub const MAX_DAYS: u32 = 3660;

    fn number_in(s: &str, min: f64, max: f64) -> Result<f64, String> {
        let v: f64 = s
            .trim()
            .parse()
            .map_err(|_| format!("'{}' is not a number", crate::output::escape(s)))?;
        if v.is_finite() && (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(format!("{v} is not in {min}..={max}"))
        }
    }

    /// mg of OME a day: 0 to 100,000.
    pub fn mg_per_day(s: &str) -> Result<f64, String> {
        number_in(s, 0.0, 100_000.0)
    }

    /// A number of days, fractions allowed: 1 to ten years.
    pub fn days(s: &str) -> Result<f64, String> {
        number_in(s, 1.0, f64::from(MAX_DAYS))
    }

    /// A fraction: 0 to 1.
    pub fn fraction(s: &str) -> Result<f64, String> {
        number_in(s, 0.0, 1.0)
    }
}

/// An error that carries its own exit code (for `--strict`).
#[derive(Debug)]
pub struct ExitError {
    pub code: i32,
    pub message: String,
}

impl std::fmt::Display for ExitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExitError {}

/// Parse the arguments, run the command, print any error once, return the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    crate::interrupt::install();
    let result = match cli.command {
        Command::Audit(args) => cmd::audit::run(*args),
        Command::Epd(args) => cmd::epd::run(args),
        Command::Products(args) => cmd::products::run(args),
        Command::Dose(args) => cmd::dose::run(args),
        Command::Factors(args) => cmd::factors::run(args),
        Command::Synth(args) => cmd::synth::run(args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(err) => {
            if is_broken_pipe(&err) {
                return exit::OK;
            }
            let code = err
                .downcast_ref::<ExitError>()
                .map(|e| e.code)
                .unwrap_or(exit::ERROR);
            // Control characters from the input (ANSI escapes, BEL, bidi overrides) are shown
            // escaped, never sent to the terminal.
            eprintln!("error: {}", crate::output::escape(&format!("{err:#}")));
            code
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause.downcast_ref::<csv::Error>().is_some_and(|e| {
                matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe)
            })
    })
}
