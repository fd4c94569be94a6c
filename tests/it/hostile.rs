//! What a hostile or merely messy extract does to the outputs people open (issue 23): codes
//! that would share a file name or that no file system accepts, characters XML refuses, cells
//! over Excel's limit, runs that fail half way or replace an earlier run, NHS numbers where a
//! practice code should be, doses beyond any real regimen. Every number is worked by hand in
//! the comments; the audit date is 2026-10-31 throughout.

use super::{opal, read};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

const HEADER: &str = "patient_id,practice_code,ics_code,issue_date,drug_name,quantity,dose_text\n";

/// One row of an extract with an ICS column; cells are written as given (quote them when
/// they need it).
fn row(
    patient: &str,
    practice: &str,
    ics: &str,
    date: &str,
    drug: &str,
    qty: &str,
    dose: &str,
) -> String {
    format!("{patient},{practice},{ics},{date},{drug},{qty},{dose}\n")
}

/// A CSV cell, quoted.
fn q(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    out: PathBuf,
}

/// `opal audit` on `text` written to `<dir>/<name>.csv`, into `<dir>/<name>` (or `out`).
fn audit_text(dir: &Path, name: &str, text: &str, extra: &[&str]) -> Run {
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).unwrap();
    let out = dir.join(name);
    audit_into(&path, &out, extra)
}

fn audit_into(path: &Path, out: &Path, extra: &[&str]) -> Run {
    let mut args = vec![
        "audit",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = opal(&args);
    assert!(!stderr.contains("panicked"), "{stderr}");
    Run {
        code,
        stdout,
        stderr,
        out: out.to_path_buf(),
    }
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// Every file under `dir`, as paths relative to it.
fn files_under(dir: &Path) -> BTreeSet<String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else {
                let rel = e.path().strip_prefix(root).unwrap().to_path_buf();
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    if dir.exists() {
        walk(dir, dir, &mut out);
    }
    out
}

/// Issue 23.6. MST Continus 60 mg, 56 tablets:
/// - P1 "take 1000000 tablets daily": beyond the 50 a day of any real regimen, so the
///   directions are unparsed and the default 28 days apply: 56 × 60 ÷ 28 = 120 mg/day, not
///   above 120, so not high dose (with the directions used it would be 6e7 mg/day);
/// - P2 10,000 tablets with no directions: 357 a day over the default 28 days, refused on the
///   quantity (rejected.csv), so P2 is on no list;
/// - P3 "1 bd": 28 days, 120 mg/day, the control.
#[test]
fn implausible_doses_are_unparsed_and_absurd_supplies_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mst = "MST Continus 60mg tablets";
    let text = format!(
        "{HEADER}{}{}{}",
        row(
            "P1",
            "A81001",
            "QHM",
            "2026-10-20",
            mst,
            "56",
            "take 1000000 tablets daily"
        ),
        row("P2", "A81001", "QHM", "2026-10-20", mst, "10000", ""),
        row("P3", "A81001", "QHM", "2026-10-20", mst, "56", "1 bd"),
    );
    let r = audit_text(dir.path(), "doses", &text, &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let items = read(&r.out.join("items.csv"));
    let p1 = items.iter().find(|i| i["patient_id"] == "P1").unwrap();
    assert_eq!(p1["dose_status"], "implausible");
    assert_eq!(p1["days_supply"], "28");
    assert_eq!(p1["days_supply_source"], "default");
    assert_eq!(p1["ome_mg_day"], "120");
    assert_eq!(p1["instructed_ome_mg_day"], "");
    let p3 = items.iter().find(|i| i["patient_id"] == "P3").unwrap();
    assert_eq!(p3["dose_status"], "parsed");
    assert!(items.iter().all(|i| i["patient_id"] != "P2"));
    let rejected = read(&r.out.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["column"], "quantity");
    assert!(
        rejected[0]["reason"].contains("357.1 units a day")
            && rejected[0]["reason"].contains("beyond any real regimen"),
        "{:?}",
        rejected[0]
    );
    let patients = read(&r.out.join("patients.csv"));
    let high: Vec<&str> = patients
        .iter()
        .filter(|p| p["high_dose"] == "true")
        .map(|p| p["patient_id"].as_str())
        .collect();
    assert!(high.is_empty(), "{high:?}");
    assert_eq!(manifest(&r.out)["rows"]["rejected"], 1);
}

/// Issue 23.5: NHS numbers in any written form in the practice or ICS column are rejected
/// rows, never practices or ICSs, and the number appears nowhere: not on the terminal, in the
/// manifest, the summaries, rejected.csv, the report, or a pack's folder name.
/// 943 476 5919 passes the Modulus 11 check (NHS Data Dictionary's example).
#[test]
fn formatted_nhs_numbers_never_become_practices_or_icss() {
    let dir = tempfile::tempdir().unwrap();
    let mst = "MST Continus 60mg tablets";
    let forms = [
        "943-476-5919",
        "NHS 9434765919",
        "nhs no: 943 476 5919",
        "943.476.5919",
    ];
    let mut text = String::from(HEADER);
    text.push_str(&row("P0", "A81001", "QHM", "2026-10-20", mst, "56", "1 bd"));
    for (i, f) in forms.iter().enumerate() {
        text.push_str(&row(
            &format!("P{}", i + 1),
            f,
            "QHM",
            "2026-10-20",
            mst,
            "56",
            "1 bd",
        ));
        text.push_str(&row(
            &format!("Q{}", i + 1),
            "A81001",
            f,
            "2026-10-20",
            mst,
            "56",
            "1 bd",
        ));
    }
    let r = audit_text(dir.path(), "nhs", &text, &["--report", "--practice-packs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let m = manifest(&r.out);
    assert_eq!(m["rows"]["used"], 1, "{}", m["rows"]);
    assert_eq!(m["rows"]["rejected"], 8, "{}", m["rows"]);
    let rejected = read(&r.out.join("rejected.csv"));
    let columns: BTreeSet<&str> = rejected.iter().map(|x| x["column"].as_str()).collect();
    assert_eq!(columns, BTreeSet::from(["ics_code", "practice_code"]));
    for x in &rejected {
        assert!(x["reason"].contains("looks like an NHS number"), "{x:?}");
        assert_eq!(x["value"], "", "{x:?}");
    }
    let mut shown = format!("{}{}", r.stdout, r.stderr);
    for f in files_under(&r.out) {
        shown.push_str(&f);
        if !f.ends_with(".xlsx") {
            shown.push_str(&std::fs::read_to_string(r.out.join(&f)).unwrap());
        }
    }
    for digits in [
        "9434765919",
        "943-476-5919",
        "943 476 5919",
        "943.476.5919",
        "943_476_5919",
    ] {
        assert!(!shown.contains(digits), "{digits} is shown");
    }
}
