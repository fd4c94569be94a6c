//! An extract's columns: opal's canonical names, the spellings GP systems and research
//! layouts use for them, the options that say how to read a file (`--column`,
//! `--practice-code`, `--patient-practices`, `--code-map`, `--dosages`), and the matching of
//! a file's headers to them, with its errors (a missing column named with the headers found
//! and a hint, a duplicated header, a report that repeats a drug and a date across the row,
//! a table with no quantity).

use std::collections::BTreeMap;

use anyhow::{bail, Result};

/// opal's canonical extract columns.
pub const CANONICAL: &[&str] = &[
    "patient_id",
    "practice_code",
    "issue_date",
    "drug_name",
    "dmd_code",
    "bnf_code",
    "quantity",
    "quantity_unit",
    "dose_text",
    "days_supply",
    "ics_code",
    "source_code",
    "dosage_id",
];

/// Header spellings of GP system exports, normalised (lower case, letters and digits only).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "patient_id",
        &[
            "patientid",
            "nhsnumber",
            "nhsno",
            "patient",
            "patientref",
            "patientreference",
            "patientidentifier",
            "patientnumber",
            "patientno",
            "pseudonhsnumber",
            "pid",
            "personid",
            "pseudoid",
            // research layouts: CPRD Aurum, OMOP CDM
            "patid",
        ],
    ),
    (
        "practice_code",
        &[
            "practicecode",
            "practice",
            "practiceid",
            "odscode",
            "practiceodscode",
            "organisationcode",
            "orgcode",
            "gppracticecode",
            "practiceods",
            // report exports of clinical systems
            "usualgppractice",
            "usualgppracticecode",
            "usualgppracticeodscode",
            "registeredpractice",
            "registeredpracticecode",
            "registeredgppractice",
            "registeredgppracticecode",
            "gppractice",
            "practicenationalcode",
            "organisationodscode",
            // CPRD Aurum
            "pracid",
        ],
    ),
    (
        "issue_date",
        &[
            "issuedate",
            "dateofissue",
            "date",
            "issued",
            "dateissued",
            "prescriptiondate",
            "prescribeddate",
            "eventdate",
            "dateprescribed",
            "issuedon",
            // OMOP CDM drug_exposure
            "drugexposurestartdate",
        ],
    ),
    (
        "drug_name",
        &[
            "drugname",
            "drug",
            "medication",
            "medicationname",
            "medicine",
            "product",
            "productname",
            "preparation",
            "itemname",
            "drugdescription",
            "description",
            "medicationdescription",
            "term",
            // CPRD Aurum's product dictionary
            "termfromemis",
        ],
    ),
    (
        "dmd_code",
        &[
            "dmdcode",
            "dmd",
            "dmdid",
            "dmdproductcodeid",
            "dmdproductcode",
            "snomedcode",
            "snomed",
            "conceptid",
            "dmdconceptid",
            "snomedctcode",
            // OMOP CDM drug_exposure, where the source value is the dm+d id
            "drugsourcevalue",
        ],
    ),
    (
        "bnf_code",
        &[
            "bnfcode",
            "bnf",
            "bnfpresentationcode",
            "bnfcodepresentation",
        ],
    ),
    (
        "quantity",
        &[
            "quantity",
            "qty",
            "quantityissued",
            "issuedquantity",
            "amount",
            "quantityvalue",
        ],
    ),
    (
        "quantity_unit",
        &[
            "quantityunit",
            "qtyunit",
            "unit",
            "units",
            "unitofmeasure",
            "quantityunits",
            "uom",
        ],
    ),
    (
        "dose_text",
        &[
            "dosetext",
            "dose",
            "dosage",
            "directions",
            "instructions",
            "dosageinstructions",
            "dosageinstruction",
            "sig",
            "doseinstructions",
        ],
    ),
    (
        "days_supply",
        &[
            "dayssupply",
            "courseduration",
            "coursedurationindays",
            "duration",
            "durationdays",
            "durationindays",
            "days",
            "supplydays",
        ],
    ),
    (
        "ics_code",
        &["icscode", "ics", "icbcode", "icb", "stpcode", "stp"],
    ),
    (
        // Another system's product code, read through --code-map (CPRD Aurum's prodcodeid).
        "source_code",
        &["sourcecode", "prodcodeid", "productcode", "prodcode"],
    ),
    (
        // A dosage's code, read through --dosages (CPRD Aurum's dosageid).
        "dosage_id",
        &["dosageid"],
    ),
];

/// The usual spellings of a canonical column (normalised), for the reference files that name
/// patients and practices as extracts do.
pub fn aliases_of(canonical: &str) -> &'static [&'static str] {
    ALIASES
        .iter()
        .find(|(c, _)| *c == canonical)
        .map_or(&[], |(_, a)| a)
}

/// Letters and digits of a header, lower case: `Date of Issue` → `dateofissue`.
pub fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// How to read extracts.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// canonical column → header, from `--column canonical=Header`.
    pub column_map: BTreeMap<String, String>,
    /// Bytes of text per chunk; 0 means [`CHUNK_BYTES`]. Tests make it small, so that small
    /// files are read in many chunks.
    pub chunk_bytes: usize,
    /// `--practice-code`: the practice of every row of a file with no practice column (a
    /// report run inside one practice).
    pub practice_code: Option<String>,
    /// `--patient-practices`: each patient's practice, for a file with no practice column.
    pub patient_practices: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
    /// `--code-map`: another system's product code → (dm+d id, product name).
    pub code_map: Option<std::sync::Arc<CodeMap>>,
    /// `--dosages`: a dosage's code → its directions (CPRD Aurum's common dosages).
    pub dosages: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
}

/// `--code-map`: each code of another system (CPRD's prodcodeid, a practice system's own)
/// with the dm+d id and the product name it stands for (either may be empty).
pub type CodeMap = std::collections::HashMap<String, (String, String)>;

/// Columns an audit cannot do without.
pub const REQUIRED: &[&str] = &["patient_id", "practice_code", "issue_date", "quantity"];

/// A header as a message may quote it: escaped, at most 40 characters, and `<value>` when it
/// looks like data rather than a column name (three digits in a row, an `@`, a date) — a
/// headerless extract's first line is a patient's row, and it must never reach the terminal.
pub fn shown_header(h: &str) -> String {
    let digits_in_a_row = h
        .as_bytes()
        .windows(3)
        .any(|w| w.iter().all(u8::is_ascii_digit));
    let looks_like_data = digits_in_a_row
        || h.contains('@')
        || (h.chars().filter(char::is_ascii_digit).count() >= 2 && h.contains(['/', '-', '.']));
    if looks_like_data {
        return "<value>".into();
    }
    let escaped = crate::error::escape(h.trim());
    match escaped.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &escaped[..cut]),
        None => escaped,
    }
}

/// The headers found, for a message: at most 20, each [`shown_header`], and a note when the
/// first line looks like a data row.
pub fn headers_found(headers: &[String]) -> String {
    let mut shown: Vec<String> = headers.iter().take(20).map(|h| shown_header(h)).collect();
    if headers.len() > 20 {
        shown.push(format!("and {} more", headers.len() - 20));
    }
    let values = shown.iter().filter(|h| *h == "<value>").count();
    let mut out = shown.join(", ");
    if values >= 2 {
        out.push_str(
            "; the first line looks like a data row, not a header: values are not shown. Does \
             the export include its header row?",
        );
    }
    out
}

/// Match headers to canonical columns; errors name the column, the headers found and a hint.
pub fn map_columns(
    display: &str,
    headers: &[String],
    opts: &ReadOptions,
) -> Result<BTreeMap<String, String>> {
    // A report that repeats the (drug, date) pair across the row ("Drug 1", "Date 1", "Drug
    // 2", "Date 2"...): one patient a row, several items each, which opal cannot read as items.
    let numbered = |canonical: &str| -> Vec<&String> {
        let aliases = aliases_of(canonical);
        headers
            .iter()
            .filter(|h| {
                let n = normalise_header(h);
                let stem = n.trim_end_matches(|c: char| c.is_ascii_digit());
                stem.len() < n.len()
                    && (stem == normalise_header(canonical) || aliases.contains(&stem))
            })
            .collect()
    };
    let (drugs, dates) = (numbered("drug_name"), numbered("issue_date"));
    if drugs.len() >= 2 && dates.len() >= 2 {
        let shown: Vec<String> = drugs
            .iter()
            .chain(&dates)
            .take(4)
            .map(|h| format!("'{}'", shown_header(h)))
            .collect();
        let message = format!(
            "{display}: the report repeats a drug and a date across each row ({}): one patient a \
             row with several items, which opal cannot read",
            shown.join(", ")
        );
        return Err(crate::error::hinted(
            message,
            "export one item per row, with one column each for the patient, the practice, the \
             date, the drug and the quantity (in a clinical system's report: list the medication \
             issues, not the patients)",
        ));
    }
    // Duplicated headers: ambiguous, so an error.
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    for h in headers {
        if h.is_empty() {
            continue;
        }
        if let Some(first) = seen.insert(h.to_lowercase(), h) {
            return Err(crate::error::hinted(
                format!(
                    "{display}: the header '{}' appears twice (also as '{}')",
                    shown_header(h),
                    shown_header(first)
                ),
                "rename or \
                 remove one of them, or export the extract again",
            ));
        }
    }
    let mut map = BTreeMap::new();
    for (canonical, header) in &opts.column_map {
        if !CANONICAL.contains(&canonical.as_str()) {
            return Err(crate::error::hinted(
                format!("--column {canonical}=...: '{canonical}' is not one of opal's columns"),
                format!(
                    "\
                 columns are {}",
                    CANONICAL.join(", ")
                ),
            ));
        }
        let Some(found) = headers
            .iter()
            .find(|h| *h == header || h.eq_ignore_ascii_case(header))
        else {
            bail!(
                "{display}: --column {canonical}=\"{}\", but there is no header '{}' (found: \
                 {})",
                crate::error::escape(header),
                crate::error::escape(header),
                headers_found(headers)
            );
        };
        map.insert(canonical.clone(), found.clone());
    }
    for (canonical, aliases) in ALIASES {
        if map.contains_key(*canonical) {
            continue;
        }
        let hits: Vec<&String> = headers
            .iter()
            .filter(|h| {
                let n = normalise_header(h);
                n == normalise_header(canonical) || aliases.contains(&n.as_str())
            })
            .filter(|h| !map.values().any(|v| v == *h))
            .collect();
        match hits.as_slice() {
            [] => {}
            [one] => {
                map.insert((*canonical).to_string(), (*one).clone());
            }
            many => {
                return Err(crate::error::hinted(
                    format!(
                        "{display}: several headers could be {canonical}: {}",
                        many.iter()
                            .map(|h| format!("'{}'", shown_header(h)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    format!(
                        "say which with \
                 --column {canonical}=\"{}\"",
                        shown_header(many[0])
                    ),
                ))
            }
        }
    }
    let fixed = if opts.practice_code.is_some() {
        Some("--practice-code")
    } else if opts.patient_practices.is_some() {
        Some("--patient-practices")
    } else {
        None
    };
    if let Some(option) = fixed {
        if let Some(h) = map.get("practice_code") {
            return Err(crate::error::hinted(
                format!(
                    "{display} has a practice column ('{}'), and {option} is for a file without \
                 one",
                    shown_header(h)
                ),
                format!("leave out {option}, so that each row's own practice is used"),
            ));
        }
    }
    let missing: Vec<&str> = REQUIRED
        .iter()
        .copied()
        .filter(|c| !map.contains_key(*c))
        .filter(|c| !(*c == "practice_code" && fixed.is_some()))
        .collect();
    let has_item = ["drug_name", "dmd_code", "bnf_code"]
        .iter()
        .any(|c| map.contains_key(*c))
        || (opts.code_map.is_some() && map.contains_key("source_code"));
    if opts.code_map.is_some() && !map.contains_key("source_code") {
        return Err(crate::error::hinted(
            format!(
                "{display}: --code-map is given, but no column holds the codes to map (found: {})",
                headers_found(headers)
            ),
            "name it source_code (or prodcodeid), or map it with --column \
             source_code=\"Your Header\"",
        ));
    }
    if !missing.is_empty() || !has_item {
        let mut what: Vec<String> = missing.iter().map(|s| s.to_string()).collect();
        if !has_item {
            what.push(if map.contains_key("source_code") {
                "one of drug_name, dmd_code, bnf_code (its source_code, another system's \
                 product code, is read only through --code-map FILE)"
                    .into()
            } else {
                "one of drug_name, dmd_code, bnf_code".into()
            });
        }
        let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
        let epd = ["bnfcode", "items", "practicecode"]
            .iter()
            .all(|c| norm.iter().any(|n| n == c))
            && norm
                .iter()
                .any(|n| n == "yearmonth" || n == "totalquantity");
        // A medications table of patient, date and product with no quantity at all (as
        // OpenSAFELY and similar research tables keep them).
        let no_quantity = missing.contains(&"quantity")
            && map.contains_key("patient_id")
            && map.contains_key("issue_date")
            && has_item
            && !norm
                .iter()
                .any(|n| n.contains("quantity") || n.contains("qty"));
        let hint = if epd {
            "this looks like an English Prescribing Dataset file (practice totals, no \
             patients): use `opal epd` for it"
                .to_string()
        } else if no_quantity {
            "this is a table of issues without quantities (patient, date, product), as research \
             tables such as OpenSAFELY's medications keep them: OME a day is the quantity \
             issued times the strength over the days it lasts, so without each issue's quantity \
             neither the dose nor the high-dose flag can be worked out; export the quantity \
             (and the directions, if you have them) with each issue"
                .to_string()
        } else {
            let example = missing.first().copied().unwrap_or("drug_name");
            let practice = if missing.contains(&"practice_code") {
                "; a report run inside one practice has none: give its ODS code with \
                 --practice-code CODE"
            } else {
                ""
            };
            let spellings = ALIASES
                .iter()
                .find(|(c, _)| *c == example)
                .map(|(_, a)| a.iter().take(4).copied().collect::<Vec<_>>().join(", "))
                .unwrap_or_default();
            format!(
                "name the column {example} (or a usual spelling: {spellings}), or map it with \
                 --column {example}=\"Your Header\"{practice}"
            )
        };
        return Err(crate::error::hinted(
            format!(
                "{display}: no column for {} (found: {})",
                what.join(", "),
                headers_found(headers)
            ),
            hint,
        ));
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of issues with no quantity (OpenSAFELY-style) says why OME needs one.
    #[test]
    fn a_table_without_quantities_says_why_ome_needs_them() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let opensafely = h(&["patient_id", "practice_code", "date", "dmd_code"]);
        let e = map_columns("m.csv", &opensafely, &ReadOptions::default()).unwrap_err();
        let e = crate::error::render(&e).0;
        assert!(e.contains("no column for quantity"), "{e}");
        assert!(e.contains("without each issue's quantity"), "{e}");
        // A quantity under another name is the ordinary hint.
        let other = h(&[
            "patient_id",
            "practice_code",
            "date",
            "dmd_code",
            "qty issued x",
        ]);
        let e = map_columns("q.csv", &other, &ReadOptions::default()).unwrap_err();
        let e = crate::error::render(&e).0;
        assert!(!e.contains("without each issue's quantity"), "{e}");
    }

    /// A report that repeats (drug, date) across the row is a clear error; one drug column
    /// and a numbered other column is not.
    #[test]
    fn repeated_drug_and_date_columns_are_refused() {
        let h = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let wide = h(&[
            "Patient ID",
            "Practice",
            "Drug 1",
            "Date of issue 1",
            "Qty 1",
            "Drug 2",
            "Date of issue 2",
            "Qty 2",
        ]);
        let e = map_columns("r.csv", &wide, &ReadOptions::default()).unwrap_err();
        let e = crate::error::render(&e).0;
        assert!(e.contains("repeats a drug and a date across each row ('Drug 1', 'Drug 2', 'Date of issue 1', 'Date of issue 2')"), "{e}");
        assert!(e.contains("export one item per row"), "{e}");
        let fine = h(&[
            "patient_id",
            "practice_code",
            "issue_date",
            "drug_name",
            "quantity",
            "address 1",
            "address 2",
        ]);
        assert!(map_columns("f.csv", &fine, &ReadOptions::default()).is_ok());
    }

    #[test]
    fn headers_map_through_usual_spellings() {
        let h: Vec<String> = [
            "NHS Number",
            "Practice Code",
            "Date of Issue",
            "Medication",
            "Qty",
            "Dosage",
            "Course duration in days",
            "dmd_product_code_id",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let m = map_columns("x.csv", &h, &ReadOptions::default()).unwrap();
        assert_eq!(m["patient_id"], "NHS Number");
        assert_eq!(m["issue_date"], "Date of Issue");
        assert_eq!(m["drug_name"], "Medication");
        assert_eq!(m["quantity"], "Qty");
        assert_eq!(m["dose_text"], "Dosage");
        assert_eq!(m["days_supply"], "Course duration in days");
        assert_eq!(m["dmd_code"], "dmd_product_code_id");
    }

    #[test]
    fn missing_and_explicit_columns() {
        let h: Vec<String> = ["Patient Ref", "practice", "date", "drug", "qty"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let e = crate::error::render(
            &map_columns("x.csv", &h[1..], &ReadOptions::default()).unwrap_err(),
        )
        .0;
        assert!(
            e.contains("no column for patient_id")
                && e.contains("found: practice, date, drug, qty")
                && e.contains("hint:"),
            "{e}"
        );
        let mut opts = ReadOptions::default();
        opts.column_map
            .insert("patient_id".into(), "Patient Ref".into());
        let m = map_columns("x.csv", &h, &opts).unwrap();
        assert_eq!(m["patient_id"], "Patient Ref");
        let epd: Vec<String> = [
            "YEAR_MONTH",
            "PRACTICE_CODE",
            "BNF_CODE",
            "ITEMS",
            "TOTAL_QUANTITY",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let e =
            crate::error::render(&map_columns("e.csv", &epd, &ReadOptions::default()).unwrap_err())
                .0;
        assert!(e.contains("opal epd"), "{e}");
        let dup: Vec<String> = ["a", "A"].iter().map(|s| s.to_string()).collect();
        let e =
            crate::error::render(&map_columns("d.csv", &dup, &ReadOptions::default()).unwrap_err())
                .0;
        assert!(e.contains("appears twice"), "{e}");
    }
}
