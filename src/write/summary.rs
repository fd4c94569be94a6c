//! The practice and ICS summaries as tables, with disclosure control when asked.

use crate::summary::{suppress_count, CohortSummary, RateBase};
use crate::write::table::Table;

/// A summary table, with disclosure control when asked.
pub fn summary_table(rows: &[CohortSummary], is_ics: bool, suppress: bool) -> Table {
    let count = |n: u64| -> Option<u64> {
        if suppress {
            suppress_count(n)
        } else {
            Some(n)
        }
    };
    let text = |n: Option<u64>| -> Option<String> {
        Some(match n {
            Some(v) => v.to_string(),
            None => "*".to_string(),
        })
    };
    let has_lists = rows.iter().any(|r| r.list_size.is_some());
    let mut t = Table::new().text("code", rows.iter().map(|r| Some(r.code.clone())).collect());
    t = t.text("name", rows.iter().map(|r| Some(r.name.clone())).collect());
    if is_ics {
        t = t.integer(
            "practices",
            rows.iter().map(|r| Some(r.practices as i64)).collect(),
        );
    } else {
        t = t.text(
            "ics_code",
            rows.iter().map(|r| Some(r.ics_code.clone())).collect(),
        );
    }
    type Get = fn(&CohortSummary) -> u64;
    let counts: [(&str, Get); 17] = [
        ("patients", |r| r.patients),
        ("high_dose", |r| r.high_dose),
        ("long_term", |r| r.long_term),
        ("high_dose_and_long_term", |r| r.both),
        ("band_under_50", |r| r.bands[0]),
        ("band_50_to_under_90", |r| r.bands[1]),
        ("band_90_to_120", |r| r.bands[2]),
        ("band_over_120", |r| r.bands[3]),
        ("excluded_patients", |r| r.excluded_patients),
        ("new", |r| r.status[0]),
        ("continuing", |r| r.status[1]),
        ("returned", |r| r.status[2]),
        ("resolved", |r| r.resolved),
        ("priority_1", |r| r.priority[0]),
        ("priority_2", |r| r.priority[1]),
        ("priority_3", |r| r.priority[2]),
        ("priority_4", |r| r.priority[3]),
    ];
    for (name, get) in counts {
        t = t.text(name, rows.iter().map(|r| text(count(get(r)))).collect());
    }
    t = t.text(
        "unresolved_items",
        rows.iter()
            .map(|r| text(count(r.unresolved_items)))
            .collect(),
    );
    let hidden = |r: &CohortSummary| count(r.patients).is_none();
    t = t.number(
        "median_ome_mg_day",
        rows.iter()
            .map(|r| if hidden(r) { None } else { r.median_ome_mg_day })
            .collect(),
    );
    t = t.number(
        "p90_ome_mg_day",
        rows.iter()
            .map(|r| if hidden(r) { None } else { r.p90_ome_mg_day })
            .collect(),
    );
    t = t.number(
        "total_ome_mg_window",
        rows.iter().map(|r| Some(r.total_ome_mg_window)).collect(),
    );
    if has_lists {
        t = t.number("list_size", rows.iter().map(|r| r.list_size).collect());
        // Rates: numerators of practices with a list size over their list sizes.
        let base = |r: &CohortSummary| r.rate_base(is_ics);
        type RateGet = fn(&RateBase) -> u64;
        let rates: [(&str, RateGet); 8] = [
            ("patients_per_1000", |b| b.patients),
            ("high_dose_per_1000", |b| b.high_dose),
            ("long_term_per_1000", |b| b.long_term),
            ("high_dose_and_long_term_per_1000", |b| b.both),
            ("band_under_50_per_1000", |b| b.bands[0]),
            ("band_50_to_under_90_per_1000", |b| b.bands[1]),
            ("band_90_to_120_per_1000", |b| b.bands[2]),
            ("band_over_120_per_1000", |b| b.bands[3]),
        ];
        for (name, get) in rates {
            t = t.text(
                name,
                rows.iter()
                    .map(|r| {
                        let b = base(r)?;
                        let list = r.list_size.filter(|l| *l > 0.0)?;
                        match count(get(&b)) {
                            Some(n) => {
                                Some(crate::write::output::fmt_num(n as f64 * 1000.0 / list))
                            }
                            None => Some("*".into()),
                        }
                    })
                    .collect(),
            );
        }
        t = t.number(
            "total_ome_mg_window_per_1000",
            rows.iter()
                .map(|r| {
                    let b = base(r)?;
                    let list = r.list_size.filter(|l| *l > 0.0)?;
                    Some(b.total_ome_mg_window * 1000.0 / list)
                })
                .collect(),
        );
    }
    t
}
