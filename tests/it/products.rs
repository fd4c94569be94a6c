//! The product dictionary and resolver against every row of the public dm+d codelists, and
//! `opal products` / `opal factors` end to end.

use super::opal;
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;

use opal::factors::FactorSet;
use opal::ome::unit_ome;
use opal::product::{Route, StrengthUnit};
use opal::resolve::{ItemText, MatchedBy, Resolution, Resolver, Status};

struct CodelistRow {
    file: String,
    name: String,
    dmd_id: String,
    dmd_type: String,
    bnf_code: String,
}

fn codelist_rows() -> Vec<CodelistRow> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference/dmd");
    let mut rows = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 7, "seven codelists");
    for f in files {
        let mut r = csv::Reader::from_path(&f).unwrap();
        for rec in r.records() {
            let rec = rec.unwrap();
            rows.push(CodelistRow {
                file: f.file_name().unwrap().to_string_lossy().into_owned(),
                name: rec[1].to_string(),
                dmd_id: rec[2].to_string(),
                dmd_type: rec[3].to_string(),
                bnf_code: rec[4].to_string(),
            });
        }
    }
    rows
}

/// The opioid of each BNF chemical, typed by hand from the BNF, independent of the parser.
fn opioid_of_bnf_chemical(bnf: &str) -> &'static str {
    match &bnf[..9] {
        "0104020D0" | "0309010C0" | "0309020U0" | "0309020X0" | "0407010F0" | "0407010M0"
        | "0407010W0" | "0407010X0" | "0407020C0" | "0407041A0" | "1001010J0" => "codeine",
        "0104020N0" | "0309020T0" | "040702020" | "0407020P0" | "0407020Q0" => "morphine",
        "0309010N0" | "0407020K0" => "diamorphine",
        "0309010S0" | "0407020M0" => "methadone",
        "0407010N0" | "0407020G0" => "dihydrocodeine",
        "0407010Q0" | "0407020E0" => "dextropropoxyphene",
        "040702040" => "tramadol",
        "040702050" => "hydromorphone",
        "0407020A0" => "fentanyl",
        "0407020AB" => "papaveretum",
        "0407020AD" | "0407020AF" | "0407020Z0" => "oxycodone",
        "0407020AG" => "tapentadol",
        "0407020B0" => "buprenorphine",
        "0407020D0" => "dextromoramide",
        "0407020H0" => "dipipanone",
        "0407020T0" | "0407020U0" => "pentazocine",
        "0407020V0" => "pethidine",
        "0407020Y0" => "nalbuphine",
        "1501043A0" => "alfentanil",
        other => panic!("BNF chemical {other} not in the hand-typed table"),
    }
}

/// Routes each codelist allows.
fn routes_of_file(file: &str) -> &'static [Route] {
    if file.contains("-oral-") {
        &[Route::Oral]
    } else if file.contains("parenteral") {
        &[Route::Injection]
    } else if file.contains("transdermal") {
        &[Route::Transdermal]
    } else if file.contains("rectal") {
        &[Route::Rectal]
    } else if file.contains("inhalation") {
        &[Route::Inhalation]
    } else if file.contains("buccal-nasal") {
        &[
            Route::Buccal,
            Route::Nasal,
            Route::Oromucosal,
            Route::Sublingual,
        ]
    } else {
        // The high-dose long-acting list: oral modified-release and patches.
        &[Route::Oral, Route::Transdermal]
    }
}

/// Products whose dm+d name states no composition, kept as known-but-unresolvable with a reason
/// (see data/README.md). Anything else unresolved is a failure.
/// (Diocalm Dual Action and J Collis Browne's tablets have their SPC's composition in
/// data/product_overrides.csv since issue 12.10.)
const NO_STATED_COMPOSITION: &[&str] = &[
    "Opazimes",
    "Ipecacuanha and Morphine mixture",
    "Morphine and Cocaine elixir",
    "VMP previous to 36049111000001100",
    "VMP previous to 36127911000001101",
];

/// Every amount the name states, as the strength per unit it could mean: `10mg` (10),
/// `10mg/5ml` (2 and 10), `200microgram` (0.2), `25micrograms/hour` (25).
fn strengths_stated(name: &str) -> Vec<f64> {
    let amount = regex::Regex::new(r"(\d+(?:\.\d+)?)\s*(mg|micrograms?|g)\b").unwrap();
    let per = regex::Regex::new(r"/(\d+(?:\.\d+)?)?(ml|hour|dose)").unwrap();
    let mut amounts = Vec::new();
    for c in amount.captures_iter(name) {
        let v: f64 = c[1].parse().unwrap();
        amounts.push(v); // as written: micrograms per hour for patches
        amounts.push(match &c[2] {
            "g" => v * 1000.0,
            "mg" => v,
            _ => v / 1000.0,
        });
    }
    let mut out = amounts.clone();
    for c in per.captures_iter(name) {
        let d: f64 = c.get(1).map_or(1.0, |m| m.as_str().parse().unwrap());
        out.extend(amounts.iter().map(|a| a / d));
    }
    out
}

fn check(row: &CodelistRow, r: &Resolution, how: &str) {
    let who = format!("{} {} ({how}, {})", row.dmd_id, row.name, row.file);
    if NO_STATED_COMPOSITION.iter().any(|n| row.name.contains(n)) {
        assert_eq!(r.status, Status::Unresolved, "{who}");
        assert!(
            r.reason
                .as_deref()
                .unwrap_or("")
                .contains("composition not stated"),
            "{who}: {:?}",
            r.reason
        );
        return;
    }
    assert!(
        matches!(r.status, Status::Resolved | Status::Excluded),
        "{who}: {:?} {:?}",
        r.status,
        r.reason
    );
    let p = r.product.as_ref().unwrap();
    assert_eq!(p.ingredient, opioid_of_bnf_chemical(&row.bnf_code), "{who}");
    assert!(
        routes_of_file(&row.file).contains(&p.route),
        "{who}: {:?}",
        p.route
    );
    assert!(p.strength > 0.0, "{who}");
    if p.route == Route::Transdermal {
        assert_eq!(p.strength_unit, StrengthUnit::McgPerHour, "{who}");
        assert_eq!(p.patch_rate_mcg_per_hour, Some(p.strength), "{who}");
        assert!(p.patch_wear_days.is_some(), "{who}");
    }
    let stated = strengths_stated(&row.name);
    let fentanyl_12 = p.ingredient == "fentanyl" && p.strength == 12.5;
    if !stated.is_empty() && !fentanyl_12 && !row.name.contains('%') {
        assert!(
            stated.iter().any(|s| (s - p.strength).abs() < 1e-9) || p.product_key != row.dmd_id, // a brand that takes its generic's strength
            "{who}: strength {} not among {stated:?}",
            p.strength
        );
    }
}

#[test]
fn every_codelist_row_resolves_by_code_and_by_name_alone() {
    let rows = codelist_rows();
    assert!(rows.len() > 2200, "{}", rows.len());
    let resolver = Resolver::builtin();
    let mut by_code_product: HashMap<String, (String, Route, f64)> = HashMap::new();
    for row in &rows {
        let by_code = resolver.resolve(ItemText {
            dmd_code: &row.dmd_id,
            bnf_code: "",
            name: "",
        });
        assert_eq!(by_code.matched_by, Some(MatchedBy::Dmd), "{}", row.name);
        check(row, &by_code, "dm+d code");
        let by_name = resolver.resolve(ItemText {
            dmd_code: "",
            bnf_code: "",
            name: &row.name,
        });
        check(row, &by_name, "name alone");
        if let (Some(a), Some(b)) = (&by_code.product, &by_name.product) {
            assert_eq!(
                (&a.ingredient, a.route, a.strength, a.release),
                (&b.ingredient, b.route, b.strength, b.release),
                "{} by code and by name",
                row.name
            );
            by_code_product.insert(
                row.dmd_id.clone(),
                (a.ingredient.clone(), a.route, a.strength),
            );
        }
        // The BNF code alone lands on the same ingredient and route.
        let by_bnf = resolver.resolve(ItemText {
            dmd_code: "",
            bnf_code: &row.bnf_code,
            name: "",
        });
        if let (Some(a), Some(b)) = (&by_code.product, &by_bnf.product) {
            assert_eq!(a.ingredient, b.ingredient, "{} by BNF", row.name);
        }
        let _ = row.dmd_type.as_str();
    }
    assert!(by_code_product.len() > 2000);
}

/// Worked by hand from METHOD.md §10: one unit of each product.
#[test]
fn method_worked_examples_per_unit() {
    let set = FactorSet::default_set();
    let resolver = Resolver::builtin();
    let unit = |name: &str| {
        let r = resolver.resolve_name(name);
        let p = r
            .product
            .unwrap_or_else(|| panic!("{name}: {:?}", r.reason));
        let u = unit_ome(&p, &set).unwrap();
        (u.ome_mg_per_unit, u.ome_mg_day_per_unit)
    };
    let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
    // Fentanyl 50 micrograms/hour: 50 x 2.4 = 120 mg/day; worn 3 days = 360 mg per patch.
    let (per_patch, per_day) = unit("Fentanyl 50micrograms/hour transdermal patches");
    assert!(close(per_day.unwrap(), 120.0) && close(per_patch, 360.0));
    // Buprenorphine 5 micrograms/hour 7-day: 12 mg/day, 84 per patch.
    let (per_patch, per_day) = unit("Buprenorphine 5micrograms/hour transdermal patches");
    assert!(close(per_day.unwrap(), 12.0) && close(per_patch, 84.0));
    // Co-codamol 30mg/500mg: 30 mg codeine x 0.1 = 3 mg.
    assert!(close(unit("Co-codamol 30mg/500mg tablets").0, 3.0));
    // Morphine 10mg/5ml: 2 mg/ml x 1 = 2 mg per ml; 300 ml = 600 mg.
    let (per_ml, _) = unit("Morphine sulfate 10mg/5ml oral solution");
    assert!(close(per_ml, 2.0) && close(per_ml * 300.0, 600.0));
    // Fentanyl 12/25/50/75/100: 30/60/120/180/240 mg/day (12 means 12.5).
    for (rate, day) in [
        (12, 30.0),
        (25, 60.0),
        (50, 120.0),
        (75, 180.0),
        (100, 240.0),
    ] {
        let (_, d) = unit(&format!(
            "Fentanyl {rate}micrograms/hour transdermal patches"
        ));
        assert!(close(d.unwrap(), day), "fentanyl {rate}: {d:?}");
    }
    // Buprenorphine 5/10/20/35/52.5/70: 12/24/48/84/126/168 mg/day.
    for (rate, day) in [
        ("5", 12.0),
        ("10", 24.0),
        ("20", 48.0),
        ("35", 84.0),
        ("52.5", 126.0),
        ("70", 168.0),
    ] {
        let (_, d) = unit(&format!(
            "Buprenorphine {rate}micrograms/hour transdermal patches"
        ));
        assert!(close(d.unwrap(), day), "buprenorphine {rate}: {d:?}");
    }
    // 10 fentanyl 25 patches: 60 mg/day x 3 days x 10 = 1800 mg over 30 days.
    let (per_patch, _) = unit("Fentanyl 25micrograms/hour transdermal patches");
    assert!(close(per_patch * 10.0, 1800.0));
    // MST Continus 60mg: 60 mg; Longtec 30mg: 45 mg per tablet (x2 = 90 mg/day).
    assert!(close(unit("MST Continus 60mg tablets").0, 60.0));
    assert!(close(
        unit("Longtec 30mg modified-release tablets").0 * 2.0,
        90.0
    ));
    // Oxycodone 10mg MR twice daily: 30 mg/day.
    assert!(close(
        unit("Oxycodone 10mg modified-release tablets").0 * 2.0,
        30.0
    ));
    // Codeine 240 mg/day: 24; tramadol 400 mg/day: 40 (one unit x units per day).
    assert!(close(unit("Codeine 60mg tablets").0 * 4.0, 24.0));
    assert!(close(unit("Dihydrocodeine 30mg tablets").0 * 8.0, 24.0));
    assert!(close(
        unit("Tramadol 100mg modified-release tablets").0 * 4.0,
        40.0
    ));
}

/// Names written differently from the dictionary: EPD BNF_DESCRIPTION style, upper case,
/// `mcg`, extra spaces. Expected values typed by hand.
#[test]
fn unseen_real_world_names() {
    let resolver = Resolver::builtin();
    let cases: &[(&str, &str, Route, f64, &str)] = &[
        (
            "Morphine Sulf_Tab 10mg M/R",
            "morphine",
            Route::Oral,
            10.0,
            "modified",
        ),
        (
            "MORPHINE SULFATE 10MG/5ML ORAL SOLUTION",
            "morphine",
            Route::Oral,
            2.0,
            "immediate",
        ),
        (
            "Morphine Sulf_Oral Soln 10mg/5ml",
            "morphine",
            Route::Oral,
            2.0,
            "immediate",
        ),
        (
            "Oxycodone HCl_Tab 40mg M/R",
            "oxycodone",
            Route::Oral,
            40.0,
            "modified",
        ),
        (
            "Oxycodone HCl_Cap 5mg",
            "oxycodone",
            Route::Oral,
            5.0,
            "immediate",
        ),
        (
            "Oxycodone HCl_Liq Spec 5mg/5ml",
            "oxycodone",
            Route::Oral,
            1.0,
            "immediate",
        ),
        (
            "Fentanyl_Transdermal Patch 25mcg/hr",
            "fentanyl",
            Route::Transdermal,
            25.0,
            "modified",
        ),
        (
            "Fentanyl 12mcg/hr patch",
            "fentanyl",
            Route::Transdermal,
            12.5,
            "modified",
        ),
        (
            "Buprenorphine_Transdermal Patch 10mcg/hr",
            "buprenorphine",
            Route::Transdermal,
            10.0,
            "modified",
        ),
        (
            "Co-Codamol_Tab 30mg/500mg",
            "codeine",
            Route::Oral,
            30.0,
            "immediate",
        ),
        (
            "co-codamol   8/500 tablets",
            "codeine",
            Route::Oral,
            8.0,
            "immediate",
        ),
        (
            "Co-Dydramol_Tab 10mg/500mg",
            "dihydrocodeine",
            Route::Oral,
            10.0,
            "immediate",
        ),
        (
            "Codeine Phos_Tab 30mg",
            "codeine",
            Route::Oral,
            30.0,
            "immediate",
        ),
        (
            "Tramadol HCl_Cap 50mg",
            "tramadol",
            Route::Oral,
            50.0,
            "immediate",
        ),
        (
            "Tramadol HCl_Tab 100mg M/R",
            "tramadol",
            Route::Oral,
            100.0,
            "modified",
        ),
        (
            "Tapentadol_Tab 50mg M/R",
            "tapentadol",
            Route::Oral,
            50.0,
            "modified",
        ),
        (
            "DHC Continus_Tab 60mg",
            "dihydrocodeine",
            Route::Oral,
            60.0,
            "modified",
        ),
        (
            "MST Continus_Tab 15mg",
            "morphine",
            Route::Oral,
            15.0,
            "modified",
        ),
        (
            "Zomorph_Cap 10mg",
            "morphine",
            Route::Oral,
            10.0,
            "modified",
        ),
        (
            "Oramorph_Oral Soln 10mg/5ml",
            "morphine",
            Route::Oral,
            2.0,
            "immediate",
        ),
        (
            "OXYCONTIN 20MG TABLETS",
            "oxycodone",
            Route::Oral,
            20.0,
            "modified",
        ),
        (
            "OxyNorm 5mg capsules",
            "oxycodone",
            Route::Oral,
            5.0,
            "immediate",
        ),
        (
            "Shortec 10mg caps",
            "oxycodone",
            Route::Oral,
            10.0,
            "immediate",
        ),
        (
            "Longtec 5 mg modified release tablets",
            "oxycodone",
            Route::Oral,
            5.0,
            "modified",
        ),
        (
            "Targinact 10mg/5mg prolonged-release tablets",
            "oxycodone",
            Route::Oral,
            10.0,
            "modified",
        ),
        (
            "Palexia SR 100mg tablets",
            "tapentadol",
            Route::Oral,
            100.0,
            "modified",
        ),
        (
            "Zydol 50mg capsules",
            "tramadol",
            Route::Oral,
            50.0,
            "immediate",
        ),
        (
            "Zamadol SR 150mg capsules",
            "tramadol",
            Route::Oral,
            150.0,
            "modified",
        ),
        (
            "Tramacet 37.5mg/325mg tablets",
            "tramadol",
            Route::Oral,
            37.5,
            "immediate",
        ),
        (
            "Solpadol 30mg/500mg caplets",
            "codeine",
            Route::Oral,
            30.0,
            "immediate",
        ),
        (
            "Zapain 30mg/500mg capsules",
            "codeine",
            Route::Oral,
            30.0,
            "immediate",
        ),
        (
            "Tylex 30mg/500mg capsules",
            "codeine",
            Route::Oral,
            30.0,
            "immediate",
        ),
        (
            "Kapake 15mg/500mg tablets",
            "codeine",
            Route::Oral,
            15.0,
            "immediate",
        ),
        (
            "BuTrans 20 mcg/hour patches",
            "buprenorphine",
            Route::Transdermal,
            20.0,
            "modified",
        ),
        (
            "Butec 15micrograms/hour transdermal patch",
            "buprenorphine",
            Route::Transdermal,
            15.0,
            "modified",
        ),
        (
            "Durogesic DTrans 75 mcg/hr",
            "fentanyl",
            Route::Transdermal,
            75.0,
            "modified",
        ),
        (
            "Matrifen 100 micrograms/hour transdermal patches",
            "fentanyl",
            Route::Transdermal,
            100.0,
            "modified",
        ),
        (
            "Abstral 100mcg sublingual tablets",
            "fentanyl",
            Route::Sublingual,
            0.1,
            "immediate",
        ),
        (
            "Effentora 200 micrograms buccal tablets",
            "fentanyl",
            Route::Buccal,
            0.2,
            "immediate",
        ),
        (
            "Instanyl 50mcg/dose nasal spray",
            "fentanyl",
            Route::Nasal,
            0.05,
            "immediate",
        ),
        (
            "Actiq 400 microgram lozenge",
            "fentanyl",
            Route::Oromucosal,
            0.4,
            "immediate",
        ),
        (
            "Palladone 2.6mg capsules",
            "hydromorphone",
            Route::Oral,
            2.6,
            "immediate",
        ),
        (
            "Physeptone 5mg tablets",
            "methadone",
            Route::Oral,
            5.0,
            "immediate",
        ),
        (
            "Temgesic 200microgram sublingual tablets",
            "buprenorphine",
            Route::Sublingual,
            0.2,
            "immediate",
        ),
        (
            "Sevredol 20mg tablets",
            "morphine",
            Route::Oral,
            20.0,
            "immediate",
        ),
        (
            "Morphine sulphate 30 mg suppositories",
            "morphine",
            Route::Rectal,
            30.0,
            "immediate",
        ),
        (
            "Diamorphine 10mg powder for solution for injection amps",
            "diamorphine",
            Route::Injection,
            10.0,
            "immediate",
        ),
        (
            "Oxycodone 10mg/ml oral solution s/f",
            "oxycodone",
            Route::Oral,
            10.0,
            "immediate",
        ),
        (
            "Morphine 1mg/1ml oral solution",
            "morphine",
            Route::Oral,
            1.0,
            "immediate",
        ),
        (
            "Zomestine 20mg modified-release tablets",
            "oxycodone",
            Route::Oral,
            20.0,
            "modified",
        ),
    ];
    for (name, ingredient, route, strength, release) in cases {
        let r = resolver.resolve_name(name);
        let p = r
            .product
            .unwrap_or_else(|| panic!("{name}: {:?} {:?}", r.status, r.reason));
        assert_eq!(r.status, Status::Resolved, "{name}");
        assert_eq!(
            (
                p.ingredient.as_str(),
                p.route,
                p.strength,
                p.release.as_str()
            ),
            (*ingredient, *route, *strength, *release),
            "{name}"
        );
    }
}

fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            headers
                .iter()
                .zip(rec.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn products_command_writes_the_documented_columns() {
    let (code, out, err) = opal(&[
        "products",
        "Fentanyl 50micrograms/hour transdermal patches",
        "0407020Q0AAAIAI",
        "Paracetamol 500mg tablets",
        "Subutex 8mg sublingual tablets",
        "Morphine tablets",
    ]);
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().unwrap();
    assert!(header.starts_with(
        "input,status,matched_by,product_name,ingredient,route,form,release,strength,\
         strength_unit,patch_rate_mcg_per_hour,patch_wear_days,factor,ome_mg_per_unit,\
         ome_mg_day_per_unit"
    ));
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0]["ome_mg_per_unit"], "360");
    assert_eq!(rows[0]["ome_mg_day_per_unit"], "120");
    assert_eq!(rows[0]["strength_unit"], "mcg/h");
    assert_eq!(rows[1]["matched_by"], "bnf");
    assert_eq!(rows[1]["ome_mg_per_unit"], "60");
    assert_eq!(rows[2]["status"], "not_opioid");
    assert_eq!(rows[3]["status"], "excluded");
    assert_eq!(rows[4]["status"], "unresolved");
    assert!(rows[4]["reason"].contains("no strength"));
}

#[test]
fn products_reads_lists_and_csv_from_files_and_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.txt");
    std::fs::write(&list, "MST Continus 10mg tablets\n\n36057211000001102\n").unwrap();
    let (code, out, _) = opal(&["products", "--input", list.to_str().unwrap()]);
    assert_eq!(code, 0);
    let rows = csv_rows(&out);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1]["matched_by"], "dmd");
    assert_eq!(rows[1]["ingredient"], "hydromorphone");

    let table = dir.path().join("t.csv");
    std::fs::write(
        &table,
        "id,name,code\n1,Co-codamol 30mg/500mg tablets,\n2,,0407020A0AAAEAE\n",
    )
    .unwrap();
    let (_, out, _) = opal(&[
        "products",
        "-i",
        table.to_str().unwrap(),
        "--factors",
        "cdc-2022",
    ]);
    let rows = csv_rows(&out);
    assert_eq!(rows[0]["ome_mg_per_unit"], "4.5", "CDC codeine 0.15 x 30");
    assert_eq!(rows[1]["ome_mg_day_per_unit"], "60");
    assert_eq!(rows[1]["factor_set"], "cdc-2022");

    let mut child = Command::new(env!("CARGO_BIN_EXE_opal"))
        .args(["products", "--input", "-", "--factors", "cdc-2022"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Buprenorphine 10micrograms/hour transdermal patches\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows[0]["status"], "unresolved");
    assert!(rows[0]["reason"].contains("cdc-2022 has no factor for buprenorphine transdermal"));
}

#[test]
fn products_errors_are_clear() {
    let (code, _, err) = opal(&["products"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("nothing to resolve") && err.contains("hint:"),
        "{err}"
    );
    let (code, _, err) = opal(&["products", "x", "--factors", "bogus"]);
    assert_eq!(code, 1);
    assert!(err.contains("unknown factor set 'bogus'"), "{err}");
    let (code, _, err) = opal(&["products", "--bogus"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn factors_command_prints_csv_and_validates_tables() {
    let (code, out, _) = opal(&["factors", "--csv"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("ingredient,route,factor,confidence,source\n"));
    assert!(out.contains("\noxycodone,oral,1.5,"));
    let (_, out, _) = opal(&["factors", "--set", "openprescribing", "--csv"]);
    assert!(out.contains("\ndiamorphine,injection,3.3,"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "ingredient,route,factor\nmorphine,oral,1\nmorphine,oral,2\n",
    )
    .unwrap();
    let (code, _, err) = opal(&["factors", "--table", bad.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        err.contains("line 3") && err.contains("already given on line 2"),
        "{err}"
    );
}

/// Every opioid presentation of a real EPD month, resolved by its BNF_DESCRIPTION alone
/// ("Morph Sulf_Tab 10mg M/R", "Oxycodone HCl/NaloxoneHCl_Tab 20/10mgM/R"...), lands on the
/// same opioid, route and strength as its BNF code.
#[test]
fn epd_descriptions_resolve_like_their_codes() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference/epd/epd_201709.csv");
    let mut reader = csv::Reader::from_path(path).unwrap();
    let headers = reader.headers().unwrap().clone();
    let code_col = headers.iter().position(|h| h == "BNF_CODE").unwrap();
    let desc_col = headers.iter().position(|h| h == "BNF_DESCRIPTION").unwrap();
    let resolver = Resolver::builtin();
    let set = opal::read::factors::load("uk-fpm").unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for rec in reader.records() {
        let rec = rec.unwrap();
        let (code, desc) = (rec[code_col].to_string(), rec[desc_col].to_string());
        if !seen.insert(code.clone()) {
            continue;
        }
        let by_code = resolver.resolve(ItemText {
            dmd_code: "",
            bnf_code: &code,
            name: "",
        });
        let Some(p) = by_code
            .product
            .filter(|_| by_code.status == Status::Resolved)
        else {
            continue;
        };
        checked += 1;
        let by_name = resolver.resolve_name(&desc);
        let ome = |x: &opal::product::Product| unit_ome(x, &set).map(|u| u.ome_mg_per_unit);
        match by_name.product {
            Some(q)
                if (q.ingredient.as_str(), q.route, q.strength)
                    == (p.ingredient.as_str(), p.route, p.strength)
                    && ome(&q) == ome(&p) => {}
            Some(q) => failures.push(format!(
                "{desc}: {} {} {} ({:?} OME a unit) by name, {} {} {} ({:?}) by code",
                q.ingredient,
                q.route,
                q.strength,
                ome(&q),
                p.ingredient,
                p.route,
                p.strength,
                ome(&p)
            )),
            None => failures.push(format!("{desc}: {:?} {:?}", by_name.status, by_name.reason)),
        }
    }
    assert!(checked > 100, "{checked}");
    assert!(
        failures.is_empty(),
        "{} of {checked}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Issue 12.8: the EPD's abbreviated names (BNF_DESCRIPTION) of every dose form, and older
/// ingredients, resolved by name alone. Names written by hand in the EPD's style (forms the
/// 2017-09 month does not hold); expected values typed from the strength in each name and the
/// uk-fpm factors (OME of one unit: tablet, suppository, ml, ampoule, dose, lozenge, patch).
#[test]
fn epd_abbreviations_of_every_form() {
    let resolver = Resolver::builtin();
    let set = opal::read::factors::load("uk-fpm").unwrap();
    let cases: &[(&str, &str, Route, f64)] = &[
        // suppositories: 10 × 1, 15 × 1, 30 × 1.5, 30 × 0.1
        ("Morph Sulf_Suppos 10mg", "morphine", Route::Rectal, 10.0),
        ("Morph HCl_Suppos 15mg", "morphine", Route::Rectal, 15.0),
        (
            "Oxycodone HCl_Suppos 30mg",
            "oxycodone",
            Route::Rectal,
            45.0,
        ),
        ("Codeine Phos_Suppos 30mg", "codeine", Route::Rectal, 3.0),
        // lozenges (oromucosal): 0.2 × 130, 0.4 × 130
        (
            "Fentanyl Cit_Loz 200mcg + Applic",
            "fentanyl",
            Route::Oromucosal,
            26.0,
        ),
        ("Fentanyl_Loz 400mcg", "fentanyl", Route::Oromucosal, 52.0),
        // nasal sprays, per dose: 0.1 × 160, 0.05 × 160
        ("Fentanyl_Nsl Spy 100mcg/D", "fentanyl", Route::Nasal, 16.0),
        (
            "Fentanyl Cit_Nsl Spy 50mcg/D",
            "fentanyl",
            Route::Nasal,
            8.0,
        ),
        // oral drops, per ml: 100 × 0.1, 25 × 0.1
        (
            "Tramadol HCl_Oral Dps 100mg/ml",
            "tramadol",
            Route::Oral,
            10.0,
        ),
        ("Codeine Phos_Oral Dps 25mg/ml", "codeine", Route::Oral, 2.5),
        // infusions and injections, per container: 1 mg/ml × 50 ml × 2; 10 × 2; 50 × 3
        (
            "Morph Sulf_Inf 1mg/ml 50ml Vl",
            "morphine",
            Route::Injection,
            100.0,
        ),
        (
            "Morph Sulf_Inj 1mg/ml 50ml Pfs",
            "morphine",
            Route::Injection,
            100.0,
        ),
        (
            "Morph Sulf_Inj 10mg/ml 1ml Amp",
            "morphine",
            Route::Injection,
            20.0,
        ),
        (
            "Oxycodone HCl_Inj 50mg/ml 1ml Amp",
            "oxycodone",
            Route::Injection,
            150.0,
        ),
        (
            "Diamorph HCl_Pdr For Inj 10mg Amp",
            "diamorphine",
            Route::Injection,
            30.0,
        ),
        (
            "Papaveretum_Inj 15.4mg/ml 1ml Amp",
            "papaveretum",
            Route::Injection,
            15.4 * 0.67,
        ),
        // older ingredients: co-proxamol's dextropropoxyphene 32.5 × 0.1
        (
            "Dextroprop HCl/Paracet_Tab 32.5mg/325mg",
            "dextropropoxyphene",
            Route::Oral,
            3.25,
        ),
        (
            "Co-Proxamol_Tab 32.5mg/325mg",
            "dextropropoxyphene",
            Route::Oral,
            3.25,
        ),
        (
            "Hydromorph HCl_Cap 1.3mg",
            "hydromorphone",
            Route::Oral,
            6.5,
        ),
        (
            "Dihydrocod Tart_Oral Soln 10mg/5ml",
            "dihydrocodeine",
            Route::Oral,
            0.2,
        ),
        ("Pethidine HCl_Tab 50mg", "pethidine", Route::Oral, 5.0),
        // mixtures and elixirs
        ("Kaolin & Morph_Mix", "morphine", Route::Oral, 0.0916),
        ("J Collis Browne's_Mix", "morphine", Route::Oral, 0.2),
        // sublingual and buccal: 0.1 × 130, 0.2 × 60
        (
            "Fentanyl_Tab Subling 100mcg",
            "fentanyl",
            Route::Sublingual,
            13.0,
        ),
        (
            "Buprenorphine_Tab Subling 200mcg S/F",
            "buprenorphine",
            Route::Sublingual,
            12.0,
        ),
        (
            "Fentanyl_Buccal Tab 100mcg",
            "fentanyl",
            Route::Buccal,
            13.0,
        ),
        // patches with the wear time in the name: 5 × 2.4 × 7; 35 × 2.4 × 4
        (
            "Buprenorph_Patch 5mcg/hr (7day)",
            "buprenorphine",
            Route::Transdermal,
            84.0,
        ),
        (
            "Buprenorphine_Patch 35mcg/hr (96hr)",
            "buprenorphine",
            Route::Transdermal,
            336.0,
        ),
    ];
    let mut failures = Vec::new();
    for (name, ingredient, route, ome) in cases {
        let r = resolver.resolve_name(name);
        let got = r
            .product
            .as_ref()
            .filter(|_| r.status == Status::Resolved)
            .and_then(|p| {
                Some((
                    p.ingredient.clone(),
                    p.route,
                    unit_ome(p, &set)?.ome_mg_per_unit,
                ))
            });
        match got {
            Some((i, rt, o)) if i == *ingredient && rt == *route && (o - ome).abs() < 1e-9 => {}
            other => failures.push(format!("{name}: {other:?} ({:?} {:?})", r.status, r.reason)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The abbreviation table is reviewed data: every row has an expansion and a source.
    let mut reader = csv::Reader::from_reader(opal::names::EPD_ABBREVIATIONS_CSV.as_bytes());
    for rec in reader.records() {
        let rec = rec.unwrap();
        assert!(
            !rec[1].trim().is_empty()
                && (rec[4].starts_with("derived") || rec[4].starts_with("hand")),
            "{rec:?}"
        );
    }
}

/// Issue 12.10: compositions from each product's SPC, per unit of quantity (uk-fpm, morphine
/// counted as the salt): Kaolin and Morphine 0.458 mg/5 ml = 0.0916 mg/ml, so 200 ml is 18.32
/// mg; Diocalm 0.395 mg and J Collis Browne's tablets 0.35 mg a tablet; J Collis Browne's
/// mixture 1 mg/5 ml = 0.2 mg/ml. Every override row cites its source.
#[test]
fn compositions_from_their_spcs() {
    let resolver = Resolver::builtin();
    let set = opal::read::factors::load("uk-fpm").unwrap();
    for (name, per_unit) in [
        ("Kaolin and Morphine mixture", 0.0916),
        ("Generic Diocalm Dual Action chewable tablets", 0.395),
        ("Diocalm Dual Action chewable tablets", 0.395),
        ("Generic J Collis Browne's tablets", 0.35),
        ("J Collis Browne's tablets", 0.35),
        ("J Collis Browne's mixture", 0.2),
    ] {
        let r = resolver.resolve_name(name);
        assert_eq!(r.status, Status::Resolved, "{name}: {:?}", r.reason);
        let u = unit_ome(&r.product.unwrap(), &set).unwrap();
        assert!(
            (u.ome_mg_per_unit - per_unit).abs() < 1e-12,
            "{name}: {}",
            u.ome_mg_per_unit
        );
    }
    let r = resolver.resolve_name("Kaolin and Morphine mixture");
    let u = unit_ome(&r.product.unwrap(), &set).unwrap();
    assert!((200.0 * u.ome_mg_per_unit - 18.32).abs() < 1e-9);
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("data/product_overrides.csv"),
    )
    .unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    for rec in reader.records() {
        let rec = rec.unwrap();
        assert!(rec[9].len() > 10, "{} has no source", &rec[0]);
    }
}

/// Issue 12.11: factors cite where they come from. cdc-2022 gives dihydrocodeine no factor,
/// so the set's rule (the uk-fpm value) applies; uk-fpm's rows outside the Opioids Aware
/// oral and patch table (injections, rectal, oral diamorphine and pethidine, sublingual
/// buprenorphine) do not claim to come from it.
#[test]
fn every_factor_has_its_provenance() {
    let cdc = opal::read::factors::load("cdc-2022").unwrap();
    let f = cdc.get("dihydrocodeine", Route::Oral).unwrap();
    assert_eq!(f.factor, 0.1);
    assert!(f.source.starts_with("uk-fpm value"), "{}", f.source);
    let fpm = opal::read::factors::load("uk-fpm").unwrap();
    for row in fpm.rows() {
        let outside = matches!(
            row.route,
            Route::Injection | Route::Rectal | Route::Sublingual
        ) || (row.route == Route::Oral
            && ["diamorphine", "pethidine"].contains(&row.ingredient.as_str()));
        if outside {
            assert!(
                !row.source.starts_with("Faculty of Pain Medicine"),
                "{} {}: {}",
                row.ingredient,
                row.route,
                row.source
            );
        }
        assert!(!row.source.is_empty(), "{row:?}");
    }
}
