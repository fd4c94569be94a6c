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
    Trend(Box<cmd::trend::Args>),
}

pub use crate::error::{exit, Diagnostic};

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
        Command::Trend(args) => cmd::trend::run(*args),
    };
    match result {
        Ok(()) => exit::OK,
        Err(err) => {
            if is_broken_pipe(&err) {
                return exit::OK;
            }
            // Control characters from the input (ANSI escapes, BEL, bidi overrides) are shown
            // escaped, never sent to the terminal.
            let (text, code) = crate::error::render(&err);
            eprintln!("{text}");
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
