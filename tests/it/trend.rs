//! Issue 15: `opal trend`. Every month's measures equal `opal audit --as-of <month end>` on the
//! same data, so the trend can never drift from the audit.

use std::collections::HashMap;
use std::path::Path;

use crate::{opal, read};

const SAMPLE: &str = "data/sample/extract.csv";
const PRACTICES: &str = "data/sample/practices.csv";
const LISTS: &str = "data/sample/list_sizes.csv";

/// measures.csv as (level, code, month, measure) → (numerator, denominator, value).
fn measures(out: &Path) -> HashMap<(String, String, String, String), [String; 3]> {
    read(&out.join("measures.csv"))
        .into_iter()
        .map(|r| {
            (
                (
                    r["level"].clone(),
                    r["code"].clone(),
                    r["month"].clone(),
                    r["measure"].clone(),
                ),
                [
                    r["numerator"].clone(),
                    r["denominator"].clone(),
                    r["value"].clone(),
                ],
            )
        })
        .collect()
}

/// The summaries' columns and the trend's measures they are.
const SAME: [(&str, &str); 12] = [
    ("patients", "patients"),
    ("high_dose", "high_dose"),
    ("long_term", "long_term"),
    ("high_dose_and_long_term", "high_dose_and_long_term"),
    ("band_under_50", "band_under_50"),
    ("band_50_to_under_90", "band_50_to_under_90"),
    ("band_90_to_120", "band_90_to_120"),
    ("band_over_120", "band_over_120"),
    ("total_ome_mg_window", "total_ome_mg_window"),
    ("high_dose_per_1000", "high_dose_per_1000"),
    ("long_term_per_1000", "long_term_per_1000"),
    (
        "total_ome_mg_window_per_1000",
        "total_ome_mg_window_per_1000",
    ),
];

fn close(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        // Sums of OME added in another order (two threads) may differ in the last digit.
        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0) + 1e-6,
        _ => false,
    }
}

/// Run the trend, then the audit at each of its month ends, and compare every practice's,
/// ICS's and all practices' counts. Returns the number of cells compared.
fn trend_equals_audit(dir: &Path, extract: &str, extra: &[&str]) -> usize {
    let tout = dir.join("trend");
    let mut args = vec!["trend", extract, "--out", tout.to_str().unwrap(), "--quiet"];
    args.extend_from_slice(extra);
    let (code, _, err) = opal(&args);
    assert_eq!(code, 0, "{err}");
    let m = measures(&tout);
    let mut months: Vec<String> = m.keys().map(|k| k.2.clone()).collect();
    months.sort();
    months.dedup();
    assert!(months.len() >= 3, "{months:?}");
    let mut compared = 0;
    for month in &months {
        let as_of = read(&tout.join("measures.csv"))
            .into_iter()
            .find(|r| &r["month"] == month)
            .unwrap()["as_of"]
            .clone();
        let aout = dir.join(format!("audit-{month}"));
        let mut args = vec![
            "audit",
            extract,
            "--as-of",
            &as_of,
            "--out",
            aout.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = opal(&args);
        assert_eq!(code, 0, "{err}");
        let mut totals: HashMap<&str, f64> = HashMap::new();
        for (file, level) in [
            ("practice_summary.csv", "practice"),
            ("ics_summary.csv", "ics"),
        ] {
            for row in read(&aout.join(file)) {
                for (column, measure) in SAME {
                    let Some(want) = row.get(column) else {
                        continue;
                    };
                    let key = (
                        level.to_string(),
                        row["code"].clone(),
                        month.clone(),
                        measure.to_string(),
                    );
                    let got = &m.get(&key).unwrap_or_else(|| panic!("no {key:?}"))[2];
                    assert!(close(got, want), "{key:?}: trend {got}, audit {want}");
                    compared += 1;
                    if level == "ics" && !column.ends_with("_per_1000") {
                        *totals.entry(column).or_default() += want.parse::<f64>().unwrap();
                    }
                }
            }
        }
        // `all` is the sum over the ICSs.
        for (column, total) in totals {
            let key = (
                "all".into(),
                "ALL".into(),
                month.clone(),
                column.to_string(),
            );
            let got: f64 = m[&key][2].parse().unwrap();
            assert!((got - total).abs() <= 1e-6 * total.max(1.0), "{key:?}");
        }
    }
    compared
}

#[test]
fn the_sample_trend_equals_the_audit_at_every_month_end() {
    let dir = tempfile::tempdir().unwrap();
    let n = trend_equals_audit(
        dir.path(),
        SAMPLE,
        &["--practices", PRACTICES, "--list-sizes", LISTS],
    );
    assert!(n > 500, "{n} cells compared");
}

#[test]
fn an_eighteen_month_synthetic_trend_equals_the_audit_too() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("synth.csv");
    let (code, _, err) = opal(&[
        "synth",
        "--patients",
        "400",
        "--months",
        "18",
        "--seed",
        "7",
        "--out",
        extract.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Without list sizes, with an exclusion list and the concurrent stockpile, from an early
    // month: the other paths of the same evaluation.
    let excl = dir.path().join("exclude.csv");
    std::fs::write(
        &excl,
        "patient_id,reason\nSYN0000003,palliative\nSYN0000011,cancer\n",
    )
    .unwrap();
    let n = trend_equals_audit(
        dir.path(),
        extract.to_str().unwrap(),
        &[
            "--exclude-patients",
            excl.to_str().unwrap(),
            "--stockpile",
            "concurrent",
            "--lookback",
            "30",
        ],
    );
    assert!(n > 300, "{n} cells compared");
}

#[test]
fn the_sample_trend_writes_every_output_and_no_patient() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    let (code, stdout, err) = opal(&[
        "trend",
        SAMPLE,
        "--practices",
        PRACTICES,
        "--list-sizes",
        LISTS,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(stdout.contains("opal trend:"), "{stdout}");
    for f in ["measures.csv", "spc.csv", "aims.csv", "manifest.json"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // One chart per ICS and per practice for each high-dose measure.
    let summary = read(Path::new(PRACTICES));
    let ics: std::collections::BTreeSet<&str> =
        summary.iter().map(|r| r["ics_code"].as_str()).collect();
    for code in &ics {
        let svg =
            std::fs::read_to_string(out.join(format!("charts/ics-{code}-high_dose.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<title"), "{code}");
    }
    // The chart the README shows is this run's.
    let shipped = std::fs::read("data/sample/trend/ics-QHM-high_dose.svg").unwrap();
    let made = std::fs::read(out.join("charts/ics-QHM-high_dose.svg")).unwrap();
    assert!(
        shipped == made,
        "data/sample/trend/ics-QHM-high_dose.svg is out of date"
    );
    // No patient identifier anywhere: not in the files, not on the terminal.
    let ids: Vec<String> = read(Path::new(SAMPLE))
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .filter(|id| !id.is_empty())
        .collect();
    let mut texts = vec![stdout, err];
    for entry in walk(&out) {
        texts.push(std::fs::read_to_string(entry).unwrap());
    }
    for id in &ids {
        assert!(texts.iter().all(|t| !t.contains(id.as_str())), "{id}");
    }
    // spc.csv: the directions and rules of METHOD.md.
    let spc = read(&out.join("spc.csv"));
    for r in &spc {
        let want = match r["measure"].as_str() {
            "patients" | "band_under_50" | "band_50_to_under_90" => "neutral",
            _ => "down",
        };
        assert_eq!(r["direction"], want, "{}", r["measure"]);
        assert!(["common_cause", "improvement", "concern", "neutral"]
            .contains(&r["point_type"].as_str()));
        assert_eq!(
            r["point_type"] == "common_cause",
            r["special_cause"] == "none"
        );
        // 24 months in the sample: the limits are not trial limits.
        assert_eq!(r["trial_limits"], "false");
    }
    // The aims: high_dose and its rate for every practice, ICS and all; target = half.
    let aims = read(&out.join("aims.csv"));
    assert_eq!(aims.len(), 2 * (summary.len() + ics.len() + 1));
    for a in &aims {
        let (b, t): (f64, f64) = (a["baseline"].parse().unwrap(), a["target"].parse().unwrap());
        assert!((t - b / 2.0).abs() < 1e-6, "{a:?}");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bad_trend_months_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("t");
    for (args, says) in [
        (vec!["--from", "2026-13"], "--from '2026-13' is not a month"),
        (vec!["--to", "October"], "--to 'October' is not a month"),
        (vec!["--baseline", "2026-01"], "write it as FROM..TO"),
        (
            vec!["--baseline", "2020-01..2020-12"],
            "must lie within the trend's",
        ),
        (vec!["--from", "2026-10", "--to", "2026-05"], "no month end"),
        (vec!["--aim-reduction", "150"], "150 is not in 0..=100"),
    ] {
        let mut a = vec!["trend", SAMPLE, "--out", out.to_str().unwrap()];
        a.extend(args.iter().copied());
        let (code, _, err) = opal(&a);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!out.exists(), "nothing written on a usage error");
    }
}

/// Issue 17 (first part): report.html, for sharing.
fn check_html(page: &str) {
    assert!(page.starts_with("<!DOCTYPE html>"));
    for tag in [
        "html", "head", "body", "table", "thead", "tbody", "tr", "svg", "script", "style", "dl",
    ] {
        let open =
            page.matches(&format!("<{tag}>")).count() + page.matches(&format!("<{tag} ")).count();
        let close = page.matches(&format!("</{tag}>")).count();
        assert_eq!(open, close, "<{tag}> opened {open}, closed {close}");
    }
    // Self-contained: no address, no external script, font or style sheet.
    assert!(!page.contains("http"), "an address");
    assert!(!page.contains(" src="), "an external resource");
    assert!(!page.contains("<link"), "a linked resource");
}

/// Every table cell of a page.
fn cells(page: &str) -> Vec<String> {
    page.split("<td")
        .skip(1)
        .map(|rest| {
            let start = rest.find('>').unwrap() + 1;
            let end = rest.find("</td>").unwrap();
            rest[start..end].to_string()
        })
        .collect()
}

#[test]
fn the_report_is_self_contained_holds_no_patient_and_suppresses_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<String> = read(Path::new(SAMPLE))
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .filter(|id| !id.is_empty())
        .collect();
    for suppress in [false, true] {
        let out = dir.path().join(format!("a{suppress}"));
        let mut args = vec![
            "audit",
            SAMPLE,
            "--practices",
            PRACTICES,
            "--list-sizes",
            LISTS,
            "--report",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ];
        if suppress {
            args.push("--suppress");
        }
        let (code, _, err) = opal(&args);
        assert_eq!(code, 0, "{err}");
        let page = std::fs::read_to_string(out.join("report.html")).unwrap();
        check_html(&page);
        for id in &ids {
            assert!(!page.contains(id.as_str()), "{id} in the report");
        }
        assert!(page.contains("<caption>Current opioid patients by ICS"));
        assert!(page.contains("<caption>Current opioid patients by practice"));
        // A chart per ICS (and all practices) for each measure charted: high dose, long-term,
        // both, and the two rates per 1000; then the meeting page.
        let head = &page[..page.find("<h2 id=\"meeting-").unwrap_or(page.len())];
        let svgs = head.matches("<svg ").count();
        if suppress {
            assert!(page.contains("Counts are suppressed for sharing"));
            // The charts stay, drawn from the months shown; hidden months are gaps, said so.
            assert!(svgs > 1, "{svgs}");
            assert!(page.contains("hidden by --suppress are gaps"));
            for c in cells(&page) {
                let small = c.parse::<u64>().is_ok_and(|n| (1..=7).contains(&n));
                assert!(!small, "a count of {c} in the suppressed report");
            }
        } else {
            assert!(page.contains("Counts are not suppressed"));
            assert!(page.contains("Progress against the aim"));
            assert_eq!(
                svgs,
                4 * 5 + 1,
                "QHM, QOX, QUY and all: high dose, long-term, both and two rates; and the key"
            );
            assert!(page.contains("How to read these charts"));
            // The meeting page: per ICS, a table of every practice (with its PCN), then each
            // practice's high-dose, long-term and both charts, grouped by PCN.
            for ics in ["QHM", "QOX", "QUY"] {
                assert!(page.contains(&format!(
                    "<h2 id=\"meeting-{ics}\">Every practice of {ics}: high-dose patients</h2>"
                )));
            }
            assert_eq!(page.matches("<h3>PCN Synthetic PCN").count(), 6);
            assert_eq!(page.matches("<div class=\"multiples\">").count(), 16);
            let meeting = &page[head.len()..];
            assert!(meeting.contains("Patients on opioids for more than the long-term limit"));
        }
    }
    // opal trend --report: the charts and aims, no tables of patients.
    let out = dir.path().join("t");
    let (code, _, err) = opal(&[
        "trend",
        SAMPLE,
        "--practices",
        PRACTICES,
        "--report",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(out.join("report.html")).unwrap();
    check_html(&page);
    let head = &page[..page.find("<h2 id=\"meeting-").unwrap_or(page.len())];
    assert_eq!(
        head.matches("<svg ").count(),
        4 * 3 + 1,
        "per ICS and all: high dose, long-term and both, no rates; and the key"
    );
    // Without --report, no report: the audit's default outputs are unchanged.
    let plain = dir.path().join("plain");
    let (code, _, _) = opal(&["audit", SAMPLE, "--quiet", "--out", plain.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(!plain.join("report.html").exists());
}

#[test]
fn a_practice_pack_holds_only_its_own_patients() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, _, err) = opal(&[
        "audit",
        SAMPLE,
        "--practices",
        PRACTICES,
        "--list-sizes",
        LISTS,
        "--exclude-patients",
        "data/sample/exclusions.csv",
        "--practice-packs",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Each patient's practice: the latest in patients.csv, and the practice then for those
    // resolved.
    let mut practice_of: HashMap<String, Vec<String>> = HashMap::new();
    for r in read(&out.join("patients.csv")) {
        practice_of
            .entry(r["patient_id"].clone())
            .or_default()
            .push(r["practice_code"].clone());
    }
    for r in read(&out.join("resolved.csv")) {
        practice_of
            .entry(r["patient_id"].clone())
            .or_default()
            .push(r["practice_code"].clone());
    }
    let ids: Vec<String> = read(Path::new(SAMPLE))
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .filter(|id| !id.is_empty())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let practices = read(Path::new(PRACTICES));
    let mut listed = 0;
    for p in &practices {
        let code = &p["practice_code"];
        let pack = out.join("practices").join(code);
        let review = read(&pack.join("review_list.csv"));
        let resolved = read(&pack.join("resolved.csv"));
        listed += review.len();
        for r in review.iter().chain(&resolved) {
            assert_eq!(&r["practice_code"], code);
            assert!(practice_of[&r["patient_id"]].contains(code));
        }
        // The page names no patient of another practice.
        let page = std::fs::read_to_string(pack.join("report.html")).unwrap();
        check_html(&page);
        for id in &ids {
            let ours = practice_of.get(id).is_some_and(|ps| ps.contains(code));
            if !ours {
                assert!(!page.contains(&format!(">{id}<")), "{id} in {code}'s pack");
            }
        }
        assert!(page.contains("For the practice"));
        // Each listed patient's row shows their current products and last issue date, as
        // the review list has them (a work list the practice can act on).
        for r in &review {
            // Each current product on its own line, with its directions and dates.
            for name in r["current_products"].split("; ").filter(|n| !n.is_empty()) {
                assert!(page.contains(&format!("<b>{name}</b>")), "{code}: {name}");
            }
            assert!(
                page.contains(&format!(">{}<", r["last_issue_date"])),
                "{code}"
            );
        }
    }
    // Together the packs hold the whole review list.
    assert_eq!(listed, read(&out.join("review_list.csv")).len());
}

#[test]
fn review_list_xlsx_has_the_csv_rows_typed() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("o");
    let (code, _, err) = opal(&[
        "audit",
        SAMPLE,
        "--practices",
        PRACTICES,
        "--list-sizes",
        LISTS,
        "--xlsx",
        "--practice-packs",
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    for folder in [out.clone(), out.join("practices").join("Y90002")] {
        let csv = read(&folder.join("review_list.csv"));
        let mut wb: Xlsx<_> = open_workbook(folder.join("review_list.xlsx")).unwrap();
        let sheet = wb.worksheet_range("review list").unwrap();
        let mut rows = sheet.rows();
        let header: Vec<String> = rows.next().unwrap().iter().map(|c| c.to_string()).collect();
        let csv_header: Vec<String> = {
            let mut r = csv::Reader::from_path(folder.join("review_list.csv")).unwrap();
            r.headers().unwrap().iter().map(String::from).collect()
        };
        // The list's columns, then the three the practice fills in (empty).
        assert_eq!(header[..csv_header.len()], csv_header[..]);
        assert_eq!(
            header[csv_header.len()..],
            ["outcome", "review_date", "next_review"]
        );
        let body: Vec<_> = rows.collect();
        assert_eq!(body.len(), csv.len(), "{}", folder.display());
        assert!(!body.is_empty());
        let epoch = opal::values::days_from_civil(1899, 12, 30).unwrap();
        for (x, c) in body.iter().zip(&csv) {
            for (j, name) in header.iter().enumerate() {
                let Some(want) = c.get(name) else {
                    assert!(matches!(x.get(j), None | Some(Data::Empty)), "{name}");
                    continue;
                };
                let same = match &x[j] {
                    Data::Empty => want.is_empty(),
                    Data::String(s) => s == want,
                    Data::Float(f) => want.parse::<f64>().is_ok_and(|w| (w - f).abs() < 1e-6),
                    Data::Int(i) => want.parse::<i64>() == Ok(*i),
                    Data::Bool(b) => want == if *b { "true" } else { "false" },
                    Data::DateTime(d) => {
                        // A date, as a date: Excel's day number.
                        let day = opal::values::parse_date_with(
                            want,
                            &opal::values::DateFormat("%Y-%m-%d".into()),
                        )
                        .unwrap();
                        (d.as_f64() - f64::from(day - epoch)).abs() < 1e-9
                    }
                    other => panic!("{name}: {other:?}"),
                };
                assert!(same, "{name}: xlsx {:?}, csv {want:?}", x[j]);
            }
        }
        // The sheet that explains each column.
        let about = wb.worksheet_range("columns").unwrap();
        assert_eq!(about.rows().count(), header.len() + 1);
    }
    // The same inputs give the same workbook, whenever it is made: its creation date is the
    // audit date, not the clock's.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let again = dir.path().join("again");
    let (code, _, err) = opal(&[
        "audit",
        SAMPLE,
        "--practices",
        PRACTICES,
        "--list-sizes",
        LISTS,
        "--xlsx",
        "--quiet",
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read(out.join("review_list.xlsx")).unwrap(),
        std::fs::read(again.join("review_list.xlsx")).unwrap()
    );
}

/// Issue 18: --items all|review|none.
#[test]
fn items_review_holds_the_review_lists_items_and_none_holds_none() {
    let dir = tempfile::tempdir().unwrap();
    let run = |name: &str, items: &str, format: &str| {
        let out = dir.path().join(name);
        let (code, _, err) = opal(&[
            "audit",
            SAMPLE,
            "--items",
            items,
            "--format",
            format,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let all = run("all", "all", "csv");
    let review = run("review", "review", "csv");
    let none = run("none", "none", "csv");
    let listed: std::collections::HashSet<String> = read(&all.join("review_list.csv"))
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .collect();
    let text = |p: &Path| std::fs::read_to_string(p).unwrap();
    let all_items = text(&all.join("items.csv"));
    let mut lines = all_items.lines();
    let header = lines.next().unwrap();
    let want: Vec<&str> = lines
        .filter(|l| listed.contains(l.split(',').nth(2).unwrap()))
        .collect();
    let got_text = text(&review.join("items.csv"));
    let mut got = got_text.lines();
    assert_eq!(got.next(), Some(header));
    let got: Vec<&str> = got.collect();
    assert!(!got.is_empty());
    assert_eq!(
        got, want,
        "the review list's items, in the same order, byte for byte"
    );
    assert!(!none.join("items.csv").exists());
    // The other outputs do not change.
    for f in [
        "review_list.csv",
        "patients.csv",
        "practice_summary.csv",
        "resolved.csv",
    ] {
        assert_eq!(text(&all.join(f)), text(&none.join(f)), "{f}");
        assert_eq!(text(&all.join(f)), text(&review.join(f)), "{f}");
    }
    // Parquet too.
    let pq = run("pq", "review", "parquet");
    assert!(pq.join("items.parquet").is_file());
}

/// Warm-up months (METHOD.md §10): the earliest issue is 2025-01-05, so a month end is
/// complete from 2025-04-06 (91 days on: the long-term limit plus one) — 2025-04-30 is the
/// first. With `--from 2025-02`, 2025-02 and 2025-03 are warm-up: `complete = false`, out of
/// the limits and the aims' baseline (2025-04 to 2026-03), faded on the charts.
#[test]
fn warm_up_months_are_marked_and_left_out_of_the_baseline() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("e.csv");
    let mut csv =
        String::from("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n");
    let start = opal::values::days_from_civil(2025, 1, 5).unwrap();
    for k in 0..24 {
        csv.push_str(&format!(
            "A,P1,{},MST Continus 60mg tablets,112,2 bd\n",
            opal::values::format_day(start + 28 * k)
        ));
    }
    std::fs::write(&extract, csv).unwrap();
    let out = dir.path().join("t");
    let (code, stdout, err) = opal(&[
        "trend",
        extract.to_str().unwrap(),
        "--from",
        "2025-02",
        "--to",
        "2026-09",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout.contains(
            "baseline 2025-04 to 2026-03 (the first 12 complete month ends); 2 warm-up month \
             end(s) before 2025-04"
        ),
        "{stdout}"
    );
    let spc = read(&out.join("spc.csv"));
    let all: Vec<_> = spc
        .iter()
        .filter(|r| r["level"] == "all" && r["measure"] == "high_dose")
        .collect();
    let complete: Vec<(&str, &str)> = all
        .iter()
        .map(|r| (r["month"].as_str(), r["complete"].as_str()))
        .take(3)
        .collect();
    assert_eq!(
        complete,
        [
            ("2025-02", "false"),
            ("2025-03", "false"),
            ("2025-04", "true")
        ]
    );
    let aims = read(&out.join("aims.csv"));
    let a = aims.iter().find(|r| r["level"] == "all").unwrap();
    assert_eq!(
        (a["baseline_from"].as_str(), a["baseline_to"].as_str()),
        ("2025-04", "2026-03")
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["trend"]["warm_up_month_ends"], 2);
    let svg = std::fs::read_to_string(out.join("charts/all-ALL-high_dose.svg")).unwrap();
    assert_eq!(svg.matches("warm-up month").count(), 2);
    assert!(svg.contains("<title>baseline: 2025-04 to 2026-03</title>"));
}

/// An extract worked by hand: `patients` patients at P1 on MST Continus 100 mg 1 bd (200 mg
/// OME a day, high dose) every 28 days from 2025-01-05; all but the first `staying` stop
/// after their ninth issue (2025-08-17, supply to 2025-09-13), so the high-dose count at each
/// month end from 2025-02 to 2026-09 is `patients` (Feb–Aug 2025, seven months) then
/// `staying` (Sep 2025–Sep 2026, thirteen months: at 30 September the 28-day mean of those
/// who stopped is 200 × 11/28 = 78.6).
fn mst_extract(dir: &Path, patients: usize, staying: usize) -> std::path::PathBuf {
    let extract = dir.join("e.csv");
    let mut csv =
        String::from("patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n");
    let start = opal::values::days_from_civil(2025, 1, 5).unwrap();
    for k in 0..24 {
        for p in 0..patients {
            if p < staying || k < 9 {
                csv.push_str(&format!(
                    "P{p},P1,{},MST Continus 100mg tablets,56,1 bd\n",
                    opal::values::format_day(start + 28 * k)
                ));
            }
        }
    }
    std::fs::write(&extract, csv).unwrap();
    extract
}

/// For rebasing: four high-dose patients, then one.
fn rebase_extract(dir: &Path) -> std::path::PathBuf {
    mst_extract(dir, 4, 1)
}

/// The all-practices high-dose rows of spc.csv: (month, value, mean, lower, upper, rebased,
/// suggested_rebase).
fn high_dose_rows(out: &Path, level: &str) -> Vec<[String; 7]> {
    read(&out.join("spc.csv"))
        .into_iter()
        .filter(|r| r["level"] == level && r["measure"] == "high_dose")
        .map(|r| {
            [
                "month",
                "value",
                "mean",
                "lower_process_limit",
                "upper_process_limit",
                "rebased",
                "suggested_rebase",
            ]
            .map(|c| r[c].clone())
        })
        .collect()
}

#[test]
fn rebasing_recalculates_the_limits_and_a_run_suggests_it() {
    let dir = tempfile::tempdir().unwrap();
    let extract = rebase_extract(dir.path());
    let run = |name: &str, extra: &[&str]| {
        let out = dir.path().join(name);
        let mut a = vec![
            "trend",
            extract.to_str().unwrap(),
            "--from",
            "2025-02",
            "--to",
            "2026-09",
            "--out",
            out.to_str().unwrap(),
        ];
        a.extend(extra);
        let (code, stdout, err) = opal(&a);
        assert_eq!(code, 0, "{err}");
        (out, stdout)
    };
    // Not rebased: the limits come from the complete months, 2025-04 to 2026-09: five 4s and
    // thirteen 1s, mean 33/18 = 1.833333. The thirteen 1s to the latest month are a run below
    // it: a rebase is suggested at 2025-09, on every row of the chart, and not made.
    let (out, stdout) = run("plain", &[]);
    let rows = high_dose_rows(&out, "all");
    assert_eq!(rows.len(), 20);
    let values: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(values, [vec!["4"; 7], vec!["1"; 13]].concat());
    assert!(rows.iter().all(|r| r[2] == "1.833333" && r[5] == "false"));
    assert!(rows.iter().all(|r| r[6] == "2025-09"), "{rows:?}");
    assert!(stdout.contains("a rebase is suggested on"), "{stdout}");
    let svg = std::fs::read_to_string(out.join("charts/all-ALL-high_dose.svg")).unwrap();
    assert!(svg.contains("a rebase suggested at 2025-09"));

    // Rebased at 2025-09: 2025-02 to 2025-08 has its own limits, from its complete months
    // (2025-04 to 08, all 4: mean 4, no moving range, limits 4 and 4); 2025-09 on is thirteen
    // 1s (mean 1, limits 1 and 1). No run is left: no suggestion.
    let (out, stdout) = run("rebased", &["--rebase", "2025-09"]);
    let rows = high_dose_rows(&out, "all");
    for (k, r) in rows.iter().enumerate() {
        let mean = if k < 7 { "4" } else { "1" };
        assert_eq!(
            (r[2].as_str(), r[3].as_str(), r[4].as_str()),
            (mean, mean, mean),
            "{r:?}"
        );
        assert_eq!(r[5], if k == 7 { "true" } else { "false" }, "{r:?}");
        assert_eq!(r[6], "", "{r:?}");
    }
    assert!(stdout.contains("charts rebased"), "{stdout}");
    let svg = std::fs::read_to_string(out.join("charts/all-ALL-high_dose.svg")).unwrap();
    assert!(svg.contains("rebased at 2025-09: limits recalculated from here"));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["trend"]["rebase"], serde_json::json!(["2025-09"]));

    // A file rebases single charts: the practice's, not all practices'.
    let file = dir.path().join("rebase.csv");
    std::fs::write(
        &file,
        "level,code,month\npractice,P1,2025-09\nics,NOPE,2025-09\n",
    )
    .unwrap();
    let out = dir.path().join("file");
    let (code, _, err) = opal(&[
        "trend",
        extract.to_str().unwrap(),
        "--from",
        "2025-02",
        "--to",
        "2026-09",
        "--rebase",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("1 chart(s) not in the trend were not rebased: ics NOPE"),
        "{err}"
    );
    assert!(high_dose_rows(&out, "practice")
        .iter()
        .any(|r| r[5] == "true"));
    assert!(high_dose_rows(&out, "all").iter().all(|r| r[5] == "false"));

    // A month outside the trend, or neither a month nor a file, is a usage error.
    for (value, says) in [
        ("2024-01", "--rebase 2024-01: not one of the trend's months"),
        ("soon", "--rebase 'soon' is neither a month nor a file"),
    ] {
        let out = dir.path().join("bad");
        let (code, _, err) = opal(&[
            "trend",
            extract.to_str().unwrap(),
            "--rebase",
            value,
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(says), "{err}");
        assert!(!out.exists());
    }
}

/// Monthly list sizes (issue 27.6): NHS England's files of April 2025 (P1: 1,000 patients)
/// and January 2026 (2,000). Each month end's rate uses its own month's file, else the
/// nearest earlier one, else (before every file) the earliest; the audit uses its date's.
#[test]
fn each_month_end_uses_its_own_list_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let extract = rebase_extract(dir.path());
    let lists = |name: &str, date: &str, n: u32| {
        let p = dir.path().join(name);
        std::fs::write(
            &p,
            format!(
                "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,AGE_GROUP_5,NUMBER_OF_PATIENTS\n\
                 GP_PRAC_PAT_LIST,{date},GP,P1,,X1 1XX,ALL,ALL,{n}\n"
            ),
        )
        .unwrap();
        p
    };
    let (april, january) = (
        lists("apr.csv", "01APR2025", 1000),
        lists("jan.csv", "01JAN2026", 2000),
    );
    let out = dir.path().join("t");
    let (code, _, err) = opal(&[
        "trend",
        extract.to_str().unwrap(),
        "--from",
        "2025-02",
        "--to",
        "2026-09",
        "--list-sizes",
        january.to_str().unwrap(),
        "--list-sizes",
        april.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let m = measures(&out);
    let rate = |month: &str| {
        m[&(
            "practice".into(),
            "P1".into(),
            month.into(),
            "high_dose_per_1000".into(),
        )]
            .clone()
    };
    // 4 high-dose patients over 1,000 (February: before every file, the earliest, April's).
    assert_eq!(
        rate("2025-02"),
        ["4".to_string(), "1000".into(), "4".into()]
    );
    // 1 over April's 1,000 in December; over January's 2,000 from January.
    assert_eq!(
        rate("2025-12"),
        ["1".to_string(), "1000".into(), "1".into()]
    );
    assert_eq!(
        rate("2026-01"),
        ["1".to_string(), "2000".into(), "0.5".into()]
    );
    assert_eq!(
        rate("2026-09"),
        ["1".to_string(), "2000".into(), "0.5".into()]
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let other = manifest["trend"]["list_sizes_from_another_month"]
        .as_array()
        .unwrap();
    // 20 month ends, two of them (2025-04, 2026-01) their own file's.
    assert_eq!(other.len(), 18);
    assert_eq!(
        other[0],
        serde_json::json!({"month": "2025-02", "list_sizes_of": "2025-04"})
    );
    assert_eq!(manifest["list_sizes"].as_array().unwrap().len(), 2);

    // The audit uses its date's month: April's file in June 2025, January's in March 2026.
    for (as_of, size) in [("2025-06-30", "1000"), ("2026-03-31", "2000")] {
        let out = dir.path().join(format!("a{as_of}"));
        let (code, _, err) = opal(&[
            "audit",
            extract.to_str().unwrap(),
            "--as-of",
            as_of,
            "--list-sizes",
            april.to_str().unwrap(),
            "--list-sizes",
            january.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{err}");
        let rows = read(&out.join("practice_summary.csv"));
        assert_eq!(rows[0]["list_size"], size, "{as_of}");
    }
}

/// Suppression that keeps the picture (issue 27.5): ten high-dose patients at P1 (counts of
/// 10, shown) until 2025-08, then three (1 to 7, hidden). With --suppress the chart is drawn
/// from the seven months shown, the thirteen hidden ones are gaps, spc.csv has a row for each
/// month shown only, and the chart says so; a chart with hidden months has no aim.
#[test]
fn suppressed_months_are_gaps_on_the_chart() {
    let dir = tempfile::tempdir().unwrap();
    let extract = mst_extract(dir.path(), 10, 3);
    let out = dir.path().join("t");
    let (code, _, err) = opal(&[
        "trend",
        extract.to_str().unwrap(),
        "--from",
        "2025-02",
        "--to",
        "2026-09",
        "--suppress",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let rows = high_dose_rows(&out, "practice");
    let months: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        months,
        ["2025-02", "2025-03", "2025-04", "2025-05", "2025-06", "2025-07", "2025-08"]
    );
    // The seven shown are 10 each: mean 10, no moving range, limits 10 and 10.
    assert!(
        rows.iter()
            .all(|r| r[1] == "10" && r[2] == "10" && r[4] == "10"),
        "{rows:?}"
    );
    let svg = std::fs::read_to_string(out.join("charts/practice-P1-high_dose.svg")).unwrap();
    assert!(svg.contains("13 month(s) with 1 to 7 patients hidden by --suppress are gaps"));
    let aims = read(&out.join("aims.csv"));
    let aim = aims
        .iter()
        .find(|r| r["level"] == "practice" && r["measure"] == "high_dose")
        .unwrap();
    assert_eq!((aim["baseline"].as_str(), aim["target"].as_str()), ("", ""));
}
