//! `opal epd` over several months (issue 28): national deciles, percentile ranks, monthly
//! list sizes, gaps for practices without rows, the XmR charts and the report, checked
//! against numbers worked by hand on small files, and each month against `opal epd` on that
//! month alone.

use super::{opal, read};
use std::collections::HashMap;
use std::path::Path;

const HEADER: &str = "YEAR_MONTH,REGIONAL_OFFICE_NAME,REGIONAL_OFFICE_CODE,ICB_NAME,ICB_CODE,\
PCO_NAME,PCO_CODE,PRACTICE_NAME,PRACTICE_CODE,BNF_CODE,BNF_DESCRIPTION,SNOMED_CODE,QUANTITY,\
ITEMS,TOTAL_QUANTITY,NIC,ACTUAL_COST\n";

/// One EPD row: `items` items of 60 tablets.
fn row(month: &str, practice: &str, bnf: &str, desc: &str, items: u32) -> String {
    format!(
        "{month},NORTH EAST,Y63,NHS NORTH EAST ICB,QHM,X,00L00,PRACTICE {practice},{practice},\
         {bnf},{desc},,60,{items},{},1,1\n",
        items * 60
    )
}

const MST60: (&str, &str) = ("0407020Q0BBACAI", "MST Continus_Tab 60mg");
const MST10: (&str, &str) = ("0407020Q0BBAAAK", "MST Continus_Tab 10mg");
const PARACETAMOL: (&str, &str) = ("0407010H0AAAMAM", "Paracetamol_Tab 500mg");

/// Three months of four practices, by hand:
/// - A: 4 items of MST 60 mg (high dose at 120 and 90 mg/day) and 4 of MST 10 mg a month;
/// - B: 1 of MST 60 and 3 of MST 10;
/// - C: paracetamol only (rows, no opioid: a true 0);
/// - D: 2 of MST 60, and no rows at all in August (closed for a month: a gap, not a 0).
fn months(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for m in ["202407", "202408", "202409"] {
        let mut text = HEADER.to_string();
        let mut add =
            |p: &str, (bnf, desc): (&str, &str), items| text.push_str(&row(m, p, bnf, desc, items));
        add("A", MST60, 4);
        add("A", MST10, 4);
        add("B", MST60, 1);
        add("B", MST10, 3);
        add("C", PARACETAMOL, 9);
        if m != "202408" {
            add("D", MST60, 2);
        }
        let f = dir.join(format!("epd_{m}.csv"));
        std::fs::write(&f, text).unwrap();
        files.push(f.to_str().unwrap().to_string());
    }
    files
}

/// NHS England's list-size layout, one file a month by its extract date: July's and
/// September's (A grows from 2,000 to 2,500); August has none and takes July's.
fn list_sizes(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for (date, a) in [("01JUL2024", 2000), ("01SEP2024", 2500)] {
        let mut text = "PUBLICATION,EXTRACT_DATE,ORG_TYPE,ORG_CODE,ONS_CODE,POSTCODE,SEX,\
                        AGE_GROUP_5,NUMBER_OF_PATIENTS\n"
            .to_string();
        for (p, n) in [("A", a), ("B", 1000), ("C", 500), ("D", 1000)] {
            text.push_str(&format!("GP_PRAC_PAT_LIST,{date},GP,{p},,X,ALL,ALL,{n}\n"));
            text.push_str(&format!("GP_PRAC_PAT_LIST,{date},GP,{p},,X,MALE,0_4,7\n"));
        }
        let f = dir.join(format!("list_{date}.csv"));
        std::fs::write(&f, text).unwrap();
        out.push(f.to_str().unwrap().to_string());
    }
    out
}

fn by(rows: &[HashMap<String, String>], keys: &[(&str, &str)]) -> HashMap<String, String> {
    rows.iter()
        .find(|r| keys.iter().all(|(k, v)| r[*k] == *v))
        .unwrap_or_else(|| panic!("no row {keys:?}"))
        .clone()
}

fn num(r: &HashMap<String, String>, k: &str) -> f64 {
    r[k].parse().unwrap_or_else(|_| panic!("{k} = {:?}", r[k]))
}

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-5, "{a} != {b}");
}

#[test]
fn deciles_ranks_and_gaps_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = vec!["epd".into()];
    args.extend(months(dir.path()));
    for l in list_sizes(dir.path()) {
        args.extend(["--list-sizes".into(), l]);
    }
    let out = dir.path().join("out");
    args.extend([
        "--out".into(),
        out.to_str().unwrap().into(),
        "--report".into(),
        "--charts".into(),
        "england,practice".into(),
        "--quiet".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (code, _, stderr) = opal(&args);
    assert_eq!(code, 0, "{stderr}");

    // High-dose items per 1000 at 120 mg/day. July: A 4/2000 = 2, B 1/1000 = 1, C 0, D 2.
    // Sorted 0, 1, 2, 2: the median at position 1.5 is 1.5; the 10th at 0.3 is 0.3; the
    // 90th at 2.7 is 2. Ranks: C 0, B 1/3, A and D tie at rank 3: 2/3.
    let d = read(&out.join("deciles.csv"));
    let jul = by(
        &d,
        &[
            ("level", "practice"),
            ("month", "2024-07"),
            ("measure", "opioidper1000_120mg"),
        ],
    );
    assert_eq!(jul["organisations"], "4");
    close(num(&jul, "p10"), 0.3);
    close(num(&jul, "p50"), 1.5);
    close(num(&jul, "p90"), 2.0);
    // August: D has no rows, so three practices: 0, 1, 2 (A on July's list size): the
    // median 1, the 10th at 0.2 is 0.2, the 90th at 1.8 is 1.8.
    let aug = by(
        &d,
        &[
            ("level", "practice"),
            ("month", "2024-08"),
            ("measure", "opioidper1000_120mg"),
        ],
    );
    assert_eq!(aug["organisations"], "3");
    close(num(&aug, "p10"), 0.2);
    close(num(&aug, "p50"), 1.0);
    close(num(&aug, "p90"), 1.8);
    // High-dose % of regular items, July: A 4 of 8 = 50, B 1 of 4 = 25, D 2 of 2 = 100; C
    // has no regular item (0/0, left out as OpenPrescribing leaves NaN out): 25, 50, 100,
    // the 10th at 0.2 is 25 + 0.2 × 25 = 30.
    let pct = by(
        &d,
        &[
            ("level", "practice"),
            ("month", "2024-07"),
            ("measure", "opioidspercent_120mg"),
        ],
    );
    assert_eq!(pct["organisations"], "3");
    close(num(&pct, "p10"), 30.0);
    close(num(&pct, "p50"), 50.0);

    let r = read(&out.join("ranks.csv"));
    let rank = |p: &str, m: &str| {
        num(
            &by(
                &r,
                &[
                    ("code", p),
                    ("month", m),
                    ("measure", "opioidper1000_120mg"),
                ],
            ),
            "percentile",
        )
    };
    close(rank("C", "2024-07"), 0.0);
    close(rank("B", "2024-07"), 100.0 / 3.0);
    close(rank("A", "2024-07"), 200.0 / 3.0);
    close(rank("D", "2024-07"), 200.0 / 3.0);
    // September: A's own list size, 2,500: 4/2500 × 1000 = 1.6, below D's 2: A 2/3, D 1.
    let a_sep = by(
        &r,
        &[
            ("code", "A"),
            ("month", "2024-09"),
            ("measure", "opioidper1000_120mg"),
        ],
    );
    close(num(&a_sep, "value"), 1.6);
    close(num(&a_sep, "denominator"), 2500.0);
    close(rank("A", "2024-09"), 200.0 / 3.0);
    close(rank("D", "2024-09"), 100.0);
    assert!(!r
        .iter()
        .any(|x| x["code"] == "D" && x["month"] == "2024-08"));
    // Total OME per 1000, A in July: 4 × 60 × 60 mg + 4 × 60 × 10 mg = 16,800 mg over 2,000.
    let a_ome = by(
        &r,
        &[
            ("code", "A"),
            ("month", "2024-07"),
            ("measure", "opioidome"),
        ],
    );
    close(num(&a_ome, "value"), 8400.0);
    // C has rows and no opioid: a 0, ranked.
    let c_ome = by(
        &r,
        &[
            ("code", "C"),
            ("month", "2024-08"),
            ("measure", "opioidome"),
        ],
    );
    close(num(&c_ome, "value"), 0.0);

    // The gap is listed, and D has no chart; A has one.
    let p = read(&out.join("practices.csv"));
    let d_row = by(&p, &[("practice_code", "D")]);
    assert_eq!(d_row["months_without_rows"], "2024-08");
    assert_eq!(d_row["months_with_rows"], "2");
    let spc = read(&out.join("spc.csv"));
    assert!(!spc.iter().any(|x| x["code"] == "D"));
    assert_eq!(
        spc.iter()
            .filter(|x| x["code"] == "A" && x["measure"] == "opioidper1000_120mg")
            .count(),
        3
    );
    // England in July: 7 high-dose items over 4,500 patients.
    let eng = by(
        &spc,
        &[
            ("level", "england"),
            ("month", "2024-07"),
            ("measure", "opioidper1000_120mg"),
        ],
    );
    close(num(&eng, "value"), 7000.0 / 4500.0);
    // The aim: A's baseline is the mean of its three months (2, 2, 1.6), the target half.
    let aims = read(&out.join("aims.csv"));
    let a_aim = by(&aims, &[("code", "A"), ("measure", "opioidper1000_120mg")]);
    close(num(&a_aim, "baseline"), 5.6 / 3.0);
    close(num(&a_aim, "target"), 2.8 / 3.0);

    // The manifest says which month took another month's list sizes.
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let borrowed = &m["list_sizes_from_another_month"];
    assert_eq!(borrowed[0]["month"], "2024-08", "{borrowed}");
    assert_eq!(borrowed[0]["list_sizes_of"], "2024-07", "{borrowed}");
    assert_eq!(m["months"].as_array().unwrap().len(), 3);

    // The report: England's page and the ICS's, with every practice in its table.
    let index = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(index.contains("ics-QHM.html"));
    // The ICS's name from the EPD's own ICB_NAME column.
    assert!(index.contains("NHS NORTH EAST ICB"));
    let ics = std::fs::read_to_string(out.join("report/ics-QHM.html")).unwrap();
    for p in ["PRACTICE A", "PRACTICE B", "PRACTICE C", "PRACTICE D"] {
        assert!(ics.contains(p), "{p} missing from the ICS page");
    }
    assert!(ics.contains("No chart for D"));

    // --charts: standalone SVG files for the levels asked for, listed in charts/index.csv; D
    // has its chart against the deciles (with its gap) and no XmR chart.
    let index = read(&out.join("charts/index.csv"));
    let files: Vec<&str> = index.iter().map(|r| r["file"].as_str()).collect();
    assert!(
        files.contains(&"england-ENGLAND-opioidper1000_120mg-xmr.svg"),
        "{files:?}"
    );
    assert!(files.contains(&"practice-D-opioidper1000_120mg-deciles.svg"));
    assert!(!files.contains(&"practice-D-opioidper1000_120mg-xmr.svg"));
    assert!(!index.iter().any(|r| r["level"] == "ics"));
    for f in files {
        let svg = std::fs::read_to_string(out.join("charts").join(f)).unwrap();
        assert!(
            svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{f}"
        );
    }
}

/// The measures of each month of a several-month run are those of `opal epd` on that month
/// alone.
#[test]
fn each_month_equals_the_month_alone() {
    let dir = tempfile::tempdir().unwrap();
    let files = months(dir.path());
    let run = |files: &[String], name: &str| {
        let out = dir.path().join(name);
        let mut args = vec!["epd"];
        args.extend(files.iter().map(String::as_str));
        args.extend(["--out", out.to_str().unwrap(), "--quiet"]);
        let (code, _, stderr) = opal(&args);
        assert_eq!(code, 0, "{stderr}");
        read(&out.join("practice_measures.csv"))
    };
    // Given in reverse order: the order of the files does not matter.
    let mut reversed = files.clone();
    reversed.reverse();
    let all = run(&reversed, "all");
    for (k, f) in files.iter().enumerate() {
        let alone = run(std::slice::from_ref(f), &format!("m{k}"));
        let month = &alone[0]["month"];
        let part: Vec<_> = all
            .iter()
            .filter(|r| &r["month"] == month)
            .cloned()
            .collect();
        assert_eq!(part, alone, "{month}");
    }
}

/// A month given twice (two files, or the same file twice) is an error naming both files.
#[test]
fn a_month_given_twice_is_an_error_naming_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let files = months(dir.path());
    let copy = dir.path().join("copy_of_july.csv");
    std::fs::copy(&files[0], &copy).unwrap();
    let out = dir.path().join("out");
    let (code, _, stderr) = opal(&[
        "epd",
        &files[0],
        &files[1],
        copy.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("month 2024-07 is in both"), "{stderr}");
    assert!(stderr.contains("epd_202407.csv") && stderr.contains("copy_of_july.csv"));
    assert!(!out.exists(), "nothing is written");
}

/// Before ICBs: the September 2017 month's CCGs (PCO_CODE 03A00 and 11M00) mapped to STPs
/// through a CCG → STP file in ONS's layout (its BOM and year-numbered headers included). 03A
/// is mapped to West Yorkshire; 11M is not in the file, kept as it is, and named in a warning.
#[test]
fn ccgs_map_to_stps_for_years_before_icbs() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("ccg_to_stp.csv");
    std::fs::write(
        &map,
        "\u{feff}CCG18CD,CCG18CDH,CCG18NM,STP18CD,STP18NM,FID\n\
         E38000064,03A,NHS Greater Huddersfield CCG,E54000005,West Yorkshire,1\n\
         E38000001,02N,\"NHS Airedale, Wharfedale and Craven CCG\",E54000005,West Yorkshire,2\n",
    )
    .unwrap();
    let epd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/reference/epd/epd_201709.csv");
    let out = dir.path().join("out");
    let (code, _, stderr) = opal(&[
        "epd",
        epd.to_str().unwrap(),
        "--ics-map",
        map.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
        "--report",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("not in --ics-map") && stderr.contains("11M00"),
        "{stderr}"
    );
    let ics = read(&out.join("ics_measures.csv"));
    let codes: Vec<&str> = ics.iter().map(|r| r["ics_code"].as_str()).collect();
    assert_eq!(codes, ["11M00", "E54000005"]);
    // The two Huddersfield practices are West Yorkshire's.
    let p = read(&out.join("practice_measures.csv"));
    for code in ["B85010", "B85054"] {
        assert_eq!(by(&p, &[("practice_code", code)])["ics_code"], "E54000005");
    }
    let index = std::fs::read_to_string(out.join("report/index.html")).unwrap();
    assert!(index.contains("West Yorkshire"));
    // ONS's own file from the shared reference data reads too.
    let shared = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/reference/epd/stps_ccg18_to_stp18.csv");
    let (code, _, stderr) = opal(&[
        "epd",
        epd.to_str().unwrap(),
        "--ics-map",
        shared.to_str().unwrap(),
        "--out",
        dir.path().join("o2").to_str().unwrap(),
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

/// `opal epd --rebase` (issue 27.3 for the EPD trend): every chart is cut at the month given;
/// the three months of `months` rebased at 2024-09 leave September a part of one point, whose
/// mean is its own value, and July and August a part of their own. A month not read is a
/// usage error.
#[test]
fn rebase_cuts_every_epd_chart_at_the_month() {
    let dir = tempfile::tempdir().unwrap();
    let files = months(dir.path());
    let out = dir.path().join("r");
    let mut args = vec!["epd"];
    args.extend(files.iter().map(String::as_str));
    args.extend([
        "--rebase",
        "2024-09",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ]);
    let (code, _, stderr) = opal(&args);
    assert_eq!(code, 0, "{stderr}");
    let spc = read(&out.join("spc.csv"));
    assert!(!spc.is_empty());
    for r in &spc {
        let september = r["month"] == "2024-09";
        assert_eq!(
            r["rebased"],
            if september { "true" } else { "false" },
            "{r:?}"
        );
        if september {
            close(num(r, "mean"), num(r, "value"));
        }
    }
    let out = dir.path().join("bad");
    let mut args = vec!["epd"];
    args.extend(files.iter().map(String::as_str));
    args.extend(["--rebase", "2023-01", "--out", out.to_str().unwrap()]);
    let (code, _, stderr) = opal(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("--rebase 2023-01: not one of the months read (2024-07 to 2024-09)"),
        "{stderr}"
    );
}
