//! The review list that follows patients (METHOD.md §11): each listed patient's status since
//! the previous audit, why a patient came off the list, tapers measured from the 28-day mean
//! at each month end, and abrupt stops. Pure functions of a patient's states at those dates
//! ([`crate::timeline::month_states_all`]).

use crate::timeline::MonthState;
use crate::values::{days_from_civil, format_day, Day};

/// The thresholds of the follow-up, with their sources (METHOD.md §11).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FollowUpSettings {
    /// `tapering`: at least this many percent below the 12-month peak (Fenton et al., JAMA
    /// Netw Open 2019; Agnoli et al., JAMA 2021: 15%).
    pub tapering_pct: f64,
    /// `rapid`: a fall of more than this many percent between two consecutive month ends in a
    /// long-term patient (the same papers: 40%).
    pub rapid_pct: f64,
    /// An abrupt stop: the last month's dose at least this many mg a day...
    pub abrupt_from_mg_day: f64,
    /// ...and no month in the three before the stop below this percentage of the one before.
    pub abrupt_step_pct: f64,
    /// A patient with a CNS depressant in the look-back window goes on the review list when
    /// their OME/day is above this (0: never).
    pub co_prescribing_review_from_mg_day: f64,
}

impl Default for FollowUpSettings {
    fn default() -> Self {
        FollowUpSettings {
            tapering_pct: 15.0,
            rapid_pct: 40.0,
            abrupt_from_mg_day: 50.0,
            abrupt_step_pct: 50.0,
            co_prescribing_review_from_mg_day: 50.0,
        }
    }
}

/// The last day of the month `k` months before the month of `day` (k = 1: the previous
/// month's last day).
pub fn month_end_before(day: Day, k: u32) -> Day {
    let t = format_day(day);
    let (y, m): (i32, i32) = (t[..4].parse().unwrap_or(1970), t[5..7].parse().unwrap_or(1));
    // The first of the month k − 1 months before, less a day.
    let months = y * 12 + (m - 1) - (k as i32 - 1);
    let (y, m) = (months.div_euclid(12), months.rem_euclid(12) as u32 + 1);
    days_from_civil(y, m, 1).map_or(day, |d| d - 1)
}

/// A listed patient's status since the previous audit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not on the list at the previous date, nor at any month end of the 12 before it.
    New,
    /// On the list at the previous date.
    Continuing,
    /// Not at the previous date, but at one of the 12 month ends before it.
    Returned,
}

impl Status {
    pub fn of(listed_at_previous: bool, listed_before: bool) -> Status {
        match (listed_at_previous, listed_before) {
            (true, _) => Status::Continuing,
            (false, true) => Status::Returned,
            (false, false) => Status::New,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Continuing => "continuing",
            Status::Returned => "returned",
        }
    }
}

/// Why a patient listed at the previous date is not listed now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Why {
    /// Neither the patient nor their practice has a row of any kind (opioid or not) since the
    /// previous date: the extract no longer covers them.
    NoLongerInExtract,
    /// Now on the exclusion list.
    Excluded,
    /// Their latest item is now at another practice.
    MovedPractice,
    /// No current episode.
    Stopped,
    /// Listed for their dose at the previous date; now under the threshold.
    BelowThreshold,
    /// Listed as long-term at the previous date; the current episode is now shorter.
    NoLongerLongTerm,
    /// Listed for a CNS depressant with the opioid at the previous date; none in the
    /// look-back window now.
    NoLongerCoPrescribed,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::NoLongerInExtract => "no longer in the extract",
            Why::Excluded => "excluded",
            Why::MovedPractice => "moved practice",
            Why::Stopped => "stopped",
            Why::BelowThreshold => "below threshold",
            Why::NoLongerLongTerm => "no longer long-term",
            Why::NoLongerCoPrescribed => "no longer co-prescribed",
        }
    }
}

/// What the previous date and now say of a patient, for [`why_resolved`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Change {
    /// On the list now (by any rule, the exclusion list aside).
    pub listed_now: bool,
    /// On the list at the previous date for a CNS depressant with the opioid.
    pub co_then: bool,
    /// A CNS depressant in the look-back window now.
    pub co_now: bool,
    /// The patient or their practice has a row of any kind since the previous date.
    pub covered: bool,
    pub excluded: bool,
    /// Their latest item is at the practice of their latest item at the previous date.
    pub same_practice: bool,
}

/// Why a patient listed at the previous date (`then`) is not on the list now (`now`: their
/// state at the audit date), in this order: excluded now; moved practice (their latest item
/// is at another practice); still listed (`None`); no longer in the extract (neither they
/// nor their practice have a row of any kind since the previous date, so opal cannot tell
/// whether they stopped); stopped (no current episode); below threshold (listed for their
/// dose then); no longer long-term; for a patient listed for a CNS depressant, below the
/// co-prescribing dose or no longer co-prescribed.
pub fn why_resolved(then: &MonthState, now: &MonthState, c: &Change) -> Option<Why> {
    if c.excluded {
        return Some(Why::Excluded);
    }
    if !c.same_practice {
        return Some(Why::MovedPractice);
    }
    if c.listed_now {
        return None;
    }
    if !c.covered {
        return Some(Why::NoLongerInExtract);
    }
    if !now.current {
        return Some(Why::Stopped);
    }
    if then.high_dose || then.high_dose_now {
        return Some(Why::BelowThreshold);
    }
    if then.long_term || !c.co_then {
        return Some(Why::NoLongerLongTerm);
    }
    Some(if c.co_now {
        Why::BelowThreshold
    } else {
        Why::NoLongerCoPrescribed
    })
}

/// An abrupt stop: the 28-day means at the last four month ends before the stop, oldest
/// first (`[m−3, m−2, m−1, m]`, `m` the last month on opioids): the last at least
/// `abrupt_from_mg_day`, and none of the three steps into it below `abrupt_step_pct` of the
/// one before (the dose was not brought down first).
pub fn abrupt_stop(before_stop: &[f64; 4], s: &FollowUpSettings) -> bool {
    before_stop[3] >= s.abrupt_from_mg_day
        && before_stop
            .windows(2)
            .all(|w| w[1] >= w[0] * s.abrupt_step_pct / 100.0)
}

/// A current patient's taper measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Taper {
    /// The 28-day mean three month ends before the audit date.
    pub ome_mg_day_3m_ago: f64,
    /// The highest 28-day mean at the audit date and the 12 month ends before it.
    pub ome_mg_day_12m_peak: f64,
    /// `(now − peak) ÷ peak × 100`; `None` when the peak is 0.
    pub change_from_peak_pct: Option<f64>,
    /// The largest fall between consecutive month ends over the last six months (the sixth
    /// month end before the audit date to the audit date), in percent of the earlier one;
    /// 0 when none fell, `None` when none was above 0.
    pub largest_monthly_drop_pct: Option<f64>,
    pub label: TaperLabel,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaperLabel {
    None,
    /// At least `tapering_pct` below the 12-month peak.
    Tapering,
    /// A fall of more than `rapid_pct` between consecutive month ends, in a long-term patient.
    Rapid,
}

impl TaperLabel {
    pub fn as_str(self) -> &'static str {
        match self {
            TaperLabel::None => "",
            TaperLabel::Tapering => "tapering",
            TaperLabel::Rapid => "rapid",
        }
    }
}

/// The taper of a current patient from the 28-day means at the 12 month ends before the
/// audit date (`months[0]` 12 months before, `months[11]` the last one) and at the audit date
/// (`now`); `long_term` at the audit date.
pub fn taper(months: &[f64; 12], now: f64, long_term: bool, s: &FollowUpSettings) -> Taper {
    let peak = months.iter().copied().fold(now, f64::max);
    let change = (peak > 0.0).then(|| (now - peak) / peak * 100.0);
    // The last six month ends and the audit date: six steps.
    let recent: Vec<f64> = months[6..].iter().copied().chain([now]).collect();
    let drops: Vec<f64> = recent
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| ((w[0] - w[1]) / w[0] * 100.0).max(0.0))
        .collect();
    let largest = drops.iter().copied().reduce(f64::max);
    let label = if long_term && largest.is_some_and(|d| d > s.rapid_pct) {
        TaperLabel::Rapid
    } else if change.is_some_and(|c| c <= -s.tapering_pct) {
        TaperLabel::Tapering
    } else {
        TaperLabel::None
    };
    Taper {
        ome_mg_day_3m_ago: months[9],
        ome_mg_day_12m_peak: peak,
        change_from_peak_pct: change,
        largest_monthly_drop_pct: largest,
        label,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(current: bool, high: bool, now: bool, long: bool) -> MonthState {
        MonthState {
            month: 0,
            latest_item: 0,
            current,
            ome_mg_day: 0.0,
            window_ome_mg: 0.0,
            high_dose: high,
            high_dose_now: now,
            long_term: long,
        }
    }

    #[test]
    fn month_ends_before_a_date() {
        let d = |y, m, dd| days_from_civil(y, m, dd).unwrap();
        assert_eq!(month_end_before(d(2026, 10, 31), 1), d(2026, 9, 30));
        assert_eq!(month_end_before(d(2026, 10, 15), 1), d(2026, 9, 30));
        assert_eq!(month_end_before(d(2026, 3, 31), 1), d(2026, 2, 28));
        assert_eq!(month_end_before(d(2026, 2, 10), 3), d(2025, 11, 30));
        assert_eq!(month_end_before(d(2026, 10, 31), 12), d(2025, 10, 31));
    }

    #[test]
    fn status_by_hand() {
        assert_eq!(Status::of(true, false), Status::Continuing);
        assert_eq!(Status::of(true, true), Status::Continuing);
        assert_eq!(Status::of(false, true), Status::Returned);
        assert_eq!(Status::of(false, false), Status::New);
    }

    #[test]
    fn each_why_in_its_order() {
        let high_then = state(true, true, true, false);
        let long_then = state(true, false, false, true);
        let co_only_then = state(true, false, false, false);
        let listed_now = state(true, false, false, true);
        let low_now = state(true, false, false, false);
        let stopped = state(false, false, false, false);
        let base = Change {
            listed_now: false,
            co_then: false,
            co_now: false,
            covered: true,
            excluded: false,
            same_practice: true,
        };
        let w = |then: &MonthState, now: &MonthState, c: Change| {
            why_resolved(then, now, &c).map(Why::as_str)
        };
        let listed = Change {
            listed_now: true,
            ..base
        };
        let excluded = Change {
            excluded: true,
            same_practice: false,
            ..listed
        };
        assert_eq!(w(&high_then, &listed_now, excluded), Some("excluded"));
        let moved = Change {
            same_practice: false,
            ..listed
        };
        assert_eq!(w(&high_then, &listed_now, moved), Some("moved practice"));
        assert_eq!(w(&high_then, &listed_now, listed), None);
        // Still listed (a supply running on), though nothing was issued since: not resolved.
        let quiet = Change {
            covered: false,
            ..listed
        };
        assert_eq!(w(&high_then, &listed_now, quiet), None);
        let gone = Change {
            covered: false,
            ..base
        };
        assert_eq!(
            w(&high_then, &stopped, gone),
            Some("no longer in the extract")
        );
        assert_eq!(w(&high_then, &stopped, base), Some("stopped"));
        assert_eq!(w(&high_then, &low_now, base), Some("below threshold"));
        assert_eq!(w(&long_then, &low_now, base), Some("no longer long-term"));
        let co = Change {
            co_then: true,
            ..base
        };
        assert_eq!(
            w(&co_only_then, &low_now, co),
            Some("no longer co-prescribed")
        );
        let co_still = Change { co_now: true, ..co };
        assert_eq!(
            w(&co_only_then, &low_now, co_still),
            Some("below threshold")
        );
    }

    #[test]
    fn abrupt_stop_by_hand() {
        let s = FollowUpSettings::default();
        // 120, 120, 120, 120 then nothing: abrupt.
        assert!(abrupt_stop(&[120.0, 120.0, 120.0, 120.0], &s));
        // Last month 49.9: under 50 mg/day, not abrupt.
        assert!(!abrupt_stop(&[60.0, 55.0, 52.0, 49.9], &s));
        // 50 exactly is "at least 50".
        assert!(abrupt_stop(&[60.0, 55.0, 52.0, 50.0], &s));
        // Brought down first: 240 → 110 is below half (120) of the month before.
        assert!(!abrupt_stop(&[240.0, 110.0, 100.0, 100.0], &s));
        // Exactly half is not below half: still abrupt.
        assert!(abrupt_stop(&[240.0, 120.0, 120.0, 120.0], &s));
    }

    #[test]
    fn taper_labels_at_their_edges() {
        let s = FollowUpSettings::default();
        let flat = [100.0; 12];
        // Peak 100, now 85: exactly 15% below: tapering.
        let t = taper(&flat, 85.0, true, &s);
        assert_eq!(t.label, TaperLabel::Tapering);
        assert_eq!(t.change_from_peak_pct, Some(-15.0));
        assert_eq!(t.largest_monthly_drop_pct, Some(15.0));
        assert_eq!((t.ome_mg_day_3m_ago, t.ome_mg_day_12m_peak), (100.0, 100.0));
        // 85.1: 14.9% below: not tapering.
        assert_eq!(taper(&flat, 85.1, true, &s).label, TaperLabel::None);
        // A fall of exactly 40% between two month ends is not "more than 40%": tapering.
        let t = taper(&flat, 60.0, true, &s);
        assert_eq!(t.largest_monthly_drop_pct, Some(40.0));
        assert_eq!(t.label, TaperLabel::Tapering);
        // 40.1%: rapid, in a long-term patient; not rapid in a short one.
        assert_eq!(taper(&flat, 59.9, true, &s).label, TaperLabel::Rapid);
        assert_eq!(taper(&flat, 59.9, false, &s).label, TaperLabel::Tapering);
        // A rapid fall in month 8 (of 12), then back up: still rapid (within six months),
        // and 3 months ago is month 9's value.
        let mut m = [100.0; 12];
        m[7] = 50.0;
        m[9] = 90.0;
        let t = taper(&m, 100.0, true, &s);
        assert_eq!(t.largest_monthly_drop_pct, Some(50.0));
        assert_eq!(t.label, TaperLabel::Rapid);
        assert_eq!(t.ome_mg_day_3m_ago, 90.0);
        // The same fall seven months back is outside the six: not rapid, not tapering.
        let mut m = [100.0; 12];
        m[5] = 50.0;
        let t = taper(&m, 100.0, true, &s);
        assert_eq!(t.label, TaperLabel::None);
        assert_eq!(t.largest_monthly_drop_pct, Some(0.0));
        // Nothing before: no peak to fall from.
        let t = taper(&[0.0; 12], 30.0, false, &s);
        assert_eq!(t.change_from_peak_pct, Some(0.0));
        assert_eq!(t.largest_monthly_drop_pct, None);
    }
}
