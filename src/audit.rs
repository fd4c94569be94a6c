//! The monthly audit (METHOD.md §5–§8): items to exposure, patients to flags, practices and
//! ICSs to summaries, with every input row accounted for.
//!
//! [`run`] takes extracts already read ([`crate::extract`]) and a validated [`AuditConfig`];
//! it does no I/O. Every distinct date, quantity, product and dose text is parsed once.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{bail, Result};

use crate::cli::ExitError;
use crate::dictionary::Dictionary;
use crate::dose::{DoseParse, DoseStatus};
use crate::extract::ExtractFile;
use crate::factors::FactorSet;
use crate::ome::{missing_factor_reason, unit_ome};
use crate::practices::PracticeInfo;
use crate::product::{Product, StrengthUnit};
use crate::resolve::{ItemText, Resolver, Status};
use crate::summary::{summarise, CohortSummary};
use crate::timeline::{self, ExposureItem, PatientMeasures, TimelineSettings, EPS};
use crate::values::{self, format_day, DateFormat, Day, Quantity};

/// Which of a PRN range to use for days of supply and instructed OME.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PrnPolicy {
    /// The most units a day the directions allow (default).
    Max,
    /// The midpoint of the range.
    Mean,
    /// The fewest units a day, where above zero (else the most).
    Min,
}

impl PrnPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PrnPolicy::Max => "max",
            PrnPolicy::Mean => "mean",
            PrnPolicy::Min => "min",
        }
    }

    /// Units a day from a parse, under this policy.
    pub fn units_per_day(self, d: &DoseParse) -> Option<f64> {
        let (lo, hi) = (d.units_min?, d.units_max?);
        let v = match self {
            PrnPolicy::Max => hi,
            PrnPolicy::Mean => (lo + hi) / 2.0,
            PrnPolicy::Min if lo > EPS => lo,
            PrnPolicy::Min => hi,
        };
        (v > EPS).then_some(v)
    }
}

/// Everything an audit run needs besides the extracts.
#[derive(Debug, Clone)]
pub struct AuditConfig {
    pub as_of: Option<Day>,
    pub timeline: TimelineSettings,
    pub default_days: f64,
    pub prn_policy: PrnPolicy,
    pub factors: FactorSet,
    pub date_format: Option<DateFormat>,
    pub strict: bool,
    pub suppress: bool,
    /// patient id → reason.
    pub excluded_patients: BTreeMap<String, String>,
    pub practices: Option<BTreeMap<String, PracticeInfo>>,
    pub list_sizes: Option<BTreeMap<String, f64>>,
    /// The day of the run: without `--as-of`, issue dates after it are rejected as in the
    /// future (a typo must not become the audit date).
    pub today: Day,
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    pub file: String,
    pub line: u64,
    pub column: String,
    pub value: String,
    pub reason: String,
}

/// An opioid-looking item opal could not convert.
#[derive(Debug, Clone, PartialEq)]
pub struct Unresolved {
    pub file: String,
    pub line: u64,
    pub practice_code: String,
    pub drug_name: String,
    pub dmd_code: String,
    pub bnf_code: String,
    pub reason: String,
}

/// Row accounting: `read = used + not_opioid + excluded + unresolved + rejected + after_as_of`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Accounting {
    pub read: u64,
    pub used: u64,
    pub not_opioid: u64,
    pub excluded: u64,
    pub unresolved: u64,
    pub rejected: u64,
    pub after_as_of: u64,
    /// Excluded items by reason (opioid dependence products).
    pub excluded_by_reason: BTreeMap<String, u64>,
    /// Rejected rows by column.
    pub rejected_by_column: BTreeMap<String, u64>,
    /// BNF codes that had lost their leading zero in a spreadsheet and were read with it.
    pub bnf_leading_zero_restored: u64,
    /// Blank lines (every field empty): not rows, so not in `read`.
    pub blank_lines: u64,
}

impl Accounting {
    pub fn balanced(&self) -> bool {
        self.read
            == self.used
                + self.not_opioid
                + self.excluded
                + self.unresolved
                + self.rejected
                + self.after_as_of
    }
}

/// One opioid item as used, with how each number was chosen.
#[derive(Debug, Clone)]
pub struct Item {
    pub file: u32,
    pub line: u64,
    pub patient: u32,
    pub practice: u32,
    /// The extract's own ics_code (interned; see `AuditResult::ics_codes`).
    pub extract_ics: u32,
    pub issue_day: Day,
    pub product: Arc<Product>,
    pub product_key: u32,
    pub matched_by: &'static str,
    pub factor: f64,
    pub quantity: f64,
    pub dose_text: Arc<str>,
    pub dose_status: DoseStatus,
    pub units_per_day: Option<f64>,
    pub patches_at_once: Option<f64>,
    pub days_supply: f64,
    pub days_supply_source: &'static str,
    pub total_ome_mg: f64,
    pub instructed_ome_mg_day: Option<f64>,
}

/// One current opioid patient at the audit date.
#[derive(Debug, Clone)]
pub struct PatientRow {
    pub patient_id: String,
    pub practice_code: String,
    pub ics_code: String,
    pub measures: PatientMeasures,
    pub dose_band: &'static str,
    pub reasons: String,
    pub current_products: String,
    pub doses_disagree: Option<bool>,
    pub excluded_reason: Option<String>,
}

/// Everything an audit produces.
#[derive(Debug)]
pub struct AuditResult {
    pub as_of: Day,
    pub first_issue_day: Option<Day>,
    pub accounting: Accounting,
    pub items: Vec<Item>,
    pub patient_ids: Vec<String>,
    pub practice_codes: Vec<String>,
    pub patients: Vec<PatientRow>,
    pub practice_summaries: Vec<CohortSummary>,
    pub ics_summaries: Vec<CohortSummary>,
    pub unresolved: Vec<Unresolved>,
    pub rejected: Vec<Rejected>,
    pub date_formats: Vec<String>,
    pub warnings: Vec<String>,
    pub distinct_dose_texts: usize,
    pub distinct_products: usize,
}

#[derive(Debug, Clone)]
struct ProductOutcome {
    status: Status,
    product: Option<Arc<Product>>,
    matched_by: &'static str,
    factor: f64,
    reason: String,
    key: u32,
}

struct Interner {
    ids: Vec<String>,
    index: HashMap<String, u32>,
}

impl Interner {
    fn new() -> Interner {
        Interner {
            ids: Vec::new(),
            index: HashMap::new(),
        }
    }

    fn get(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.ids.len() as u32;
        self.ids.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

fn cell(col: Option<&polars::prelude::StringChunked>, row: usize) -> &str {
    col.and_then(|c| c.get(row)).map(str::trim).unwrap_or("")
}

/// Convert parsed dose units a day into the product's units (tablets, ml, patches...).
fn units_in_product(upd: f64, dose_unit: Option<&str>, p: &Product) -> Option<f64> {
    let mg = |v: f64| match p.strength_unit {
        StrengthUnit::Mg | StrengthUnit::MgPerMl if p.strength > 0.0 => Some(v / p.strength),
        _ => None,
    };
    match dose_unit {
        None => Some(upd),
        Some("mg") => mg(upd),
        Some("microgram") => mg(upd / 1000.0),
        Some("g") => mg(upd * 1000.0),
        Some("ml") => (p.unit == "ml").then_some(upd),
        Some("patch") => (p.unit == "patch").then_some(upd),
        Some(u) => {
            let counted = [
                "tablet",
                "capsule",
                "suppository",
                "sachet",
                "lozenge",
                "film",
            ];
            let doses = ["dose", "spray", "puff"];
            let fits = u == p.unit
                || (counted.contains(&u) && counted.contains(&p.unit.as_str()))
                || (doses.contains(&u) && p.unit == "dose")
                || (u == "ampoule" && ["ampoule", "vial", "syringe"].contains(&p.unit.as_str()));
            fits.then_some(upd)
        }
    }
}

/// Quantity in the product's units: packs expanded, mg on a tablet product converted.
fn quantity_in_product(q: &Quantity, p: &Product) -> f64 {
    match q.unit.as_deref() {
        Some("mg") if p.strength_unit != StrengthUnit::McgPerHour && p.strength > 0.0 => {
            q.amount / p.strength
        }
        Some("microgram") if p.strength_unit != StrengthUnit::McgPerHour && p.strength > 0.0 => {
            q.amount / 1000.0 / p.strength
        }
        _ => q.amount,
    }
}

/// Run the audit over extracts already read.
pub fn run(files: &[ExtractFile], config: &AuditConfig, dict: &Dictionary) -> Result<AuditResult> {
    let resolver = Resolver::new(dict);
    let mut accounting = Accounting::default();
    let mut rejected: Vec<Rejected> = Vec::new();
    let mut unresolved: Vec<Unresolved> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();

    let reject =
        |rejected: &mut Vec<Rejected>, accounting: &mut Accounting, r: Rejected| -> Result<()> {
            if config.strict {
                return Err(ExitError {
                    code: crate::cli::exit::STRICT,
                    message: format!(
                        "{}: line {}: column {}: '{}': {}\nhint: --strict stops at the first \
                     rejected row; without it the row is counted in rejected.csv",
                        r.file, r.line, r.column, r.value, r.reason
                    ),
                }
                .into());
            }
            accounting.rejected += 1;
            *accounting
                .rejected_by_column
                .entry(r.column.clone())
                .or_default() += 1;
            rejected.push(r);
            Ok(())
        };

    // 1. Dates: one layout per file, each distinct value parsed once.
    let mut day_of_row: Vec<Vec<Option<Day>>> = Vec::with_capacity(files.len());
    let mut date_formats = Vec::new();
    for f in files {
        let col = f.column("issue_date");
        let mut distinct: HashMap<&str, Option<Day>> = HashMap::new();
        if let Some(c) = col {
            for v in c.iter().flatten() {
                distinct.entry(v.trim()).or_insert(None);
            }
        }
        let format = match &config.date_format {
            Some(fmt) => fmt.clone(),
            None => values::detect_date_format(distinct.keys().copied())
                .map_err(|e| anyhow::anyhow!("{}: issue_date: {e}", f.path))?,
        };
        date_formats.push(format.0.clone());
        for (k, v) in distinct.iter_mut() {
            *v = values::parse_date_with(k, &format);
        }
        let days: Vec<Option<Day>> = (0..f.rows())
            .map(|r| distinct.get(cell(col, r)).copied().flatten())
            .collect();
        day_of_row.push(days);
    }
    let usable = |d: &&Day| config.as_of.is_some() || **d <= config.today;
    let first_issue_day = day_of_row
        .iter()
        .flatten()
        .flatten()
        .filter(usable)
        .copied()
        .min();
    let latest = day_of_row
        .iter()
        .flatten()
        .flatten()
        .filter(usable)
        .copied()
        .max();
    let as_of = match (config.as_of, latest) {
        (Some(d), _) => d,
        (None, Some(d)) => d,
        (None, None) => {
            let rows: usize = files.iter().map(|f| f.rows()).sum();
            if rows == 0 {
                bail!("the extract has a header but no rows\nhint: check the export finished");
            }
            bail!("no row has a readable issue date, so there is no audit date\nhint: check the issue_date column, or give --as-of");
        }
    };

    // 2. Rows.
    let mut patients = Interner::new();
    let mut practices = Interner::new();
    let mut ics_codes = Interner::new();
    let mut product_keys = Interner::new();
    // Keys are joined into one reused buffer, so a cache hit allocates nothing.
    let mut key_buf = String::new();
    let mut product_cache: HashMap<String, ProductOutcome> = HashMap::new();
    let mut quantity_cache: HashMap<String, Result<Quantity, String>> = HashMap::new();
    let mut dose_cache: HashMap<String, (Arc<str>, DoseParse)> = HashMap::new();
    let mut practice_unresolved: BTreeMap<String, u64> = BTreeMap::new();
    let mut practice_seen: BTreeMap<String, String> = BTreeMap::new();
    let mut items: Vec<Item> = Vec::new();
    for (fi, f) in files.iter().enumerate() {
        let c_patient = f.column("patient_id");
        let c_practice = f.column("practice_code");
        let c_date = f.column("issue_date");
        let c_name = f.column("drug_name");
        let c_dmd = f.column("dmd_code");
        let c_bnf = f.column("bnf_code");
        let c_qty = f.column("quantity");
        let c_qty_unit = f.column("quantity_unit");
        let c_dose = f.column("dose_text");
        let c_days = f.column("days_supply");
        let c_ics = f.column("ics_code");
        for (row, &row_day) in day_of_row[fi].iter().enumerate() {
            accounting.read += 1;
            let line = f.line(row);
            let rej = |column: &str, value: &str, reason: String| Rejected {
                file: f.path.clone(),
                line,
                column: column.to_string(),
                value: value.to_string(),
                reason,
            };
            let patient = cell(c_patient, row);
            let practice = cell(c_practice, row);
            let date_text = cell(c_date, row);
            let (name, dmd, bnf) = (cell(c_name, row), cell(c_dmd, row), cell(c_bnf, row));
            if patient.is_empty()
                && practice.is_empty()
                && date_text.is_empty()
                && name.is_empty()
                && dmd.is_empty()
                && bnf.is_empty()
                && cell(c_qty, row).is_empty()
            {
                // A blank line is not a row.
                accounting.read -= 1;
                accounting.blank_lines += 1;
                continue;
            }
            let missing = [("patient_id", patient), ("practice_code", practice)]
                .into_iter()
                .find(|(_, v)| v.is_empty());
            if let Some((column, _)) = missing {
                let why = format!("{column} is empty");
                reject(&mut rejected, &mut accounting, rej(column, "", why))?;
                continue;
            }
            let Some(day) = row_day else {
                let why = if date_text.is_empty() {
                    "issue_date is empty".to_string()
                } else {
                    format!("not a date in the layout {} of this file", date_formats[fi])
                };
                reject(
                    &mut rejected,
                    &mut accounting,
                    rej("issue_date", date_text, why),
                )?;
                continue;
            };
            if config.as_of.is_none() && day > config.today {
                let why = format!(
                    "issue date is in the future (after today, {})",
                    format_day(config.today)
                );
                reject(
                    &mut rejected,
                    &mut accounting,
                    rej("issue_date", date_text, why),
                )?;
                continue;
            }
            let ics_text = cell(c_ics, row);
            if !practice_seen.contains_key(practice) {
                practice_seen.insert(practice.to_string(), ics_text.to_string());
            }
            if day > as_of {
                accounting.after_as_of += 1;
                continue;
            }
            if name.is_empty() && dmd.is_empty() && bnf.is_empty() {
                let why = "no drug name, dm+d code or BNF code (a short row?)".to_string();
                reject(&mut rejected, &mut accounting, rej("drug_name", "", why))?;
                continue;
            }
            let repaired = crate::resolve::repair_bnf(bnf);
            if repaired.is_some() {
                accounting.bnf_leading_zero_restored += 1;
            }
            let bnf = repaired.as_deref().unwrap_or(bnf);
            key_buf.clear();
            for (k, part) in [dmd, bnf, name].iter().enumerate() {
                if k > 0 {
                    key_buf.push('\u{1f}');
                }
                key_buf.push_str(part);
            }
            let outcome = match product_cache.get(key_buf.as_str()) {
                Some(o) => o.clone(),
                None => {
                    let r = resolver.resolve(ItemText {
                        dmd_code: dmd,
                        bnf_code: bnf,
                        name,
                    });
                    let mut o = ProductOutcome {
                        status: r.status,
                        matched_by: r.matched_by.map_or("", |m| m.as_str()),
                        factor: 0.0,
                        reason: r.reason.clone().unwrap_or_default(),
                        key: 0,
                        product: r.product.clone(),
                    };
                    if let Some(p) = &r.product {
                        o.key = product_keys.get(&p.product_key);
                        match unit_ome(p, &config.factors) {
                            Some(u) => o.factor = u.factor.factor,
                            None if o.status == Status::Resolved => {
                                o.status = Status::Unresolved;
                                o.reason = missing_factor_reason(p, &config.factors);
                            }
                            None => {}
                        }
                    }
                    product_cache.insert(key_buf.clone(), o.clone());
                    o
                }
            };
            match outcome.status {
                Status::NotOpioid => {
                    accounting.not_opioid += 1;
                    continue;
                }
                Status::Excluded => {
                    accounting.excluded += 1;
                    *accounting
                        .excluded_by_reason
                        .entry(outcome.reason.clone())
                        .or_default() += 1;
                    continue;
                }
                Status::Unresolved => {
                    accounting.unresolved += 1;
                    *practice_unresolved.entry(practice.to_string()).or_default() += 1;
                    unresolved.push(Unresolved {
                        file: f.path.clone(),
                        line,
                        practice_code: practice.to_string(),
                        drug_name: name.to_string(),
                        dmd_code: dmd.to_string(),
                        bnf_code: bnf.to_string(),
                        reason: outcome.reason.clone(),
                    });
                    continue;
                }
                Status::Resolved => {}
            }
            let Some(product) = outcome.product.clone() else {
                // Resolved always carries a product; were it ever not so, the row is still
                // counted, never dropped.
                accounting.unresolved += 1;
                unresolved.push(Unresolved {
                    file: f.path.clone(),
                    line,
                    practice_code: practice.to_string(),
                    drug_name: name.to_string(),
                    dmd_code: dmd.to_string(),
                    bnf_code: bnf.to_string(),
                    reason: "resolved without a product (a bug in opal: please report it)".into(),
                });
                continue;
            };
            let (qty_text, qty_unit) = (cell(c_qty, row), cell(c_qty_unit, row));
            key_buf.clear();
            key_buf.push_str(qty_text);
            key_buf.push('\u{1f}');
            key_buf.push_str(qty_unit);
            let q = match quantity_cache.get(key_buf.as_str()) {
                Some(q) => q.clone(),
                None => {
                    let q = values::parse_quantity(qty_text, qty_unit);
                    quantity_cache.insert(key_buf.clone(), q.clone());
                    q
                }
            };
            let q = match q {
                Ok(q) => q,
                Err(why) => {
                    reject(
                        &mut rejected,
                        &mut accounting,
                        rej("quantity", qty_text, why),
                    )?;
                    continue;
                }
            };
            let days_text = cell(c_days, row);
            let explicit_days = match values::parse_days(days_text) {
                Ok(d) => d,
                Err(why) => {
                    reject(
                        &mut rejected,
                        &mut accounting,
                        rej("days_supply", days_text, why),
                    )?;
                    continue;
                }
            };
            let dose_text = cell(c_dose, row);
            if !dose_cache.contains_key(dose_text) {
                dose_cache.insert(
                    dose_text.to_string(),
                    (Arc::from(dose_text), crate::dose::parse(dose_text)),
                );
            }
            let (dose_arc, dose) = dose_cache[dose_text].clone();
            let item = build_item(&product, &q, explicit_days, &dose, config, outcome.factor);
            accounting.used += 1;
            items.push(Item {
                file: fi as u32,
                line,
                patient: patients.get(patient),
                practice: practices.get(practice),
                extract_ics: ics_codes.get(ics_text),
                issue_day: day,
                product,
                product_key: outcome.key,
                matched_by: outcome.matched_by,
                factor: outcome.factor,
                quantity: item.0,
                dose_text: dose_arc,
                dose_status: dose.status,
                units_per_day: item.1,
                patches_at_once: item.2,
                days_supply: item.3,
                days_supply_source: item.4,
                total_ome_mg: item.5,
                instructed_ome_mg_day: item.6,
            });
        }
    }

    // 3. Patients: one pass over items grouped by patient.
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_by_key(|&i| {
        (
            items[i].patient,
            items[i].issue_day,
            items[i].file,
            items[i].line,
        )
    });
    let mut patient_rows: Vec<PatientRow> = Vec::new();
    let ics_of = |practice: &str, extract_ics: &str| -> String {
        if let Some(map) = &config.practices {
            if let Some(info) = map.get(practice) {
                if !info.ics_code.is_empty() {
                    return info.ics_code.clone();
                }
            }
        }
        if !extract_ics.is_empty() {
            return extract_ics.to_string();
        }
        "UNKNOWN".to_string()
    };
    let first_day = first_issue_day.unwrap_or(as_of);
    let mut start = 0;
    let mut exposure: Vec<ExposureItem> = Vec::new();
    while start < order.len() {
        let patient = items[order[start]].patient;
        let mut end = start;
        while end < order.len() && items[order[end]].patient == patient {
            end += 1;
        }
        let group = &order[start..end];
        start = end;
        exposure.clear();
        exposure.extend(group.iter().map(|&i| {
            let it = &items[i];
            ExposureItem {
                product: it.product_key,
                issue_day: it.issue_day,
                days_supply: it.days_supply,
                total_ome_mg: it.total_ome_mg,
                instructed_ome_mg_day: it.instructed_ome_mg_day,
            }
        }));
        let m = timeline::measure(&exposure, as_of, first_day, &config.timeline);
        if !m.current {
            continue;
        }
        let latest = &items[*group.last().unwrap_or(&group[0])];
        let practice_code = practices.ids[latest.practice as usize].clone();
        let ics_code = ics_of(&practice_code, &ics_codes.ids[latest.extract_ics as usize]);
        let patient_id = patients.ids[patient as usize].clone();
        let mut names: Vec<String> = Vec::new();
        for key in &m.window_products {
            if let Some(&i) = group.iter().rev().find(|&&i| items[i].product_key == *key) {
                let n = items[i].product.name.clone();
                if !names.contains(&n) {
                    names.push(n);
                }
            }
        }
        names.sort();
        let band = timeline::dose_band(m.ome_mg_day);
        let disagree = timeline::doses_disagree(m.ome_mg_day, m.instructed_ome_mg_day);
        let mut reasons = Vec::new();
        if m.high_dose {
            reasons.push(format!(
                "high dose: {} mg OME/day (above {})",
                round1(m.ome_mg_day),
                crate::output::fmt_num(config.timeline.threshold_mg_day)
            ));
        }
        if m.long_term {
            reasons.push(format!(
                "long-term: {} days on opioids (more than {}{})",
                m.duration_days.unwrap_or(0),
                config.timeline.long_term_days,
                if m.duration_censored {
                    "; began before the data"
                } else {
                    ""
                }
            ));
        }
        if disagree == Some(true) && (m.high_dose || m.long_term) {
            reasons.push("instructed and supplied doses disagree".into());
        }
        patient_rows.push(PatientRow {
            excluded_reason: config.excluded_patients.get(&patient_id).cloned(),
            patient_id,
            practice_code,
            ics_code,
            dose_band: band,
            reasons: reasons.join("; "),
            current_products: names.join("; "),
            doses_disagree: disagree,
            measures: m,
        });
    }

    // 4. Summaries.
    let mut practice_ics: BTreeMap<String, String> = BTreeMap::new();
    for (p, extract_ics) in &practice_seen {
        practice_ics.insert(p.clone(), ics_of(p, extract_ics));
    }
    let unknown: Vec<&String> = practice_ics
        .iter()
        .filter(|(_, ics)| *ics == "UNKNOWN")
        .map(|(p, _)| p)
        .collect();
    if accounting.bnf_leading_zero_restored > 0 {
        warnings.push(format!(
            "{} BNF codes had 14 characters (a leading zero lost in a spreadsheet) and were read \
             with the zero restored\nhint: export code columns as text",
            accounting.bnf_leading_zero_restored
        ));
    }
    if !unknown.is_empty() {
        warnings.push(format!(
            "{} practice(s) have no ICS ({}): they are summarised under UNKNOWN\nhint: give \
             --practices with a practice_code,ics_code mapping, epraccur.csv or \
             gp-reg-pat-prac-map.csv",
            unknown.len(),
            unknown
                .iter()
                .take(5)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (practice_summaries, ics_summaries) =
        summarise(&patient_rows, &practice_ics, &practice_unresolved, config);

    Ok(AuditResult {
        as_of,
        first_issue_day,
        accounting,
        items,
        patient_ids: patients.ids,
        practice_codes: practices.ids,
        patients: patient_rows,
        practice_summaries,
        ics_summaries,
        unresolved,
        rejected,
        date_formats,
        warnings,
        distinct_dose_texts: dose_cache.len(),
        distinct_products: product_cache.len(),
    })
}

fn round1(v: f64) -> String {
    crate::output::fmt_num((v * 10.0).round() / 10.0)
}

/// (quantity in product units, units/day, patches at once, days supply, source, total OME,
/// instructed OME/day)
type Built = (
    f64,
    Option<f64>,
    Option<f64>,
    f64,
    &'static str,
    f64,
    Option<f64>,
);

/// METHOD.md §5 for one item.
fn build_item(
    p: &Product,
    q: &Quantity,
    explicit_days: Option<f64>,
    dose: &DoseParse,
    config: &AuditConfig,
    factor: f64,
) -> Built {
    let quantity = quantity_in_product(q, p);
    let upd = config
        .prn_policy
        .units_per_day(dose)
        .and_then(|v| units_in_product(v, dose.unit.as_deref(), p));
    if let Some(rate) = p.patch_rate_mcg_per_hour {
        let wear = p.patch_wear_days.unwrap_or(3.0);
        let at_once = match dose.unit.as_deref() {
            None | Some("patch") => dose.dose_max.filter(|d| *d >= 1.0),
            _ => None,
        }
        .unwrap_or(1.0);
        let per_day = at_once * crate::ome::patch_ome_mg_day(rate, factor);
        let (days, source) = match (explicit_days, upd) {
            (Some(d), _) => (d, "explicit"),
            (None, Some(u)) => (quantity / u, "dose"),
            (None, None) => (quantity * wear / at_once, "patch_wear"),
        };
        let instructed =
            matches!(dose.status, DoseStatus::Parsed | DoseStatus::Partial).then_some(per_day);
        return (
            quantity,
            upd,
            Some(at_once),
            days,
            source,
            per_day * days,
            instructed,
        );
    }
    let (days, source) = match (explicit_days, upd) {
        (Some(d), _) => (d, "explicit"),
        (None, Some(u)) => (quantity / u, "dose"),
        (None, None) => (config.default_days, "default"),
    };
    let total = quantity * p.strength * factor;
    let instructed = upd.map(|u| u * p.strength * factor);
    (quantity, upd, None, days, source, total, instructed)
}

/// ISO date text, for outputs.
pub fn day_text(d: Day) -> String {
    format_day(d)
}
