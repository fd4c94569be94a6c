//! Practice → ICS mapping and registered list sizes, from the files NHS analysts have.
//!
//! Mapping (`--practices`): a simple CSV `practice_code,ics_code[,practice_name,ics_name]`;
//! the ODS `epraccur.csv` (no header; column 1 the code, 2 the name, 15 the commissioner);
//! or NHS England's `gp-reg-pat-prac-map.csv` (`PRACTICE_CODE`, `ICB_CODE` or `STP_CODE` or
//! `SUB_ICB_LOCATION_CODE`/`CCG_CODE`, with names).
//!
//! List sizes (`--list-sizes`): a simple CSV `practice_code,list_size`, or the NHS
//! `gp-reg-pat-prac-*.csv` layouts, where the row with `SEX=ALL` and age `ALL` is the list size.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Context, Result};

use crate::read::extract::normalise_header;

pub use opal_core::settings::PracticeInfo;

fn read_text(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(crate::read::input::decode_text(&bytes))
}

fn find(headers: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| headers.iter().position(|h| h == n))
}

/// A practice or ICS code for a message: escaped, and hidden if it is an NHS number (a
/// patient file given by mistake).
fn shown_code(code: &str) -> String {
    if crate::item::looks_like_nhs_number(code) {
        "<value>".into()
    } else {
        crate::error::escape(code)
    }
}

/// A practice mapping as read, and what was noticed on the way (a practice listed twice).
pub type Practices = (BTreeMap<String, PracticeInfo>, Vec<String>);

/// The rows of a mapping, keyed by practice: a practice listed twice with the same ICS is a
/// warning (the later row is used, as before); with two ICSs an error, since its patients
/// would be summarised under one of them silently.
#[derive(Default)]
struct Rows {
    out: BTreeMap<String, PracticeInfo>,
    first_line: BTreeMap<String, usize>,
    warnings: Vec<String>,
}

impl Rows {
    fn insert(
        &mut self,
        display: &str,
        line: usize,
        code: String,
        info: PracticeInfo,
    ) -> Result<()> {
        for (what, value) in [("practice", &code), ("ICS", &info.ics_code)] {
            if crate::item::looks_like_nhs_number(value) {
                return Err(crate::error::hinted(
                    format!(
                        "{display}: line {line}: the {what} code looks like an NHS number; the \
                         value is not shown"
                    ),
                    "this file should map ODS practice codes to ICS codes; check that a \
                     patient-level file was not given by mistake",
                ));
            }
        }
        let shown = shown_code(&code);
        if let Some(before) = self.out.get(&code) {
            let first = self.first_line.get(&code).copied().unwrap_or(0);
            if before.ics_code != info.ics_code {
                let message = format!(
                    "{display}: practice {shown} is listed in two ICSs ({} on line {first}, {} on \
                     line {line})",
                    shown_code(&before.ics_code),
                    shown_code(&info.ics_code)
                );
                return Err(crate::error::hinted(message, "keep one row per practice"));
            }
            self.warnings.push(format!(
                "{display}: practice {shown} is listed twice (lines {first} and {line}); the \
                 rows agree on the ICS, the later one is used"
            ));
        } else {
            self.first_line.insert(code.clone(), line);
        }
        self.out.insert(code, info);
        Ok(())
    }
}

/// Read a practice mapping in any of the three layouts.
pub fn read_practices(path: &Path) -> Result<Practices> {
    let display = path.display();
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let Some(first) = records.next() else {
        bail!("{display} is empty");
    };
    let first = first.with_context(|| format!("{display}: line 1"))?;
    let display = display.to_string();
    let mut rows = Rows::default();
    let looks_code = |s: &str| {
        let s = s.trim();
        s.len() == 6 && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
    };
    if looks_code(first.get(0).unwrap_or("")) && first.len() >= 15 {
        // epraccur: no header.
        let lines = std::iter::once(Ok(first)).chain(records);
        for (i, rec) in lines.enumerate() {
            let rec = rec.with_context(|| format!("{display}: line {}", i + 1))?;
            let code = rec.get(0).unwrap_or("").trim().to_string();
            if code.is_empty() {
                continue;
            }
            let info = PracticeInfo {
                ics_code: rec.get(14).unwrap_or("").trim().to_string(),
                practice_name: rec.get(1).unwrap_or("").trim().to_string(),
                setting: rec.get(25).unwrap_or("").trim().to_string(),
                ..PracticeInfo::default()
            };
            rows.insert(&display, i + 1, code, info)?;
        }
        return Ok((rows.out, rows.warnings));
    }
    let headers: Vec<String> = first.iter().map(normalise_header).collect();
    let code = find(&headers, &["practicecode", "practice", "code", "orgcode"]);
    let ics = find(
        &headers,
        &[
            "icscode",
            "icbcode",
            "ics",
            "icb",
            "stpcode",
            "subicblocationcode",
            "ccgcode",
        ],
    );
    let (Some(code), Some(ics)) = (code, ics) else {
        return Err(crate::error::hinted(
            format!(
                "{display}: no practice_code and ics_code columns (found: {})",
                crate::read::extract::headers_found(
                    &first.iter().map(String::from).collect::<Vec<_>>()
                )
            ),
            "give \
             practice_code,ics_code[,practice_name,ics_name], the ODS epraccur.csv, or \
             gp-reg-pat-prac-map.csv",
        ));
    };
    let pname = find(&headers, &["practicename", "name"]);
    let iname = find(
        &headers,
        &[
            "icsname",
            "icbname",
            "stpname",
            "subicblocationname",
            "ccgname",
        ],
    );
    let pcn = find(&headers, &["pcncode", "pcn"]);
    let pcn_name = find(&headers, &["pcnname"]);
    let setting = find(&headers, &["prescribingsetting", "setting"]);
    for (i, rec) in records.enumerate() {
        let rec = rec.with_context(|| format!("{display}: line {}", i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim().to_string();
        let k = get(Some(code));
        if k.is_empty() {
            continue;
        }
        let info = PracticeInfo {
            ics_code: get(Some(ics)),
            practice_name: get(pname),
            ics_name: get(iname),
            pcn_code: get(pcn),
            pcn_name: get(pcn_name),
            setting: get(setting),
        };
        rows.insert(&display, i + 2, k, info)?;
    }
    Ok((rows.out, rows.warnings))
}

/// Read registered list sizes.
pub fn read_list_sizes(path: &Path) -> Result<BTreeMap<String, f64>> {
    Ok(read_dated_list_sizes(path)?.1)
}

/// A list-size file and the month it describes: NHS England's files carry an
/// `EXTRACT_DATE` (`01SEP2017`); a file without one describes no month in particular.
pub fn read_dated_list_sizes(path: &Path) -> Result<(Option<String>, BTreeMap<String, f64>)> {
    let display = path.display();
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let raw_headers = reader.headers()?.clone();
    let headers: Vec<String> = raw_headers.iter().map(normalise_header).collect();
    let code = find(&headers, &["practicecode", "orgcode", "code", "practice"]);
    let size = find(
        &headers,
        &[
            "listsize",
            "numberofpatients",
            "patients",
            "registeredpatients",
            "totallistsize",
            "listsizes",
        ],
    );
    let (Some(code), Some(size)) = (code, size) else {
        return Err(crate::error::hinted(
            format!(
                "{display}: no practice_code and list_size columns (found: {})",
                raw_headers.iter().collect::<Vec<_>>().join(", ")
            ),
            "give \
             practice_code,list_size or NHS England's gp-reg-pat-prac-*.csv",
        ));
    };
    let sex = find(&headers, &["sex"]);
    let age = find(&headers, &["agegroup5", "age", "agegroup"]);
    let org_type = find(&headers, &["orgtype", "type"]);
    let extract_date = find(&headers, &["extractdate"]);
    let mut month: Option<String> = None;
    let mut out = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{display}: line {line}"))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        if sex.is_some() && !get(sex).eq_ignore_ascii_case("all") {
            continue;
        }
        if age.is_some() && !get(age).eq_ignore_ascii_case("all") {
            continue;
        }
        if org_type.is_some() && !["gp", ""].contains(&get(org_type).to_ascii_lowercase().as_str())
        {
            continue;
        }
        let k = get(Some(code));
        if k.is_empty() {
            continue;
        }
        if extract_date.is_some() {
            let d = get(extract_date);
            let m = extract_month(d).with_context(|| {
                format!(
                    "{display}: line {line}: extract date '{}' is not a date",
                    crate::error::escape(d)
                )
            })?;
            match &month {
                None => month = Some(m),
                Some(first) if *first != m => {
                    return Err(crate::error::hinted(
                        format!(
                            "{display}: line {line}: extract date {m} differs from {first} above"
                        ),
                        "\
                     give one list-size file a month (--list-sizes takes several)",
                    ))
                }
                Some(_) => {}
            }
        }
        let v = get(Some(size));
        let n: f64 = v
            .replace(',', "")
            .parse()
            .with_context(|| format!("{display}: line {line}: list size '{v}' is not a number"))?;
        if !(n.is_finite() && n >= 0.0) {
            bail!("{display}: line {line}: list size {v} must not be negative");
        }
        out.insert(k.to_string(), n);
    }
    Ok((month, out))
}

/// The month of an NHS extract date: `01SEP2017` (NHS Digital's own), or any date layout
/// opal reads elsewhere (`2017-09-01`, `01/09/2017`).
fn extract_month(text: &str) -> Option<String> {
    let t = text.trim();
    if t.len() == 9 && t.is_ascii() {
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        let m = MONTHS
            .iter()
            .position(|m| t[2..5].eq_ignore_ascii_case(m))?;
        let (d, y): (u32, i32) = (t[..2].parse().ok()?, t[5..].parse().ok()?);
        return crate::values::days_from_civil(y, m as u32 + 1, d).map(crate::trend::month_label);
    }
    crate::values::parse_known_date(t).map(crate::trend::month_label)
}

/// Several list-size files (`opal epd --list-sizes`): each dated file serves its month (two
/// for one month is an error naming both); at most one file without a date serves every
/// month none of the dated ones covers.
pub fn read_list_size_files(paths: &[std::path::PathBuf]) -> Result<crate::epd::ListSizes> {
    let mut out = crate::epd::ListSizes::default();
    let mut from: BTreeMap<String, &Path> = BTreeMap::new();
    let mut undated: Option<&Path> = None;
    for path in paths {
        let (month, sizes) = read_dated_list_sizes(path)?;
        match month {
            Some(m) => {
                if let Some(other) = from.get(&m) {
                    return Err(crate::error::hinted(
                        format!(
                            "list sizes for {m} are in both {} and {}",
                            other.display(),
                            path.display()
                        ),
                        "give one file a month",
                    ));
                }
                from.insert(m.clone(), path);
                out.by_month.insert(m, sizes);
            }
            None => {
                if let Some(other) = undated {
                    let message = format!(
                        "{} and {} both have list sizes with no extract date, so neither can be \
                         matched to a month",
                        other.display(),
                        path.display()
                    );
                    return Err(crate::error::hinted(
                        message,
                        "give one undated file, or NHS England's files with their EXTRACT_DATE",
                    ));
                }
                undated = Some(path);
                out.undated = Some(sizes);
            }
        }
    }
    Ok(out)
}

/// Patients to exclude (`--exclude-patients`: a cancer or palliative care register): a file
/// of patient ids, one a line, or a CSV with patient_id[,reason]. Returns id → reason.
pub fn read_exclusions(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = crate::read::input::decode_text(
        &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
    );
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default();
    let headers: Vec<String> = first.split(',').map(normalise_header).collect();
    let id_col = headers
        .iter()
        .position(|h| ["patientid", "nhsnumber", "patient", "id"].contains(&h.as_str()));
    let reason_col = headers.iter().position(|h| h == "reason");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(id_col.is_some())
        .flexible(true)
        .from_reader(text.as_bytes());
    for (i, rec) in reader.records().enumerate() {
        let line = i + 1 + usize::from(id_col.is_some());
        let rec = rec.with_context(|| {
            crate::error::Diagnostic::error(format!(
                "{}: line {line}: cannot read the row",
                path.display()
            ))
            .hint(
                "--exclude-patients takes one \
                 patient id a line, or a CSV with patient_id[,reason]",
            )
        })?;
        let id = rec.get(id_col.unwrap_or(0)).unwrap_or("").trim();
        if id.is_empty() {
            continue;
        }
        let reason = reason_col
            .and_then(|c| rec.get(c))
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or("on the exclusion list");
        out.insert(id.to_string(), reason.to_string());
    }
    Ok(out)
}

/// `--patient-practices`: each patient's practice, for layouts where the practice is in
/// another table (OMOP's `person`/`care_site`, a research extract's patient file): a CSV with
/// a patient column and a practice column, by the extracts' own spellings (`patient_id`,
/// `person_id`, `patid`; `practice_code`, `pracid`, `care_site_id`...). A patient listed
/// twice with two practices is an error; the values are never shown.
pub fn read_patient_practices(path: &Path) -> Result<HashMap<String, String>> {
    let display = path.display();
    let text = read_text(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let raw: Vec<String> = reader.headers()?.iter().map(String::from).collect();
    let norm: Vec<String> = raw.iter().map(|h| normalise_header(h)).collect();
    let find_alias = |canonical: &str, extra: &[&str]| {
        let aliases = crate::read::extract::aliases_of(canonical);
        norm.iter().position(|h| {
            h == &normalise_header(canonical)
                || aliases.contains(&h.as_str())
                || extra.contains(&h.as_str())
        })
    };
    let (Some(pc), Some(qc)) = (
        find_alias("patient_id", &[]),
        find_alias(
            "practice_code",
            &["caresiteid", "caresite", "caresitesourcevalue"],
        ),
    ) else {
        return Err(crate::error::hinted(
            format!(
                "{display}: no patient and practice columns (found: {})",
                crate::read::extract::headers_found(&raw)
            ),
            "--patient-practices \
             takes a CSV with patient_id,practice_code",
        ));
    };
    let mut out: HashMap<String, String> = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let line = i + 2;
        let rec = rec.with_context(|| format!("{display}: line {line}: cannot read the row"))?;
        let (patient, practice) = (
            rec.get(pc).unwrap_or("").trim(),
            rec.get(qc).unwrap_or("").trim(),
        );
        if patient.is_empty() || practice.is_empty() {
            continue;
        }
        if crate::item::looks_like_nhs_number(practice) {
            return Err(crate::error::hinted(
                format!(
                    "{display}: line {line}: the practice code looks like an NHS number; the \
                     value is not shown"
                ),
                "check the columns of the file",
            ));
        }
        match out.get(patient) {
            Some(before) if before != practice => {
                return Err(crate::error::hinted(
                    format!(
                        "{display}: line {line}: a patient is listed with two practices; the \
                         values are not shown"
                    ),
                    "keep one row per patient (the practice of the audit date)",
                ))
            }
            _ => {
                out.insert(patient.to_string(), practice.to_string());
            }
        }
    }
    Ok(out)
}

/// A reference table's reader, its headers as written, and normalised.
type Delimited<'a> = (csv::Reader<&'a [u8]>, Vec<String>, Vec<String>);

/// A reference table as research data sets ship them: tab-separated when its header line has
/// a tab, else comma-separated.
fn delimited(text: &str) -> Result<Delimited<'_>> {
    let first = text.lines().next().unwrap_or("");
    let separator = if first.contains('\t') { b'\t' } else { b',' };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(separator)
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader.headers()?.iter().map(String::from).collect();
    let normalised = headers.iter().map(|h| normalise_header(h)).collect();
    Ok((reader, headers, normalised))
}

/// `opal epd --ics-map`: CCG → STP (the ICS's predecessor) or sub-ICB location → ICB, for
/// years before ICBs: ONS's `CCG18CD,CCG18CDH,CCG18NM,STP18CD,STP18NM` files (any year) or a
/// CSV of ccg_code,ics_code[,ics_name]. Every CCG code column is a key (the ODS code, as the
/// EPD's PCO_CODE and epraccur give it, and the ONS code). Returns code → (ICS code, name).
pub fn read_ics_map(path: &Path) -> Result<BTreeMap<String, (String, String)>> {
    let display = path.display();
    let text = read_text(path)?;
    let (mut reader, raw, norm) = delimited(&text)?;
    let starts = |h: &str, p: &[&str]| p.iter().any(|p| h.starts_with(p));
    let ends = |h: &str, e: &[&str]| e.iter().any(|e| h.ends_with(e));
    let keys: Vec<usize> = (0..norm.len())
        .filter(|&i| {
            starts(&norm[i], &["ccg", "subicb", "pco", "sicbl"])
                && ends(&norm[i], &["cd", "cdh", "code"])
        })
        .collect();
    let ics = (0..norm.len())
        .find(|&i| starts(&norm[i], &["stp", "icb", "ics"]) && ends(&norm[i], &["cd", "code"]));
    let name = (0..norm.len())
        .find(|&i| starts(&norm[i], &["stp", "icb", "ics"]) && ends(&norm[i], &["nm", "name"]));
    let Some(ics) = ics.filter(|_| !keys.is_empty()) else {
        return Err(crate::error::hinted(
            format!(
                "{display}: no CCG code and STP (or ICB) code columns (found: {})",
                crate::read::extract::headers_found(&raw)
            ),
            "give ONS's \
             CCG to STP lookup (CCG18CDH, STP18CD, STP18NM) or ccg_code,ics_code,ics_name",
        ));
    };
    let mut out = BTreeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| format!("{display}: line {}", i + 2))?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let value = (get(Some(ics)).to_string(), get(name).to_string());
        if value.0.is_empty() {
            continue;
        }
        for &k in &keys {
            let key = get(Some(k));
            if !key.is_empty() {
                out.insert(key.to_string(), value.clone());
            }
        }
    }
    Ok(out)
}

/// `--code-map`: another system's product codes with the dm+d id and/or the product name
/// each stands for — CPRD Aurum's product dictionary (`ProdCodeId`, `DMDID`, `TermfromEMIS`,
/// `ProductName`; tab-separated) or any CSV of code and dm+d id or name.
pub fn read_code_map(path: &Path) -> Result<crate::read::extract::CodeMap> {
    let display = path.display();
    let text = read_text(path)?;
    let (mut reader, raw, norm) = delimited(&text)?;
    let find = |names: &[&str]| names.iter().find_map(|n| norm.iter().position(|h| h == n));
    let code = find(&[
        "prodcodeid",
        "sourcecode",
        "code",
        "productcode",
        "prodcode",
    ])
    .unwrap_or(0);
    let dmd = find(&["dmdid", "dmdcode", "dmd", "dmdproductcodeid", "snomedcode"]);
    let name = find(&[
        "productname",
        "termfromemis",
        "drugname",
        "name",
        "term",
        "description",
    ]);
    if dmd.is_none() && name.is_none() {
        return Err(crate::error::hinted(
            format!(
                "{display}: no dm+d id or product name column to map the codes to (found: {})",
                crate::read::extract::headers_found(&raw)
            ),
            "\
             --code-map takes a file of code,dmd_id or code,product_name (CPRD's product \
             dictionary has both)",
        ));
    }
    let mut out = crate::read::extract::CodeMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| {
            crate::error::Diagnostic::error(format!(
                "{display}: line {}: cannot read the row",
                i + 2
            ))
            .hint(
                "check the file is the \
                 reference table asked for, whole and in one encoding",
            )
        })?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let key = get(Some(code));
        if key.is_empty() {
            continue;
        }
        out.insert(
            key.to_string(),
            (get(dmd).to_string(), get(name).to_string()),
        );
    }
    Ok(out)
}

/// `--dosages`: CPRD Aurum's common dosages (`dosageid`, `dosage_text`, `daily_dose`;
/// tab-separated) or any CSV of a dosage code and its directions: code → the directions, or
/// "N daily" from the daily dose where there is no text.
pub fn read_dosages(path: &Path) -> Result<HashMap<String, String>> {
    let display = path.display();
    let text = read_text(path)?;
    let (mut reader, raw, norm) = delimited(&text)?;
    let find = |names: &[&str]| names.iter().find_map(|n| norm.iter().position(|h| h == n));
    let (Some(code), text_col, daily) = (
        find(&["dosageid", "code", "dosagecode"]),
        find(&["dosagetext", "dosetext", "directions", "text"]),
        find(&["dailydose"]),
    ) else {
        return Err(crate::error::hinted(
            format!(
                "{display}: no dosageid column (found: {})",
                crate::read::extract::headers_found(&raw)
            ),
            "--dosages takes CPRD's common \
             dosages (dosageid, dosage_text, daily_dose) or a CSV of dosageid,dosage_text",
        ));
    };
    if text_col.is_none() && daily.is_none() {
        bail!(
            "{display}: no dosage_text or daily_dose column (found: {})",
            crate::read::extract::headers_found(&raw)
        );
    }
    let mut out = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.with_context(|| {
            crate::error::Diagnostic::error(format!(
                "{display}: line {}: cannot read the row",
                i + 2
            ))
            .hint(
                "check the file is the \
                 reference table asked for, whole and in one encoding",
            )
        })?;
        let get = |c: Option<usize>| c.and_then(|c| rec.get(c)).unwrap_or("").trim();
        let key = get(Some(code));
        if key.is_empty() {
            continue;
        }
        let directions = match (get(text_col), get(daily)) {
            ("", d) if d.parse::<f64>().is_ok_and(|v| v > 0.0) => format!("{d} daily"),
            (t, _) => t.to_string(),
        };
        out.insert(key.to_string(), directions);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shared_layouts() {
        let dir = tempfile::tempdir().unwrap();
        let ep = dir.path().join("epraccur.csv");
        std::fs::write(&ep, "\"L84073\",\"ACORN PRACTICE\",\"Y57\",\"Q82\",\"MAY LANE SURGERY\",\"27 MAY LANE\",\"DURSLEY\",\"GLOUCESTERSHIRE\",\"\",\"GL11 4JN\",\"19740401\",\"\",\"A\",\"B\",\"11M\",\"20130401\"\n").unwrap();
        let (m, _) = read_practices(&ep).unwrap();
        assert_eq!(m["L84073"].ics_code, "11M");
        assert_eq!(m["L84073"].practice_name, "ACORN PRACTICE");
        let simple = dir.path().join("p.csv");
        std::fs::write(
            &simple,
            "practice_code,ics_code,practice_name,ics_name\nA81001,QHM,The Practice,North East\n",
        )
        .unwrap();
        assert_eq!(
            read_practices(&simple).unwrap().0["A81001"].ics_name,
            "North East"
        );
        let lists = dir.path().join("l.csv");
        std::fs::write(&lists, "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\nGP_PRAC_PAT_LIST,01SEP2017,GP,B85010,,HD5 8DY,ALL,ALL,6939\nGP_PRAC_PAT_LIST,01SEP2017,GP,B85010,,HD5 8DY,FEMALE,0_4,212\n").unwrap();
        assert_eq!(read_list_sizes(&lists).unwrap()["B85010"], 6939.0);
        let bad = dir.path().join("b.csv");
        std::fs::write(&bad, "practice_code,list_size\nA1,many\n").unwrap();
        let e = format!("{:#}", read_list_sizes(&bad).unwrap_err());
        assert!(e.contains("line 2") && e.contains("'many'"), "{e}");
    }
}
