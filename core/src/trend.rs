//! The audit's measures month by month (METHOD.md §10): month ends, the counts of each
//! practice at each month end, their sums per ICS and for all practices, the measures rows,
//! the aims (baseline, target, progress) and which way is better for each measure.

use std::collections::BTreeMap;

use crate::spc::{xmr, xmr_with_gaps, Direction, Spc, SpcOptions};
use crate::summary::suppress_count;
use crate::timeline::{DoseBand, MonthState};
use crate::values::{days_from_civil, format_day, Day};

/// The last day of the month `(year, month)`.
pub fn month_end_of(year: i32, month: u32) -> Option<Day> {
    let (y, m) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    Some(days_from_civil(y, m, 1)? - 1)
}

/// `YYYY-MM` → its last day.
pub fn parse_month(text: &str) -> Option<Day> {
    let (y, m) = text.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    month_end_of(y.parse().ok()?, m.parse().ok()?)
}

/// The `YYYY-MM` of a day.
pub fn month_label(day: Day) -> String {
    format_day(day)[..7].to_string()
}

/// The last day of the month of `day`.
pub fn month_end(day: Day) -> Day {
    let t = format_day(day);
    let (y, m) = (t[..4].parse().unwrap_or(1970), t[5..7].parse().unwrap_or(1));
    month_end_of(y, m).unwrap_or(day)
}

/// The month ends from the month of `from` to the month of `to`, ascending.
pub fn month_ends(from: Day, to: Day) -> Vec<Day> {
    let mut out = Vec::new();
    let mut m = month_end(from);
    while m <= to {
        out.push(m);
        m = month_end(m + 1);
    }
    out
}

/// The default last month: the last month whose last day is on or before the latest issue.
pub fn last_complete_month(latest_issue: Day) -> Day {
    if month_end(latest_issue) == latest_issue {
        return latest_issue;
    }
    // The day before the first of its month.
    let day_of_month: i32 = format_day(latest_issue)[8..10].parse().unwrap_or(1);
    latest_issue - day_of_month
}

/// What the trend counts of one practice (or ICS, or all) at one month end: the summaries'
/// counts (METHOD.md §8) at that date.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    pub patients: u64,
    pub high_dose: u64,
    pub long_term: u64,
    pub both: u64,
    pub bands: [u64; 4],
    pub total_ome_mg_window: f64,
    pub excluded: u64,
}

impl Counts {
    /// One current patient at the month end.
    pub fn add_patient(&mut self, st: &MonthState, excluded: bool) {
        if excluded {
            self.excluded += 1;
            return;
        }
        self.patients += 1;
        self.high_dose += st.high_dose as u64;
        self.long_term += st.long_term as u64;
        self.both += (st.high_dose && st.long_term) as u64;
        self.bands[DoseBand::of(st.ome_mg_day).index()] += 1;
        self.total_ome_mg_window += st.window_ome_mg;
    }

    pub fn add(&mut self, o: &Counts) {
        self.patients += o.patients;
        self.high_dose += o.high_dose;
        self.long_term += o.long_term;
        self.both += o.both;
        for b in 0..4 {
            self.bands[b] += o.bands[b];
        }
        self.total_ome_mg_window += o.total_ome_mg_window;
        self.excluded += o.excluded;
    }
}

/// The measures of the trend, in the order they are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Patients,
    HighDose,
    LongTerm,
    HighDoseAndLongTerm,
    Band(DoseBand),
    TotalOmeMgWindow,
    HighDosePer1000,
    LongTermPer1000,
    TotalOmeMgWindowPer1000,
}

impl Measure {
    /// Every measure; the last three only where list sizes are given.
    pub const ALL: [Measure; 12] = [
        Measure::Patients,
        Measure::HighDose,
        Measure::LongTerm,
        Measure::HighDoseAndLongTerm,
        Measure::Band(DoseBand::Below50),
        Measure::Band(DoseBand::From50To90),
        Measure::Band(DoseBand::From90To120),
        Measure::Band(DoseBand::Above120),
        Measure::TotalOmeMgWindow,
        Measure::HighDosePer1000,
        Measure::LongTermPer1000,
        Measure::TotalOmeMgWindowPer1000,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::Patients => "patients",
            Measure::HighDose => "high_dose",
            Measure::LongTerm => "long_term",
            Measure::HighDoseAndLongTerm => "high_dose_and_long_term",
            Measure::Band(DoseBand::Below50) => "band_under_50",
            Measure::Band(DoseBand::From50To90) => "band_50_to_under_90",
            Measure::Band(DoseBand::From90To120) => "band_90_to_120",
            Measure::Band(DoseBand::Above120) => "band_over_120",
            Measure::TotalOmeMgWindow => "total_ome_mg_window",
            Measure::HighDosePer1000 => "high_dose_per_1000",
            Measure::LongTermPer1000 => "long_term_per_1000",
            Measure::TotalOmeMgWindowPer1000 => "total_ome_mg_window_per_1000",
        }
    }

    /// Down is better for high doses, long-term use, the two upper bands and the OME
    /// prescribed; neither way for the number of patients and the lower bands.
    pub fn direction(self) -> Direction {
        match self {
            Measure::Patients
            | Measure::Band(DoseBand::Below50)
            | Measure::Band(DoseBand::From50To90) => Direction::Neutral,
            _ => Direction::Decrease,
        }
    }

    pub fn per_1000(self) -> bool {
        matches!(
            self,
            Measure::HighDosePer1000 | Measure::LongTermPer1000 | Measure::TotalOmeMgWindowPer1000
        )
    }

    /// A count of patients (suppressed with `--suppress`), not a sum of OME.
    pub fn is_count(self) -> bool {
        !matches!(
            self,
            Measure::TotalOmeMgWindow | Measure::TotalOmeMgWindowPer1000
        )
    }

    /// The numerator from a practice's (or its sum's) counts.
    fn numerator(self, c: &Counts) -> f64 {
        match self {
            Measure::Patients => c.patients as f64,
            Measure::HighDose | Measure::HighDosePer1000 => c.high_dose as f64,
            Measure::LongTerm | Measure::LongTermPer1000 => c.long_term as f64,
            Measure::HighDoseAndLongTerm => c.both as f64,
            Measure::Band(b) => c.bands[b.index()] as f64,
            Measure::TotalOmeMgWindow | Measure::TotalOmeMgWindowPer1000 => c.total_ome_mg_window,
        }
    }
}

/// A practice, an ICS, or all practices, at every month end.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// `practice`, `ics` or `all`.
    pub level: &'static str,
    pub code: String,
    pub name: String,
    /// A practice's ICS (the ICS of its latest month); empty for an ICS and for all.
    pub ics_code: String,
    /// Per month end: the counts of all its practices.
    pub counts: Vec<Counts>,
    /// Per month end: the counts of its practices that have a list size (the numerators of
    /// the rates per 1000).
    pub rate_counts: Vec<Counts>,
    /// Per month end: the registered patients of its practices that have a list size that
    /// month (each month end's own `--list-sizes` file, METHOD.md §9.5).
    pub list_sizes: Vec<Option<f64>>,
}

/// One cell of measures.csv: a number, or `*` where disclosure control hides it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Number(f64),
    Suppressed,
    /// No list size: no rate.
    Missing,
}

impl Series {
    /// Numerator, denominator and value of a measure at a month end; with `suppress`, counts
    /// 1–7 are hidden and others rounded to 5, and a rate comes from the rounded count.
    pub fn value(&self, m: Measure, month: usize, suppress: bool) -> (Value, Value, Value) {
        let counts = if m.per_1000() {
            &self.rate_counts[month]
        } else {
            &self.counts[month]
        };
        let raw = m.numerator(counts);
        let numerator = if suppress && m.is_count() {
            match suppress_count(raw as u64) {
                Some(n) => Value::Number(n as f64),
                None => Value::Suppressed,
            }
        } else {
            Value::Number(raw)
        };
        if !m.per_1000() {
            return (numerator, Value::Missing, numerator);
        }
        let Some(list) = self
            .list_sizes
            .get(month)
            .copied()
            .flatten()
            .filter(|l| *l > 0.0)
        else {
            return (Value::Missing, Value::Missing, Value::Missing);
        };
        let value = match numerator {
            Value::Number(n) => Value::Number(n * 1000.0 / list),
            other => other,
        };
        (numerator, Value::Number(list), value)
    }
}

/// The practice, ICS and all-practice series from the practices' counts (`counts[month]`
/// per practice, in the order of `practices`). ICS and all are sums over their practices; a
/// rate's numerator and denominator are of the practices with a list size only.
pub fn series(
    practices: &[(String, String, String, Vec<Option<f64>>)],
    counts: &[Vec<Counts>],
    ics_names: &BTreeMap<String, String>,
) -> Vec<Series> {
    let months = counts.first().map_or(0, Vec::len);
    let mut out = Vec::new();
    let mut ics: BTreeMap<String, Series> = BTreeMap::new();
    let mut all = Series {
        level: "all",
        code: "ALL".into(),
        name: "all practices".into(),
        ics_code: String::new(),
        counts: vec![Counts::default(); months],
        rate_counts: vec![Counts::default(); months],
        list_sizes: vec![None; months],
    };
    for ((code, name, ics_code, list), c) in practices.iter().zip(counts) {
        let listed = |m: usize| list.get(m).copied().flatten();
        let rate_counts = (0..months)
            .map(|m| match listed(m) {
                Some(_) => c[m],
                None => Counts::default(),
            })
            .collect();
        let practice = Series {
            level: "practice",
            code: code.clone(),
            name: name.clone(),
            ics_code: ics_code.clone(),
            counts: c.clone(),
            rate_counts,
            list_sizes: (0..months).map(listed).collect(),
        };
        let t = ics.entry(ics_code.clone()).or_insert_with(|| Series {
            level: "ics",
            code: ics_code.clone(),
            name: ics_names.get(ics_code).cloned().unwrap_or_default(),
            ics_code: String::new(),
            counts: vec![Counts::default(); months],
            rate_counts: vec![Counts::default(); months],
            list_sizes: vec![None; months],
        });
        for s in [&mut *t, &mut all] {
            for m in 0..months {
                s.counts[m].add(&practice.counts[m]);
                s.rate_counts[m].add(&practice.rate_counts[m]);
                if let Some(l) = listed(m) {
                    *s.list_sizes[m].get_or_insert(0.0) += l;
                }
            }
        }
        out.push(practice);
    }
    out.extend(ics.into_values());
    out.push(all);
    out
}

/// Progress against the aim for one series and measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Aim {
    /// The mean of the baseline months.
    pub baseline: f64,
    /// `baseline × (1 − aim)`.
    pub target: f64,
    pub latest: f64,
    /// `(baseline − latest) / baseline × 100`; `None` when the baseline is 0.
    pub reduction_pct: Option<f64>,
    /// The latest value is at or below the target.
    pub met: bool,
}

/// The aim of a series of values: `aim_reduction` is a fraction (0.5 halves the baseline).
pub fn aim(values: &[f64], baseline: std::ops::Range<usize>, aim_reduction: f64) -> Option<Aim> {
    let base = values.get(baseline)?;
    let latest = *values.last()?;
    if base.is_empty() {
        return None;
    }
    let b = base.iter().sum::<f64>() / base.len() as f64;
    let target = b * (1.0 - aim_reduction);
    Some(Aim {
        baseline: b,
        target,
        latest,
        reduction_pct: (b > 0.0).then(|| (b - latest) / b * 100.0),
        met: latest <= target,
    })
}

// The charts and aims of a trend (METHOD.md §10): which measures have an aim, each series'
// XmR chart and aim, worked out once for every output.

/// The aim of the Medicines Safety Improvement Programme: halve high-dose prescribing (the
/// default of `--aim-reduction`, 50%, as a fraction).
pub const DEFAULT_AIM_FRACTION: f64 = 0.5;

/// The settings of the trend's charts and aims (the default: no month end, no aim).
#[derive(Debug, Clone, Default)]
pub struct TrendSettings {
    pub month_ends: Vec<Day>,
    /// `--baseline`: the months the limits (and the aims' baseline) come from.
    pub baseline: Option<std::ops::Range<usize>>,
    /// The aim as a fraction of the baseline to remove: 0.5 halves it (`--aim-reduction`
    /// is this in percent).
    pub aim_fraction: f64,
    pub screen_outliers: bool,
    pub suppress: bool,
    /// List sizes were given: the rates per 1000 exist.
    pub rates: bool,
    /// The first complete month end ([`first_complete`]); those before it are warm-up.
    pub complete_from: usize,
    /// `--rebase`: the month ends from which the limits are recalculated.
    pub rebase: Rebase,
    /// A run of this many month ends on one side of the mean, to the latest, suggests a
    /// rebase (0: never; `--suggest-rebase-run`).
    pub suggest_run: usize,
}

/// Where charts are rebased (NHSRplotthedots' `rebase`, METHOD.md §10): month ends (indices
/// into the trend's) for every series, and for single series by level and code.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rebase {
    pub all: Vec<usize>,
    pub series: BTreeMap<(String, String), Vec<usize>>,
}

impl TrendSettings {
    /// The aims' baseline: `--baseline`, else the first 12 complete month ends (fewer if
    /// there are fewer; all the months if none is complete).
    pub fn aim_baseline(&self) -> std::ops::Range<usize> {
        self.baseline.clone().unwrap_or_else(|| {
            let n = self.month_ends.len();
            if self.complete_from < n {
                self.complete_from..(self.complete_from + 12).min(n)
            } else {
                0..n.min(12)
            }
        })
    }

    /// The months the process limits come from: `--baseline`, else every complete month end
    /// (every month when none is warm-up, or all are).
    pub fn limits_baseline(&self) -> Option<std::ops::Range<usize>> {
        let n = self.month_ends.len();
        self.baseline.clone().or_else(|| {
            (self.complete_from > 0 && self.complete_from < n).then_some(self.complete_from..n)
        })
    }

    /// The options of a series' chart: its direction and target, the limits' baseline, and
    /// where it is rebased — at `--rebase`'s month ends, and at the start of a `--baseline`
    /// that is not the first month, so that the months before it get limits of their own
    /// instead of the baseline's applied backwards.
    pub fn spc_options(
        &self,
        level: &str,
        code: &str,
        direction: crate::spc::Direction,
        target: Option<f64>,
    ) -> SpcOptions {
        let mut rebase = self.rebase.all.clone();
        if let Some(r) = self
            .rebase
            .series
            .get(&(level.to_string(), code.to_string()))
        {
            rebase.extend(r);
        }
        if let Some(b) = self.baseline.as_ref().filter(|b| b.start > 0) {
            rebase.push(b.start);
        }
        SpcOptions {
            direction,
            baseline: self.limits_baseline(),
            screen_outliers: self.screen_outliers,
            target,
            rebase,
            suggest_run: self.suggest_run,
        }
    }

    /// The month end at `k` is complete (not warm-up).
    pub fn complete(&self, k: usize) -> bool {
        k >= self.complete_from
    }

    /// The measures written: the rates only with list sizes.
    pub fn measures(&self) -> impl Iterator<Item = Measure> + '_ {
        Measure::ALL
            .into_iter()
            .filter(move |m| self.rates || !m.per_1000())
    }
}

/// The first month end whose measures the extract supports in full: on or after the earliest
/// issue plus the longest window a measure looks back over — the look-back (90 days, for
/// co-prescribing and the peak), the dose window (28) and one day more than the long-term
/// limit (91: a patient on opioids since before the data shows as long-term only then).
/// Month ends before it are warm-up: `complete = false`, out of the default baselines and
/// limits, drawn faded (METHOD.md §10).
pub fn first_complete(
    month_ends: &[Day],
    first_issue: Day,
    t: &crate::timeline::TimelineSettings,
) -> usize {
    let need = (t.lookback_days as i64)
        .max(t.dose_window_days as i64)
        .max(t.long_term_days + 1);
    month_ends.partition_point(|&m| (m.0 as i64) < first_issue.0 as i64 + need)
}

/// A measure's values over the months, when every one is known (not suppressed, not
/// missing).
pub fn values(s: &Series, m: Measure, t: &TrendSettings) -> Option<Vec<f64>> {
    (0..t.month_ends.len())
        .map(|month| match s.value(m, month, t.suppress).2 {
            Value::Number(v) => Some(v),
            _ => None,
        })
        .collect()
}

/// A measure's values over the months with its suppressed months as gaps (`None`), when
/// every month is known or suppressed and at least two are known; `None` when a month is
/// missing (no list size), which is not a gap.
pub fn values_with_gaps(s: &Series, m: Measure, t: &TrendSettings) -> Option<Vec<Option<f64>>> {
    let v: Option<Vec<Option<f64>>> = (0..t.month_ends.len())
        .map(|month| match s.value(m, month, t.suppress).2 {
            Value::Number(v) => Some(Some(v)),
            Value::Suppressed => Some(None),
            Value::Missing => None,
        })
        .collect();
    v.filter(|v| v.iter().flatten().count() >= 2)
}

/// The measures that have an aim (and so a target on their chart).
pub fn has_aim(m: Measure) -> bool {
    matches!(m, Measure::HighDose | Measure::HighDosePer1000)
}

/// The chart of a series' measure: from every month's value, or with `--suppress` from the
/// months shown with the hidden ones as gaps (METHOD.md §10); `None` when a month is missing
/// or fewer than two are shown.
fn chart(
    s: &Series,
    m: Measure,
    t: &TrendSettings,
    v: Option<Vec<f64>>,
    target: Option<f64>,
) -> Option<Spc> {
    let o = t.spc_options(s.level, &s.code, m.direction(), target);
    match v {
        Some(v) => Some(xmr(&v, &o)),
        None if t.suppress => values_with_gaps(s, m, t).map(|g| xmr_with_gaps(&g, &o)),
        None => None,
    }
}

/// The chart and aim of each series' measure, worked out once for every output.
pub struct Computed {
    /// Per series, per measure of [`TrendSettings::measures`]: the chart, when every month's
    /// value is known.
    pub charts: Vec<Vec<Option<Spc>>>,
    /// Per series, per measure: the aim, for the high-dose measures.
    pub aims: Vec<Vec<Option<Aim>>>,
    /// Series' measures left out of the charts (a suppressed or missing month).
    pub left_out: usize,
}

/// Charts and aims of every series.
pub fn compute(series: &[Series], t: &TrendSettings) -> Computed {
    let mut c = Computed {
        charts: Vec::with_capacity(series.len()),
        aims: Vec::with_capacity(series.len()),
        left_out: 0,
    };
    for s in series {
        let (mut charts, mut aims) = (Vec::new(), Vec::new());
        for m in t.measures() {
            let v = values(s, m, t);
            let a = v
                .as_ref()
                .filter(|_| has_aim(m))
                .and_then(|v| aim(v, t.aim_baseline(), t.aim_fraction));
            // A series with a hidden month has no aim (its baseline would leave out exactly
            // the small months) but keeps its chart, with gaps.
            let chart = chart(s, m, t, v, a.as_ref().map(|a| a.target));
            c.left_out += chart.is_none() as usize;
            charts.push(chart);
            aims.push(a);
        }
        c.charts.push(charts);
        c.aims.push(aims);
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> Day {
        days_from_civil(y, m, d).unwrap()
    }

    #[test]
    fn month_ends_by_hand() {
        assert_eq!(month_end(day(2024, 2, 10)), day(2024, 2, 29));
        assert_eq!(month_end(day(2026, 12, 31)), day(2026, 12, 31));
        assert_eq!(parse_month("2026-02"), Some(day(2026, 2, 28)));
        assert_eq!(parse_month("2026-13"), None);
        assert_eq!(parse_month("26-01"), None);
        assert_eq!(month_label(day(2026, 10, 31)), "2026-10");
        assert_eq!(
            month_ends(day(2025, 11, 3), day(2026, 2, 28)),
            vec![
                day(2025, 11, 30),
                day(2025, 12, 31),
                day(2026, 1, 31),
                day(2026, 2, 28)
            ]
        );
        // The last complete month: October when the latest issue is 31 October, September
        // when it is 30 October.
        assert_eq!(last_complete_month(day(2026, 10, 31)), day(2026, 10, 31));
        assert_eq!(last_complete_month(day(2026, 10, 30)), day(2026, 9, 30));
        assert_eq!(last_complete_month(day(2026, 3, 1)), day(2026, 2, 28));
    }

    #[test]
    fn ics_and_all_are_sums_over_sums_with_rates_from_listed_practices() {
        let c = |patients: u64, high: u64| Counts {
            patients,
            high_dose: high,
            ..Counts::default()
        };
        let practices = vec![
            ("A1".into(), "One".into(), "Q1".into(), vec![Some(2000.0)]),
            ("A2".into(), "Two".into(), "Q1".into(), vec![None]),
            ("B1".into(), "Three".into(), "Q2".into(), vec![Some(1000.0)]),
        ];
        let counts = vec![vec![c(10, 4)], vec![c(20, 8)], vec![c(5, 1)]];
        let names = BTreeMap::from([("Q1".to_string(), "ICS one".to_string())]);
        let s = series(&practices, &counts, &names);
        let codes: Vec<&str> = s.iter().map(|s| s.code.as_str()).collect();
        assert_eq!(codes, ["A1", "A2", "B1", "Q1", "Q2", "ALL"]);
        let q1 = &s[3];
        assert_eq!((q1.counts[0].patients, q1.counts[0].high_dose), (30, 12));
        assert_eq!(q1.name, "ICS one");
        // Q1's rate: A1's 4 high-dose patients over A1's 2,000 (A2 has no list size): 2 per
        // 1000, not 12 over 2,000.
        assert_eq!(
            q1.value(Measure::HighDosePer1000, 0, false),
            (
                Value::Number(4.0),
                Value::Number(2000.0),
                Value::Number(2.0)
            )
        );
        let all = &s[5];
        assert_eq!(all.counts[0].patients, 35);
        // (4 + 1) / 3,000 × 1000.
        let (_, _, v) = all.value(Measure::HighDosePer1000, 0, false);
        assert_eq!(v, Value::Number(5.0 / 3.0));
        assert_eq!(
            s[1].value(Measure::HighDosePer1000, 0, false),
            (Value::Missing, Value::Missing, Value::Missing)
        );
        // Suppressed: 4 is hidden, 12 rounds to 10, 35 to 35.
        assert_eq!(s[0].value(Measure::HighDose, 0, true).2, Value::Suppressed);
        assert_eq!(q1.value(Measure::HighDose, 0, true).2, Value::Number(10.0));
        assert_eq!(all.value(Measure::Patients, 0, true).2, Value::Number(35.0));
    }

    /// Each month end's own list sizes (issue 27.6): A1 grows from 2,000 to 4,000 patients and
    /// has 4 high-dose patients both months: 2 then 1 per 1000. B1 has a list size only the
    /// second month: its count joins the ICS's rate then, and not before.
    #[test]
    fn rates_use_each_month_ends_own_list_sizes() {
        let c = |high: u64| Counts {
            patients: 10,
            high_dose: high,
            ..Counts::default()
        };
        let practices = vec![
            (
                "A1".into(),
                "".into(),
                "Q1".into(),
                vec![Some(2000.0), Some(4000.0)],
            ),
            (
                "B1".into(),
                "".into(),
                "Q1".into(),
                vec![None, Some(1000.0)],
            ),
        ];
        let counts = vec![vec![c(4), c(4)], vec![c(3), c(3)]];
        let s = series(&practices, &counts, &BTreeMap::new());
        let rate = |s: &Series, m| s.value(Measure::HighDosePer1000, m, false);
        assert_eq!(rate(&s[0], 0).2, Value::Number(2.0));
        assert_eq!(rate(&s[0], 1).2, Value::Number(1.0));
        assert_eq!(rate(&s[1], 0).2, Value::Missing);
        // Q1: 4 over 2,000 (B1 unlisted) = 2; then (4 + 3) over 5,000 = 1.4 per 1000.
        let q1 = &s[2];
        assert_eq!(
            rate(q1, 0),
            (
                Value::Number(4.0),
                Value::Number(2000.0),
                Value::Number(2.0)
            )
        );
        assert_eq!(
            rate(q1, 1),
            (
                Value::Number(7.0),
                Value::Number(5000.0),
                Value::Number(1.4)
            )
        );
    }

    #[test]
    fn warm_up_months_and_the_default_baseline_by_hand() {
        let t = crate::timeline::TimelineSettings::default();
        // The earliest issue on 2024-08-01 (day d); the longest window is the long-term
        // limit plus one, 91 days: complete from 2024-10-31 (d + 91) on.
        let first = day(2024, 8, 1);
        let ends = month_ends(day(2024, 9, 30), day(2026, 10, 31));
        assert_eq!(first + 91, day(2024, 10, 31));
        assert_eq!(
            first_complete(&ends, first, &t),
            1,
            "2024-09 is warm-up, 2024-10 is not"
        );
        // A day later and 2024-10-31 is warm-up too.
        assert_eq!(first_complete(&ends, first + 1, &t), 2);
        let s = TrendSettings {
            month_ends: ends.clone(),
            complete_from: 2,
            ..TrendSettings::default()
        };
        // The aims' baseline: the first 12 complete month ends (2024-11 to 2025-10); the
        // limits: every complete month end.
        assert_eq!(s.aim_baseline(), 2..14);
        assert_eq!(s.limits_baseline(), Some(2..ends.len()));
        assert!(!s.complete(1) && s.complete(2));
        // No warm-up: the limits from every month, as before.
        let none = TrendSettings {
            month_ends: ends.clone(),
            ..TrendSettings::default()
        };
        assert_eq!((none.aim_baseline(), none.limits_baseline()), (0..12, None));
        // --baseline wins for both.
        let given = TrendSettings {
            baseline: Some(5..9),
            ..s
        };
        assert_eq!(
            (given.aim_baseline(), given.limits_baseline()),
            (5..9, Some(5..9))
        );
    }

    /// Where a chart is rebased: `--rebase` for all, a file's single charts, and the start
    /// of a `--baseline` after the first month (the months before it get limits of their own
    /// rather than the baseline's applied backwards).
    #[test]
    fn a_chart_is_rebased_at_rebase_months_and_after_a_late_baseline() {
        let t = TrendSettings {
            month_ends: (0..24).map(crate::values::Day).collect(),
            rebase: Rebase {
                all: vec![12],
                series: BTreeMap::from([(("practice".to_string(), "A1".to_string()), vec![18])]),
            },
            suggest_run: 7,
            ..TrendSettings::default()
        };
        let o = t.spc_options("practice", "A1", Direction::Decrease, Some(3.0));
        assert_eq!(
            (o.rebase, o.suggest_run, o.target),
            (vec![12, 18], 7, Some(3.0))
        );
        assert_eq!(
            t.spc_options("practice", "B1", Direction::Decrease, None)
                .rebase,
            [12]
        );
        let late = TrendSettings {
            baseline: Some(6..18),
            ..t.clone()
        };
        let o = late.spc_options("ics", "Q1", Direction::Decrease, None);
        assert_eq!((o.rebase, o.baseline), (vec![12, 6], Some(6..18)));
        let first = TrendSettings {
            baseline: Some(0..12),
            ..t
        };
        assert_eq!(
            first
                .spc_options("ics", "Q1", Direction::Decrease, None)
                .rebase,
            [12]
        );
    }

    #[test]
    fn the_aim_halves_the_baseline_mean() {
        // Baseline 10, 12, 14 → 12; target 6; latest 7: 41.7% down, not met.
        let a = aim(&[10.0, 12.0, 14.0, 9.0, 7.0], 0..3, 0.5).unwrap();
        assert_eq!((a.baseline, a.target, a.latest), (12.0, 6.0, 7.0));
        assert!((a.reduction_pct.unwrap() - 41.666_666_666_666_67).abs() < 1e-9);
        assert!(!a.met);
        let a = aim(&[10.0, 12.0, 14.0, 6.0], 0..3, 0.5).unwrap();
        assert!(a.met, "at the target is met");
        let a = aim(&[0.0, 0.0, 0.0], 0..2, 0.5).unwrap();
        assert_eq!(a.reduction_pct, None);
        assert!(a.met);
        assert_eq!(aim(&[1.0], 2..5, 0.5), None);
    }
}
