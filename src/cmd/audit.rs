//! `opal audit`: the monthly audit of patient-level extracts.

use std::collections::BTreeMap;
use std::io::{self, IsTerminal};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressStyle};

use crate::audit::{self, day_text, AuditConfig, AuditResult, PrnPolicy};
use crate::cli::{ranges, ExitError};
use crate::dictionary::Dictionary;
use crate::extract::ReadOptions;
use crate::factors::DEFAULT_SET;
use crate::items::ItemsWriter;
use crate::write::patients::{patient_order, patient_table, write_patients_csv};
use crate::write::summary::summary_table;
use polars::prelude::{Column, DataFrame, NamedFrom, PolarsResult, Series};

use crate::table::{write_parquet_blocks, write_table, Format, Table, PARQUET_BLOCK_ROWS};
use crate::timeline::{Stockpile, TimelineSettings};
use crate::values::{self, DateFormat};

/// The monthly audit: patients above the OME threshold or on opioids long-term, with practice
/// and ICS summaries.
///
/// Audit patient-level prescribing extracts: each patient's oral morphine equivalent (OME)
/// per day and time on opioids at the audit date, the patients to review (above the
/// threshold, or on opioids for more than the long-term limit) with the reasons, and practice
/// and ICS summaries.
///
/// Reads CSV (UTF-8 or Windows-1252, comma or tab), gzip CSV or Parquet; several files are
/// read as one. Writes to --out: review_list, patients, practice_summary, ics_summary, items,
/// unresolved, rejected (CSV or Parquet) and manifest.json. Patient identifiers go only to
/// those files, never to the terminal.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
    opal audit data/sample/extract.csv --practices data/sample/practices.csv --list-sizes data/sample/list_sizes.csv\n  \
    opal audit 2026-*.csv.gz --as-of 2026-10-31 --out audit-oct --suppress\n  \
    opal audit extract.csv --column patient_id=\"Patient Ref\" --date-format %d.%m.%Y\n\n\
    Exit codes: 0 done; 1 error; 2 usage; 3 --strict stopped at a rejected row; 130 interrupted.")]
pub struct Args {
    /// Extract files (CSV, .csv.gz or Parquet).
    #[arg(value_name = "EXTRACT", required = true)]
    extracts: Vec<PathBuf>,
    /// Practice to ICS mapping: practice_code,ics_code[,practice_name,ics_name], the ODS
    /// epraccur.csv, or gp-reg-pat-prac-map.csv. Without it the extract's ics_code is used,
    /// else UNKNOWN.
    #[arg(long, value_name = "FILE")]
    practices: Option<PathBuf>,
    /// Registered list sizes: practice_code,list_size or NHS gp-reg-pat-prac-*.csv; adds
    /// rates per 1000 patients.
    #[arg(long, value_name = "FILE")]
    list_sizes: Option<PathBuf>,
    /// Audit date (YYYY-MM-DD) [default: the latest issue date in the input]. Issues after
    /// it are counted and not used.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    /// Output folder [default: opal-audit-<as_of>].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the files of an existing output folder.
    #[arg(long)]
    force: bool,
    /// High dose: OME/day strictly above this many mg (0 to 100000).
    #[arg(long, value_name = "MG", default_value_t = 120.0, value_parser = ranges::mg_per_day)]
    threshold: f64,
    /// Long-term: a current episode longer than this many days (0 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(i64).range(0..=i64::from(ranges::MAX_DAYS)))]
    long_term_days: i64,
    /// Gaps of at most this many days join supplies into one episode; an episode ending at
    /// most this long before the audit date is current (0 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(0..=i64::from(ranges::MAX_DAYS)))]
    grace_days: u32,
    /// OME/day is the mean over this many days ending on the audit date (1 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 28,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ranges::MAX_DAYS)))]
    dose_window: u32,
    /// Peak OME/day is the highest day in this many days ending on the audit date (1 to
    /// 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(ranges::MAX_DAYS)))]
    lookback: u32,
    /// Days of supply when neither a duration nor the directions say (1 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 28.0, value_parser = ranges::days)]
    default_days: f64,
    /// Reject an item whose days of supply (stated, or worked out from the quantity and the
    /// directions) is above this many days: not a plausible supply (1 to 3660).
    #[arg(long, value_name = "DAYS", default_value_t = 366.0, value_parser = ranges::days)]
    max_days_supply: f64,
    /// Audit products for opioid dependence (BNF 0410, methadone oral solutions,
    /// buprenorphine 2mg and above sublingual, prolonged-release buprenorphine injections)
    /// instead of excluding them.
    #[arg(long)]
    include_dependence: bool,
    /// Which end of a PRN range sets days of supply and instructed OME.
    #[arg(long, value_enum, default_value = "max")]
    prn_policy: PrnArg,
    /// Early repeats of one product: carry forward (start when the last supply ends) or
    /// concurrent (start on issue).
    #[arg(long, value_enum, default_value = "carry")]
    stockpile: StockpileArg,
    /// Conversion factor set: uk-fpm, openprescribing, cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    factors: String,
    /// Patients to exclude (e.g. a cancer or palliative care register): a file of patient
    /// ids, one a line, or a CSV with patient_id[,reason]. They keep their rows, marked.
    #[arg(long, value_name = "FILE")]
    exclude_patients: Option<PathBuf>,
    /// Disclosure control in the summaries: counts 1-7 as *, others rounded to 5.
    #[arg(long)]
    suppress: bool,
    /// Format of the tables written.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Stop with exit code 3 at the first rejected row.
    #[arg(long)]
    strict: bool,
    /// Print nothing but warnings and errors: no progress, no summary (for batch jobs).
    #[arg(long, short)]
    quiet: bool,
    /// Map a column: --column patient_id="Patient Ref" (repeatable).
    #[arg(long = "column", value_name = "NAME=HEADER")]
    columns: Vec<String>,
    /// Date layout of issue_date, e.g. %d/%m/%Y or %m/%d/%Y [default: detected].
    #[arg(long, value_name = "FORMAT")]
    date_format: Option<String>,
}

/// `--prn-policy` (the method's [`PrnPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum PrnArg {
    /// The most units a day the directions allow (default).
    Max,
    /// The midpoint of the range.
    Mean,
    /// The fewest units a day, where above zero (else the most).
    Min,
}

impl From<PrnArg> for PrnPolicy {
    fn from(a: PrnArg) -> PrnPolicy {
        match a {
            PrnArg::Max => PrnPolicy::Max,
            PrnArg::Mean => PrnPolicy::Mean,
            PrnArg::Min => PrnPolicy::Min,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum StockpileArg {
    Carry,
    Concurrent,
}

fn spinner(quiet: bool, msg: &str) -> ProgressBar {
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

pub fn run(args: Args) -> Result<()> {
    // The ranges are clap's (exit 2); what is left is how options relate.
    let usage = |message: String| ExitError {
        code: crate::cli::exit::USAGE,
        message,
    };
    if args.max_days_supply < args.default_days {
        return Err(usage("--max-days-supply must be at least --default-days".into()).into());
    }
    let as_of = match &args.as_of {
        Some(s) => Some(
            values::parse_date_with(s, &DateFormat("%Y-%m-%d".into())).ok_or_else(|| {
                usage(format!(
                    "--as-of '{}' is not a date\nhint: write it as YYYY-MM-DD, e.g. --as-of \
                     2026-10-31",
                    crate::output::escape(s)
                ))
            })?,
        ),
        None => None,
    };
    let mut column_map = BTreeMap::new();
    for c in &args.columns {
        let Some((k, v)) = c.split_once('=') else {
            bail!(
                "--column {c}: write it as NAME=HEADER, e.g. --column patient_id=\"Patient Ref\""
            );
        };
        column_map.insert(k.trim().to_string(), v.trim().trim_matches('"').to_string());
    }
    let factors = crate::factors::load(&args.factors)?;
    let practices = args
        .practices
        .as_deref()
        .map(crate::practices::read_practices)
        .transpose()?;
    let mut practice_warnings = Vec::new();
    let config = AuditConfig {
        as_of,
        timeline: TimelineSettings {
            threshold_mg_day: args.threshold,
            long_term_days: args.long_term_days,
            grace_days: f64::from(args.grace_days),
            // Within 1..=3660 (clap), so these cannot fail.
            dose_window_days: i32::try_from(args.dose_window)?,
            lookback_days: i32::try_from(args.lookback)?,
            stockpile: match args.stockpile {
                StockpileArg::Carry => Stockpile::Carry,
                StockpileArg::Concurrent => Stockpile::Concurrent,
            },
        },
        default_days: args.default_days,
        prn_policy: args.prn_policy.into(),
        factors,
        date_format: args.date_format.clone().map(DateFormat),
        strict: args.strict,
        suppress: args.suppress,
        excluded_patients: match &args.exclude_patients {
            Some(p) => crate::practices::read_exclusions(p)?,
            None => BTreeMap::new(),
        },
        practices: match practices {
            Some((map, warnings)) => {
                practice_warnings = warnings;
                Some(map)
            }
            None => None,
        },
        list_sizes: args
            .list_sizes
            .as_deref()
            .map(crate::practices::read_list_sizes)
            .transpose()?,
        today: today(),
        include_dependence: args.include_dependence,
        max_days_supply: args.max_days_supply,
    };
    // Refuse to overwrite before doing the work, when the folder is named.
    if let Some(out) = &args.out {
        crate::table::check_out_dir(out, args.force)?;
    }

    // OPAL_TIMINGS=1 prints how long each stage took (for the benchmark harness).
    let lap = crate::timing::lap;
    lap("start");
    let read_opts = ReadOptions {
        column_map,
        chunk_bytes: 0,
    };
    // Files are read in chunks and audited as they are read, so reading and auditing are one
    // stage.
    // items.csv is written while the extracts are read, to a temporary file where the
    // output folder will be (inside --out, else here, beside opal-audit-<date>).
    let early_out = match &args.out {
        Some(out) => Some(EarlyDir::create(out)?),
        None => None,
    };
    let mut items_csv = match args.format {
        Format::Csv => {
            let dir = args.out.clone().unwrap_or_else(|| PathBuf::from("."));
            let temp = dir.join(format!(".items.csv.{}.partial", std::process::id()));
            Some(ItemsWriter::start(temp, config.clone())?)
        }
        Format::Parquet => None,
    };
    let pb = spinner(args.quiet, "reading and auditing extracts");
    let (files, mut result) = audit::read_files(
        &args.extracts,
        &read_opts,
        &config,
        Dictionary::builtin(),
        items_csv.as_mut(),
        |path: &Path| pb.set_message(format!("reading and auditing {}", path.display())),
    )?;
    pb.finish_and_clear();
    result.warnings.splice(0..0, practice_warnings);
    for f in files.iter().filter(|f| f.preamble_lines > 0) {
        result.warnings.insert(
            0,
            format!(
                "{}: {} line(s) before the header were skipped (a report's title, run date or \
                 counts); they are not rows",
                f.path, f.preamble_lines
            ),
        );
    }
    if let Some(w) = items_csv.as_mut() {
        w.close();
    }
    if !result.accounting.balanced() {
        bail!(
            "internal error: row accounting does not add up ({:?})",
            result.accounting
        );
    }

    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("opal-audit-{}", day_text(result.as_of))));
    if args.out.is_none() {
        crate::table::check_out_dir(&out, args.force)?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let pb = spinner(args.quiet, "building timelines and writing outputs");
    // items (Parquet) is written from the rows while the timelines, summaries and patient
    // lists are worked out and written; items.csv is finished meanwhile on its own thread.
    let (items, patients) = std::thread::scope(|s| {
        let (out, result, config) = (&out, &result, &config);
        let items = (args.format == Format::Parquet)
            .then(|| s.spawn(move || write_items_parquet(out, result, config)));
        let patients = (|| -> Result<_> {
            let c = audit::complete(result, config);
            let written = write_patient_outputs(out, &c, config, args.format)?;
            Ok((c, written))
        })();
        (items.map(|h| h.join()), patients)
    });
    let items = match (items, items_csv.take()) {
        (Some(Ok(written)), _) => written?,
        (Some(Err(e)), _) => std::panic::resume_unwind(e),
        (None, Some(w)) => {
            let path = w.finish(&out.join("items.csv"))?;
            crate::timing::lap("write items");
            path
        }
        (None, None) => bail!("internal error: no items output"),
    };
    let (completion, mut written) = patients?;
    result.complete_with(completion);
    written.push(items);
    written.extend(write_row_outputs(&out, &result, args.format)?);
    let refs = crate::write::manifest::Settings {
        practices: args.practices.as_deref(),
        list_sizes: args.list_sizes.as_deref(),
        exclude_patients: args.exclude_patients.as_deref(),
        format: args.format.extension(),
        date_format: args.date_format.as_deref(),
    };
    crate::write::manifest::write_audit_manifest(&out, &refs, &files, &result, &config, &written)?;
    pb.finish_and_clear();
    lap("write");
    if let Some(d) = early_out {
        d.keep();
    }

    for w in &result.warnings {
        eprintln!("warning: {}", crate::output::escape(w));
    }
    if !args.quiet {
        crate::write::terminal::print_summary(&result, &config, &out)?;
    }
    Ok(())
}

/// An output folder made before the run (items.csv is written into it as the extracts are
/// read), removed again if the run fails and leaves it empty.
struct EarlyDir {
    path: PathBuf,
    made: bool,
}

impl EarlyDir {
    fn create(path: &Path) -> Result<EarlyDir> {
        let made = !path.exists();
        std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(EarlyDir {
            path: path.to_path_buf(),
            made,
        })
    }

    fn keep(mut self) {
        self.made = false;
    }
}

impl Drop for EarlyDir {
    fn drop(&mut self) {
        if self.made {
            // Only when empty: nothing the user had is ever removed.
            let _ = std::fs::remove_dir(&self.path);
        }
    }
}

/// Today's date (UTC) as a day number.
fn today() -> crate::values::Day {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    (secs / 86_400) as crate::values::Day
}

/// review_list, patients, practice_summary and ics_summary.
fn write_patient_outputs(
    out: &Path,
    r: &audit::Completion,
    config: &AuditConfig,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let all = patient_order(&r.patients);
    crate::timing::lap("sort patients");
    match format {
        // One row per current patient, a million or more for a region: written directly.
        Format::Csv => written.extend(write_patients_csv(out, &all)?),
        Format::Parquet => {
            let review: Vec<&audit::PatientRow> =
                all.iter().copied().filter(|p| p.to_review()).collect();
            for (stem, rows, with_exclusion) in
                [("review_list", &review, false), ("patients", &all, true)]
            {
                let tables = std::iter::once(&rows[..0])
                    .filter(|_| rows.is_empty())
                    .chain(rows.chunks(PARQUET_BLOCK_ROWS))
                    .map(|block| patient_table(block, with_exclusion).into_frame());
                written.push(write_parquet_blocks(out, stem, tables)?);
            }
        }
    }
    crate::timing::lap("write patients");
    written.push(write_table(
        out,
        "practice_summary",
        &summary_table(&r.practice_summaries, false, config.suppress),
        format,
    )?);
    written.push(write_table(
        out,
        "ics_summary",
        &summary_table(&r.ics_summaries, true, config.suppress),
        format,
    )?);
    crate::timing::lap("write summaries");
    Ok(written)
}

/// items.parquet, from the rows (items.csv is written while the extracts are read).
fn write_items_parquet(out: &Path, r: &AuditResult, config: &AuditConfig) -> Result<PathBuf> {
    // A block of items at a time: a frame of one item's cells is many times its size.
    let blocks = r.items.chunks(PARQUET_BLOCK_ROWS);
    let tables = std::iter::once(&r.items[..0])
        .filter(|_| r.items.is_empty())
        .chain(blocks)
        .map(|items| items_frame(r, items, config));
    let path = write_parquet_blocks(out, "items", tables)?;
    crate::timing::lap("write items");
    Ok(path)
}

/// unresolved and rejected.
fn write_row_outputs(out: &Path, r: &AuditResult, format: Format) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let u = &r.unresolved;
    let t = Table::new()
        .text("file", u.iter().map(|x| Some(x.file.clone())).collect())
        .integer("line", u.iter().map(|x| Some(x.line as i64)).collect())
        .text(
            "practice_code",
            u.iter().map(|x| Some(x.practice_code.clone())).collect(),
        )
        .text(
            "drug_name",
            u.iter().map(|x| Some(x.drug_name.clone())).collect(),
        )
        .text(
            "dmd_code",
            u.iter().map(|x| Some(x.dmd_code.clone())).collect(),
        )
        .text(
            "bnf_code",
            u.iter().map(|x| Some(x.bnf_code.clone())).collect(),
        )
        .text("reason", u.iter().map(|x| Some(x.reason.clone())).collect());
    written.push(write_table(out, "unresolved", &t, format)?);
    let x = &r.rejected;
    let t = Table::new()
        .text("file", x.iter().map(|x| Some(x.file.clone())).collect())
        .integer("line", x.iter().map(|x| Some(x.line as i64)).collect())
        .text("column", x.iter().map(|x| Some(x.column.clone())).collect())
        .text("value", x.iter().map(|x| Some(x.value.clone())).collect())
        .text("reason", x.iter().map(|x| Some(x.reason.clone())).collect());
    written.push(write_table(out, "rejected", &t, format)?);
    Ok(written)
}

/// The items.parquet columns of some items (the columns of items.csv, typed), text cells
/// borrowed from the interned values rather than copied per item.
fn items_frame(
    r: &AuditResult,
    items: &[audit::Item],
    config: &AuditConfig,
) -> PolarsResult<DataFrame> {
    let values: Vec<audit::ItemValues> = items.iter().map(|i| r.item_values(i, config)).collect();
    let product = |i: &audit::Item| &r.products[i.product as usize];
    let lo = items.iter().map(|i| i.issue_day).min().unwrap_or(0);
    let hi = items.iter().map(|i| i.issue_day).max().unwrap_or(-1);
    let days: Vec<String> = (lo..=hi).map(day_text).collect();
    fn text_column<'a>(
        items: &[audit::Item],
        name: &str,
        f: impl Fn(&audit::Item) -> &'a str,
    ) -> Column {
        let v: Vec<&str> = items.iter().map(f).collect();
        Series::new(name.into(), v).into()
    }
    let num = |name: &str, f: &dyn Fn(&audit::Item, &audit::ItemValues) -> Option<f64>| -> Column {
        let v: Vec<Option<f64>> = items.iter().zip(&values).map(|(i, v)| f(i, v)).collect();
        Series::new(name.into(), v).into()
    };
    let int = |name: &str, f: &dyn Fn(&audit::Item) -> i64| -> Column {
        let v: Vec<i64> = items.iter().map(f).collect();
        Series::new(name.into(), v).into()
    };
    DataFrame::new_infer_height(vec![
        int("file", &|i| i64::from(i.file) + 1),
        int("line", &|i| i.line as i64),
        text_column(items, "patient_id", |i: &audit::Item| {
            &r.patient_ids[i.patient as usize]
        }),
        text_column(items, "practice_code", |i: &audit::Item| {
            &r.practice_codes[i.practice as usize]
        }),
        text_column(items, "issue_date", |i: &audit::Item| {
            &days[(i.issue_day - lo) as usize]
        }),
        text_column(items, "product_name", |i: &audit::Item| {
            &product(i).product.name
        }),
        text_column(items, "matched_by", |i: &audit::Item| product(i).matched_by),
        text_column(items, "dmd_id", |i: &audit::Item| {
            &product(i).product.dmd_id
        }),
        text_column(items, "product_key", |i: &audit::Item| {
            &product(i).product.product_key
        }),
        text_column(items, "ingredient", |i: &audit::Item| {
            &product(i).product.ingredient
        }),
        text_column(items, "route", |i: &audit::Item| {
            product(i).product.route.as_str()
        }),
        num("strength", &|i, _| Some(product(i).product.strength)),
        text_column(items, "strength_unit", |i: &audit::Item| {
            product(i).product.strength_unit.as_str()
        }),
        num("factor", &|i, _| Some(product(i).factor)),
        num("quantity", &|i, _| Some(i.quantity)),
        text_column(items, "unit", |i: &audit::Item| &product(i).product.unit),
        text_column(items, "dose_text", |i: &audit::Item| {
            &r.doses[i.dose as usize].text
        }),
        text_column(items, "dose_status", |i: &audit::Item| {
            r.doses[i.dose as usize].parse.status.as_str()
        }),
        num("units_per_day", &|_, v| v.units_per_day),
        num("patches_at_once", &|_, v| v.patches_at_once),
        num("days_supply", &|_, v| Some(v.days_supply)),
        Series::new(
            "days_supply_source".into(),
            values
                .iter()
                .map(|v| v.days_supply_source.as_str())
                .collect::<Vec<_>>(),
        )
        .into(),
        Series::new(
            "days_supply_disagree".into(),
            values
                .iter()
                .map(|v| v.days_supply_disagree)
                .collect::<Vec<_>>(),
        )
        .into(),
        num("total_ome_mg", &|_, v| Some(v.total_ome_mg)),
        num("ome_mg_day", &|_, v| Some(v.total_ome_mg / v.days_supply)),
        num("instructed_ome_mg_day", &|_, v| v.instructed_ome_mg_day),
    ])
}
