//! manifest.json, typed: what every command records ([`Manifest`]: opal's version, every input
//! with its size and SHA-256, the factor set and dictionary checksums, the row accounting, the
//! outputs), with each command's own record flattened into it ([`AuditRecord`] for `opal
//! audit` and `opal trend`, with [`PatientsEntry`] or [`TrendEntry`]; `opal epd`'s in
//! write/epd.rs) — and no patient identifier.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::dictionary::PRODUCTS_CSV;
use crate::engine::{day_text, AuditConfig, AuditResult};
use crate::read::extract::FileInfo;
use crate::read::factors::hex_sha256;
use crate::write::table::write_atomically;

/// What the manifest records of the command line besides the audit's settings.
pub struct Settings<'a> {
    pub practices: Option<&'a Path>,
    pub list_sizes: &'a [std::path::PathBuf],
    pub exclude_patients: Option<&'a Path>,
    /// `csv` or `parquet`.
    pub format: &'static str,
    pub date_format: Option<&'a str>,
    /// `--practice-packs`: each practice's code and its folder under `practices/`.
    pub practice_packs: &'a [(String, String)],
    /// `--practice-code`: the practice of every row of a file with no practice column.
    pub practice_code: Option<&'a str>,
    /// `--patient-practices`: each patient's practice.
    pub patient_practices: Option<&'a Path>,
    /// `--code-map`: another system's product codes.
    pub code_map: Option<&'a Path>,
    /// `--dosages`: directions by a dosage code.
    pub dosages: Option<&'a Path>,
    /// `--reviews`: last month's reviews, and its rows: read, without a patient id, without
    /// a review.
    pub reviews: Option<(&'a Path, [u64; 3])>,
    /// `--events`: the coded entries, and what they did.
    pub events: Option<(&'a Path, crate::engine::events::EventsSummary)>,
}

/// Write `<out>/manifest.json` of `opal audit`.
pub fn write_audit_manifest(
    out: &Path,
    args: &Settings<'_>,
    files: &[FileInfo],
    r: &AuditResult,
    config: &AuditConfig,
    written: &[PathBuf],
) -> Result<()> {
    let status =
        |s: crate::followup::Status| r.patients.iter().filter(|p| p.status == Some(s)).count();
    let f = &config.followup;
    // The rows are the current patients and the abrupt stops listed for follow-up.
    let current = || r.patients.iter().filter(|p| p.measures.current);
    let tier = |k: u8| {
        r.patients
            .iter()
            .filter(|p| p.to_review() && p.priority.as_ref().is_some_and(|t| t.0 == k))
            .count()
    };
    let patients = PatientsEntry {
        current: current().count(),
        excluded: current().filter(|p| p.excluded_reason.is_some()).count(),
        review_list: r.patients.iter().filter(|p| p.to_review()).count(),
        priority: Tiers {
            first: tier(1),
            second: tier(2),
            third: tier(3),
            fourth: tier(4),
        },
        abrupt_stops_listed: r
            .patients
            .iter()
            .filter(|p| p.stopped_abruptly_from.is_some() && p.to_review())
            .count(),
        previous_as_of: day_text(crate::engine::patients::previous_as_of(r, config)),
        new: status(crate::followup::Status::New),
        continuing: status(crate::followup::Status::Continuing),
        returned: status(crate::followup::Status::Returned),
        resolved: r.resolved.len(),
        followup_settings: FollowupEntry {
            tapering_pct: f.tapering_pct,
            rapid_taper_pct: f.rapid_pct,
            escalation_pct: f.escalation_pct,
            abrupt_stop_from_mg_day: f.abrupt_from_mg_day,
            abrupt_stop_step_pct: f.abrupt_step_pct,
            co_prescribing_review_from_mg_day: f.co_prescribing_review_from_mg_day,
        },
        co_prescribed: current().filter(|p| !p.co_prescribed.is_empty()).count(),
        listed_for_co_prescribing: r
            .patients
            .iter()
            .filter(|p| p.co_listed && p.to_review())
            .count(),
        cns_depressants_sha256: hex_sha256(crate::cns::CNS_CSV.as_bytes()),
    };
    let manifest = manifest(
        "audit",
        args,
        files,
        r,
        config,
        written,
        Own::Patients(patients),
    );
    write_manifest(out, &manifest)
}

/// Write `<out>/manifest.json` of `opal trend`: the audit's record, and `trend` (the month
/// ends, the baseline, the aim).
pub fn write_trend_manifest(
    out: &Path,
    args: &Settings<'_>,
    files: &[FileInfo],
    r: &AuditResult,
    config: &AuditConfig,
    written: &[PathBuf],
    trend: TrendEntry,
) -> Result<()> {
    let manifest = manifest("trend", args, files, r, config, written, Own::Trend(trend));
    write_manifest(out, &manifest)
}

/// The manifest's `trend` entry of `opal trend`: the month ends, the baseline and where the
/// limits come from, the aim, the series.
pub fn trend_entry(
    series: &[crate::trend::Series],
    settings: &crate::trend::TrendSettings,
    aim_reduction_pct: f64,
    computed: &crate::trend::Computed,
) -> TrendEntry {
    use crate::trend::month_label;
    let ends = &settings.month_ends;
    let label = |k: &usize| ends.get(*k).map(|d| month_label(*d));
    let base = settings.aim_baseline();
    let span = |r: &std::ops::Range<usize>| {
        format!(
            "{}..{}",
            month_label(ends[r.start]),
            month_label(ends[r.end - 1])
        )
    };
    let charts = || computed.charts.iter().flatten().flatten();
    TrendEntry {
        from: ends.first().map(|d| month_label(*d)),
        to: ends.last().map(|d| month_label(*d)),
        month_ends: ends.len(),
        baseline: settings.baseline.as_ref().map(span),
        limits_from: match settings.limits_baseline() {
            Some(r) if settings.baseline.is_none() => {
                format!("every complete month end, {}", span(&r))
            }
            Some(r) => format!("the baseline, {}", span(&r)),
            None => "every month end".to_string(),
        },
        warm_up_month_ends: settings.complete_from.min(ends.len()),
        aim_baseline: span(&base),
        aim_reduction_pct,
        screen_outliers: settings.screen_outliers,
        practices: series.iter().filter(|s| s.level == "practice").count(),
        ics: series.iter().filter(|s| s.level == "ics").count(),
        series_left_out_of_spc: computed.left_out,
        rebase: settings.rebase.all.iter().map(label).collect(),
        rebase_series: settings
            .rebase
            .series
            .iter()
            .flat_map(|((level, code), at)| {
                at.iter().map(move |k| RebaseAt {
                    level: level.clone(),
                    code: code.clone(),
                    month: label(k),
                })
            })
            .collect(),
        suggest_rebase_run: settings.suggest_run,
        charts_with_a_suggested_rebase: charts().filter(|c| c.suggested_rebase.is_some()).count(),
        charts_with_suppressed_gaps: charts().filter(|c| c.at.len() < ends.len()).count(),
        list_sizes_from_another_month: None,
    }
}

/// What every manifest records, `opal audit`, `opal trend` and `opal epd` alike: opal's
/// version and command, each input, the factor set and the dictionary by checksum, the row
/// accounting and its balance, the outputs; and the command's own entries (`record`). Written
/// with its keys in name order, as a JSON object's are.
#[derive(Debug, serde::Serialize)]
pub struct Manifest<'a, Rows: serde::Serialize, Record: serde::Serialize> {
    pub opal_version: &'static str,
    pub command: &'static str,
    pub inputs: Vec<InputEntry<'a>>,
    pub factor_set: FactorSetEntry<'a>,
    pub product_dictionary_sha256: String,
    pub rows: &'a Rows,
    /// The accounting's sum, in words.
    pub rows_balance: &'static str,
    /// Paths inside the output folder.
    pub outputs: Vec<String>,
    /// The command's own entries.
    #[serde(flatten)]
    pub record: Record,
}

/// The factor set a run used, by name and checksum.
#[derive(Debug, serde::Serialize)]
pub struct FactorSetEntry<'a> {
    pub name: &'a str,
    pub sha256: &'a str,
}

impl<'a> FactorSetEntry<'a> {
    pub fn of(set: &'a crate::factors::FactorSet) -> FactorSetEntry<'a> {
        FactorSetEntry {
            name: &set.name,
            sha256: &set.sha256,
        }
    }
}

/// Write `<out>/manifest.json`: pretty JSON, keys in name order.
pub fn write_manifest<R: serde::Serialize, C: serde::Serialize>(
    out: &Path,
    manifest: &Manifest<'_, R, C>,
) -> Result<()> {
    // Through a JSON value, whose objects keep their keys in name order.
    let value = serde_json::to_value(manifest)?;
    let path = out.join("manifest.json");
    write_atomically(&path, |w| {
        serde_json::to_writer_pretty(&mut *w, &value)?;
        w.write_all(b"\n")?;
        Ok(())
    })
}

/// One input file as every manifest records it (`opal audit`, `opal trend`, `opal epd`):
/// fields in the order a JSON object's keys are written (by name), so that the manifest reads
/// as before.
#[derive(Debug, serde::Serialize)]
pub struct InputEntry<'a> {
    pub bytes: u64,
    /// canonical column → header as written.
    pub columns: &'a std::collections::BTreeMap<String, String>,
    /// The layout of the file's dates (`%d/%m/%Y`...), where the file has dates to read.
    pub date_format: Option<&'a str>,
    pub format: &'static str,
    pub path: &'a str,
    /// Lines before the header (a report's title): never rows.
    pub preamble_lines: u64,
    pub rows: u64,
    pub sha256: &'a str,
}

impl<'a> InputEntry<'a> {
    pub fn of(f: &'a FileInfo, date_format: Option<&'a str>) -> InputEntry<'a> {
        InputEntry {
            bytes: f.bytes,
            columns: &f.columns,
            date_format,
            format: f.format,
            path: &f.path,
            preamble_lines: f.preamble_lines,
            rows: f.rows,
            sha256: &f.sha256,
        }
    }
}

/// A reference file by path and checksum.
#[derive(Debug, serde::Serialize)]
pub struct FileSha {
    pub path: String,
    pub sha256: String,
}

impl FileSha {
    /// The file's entry, or `None` when it cannot be read.
    fn of(p: Option<&Path>) -> Option<FileSha> {
        let p = p?;
        let bytes = std::fs::read(p).ok()?;
        Some(FileSha {
            path: p.display().to_string(),
            sha256: hex_sha256(&bytes),
        })
    }
}

/// None (`null`), one (as itself, as before there could be several) or several (a list).
#[derive(Debug, serde::Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    None,
    One(T),
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    pub fn of(mut v: Vec<T>) -> OneOrMany<T> {
        match v.len() {
            0 => OneOrMany::None,
            1 => OneOrMany::One(v.remove(0)),
            _ => OneOrMany::Many(v),
        }
    }
}

/// `--exclude-patients`: the file and how many patients it lists.
#[derive(Debug, serde::Serialize)]
pub struct ExcludedEntry {
    pub path: String,
    pub patients: usize,
}

/// The settings of an audit or a trend.
#[derive(Debug, serde::Serialize)]
pub struct RunSettings<'a> {
    pub threshold_mg_day: f64,
    pub long_term_days: i64,
    pub grace_days: f64,
    pub dose_window_days: i32,
    pub lookback_days: i32,
    pub default_days: f64,
    pub max_days_supply: f64,
    pub include_dependence: bool,
    pub prn_policy: &'static str,
    pub stockpile: &'static str,
    pub suppress: bool,
    pub strict: bool,
    pub format: &'static str,
    pub date_format: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub practice_code: Option<&'a str>,
}

/// How many distinct products and dose texts the run met.
#[derive(Debug, serde::Serialize)]
pub struct Distinct {
    pub products: usize,
    pub dose_texts: usize,
}

/// `--events`: the file, its rows and what the coded record did.
#[derive(Debug, serde::Serialize)]
pub struct EventsEntry {
    #[serde(flatten)]
    pub file: Option<FileSha>,
    pub rows: EventRows,
    pub after_as_of: u64,
    pub excluded_patients: EventExclusions,
    pub medication_reviews: u64,
    pub cancer_years: u32,
    pub review_window_days: i32,
    pub codelists: Vec<CodelistEntry>,
}

#[derive(Debug, serde::Serialize)]
pub struct EventRows {
    pub read: u64,
    pub in_codelists: u64,
    pub other_codes: u64,
    pub rejected: u64,
}

#[derive(Debug, serde::Serialize)]
pub struct EventExclusions {
    #[serde(rename = "palliative care register")]
    pub palliative: u64,
    pub cancer: u64,
}

/// A built-in codelist by checksum.
#[derive(Debug, serde::Serialize)]
pub struct CodelistEntry {
    pub file: &'static str,
    pub sha256: String,
}

/// `--reviews`: last month's reviews.
#[derive(Debug, serde::Serialize)]
pub struct ReviewsEntry {
    #[serde(flatten)]
    pub file: Option<FileSha>,
    pub patients: usize,
    pub rows: ReviewRows,
}

#[derive(Debug, serde::Serialize)]
pub struct ReviewRows {
    pub read: u64,
    pub without_patient_id: u64,
    pub without_a_review: u64,
}

/// A practice's pack: its code, as the extract has it, and its folder.
#[derive(Debug, serde::Serialize)]
pub struct PackEntry {
    pub practice_code: String,
    pub folder: String,
}

/// `opal audit`'s `patients`: the lists' counts and the follow-up settings.
#[derive(Debug, serde::Serialize)]
pub struct PatientsEntry {
    pub current: usize,
    pub excluded: usize,
    pub review_list: usize,
    pub priority: Tiers,
    pub abrupt_stops_listed: usize,
    pub previous_as_of: String,
    pub new: usize,
    pub continuing: usize,
    pub returned: usize,
    pub resolved: usize,
    pub followup_settings: FollowupEntry,
    pub co_prescribed: usize,
    pub listed_for_co_prescribing: usize,
    pub cns_depressants_sha256: String,
}

/// Review-list patients by priority tier.
#[derive(Debug, serde::Serialize)]
pub struct Tiers {
    #[serde(rename = "1")]
    pub first: usize,
    #[serde(rename = "2")]
    pub second: usize,
    #[serde(rename = "3")]
    pub third: usize,
    #[serde(rename = "4")]
    pub fourth: usize,
}

/// The follow-up settings (METHOD.md §11).
#[derive(Debug, serde::Serialize)]
pub struct FollowupEntry {
    pub tapering_pct: f64,
    pub rapid_taper_pct: f64,
    pub escalation_pct: f64,
    pub abrupt_stop_from_mg_day: f64,
    pub abrupt_stop_step_pct: f64,
    /// mg OME a day (the manifest's key keeps the option's name).
    #[serde(rename = "co_prescribing_review_from")]
    pub co_prescribing_review_from_mg_day: f64,
}

/// `opal trend`'s `trend`: the month ends, the baseline and where the limits come from, the
/// aim, the series and their rebasing.
#[derive(Debug, serde::Serialize)]
pub struct TrendEntry {
    pub from: Option<String>,
    pub to: Option<String>,
    pub month_ends: usize,
    pub baseline: Option<String>,
    pub limits_from: String,
    pub warm_up_month_ends: usize,
    pub aim_baseline: String,
    pub aim_reduction_pct: f64,
    pub screen_outliers: bool,
    pub practices: usize,
    pub ics: usize,
    pub series_left_out_of_spc: usize,
    pub rebase: Vec<Option<String>>,
    pub rebase_series: Vec<RebaseAt>,
    pub suggest_rebase_run: usize,
    pub charts_with_a_suggested_rebase: usize,
    pub charts_with_suppressed_gaps: usize,
    /// Several list-size files: the month ends whose rates come from another month's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub list_sizes_from_another_month: Option<Vec<ListSizesOf>>,
}

/// A chart rebased at a month (`--rebase FILE`).
#[derive(Debug, serde::Serialize)]
pub struct RebaseAt {
    pub level: String,
    pub code: String,
    pub month: Option<String>,
}

/// A month whose rates come from another month's list sizes.
#[derive(Debug, serde::Serialize)]
pub struct ListSizesOf {
    pub month: String,
    pub list_sizes_of: String,
}

/// The command's own entry: `patients` of `opal audit`, `trend` of `opal trend`.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Own {
    Patients(PatientsEntry),
    Trend(TrendEntry),
}

/// What an audit's or a trend's manifest records besides every manifest's part.
#[derive(Debug, serde::Serialize)]
pub struct AuditRecord<'a> {
    pub as_of: String,
    pub first_issue_date: Option<String>,
    pub practices: Option<FileSha>,
    pub list_sizes: OneOrMany<Option<FileSha>>,
    pub exclude_patients: Option<ExcludedEntry>,
    pub settings: RunSettings<'a>,
    #[serde(flatten)]
    pub own: Own,
    pub distinct: Distinct,
    pub warnings: &'a [String],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_supply_zero_read_as_not_stated: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub patient_practices: Option<FileSha>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_map: Option<FileSha>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dosages: Option<FileSha>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<EventsEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviews: Option<ReviewsEntry>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub findings: &'a [String],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub practice_packs: Vec<PackEntry>,
}

/// The record of an audit or a trend; `own` is the command's own entry.
fn manifest<'a>(
    command: &'static str,
    args: &Settings<'a>,
    files: &'a [FileInfo],
    r: &'a AuditResult,
    config: &'a AuditConfig,
    written: &[PathBuf],
    own: Own,
) -> Manifest<'a, crate::checks::Accounting, AuditRecord<'a>> {
    let inputs: Vec<InputEntry> = files
        .iter()
        .zip(&r.date_formats)
        .map(|(f, df)| InputEntry::of(f, Some(df.as_str())))
        .collect();
    // Paths inside the output folder (a practice pack's files are in practices/<code>/).
    let outputs: Vec<String> = written
        .iter()
        .filter_map(|p| {
            let parent = written.first()?.parent()?;
            let inside = p
                .strip_prefix(parent)
                .ok()
                .or_else(|| p.file_name().map(Path::new))?;
            Some(inside.to_string_lossy().into_owned())
        })
        .collect();
    let t = &config.timeline;
    let record = AuditRecord {
        as_of: day_text(r.as_of),
        first_issue_date: r.first_issue_day.map(day_text),
        practices: FileSha::of(args.practices),
        list_sizes: OneOrMany::of(
            args.list_sizes
                .iter()
                .map(|p| FileSha::of(Some(p.as_path())))
                .collect(),
        ),
        exclude_patients: args.exclude_patients.map(|p| ExcludedEntry {
            path: p.display().to_string(),
            patients: config.excluded_patients.len(),
        }),
        settings: RunSettings {
            threshold_mg_day: t.threshold_mg_day,
            long_term_days: t.long_term_days,
            grace_days: t.grace_days,
            dose_window_days: t.dose_window_days,
            lookback_days: t.lookback_days,
            default_days: config.default_days,
            max_days_supply: config.max_days_supply,
            include_dependence: config.include_dependence,
            prn_policy: config.prn_policy.as_str(),
            stockpile: t.stockpile.as_str(),
            suppress: config.suppress,
            strict: config.strict,
            format: args.format,
            date_format: args.date_format,
            practice_code: args.practice_code,
        },
        own,
        distinct: Distinct {
            products: r.distinct_products,
            dose_texts: r.distinct_dose_texts,
        },
        warnings: &r.warnings,
        days_supply_zero_read_as_not_stated: (r.days_zero_not_stated > 0)
            .then_some(r.days_zero_not_stated),
        patient_practices: FileSha::of(args.patient_practices),
        code_map: FileSha::of(args.code_map),
        dosages: FileSha::of(args.dosages),
        events: args.events.as_ref().map(|(path, e)| EventsEntry {
            file: FileSha::of(Some(path)),
            rows: EventRows {
                read: e.rows,
                in_codelists: e.in_codelists,
                other_codes: e.other_codes,
                rejected: e.rejected,
            },
            after_as_of: e.after_as_of,
            excluded_patients: EventExclusions {
                palliative: e.excluded_palliative,
                cancer: e.excluded_cancer,
            },
            medication_reviews: e.medication_reviews,
            cancer_years: e.cancer_years,
            review_window_days: e.review_window_days,
            codelists: crate::codelists::CODELISTS
                .iter()
                .map(|(file, text, _)| CodelistEntry {
                    file,
                    sha256: hex_sha256(text.as_bytes()),
                })
                .collect(),
        }),
        reviews: args
            .reviews
            .map(
                |(path, [read, without_patient_id, without_a_review])| ReviewsEntry {
                    file: FileSha::of(Some(path)),
                    patients: config.reviews.len(),
                    rows: ReviewRows {
                        read,
                        without_patient_id,
                        without_a_review,
                    },
                },
            ),
        findings: &r.findings,
        practice_packs: args
            .practice_packs
            .iter()
            .map(|(code, folder)| PackEntry {
                practice_code: code.clone(),
                folder: format!("practices/{folder}"),
            })
            .collect(),
    };
    Manifest {
        opal_version: env!("CARGO_PKG_VERSION"),
        command,
        inputs,
        factor_set: FactorSetEntry::of(&config.factors),
        product_dictionary_sha256: hex_sha256(PRODUCTS_CSV.as_bytes()),
        rows: &r.accounting,
        rows_balance: "read = used + not_opioid + excluded + unresolved + rejected + after_as_of",
        outputs,
        record,
    }
}
