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
