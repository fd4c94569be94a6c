//! `opal synth`: write a synthetic extract (and its practice mapping and list sizes).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use anyhow::{Context, Result};

use crate::dictionary::Dictionary;
use crate::synth::{practices, write_extract, SynthConfig};
use crate::values::{parse_date_with, DateFormat};
use crate::write::table::write_atomically;

/// Write a synthetic patient-level extract (deterministic for a seed).
///
/// Write a realistic synthetic patient-level extract: real product names and dm+d/BNF codes
/// from the dictionary, realistic directions, repeats every ~28 days with jitter and early
/// repeats, escalations and tapers, patches, liquids, PRN co-codamol, patients starting and
/// stopping, non-opioid items, several practices in three ICSs, and a few malformed rows.
/// The same seed gives the same bytes. Patients are synthetic (SYN0000001...), never real.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  opal synth --patients 300 --months 12 --seed 7 --out extract.csv \
    --practices-out practices.csv --list-sizes-out list_sizes.csv"
)]
pub struct Args {
    /// Number of patients (1 to 100000000).
    #[arg(long, default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(1..=100_000_000))]
    patients: u64,
    /// Months of issues before the end date (1 to 600).
    #[arg(long, default_value_t = 12, value_parser = clap::value_parser!(u32).range(1..=600))]
    months: u32,
    /// Random seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Last issue date (YYYY-MM-DD).
    #[arg(long, default_value = "2026-10-31")]
    end: String,
    /// Share of rows made malformed on purpose (bad dates, zero or text quantities, no
    /// patient id): 0 to 1.
    #[arg(long, default_value_t = 0.003, value_parser = crate::cmd::ranges::fraction)]
    malformed_rate: f64,
    /// Extract to write (.csv or .csv.gz).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Also write the practice mapping (practice_code,ics_code,practice_name,ics_name).
    #[arg(long, value_name = "FILE")]
    practices_out: Option<PathBuf>,
    /// Also write list sizes (practice_code,list_size).
    #[arg(long, value_name = "FILE")]
    list_sizes_out: Option<PathBuf>,
    /// Number of practices (1 to 100000) [default: one per 60 patients, at least 6]; they
    /// are Y90001, Y90002... in three ICSs, in turn.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100_000))]
    practices: Option<u64>,
    /// Practices that bring their high-dose prescribing down over the last year (their
    /// patients above the lower strengths are stepped down at reviews, and escalate less),
    /// by code, separated by commas: Y90001,Y90004.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    reducing: Vec<String>,
}

pub fn run(args: Args) -> Result<()> {
    let end = parse_date_with(&args.end, &DateFormat("%Y-%m-%d".into()))
        .with_context(|| format!("--end '{}' is not a date (YYYY-MM-DD)", args.end))?;
    let config = SynthConfig {
        patients: args.patients,
        months: args.months,
        seed: args.seed,
        end,
        malformed_rate: args.malformed_rate,
        practices: args.practices,
        reducing: args.reducing.iter().map(|c| c.trim().to_string()).collect(),
    };
    let made = practices(&config);
    if let Some(c) = config
        .reducing
        .iter()
        .find(|c| !made.iter().any(|p| &p.code == *c))
    {
        return Err(crate::error::usage_hinted(
            format!(
                "--reducing {}: not one of the {} practices made",
                crate::error::escape(c),
                made.len()
            ),
            "the practices are Y90001, Y90002... (see --practices)",
        ));
    }
    let dict = Dictionary::builtin();
    let gz = args
        .out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    let mut rows = 0;
    write_atomically(&args.out, |w| {
        rows = if gz {
            let mut enc = flate2::write::GzEncoder::new(w, flate2::Compression::fast());
            let n = write_extract(&config, dict, &mut enc)?;
            enc.finish()?;
            n
        } else {
            write_extract(&config, dict, w)?
        };
        Ok(())
    })?;
    let practices = practices(&config);
    if let Some(path) = &args.practices_out {
        let mut w = crate::write::output::csv_writer(BufWriter::new(File::create(path)?));
        w.write_record([
            "practice_code",
            "ics_code",
            "practice_name",
            "ics_name",
            "pcn_code",
            "pcn_name",
        ])?;
        for p in &practices {
            w.write_record([
                p.code.as_str(),
                p.ics_code,
                &p.name,
                p.ics_name,
                &p.pcn_code,
                &p.pcn_name,
            ])?;
        }
        w.flush()?;
    }
    if let Some(path) = &args.list_sizes_out {
        let mut w = crate::write::output::csv_writer(BufWriter::new(File::create(path)?));
        w.write_record(["practice_code", "list_size"])?;
        for p in &practices {
            w.write_record([p.code.clone(), p.list_size.to_string()])?;
        }
        w.flush()?;
    }
    eprintln!(
        "wrote {rows} rows for {} synthetic patients to {}",
        args.patients,
        args.out.display()
    );
    Ok(())
}
