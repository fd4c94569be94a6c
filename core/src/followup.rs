//! The review list that follows patients (METHOD.md §11): each listed patient's status since
//! the previous audit, why a patient came off the list, tapers measured from the 28-day mean
//! at each month end, and abrupt stops. Pure functions of a patient's states at those dates
//! ([`crate::timeline::month_states_all`]).

use crate::timeline::{DoseBand, MonthState};
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
    /// `escalating`: at least this many percent above the dose three month ends before, at
    /// two consecutive month ends (25%, issue 26; METHOD.md §11).
    pub escalation_pct: f64,
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
            escalation_pct: 25.0,
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

/// A current patient's dose trajectory at the 12 month ends before the audit date and at the
/// audit date ([`crate::trajectory::dose_at`]), and its label.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trajectory {
    /// The trajectory dose at the audit date.
    pub dose_mg_day: f64,
    /// The trajectory dose at the third month end before the audit date.
    pub ome_mg_day_3m_ago: f64,
    /// The highest trajectory dose at the audit date and the 12 month ends before it.
    pub ome_mg_day_12m_peak: f64,
    /// `(now − peak) ÷ peak × 100`; `None` when the peak is 0.
    pub change_from_peak_pct: Option<f64>,
    /// The largest fall between consecutive dates over the last six months (the sixth month
    /// end before the audit date to the audit date), in percent of the earlier one; 0 when
    /// none fell, `None` when none was above 0.
    pub largest_monthly_drop_pct: Option<f64>,
    pub label: DoseTrend,
}

/// Which way a current patient's dose is going (METHOD.md §11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DoseTrend {
    None,
    /// At least `tapering_pct` below the 12-month peak at the last two dates, and not rising.
    Tapering,
    /// Tapering, in a long-term patient, with a fall of more than `rapid_pct` between two
    /// consecutive dates in the last six months.
    Rapid,
    /// At the last two dates at least `escalation_pct` above, or in a higher dose band than,
    /// the dose three month ends before each.
    Escalating,
    /// A taper (two dates) earlier in the 12 months, and at the last two dates at least
    /// `escalation_pct` above its lowest dose.
    ReEscalating,
}

impl DoseTrend {
    pub fn as_str(self) -> &'static str {
        match self {
            DoseTrend::None => "",
            DoseTrend::Tapering => "tapering",
            DoseTrend::Rapid => "rapid",
            DoseTrend::Escalating => "escalating",
            DoseTrend::ReEscalating => "re-escalating",
        }
    }

    /// Escalating or re-escalating.
    pub fn rising(self) -> bool {
        matches!(self, DoseTrend::Escalating | DoseTrend::ReEscalating)
    }
}

/// `t` at least `pct` percent below `peak` (by the percentage, so that 85 is exactly 15%
/// below 100).
fn below(t: f64, peak: f64, pct: f64) -> bool {
    peak > 0.0 && (t - peak) / peak * 100.0 <= -pct + 1e-9
}

/// `t` at least `pct` percent above `base`, a dose above 0.
fn above(t: f64, base: f64, pct: f64) -> bool {
    base > 0.0 && (t - base) / base * 100.0 >= pct - 1e-9
}

/// The label and measures from the trajectory dose at the 12 month ends before the audit
/// date and at the audit date (`t[0]` 12 month ends before, `t[12]` the audit date);
/// `long_term` at the audit date.
pub fn trajectory(t: &[f64; 13], long_term: bool, s: &FollowUpSettings) -> Trajectory {
    let now = t[12];
    let peak = t.iter().copied().fold(0.0, f64::max);
    let change = (peak > 0.0).then(|| (now - peak) / peak * 100.0);
    // Falls between consecutive dates over the last six steps (the sixth month end before
    // the audit date to the audit date): a rapid step longer ago is past its danger.
    let drops: Vec<f64> = t[6..]
        .windows(2)
        .filter(|w| w[0] > 0.0)
        .map(|w| ((w[0] - w[1]) / w[0] * 100.0).max(0.0))
        .collect();
    let largest = drops.iter().copied().reduce(f64::max);
    // Tapering at date k: k and the date before at least `tapering_pct` below the highest
    // dose up to k, and not rising into k.
    let tapering_at = |k: usize| {
        let peak_k = t[..=k].iter().copied().fold(0.0, f64::max);
        below(t[k - 1], peak_k, s.tapering_pct)
            && below(t[k], peak_k, s.tapering_pct)
            && t[k] <= t[k - 1] + 1e-9
    };
    // Escalating at date k: at least `escalation_pct` above, or in a higher band than, three
    // dates before (a dose above 0).
    let up_at = |k: usize| {
        let base = t[k - 3];
        base > 0.0
            && (above(t[k], base, s.escalation_pct) || DoseBand::of(t[k]) > DoseBand::of(base))
    };
    // The latest taper before the last two dates, and its lowest dose since.
    let re_escalating = (1..=10).rev().find(|&k| tapering_at(k)).is_some_and(|k| {
        let trough = t[k - 1..=10].iter().copied().fold(f64::INFINITY, f64::min);
        [t[11], now]
            .iter()
            .all(|&v| v > trough + 1e-9 && (trough == 0.0 || above(v, trough, s.escalation_pct)))
    });
    let label = if re_escalating {
        DoseTrend::ReEscalating
    } else if up_at(11) && up_at(12) {
        DoseTrend::Escalating
    } else if tapering_at(12) {
        if long_term && largest.is_some_and(|d| d > s.rapid_pct) {
            DoseTrend::Rapid
        } else {
            DoseTrend::Tapering
        }
    } else {
        DoseTrend::None
    };
    Trajectory {
        dose_mg_day: now,
        ome_mg_day_3m_ago: t[9],
        ome_mg_day_12m_peak: peak,
        change_from_peak_pct: change,
        largest_monthly_drop_pct: largest,
        label,
    }
}

/// What was done at a patient's last review, carried from last month's filled-in list
/// (`--reviews`; METHOD.md §11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub date: Option<Day>,
    pub outcome: String,
    pub next_review: Option<Day>,
}

/// The outcomes `review_list.xlsx` offers in its drop-down (issue 26.5).
pub const OUTCOMES: [&str; 5] = [
    "reviewed - no change",
    "taper agreed",
    "referred",
    "not appropriate",
    "could not contact",
];

/// An outcome as one of [`OUTCOMES`], whatever its case, spacing or dash; `None` when it is
/// none of them.
pub fn known_outcome(text: &str) -> Option<&'static str> {
    let norm = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                '\u{2013}' | '\u{2014}' | '\u{2212}' => '-',
                c => c.to_ascii_lowercase(),
            })
            .filter(|c| !c.is_whitespace())
            .collect()
    };
    let t = norm(text);
    OUTCOMES.iter().copied().find(|o| norm(o) == t)
}

impl Review {
    /// What the review list says of it at the audit date: `review due on <date>` while the
    /// next review is ahead, `review overdue since <date>` once it has passed, else the last
    /// review's date and outcome.
    pub fn note(&self, as_of: Day) -> String {
        let last = match (self.date, self.outcome.is_empty()) {
            (Some(d), false) => format!("last reviewed {}: {}", format_day(d), self.outcome),
            (Some(d), true) => format!("last reviewed {}", format_day(d)),
            (None, false) => format!("last review: {}", self.outcome),
            (None, true) => String::new(),
        };
        let next = match self.next_review {
            Some(n) if n > as_of => format!("review due on {}", format_day(n)),
            Some(n) => format!("review overdue since {}", format_day(n)),
            None => String::new(),
        };
        match (last.is_empty(), next.is_empty()) {
            (false, false) => format!("{next} ({last})"),
            (true, _) => next,
            (false, true) => last,
        }
    }
}

/// The doses of the priority tiers (METHOD.md §11, with their sources): a dose rising
/// above 90 mg/day is tier 1 (CDC 2022: avoid increasing to 90 MME/day or more; Opioids
/// Aware: harms rise with dose); a CNS depressant with at least 50 mg/day is tier 3 (CDC
/// 2022's 50 MME/day, with MHRA's 2019 and 2020 warnings on gabapentinoids and
/// benzodiazepines with opioids).
pub const RISING_TIER1_ABOVE_MG_DAY: f64 = 90.0;
pub const CO_PRESCRIBED_TIER3_FROM_MG_DAY: f64 = 50.0;

/// What a review-list patient's priority tier depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PriorityFacts {
    /// Above the threshold by the 28-day mean or today's dose.
    pub above_threshold: bool,
    /// The 28-day mean.
    pub ome_mg_day: f64,
    /// A gabapentinoid, benzodiazepine or Z-drug issued in the look-back window.
    pub co_prescribed: bool,
    pub trend: DoseTrend,
    /// The trajectory dose at the audit date.
    pub dose_mg_day: f64,
    /// Stopped since the previous audit date, abruptly from this 28-day mean.
    pub stopped_abruptly_from: Option<f64>,
}

/// A review-list patient's priority (1 first) and its reason in words, the first rule that
/// applies (METHOD.md §11):
/// 1. above the threshold with a CNS depressant; rising (escalating or re-escalating) to
///    above 90 mg/day; an abrupt stop since the previous audit;
/// 2. above the threshold;
/// 3. at least 50 mg/day with a CNS depressant; rising;
/// 4. the rest (long-term use).
pub fn priority(f: &PriorityFacts, threshold_mg_day: f64) -> (u8, String) {
    let t = crate::values::fmt_num(threshold_mg_day);
    if let Some(from) = f.stopped_abruptly_from {
        return (
            1,
            format!(
                "stopped abruptly from {} mg/day: check for withdrawal; overdose risk if \
                 restarted at the old dose",
                crate::values::fmt_num((from * 10.0).round() / 10.0)
            ),
        );
    }
    if f.above_threshold && f.co_prescribed {
        return (
            1,
            format!("above {t} mg/day with a gabapentinoid, benzodiazepine or Z-drug"),
        );
    }
    if f.trend.rising() && f.dose_mg_day > RISING_TIER1_ABOVE_MG_DAY + 1e-9 {
        return (1, "dose rising, now above 90 mg/day".to_string());
    }
    if f.above_threshold {
        return (2, format!("above {t} mg/day"));
    }
    if f.co_prescribed && f.ome_mg_day >= CO_PRESCRIBED_TIER3_FROM_MG_DAY - 1e-9 {
        return (
            3,
            "at least 50 mg/day with a gabapentinoid, benzodiazepine or Z-drug".to_string(),
        );
    }
    if f.trend.rising() {
        return (3, "dose rising".to_string());
    }
    (4, "long-term use".to_string())
}

#[cfg(test)]
mod tests;
