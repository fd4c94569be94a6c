//! The cells of every output table: one type per kind of value, written the same way to CSV
//! and to the typed columns of Parquet.

use std::io::Write;

use crate::engine::day_text;
use crate::values::Day;

/// One cell of an output row.
pub enum Cell<'a> {
    Text(&'a str),
    /// Text that may be absent: empty in CSV, null in Parquet.
    OptText(Option<&'a str>),
    Number(Option<f64>),
    Integer(Option<i64>),
    Flag(Option<bool>),
    /// A date, written as YYYY-MM-DD (text in Parquet, as before).
    Date(Option<Day>),
    /// A number written as text, in a text column (the counts and rates of `--suppress`,
    /// where a hidden one is `*`): empty when absent.
    NumberText(Option<f64>),
}

impl Cell<'_> {
    /// The cell as the typed table's text (dates as YYYY-MM-DD); `None` when absent.
    pub fn text(&self) -> Option<String> {
        match self {
            Cell::Text(s) | Cell::OptText(Some(s)) => Some(s.to_string()),
            Cell::Date(d) => d.map(day_text),
            Cell::NumberText(v) => v.map(crate::write::output::fmt_num),
            _ => None,
        }
    }

    pub fn number(&self) -> Option<f64> {
        match self {
            Cell::Number(v) => *v,
            _ => None,
        }
    }

    pub fn integer(&self) -> Option<i64> {
        match self {
            Cell::Integer(v) => *v,
            _ => None,
        }
    }

    pub fn flag(&self) -> Option<bool> {
        match self {
            Cell::Flag(v) => *v,
            _ => None,
        }
    }
}

/// The type of a column, whatever its rows (an empty list keeps its schema).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Number,
    Integer,
    Flag,
    Date,
}

/// A CSV text field as the csv crate writes it: quoted when it holds a comma, quote or line
/// end, and safe to open in a spreadsheet ([`crate::write::output::csv_text`]).
pub fn push_field(out: &mut Vec<u8>, s: &str) {
    let s = &*crate::write::output::csv_text(s);
    // A byte loop for short fields (ids, codes), memchr's vector search for long ones (the
    // reasons, product names).
    let b = s.as_bytes();
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
    let quote = if b.len() < 32 {
        b.iter().any(special)
    } else {
        memchr::memchr3(b',', b'"', b'\n', b).is_some() || memchr::memchr(b'\r', b).is_some()
    };
    if quote {
        out.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s.as_bytes());
    }
}

/// A number as opal writes it (empty when absent).
pub fn push_number(out: &mut Vec<u8>, num: &mut String, v: Option<f64>) {
    num.clear();
    if let Some(v) = v {
        crate::write::output::push_num(num, v);
    }
    out.extend_from_slice(num.as_bytes());
}

pub fn push_uint(out: &mut Vec<u8>, v: u64) {
    let mut digits = [0; 20];
    out.extend_from_slice(opal_core::values::uint_digits(v, &mut digits));
}

/// One cell as CSV (nothing for an absent value).
pub fn push_cell(out: &mut Vec<u8>, num: &mut String, cell: &Cell) {
    match *cell {
        Cell::Text(s) | Cell::OptText(Some(s)) => push_field(out, s),
        Cell::OptText(None) => {}
        Cell::Number(v) => push_number(out, num, v),
        Cell::Integer(Some(v)) => {
            if v >= 0 {
                push_uint(out, v as u64);
            } else {
                let _ = write!(out, "{v}");
            }
        }
        Cell::Integer(None) | Cell::Flag(None) | Cell::Date(None) => {}
        Cell::Flag(Some(b)) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Date(Some(d)) => out.extend_from_slice(day_text(d).as_bytes()),
        Cell::NumberText(v) => {
            num.clear();
            if let Some(v) = v {
                crate::write::output::push_num(num, v);
            }
            push_field(out, num);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields worked by hand: quoted when they hold a comma, quote, LF or CR (quotes
    /// doubled), a leading formula character made text with `'`, UTF-8 kept.
    #[test]
    fn fields_are_quoted_and_made_spreadsheet_safe() {
        let cases = [
            ("plain", "plain"),
            ("", ""),
            ("a,b", "\"a,b\""),
            ("say \"hi\"", "\"say \"\"hi\"\"\""),
            ("line\nbreak", "\"line\nbreak\""),
            ("ends in CR\r", "\"ends in CR\r\""),
            ("=SUM(A1)", "'=SUM(A1)"),
            ("-5", "'-5"),
            ("+44", "'+44"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("=a,b", "\"'=a,b\""),
            ("café, crème", "\"café, crème\""),
            ("é=1", "é=1"),
            ("a-b", "a-b"),
            // Long fields (the vector search): a comma, a quote, a CR late on, or none.
            (
                "high dose: 130 mg OME/day (above 120); long-term",
                "high dose: 130 mg OME/day (above 120); long-term",
            ),
            (
                "Morphine 10mg/5ml oral solution, sugar free",
                "\"Morphine 10mg/5ml oral solution, sugar free\"",
            ),
            (
                "a field of more than thirty-two bytes with \"a quote\"",
                "\"a field of more than thirty-two bytes with \"\"a quote\"\"\"",
            ),
            (
                "a field of more than thirty-two bytes ending in CR\r",
                "\"a field of more than thirty-two bytes ending in CR\r\"",
            ),
        ];
        for (field, want) in cases {
            let mut out = Vec::new();
            push_field(&mut out, field);
            assert_eq!(String::from_utf8(out).unwrap(), want, "{field:?}");
        }
    }
}
