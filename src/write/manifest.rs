//! manifest.json of `opal audit`: opal's version, every input with its size and SHA-256,
//! every setting, the factor set and dictionary checksums, the row accounting and the
//! warnings — and no patient identifier.

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
    let patients = serde_json::json!({
        "current": current().count(),
        "excluded": current().filter(|p| p.excluded_reason.is_some()).count(),
        "review_list": r.patients.iter().filter(|p| p.to_review()).count(),
        "priority": {"1": tier(1), "2": tier(2), "3": tier(3), "4": tier(4)},
        "abrupt_stops_listed": r.patients.iter().filter(|p| p.stopped_abruptly_from.is_some() && p.to_review()).count(),
        "previous_as_of": day_text(crate::engine::patients::previous_as_of(r, config)),
        "new": status(crate::followup::Status::New),
        "continuing": status(crate::followup::Status::Continuing),
        "returned": status(crate::followup::Status::Returned),
        "resolved": r.resolved.len(),
        "followup_settings": {
            "tapering_pct": f.tapering_pct,
            "rapid_taper_pct": f.rapid_pct,
            "escalation_pct": f.escalation_pct,
            "abrupt_stop_from_mg_day": f.abrupt_from_mg_day,
            "abrupt_stop_step_pct": f.abrupt_step_pct,
            "co_prescribing_review_from": f.co_prescribing_review_from_mg_day,
        },
        "co_prescribed": current().filter(|p| !p.co_prescribed.is_empty()).count(),
        "listed_for_co_prescribing": r.patients.iter().filter(|p| p.co_listed && p.to_review()).count(),
        "cns_depressants_sha256": hex_sha256(crate::cns::CNS_CSV.as_bytes()),
    });
    let manifest = manifest(
        "audit",
        args,
        files,
        r,
        config,
        written,
        ("patients", patients),
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
    trend: serde_json::Value,
) -> Result<()> {
    let manifest = manifest("trend", args, files, r, config, written, ("trend", trend));
    write_manifest(out, &manifest)
}

/// The manifest's `trend` entry of `opal trend`: the month ends, the baseline and where the
/// limits come from, the aim, the series.
pub fn trend_entry(
    series: &[crate::trend::Series],
    settings: &crate::trend::TrendSettings,
    aim_reduction_pct: f64,
    computed: &crate::trend::Computed,
) -> serde_json::Value {
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
    serde_json::json!({
        "from": ends.first().map(|d| month_label(*d)),
        "to": ends.last().map(|d| month_label(*d)),
        "month_ends": ends.len(),
        "baseline": settings.baseline.as_ref().map(span),
        "limits_from": match settings.limits_baseline() {
            Some(r) if settings.baseline.is_none() => format!("every complete month end, {}", span(&r)),
            Some(r) => format!("the baseline, {}", span(&r)),
            None => "every month end".to_string(),
        },
        "warm_up_month_ends": settings.complete_from.min(ends.len()),
        "aim_baseline": span(&base),
        "aim_reduction_pct": aim_reduction_pct,
        "screen_outliers": settings.screen_outliers,
        "practices": series.iter().filter(|s| s.level == "practice").count(),
        "ics": series.iter().filter(|s| s.level == "ics").count(),
        "series_left_out_of_spc": computed.left_out,
        "rebase": settings.rebase.all.iter().map(label).collect::<Vec<_>>(),
        "rebase_series": settings.rebase.series.iter().flat_map(|((level, code), at)| {
            at.iter().map(move |k| serde_json::json!({"level": level, "code": code, "month": label(k)}))
        }).collect::<Vec<_>>(),
        "suggest_rebase_run": settings.suggest_run,
        "charts_with_a_suggested_rebase": computed.charts.iter().flatten().flatten().filter(|c| c.suggested_rebase.is_some()).count(),
        "charts_with_suppressed_gaps": computed.charts.iter().flatten().flatten().filter(|c| c.at.len() < ends.len()).count(),
    })
}

/// What every manifest records, `opal audit`, `opal trend` and `opal epd` alike: opal's
/// version and command, each input, the factor set and the dictionary by checksum, the row
/// accounting and its balance, the outputs; and the command's own entries (`record`). Written
/// with its keys in name order, as a JSON object's are.
#[derive(Debug, serde::Serialize)]
pub struct Manifest<'a, Rows: serde::Serialize> {
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
    pub record: serde_json::Map<String, serde_json::Value>,
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
pub fn write_manifest<R: serde::Serialize>(out: &Path, manifest: &Manifest<'_, R>) -> Result<()> {
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

/// The record of an audit or a trend; `extra` is the command's own entry.
fn manifest<'a>(
    command: &'static str,
    args: &Settings<'_>,
    files: &'a [FileInfo],
    r: &'a AuditResult,
    config: &'a AuditConfig,
    written: &[PathBuf],
    extra: (&str, serde_json::Value),
) -> Manifest<'a, crate::checks::Accounting> {
    use serde_json::json;
    let inputs: Vec<InputEntry> = files
        .iter()
        .zip(&r.date_formats)
        .map(|(f, df)| InputEntry::of(f, Some(df.as_str())))
        .collect();
    let file_sha = |p: Option<&Path>| -> Option<serde_json::Value> {
        let p = p?;
        let bytes = std::fs::read(p).ok()?;
        Some(json!({"path": p.display().to_string(), "sha256": hex_sha256(&bytes)}))
    };
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
    let mut manifest = json!({
        "as_of": day_text(r.as_of),
        "first_issue_date": r.first_issue_day.map(day_text),
        "practices": file_sha(args.practices),
        // One file as before; several (one a month) as a list.
        "list_sizes": match args.list_sizes {
            [] => serde_json::Value::Null,
            [one] => file_sha(Some(one.as_path())).into(),
            many => many.iter().map(|p| file_sha(Some(p.as_path()))).collect::<Vec<_>>().into(),
        },
        "exclude_patients": args.exclude_patients.map(|p| json!({
            "path": p.display().to_string(),
            "patients": config.excluded_patients.len(),
        })),
        "settings": {
            "threshold_mg_day": config.timeline.threshold_mg_day,
            "long_term_days": config.timeline.long_term_days,
            "grace_days": config.timeline.grace_days,
            "dose_window_days": config.timeline.dose_window_days,
            "lookback_days": config.timeline.lookback_days,
            "default_days": config.default_days,
            "max_days_supply": config.max_days_supply,
            "include_dependence": config.include_dependence,
            "prn_policy": config.prn_policy.as_str(),
            "stockpile": config.timeline.stockpile.as_str(),
            "suppress": config.suppress,
            "strict": config.strict,
            "format": args.format,
            "date_format": args.date_format,
        },
        extra.0: extra.1,
        "distinct": {"products": r.distinct_products, "dose_texts": r.distinct_dose_texts},
        "warnings": r.warnings,
    });
    if r.days_zero_not_stated > 0 {
        manifest["days_supply_zero_read_as_not_stated"] = r.days_zero_not_stated.into();
    }
    if let Some(p) = file_sha(args.patient_practices) {
        manifest["patient_practices"] = p;
    }
    if let Some(p) = file_sha(args.code_map) {
        manifest["code_map"] = p;
    }
    if let Some(p) = file_sha(args.dosages) {
        manifest["dosages"] = p;
    }
    if let Some((path, e)) = &args.events {
        if let Some(p) = file_sha(Some(path)) {
            manifest["events"] = p;
        }
        manifest["events"]["rows"] = json!({
            "read": e.rows,
            "in_codelists": e.in_codelists,
            "other_codes": e.other_codes,
            "rejected": e.rejected,
        });
        manifest["events"]["after_as_of"] = e.after_as_of.into();
        manifest["events"]["excluded_patients"] = json!({
            "palliative care register": e.excluded_palliative,
            "cancer": e.excluded_cancer,
        });
        manifest["events"]["medication_reviews"] = e.medication_reviews.into();
        manifest["events"]["cancer_years"] = e.cancer_years.into();
        manifest["events"]["review_window_days"] = e.review_window_days.into();
        manifest["events"]["codelists"] = crate::codelists::CODELISTS
            .iter()
            .map(|(file, text, _)| json!({"file": file, "sha256": hex_sha256(text.as_bytes())}))
            .collect::<Vec<_>>()
            .into();
    }
    if let Some((path, [rows, no_patient, no_review])) = args.reviews {
        if let Some(p) = file_sha(Some(path)) {
            manifest["reviews"] = p;
        }
        manifest["reviews"]["patients"] = config.reviews.len().into();
        manifest["reviews"]["rows"] = json!({
            "read": rows,
            "without_patient_id": no_patient,
            "without_a_review": no_review,
        });
    }
    if let Some(code) = args.practice_code {
        manifest["settings"]["practice_code"] = code.into();
    }
    if !r.findings.is_empty() {
        manifest["findings"] = r.findings.clone().into();
    }
    if !args.practice_packs.is_empty() {
        manifest["practice_packs"] = args
            .practice_packs
            .iter()
            .map(|(code, folder)| json!({"practice_code": code, "folder": format!("practices/{folder}")}))
            .collect();
    }
    let serde_json::Value::Object(record) = manifest else {
        unreachable!("json! of an object is an object")
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
