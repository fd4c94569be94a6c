//! FHIR R4 input (issue 25.7): a Bundle (JSON) or NDJSON of `MedicationRequest` and
//! `MedicationStatement` resources, as GP Connect (Access Record: Structured) and UK Core give
//! them, turned into the rows of an extract with opal's own column names, so that the rest of
//! the reading path and the audit see them as any other extract.
//!
//! The issues are MedicationRequests of an order intent; when a file has them, GP Connect's
//! authorisations (intent plan) and MedicationStatements of the same medications are set
//! aside, counted and said in the run's warnings, so that no supply is counted twice; so is
//! anything entered in error.
//!
//! Per resource (METHOD.md §5 says what wins):
//! - the product: the dm+d (SNOMED CT) coding and display of `medicationCodeableConcept`, or of
//!   the `Medication` a `medicationReference` points to in the bundle;
//! - the directions: the first `dosageInstruction`'s structured `doseAndRate` dose and
//!   `timing.repeat` frequency and period, written as "N every H hours (structured dose)",
//!   before its `text`;
//! - the quantity: `dispenseRequest.quantity` (value and unit); the days: its
//!   `expectedSupplyDuration` in days or weeks;
//! - the date: `authoredOn`, else `dispenseRequest.validityPeriod.start`, else (a statement)
//!   `effectiveDateTime` or `effectivePeriod.start`;
//! - the patient: `subject.reference` (`Patient/…`, the id after the slash);
//! - the practice: the ODS code of the patient's `managingOrganization`, else of the bundle's
//!   one `Organization` with an ODS identifier; with none the column is left out, so that
//!   `--practice-code` gives it.

use std::collections::HashMap;

use anyhow::Result;
use serde_json::Value;

/// The resource types read; others (Patient, Organization, Medication) are looked up.
const READ: &[&str] = &["MedicationRequest", "MedicationStatement"];
const ODS: &str = "https://fhir.nhs.uk/Id/ods-organization-code";

/// Whether a file's first bytes look like JSON (a Bundle or NDJSON).
pub fn looks_like_json(first: &[u8]) -> bool {
    first
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'{')
}

/// The resources of a Bundle, or of NDJSON (one resource a line).
fn resources(display: &str, text: &str) -> Result<Vec<Value>> {
    match serde_json::from_str::<Value>(text) {
        Ok(v) if v["resourceType"] == "Bundle" => Ok(v["entry"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["resource"].clone())
            .filter(|r| r.is_object())
            .collect()),
        Ok(v) => Ok(vec![v]),
        Err(_) => text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str::<Value>(l).map_err(|e| {
                    crate::error::hinted(
                        format!("{display}: line {}: not a FHIR resource ({e})", i + 1),
                        "give a FHIR R4 \
                         Bundle (JSON) or NDJSON, one resource a line",
                    )
                })
            })
            .collect(),
    }
}

/// The id a reference points to: `Patient/123` → `123`, `urn:uuid:…` → `…`.
fn reference_id(r: &Value) -> &str {
    let s = r["reference"].as_str().unwrap_or("");
    s.rsplit(['/', ':']).next().unwrap_or(s)
}

/// The dm+d (or other SNOMED CT) code and the display of a CodeableConcept.
fn coding(cc: &Value) -> (String, String) {
    let codings: Vec<&Value> = cc["coding"].as_array().into_iter().flatten().collect();
    let pick = codings
        .iter()
        .find(|c| {
            let s = c["system"].as_str().unwrap_or("");
            s.contains("snomed") || s.contains("dmd")
        })
        .or(codings.first());
    let code = pick
        .and_then(|c| c["code"].as_str())
        .unwrap_or("")
        .to_string();
    let display = pick
        .and_then(|c| c["display"].as_str())
        .or(cc["text"].as_str())
        .unwrap_or("")
        .to_string();
    (code, display)
}

/// A number of a FHIR element as text (as written in the file).
fn number(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn fmt(v: f64) -> String {
    crate::values::fmt_num(v)
}

/// The directions of a dosageInstruction: the structured dose and timing when both are there
/// (METHOD.md §5: they win over the text), else the text.
fn directions(d: &Value) -> String {
    let dose = number(&d["doseAndRate"][0]["doseQuantity"]["value"]);
    let repeat = &d["timing"]["repeat"];
    let frequency = number(&repeat["frequency"]).unwrap_or(1.0);
    let period = number(&repeat["period"]);
    let hours_per = match repeat["periodUnit"].as_str() {
        Some("h") => Some(1.0),
        Some("d") => Some(24.0),
        Some("wk") => Some(168.0),
        Some("min") => Some(1.0 / 60.0),
        _ => None,
    };
    match (dose, period, hours_per) {
        (Some(dose), Some(period), Some(h)) if frequency > 0.0 && period > 0.0 => {
            format!(
                "{} every {} hours (structured dose)",
                fmt(dose),
                fmt(period * h / frequency)
            )
        }
        _ => d["text"].as_str().unwrap_or("").to_string(),
    }
}

/// Days of a Duration (`d`, `day`, `wk`).
fn duration_days(v: &Value) -> Option<f64> {
    let value = number(&v["value"])?;
    match v["unit"].as_str().or(v["code"].as_str()).unwrap_or("d") {
        "d" | "day" | "days" => Some(value),
        "wk" | "week" | "weeks" => Some(value * 7.0),
        _ => None,
    }
}

/// The ODS code of an Organization.
fn ods_code(org: &Value) -> Option<&str> {
    org["identifier"]
        .as_array()?
        .iter()
        .find(|i| i["system"] == ODS)?["value"]
        .as_str()
}

/// A CSV cell.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// The rows of a FHIR file as CSV text with opal's column names, and what was set aside (for
/// the run's warnings). An error when it holds no MedicationRequest or MedicationStatement to
/// read.
pub fn to_csv(display: &str, bytes: &[u8]) -> Result<(Vec<u8>, Vec<String>)> {
    let text = String::from_utf8_lossy(bytes);
    let resources = resources(display, text.trim_start_matches('\u{feff}'))?;
    let by_id = |kind: &str| -> HashMap<String, &Value> {
        resources
            .iter()
            .filter(|r| r["resourceType"] == kind)
            .filter_map(|r| Some((r["id"].as_str()?.to_string(), r)))
            .collect()
    };
    let (medications, patients, orgs) =
        (by_id("Medication"), by_id("Patient"), by_id("Organization"));
    // The practice: the one Organization with an ODS code, when there is exactly one.
    let ods_orgs: Vec<&str> = orgs.values().filter_map(|o| ods_code(o)).collect();
    let only_practice = match ods_orgs.as_slice() {
        [one] => Some(*one),
        _ => None,
    };
    let medication: Vec<&Value> = resources
        .iter()
        .filter(|r| READ.iter().any(|k| r["resourceType"] == *k))
        .collect();
    // The issues are MedicationRequests with an order intent. GP Connect also sends the
    // authorisation (intent "plan") and a MedicationStatement for the same medication: read
    // beside the issues they would count its supply twice, so when the file has issues they
    // are set aside, counted, and said. Anything entered in error is set aside too.
    let is_order = |r: &Value| {
        r["resourceType"] == "MedicationRequest"
            && matches!(
                r["intent"].as_str(),
                None | Some("order" | "original-order" | "instance-order" | "filler-order")
            )
    };
    let has_orders = medication.iter().any(|r| is_order(r));
    let in_error = |r: &Value| r["status"] == "entered-in-error";
    let items: Vec<&Value> = medication
        .iter()
        .copied()
        .filter(|r| !in_error(r) && (!has_orders || is_order(r)))
        .collect();
    let mut notes = Vec::new();
    let errors = medication.iter().filter(|r| in_error(r)).count();
    let plans = medication.len() - items.len() - errors;
    if plans > 0 {
        notes.push(format!(
            "{display}: {plans} FHIR MedicationRequest plan(s) or MedicationStatement(s) were \
             not read as issues: the file has the issues themselves (intent order), and the \
             plans and statements describe the same medication"
        ));
    }
    if errors > 0 {
        notes.push(format!(
            "{display}: {errors} FHIR medication resource(s) marked entered-in-error were not read"
        ));
    }
    if items.is_empty() {
        return Err(crate::error::hinted(
            format!("{display}: a FHIR file with no MedicationRequest or MedicationStatement"),
            "\
             give the medication resources of a GP Connect or UK Core record",
        ));
    }
    let practice_of = |patient: &str| -> Option<&str> {
        patients
            .get(patient)
            .map(|p| reference_id(&p["managingOrganization"]))
            .and_then(|org| orgs.get(org))
            .and_then(|o| ods_code(o))
            .or(only_practice)
    };
    let with_practice = items
        .iter()
        .any(|r| practice_of(reference_id(&r["subject"])).is_some());
    let mut out = String::from(
        "patient_id,issue_date,dmd_code,drug_name,quantity,quantity_unit,dose_text,days_supply",
    );
    if with_practice {
        out.push_str(",practice_code");
    }
    out.push('\n');
    for r in items {
        let patient = reference_id(&r["subject"]);
        let (code, name) = if r["medicationCodeableConcept"].is_object() {
            coding(&r["medicationCodeableConcept"])
        } else {
            medications
                .get(reference_id(&r["medicationReference"]))
                .map(|m| coding(&m["code"]))
                .unwrap_or_default()
        };
        let dispense = &r["dispenseRequest"];
        let date = r["authoredOn"]
            .as_str()
            .or(dispense["validityPeriod"]["start"].as_str())
            .or(r["effectiveDateTime"].as_str())
            .or(r["effectivePeriod"]["start"].as_str())
            .unwrap_or("");
        let quantity = number(&dispense["quantity"]["value"])
            .map(fmt)
            .unwrap_or_default();
        let unit = dispense["quantity"]["unit"].as_str().unwrap_or("");
        let dose = r["dosageInstruction"]
            .as_array()
            .or(r["dosage"].as_array())
            .and_then(|d| d.first())
            .map(directions)
            .unwrap_or_default();
        let days = duration_days(&dispense["expectedSupplyDuration"])
            .map(fmt)
            .unwrap_or_default();
        let cells = [patient, date, &code, &name, &quantity, unit, &dose, &days];
        let line: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        out.push_str(&line.join(","));
        if with_practice {
            out.push(',');
            out.push_str(&cell(practice_of(patient).unwrap_or("")));
        }
        out.push('\n');
    }
    Ok((out.into_bytes(), notes))
}
