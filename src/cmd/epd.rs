//! `opal epd`: practice and ICS opioid measures from the English Prescribing Dataset.

use std::path::PathBuf;

use anyhow::Result;

use crate::dictionary::Dictionary;
use crate::engine::epd::{self, EpdConfig};
use crate::epd::HighDose;
use crate::factors::DEFAULT_SET;
use crate::write::epd::{print_summary, write_manifest, write_outputs, EpdSettings};

/// OpenPrescribing's opioid measures for practices and ICSs, from the English Prescribing
/// Dataset.
///
/// Practice-level opioid measures from the public English Prescribing Dataset (EPD), as
/// OpenPrescribing computes them: total OME per practice and per 1000 registered patients
/// (opioidome), high-dose items per 1000 patients (opioidper1000) and as a percentage of
/// regular opioid items (opioidspercent), per month, for practices and ICSs (sums over sums).
///
/// Reads the older layout (AREA_TEAM_*, PCO_*, YEAR_MONTH like 2017_09) and the current one
/// (ICB_CODE, ICB_NAME, YEAR_MONTH like 202409, optional SNOMED code), CSV, gzip or Parquet.
/// TOTAL_QUANTITY is used (QUANTITY x ITEMS when it is absent). BNF 0410 is excluded;
/// combination products count only their opioid. Writes bnf_ome, practice_measures,
/// ics_measures, unresolved, rejected and manifest.json to --out.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  opal epd tests/data/reference/epd/epd_201709.csv \
    --list-sizes tests/data/reference/epd/gp-reg-pat-prac-quin-age_2017_09.csv --out epd-2017-09"
)]
pub struct Args {
    /// EPD files (CSV, .csv.gz or Parquet); several months are read as one.
    #[arg(value_name = "EPD_FILE", required = true)]
    files: Vec<PathBuf>,
    /// Registered list sizes (practice_code,list_size or NHS gp-reg-pat-prac-*.csv).
    #[arg(long, value_name = "FILE")]
    list_sizes: Option<PathBuf>,
    /// Practice to ICS mapping (as for audit); without it the file's ICB (or PCO) code.
    #[arg(long, value_name = "FILE")]
    practices: Option<PathBuf>,
    /// Conversion factor set: uk-fpm, openprescribing (OpenPrescribing's method exactly,
    /// patch hours included), cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    factors: String,
    /// High-dose measures at 120 mg/day (the 2025-01 versions) or 90 mg/day (current).
    #[arg(long, value_name = "MG", default_value_t = 120)]
    threshold: u32,
    #[command(flatten)]
    output: crate::cmd::OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let config = EpdConfig {
        factors: crate::read::factors::load(&args.factors)?,
        version: HighDose::from_threshold(args.threshold).map_err(crate::error::usage)?,
        practices: match args.practices.as_deref() {
            Some(path) => {
                let (map, warnings) = crate::read::reference::read_practices(path)?;
                for w in warnings {
                    eprintln!("warning: {}", crate::error::escape(&w));
                }
                Some(map)
            }
            None => None,
        },
        list_sizes: args
            .list_sizes
            .as_deref()
            .map(crate::read::reference::read_list_sizes)
            .transpose()?,
    };
    let out = args
        .output
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("opal-epd"));
    crate::write::table::check_out_dir(&out, args.output.force)?;
    let (files, result) = epd::run_files(&args.files, &config, Dictionary::builtin(), 0)?;
    // Written all or nothing (write/outdir.rs).
    let staging = crate::write::outdir::Staging::create(&out)?;
    let written = write_outputs(staging.path(), &result, args.output.format)?;
    let settings = EpdSettings {
        list_sizes: args.list_sizes.as_deref(),
        practices: args.practices.as_deref(),
        format: args.output.format,
    };
    write_manifest(
        staging.path(),
        &settings,
        &files,
        &result,
        &config,
        &written,
    )?;
    staging.commit(&out, args.output.force)?;
    if !args.output.quiet {
        print_summary(&result, &config)?;
    }
    Ok(())
}
