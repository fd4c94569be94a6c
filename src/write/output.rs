//! The one place that builds CSV writers, formats numbers and prints terminal tables.
//!
//! stdout is data, stderr is talk: commands write CSV to stdout (or files) through
//! [`csv_writer`], and messages go to stderr.

use std::io::{self, IsTerminal, Write};

use comfy_table::{presets, ContentArrangement, Table};

/// A CSV writer with LF line ends, the format of every CSV opal writes.
pub fn csv_writer<W: Write>(w: W) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(w)
}

/// A text cell of a CSV output, safe to open in a spreadsheet: a cell that begins with `=`,
/// `+`, `-`, `@`, a tab or a carriage return would be read as a formula (`=HYPERLINK(...)`,
/// `=cmd|' /C calc'!A0`), so it gets a leading `'` (OWASP's advice on CSV injection). Numbers
/// are written as numbers, not through here; Parquet values are left as they are.
pub fn csv_text(s: &str) -> std::borrow::Cow<'_, str> {
    // Every one of them is ASCII, so the first byte tells.
    if matches!(
        s.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

pub use opal_core::values::{fmt_num, push_num};

/// An optional number, empty when absent.
pub fn fmt_opt(v: Option<f64>) -> String {
    v.map(fmt_num).unwrap_or_default()
}

/// A terminal table with opal's look.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// Add a row of cells to a terminal table, each [`escape`]d.
pub fn add_row(t: &mut Table, cells: Vec<String>) {
    t.add_row(cells.iter().map(|c| escape(c)).collect::<Vec<_>>());
}

/// Whether stdout is a terminal (tables) or a pipe/file (CSV).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

pub use crate::error::escape;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(120.0), "120");
        assert_eq!(fmt_num(0.1 + 0.2), "0.3");
        assert_eq!(fmt_num(2.0 / 3.0), "0.666667");
        assert_eq!(fmt_num(-0.0000001), "0");
        assert_eq!(fmt_num(f64::NAN), "");
        assert_eq!(fmt_num(-2.5), "-2.5");
        assert_eq!(fmt_num(1e13), "10000000000000");
        assert_eq!(fmt_num(0.0000004), "0");
        assert_eq!(fmt_num(1200.0 / 28.0), "42.857143");
        assert_eq!(fmt_num(100.0 / 6.0), "16.666667");
    }
}
