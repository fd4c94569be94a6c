//! The audit engine (METHOD.md §4–§8 at scale): extract chunks through the core's row checks
//! on two threads ([`rows`]), items grouped by patient and their timelines on two threads
//! ([`patients`]), with every input row accounted for. The clinical rules are the core's
//! (`opal-core`); this module is the interning, the threads and the bookkeeping.

use std::sync::Arc;

use anyhow::Result;

pub use crate::checks::Accounting;
use crate::dictionary::Dictionary;
use crate::dose::DoseParse;
pub use crate::item::{
    corrupt_text, implausible, invisible_id, looks_like_nhs_number, DaysSource, ItemSettings,
    ItemValues, PrnPolicy,
};
pub use crate::patient::{PatientRow, ResolvedRow};
use crate::product::Product;
use crate::read::extract::FileInfo;
pub use crate::settings::AuditConfig;
use crate::summary::CohortSummary;
use crate::values::{format_day, Day};

pub mod audit;
pub mod epd;
pub mod events;
mod intern;
pub mod patients;
pub mod rows;
pub mod trend;

pub use patients::{complete, complete_patients, Completion};
pub use rows::Auditor;

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// An opioid-looking item opal could not convert.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    pub file: String,
    pub line: u64,
    pub practice_code: String,
    pub drug_name: String,
    pub dmd_code: String,
    pub bnf_code: String,
    pub reason: String,
}

/// A product as used by the items resolved to it.
#[derive(Debug, Clone)]
pub struct ProductUse {
    pub product: Arc<Product>,
    /// Generic product key, interned: early repeats of one key carry forward.
    pub key: u32,
    /// Its ingredient, route and release: a new product of the group after another is a
    /// switch ([`crate::trajectory`]).
    pub switch_group: crate::trajectory::SwitchGroup,
    pub matched_by: &'static str,
    pub factor: f64,
}

/// One distinct dose text and its parse.
#[derive(Debug, Clone)]
pub struct DoseUse {
    pub text: String,
    pub parse: DoseParse,
    /// Why the text cannot be used as written ([`corrupt_text`]), if it cannot.
    pub corrupt: Option<&'static str>,
}

/// One opioid item as used: 56 bytes, so that tens of millions fit in memory. What follows
/// from it (days of supply, OME) is worked out by [`AuditResult::item_values`].
#[derive(Debug, Clone, Copy)]
pub struct Item {
    pub line: u64,
    /// Quantity in the product's units (packs expanded, mg of a tablet converted).
    pub quantity: f64,
    /// Days of supply stated in the extract; NaN when not stated.
    pub(crate) explicit_days: f64,
    pub file: u32,
    pub patient: u32,
    pub practice: u32,
    /// The extract's own ics_code (interned; see `AuditResult::ics_codes`).
    pub extract_ics: u32,
    pub issue_day: Day,
    /// Index into `AuditResult::products`.
    pub product: u32,
    /// Index into `AuditResult::doses`.
    pub dose: u32,
}

impl Item {
    pub fn explicit_days(&self) -> Option<f64> {
        (!self.explicit_days.is_nan()).then_some(self.explicit_days)
    }
}

/// Everything an audit produces.
#[derive(Debug)]
pub struct AuditResult {
    pub as_of: Day,
    pub first_issue_day: Option<Day>,
    pub accounting: Accounting,
    pub items: Vec<Item>,
    pub products: Vec<ProductUse>,
    pub doses: Vec<DoseUse>,
    pub patient_ids: Vec<String>,
    pub practice_codes: Vec<String>,
    pub patients: Vec<PatientRow>,
    /// Patients on the review list at the previous date and not now (§11).
    pub resolved: Vec<ResolvedRow>,
    pub practice_summaries: Vec<CohortSummary>,
    pub ics_summaries: Vec<CohortSummary>,
    pub unresolved: Vec<Unresolved>,
    pub rejected: Vec<Rejected>,
    pub date_formats: Vec<String>,
    pub warnings: Vec<String>,
    pub distinct_dose_texts: usize,
    pub distinct_products: usize,
    /// Why a run that found little may have found little (core `checks::findings`): said on
    /// the terminal and in the manifest; `--strict` stops at them (exit 4).
    pub findings: Vec<String>,
    /// Items whose duration cell said 0, read as not stated (METHOD.md §5).
    pub days_zero_not_stated: u64,
    /// The extracts' own ics_code values, interned (`Item::extract_ics`).
    pub ics_codes: Vec<String>,
    /// Per practice id: the extract's ics_code on its first dated row.
    pub(crate) practice_ics_seen: Vec<Option<u32>>,
    /// Per patient id: the latest day of any dated row up to the audit date, opioid or not.
    pub(crate) patient_last_day: Vec<Day>,
    /// Per practice id: the same.
    pub(crate) practice_last_day: Vec<Day>,
    /// CNS depressants issued: (patient, day, index into [`crate::cns::list`]), sorted.
    pub(crate) cns_items: Vec<(u32, Day, u8)>,
    /// Per practice id: unresolved opioid items.
    pub(crate) practice_unresolved: Vec<u64>,
}

/// What is new since the last batch: the items of the chunks just audited, and the patients,
/// practices, products and dose texts first seen in them (ids continue from the last batch).
#[derive(Debug, Default)]
pub struct ItemBatch {
    pub items: Vec<Item>,
    pub patients: Vec<String>,
    pub practices: Vec<String>,
    pub products: Vec<ProductUse>,
    pub doses: Vec<DoseUse>,
}

/// Where each chunk's new items go as they are made, while reading goes on (as ripgrep's
/// `Sink` takes matches): items.csv's writer (`write::items::ItemsWriter`), or nowhere.
pub trait ItemSink {
    /// Whether batches are wanted at all: without a sink none is made (each is a copy).
    fn wants_batches(&self) -> bool {
        true
    }

    /// The items of the chunks just audited, with the ids first seen in them; an error stops
    /// the run (the sink could not take them: a full disk, say).
    fn batch(&mut self, batch: ItemBatch) -> Result<()>;

    /// The last batch is in: the sink may finish what it can while the patients are
    /// completed.
    fn close(&mut self) {}
}

/// No sink: the items are kept in the result only.
pub struct NoSink;

impl ItemSink for NoSink {
    fn wants_batches(&self) -> bool {
        false
    }

    fn batch(&mut self, _: ItemBatch) -> Result<()> {
        Ok(())
    }
}

impl<S: ItemSink> ItemSink for Option<S> {
    fn wants_batches(&self) -> bool {
        self.as_ref().is_some_and(S::wants_batches)
    }

    fn batch(&mut self, batch: ItemBatch) -> Result<()> {
        match self {
            Some(s) => s.batch(batch),
            None => Ok(()),
        }
    }

    fn close(&mut self) {
        if let Some(s) = self {
            s.close();
        }
    }
}

/// Days of supply and OME of an item of `product` with `dose`, under the run's settings.
pub fn item_values(
    item: &Item,
    product: &ProductUse,
    dose: &DoseUse,
    config: &AuditConfig,
) -> ItemValues {
    crate::item::values(
        &product.product,
        item.quantity,
        item.explicit_days(),
        &dose.parse,
        product.factor,
        &config.item_settings(),
    )
}

impl AuditResult {
    /// Days of supply and OME of an item, under the run's settings.
    pub fn item_values(&self, item: &Item, config: &AuditConfig) -> ItemValues {
        item_values(
            item,
            &self.products[item.product as usize],
            &self.doses[item.dose as usize],
            config,
        )
    }
}

/// Audit extract files end to end: each read in chunks and audited as it is read, then the
/// patients and summaries. `progress` is told each file as it starts.
pub fn run_files(
    paths: &[std::path::PathBuf],
    opts: &crate::read::extract::ReadOptions,
    config: &AuditConfig,
    dict: &Dictionary,
    progress: impl FnMut(&std::path::Path),
) -> Result<(Vec<FileInfo>, AuditResult)> {
    let (infos, mut result) = read_files(paths, opts, config, dict, &mut NoSink, progress)?;
    let c = complete(&result, config);
    result.complete_with(c);
    Ok((infos, result))
}

/// The rows of extract files, each read in chunks and audited as it is read; the patients
/// and summaries are left to [`complete`]. Each chunk's new items are handed to `sink` as they
/// are made (items.csv is written from them while reading goes on).
pub fn read_files(
    paths: &[std::path::PathBuf],
    opts: &crate::read::extract::ReadOptions,
    config: &AuditConfig,
    dict: &Dictionary,
    sink: &mut dyn ItemSink,
    mut progress: impl FnMut(&std::path::Path),
) -> Result<(Vec<FileInfo>, AuditResult)> {
    let mut auditor = Auditor::new(config, dict);
    let mut infos = Vec::new();
    for path in paths {
        progress(path);
        let mut reader = crate::read::extract::open_extract(path, opts)?;
        let practice = match (&opts.practice_code, &opts.patient_practices) {
            (Some(code), _) => rows::PracticeSource::Fixed(code.clone()),
            (None, Some(map)) => rows::PracticeSource::ByPatient(map.clone()),
            (None, None) => rows::PracticeSource::Column,
        };
        let fi = auditor.begin_file(
            &reader.path,
            &reader.columns,
            practice,
            opts.code_map.clone(),
            opts.dosages.clone(),
        );
        let (mut waited, mut worked) = (0.0, 0.0);
        loop {
            let t = std::time::Instant::now();
            let Some(chunk) = reader.next_chunk()? else {
                break;
            };
            let t2 = std::time::Instant::now();
            waited += (t2 - t).as_secs_f64();
            auditor.add_chunk(fi, chunk)?;
            if sink.wants_batches() {
                sink.batch(auditor.batch())?;
            }
            worked += t2.elapsed().as_secs_f64();
        }
        if std::env::var_os("OPAL_TIMINGS").is_some() {
            eprintln!("timing: waited for chunks {waited:.3}s, worked on them {worked:.3}s");
        }
        auditor.end_file(fi)?;
        if sink.wants_batches() {
            sink.batch(auditor.batch())?;
        }
        infos.push(reader.finish()?);
    }
    crate::read::raw::release_spare_buffers();
    let mut result = auditor.finish()?;
    result.warnings.extend(
        infos
            .iter()
            .flat_map(|f: &FileInfo| f.notes.iter().cloned()),
    );
    Ok((infos, result))
}

/// The settings the tests audit with: `opal audit`'s defaults (TimelineSettings::default,
/// 28 default days, PRN at the maximum, at most 366 days of supply), the uk-fpm factors, the
/// audit date 2026-10-31 and the day of the run 2026-11-23. For opal's own tests (unit and
/// integration), not part of its interface.
#[doc(hidden)]
pub fn test_config() -> AuditConfig {
    let day = |y, m, d| crate::values::days_from_civil(y, m, d).expect("a real date");
    AuditConfig {
        as_of: Some(day(2026, 10, 31)),
        timeline: crate::timeline::TimelineSettings::default(),
        default_days: 28.0,
        prn_policy: PrnPolicy::Max,
        factors: crate::read::factors::load("uk-fpm").expect("the built-in uk-fpm factors"),
        date_format: None,
        strict: false,
        suppress: false,
        excluded_patients: Default::default(),
        reviews: Default::default(),
        medication_reviews: Default::default(),
        practices: None,
        list_sizes: None,
        list_size_files: None,
        today: day(2026, 11, 23),
        include_dependence: false,
        max_days_supply: 366.0,
        previous_as_of: None,
        followup: crate::followup::FollowUpSettings::default(),
    }
}

/// After reading: the run's findings (core `checks::findings`) join its warnings, for the
/// terminal and the manifest; under `--strict` they stop the run before anything is written
/// (exit 4).
pub fn check_findings(r: &mut AuditResult, config: &AuditConfig) -> Result<()> {
    if r.findings.is_empty() {
        return Ok(());
    }
    if config.strict {
        let list: Vec<String> = r.findings.iter().map(|f| format!("- {f}")).collect();
        return Err(crate::error::Diagnostic::with_code(
            crate::error::exit::FOUND_LITTLE,
            format!(
                "stopped (--strict): the input gave little to audit, and nothing was written\n{}",
                list.join("\n")
            ),
        )
        .into());
    }
    r.warnings.extend(r.findings.iter().cloned());
    Ok(())
}

/// ISO date text, for outputs.
pub fn day_text(d: Day) -> String {
    format_day(d)
}
