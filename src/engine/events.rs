//! `--events` applied at the audit date (METHOD.md §11): the record's exclusions joined to
//! the exclusion list, and each patient's last coded medication review, with the count of
//! every row for the manifest.

use crate::read::events::Events;

use super::{day_text, AuditConfig, AuditResult};

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
    if s.after_as_of > 0 {
        result.warnings.push(format!(
            "--events: {} coded entries dated after the audit date {} were not used",
            s.after_as_of,
            day_text(as_of)
        ));
    }
    s
}
