//! `opal dose`: dose instructions to dose units per day.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

use anyhow::{Context, Result};

use crate::dose::{parse, DoseParse};
use crate::write::answers::{DoseAnswer, DOSES};
use crate::write::columns::CsvStream;

/// Dose instructions to dose units per day
///
/// Read UK free-text dose instructions and print, as CSV, the dose units per day they imply.
///
/// Columns: text, units_min, units_max (dose units per day), unit (as written: tablet,
/// capsule, ml, mg, microgram, patch, puff, dose, sachet...; empty when only a number is
/// given), prn, status (parsed, partial, as_directed, unparsed), why (when not parsed),
/// dose_min, dose_max (units at a time).
///
/// Conventions (METHOD.md §4):
///   daily_min = dose_min x freq_min / interval_max; daily_max = dose_max x freq_max /
///   interval_min.                         "1-2 qds" -> 4..8; "1 or 2 every 4-6 hours" -> 4..12
///   Latin and UK shorthand: od (once daily, never "right eye"), om/mane, on/nocte, bd/bid,
///   tds/tid, qds/qid, q4h, 4 hrly, stat, prn; number words ("one and a half", "two to three").
///   "up to N times a day" and "max N times a day" are 0..N.     "1-2 up to qds" -> 0..8
///   "max N in 24 hours" caps units_max.   "2 every 6 hours max 8 in 24 hours" -> 8..8
///   PRN without "up to" keeps the stated frequency.             "1 qds prn" -> 4..4
///   Intervals beyond a day.               "apply one patch every 72 hours" -> 0.333;
///                                         "change twice a week" -> 0.286 (one patch)
///   Spoonfuls.                            "2x5ml spoonfuls with meals" -> 30 (ml)
///   Times of day and meals add up.        "one in the morning and two at night" -> 3
///   Tapers ("then", "reducing to", "increased to"): the span of all steps, status partial.
///                                         "60mg bd reducing to 30mg bd" -> 60..120 (mg)
///   No dose or no frequency: empty values, and why says which.
///   Trailing noise is ignored: "for pain", "after food", "twenty eight tablets",
///   "review in 3 months".
#[derive(Debug, clap::Args)]
#[command(
    verbatim_doc_comment,
    after_help = "Examples:\n  opal dose \"1-2 QDS PRN\" \"apply one patch every 72 hours\"\n  \
    opal dose --input directions.txt\n  cut -d, -f9 extract.csv | opal dose --input -"
)]
pub struct Args {
    /// Dose instructions.
    #[arg(value_name = "TEXT")]
    texts: Vec<String>,
    /// Read instructions from FILE ('-' for stdin): one per line, or a CSV with a `text`
    /// column.
    #[arg(long, short, value_name = "FILE")]
    input: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    let mut texts = args.texts;
    if let Some(path) = &args.input {
        texts.extend(read_texts(path)?);
    }
    if texts.is_empty() {
        return Err(crate::error::hinted(
            "no dose instructions given",
            "give them as arguments, or --input FILE (one per \
             line, or a CSV with a text column; '-' reads stdin)",
        ));
    }
    let mut seen: HashMap<String, DoseParse> = HashMap::new();
    let mut w = CsvStream::new(DOSES, io::stdout().lock());
    for text in &texts {
        let parse = seen.entry(text.clone()).or_insert_with(|| parse(text));
        w.row(&DoseAnswer { text, parse })?;
    }
    w.finish()?;
    Ok(())
}

fn read_texts(path: &str) -> Result<Vec<String>> {
    let text = if path == "-" {
        let mut s = String::new();
        io::stdin()
            .lock()
            .read_to_string(&mut s)
            .context("cannot read stdin")?;
        s
    } else {
        crate::read::input::decode_text(
            &std::fs::read(path).with_context(|| format!("cannot read {path}"))?,
        )
    };
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().next().unwrap_or_default();
    let is_csv = first
        .split(',')
        .any(|h| h.trim().trim_matches('"').eq_ignore_ascii_case("text"));
    if !is_csv {
        return Ok(io::Cursor::new(text)
            .lines()
            .map_while(Result::ok)
            .filter(|l| !l.trim().is_empty())
            .collect());
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let col = reader
        .headers()?
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("text"))
        .unwrap_or(0);
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{path}: record {}", i + 1))?;
        out.push(rec.get(col).unwrap_or("").to_string());
    }
    Ok(out)
}
