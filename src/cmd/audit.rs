//! `opal audit`: the monthly audit of patient-level extracts.

use std::path::PathBuf;

use anyhow::Result;

use crate::cmd::method::{parse_as_of, parse_date_option, Method, MethodArgs};
use crate::cmd::ranges;
use crate::cmd::spinner;
use crate::engine::audit::{AuditSettings, Stage};
use crate::write::audit::{AuditWriter, ItemsWanted, Optional};

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
    Exit codes: 0 done; 1 error; 2 usage; 3 --strict stopped at a rejected row; 4 --strict \
    stopped as the input gave little to audit; 130 interrupted.")]
pub struct Args {
    /// Extract files (CSV, .csv.gz or Parquet).
    #[arg(value_name = "EXTRACT", required = true)]
    extracts: Vec<PathBuf>,
    /// Audit date (YYYY-MM-DD) [default: the latest issue date in the input]. Issues after
    /// it are counted and not used.
    #[arg(long, value_name = "DATE")]
    as_of: Option<String>,
    #[command(flatten)]
    output: crate::cmd::OutputArgs,
    /// Which opioid items to write to items.csv (items.parquet): all, those of the patients
    /// on the review list (the trace a pharmacist reads), or none.
    #[arg(long, value_enum, default_value = "all")]
    items: ItemsArg,
    /// The previous audit's date (YYYY-MM-DD), for each listed patient's status (new,
    /// continuing, returned) and resolved.csv [default: the last day of the month before
    /// the audit date].
    #[arg(long, value_name = "DATE")]
    previous_as_of: Option<String>,
    /// Tapering: at least this many percent below the 12-month peak of the month-end dose,
    /// at the last two month ends, and not rising (0 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 15.0, value_parser = ranges::percent)]
    tapering_pct: f64,
    /// A rapid taper: tapering, with a fall of more than this many percent between two
    /// consecutive month ends since the peak, in a long-term patient (0 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 40.0, value_parser = ranges::percent)]
    rapid_taper_pct: f64,
    /// Escalating: the month-end dose at least this many percent above the dose three month
    /// ends before (or in a higher band: 50, 90, 120 mg/day), at the last two month ends;
    /// re-escalating: as far above the lowest dose of an earlier taper (0 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 25.0, value_parser = ranges::percent)]
    escalation_pct: f64,
    /// An abrupt stop: the last month's dose at least this many mg OME a day (0 to 100000)...
    #[arg(long, value_name = "MG", default_value_t = 50.0, value_parser = ranges::mg_per_day)]
    abrupt_stop_from: f64,
    /// ...and no month in the three before the stop below this percentage of the one before
    /// (0 to 100).
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0, value_parser = ranges::percent)]
    abrupt_stop_step_pct: f64,
    /// Also write report.html: one self-contained page to share (no patient identifier; the
    /// settings, the ICS and practice tables, the XmR charts and the aim, the row accounting).
    /// With --suppress its counts are suppressed.
    #[arg(long)]
    report: bool,
    /// Also write practices/<ODS code>/ for each practice: its own review_list.csv,
    /// resolved.csv and report.html (its measures against its ICS, its rank, its XmR chart,
    /// its patients to review). Each pack holds only that practice's patients.
    #[arg(long)]
    practice_packs: bool,
    /// Also write review_list.xlsx (and one in each practice pack): a frozen header row,
    /// filters, column widths, dates as dates, numbers as numbers, and a sheet explaining
    /// each column.
    #[arg(long)]
    xlsx: bool,
    /// A patient with a gabapentinoid, benzodiazepine or Z-drug issued in the look-back
    /// window goes on the review list when their OME/day is above this many mg (0 turns the
    /// rule off; 0 to 100000).
    #[arg(long, value_name = "MG", default_value_t = 50.0, value_parser = ranges::mg_per_day)]
    co_prescribing_review_from: f64,
    /// Last month's review list with what was done: its review_list.xlsx filled in (the
    /// outcome, review_date and next_review columns), or a CSV with patient_id, review_date,
    /// outcome, next_review. Each listed patient shows their last review, and a next review
    /// still ahead ("review due on ..."); resolved.csv says who came off after a review.
    #[arg(long, value_name = "FILE")]
    reviews: Option<PathBuf>,
    /// Coded entries from the GP record: a CSV with patient_id, date and code (SNOMED CT, as
    /// GP systems export them). A patient on the palliative care register, or with a cancer
    /// coded within --cancer-years, is excluded (with the reason); the latest coded
    /// medication review within --review-window days shows on their row. The codelists are
    /// NHS Digital's primary care reference sets, in data/codelists/ with their sources.
    #[arg(long, value_name = "FILE")]
    events: Option<PathBuf>,
    /// With --events: a cancer coded within this many years before the audit date excludes
    /// the patient (0 to 100).
    #[arg(long, value_name = "YEARS", default_value_t = 5, value_parser = clap::value_parser!(u32).range(0..=100))]
    cancer_years: u32,
    /// With --events: a coded medication review within this many days up to the audit date
    /// shows on the row (1 to 3650).
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(i32).range(1..=3650))]
    review_window: i32,
    #[command(flatten)]
    pub method: MethodArgs,
}

/// `--items`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ItemsArg {
    All,
    Review,
    None,
}

pub fn run(args: Args) -> Result<()> {
    let (settings, review_rows) = settings(&args)?;
    let writer = AuditWriter::create(
        args.output.out.as_deref(),
        args.output.force,
        args.output.format,
        match args.items {
            ItemsArg::All => ItemsWanted::All,
            ItemsArg::Review => ItemsWanted::Review,
            ItemsArg::None => ItemsWanted::None,
        },
    )?;
    let pb = spinner(args.output.quiet, "reading and auditing extracts");
    let mut run = crate::engine::audit::run(settings, &writer, &|stage| match stage {
        Stage::Reading(path) => pb.set_message(format!("reading and auditing {}", path.display())),
        Stage::Completing => pb.set_message("building timelines and writing outputs"),
    })?;
    let manifest = crate::write::manifest::Settings {
        reviews: args.reviews.as_deref().zip(review_rows),
        events: args.events.as_deref().zip(run.events.clone()),
        ..args.method.manifest(args.output.format)
    };
    let optional = Optional {
        xlsx: args.xlsx,
        report: args.report,
        practice_packs: args.practice_packs,
    };
    let target = writer.finish(&mut run, optional, manifest)?;
    pb.finish_and_clear();
    crate::timing::lap("write");

    for w in &run.result.warnings {
        eprintln!("warning: {}", crate::error::escape(w));
    }
    if !args.output.quiet {
        crate::write::terminal::print_summary(&run.result, &run.config, &target)?;
    }
    // Every output is written, synced and renamed into place; the process ends next.
    crate::cmd::leave_to_exit(run);
    Ok(())
}

/// The audit's settings from its arguments (the ranges are clap's, exit 2; what is left is
/// how options relate), with `--reviews`' row counts for the manifest.
fn settings(args: &Args) -> Result<(AuditSettings<'_>, Option<[u64; 3]>)> {
    let as_of = args.as_of.as_deref().map(parse_as_of).transpose()?;
    let Method {
        mut config,
        read_opts,
        mut practice_warnings,
    } = args.method.settings(as_of)?;
    config.previous_as_of = args
        .previous_as_of
        .as_deref()
        .map(|d| parse_date_option("--previous-as-of", d))
        .transpose()?;
    config.followup = crate::followup::FollowUpSettings {
        tapering_pct: args.tapering_pct,
        rapid_pct: args.rapid_taper_pct,
        escalation_pct: args.escalation_pct,
        abrupt_from_mg_day: args.abrupt_stop_from,
        abrupt_step_pct: args.abrupt_stop_step_pct,
        co_prescribing_review_from_mg_day: args.co_prescribing_review_from,
    };
    let mut review_rows = None;
    if let Some(path) = &args.reviews {
        let reviews = crate::read::reviews::read_reviews(path)?;
        config.reviews = reviews.by_patient;
        practice_warnings.extend(reviews.warnings);
        review_rows = Some([
            reviews.rows,
            reviews.without_patient,
            reviews.without_review,
        ]);
    }
    let events = args
        .events
        .as_deref()
        .map(crate::read::events::read_events)
        .transpose()?;
    let settings = AuditSettings {
        extracts: &args.extracts,
        read_opts,
        config,
        warnings: practice_warnings,
        reviews: args.reviews.as_deref(),
        events: events.map(|ev| (ev, args.cancer_years, args.review_window)),
        trend: args.report || args.practice_packs,
    };
    Ok((settings, review_rows))
}
