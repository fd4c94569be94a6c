//! `opal audit`: the monthly audit of patient-level extracts.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::cmd::method::{parse_as_of, parse_date_option, Method, MethodArgs};
use crate::cmd::ranges;
use crate::cmd::spinner;
use crate::dictionary::Dictionary;
use crate::engine::{self as audit, day_text};
use crate::write::audit::{
    write_items_parquet, write_patient_lists, write_row_outputs, write_summaries,
};
use crate::write::items::ItemsWriter;
use crate::write::outdir::Staging;

use crate::write::table::Format;

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
    // The ranges are clap's (exit 2); what is left is how options relate.
    let as_of = match &args.as_of {
        Some(s) => Some(parse_as_of(s)?),
        None => None,
    };
    let Method {
        mut config,
        read_opts,
        practice_warnings,
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
    let mut review_warnings = Vec::new();
    let mut review_rows = None;
    if let Some(path) = &args.reviews {
        let reviews = crate::read::reviews::read_reviews(path)?;
        config.reviews = reviews.by_patient;
        review_warnings = reviews.warnings;
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
    // Refuse to overwrite before doing the work, when the folder is named.
    if let Some(out) = &args.output.out {
        crate::write::table::check_out_dir(out, args.output.force)?;
    }

    // OPAL_TIMINGS=1 prints how long each stage took (for the benchmark harness).
    let lap = crate::timing::lap;
    lap("start");
    // Files are read in chunks and audited as they are read, so reading and auditing are one
    // stage.
    // Every output is written into this run's staging folder, beside the output folder, and
    // moved into place when all are written (write/outdir.rs): items.csv from the start,
    // while the extracts are read.
    let staging = Staging::create(
        args.output
            .out
            .as_deref()
            .unwrap_or(Path::new("opal-audit")),
    )?;
    let mut items_csv = match args.output.format {
        Format::Csv if args.items == ItemsArg::All => {
            let temp = staging
                .path()
                .join(format!(".items.csv.{}.partial", std::process::id()));
            Some(ItemsWriter::start(temp, config.clone())?)
        }
        _ => None,
    };
    let pb = spinner(args.output.quiet, "reading and auditing extracts");
    let (files, mut result) = audit::read_files(
        &args.extracts,
        &read_opts,
        &config,
        Dictionary::builtin(),
        &mut items_csv,
        |path: &Path| pb.set_message(format!("reading and auditing {}", path.display())),
    )?;
    pb.finish_and_clear();
    result.warnings.splice(0..0, practice_warnings);
    result.warnings.extend(review_warnings);
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
    audit::check_findings(&mut result, &config)?;
    if let Some(p) = config.previous_as_of.filter(|&p| p >= result.as_of) {
        return Err(crate::error::usage(format!(
            "--previous-as-of {} is not before the audit date {}\nhint: give the date of \
                 the previous audit, e.g. the last day of the month before",
            day_text(p),
            day_text(result.as_of)
        )));
    }
    if let Some(path) = &args.reviews {
        crate::engine::events::check_reviews(&config, &mut result, path);
    }
    let events_summary = events.as_ref().map(|ev| {
        crate::engine::events::apply_events(
            ev,
            &mut config,
            &mut result,
            args.cancer_years,
            args.review_window,
        )
    });
    if !result.accounting.balanced() {
        bail!(
            "internal error: row accounting does not add up ({:?})",
            result.accounting
        );
    }

    let target = args
        .output
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from(format!("opal-audit-{}", day_text(result.as_of))));
    if args.output.out.is_none() {
        crate::write::table::check_out_dir(&target, args.output.force)?;
    }
    let out = staging.path().to_path_buf();
    let pb = spinner(args.output.quiet, "building timelines and writing outputs");
    // items (Parquet) is written from the rows while the timelines, summaries and patient
    // lists are worked out and written; items.csv is finished meanwhile on its own thread.
    let (items, patients) = std::thread::scope(|s| {
        let (out, result, config) = (&out, &result, &config);
        let items = (args.output.format == Format::Parquet && args.items == ItemsArg::All)
            .then(|| s.spawn(move || write_items_parquet(out, result, config)));
        let patients = (|| -> Result<_> {
            let mut c = audit::complete_patients(result, config);
            // --items review: the review list's items are written on a second thread while
            // the patient lists are written here.
            let review = (args.items == ItemsArg::Review).then(|| {
                let on_list = crate::write::items::review_patients(result, &c.patients);
                s.spawn(move || {
                    let format = args.output.format;
                    crate::write::items::write_review_items(out, result, &on_list, config, format)
                })
            });
            // The summaries are worked out on a second thread while the lists are sorted
            // and written.
            let (lists, summaries) = std::thread::scope(|inner| {
                let summaries = inner.spawn(|| c.summaries(config));
                let lists = write_patient_lists(out, &c.patients, args.output.format);
                (lists, summaries.join())
            });
            (c.practice_summaries, c.ics_summaries) = match summaries {
                Ok(summaries) => summaries,
                Err(e) => std::panic::resume_unwind(e),
            };
            let mut written = lists?;
            written.extend(write_summaries(out, &c, config, args.output.format)?);
            let review = match review.map(|h| h.join()) {
                Some(Ok(path)) => Some(path?),
                Some(Err(e)) => std::panic::resume_unwind(e),
                None => None,
            };
            written.extend(review);
            Ok((c, written))
        })();
        (items.map(|h| h.join()), patients)
    });
    let items = match (items, items_csv.take()) {
        (Some(Ok(written)), _) => Some(written?),
        (Some(Err(e)), _) => std::panic::resume_unwind(e),
        (None, Some(w)) => {
            let path = w.finish(&out.join("items.csv"))?;
            crate::timing::lap("write items");
            Some(path)
        }
        (None, None) => None,
    };
    let (completion, mut written) = patients?;
    result.complete_with(completion);
    written.extend(items);
    let previous = crate::engine::patients::previous_as_of(&result, &config);
    written.push(crate::write::audit::write_resolved(
        &out,
        &result.resolved,
        &day_text(previous),
        args.output.format,
    )?);
    written.extend(write_row_outputs(&out, &result, args.output.format)?);
    // The trend of the audit's month ends, for the report and the packs' charts.
    let (series, computed, settings) = if args.report || args.practice_packs {
        crate::engine::trend::audit_trend(&result, &config)
    } else {
        Default::default()
    };
    let optional = crate::write::audit::write_optional(
        &out,
        &result,
        &config,
        &day_text(previous),
        crate::write::audit::Optional {
            xlsx: args.xlsx,
            report: args.report,
            practice_packs: args.practice_packs,
        },
        (&series, computed.as_ref(), &settings),
    )?;
    written.extend(optional.written);
    result.warnings.extend(optional.warnings);
    let practice_packs = optional.practice_packs;
    let refs = crate::write::manifest::Settings {
        practices: args.method.practices.as_deref(),
        list_sizes: args.method.list_sizes.as_deref(),
        exclude_patients: args.method.exclude_patients.as_deref(),
        format: args.output.format.extension(),
        date_format: args.method.date_format.as_deref(),
        practice_code: args.method.practice_code.as_deref(),
        patient_practices: args.method.patient_practices.as_deref(),
        code_map: args.method.code_map.as_deref(),
        dosages: args.method.dosages.as_deref(),
        reviews: args.reviews.as_deref().zip(review_rows),
        events: args.events.as_deref().zip(events_summary),
        practice_packs: &practice_packs,
    };
    crate::write::manifest::write_audit_manifest(&out, &refs, &files, &result, &config, &written)?;
    staging.commit(&target, args.output.force)?;
    pb.finish_and_clear();
    lap("write");

    for w in &result.warnings {
        eprintln!("warning: {}", crate::error::escape(w));
    }
    if !args.output.quiet {
        crate::write::terminal::print_summary(&result, &config, &target)?;
    }
    // Every output is written, synced and renamed into place; the process ends next.
    crate::cmd::leave_to_exit(result);
    Ok(())
}
