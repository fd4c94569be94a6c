//! What a row is — its date, product, quantity, days of supply and dose text — read from a
//! chunk's columns, each distinct value parsed once (the product through a cache of its
//! distinct dm+d, BNF and name triples).

use super::*;

/// Bits of [`What::flags`].
pub(super) const WHAT_EMPTY: u8 = 1; // drug name, dm+d, BNF and quantity all empty
pub(super) const BNF_REPAIRED: u8 = 2;
pub(super) const DATE_EMPTY: u8 = 4;
pub(super) const CODE_UNMAPPED: u8 = 8; // the source_code is not in --code-map

/// What a row is: date, product, quantity, days and dose text, each distinct value parsed once.
pub(super) struct What<'a> {
    pub(super) config: &'a AuditConfig,
    pub(super) resolver: Resolver<'a>,
    pub(super) key_buf: String,
    pub(super) product_keys: Interner,
    pub(super) product_cache: PlHashMap<String, u32>,
    pub(super) outcomes: Vec<ProductOutcome>,
    /// The distinct values of the dm+d code column, and how many are shaped as dm+d ids
    /// (core `checks::looks_like_dmd_id`): a column of another system's codes is said.
    pub(super) dmd_seen: std::collections::HashSet<String>,
    pub(super) dmd_like: u64,
    pub(super) products: Vec<ProductUse>,
    pub(super) quantity_cache: PlHashMap<String, u32>,
    pub(super) quantities: Vec<Result<Quantity, String>>,
    pub(super) days_cache: PlHashMap<String, u32>,
    pub(super) days: Vec<Result<Option<f64>, String>>,
    pub(super) dose_cache: PlHashMap<String, u32>,
    pub(super) doses: Vec<DoseUse>,
    /// Per row of the chunk being worked.
    pub(super) day: Vec<Day>,
    pub(super) outcome: Vec<u32>,
    pub(super) quantity: Vec<u32>,
    pub(super) days_supply: Vec<u32>,
    pub(super) dose: Vec<u32>,
    pub(super) flags: Vec<u8>,
}

/// The canonical columns of one chunk.
pub(super) struct Columns<'c> {
    pub(super) rows: usize,
    pub(super) patient: Option<Field<'c>>,
    pub(super) practice: Option<Field<'c>>,
    pub(super) date: Option<Field<'c>>,
    pub(super) name: Option<Field<'c>>,
    pub(super) dmd: Option<Field<'c>>,
    pub(super) bnf: Option<Field<'c>>,
    pub(super) qty: Option<Field<'c>>,
    pub(super) qty_unit: Option<Field<'c>>,
    pub(super) dose: Option<Field<'c>>,
    pub(super) days: Option<Field<'c>>,
    pub(super) ics: Option<Field<'c>>,
    /// Where the practice comes from when the file has no practice column.
    pub(super) practice_source: &'c PracticeSource,
    /// Another system's product code, and `--code-map` to read it.
    pub(super) source: Option<Field<'c>>,
    pub(super) code_map: Option<&'c crate::read::extract::CodeMap>,
    /// A dosage's code, and `--dosages` to read it.
    pub(super) dosage: Option<Field<'c>>,
    pub(super) dosages: Option<&'c std::collections::HashMap<String, String>>,
}

impl<'c> Columns<'c> {
    /// The column a row can be rejected on.
    pub(super) fn column(&self, column: Column) -> Option<Field<'c>> {
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

    pub(super) fn of(
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
    pub(super) fn dose_of(&self, row: usize) -> &'c str {
        let text = cell(self.dose, row);
        match (text, self.dosages) {
            ("", Some(map)) => map.get(cell(self.dosage, row)).map_or("", String::as_str),
            _ => text,
        }
    }

    /// A row's dm+d code and name: its own cells; where both are empty and the file has a
    /// source_code column read through `--code-map`, what the map gives its code (`None` for
    /// a code the map does not have).
    pub(super) fn product_of(
        &self,
        row: usize,
        dmd: &'c str,
        name: &'c str,
    ) -> Option<(&'c str, &'c str)> {
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
    pub(super) fn practice_of(&self, row: usize) -> &'c str {
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
pub(super) fn strict_error(path: &str, line: u64, r: &Rejection, value: &str) -> anyhow::Error {
    let value = if r.show_value { value } else { "" };
    Diagnostic::with_code(
        crate::error::exit::STRICT,
        format!(
            "{path}: line {line}: column {}: '{value}': {}",
            r.column.as_str(),
            r.reason
        ),
    )
    .hint("--strict stops at the first rejected row; without it the row is counted in rejected.csv")
    .into()
}

/// Intern `text` through `cache` into `values`, computing it once with `make`.
pub(super) fn cached<T>(
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
    pub(super) fn new(config: &'a AuditConfig, dict: &'a Dictionary) -> What<'a> {
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

    pub(super) fn chunk(&mut self, c: &Columns, dates: &PlHashMap<String, Option<Day>>) {
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
    pub(super) fn outcome(&mut self, dmd: &str, bnf: &str, name: &str) -> u32 {
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
