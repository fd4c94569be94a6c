//! `opal epd`'s pipeline: practice-level measures from the English Prescribing Dataset
//! (METHOD.md §9), matching OpenPrescribing's `opioidome`, `opioidper1000` and
//! `opioidspercent` (in their 120 mg and 90 mg versions), the core's `epd` module applied to
//! files read a chunk at a time (read/extract.rs), as `engine/rows.rs` does for extracts.
//!
//! The EPD has no patients: items and quantities per practice, BNF code and month. Each
//! distinct BNF code (with its description, and SNOMED/dm+d code where the layout has one) is
//! resolved once; `TOTAL_QUANTITY` (quantity × items) times OME per unit is its OME. BNF 0410
//! (drugs for dependence) is excluded; combination products count only their opioid.

use std::collections::{BTreeMap, HashMap};

use anyhow::{bail, Result};

use crate::engine::Rejected;
use crate::epd::*;

use crate::dictionary::Dictionary;
use crate::factors::FactorSet;
use crate::ome::missing_factor_reason;
use crate::product::Product;
use crate::read::extract::{normalise_header, open_table, Chunk, Field, FileInfo};
use crate::read::reference::PracticeInfo;
use crate::resolve::{ItemText, Resolver, Status};

/// The most items of one presentation a practice issues in a month that a row may hold (the
/// largest practices have about 60,000 patients; one presentation a million times is a
/// damaged row).
pub const MAX_EPD_ITEMS: f64 = 1_000_000.0;

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

/// Everything `opal epd` computes.
#[derive(Debug, Default)]
pub struct EpdResult {
    pub bnf: Vec<BnfOme>,
    pub practices: Vec<Measures>,
    pub ics: Vec<Measures>,
    pub accounting: EpdAccounting,
    pub rejected: Vec<Rejected>,
}

/// Settings of an EPD run.
#[derive(Debug, Clone)]
pub struct EpdConfig {
    pub factors: FactorSet,
    pub version: HighDose,
    pub practices: Option<BTreeMap<String, PracticeInfo>>,
    pub list_sizes: Option<BTreeMap<String, f64>>,
}

/// The outcome of one distinct (SNOMED, BNF code, description).
struct Outcome {
    status: Status,
    product: Option<std::sync::Arc<Product>>,
    matched_by: String,
    factor: Option<f64>,
    per_unit: Option<f64>,
    reason: String,
}

/// EPD files read a chunk at a time (the same reading path as extracts, so that memory stays
/// flat however large the files): each row is resolved through a cache of its distinct
/// products and only the opioid rows' sums per month and practice, and per month and BNF
/// code, are kept.
pub struct EpdRun<'a> {
    config: &'a EpdConfig,
    resolver: Resolver<'a>,
    out: EpdResult,
    /// SNOMED, BNF code and description joined by U+001F → outcome.
    cache: HashMap<String, Outcome>,
    key: String,
    bnf: BTreeMap<(String, String), BnfOme>,
    practices: BTreeMap<(String, String), Measures>,
}

/// Read and measure EPD files (CSV, gzip CSV or Parquet), `chunk_bytes` of text at a time (0
/// for the default); what is known of each file, for the manifest, and the measures.
pub fn run_files(
    paths: &[std::path::PathBuf],
    config: &EpdConfig,
    dict: &Dictionary,
    chunk_bytes: usize,
) -> Result<(Vec<FileInfo>, EpdResult)> {
    let mut run = EpdRun::new(config, dict);
    let mut infos = Vec::new();
    for path in paths {
        let mut reader = open_table(path, chunk_bytes, &map_epd_columns)?;
        while let Some(chunk) = reader.next_chunk()? {
            run.add_chunk(&reader.path, &reader.columns, &chunk);
        }
        infos.push(reader.finish()?);
    }
    Ok((infos, run.finish()))
}

impl<'a> EpdRun<'a> {
    pub fn new(config: &'a EpdConfig, dict: &'a Dictionary) -> EpdRun<'a> {
        EpdRun {
            config,
            resolver: Resolver::new(dict),
            out: EpdResult::default(),
            cache: HashMap::new(),
            key: String::new(),
            bnf: BTreeMap::new(),
            practices: BTreeMap::new(),
        }
    }

    /// One chunk of a file's rows, in file order; `columns` maps canonical names to the
    /// file's headers.
    pub fn add_chunk(&mut self, path: &str, columns: &BTreeMap<String, String>, f: &Chunk) {
        let config = self.config;
        let col = |c: &str| f.column(columns.get(c));
        let (c_month, c_prac, c_pname, c_ics) = (
            col("year_month"),
            col("practice_code"),
            col("practice_name"),
            col("ics_code"),
        );
        let (c_bnf, c_desc, c_snomed, c_items, c_qty, c_total) = (
            col("bnf_code"),
            col("bnf_description"),
            col("snomed_code"),
            col("items"),
            col("quantity"),
            col("total_quantity"),
        );
        fn cell<'c>(c: Option<Field<'c>>, r: usize) -> &'c str {
            c.map_or("", |c| c.get(r).trim())
        }
        let out = &mut self.out;
        for r in 0..f.rows() {
            out.accounting.read += 1;
            let line = f.line(r);
            let reject = |out: &mut EpdResult, column: &str, value: &str, reason: &str| {
                out.accounting.rejected += 1;
                out.rejected.push(Rejected {
                    file: path.to_string(),
                    line,
                    column: column.into(),
                    value: value.to_string(),
                    reason: reason.into(),
                });
            };
            let (code, desc, snomed) = (cell(c_bnf, r), cell(c_desc, r), cell(c_snomed, r));
            self.key.clear();
            for (k, part) in [snomed, code, desc].into_iter().enumerate() {
                if k > 0 {
                    self.key.push('\u{1f}');
                }
                self.key.push_str(part);
            }
            if !self.cache.contains_key(&self.key) {
                let res = self.resolver.resolve(ItemText {
                    dmd_code: snomed,
                    bnf_code: code,
                    name: desc,
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
                self.cache.insert(self.key.clone(), o);
            }
            // Inserted above when it was not there.
            let outcome = &self.cache[self.key.as_str()];
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
            let Some(month) = normalise_month(month_text) else {
                reject(
                    out,
                    "year_month",
                    month_text,
                    "not a month (YYYYMM or YYYY_MM)",
                );
                continue;
            };
            let items_text = cell(c_items, r);
            let Some(items) = number(items_text).filter(|v| *v >= 0.0) else {
                reject(
                    out,
                    "items",
                    items_text,
                    "items must be a number, 0 or more",
                );
                continue;
            };
            let total = match c_total {
                Some(_) => number(cell(c_total, r)),
                None => number(cell(c_qty, r)).map(|q| q * items),
            };
            let Some(total) = total.filter(|v| *v >= 0.0) else {
                let v = cell(c_total.or(c_qty), r);
                reject(
                    out,
                    "total_quantity",
                    v,
                    "total quantity must be a number, 0 or more",
                );
                continue;
            };
            // A row is one practice's items of one presentation in a month: more items than
            // any practice issues, or more units an item than the audit's largest plausible
            // supply (METHOD.md §9), is a damaged row, not a supply (1e20 tablets would put
            // 7.5e20 mg of OME on a practice).
            if items > MAX_EPD_ITEMS {
                reject(
                    out,
                    "items",
                    cell(c_items, r),
                    &format!(
                        "more items than any practice issues of one presentation in a month \
                         (at most {MAX_EPD_ITEMS})"
                    ),
                );
                continue;
            }
            if total > crate::item::MAX_QUANTITY_UNITS * items.max(1.0) {
                let v = cell(c_total.or(c_qty), r);
                reject(
                    out,
                    "total_quantity",
                    v,
                    &format!(
                        "more than {} units an item over {} item(s): beyond any real supply",
                        crate::item::MAX_QUANTITY_UNITS,
                        items
                    ),
                );
                continue;
            }
            let practice = cell(c_prac, r);
            if practice.is_empty() {
                reject(out, "practice_code", "", "practice_code is empty");
                continue;
            }
            let entry = self
                .bnf
                .entry((month.clone(), code.to_string()))
                .or_insert_with(|| {
                    let p = outcome.product.as_deref();
                    let (regular, high) = p
                        .map(|p| measure_class(p, desc, config.version))
                        .unwrap_or((false, false));
                    BnfOme {
                        month: month.clone(),
                        bnf_code: code.to_string(),
                        description: desc.to_string(),
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
            let m = self
                .practices
                .entry((month.clone(), practice.to_string()))
                .or_insert_with(|| {
                    let info = config.practices.as_ref().and_then(|m| m.get(practice));
                    let ics = info
                        .map(|i| i.ics_code.clone())
                        .filter(|c| !c.is_empty())
                        .unwrap_or_else(|| {
                            let c = cell(c_ics, r);
                            if c.is_empty() {
                                "UNKNOWN".into()
                            } else {
                                c.to_string()
                            }
                        });
                    Measures {
                        month: month.clone(),
                        code: practice.to_string(),
                        name: info
                            .map(|i| i.practice_name.clone())
                            .filter(|n| !n.is_empty())
                            .unwrap_or_else(|| cell(c_pname, r).to_string()),
                        ics_code: ics,
                        list_size: config
                            .list_sizes
                            .as_ref()
                            .and_then(|l| l.get(practice).copied()),
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

    /// The measures, once every file has been read: practices, their ICSs and the BNF codes.
    pub fn finish(self) -> EpdResult {
        let (mut out, mut practices) = (self.out, self.practices);
        out.ics = ics_measures(practices.values_mut());
        out.practices = practices.into_values().collect();
        out.bnf = self.bnf.into_values().collect();
        out
    }
}
