//! Cohort summaries per practice and per ICS (METHOD.md §8), and disclosure control.
//!
//! Counts are of current patients who are not excluded; excluded patients are a separate
//! count. An ICS figure is the sum of its practices' numerators over the sum of their
//! denominators, never a mean of practice rates; its median and 90th percentile are of its
//! pooled patients. With `--suppress`, counts 1–7 are `*`, other counts are rounded to the
//! nearest 5, rates come from the rounded counts, and a rate is suppressed when its count is.

use std::collections::BTreeMap;

use crate::patient::{PatientRow, ResolvedRow};
use crate::settings::AuditConfig;

/// The figures of one practice or one ICS.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortSummary {
    pub code: String,
    pub name: String,
    /// For a practice, its ICS; for an ICS, empty.
    pub ics_code: String,
    pub practices: u64,
    pub patients: u64,
    pub high_dose: u64,
    pub long_term: u64,
    pub both: u64,
    /// `<50`, `50-<90`, `90-120`, `>120`.
    pub bands: [u64; 4],
    pub median_ome_mg_day: Option<f64>,
    pub p90_ome_mg_day: Option<f64>,
    pub total_ome_mg_window: f64,
    pub excluded_patients: u64,
    pub unresolved_items: u64,
    /// Registered patients of the practices that have a list size.
    pub list_size: Option<f64>,
    /// Review-list patients by status since the previous audit (§11): new, continuing,
    /// returned; and the patients resolved since (by their practice then).
    pub status: [u64; 3],
    pub resolved: u64,
    /// Review-list patients by priority tier, 1 to 4 (§11), abrupt stops included.
    pub priority: [u64; 4],
    /// Numerators restricted to practices with a list size (for ICS rates).
    rate_base: Option<RateBase>,
}

/// The numerators of the rates per 1000 registered patients: for an ICS, only of its
/// practices that have a list size.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RateBase {
    pub patients: u64,
    pub high_dose: u64,
    pub long_term: u64,
    pub both: u64,
    pub bands: [u64; 4],
    pub total_ome_mg_window: f64,
}

impl CohortSummary {
    /// The numerators of this practice's (or ICS's) rates per 1000, when it has a list size.
    pub fn rate_base(&self, is_ics: bool) -> Option<RateBase> {
        if is_ics {
            return self.rate_base.clone();
        }
        self.list_size?;
        Some(RateBase {
            patients: self.patients,
            high_dose: self.high_dose,
            long_term: self.long_term,
            both: self.both,
            bands: self.bands,
            total_ome_mg_window: self.total_ome_mg_window,
        })
    }
}

/// The usual midpoint median.
pub fn median(sorted: &[f64]) -> Option<f64> {
    percentile(sorted, 0.5)
}

/// Percentile with linear interpolation between ranks (`(n − 1) × p`).
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let pos = (sorted.len() - 1) as f64 * p;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    Some(sorted[lo] + (sorted[hi] - sorted[lo]) * frac)
}

fn add_priority(s: &mut CohortSummary, p: &PatientRow) {
    if let Some((tier @ 1..=4, _)) = p.priority {
        s.priority[tier as usize - 1] += 1;
    }
}

fn add_patient(s: &mut CohortSummary, p: &PatientRow) {
    add_priority(s, p);
    let m = &p.measures;
    if let Some(st) = p.status {
        s.status[st as usize] += 1;
    }
    s.patients += 1;
    s.high_dose += m.high_dose as u64;
    s.long_term += m.long_term as u64;
    s.both += (m.high_dose && m.long_term) as u64;
    s.bands[p.dose_band.index()] += 1;
    s.total_ome_mg_window += m.window_ome_mg;
}

fn finish(s: &mut CohortSummary, mut doses: Vec<f64>) {
    doses.sort_by(f64::total_cmp);
    s.median_ome_mg_day = median(&doses);
    s.p90_ome_mg_day = percentile(&doses, 0.9);
}

/// Practice and ICS summaries from the current patients.
pub fn summarise(
    patients: &[PatientRow],
    resolved: &[ResolvedRow],
    practice_ics: &BTreeMap<String, String>,
    practice_unresolved: &BTreeMap<String, u64>,
    config: &AuditConfig,
) -> (Vec<CohortSummary>, Vec<CohortSummary>) {
    let mut practices: BTreeMap<String, (CohortSummary, Vec<f64>)> = BTreeMap::new();
    for (code, ics) in practice_ics {
        let info = config.practices.as_ref().and_then(|m| m.get(code));
        let s = CohortSummary {
            code: code.clone(),
            name: info.map(|i| i.practice_name.clone()).unwrap_or_default(),
            ics_code: ics.clone(),
            practices: 1,
            unresolved_items: practice_unresolved.get(code).copied().unwrap_or(0),
            list_size: config
                .list_sizes
                .as_ref()
                .and_then(|l| l.get(code).copied()),
            ..CohortSummary::default()
        };
        practices.insert(code.clone(), (s, Vec::new()));
    }
    let mut ics_doses: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for p in patients {
        if !p.measures.current {
            // An abrupt stop on the review list: counted only in its priority tier.
            if let Some(entry) = practices.get_mut(&p.practice_code) {
                add_priority(&mut entry.0, p);
            }
            continue;
        }
        let entry = practices.entry(p.practice_code.clone()).or_insert_with(|| {
            (
                CohortSummary {
                    code: p.practice_code.clone(),
                    ics_code: p.ics_code.clone(),
                    practices: 1,
                    ..CohortSummary::default()
                },
                Vec::new(),
            )
        });
        if p.excluded_reason.is_some() {
            entry.0.excluded_patients += 1;
            continue;
        }
        add_patient(&mut entry.0, p);
        entry.1.push(p.measures.ome_mg_day);
        ics_doses
            .entry(entry.0.ics_code.clone())
            .or_default()
            .push(p.measures.ome_mg_day);
    }
    for r in resolved {
        if let Some((s, _)) = practices.get_mut(&r.practice_code) {
            s.resolved += 1;
        }
    }
    let mut ics: BTreeMap<String, CohortSummary> = BTreeMap::new();
    let mut practice_out = Vec::new();
    for (_, (mut s, doses)) in practices {
        finish(&mut s, doses);
        let t = ics
            .entry(s.ics_code.clone())
            .or_insert_with(|| CohortSummary {
                code: s.ics_code.clone(),
                name: String::new(),
                ..CohortSummary::default()
            });
        if t.name.is_empty() {
            if let Some(info) = config.practices.as_ref().and_then(|m| m.get(&s.code)) {
                t.name = info.ics_name.clone();
            }
        }
        t.practices += 1;
        t.patients += s.patients;
        t.high_dose += s.high_dose;
        t.long_term += s.long_term;
        t.both += s.both;
        for b in 0..4 {
            t.bands[b] += s.bands[b];
        }
        t.total_ome_mg_window += s.total_ome_mg_window;
        t.excluded_patients += s.excluded_patients;
        for k in 0..3 {
            t.status[k] += s.status[k];
        }
        for k in 0..4 {
            t.priority[k] += s.priority[k];
        }
        t.resolved += s.resolved;
        t.unresolved_items += s.unresolved_items;
        if let Some(l) = s.list_size {
            *t.list_size.get_or_insert(0.0) += l;
            let base = t.rate_base.get_or_insert_with(RateBase::default);
            base.patients += s.patients;
            base.high_dose += s.high_dose;
            base.long_term += s.long_term;
            base.both += s.both;
            for b in 0..4 {
                base.bands[b] += s.bands[b];
            }
            base.total_ome_mg_window += s.total_ome_mg_window;
        }
        practice_out.push(s);
    }
    let mut ics_out = Vec::new();
    for (code, mut s) in ics {
        finish(&mut s, ics_doses.remove(&code).unwrap_or_default());
        ics_out.push(s);
    }
    (practice_out, ics_out)
}

/// Disclosure control of one count: 1–7 hidden, others to the nearest 5.
pub fn suppress_count(n: u64) -> Option<u64> {
    match n {
        0 => Some(0),
        1..=7 => None,
        _ => Some((n + 2) / 5 * 5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_by_hand() {
        assert_eq!(median(&[1.0, 2.0, 3.0, 4.0]), Some(2.5));
        assert_eq!(median(&[5.0]), Some(5.0));
        // (10 - 1) x 0.9 = 8.1: 9 + 0.1 x (10 - 9) = 9.1
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert!((percentile(&v, 0.9).unwrap() - 9.1).abs() < 1e-12);
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn suppression_rule() {
        assert_eq!(suppress_count(0), Some(0));
        for n in 1..=7 {
            assert_eq!(suppress_count(n), None);
        }
        assert_eq!(suppress_count(8), Some(10));
        assert_eq!(suppress_count(12), Some(10));
        assert_eq!(suppress_count(13), Some(15));
        assert_eq!(suppress_count(17), Some(15));
        assert_eq!(suppress_count(18), Some(20));
        assert_eq!(suppress_count(100), Some(100));
    }
}
