//! review_list.xlsx (`--xlsx`, issue 17): the review list as a spreadsheet that opens well in
//! Excel — a frozen header row, filters, column widths, dates as dates, numbers as numbers,
//! true/false as booleans — and a second sheet explaining each column. The columns and cells
//! are the review list's own declaration ([`crate::write::patients::COLUMNS`]).

use std::path::{Path, PathBuf};

use anyhow::{anyhow, Context, Result};
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook};

use crate::engine::PatientRow;
use crate::values::{civil_from_days, Day};
use crate::write::cells::Cell;
use crate::write::table::write_atomically;

/// The columns the practice fills in (issue 26.5), after the list's own, and what to put in
/// them; `opal audit --reviews` reads them back the month after.
pub const FILL_IN: [(&str, &str); 3] = [
    ("outcome", "Fill in: what the review decided (reviewed - no change; taper agreed; referred; not appropriate; could not contact). Give this workbook to next month's audit with --reviews."),
    ("review_date", "Fill in: the date of the review."),
    ("next_review", "Fill in: when to review again; until then the list shows 'review due on' that date, in the patient's tier."),
];

fn xlsx_err(e: rust_xlsxwriter::XlsxError) -> anyhow::Error {
    anyhow!("{e}")
}

/// A day as an Excel date.
fn excel_date(d: Day) -> Result<ExcelDateTime> {
    let (y, m, dd) = civil_from_days(d);
    let y = u16::try_from(y).map_err(|_| anyhow!("the year {y} cannot be an Excel date"))?;
    ExcelDateTime::from_ymd(y, m as u8, dd as u8).map_err(xlsx_err)
}

/// Excel's limit on the characters of one cell (it counts UTF-16 units).
pub const EXCEL_MAX_CELL: usize = 32_767;
/// From this many rows the workbook's rows are written through a temporary file (the
/// sample's whole list, 415 rows, is; a pack of 30 patients is not: both are read back
/// against the CSV in tests/it/trend.rs).
const LOW_MEMORY_FROM_ROWS: usize = 200;
/// Excel's limit on the rows of a sheet, the header's among them.
pub const EXCEL_MAX_ROWS: usize = 1_048_576;

/// A cell's text as Excel can hold it: the characters XML refuses replaced
/// (write/markup.rs), and a text over [`EXCEL_MAX_CELL`] cut with a visible marker that says
/// how much was cut and where the whole is. `cut` counts the cells cut.
fn excel_text<'a>(s: &'a str, cut: &mut usize) -> std::borrow::Cow<'a, str> {
    let s = crate::write::markup::xml_chars(s);
    let units = s.encode_utf16().count();
    if units <= EXCEL_MAX_CELL {
        return s;
    }
    *cut += 1;
    let marker = format!(
        " … [cut: {units} characters, Excel holds {EXCEL_MAX_CELL}; the whole text is in \
         review_list.csv]"
    );
    let room = EXCEL_MAX_CELL - marker.encode_utf16().count();
    let mut kept = String::with_capacity(room);
    let mut used = 0;
    for c in s.chars() {
        used += c.len_utf16();
        if used > room {
            break;
        }
        kept.push(c);
    }
    kept.push_str(&marker);
    std::borrow::Cow::Owned(kept)
}

/// Write `<dir>/review_list.xlsx` from the review list's rows. The workbook's creation date is
/// the audit date, so that the same inputs give the same bytes (as every output of opal).
/// Returns the path and what had to give way to Excel's limits (cells cut, rows left out),
/// for the manifest's warnings: a limit never stops the run.
pub fn write_review_xlsx(
    dir: &Path,
    rows: &[&PatientRow],
    as_of: Day,
) -> Result<(PathBuf, Vec<String>)> {
    let path = dir.join("review_list.xlsx");
    let mut warnings = Vec::new();
    let bytes = workbook(dir, rows, as_of, &mut warnings).with_context(|| {
        crate::error::Diagnostic::error(format!("cannot write {}", path.display()))
            .hint("the review list is also in review_list.csv")
    })?;
    write_atomically(&path, |w| {
        use std::io::Write;
        w.write_all(&bytes)?;
        Ok(())
    })?;
    Ok((path, warnings))
}

/// The workbook's bytes: the review list and the sheet explaining its columns.
fn workbook(
    dir: &Path,
    rows: &[&PatientRow],
    as_of: Day,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>> {
    let columns: Vec<_> = crate::write::patients::columns(false).collect();
    let mut wb = Workbook::new();
    if let Ok(created) = excel_date(as_of) {
        wb.set_properties(&DocProperties::new().set_creation_datetime(&created));
    }
    let header = Format::new().set_bold().set_background_color("#F0F4F5");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let decimals = Format::new().set_num_format("0.0");
    // A long list's rows go to a temporary file in the output's folder as they are written
    // (rust_xlsxwriter's "low memory" mode, which keeps the shared strings), instead of
    // 120,000 patients' cells held in memory (400 MB); a short one, a practice pack's
    // usually, is built in memory, without a temporary file each.
    let ws = if rows.len() >= LOW_MEMORY_FROM_ROWS {
        wb.set_tempdir(dir).map_err(xlsx_err)?;
        wb.add_worksheet_with_low_memory()
    } else {
        wb.add_worksheet()
    };
    ws.set_name("review list").map_err(xlsx_err)?;
    let mut widths: Vec<usize> = columns.iter().map(|c| c.name.len() + 2).collect();
    for (j, c) in columns.iter().enumerate() {
        ws.write_string_with_format(0, j as u16, c.name, &header)
            .map_err(xlsx_err)?;
    }
    // The columns to fill in as the reviews are done, read back next month by --reviews,
    // headed before any row is written (a long list's rows are flushed as they go).
    let fill = Format::new().set_bold().set_background_color("#FFF9C4");
    let first_fill = columns.len() as u16;
    for (k, (name, _)) in FILL_IN.iter().enumerate() {
        ws.write_string_with_format(0, first_fill + k as u16, *name, &fill)
            .map_err(xlsx_err)?;
    }
    let shown = rows.len().min(EXCEL_MAX_ROWS - 1);
    if shown < rows.len() {
        warnings.push(format!(
            "{} of the review list's {} patients are in the workbook (Excel holds {} rows); \
             review_list.csv has them all",
            shown,
            rows.len(),
            EXCEL_MAX_ROWS
        ));
    }
    let mut cut = 0;
    for (i, r) in rows[..shown].iter().enumerate() {
        let row = i as u32 + 1;
        for (j, c) in columns.iter().enumerate() {
            let col = j as u16;
            let width = match (c.cell)(r) {
                Cell::Text(s) | Cell::OptText(Some(s)) => {
                    if !s.is_empty() {
                        let s = excel_text(s, &mut cut);
                        ws.write_string(row, col, s.as_ref()).map_err(xlsx_err)?;
                    }
                    s.chars().count()
                }
                Cell::Number(Some(v)) => {
                    ws.write_number_with_format(row, col, v, &decimals)
                        .map_err(xlsx_err)?;
                    8
                }
                Cell::Integer(Some(v)) => {
                    ws.write_number(row, col, v as f64).map_err(xlsx_err)?;
                    6
                }
                Cell::Flag(Some(b)) => {
                    ws.write_boolean(row, col, b).map_err(xlsx_err)?;
                    5
                }
                Cell::Date(Some(d)) => {
                    // A date Excel cannot hold (before 1900) is written as its text.
                    match excel_date(d) {
                        Ok(when) => ws
                            .write_datetime_with_format(row, col, &when, &date)
                            .map_err(xlsx_err)?,
                        Err(_) => ws
                            .write_string(row, col, crate::values::format_day(d))
                            .map_err(xlsx_err)?,
                    };
                    10
                }
                _ => 0,
            };
            widths[j] = widths[j].max(width + 2);
        }
    }
    if cut > 0 {
        warnings.push(format!(
            "{cut} cell(s) longer than Excel's {EXCEL_MAX_CELL} characters were cut, each with \
             a marker; review_list.csv has them whole"
        ));
    }
    for (j, w) in widths.iter().enumerate() {
        ws.set_column_width(j as u16, (*w).min(60) as f64)
            .map_err(xlsx_err)?;
    }
    // The fill-in columns: the outcome from a drop-down, the dates as dates.
    let last_row = (shown as u32).max(1);
    for k in 0..FILL_IN.len() {
        let col = first_fill + k as u16;
        let width = if k == 0 { 24.0 } else { 13.0 };
        ws.set_column_width(col, width).map_err(xlsx_err)?;
        if k > 0 {
            ws.set_column_format(col, &date).map_err(xlsx_err)?;
        }
    }
    let outcomes = rust_xlsxwriter::DataValidation::new()
        .allow_list_strings(&crate::followup::OUTCOMES)
        .map_err(xlsx_err)?
        .set_error_title("Outcome")
        .map_err(xlsx_err)?
        .set_error_message("Choose one of the list's outcomes.")
        .map_err(xlsx_err)?;
    ws.add_data_validation(1, first_fill, last_row, first_fill, &outcomes)
        .map_err(xlsx_err)?;
    ws.set_freeze_panes(1, 0).map_err(xlsx_err)?;
    ws.autofilter(0, 0, shown as u32, first_fill + FILL_IN.len() as u16 - 1)
        .map_err(xlsx_err)?;
    let about = wb.add_worksheet();
    about.set_name("columns").map_err(xlsx_err)?;
    about
        .write_string_with_format(0, 0, "column", &header)
        .map_err(xlsx_err)?;
    about
        .write_string_with_format(0, 1, "what it holds", &header)
        .map_err(xlsx_err)?;
    let explained = columns
        .iter()
        .map(|c| (c.name, c.meaning))
        .chain(FILL_IN.iter().copied());
    for (i, (name, meaning)) in explained.enumerate() {
        about
            .write_string(i as u32 + 1, 0, name)
            .map_err(xlsx_err)?;
        about
            .write_string(i as u32 + 1, 1, meaning)
            .map_err(xlsx_err)?;
    }
    about.set_column_width(0, 26).map_err(xlsx_err)?;
    about.set_column_width(1, 100).map_err(xlsx_err)?;
    wb.save_to_buffer().map_err(xlsx_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cell of 40,000 characters is cut to exactly Excel's 32,767 (UTF-16 units), ending
    /// with the marker; one of 32,767 is kept whole; a character outside the BMP counts two.
    #[test]
    fn long_cells_are_cut_to_excels_limit_with_a_marker() {
        let mut cut = 0;
        let long = "x".repeat(40_000);
        let c = excel_text(&long, &mut cut);
        assert_eq!(c.encode_utf16().count(), EXCEL_MAX_CELL);
        assert!(
            c.ends_with(
                "[cut: 40000 characters, Excel holds 32767; the whole text is in review_list.csv]"
            ),
            "{}",
            &c[c.len() - 120..]
        );
        assert_eq!(cut, 1);
        let edge = "y".repeat(EXCEL_MAX_CELL);
        assert_eq!(excel_text(&edge, &mut cut), edge);
        assert_eq!(cut, 1);
        let wide = "\u{1f600}".repeat(20_000);
        let c = excel_text(&wide, &mut cut);
        assert!(c.encode_utf16().count() <= EXCEL_MAX_CELL);
        assert!(c.encode_utf16().count() >= EXCEL_MAX_CELL - 1);
        assert_eq!(cut, 2);
        assert_eq!(excel_text("a\u{fffe}b", &mut cut), "a\u{fffd}b");
    }

    #[test]
    fn every_column_is_explained() {
        for c in crate::write::patients::COLUMNS {
            assert!(
                c.meaning.ends_with('.') && c.meaning.len() > 10,
                "{} has no meaning for the columns sheet",
                c.name
            );
        }
    }
}
