//! Unit tests of `values`.

#[test]
fn three_significant_figures() {
    for (v, want) in [
        (0.0, "0"),
        (0.031234, "0.0312"),
        (0.0049, "0.00490"),
        (0.3125, "0.312"),
        (3.125, "3.12"),
        (31.25, "31.2"),
        (312.5, "312"),
        (3125.4, "3125"),
        (0.01, "0.0100"),
        (0.02, "0.0200"),
        (9.996, "10.0"),
        (-14.29, "-14.3"),
    ] {
        assert_eq!(super::sig3(v), want, "{v}");
    }
}

/// Numbers as opal writes them, worked by hand, and the rounding without libm equal to
/// `f64::round` on halves, near-halves, negatives and large values.
#[test]
fn numbers_are_written_to_six_decimals() {
    use super::{fmt_num, round_half_away};
    for (v, text) in [
        (0.0, "0"),
        (-0.0, "0"),
        (-0.0000001, "0"),
        (120.0, "120"),
        (0.5, "0.5"),
        (1.0 / 3.0, "0.333333"),
        (2.0 / 3.0, "0.666667"),
        (-2.5, "-2.5"),
        (0.0000005, "0.000001"),
        (-0.0000005, "-0.000001"),
        (1234567.1234564, "1234567.123456"),
        (8.999e12, "8999000000000"),
        (1e13, "10000000000000"),
        (f64::NAN, ""),
    ] {
        assert_eq!(fmt_num(v), text, "{v}");
    }
    let near = |y: f64| {
        [
            y,
            f64::from_bits(y.to_bits() + 1),
            f64::from_bits(y.to_bits() - 1),
        ]
    };
    for i in -100_000..100_000 {
        for y in near(i as f64 + 0.5) {
            assert_eq!(round_half_away(y), y.round() as i64, "{y}");
        }
    }
    let mut x = 0.5f64;
    for k in 0..200_000 {
        for y in [x, -x].into_iter().flat_map(near) {
            assert_eq!(round_half_away(y), y.round() as i64, "{y}");
        }
        x = (x * 1.000_37 + k as f64 * 0.013) % 9.0e18;
    }
}

use super::*;

/// A column that holds no dates (a shifted row's NHS number) is described by its shape,
/// never quoted: the message must not carry a patient identifier.
#[test]
fn an_unreadable_date_column_is_shown_by_shape() {
    let e = detect_date_format(["943 476 5919", "943 476 5920"].into_iter())
        .unwrap_err()
        .text();
    assert!(e.contains("'999 999 9999'") && !e.contains("943"), "{e}");
}

#[test]
fn civil_round_trip() {
    assert_eq!(days_from_civil(1970, 1, 1), Some(Day(0)));
    assert_eq!(days_from_civil(2026, 10, 31), Some(Day(20757)));
    assert_eq!(civil_from_days(Day(20757)), (2026, 10, 31));
    assert_eq!(
        days_from_civil(2024, 2, 29).map(civil_from_days),
        Some((2024, 2, 29))
    );
    assert_eq!(days_from_civil(2026, 2, 29), None);
    assert_eq!(days_from_civil(2026, 13, 1), None);
    for d in -1000..30000 {
        let d = Day(d);
        let (y, m, dd) = civil_from_days(d);
        if (1000..=9999).contains(&y) {
            assert_eq!(days_from_civil(y, m, dd), Some(d));
        }
    }
}

#[test]
fn dates_in_every_written_shape() {
    let want = days_from_civil(2026, 10, 31);
    for (text, f) in [
        ("2026-10-31", "%Y-%m-%d"),
        ("31/10/2026", "%d/%m/%Y"),
        ("31-Oct-2026", "%d-%b-%Y"),
        ("31-OCT-2026", "%d-%b-%Y"),
        ("20261031", "%Y%m%d"),
        ("2026-10-31 14:05:00", "%Y-%m-%d"),
        ("31/10/2026 00:00", "%d/%m/%Y"),
        ("31 Oct 2026", "%d %b %Y"),
        ("2026-10-31T09:00:00Z", "%Y-%m-%d"),
    ] {
        assert_eq!(parse_date_with(text, &DateFormat(f.into())), want, "{text}");
    }
    assert_eq!(
        parse_date_with("31/02/2026", &DateFormat("%d/%m/%Y".into())),
        None
    );
    assert_eq!(
        parse_date_with("2026-10-31x", &DateFormat("%Y-%m-%d".into())),
        None
    );
}

#[test]
fn date_format_detection() {
    let v = ["01/02/2026", "03/04/2026"];
    assert_eq!(detect_date_format(v.iter().copied()).unwrap().0, "%d/%m/%Y");
    let v = ["2026-10-31", "2026-11-01"];
    assert_eq!(detect_date_format(v.iter().copied()).unwrap().0, "%Y-%m-%d");
    let v = ["10/31/2026", "12/25/2026"];
    let us = detect_date_format(v.iter().copied()).unwrap_err();
    assert!(us.message.contains("month-first"), "{us}");
    assert!(us
        .hint
        .as_deref()
        .unwrap()
        .contains("--date-format %m/%d/%Y"));
    let v = ["yesterday", "last week"];
    let unknown = detect_date_format(v.iter().copied()).unwrap_err();
    assert!(unknown.message.contains("cannot tell the date format"));
    assert!(unknown.hint.as_deref().unwrap().contains("--date-format"));
    // One bad value among good ones is a rejected row, not a format error.
    let v = ["2026-10-31", "2026-11-01", "2026-11-02", "31st"];
    assert_eq!(detect_date_format(v.iter().copied()).unwrap().0, "%Y-%m-%d");
}

#[test]
fn quantities() {
    let q = |t: &str, u: &str| parse_quantity(t, u).map(|q| (q.amount, q.unit));
    assert_eq!(q("56", ""), Ok((56.0, None)));
    assert_eq!(q("56 tablet", ""), Ok((56.0, Some("tablet".into()))));
    assert_eq!(
        q("21 tablet(s) - 400mg", ""),
        Ok((21.0, Some("tablet".into())))
    );
    assert_eq!(
        q("1 pack of 28 capsule(s)", ""),
        Ok((28.0, Some("capsule".into())))
    );
    assert_eq!(q("100 mililitres", ""), Ok((100.0, Some("ml".into()))));
    assert_eq!(q("2 x 28", ""), Ok((56.0, None)));
    assert_eq!(q("56.0", "tablet"), Ok((56.0, Some("tablet".into()))));
    assert_eq!(q("2", "pack of 28"), Ok((56.0, None)));
    assert_eq!(q("300ml", ""), Ok((300.0, Some("ml".into()))));
    assert!(q("0", "").unwrap_err().contains("above zero"));
    assert!(q("-28", "").unwrap_err().contains("above zero"));
    assert!(q("lots", "").unwrap_err().contains("not a number"));
    assert!(q("", "").unwrap_err().contains("empty"));
    assert!(q("5.6E+01", "").unwrap_err().contains("scientific"));
}

#[test]
fn days() {
    assert_eq!(parse_days("28"), Ok(Some(28.0)));
    assert_eq!(parse_days(" 28 days"), Ok(Some(28.0)));
    assert_eq!(parse_days(""), Ok(None));
    // 0 is "not stated" (CPRD's duration when none was recorded); below 0 is an error.
    assert_eq!(parse_days("0"), Ok(None));
    assert_eq!(parse_days("0.0"), Ok(None));
    assert_eq!(parse_days("0 days"), Ok(None));
    assert!(parse_days("-1").is_err());
    assert!(parse_days("-0.5").is_err());
    assert!(parse_days("x").is_err());
    assert!(is_zero_days("0") && is_zero_days(" 0.0 ") && is_zero_days("0 days"));
    for placeholder in [
        "0001-01-01",
        "01/01/0001",
        "0000-00-00",
        "0001-01-01T00:00:00Z",
    ] {
        assert!(is_placeholder_date_text(placeholder), "{placeholder}");
    }
    for date in ["2026-10-01", "01/10/2026", "1900-01-01", "", "0001"] {
        assert!(!is_placeholder_date_text(date), "{date}");
    }
    // Excel's text guards, taken off codes and numbers.
    assert_eq!(excel_guard("'38754011000001109"), "38754011000001109");
    assert_eq!(excel_guard("=\"38754011000001109\""), "38754011000001109");
    assert_eq!(excel_guard("=\"0407020A0AAAFAF\""), "0407020A0AAAFAF");
    assert_eq!(excel_guard("'56"), "56");
    for kept in [
        "38754011000001109",
        "'",
        "''x'",
        "=\"a\"b\"",
        "=SUM(A1)",
        "it's",
        "",
    ] {
        assert_eq!(excel_guard(kept), kept);
    }
    assert!(!is_zero_days("") && !is_zero_days("28") && !is_zero_days("-0") && !is_zero_days("x"));
}

#[test]
fn date_layouts_settle_on_the_first_deciding_dates() {
    let settled = |v: &[&str]| settled_date_format(v.iter().copied()).map(|f| f.0);
    assert_eq!(settled(&[]), None);
    assert_eq!(settled(&["", " "]), None);
    assert_eq!(settled(&["2026-01-05"]).as_deref(), Some("%Y-%m-%d"));
    // One bad value among ISO dates does not hold the layout back.
    assert_eq!(
        settled(&["2026-01-05", "2026-13-45", "2026-02-01"]).as_deref(),
        Some("%Y-%m-%d")
    );
    // Day-first or month-first: wait.
    assert_eq!(settled(&["03/02/2026", "11/12/2026"]), None);
    assert_eq!(
        settled(&["03/02/2026", "25/02/2026"]).as_deref(),
        Some("%d/%m/%Y")
    );
    // Month-first: never settled here; judged on the whole file (an error with a hint).
    assert_eq!(settled(&["02/03/2026", "02/25/2026"]), None);
}

/// The shape shown for a column of no dates is the same whatever order its values come in
/// (a file's distinct dates are kept in a hash map): it was the first the map gave.
#[test]
fn an_unreadable_date_columns_message_does_not_depend_on_order() {
    let a = detect_date_format(["xx-yy", "ab12"].into_iter()).unwrap_err();
    let b = detect_date_format(["ab12", "xx-yy"].into_iter()).unwrap_err();
    assert_eq!(a, b);
    assert!(a.message.contains("'AA99'"), "{a}");
}
