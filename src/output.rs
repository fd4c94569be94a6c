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

/// A number as opal writes it: at most 6 decimals, no trailing zeros, no `-0`.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return String::new();
    }
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

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

/// Whether stdout is a terminal (tables) or a pipe/file (CSV).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

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
    }
}
