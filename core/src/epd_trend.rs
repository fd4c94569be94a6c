//! The EPD's measures month by month (METHOD.md §9.3–9.6): each practice's, PCN's, ICS's and
//! England's sums per month, OpenPrescribing's three opioid measures at both thresholds, the
//! national deciles and percentile ranks ([`crate::deciles`]), and the XmR charts and aims of
//! every series with the trend's rules ([`crate::spc`], [`crate::trend::aim`]).
//!
//! A practice has a value only in the months it has rows in the EPD (any BNF chapter): a
//! practice that opened, closed or merged has no invented zeros, and its chart is left out
//! (a chart needs every month; the gaps are listed). A practice with rows and no opioid is a
//! true 0.

use std::collections::BTreeMap;

use crate::deciles::{deciles, percent_ranks};
use crate::epd::{HighDose, Measures};
use crate::spc::{xmr, Direction, Spc};
use crate::trend::{aim, Aim, TrendSettings};

/// One of OpenPrescribing's opioid measures, at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpdMeasure {
    /// `opioidome`: total OME (mg) per 1000 registered patients.
    Ome,
    /// `opioidper1000`: high-dose regular opioid items per 1000 registered patients.
    Per1000(HighDose),
    /// `opioidspercent`: high-dose items as a percentage of regular opioid items.
    Percent(HighDose),
}

/// The measures in the order of every output.
pub const EPD_MEASURES: [EpdMeasure; 5] = [
    EpdMeasure::Ome,
    EpdMeasure::Per1000(HighDose::Mg120),
    EpdMeasure::Percent(HighDose::Mg120),
    EpdMeasure::Per1000(HighDose::Mg90),
    EpdMeasure::Percent(HighDose::Mg90),
];

fn tier(v: HighDose) -> usize {
    match v {
        HighDose::Mg120 => 0,
        HighDose::Mg90 => 1,
    }
}

impl EpdMeasure {
    /// OpenPrescribing's measure id; the 120 mg versions (its `__2025-01_120mg_version`)
    /// end in `_120mg`.
    pub fn id(self) -> &'static str {
        match self {
            EpdMeasure::Ome => "opioidome",
            EpdMeasure::Per1000(HighDose::Mg120) => "opioidper1000_120mg",
            EpdMeasure::Percent(HighDose::Mg120) => "opioidspercent_120mg",
            EpdMeasure::Per1000(HighDose::Mg90) => "opioidper1000",
            EpdMeasure::Percent(HighDose::Mg90) => "opioidspercent",
        }
    }

    /// What a chart's axis says.
    pub fn title(self) -> &'static str {
        match self {
            EpdMeasure::Ome => "Opioids: total OME (mg) per 1,000 patients",
            EpdMeasure::Per1000(HighDose::Mg120) => {
                "High-dose opioid items (120 mg/day) per 1,000 patients"
            }
            EpdMeasure::Per1000(HighDose::Mg90) => {
                "High-dose opioid items (90 mg/day) per 1,000 patients"
            }
            EpdMeasure::Percent(HighDose::Mg120) => {
                "High-dose items (120 mg/day), % of regular opioid items"
            }
            EpdMeasure::Percent(HighDose::Mg90) => {
                "High-dose items (90 mg/day), % of regular opioid items"
            }
        }
    }

    /// Down is better for the high-dose measures (OpenPrescribing's `low_is_good`); neither
    /// way for total OME (its `low_is_good` is null).
    pub fn direction(self) -> Direction {
        match self {
            EpdMeasure::Ome => Direction::Neutral,
            _ => Direction::Decrease,
        }
    }

    /// The high-dose items per 1000 carry the aim (halving high-dose prescribing).
    pub fn has_aim(self) -> bool {
        matches!(self, EpdMeasure::Per1000(_))
    }

    /// The numerator and denominator of a month's sums.
    pub fn parts(self, s: &Sums) -> (f64, Option<f64>) {
        match self {
            EpdMeasure::Ome => (s.rate_ome_mg, s.list_size),
            EpdMeasure::Per1000(v) => (s.rate_high[tier(v)], s.list_size),
            EpdMeasure::Percent(v) => (s.high[tier(v)], Some(s.regular)),
        }
    }

    /// The value, when it is a number: per 1000 needs a list size above 0, a percentage
    /// regular items above 0 (OpenPrescribing's 0/0 is NaN and is left out of its deciles).
    pub fn value(self, s: &Sums) -> Option<f64> {
        let (n, d) = self.parts(s);
        let d = d.filter(|d| *d > 0.0)?;
        Some(match self {
            EpdMeasure::Percent(_) => n * 100.0 / d,
            _ => n * 1000.0 / d,
        })
    }
}

/// One organisation's sums in one month.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sums {
    pub ome_mg: f64,
    /// High-dose items at 120 and 90 mg/day.
    pub high: [f64; 2],
    pub regular: f64,
    pub opioid_items: f64,
    /// Registered patients (the sum over practices that have one).
    pub list_size: Option<f64>,
    /// The per-1000 numerators: only practices with a list size count, on both sides.
    pub rate_ome_mg: f64,
    pub rate_high: [f64; 2],
    /// Practices summed (1 for a practice).
    pub practices: u32,
}

impl Sums {
    pub fn of_practice(m: &Measures) -> Sums {
        let listed = m.list_size.is_some();
        let high = [m.high_dose_120, m.high_dose_90];
        Sums {
            ome_mg: m.total_ome_mg,
            high,
            regular: m.regular_items,
            opioid_items: m.opioid_items,
            list_size: m.list_size,
            rate_ome_mg: if listed { m.total_ome_mg } else { 0.0 },
            rate_high: if listed { high } else { [0.0; 2] },
            practices: 1,
        }
    }

    pub fn add(&mut self, o: &Sums) {
        self.ome_mg += o.ome_mg;
        for k in 0..2 {
            self.high[k] += o.high[k];
            self.rate_high[k] += o.rate_high[k];
        }
        self.regular += o.regular;
        self.opioid_items += o.opioid_items;
        if let Some(l) = o.list_size {
            *self.list_size.get_or_insert(0.0) += l;
        }
        self.rate_ome_mg += o.rate_ome_mg;
        self.practices += o.practices;
    }
}

/// A practice, PCN, ICS or England, month by month.
#[derive(Debug, Clone, PartialEq)]
pub struct EpdSeries {
    /// `practice`, `pcn`, `ics` or `england`.
    pub level: &'static str,
    pub code: String,
    pub name: String,
    /// A practice's ICS (of its latest month), or a PCN's; empty for an ICS and England.
    pub ics_code: String,
    /// A practice's PCN, when the practices file gives one.
    pub pcn_code: String,
    /// A practice in the national comparison (deciles, ranks and the sums of PCNs, ICSs and
    /// England): a GP practice (METHOD.md §9.4).
    pub compared: bool,
    /// Per month: the sums, `None` in a month the organisation has no rows.
    pub months: Vec<Option<Sums>>,
}

impl EpdSeries {
    /// The value of a measure in month `k`.
    pub fn value(&self, m: EpdMeasure, k: usize) -> Option<f64> {
        self.months
            .get(k)
            .copied()
            .flatten()
            .and_then(|s| m.value(&s))
    }

    /// The months with no rows, by index.
    pub fn gaps(&self) -> Vec<usize> {
        (0..self.months.len())
            .filter(|&k| self.months[k].is_none())
            .collect()
    }
}

/// What the series are built from, besides the monthly measures: a practice's PCN (code and
/// name) and whether it is in the national comparison.
pub struct Membership<'a> {
    pub pcn: &'a dyn Fn(&str) -> Option<(String, String)>,
    pub compared: &'a dyn Fn(&Measures) -> bool,
    pub ics_name: &'a dyn Fn(&str) -> String,
}

/// The series of every practice (sorted by code), then every PCN, ICS and England: the
/// practices' monthly measures (each month's rows, in any order) summed. `months` are the
/// run's months (`YYYY-MM`, ascending).
pub fn series(practices: &[Measures], months: &[String], who: &Membership) -> Vec<EpdSeries> {
    let index: BTreeMap<&str, usize> = months
        .iter()
        .enumerate()
        .map(|(k, m)| (m.as_str(), k))
        .collect();
    let mut by_code: BTreeMap<&str, EpdSeries> = BTreeMap::new();
    for m in practices {
        let Some(&k) = index.get(m.month.as_str()) else {
            continue;
        };
        let s = by_code.entry(m.code.as_str()).or_insert_with(|| EpdSeries {
            level: "practice",
            code: m.code.clone(),
            name: String::new(),
            ics_code: String::new(),
            pcn_code: (who.pcn)(&m.code).map(|p| p.0).unwrap_or_default(),
            compared: false,
            months: vec![None; months.len()],
        });
        // The latest month's name, ICS and membership stand for the practice.
        if s.months[k..].iter().all(Option::is_none) {
            if !m.name.is_empty() {
                s.name = m.name.clone();
            }
            s.ics_code = m.ics_code.clone();
            s.compared = (who.compared)(m);
        }
        let sums = Sums::of_practice(m);
        match &mut s.months[k] {
            Some(have) => have.add(&sums),
            none => *none = Some(sums),
        }
    }
    let practices: Vec<EpdSeries> = by_code.into_values().collect();
    let n = months.len();
    let mut pcns: BTreeMap<String, EpdSeries> = BTreeMap::new();
    let mut ics: BTreeMap<String, EpdSeries> = BTreeMap::new();
    let mut england = EpdSeries {
        level: "england",
        code: "ENGLAND".into(),
        name: "England".into(),
        ics_code: String::new(),
        pcn_code: String::new(),
        compared: true,
        months: vec![None; n],
    };
    let add = |to: &mut EpdSeries, from: &EpdSeries| {
        for (t, f) in to.months.iter_mut().zip(&from.months) {
            if let Some(f) = f {
                t.get_or_insert_with(Sums::default).add(f);
            }
        }
    };
    for p in practices.iter().filter(|p| p.compared) {
        if let Some((code, name)) = (who.pcn)(&p.code) {
            let s = pcns.entry(code.clone()).or_insert_with(|| EpdSeries {
                level: "pcn",
                code,
                name,
                ics_code: p.ics_code.clone(),
                pcn_code: String::new(),
                compared: true,
                months: vec![None; n],
            });
            add(s, p);
        }
        let s = ics.entry(p.ics_code.clone()).or_insert_with(|| EpdSeries {
            level: "ics",
            code: p.ics_code.clone(),
            name: (who.ics_name)(&p.ics_code),
            ics_code: String::new(),
            pcn_code: String::new(),
            compared: true,
            months: vec![None; n],
        });
        add(s, p);
        add(&mut england, p);
    }
    let mut out = practices;
    out.extend(pcns.into_values());
    out.extend(ics.into_values());
    out.push(england);
    out
}

/// One level's comparison in one month and measure: how many values, and their deciles.
#[derive(Debug, Clone, PartialEq)]
pub struct Deciles {
    pub level: &'static str,
    pub month: usize,
    pub measure: EpdMeasure,
    pub n: usize,
    pub deciles: Option<[f64; 9]>,
}

/// The national comparison: deciles across practices and across ICSs, per month and measure,
/// and each compared practice's (and ICS's) percent rank.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub deciles: Vec<Deciles>,
    /// Per series (aligned with the series), per month, per measure: the percent rank (0 to
    /// 1), for compared practices and ICSs.
    pub ranks: Vec<Vec<[Option<f64>; 5]>>,
}

impl Comparison {
    /// The deciles of a level's month and measure (held level by level, month by month, in
    /// the order of [`EPD_MEASURES`]).
    pub fn of(&self, level: &str, month: usize, m: EpdMeasure) -> Option<&Deciles> {
        let l = ["practice", "ics"].iter().position(|x| *x == level)?;
        let mi = EPD_MEASURES.iter().position(|x| *x == m)?;
        let months = self.deciles.len() / (2 * EPD_MEASURES.len());
        self.deciles
            .get((l * months + month) * EPD_MEASURES.len() + mi)
            .filter(|d| d.level == level && d.month == month && d.measure == m)
    }
}

/// Deciles and ranks across the compared practices, and across ICSs, as OpenPrescribing
/// computes them (METHOD.md §9.3).
// `k` indexes each member's months and ranks alike.
#[allow(clippy::needless_range_loop)]
pub fn compare(series: &[EpdSeries], months: usize) -> Comparison {
    let mut ranks = vec![vec![[None; 5]; months]; series.len()];
    let mut out = Vec::new();
    for level in ["practice", "ics"] {
        let members: Vec<usize> = (0..series.len())
            .filter(|&i| series[i].level == level && series[i].compared)
            .collect();
        for k in 0..months {
            for (mi, m) in EPD_MEASURES.into_iter().enumerate() {
                let values: Vec<Option<f64>> =
                    members.iter().map(|&i| series[i].value(m, k)).collect();
                let r = percent_ranks(&values);
                for (&i, r) in members.iter().zip(r) {
                    ranks[i][k][mi] = r;
                }
                out.push(Deciles {
                    level,
                    month: k,
                    measure: m,
                    n: values.iter().flatten().filter(|v| v.is_finite()).count(),
                    deciles: deciles(values.into_iter().flatten()),
                });
            }
        }
    }
    Comparison {
        deciles: out,
        ranks,
    }
}

/// Each series' XmR chart and aim per measure, when it has a value every month.
#[derive(Debug, Clone)]
pub struct EpdComputed {
    pub charts: Vec<[Option<Spc>; 5]>,
    pub aims: Vec<[Option<Aim>; 5]>,
    /// Series' measures with no chart: a month with no rows or no value.
    pub left_out: usize,
}

/// The charts and aims of every series, with the trend's settings (baseline, limits,
/// outlier screening, aim): the same rules as `opal trend` (METHOD.md §10).
pub fn compute(series: &[EpdSeries], t: &TrendSettings) -> EpdComputed {
    let n = t.month_ends.len();
    let mut out = EpdComputed {
        charts: Vec::with_capacity(series.len()),
        aims: Vec::with_capacity(series.len()),
        left_out: 0,
    };
    for s in series {
        let mut charts: [Option<Spc>; 5] = Default::default();
        let mut aims: [Option<Aim>; 5] = Default::default();
        for (mi, m) in EPD_MEASURES.into_iter().enumerate() {
            let values: Option<Vec<f64>> = (0..n).map(|k| s.value(m, k)).collect();
            let Some(values) = values.filter(|v| v.len() >= 2) else {
                out.left_out += 1;
                continue;
            };
            let a = if m.has_aim() {
                aim(&values, t.aim_baseline(), t.aim_fraction)
            } else {
                None
            };
            charts[mi] = Some(xmr(
                &values,
                &t.spc_options(
                    s.level,
                    &s.code,
                    m.direction(),
                    a.as_ref().map(|a| a.target),
                ),
            ));
            aims[mi] = a;
        }
        out.charts.push(charts);
        out.aims.push(aims);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn practice(month: &str, code: &str, ics: &str, list: Option<f64>, ome: f64) -> Measures {
        Measures {
            month: month.into(),
            code: code.into(),
            ics_code: ics.into(),
            total_ome_mg: ome,
            list_size: list,
            high_dose_120: ome / 1000.0,
            high_dose_90: ome / 500.0,
            regular_items: ome / 100.0,
            practices: 1,
            ..Measures::default()
        }
    }

    fn months(n: usize) -> Vec<String> {
        (1..=n).map(|m| format!("2024-{m:02}")).collect()
    }

    fn who_all() -> Membership<'static> {
        Membership {
            pcn: &|c: &str| (c != "C").then(|| ("U1".to_string(), "PCN one".to_string())),
            compared: &|m: &Measures| m.list_size.is_some(),
            ics_name: &|c: &str| format!("ICS {c}"),
        }
    }

    // Worked by hand. A: list 2,000, 10,000 mg OME → 5,000 per 1000; B: list 1,000, 2,000 mg
    // → 2,000 per 1000; C has no list size: not compared, so not in its ICS, PCN or England.
    // ICS X (A and B): 12,000 mg over 3,000 patients = 4,000 per 1000. High-dose items at
    // 120 mg: A 10, B 2 → 12 / 3,000 × 1000 = 4 per 1000; at 90 mg, 24 → 8. Percent at 120:
    // 12 high of 120 regular = 10%.
    #[test]
    fn sums_of_ics_and_england_are_over_compared_practices() {
        let ms = months(1);
        let rows = vec![
            practice("2024-01", "A", "X", Some(2000.0), 10_000.0),
            practice("2024-01", "B", "X", Some(1000.0), 2_000.0),
            practice("2024-01", "C", "X", None, 50_000.0),
        ];
        let s = series(&rows, &ms, &who_all());
        let levels: Vec<(&str, &str)> = s.iter().map(|s| (s.level, s.code.as_str())).collect();
        assert_eq!(
            levels,
            [
                ("practice", "A"),
                ("practice", "B"),
                ("practice", "C"),
                ("pcn", "U1"),
                ("ics", "X"),
                ("england", "ENGLAND")
            ]
        );
        let close = |a: Option<f64>, b: f64| assert!((a.unwrap() - b).abs() < 1e-9, "{a:?} {b}");
        close(s[0].value(EpdMeasure::Ome, 0), 5000.0);
        close(s[1].value(EpdMeasure::Ome, 0), 2000.0);
        assert_eq!(s[2].value(EpdMeasure::Ome, 0), None);
        assert!(!s[2].compared);
        close(s[4].value(EpdMeasure::Ome, 0), 4000.0);
        close(s[4].value(EpdMeasure::Per1000(HighDose::Mg120), 0), 4.0);
        close(s[4].value(EpdMeasure::Per1000(HighDose::Mg90), 0), 8.0);
        close(s[4].value(EpdMeasure::Percent(HighDose::Mg120), 0), 10.0);
        close(s[5].value(EpdMeasure::Ome, 0), 4000.0);
        assert_eq!(s[4].name, "ICS X");
    }

    // A practice absent from month 2 has a gap there, not a 0, and no chart; its ICS is the
    // sum of the practices that have rows each month.
    #[test]
    fn a_month_without_rows_is_a_gap_not_a_zero() {
        let ms = months(3);
        let mut rows = Vec::new();
        for (k, m) in ms.iter().enumerate() {
            rows.push(practice(m, "A", "X", Some(1000.0), 1000.0 * (k + 1) as f64));
            if k != 1 {
                rows.push(practice(m, "B", "X", Some(1000.0), 500.0));
            }
        }
        let s = series(&rows, &ms, &who_all());
        assert_eq!(s[1].gaps(), vec![1]);
        assert_eq!(s[1].value(EpdMeasure::Ome, 1), None);
        let ics = s.iter().find(|s| s.level == "ics").unwrap();
        assert_eq!(ics.value(EpdMeasure::Ome, 1), Some(2000.0));
        assert_eq!(ics.value(EpdMeasure::Ome, 2), Some(1750.0));
        let t = TrendSettings {
            month_ends: vec![
                crate::values::Day(1),
                crate::values::Day(2),
                crate::values::Day(3),
            ],
            aim_fraction: 0.5,
            ..TrendSettings::default()
        };
        let c = compute(&s, &t);
        assert!(c.charts[0][0].is_some());
        assert!(c.charts[1][0].is_none());
        // The aim of A's per-1000 at 120 mg: values 1, 2, 3; baseline the first 12 months
        // (all three) = 2, target 1, latest 3: not met, a reduction of −50%.
        let a = c.aims[0][1].as_ref().unwrap();
        assert_eq!(
            (a.baseline, a.target, a.latest, a.met),
            (2.0, 1.0, 3.0, false)
        );
        assert_eq!(a.reduction_pct, Some(-50.0));
        assert!(c.aims[0][0].is_none(), "total OME has no aim");
    }

    // Ranks over compared practices only: A 5,000, B 2,000, D 2,000 per 1000 → B and D share
    // rank 1 (0), A is rank 3 of 3: (3 − 1) / (3 − 1) = 1. Deciles of 2,000, 2,000, 5,000:
    // the median 2,000, the 90th at 1.8 → 2,000 + 0.8 × 3,000 = 4,400.
    #[test]
    fn ranks_and_deciles_across_practices() {
        let ms = months(1);
        let rows = vec![
            practice("2024-01", "A", "X", Some(2000.0), 10_000.0),
            practice("2024-01", "B", "X", Some(1000.0), 2_000.0),
            practice("2024-01", "C", "Y", None, 9_000.0),
            practice("2024-01", "D", "Y", Some(500.0), 1_000.0),
        ];
        let s = series(&rows, &ms, &who_all());
        let c = compare(&s, 1);
        assert_eq!(c.ranks[0][0][0], Some(1.0));
        assert_eq!(c.ranks[1][0][0], Some(0.0));
        assert_eq!(c.ranks[2][0][0], None);
        assert_eq!(c.ranks[3][0][0], Some(0.0));
        let d = c.of("practice", 0, EpdMeasure::Ome).unwrap();
        assert_eq!(d.n, 3);
        let d = d.deciles.unwrap();
        assert!((d[4] - 2000.0).abs() < 1e-9 && (d[8] - 4400.0).abs() < 1e-9);
        // Across ICSs: X 4,000 and Y 2,000 (D alone) per 1000: ranks 1 and 0.
        let x = s
            .iter()
            .position(|s| s.level == "ics" && s.code == "X")
            .unwrap();
        let y = s
            .iter()
            .position(|s| s.level == "ics" && s.code == "Y")
            .unwrap();
        assert_eq!((c.ranks[x][0][0], c.ranks[y][0][0]), (Some(1.0), Some(0.0)));
    }
}
