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
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A number as opal writes it: at most 6 decimals, no trailing zeros, no `-0`.
pub fn fmt_num(v: f64) -> String {
    let mut out = String::new();
    push_num(&mut out, v);
    out
}

/// [`fmt_num`] into a buffer, without allocating: the hot path of large outputs.
pub fn push_num(out: &mut String, v: f64) {
    use std::fmt::Write;
    if !v.is_finite() {
        return;
    }
    // Exact integer arithmetic on micro-units for ordinary magnitudes.
    if v.abs() < 9.0e12 {
        let micro = (v * 1e6).round() as i64;
        if micro == 0 {
            out.push('0');
            return;
        }
        if micro < 0 {
            out.push('-');
        }
        let m = micro.unsigned_abs();
        let (int, frac) = (m / 1_000_000, m % 1_000_000);
        let _ = write!(out, "{int}");
        if frac != 0 {
            // Six digits, trailing zeros dropped, without allocating.
            let mut digits = [b'0'; 6];
            let mut f = frac;
            for d in digits.iter_mut().rev() {
                *d = b'0' + (f % 10) as u8;
                f /= 10;
            }
            let end = digits.iter().rposition(|&d| d != b'0').map_or(0, |p| p + 1);
            out.push('.');
            out.extend(digits[..end].iter().map(|&d| d as char));
        }
        return;
    }
    out.push_str(&fmt_num_slow(v));
}

fn fmt_num_slow(v: f64) -> String {
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

/// Add a row of cells to a terminal table, each [`escape`]d.
pub fn add_row(t: &mut Table, cells: Vec<String>) {
    t.add_row(cells.iter().map(|c| escape(c)).collect::<Vec<_>>());
}

/// Whether stdout is a terminal (tables) or a pipe/file (CSV).
pub fn stdout_is_terminal() -> bool {
    io::stdout().is_terminal()
}

/// Text for a terminal: control characters (C0 but the line break, DEL, C1), bidirectional
/// overrides and isolates, and zero-width characters are written as `\u{..}`, so that text
/// from an input (a practice code, a product name, a binary file) cannot move the cursor,
/// ring the bell, recolour the terminal or reorder what is shown.
pub fn escape(text: &str) -> String {
    let risky = |c: char| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    };
    if !text.chars().any(risky) {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if risky(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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
        assert_eq!(fmt_num(-2.5), "-2.5");
        assert_eq!(fmt_num(1e13), "10000000000000");
        assert_eq!(fmt_num(0.0000004), "0");
        assert_eq!(fmt_num(1200.0 / 28.0), "42.857143");
        assert_eq!(fmt_num(100.0 / 6.0), "16.666667");
    }
}
