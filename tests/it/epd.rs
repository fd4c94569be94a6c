//! `opal epd` on the real September 2017 EPD month, checked against OME per unit typed by
//! hand from each BNF description (uk-fpm factors), summed here independently of opal.

use super::read;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reference/epd")
        .join(name)
}

/// OME per unit of every opioid presentation in the file, by hand: strength of the opioid x
/// factor (codeine, dihydrocodeine, tramadol, dextropropoxyphene 0.1; oxycodone 1.5 oral, 3
/// injection; diamorphine injection 3; buprenorphine sublingual 60; meptazinol 0.03;
/// tapentadol 0.4); liquids per ml; patches per patch: rate x 2.4 x wear days (fentanyl 3;
/// buprenorphine up to 20 micrograms/hour 7, above 4; Hapoctasin 3).
const OME_PER_UNIT: &[(&str, f64)] = &[
    ("0309010C0AAAAAA", 0.3),   // Codeine Phos_Linct 15mg/5ml: 3 mg/ml x 0.1
    ("0309010C0AAADAD", 0.3),   // ... S/F
    ("0407010F0AAAAAA", 0.8),   // Co-Codamol_Tab 8mg/500mg
    ("0407010F0AAABAB", 0.8),   // Co-Codamol_Cap 8mg/500mg
    ("0407010F0AAACAC", 0.8),   // Co-Codamol Eff_Tab 8mg/500mg
    ("0407010F0AAADAD", 3.0),   // Co-Codamol_Cap 30mg/500mg
    ("0407010F0AAAFAF", 3.0),   // Co-Codamol Eff_Tab 30mg/500mg
    ("0407010F0AAAHAH", 3.0),   // Co-Codamol_Tab 30mg/500mg
    ("0407010F0AAAKAK", 1.5),   // Co-Codamol_Tab 15mg/500mg
    ("0407010F0AAAVAV", 1.5),   // Co-Codamol_Cap 15mg/500mg
    ("0407010F0AAAWAW", 1.5),   // Co-Codamol_Tab Eff 15mg/500mg S/F
    ("0407010F0BEAAAD", 3.0),   // Tylex_Cap 30mg/500mg
    ("0407010F0BGAAAF", 3.0),   // Solpadol_Tab Eff 30mg/500mg
    ("0407010F0BGABAH", 3.0),   // Solpadol_Capl 30mg/500mg
    ("0407010F0BGACAD", 3.0),   // Solpadol_Cap 30mg/500mg
    ("0407010F0BHAAAH", 3.0),   // Kapake_Tab 30mg/500mg
    ("0407010F0BSAAAH", 3.0),   // Zapain_Tab 30mg/500mg
    ("0407010F0BSABAD", 3.0),   // Zapain_Cap 30mg/500mg
    ("0407010F0BXAAAX", 0.8),   // Migraleve_Yellow Tab: codeine 8mg
    ("0407041A0BBABAG", 0.8),   // Migraleve_Pink Tab: codeine 8mg (with buclizine)
    ("0407010N0AAAAAA", 1.0),   // Co-Dydramol_Tab 10mg/500mg
    ("0407010N0AAAIAI", 3.0),   // Paracet/Dihydrocodeine_Tab 500mg/30mg
    ("0407010Q0AAAAAA", 3.25),  // Co-Proxamol_Tab 32.5mg/325mg
    ("040702040AAAAAA", 5.0),   // Tramadol HCl_Cap 50mg
    ("040702040AAACAC", 10.0),  // Tramadol HCl_Tab 100mg M/R
    ("040702040AAADAD", 15.0),  // Tramadol HCl_Tab 150mg M/R
    ("040702040AAAGAG", 5.0),   // Tramadol HCl_Cap 50mg M/R
    ("040702040AAAHAH", 10.0),  // Tramadol HCl_Cap 100mg M/R
    ("040702040AAAUAU", 3.75),  // Tramadol HCl/Paracet_Tab 37.5mg/325mg
    ("040702040AAAYAY", 5.0),   // Tramadol HCl_Tab 50mg M/R
    ("040702040BBACAC", 10.0),  // Zydol SR_Tab 100mg
    ("040702040BBAEAE", 20.0),  // Zydol SR_Tab 200mg
    ("040702040BBAKAY", 5.0),   // Zydol SR_Tab 50mg
    ("040702040BNADAE", 20.0),  // Marol_Tab 200mg M/R
    ("040702040BNAEAD", 15.0),  // Marol_Tab 150mg M/R
    ("040702040BNAFAC", 10.0),  // Marol_Tab 100mg M/R
    ("0407020A0AAAEAE", 180.0), // Fentanyl 25: 60/day x 3
    ("0407020A0AAAFAF", 360.0), // Fentanyl 50
    ("0407020A0AAAUAU", 90.0),  // Fentanyl 12 (12.5): 30/day x 3
    ("0407020A0AABWBW", 270.0), // Fentanyl 37.5: 90 x 3
    ("0407020A0BBAJAF", 360.0), // Durogesic DTrans 50
    ("0407020A0BBAKAG", 540.0), // Durogesic DTrans 75
    ("0407020A0BEAAAU", 90.0),  // Matrifen 12
    ("0407020A0BEABAE", 180.0), // Matrifen 25
    ("0407020A0BEACAF", 360.0), // Matrifen 50
    ("0407020A0BEADAG", 540.0), // Matrifen 75
    ("0407020A0BEAEAH", 720.0), // Matrifen 100
    ("0407020A0BQABAE", 180.0), // Fencino 25
    ("0407020ADAAAAAA", 1.5),   // Oxycodone HCl_Oral Soln 5mg/5ml: 1 mg/ml x 1.5
    ("0407020ADAAACAC", 7.5),   // Oxycodone HCl_Cap 5mg
    ("0407020ADAAADAD", 15.0),  // Oxycodone HCl_Cap 10mg
    ("0407020ADAAAEAE", 30.0),  // Oxycodone HCl_Cap 20mg
    ("0407020ADAAAFAF", 15.0),  // Oxycodone HCl_Tab 10mg M/R
    ("0407020ADAAAHAH", 60.0),  // Oxycodone HCl_Tab 40mg M/R
    ("0407020ADAAALAL", 30.0),  // Oxycodone HCl_Inj 10mg/ml 1ml Amp: 10 x 3
    ("0407020ADAAASAS", 22.5),  // Oxycodone HCl_Tab 15mg M/R
    ("0407020ADBBAAAA", 1.5),   // OxyNorm_Oral Soln 5mg/5ml
    ("0407020ADBBACAC", 7.5),   // OxyNorm_Cap 5mg
    ("0407020ADBCAAAF", 15.0),  // OxyContin_Tab 10mg M/R
    ("0407020ADBEAAAK", 7.5),   // Longtec 5
    ("0407020ADBEABAF", 15.0),  // Longtec 10
    ("0407020ADBEACAG", 30.0),  // Longtec 20
    ("0407020ADBEADAH", 60.0),  // Longtec 40
    ("0407020ADBEAEAI", 120.0), // Longtec 80
    ("0407020ADBEAGAS", 22.5),  // Longtec 15
    ("0407020ADBEAIAQ", 90.0),  // Longtec 60
    ("0407020ADBJAAAC", 7.5),   // Shortec_Cap 5mg
    ("0407020ADBJACAE", 30.0),  // Shortec_Cap 20mg
    ("0407020AFAAABAB", 30.0),  // Oxycodone/Naloxone 20/10 M/R
    ("0407020AFAAADAD", 60.0),  // Oxycodone/Naloxone 40/20 M/R
    ("0407020AGAAAAAA", 20.0),  // Tapentadol HCl_Tab 50mg: x 0.4
    ("0407020B0AAABAB", 12.0),  // Buprenorphine_Tab Subling 200mcg: 0.2 x 60
    ("0407020B0AAAEAE", 336.0), // Buprenorphine 35 (96hr): 84/day x 4
    ("0407020B0AAAFAF", 504.0), // 52.5: 126 x 4
    ("0407020B0AAAGAG", 672.0), // 70: 168 x 4
    ("0407020B0AAAHAH", 84.0),  // 5 (7day): 12 x 7
    ("0407020B0AAAIAI", 168.0), // 10: 24 x 7
    ("0407020B0AAAJAJ", 336.0), // 20: 48 x 7
    ("0407020B0BGABAF", 378.0), // Hapoctasin 52.5: 126 x 3 (72-hour patch)
    ("0407020B0BHAAAH", 84.0),  // Butec 5
    ("0407020B0BHABAI", 168.0), // Butec 10
    ("0407020B0BHACAJ", 336.0), // Butec 20
    ("0407020B0BHADAK", 252.0), // Butec 15: 36 x 7
    ("0407020B0BPAAAE", 336.0), // Relevtec 35: 84 x 4
    ("0407020C0AAABAB", 0.5),   // Codeine Phos_Oral Soln 25mg/5ml: 5 mg/ml x 0.1
    ("0407020C0AAADAD", 1.5),   // Codeine Phos_Tab 15mg
    ("0407020C0AAAEAE", 3.0),   // Codeine Phos_Tab 30mg
    ("0407020C0AAAFAF", 6.0),   // Codeine Phos_Tab 60mg
    ("0407020G0AAACAC", 3.0),   // Dihydrocodeine Tart_Tab 30mg
    ("0407020G0AAADAD", 6.0),   // ... 60mg M/R
    ("0407020G0AAAEAE", 9.0),   // ... 90mg M/R
    ("0407020G0AAAFAF", 12.0),  // ... 120mg M/R
    ("0407020G0BBAAAD", 6.0),   // Dhc Continus_Tab 60mg
    ("0407020G0BBABAE", 9.0),   // Dhc Continus_Tab 90mg
    ("0407020K0AAAAAA", 15.0),  // Diamorph HCl_Inj 5mg Amp: 5 x 3
    ("0407020K0AAABAB", 30.0),  // Diamorph HCl_Inj 10mg Amp
    ("0407020L0AAABAB", 6.0),   // Meptazinol HCl_Tab 200mg: x 0.03
    ("0407020Q0AAA6A6", 20.0),  // Morph Sulf_Conc Soln 20mg/ml
    ("0407020Q0AAAKAK", 10.0),  // Morph Sulf_Tab 10mg M/R
    ("0407020Q0AACDCD", 10.0),  // Morph Sulf_Tab 10mg
    ("0407020Q0AACNCN", 2.0),   // Morph Sulf_Oral Soln 10mg/5ml
    ("0407020Q0AACPCP", 30.0),  // Morph Sulf_Gran Sach 30mg M/R
    ("0407020Q0AAEFEF", 10.0),  // Morph Sulf_Cap 10mg M/R
    ("0407020Q0AAEGEG", 30.0),  // Morph Sulf_Cap 30mg M/R
    ("0407020Q0BBABAL", 30.0),  // MST Continus_Tab 30mg
    ("0407020Q0BBAKCG", 5.0),   // MST Continus_Tab 5mg
    ("0407020Q0BBALCF", 15.0),  // MST Continus_Tab 15mg
    ("0407020Q0BCAGCN", 2.0),   // Oramorph_Oral Soln 10mg/5ml
    ("0407020Q0BKAAEF", 10.0),  // Zomorph_Cap 10mg
    ("0407020Q0BKABEG", 30.0),  // Zomorph_Cap 30mg
    ("0407020Q0BKACEH", 60.0),  // Zomorph_Cap 60mg
    ("0407020Q0BKADEB", 100.0), // Zomorph_Cap 100mg
    ("0407020Q0BKAEEI", 200.0), // Zomorph_Cap 200mg
];

/// OpenPrescribing's regular (long-acting) opioid items: patches, oxycodone and morphine MR.
const REGULAR: &[&str] = &[
    "0407020A0AAAEAE",
    "0407020A0AAAFAF",
    "0407020A0AAAUAU",
    "0407020A0AABWBW",
    "0407020A0BBAJAF",
    "0407020A0BBAKAG",
    "0407020A0BEAAAU",
    "0407020A0BEABAE",
    "0407020A0BEACAF",
    "0407020A0BEADAG",
    "0407020A0BEAEAH",
    "0407020A0BQABAE",
    "0407020ADAAAFAF",
    "0407020ADAAAHAH",
    "0407020ADAAASAS",
    "0407020ADBCAAAF",
    "0407020ADBEAAAK",
    "0407020ADBEABAF",
    "0407020ADBEACAG",
    "0407020ADBEADAH",
    "0407020ADBEAEAI",
    "0407020ADBEAGAS",
    "0407020ADBEAIAQ",
    "0407020AFAAABAB",
    "0407020AFAAADAD",
    "0407020B0AAAEAE",
    "0407020B0AAAFAF",
    "0407020B0AAAGAG",
    "0407020B0AAAHAH",
    "0407020B0AAAIAI",
    "0407020B0AAAJAJ",
    "0407020B0BGABAF",
    "0407020B0BHAAAH",
    "0407020B0BHABAI",
    "0407020B0BHACAJ",
    "0407020B0BHADAK",
    "0407020B0BPAAAE",
    "0407020Q0AAAKAK",
    "0407020Q0AACPCP",
    "0407020Q0AAEFEF",
    "0407020Q0AAEGEG",
    "0407020Q0BBABAL",
    "0407020Q0BBAKCG",
    "0407020Q0BBALCF",
    "0407020Q0BKAAEF",
    "0407020Q0BKABEG",
    "0407020Q0BKACEH",
    "0407020Q0BKADEB",
    "0407020Q0BKAEEI",
];

/// High dose at 120 mg: fentanyl 50+, buprenorphine 52.5+, oxycodone MR 40+, morphine MR 60+.
const HIGH_120: &[&str] = &[
    "0407020A0AAAFAF",
    "0407020A0BBAJAF",
    "0407020A0BBAKAG",
    "0407020A0BEACAF",
    "0407020A0BEADAG",
    "0407020A0BEAEAH",
    "0407020B0AAAFAF",
    "0407020B0AAAGAG",
    "0407020B0BGABAF",
    "0407020ADAAAHAH",
    "0407020ADBEADAH",
    "0407020ADBEAEAI",
    "0407020ADBEAIAQ",
    "0407020AFAAADAD",
    "0407020Q0BKACEH",
    "0407020Q0BKADEB",
    "0407020Q0BKAEEI",
];

#[derive(Default, Debug)]
struct Hand {
    ome: f64,
    regular: f64,
    high: f64,
}

#[test]
fn september_2017_against_hand_sums() {
    let per_unit: HashMap<&str, f64> = OME_PER_UNIT.iter().copied().collect();
    // Hand sums over the file's opioid rows, without opal.
    let mut hand: BTreeMap<String, Hand> = BTreeMap::new();
    for row in read(&reference("epd_201709.csv")) {
        let code = row["BNF_CODE"].as_str();
        let Some(u) = per_unit.get(code) else {
            continue;
        };
        let qty: f64 = row["TOTAL_QUANTITY"].parse().unwrap();
        let items: f64 = row["ITEMS"].parse().unwrap();
        let h = hand.entry(row["PRACTICE_CODE"].clone()).or_default();
        h.ome += qty * u;
        if REGULAR.contains(&code) {
            h.regular += items;
        }
        if HIGH_120.contains(&code) {
            h.high += items;
        }
    }
    // List sizes: the SEX=ALL, AGE_GROUP_5=ALL rows of the registrations file.
    let lists: HashMap<&str, f64> = [
        ("B85010", 6939.0),
        ("B85054", 10529.0),
        ("L84018", 6632.0),
        ("L84073", 4181.0),
    ]
    .into();
    for row in read(&reference("gp-reg-pat-prac-quin-age_2017_09.csv")) {
        if row["SEX"] == "ALL" && row["AGE_GROUP_5"] == "ALL" {
            assert_eq!(
                lists[row["ORG_CODE"].as_str()],
                row["NUMBER_OF_PATIENTS"].parse::<f64>().unwrap()
            );
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("epd");
    let status = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args([
            "epd",
            reference("epd_201709.csv").to_str().unwrap(),
            "--list-sizes",
            reference("gp-reg-pat-prac-quin-age_2017_09.csv")
                .to_str()
                .unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let practices = read(&out.join("practice_measures.csv"));
    assert_eq!(practices.len(), 4);
    for p in &practices {
        let code = p["practice_code"].as_str();
        let h = &hand[code];
        let got: f64 = p["total_ome_mg"].parse().unwrap();
        assert!(
            (got - h.ome).abs() < 1e-6,
            "{code}: opal {got}, by hand {}",
            h.ome
        );
        let per_1000: f64 = p["ome_mg_per_1000_patients"].parse().unwrap();
        assert!(
            (per_1000 - h.ome * 1000.0 / lists[code]).abs() < 1e-6,
            "{code}"
        );
        assert_eq!(
            p["regular_opioid_items"].parse::<f64>().unwrap(),
            h.regular,
            "{code}"
        );
        assert_eq!(
            p["high_dose_items"].parse::<f64>().unwrap(),
            h.high,
            "{code}"
        );
        let hd_1000: f64 = p["high_dose_items_per_1000"].parse().unwrap();
        assert!((hd_1000 - h.high * 1000.0 / lists[code]).abs() < 1e-6);
        let pct: f64 = p["high_dose_percent"].parse().unwrap();
        assert!((pct - h.high * 100.0 / h.regular).abs() < 1e-6);
    }
    // Every opioid code in the file resolves, and opal's opioid codes are exactly the hand
    // table's; the one unresolved code (a combination pack) is listed, not dropped.
    let bnf = read(&out.join("bnf_ome.csv"));
    for b in &bnf {
        let code = b["bnf_code"].as_str();
        if b["status"] == "resolved" {
            let want = per_unit.get(code).unwrap_or_else(|| {
                panic!(
                    "{code} {} resolved but not in the hand table",
                    b["description"]
                )
            });
            assert!(
                (b["ome_mg_per_unit"].parse::<f64>().unwrap() - want).abs() < 1e-9,
                "{code} {}",
                b["description"]
            );
        }
    }
    for code in per_unit.keys() {
        let b = bnf
            .iter()
            .find(|b| b["bnf_code"] == *code)
            .unwrap_or_else(|| panic!("{code} missing"));
        assert_eq!(b["status"], "resolved", "{code}");
    }
    let unresolved = read(&out.join("unresolved.csv"));
    assert_eq!(unresolved.len(), 1);
    assert_eq!(unresolved[0]["description"], "Migraleve Complete_Tab");
    // ICS (here the CCG, PCO_CODE): sums over sums.
    let ics = read(&out.join("ics_measures.csv"));
    let hud = ics.iter().find(|r| r["ics_code"] == "03A00").unwrap();
    let ome = hand["B85010"].ome + hand["B85054"].ome;
    let got: f64 = hud["ome_mg_per_1000_patients"].parse().unwrap();
    assert!((got - ome * 1000.0 / (6939.0 + 10529.0)).abs() < 1e-6);
    // Accounting.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let a = &m["rows"];
    let n = |k: &str| a[k].as_u64().unwrap();
    assert_eq!(n("read"), 10027);
    assert_eq!(
        n("read"),
        n("opioid") + n("not_opioid") + n("excluded") + n("unresolved") + n("rejected")
    );
}

#[test]
fn the_current_layout_and_openprescribing_patch_hours() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("epd_202409.csv");
    std::fs::write(
        &f,
        "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,SNOMED_CODE,QUANTITY,ITEMS,TOTAL_QUANTITY,NIC,ACTUAL_COST\n\
         202409,NORTH EAST,Y63,NHS NORTH EAST AND NORTH CUMBRIA ICB,QHM,X,00L00,A PRACTICE,A81001,0407020A0AAAUAU,Fentanyl_Transdermal Patch 12mcg/hr,,10,2,20,1,1\n\
         202409,NORTH EAST,Y63,NHS NORTH EAST AND NORTH CUMBRIA ICB,QHM,X,00L00,A PRACTICE,A81001,0407020B0BGABAF,Hapoctasin_Patch 52.5mcg/hr,,4,1,4,1,1\n\
         202409,NORTH EAST,Y63,NHS NORTH EAST AND NORTH CUMBRIA ICB,QHM,X,00L00,A PRACTICE,A81001,0407010F0AAAHAH,Co-Codamol_Tab 30mg/500mg,,100,3,300,1,1\n\
         202409,NORTH EAST,Y63,NHS NORTH EAST AND NORTH CUMBRIA ICB,QHM,X,00L00,A PRACTICE,A81001,0410030A0AAAEAE,Buprenorphine_Tab Subling 8mg S/F,,7,1,7,1,1\n",
    )
    .unwrap();
    let run = |factors: &str| -> Vec<HashMap<String, String>> {
        let out = dir.path().join(factors);
        let ok = Command::new(env!("CARGO_BIN_EXE_opal"))
            .args([
                "epd",
                f.to_str().unwrap(),
                "--factors",
                factors,
                "--out",
                out.to_str().unwrap(),
                "--quiet",
            ])
            .status()
            .unwrap();
        assert!(ok.success());
        read(&out.join("practice_measures.csv"))
    };
    // uk-fpm: 20 x 90 (12.5 x 2.4 x 3) + 4 x 378 (Hapoctasin: 126 x 3) + 300 x 3 = 4212.
    let p = run("uk-fpm");
    assert_eq!(p[0]["month"], "2024-09");
    assert_eq!(p[0]["ics_code"], "QHM");
    assert_eq!(p[0]["total_ome_mg"], "4212");
    // OpenPrescribing: the 12 patch is 12 x 0.1 x 72 = 86.4; buprenorphine 52.5 is 96 hours:
    // 0.0525 x 100 x 96 = 504; co-codamol 3. 20 x 86.4 + 4 x 504 + 900 = 4644.
    let p = run("openprescribing");
    assert_eq!(p[0]["total_ome_mg"], "4644");
    // The 8mg sublingual buprenorphine (BNF 0410) is excluded, not counted.
    assert_eq!(p[0]["opioid_items"], "6");
}

/// Damaged quantities are rejected rows with reasons, counted, never summed: a total of
/// 1e20 over 2 items, a negative quantity, "inf", two million items. The one good row's OME
/// is the hand sum alone: co-codamol 30 mg, 300 tablets × 30 mg × 0.1 = 900 mg.
#[test]
fn damaged_epd_quantities_are_rejected_rows() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("epd_202409.csv");
    let row = |qty: &str, items: &str, total: &str| {
        format!(
            "202409,NORTH EAST,Y63,NHS NORTH EAST AND NORTH CUMBRIA ICB,QHM,X,00L00,A PRACTICE,\
             A81001,0407010F0AAAHAH,Co-Codamol_Tab 30mg/500mg,,{qty},{items},{total},1,1\n"
        )
    };
    let text = format!(
        "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,\
         PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,SNOMED_CODE,QUANTITY,\
         ITEMS,TOTAL_QUANTITY,NIC,ACTUAL_COST\n{}{}{}{}{}{}",
        row("100", "3", "300"),
        row("1", "2", "1e20"),
        row("-5", "1", "-5"),
        row("1", "1", "inf"),
        row("1", "2000000", "2000000"),
        // 20,000 units in one item: over the 10,000 of the largest plausible supply.
        row("20000", "1", "20000"),
    );
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = crate::opal(&[
        "epd",
        f.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let p = read(&out.join("practice_measures.csv"));
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["total_ome_mg"], "900");
    let rejected = read(&out.join("rejected.csv"));
    let cols: Vec<(&str, &str)> = rejected
        .iter()
        .map(|r| (r["column"].as_str(), r["value"].as_str()))
        .collect();
    assert_eq!(
        cols,
        [
            ("total_quantity", "1e20"),
            // A leading '-' is guarded as a spreadsheet formula would be.
            ("total_quantity", "'-5"),
            ("total_quantity", "inf"),
            ("items", "2000000"),
            ("total_quantity", "20000"),
        ]
    );
    assert!(
        rejected[0]["reason"].contains("beyond any real supply"),
        "{:?}",
        rejected[0]
    );
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["rows"]["rejected"], 5, "{}", m["rows"]);
    assert_eq!(m["rows"]["read"], 6, "{}", m["rows"]);
}

#[test]
fn a_patient_extract_given_to_epd_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("x.csv");
    std::fs::write(
        &f,
        "patient_id,practice_code,issue_date,drug_name,quantity\n1,A,2026-01-01,MST,56\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args([
            "epd",
            f.to_str().unwrap(),
            "--out",
            dir.path().join("o").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("opal audit") && err.contains("no column for year_month"),
        "{err}"
    );
}

/// Issue 12.9: `--factors openprescribing` gives OpenPrescribing's OME for every route of
/// its table (oral, rectal, injection, transdermal, buccal, oromucosal, nasal, inhalation),
/// sublingual tablets included (OpenPrescribing's route for them, from dm+d, is oromucosal),
/// and buccal films none (its SQL gives them the route "film", which has no row). One
/// practice per route, so that each total is one hand sum.
#[test]
fn openprescribing_ome_for_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("epd_202409.csv");
    let head = "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,PCO_NAME,\
                PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,SNOMED_CODE,\
                QUANTITY,ITEMS,TOTAL_QUANTITY,NIC,ACTUAL_COST\n";
    // (practice, BNF code, description, total quantity, OME by hand)
    let cases: &[(&str, &str, &str, u32, f64)] = &[
        // oral: co-codamol 30mg × 0.1 = 3 a tablet.
        (
            "P00001",
            "0407010F0AAAHAH",
            "Co-Codamol_Tab 30mg/500mg",
            100,
            300.0,
        ),
        // rectal: codeine 30mg suppository × 0.1 = 3.
        (
            "P00002",
            "0407020C0AAASAS",
            "Codeine Phos_Suppos 30mg",
            10,
            30.0,
        ),
        // injection: diamorphine 10mg × 3.3 = 33 an ampoule.
        (
            "P00003",
            "0407020K0AAABAB",
            "Diamorph HCl_Inj 10mg Amp",
            5,
            165.0,
        ),
        // transdermal: fentanyl 25 × 24 / 1000 × 100 = 60 a day, × 72 h = 180 a patch.
        (
            "P00004",
            "0407020A0AAAEAE",
            "Fentanyl_Transdermal Patch 25mcg/hr",
            10,
            1800.0,
        ),
        // buccal tablet: fentanyl 0.1mg × 130 = 13.
        (
            "P00005",
            "0407020A0AABCBC",
            "Fentanyl_Buccal Tab 100mcg S/F",
            28,
            364.0,
        ),
        // sublingual (oromucosal in OpenPrescribing): fentanyl 0.1 × 130 = 13,
        // buprenorphine 0.2 × 60 = 12.
        (
            "P00006",
            "0407020A0AAAWAW",
            "Fentanyl_Tab Subling 100mcg S/F",
            10,
            130.0,
        ),
        (
            "P00007",
            "0407020B0AAABAB",
            "Buprenorphine_Tab Subling 200mcg S/F",
            50,
            600.0,
        ),
        // oromucosal lozenge: fentanyl 0.2 × 130 = 26.
        (
            "P00008",
            "0407020A0AAAIAI",
            "Fentanyl Cit_Loz 200mcg",
            3,
            78.0,
        ),
        // nasal: fentanyl 100 micrograms a dose × 160 = 16.
        (
            "P00009",
            "0407020A0AABJBJ",
            "Fentanyl_Nsl Spy 100mcg/D",
            10,
            160.0,
        ),
        // inhalation: diamorphine 30mg cigarette × 1 = 30.
        (
            "P00010",
            "0407020K0AABFBF",
            "Diamorph HCl_Cigarette 30mg",
            2,
            60.0,
        ),
        // buccal film: no factor in OpenPrescribing's table.
        (
            "P00011",
            "0407020A0AABTBT",
            "Fentanyl_Buccal Film 200mcg S/F",
            4,
            0.0,
        ),
    ];
    let mut text = head.to_string();
    for (practice, code, desc, qty, _) in cases {
        text.push_str(&format!(
            "202409,NORTH EAST,Y63,ICB,QHM,X,00L00,A PRACTICE,{practice},{code},{desc},,{qty},1,{qty},1,1\n"
        ));
    }
    std::fs::write(&f, text).unwrap();
    let out = dir.path().join("op");
    let ok = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args([
            "epd",
            f.to_str().unwrap(),
            "--factors",
            "openprescribing",
            "--out",
            out.to_str().unwrap(),
            "--quiet",
        ])
        .status()
        .unwrap();
    assert!(ok.success());
    let rows = read(&out.join("practice_measures.csv"));
    for (practice, _, desc, _, ome) in cases {
        let got: f64 = rows
            .iter()
            .find(|r| r["practice_code"] == *practice)
            .map(|r| r["total_ome_mg"].parse().unwrap())
            .unwrap_or(0.0);
        assert!((got - ome).abs() < 1e-9, "{desc}: {got}, by hand {ome}");
    }
}
