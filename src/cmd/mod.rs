//! One file per subcommand: each turns its clap arguments into a config, calls the library,
//! and writes the results.

pub mod audit;
pub mod dose;
pub mod epd;
pub mod factors;
pub mod method;
pub mod products;
pub mod synth;
pub mod trend;

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use indicatif::{ProgressBar, ProgressStyle};

/// The output options of the commands that write a folder (`audit`, `trend`, `epd`),
/// declared once.
#[derive(Debug, clap::Args)]
pub struct OutputArgs {
    /// Output folder [default: opal-audit-<audit date>, opal-trend-<last month>, opal-epd].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the outputs of an earlier run in an existing output folder: the files its
    /// manifest lists are removed first (no stale practice pack survives), files opal did not
    /// write are kept, and a symbolic link inside the folder is replaced, never written
    /// through.
    #[arg(long)]
    pub force: bool,
    /// Format of the tables written.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: crate::write::table::Format,
    /// Print nothing but warnings and errors: no progress, no summary (for batch jobs).
    #[arg(long, short)]
    pub quiet: bool,
}

/// A spinner on stderr while long work runs; hidden with `--quiet` or when stderr is not a
/// terminal (a batch job's log gets no progress lines).
pub fn spinner(quiet: bool, msg: &str) -> ProgressBar {
    if quiet || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} {msg} {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.set_message(msg.to_string());
    pb.enable_steady_tick(std::time::Duration::from_millis(120));
    pb
}

/// The end of a command that built large tables: they are left to the operating system,
/// which frees the process's memory at once when `main` returns, instead of being freed an
/// allocation at a time (at 10M rows the audit's patient ids, rows and reasons are millions of
/// small allocations: 0.5 s of the run, after every output was already in place). Only the
/// subcommands call this, as their last step; a library caller keeps its values.
pub fn leave_to_exit<T>(tables: T) {
    std::mem::forget(tables);
}

/// Today's date (UTC) as a day number.
pub fn today() -> crate::values::Day {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    crate::values::Day((secs / 86_400) as i32)
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
            .map_err(|_| format!("'{}' is not a number", crate::error::escape(s)))?;
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

    /// A percentage: 0 to 100.
    pub fn percent(s: &str) -> Result<f64, String> {
        number_in(s, 0.0, 100.0)
    }
}
