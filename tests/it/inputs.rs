//! Extracts as people have them (issue 25): a report run inside one practice, with no practice
//! column (`--practice-code`); a research extract's duration of 0 for "not recorded". Every
//! number is worked by hand in the comments; the audit date is 2026-10-31.

use super::{opal, read};
use std::path::Path;

fn audit(dir: &Path, name: &str, text: &str, extra: &[&str]) -> (i32, String, std::path::PathBuf) {
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, text).unwrap();
    let out = dir.join(name);
    let mut args = vec![
        "audit",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--quiet",
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = opal(&args);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (code, stderr, out)
}

fn manifest(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap()
}

/// A report run inside one practice has no practice column. Without --practice-code the run
/// says so and how; with it every row is that practice's. S1: MST Continus 60 mg, 56 tablets
/// "2 bd" on 2026-10-20: 4 a day, 14 days, 56 × 60 ÷ 14 = 240 mg OME a day. With a practice
/// column, --practice-code is an error naming the column.
#[test]
fn a_single_practice_report_runs_with_practice_code() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id,issue_date,drug_name,quantity,dose_text\n\
                S1,2026-10-20,MST Continus 60mg tablets,56,2 bd\n\
                S2,2026-10-04,MST Continus 10mg tablets,56,1 bd\n";
    let (code, stderr, _) = audit(dir.path(), "plain", text, &[]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("no column for practice_code") && stderr.contains("--practice-code CODE"),
        "{stderr}"
    );
    let (code, stderr, out) = audit(dir.path(), "s1", text, &["--practice-code", "Y90001"]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i["practice_code"] == "Y90001"));
    let s1 = items.iter().find(|i| i["patient_id"] == "S1").unwrap();
    assert_eq!(
        (s1["days_supply"].as_str(), s1["ome_mg_day"].as_str()),
        ("14", "240")
    );
    let summary = read(&out.join("practice_summary.csv"));
    assert_eq!(summary.len(), 1);
    assert_eq!(summary[0]["code"], "Y90001");
    assert_eq!(manifest(&out)["settings"]["practice_code"], "Y90001");

    let with_column = "patient_id,practice_code,issue_date,drug_name,quantity\nS1,A81001,2026-10-20,MST Continus 60mg tablets,56\n";
    let (code, stderr, _) = audit(
        dir.path(),
        "col",
        with_column,
        &["--practice-code", "Y90001"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("has a practice column ('practice_code')"),
        "{stderr}"
    );
    let (code, stderr, _) = audit(
        dir.path(),
        "nhs",
        text,
        &["--practice-code", "943-476-5919"],
    );
    assert_eq!(code, 2);
    assert!(
        stderr.contains("looks like an NHS number") && !stderr.contains("5919"),
        "{stderr}"
    );
}

/// CPRD Aurum writes a duration of 0 where none was recorded: not stated, so the directions
/// give the days (C1: 56 MST 60 mg "1 bd" = 28 days, 120 mg/day) or the default 28 (C2, no
/// directions); counted in the manifest. A negative duration is still rejected (C3).
#[test]
fn a_duration_of_zero_is_not_stated() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text,days_supply\n\
                C1,A81001,2026-10-04,MST Continus 60mg tablets,56,1 bd,0\n\
                C2,A81001,2026-10-04,MST Continus 60mg tablets,56,,0\n\
                C3,A81001,2026-10-04,MST Continus 60mg tablets,56,1 bd,-3\n\
                C4,A81001,2026-10-04,MST Continus 60mg tablets,56,1 bd,14\n";
    let (code, stderr, out) = audit(dir.path(), "cprd", text, &[]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let of = |p: &str| items.iter().find(|i| i["patient_id"] == p).unwrap().clone();
    assert_eq!(
        (
            of("C1")["days_supply"].as_str(),
            of("C1")["days_supply_source"].as_str()
        ),
        ("28", "dose")
    );
    assert_eq!(of("C1")["ome_mg_day"], "120");
    assert_eq!(
        (
            of("C2")["days_supply"].as_str(),
            of("C2")["days_supply_source"].as_str()
        ),
        ("28", "default")
    );
    // C4's stated 14 days stand: 3360 mg over 14 days, 240 a day.
    assert_eq!(
        (
            of("C4")["days_supply_source"].as_str(),
            of("C4")["ome_mg_day"].as_str()
        ),
        ("explicit", "240")
    );
    let rejected = read(&out.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["column"], "days_supply");
    let m = manifest(&out);
    assert_eq!(m["days_supply_zero_read_as_not_stated"], 2);
    assert_eq!(m["rows"]["used"], 3);
}

/// Excel's text guards on codes and numbers are taken off ('2883211000001103,
/// ="36057211000001102", '56), so the dm+d ids resolve (MST Continus 60 mg and hydromorphone
/// 16 mg MR capsules); a placeholder issue date (1900-01-01) is rejected as no date, and does not
/// become the extract's first issue date.
#[test]
fn excel_guards_are_taken_off_and_placeholder_dates_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id,practice_code,issue_date,dmd_code,quantity,dose_text\n\
                E1,A81001,2026-10-04,'2883211000001103,'56,1 bd\n\
                E2,A81001,2026-10-04,\"=\"\"36057211000001102\"\"\",56,1 bd\n\
                E3,A81001,1900-01-01,'2883211000001103,56,1 bd\n\
                E4,A81001,0001-01-01,'2883211000001103,56,1 bd\n";
    let (code, stderr, out) = audit(dir.path(), "guards", text, &[]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let ids: Vec<&str> = items.iter().map(|i| i["dmd_id"].as_str()).collect();
    assert_eq!(ids, ["2883211000001103", "36057211000001102"]);
    assert_eq!(items[0]["quantity"], "56");
    let rejected = read(&out.join("rejected.csv"));
    assert_eq!(rejected.len(), 2);
    for r in &rejected {
        assert_eq!(r["column"], "issue_date");
        assert!(r["reason"].contains("placeholder for no date"), "{r:?}");
    }
    assert_eq!(rejected[1]["value"], "0001-01-01");
    assert_eq!(manifest(&out)["first_issue_date"], "2026-10-04");
}

/// UTF-16 with a byte-order mark, little- and big-endian (Excel's "Unicode text", tab
/// separated; some EMIS exports), reads as the same text in UTF-8 does: the same items, with
/// a name outside ASCII (é) intact.
#[test]
fn utf16_with_a_byte_order_mark_reads_as_utf8_does() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id\tpractice_code\tissue_date\tdrug_name\tquantity\tdose_text\n\
                P1\tA81001\t2026-10-04\tMST Continus 60mg tablets\t56\t1 bd\n\
                Pé2\tA81001\t2026-10-04\tZomorph 30mg modified-release capsules\t56\t1 bd\n";
    let utf8 = dir.path().join("utf8.csv");
    std::fs::write(&utf8, text).unwrap();
    let le: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let be: Vec<u8> = [0xFE, 0xFF]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
        .collect();
    let items = |name: &str, bytes: Option<&[u8]>| {
        let path = dir.path().join(format!("{name}.txt"));
        match bytes {
            Some(b) => std::fs::write(&path, b).unwrap(),
            None => std::fs::copy(&utf8, &path).map(|_| ()).unwrap(),
        }
        let out = dir.path().join(name);
        let (code, _, stderr) = opal(&[
            "audit",
            path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--quiet",
        ]);
        assert_eq!(code, 0, "{name}: {stderr}");
        read(&out.join("items.csv"))
            .into_iter()
            .map(|mut r| {
                r.remove("file");
                r
            })
            .collect::<Vec<_>>()
    };
    let want = items("utf8", None);
    assert_eq!(want.len(), 2);
    assert_eq!(want[1]["patient_id"], "Pé2");
    assert_eq!(items("le", Some(&le)), want);
    assert_eq!(items("be", Some(&be)), want);
}

/// An OMOP CDM `drug_exposure` table (person_id, drug_exposure_start_date, drug_source_value
/// holding the dm+d id, quantity, days_supply, sig) reads by its own headers; it has no
/// practice, so --practice-code gives it. O1: MST Continus 60 mg (2883211000001103), 56
/// tablets over a stated 28 days, 3360 ÷ 28 = 120 mg OME a day; O2: a stated 0 days is not
/// stated, so "2 bd" gives 14 days, 240 a day.
#[test]
fn an_omop_drug_exposure_table_reads_by_its_headers() {
    let dir = tempfile::tempdir().unwrap();
    let text = "drug_exposure_id,person_id,drug_concept_id,drug_exposure_start_date,drug_exposure_end_date,drug_source_value,quantity,days_supply,sig\n\
                1,O1,40221385,2026-10-04,2026-10-31,2883211000001103,56,28,1 bd\n\
                2,O2,40221385,2026-10-20,2026-11-02,2883211000001103,56,0,2 bd\n";
    let (code, stderr, out) = audit(dir.path(), "omop", text, &["--practice-code", "Y90001"]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let of = |p: &str| items.iter().find(|i| i["patient_id"] == p).unwrap().clone();
    assert_eq!(
        (
            of("O1")["days_supply"].as_str(),
            of("O1")["ome_mg_day"].as_str()
        ),
        ("28", "120")
    );
    assert_eq!(
        (
            of("O2")["days_supply_source"].as_str(),
            of("O2")["ome_mg_day"].as_str()
        ),
        ("dose", "240")
    );
    assert!(items.iter().all(|i| i["dmd_id"] == "2883211000001103"));
    let m = manifest(&out);
    let cols = &m["inputs"][0]["columns"];
    assert_eq!(cols["issue_date"], "drug_exposure_start_date", "{cols}");
    assert_eq!(cols["dmd_code"], "drug_source_value", "{cols}");
}

/// `--patient-practices`: the practice of each patient from another table (OMOP's person and
/// care_site, written as person_id,care_site_id). O1 is Y90001's, O2 Y90002's; O3 is not in
/// the file, so its row is rejected with the reason, its value not shown.
#[test]
fn patient_practices_from_another_table() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("persons.csv");
    std::fs::write(&map, "person_id,care_site_id\nO1,Y90001\nO2,Y90002\n").unwrap();
    let text = "person_id,drug_exposure_start_date,drug_source_value,quantity,days_supply,sig\n\
                O1,2026-10-04,2883211000001103,56,28,1 bd\n\
                O2,2026-10-04,2883211000001103,56,28,1 bd\n\
                O3,2026-10-04,2883211000001103,56,28,1 bd\n";
    let (code, stderr, out) = audit(
        dir.path(),
        "omop",
        text,
        &["--patient-practices", map.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let practices: Vec<(&str, &str)> = items
        .iter()
        .map(|i| (i["patient_id"].as_str(), i["practice_code"].as_str()))
        .collect();
    assert_eq!(practices, [("O1", "Y90001"), ("O2", "Y90002")]);
    let rejected = read(&out.join("rejected.csv"));
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0]["column"], "practice_code");
    assert!(
        rejected[0]["reason"].starts_with("the patient is not in --patient-practices"),
        "{:?}",
        rejected[0]
    );
    assert_eq!(rejected[0]["value"], "");
    let summary = read(&out.join("practice_summary.csv"));
    let codes: Vec<&str> = summary.iter().map(|s| s["code"].as_str()).collect();
    assert_eq!(codes, ["Y90001", "Y90002"]);
    assert!(manifest(&out)["patient_practices"]["sha256"].is_string());
    // Both options at once: a usage error.
    let (code, _, _) = audit(
        dir.path(),
        "both",
        text,
        &[
            "--patient-practices",
            map.to_str().unwrap(),
            "--practice-code",
            "Y90001",
        ],
    );
    assert_eq!(code, 2);
}

/// A CPRD Aurum DrugIssue extract (tab-separated: patid, pracid, issuedate as dd/mm/yyyy,
/// prodcodeid, dosageid, quantity, quantunitid, duration) read through --code-map with CPRD's
/// product dictionary (ProdCodeId → DMDID, TermfromEMIS, ProductName):
/// - C1: 1001 is MST Continus 60 mg (its DMDID), 56 tablets over a duration of 28 days:
///   3360 ÷ 28 = 120 mg OME a day;
/// - C2: 1002 has no DMDID but its ProductName, Zomorph 30 mg MR capsules; duration 0 is not
///   stated and there are no directions, so the default 28 days: 56 × 30 ÷ 28 = 60 a day;
/// - C3: 1003 is paracetamol: not an opioid;
/// - C4: 9999 is not in the dictionary: a rejected row with that reason.
#[test]
fn a_cprd_aurum_extract_reads_through_its_product_dictionary() {
    let dir = tempfile::tempdir().unwrap();
    let dictionary = dir.path().join("CPRDAurumProduct.txt");
    std::fs::write(
        &dictionary,
        "ProdCodeId\tdmdid\tTermfromEMIS\tProductName\tFormulation\n\
         1001\t2883211000001103\tMST CONTINUS 60mg tablets\tMST Continus 60mg tablets\tTablet\n\
         1002\t\tZomorph 30mg m/r capsules\tZomorph 30mg modified-release capsules\tCapsule\n\
         1003\t\tParacetamol 500mg tablets\tParacetamol 500mg tablets\tTablet\n",
    )
    .unwrap();
    let text = "patid\tpracid\tissuedate\tprodcodeid\tdosageid\tquantity\tquantunitid\tduration\n\
                C1\t20001\t20/10/2026\t1001\t\t56\t\t28\n\
                C2\t20001\t20/10/2026\t1002\t\t56\t\t0\n\
                C3\t20001\t20/10/2026\t1003\t\t32\t\t0\n\
                C4\t20001\t20/10/2026\t9999\t\t10\t\t7\n";
    let path = dir.path().join("DrugIssue.txt");
    std::fs::write(&path, text).unwrap();
    // Without the dictionary: a clear error that says what the code column needs.
    let out = dir.path().join("plain");
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("--code-map FILE"), "{stderr}");
    let out = dir.path().join("cprd");
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--code-map",
        dictionary.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let of = |p: &str| items.iter().find(|i| i["patient_id"] == p).unwrap().clone();
    assert_eq!(of("C1")["dmd_id"], "2883211000001103");
    assert_eq!(
        (
            of("C1")["days_supply"].as_str(),
            of("C1")["ome_mg_day"].as_str()
        ),
        ("28", "120")
    );
    assert_eq!(
        (
            of("C2")["days_supply_source"].as_str(),
            of("C2")["ome_mg_day"].as_str()
        ),
        ("default", "60")
    );
    assert_eq!(items.len(), 2);
    let m = manifest(&out);
    assert_eq!(m["rows"]["not_opioid"], 1, "{}", m["rows"]);
    assert_eq!(m["rows"]["rejected"], 1, "{}", m["rows"]);
    let rejected = read(&out.join("rejected.csv"));
    assert_eq!(
        rejected[0]["reason"],
        "the product code is not in --code-map"
    );
    assert_eq!(m["inputs"][0]["columns"]["source_code"], "prodcodeid");
}

/// Timestamps in UTC, as GP Connect gives them, are the Europe/London date: an issue at
/// 23:30 UTC on 4 October 2026 (British Summer Time) was on 5 October in England, and the
/// audit date taken from the latest issue is that date too.
#[test]
fn utc_timestamps_are_london_dates() {
    let dir = tempfile::tempdir().unwrap();
    let text = "patient_id,practice_code,issue_date,drug_name,quantity,dose_text\n\
                T1,A81001,2026-09-06T10:00:00.0000000Z,MST Continus 60mg tablets,56,1 bd\n\
                T1,A81001,2026-10-04T23:30:00.0000000Z,MST Continus 60mg tablets,56,1 bd\n";
    let path = dir.path().join("gpconnect.csv");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("o");
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let dates: Vec<&str> = items.iter().map(|i| i["issue_date"].as_str()).collect();
    assert_eq!(dates, ["2026-09-06", "2026-10-05"]);
    assert_eq!(manifest(&out)["as_of"], "2026-10-05");
}

/// CPRD Aurum's dosageid read through --dosages (its common dosages: dosage_text, daily_dose).
/// Both issues are 56 MST Continus 60 mg with a duration of 0 (not stated), so the directions
/// give the days: D1 "1 twice a day" is 2 a day, 28 days, 120 mg OME a day; D2 has no text but
/// a daily dose of 4, read as "4 daily": 14 days, 240 a day.
#[test]
fn cprd_dosages_give_the_directions() {
    let dir = tempfile::tempdir().unwrap();
    let dictionary = dir.path().join("product.txt");
    std::fs::write(&dictionary, "ProdCodeId\tdmdid\n1001\t2883211000001103\n").unwrap();
    let dosages = dir.path().join("common_dosages.txt");
    std::fs::write(
        &dosages,
        "dosageid\tdosage_text\tdaily_dose\nD1\t1 twice a day\t2\nD2\t\t4\n",
    )
    .unwrap();
    let path = dir.path().join("DrugIssue.txt");
    std::fs::write(
        &path,
        "patid\tpracid\tissuedate\tprodcodeid\tdosageid\tquantity\tduration\n\
         C1\t20001\t20/10/2026\t1001\tD1\t56\t0\n\
         C2\t20001\t20/10/2026\t1001\tD2\t56\t0\n",
    )
    .unwrap();
    let out = dir.path().join("o");
    let (code, _, stderr) = opal(&[
        "audit",
        path.to_str().unwrap(),
        "--code-map",
        dictionary.to_str().unwrap(),
        "--dosages",
        dosages.to_str().unwrap(),
        "--as-of",
        "2026-10-31",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let items = read(&out.join("items.csv"));
    let got: Vec<(&str, &str, &str, &str)> = items
        .iter()
        .map(|i| {
            (
                i["dose_text"].as_str(),
                i["days_supply"].as_str(),
                i["days_supply_source"].as_str(),
                i["ome_mg_day"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("1 twice a day", "28", "dose", "120"),
            ("4 daily", "14", "dose", "240")
        ]
    );
}

/// FHIR R4 (tests/data/fhir, in GP Connect's and UK Core's shape), as a Bundle and as NDJSON,
/// read alike. The practice is the patients' managing Organization's ODS code, Y90001.
/// - pat1: MST Continus 60 mg by medicationReference; the structured dose (1 tablet, twice a
///   day) wins over the text ("once a day": METHOD.md §5), 56 tablets over the stated 28 days:
///   3360 ÷ 28 = 120 mg OME a day;
/// - pat2: Zomorph 30 mg, text only ("Two capsules twice a day": 4 a day), 56 capsules last
///   14 days, 56 × 30 ÷ 14 = 120 a day; authored 23:30 UTC on 20 October 2026, in summer
///   time, so issued on 21 October in England;
/// - pat1's authorisation (intent plan) and a MedicationStatement are set aside, the file
///   having the issues themselves: counted twice, pat1's 56 tablets a month would read 240;
///   an issue entered in error is set aside too; both said in the warnings.
#[test]
fn fhir_bundles_and_ndjson_read_as_extracts() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fhir");
    let mut seen = Vec::new();
    for file in ["bundle.json", "bundle.ndjson"] {
        let out = dir.path().join(file);
        let (code, _, stderr) = opal(&[
            "audit",
            fixtures.join(file).to_str().unwrap(),
            "--as-of",
            "2026-10-31",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ]);
        assert_eq!(code, 0, "{file}: {stderr}");
        let items: Vec<Vec<String>> = read(&out.join("items.csv"))
            .iter()
            .map(|i| {
                [
                    "patient_id",
                    "practice_code",
                    "issue_date",
                    "dmd_id",
                    "dose_text",
                    "days_supply",
                    "days_supply_source",
                    "ome_mg_day",
                ]
                .iter()
                .map(|k| i[*k].clone())
                .collect()
            })
            .collect();
        assert_eq!(
            items,
            [
                [
                    "pat1",
                    "Y90001",
                    "2026-10-04",
                    "2883211000001103",
                    "1 every 12 hours (structured dose)",
                    "28",
                    "explicit",
                    "120"
                ],
                [
                    "pat2",
                    "Y90001",
                    "2026-10-21",
                    "3651611000001107",
                    "Two capsules twice a day",
                    "14",
                    "dose",
                    "120"
                ],
            ],
            "{file}"
        );
        let m = manifest(&out);
        assert_eq!(m["rows"]["read"], 2, "{file}: {}", m["rows"]);
        let warnings = m["warnings"].to_string();
        assert!(
            warnings.contains("2 FHIR MedicationRequest plan(s) or MedicationStatement(s)"),
            "{warnings}"
        );
        assert!(
            warnings.contains("1 FHIR medication resource(s) marked entered-in-error"),
            "{warnings}"
        );
        seen.push(items);
    }
    assert_eq!(seen[0], seen[1]);
}
