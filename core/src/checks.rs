//! The row checks of METHOD.md ("Row accounting"), in their order: what one extract row is
//! (blank, rejected and why, after the audit date, not an opioid, excluded, unresolved, or an
//! item used), worked out from the row's facts, and counted.
//!
//! The engine works out the facts of a row once per distinct value (an id, a date, a product,
//! a quantity, a dose text) and hands them here by reference; [`check_row`] decides, in
//! METHOD.md's order, and [`Accounting`] counts, so that every row read ends in exactly one
//! count.

use std::collections::BTreeMap;

use crate::dose::DoseParse;
use crate::item::{implausible, quantity_in_product, ItemSettings};
use crate::product::Product;
use crate::resolve::Status;
use crate::values::{format_day, Day, Quantity};

/// A column a row can be rejected on (the canonical names of the extract's columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    PatientId,
    PracticeCode,
    IcsCode,
    IssueDate,
    DrugName,
    Quantity,
    DaysSupply,
    DoseText,
}

impl Column {
    pub fn as_str(self) -> &'static str {
        match self {
            Column::PatientId => "patient_id",
            Column::PracticeCode => "practice_code",
            Column::IcsCode => "ics_code",
            Column::IssueDate => "issue_date",
            Column::DrugName => "drug_name",
            Column::Quantity => "quantity",
            Column::DaysSupply => "days_supply",
            Column::DoseText => "dose_text",
        }
    }
}

/// A patient or practice cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdCell {
    Empty,
    /// Present but not an id (an NHS number in the practice column, a NUL, nothing visible):
    /// why. The value, perhaps a patient's, is never shown.
    Unusable(&'static str),
    Usable,
}

/// What the row's drug name and codes resolved to (worked out once per distinct triple).
#[derive(Debug, Clone, Copy)]
pub struct ProductFacts<'a> {
    pub status: Status,
    /// Why it is excluded or unresolved.
    pub reason: &'a str,
    /// The name or a code has a NUL byte or a byte-order mark ([`crate::item::corrupt_text`]).
    pub corrupt: Option<&'static str>,
    /// The product and its factor, when resolved.
    pub product: Option<(&'a Product, f64)>,
}

/// Everything the checks need to know about one row.
#[derive(Debug, Clone, Copy)]
pub struct RowFacts<'a> {
    pub patient: IdCell,
    pub practice: IdCell,
    /// The extract's own ICS code, when it has one: `Empty` is allowed (the practices file or
    /// "unknown" gives the ICS); `Unusable` (an NHS number) rejects the row.
    pub ics: IdCell,
    /// The issue date, when it is one in the file's layout.
    pub day: Option<Day>,
    pub date_empty: bool,
    /// The file's date layout, for the reason of a date that does not fit it.
    pub date_layout: &'a str,
    /// Drug name, dm+d code, BNF code and quantity all empty (with the ids and date empty,
    /// the line is blank).
    pub what_empty: bool,
    /// `None`: the row has no drug name, dm+d code or BNF code at all.
    pub product: Option<ProductFacts<'a>>,
    /// The row's product code (another system's) is not in `--code-map`: why there is no
    /// product.
    pub code_unmapped: bool,
    /// A BNF code that lost its leading zero was read with it restored.
    pub bnf_repaired: bool,
    pub quantity: &'a Result<Quantity, String>,
    pub days_supply: &'a Result<Option<f64>, String>,
    pub dose: &'a DoseParse,
    /// The dose text has a NUL byte or a byte-order mark.
    pub dose_corrupt: Option<&'static str>,
}

/// The settings the checks depend on.
#[derive(Debug, Clone, Copy)]
pub struct RowSettings {
    /// `--as-of`; without it the audit date is the latest usable issue date.
    pub as_of: Option<Day>,
    /// The day of the run: without `--as-of`, a later issue date is a typo, not the audit date.
    pub today: Day,
    pub item: ItemSettings,
}

/// Why a row was rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    pub column: Column,
    pub reason: String,
    /// Whether the cell's value may be written beside the reason (not for an id that is not
    /// one, nor for text with a NUL byte).
    pub show_value: bool,
}

/// What one row is.
#[derive(Debug, Clone, PartialEq)]
pub enum RowOutcome<'a> {
    /// Every field empty: not a row.
    Blank,
    Rejected(Rejection),
    AfterAsOf,
    NotOpioid,
    Excluded(&'a str),
    Unresolved(&'a str),
    /// An opioid item: its quantity in the product's units and its stated days of supply.
    Used {
        quantity: f64,
        explicit_days: Option<f64>,
    },
}

impl RowOutcome<'_> {
    /// The row passed the id and date checks: its practice and date count as seen.
    pub fn dated(&self) -> bool {
        match self {
            RowOutcome::Blank => false,
            RowOutcome::Rejected(r) => !matches!(
                r.column,
                Column::PatientId | Column::PracticeCode | Column::IcsCode | Column::IssueDate
            ),
            _ => true,
        }
    }
}

fn reject(column: Column, reason: String, show_value: bool) -> RowOutcome<'static> {
    RowOutcome::Rejected(Rejection {
        column,
        reason,
        show_value,
    })
}

/// METHOD.md's order of checks for one row.
pub fn check_row<'a>(row: &RowFacts<'a>, settings: &RowSettings) -> RowOutcome<'a> {
    if row.patient == IdCell::Empty
        && row.practice == IdCell::Empty
        && row.date_empty
        && row.what_empty
    {
        return RowOutcome::Blank;
    }
    for (column, cell) in [
        (Column::PatientId, row.patient),
        (Column::PracticeCode, row.practice),
    ] {
        if cell == IdCell::Empty {
            return reject(column, format!("{} is empty", column.as_str()), true);
        }
    }
    for (column, cell) in [
        (Column::PatientId, row.patient),
        (Column::PracticeCode, row.practice),
        (Column::IcsCode, row.ics),
    ] {
        if let IdCell::Unusable(why) = cell {
            return reject(column, format!("{why}; the value is not shown"), false);
        }
    }
    let Some(day) = row.day else {
        let why = if row.date_empty {
            "issue_date is empty".to_string()
        } else {
            format!("not a date in the layout {} of this file", row.date_layout)
        };
        return reject(Column::IssueDate, why, true);
    };
    if day <= crate::values::PLACEHOLDER_DAY {
        let why = "the issue date is a placeholder for no date (1900-01-01 or before, or year 1), \
                   not a date of issue"
            .to_string();
        return reject(Column::IssueDate, why, true);
    }
    if settings.as_of.is_none() && day > settings.today {
        let why = format!(
            "issue date is in the future (after today, {})",
            format_day(settings.today)
        );
        return reject(Column::IssueDate, why, true);
    }
    if settings.as_of.is_some_and(|a| day > a) {
        return RowOutcome::AfterAsOf;
    }
    let Some(product) = row.product else {
        let why = if row.code_unmapped {
            "the product code is not in --code-map".to_string()
        } else {
            "no drug name, dm+d code or BNF code (a short row?)".to_string()
        };
        return reject(Column::DrugName, why, true);
    };
    if let Some(why) = product.corrupt {
        return reject(Column::DrugName, why.to_string(), false);
    }
    let (p, factor) = match (product.status, product.product) {
        (Status::NotOpioid, _) => return RowOutcome::NotOpioid,
        (Status::Excluded, _) => return RowOutcome::Excluded(product.reason),
        (Status::Unresolved, _) => return RowOutcome::Unresolved(product.reason),
        (Status::Resolved, Some(pf)) => pf,
        // Resolved always carries a product; were it ever not so, the row is still counted.
        (Status::Resolved, None) => {
            return RowOutcome::Unresolved(
                "resolved without a product (a bug in opal: please report it)",
            )
        }
    };
    let quantity = match row.quantity {
        Ok(q) => quantity_in_product(q, p),
        Err(why) => return reject(Column::Quantity, why.clone(), true),
    };
    let explicit_days = match row.days_supply {
        Ok(d) => *d,
        Err(why) => return reject(Column::DaysSupply, why.clone(), true),
    };
    if let Some(why) = row.dose_corrupt {
        return reject(Column::DoseText, why.to_string(), false);
    }
    if let Some((column, why)) =
        implausible(p, factor, quantity, explicit_days, row.dose, &settings.item)
    {
        let column = match column {
            "days_supply" => Column::DaysSupply,
            "quantity" => Column::Quantity,
            "dose_text" => Column::DoseText,
            _ => Column::DrugName,
        };
        return reject(column, why, true);
    }
    RowOutcome::Used {
        quantity,
        explicit_days,
    }
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

    /// Count one row in exactly one place.
    pub fn count(&mut self, row: &RowFacts, outcome: &RowOutcome) {
        fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
            match map.get_mut(key) {
                Some(n) => *n += 1,
                None => {
                    map.insert(key.to_string(), 1);
                }
            }
        }
        if *outcome == RowOutcome::Blank {
            self.blank_lines += 1;
            return;
        }
        self.read += 1;
        // A restored BNF code counts once the row's product is looked at.
        let product_seen = match outcome {
            RowOutcome::Rejected(r) => r.column != Column::DrugName || row.product.is_some(),
            RowOutcome::AfterAsOf => false,
            _ => true,
        } && outcome.dated();
        if product_seen && row.bnf_repaired {
            self.bnf_leading_zero_restored += 1;
        }
        match outcome {
            RowOutcome::Blank => {}
            RowOutcome::Rejected(r) => {
                self.rejected += 1;
                bump(&mut self.rejected_by_column, r.column.as_str());
            }
            RowOutcome::AfterAsOf => self.after_as_of += 1,
            RowOutcome::NotOpioid => self.not_opioid += 1,
            RowOutcome::Excluded(why) => {
                self.excluded += 1;
                bump(&mut self.excluded_by_reason, why);
            }
            RowOutcome::Unresolved(_) => self.unresolved += 1,
            RowOutcome::Used { .. } => self.used += 1,
        }
    }
}

/// Whether a code is shaped as a dm+d identifier: a SNOMED CT concept id (6 to 18 digits
/// whose partition, the two digits before the check digit, is `00` for a core concept or `10`
/// for an extension's), in the core or in the UK drug extension's namespace (`1000001`), as
/// every id of the product dictionary is. Another system's codes (CPRD's `prodcodeid` in EMIS's
/// namespace `1000033`, a practice system's own numbers) are not.
pub fn looks_like_dmd_id(code: &str) -> bool {
    let b = code.as_bytes();
    if !(6..=18).contains(&b.len()) || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    match &b[b.len() - 3..b.len() - 1] {
        b"00" => true,
        b"10" => b.len() >= 11 && &b[b.len() - 10..b.len() - 3] == b"1000001",
        _ => false,
    }
}

/// What a run read that bears on whether it found what it should (issue 25.4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputStats {
    pub rows_read: u64,
    pub used: u64,
    pub excluded: u64,
    pub unresolved: u64,
    /// Distinct values of the dm+d code column, and how many of them are shaped as dm+d ids.
    pub dmd_distinct: u64,
    pub dmd_like: u64,
}

/// Why an audit that found little may have found little, each a few words and a hint: a code
/// column that does not hold dm+d codes (fewer than half of its distinct values shaped as dm+d
/// ids), more than 20% of the opioid-looking rows unresolved, or 100 rows or more and no
/// opioid item at all. Empty when none applies.
pub fn findings(s: &InputStats) -> Vec<crate::problem::Problem> {
    use crate::problem::Problem;
    let mut out = Vec::new();
    if s.dmd_distinct > 0 && s.dmd_like * 2 < s.dmd_distinct {
        out.push(
            Problem::new(format!(
                "the dm+d code column does not hold dm+d codes: {} of its {} distinct values \
                 are shaped as dm+d ids (SNOMED CT ids of the core or the UK drug extension)",
                s.dmd_like, s.dmd_distinct
            ))
            .hint(
                "a research or practice system's own product codes (CPRD's prodcodeid, say) \
                 are not dm+d; map the column that holds dm+d ids with --column \
                 dmd_code=<header>, or give the product names with --column drug_name=<header>",
            ),
        );
    }
    let opioid = s.used + s.unresolved;
    if s.unresolved > 0 && s.unresolved * 5 > opioid {
        out.push(
            Problem::new(format!(
                "{} of {} opioid-looking rows ({:.0}%) could not be converted, so the lists \
                 leave those patients out",
                s.unresolved,
                opioid,
                s.unresolved as f64 * 100.0 / opioid as f64
            ))
            .hint(
                "unresolved.csv gives each row's reason (a code a spreadsheet damaged, a name \
                 with no strength); export codes as text, or add a product name column",
            ),
        );
    }
    if s.rows_read >= 100 && s.used == 0 && s.excluded == 0 && s.unresolved == 0 {
        out.push(
            Problem::new(format!(
                "no opioid item in {} rows: every row was another medicine or rejected",
                s.rows_read
            ))
            .hint(
                "check that the drug column holds product names or dm+d codes (--column \
                 drug_name=<header> or --column dmd_code=<header>) and that the extract is of \
                 the right items",
            ),
        );
    }
    out
}

#[cfg(test)]
mod tests;
