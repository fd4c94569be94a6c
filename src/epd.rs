//! Practice-level measures from the English Prescribing Dataset (METHOD.md §9), matching
//! OpenPrescribing's `opioidome`, `opioidper1000` and `opioidspercent` (in their 120 mg and
//! 90 mg versions).
//!
//! The EPD has no patients: items and quantities per practice, BNF code and month. Each
//! distinct BNF code (with its description, and SNOMED/dm+d code where the layout has one) is
//! resolved once; `TOTAL_QUANTITY` (quantity × items) times OME per unit is its OME. BNF 0410
//! (drugs for dependence) is excluded; combination products count only their opioid.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{bail, Result};

use crate::dictionary::Dictionary;
use crate::factors::FactorSet;
use crate::ome::{missing_factor_reason, patch_ome_mg_day, unit_ome};
use crate::product::{Product, Release, Route};
use crate::read::extract::{normalise_header, read_table, ExtractFile};
use crate::read::reference::PracticeInfo;
use crate::resolve::{ItemText, Resolver, Status};

/// Which version of OpenPrescribing's high-dose measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HighDose {
    /// `__2025-01_120mg_version`: likely daily dose of 120 mg OME or more.
    Mg120,
    /// The current measures: 90 mg OME or more.
    Mg90,
}

impl HighDose {
    pub fn from_threshold(t: u32) -> Result<HighDose> {
        match t {
            120 => Ok(HighDose::Mg120),
            90 => Ok(HighDose::Mg90),
            other => bail!(
                "--threshold {other}: OpenPrescribing's high-dose measures exist for 90 and 120 \
                 mg/day\nhint: use --threshold 120 (the MedSIP aim) or --threshold 90"
            ),
        }
    }

    pub fn mg(self) -> u32 {
        match self {
            HighDose::Mg120 => 120,
            HighDose::Mg90 => 90,
        }
    }
}

/// Whether a product counts among OpenPrescribing's "regular" (long-acting) opioid items, and
/// whether it is a high-dose one: strength thresholds from the measure definitions.
pub fn measure_class(p: &Product, description: &str, version: HighDose) -> (bool, bool) {
    let oral_mr = p.route == Route::Oral && p.release == Release::Modified;
    let patch = p.route == Route::Transdermal;
    let desc = description.to_ascii_lowercase();
    let mxl = desc.contains("mxl") || p.name.to_ascii_lowercase().contains("mxl");
    let onexila_40 = (desc.contains("onexila") || p.name.to_ascii_lowercase().contains("onexila"))
        && (p.strength - 40.0).abs() < 1e-9;
    let s = p.strength;
    let ge = |t: f64| s >= t - 1e-9;
    let regular = match p.ingredient.as_str() {
        "fentanyl" | "buprenorphine" => patch,
        "oxycodone" | "tapentadol" | "morphine" | "hydromorphone" => oral_mr,
        _ => false,
    };
    if !regular {
        return (false, false);
    }
    let high = match (version, p.ingredient.as_str()) {
        (HighDose::Mg120, "fentanyl") => ge(50.0),
        (HighDose::Mg90, "fentanyl") => ge(37.5),
        (HighDose::Mg120, "oxycodone") => ge(40.0) && !onexila_40,
        (HighDose::Mg90, "oxycodone") => ge(30.0) && !onexila_40,
        (HighDose::Mg120, "tapentadol") => ge(150.0),
        (HighDose::Mg90, "tapentadol") => ge(112.5),
        (HighDose::Mg120, "buprenorphine") => ge(52.5),
        (HighDose::Mg90, "buprenorphine") => ge(39.375),
        (HighDose::Mg120, "morphine") if mxl => ge(120.0),
        (HighDose::Mg90, "morphine") if mxl => ge(90.0),
        (HighDose::Mg120, "morphine") => ge(60.0),
        (HighDose::Mg90, "morphine") => ge(45.0),
        (HighDose::Mg90, "hydromorphone") => ge(9.0),
        _ => false,
    };
    (true, high)
}

/// OME of one unit as OpenPrescribing computes it, when the set is `openprescribing`: patches
/// by hours (fentanyl 72; buprenorphine 5-20 micrograms/hour 168, 35-70 96) at the dm+d rate
/// (the "12" fentanyl patch is 12), buccal films have no factor.
fn unit_ome_for(p: &Product, set: &FactorSet) -> Option<(f64, f64)> {
    let u = unit_ome(p, set)?;
    if set.name != "openprescribing" {
        return Some((u.factor.factor, u.ome_mg_per_unit));
    }
    if p.form.contains("film") {
        return None;
    }
    match p.patch_rate_mcg_per_hour {
        Some(rate) => {
            let rate = if p.ingredient == "fentanyl" && rate == 12.5 {
                12.0
            } else {
                rate
            };
            let hours = match p.ingredient.as_str() {
                "buprenorphine" if rate <= 20.0 => 168.0,
                "buprenorphine" => 96.0,
                _ => 72.0,
            };
            Some((
                u.factor.factor,
                patch_ome_mg_day(rate, u.factor.factor) * hours / 24.0,
            ))
        }
        None => Some((u.factor.factor, u.ome_mg_per_unit)),
    }
}

/// `2017_09`, `201709`, `2017-09` → `2017-09`.
pub fn normalise_month(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 6 {
        return None;
    }
    let (y, m) = (&digits[..4], &digits[4..6]);
    let month: u32 = m.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    Some(format!("{y}-{m}"))
}

const EPD_COLUMNS: &[(&str, &[&str], bool)] = &[
    ("year_month", &["yearmonth"], true),
    ("practice_code", &["practicecode"], true),
    ("practice_name", &["practicename"], false),
    ("ics_code", &["icbcode", "stpcode", "pcocode"], false),
    ("ics_name", &["icbname", "stpname", "pconame"], false),
    ("bnf_code", &["bnfcode", "bnfpresentationcode"], true),
    (
        "bnf_description",
        &["bnfdescription", "bnfpresentationname"],
        false,
    ),
    (
        "snomed_code",
        &["snomedcode", "dmdcode", "vmpsnomedcode"],
        false,
    ),
    ("items", &["items"], true),
    ("quantity", &["quantity"], false),
    ("total_quantity", &["totalquantity"], false),
];

/// Match EPD headers (old and current layouts).
pub fn map_epd_columns(display: &str, headers: &[String]) -> Result<BTreeMap<String, String>> {
    let norm: Vec<String> = headers.iter().map(|h| normalise_header(h)).collect();
    let mut map = BTreeMap::new();
    let mut missing = Vec::new();
    for (canonical, names, required) in EPD_COLUMNS {
        match names.iter().find_map(|n| norm.iter().position(|h| h == n)) {
            Some(i) => {
                map.insert((*canonical).to_string(), headers[i].clone());
            }
            None if *required => missing.push(*canonical),
            None => {}
        }
    }
    if !map.contains_key("total_quantity") && !map.contains_key("quantity") {
        missing.push("total_quantity");
    }
    if !missing.is_empty() {
        let looks_patient = norm
            .iter()
            .any(|h| ["patientid", "nhsnumber", "issuedate", "dateofissue"].contains(&h.as_str()));
        let hint = if looks_patient {
            "this looks like a patient-level extract: use `opal audit` for it".to_string()
        } else {
            "give an English Prescribing Dataset file (YEAR_MONTH, PRACTICE_CODE, BNF_CODE, \
             ITEMS, TOTAL_QUANTITY...)"
                .to_string()
        };
        bail!(
            "{display}: no column for {} (found: {})\nhint: {hint}",
            missing.join(", "),
            headers.join(", ")
        );
    }
    Ok(map)
}

/// Read one EPD file.
pub fn read_epd(path: &Path) -> Result<ExtractFile> {
    read_table(path, map_epd_columns)
}

/// One BNF code in one month.
#[derive(Debug, Clone, Default)]
pub struct BnfOme {
    pub month: String,
    pub bnf_code: String,
    pub description: String,
    pub status: String,
    pub matched_by: String,
    pub product_name: String,
    pub ingredient: String,
    pub factor: Option<f64>,
    pub items: f64,
    pub total_quantity: f64,
    pub ome_mg_per_unit: Option<f64>,
    pub total_ome_mg: f64,
    pub regular: bool,
    pub high_dose: bool,
    pub reason: String,
}

/// One practice (or ICS) in one month.
#[derive(Debug, Clone, Default)]
pub struct Measures {
    pub month: String,
    pub code: String,
    pub name: String,
    pub ics_code: String,
    pub total_ome_mg: f64,
    pub list_size: Option<f64>,
    pub high_dose_items: f64,
    pub regular_items: f64,
    pub opioid_items: f64,
    pub practices: u64,
    /// Numerators of the per-1000 rates: for an ICS, only its practices with a list size.
    rate_ome_mg: f64,
    rate_high_dose_items: f64,
}

impl Measures {
    pub fn ome_per_1000(&self) -> Option<f64> {
        self.list_size
            .filter(|l| *l > 0.0)
            .map(|l| self.rate_ome_mg * 1000.0 / l)
    }

    pub fn high_dose_per_1000(&self) -> Option<f64> {
        self.list_size
            .filter(|l| *l > 0.0)
            .map(|l| self.rate_high_dose_items * 1000.0 / l)
    }

    pub fn high_dose_percent(&self) -> Option<f64> {
        (self.regular_items > 0.0).then(|| self.high_dose_items * 100.0 / self.regular_items)
    }
}

/// Row accounting of EPD rows.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct EpdAccounting {
    pub read: u64,
    pub opioid: u64,
    pub not_opioid: u64,
    pub excluded: u64,
    pub unresolved: u64,
    pub rejected: u64,
}

/// A row that could not be read.
#[derive(Debug, Clone)]
pub struct EpdRejected {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// Everything `opal epd` computes.
#[derive(Debug, Default)]
pub struct EpdResult {
    pub bnf: Vec<BnfOme>,
    pub practices: Vec<Measures>,
    pub ics: Vec<Measures>,
    pub accounting: EpdAccounting,
    pub rejected: Vec<EpdRejected>,
}

/// Settings of an EPD run.
#[derive(Debug, Clone)]
pub struct EpdConfig {
    pub factors: FactorSet,
    pub version: HighDose,
    pub practices: Option<BTreeMap<String, PracticeInfo>>,
    pub list_sizes: Option<BTreeMap<String, f64>>,
}

fn number(s: &str) -> Option<f64> {
    let v: f64 = s.trim().replace(',', "").parse().ok()?;
    v.is_finite().then_some(v)
}

/// Compute the measures from EPD files already read.
pub fn run(files: &[ExtractFile], config: &EpdConfig, dict: &Dictionary) -> Result<EpdResult> {
    let resolver = Resolver::new(dict);
    let mut out = EpdResult::default();
    struct Outcome {
        status: Status,
        product: Option<std::sync::Arc<Product>>,
        matched_by: String,
        factor: Option<f64>,
        per_unit: Option<f64>,
        reason: String,
    }
    let mut cache: HashMap<(String, String, String), Outcome> = HashMap::new();
    let mut bnf: BTreeMap<(String, String), BnfOme> = BTreeMap::new();
    let mut practices: BTreeMap<(String, String), Measures> = BTreeMap::new();
    for f in files {
        let col = |c: &str| f.column(c);
        let (c_month, c_prac, c_pname, c_ics, c_iname) = (
            col("year_month"),
            col("practice_code"),
            col("practice_name"),
            col("ics_code"),
            col("ics_name"),
        );
        let (c_bnf, c_desc, c_snomed, c_items, c_qty, c_total) = (
            col("bnf_code"),
            col("bnf_description"),
            col("snomed_code"),
            col("items"),
            col("quantity"),
            col("total_quantity"),
        );
        let cell = |c: Option<&polars::prelude::StringChunked>, r: usize| -> String {
            c.and_then(|c| c.get(r)).unwrap_or("").trim().to_string()
        };
        for r in 0..f.rows() {
            out.accounting.read += 1;
            let line = f.line(r);
            let reject = |out: &mut EpdResult, column: &str, value: String, reason: &str| {
                out.accounting.rejected += 1;
                out.rejected.push(EpdRejected {
                    file: f.path.clone(),
                    line,
                    column: column.into(),
                    value,
                    reason: reason.into(),
                });
            };
            let code = cell(c_bnf, r);
            let desc = cell(c_desc, r);
            let snomed = cell(c_snomed, r);
            let key = (snomed.clone(), code.clone(), desc.clone());
            let outcome = cache.entry(key).or_insert_with(|| {
                let res = resolver.resolve(ItemText {
                    dmd_code: &snomed,
                    bnf_code: &code,
                    name: &desc,
                });
                let mut o = Outcome {
                    status: res.status,
                    matched_by: res.matched_by.map_or("", |m| m.as_str()).to_string(),
                    factor: None,
                    per_unit: None,
                    reason: res.reason.clone().unwrap_or_default(),
                    product: res.product.clone(),
                };
                if let Some(p) = &res.product {
                    match unit_ome_for(p, &config.factors) {
                        Some((factor, per_unit)) => {
                            o.factor = Some(factor);
                            o.per_unit = Some(per_unit);
                        }
                        None if o.status == Status::Resolved => {
                            o.status = Status::Unresolved;
                            o.reason = missing_factor_reason(p, &config.factors);
                        }
                        None => {}
                    }
                }
                o
            });
            match outcome.status {
                Status::NotOpioid => {
                    out.accounting.not_opioid += 1;
                    continue;
                }
                Status::Excluded => {
                    out.accounting.excluded += 1;
                    continue;
                }
                _ => {}
            }
            let month_text = cell(c_month, r);
            let Some(month) = normalise_month(&month_text) else {
                reject(
                    &mut out,
                    "year_month",
                    month_text,
                    "not a month (YYYYMM or YYYY_MM)",
                );
                continue;
            };
            let items_text = cell(c_items, r);
            let Some(items) = number(&items_text).filter(|v| *v >= 0.0) else {
                reject(
                    &mut out,
                    "items",
                    items_text,
                    "items must be a number, 0 or more",
                );
                continue;
            };
            let total = match c_total {
                Some(_) => number(&cell(c_total, r)),
                None => number(&cell(c_qty, r)).map(|q| q * items),
            };
            let Some(total) = total.filter(|v| *v >= 0.0) else {
                let v = cell(c_total.or(c_qty), r);
                reject(
                    &mut out,
                    "total_quantity",
                    v,
                    "total quantity must be a number, 0 or more",
                );
                continue;
            };
            let practice = cell(c_prac, r);
            if practice.is_empty() {
                reject(
                    &mut out,
                    "practice_code",
                    String::new(),
                    "practice_code is empty",
                );
                continue;
            }
            let entry = bnf.entry((month.clone(), code.clone())).or_insert_with(|| {
                let p = outcome.product.as_deref();
                let (regular, high) = p
                    .map(|p| measure_class(p, &desc, config.version))
                    .unwrap_or((false, false));
                BnfOme {
                    month: month.clone(),
                    bnf_code: code.clone(),
                    description: desc.clone(),
                    status: outcome.status.as_str().to_string(),
                    matched_by: outcome.matched_by.clone(),
                    product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                    ingredient: p.map(|p| p.ingredient.clone()).unwrap_or_default(),
                    factor: outcome.factor,
                    ome_mg_per_unit: outcome.per_unit,
                    regular: regular && outcome.status == Status::Resolved,
                    high_dose: high && outcome.status == Status::Resolved,
                    reason: outcome.reason.clone(),
                    ..BnfOme::default()
                }
            });
            entry.items += items;
            entry.total_quantity += total;
            if outcome.status == Status::Unresolved {
                out.accounting.unresolved += 1;
                continue;
            }
            out.accounting.opioid += 1;
            let ome = total * outcome.per_unit.unwrap_or(0.0);
            entry.total_ome_mg += ome;
            let (regular, high) = (entry.regular, entry.high_dose);
            let m = practices
                .entry((month.clone(), practice.clone()))
                .or_insert_with(|| {
                    let info = config.practices.as_ref().and_then(|m| m.get(&practice));
                    let ics = info
                        .map(|i| i.ics_code.clone())
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| {
                            let c = cell(c_ics, r);
                            if c.is_empty() {
                                "UNKNOWN".into()
                            } else {
                                c
                            }
                        });
                    let _ = cell(c_iname, r);
                    Measures {
                        month: month.clone(),
                        code: practice.clone(),
                        name: info
                            .map(|i| i.practice_name.clone())
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| cell(c_pname, r)),
                        ics_code: ics,
                        list_size: config
                            .list_sizes
                            .as_ref()
                            .and_then(|l| l.get(&practice).copied()),
                        practices: 1,
                        ..Measures::default()
                    }
                });
            m.total_ome_mg += ome;
            m.opioid_items += items;
            if regular {
                m.regular_items += items;
            }
            if high {
                m.high_dose_items += items;
            }
        }
    }
    // ICS: sums over sums. Rates use only practices with a list size on both sides.
    let mut ics: BTreeMap<(String, String), Measures> = BTreeMap::new();
    for m in practices.values_mut() {
        if m.list_size.is_some() {
            m.rate_ome_mg = m.total_ome_mg;
            m.rate_high_dose_items = m.high_dose_items;
        }
        let t = ics
            .entry((m.month.clone(), m.ics_code.clone()))
            .or_insert_with(|| Measures {
                month: m.month.clone(),
                code: m.ics_code.clone(),
                ..Measures::default()
            });
        t.practices += 1;
        t.total_ome_mg += m.total_ome_mg;
        t.high_dose_items += m.high_dose_items;
        t.regular_items += m.regular_items;
        t.opioid_items += m.opioid_items;
        if let Some(l) = m.list_size {
            *t.list_size.get_or_insert(0.0) += l;
            t.rate_ome_mg += m.total_ome_mg;
            t.rate_high_dose_items += m.high_dose_items;
        }
    }
    out.ics = ics.into_values().collect();
    out.practices = practices.into_values().collect();
    out.bnf = bnf.into_values().collect();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months() {
        assert_eq!(normalise_month("2017_09").as_deref(), Some("2017-09"));
        assert_eq!(normalise_month("202409").as_deref(), Some("2024-09"));
        assert_eq!(normalise_month("2024-13"), None);
        assert_eq!(normalise_month("x"), None);
    }

    #[test]
    fn high_dose_classes() {
        let r = Resolver::builtin();
        let p = |n: &str| r.resolve_name(n).product.unwrap();
        let fent50 = p("Fentanyl 50micrograms/hour transdermal patches");
        let fent37 = p("Fentanyl 37.5microgram/hour transdermal patches");
        assert_eq!(measure_class(&fent50, "", HighDose::Mg120), (true, true));
        assert_eq!(measure_class(&fent37, "", HighDose::Mg120), (true, false));
        assert_eq!(measure_class(&fent37, "", HighDose::Mg90), (true, true));
        let mst60 = p("MST Continus 60mg tablets");
        assert_eq!(measure_class(&mst60, "", HighDose::Mg120), (true, true));
        let mxl60 = p("MXL 60mg capsules");
        assert_eq!(
            measure_class(&mxl60, "MXL_Cap 60mg", HighDose::Mg120),
            (true, false)
        );
        let oxy40 = p("Oxycodone 40mg modified-release tablets");
        assert_eq!(measure_class(&oxy40, "", HighDose::Mg120), (true, true));
        assert_eq!(
            measure_class(&oxy40, "Onexila XL_Tab 40mg", HighDose::Mg120),
            (true, false)
        );
        let cocod = p("Co-codamol 30mg/500mg tablets");
        assert_eq!(measure_class(&cocod, "", HighDose::Mg90), (false, false));
    }
}
