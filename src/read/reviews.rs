//! `--reviews`: what was done at each patient's last review, read from last month's filled-in
//! `review_list.xlsx` (its first sheet) or any CSV with `patient_id`, `review_date`,
//! `outcome` and `next_review` (METHOD.md §11). Where a row's own cells are empty, the
//! review it carried from the month before (`last_review_date`, `last_review_outcome`,
//! `next_review_due`) is kept, so a review is not lost by a month without one.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::followup::{known_outcome, Review};
use crate::read::columns::normalise_header;
use crate::values::{parse_known_date, Day};

/// The reviews read, and what was noticed (outcomes that are not one of the drop-down's).
#[derive(Debug, Default)]
pub struct Reviews {
    pub by_patient: BTreeMap<String, Review>,
    pub warnings: Vec<String>,
    /// Rows below the header, and of those the ones without a patient id or without any
    /// review (both set aside, counted in the warnings and the manifest).
    pub rows: u64,
    pub without_patient: u64,
    pub without_review: u64,
}

/// One cell as text, or a date when the workbook holds one.
enum Value {
    Text(String),
    Date(Day),
}

/// Excel's day 25,569 is 1970-01-01.
const EXCEL_EPOCH_OFFSET: f64 = 25_569.0;

fn rows_of_workbook(path: &Path) -> Result<Vec<Vec<Value>>> {
    use calamine::{Data, Reader};
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(path)
        .with_context(|| format!("cannot open {} as a workbook", path.display()))?;
    let Some(range) = wb.worksheet_range_at(0) else {
        bail!("{}: the workbook has no sheet", path.display());
    };
    let range = range.with_context(|| format!("cannot read {}'s first sheet", path.display()))?;
    Ok(range
        .rows()
        .map(|row| {
            row.iter()
                .map(|c| match c {
                    Data::DateTime(d) => Value::Date(Day::of_axis(d.as_f64() - EXCEL_EPOCH_OFFSET)),
                    Data::Empty => Value::Text(String::new()),
                    other => Value::Text(other.to_string()),
                })
                .collect()
        })
        .collect())
}

fn rows_of_csv(path: &Path) -> Result<Vec<Vec<Value>>> {
    let text = crate::read::input::decode_text(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| {
            crate::error::Diagnostic::error(format!(
                "{}: line {}: cannot read the row",
                path.display(),
                i + 1
            ))
            .hint(
                "--reviews takes last month's \
                 review_list.xlsx, or a CSV with patient_id, review_date, outcome, next_review",
            )
        })?;
        rows.push(rec.iter().map(|c| Value::Text(c.to_string())).collect());
    }
    Ok(rows)
}

/// A date as a review list holds one: an Excel date, or text in a layout opal knows
/// (YYYY-MM-DD, DD/MM/YYYY, 31-Oct-2026, 31.10.2026...).
fn date_of(v: &Value) -> Result<Option<Day>, String> {
    match v {
        Value::Date(d) => Ok(Some(*d)),
        Value::Text(t) if t.trim().is_empty() => Ok(None),
        Value::Text(t) => parse_known_date(t).map(Some).ok_or_else(|| t.clone()),
    }
}

/// Read `--reviews`.
pub fn read_reviews(path: &Path) -> Result<Reviews> {
    let is_workbook = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"));
    let rows = if is_workbook {
        rows_of_workbook(path)?
    } else {
        rows_of_csv(path)?
    };
    let Some((header, rows)) = rows.split_first() else {
        return Err(crate::error::hinted(
            format!("{}: the file is empty", path.display()),
            "--reviews takes last month's review_list.xlsx, or a CSV with patient_id, \
             review_date, outcome, next_review",
        ));
    };
    let names: Vec<String> = header
        .iter()
        .map(|v| match v {
            Value::Text(t) => normalise_header(t),
            Value::Date(_) => String::new(),
        })
        .collect();
    let col = |name: &str| names.iter().position(|n| n == name);
    let Some(id_col) = col("patientid") else {
        return Err(crate::error::hinted(
            format!(
                "{}: no patient_id column (the headers are: {})",
                path.display(),
                header
                    .iter()
                    .map(|v| match v {
                        Value::Text(t) => crate::error::escape(t),
                        Value::Date(_) => "(a date)".into(),
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            "--reviews takes last \
             month's review_list.xlsx, or a CSV with patient_id, review_date, outcome, \
             next_review",
        ));
    };
    let (date_col, outcome_col, next_col) = (col("reviewdate"), col("outcome"), col("nextreview"));
    if date_col.is_none() && outcome_col.is_none() && next_col.is_none() {
        return Err(crate::error::hinted(
            format!(
                "{}: none of review_date, outcome or next_review is a column",
                path.display()
            ),
            "fill in \
             those columns of review_list.xlsx (written with --xlsx), or give a CSV with them",
        ));
    }
    // What the row carried from the month before.
    let (last_date_col, last_outcome_col, due_col) = (
        col("lastreviewdate"),
        col("lastreviewoutcome"),
        col("nextreviewdue"),
    );
    let mut out = Reviews::default();
    let mut unknown = 0usize;
    let empty = Value::Text(String::new());
    for (i, row) in rows.iter().enumerate() {
        let line = i + 2;
        let cell = |c: Option<usize>| c.and_then(|c| row.get(c)).unwrap_or(&empty);
        let text = |c: Option<usize>| match cell(c) {
            Value::Text(t) => t.trim().to_string(),
            Value::Date(_) => String::new(),
        };
        out.rows += 1;
        let id = text(Some(id_col));
        if id.is_empty() {
            if (0..row.len()).any(|c| !text(Some(c)).is_empty()) {
                out.without_patient += 1;
            } else {
                // A blank line at the end of a sheet is not a row.
                out.rows -= 1;
            }
            continue;
        }
        let date = |c: Option<usize>, name: &str| {
            date_of(cell(c)).map_err(|v| {
                crate::error::hinted(
                    format!(
                        "{}: line {line}: {name} '{}' is not a date",
                        path.display(),
                        crate::error::escape(&v)
                    ),
                    "write it as \
                     YYYY-MM-DD or DD/MM/YYYY",
                )
            })
        };
        let first = |a: String, b: String| if a.is_empty() { b } else { a };
        let outcome_text = first(text(outcome_col), text(last_outcome_col));
        let review = Review {
            date: date(date_col, "review_date")?.or(date(last_date_col, "last_review_date")?),
            outcome: match known_outcome(&outcome_text) {
                Some(o) => o.to_string(),
                None => {
                    unknown += usize::from(!outcome_text.is_empty());
                    outcome_text
                }
            },
            next_review: date(next_col, "next_review")?.or(date(due_col, "next_review_due")?),
        };
        if review.date.is_none() && review.outcome.is_empty() && review.next_review.is_none() {
            out.without_review += 1;
            continue;
        }
        // A patient twice: the later review.
        match out.by_patient.get(&id) {
            Some(old) if old.date > review.date => {}
            _ => {
                out.by_patient.insert(id, review);
            }
        }
    }
    if out.without_patient > 0 {
        out.warnings.push(format!(
            "{}: {} row(s) have no patient_id and were set aside",
            path.display(),
            out.without_patient
        ));
    }
    if unknown > 0 {
        out.warnings.push(format!(
            "{}: {unknown} outcome(s) are not one of the list's ({}); they are kept as written",
            path.display(),
            crate::followup::OUTCOMES.join("; ")
        ));
    }
    Ok(out)
}
