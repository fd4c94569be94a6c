//! What a hostile or merely messy extract does to the outputs people open (issue 23): codes
//! that would share a file name or that no file system accepts, characters XML refuses, cells
//! over Excel's limit, runs that fail half way or replace an earlier run, NHS numbers where a
//! practice code should be, doses beyond any real regimen. Every number is worked by hand in
//! the comments; the audit date is 2026-10-31 throughout.

use super::{opal, read};
use std::collections::BTreeSet;
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

/// One high-dose patient: MST Continus 60 mg, 56 tablets "2 bd" (14 days, 240 mg/day) on the
/// 1st of each of the 14 months to October 2026, so that the trend has month ends to chart.
fn high_dose_rows(patient: &str, practice: &str, ics: &str) -> String {
    (0..14)
        .map(|k| {
            let (y, m) = if k < 10 {
                (2026, 10 - k)
            } else {
                (2025, 22 - k)
            };
            row(
                &q(patient),
                &q(practice),
                &q(ics),
                &format!("{y}-{m:02}-01"),
                "MST Continus 60mg tablets",
                "56",
                "2 bd",
            )
        })
        .collect()
}

/// Codes that differ only where a file name cannot: each practice's folder and charts are
/// its own (issue 23.1). Before, 16 practices gave 11 folders, 121 rows were in no pack, the
/// manifest listed a file twice and 20 series gave 15 charts.
const COLLIDING: &[&str] = &[
    "a/b",
    "a_b",
    "a.b",
    "a b",
    "..",
    "__",
    "Y90001.",
    "Y90001_",
    "\u{178}9000",
    "\u{dd}9000",
    "Ab12",
    "aB12",
    "CON",
    "AUX",
    "NUL",
    "COM1",
];

#[test]
fn packs_and_charts_have_one_portable_name_per_code() {
    let dir = tempfile::tempdir().unwrap();
    let long = "L".repeat(300);
    let mut codes: Vec<String> = COLLIDING.iter().map(|c| c.to_string()).collect();
    codes.push(long.clone());
    let mut text = String::from(HEADER);
    for (i, c) in codes.iter().enumerate() {
        // ICS codes that differ only in case, too.
        let ics = if i % 2 == 0 { "ALL" } else { "all" };
        text.push_str(&high_dose_rows(&format!("P{i}"), c, ics));
    }
    let r = audit_text(
        dir.path(),
        "codes",
        &text,
        &["--practice-packs", "--xlsx", "--report"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let review = read(&r.out.join("review_list.csv"));
    assert_eq!(review.len(), codes.len());
    // One folder per practice, distinct ignoring case, each holding that practice's row.
    let index = read(&r.out.join("practices/index.csv"));
    assert_eq!(index.len(), codes.len());
    let folders: BTreeSet<String> = index.iter().map(|x| x["folder"].to_lowercase()).collect();
    assert_eq!(folders.len(), codes.len(), "{folders:?}");
    let mut in_packs = 0;
    for x in &index {
        let name = x["folder"].strip_prefix("practices/").unwrap();
        assert!(name.len() <= 53, "{name}");
        let stem = name.split('.').next().unwrap().to_ascii_uppercase();
        assert!(
            !["CON", "AUX", "NUL", "COM1", "PRN"].contains(&stem.as_str()),
            "{name}"
        );
        let rows = read(&r.out.join(&x["folder"]).join("review_list.csv"));
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!(rows[0]["practice_code"], x["practice_code"]);
        assert_eq!(x["review_list_patients"], "1");
        in_packs += rows.len();
        let page = std::fs::read_to_string(r.out.join(&x["folder"]).join("report.html")).unwrap();
        assert!(page.contains("Opioid review pack"), "{name}");
    }
    assert_eq!(in_packs, review.len());
    let codes_in_index: BTreeSet<&str> =
        index.iter().map(|x| x["practice_code"].as_str()).collect();
    let given: BTreeSet<&str> = codes.iter().map(|c| c.as_str()).collect();
    assert_eq!(codes_in_index, given);
    // The manifest lists every file once, and each pack's folder with its code.
    let m = manifest(&r.out);
    let outputs: Vec<&str> = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let unique: BTreeSet<&str> = outputs.iter().copied().collect();
    assert_eq!(unique.len(), outputs.len());
    assert_eq!(m["practice_packs"].as_array().unwrap().len(), codes.len());
    assert_eq!(
        files_under(&r.out).len(),
        outputs.len() + 1,
        "every file is listed"
    );

    // The trend: two charts per practice (high dose, per 1000 absent without list sizes:
    // one), each its own file, listed in charts/index.csv.
    let path = dir.path().join("codes.csv");
    let out = dir.path().join("trend");
    let (code, _, stderr) = opal(&[
        "trend",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let charts = read(&out.join("charts/index.csv"));
    let practice_charts: Vec<_> = charts.iter().filter(|c| c["level"] == "practice").collect();
    assert_eq!(practice_charts.len(), codes.len());
    let ics_charts: Vec<_> = charts.iter().filter(|c| c["level"] == "ics").collect();
    assert_eq!(ics_charts.len(), 2, "ALL and all");
    let files: BTreeSet<String> = charts.iter().map(|c| c["file"].to_lowercase()).collect();
    assert_eq!(files.len(), charts.len());
    let on_disk = std::fs::read_dir(out.join("charts")).unwrap().count();
    assert_eq!(on_disk, charts.len() + 1, "charts and the index");
}

/// Issue 23.2: U+FFFE, U+FFFF and control characters in a practice's code and name never
/// reach an SVG, HTML page or workbook: replaced by U+FFFD, so each is well-formed.
#[test]
fn xml_outputs_hold_no_character_xml_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let code = "X\u{fffe}1\u{ffff}\u{1}";
    let text = format!("{HEADER}{}", high_dose_rows("P1", code, "Q\u{fffe}A"));
    let r = audit_text(
        dir.path(),
        "xml",
        &text,
        &["--practice-packs", "--xlsx", "--report"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let path = dir.path().join("xml.csv");
    let out = dir.path().join("trend");
    let (c, _, stderr) = opal(&[
        "trend",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--report",
    ]);
    assert_eq!(c, 0, "{stderr}");
    let mut checked = 0;
    for root in [&r.out, &out] {
        for f in files_under(root) {
            if f.ends_with(".svg") || f.ends_with(".html") {
                let page = std::fs::read_to_string(root.join(&f)).unwrap();
                let bad: Vec<char> = page
                    .chars()
                    .filter(|&c| {
                        matches!(c, '\u{fffe}' | '\u{ffff}') || (c < ' ' && !"\t\n\r".contains(c))
                    })
                    .collect();
                assert!(bad.is_empty(), "{f}: {bad:?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{checked}");
    // The workbook opens (calamine parses its XML) and shows the replacement character.
    use calamine::Reader;
    let index = read(&r.out.join("practices/index.csv"));
    let xlsx = r.out.join(&index[0]["folder"]).join("review_list.xlsx");
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
    let sheet = wb.worksheet_range("review list").unwrap();
    let cells: Vec<String> = sheet
        .rows()
        .nth(1)
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(
        cells.iter().any(|c| c == "X\u{fffd}1\u{fffd}\u{fffd}"),
        "{cells:?}"
    );
}

/// The review list's sheet is written by opal (write/xlsx.rs), not rust_xlsxwriter: text that
/// looks like Excel's own escapes (`_x0041_`), markup, a carriage return and spaces at the
/// ends come back from the workbook exactly as the CSV has them, in the whole list's and
/// the pack's workbooks alike.
#[test]
fn workbook_text_reads_back_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let ids = [" P_x0041_1", "P<b>&amp;2 ", "P_x00e9_\r3"];
    let text: String = std::iter::once(HEADER.to_string())
        .chain(
            ids.iter()
                .map(|id| high_dose_rows(&id.replace("\\r", "\r"), "A81001", "QHM")),
        )
        .collect();
    let r = audit_text(
        dir.path(),
        "escapes",
        &text,
        &["--xlsx", "--practice-packs"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut want: Vec<String> = read(&r.out.join("review_list.csv"))
        .iter()
        .map(|row| row["patient_id"].clone())
        .collect();
    assert_eq!(want.len(), 3, "{want:?}");
    assert!(want.iter().any(|w| w.contains('\r')), "{want:?}");
    want.sort();
    let index = read(&r.out.join("practices/index.csv"));
    for xlsx in [
        r.out.join("review_list.xlsx"),
        r.out.join(&index[0]["folder"]).join("review_list.xlsx"),
    ] {
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).unwrap();
        let sheet = wb.worksheet_range("review list").unwrap();
        let mut got: Vec<String> = sheet.rows().skip(1).map(|row| row[0].to_string()).collect();
        got.sort();
        assert_eq!(got, want, "{}", xlsx.display());
    }
}

/// Issue 23.3: a review-list cell over Excel's 32,767 characters (a patient id of 40,000) is
/// cut in the workbook with a marker and counted in the manifest's warnings; the run ends
/// well and the CSV keeps the whole id.
#[test]
fn a_cell_over_excels_limit_is_cut_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let id = format!("P{}", "9".repeat(39_999));
    let text = format!("{HEADER}{}", high_dose_rows(&id, "A81001", "QHM"));
    let r = audit_text(dir.path(), "long", &text, &["--xlsx", "--practice-packs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let review = read(&r.out.join("review_list.csv"));
    assert_eq!(review[0]["patient_id"], id);
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> =
        calamine::open_workbook(r.out.join("review_list.xlsx")).unwrap();
    let sheet = wb.worksheet_range("review list").unwrap();
    let cell = sheet.get((1, 0)).unwrap().to_string();
    assert_eq!(cell.chars().count(), 32_767);
    assert!(
        cell.ends_with("the whole text is in review_list.csv]"),
        "{}",
        &cell[cell.len() - 100..]
    );
    let m = manifest(&r.out);
    let warnings: Vec<&str> = m["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("review_list.xlsx: 1 cell(s) longer than Excel's 32767")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.starts_with("practices/A81001/review_list.xlsx:")),
        "{warnings:?}"
    );
    // The warning names no patient.
    assert!(warnings.iter().all(|w| !w.contains("9999999999")));
}

/// Issue 23.4: a run that fails after it began writing (items.csv is written as the extract
/// is read; then --previous-as-of is found to be after the audit date) leaves nothing: no
/// output folder, no staging folder.
#[test]
fn a_run_that_fails_half_way_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{HEADER}{}", high_dose_rows("P1", "A81001", "QHM"));
    let r = audit_text(
        dir.path(),
        "fails",
        &text,
        &["--previous-as-of", "2026-11-30"],
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["fails.csv"]);
}

/// Issue 23.4: `--force` replaces the previous run's outputs as a whole: a practice that
/// dropped out keeps no pack, a file the user put in the folder stays, and a practice folder
/// planted as a symbolic link is replaced by a real folder, its target untouched.
#[test]
fn force_replaces_the_previous_run_and_never_writes_through_a_link() {
    let dir = tempfile::tempdir().unwrap();
    let both = format!(
        "{HEADER}{}{}",
        high_dose_rows("P1", "A81001", "QHM"),
        high_dose_rows("P2", "B82002", "QHM")
    );
    let r = audit_text(dir.path(), "month", &both, &["--practice-packs"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.out.join("practices/B82002/review_list.csv").exists());
    std::fs::write(r.out.join("my notes.txt"), "mine").unwrap();
    let elsewhere = dir.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(r.out.join("practices/A81001")).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&elsewhere, r.out.join("practices/A81001")).unwrap();

    // Without --force the folder is refused, and left as it was.
    let one = format!("{HEADER}{}", high_dose_rows("P1", "A81001", "QHM"));
    let path = dir.path().join("month.csv");
    std::fs::write(&path, &one).unwrap();
    let refused = audit_into(&path, &r.out, &["--practice-packs"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused.stderr.contains("already exists"),
        "{}",
        refused.stderr
    );
    assert!(r.out.join("practices/B82002/review_list.csv").exists());

    let again = audit_into(&path, &r.out, &["--practice-packs", "--force"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        !r.out.join("practices/B82002").exists(),
        "the stale pack is gone"
    );
    assert_eq!(
        std::fs::read_to_string(r.out.join("my notes.txt")).unwrap(),
        "mine"
    );
    let a = r.out.join("practices/A81001");
    assert!(std::fs::symlink_metadata(&a).unwrap().is_dir());
    assert_eq!(read(&a.join("review_list.csv")).len(), 1);
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
    let listed = manifest(&r.out)["outputs"].as_array().unwrap().len();
    assert_eq!(
        files_under(&r.out).len(),
        listed + 2,
        "the outputs, the manifest, my notes"
    );
    // No staging folder is left beside or inside it.
    for d in [dir.path(), r.out.as_path()] {
        for e in std::fs::read_dir(d).unwrap() {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(!n.ends_with(".partial"), "{n}");
        }
    }
}

/// An extract with a dm+d column: (patient, dm+d code) per row, 2026-10-20, quantity 56,
/// "1 bd", no drug name.
fn coded_extract(rows: &[(String, &str)]) -> String {
    let mut text =
        String::from("patient_id,practice_code,issue_date,dmd_code,quantity,dose_text\n");
    for (p, code) in rows {
        text.push_str(&format!("{p},A81001,2026-10-20,{code},56,1 bd\n"));
    }
    text
}

/// Issue 25.4: no silent empty audit. CPRD's own product codes (EMIS's namespace 1000033)
/// given as the dm+d column resolve to nothing: 122 rows, 0 opioid items. The run says why —
/// the column is not dm+d, and no opioid in 122 rows — on the terminal and in the manifest,
/// and under --strict stops with exit 4 and writes nothing. The sample says nothing of the
/// kind.
#[test]
fn an_audit_that_finds_nothing_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let codes = [
        "12390541000033119",
        "3171541000033116",
        "5484541000033111",
        "2213941000033114",
    ];
    let rows: Vec<(String, &str)> = (0..122).map(|i| (format!("P{i}"), codes[i % 4])).collect();
    let r = audit_text(dir.path(), "cprd", &coded_extract(&rows), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "warning: the dm+d code column does not hold dm+d codes: 0 of its 4 distinct values"
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("warning: no opioid item in 122 rows"),
        "{}",
        r.stderr
    );
    let m = manifest(&r.out);
    assert_eq!(
        m["findings"].as_array().unwrap().len(),
        2,
        "{}",
        m["findings"]
    );
    let path = dir.path().join("cprd.csv");
    let strict = audit_into(&path, &dir.path().join("strict"), &["--strict"]);
    assert_eq!(strict.code, 4, "{}", strict.stderr);
    assert!(
        strict
            .stderr
            .contains("stopped (--strict): the input gave little to audit"),
        "{}",
        strict.stderr
    );
    assert!(!dir.path().join("strict").exists());

    // Codes a spreadsheet turned into numbers, no names: 30 of 40 opioid-looking rows
    // unresolved (75% > 20%).
    let mut rows: Vec<(String, &str)> = (0..30).map(|i| (format!("U{i}"), "3.60572E+16")).collect();
    rows.extend((0..10).map(|i| (format!("R{i}"), "36057211000001102")));
    let r = audit_text(dir.path(), "excel", &coded_extract(&rows), &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("warning: 30 of 40 opioid-looking rows (75%) could not be converted"),
        "{}",
        r.stderr
    );

    // The sample: no finding, no "findings" in its manifest.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/sample/extract.csv");
    let r = audit_into(&sample, &dir.path().join("sample"), &["--quiet"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(manifest(&r.out).get("findings").is_none());
    assert_eq!(r.stderr, "");
}
