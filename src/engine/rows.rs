//! The rows of extract chunks, in file order: *who* (patient, practice and ICS, interned) and
//! *what* (date, product, quantity, days and dose text, each distinct value parsed once) on
//! two threads, then the core's row checks ([`crate::checks::check_row`]) in row order, and
//! each opioid item kept as a compact [`Item`].

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use polars::prelude::PlHashMap;

use super::intern::Interner;
use super::{
    corrupt_text, invisible_id, looks_like_nhs_number, Accounting, AuditConfig, AuditResult,
    DoseUse, Item, ItemBatch, ProductUse, Rejected, Unresolved,
};
use crate::checks::{
    check_row, Column, IdCell, ProductFacts, Rejection, RowFacts, RowOutcome, RowSettings,
};
use crate::dictionary::Dictionary;
use crate::error::ExitError;
use crate::ome::{missing_factor_reason, unit_ome};
use crate::read::extract::{Chunk, Field};
use crate::resolve::{ItemText, Resolver, Status};
use crate::values::{self, DateFormat, Day, Quantity};

#[derive(Debug, Clone)]
struct ProductOutcome {
    status: Status,
    /// Index into the products used, when resolved.
    used: u32,
    reason: String,
    /// The name or a code has a NUL byte or a byte-order mark ([`corrupt_text`]).
    corrupt: Option<&'static str>,
    /// A non-opioid that is a CNS depressant: its index in [`crate::cns::list`], plus one.
    cns: u8,
}

fn cell<'c>(col: Option<Field<'c>>, row: usize) -> &'c str {
    col.map_or("", |c| trim(c.get(row)))
}

/// [`str::trim`], without its look at every end character when neither end is whitespace (an
/// ASCII character above the space never is).
fn trim(s: &str) -> &str {
    let bare = |b: &u8| (b'!'..0x80).contains(b);
    match s.as_bytes() {
        [] => s,
        [first, .., last] if bare(first) && bare(last) => s,
        [only] if bare(only) => s,
        _ => s.trim(),
    }
}

/// The value of the row before, kept so that a run of rows with the same text (a patient's
/// items, one after another in most extracts) is looked up once.
struct Last<K, V> {
    last: Option<(K, V)>,
}

impl<K: PartialEq + Copy, V: Copy> Last<K, V> {
    fn new() -> Self {
        Last { last: None }
    }

    /// The value of `key`: the last one's when it is the same, else `look_up`'s.
    fn get(&mut self, key: K, look_up: impl FnOnce() -> V) -> V {
        match self.last {
            Some((k, v)) if k == key => v,
            _ => {
                let v = look_up();
                self.last = Some((key, v));
                v
            }
        }
    }
}

/// A timestamp with a zone (`2024-07-01T23:00:00.0000000Z`, `2024-07-01T23:00:00+00:00`, as
/// GP Connect gives them) as the date it was in England: Europe/London, through jiff's
/// bundled tz database (issue 25.5). In British Summer Time 23:00 UTC is the next day.
/// `None` for anything else: a date, or a date-time with no zone (taken as local, its date
/// part, by the file's layout).
pub fn london_day(text: &str) -> Option<Day> {
    let b = text.as_bytes();
    let zoned = b.last().is_some_and(|c| matches!(c, b'Z' | b'z'))
        || (b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':');
    if !zoned || !text.contains(['T', 't', ' ']) {
        return None;
    }
    let ts: jiff::Timestamp = text.replace(' ', "T").parse().ok()?;
    let london = jiff::tz::TimeZone::get("Europe/London").ok()?;
    let date = ts.to_zoned_datetime(london).date();
    values::days_from_civil(
        i32::from(date.year()),
        u32::try_from(date.month()).ok()?,
        u32::try_from(date.day()).ok()?,
    )
}

/// A system's "no date" in a year no layout reads (`0001-01-01`) as the placeholder day, so
/// that the checks reject its row as no date (core `checks::check_row`).
fn placeholder(text: &str) -> Option<Day> {
    values::is_placeholder_date_text(text).then_some(values::PLACEHOLDER_DAY)
}

struct FileDates {
    format: Option<DateFormat>,
    /// Distinct issue_date texts → day; `None` until the layout is known.
    days: PlHashMap<String, Option<Day>>,
}

impl FileDates {
    fn set_format(&mut self, format: DateFormat) {
        for (k, v) in self.days.iter_mut() {
            *v = london_day(k)
                .or_else(|| values::parse_date_with(k, &format))
                .or_else(|| placeholder(k));
        }
        self.format = Some(format);
    }
}

struct FileState {
    path: String,
    columns: BTreeMap<String, String>,
    /// Where a row's practice comes from when the file has no practice column.
    practice: PracticeSource,
    /// `--code-map`, for the file's source_code column.
    code_map: Option<std::sync::Arc<crate::read::extract::CodeMap>>,
    /// `--dosages`, for the file's dosage_id column.
    dosages: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
    dates: FileDates,
    /// Chunks read before the date layout was settled (the first dates were all ambiguous).
    pending: Vec<Chunk>,
}

/// The audit of extracts read in chunks (METHOD.md §5–§8): rows go in a chunk at a time, and
/// only the compact [`Item`]s of opioid rows are kept, so memory grows with the opioid items,
/// not with the text of the extract. Every distinct date, quantity, product and dose text is
/// parsed once.
///
/// Each chunk is worked in two halves at once, on two threads: [`Who`] interns the patient,
/// practice and ICS of every row, [`What`] looks up its date, product, quantity, days and dose
/// text; then one pass in row order applies METHOD.md's order of checks to the ids and counts
/// every row.
pub struct Auditor<'a> {
    config: &'a AuditConfig,
    accounting: Accounting,
    rejected: Vec<Rejected>,
    unresolved: Vec<Unresolved>,
    warnings: Vec<String>,
    files: Vec<FileState>,
    who: Who,
    what: What<'a>,
    /// Per practice id: the extract's ics_code (interned) on its first dated row.
    practice_ics_seen: Vec<Option<u32>>,
    /// Per patient id: the latest day of any dated row up to the audit date, opioid or not
    /// (the follow-up's "no longer in the extract").
    patient_last_day: Vec<Day>,
    /// Per practice id: the same.
    practice_last_day: Vec<Day>,
    /// CNS depressants issued (patient, day, index into [`crate::cns::list`]).
    cns_items: Vec<(u32, Day, u8)>,
    /// Per practice id: unresolved opioid items.
    practice_unresolved: Vec<u64>,
    /// Items whose duration cell said 0, read as not stated (METHOD.md §5).
    days_zero_not_stated: u64,
    items: Vec<Item>,
    first_day: Option<Day>,
    latest_day: Option<Day>,
    /// How much of items, patients, practices, products and doses went out in batches.
    sent: [usize; 5],
}

/// No id: the cell was empty (or, for a product, there was no name or code at all).
const NONE: u32 = u32::MAX;

/// Where a row's practice comes from.
#[derive(Debug, Clone, Default)]
pub enum PracticeSource {
    /// The file's practice column.
    #[default]
    Column,
    /// `--practice-code`: every row's, the file having no practice column.
    Fixed(String),
    /// `--patient-practices`: each patient's.
    ByPatient(std::sync::Arc<std::collections::HashMap<String, String>>),
}

/// The practice of a patient missing from `--patient-practices`: not a code (it has a control
/// character), so its rows are rejected with their reason.
const NOT_LISTED: &str = "\u{1}not in --patient-practices";
/// No day: the date was empty or not a date in the file's layout.
const NO_DAY: Day = Day::MIN;

/// Who a row is about: patient, practice and ICS, interned, for one chunk at a time.
#[derive(Default)]
struct Who {
    patients: Interner,
    practices: Interner,
    ics_codes: Interner,
    /// Per patient id and practice id: why it cannot be used ([`corrupt_text`], an NHS
    /// number in the practice column), worked out once when the id is first seen.
    bad_patient: Vec<Option<&'static str>>,
    bad_practice: Vec<Option<&'static str>>,
    /// Per ICS id: an NHS number in the extract's ics_code column.
    bad_ics: Vec<Option<&'static str>>,
    /// Per row of the chunk being worked.
    patient: Vec<u32>,
    practice: Vec<u32>,
    ics: Vec<u32>,
}

impl Who {
    fn chunk(&mut self, c: &Columns) {
        self.patient.clear();
        self.practice.clear();
        self.ics.clear();
        let id = |interner: &mut Interner, v: &str| {
            if v.is_empty() {
                NONE
            } else {
                interner.get(v)
            }
        };
        let (mut last_patient, mut last_practice, mut last_ics) =
            (Last::new(), Last::new(), Last::new());
        for row in 0..c.rows {
            let p = last_patient.get(cell(c.patient, row), || {
                let p = id(&mut self.patients, cell(c.patient, row));
                if p != NONE && p as usize == self.bad_patient.len() {
                    self.bad_patient
                        .push(invisible_id(&self.patients.ids[p as usize]));
                }
                p
            });
            self.patient.push(p);
            let p = last_practice.get(c.practice_of(row), || {
                let p = id(&mut self.practices, c.practice_of(row));
                if p != NONE && p as usize == self.bad_practice.len() {
                    let code = &self.practices.ids[p as usize];
                    self.bad_practice.push(if code == NOT_LISTED {
                        Some("the patient is not in --patient-practices, so has no practice")
                    } else {
                        invisible_id(code).or_else(|| {
                            looks_like_nhs_number(code).then_some(
                                "practice_code looks like an NHS number (a shifted row?)",
                            )
                        })
                    });
                }
                p
            });
            self.practice.push(p);
            // The extract's ics_code may be empty: "" is a value here, not NONE.
            let ics = last_ics.get(cell(c.ics, row), || {
                let i = self.ics_codes.get(cell(c.ics, row));
                if i as usize == self.bad_ics.len() {
                    let code = &self.ics_codes.ids[i as usize];
                    self.bad_ics.push(
                        looks_like_nhs_number(code)
                            .then_some("ics_code looks like an NHS number (a shifted row?)"),
                    );
                }
                i
            });
            self.ics.push(ics);
        }
    }
}

/// Bits of [`What::flags`].
const WHAT_EMPTY: u8 = 1; // drug name, dm+d, BNF and quantity all empty
const BNF_REPAIRED: u8 = 2;
const DATE_EMPTY: u8 = 4;
const CODE_UNMAPPED: u8 = 8; // the source_code is not in --code-map

/// What a row is: date, product, quantity, days and dose text, each distinct value parsed once.
struct What<'a> {
    config: &'a AuditConfig,
    resolver: Resolver<'a>,
    key_buf: String,
    product_keys: Interner,
    product_cache: PlHashMap<String, u32>,
    outcomes: Vec<ProductOutcome>,
    /// The distinct values of the dm+d code column, and how many are shaped as dm+d ids
    /// (core `checks::looks_like_dmd_id`): a column of another system's codes is said.
    dmd_seen: std::collections::HashSet<String>,
    dmd_like: u64,
    products: Vec<ProductUse>,
    quantity_cache: PlHashMap<String, u32>,
    quantities: Vec<Result<Quantity, String>>,
    days_cache: PlHashMap<String, u32>,
    days: Vec<Result<Option<f64>, String>>,
    dose_cache: PlHashMap<String, u32>,
    doses: Vec<DoseUse>,
    /// Per row of the chunk being worked.
    day: Vec<Day>,
    outcome: Vec<u32>,
    quantity: Vec<u32>,
    days_supply: Vec<u32>,
    dose: Vec<u32>,
    flags: Vec<u8>,
}

/// The canonical columns of one chunk.
struct Columns<'c> {
    rows: usize,
    patient: Option<Field<'c>>,
    practice: Option<Field<'c>>,
    date: Option<Field<'c>>,
    name: Option<Field<'c>>,
    dmd: Option<Field<'c>>,
    bnf: Option<Field<'c>>,
    qty: Option<Field<'c>>,
    qty_unit: Option<Field<'c>>,
    dose: Option<Field<'c>>,
    days: Option<Field<'c>>,
    ics: Option<Field<'c>>,
    /// Where the practice comes from when the file has no practice column.
    practice_source: &'c PracticeSource,
    /// Another system's product code, and `--code-map` to read it.
    source: Option<Field<'c>>,
    code_map: Option<&'c crate::read::extract::CodeMap>,
    /// A dosage's code, and `--dosages` to read it.
    dosage: Option<Field<'c>>,
    dosages: Option<&'c std::collections::HashMap<String, String>>,
}

impl<'c> Columns<'c> {
    /// The column a row can be rejected on.
    fn column(&self, column: Column) -> Option<Field<'c>> {
        match column {
            Column::PatientId => self.patient,
            Column::PracticeCode => self.practice,
            Column::IcsCode => self.ics,
            Column::IssueDate => self.date,
            Column::DrugName => self.name,
            Column::Quantity => self.qty,
            Column::DaysSupply => self.days,
            Column::DoseText => self.dose,
        }
    }

    fn of(
        chunk: &'c Chunk,
        columns: &BTreeMap<String, String>,
        practice_source: &'c PracticeSource,
        code_map: Option<&'c crate::read::extract::CodeMap>,
        dosages: Option<&'c std::collections::HashMap<String, String>>,
    ) -> Columns<'c> {
        let col = |c: &str| chunk.column(columns.get(c));
        Columns {
            rows: chunk.rows(),
            patient: col("patient_id"),
            practice: col("practice_code"),
            date: col("issue_date"),
            name: col("drug_name"),
            dmd: col("dmd_code"),
            bnf: col("bnf_code"),
            qty: col("quantity"),
            qty_unit: col("quantity_unit"),
            dose: col("dose_text"),
            days: col("days_supply"),
            ics: col("ics_code"),
            practice_source,
            source: col("source_code"),
            code_map,
            dosage: col("dosage_id"),
            dosages,
        }
    }

    /// A row's directions: its dose text, or where it has none and the file has a dosage_id
    /// read through `--dosages`, the directions of its code.
    fn dose_of(&self, row: usize) -> &'c str {
        let text = cell(self.dose, row);
        match (text, self.dosages) {
            ("", Some(map)) => map.get(cell(self.dosage, row)).map_or("", String::as_str),
            _ => text,
        }
    }

    /// A row's dm+d code and name: its own cells; where both are empty and the file has a
    /// source_code column read through `--code-map`, what the map gives its code (`None` for
    /// a code the map does not have).
    fn product_of(&self, row: usize, dmd: &'c str, name: &'c str) -> Option<(&'c str, &'c str)> {
        match (self.code_map, self.source) {
            (Some(map), Some(_)) if dmd.is_empty() && name.is_empty() => {
                let code = values::excel_guard(cell(self.source, row));
                if code.is_empty() {
                    return Some((dmd, name));
                }
                map.get(code).map(|(d, n)| (d.as_str(), n.as_str()))
            }
            _ => Some((dmd, name)),
        }
    }

    /// A row's practice: its cell; for a file without the column, `--practice-code`, or the
    /// patient's in `--patient-practices` ([`NOT_LISTED`] when the patient is not there).
    fn practice_of(&self, row: usize) -> &'c str {
        match (self.practice, self.practice_source) {
            (None, PracticeSource::Fixed(code)) => code,
            (None, PracticeSource::ByPatient(map)) => map
                .get(cell(self.patient, row))
                .map_or(NOT_LISTED, String::as_str),
            (col, _) => cell(col, row),
        }
    }
}

/// `--strict` stops at the first rejected row.
fn strict_error(path: &str, line: u64, r: &Rejection, value: &str) -> anyhow::Error {
    let value = if r.show_value { value } else { "" };
    ExitError {
        code: crate::error::exit::STRICT,
        message: format!(
            "{path}: line {line}: column {}: '{value}': {}\nhint: --strict stops at the first \
             rejected row; without it the row is counted in rejected.csv",
            r.column.as_str(),
            r.reason
        ),
    }
    .into()
}

/// Intern `text` through `cache` into `values`, computing it once with `make`.
fn cached<T>(
    cache: &mut PlHashMap<String, u32>,
    values: &mut Vec<T>,
    text: &str,
    make: impl FnOnce(&str) -> T,
) -> u32 {
    if let Some(&i) = cache.get(text) {
        return i;
    }
    let i = values.len() as u32;
    values.push(make(text));
    cache.insert(text.to_string(), i);
    i
}

impl<'a> What<'a> {
    fn new(config: &'a AuditConfig, dict: &'a Dictionary) -> What<'a> {
        What {
            config,
            resolver: Resolver::new(dict).include_dependence(config.include_dependence),
            key_buf: String::new(),
            product_keys: Interner::default(),
            product_cache: PlHashMap::default(),
            outcomes: Vec::new(),
            dmd_seen: Default::default(),
            dmd_like: 0,
            products: Vec::new(),
            quantity_cache: PlHashMap::default(),
            quantities: Vec::new(),
            days_cache: PlHashMap::default(),
            days: Vec::new(),
            dose_cache: PlHashMap::default(),
            doses: Vec::new(),
            day: Vec::new(),
            outcome: Vec::new(),
            quantity: Vec::new(),
            days_supply: Vec::new(),
            dose: Vec::new(),
            flags: Vec::new(),
        }
    }

    fn chunk(&mut self, c: &Columns, dates: &PlHashMap<String, Option<Day>>) {
        self.day.clear();
        self.outcome.clear();
        self.quantity.clear();
        self.days_supply.clear();
        self.dose.clear();
        self.flags.clear();
        let (mut last_day, mut last_product, mut last_quantity, mut last_days, mut last_dose) = (
            Last::new(),
            Last::new(),
            Last::new(),
            Last::new(),
            Last::new(),
        );
        for row in 0..c.rows {
            let date_text = cell(c.date, row);
            let day = last_day.get(date_text, || {
                dates.get(date_text).copied().flatten().unwrap_or(NO_DAY)
            });
            self.day.push(day);
            // Codes and quantities without a spreadsheet's text guard ('123, ="123").
            let guard = values::excel_guard;
            let (name, dmd, bnf) = (
                cell(c.name, row),
                guard(cell(c.dmd, row)),
                guard(cell(c.bnf, row)),
            );
            let (dmd, name, unmapped) = match c.product_of(row, dmd, name) {
                Some((d, n)) => (d, n, false),
                None => ("", "", true),
            };
            let (qty_text, qty_unit) = (guard(cell(c.qty, row)), cell(c.qty_unit, row));
            let mut flags = 0;
            if date_text.is_empty() {
                flags |= DATE_EMPTY;
            }
            if name.is_empty()
                && dmd.is_empty()
                && bnf.is_empty()
                && qty_text.is_empty()
                && !unmapped
            {
                flags |= WHAT_EMPTY;
            }
            if unmapped {
                flags |= CODE_UNMAPPED;
            }
            let (outcome, repaired) = last_product.get((name, dmd, bnf), || {
                if name.is_empty() && dmd.is_empty() && bnf.is_empty() {
                    return (NONE, false);
                }
                let repaired = crate::resolve::repair_bnf(bnf);
                let outcome = self.outcome(dmd, repaired.as_deref().unwrap_or(bnf), name);
                (outcome, repaired.is_some())
            });
            if repaired {
                flags |= BNF_REPAIRED;
            }
            self.outcome.push(outcome);
            self.flags.push(flags);
            let q = last_quantity.get((qty_text, qty_unit), || {
                self.key_buf.clear();
                self.key_buf.push_str(qty_text);
                self.key_buf.push('\u{1f}');
                self.key_buf.push_str(qty_unit);
                cached(
                    &mut self.quantity_cache,
                    &mut self.quantities,
                    &self.key_buf,
                    |_| values::parse_quantity(qty_text, qty_unit),
                )
            });
            self.quantity.push(q);
            let days_text = cell(c.days, row);
            let d = last_days.get(days_text, || {
                cached(
                    &mut self.days_cache,
                    &mut self.days,
                    days_text,
                    values::parse_days,
                )
            });
            self.days_supply.push(d);
            let dose_text = c.dose_of(row);
            let d = last_dose.get(dose_text, || {
                cached(&mut self.dose_cache, &mut self.doses, dose_text, |t| {
                    DoseUse {
                        text: t.to_string(),
                        parse: crate::dose::parse(t),
                        corrupt: corrupt_text(t),
                    }
                })
            });
            self.dose.push(d);
        }
    }

    /// The product a row names, resolved once per distinct (dm+d, BNF, name).
    fn outcome(&mut self, dmd: &str, bnf: &str, name: &str) -> u32 {
        self.key_buf.clear();
        for (k, part) in [dmd, bnf, name].iter().enumerate() {
            if k > 0 {
                self.key_buf.push('\u{1f}');
            }
            self.key_buf.push_str(part);
        }
        if let Some(&i) = self.product_cache.get(self.key_buf.as_str()) {
            return i;
        }
        let code = dmd.trim();
        if !code.is_empty() && !self.dmd_seen.contains(code) {
            self.dmd_like += u64::from(crate::checks::looks_like_dmd_id(code));
            self.dmd_seen.insert(code.to_string());
        }
        let r = self.resolver.resolve(ItemText {
            dmd_code: dmd,
            bnf_code: bnf,
            name,
        });
        let mut o = ProductOutcome {
            status: r.status,
            used: NONE,
            reason: r.reason.clone().unwrap_or_default(),
            corrupt: [dmd, bnf, name].into_iter().find_map(corrupt_text),
            cns: 0,
        };
        if o.status == Status::NotOpioid {
            o.cns = crate::cns::classify(name, bnf).map_or(0, |i| i as u8 + 1);
        }
        if let Some(p) = &r.product {
            let mut factor = 0.0;
            match unit_ome(p, &self.config.factors) {
                Some(u) => factor = u.factor.factor,
                None if o.status == Status::Resolved => {
                    o.status = Status::Unresolved;
                    o.reason = missing_factor_reason(p, &self.config.factors);
                }
                None => {}
            }
            if o.status == Status::Resolved {
                o.used = self.products.len() as u32;
                self.products.push(ProductUse {
                    key: self.product_keys.get(&p.product_key),
                    switch_group: crate::trajectory::switch_group(p),
                    product: p.clone(),
                    matched_by: r.matched_by.map_or("", |m| m.as_str()),
                    factor,
                });
            }
        } else if o.status == Status::Resolved {
            // Resolved always carries a product; were it ever not so, the row is still
            // counted, never dropped.
            o.status = Status::Unresolved;
            o.reason = "resolved without a product (a bug in opal: please report it)".into();
        }
        let i = self.outcomes.len() as u32;
        self.outcomes.push(o);
        self.product_cache.insert(self.key_buf.clone(), i);
        i
    }
}

impl<'a> Auditor<'a> {
    pub fn new(config: &'a AuditConfig, dict: &'a Dictionary) -> Auditor<'a> {
        Auditor {
            config,
            accounting: Accounting::default(),
            rejected: Vec::new(),
            unresolved: Vec::new(),
            warnings: Vec::new(),
            files: Vec::new(),
            who: Who::default(),
            what: What::new(config, dict),
            practice_ics_seen: Vec::new(),
            patient_last_day: Vec::new(),
            practice_last_day: Vec::new(),
            cns_items: Vec::new(),
            practice_unresolved: Vec::new(),
            days_zero_not_stated: 0,
            items: Vec::new(),
            first_day: None,
            latest_day: None,
            sent: [0; 5],
        }
    }

    /// What is new since the last batch, for items.csv as it is written
    /// (items.csv, written meanwhile).
    pub fn batch(&mut self) -> ItemBatch {
        let [i, p, pr, prod, d] = self.sent;
        let b = ItemBatch {
            items: self.items[i..].to_vec(),
            patients: self.who.patients.ids[p..].to_vec(),
            practices: self.who.practices.ids[pr..].to_vec(),
            products: self.what.products[prod..].to_vec(),
            doses: self.what.doses[d..].to_vec(),
        };
        self.sent = [
            self.items.len(),
            self.who.patients.ids.len(),
            self.who.practices.ids.len(),
            self.what.products.len(),
            self.what.doses.len(),
        ];
        b
    }

    /// Start a file; its chunks are then given with [`Auditor::add_chunk`] and it is ended
    /// with [`Auditor::end_file`]. Returns the file's index.
    pub fn begin_file(
        &mut self,
        path: &str,
        columns: &BTreeMap<String, String>,
        practice: PracticeSource,
        code_map: Option<std::sync::Arc<crate::read::extract::CodeMap>>,
        dosages: Option<std::sync::Arc<std::collections::HashMap<String, String>>>,
    ) -> usize {
        self.files.push(FileState {
            path: path.to_string(),
            columns: columns.clone(),
            practice,
            code_map,
            dosages,
            dates: FileDates {
                format: self.config.date_format.clone(),
                days: PlHashMap::default(),
            },
            pending: Vec::new(),
        });
        self.files.len() - 1
    }

    /// One chunk of a file's rows, in file order.
    pub fn add_chunk(&mut self, file: usize, chunk: Chunk) -> Result<()> {
        let st = &mut self.files[file];
        let format = st.dates.format.clone();
        if let Some(c) = chunk.column(st.columns.get("issue_date")) {
            let mut last = "";
            for row in 0..chunk.rows() {
                let v = trim(c.get(row));
                if v.is_empty() || v == last {
                    continue;
                }
                last = v;
                if !st.dates.days.contains_key(v) {
                    let day = london_day(v)
                        .or_else(|| format.as_ref().and_then(|f| values::parse_date_with(v, f)))
                        .or_else(|| placeholder(v));
                    st.dates.days.insert(v.to_string(), day);
                }
            }
        }
        if st.dates.format.is_none() {
            match values::settled_date_format(st.dates.days.keys().map(String::as_str)) {
                Some(f) => st.dates.set_format(f),
                None => {
                    st.pending.push(chunk);
                    return Ok(());
                }
            }
        }
        for pending in std::mem::take(&mut st.pending) {
            self.rows(file, &pending)?;
        }
        self.rows(file, &chunk)
    }

    /// The end of a file: its date layout is decided now if its dates never settled it.
    pub fn end_file(&mut self, file: usize) -> Result<()> {
        let st = &mut self.files[file];
        if st.dates.format.is_none() {
            let format = values::detect_date_format(st.dates.days.keys().map(String::as_str))
                .map_err(|e| anyhow::anyhow!("{}: issue_date: {e}", st.path))?;
            st.dates.set_format(format);
        }
        for pending in std::mem::take(&mut st.pending) {
            self.rows(file, &pending)?;
        }
        Ok(())
    }

    /// The rows of one chunk, the file's date layout being known: ids on two threads, then
    /// the checks in row order.
    fn rows(&mut self, fi: usize, chunk: &Chunk) -> Result<()> {
        let file = &self.files[fi];
        let source = file.practice.clone();
        let code_map = file.code_map.clone();
        let dosages = file.dosages.clone();
        let c = Columns::of(
            chunk,
            &file.columns,
            &source,
            code_map.as_deref(),
            dosages.as_deref(),
        );
        let (who, what, dates) = (&mut self.who, &mut self.what, &file.dates.days);
        std::thread::scope(|s| {
            let half = s.spawn(|| who.chunk(&c));
            what.chunk(&c, dates);
            half.join()
        })
        .map_err(|_| anyhow::anyhow!("internal error: a worker thread failed"))?;
        let path = file.path.clone();
        let layout = file
            .dates
            .format
            .as_ref()
            .map(|f| f.0.clone())
            .unwrap_or_default();
        let npractices = self.who.practices.ids.len();
        let npatients = self.who.patients.ids.len();
        if self.patient_last_day.len() < npatients {
            self.patient_last_day.resize(npatients, NO_DAY);
        }
        if self.practice_last_day.len() < npractices {
            self.practice_last_day.resize(npractices, NO_DAY);
        }
        if self.practice_ics_seen.len() < npractices {
            self.practice_ics_seen.resize(npractices, None);
            self.practice_unresolved.resize(npractices, 0);
        }
        self.checks(fi, chunk, &c, &path, &layout)
    }

    /// METHOD.md's order of checks ([`check_row`]) over one chunk's ids: every row ends in
    /// one count.
    fn checks(
        &mut self,
        fi: usize,
        chunk: &Chunk,
        c: &Columns,
        path: &str,
        layout: &str,
    ) -> Result<()> {
        let config = self.config;
        let settings = RowSettings {
            as_of: config.as_of,
            today: config.today,
            item: config.item_settings(),
        };
        let id_cell = |id: u32, bad: &[Option<&'static str>]| match id {
            NONE => IdCell::Empty,
            i => bad[i as usize].map_or(IdCell::Usable, IdCell::Unusable),
        };
        for row in 0..c.rows {
            let (patient, practice) = (self.who.patient[row], self.who.practice[row]);
            let ics = self.who.ics[row];
            let day = self.what.day[row];
            let flags = self.what.flags[row];
            if day > crate::values::PLACEHOLDER_DAY
                && (config.as_of.is_some() || day <= config.today)
            {
                self.first_day = Some(self.first_day.map_or(day, |f| f.min(day)));
                self.latest_day = Some(self.latest_day.map_or(day, |l| l.max(day)));
            }
            let oi = self.what.outcome[row];
            let product = (oi != NONE).then(|| {
                let o = &self.what.outcomes[oi as usize];
                ProductFacts {
                    status: o.status,
                    reason: &o.reason,
                    corrupt: o.corrupt,
                    product: (o.used != NONE).then(|| {
                        let u = &self.what.products[o.used as usize];
                        (&*u.product, u.factor)
                    }),
                }
            });
            let dose = &self.what.doses[self.what.dose[row] as usize];
            let facts = RowFacts {
                patient: id_cell(patient, &self.who.bad_patient),
                practice: id_cell(practice, &self.who.bad_practice),
                ics: match self.who.bad_ics[ics as usize] {
                    Some(why) => IdCell::Unusable(why),
                    None => IdCell::Empty,
                },
                day: (day != NO_DAY).then_some(day),
                date_empty: flags & DATE_EMPTY != 0,
                date_layout: layout,
                what_empty: flags & WHAT_EMPTY != 0,
                code_unmapped: flags & CODE_UNMAPPED != 0,
                product,
                bnf_repaired: flags & BNF_REPAIRED != 0,
                quantity: &self.what.quantities[self.what.quantity[row] as usize],
                days_supply: &self.what.days[self.what.days_supply[row] as usize],
                dose: &dose.parse,
                dose_corrupt: dose.corrupt,
            };
            let outcome = check_row(&facts, &settings);
            if outcome.dated() {
                if outcome != RowOutcome::AfterAsOf {
                    let last = &mut self.patient_last_day[patient as usize];
                    *last = (*last).max(day);
                    let last = &mut self.practice_last_day[practice as usize];
                    *last = (*last).max(day);
                }
                let seen = &mut self.practice_ics_seen[practice as usize];
                if seen.is_none() {
                    *seen = Some(self.who.ics[row]);
                }
            }
            if let RowOutcome::Rejected(r) = &outcome {
                if config.strict {
                    return Err(strict_error(
                        path,
                        chunk.line(row),
                        r,
                        cell(c.column(r.column), row),
                    ));
                }
            }
            self.accounting.count(&facts, &outcome);
            let line = chunk.line(row);
            match outcome {
                RowOutcome::Rejected(r) => {
                    let value = if r.show_value {
                        cell(c.column(r.column), row).to_string()
                    } else {
                        String::new()
                    };
                    self.rejected.push(Rejected {
                        file: path.to_string(),
                        line,
                        column: r.column.as_str().to_string(),
                        value,
                        reason: r.reason,
                    });
                }
                RowOutcome::Unresolved(reason) => {
                    self.practice_unresolved[practice as usize] += 1;
                    let bnf = values::excel_guard(cell(c.bnf, row));
                    let (dmd, name) = c
                        .product_of(
                            row,
                            values::excel_guard(cell(c.dmd, row)),
                            cell(c.name, row),
                        )
                        .unwrap_or(("", ""));
                    self.unresolved.push(Unresolved {
                        file: path.to_string(),
                        line,
                        practice_code: self.who.practices.ids[practice as usize].clone(),
                        drug_name: name.to_string(),
                        dmd_code: dmd.to_string(),
                        bnf_code: crate::resolve::repair_bnf(bnf).unwrap_or_else(|| bnf.into()),
                        reason: reason.to_string(),
                    });
                }
                RowOutcome::NotOpioid => {
                    let cns = self.what.outcomes[oi as usize].cns;
                    if cns != 0 {
                        self.cns_items.push((patient, day, cns - 1));
                    }
                }
                RowOutcome::Used {
                    quantity,
                    explicit_days,
                } => {
                    if explicit_days.is_none() && values::is_zero_days(cell(c.days, row)) {
                        self.days_zero_not_stated += 1;
                    }
                    self.items.push(Item {
                        line,
                        quantity,
                        explicit_days: explicit_days.unwrap_or(f64::NAN),
                        file: fi as u32,
                        patient,
                        practice,
                        extract_ics: self.who.ics[row],
                        issue_day: day,
                        product: self.what.outcomes[oi as usize].used,
                        dose: self.what.dose[row],
                    })
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The rows, once every file has been read and ended: the audit date, the items and the
    /// accounting. [`complete`] works out the patients and summaries from them.
    pub fn finish(self) -> Result<AuditResult> {
        let config = self.config;
        let as_of = match (config.as_of, self.latest_day) {
            (Some(d), _) => d,
            (None, Some(d)) => d,
            (None, None) => {
                if self.accounting.read == 0 {
                    bail!("the extract has a header but no rows\nhint: check the export finished");
                }
                bail!("no row has a readable issue date, so there is no audit date\nhint: check the issue_date column, or give --as-of");
            }
        };
        let date_formats: Vec<String> = self
            .files
            .iter()
            .map(|f| {
                f.dates
                    .format
                    .as_ref()
                    .map(|d| d.0.clone())
                    .unwrap_or_default()
            })
            .collect();
        // Dose texts of the opioid items (every row's text is parsed, once).
        let mut seen = vec![false; self.what.doses.len()];
        self.items.iter().for_each(|i| seen[i.dose as usize] = true);
        let distinct_dose_texts = seen.iter().filter(|&&s| s).count();
        let mut result = AuditResult {
            ics_codes: Vec::new(),
            practice_ics_seen: Vec::new(),
            patient_last_day: Vec::new(),
            practice_last_day: Vec::new(),
            cns_items: Vec::new(),
            resolved: Vec::new(),
            practice_unresolved: Vec::new(),
            as_of,
            first_issue_day: self.first_day,
            accounting: self.accounting,
            items: self.items,
            products: self.what.products,
            doses: self.what.doses,
            patient_ids: self.who.patients.ids,
            practice_codes: self.who.practices.ids,
            patients: Vec::new(),
            practice_summaries: Vec::new(),
            ics_summaries: Vec::new(),
            unresolved: self.unresolved,
            rejected: self.rejected,
            date_formats,
            warnings: self.warnings,
            distinct_dose_texts,
            distinct_products: self.what.product_cache.len(),
            findings: Vec::new(),
            days_zero_not_stated: self.days_zero_not_stated,
        };
        let a = &result.accounting;
        result.findings = crate::checks::findings(&crate::checks::InputStats {
            rows_read: a.read,
            used: a.used,
            excluded: a.excluded,
            unresolved: a.unresolved,
            dmd_distinct: self.what.dmd_seen.len() as u64,
            dmd_like: self.what.dmd_like,
        });
        result.ics_codes = self.who.ics_codes.ids;
        result.practice_ics_seen = self.practice_ics_seen;
        result.patient_last_day = self.patient_last_day;
        result.practice_last_day = self.practice_last_day;
        let mut cns = self.cns_items;
        cns.sort_unstable();
        result.cns_items = cns;
        result.practice_unresolved = self.practice_unresolved;
        crate::timing::lap("read and audit rows");
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timestamps with a zone to the date in England, by hand: British Summer Time ran from
    /// 01:00 UTC on 31 March to 01:00 UTC on 27 October 2024.
    #[test]
    fn zoned_timestamps_are_london_dates() {
        let day = |y, m, d| values::days_from_civil(y, m, d);
        // 23:00 UTC in July is midnight BST: the next day.
        assert_eq!(london_day("2024-07-01T23:00:00.0000000Z"), day(2024, 7, 2));
        assert_eq!(london_day("2024-07-01T23:00:00+00:00"), day(2024, 7, 2));
        // 22:59 UTC is 23:59 BST: the same day.
        assert_eq!(london_day("2024-07-01T22:59:00Z"), day(2024, 7, 1));
        // In January London is on UTC.
        assert_eq!(london_day("2024-01-15T23:30:00Z"), day(2024, 1, 15));
        // 00:30 UTC on 31 March is before the change (GMT); 23:00 UTC on 26 October after
        // midnight BST, still summer time.
        assert_eq!(london_day("2024-03-31T00:30:00Z"), day(2024, 3, 31));
        assert_eq!(london_day("2024-10-26T23:00:00Z"), day(2024, 10, 27));
        // An offset: 23:00 at -05:00 is 04:00 UTC on 2 July, 05:00 BST.
        assert_eq!(london_day("2024-07-01T23:00:00-05:00"), day(2024, 7, 2));
        // Not zoned: left to the file's layout.
        for plain in ["2024-07-01", "2024-07-01T23:00:00", "01/07/2024", "", "Z"] {
            assert_eq!(london_day(plain), None, "{plain}");
        }
    }
}
