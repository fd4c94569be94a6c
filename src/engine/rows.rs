//! The rows of extract chunks, in file order: *who* (patient, practice and ICS, interned) and
//! *what* (date, product, quantity, days and dose text, each distinct value parsed once) on
//! two threads, then the core's row checks ([`crate::checks::check_row`]) in row order, and
//! each opioid item kept as a compact [`Item`].

use std::collections::BTreeMap;

use anyhow::Result;
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
use crate::error::Diagnostic;
use crate::ome::{missing_factor_reason, unit_ome};
use crate::read::extract::{Chunk, Field};
use crate::resolve::{ItemText, Resolver, Status};
use crate::values::{self, DateFormat, Day, Quantity};

mod what;
mod who;
use what::*;
use who::*;

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
const NO_DAY: Day = Day(i32::MIN);

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
                .map_err(|e| {
                    crate::error::problem(e.context(format!("{}: issue_date", st.path)))
                })?;
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
                    return Err(crate::error::hinted(
                        "the extract has a header but no rows",
                        "check the export finished",
                    ));
                }
                return Err(crate::error::hinted(
                    "no row has a readable issue date, so there is no audit date",
                    "check the issue_date column, or give --as-of",
                ));
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
        })
        .iter()
        .map(crate::problem::Problem::text)
        .collect();
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
