//! `--rebase FILE`: the charts to rebase one by one, a CSV of `level,code,month` (a practice,
//! an ICS or `all`, and the month, YYYY-MM, from which its limits are recalculated).

use std::path::Path;

use anyhow::{Context, Result};

use crate::error::{escape, hinted};
use crate::read::extract::normalise_header;
use crate::values::Day;

/// One chart's rebase: its level, its code and the month end it is rebased at.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRebase {
    pub level: String,
    pub code: String,
    pub month: Day,
}

const HINT: &str = "--rebase FILE takes a CSV with the columns level (practice, ics or all), \
                    code and month (YYYY-MM), one row per chart and month";

/// Read a `--rebase` file.
pub fn read_rebase(path: &Path) -> Result<Vec<SeriesRebase>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = crate::read::input::decode_text(&bytes);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let display = path.display();
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| format!("{display}: cannot read the header"))?
        .iter()
        .map(normalise_header)
        .collect();
    let at = |name: &str| headers.iter().position(|h| h == name);
    let (Some(level), Some(code), Some(month)) = (at("level"), at("code"), at("month")) else {
        let found: Vec<String> = headers.iter().map(|h| escape(h)).collect();
        return Err(hinted(
            format!(
                "{display}: no level, code and month columns (found: {})",
                found.join(", ")
            ),
            HINT,
        ));
    };
    let mut out = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{display}: line {line}: cannot read the row"))?;
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let lvl = cell(level).to_ascii_lowercase();
        if !matches!(lvl.as_str(), "practice" | "ics" | "all") {
            return Err(hinted(
                format!(
                    "{display}: line {line}: level '{}' is not practice, ics or all",
                    escape(cell(level))
                ),
                HINT,
            ));
        }
        let Some(m) = crate::trend::parse_month(cell(month)) else {
            return Err(hinted(
                format!(
                    "{display}: line {line}: month '{}' is not a month",
                    escape(cell(month))
                ),
                HINT,
            ));
        };
        let code = if lvl == "all" {
            "ALL".to_string()
        } else {
            cell(code).to_string()
        };
        out.push(SeriesRebase {
            level: lvl,
            code,
            month: m,
        });
    }
    Ok(out)
}
