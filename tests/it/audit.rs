//! `opal audit` end to end on small extracts whose every number is worked by hand in the
//! comments (METHOD.md §5–§8). The audit date is 2026-10-31 throughout.

use super::{opal, read};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use opal::values::{days_from_civil, format_day};

pub(super) fn day(offset: i32) -> String {
    // offset days from the audit date 2026-10-31
    format_day(days_from_civil(2026, 10, 31).unwrap() + offset)
}

pub(super) struct Extract {
    rows: Vec<[String; 7]>,
}

impl Extract {
    pub(super) fn new() -> Extract {
        Extract { rows: Vec::new() }
    }

    pub(super) fn add(
        &mut self,
        patient: &str,
        practice: &str,
        offset: i32,
        drug: &str,
        qty: &str,
        dose: &str,
    ) -> &mut Self {
        self.rows.push([
            patient.into(),
            practice.into(),
            day(offset),
            drug.into(),
            qty.into(),
            dose.into(),
            String::new(),
        ]);
        self
    }

    /// The explicit days of supply of the last row added.
    fn days(&mut self, days: &str) -> &mut Self {
        if let Some(last) = self.rows.last_mut() {
            last[6] = days.into();
        }
        self
    }

    fn raw(&mut self, cells: [&str; 6]) -> &mut Self {
        self.rows.push([
            cells[0].into(),
            cells[1].into(),
            cells[2].into(),
            cells[3].into(),
            cells[4].into(),
            cells[5].into(),
            String::new(),
        ]);
        self
    }

    pub(super) fn write(&self, path: &Path) {
        let mut w = csv::Writer::from_path(path).unwrap();
        w.write_record([
            "patient_id",
            "practice_code",
            "issue_date",
            "drug_name",
            "quantity",
            "dose_text",
            "days_supply",
        ])
        .unwrap();
        for r in &self.rows {
            w.write_record(r).unwrap();
        }
        w.flush().unwrap();
    }
}

pub(super) type Rows = Vec<HashMap<String, String>>;

pub(super) fn by(rows: &Rows, key: &str, value: &str) -> HashMap<String, String> {
    rows.iter()
        .find(|r| r[key] == value)
        .unwrap_or_else(|| panic!("no row with {key}={value}"))
        .clone()
}

pub(super) fn num(r: &HashMap<String, String>, key: &str) -> f64 {
    r[key]
        .parse()
        .unwrap_or_else(|_| panic!("{key}={:?}", r[key]))
}

pub(super) fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-4
}

/// Check the manifest's accounting adds up and return it.
pub(super) fn accounting(out: &Path) -> serde_json::Value {
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
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
        "{a}"
    );
    a.clone()
}

const MST60: &str = "MST Continus 60mg tablets";
const MST10: &str = "MST Continus 10mg tablets";

/// The main scenario extract: practices A and B in ICS X, C in ICS Y.
fn scenario(dir: &Path) -> (PathBuf, PathBuf, PathBuf, PathBuf) {
    let mut e = Extract::new();
    // P01: MST 60mg one twice daily, 56 tablets issued 27 days before: 56 x 60 = 3360 mg over
    // 28 days covers the whole 28-day window at exactly 120 mg/day: not high dose.
    e.add("P01", "A", -27, MST60, "56", "one twice daily");
    // P02: 60mg three times daily, 84 tablets: 5040 mg / 28 days = 180 mg/day: high dose.
    e.add("P02", "A", -27, MST60, "84", "one three times daily");
    // P03: oxycodone 20mg MR bd, 56 x 20 x 1.5 = 1680 mg / 28 d = 60 mg/day, repeated 14 days
    // early. Carried forward, the second issue starts when the first runs out: 60 mg/day over
    // the window. Concurrent: 14 days at 120 and 14 at 60 = 90 mg/day.
    e.add(
        "P03",
        "A",
        -41,
        "OxyContin 20mg modified-release tablets",
        "56",
        "one twice daily",
    );
    e.add(
        "P03",
        "A",
        -27,
        "Oxycodone 20mg modified-release tablets",
        "56",
        "one twice daily",
    );
    // P04: two products at once add up: MST 30mg bd (60 mg/day) + oxycodone 10mg MR bd
    // (56 x 10 x 1.5 / 28 = 30 mg/day) = 90 mg/day.
    e.add("P04", "A", -27, "MST Continus 30mg tablets", "56", "1 bd");
    e.add(
        "P04",
        "A",
        -27,
        "Oxycodone 10mg modified-release tablets",
        "56",
        "1 bd",
    );
    // P05: fentanyl 25 micrograms/hour, 10 patches, "every 72 hours": 1/3 patch a day, so 30
    // days at 25 x 2.4 = 60 mg/day (1800 mg in all); issued 29 days before, it covers the window.
    e.add(
        "P05",
        "A",
        -29,
        "Fentanyl 25micrograms/hour transdermal patches",
        "10",
        "apply one patch every 72 hours",
    );
    // P06: the same patches with no interval in the directions: 10 x 3-day wear = 30 days.
    e.add(
        "P06",
        "B",
        -29,
        "Fentanyl 25micrograms/hour transdermal patches",
        "10",
        "apply one patch",
    );
    // P07: "change every 48 hours" beats the 3-day wear time: 20 days at 60 mg/day from 19
    // days before: 20 x 60 = 1200 mg in the window / 28 = 42.857143 mg/day.
    e.add(
        "P07",
        "B",
        -19,
        "Fentanyl 25micrograms/hour transdermal patches",
        "10",
        "change every 48 hours",
    );
    // P08: gap of exactly 30 days (the grace period) joins the episodes: 28 days from -100
    // end at -72; next issue -42; then -14. Episode from -100: 100 days, long-term; -100 is the
    // earliest issue date of the whole input, so the duration is censored.
    e.add("P08", "B", -100, MST10, "56", "one twice daily");
    e.add("P08", "B", -42, MST10, "56", "one twice daily");
    e.add("P08", "B", -14, MST10, "56", "one twice daily");
    // P09: a gap of 31 days breaks it: the current episode starts at -41: 41 days.
    e.add("P09", "B", -100, MST10, "56", "one twice daily");
    e.add("P09", "B", -41, MST10, "56", "one twice daily");
    e.add("P09", "B", -13, MST10, "56", "one twice daily");
    // P10: continuous from 95 days before: long-term (95 > 90). P11: from 85 days: not.
    for o in [-95, -67, -39, -11] {
        e.add("P10", "B", o, MST10, "56", "one twice daily");
    }
    for o in [-85, -57, -29, -1] {
        e.add("P11", "B", o, MST10, "56", "one twice daily");
    }
    // P12: 60mg bd = 120 mg/day; an issue 5 days after the audit date is counted, not used.
    e.add("P12", "C", -27, MST60, "56", "one twice daily");
    e.add("P12", "C", 5, MST60, "56", "one twice daily");
    // P13: co-codamol 30/500, 100 tablets "1-2 qds prn" = 300 mg OME. max: 8 a day, 12.5
    // days; mean: 6, 16.67 days; min: 4, 25 days. Issued 11 days before (12 days in window):
    // max 24 mg/day x 12 = 288 mg / 28 = 10.285714.
    e.add(
        "P13",
        "C",
        -11,
        "Co-codamol 30mg/500mg tablets",
        "100",
        "1-2 qds prn",
    );
    // P14: on the exclusion list, 180 mg/day.
    e.add("P14", "C", -27, MST60, "84", "one three times daily");
    // Rows that are not used, each accounted for.
    e.add("P15", "C", -10, "Paracetamol 500mg tablets", "100", "2 qds"); // not an opioid
    e.add(
        "P16",
        "C",
        -10,
        "Subutex 8mg sublingual tablets",
        "7",
        "one daily",
    ); // excluded
    e.add("P17", "C", -10, "Oramorph", "100", "5ml prn"); // unresolved: no strength
    e.raw(["P18", "C", "2026-13-45", MST10, "56", "1 bd"]); // rejected: date
    e.add("P19", "C", -10, MST10, "0", "1 bd"); // rejected: quantity
    e.add("", "C", -10, MST10, "56", "1 bd"); // rejected: no patient
    let extract = dir.join("extract.csv");
    e.write(&extract);
    let practices = dir.join("practices.csv");
    std::fs::write(
        &practices,
        "practice_code,ics_code,practice_name,ics_name\nA,X,Alpha,Ex\nB,X,Beta,Ex\nC,Y,Gamma,Why\n",
    )
    .unwrap();
    let lists = dir.join("lists.csv");
    std::fs::write(&lists, "practice_code,list_size\nA,1000\nB,3000\nC,2000\n").unwrap();
    let excl = dir.join("exclude.csv");
    std::fs::write(&excl, "patient_id,reason\nP14,palliative care register\n").unwrap();
    (extract, practices, lists, excl)
}

fn run_scenario(dir: &Path, extra: &[&str]) -> PathBuf {
    let (extract, practices, lists, excl) = scenario(dir);
    let out = dir.join(format!("out{}", extra.join("").replace(['-', ' '], "")));
    let mut args = vec![
        "audit",
        extract.to_str().unwrap(),
        "--practices",
        practices.to_str().unwrap(),
        "--list-sizes",
        lists.to_str().unwrap(),
        "--exclude-patients",
        excl.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, stdout, stderr) = opal(&args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "--quiet prints nothing: {stdout}");
    accounting(&out);
    out
}

#[test]
fn doses_flags_and_boundaries_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(dir.path(), &[]);
    let p = read(&out.join("patients.csv"));
    let ome = |id: &str| num(&by(&p, "patient_id", id), "ome_mg_day");
    let flag = |id: &str, k: &str| by(&p, "patient_id", id)[k].clone();
    // Exactly 120 is not high dose; 180 is.
    assert!(close(ome("P01"), 120.0));
    assert_eq!(flag("P01", "high_dose"), "false");
    assert_eq!(flag("P01", "dose_band"), "90-120");
    assert!(close(ome("P02"), 180.0));
    assert_eq!(flag("P02", "high_dose"), "true");
    assert_eq!(flag("P02", "dose_band"), ">120");
    // Early repeat carried forward (brand and generic are one product); concurrent products add.
    assert!(close(ome("P03"), 60.0), "{}", ome("P03"));
    assert!(close(ome("P04"), 90.0));
    // Patches.
    assert!(close(ome("P05"), 60.0));
    assert!(close(ome("P06"), 60.0));
    assert!(close(ome("P07"), 1200.0 / 28.0));
    // Grace period and long-term.
    assert_eq!(flag("P08", "duration_days"), "100");
    assert_eq!(flag("P08", "long_term"), "true");
    assert_eq!(flag("P08", "duration_censored"), "true");
    assert_eq!(flag("P09", "duration_days"), "41");
    assert_eq!(flag("P09", "long_term"), "false");
    assert_eq!(flag("P10", "duration_days"), "95");
    assert_eq!(flag("P10", "long_term"), "true");
    assert_eq!(flag("P10", "duration_censored"), "false");
    assert_eq!(flag("P11", "duration_days"), "85");
    assert_eq!(flag("P11", "long_term"), "false");
    // After as_of ignored: 120, not 240.
    assert!(close(ome("P12"), 120.0));
    // PRN max policy.
    assert!(close(ome("P13"), 288.0 / 28.0));
    // Excluded patient keeps the row, marked.
    assert_eq!(flag("P14", "excluded"), "true");
    assert_eq!(flag("P14", "excluded_reason"), "palliative care register");
    assert!(close(ome("P14"), 180.0));

    // Instructed OME/day (directions x strength x factor) and the peak day, by hand.
    let val = |id: &str, k: &str| num(&by(&p, "patient_id", id), k);
    // P01: 2 a day x 60 mg = 120; the supply says 120 too: they agree.
    assert!(close(val("P01", "instructed_ome_mg_day"), 120.0));
    assert_eq!(flag("P01", "doses_disagree"), "false");
    assert!(close(val("P01", "peak_ome_mg_day"), 120.0));
    // P04: MST 30 bd (60) + oxycodone 10 MR bd (2 x 10 x 1.5 = 30) both cover the audit date.
    assert!(close(val("P04", "instructed_ome_mg_day"), 90.0));
    // P05: one 25 microgram/hour patch at a time: 60 mg/day.
    assert!(close(val("P05", "instructed_ome_mg_day"), 60.0));
    // P13: "1-2 qds prn" at the max policy is 8 a day x 30 mg x 0.1 = 24 mg/day, against
    // 10.29 supply-based: more than 50% apart.
    assert!(close(val("P13", "instructed_ome_mg_day"), 24.0));
    assert_eq!(flag("P13", "doses_disagree"), "true");
    // P13's peak: 24 mg on each fully covered day.
    assert!(close(val("P13", "peak_ome_mg_day"), 24.0));
    // P03 carried forward never exceeds 60 on any day; concurrent would peak at 120.
    assert!(close(val("P03", "peak_ome_mg_day"), 60.0));
    // P08's peak in the 90-day look-back is its 20 mg/day.
    assert!(close(val("P08", "peak_ome_mg_day"), 20.0));

    // The review list: high dose or long-term, not excluded, by practice then OME desc.
    let review = read(&out.join("review_list.csv"));
    let ids: Vec<&str> = review.iter().map(|r| r["patient_id"].as_str()).collect();
    assert_eq!(ids, ["P02", "P08", "P10"]);
    assert!(
        review[0]["reasons"].contains("high dose: 180 mg OME/day (above 120)"),
        "{}",
        review[0]["reasons"]
    );
    assert!(review[1]["reasons"].contains("long-term: 100 days"));

    // Items: how days of supply were chosen.
    let items = read(&out.join("items.csv"));
    let item = |id: &str| by(&items, "patient_id", id);
    assert_eq!(item("P05")["days_supply_source"], "dose");
    assert!(close(num(&item("P05"), "days_supply"), 30.0));
    assert!(close(num(&item("P05"), "total_ome_mg"), 1800.0));
    assert_eq!(item("P06")["days_supply_source"], "patch_wear");
    assert!(close(num(&item("P06"), "days_supply"), 30.0));
    assert!(close(num(&item("P07"), "days_supply"), 20.0));
    assert!(close(num(&item("P13"), "days_supply"), 12.5));
    assert!(close(num(&item("P13"), "total_ome_mg"), 300.0));
    assert_eq!(items.iter().filter(|r| r["patient_id"] == "P12").count(), 1);

    // Accounting: 33 rows = 26 used + 1 not opioid + 1 excluded + 1 unresolved + 3 rejected
    // + 1 after as_of.
    let a = accounting(&out);
    assert_eq!(a["read"], 33);
    assert_eq!(a["used"], 26);
    assert_eq!(a["not_opioid"], 1);
    assert_eq!(a["excluded"], 1);
    assert_eq!(a["unresolved"], 1);
    assert_eq!(a["rejected"], 3);
    assert_eq!(a["after_as_of"], 1);
    let rejected = read(&out.join("rejected.csv"));
    let cols: Vec<&str> = rejected.iter().map(|r| r["column"].as_str()).collect();
    assert_eq!(cols, ["issue_date", "quantity", "patient_id"]);
    assert_eq!(rejected[0]["line"], "32", "the header is line 1");
    assert_eq!(rejected[0]["value"], "2026-13-45");
    assert!(rejected[1]["reason"].contains("above zero"));
    let unresolved = read(&out.join("unresolved.csv"));
    assert_eq!(unresolved.len(), 1);
    assert!(unresolved[0]["reason"].contains("no strength"));
}

#[test]
fn practice_and_ics_summaries_are_sums_over_sums() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(dir.path(), &[]);
    let practices = read(&out.join("practice_summary.csv"));
    let a = by(&practices, "code", "A");
    assert_eq!(a["patients"], "5");
    assert_eq!(a["high_dose"], "1");
    assert_eq!(a["high_dose_per_1000"], "1");
    // OME in the 28-day window: P01 120 + P02 180 + P03 60 + P04 90 + P05 60 = 510 a day,
    // x 28 = 14280 mg; per 1000 of 1000 registered, the same.
    assert!(
        close(num(&a, "total_ome_mg_window"), 14280.0),
        "{}",
        a["total_ome_mg_window"]
    );
    assert!(close(num(&a, "total_ome_mg_window_per_1000"), 14280.0));
    assert!(close(num(&a, "median_ome_mg_day"), 90.0));
    let c = by(&practices, "code", "C");
    // P12 and P13 count; P14 is excluded and counted apart; P17's item is unresolved.
    assert_eq!(c["patients"], "2");
    assert_eq!(c["excluded_patients"], "1");
    assert_eq!(c["high_dose"], "0");
    assert_eq!(c["unresolved_items"], "1");
    let ics = read(&out.join("ics_summary.csv"));
    let x = by(&ics, "code", "X");
    // (1 + 0) high-dose patients over (1000 + 3000) registered: 0.25 per 1000, not the mean
    // of the practice rates (0.5).
    assert_eq!(x["high_dose_per_1000"], "0.25");
    assert_eq!(x["patients"], "11");
    assert_eq!(x["practices"], "2");
    // Median of X's 11 patients' OME/day, sorted: 20 x4 (P08-P11 at 20 mg/day), 42.857, 60,
    // 60, 60, 90, 120, 180: the 6th value, 60.
    assert!(
        close(num(&x, "median_ome_mg_day"), 60.0),
        "{}",
        x["median_ome_mg_day"]
    );
    // p90: (11 - 1) x 0.9 = 9: the 10th value, 120.
    assert!(close(num(&x, "p90_ome_mg_day"), 120.0));
}

#[test]
fn stockpile_and_prn_policy_settings() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_scenario(
        dir.path(),
        &["--stockpile", "concurrent", "--prn-policy", "mean"],
    );
    let p = read(&out.join("patients.csv"));
    let ome = |id: &str| num(&by(&p, "patient_id", id), "ome_mg_day");
    // Concurrent: (14 x 120 + 14 x 60) / 28 = 90, with days at 120.
    assert!(close(ome("P03"), 90.0), "{}", ome("P03"));
    assert!(close(
        num(&by(&p, "patient_id", "P03"), "peak_ome_mg_day"),
        120.0
    ));
    // Mean: 6 a day, 16.67 days at 18 mg/day; 12 days in the window: 216 / 28.
    assert!(close(ome("P13"), 216.0 / 28.0));
    let items = read(&out.join("items.csv"));
    assert!(close(
        num(&by(&items, "patient_id", "P13"), "days_supply"),
        100.0 / 6.0
    ));
    let out = run_scenario(dir.path(), &["--prn-policy", "min"]);
    let items = read(&out.join("items.csv"));
    assert!(close(
        num(&by(&items, "patient_id", "P13"), "days_supply"),
        25.0
    ));
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["settings"]["prn_policy"], "min");
}

#[test]
fn suppression_hides_small_counts_and_rounds() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    // S1: 3 patients; S2: 13 patients, 8 of them high dose.
    for i in 0..3 {
        e.add(&format!("S1-{i}"), "S1", -27, MST10, "56", "1 bd");
    }
    for i in 0..13 {
        let (drug, dose) = if i < 8 {
            (MST60, "one three times daily")
        } else {
            (MST10, "1 bd")
        };
        let qty = if i < 8 { "84" } else { "56" };
        e.add(&format!("S2-{i:02}"), "S2", -27, drug, qty, dose);
    }
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let lists = dir.path().join("l.csv");
    std::fs::write(&lists, "practice_code,list_size\nS1,1000\nS2,1000\n").unwrap();
    let out = dir.path().join("o");
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--list-sizes",
        lists.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--suppress",
        "--quiet",
        "--as-of",
        "2026-10-31",
    ]);
    assert_eq!(code, 0, "{err}");
    accounting(&out);
    let p = read(&out.join("practice_summary.csv"));
    let s1 = by(&p, "code", "S1");
    assert_eq!(s1["patients"], "*");
    assert_eq!(s1["patients_per_1000"], "*");
    assert_eq!(s1["median_ome_mg_day"], "");
    assert_eq!(s1["high_dose"], "0");
    let s2 = by(&p, "code", "S2");
    assert_eq!(s2["patients"], "15", "13 rounds to 15");
    assert_eq!(s2["high_dose"], "10", "8 rounds to 10");
    assert_eq!(s2["patients_per_1000"], "15", "rate from the rounded count");
    assert_eq!(s2["band_under_50"], "*", "5 is hidden");
    // ICS (UNKNOWN: no mapping) sums unrounded counts, then rounds: 16 -> 15.
    let ics = read(&out.join("ics_summary.csv"));
    assert_eq!(ics[0]["code"], "UNKNOWN");
    assert_eq!(ics[0]["patients"], "15");
    // The review list is never suppressed.
    assert_eq!(read(&out.join("review_list.csv")).len(), 8);
}

#[test]
fn same_run_twice_is_byte_identical_and_parquet_input_matches_csv() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_scenario(dir.path(), &[]);
    let b = run_scenario(dir.path(), &["--grace-days", "30"]);
    for f in [
        "review_list.csv",
        "patients.csv",
        "practice_summary.csv",
        "ics_summary.csv",
        "items.csv",
        "unresolved.csv",
        "rejected.csv",
    ] {
        assert_eq!(
            std::fs::read(a.join(f)).unwrap(),
            std::fs::read(b.join(f)).unwrap(),
            "{f}"
        );
    }
    // Parquet output of the same extract, read back as input, gives the same patients.
    let (extract, practices, lists, excl) = scenario(dir.path());
    let pq_out = dir.path().join("pq");
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--format",
        "parquet",
        "--out",
        pq_out.to_str().unwrap(),
        "--quiet",
        "--as-of",
        "2026-10-31",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(pq_out.join("patients.parquet").exists());
    // Convert the extract to Parquet with polars and audit it.
    use polars::prelude::*;
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(extract.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let pq = dir.path().join("extract.parquet");
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    let out_pq = dir.path().join("from_parquet");
    let (code, _, err) = opal(&[
        "audit",
        pq.to_str().unwrap(),
        "--practices",
        practices.to_str().unwrap(),
        "--list-sizes",
        lists.to_str().unwrap(),
        "--exclude-patients",
        excl.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out_pq.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    accounting(&out_pq);
    for f in [
        "review_list.csv",
        "patients.csv",
        "practice_summary.csv",
        "ics_summary.csv",
    ] {
        assert_eq!(
            std::fs::read_to_string(a.join(f)).unwrap(),
            std::fs::read_to_string(out_pq.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn the_summary_shows_no_patient_identifier() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, practices, lists, _) = scenario(dir.path());
    let out = dir.path().join("shown");
    let (code, stdout, stderr) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--practices",
        practices.to_str().unwrap(),
        "--list-sizes",
        lists.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    accounting(&out);
    assert!(stdout.contains("row accounting"));
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    for id in ["P01", "P02", "P08", "P10", "P14", "P19"] {
        assert!(
            !stdout.contains(id) && !stderr.contains(id) && !manifest.contains(id),
            "{id} leaked"
        );
    }
    // An existing output folder is not overwritten without --force.
    let (code, _, stderr) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );
    let (code, _, _) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--force",
        "--quiet",
    ]);
    assert_eq!(code, 0);
}

#[test]
fn strict_stops_at_the_first_rejected_row() {
    let dir = tempfile::tempdir().unwrap();
    let (extract, ..) = scenario(dir.path());
    let out = dir.path().join("strict");
    let (code, _, stderr) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--strict",
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("line 32")
            && stderr.contains("issue_date")
            && stderr.contains("2026-13-45"),
        "{stderr}"
    );
}

#[test]
fn missing_columns_and_an_epd_file_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.csv");
    std::fs::write(&f, "Patient,Practice,Drug,Qty\n1,A,MST,56\n").unwrap();
    let (code, _, err) = opal(&[
        "audit",
        f.to_str().unwrap(),
        "--out",
        dir.path().join("o").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("no column for issue_date")
            && err.contains("found: Patient, Practice, Drug, Qty")
            && err.contains("hint:"),
        "{err}"
    );
    let epd = dir.path().join("epd.csv");
    std::fs::write(&epd, "YEAR_MONTH,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,ITEMS,QUANTITY,TOTAL_QUANTITY\n202409,A81001,0407020Q0AAAIAI,x,1,56,56\n").unwrap();
    let (code, _, err) = opal(&[
        "audit",
        epd.to_str().unwrap(),
        "--out",
        dir.path().join("o2").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("opal epd"), "{err}");
}

/// One small extract written the ways GP systems write them gives the same patients.
#[test]
fn extract_layouts_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    let plain = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n\
        P1,A,2026-10-04,MST Continus 60mg tablets,56,one twice daily\n\
        P2,A,2026-10-04,Oxycodone 20mg modified-release tablets,56,1 bd\n";
    let run = |name: &str, bytes: &[u8], extra: &[&str]| -> String {
        let f = dir.path().join(name);
        std::fs::write(&f, bytes).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let mut args = vec![
            "audit",
            f.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--as-of",
            "2026-10-31",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = opal(&args);
        assert_eq!(code, 0, "{name}: {err}");
        accounting(&out);
        std::fs::read_to_string(out.join("patients.csv")).unwrap()
    };
    let want = run("plain.csv", plain.as_bytes(), &[]);
    assert!(want.contains("P1,A,UNKNOWN,,,120,"), "{want}");
    // BOM and CRLF.
    let crlf = format!("\u{feff}{}", plain.replace('\n', "\r\n"));
    assert_eq!(run("bom.csv", crlf.as_bytes(), &[]), want);
    // Tabs, GP-export headers, UK dates with times, quantities with units.
    let tsv = "NHS Number\tPractice Code\tDate of Issue\tMedication\tQty\tDosage\n\
        P1\tA\t04/10/2026 00:00\tMST Continus 60mg tablets\t56 tablet\tone twice daily\n\
        P2\tA\t04/10/2026 00:00\tOxycodone 20mg modified-release tablets\t1 pack of 56 tablet(s)\t1 bd\n";
    assert_eq!(run("export.tsv", tsv.as_bytes(), &[]), want);
    // Windows-1252 (a pound sign in a dose text) still reads.
    let mut cp = plain.replace("1 bd", "1 bd \u{a3}").into_bytes();
    let pos = cp.windows(2).position(|w| w == [0xC2, 0xA3]).unwrap();
    cp.splice(pos..pos + 2, [0xA3]);
    assert!(std::str::from_utf8(&cp).is_err());
    let got = run("cp1252.csv", &cp, &[]);
    assert_eq!(got, want);
    // gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, plain.as_bytes()).unwrap();
    assert_eq!(run("plain.csv.gz", &gz.finish().unwrap(), &[]), want);
    // 31-Oct-2026 style and a column mapped by hand.
    let other = "Patient Ref,practice,date,drug,qty,directions\n\
        P1,A,04-Oct-2026,MST Continus 60mg tablets,56,one twice daily\n\
        P2,A,04-Oct-2026,Oxycodone 20mg modified-release tablets,56,1 bd\n";
    assert_eq!(
        run(
            "mapped.csv",
            other.as_bytes(),
            &["--column", "patient_id=Patient Ref"]
        ),
        want
    );
    // Leading zeros in identifiers are kept.
    let zeros = plain.replace("P1,A", "0012,A01");
    let got = run("zeros.csv", zeros.as_bytes(), &[]);
    assert!(got.contains("0012,A01,"), "{got}");
}

/// `--format parquet` writes the same rows and cells as CSV, typed: text as text, numbers as
/// numbers (CSV rounds them to 6 decimals), flags as booleans.
#[test]
fn parquet_outputs_hold_the_csv_cells() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let (extract, practices, lists, _) = scenario(dir.path());
    let run = |format: &str| {
        let out = dir.path().join(format);
        let (code, _, err) = opal(&[
            "audit",
            extract.to_str().unwrap(),
            "--practices",
            practices.to_str().unwrap(),
            "--list-sizes",
            lists.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{err}");
        out
    };
    let (csv_out, pq_out) = (run("csv"), run("parquet"));
    for stem in ["items", "patients", "review_list", "practice_summary"] {
        let mut reader = csv::Reader::from_path(csv_out.join(format!("{stem}.csv"))).unwrap();
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        let file = std::fs::File::open(pq_out.join(format!("{stem}.parquet"))).unwrap();
        let df = ParquetReader::new(file).finish().unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, header, "{stem}");
        assert_eq!(df.height(), rows.len(), "{stem}");
        assert!(!rows.is_empty(), "{stem} has rows to compare");
        for (c, name) in header.iter().enumerate() {
            let col = df.column(name).unwrap().as_materialized_series().clone();
            for (i, row) in rows.iter().enumerate() {
                let cell = &row[c];
                let value = col.get(i).unwrap();
                let same = match value {
                    AnyValue::Null => cell.is_empty(),
                    AnyValue::String(s) => s == cell,
                    AnyValue::StringOwned(ref s) => s.as_str() == cell,
                    AnyValue::Boolean(b) => cell == if b { "true" } else { "false" },
                    AnyValue::Int64(n) => cell.parse::<i64>() == Ok(n),
                    AnyValue::Float64(x) => cell
                        .parse::<f64>()
                        .is_ok_and(|y| (x - y).abs() <= 5e-7 * x.abs().max(1.0)),
                    ref other => panic!("{stem}.{name}: unexpected type {other:?}"),
                };
                assert!(
                    same,
                    "{stem} row {i} {name}: csv '{cell}', parquet {value:?}"
                );
            }
        }
    }
}

/// Issue 12 (safe to send to a practice), end to end, every number worked by hand. As of
/// 2026-10-31; offsets are days before it.
fn safety_extract(dir: &Path) -> PathBuf {
    let mut e = Extract::new();
    let a = "A81001";
    // OST: methadone 1mg/ml oral solution, 60 ml a day for 104 days. Dependence: excluded
    // (4 rows). Included, 60 mg × 3 = 180 mg OME/day, long-term (104 days).
    for offset in [-104, -76, -48, -20] {
        e.add(
            "OST",
            a,
            offset,
            "Methadone 1mg/ml oral solution",
            "1680",
            "60ml daily",
        );
    }
    // DEPOT: a monthly buprenorphine depot: excluded; included, unresolved (no factor).
    e.add(
        "DEPOT",
        a,
        -10,
        "Buprenorphine 128mg/0.36ml prolonged-release solution for injection pre-filled syringes",
        "1",
        "inject monthly",
    );
    // TABS: methadone 5mg tablets for pain, one twice daily, 56: 28 days at 10 mg × 3 = 30.
    e.add(
        "TABS",
        a,
        -27,
        "Methadone 5mg tablets",
        "56",
        "one twice daily",
    );
    // HUGE: a days supply of 99999999999 is rejected; the 240 mg/day item after it counts
    // (112 × 60 mg over 28 days). Kept, it would carry the second item past the audit date.
    e.add("HUGE", a, -60, MST60, "112", "2 bd")
        .days("99999999999");
    e.add("HUGE", a, -27, MST60, "112", "2 bd");
    // Implausible rows, each rejected: 1e-300 days, 20,000 tablets, a 50 g tablet, and
    // 5000 tablets at one a week (35,000 days).
    e.add("TINY", a, -5, MST10, "56", "1 bd").days("1e-300");
    e.add("QTY", a, -5, MST10, "20000", "1 bd");
    e.add("STRENGTH", a, -5, "Morphine 50000mg tablets", "10", "1 od");
    e.add("DERIVED", a, -5, MST10, "5000", "1 weekly");
    // NOW: fentanyl 75 micrograms/hour (180 mg/day) from 9 days ago, 4 patches every 72 hours
    // = 12 days. Window: 10 days × 180 / 28 = 64.29; today 180.
    e.add(
        "NOW",
        a,
        -9,
        "Fentanyl 75micrograms/hour transdermal patches",
        "4",
        "apply one patch every 72 hours",
    );
    // ASSUMED: MST 60mg, 56 tablets with no directions, every 28 days for 100 days: 28 days
    // assumed each, 120 mg/day, long-term (100 days).
    for offset in [-100, -72, -44, -16] {
        e.add("ASSUMED", a, offset, MST60, "56", "");
    }
    // PRN: oxycodone 5mg, "1-2 when required, max 8 in 24 hours": 8 a day (max policy), 56
    // capsules last 7 days; 8 × 5 × 1.5 = 60 mg/day for the window's last 4 days: 240 / 28.
    e.add(
        "PRN",
        a,
        -3,
        "Oxycodone 5mg capsules",
        "56",
        "1-2 when required, max 8 in 24 hours",
    );
    // DIS1: 56 tablets at one twice daily last 28 days, but 7 days are stated: disagree.
    // DIS2: 28 stated, 28 worked out: agree.
    e.add("DIS1", a, -3, MST10, "56", "1 bd").days("7");
    e.add("DIS2", a, -3, MST10, "56", "1 bd").days("28");
    // PAIR: fentanyl 50 and 25 micrograms/hour worn together, 10 of each, the pair changed
    // every 3 days (12.12): each item is one of its patches at a time, 10 × 3 = 30 days, at
    // 120 and 60 mg/day: 180 today, and 21 days × 180 / 28 = 135 in the window.
    for strength in ["50", "25"] {
        e.add(
            "PAIR",
            a,
            -20,
            &format!("Fentanyl {strength}micrograms/hour transdermal patches"),
            "10",
            "apply a 50mcg and a 25mcg patch together every 3 days",
        );
    }
    let path = dir.join("safety.csv");
    e.write(&path);
    path
}

fn run_safety(dir: &Path, extract: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec![
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = opal(&args);
    assert_eq!(code, 0, "{stderr}");
    out
}

#[test]
fn safety_rules_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let extract = safety_extract(dir.path());
    let out = run_safety(dir.path(), &extract, "default", &[]);
    let a = accounting(&out);
    // 22 rows: 5 excluded (OST ×4, DEPOT), 5 rejected (HUGE's first, TINY, QTY, STRENGTH,
    // DERIVED), 12 used.
    assert_eq!(
        (a["read"].as_u64(), a["excluded"].as_u64()),
        (Some(22), Some(5)),
        "{a}"
    );
    assert_eq!(
        (a["rejected"].as_u64(), a["used"].as_u64()),
        (Some(5), Some(12)),
        "{a}"
    );

    // 12.3: each implausible row names its column and why.
    let rejected = read(&out.join("rejected.csv"));
    let rej = |column: &str, value: &str, why: &str| {
        assert!(
            rejected
                .iter()
                .any(|r| r["column"] == column && r["value"] == value && r["reason"].contains(why)),
            "{column} {value} {why}: {rejected:?}"
        );
    };
    rej(
        "days_supply",
        "99999999999",
        "not a plausible number of days",
    );
    rej("days_supply", "1e-300", "not a plausible number of days");
    rej("quantity", "20000", "not a plausible supply");
    rej(
        "drug_name",
        "Morphine 50000mg tablets",
        "strength 50000 mg is not plausible",
    );
    rej("dose_text", "1 weekly", "35000 days of supply");

    let patients = read(&out.join("patients.csv"));
    let ids: Vec<&str> = patients.iter().map(|r| r["patient_id"].as_str()).collect();
    // 12.1: dependence treatment is on no list.
    assert!(!ids.contains(&"OST") && !ids.contains(&"DEPOT"), "{ids:?}");
    let p = by(&patients, "patient_id", "TABS");
    assert!(close(num(&p, "ome_mg_day"), 30.0), "{p:?}");
    // 12.3: the 240 mg/day patient is seen.
    let p = by(&patients, "patient_id", "HUGE");
    assert!(close(num(&p, "ome_mg_day"), 240.0), "{p:?}");
    assert_eq!(p["high_dose"], "true");

    // 12.12: two strengths worn together.
    let p = by(&patients, "patient_id", "PAIR");
    assert!(close(num(&p, "current_ome_mg_day"), 180.0), "{p:?}");
    assert!(close(num(&p, "ome_mg_day"), 135.0), "{p:?}");
    assert_eq!(p["high_dose"], "true");

    // 12.4: today's dose.
    let review = read(&out.join("review_list.csv"));
    let p = by(&review, "patient_id", "NOW");
    assert!(close(num(&p, "ome_mg_day"), 1800.0 / 28.0), "{p:?}");
    assert!(close(num(&p, "current_ome_mg_day"), 180.0), "{p:?}");
    assert_eq!(
        (p["high_dose"].as_str(), p["high_dose_now"].as_str()),
        ("false", "true")
    );
    assert!(
        p["reasons"].contains("current dose 180 mg OME/day above 120 (28-day mean 64.3)"),
        "{p:?}"
    );
    // 12.6: days of supply assumed, said on the review list.
    let p = by(&review, "patient_id", "ASSUMED");
    assert!(close(num(&p, "ome_mg_day"), 120.0), "{p:?}");
    assert_eq!(p["long_term"], "true");
    assert!(
        p["reasons"].contains("days of supply assumed for: MST Continus 60mg tablets"),
        "{p:?}"
    );
    assert!(
        !by(&review, "patient_id", "HUGE")["reasons"].contains("assumed"),
        "directions were read"
    );

    let items = read(&out.join("items.csv"));
    // 12.5: the cap is the daily amount under the max policy.
    let i = by(&items, "patient_id", "PRN");
    assert_eq!(
        (i["units_per_day"].as_str(), i["days_supply"].as_str()),
        ("8", "7")
    );
    let p = by(&patients, "patient_id", "PRN");
    assert!(close(num(&p, "ome_mg_day"), 240.0 / 28.0), "{p:?}");
    // 12.6: a stated duration that the quantity and directions contradict.
    let i = by(&items, "patient_id", "DIS1");
    assert_eq!(
        (
            i["days_supply"].as_str(),
            i["days_supply_disagree"].as_str()
        ),
        ("7", "true")
    );
    assert_eq!(
        by(&items, "patient_id", "DIS2")["days_supply_disagree"],
        "false"
    );
    assert_eq!(by(&items, "patient_id", "TABS")["days_supply_disagree"], "");

    // 12.2: --include-dependence, shown in the manifest.
    let out = run_safety(dir.path(), &extract, "included", &["--include-dependence"]);
    let a = accounting(&out);
    assert_eq!(
        (
            a["excluded"].as_u64(),
            a["unresolved"].as_u64(),
            a["used"].as_u64()
        ),
        (Some(0), Some(1), Some(16)),
        "{a}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["settings"]["include_dependence"], true);
    let p = by(&read(&out.join("review_list.csv")), "patient_id", "OST");
    assert!(close(num(&p, "ome_mg_day"), 180.0), "{p:?}");
    assert_eq!(
        (p["high_dose"].as_str(), p["long_term"].as_str()),
        ("true", "true")
    );
    let u = by(&read(&out.join("unresolved.csv")), "line", "6");
    assert!(u["reason"].contains("no factor set converts"), "{u:?}");

    // --strict stops at the first implausible row (line 8: HUGE's first).
    let (code, _, stderr) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--strict",
        "--out",
        dir.path().join("strict").to_str().unwrap(),
    ]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("line 8") && stderr.contains("not a plausible number of days"),
        "{stderr}"
    );
}

/// Issue 13.2: no patient identifier in any message, on the terminal or in the manifest and
/// summaries: (a) a quote left open, whose rows polars would quote; (b) a headerless extract,
/// whose first row would be "the headers found"; (c) a shifted row that puts an NHS number in
/// the practice column (rejected, not made a practice).
#[test]
fn no_identifier_in_any_message() {
    let dir = tempfile::tempdir().unwrap();
    let ids = ["9434765919", "9434765920", "9434765921", "9434765922"];
    let head = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n";
    let row = |id: &str, practice: &str, dose: &str| {
        format!("{id},{practice},2026-10-01,MST Continus 10mg tablets,56,{dose}\n")
    };
    let cases = [
        (
            "open_quote",
            format!(
                "{head}{}{}{}{}",
                row(ids[0], "A81001", "1 bd"),
                row(ids[1], "A81001", "\"2 bd"),
                row(ids[2], "A81001", "1 bd"),
                row(ids[3], "A81001", "1 bd")
            ),
            1,
            "line 3 opens a quote",
        ),
        (
            "headerless",
            format!(
                "{}{}",
                row(ids[0], "A81001", "1 bd"),
                row(ids[1], "A81001", "1 bd")
            ),
            1,
            "looks like a data row",
        ),
        (
            "shifted",
            format!(
                "{head}{}{}",
                row(ids[0], "A81001", "1 bd"),
                // a name exported before the NHS number shifts it into the practice column
                row("Name Surname", ids[1], "1 bd")
            ),
            0,
            "",
        ),
    ];
    for (name, text, want_code, want_message) in cases {
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join(name);
        let (code, stdout, stderr) = opal(&[
            "audit",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
        ]);
        assert_eq!(code, want_code, "{name}: {stderr}");
        assert!(stderr.contains(want_message), "{name}: {stderr}");
        let mut shown = format!("{stdout}{stderr}");
        for f in [
            "manifest.json",
            "practice_summary.csv",
            "ics_summary.csv",
            "rejected.csv",
        ] {
            shown.push_str(&std::fs::read_to_string(out.join(f)).unwrap_or_default());
        }
        for id in ids {
            assert!(!shown.contains(id), "{name}: {id} shown:\n{shown}");
        }
        if name == "shifted" {
            let a = accounting(&out);
            assert_eq!(
                (a["used"].as_u64(), a["rejected"].as_u64()),
                (Some(1), Some(1))
            );
            let r = by(&read(&out.join("rejected.csv")), "column", "practice_code");
            assert!(r["reason"].contains("like an NHS number"), "{r:?}");
        }
    }
}

/// Issue 13.3 and 13.4: cells that a spreadsheet would run as formulas are written with a
/// leading `'` in every CSV output (numbers stay numbers), and control characters from the
/// input reach the terminal escaped.
#[test]
fn formulas_and_control_characters_are_made_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.csv");
    let mut e = Extract::new();
    // A patient id, a practice code (with an ANSI colour escape and a bell) and a dose text
    // that are formulas; and an unresolved drug name that is one.
    e.add(
        "=HYPERLINK(\"http://x\")",
        "\u{1b}[31mA81001\u{7}",
        -10,
        MST60,
        "56",
        "@SUM(A1) 1 bd",
    );
    e.add("+44123", "A81002", -10, MST60, "56", "1 bd");
    e.add("P3", "A81002", -10, "-2+3 morphine tablets", "56", "1 bd");
    e.write(&path);
    let out = dir.path().join("out");
    let (code, stdout, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
    }
    assert!(stdout.contains("\\u{1b}[31mA81001\\u{7}"), "{stdout}");
    for f in [
        "items.csv",
        "patients.csv",
        "unresolved.csv",
        "practice_summary.csv",
    ] {
        let mut reader = csv::Reader::from_path(out.join(f)).unwrap();
        let mut cells = 0;
        for rec in reader.records() {
            for cell in rec.unwrap().iter() {
                cells += 1;
                let formula = cell.starts_with(['=', '+', '@', '\t', '\r'])
                    || (cell.starts_with('-') && cell.parse::<f64>().is_err());
                assert!(!formula, "{f}: {cell}");
            }
        }
        assert!(cells > 0, "{f}");
    }
    let items = read(&out.join("items.csv"));
    assert!(items
        .iter()
        .any(|r| r["patient_id"] == "'=HYPERLINK(\"http://x\")"));
    assert!(items.iter().any(|r| r["patient_id"] == "'+44123"));
    assert!(items.iter().any(|r| r["dose_text"] == "'@SUM(A1) 1 bd"));
    let u = read(&out.join("unresolved.csv"));
    assert_eq!(u[0]["drug_name"], "'-2+3 morphine tablets");
}

/// Issue 13.7: a practice listed twice in --practices is a warning when the rows agree on the
/// ICS and an error when they do not; an id that is not one (a byte-order mark where two
/// exports were joined, only a zero-width space) and a NUL byte in a field are rejected rows.
#[test]
fn duplicates_and_ids_that_are_not_ids() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.csv");
    std::fs::write(
        &path,
        "patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n\
         P1,A81001,2026-10-01,MST Continus 10mg tablets,56,1 bd\n\
         \u{feff}P2,A81001,2026-10-01,MST Continus 10mg tablets,56,1 bd\n\
         \u{200b},A81001,2026-10-01,MST Continus 10mg tablets,56,1 bd\n\
         P4,A81001,2026-10-01,MST Continus\0 10mg tablets,56,1 bd\n\
         P5,A81001,2026-10-01,MST Continus 10mg tablets,56,1\0 bd\n",
    )
    .unwrap();
    let same = dir.path().join("same.csv");
    std::fs::write(&same, "practice_code,ics_code\nA81001,QHM\nA81001,QHM\n").unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--practices",
        same.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("A81001 is listed twice (lines 2 and 3)"),
        "{stderr}"
    );
    let a = accounting(&out);
    assert_eq!(
        (a["used"].as_u64(), a["rejected"].as_u64()),
        (Some(1), Some(4)),
        "{a}"
    );
    let rejected = read(&out.join("rejected.csv"));
    let reasons: Vec<(&str, &str, &str)> = rejected
        .iter()
        .map(|r| {
            (
                r["line"].as_str(),
                r["column"].as_str(),
                r["reason"].as_str(),
            )
        })
        .collect();
    assert!(reasons[0].2.contains("byte-order mark") && reasons[0].1 == "patient_id");
    assert!(reasons[1].2.contains("no visible character") && reasons[1].1 == "patient_id");
    assert_eq!((reasons[2].0, reasons[2].1), ("5", "drug_name"));
    assert_eq!((reasons[3].0, reasons[3].1), ("6", "dose_text"));
    assert!(rejected.iter().all(|r| r["value"].is_empty()));
    let two = dir.path().join("two.csv");
    std::fs::write(&two, "practice_code,ics_code\nA81001,QHM\nA81001,QUY\n").unwrap();
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--practices",
        two.to_str().unwrap(),
        "--out",
        dir.path().join("out2").to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("listed in two ICSs (QHM on line 2, QUY on line 3)"),
        "{stderr}"
    );
}

/// Issue 13.5, 13.6, 13.8: extracts as people have them. The same two items, written as a
/// pipe to stdin, with a stray space in a header, with CR-only line ends, with a lone quote
/// in an unquoted field, after a report's preamble, and under each practice spelling of
/// report exports, all read alike: 2 rows used, with the rejected line numbers exact.
#[test]
fn extracts_as_people_have_them() {
    let dir = tempfile::tempdir().unwrap();
    let rows = "P1,A81001,2026-10-01,MST Continus 10mg tablets,56,1 bd\n\
                P2,A81001,2026-10-01,MST Continus 10mg tablets,56,capsules 1\" strip 1 bd\n\
                P3,A81001,not a date,MST Continus 10mg tablets,56,1 bd\n";
    let head = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text";
    let run = |name: &str, text: &str, stdin: bool| -> (PathBuf, String) {
        let path = dir.path().join(format!("{name}.csv"));
        std::fs::write(&path, text).unwrap();
        let out = dir.path().join(name);
        let input = if stdin { "-" } else { path.to_str().unwrap() };
        let mut child = Command::new(env!("CARGO_BIN_EXE_opal"))
            .args(["audit", input, "--as-of", "2026-10-31", "--quiet", "--out"])
            .arg(&out)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        {
            use std::io::Write as _;
            let mut w = child.stdin.take().unwrap();
            if stdin {
                w.write_all(text.as_bytes()).unwrap();
            }
        }
        let done = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&done.stderr).into_owned();
        assert!(done.status.success(), "{name}: {stderr}");
        let a = accounting(&out);
        assert_eq!(
            (
                a["read"].as_u64(),
                a["used"].as_u64(),
                a["rejected"].as_u64()
            ),
            (Some(3), Some(2), Some(1)),
            "{name}: {a}"
        );
        (out, stderr)
    };
    let plain = format!("{head}\n{rows}");
    let line_of_bad_date =
        |out: &Path| by(&read(&out.join("rejected.csv")), "column", "issue_date")["line"].clone();
    let (out, _) = run("stdin", &plain, true);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["inputs"][0]["path"], "stdin");
    assert_eq!(line_of_bad_date(&out), "4");
    // The lone quote is a character of the dose text.
    let i = by(&read(&out.join("items.csv")), "patient_id", "P2");
    assert_eq!(i["dose_text"], "capsules 1\" strip 1 bd");
    let (out, _) = run(
        "spaces",
        &format!(
            "{}\n{rows}",
            head.replace("dose_text", "dose_text ")
                .replace("quantity", " quantity")
        ),
        false,
    );
    assert_eq!(line_of_bad_date(&out), "4");
    let (out, _) = run("cr_only", &plain.replace('\n', "\r"), false);
    assert_eq!(line_of_bad_date(&out), "4");
    let preamble = format!(
        "Search: opioid audit (all patients)\nRun on: 01/11/2026 09:12\nPopulation count: 3\n\n{plain}"
    );
    let (out, stderr) = run("preamble", &preamble, false);
    assert_eq!(line_of_bad_date(&out), "8");
    assert!(
        stderr.contains("4 line(s) before the header were skipped"),
        "{stderr}"
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["inputs"][0]["preamble_lines"], 4);
    for spelling in [
        "Usual GP Practice",
        "Registered Practice",
        "Practice ODS Code",
        "Usual GP Practice Code",
        "Registered GP Practice",
        "GP Practice",
    ] {
        let text = format!("{}\n{rows}", head.replace("practice_code", spelling));
        run(&spelling.replace(' ', "_"), &text, false);
    }
}

/// Ctrl-C (SIGINT) removes the run's staging folder, with the items file it was writing, and
/// exits 130, leaving no output folder; a folder left holding nothing but opal's partial files
/// or a staging folder (a run killed outright) is used again without --force.
#[test]
fn an_interrupted_run_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let extract = dir.path().join("big.csv");
    let (code, _, stderr) = opal(&[
        "synth",
        "--patients",
        "30000",
        "--months",
        "24",
        "--out",
        extract.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let out = dir.path().join("out");
    let child = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args(["audit", extract.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The run's staging folder, beside the output folder, holding the items file being
    // written.
    let partial = |d: &Path| {
        std::fs::read_dir(d)
            .map(|d| {
                d.filter_map(Result::ok)
                    .any(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            })
            .unwrap_or(false)
    };
    let staging_with_items = || {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .any(|e| e.file_name().to_string_lossy().ends_with(".partial") && partial(&e.path()))
    };
    // Wait until items.csv is being written, then interrupt.
    let started = std::time::Instant::now();
    while !staging_with_items() && started.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(staging_with_items(), "the run never started writing");
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let done = child.wait_with_output().unwrap();
    assert_eq!(
        done.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(!partial(dir.path()), "a partial file or folder was left");
    assert!(!out.exists(), "an output folder was left");
    // A folder holding only opal's partial files and a staging folder is used without --force.
    std::fs::create_dir_all(out.join(".opal-99999.partial")).unwrap();
    std::fs::write(out.join(".opal-99999.partial/items.csv"), "half").unwrap();
    std::fs::write(out.join(".items.csv.99999.partial"), "half").unwrap();
    let small = dir.path().join("small.csv");
    let mut e = Extract::new();
    e.add("P1", "A81001", -10, MST60, "56", "1 bd");
    e.write(&small);
    let (code, _, stderr) = opal(&[
        "audit",
        small.to_str().unwrap(),
        "--quiet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!partial(&out) && out.join("items.csv").exists());
}

/// Issue 16: the review list that follows patients, end to end. As of 2026-10-31 (offset 0);
/// the previous audit date is 2026-09-30 (offset -31). MST 60 mg "2 bd" 112 tablets is 28
/// days at 240 mg OME/day; "1 od" 28 tablets 28 days at 60; MST 10 mg "1 bd" 56 tablets 28
/// days at 20.
#[test]
fn status_resolved_and_tapers_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    let high = |e: &mut Extract, p: &str, practice: &str, offsets: &[i32]| {
        for &o in offsets {
            e.add(p, practice, o, MST60, "112", "2 bd");
        }
    };
    // A: 240 mg/day since May, every 28 days: listed then and now: continuing.
    high(
        &mut e,
        "A",
        "P1",
        &[-196, -168, -140, -112, -84, -56, -28, 0],
    );
    // B: starts on offset -20: window mean 240 × 21/28 = 180 now, nothing at -31: new.
    high(&mut e, "B", "P1", &[-20]);
    // C: listed at the end of March 2026 (two issues from -250), stopped, restarted at -10
    // (today's dose 240): not listed at -31, listed in March: returned.
    high(&mut e, "C", "P1", &[-250, -222, -10]);
    // D: 240 mg/day; the last supply covers days -61 to -34 (it ends at -33): current and
    // high at -31 (window -58..-31 holds 25 of its days: 240 × 25/28 = 214.285714), not
    // current now (33 days > 30): stopped, abruptly (no step down first).
    high(&mut e, "D", "P1", &[-201, -173, -145, -117, -89, -61]);
    // E: 240 then 60 mg/day from -117; long-term at -31 (170 days); supply ends -33:
    // stopped, not abruptly (60 is below half of 240 in the months before).
    high(&mut e, "E", "P1", &[-201, -173, -145]);
    for o in [-117, -89, -61] {
        e.add("E", "P1", o, MST60, "28", "1 od");
    }
    // F: 240 mg/day from -60, 60 from -32: (26 × 240 + 2 × 60) / 28 = 227.142857 at -31,
    // 60 now, 60 days on opioids: below threshold.
    high(&mut e, "F", "P1", &[-60]);
    e.add("F", "P1", -32, MST60, "28", "1 od");
    e.add("F", "P1", -4, MST60, "28", "1 od");
    // G: 20 mg/day from -180 to -40 (long-term at -31), then a gap of 37 days and a new
    // episode from -3: no longer long-term.
    for o in [-180, -152, -124, -96, -68] {
        e.add("G", "P1", o, MST10, "56", "1 bd");
    }
    e.add("G", "P1", -3, MST10, "56", "1 bd");
    // H: like A, and on the exclusion list now: excluded.
    high(&mut e, "H", "P1", &[-84, -56, -28, 0]);
    // I: 240 mg/day at P1, then at P2 from -16: moved practice (and continuing at P2).
    high(&mut e, "I", "P1", &[-100, -72, -44]);
    high(&mut e, "I", "P2", &[-16]);
    // J: the only patient of P3, whose rows end at -60: not current now, and P3 has no row
    // since -31: no longer in the extract.
    high(&mut e, "J", "P3", &[-116, -88, -60]);
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let excl = dir.path().join("excl.csv");
    std::fs::write(&excl, "patient_id,reason\nH,palliative care\n").unwrap();
    let out = dir.path().join("out");
    let (code, stdout, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--exclude-patients",
        excl.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        stdout
            .contains("since 2026-09-30: 1 new, 2 continuing, 1 returned on the list; 7 resolved"),
        "{stdout}"
    );
    let review = read(&out.join("review_list.csv"));
    let status: HashMap<&str, &str> = review
        .iter()
        .map(|r| (r["patient_id"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(
        status,
        HashMap::from([
            ("A", "continuing"),
            ("B", "new"),
            ("C", "returned"),
            ("I", "continuing"),
            ("D", ""),
        ]),
        "G's new episode is short and low: not listed; F is below the threshold; D stopped \
         abruptly and is listed for that, with no status"
    );
    // Priority: D's abrupt stop is 1; the others are above 120 mg/day with no CNS depressant:
    // 2. D comes first in P1's list.
    let tiers: Vec<(&str, &str)> = review
        .iter()
        .map(|r| (r["patient_id"].as_str(), r["priority"].as_str()))
        .collect();
    assert_eq!(tiers[0], ("D", "1"), "{tiers:?}");
    assert!(tiers[1..].iter().all(|t| t.1 == "2"), "{tiers:?}");
    let d = by(&review, "patient_id", "D");
    assert!(
        d["reasons"]
            .starts_with("stopped since 2026-09-30: 214.3 mg OME/day then, with no step down"),
        "{d:?}"
    );
    assert!(d["priority_reason"].starts_with("stopped abruptly from 214.3 mg/day"));
    let resolved = read(&out.join("resolved.csv"));
    let why: HashMap<&str, (&str, &str)> = resolved
        .iter()
        .map(|r| {
            (
                r["patient_id"].as_str(),
                (r["why"].as_str(), r["abrupt_stop"].as_str()),
            )
        })
        .collect();
    assert_eq!(
        why,
        HashMap::from([
            ("D", ("stopped", "true")),
            ("E", ("stopped", "false")),
            ("F", ("below threshold", "")),
            ("G", ("no longer long-term", "")),
            ("H", ("excluded", "")),
            ("I", ("moved practice", "")),
            ("J", ("no longer in the extract", "")),
        ])
    );
    let d = by(&resolved, "patient_id", "D");
    assert!(close(num(&d, "ome_mg_day_previous"), 214.285714), "{d:?}");
    assert_eq!(d["practice_code"], "P1");
    assert_eq!(d["previous_as_of"], "2026-09-30");
    // The dose trajectory, for every current patient (patients.csv: D, not current, is not
    // there). F was on 240 mg/day from -60 to -33 only: no month end fell in that spell (the
    // one before, -61, had nothing yet; at -31 the latest issue says 60), so the month-end
    // dose is 0 then 60 and 60: no peak above 60, no taper. The 28-day mean saw it (227.1
    // at -31).
    let patients = read(&out.join("patients.csv"));
    assert!(patients.iter().all(|r| r["patient_id"] != "D"));
    // The manifest counts the current patients (patients.csv's rows, D not among them) and
    // the tiers: D at 1; A, B, C and I at 2.
    accounting(&out);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let mp = &m["patients"];
    assert_eq!(mp["current"].as_u64(), Some(patients.len() as u64));
    assert_eq!(mp["review_list"].as_u64(), Some(5));
    assert_eq!(mp["abrupt_stops_listed"].as_u64(), Some(1));
    assert_eq!(
        (mp["priority"]["1"].as_u64(), mp["priority"]["2"].as_u64()),
        (Some(1), Some(4))
    );
    let f = by(&patients, "patient_id", "F");
    assert!(close(num(&f, "ome_mg_day_12m_peak"), 60.0));
    assert!(close(num(&f, "month_end_dose_mg_day"), 60.0));
    assert!(close(num(&f, "ome_mg_day"), 60.0));
    assert!(close(num(&f, "change_from_peak_pct"), 0.0));
    assert_eq!(f["dose_trend"], "");
    assert_eq!(f["status"], "", "not on the list");
    let a = by(&patients, "patient_id", "A");
    assert!(close(num(&a, "ome_mg_day_12m_peak"), 240.0));
    assert!(close(num(&a, "ome_mg_day_3m_ago"), 240.0));
    assert_eq!(
        (a["change_from_peak_pct"].as_str(), a["dose_trend"].as_str()),
        ("0", "")
    );
    // The practice summary counts them by practice: resolved by the practice then.
    let ps = read(&out.join("practice_summary.csv"));
    let p1 = by(&ps, "code", "P1");
    assert_eq!(
        [
            &p1["new"],
            &p1["continuing"],
            &p1["returned"],
            &p1["resolved"]
        ],
        ["1", "1", "1", "6"]
    );
    assert_eq!(
        [
            &p1["priority_1"],
            &p1["priority_2"],
            &p1["priority_3"],
            &p1["priority_4"]
        ],
        ["1", "3", "0", "0"]
    );
    let p2 = by(&ps, "code", "P2");
    assert_eq!([&p2["continuing"], &p2["resolved"]], ["1", "0"]);
    assert_eq!(by(&ps, "code", "P3")["resolved"], "1");
    // A previous date on or after the audit date is a usage error.
    let (code, _, err) = opal(&[
        "audit",
        extract.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--previous-as-of",
        "2026-10-31",
        "--out",
        dir.path().join("o2").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not before the audit date"), "{err}");
}

/// Issue 16: CNS depressants issued with an opioid. As of 2026-10-31; the look-back window is
/// the 90 days from -89 to 0. MST 60 mg "1 od" 28 tablets from -27: 60 mg OME/day now.
#[test]
fn co_prescribing_inside_and_outside_the_window() {
    let dir = tempfile::tempdir().unwrap();
    let mut e = Extract::new();
    // K: 60 mg/day and pregabalin at -30 (inside): listed, with the reason.
    e.add("K", "P1", -27, MST60, "28", "1 od");
    e.add("K", "P1", -30, "Pregabalin 75mg capsules", "56", "1 bd");
    // L: 60 mg/day and diazepam at -90 (outside: the window starts at -89): not listed.
    e.add("L", "P1", -27, MST60, "28", "1 od");
    e.add("L", "P1", -90, "Diazepam 2mg tablets", "28", "1 od");
    // M: 20 mg/day (MST 10 mg "1 bd") and zopiclone at -89 (inside): co-prescribed, but not
    // above 50 mg/day: not listed.
    e.add("M", "P1", -27, MST10, "56", "1 bd");
    e.add(
        "M",
        "P1",
        -89,
        "Zopiclone 7.5mg tablets",
        "28",
        "1 at night",
    );
    // N: 60 mg/day with gabapentin and temazepam: both classes named, in the order of their
    // ingredients.
    e.add("N", "P1", -27, MST60, "28", "1 od");
    e.add("N", "P1", -5, "Gabapentin 300mg capsules", "84", "1 tds");
    e.add("N", "P1", -5, "Temazepam 10mg tablets", "7", "1 at night");
    let extract = dir.path().join("e.csv");
    e.write(&extract);
    let run = |out: &str, extra: &[&str]| {
        let out = dir.path().join(out);
        let mut args = vec![
            "audit",
            extract.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = opal(&args);
        assert_eq!(code, 0, "{err}");
        out
    };
    let out = run("o", &[]);
    let patients = read(&out.join("patients.csv"));
    let k = by(&patients, "patient_id", "K");
    assert_eq!(k["co_prescribed"], "pregabalin");
    assert_eq!(
        k["reasons"],
        "also prescribed pregabalin (gabapentinoid): opioid and gabapentinoid together raise \
         the risk of respiratory depression"
    );
    assert_eq!(by(&patients, "patient_id", "L")["co_prescribed"], "");
    let m = by(&patients, "patient_id", "M");
    assert_eq!(
        (m["co_prescribed"].as_str(), m["reasons"].as_str()),
        ("zopiclone", "")
    );
    let n = by(&patients, "patient_id", "N");
    assert_eq!(n["co_prescribed"], "gabapentin; temazepam");
    assert!(
        n["reasons"].starts_with("also prescribed gabapentin (gabapentinoid)")
            && n["reasons"].contains("; also prescribed temazepam (benzodiazepine)"),
        "{}",
        n["reasons"]
    );
    let listed: Vec<String> = read(&out.join("review_list.csv"))
        .into_iter()
        .map(|r| r["patient_id"].clone())
        .collect();
    assert_eq!(listed, ["K", "N"]);
    // The non-opioid rows stay not_opioid in the accounting.
    assert_eq!(accounting(&out)["not_opioid"].as_u64(), Some(5));
    // --co-prescribing-review-from 0 turns the rule off; 59 keeps it (60 is above 59).
    let off = run("off", &["--co-prescribing-review-from", "0"]);
    assert!(read(&off.join("review_list.csv")).is_empty());
    let at59 = run("59", &["--co-prescribing-review-from", "59"]);
    assert_eq!(read(&at59.join("review_list.csv")).len(), 2);
    let at60 = run("60", &["--co-prescribing-review-from", "60"]);
    assert!(
        read(&at60.join("review_list.csv")).is_empty(),
        "60 is not above 60"
    );
}
