//! Property tests of the parsers that meet raw extract text (the same properties the
//! cargo-fuzz targets in `fuzz/` check for longer).

use opal::names::{self, NameHints};
use opal::resolve::{ItemText, Resolver};
use opal::values::{self, DateFormat};
use proptest::prelude::*;

fn name_like() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("morphine"),
            Just("Oxycodone"),
            Just("MST"),
            Just("Continus"),
            Just("co-codamol"),
            Just("10mg"),
            Just("10"),
            Just("mg"),
            Just("/"),
            Just("5ml"),
            Just("ml"),
            Just("_Tab"),
            Just("M/R"),
            Just("patch"),
            Just("25mcg/hr"),
            Just("micrograms/hour"),
            Just("30/500"),
            Just("0.1%"),
            Just("µg"),
            Just("tablets"),
            Just("oral solution"),
            Just("injection"),
            Just("ampoules"),
            Just("Fentanyl"),
            Just("buprenorphine"),
            Just("sublingual"),
            Just("x"),
            Just("-"),
            Just("."),
            Just("e+13"),
            Just("0"),
            Just("naloxone"),
            Just("12"),
        ],
        0..10,
    )
    .prop_map(|w| w.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn names_normalise_idempotently_and_parse_sanely(text in prop_oneof![name_like(), "\\PC{0,60}"]) {
        let n = names::normalise(&text);
        prop_assert_eq!(names::normalise(&n), n.clone());
        if let Ok(p) = names::parse(&n, &[], &NameHints::default()) {
            prop_assert!(p.strength.is_finite() && p.strength > 0.0);
            prop_assert!(names::is_opioid(&p.ingredient));
        }
    }

    #[test]
    fn resolution_is_total(dmd in "[0-9E+.]{0,18}", bnf in "[0-9A-Z]{0,16}", name in name_like()) {
        let r = Resolver::builtin().resolve(ItemText { dmd_code: &dmd, bnf_code: &bnf, name: &name });
        prop_assert_eq!(r.product.is_some(), matches!(r.status, opal::resolve::Status::Resolved | opal::resolve::Status::Excluded) || r.product.is_some());
        if r.status == opal::resolve::Status::Unresolved {
            prop_assert!(r.reason.is_some());
        }
    }

    #[test]
    fn quantities_are_positive_or_a_reason(text in "\\PC{0,30}", unit in "\\PC{0,12}") {
        match values::parse_quantity(&text, &unit) {
            Ok(q) => prop_assert!(q.amount.is_finite() && q.amount > 0.0),
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn dates_round_trip(y in 1900i32..2100, m in 1u32..13, d in 1u32..32) {
        match values::days_from_civil(y, m, d) {
            Some(day) => {
                prop_assert_eq!(values::civil_from_days(day), (y, m, d));
                let iso = format!("{y:04}-{m:02}-{d:02}");
                prop_assert_eq!(values::parse_date_with(&iso, &DateFormat("%Y-%m-%d".into())), Some(day));
                let uk = format!("{d:02}/{m:02}/{y:04} 00:00");
                prop_assert_eq!(values::parse_date_with(&uk, &DateFormat("%d/%m/%Y".into())), Some(day));
            }
            None => prop_assert!(d > 28),
        }
    }

    #[test]
    fn date_parsing_is_total(text in "\\PC{0,24}") {
        for f in values::KNOWN_FORMATS {
            let _ = values::parse_date_with(&text, &DateFormat((*f).to_string()));
        }
        let _ = values::detect_date_format(std::iter::once(text.as_str()));
    }
}

/// Inputs the fuzzers found (`tests/data/fuzz/`), kept as regression tests.
#[test]
fn fuzzer_finds_stay_fixed() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fuzz");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let norm = names::normalise(&text);
        assert_eq!(names::normalise(&norm), norm, "{text:?}");
        let d = opal::dose::parse(&text);
        if let (Some(a), Some(b)) = (d.units_min, d.units_max) {
            assert!(a <= b);
        }
        let _ = values::parse_quantity(&text, "");
        n += 1;
    }
    assert!(n >= 1);
}

/// One record of the strategy below: plain text (no quote, never a blank line) or a quoted
/// field (with line breaks, separators and doubled quotes inside) and plain fields after it.
fn csv_line() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ab,é ][ab,é\r ]{0,11}",
        "\"([ab,\n]|\"\"){0,5}\"(,[ab ]{0,3}){0,3}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Issue 18: a line without a quote is split by hand, one with a quote by csv-core; each
    /// record reads as the csv crate reads it (padded to the header's 3 fields), and a record
    /// with more fields is an error.
    #[test]
    fn records_split_as_the_csv_crate_reads_them(lines in proptest::collection::vec(csv_line(), 1..12)) {
        let data = lines.join("\n");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .from_reader(data.as_bytes());
        let expected: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        match opal::read::records::split(data.as_bytes(), b',', 3, Default::default()) {
            Ok(records) => {
                prop_assert!(expected.iter().all(|r| r.len() <= 3));
                let got: Vec<Vec<String>> = (0..records.rows())
                    .map(|row| (0..3).map(|k| records.get(row, k).to_string()).collect())
                    .collect();
                let padded: Vec<Vec<String>> = expected
                    .into_iter()
                    .map(|mut r| {
                        r.resize(3, String::new());
                        r
                    })
                    .collect();
                prop_assert_eq!(got, padded);
            }
            Err(e) => {
                prop_assert!(matches!(e, opal::read::records::SplitError::Ragged { .. }), "{:?}", e);
                prop_assert!(expected.iter().any(|r| r.len() > 3));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Issue 18: any bytes at all (quotes, separators, CR and LF, invalid UTF-8) are split or
    /// refused with a reason, never a panic; every record has the header's width.
    #[test]
    fn any_bytes_split_or_refused(data in proptest::collection::vec(
        prop_oneof![Just(b'a'), Just(b','), Just(b'"'), Just(b'\n'), Just(b'\r'), Just(b' '), any::<u8>()],
        0..300,
    )) {
        if let Ok(records) = opal::read::records::split(&data, b',', 3, Default::default()) {
            for row in 0..records.rows() {
                for k in 0..3 {
                    let _ = records.get(row, k);
                }
            }
            prop_assert_eq!(records.starts().len(), records.rows());
        }
    }
}
