//! `--events`: coded entries from the GP record (`patient_id`, `date`, `code`: SNOMED CT
//! concepts), read against the codelists of [`crate::codelists`] (METHOD.md §11). Every row
//! is counted: in a codelist, another code, or rejected (no patient, or a date that is not
//! one, with the file, line and value).

use std::collections::HashMap;
use std::path::Path;

use anyhow::{Context, Result};

use crate::codelists::{kind_of, EventFacts, Kind};
use crate::error::Diagnostic;
use crate::read::columns::normalise_header;
use crate::values::{parse_known_date, Day};

/// The entries in the codelists, and the count of every row.
#[derive(Debug, Default)]
pub struct Events {
    /// (patient id, what the code is, its date).
    pub entries: Vec<(String, Kind, Day)>,
    pub rows: u64,
    pub in_codelists: u64,
    pub other_codes: u64,
    pub rejected: u64,
    /// The first rejected row, for the warning: (line, column, value, why).
    pub first_rejected: Option<(usize, &'static str, String, &'static str)>,
}

impl Events {
    /// Each patient's latest entry of each kind on or before the audit date.
    pub fn facts_at(&self, as_of: Day) -> HashMap<&str, EventFacts> {
        let mut out: HashMap<&str, EventFacts> = HashMap::new();
        for (id, kind, day) in &self.entries {
            if *day <= as_of {
                out.entry(id.as_str()).or_default().add(*kind, *day);
            }
        }
        out
    }
}

const HINT: &str = "--events takes coded entries as GP systems export them: a CSV with \
                    patient_id, date and code (a SNOMED CT concept id)";

/// Read `--events` (comma- or tab-separated, UTF-8 or Windows-1252).
pub fn read_events(path: &Path) -> Result<Events> {
    let text = crate::read::input::decode_text(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let first = text.lines().next().unwrap_or_default();
    let delimiter = if first.matches('\t').count() > first.matches(',').count() {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .with_context(|| {
            Diagnostic::error(format!("{}: cannot read the header", path.display())).hint(HINT)
        })?
        .iter()
        .map(String::from)
        .collect();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.contains(&normalise_header(h).as_str()))
    };
    let patient = find(&["patientid", "patient", "personid", "nhsnumber"]);
    let date = find(&[
        "date",
        "eventdate",
        "effectivedate",
        "entrydate",
        "consultationdate",
        "codeddate",
    ]);
    let code = find(&[
        "code",
        "snomedcode",
        "snomedctcode",
        "conceptid",
        "snomedctconceptid",
        "snomedconceptid",
    ]);
    let (Some(patient), Some(date), Some(code)) = (patient, date, code) else {
        let missing: Vec<&str> = [("patient_id", patient), ("date", date), ("code", code)]
            .iter()
            .filter(|(_, c)| c.is_none())
            .map(|(n, _)| *n)
            .collect();
        let message = format!(
            "{}: no {} column (the headers are: {})",
            path.display(),
            missing.join(", "),
            headers
                .iter()
                .map(|h| crate::error::escape(h))
                .collect::<Vec<_>>()
                .join(", ")
        );
        return Err(crate::error::hinted(message, HINT));
    };
    let mut out = Events::default();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| {
            Diagnostic::error(format!(
                "{}: line {line}: cannot read the row",
                path.display()
            ))
            .hint(HINT)
        })?;
        out.rows += 1;
        let cell = |c: usize| rec.get(c).unwrap_or("").trim();
        let Some(kind) = kind_of(cell(code)) else {
            out.other_codes += 1;
            continue;
        };
        let mut reject = |column: &'static str, value: &str, why: &'static str| {
            out.rejected += 1;
            if out.first_rejected.is_none() {
                out.first_rejected = Some((line, column, value.to_string(), why));
            }
        };
        if cell(patient).is_empty() {
            reject("patient_id", "", "no patient");
            continue;
        }
        let Some(day) = parse_known_date(cell(date)) else {
            reject("date", cell(date), "not a date");
            continue;
        };
        out.in_codelists += 1;
        out.entries.push((cell(patient).to_string(), kind, day));
    }
    Ok(out)
}
