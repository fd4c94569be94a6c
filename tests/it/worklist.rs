//! The review list as a work list (METHOD.md §11): the month-end dose trajectory, its taper
//! and escalation labels and the priority tiers, end to end on patients whose every number
//! is worked by hand below. The audit date is 2026-10-31 (offset 0); the month ends before
//! it are at offsets -31 (30 September), -61, -92, -122, -153 ... -365.

use super::audit::{accounting, by, close, num, Extract};
use super::{opal, read};

const MST10: &str = "MST Continus 10mg tablets";
const MST15: &str = "MST Continus 15mg tablets";
const MST30: &str = "MST Continus 30mg tablets";
const ZOMORPH30: &str = "Zomorph 30mg modified-release capsules";
const PALEXIA100: &str = "Palexia SR 100mg tablets";
const MST60: &str = "MST Continus 60mg tablets";

/// Every 28 days from `from` up to `to` (inclusive).
fn every_28(from: i32, to: i32) -> Vec<i32> {
    (0..)
        .map(|k| from + 28 * k)
        .take_while(|&d| d <= to)
        .collect()
}

#[test]
fn labels_and_tiers_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    // S: Palexia SR 100 mg twice a day (200 mg tapentadol × 0.4 = 80 mg OME/day), 56 tablets
    // every 28 days from -300 to -76, then the next 22 days late, at -26 (the gap runs
    // -48 to -26). At -31 the 28-day mean is 80 × 10 / 28 = 28.6 (supply to -48 only); the
    // month-end dose is 80 (the gap is within the 30 grace days): no label, peak 80.
    for d in every_28(-300, -76).into_iter().chain([-26]) {
        e.add("S", "P1", d, PALEXIA100, "56", "1 bd");
    }
    // R: MST 30 mg bd (60 mg/day) from -300 to -132; 15 mg bd (30) at -104 and -76; 30 mg bd
    // again at -48 and -20. Month ends: -122 60, -92 30 (the 15 mg tablets supersede the
    // 30s: issued after the last 30 mg issue, none between), -61 30, -31 60 (the 30s are
    // back: issued after the last 15, and not between the two 15s), 0 60. A taper at -92
    // and -61 (50% below the peak, not rising), then 60 at the last two: twice the taper's
    // lowest, 30: re-escalating. 60 is not above 90: priority 3 ("dose rising").
    for d in every_28(-300, -132) {
        e.add("R", "P1", d, MST30, "56", "1 bd");
    }
    for d in [-104, -76] {
        e.add("R", "P1", d, MST15, "56", "1 bd");
    }
    for d in [-48, -20] {
        e.add("R", "P1", d, MST30, "56", "1 bd");
    }
    // Z: MST 30 mg bd from -300 to -76 (the last covers -76 to -48), then Zomorph 30 mg bd
    // from -60 (16 days of MST left), -32 and -4. The 28-day mean at -31 adds the two:
    // (28 × 60 + 10 × 60) / 28 = 81.4; the month-end dose leaves the switched-from MST out:
    // 60 at every month end, peak 60, no label.
    for d in every_28(-300, -76) {
        e.add("Z", "P1", d, MST30, "56", "1 bd");
    }
    for d in [-60, -32, -4] {
        e.add("Z", "P1", d, ZOMORPH30, "56", "1 bd");
    }
    // E: MST 10 mg "3 bd" (60 mg/day) every 28 days from -300 to -76, "4 bd" (80) at -48,
    // "5 bd" (100) at -20. Month ends: -122 60, -92 60, -61 60, -31 80, 0 100. 100 is 67%
    // above 60 (three month ends before), 80 is 33% above 60: escalating; above 90:
    // priority 1. The 28-day mean is (7 × 80 + 21 × 100) / 28 = 95.
    for d in every_28(-300, -76) {
        e.add("E", "P1", d, MST10, "168", "3 bd");
    }
    e.add("E", "P1", -48, MST10, "224", "4 bd");
    e.add("E", "P1", -20, MST10, "280", "5 bd");
    // T: MST 60 mg "1 tds" (180 mg/day) from -300, with pregabalin at -30: priority 1.
    // U: the same without pregabalin: priority 2.
    for d in every_28(-300, -8) {
        e.add("T", "P1", d, MST60, "84", "1 tds");
        e.add("U", "P1", d, MST60, "84", "1 tds");
    }
    e.add("T", "P1", -30, "Pregabalin 75mg capsules", "56", "1 bd");
    // V: MST 30 mg bd (60 mg/day, long-term) with diazepam at -40: at least 50 with a CNS
    // depressant: priority 3. W: MST 10 mg "2 bd" (40 mg/day, long-term) with diazepam:
    // under 50: priority 4. X: MST 30 mg bd, long-term, nothing else: priority 4.
    for d in every_28(-300, -8) {
        e.add("V", "P1", d, MST30, "56", "1 bd");
        e.add("W", "P1", d, MST10, "112", "2 bd");
        e.add("X", "P1", d, MST30, "56", "1 bd");
    }
    e.add("V", "P1", -40, "Diazepam 2mg tablets", "28", "1 od");
    e.add("W", "P1", -40, "Diazepam 2mg tablets", "28", "1 od");
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let out = dir.path().join("out");
    let (code, stdout, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    accounting(&out);
    let review = read(&out.join("review_list.csv"));
    let s = by(&review, "patient_id", "S");
    assert_eq!(s["dose_trend"], "", "{s:?}");
    assert!(close(num(&s, "month_end_dose_mg_day"), 80.0));
    assert!(close(num(&s, "ome_mg_day_12m_peak"), 80.0));
    assert!(close(num(&s, "ome_mg_day_3m_ago"), 80.0));
    let r = by(&review, "patient_id", "R");
    assert_eq!(r["dose_trend"], "re-escalating", "{r:?}");
    assert!(close(num(&r, "ome_mg_day_3m_ago"), 30.0));
    assert!(close(num(&r, "ome_mg_day_12m_peak"), 60.0));
    assert_eq!(r["priority"], "3");
    assert_eq!(r["priority_reason"], "dose rising");
    let z = by(&review, "patient_id", "Z");
    assert_eq!(z["dose_trend"], "", "{z:?}");
    assert!(close(num(&z, "ome_mg_day_12m_peak"), 60.0), "{z:?}");
    let x = by(&review, "patient_id", "E");
    assert_eq!(x["dose_trend"], "escalating", "{x:?}");
    assert!(close(num(&x, "month_end_dose_mg_day"), 100.0));
    assert!(close(num(&x, "ome_mg_day"), 95.0));
    assert_eq!(x["priority"], "1");
    assert_eq!(x["priority_reason"], "dose rising, now above 90 mg/day");
    // The list: by priority, then the 28-day mean descending.
    let order: Vec<(&str, &str)> = review
        .iter()
        .map(|r| (r["patient_id"].as_str(), r["priority"].as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("T", "1"),
            ("E", "1"),
            ("U", "2"),
            ("R", "3"),
            ("V", "3"),
            ("S", "4"),
            ("X", "4"),
            ("Z", "4"),
            ("W", "4"),
        ],
        "T 180 before E 95; R and V (60) by id; S's 28-day mean at 0 is 80 × 27 / 28 = 77.1 \
         (its last supply began at -26), above X's and Z's 60; W 40 last"
    );
    let ps = read(&out.join("practice_summary.csv"));
    let p1 = by(&ps, "code", "P1");
    assert_eq!(
        [
            &p1["priority_1"],
            &p1["priority_2"],
            &p1["priority_3"],
            &p1["priority_4"]
        ],
        ["2", "1", "2", "4"]
    );
    assert!(stdout.contains("priority: 2 at 1"), "{stdout}");
    // The thresholds are options: with --tapering-pct 60, R's fall to 30 (50% below 60) is
    // no taper, so its return to 60 is not re-escalating; nor is it escalating (60 at -31
    // is not above 60 at -122).
    let out2 = dir.path().join("out2");
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--tapering-pct",
        "60",
        "--out",
        out2.to_str().unwrap(),
        "--quiet",
        "--practice-packs",
        "--report",
    ]);
    assert_eq!(code, 0, "{err}");
    let r = by(&read(&out2.join("review_list.csv")), "patient_id", "R");
    assert_eq!(
        (r["dose_trend"].as_str(), r["priority"].as_str()),
        ("", "4")
    );
    // The pack is a work list: the patients grouped by tier in order, each tier's count, a
    // glossary defining every label it shows.
    let pack = std::fs::read_to_string(out2.join("practices/P1/report.html")).unwrap();
    let at = |needle: &str| {
        pack.find(needle)
            .unwrap_or_else(|| panic!("{needle} not in the pack"))
    };
    assert!(at("Priority 1: ") < at("Priority 2: "));
    assert!(at("Priority 2: ") < at("Priority 3: "));
    assert!(at("Priority 3: ") < at("Priority 4: "));
    assert!(
        pack.contains("long-term use (5)"),
        "S, R, X, Z, W at tier 4"
    );
    assert!(at("Priority 1: ") < at(">T<") && at(">T<") < at(">E<") && at(">E<") < at(">U<"));
    // E's product line: the directions of its latest issue (-20, 2026-10-11: 280 tablets at
    // "5 bd", 28 days) and the end of its supply, carried forward: 2026-11-08.
    assert!(pack.contains("<b>MST Continus 10mg tablets</b> — 5 bd"));
    assert!(pack.contains("issued 2026-10-11, next due 2026-11-08"));
    let glossary = &pack[at("Words used in this pack")..];
    for word in [
        "28-day mean",
        "today's dose",
        "month-end dose",
        "new",
        "continuing",
        "returned",
        "tapering",
        "rapid",
        "escalating",
        "re-escalating",
        "abrupt stop",
    ] {
        assert!(glossary.contains(&format!("<dt>{word}</dt>")), "{word}");
    }
    // The shared report counts the tiers per practice.
    let report = std::fs::read_to_string(out2.join("report.html")).unwrap();
    assert!(report.contains(">priority 1<") && report.contains(">priority 4<"));
}

/// `--reviews`: last month's outcomes carried into this month's list, from a CSV or from the
/// filled-in workbook, and onto resolved.csv for who came off after a review.
#[test]
fn reviews_are_carried_a_month_forward() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    // R: MST 30 mg bd (60 mg/day) every 28 days from -300: long-term, on the list.
    // X: the same.
    for d in every_28(-300, -8) {
        e.add("R", "P1", d, MST30, "56", "1 bd");
        e.add("X", "P1", d, MST30, "56", "1 bd");
    }
    // Q: MST 60 mg "2 bd" (240 mg/day) from -89 to -33: high dose at -31 (222.9), stopped
    // since (33 days > 30) and not brought down first: resolved, and on the list at 1.
    for d in [-89, -61] {
        e.add("Q", "P1", d, MST60, "112", "2 bd");
    }
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let run = |reviews: &std::path::Path, out: &str| {
        let out = dir.path().join(out);
        let (code, _, err) = opal(&[
            "audit",
            extract.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--reviews",
            reviews.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--xlsx",
        ]);
        assert_eq!(code, 0, "{err}");
        (out, err)
    };
    let csv = dir.path().join("reviews.csv");
    std::fs::write(
        &csv,
        "patient_id,review_date,outcome,next_review\n\
         R,2026-10-02,Taper agreed,2027-01-15\n\
         X,01/08/2026,reviewed \u{2013} no change,2026-10-01\n\
         Q,2026-09-20,could not contact,\n\
         Y,,,\n\
         ,2026-10-03,referred,\n",
    )
    .unwrap();
    let (out, err) = run(&csv, "from-csv");
    // Every row is accounted for: Y has no review, the last row no patient (a warning).
    assert!(
        err.contains("1 row(s) have no patient_id and were set aside"),
        "{err}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["reviews"]["patients"], 3);
    assert_eq!(m["reviews"]["rows"]["read"], 5);
    assert_eq!(m["reviews"]["rows"]["without_patient_id"], 1);
    assert_eq!(m["reviews"]["rows"]["without_a_review"], 1);
    let review = read(&out.join("review_list.csv"));
    let r = by(&review, "patient_id", "R");
    assert_eq!(
        r["priority_reason"],
        "long-term use; review due on 2027-01-15 (last reviewed 2026-10-02: taper agreed)"
    );
    assert_eq!(
        (
            r["last_review_date"].as_str(),
            r["last_review_outcome"].as_str(),
            r["next_review_due"].as_str()
        ),
        ("2026-10-02", "taper agreed", "2027-01-15")
    );
    let x = by(&review, "patient_id", "X");
    assert_eq!(
        x["priority_reason"],
        "long-term use; review overdue since 2026-10-01 (last reviewed 2026-08-01: reviewed - \
         no change)"
    );
    // Never hidden: both are still listed, in their tier.
    assert_eq!((r["priority"].as_str(), x["priority"].as_str()), ("4", "4"));
    let resolved = read(&out.join("resolved.csv"));
    let q = by(&resolved, "patient_id", "Q");
    assert_eq!(
        (
            q["last_review_date"].as_str(),
            q["last_review_outcome"].as_str()
        ),
        ("2026-09-20", "could not contact")
    );
    // The workbook has the columns to fill in, after the list's own.
    use calamine::Reader;
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(out.join("review_list.xlsx")).unwrap();
    let sheet = wb.worksheet_range_at(0).unwrap().unwrap();
    let header: Vec<String> = sheet
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        header[header.len() - 3..],
        ["outcome", "review_date", "next_review"]
    );
    // The same reviews from a filled-in workbook (dates as Excel dates; X's row filled in only
    // in the columns carried from the month before), give the same list.
    let xlsx = dir.path().join("filled.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let ws = book.add_worksheet();
    let date = rust_xlsxwriter::Format::new().set_num_format("yyyy-mm-dd");
    let d = |y, m, dd| rust_xlsxwriter::ExcelDateTime::from_ymd(y, m, dd).unwrap();
    for (j, h) in [
        "patient_id",
        "last_review_date",
        "last_review_outcome",
        "next_review_due",
        "outcome",
        "review_date",
        "next_review",
    ]
    .iter()
    .enumerate()
    {
        ws.write_string(0, j as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "R").unwrap();
    ws.write_string(1, 4, "taper agreed").unwrap();
    ws.write_datetime_with_format(1, 5, d(2026, 10, 2), &date)
        .unwrap();
    ws.write_datetime_with_format(1, 6, d(2027, 1, 15), &date)
        .unwrap();
    ws.write_string(2, 0, "X").unwrap();
    ws.write_datetime_with_format(2, 1, d(2026, 8, 1), &date)
        .unwrap();
    ws.write_string(2, 2, "reviewed - no change").unwrap();
    ws.write_datetime_with_format(2, 3, d(2026, 10, 1), &date)
        .unwrap();
    ws.write_string(3, 0, "Q").unwrap();
    ws.write_string(3, 4, "could not contact").unwrap();
    ws.write_datetime_with_format(3, 5, d(2026, 9, 20), &date)
        .unwrap();
    book.save(&xlsx).unwrap();
    let (out2, _) = run(&xlsx, "from-xlsx");
    let again = read(&out2.join("review_list.csv"));
    for id in ["R", "X", "Q"] {
        let (a, b) = (by(&review, "patient_id", id), by(&again, "patient_id", id));
        for col in [
            "priority_reason",
            "last_review_date",
            "last_review_outcome",
            "next_review_due",
        ] {
            assert_eq!(a[col], b[col], "{id} {col}");
        }
    }
    // Reviews of patients none of whom is in the extract: the run says so.
    let other = dir.path().join("other.csv");
    std::fs::write(&other, "patient_id,outcome\nZZ1,referred\n").unwrap();
    let (_, err) = run(&other, "other");
    assert!(
        err.contains("none of its 1 reviewed patients is in the extract"),
        "{err}"
    );
    // A reviews file without a patient_id column is a clear error.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "nhs,outcome\n1,referred\n").unwrap();
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--reviews",
        bad.to_str().unwrap(),
        "--out",
        dir.path().join("o3").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no patient_id column (the headers are: nhs, outcome)"),
        "{err}"
    );
}

/// `--events`: the coded record's exclusions (palliative care register, cancer within
/// `--cancer-years`) and the last medication review, each by hand. The audit date is
/// 2026-10-31; every patient is on MST 30 mg bd from -300, long-term.
#[test]
fn exclusions_and_reviews_from_the_coded_record() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    for id in ["P", "PN", "C", "C6", "M", "M2"] {
        for d in every_28(-300, -8) {
            e.add(id, "P1", d, MST30, "56", "1 bd");
        }
    }
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let events = dir.path().join("events.csv");
    // 1403151000000103 On palliative care register; 1048611000000104 Palliative care not
    // currently clinically indicated; 1651000119109 Primary adenocarcinoma of pancreas;
    // 1239511000000100 Structured medication review; 22298006 Myocardial infarction (in no
    // list).
    std::fs::write(
        &events,
        "patient_id,date,code\n\
         P,2026-03-01,1403151000000103\n\
         PN,2025-01-10,1403151000000103\n\
         PN,2025-06-01,1048611000000104\n\
         C,14/09/2024,1651000119109\n\
         C6,2020-09-14,1651000119109\n\
         M,2026-07-23,1239511000000100\n\
         M2,2025-09-26,1239511000000100\n\
         M,2026-01-01,22298006\n\
         M,yesterday,1239511000000100\n\
         C6,2026-11-15,1403151000000103\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--events",
        events.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("line 10, date 'yesterday': not a date"),
        "{err}"
    );
    assert!(
        err.contains("1 coded entries dated after the audit date"),
        "{err}"
    );
    let patients = read(&out.join("patients.csv"));
    let reason = |id: &str| by(&patients, "patient_id", id)["excluded_reason"].clone();
    assert_eq!(reason("P"), "palliative care register (coded 2026-03-01)");
    assert_eq!(
        reason("PN"),
        "",
        "a later 'not indicated' code ends the register entry"
    );
    assert_eq!(reason("C"), "cancer coded within 5 years (on 2024-09-14)");
    assert_eq!(
        reason("C6"),
        "",
        "six years ago; its palliative code is after the audit date"
    );
    let review = read(&out.join("review_list.csv"));
    let listed: Vec<&str> = review.iter().map(|r| r["patient_id"].as_str()).collect();
    assert!(
        !listed.contains(&"P") && !listed.contains(&"C"),
        "{listed:?}"
    );
    assert_eq!(
        by(&review, "patient_id", "M")["last_medication_review"],
        "2026-07-23"
    );
    assert_eq!(
        by(&review, "patient_id", "M2")["last_medication_review"],
        "",
        "400 days before the audit date: outside the 365-day window"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let ev = &m["events"];
    assert_eq!(ev["rows"]["read"], 10);
    assert_eq!(ev["rows"]["in_codelists"], 8);
    assert_eq!(ev["rows"]["other_codes"], 1);
    assert_eq!(ev["rows"]["rejected"], 1);
    assert_eq!(ev["excluded_patients"]["palliative care register"], 1);
    assert_eq!(ev["excluded_patients"]["cancer"], 1);
    assert_eq!(ev["medication_reviews"], 1);
    // --cancer-years 10 takes C6's cancer of 2020 too.
    let out2 = dir.path().join("out2");
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--events",
        events.to_str().unwrap(),
        "--cancer-years",
        "10",
        "--out",
        out2.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let p2 = read(&out2.join("patients.csv"));
    assert_eq!(
        by(&p2, "patient_id", "C6")["excluded_reason"],
        "cancer coded within 10 years (on 2020-09-14)"
    );
    // Codes in none of the lists (Read v2 codes, say): the run says nothing came of them.
    let read2 = dir.path().join("read2.csv");
    std::fs::write(
        &read2,
        "patient_id,date,code\nP,2026-03-01,8BJ1.\nC,2024-09-14,B1z..\n",
    )
    .unwrap();
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--events",
        read2.to_str().unwrap(),
        "--out",
        dir.path().join("o4").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("none of its 2 rows has a code in opal's codelists"),
        "{err}"
    );
    // A file without a code column is a clear error.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "patient_id,date,term\nP,2026-01-01,Palliative care\n").unwrap();
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--events",
        bad.to_str().unwrap(),
        "--out",
        dir.path().join("o3").to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("no code column (the headers are: patient_id, date, term)"),
        "{err}"
    );
}
