//! Unit tests of `checks`.

use super::*;
use crate::dictionary::Dictionary;
use crate::item::PrnPolicy;
use crate::values::{parse_date_with, parse_days, parse_quantity, DateFormat};

fn parse_date(text: &str) -> Option<Day> {
    parse_date_with(text, &DateFormat("%Y-%m-%d".into()))
}

fn settings(as_of: Option<&str>) -> RowSettings {
    RowSettings {
        as_of: as_of.map(|d| parse_date(d).unwrap()),
        today: parse_date("2026-11-29").unwrap(),
        item: ItemSettings {
            prn_policy: PrnPolicy::Max,
            default_days: 28.0,
            max_days_supply: 366.0,
        },
    }
}

struct Row {
    patient: IdCell,
    practice: IdCell,
    ics: IdCell,
    date: &'static str,
    product: Option<(Status, &'static str)>,
    corrupt: Option<&'static str>,
    quantity: Result<Quantity, String>,
    days: Result<Option<f64>, String>,
    dose: DoseParse,
    dose_corrupt: Option<&'static str>,
    bnf_repaired: bool,
}

fn row() -> Row {
    Row {
        patient: IdCell::Usable,
        practice: IdCell::Usable,
        ics: IdCell::Empty,
        date: "2026-10-01",
        product: Some((Status::Resolved, "")),
        corrupt: None,
        quantity: parse_quantity("56", ""),
        days: parse_days("28"),
        dose: crate::dose::parse("1 twice a day"),
        dose_corrupt: None,
        bnf_repaired: false,
    }
}

/// Morphine 10 mg modified-release tablets, factor 1, from the embedded dictionary.
fn morphine() -> std::sync::Arc<Product> {
    let dict = Dictionary::builtin();
    let r = crate::resolve::Resolver::new(dict).resolve(crate::resolve::ItemText {
        dmd_code: "",
        bnf_code: "",
        name: "Morphine 10mg modified-release tablets",
    });
    r.product.expect("morphine 10 mg MR resolves")
}

fn check(r: &Row, s: &RowSettings, acc: &mut Accounting) -> RowOutcome<'static> {
    let p = morphine();
    let p: &'static Product = Box::leak(Box::new((*p).clone()));
    let facts = RowFacts {
        patient: r.patient,
        practice: r.practice,
        ics: r.ics,
        day: parse_date(r.date),
        date_empty: r.date.is_empty(),
        date_layout: "YYYY-MM-DD",
        what_empty: r.product.is_none() && r.date.is_empty(),
        code_unmapped: false,
        product: r.product.map(|(status, reason)| ProductFacts {
            status,
            reason,
            corrupt: r.corrupt,
            product: (status == Status::Resolved).then_some((p, 1.0)),
        }),
        bnf_repaired: r.bnf_repaired,
        quantity: Box::leak(Box::new(r.quantity.clone())),
        days_supply: Box::leak(Box::new(r.days.clone())),
        dose: Box::leak(Box::new(r.dose.clone())),
        dose_corrupt: r.dose_corrupt,
    };
    let o = check_row(&facts, s);
    acc.count(&facts, &o);
    o
}

fn rejected_on<'a>(o: &'a RowOutcome<'a>) -> Option<(Column, &'a str)> {
    match o {
        RowOutcome::Rejected(r) => Some((r.column, r.reason.as_str())),
        _ => None,
    }
}

#[test]
fn a_plain_opioid_item_is_used_with_its_quantity_and_days() {
    let mut acc = Accounting::default();
    let o = check(&row(), &settings(None), &mut acc);
    assert_eq!(
        o,
        RowOutcome::Used {
            quantity: 56.0,
            explicit_days: Some(28.0)
        }
    );
    assert_eq!((acc.read, acc.used), (1, 1));
    assert!(acc.balanced());
}

#[test]
fn a_blank_line_is_not_a_row() {
    let mut acc = Accounting::default();
    let r = Row {
        patient: IdCell::Empty,
        practice: IdCell::Empty,
        date: "",
        product: None,
        ..row()
    };
    assert_eq!(check(&r, &settings(None), &mut acc), RowOutcome::Blank);
    assert_eq!((acc.read, acc.blank_lines), (0, 1));
    // A line with only a date is a row, rejected for its missing patient.
    let r = Row {
        patient: IdCell::Empty,
        practice: IdCell::Empty,
        product: None,
        ..row()
    };
    let o = check(&r, &settings(None), &mut acc);
    assert_eq!(
        rejected_on(&o),
        Some((Column::PatientId, "patient_id is empty"))
    );
}

/// An NHS number in the extract's ics_code column rejects the row on that column, its
/// value not shown; an empty ics_code is allowed (the practices file gives the ICS).
#[test]
fn an_nhs_number_as_ics_code_is_rejected_unshown() {
    let mut acc = Accounting::default();
    let r = Row {
        ics: IdCell::Unusable("ics_code looks like an NHS number"),
        ..row()
    };
    let o = check(&r, &settings(None), &mut acc);
    assert_eq!(
        rejected_on(&o),
        Some((
            Column::IcsCode,
            "ics_code looks like an NHS number; the value is not shown"
        ))
    );
    assert!(matches!(&o, RowOutcome::Rejected(r) if !r.show_value));
    assert!(!o.dated());
    let o = check(&row(), &settings(None), &mut acc);
    assert!(matches!(o, RowOutcome::Used { .. }), "{o:?}");
}

/// dm+d ids as the dictionary has them, and codes that are not.
#[test]
fn dmd_ids_by_their_shape() {
    for yes in [
        "36057211000001102",
        "39707511000001103",
        "322236009",
        "4721411000001103",
    ] {
        assert!(looks_like_dmd_id(yes), "{yes}");
    }
    for no in [
        "12390541000033119", // EMIS's namespace, as CPRD's prodcodeid
        "1234567",           // a practice system's number (partition 56)
        "4.07E+13",
        "",
        "12345",
        "0407020A0AAAFAF",
    ] {
        assert!(!looks_like_dmd_id(no), "{no}");
    }
    let mut all = 0;
    for e in crate::dictionary::Dictionary::builtin().entries() {
        if let crate::dictionary::Entry::Product(p) = e {
            if !p.dmd_id.is_empty() {
                assert!(looks_like_dmd_id(&p.dmd_id), "{}", p.dmd_id);
                all += 1;
            }
        }
    }
    assert!(all > 2000, "{all}");
}

/// Each finding at its edge, by hand: 4 of 10 codes shaped as dm+d (under half) is one,
/// 5 of 10 is not; 21 unresolved of 100 opioid-looking rows (21% > 20%) is one, 20 is
/// not; 100 rows with no opioid is one, 99 is not, nor 100 rows with one excluded.
#[test]
fn findings_at_their_edges() {
    let base = InputStats {
        rows_read: 1000,
        used: 80,
        ..InputStats::default()
    };
    let f = |s: InputStats| findings(&s).len();
    assert_eq!(f(base), 0);
    assert_eq!(
        f(InputStats {
            dmd_distinct: 10,
            dmd_like: 4,
            ..base
        }),
        1
    );
    assert_eq!(
        f(InputStats {
            dmd_distinct: 10,
            dmd_like: 5,
            ..base
        }),
        0
    );
    assert_eq!(
        f(InputStats {
            used: 79,
            unresolved: 21,
            ..base
        }),
        1
    );
    assert_eq!(
        f(InputStats {
            used: 80,
            unresolved: 20,
            ..base
        }),
        0
    );
    let none = InputStats {
        rows_read: 100,
        ..InputStats::default()
    };
    assert_eq!(f(none), 1);
    assert!(findings(&none)[0]
        .message
        .starts_with("no opioid item in 100 rows"));
    assert_eq!(
        f(InputStats {
            rows_read: 99,
            ..none
        }),
        0
    );
    assert_eq!(
        f(InputStats {
            excluded: 1,
            ..none
        }),
        0
    );
    // All three at once: CPRD's codes mapped as dm+d in a file of 122 rows.
    let cprd = InputStats {
        rows_read: 122,
        dmd_distinct: 12,
        dmd_like: 0,
        ..InputStats::default()
    };
    assert_eq!(f(cprd), 2);
}

/// 1900-01-01 and before are placeholders, rejected as no date; 1900-01-02 is a date.
#[test]
fn placeholder_dates_are_no_date() {
    let mut acc = Accounting::default();
    for d in ["1900-01-01", "1000-01-01"] {
        let o = check(&Row { date: d, ..row() }, &settings(None), &mut acc);
        let (column, why) = rejected_on(&o).unwrap();
        assert_eq!(column, Column::IssueDate);
        assert!(
            why.starts_with("the issue date is a placeholder for no date"),
            "{why}"
        );
    }
    let o = check(
        &Row {
            date: "1900-01-02",
            ..row()
        },
        &settings(None),
        &mut acc,
    );
    assert!(matches!(o, RowOutcome::Used { .. }), "{o:?}");
    assert_eq!(
        crate::values::days_from_civil(1900, 1, 1),
        Some(crate::values::PLACEHOLDER_DAY)
    );
}

#[test]
fn the_order_is_ids_then_date_then_audit_date_then_product_then_supply() {
    let s = settings(Some("2026-10-31"));
    let mut acc = Accounting::default();
    // Everything wrong at once: the patient is reported first.
    let worst = Row {
        patient: IdCell::Empty,
        practice: IdCell::Unusable("practice_code has 10 digits"),
        date: "31/02/2026",
        product: None,
        quantity: parse_quantity("lots", ""),
        ..row()
    };
    assert_eq!(
        rejected_on(&check(&worst, &s, &mut acc)).unwrap().0,
        Column::PatientId
    );
    let r = Row {
        patient: IdCell::Usable,
        ..worst
    };
    let o = check(&r, &s, &mut acc);
    assert_eq!(
        rejected_on(&o),
        Some((
            Column::PracticeCode,
            "practice_code has 10 digits; the value is not shown"
        ))
    );
    assert!(matches!(&o, RowOutcome::Rejected(r) if !r.show_value));
    let r = Row {
        practice: IdCell::Usable,
        ..r
    };
    assert_eq!(
        rejected_on(&check(&r, &s, &mut acc)),
        Some((
            Column::IssueDate,
            "not a date in the layout YYYY-MM-DD of this file"
        ))
    );
    // After the audit date comes before a missing product.
    let r = Row {
        date: "2026-11-02",
        ..r
    };
    assert_eq!(check(&r, &s, &mut acc), RowOutcome::AfterAsOf);
    let r = Row {
        date: "2026-10-31",
        ..r
    };
    assert_eq!(
        rejected_on(&check(&r, &s, &mut acc)).unwrap().0,
        Column::DrugName
    );
    // A non-opioid is counted as such even with an unreadable quantity.
    let r = Row {
        product: Some((Status::NotOpioid, "")),
        ..r
    };
    assert_eq!(check(&r, &s, &mut acc), RowOutcome::NotOpioid);
    // An opioid with an unreadable quantity is rejected on it.
    let r = Row {
        product: Some((Status::Resolved, "")),
        ..r
    };
    assert_eq!(
        rejected_on(&check(&r, &s, &mut acc)).unwrap().0,
        Column::Quantity
    );
    assert_eq!(acc.read, 7);
    assert_eq!((acc.rejected, acc.after_as_of, acc.not_opioid), (5, 1, 1));
    assert_eq!(acc.rejected_by_column["issue_date"], 1);
    assert!(acc.balanced());
}

#[test]
fn a_future_date_is_rejected_only_without_as_of() {
    let r = Row {
        date: "2026-12-01",
        ..row()
    };
    let mut acc = Accounting::default();
    assert_eq!(
        rejected_on(&check(&r, &settings(None), &mut acc)),
        Some((
            Column::IssueDate,
            "issue date is in the future (after today, 2026-11-29)"
        ))
    );
    let o = check(&r, &settings(Some("2027-01-31")), &mut acc);
    assert!(matches!(o, RowOutcome::Used { .. }));
    assert_eq!(
        check(&r, &settings(Some("2026-11-30")), &mut acc),
        RowOutcome::AfterAsOf
    );
}

#[test]
fn excluded_and_unresolved_carry_their_reasons_and_a_repaired_bnf_is_counted() {
    let mut acc = Accounting::default();
    let why = "opioid dependence: methadone oral solution 1 mg/ml";
    let r = Row {
        product: Some((Status::Excluded, why)),
        bnf_repaired: true,
        ..row()
    };
    assert_eq!(
        check(&r, &settings(None), &mut acc),
        RowOutcome::Excluded(why)
    );
    let r = Row {
        product: Some((Status::Unresolved, "no factor for tapentadol")),
        ..row()
    };
    assert_eq!(
        check(&r, &settings(None), &mut acc),
        RowOutcome::Unresolved("no factor for tapentadol")
    );
    // A repaired BNF code on a row rejected for its date is not counted: its product was
    // never looked at.
    let r = Row {
        date: "",
        bnf_repaired: true,
        ..row()
    };
    check(&r, &settings(None), &mut acc);
    assert_eq!(acc.excluded_by_reason[why], 1);
    assert_eq!((acc.excluded, acc.unresolved), (1, 1));
    assert_eq!(acc.bnf_leading_zero_restored, 1);
}

#[test]
fn corrupt_text_is_rejected_without_its_value() {
    let mut acc = Accounting::default();
    let r = Row {
        product: Some((Status::NotOpioid, "")),
        corrupt: Some("drug_name has a NUL byte"),
        ..row()
    };
    let o = check(&r, &settings(None), &mut acc);
    assert_eq!(
        rejected_on(&o),
        Some((Column::DrugName, "drug_name has a NUL byte"))
    );
    assert!(matches!(o, RowOutcome::Rejected(ref r) if !r.show_value));
    let r = Row {
        dose_corrupt: Some("dose_text has a NUL byte"),
        ..row()
    };
    assert_eq!(
        rejected_on(&check(&r, &settings(None), &mut acc))
            .unwrap()
            .0,
        Column::DoseText
    );
}

#[test]
fn an_implausible_supply_is_rejected_on_its_column() {
    let mut acc = Accounting::default();
    let r = Row {
        days: parse_days("400"),
        ..row()
    };
    assert_eq!(
        rejected_on(&check(&r, &settings(None), &mut acc))
            .unwrap()
            .0,
        Column::DaysSupply
    );
    let r = Row {
        quantity: parse_quantity("20000", ""),
        ..row()
    };
    assert_eq!(
        rejected_on(&check(&r, &settings(None), &mut acc))
            .unwrap()
            .0,
        Column::Quantity
    );
    // 560 mg as a quantity in mg is 56 tablets of 10 mg.
    let r = Row {
        quantity: parse_quantity("560", "mg"),
        ..row()
    };
    assert!(matches!(
        check(&r, &settings(None), &mut acc),
        RowOutcome::Used { quantity, .. } if quantity == 56.0
    ));
}
