//! `opal audit`'s pipeline, from the extract files to the completed audit.
//!
//! The extracts are read and audited chunk by chunk, the record's reviews and coded entries
//! are joined at the audit date, and each patient is completed and the cohort summarised.
//! Outputs that can be written while this goes on are handed to an [`AuditSink`] at the point
//! and on the thread where they are ready: the items while reading (items.csv), the items from
//! the rows and the patient lists while the summaries are worked out. The command translates
//! its arguments into [`AuditSettings`]; `write::audit::AuditWriter` is the sink, and writes
//! the rest of the outputs from the [`AuditRun`] this returns.

use std::path::{Path, PathBuf};

use anyhow::{bail, Result};

use crate::dictionary::Dictionary;
use crate::engine::events::{apply_events, check_reviews, EventsSummary};
use crate::engine::patients::previous_as_of;
use crate::engine::{
    check_findings, complete_patients, day_text, read_files, AuditConfig, AuditResult, Completion,
    ItemSink, PatientRow,
};
use crate::read::events::Events;
use crate::read::extract::{FileInfo, ReadOptions};
use crate::trend::{Computed, Series, TrendSettings};
use crate::values::Day;

/// What an audit is asked to do, once its options are read.
pub struct AuditSettings<'a> {
    pub extracts: &'a [PathBuf],
    pub read_opts: ReadOptions,
    pub config: AuditConfig,
    /// Warnings known before reading (the practices file's, the reviews file's), first in
    /// the run's list.
    pub warnings: Vec<String>,
    /// `--reviews`: the file last month's reviews came from (`config.reviews` holds them).
    pub reviews: Option<&'a Path>,
    /// `--events`: the coded entries, the years a cancer excludes, the days a medication
    /// review shows.
    pub events: Option<(Events, u32, i32)>,
    /// Whether the trend of the audit's month ends is wanted (the report, the packs' charts).
    pub trend: bool,
}

/// Where the run is, for a progress display.
#[derive(Debug, Clone, Copy)]
pub enum Stage<'a> {
    /// This extract file is being read and audited.
    Reading(&'a Path),
    /// The patients are being completed and the outputs written.
    Completing,
}

/// The outputs written while the audit runs, each called where its data is ready (as
/// ripgrep's `Sink` takes matches). Each returns the files it wrote, in the order the
/// manifest lists them; `Ok(None)` or an empty list when the run does not ask for it.
pub trait AuditSink: Sync {
    /// The sink of the items while the extracts are read.
    type Items: ItemSink + Send;

    /// The items' sink while reading (items.csv), if the items are written then.
    fn items_while_reading(&self, config: &AuditConfig) -> Result<Option<Self::Items>>;

    /// The audit date is known and the rows add up: the last check before the work of
    /// completing (a default output folder is named by the date).
    fn audit_date(&self, as_of: Day) -> Result<()>;

    /// The items from the audit's rows (items.parquet), on a thread of its own while the
    /// patients are completed.
    fn items_after_reading(&self, r: &AuditResult, config: &AuditConfig)
        -> Result<Option<PathBuf>>;

    /// The items of the patients on the review list only (`--items review`), on a thread
    /// of its own while the patient lists are written.
    fn review_items(
        &self,
        r: &AuditResult,
        patients: &[PatientRow],
        config: &AuditConfig,
    ) -> Result<Option<PathBuf>>;

    /// The review list and the current patients, while the summaries are worked out.
    fn patient_lists(&self, patients: &[PatientRow]) -> Result<Vec<PathBuf>>;

    /// The practice and ICS summaries.
    fn summaries(&self, c: &Completion, config: &AuditConfig) -> Result<Vec<PathBuf>>;

    /// The items written while reading, finished and in place.
    fn finish_items(&self, items: Self::Items) -> Result<PathBuf>;
}

/// A completed audit, for the outputs written after it and the manifest.
pub struct AuditRun {
    pub files: Vec<FileInfo>,
    pub result: AuditResult,
    /// The settings as the run ended (the coded entries' exclusions and reviews joined).
    pub config: AuditConfig,
    /// The files the sink wrote, in the manifest's order.
    pub written: Vec<PathBuf>,
    /// What `--events` did.
    pub events: Option<EventsSummary>,
    /// The previous audit's date (status and resolved.csv).
    pub previous: Day,
    /// The trend of the audit's month ends, when [`AuditSettings::trend`] asked for it.
    pub trend: (Vec<Series>, Option<Computed>, TrendSettings),
}

/// Run an audit: read and audit the extracts, join the record, complete the patients and
/// summaries, handing `sink` what it writes on the way; `progress` is told each stage.
pub fn run<S: AuditSink>(
    settings: AuditSettings<'_>,
    sink: &S,
    progress: &dyn Fn(Stage<'_>),
) -> Result<AuditRun> {
    let AuditSettings {
        extracts,
        read_opts,
        mut config,
        warnings,
        reviews,
        events,
        trend,
    } = settings;
    // OPAL_TIMINGS=1 prints how long each stage took (for the benchmark harness).
    crate::timing::lap("start");
    // Files are read in chunks and audited as they are read, so reading and auditing are one
    // stage; items.csv is written from each chunk's items meanwhile.
    let mut items = sink.items_while_reading(&config)?;
    let (files, mut result) = read_files(
        extracts,
        &read_opts,
        &config,
        Dictionary::builtin(),
        &mut items,
        |path| progress(Stage::Reading(path)),
    )?;
    config.use_list_sizes_of(result.as_of);
    result.warnings.splice(0..0, warnings);
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
    items.close();
    check_findings(&mut result, &config)?;
    if let Some(p) = config.previous_as_of.filter(|&p| p >= result.as_of) {
        return Err(crate::error::usage_hinted(
            format!(
                "--previous-as-of {} is not before the audit date {}",
                day_text(p),
                day_text(result.as_of)
            ),
            "give the date of \
                 the previous audit, e.g. the last day of the month before",
        ));
    }
    if let Some(path) = reviews {
        check_reviews(&config, &mut result, path);
    }
    let events = events.map(|(ev, cancer_years, review_window)| {
        apply_events(&ev, &mut config, &mut result, cancer_years, review_window)
    });
    if !result.accounting.balanced() {
        bail!(
            "internal error: row accounting does not add up ({:?})",
            result.accounting
        );
    }
    sink.audit_date(result.as_of)?;

    progress(Stage::Completing);
    let (completion, written) = complete_and_write(&result, &config, sink, items)?;
    result.complete_with(completion);
    let previous = previous_as_of(&result, &config);
    let trend = if trend {
        crate::engine::trend::audit_trend(&result, &config)
    } else {
        Default::default()
    };
    Ok(AuditRun {
        files,
        result,
        config,
        written,
        events,
        previous,
        trend,
    })
}

/// Complete the patients and summaries while the items (from the rows, or the review list's)
/// and the patient lists are written, each on a thread of its own; items.csv is finished
/// meanwhile on its own thread.
fn complete_and_write<S: AuditSink>(
    result: &AuditResult,
    config: &AuditConfig,
    sink: &S,
    items: Option<S::Items>,
) -> Result<(Completion, Vec<PathBuf>)> {
    let (from_rows, patients) = std::thread::scope(|s| {
        let from_rows = s.spawn(|| sink.items_after_reading(result, config));
        let patients = (|| -> Result<_> {
            let mut c = complete_patients(result, config);
            // The summaries are worked out, and the review list's items written, each on a
            // thread of its own while the lists are sorted and written.
            let (lists, summaries, review) = std::thread::scope(|inner| {
                let review = inner.spawn(|| sink.review_items(result, &c.patients, config));
                let summaries = inner.spawn(|| c.summaries(config));
                let lists = sink.patient_lists(&c.patients);
                (lists, summaries.join(), review.join())
            });
            let review = joined(review)?;
            (c.practice_summaries, c.ics_summaries) = match summaries {
                Ok(summaries) => summaries,
                Err(e) => std::panic::resume_unwind(e),
            };
            let mut written = lists?;
            written.extend(sink.summaries(&c, config)?);
            written.extend(review);
            Ok((c, written))
        })();
        (joined(from_rows.join()), patients)
    });
    let from_rows = from_rows?;
    let items = match (from_rows, items) {
        (Some(path), _) => Some(path),
        (None, Some(w)) => Some(sink.finish_items(w)?),
        (None, None) => None,
    };
    let (completion, mut written) = patients?;
    written.extend(items);
    Ok((completion, written))
}

/// A thread's result, its panic passed on.
fn joined<T>(r: std::thread::Result<Result<T>>) -> Result<T> {
    match r {
        Ok(r) => r,
        Err(e) => std::panic::resume_unwind(e),
    }
}
