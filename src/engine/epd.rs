//! `opal epd`'s pipeline: practice-level measures from the English Prescribing Dataset
//! (METHOD.md §9), matching OpenPrescribing's `opioidome`, `opioidper1000` and
//! `opioidspercent` (in their 120 mg and 90 mg versions), the core's `epd` module applied to
//! files read a chunk at a time (read/extract.rs), as `engine/rows.rs` does for extracts.
//!
//! The EPD has no patients: items and quantities per practice, BNF code and month. Each
//! distinct BNF code (with its description, and SNOMED/dm+d code where the layout has one) is
//! resolved once; `TOTAL_QUANTITY` (quantity × items) times OME per unit is its OME. BNF 0410
//! (drugs for dependence) is excluded; combination products count only their opioid.

use std::collections::BTreeMap;

// hashbrown's maps hash with foldhash: the three lookups a row cost a tenth of a run of many
// months with std's SipHash.
use hashbrown::HashMap;

use anyhow::Result;

use crate::engine::Rejected;
use crate::epd::*;
use crate::epd_trend::{compare, compute, Comparison, EpdComputed, EpdSeries, Membership};
use crate::trend::TrendSettings;

use crate::dictionary::Dictionary;
use crate::factors::FactorSet;
use crate::ome::missing_factor_reason;
use crate::product::Product;
use crate::read::extract::{normalise_header, open_table, Chunk, Field, FileInfo};
use crate::read::reference::PracticeInfo;
use crate::resolve::{ItemText, Resolver, Status};

mod trend;
pub use trend::*;

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
        return Err(crate::error::hinted(
            format!(
                "{display}: no column for {} (found: {})",
                missing.join(", "),
                headers.join(", ")
            ),
            hint,
        ));
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
    /// The months read (`YYYY-MM`, ascending) and the file each came from.
    pub months: Vec<(String, String)>,
    /// Per month with list sizes given: the month of the list sizes used, when it is not its
    /// own (`None` for an undated file).
    pub list_size_months: Vec<(String, Option<String>)>,
}

/// Settings of an EPD run.
#[derive(Debug, Clone)]
pub struct EpdConfig {
    pub factors: FactorSet,
    pub version: HighDose,
    pub practices: Option<BTreeMap<String, PracticeInfo>>,
    pub list_sizes: Option<ListSizes>,
    /// `--ics-map`: CCG → STP/ICS (code, name), for years before ICBs.
    pub ics_map: Option<BTreeMap<String, (String, String)>>,
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
    /// Keyed by month, U+001F and BNF code (one lookup with no allocation a row; sorted when
    /// the run ends).
    bnf: HashMap<String, BnfOme>,
    /// Keyed by month, U+001F and practice code.
    practices: HashMap<String, Measures>,
    /// The key being looked up.
    sum_key: String,
    /// Month → the file it was first read in; a month in a second file is an error.
    month_files: BTreeMap<String, String>,
    duplicate_month: Option<String>,
    /// Every (month, practice) with a row of any kind, with the practice's name and ICS
    /// there: a practice with rows and no opioid is a 0, one with no rows a gap.
    seen: BTreeMap<(String, String), (String, String, String)>,
    last_month_text: String,
    last_month: Option<String>,
    last_practice: String,
}

/// A practice's monthly measures, as first seen: its name and ICS from the practices
/// file, else the row's, and the month's list size.
fn new_measures(
    config: &EpdConfig,
    month: &str,
    practice: &str,
    row_name: &str,
    (row_ics, row_ics_name): (&str, &str),
) -> Measures {
    let info = config.practices.as_ref().and_then(|m| m.get(practice));
    let ics_from_row = info.is_none_or(|i| i.ics_code.is_empty());
    let ics = info
        .map(|i| i.ics_code.clone())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| {
            if row_ics.is_empty() {
                "UNKNOWN".into()
            } else {
                row_ics.to_string()
            }
        });
    // Before ICBs: the CCG (the older layout's PCO_CODE is the CCG's code and "00") to its
    // STP through --ics-map.
    let mapped = config.ics_map.as_ref().and_then(|map| {
        map.get(ics.as_str()).or_else(|| {
            ics.strip_suffix("00")
                .filter(|c| c.len() == 3)
                .and_then(|c| map.get(c))
        })
    });
    let (ics, ics_from_row, row_ics_name) = match mapped {
        Some((code, name)) => (code.clone(), true, name.as_str()),
        None => (ics, ics_from_row, row_ics_name),
    };
    Measures {
        month: month.to_string(),
        code: practice.to_string(),
        name: info
            .map(|i| i.practice_name.clone())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| row_name.to_string()),
        ics_name: info
            .map(|i| i.ics_name.clone())
            .filter(|n| !n.is_empty() && !ics_from_row)
            .unwrap_or_else(|| {
                if ics_from_row {
                    row_ics_name.to_string()
                } else {
                    String::new()
                }
            }),
        ics_code: ics,
        list_size: config
            .list_sizes
            .as_ref()
            .and_then(|l| l.for_month(month))
            .and_then(|(sizes, _)| sizes.get(practice).copied()),
        practices: 1,
        ..Measures::default()
    }
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
    // The same file twice would count its months twice.
    for (i, path) in paths.iter().enumerate() {
        let same = |p: &std::path::PathBuf| match (p.canonicalize(), path.canonicalize()) {
            (Ok(a), Ok(b)) => a == b,
            _ => p == path,
        };
        if let Some(first) = paths[..i].iter().find(|p| same(p)) {
            return Err(crate::error::hinted(
                format!(
                    "{} is given twice (as {} and {})",
                    path.display(),
                    first.display(),
                    path.display()
                ),
                "give each month once",
            ));
        }
    }
    // The next file is opened (its header found, its first chunk read) on a thread of its own
    // while this one's rows are summed: opening on this thread left a core idle at the start
    // and end of every month (a sixth of a run of many months).
    let open = |path: &std::path::PathBuf| open_table(path, chunk_bytes, &map_epd_columns);
    std::thread::scope(|scope| -> Result<()> {
        let mut next = paths.first().map(|p| scope.spawn(move || open(p)));
        for i in 0..paths.len() {
            let Some(opening) = next.take() else { break };
            // A panic while opening is a bug: passed on as it was raised.
            let mut reader = opening
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e))?;
            next = paths.get(i + 1).map(|p| scope.spawn(move || open(p)));
            while let Some(chunk) = reader.next_chunk()? {
                run.add_chunk(&reader.path, &reader.columns, &chunk);
                if let Some(e) = run.duplicate_month.take() {
                    return Err(crate::error::hinted(
                        e,
                        "give each month once (a month given twice would count its prescribing \
                         twice)",
                    ));
                }
            }
            infos.push(reader.finish()?);
        }
        Ok(())
    })?;
    crate::read::raw::release_spare_buffers();
    Ok((infos, run.finish()))
}

/// The key of a month's sum for a code (a BNF code or a practice), built in `buf` without an
/// allocation: the month, U+001F, the code.
fn sum_key<'k>(buf: &'k mut String, month: &str, code: &str) -> &'k str {
    buf.clear();
    buf.push_str(month);
    buf.push('\u{1f}');
    buf.push_str(code);
    buf
}

impl<'a> EpdRun<'a> {
    pub fn new(config: &'a EpdConfig, dict: &'a Dictionary) -> EpdRun<'a> {
        EpdRun {
            config,
            resolver: Resolver::new(dict),
            out: EpdResult::default(),
            cache: HashMap::new(),
            key: String::new(),
            bnf: HashMap::new(),
            practices: HashMap::new(),
            sum_key: String::new(),
            month_files: BTreeMap::new(),
            duplicate_month: None,
            seen: BTreeMap::new(),
            last_month_text: String::new(),
            last_month: None,
            last_practice: String::new(),
        }
    }

    /// One chunk of a file's rows, in file order; `columns` maps canonical names to the
    /// file's headers.
    pub fn add_chunk(&mut self, path: &str, columns: &BTreeMap<String, String>, f: &Chunk) {
        let config = self.config;
        let col = |c: &str| f.column(columns.get(c));
        let (c_month, c_prac, c_pname, c_ics, c_ics_name) = (
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
            // The month and practice of every row, opioid or not: which months each file holds
            // and which practices have rows (EPD files run practice by practice, so the last
            // pair read saves a lookup on almost every row).
            let month_text = cell(c_month, r);
            if month_text != self.last_month_text {
                self.last_month_text.clear();
                self.last_month_text.push_str(month_text);
                self.last_month = normalise_month(month_text);
                self.last_practice.clear();
                if let Some(m) = &self.last_month {
                    match self.month_files.get(m) {
                        None => {
                            self.month_files.insert(m.clone(), path.to_string());
                        }
                        Some(first) if first != path => {
                            self.duplicate_month =
                                Some(format!("month {m} is in both {first} and {path}"));
                            return;
                        }
                        Some(_) => {}
                    }
                }
            }
            let practice_text = cell(c_prac, r);
            if practice_text != self.last_practice {
                self.last_practice.clear();
                self.last_practice.push_str(practice_text);
                if let (Some(m), false) = (&self.last_month, practice_text.is_empty()) {
                    self.seen
                        .entry((m.clone(), practice_text.to_string()))
                        .or_insert_with(|| {
                            (
                                cell(c_pname, r).to_string(),
                                cell(c_ics, r).to_string(),
                                cell(c_ics_name, r).to_string(),
                            )
                        });
                }
            }
            let (code, desc, snomed) = (cell(c_bnf, r), cell(c_desc, r), cell(c_snomed, r));
            self.key.clear();
            for (k, part) in [snomed, code, desc].into_iter().enumerate() {
                if k > 0 {
                    self.key.push('\u{1f}');
                }
                self.key.push_str(part);
            }
            // One lookup: resolved the first time the text is seen.
            let outcome = &*self.cache.entry_ref(self.key.as_str()).or_insert_with(|| {
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
            // The row's month, normalised once a run of rows (above).
            let Some(month) = self.last_month.as_deref() else {
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
            let key = sum_key(&mut self.sum_key, month, code);
            // One lookup; the key is copied only when the month's code is new.
            let entry = self.bnf.entry_ref(key).or_insert_with(|| {
                let p = outcome.product.as_deref();
                let class = |v| {
                    p.map(|p| measure_class(p, desc, v))
                        .unwrap_or((false, false))
                };
                let (regular, high) = class(config.version);
                let resolved = outcome.status == Status::Resolved;
                BnfOme {
                    month: month.to_string(),
                    bnf_code: code.to_string(),
                    description: desc.to_string(),
                    status: outcome.status.as_str().to_string(),
                    matched_by: outcome.matched_by.clone(),
                    product_name: p.map(|p| p.name.clone()).unwrap_or_default(),
                    ingredient: p.map(|p| p.ingredient.clone()).unwrap_or_default(),
                    factor: outcome.factor,
                    ome_mg_per_unit: outcome.per_unit,
                    regular: regular && resolved,
                    high_dose: high && resolved,
                    high_dose_120: class(HighDose::Mg120).1 && resolved,
                    high_dose_90: class(HighDose::Mg90).1 && resolved,
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
            let (high_120, high_90) = (entry.high_dose_120, entry.high_dose_90);
            let key = sum_key(&mut self.sum_key, month, practice);
            let m = self.practices.entry_ref(key).or_insert_with(|| {
                new_measures(
                    config,
                    month,
                    practice,
                    cell(c_pname, r),
                    (cell(c_ics, r), cell(c_ics_name, r)),
                )
            });
            m.total_ome_mg += ome;
            m.opioid_items += items;
            if regular {
                m.regular_items += items;
            }
            if high {
                m.high_dose_items += items;
            }
            if high_120 {
                m.high_dose_120 += items;
            }
            if high_90 {
                m.high_dose_90 += items;
            }
        }
    }

    /// The measures, once every file has been read: practices, their ICSs and the BNF codes.
    pub fn finish(self) -> EpdResult {
        let (mut out, mut practices) = (self.out, self.practices);
        // Practices with rows and no opioid item: a true 0 in their months.
        for ((month, practice), (name, ics, ics_name)) in &self.seen {
            practices
                .entry(format!("{month}\u{1f}{practice}"))
                .or_insert_with(|| {
                    new_measures(self.config, month, practice, name, (ics, ics_name))
                });
        }
        // In month and code order, as the tables are written.
        let mut practices: Vec<Measures> = practices.into_values().collect();
        practices.sort_by(|a, b| (&a.month, &a.code).cmp(&(&b.month, &b.code)));
        let mut bnf: Vec<BnfOme> = self.bnf.into_values().collect();
        bnf.sort_by(|a, b| (&a.month, &a.bnf_code).cmp(&(&b.month, &b.bnf_code)));
        out.months = self.month_files.into_iter().collect();
        if let Some(l) = &self.config.list_sizes {
            for (month, _) in &out.months {
                if let Some((_, from)) = l.for_month(month) {
                    if from != Some(month.as_str()) {
                        out.list_size_months
                            .push((month.clone(), from.map(String::from)));
                    }
                }
            }
        }
        out.ics = ics_measures(practices.iter_mut());
        out.practices = practices;
        out.bnf = bnf;
        out
    }
}
