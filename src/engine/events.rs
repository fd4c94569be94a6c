//! `--events` applied at the audit date (METHOD.md §11): the record's exclusions joined to
//! the exclusion list, and each patient's last coded medication review, with the count of
//! every row for the manifest.

use crate::read::events::Events;

use super::{day_text, AuditConfig, AuditResult};

/// `--reviews` against the extract: a warning when none of the file's patients is in it (a
/// list of another practice, or ids written another way), so that carrying reviews forward
/// never fails silently.
pub fn check_reviews(config: &AuditConfig, result: &mut AuditResult, file: &std::path::Path) {
    if config.reviews.is_empty() {
        return;
    }
    let ids: std::collections::HashSet<&str> =
        result.patient_ids.iter().map(String::as_str).collect();
    let found = config
        .reviews
        .keys()
        .filter(|id| ids.contains(id.as_str()))
        .count();
    if found == 0 {
        result.warnings.push(crate::error::with_hint(format!("--reviews {}: none of its {} reviewed patients is in the extract, so no review was \
             carried forward", crate::error::escape(&file.display().to_string()), config.reviews.len()), "give the review list made from this practice's or ICS's \
             extract, with patient ids as the extract writes them"));
    }
}

/// What `--events` did, for the manifest.
#[derive(Debug, Clone, Default)]
pub struct EventsSummary {
    pub rows: u64,
    pub in_codelists: u64,
    pub other_codes: u64,
    pub rejected: u64,
    pub after_as_of: u64,
    /// Patients the record excludes, by reason (those already on --exclude-patients keep
    /// that reason and are not counted here).
    pub excluded_palliative: u64,
    pub excluded_cancer: u64,
    pub medication_reviews: u64,
    pub cancer_years: u32,
    pub review_window_days: i32,
}

/// Join the record's exclusions and reviews at the audit date to the settings.
pub fn apply_events(
    ev: &Events,
    config: &mut AuditConfig,
    result: &mut AuditResult,
    cancer_years: u32,
    review_window_days: i32,
) -> EventsSummary {
    let as_of = result.as_of;
    let mut s = EventsSummary {
        rows: ev.rows,
        in_codelists: ev.in_codelists,
        other_codes: ev.other_codes,
        rejected: ev.rejected,
        after_as_of: ev.entries.iter().filter(|e| e.2 > as_of).count() as u64,
        cancer_years,
        review_window_days,
        ..EventsSummary::default()
    };
    let mut facts: Vec<_> = ev.facts_at(as_of).into_iter().collect();
    facts.sort_by(|a, b| a.0.cmp(b.0));
    for (id, f) in facts {
        if let Some(day) = f.review_within(as_of, review_window_days) {
            config.medication_reviews.insert(id.to_string(), day);
            s.medication_reviews += 1;
        }
        if config.excluded_patients.contains_key(id) {
            continue;
        }
        if let Some(reason) = f.exclusion(as_of, cancer_years) {
            if reason.starts_with("palliative") {
                s.excluded_palliative += 1;
            } else {
                s.excluded_cancer += 1;
            }
            config.excluded_patients.insert(id.to_string(), reason);
        }
    }
    if let Some((line, column, value, why)) = &ev.first_rejected {
        result.warnings.push(format!(
            "--events: {} row(s) with a listed code were set aside (the first: line {line}, \
             {column} '{}': {why})",
            ev.rejected,
            crate::error::escape(value)
        ));
    }
    if ev.rows > 0 && ev.in_codelists == 0 {
        result.warnings.push(crate::error::with_hint(format!("--events: none of its {} rows has a code in opal's codelists (data/codelists/), so \
             nothing was excluded or shown from it", ev.rows), "the code column must hold SNOMED CT \
             concept ids as GP systems export them (not Read or CTV3 codes, and not numbers a \
             spreadsheet has turned into 1.40315E+15)"));
    }
    if s.after_as_of > 0 {
        result.warnings.push(format!(
            "--events: {} coded entries dated after the audit date {} were not used",
            s.after_as_of,
            day_text(as_of)
        ));
    }
    s
}
