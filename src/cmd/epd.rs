//! `opal epd`: practice and ICS opioid measures from the English Prescribing Dataset.

use std::path::PathBuf;

use anyhow::Result;

use crate::dictionary::Dictionary;
use crate::engine::epd::{self, EpdConfig, EpdTrendOptions};
use crate::epd::HighDose;
use crate::factors::DEFAULT_SET;
use crate::write::epd::{print_summary, write_run, EpdSettings};

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
/// ics_measures, unresolved, rejected and manifest.json to --out, and over the months read:
/// deciles and ranks (national, as OpenPrescribing computes them), spc and aims (XmR charts
/// and aims of every practice, PCN, ICS and England, as `opal trend`), practices (the months
/// each practice has rows), and with --report a page for England and one per ICS.
/// Any number of months, in any order; a month given twice is an error.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  opal epd tests/data/reference/epd/epd_201709.csv \
    --list-sizes tests/data/reference/epd/gp-reg-pat-prac-quin-age_2017_09.csv --out epd-2017-09\n  \
    opal epd epd_2024*.csv.gz --list-sizes list_2024_04.csv --list-sizes list_2024_07.csv \
    --practices gp-reg-pat-prac-map.csv --report --charts england,ics --out epd-2024"
)]
pub struct Args {
    /// EPD files (CSV, .csv.gz or Parquet); several months are read as one.
    #[arg(value_name = "EPD_FILE", required = true)]
    files: Vec<PathBuf>,
    /// Registered list sizes (practice_code,list_size or NHS gp-reg-pat-prac-*.csv), one
    /// file, or the option once a month: each NHS file serves the month of its EXTRACT_DATE, a month with
    /// none the nearest earlier file (the manifest says which).
    #[arg(long, value_name = "FILE")]
    list_sizes: Vec<PathBuf>,
    /// Practice to ICS mapping (as for audit); without it the file's ICB (or PCO) code.
    #[arg(long, value_name = "FILE")]
    practices: Option<PathBuf>,
    /// CCG to STP (ICS) lookup, for years before ICBs: ONS's CCG18CDH,STP18CD,STP18NM file
    /// (any year) or ccg_code,ics_code,ics_name. The older layout's PCO code, or the practices
    /// file's commissioner, is mapped through it.
    #[arg(long, value_name = "FILE")]
    ics_map: Option<PathBuf>,
    /// Conversion factor set: uk-fpm, openprescribing (OpenPrescribing's method exactly,
    /// patch hours included), cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    factors: String,
    /// High-dose measures at 120 mg/day (the 2025-01 versions) or 90 mg/day (current).
    #[arg(long = "threshold", value_name = "MG", default_value_t = 120)]
    threshold_mg_day: u32,
    /// Months the SPC limits are computed from, fixed after them (YYYY-MM..YYYY-MM), and the
    /// aims' baseline [default: limits from every month; the aims' baseline the first 12].
    #[arg(long, value_name = "FROM..TO")]
    baseline: Option<String>,
    /// Recalculate every chart's limits from this month on (YYYY-MM; several separated by
    /// commas), after a known change in the process, as `opal trend --rebase` does.
    #[arg(long, value_name = "MONTH", value_delimiter = ',')]
    rebase: Vec<String>,
    /// The aim for high-dose items per 1000: a reduction of this many percent from the
    /// baseline (0 to 100).
    #[arg(long = "aim-reduction", value_name = "PERCENT", default_value_t = 50.0,
          value_parser = crate::cmd::ranges::percent)]
    aim_reduction_pct: f64,
    /// Screen out moving ranges of at least 3.267 times their mean before setting the limits
    /// (as NHSRplotthedots does by default).
    #[arg(long)]
    screen_outliers: bool,
    /// Also write report/: England's page and one page per ICS (a sortable table of its
    /// practices, every practice's XmR chart, and each practice against the national
    /// deciles), self-contained HTML with the charts inside.
    #[arg(long)]
    report: bool,
    /// Also write charts/: SVG files of the XmR chart and the chart against the national
    /// deciles for every series of these levels (england, ics, pcn, practice), with
    /// charts/index.csv. The report holds every chart without them.
    #[arg(long, value_name = "LEVEL,...", value_delimiter = ',',
          value_parser = ["england", "ics", "pcn", "practice"])]
    charts: Vec<String>,
    #[command(flatten)]
    output: crate::cmd::OutputArgs,
}

pub fn run(args: Args) -> Result<()> {
    let config = EpdConfig {
        factors: crate::read::factors::load(&args.factors)?,
        version: HighDose::from_threshold(args.threshold_mg_day)
            .map_err(crate::error::usage_problem)?,
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
        ics_map: args
            .ics_map
            .as_deref()
            .map(crate::read::reference::read_ics_map)
            .transpose()?,
        list_sizes: if args.list_sizes.is_empty() {
            None
        } else {
            Some(crate::read::reference::read_list_size_files(
                &args.list_sizes,
            )?)
        },
    };
    let out = args
        .output
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("opal-epd"));
    crate::write::table::check_out_dir(&out, args.output.force)?;
    let options = EpdTrendOptions {
        baseline: args.baseline.as_deref().map(baseline).transpose()?,
        aim_fraction: args.aim_reduction_pct / 100.0,
        screen_outliers: args.screen_outliers,
        rebase: args.rebase.iter().map(|m| m.trim().to_string()).collect(),
    };
    let (files, result) = epd::run_files(&args.files, &config, Dictionary::builtin(), 0)?;
    let trend = epd::trend(&result, &config, &options)?;
    if let Some(map) = &config.ics_map {
        let unmapped = epd::unmapped_ics(&result, map);
        if !unmapped.is_empty() {
            eprintln!(
                "warning: {} ICS code(s) are not in --ics-map and are kept as they are: {}",
                unmapped.len(),
                crate::error::escape(&unmapped.join(", "))
            );
        }
    }
    let what = EpdSettings {
        list_sizes: &args.list_sizes,
        practices: args.practices.as_deref(),
        ics_map: args.ics_map.as_deref(),
        format: args.output.format,
        report: args.report,
        charts: &args.charts,
    };
    write_run(
        &out,
        args.output.force,
        &what,
        &files,
        &result,
        &trend,
        &config,
    )?;
    if !args.output.quiet {
        print_summary(&result, &config)?;
        crate::write::epd_trend::print_summary(&trend)?;
    }
    Ok(())
}

/// `--baseline FROM..TO` as two `YYYY-MM` months.
fn baseline(text: &str) -> Result<(String, String)> {
    let month = |m: &str| crate::epd::normalise_month(m).filter(|n| n == m.trim());
    match text.split_once("..") {
        Some((a, z)) => match (month(a), month(z)) {
            (Some(a), Some(z)) => Ok((a, z)),
            _ => Err(bad_baseline(text)),
        },
        None => Err(bad_baseline(text)),
    }
}

fn bad_baseline(text: &str) -> anyhow::Error {
    crate::error::usage(format!(
        "--baseline '{}': write it as FROM..TO, e.g. --baseline 2024-04..2025-03",
        crate::error::escape(text)
    ))
}
