//! The settings of an audit: everything a run needs besides the extracts, as plain data
//! (the command line builds them; the method reads them).

use std::collections::BTreeMap;

use crate::factors::FactorSet;
use crate::followup::FollowUpSettings;
use crate::item::{ItemSettings, PrnPolicy};
use crate::timeline::TimelineSettings;
use crate::values::{DateFormat, Day};

/// A practice's place in the system (`--practices`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PracticeInfo {
    pub ics_code: String,
    pub practice_name: String,
    pub ics_name: String,
    /// The primary care network, where the file gives one (gp-reg-pat-prac-map.csv does).
    pub pcn_code: String,
    pub pcn_name: String,
    /// ODS prescribing setting (epraccur's column 26: 4 is a GP practice); empty when the
    /// file has none.
    pub setting: String,
}

/// Everything an audit run needs besides the extracts.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub as_of: Option<Day>,
    pub timeline: TimelineSettings,
    pub default_days: f64,
    pub prn_policy: PrnPolicy,
    pub factors: FactorSet,
    pub date_format: Option<DateFormat>,
    pub strict: bool,
    pub suppress: bool,
    /// patient id → reason.
    pub excluded_patients: BTreeMap<String, String>,
    pub practices: Option<BTreeMap<String, PracticeInfo>>,
    /// The list sizes at the audit date (the rates of the summaries); set from
    /// [`AuditConfig::list_size_files`] once the audit date is known
    /// ([`AuditConfig::use_list_sizes_of`]).
    pub list_sizes: Option<BTreeMap<String, f64>>,
    /// Every `--list-sizes` file, by the month it is of (METHOD.md §9.5): the trend uses each
    /// month end's own.
    pub list_size_files: Option<ListSizes>,
    /// The day of the run: without `--as-of`, issue dates after it are rejected as in the
    /// future (a typo must not become the audit date).
    pub today: Day,
    /// `--include-dependence`: products for opioid dependence are audited, not excluded.
    pub include_dependence: bool,
    /// `--max-days-supply`: an item whose days of supply (however found) is above this is
    /// rejected as implausible (METHOD.md §5).
    pub max_days_supply: f64,
    /// `--previous-as-of`: the date of the previous audit (default: the last day of the month
    /// before the audit date), for each listed patient's status and the resolved list.
    pub previous_as_of: Option<Day>,
    /// The follow-up's thresholds (METHOD.md §11).
    pub followup: FollowUpSettings,
    /// `--reviews`: patient id → their last review (METHOD.md §11).
    pub reviews: BTreeMap<String, crate::followup::Review>,
    /// `--events`: patient id → their last coded medication review within the review window.
    pub medication_reviews: BTreeMap<String, Day>,
}

impl AuditConfig {
    /// The settings of an item's numbers (METHOD.md §5).
    pub fn item_settings(&self) -> ItemSettings {
        ItemSettings {
            prn_policy: self.prn_policy,
            default_days: self.default_days,
            max_days_supply: self.max_days_supply,
        }
    }
}

impl AuditConfig {
    /// The list sizes of the month of `day` and the month of the file they are from
    /// ([`ListSizes::for_month`]); `None` without `--list-sizes`.
    pub fn list_sizes_for(&self, day: Day) -> Option<(&BTreeMap<String, f64>, Option<&str>)> {
        self.list_size_files
            .as_ref()?
            .for_month(&crate::trend::month_label(day))
    }

    /// Use the list sizes of the audit date's month for the summaries.
    pub fn use_list_sizes_of(&mut self, as_of: Day) {
        if let Some((sizes, _)) = self.list_sizes_for(as_of) {
            self.list_sizes = Some(sizes.clone());
        }
    }

    /// The ICS of a practice: from `--practices` when it lists the practice, else the
    /// extract's own ics_code, else `UNKNOWN`.
    pub fn ics_of(&self, practice: &str, extract_ics: &str) -> String {
        if let Some(map) = &self.practices {
            if let Some(info) = map.get(practice) {
                if !info.ics_code.is_empty() {
                    return info.ics_code.clone();
                }
            }
        }
        if !extract_ics.is_empty() {
            return extract_ics.to_string();
        }
        "UNKNOWN".to_string()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// METHOD.md's defaults, the audit date 2026-10-31 and today 2026-11-29.
    pub(crate) fn config() -> AuditConfig {
        AuditConfig {
            as_of: crate::values::days_from_civil(2026, 10, 31),
            timeline: TimelineSettings::default(),
            default_days: 28.0,
            prn_policy: PrnPolicy::Max,
            factors: FactorSet::builtin(crate::factors::DEFAULT_SET).unwrap(),
            date_format: None,
            strict: false,
            suppress: false,
            excluded_patients: BTreeMap::new(),
            reviews: BTreeMap::new(),
            medication_reviews: BTreeMap::new(),
            practices: None,
            list_sizes: None,
            list_size_files: None,
            today: crate::values::days_from_civil(2026, 11, 29).unwrap(),
            include_dependence: false,
            max_days_supply: 366.0,
            previous_as_of: None,
            followup: FollowUpSettings::default(),
        }
    }

    #[test]
    fn the_ics_of_a_practice_comes_from_the_practices_file_then_the_extract() {
        let mut c = config();
        assert_eq!(c.ics_of("A81001", ""), "UNKNOWN");
        assert_eq!(c.ics_of("A81001", "QHM"), "QHM");
        let info = PracticeInfo {
            ics_code: "QYG".into(),
            ..PracticeInfo::default()
        };
        c.practices = Some(BTreeMap::from([("A81001".to_string(), info)]));
        assert_eq!(c.ics_of("A81001", "QHM"), "QYG");
        assert_eq!(c.ics_of("B82002", "QHM"), "QHM");
    }
}

/// Registered list sizes by month (`--list-sizes`, one file or one a month): NHS England's
/// files carry their extract date; a file without one serves every month.
#[derive(Debug, Clone, Default)]
pub struct ListSizes {
    /// `YYYY-MM` → practice → patients.
    pub by_month: BTreeMap<String, BTreeMap<String, f64>>,
    /// A file without a date.
    pub undated: Option<BTreeMap<String, f64>>,
}

impl ListSizes {
    /// The list sizes for `month` and the month they are from: that month's file, else the
    /// nearest earlier one, else the undated file, else (a month before every file) the
    /// earliest (METHOD.md §9.5); `None` when none was given.
    pub fn for_month(&self, month: &str) -> Option<(&BTreeMap<String, f64>, Option<&str>)> {
        if let Some((m, sizes)) = self.by_month.range(..=month.to_string()).next_back() {
            return Some((sizes, Some(m.as_str())));
        }
        if let Some(u) = &self.undated {
            return Some((u, None));
        }
        self.by_month
            .iter()
            .next()
            .map(|(m, sizes)| (sizes, Some(m.as_str())))
    }
}
