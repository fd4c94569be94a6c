//! Builds `data/products.csv` and `data/factors/openprescribing.csv` from the public dm+d
//! codelists and OpenPrescribing's factor table.
//!
//! ```text
//! cargo run --example build_dictionary -- [SHARED_DATA_DIR] [OUT_DATA_DIR]
//! ```
//! defaults: `tests/data/reference` (copies of the public files) and `data`. Re-running it on the same inputs gives the same
//! bytes. See `data/README.md` for where every column comes from.

#![allow(clippy::unwrap_used)]
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use opal::names::{self, NameHints, ParsedName};
use opal::product::{bnf_generic_code, Release, Route, StrengthUnit};

#[derive(Debug, Clone)]
struct Row {
    dmd_id: String,
    dmd_type: String,
    name: String,
    bnf_code: String,
    source: String,
}

#[derive(Debug, Clone)]
struct Built {
    row: Row,
    vmp_id: String,
    parsed: Option<ParsedName>,
    unresolved: Option<String>,
    derived_from: String,
    ingredient_hint: String,
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let shared = PathBuf::from(
        args.first()
            .map(String::as_str)
            .unwrap_or("tests/data/reference"),
    );
    let out = PathBuf::from(args.get(1).map(String::as_str).unwrap_or("data"));
    let rows = read_codelists(&shared.join("dmd"))?;
    let overrides = read_overrides(&out.join("product_overrides.csv"))?;
    let mut built = build(&rows, &overrides)?;
    built.extend(dependence_products(&out.join("dependence_products.csv"))?);
    built.extend(named_overrides(&rows, &overrides));
    write_products(&out.join("products.csv"), &built)?;
    write_openprescribing_factors(
        &shared.join("openprescribing/opioid_ing_form_ome.csv"),
        &out.join("factors/openprescribing.csv"),
    )?;
    let unresolved = built.iter().filter(|b| b.unresolved.is_some()).count();
    eprintln!(
        "wrote {} products ({} without a stated composition) to {}",
        built.len(),
        unresolved,
        out.join("products.csv").display()
    );
    Ok(())
}

fn read_codelists(dir: &Path) -> Result<Vec<Row>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut rows: Vec<Row> = Vec::new();
    for file in files {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .trim_start_matches("opensafely-")
            .to_string();
        let mut reader = csv::Reader::from_path(&file)?;
        for rec in reader.records() {
            let rec = rec?;
            let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
            let row = Row {
                dmd_id: get(2),
                dmd_type: get(3),
                name: get(1),
                bnf_code: get(4),
                source: stem.clone(),
            };
            match seen.get(&row.dmd_id) {
                Some(&i) => {
                    if !rows[i].source.contains(&stem) {
                        rows[i].source.push(';');
                        rows[i].source.push_str(&stem);
                    }
                }
                None => {
                    seen.insert(row.dmd_id.clone(), rows.len());
                    rows.push(row);
                }
            }
        }
    }
    Ok(rows)
}

#[derive(Debug, Clone)]
struct Override {
    name: String,
    ingredients: Vec<String>,
    strength: f64,
    strength_unit: StrengthUnit,
    route: Route,
    form: String,
    unit: String,
    release: Release,
}

fn read_overrides(path: &Path) -> Result<HashMap<String, Override>> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut out = HashMap::new();
    for (i, rec) in reader.records().enumerate() {
        let rec = rec?;
        let g = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let line = i + 2;
        let o = Override {
            name: g(0),
            ingredients: g(1).split(';').map(str::to_string).collect(),
            strength: g(2)
                .parse()
                .with_context(|| format!("overrides line {line}"))?,
            strength_unit: StrengthUnit::parse(&g(3)).context("strength_unit")?,
            route: Route::parse(&g(4)).context("route")?,
            form: g(5),
            unit: g(6),
            release: Release::parse(&g(7)).context("release")?,
        };
        out.insert(names::normalise(&g(0)), o);
    }
    Ok(out)
}

fn from_override(o: &Override) -> ParsedName {
    ParsedName {
        ingredient: o.ingredients[0].clone(),
        ingredients: o.ingredients.clone(),
        route: o.route,
        form: o.form.clone(),
        unit: o.unit.clone(),
        release: o.release,
        strength: o.strength,
        strength_unit: o.strength_unit,
        patch_rate_mcg_per_hour: None,
        patch_wear_days: None,
        excluded_reason: None,
        brand: None,
    }
}

fn previous_to(name: &str) -> Option<&str> {
    name.strip_prefix("VMP previous to ").map(str::trim)
}

fn build(rows: &[Row], overrides: &HashMap<String, Override>) -> Result<Vec<Built>> {
    let no_hints = NameHints::default();
    let mut built: Vec<Built> = Vec::new();
    // 1. Current VMPs, from their names (or an override when the name states no strength).
    for row in rows
        .iter()
        .filter(|r| r.dmd_type == "VMP" && previous_to(&r.name).is_none())
    {
        let norm = names::normalise(&row.name);
        let (parsed, unresolved, derived_from) = match overrides.get(&norm) {
            Some(o) => (Some(from_override(o)), None, "override".to_string()),
            None => match names::parse(&norm, &[], &no_hints) {
                Ok(p) => (Some(p), None, "name".to_string()),
                Err(e) => (None, Some(failure_text(&e)), "name".to_string()),
            },
        };
        built.push(Built {
            row: row.clone(),
            vmp_id: row.dmd_id.clone(),
            parsed,
            unresolved,
            derived_from,
            ingredient_hint: String::new(),
        });
    }
    // Generic BNF code -> VMPs, and BNF chemical -> ingredients.
    let mut vmps_by_bnf: HashMap<String, Vec<usize>> = HashMap::new();
    let mut chemical_ingredients: HashMap<String, Vec<String>> = HashMap::new();
    for (i, b) in built.iter().enumerate() {
        vmps_by_bnf
            .entry(b.row.bnf_code.clone())
            .or_default()
            .push(i);
        if let Some(p) = &b.parsed {
            if b.row.bnf_code.len() >= 9 {
                chemical_ingredients
                    .entry(b.row.bnf_code[..9].to_string())
                    .or_insert_with(|| p.ingredients.clone());
            }
        }
    }
    // 2. AMPs: their own name where it says enough, the generic VMP's composition otherwise.
    let amps: Vec<&Row> = rows.iter().filter(|r| r.dmd_type == "AMP").collect();
    for row in amps {
        let generic = bnf_generic_code(&row.bnf_code).unwrap_or_default();
        let vmp_candidates = vmps_by_bnf.get(&generic).cloned().unwrap_or_default();
        let norm = names::normalise(&row.name);
        let first_vmp = vmp_candidates.first().map(|&i| built[i].clone());
        let hints = match &first_vmp {
            Some(v) => match &v.parsed {
                Some(p) => NameHints {
                    ingredients: Some(p.ingredients.clone()),
                    route: Some(p.route),
                    form: Some(p.form.clone()),
                    unit: Some(p.unit.clone()),
                    release: Some(p.release),
                },
                None => NameHints::default(),
            },
            None => NameHints {
                ingredients: chemical_ingredients
                    .get(row.bnf_code.get(..9).unwrap_or(""))
                    .cloned(),
                ..NameHints::default()
            },
        };
        let own = overrides
            .get(&norm)
            .map(from_override)
            .ok_or(())
            .or_else(|_| names::parse(&norm, &[], &hints).map_err(|_| ()));
        // The VMP whose form matches the AMP's, else the first one.
        let vmp = match &own {
            Ok(p) => vmp_candidates
                .iter()
                .find(|&&i| built[i].parsed.as_ref().is_some_and(|v| v.form == p.form))
                .or(vmp_candidates.first())
                .map(|&i| built[i].clone()),
            Err(()) => first_vmp.clone(),
        };
        let (parsed, unresolved, derived_from) = match (own, &vmp) {
            (Ok(p), Some(v))
                if v.parsed.as_ref().is_some_and(|vp| {
                    // A brand-only name with several strengths ("Eroset 500mg/10mg") gives no
                    // order to pair them with ingredients: its generic VMP does.
                    vp.strength != p.strength && p.brand.is_none() && !written_opioid(&norm)
                }) =>
            {
                let vp = v.parsed.clone();
                (vp, None, format!("generic VMP {}", v.row.dmd_id))
            }
            (Ok(p), Some(v)) => {
                if let Some(vp) = &v.parsed {
                    if (vp.strength - p.strength).abs() > 1e-9 || vp.ingredient != p.ingredient {
                        eprintln!(
                            "note: {} ({}) reads as {} {} but its generic {} has {} {}",
                            row.name,
                            row.dmd_id,
                            p.ingredient,
                            p.strength,
                            v.row.name,
                            vp.ingredient,
                            vp.strength
                        );
                    }
                }
                (Some(p), None, "name".to_string())
            }
            (Ok(p), None) => (Some(p), None, "name".to_string()),
            (Err(()), Some(v)) => match &v.parsed {
                Some(vp) => (
                    Some(vp.clone()),
                    None,
                    format!("generic VMP {}", v.row.dmd_id),
                ),
                None => (
                    None,
                    v.unresolved.clone(),
                    format!("generic VMP {}", v.row.dmd_id),
                ),
            },
            (Err(()), None) => (
                None,
                Some("no strength in the name and no generic VMP in the codelists".into()),
                "name".to_string(),
            ),
        };
        built.push(Built {
            row: row.clone(),
            vmp_id: vmp
                .map(|v| v.row.dmd_id)
                .unwrap_or_else(|| row.dmd_id.clone()),
            parsed,
            unresolved,
            derived_from,
            ingredient_hint: String::new(),
        });
    }
    // 3. "VMP previous to <id>": the same product under its earlier id.
    let by_id: HashMap<String, usize> = built
        .iter()
        .enumerate()
        .map(|(i, b)| (b.row.dmd_id.clone(), i))
        .collect();
    for row in rows.iter().filter(|r| previous_to(&r.name).is_some()) {
        let current = previous_to(&row.name).unwrap_or_default();
        let Some(&i) = by_id.get(current) else {
            bail!(
                "{} names {current}, which is not in the codelists",
                row.name
            );
        };
        let target = built[i].clone();
        built.push(Built {
            row: row.clone(),
            vmp_id: target.vmp_id.clone(),
            parsed: target.parsed.clone(),
            unresolved: target.unresolved.clone(),
            derived_from: format!("current VMP {current}"),
            ingredient_hint: String::new(),
        });
    }
    for b in built.iter_mut() {
        if b.row.bnf_code.starts_with("0410") {
            if let Some(p) = b.parsed.as_mut() {
                p.excluded_reason = Some("opioid dependence (BNF 0410)".into());
            }
        }
        if b.parsed.is_none() && b.ingredient_hint.is_empty() {
            let norm = names::normalise(&b.row.name);
            b.ingredient_hint = names::OPIOIDS
                .iter()
                .find(|o| norm.contains(*o))
                .map(|o| o.to_string())
                .or_else(|| {
                    b.row
                        .bnf_code
                        .get(..9)
                        .and_then(|c| chemical_ingredients.get(c))
                        .and_then(|ings| ings.iter().find(|i| names::is_opioid(i)).cloned())
                })
                .unwrap_or_default();
        }
    }
    Ok(built)
}

fn written_opioid(normalised: &str) -> bool {
    normalised
        .split([' ', '-'])
        .any(|w| names::OPIOIDS.contains(&w) || w.starts_with("co-"))
}

fn failure_text(e: &names::NameFailure) -> String {
    match e {
        // Every row of the opioid codelists is an opioid product, named or not.
        names::NameFailure::NotOpioid => {
            "composition not stated in the dm+d name; add it to data/product_overrides.csv".into()
        }
        names::NameFailure::Incomplete(why) => {
            format!("composition not stated in the dm+d name ({why}); add it to data/product_overrides.csv")
        }
    }
}

/// Overrides that name no product of the codelists (J Collis Browne's mixture): products by
/// name alone, with no dm+d id or BNF code, like the dependence products.
fn named_overrides(rows: &[Row], overrides: &HashMap<String, Override>) -> Vec<Built> {
    let known: std::collections::HashSet<String> =
        rows.iter().map(|r| names::normalise(&r.name)).collect();
    let mut out: Vec<Built> = overrides
        .iter()
        .filter(|(norm, _)| !known.contains(*norm) && !norm.starts_with("generic "))
        .map(|(_, o)| Built {
            row: Row {
                dmd_id: String::new(),
                dmd_type: String::new(),
                name: o.name.clone(),
                bnf_code: String::new(),
                source: "product_overrides".into(),
            },
            vmp_id: String::new(),
            parsed: Some(from_override(o)),
            unresolved: None,
            derived_from: "override".into(),
            ingredient_hint: String::new(),
        })
        .collect();
    out.sort_by(|a, b| a.row.name.cmp(&b.row.name));
    out
}

fn dependence_products(path: &Path) -> Result<Vec<Built>> {
    let mut reader = csv::Reader::from_path(path)?;
    let mut out = Vec::new();
    for rec in reader.records() {
        let rec = rec?;
        let name = rec.get(0).unwrap_or("").trim().to_string();
        let reason = rec.get(1).unwrap_or("").trim().to_string();
        let mut parsed = names::parse(&names::normalise(&name), &[], &NameHints::default())
            .map_err(|e| anyhow::anyhow!("{name}: {e:?}"))?;
        parsed.excluded_reason = Some(reason);
        out.push(Built {
            row: Row {
                dmd_id: String::new(),
                dmd_type: String::new(),
                name,
                bnf_code: String::new(),
                source: "dependence_products".into(),
            },
            vmp_id: String::new(),
            parsed: Some(parsed),
            unresolved: None,
            derived_from: "name".into(),
            ingredient_hint: String::new(),
        });
    }
    Ok(out)
}

fn fmt_num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

fn write_products(path: &Path, built: &[Built]) -> Result<()> {
    let mut sorted: Vec<&Built> = built.iter().collect();
    sorted.sort_by(|a, b| {
        (
            a.row.bnf_code.is_empty(),
            &a.row.bnf_code,
            a.row.dmd_type != "VMP",
            &a.row.name,
            &a.row.dmd_id,
        )
            .cmp(&(
                b.row.bnf_code.is_empty(),
                &b.row.bnf_code,
                b.row.dmd_type != "VMP",
                &b.row.name,
                &b.row.dmd_id,
            ))
    });
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(path)?;
    w.write_record(opal::dictionary::COLUMNS)?;
    for b in sorted {
        let r = &b.row;
        let rec: Vec<String> = match &b.parsed {
            Some(p) => vec![
                r.dmd_id.clone(),
                r.dmd_type.clone(),
                r.name.clone(),
                r.bnf_code.clone(),
                b.vmp_id.clone(),
                p.ingredient.clone(),
                p.ingredients.join(";"),
                p.route.as_str().into(),
                p.form.clone(),
                p.unit.clone(),
                p.release.as_str().into(),
                fmt_num(p.strength),
                p.strength_unit.as_str().into(),
                p.patch_rate_mcg_per_hour.map(fmt_num).unwrap_or_default(),
                p.patch_wear_days.map(fmt_num).unwrap_or_default(),
                p.excluded_reason.clone().unwrap_or_default(),
                String::new(),
                b.derived_from.clone(),
                r.source.clone(),
            ],
            None => vec![
                r.dmd_id.clone(),
                r.dmd_type.clone(),
                r.name.clone(),
                r.bnf_code.clone(),
                b.vmp_id.clone(),
                b.ingredient_hint.clone(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                b.unresolved.clone().unwrap_or_default(),
                b.derived_from.clone(),
                r.source.clone(),
            ],
        };
        w.write_record(&rec)?;
    }
    w.flush()?;
    Ok(())
}

fn write_openprescribing_factors(input: &Path, output: &Path) -> Result<()> {
    let mut reader = csv::Reader::from_path(input)
        .with_context(|| format!("cannot read {}", input.display()))?;
    let mut rows: BTreeMap<(String, String), (f64, String)> = BTreeMap::new();
    let mut order: Vec<(String, String)> = Vec::new();
    for rec in reader.records() {
        let rec = rec?;
        let g = |n: usize| rec.get(n).unwrap_or("").trim().to_string();
        let nm = g(1);
        let ingredient = nm
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let route = g(2);
        if Route::parse(&route).is_none() {
            bail!("unknown route {route} in {}", input.display());
        }
        let factor: f64 = g(3).parse()?;
        let source = format!(
            "OpenPrescribing opioid_ing_form_ome: {nm} (vpi {}) {} {}",
            g(0),
            g(4),
            g(5)
        );
        let key = (ingredient, route);
        match rows.get(&key) {
            Some((f, _)) if (*f - factor).abs() > 1e-12 => {
                bail!("{key:?} has two factors {f} and {factor}");
            }
            Some(_) => {}
            None => {
                order.push(key.clone());
                rows.insert(key, (factor, source));
            }
        }
    }
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_path(output)?;
    w.write_record(["ingredient", "route", "factor", "confidence", "source"])?;
    for key in order {
        let (factor, source) = &rows[&key];
        w.write_record([
            key.0.as_str(),
            key.1.as_str(),
            &fmt_num(*factor),
            "",
            source,
        ])?;
        // OpenPrescribing's route is the dm+d form's route (vw__opioids_total_dmd.sql,
        // simp_form), and dm+d files sublingual tablets as oromucosal: opal's sublingual
        // products take the oromucosal row under this set.
        if key.1 == "oromucosal" && !rows.contains_key(&(key.0.clone(), "sublingual".into())) {
            let note = format!("{source}; sublingual tablets: dm+d's route for them is oromucosal");
            w.write_record([key.0.as_str(), "sublingual", &fmt_num(*factor), "", &note])?;
        }
    }
    w.flush()?;
    Ok(())
}
