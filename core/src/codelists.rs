//! Exclusions and reviews from the coded record (METHOD.md §11; `opal audit --events`): the
//! SNOMED CT codelists kept in `data/codelists/` (NHS Digital primary care domain reference
//! sets, with their sources in its README), and what a patient's coded entries say at the
//! audit date: on the palliative care register, an active cancer, the last medication review.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::values::{civil_from_days, days_from_civil, format_day, Day};

/// What a code means to opal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// PALCARE_COD: the palliative care register.
    Palliative,
    /// PALCARENI_COD: palliative care no longer indicated.
    PalliativeNotIndicated,
    /// C19CAN_COD or C19HAEMCAN_COD: a cancer.
    Cancer,
    /// MEDRVW_COD or the care-planning medication review reference set.
    MedicationReview,
}

/// The codelists, with the file each came from.
pub const CODELISTS: [(&str, &str, Kind); 6] = [
    (
        "palcare_cod.csv",
        include_str!("../../data/codelists/palcare_cod.csv"),
        Kind::Palliative,
    ),
    (
        "palcareni_cod.csv",
        include_str!("../../data/codelists/palcareni_cod.csv"),
        Kind::PalliativeNotIndicated,
    ),
    (
        "c19can_cod.csv",
        include_str!("../../data/codelists/c19can_cod.csv"),
        Kind::Cancer,
    ),
    (
        "c19haemcan_cod.csv",
        include_str!("../../data/codelists/c19haemcan_cod.csv"),
        Kind::Cancer,
    ),
    (
        "medrvw_cod.csv",
        include_str!("../../data/codelists/medrvw_cod.csv"),
        Kind::MedicationReview,
    ),
    (
        "medication_review_refset.csv",
        include_str!("../../data/codelists/medication_review_refset.csv"),
        Kind::MedicationReview,
    ),
];

fn table() -> &'static HashMap<String, Kind> {
    static TABLE: OnceLock<HashMap<String, Kind>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut t = HashMap::new();
        for (_, text, kind) in CODELISTS {
            // `code,term`: the code is the first field (terms may be quoted; only the code is
            // read).
            for line in text.lines().skip(1) {
                let code = line.split(',').next().unwrap_or("").trim();
                if !code.is_empty() {
                    t.entry(code.to_string()).or_insert(kind);
                }
            }
        }
        t
    })
}

/// The kind of a SNOMED CT concept id (surrounding space and a leading `^` ignored); `None`
/// for a code in none of the lists.
pub fn kind_of(code: &str) -> Option<Kind> {
    table().get(code.trim().trim_start_matches('^')).copied()
}

/// A patient's latest coded entry of each kind on or before the audit date.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventFacts {
    pub palliative: Option<Day>,
    pub not_indicated: Option<Day>,
    pub cancer: Option<Day>,
    pub medication_review: Option<Day>,
}

impl EventFacts {
    /// Take one coded entry (dated on or before the audit date).
    pub fn add(&mut self, kind: Kind, day: Day) {
        let slot = match kind {
            Kind::Palliative => &mut self.palliative,
            Kind::PalliativeNotIndicated => &mut self.not_indicated,
            Kind::Cancer => &mut self.cancer,
            Kind::MedicationReview => &mut self.medication_review,
        };
        *slot = Some(slot.map_or(day, |d| d.max(day)));
    }

    /// Why the record excludes the patient at `as_of`, if it does: on the palliative care
    /// register (a PALCARE_COD code with no later PALCARENI_COD code, as QOF's register
    /// rule), else a cancer coded within `cancer_years` years before the audit date.
    pub fn exclusion(&self, as_of: Day, cancer_years: u32) -> Option<String> {
        if let Some(p) = self.palliative {
            if self.not_indicated.is_none_or(|n| n <= p) {
                return Some(format!(
                    "palliative care register (coded {})",
                    format_day(p)
                ));
            }
        }
        let since = years_before(as_of, cancer_years);
        match self.cancer {
            Some(c) if c > since => Some(format!(
                "cancer coded within {cancer_years} years (on {})",
                format_day(c)
            )),
            _ => None,
        }
    }

    /// The last medication review within `window_days` days ending on the audit date.
    pub fn review_within(&self, as_of: Day, window_days: i32) -> Option<Day> {
        self.medication_review.filter(|&d| d > as_of - window_days)
    }
}

/// The same date `years` years before (29 February to 28 February).
fn years_before(day: Day, years: u32) -> Day {
    let (y, m, d) = civil_from_days(day);
    let y = y - years as i32;
    days_from_civil(y, m, d)
        .or_else(|| days_from_civil(y, m, d - 1))
        .unwrap_or(day - 365 * years as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, dd: u32) -> Day {
        days_from_civil(y, m, dd).unwrap()
    }

    #[test]
    fn codes_resolve_to_their_lists() {
        assert_eq!(kind_of("1403151000000103"), Some(Kind::Palliative)); // On palliative care register
        assert_eq!(
            kind_of(" 1048611000000104 "),
            Some(Kind::PalliativeNotIndicated)
        );
        assert_eq!(kind_of("1651000119109"), Some(Kind::Cancer)); // Primary adenocarcinoma of pancreas
        assert_eq!(kind_of("1239511000000100"), Some(Kind::MedicationReview)); // Structured medication review
        assert_eq!(kind_of("22298006"), None); // Myocardial infarction
                                               // Every list read, none empty.
        for (file, text, _) in CODELISTS {
            assert!(text.starts_with("code,term"), "{file}");
            assert!(text.lines().count() > 2, "{file}");
        }
    }

    #[test]
    fn exclusions_by_hand() {
        let as_of = d(2026, 10, 31);
        let mut f = EventFacts::default();
        assert_eq!(f.exclusion(as_of, 5), None);
        // On the register: excluded.
        f.add(Kind::Palliative, d(2026, 3, 1));
        assert_eq!(
            f.exclusion(as_of, 5).as_deref(),
            Some("palliative care register (coded 2026-03-01)")
        );
        // A later "not indicated" code ends it; one on the same day does not (QOF: "on a
        // later date").
        f.add(Kind::PalliativeNotIndicated, d(2026, 3, 1));
        assert!(f.exclusion(as_of, 5).is_some());
        f.add(Kind::PalliativeNotIndicated, d(2026, 5, 1));
        assert_eq!(f.exclusion(as_of, 5), None);
        // A cancer 5 years before the audit date to the day is not within 5 years; a day
        // later is.
        let mut c = EventFacts::default();
        c.add(Kind::Cancer, d(2021, 10, 31));
        assert_eq!(c.exclusion(as_of, 5), None);
        c.add(Kind::Cancer, d(2021, 11, 1));
        assert_eq!(
            c.exclusion(as_of, 5).as_deref(),
            Some("cancer coded within 5 years (on 2021-11-01)")
        );
        // The latest review within the window (365 days: 2025-11-01 to 2026-10-31).
        let mut r = EventFacts::default();
        r.add(Kind::MedicationReview, d(2025, 10, 31));
        assert_eq!(r.review_within(as_of, 365), None);
        r.add(Kind::MedicationReview, d(2025, 11, 1));
        assert_eq!(r.review_within(as_of, 365), Some(d(2025, 11, 1)));
        // 29 February back one year is 28 February.
        assert_eq!(years_before(d(2028, 2, 29), 1), d(2027, 2, 28));
    }
}
