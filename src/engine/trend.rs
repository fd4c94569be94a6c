//! The trend (METHOD.md §10): every patient at every month end in one pass over their
//! timeline (the core's [`crate::timeline::month_states`]), half of the patients on each of
//! two threads, counted per practice and month; then the core's sums per ICS and for all.

use std::collections::BTreeMap;

use super::patients::{by_patient, exposure_of};
use super::{AuditConfig, AuditResult};
use crate::timeline::{ExposureItem, Layout, MonthState};
use crate::trend::{
    compute, series, Computed, Counts, Series, TrendSettings, DEFAULT_AIM_FRACTION,
};
use crate::values::Day;

/// Every practice of the input, in code order: (code, name, ICS, list size).
pub type PracticeRow = (String, String, String, Option<f64>);

/// The practices of the input (every practice with a dated row, as in the audit's
/// summaries) and, per interned practice id, its place among them.
pub fn practices(r: &AuditResult, config: &AuditConfig) -> (Vec<PracticeRow>, Vec<usize>) {
    let mut by_code: BTreeMap<&str, (usize, String)> = BTreeMap::new();
    for (id, code) in r.practice_codes.iter().enumerate() {
        // A practice with an item always has a dated row; UNKNOWN guards the impossible.
        let ics = match r.practice_ics_seen[id] {
            Some(seen) => config.ics_of(code, &r.ics_codes[seen as usize]),
            None if r.items.iter().any(|i| i.practice as usize == id) => "UNKNOWN".into(),
            None => continue,
        };
        by_code.insert(code, (id, ics));
    }
    let mut place = vec![usize::MAX; r.practice_codes.len()];
    let rows = by_code
        .into_iter()
        .enumerate()
        .map(|(k, (code, (id, ics)))| {
            place[id] = k;
            let info = config.practices.as_ref().and_then(|m| m.get(code));
            (
                code.to_string(),
                info.map(|i| i.practice_name.clone()).unwrap_or_default(),
                ics,
                config
                    .list_sizes
                    .as_ref()
                    .and_then(|l| l.get(code).copied()),
            )
        })
        .collect();
    (rows, place)
}

/// The counts of each practice (in [`practices`] order) at each month end.
pub fn month_counts(
    r: &AuditResult,
    config: &AuditConfig,
    month_ends: &[Day],
    place: &[usize],
    npractices: usize,
) -> Vec<Vec<Counts>> {
    let work = |first: usize, end: usize, starts: &[usize], order: &mut [u32]| {
        let mut counts = vec![vec![Counts::default(); month_ends.len()]; npractices];
        let base = starts[first];
        let mut exposure: Vec<ExposureItem> = Vec::new();
        let mut states: Vec<MonthState> = Vec::new();
        let mut layout = Layout::default();
        for patient in first..end {
            let group = &mut order[starts[patient] - base..starts[patient + 1] - base];
            if group.is_empty() {
                continue;
            }
            exposure_of(r, config, group, &mut exposure);
            states.clear();
            layout.place(&exposure, config.timeline.stockpile);
            layout.month_states(&exposure, month_ends, &config.timeline, false, &mut states);
            if states.is_empty() {
                continue;
            }
            let excluded = config
                .excluded_patients
                .contains_key(&r.patient_ids[patient]);
            for st in &states {
                let latest = &r.items[group[st.latest_item] as usize];
                let p = place[latest.practice as usize];
                counts[p][st.month].add_patient(st, excluded);
            }
        }
        counts
    };
    let (mut counts, upper) = by_patient(r, work);
    for (mine, theirs) in counts.iter_mut().zip(&upper) {
        for (m, t) in mine.iter_mut().zip(theirs) {
            m.add(t);
        }
    }
    counts
}

/// The trend ends at `to`: items issued after it are counted as after it, as `opal audit
/// --as-of <to>` counts them (with `--to` they were read so already; without, `to` is the
/// last complete month and the rows of the month after move from used to after_as_of).
pub fn end_at(r: &mut AuditResult, to: Day) {
    let before = r.items.len();
    r.items.retain(|i| i.issue_day <= to);
    let moved = (before - r.items.len()) as u64;
    r.accounting.used -= moved;
    r.accounting.after_as_of += moved;
    r.as_of = to;
}

/// The series of every practice, ICS and all practices at the month ends.
pub fn trend(r: &AuditResult, config: &AuditConfig, month_ends: &[Day]) -> Vec<Series> {
    let (rows, place) = practices(r, config);
    let counts = month_counts(r, config, month_ends, &place, rows.len());
    crate::timing::lap("month ends");
    // An ICS's name is its first practice's (in code order) from --practices, as in the
    // audit's summaries.
    let mut ics_names: BTreeMap<String, String> = BTreeMap::new();
    for (code, _, ics, _) in &rows {
        let info = config.practices.as_ref().and_then(|m| m.get(code));
        if let Some(info) = info {
            let name = ics_names.entry(ics.clone()).or_default();
            if name.is_empty() {
                *name = info.ics_name.clone();
            }
        }
    }
    series(&rows, &counts, &ics_names)
}

/// The trend of an audit's month ends (the first a look-back after the earliest issue, to
/// the last complete month), for its report and practice packs.
pub fn audit_trend(
    r: &AuditResult,
    config: &AuditConfig,
) -> (Vec<Series>, Option<Computed>, TrendSettings) {
    use crate::trend::{last_complete_month, month_end, month_ends};
    let first = r.first_issue_day.unwrap_or(r.as_of);
    let ends = month_ends(
        month_end(first + config.timeline.lookback_days),
        last_complete_month(r.as_of),
    );
    let settings = TrendSettings {
        month_ends: ends.clone(),
        baseline: None,
        // The audit's report shows the trend with the default aim: half the baseline
        // (METHOD.md §10).
        aim_fraction: DEFAULT_AIM_FRACTION,
        screen_outliers: false,
        suppress: config.suppress,
        rates: config.list_sizes.is_some(),
        complete_from: crate::trend::first_complete(&ends, first, &config.timeline),
    };
    if ends.is_empty() {
        return (Vec::new(), None, settings);
    }
    let series = trend(r, config, &ends);
    let computed = compute(&series, &settings);
    (series, Some(computed), settings)
}
