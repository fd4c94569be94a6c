//! Hostile and messy input: every case meets a clear message or a counted rejected row, never
//! a panic, and the row accounting always adds up. The corpus is `tests/data/bad/`.

use super::read as rows;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bad(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/bad")
        .join(name)
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

fn audit(input: &Path, extra: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut args = vec![
        "audit",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let o = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args(&args)
        .output()
        .unwrap();
    let run = Run {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        out,
        _dir: dir,
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    if run.code == 0 {
        let m = manifest(&run);
        let a = &m["rows"];
        let n = |k: &str| a[k].as_u64().unwrap();
        assert_eq!(
            n("read"),
            n("used")
                + n("not_opioid")
                + n("excluded")
                + n("unresolved")
                + n("rejected")
                + n("after_as_of"),
            "accounting of {}: {a}",
            input.display()
        );
    }
    run
}

fn manifest(run: &Run) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(run.out.join("manifest.json")).unwrap()).unwrap()
}

fn error(run: &Run) -> &str {
    assert_eq!(run.code, 1, "stdout {}\nstderr {}", run.stdout, run.stderr);
    run.stderr.as_str()
}

#[test]
fn empty_and_header_only() {
    let r = audit(&bad("empty.csv"), &[]);
    let e = error(&r);
    assert!(
        e.contains("empty.csv is empty\nhint: check the export finished"),
        "{e}"
    );
    let r = audit(&bad("header_only.csv"), &[]);
    assert!(error(&r)
        .contains("error: the extract has a header but no rows\nhint: check the export finished"));
}

#[test]
fn binary_garbage_and_prose() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.csv");
    std::fs::write(
        &garbage,
        (0..4096u32)
            .map(|i| (i * 7 % 256) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let r = audit(&garbage, &[]);
    assert!(
        error(&r).contains("garbage.csv is not a text file (it has binary bytes)\nhint:"),
        "{}",
        r.stderr
    );
    let gz = dir.path().join("broken.csv.gz");
    std::fs::write(&gz, [0x1f, 0x8b, 8, 0, 1, 2, 3]).unwrap();
    let r = audit(&gz, &[]);
    assert!(
        error(&r).contains("broken.csv.gz: cannot decompress the gzip data"),
        "{}",
        r.stderr
    );
    let r = audit(&bad("not_a_csv.txt"), &[]);
    let e = error(&r);
    assert!(
        e.contains("not_a_csv.txt: no column for patient_id, practice_code, issue_date, quantity, one of drug_name, dmd_code, bnf_code (found: Minutes of the practice meeting, 3 October)"),
        "{e}"
    );
    assert!(e.contains("hint: name the column patient_id"), "{e}");
}

#[test]
fn column_problems() {
    let r = audit(&bad("missing_columns.csv"), &[]);
    let e = error(&r);
    assert!(e.contains("missing_columns.csv: no column for issue_date (found: patient_id, practice_code, drug_name, quantity)"), "{e}");
    assert!(e.contains("--column issue_date=\"Your Header\""), "{e}");
    let r = audit(&bad("duplicate_columns.csv"), &[]);
    assert!(
        error(&r).contains("the header 'Quantity' appears twice (also as 'quantity')"),
        "{}",
        r.stderr
    );
    // Unknown extra columns are ignored; the manifest says which columns were used.
    let r = audit(
        &bad("extra_columns.csv"),
        &["--as-of", "2026-10-31", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&r);
    assert_eq!(m["inputs"][0]["columns"]["dose_text"], "dose_text");
    assert!(m["inputs"][0]["columns"].get("colour").is_none());
    assert_eq!(m["rows"]["used"], 1);
    let r = audit(&bad("ragged.csv"), &[]);
    assert!(error(&r).contains("ragged.csv: line 2 has 7 fields but the header has 6\nhint: a field with a comma or a line break must be quoted"), "{}", r.stderr);
}

#[test]
fn quoted_newlines_keep_line_numbers_exact() {
    let r = audit(
        &bad("quoted_newline.csv"),
        &["--as-of", "2026-10-31", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rejected = rows(&r.out.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    // The first record spans lines 2-3, so the bad quantity is on line 4.
    assert_eq!(rejected[0]["line"], "4");
    assert_eq!(rejected[0]["reason"], "quantity 0 must be above zero");
    let items = rows(&r.out.join("items.csv"));
    assert_eq!(items[0]["dose_text"], "one twice daily,\nswallow whole");
    assert_eq!(items[0]["days_supply_source"], "dose");
}

/// Issue 18: a quoted field with text after its closing quote is not joined up (as csv-core
/// would) but named by its line; an unclosed quote by the line it opens on.
#[test]
fn quotes_that_cannot_be_read_for_sure_name_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let head = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n";
    let good = "P1,A81001,2026-10-01,MST Continus 10mg tablets,56,\"1 bd\"\n";
    let f = dir.path().join("after.csv");
    std::fs::write(
        &f,
        format!("{head}{good}P2,A81001,2026-10-01,MST Continus 10mg tablets,56,\"1 bd\"x\n{good}"),
    )
    .unwrap();
    let e = error(&audit(&f, &[])).to_string();
    assert!(
        e.contains(
            "after.csv: line 3 has a quoted field with more text after its closing quote\nhint:"
        ),
        "{e}"
    );
    let f = dir.path().join("open.csv");
    std::fs::write(
        &f,
        format!(
            "{head}{good}{good}P2,A81001,2026-10-01,MST Continus 10mg tablets,56,\"1 bd\n{good}"
        ),
    )
    .unwrap();
    let e = error(&audit(&f, &[])).to_string();
    assert!(
        e.contains("open.csv: line 4 opens a quote (\") that is never closed"),
        "{e}"
    );
}

#[test]
fn short_rows_and_blank_lines() {
    let r = audit(
        &bad("short_and_blank.csv"),
        &["--as-of", "2026-10-31", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&r);
    assert_eq!(m["rows"]["read"], 2);
    assert_eq!(m["rows"]["blank_lines"], 2);
    let rejected = rows(&r.out.join("rejected.csv"));
    assert_eq!(
        rejected[0]["reason"],
        "no drug name, dm+d code or BNF code (a short row?)"
    );
    assert_eq!(rejected[0]["line"], "2");
}

#[test]
fn spreadsheet_mangled_codes() {
    let r = audit(
        &bad("excel_codes.csv"),
        &["--as-of", "2026-10-31", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let unresolved = rows(&r.out.join("unresolved.csv"));
    assert_eq!(unresolved.len(), 1);
    assert_eq!(
        unresolved[0]["reason"],
        "dm+d code '3.60572E+16' was turned into a number by a spreadsheet (scientific notation), so its digits are lost; export the code column as text"
    );
    let m = manifest(&r);
    assert_eq!(
        m["rows"]["used"], 1,
        "the BNF code with its zero restored is used"
    );
    assert_eq!(m["rows"]["bnf_leading_zero_restored"], 1);
    assert!(
        r.stderr.contains(
            "warning: 1 BNF codes had 14 characters (a leading zero lost in a spreadsheet)"
        ),
        "{}",
        r.stderr
    );
}

#[test]
fn bad_quantities_are_rejected_rows() {
    let r = audit(
        &bad("bad_quantities.csv"),
        &["--as-of", "2026-10-31", "--quiet"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rejected = rows(&r.out.join("rejected.csv"));
    let reasons: Vec<&str> = rejected.iter().map(|x| x["reason"].as_str()).collect();
    assert_eq!(
        reasons,
        [
            "quantity 0 must be above zero",
            "quantity -28 must be above zero",
            "quantity 'lots' is not a number",
            "quantity is empty",
        ]
    );
    assert_eq!(
        rejected
            .iter()
            .map(|x| x["line"].as_str())
            .collect::<Vec<_>>(),
        ["2", "3", "4", "5"]
    );
    assert_eq!(manifest(&r)["rows"]["used"], 1);
    // Under --strict the first one stops the run with exit code 3.
    let r = audit(
        &bad("bad_quantities.csv"),
        &["--as-of", "2026-10-31", "--strict"],
    );
    assert_eq!(r.code, 3);
    assert!(
        r.stderr.contains(
            "bad_quantities.csv: line 2: column quantity: '0': quantity 0 must be above zero"
        ),
        "{}",
        r.stderr
    );
    assert!(
        !r.out.join("review_list.csv").exists(),
        "no outputs after --strict stops"
    );
    // items.csv is written while the extract is read: a stopped run leaves neither it, its
    // temporary file, nor the --out folder it made.
    assert!(
        !r.out.exists(),
        "the --out folder made for the run is removed"
    );
    let listing: Vec<_> = std::fs::read_dir(r.out.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(listing.is_empty(), "{listing:?}");
    // Without --out, the temporary items file sits in the working folder until the end.
    let dir = tempfile::tempdir().unwrap();
    let run_in = |last: &str| {
        Command::new(env!("CARGO_BIN_EXE_opal"))
            .args([
                "audit",
                bad("bad_quantities.csv").to_str().unwrap(),
                "--as-of",
                "2026-10-31",
                last,
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    assert_eq!(run_in("--strict").status.code(), Some(3));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    let o = run_in("--quiet");
    assert_eq!(o.status.code(), Some(0));
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["opal-audit-2026-10-31"]);
    assert!(dir.path().join("opal-audit-2026-10-31/items.csv").exists());
}

#[test]
fn impossible_and_future_dates() {
    let r = audit(&bad("bad_dates.csv"), &["--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rejected = rows(&r.out.join("rejected.csv"));
    assert_eq!(rejected[0]["value"], "2026-02-30");
    assert_eq!(
        rejected[0]["reason"],
        "not a date in the layout %Y-%m-%d of this file"
    );
    assert_eq!(rejected[1]["value"], "2099-01-01");
    assert!(
        rejected[1]["reason"].starts_with("issue date is in the future (after today, "),
        "{}",
        rejected[1]["reason"]
    );
    // The future typo did not become the audit date.
    assert_eq!(manifest(&r)["as_of"], "2026-10-04");
    // US month-first dates are an error with a hint, not a guess.
    let dir = tempfile::tempdir().unwrap();
    let us = dir.path().join("us.csv");
    std::fs::write(&us, "patient_id,practice_code,issue_date,drug_name,quantity\nP1,A,10/31/2026,MST Continus 60mg tablets,56\nP2,A,12/25/2026,MST Continus 60mg tablets,56\n").unwrap();
    let r = audit(&us, &[]);
    assert!(error(&r).contains("issue_date: the dates look month-first (US style, e.g. 10/31/2026)\nhint: if they are, pass --date-format %m/%d/%Y"), "{}", r.stderr);
    let r = audit(
        &us,
        &[
            "--date-format",
            "%m/%d/%Y",
            "--as-of",
            "2026-12-31",
            "--quiet",
        ],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn unknown_practices_and_wrong_files() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("practices.csv");
    std::fs::write(&map, "practice_code,ics_code\nA81001,QHM\n").unwrap();
    let r = audit(
        &bad("unknown_practice.csv"),
        &[
            "--practices",
            map.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--quiet",
        ],
    );
    assert_eq!(r.code, 0);
    assert!(
        r.stderr.contains(
            "warning: 1 practice(s) have no ICS (Z99999): they are summarised under UNKNOWN"
        ),
        "{}",
        r.stderr
    );
    let r = audit(&bad("epd_given_to_audit.csv"), &[]);
    assert!(error(&r).contains("hint: this looks like an English Prescribing Dataset file (practice totals, no patients): use `opal epd` for it"), "{}", r.stderr);
}

#[test]
fn very_long_fields_and_invalid_utf8() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("long.csv");
    let long = "take one twice daily ".repeat(10_000);
    let mut bytes = format!("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\nP1,A,2026-10-04,MST Continus 60mg tablets,56,\"{long}\"\n").into_bytes();
    // An invalid UTF-8 byte (Windows-1252 pound sign) in a name.
    bytes.extend_from_slice(b"P2,A,2026-10-04,MST Continus 60mg tablets \xa3,56,1 bd\n");
    std::fs::write(&f, bytes).unwrap();
    let r = audit(&f, &["--as-of", "2026-10-31", "--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&r);
    assert_eq!(m["rows"]["used"], 2);
}

#[test]
fn no_identifier_reaches_the_terminal_or_the_manifest() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ids.csv");
    let mut text =
        String::from("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n");
    let ids: Vec<String> = (0..30).map(|i| format!("9434765{i:03}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let qty = if i % 3 == 0 { "0" } else { "84" };
        text.push_str(&format!(
            "{id},A,2026-10-04,MST Continus 60mg tablets,{qty},one three times a day\n"
        ));
    }
    text.push_str(",A,2026-10-04,MST Continus 60mg tablets,84,1 tds\n");
    std::fs::write(&f, text).unwrap();
    for extra in [
        &["--as-of", "2026-10-31"][..],
        &["--as-of", "2026-10-31", "--strict"][..],
    ] {
        let r = audit(&f, extra);
        let manifest_text =
            std::fs::read_to_string(r.out.join("manifest.json")).unwrap_or_default();
        for id in &ids {
            assert!(!r.stdout.contains(id.as_str()), "{id} on stdout");
            assert!(!r.stderr.contains(id.as_str()), "{id} on stderr");
            assert!(!manifest_text.contains(id.as_str()), "{id} in the manifest");
        }
    }
}
