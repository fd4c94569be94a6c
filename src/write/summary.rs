//! The practice and ICS summaries, `practice_summary` and `ics_summary`: their columns
//! declared once ([`SUMMARY`]), with disclosure control when asked.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::summary::{suppress_count, CohortSummary, RateBase};
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, CellOf, Column, Rows};
use crate::write::table::Format;

/// A summary's row: a practice or an ICS, and how the table shows it.
pub struct SummaryRow<'a> {
    pub s: &'a CohortSummary,
    pub is_ics: bool,
    pub suppress: bool,
}

/// Which summaries a column is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Both,
    Practices,
    Icss,
    /// Both, when some practice has a list size (--list-sizes).
    WithListSizes,
}

impl Rows for SummaryRow<'_> {
    type Row<'a> = SummaryRow<'a>;
    type Tag = In;
}

impl SummaryRow<'_> {
    /// A count, or with --suppress its rounded value (`*` where hidden): text either way.
    fn count(&self, n: u64) -> Cell<'static> {
        let shown = if self.suppress {
            suppress_count(n)
        } else {
            Some(n)
        };
        match shown {
            Some(v) => Cell::NumberText(Some(v as f64)),
            None => Cell::Text("*"),
        }
    }

    /// Whether the patient count is hidden (so are the dose percentiles).
    fn hidden(&self) -> bool {
        self.suppress && suppress_count(self.s.patients).is_none()
    }

    /// A rate per 1000 registered patients of a count of the practices with a list size.
    fn rate(&self, get: fn(&RateBase) -> u64) -> Cell<'static> {
        let Some(base) = self.s.rate_base(self.is_ics) else {
            return Cell::NumberText(None);
        };
        let Some(list) = self.s.list_size.filter(|l| *l > 0.0) else {
            return Cell::NumberText(None);
        };
        match self.count(get(&base)) {
            Cell::NumberText(Some(n)) => Cell::NumberText(Some(n * 1000.0 / list)),
            hidden => hidden,
        }
    }
}

type S = SummaryRow<'static>;

const fn both(name: &'static str, kind: Kind, meaning: &'static str, cell: CellOf<S>) -> Column<S> {
    Column::<S>::tagged(In::Both, name, kind, meaning, cell)
}

const fn rate(name: &'static str, meaning: &'static str, cell: CellOf<S>) -> Column<S> {
    Column::<S>::tagged(In::WithListSizes, name, Kind::Text, meaning, cell)
}

/// The columns of the summaries, in order; each table has those [`In`] it.
pub const SUMMARY: &[Column<S>] = &[
    both("code", Kind::Text, "The practice's or ICS's code.", |r| {
        Cell::Text(&r.s.code)
    }),
    both(
        "name",
        Kind::Text,
        "Its name (from --practices), where known.",
        |r| Cell::Text(&r.s.name),
    ),
    Column::tagged(
        In::Icss,
        "practices",
        Kind::Integer,
        "The ICS's practices with current opioid patients.",
        |r| Cell::Integer(Some(r.s.practices as i64)),
    ),
    Column::tagged(
        In::Practices,
        "ics_code",
        Kind::Text,
        "The practice's ICS.",
        |r| Cell::Text(&r.s.ics_code),
    ),
    both(
        "patients",
        Kind::Text,
        "Current opioid patients (counts are text: with --suppress, 1 to 7 is `*` and the rest \
        are rounded to 5).",
        |r| r.count(r.s.patients),
    ),
    both(
        "high_dose",
        Kind::Text,
        "Of them, above the high-dose threshold (120 mg OME a day).",
        |r| r.count(r.s.high_dose),
    ),
    both(
        "long_term",
        Kind::Text,
        "On opioids for more than the long-term limit (90 days).",
        |r| r.count(r.s.long_term),
    ),
    both(
        "high_dose_and_long_term",
        Kind::Text,
        "Both high-dose and long-term.",
        |r| r.count(r.s.both),
    ),
    both("band_under_50", Kind::Text, "Below 50 mg OME a day.", |r| {
        r.count(r.s.bands[0])
    }),
    both(
        "band_50_to_under_90",
        Kind::Text,
        "50 to below 90 mg OME a day.",
        |r| r.count(r.s.bands[1]),
    ),
    both(
        "band_90_to_120",
        Kind::Text,
        "90 to 120 mg OME a day.",
        |r| r.count(r.s.bands[2]),
    ),
    both(
        "band_over_120",
        Kind::Text,
        "Above 120 mg OME a day.",
        |r| r.count(r.s.bands[3]),
    ),
    both(
        "excluded_patients",
        Kind::Text,
        "Current opioid patients excluded (the exclusion list or the coded record).",
        |r| r.count(r.s.excluded_patients),
    ),
    both(
        "new",
        Kind::Text,
        "Review-list patients new since the previous audit (--previous).",
        |r| r.count(r.s.status[0]),
    ),
    both(
        "continuing",
        Kind::Text,
        "Review-list patients also on the list at the previous audit.",
        |r| r.count(r.s.status[1]),
    ),
    both(
        "returned",
        Kind::Text,
        "Review-list patients back on the list after leaving it.",
        |r| r.count(r.s.status[2]),
    ),
    both(
        "resolved",
        Kind::Text,
        "Patients on the list at the previous audit and not now.",
        |r| r.count(r.s.resolved),
    ),
    both(
        "priority_1",
        Kind::Text,
        "Review-list patients of priority 1.",
        |r| r.count(r.s.priority[0]),
    ),
    both(
        "priority_2",
        Kind::Text,
        "Review-list patients of priority 2.",
        |r| r.count(r.s.priority[1]),
    ),
    both(
        "priority_3",
        Kind::Text,
        "Review-list patients of priority 3.",
        |r| r.count(r.s.priority[2]),
    ),
    both(
        "priority_4",
        Kind::Text,
        "Review-list patients of priority 4.",
        |r| r.count(r.s.priority[3]),
    ),
    both(
        "unresolved_items",
        Kind::Text,
        "Opioid-looking items that could not be converted to OME.",
        |r| r.count(r.s.unresolved_items),
    ),
    both(
        "median_ome_mg_day",
        Kind::Number,
        "The median OME mg a day of the current patients (empty where their count is hidden).",
        |r| {
            Cell::Number(if r.hidden() {
                None
            } else {
                r.s.median_ome_mg_day
            })
        },
    ),
    both(
        "p90_ome_mg_day",
        Kind::Number,
        "The 90th percentile of OME mg a day (empty where the count is hidden).",
        |r| Cell::Number(if r.hidden() { None } else { r.s.p90_ome_mg_day }),
    ),
    both(
        "total_ome_mg_window",
        Kind::Number,
        "The OME mg supplied in the dose window (28 days).",
        |r| Cell::Number(Some(r.s.total_ome_mg_window)),
    ),
    Column::tagged(
        In::WithListSizes,
        "list_size",
        Kind::Number,
        "Registered patients (--list-sizes) of the practices that have a list size.",
        |r| Cell::Number(r.s.list_size),
    ),
    rate(
        "patients_per_1000",
        "Current opioid patients per 1000 registered (practices with a list size).",
        |r| r.rate(|b| b.patients),
    ),
    rate(
        "high_dose_per_1000",
        "High-dose patients per 1000 registered.",
        |r| r.rate(|b| b.high_dose),
    ),
    rate(
        "long_term_per_1000",
        "Long-term patients per 1000 registered.",
        |r| r.rate(|b| b.long_term),
    ),
    rate(
        "high_dose_and_long_term_per_1000",
        "Patients both high-dose and long-term per 1000 registered.",
        |r| r.rate(|b| b.both),
    ),
    rate(
        "band_under_50_per_1000",
        "Patients below 50 mg OME a day per 1000 registered.",
        |r| r.rate(|b| b.bands[0]),
    ),
    rate(
        "band_50_to_under_90_per_1000",
        "Patients at 50 to below 90 mg per 1000 registered.",
        |r| r.rate(|b| b.bands[1]),
    ),
    rate(
        "band_90_to_120_per_1000",
        "Patients at 90 to 120 mg per 1000 registered.",
        |r| r.rate(|b| b.bands[2]),
    ),
    rate(
        "band_over_120_per_1000",
        "Patients above 120 mg per 1000 registered.",
        |r| r.rate(|b| b.bands[3]),
    ),
    Column::tagged(
        In::WithListSizes,
        "total_ome_mg_window_per_1000",
        Kind::Number,
        "The window's OME mg per 1000 registered.",
        |r| {
            let per_1000 = |b: RateBase| {
                let list = r.s.list_size.filter(|l| *l > 0.0)?;
                Some(b.total_ome_mg_window * 1000.0 / list)
            };
            Cell::Number(r.s.rate_base(r.is_ics).and_then(per_1000))
        },
    ),
];

/// The columns of a summary: the ICSs' (`is_ics`) or the practices', with the rates when
/// some row has a list size.
pub fn summary_columns(is_ics: bool, with_lists: bool) -> impl Iterator<Item = &'static Column<S>> {
    SUMMARY.iter().filter(move |c| match c.tag {
        In::Both => true,
        In::Practices => !is_ics,
        In::Icss => is_ics,
        In::WithListSizes => with_lists,
    })
}

/// Write a summary as `<dir>/<stem>.<csv|parquet>`, with disclosure control when asked.
pub fn write_summary(
    dir: &Path,
    stem: &str,
    rows: &[CohortSummary],
    is_ics: bool,
    suppress: bool,
    format: Format,
) -> Result<PathBuf> {
    let with_lists = rows.iter().any(|r| r.list_size.is_some());
    let rows: Vec<SummaryRow> = rows
        .iter()
        .map(|s| SummaryRow {
            s,
            is_ics,
            suppress,
        })
        .collect();
    write_rows(
        dir,
        stem,
        summary_columns(is_ics, with_lists),
        &rows,
        format,
    )
}
