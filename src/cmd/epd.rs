//! `opal epd`: practice and ICS opioid measures from the English Prescribing Dataset.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::dictionary::{Dictionary, PRODUCTS_CSV};
use crate::epd::{self, EpdConfig, EpdResult, HighDose, Measures};
use crate::factors::DEFAULT_SET;
use crate::read::factors::hex_sha256;
use crate::write::output::table;
use crate::write::table::{write_atomically, write_table, Format, Table};

/// OpenPrescribing's opioid measures for practices and ICSs, from the English Prescribing
/// Dataset.
///
/// Practice-level opioid measures from the public English Prescribing Dataset (EPD), as
/// OpenPrescribing computes them: total OME per practice and per 1000 registered patients
/// (opioidome), high-dose items per 1000 patients (opioidper1000) and as a percentage of
/// regular opioid items (opioidspercent), per month, for practices and ICSs (sums over sums).
///
/// Reads the older layout (AREA_TEAM_*, PCO_*, YEAR_MONTH like 2017_09) and the current one
/// (ICB_CODE, ICB_NAME, YEAR_MONTH like 202409, optional SNOMED code), CSV, gzip or Parquet.
/// TOTAL_QUANTITY is used (QUANTITY x ITEMS when it is absent). BNF 0410 is excluded;
/// combination products count only their opioid. Writes bnf_ome, practice_measures,
/// ics_measures, unresolved, rejected and manifest.json to --out.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  opal epd tests/data/reference/epd/epd_201709.csv \
    --list-sizes tests/data/reference/epd/gp-reg-pat-prac-quin-age_2017_09.csv --out epd-2017-09"
)]
pub struct Args {
    /// EPD files (CSV, .csv.gz or Parquet); several months are read as one.
    #[arg(value_name = "EPD_FILE", required = true)]
    files: Vec<PathBuf>,
    /// Registered list sizes (practice_code,list_size or NHS gp-reg-pat-prac-*.csv).
    #[arg(long, value_name = "FILE")]
    list_sizes: Option<PathBuf>,
    /// Practice to ICS mapping (as for audit); without it the file's ICB (or PCO) code.
    #[arg(long, value_name = "FILE")]
    practices: Option<PathBuf>,
    /// Conversion factor set: uk-fpm, openprescribing (OpenPrescribing's method exactly,
    /// patch hours included), cdc-2022, or a CSV file.
    #[arg(long, value_name = "NAME|FILE", default_value = DEFAULT_SET)]
    factors: String,
    /// High-dose measures at 120 mg/day (the 2025-01 versions) or 90 mg/day (current).
    #[arg(long, value_name = "MG", default_value_t = 120)]
    threshold: u32,
    /// Output folder [default: opal-epd].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Replace the outputs of an earlier run in an existing output folder: the files its
    /// manifest lists are removed first (no stale practice pack survives), files opal did not
    /// write are kept, and a symbolic link inside the folder is replaced, never written
    /// through.
    #[arg(long)]
    force: bool,
    /// Format of the tables written.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
    /// Print nothing but errors.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: Args) -> Result<()> {
    let config = EpdConfig {
        factors: crate::read::factors::load(&args.factors)?,
        version: HighDose::from_threshold(args.threshold).map_err(|e| crate::error::ExitError {
            code: crate::error::exit::USAGE,
            message: e.to_string(),
        })?,
        practices: match args.practices.as_deref() {
            Some(path) => {
                let (map, warnings) = crate::read::reference::read_practices(path)?;
                for w in warnings {
                    eprintln!("warning: {}", crate::error::escape(&w));
                }
                Some(map)
            }
            None => None,
        },
        list_sizes: args
            .list_sizes
            .as_deref()
            .map(crate::read::reference::read_list_sizes)
            .transpose()?,
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("opal-epd"));
    crate::write::table::check_out_dir(&out, args.force)?;
    let (files, result) = epd::run_files(&args.files, &config, Dictionary::builtin(), 0)?;
    // Written all or nothing (write/outdir.rs).
    let staging = crate::write::outdir::Staging::create(&out)?;
    let written = write_outputs(staging.path(), &result, args.format)?;
    write_manifest(staging.path(), &args, &files, &result, &config, &written)?;
    staging.commit(&out, args.force)?;
    if !args.quiet {
        print_summary(&result, &config)?;
    }
    Ok(())
}

fn measures_table(rows: &[Measures], is_ics: bool) -> Table {
    let mut t = Table::new()
        .text(
            "month",
            rows.iter().map(|m| Some(m.month.clone())).collect(),
        )
        .text(
            if is_ics { "ics_code" } else { "practice_code" },
            rows.iter().map(|m| Some(m.code.clone())).collect(),
        );
    if is_ics {
        t = t.integer(
            "practices",
            rows.iter().map(|m| Some(m.practices as i64)).collect(),
        );
    } else {
        t = t
            .text(
                "practice_name",
                rows.iter().map(|m| Some(m.name.clone())).collect(),
            )
            .text(
                "ics_code",
                rows.iter().map(|m| Some(m.ics_code.clone())).collect(),
            );
    }
    t.number(
        "total_ome_mg",
        rows.iter().map(|m| Some(m.total_ome_mg)).collect(),
    )
    .number("list_size", rows.iter().map(|m| m.list_size).collect())
    .number(
        "ome_mg_per_1000_patients",
        rows.iter().map(|m| m.ome_per_1000()).collect(),
    )
    .number(
        "high_dose_items",
        rows.iter().map(|m| Some(m.high_dose_items)).collect(),
    )
    .number(
        "regular_opioid_items",
        rows.iter().map(|m| Some(m.regular_items)).collect(),
    )
    .number(
        "high_dose_items_per_1000",
        rows.iter().map(|m| m.high_dose_per_1000()).collect(),
    )
    .number(
        "high_dose_percent",
        rows.iter().map(|m| m.high_dose_percent()).collect(),
    )
    .number(
        "opioid_items",
        rows.iter().map(|m| Some(m.opioid_items)).collect(),
    )
}

/// The tables; returns their file names (the manifest's `outputs`, which a later `--force`
/// run removes before it writes its own).
fn write_outputs(out: &Path, r: &EpdResult, format: Format) -> Result<Vec<String>> {
    let mut written = Vec::new();
    let b = &r.bnf;
    let t = Table::new()
        .text("month", b.iter().map(|x| Some(x.month.clone())).collect())
        .text(
            "bnf_code",
            b.iter().map(|x| Some(x.bnf_code.clone())).collect(),
        )
        .text(
            "description",
            b.iter().map(|x| Some(x.description.clone())).collect(),
        )
        .text("status", b.iter().map(|x| Some(x.status.clone())).collect())
        .text(
            "matched_by",
            b.iter().map(|x| Some(x.matched_by.clone())).collect(),
        )
        .text(
            "product_name",
            b.iter().map(|x| Some(x.product_name.clone())).collect(),
        )
        .text(
            "ingredient",
            b.iter().map(|x| Some(x.ingredient.clone())).collect(),
        )
        .number("factor", b.iter().map(|x| x.factor).collect())
        .number("items", b.iter().map(|x| Some(x.items)).collect())
        .number(
            "total_quantity",
            b.iter().map(|x| Some(x.total_quantity)).collect(),
        )
        .number(
            "ome_mg_per_unit",
            b.iter().map(|x| x.ome_mg_per_unit).collect(),
        )
        .number(
            "total_ome_mg",
            b.iter().map(|x| Some(x.total_ome_mg)).collect(),
        )
        .flag(
            "regular_opioid",
            b.iter().map(|x| Some(x.regular)).collect(),
        )
        .flag("high_dose", b.iter().map(|x| Some(x.high_dose)).collect())
        .text("reason", b.iter().map(|x| Some(x.reason.clone())).collect());
    written.push(write_table(out, "bnf_ome", &t, format)?);
    written.push(write_table(
        out,
        "practice_measures",
        &measures_table(&r.practices, false),
        format,
    )?);
    written.push(write_table(
        out,
        "ics_measures",
        &measures_table(&r.ics, true),
        format,
    )?);
    let u: Vec<_> = b.iter().filter(|x| x.status == "unresolved").collect();
    let t = Table::new()
        .text("month", u.iter().map(|x| Some(x.month.clone())).collect())
        .text(
            "bnf_code",
            u.iter().map(|x| Some(x.bnf_code.clone())).collect(),
        )
        .text(
            "description",
            u.iter().map(|x| Some(x.description.clone())).collect(),
        )
        .number("items", u.iter().map(|x| Some(x.items)).collect())
        .number(
            "total_quantity",
            u.iter().map(|x| Some(x.total_quantity)).collect(),
        )
        .text("reason", u.iter().map(|x| Some(x.reason.clone())).collect());
    written.push(write_table(out, "unresolved", &t, format)?);
    let x = &r.rejected;
    let t = Table::new()
        .text("file", x.iter().map(|x| Some(x.file.clone())).collect())
        .integer("line", x.iter().map(|x| Some(x.line as i64)).collect())
        .text("column", x.iter().map(|x| Some(x.column.clone())).collect())
        .text("value", x.iter().map(|x| Some(x.value.clone())).collect())
        .text("reason", x.iter().map(|x| Some(x.reason.clone())).collect());
    written.push(write_table(out, "rejected", &t, format)?);
    Ok(written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

fn write_manifest(
    out: &Path,
    args: &Args,
    files: &[crate::read::extract::FileInfo],
    r: &EpdResult,
    config: &EpdConfig,
    written: &[String],
) -> Result<()> {
    use serde_json::json;
    let manifest = json!({
        "opal_version": env!("CARGO_PKG_VERSION"),
        "command": "epd",
        "inputs": files.iter().map(|f| json!({"path": f.path, "format": f.format, "bytes": f.bytes, "sha256": f.sha256, "rows": f.rows, "columns": f.columns})).collect::<Vec<_>>(),
        "list_sizes": args.list_sizes.as_ref().map(|p| p.display().to_string()),
        "practices": args.practices.as_ref().map(|p| p.display().to_string()),
        "settings": {"threshold_mg_day": config.version.mg(), "format": args.format.extension()},
        "factor_set": {"name": config.factors.name, "sha256": config.factors.sha256},
        "product_dictionary_sha256": hex_sha256(PRODUCTS_CSV.as_bytes()),
        "rows": r.accounting,
        "rows_balance": "read = opioid + not_opioid + excluded + unresolved + rejected",
        "outputs": written,
    });
    write_atomically(&out.join("manifest.json"), |w| {
        serde_json::to_writer_pretty(&mut *w, &manifest)?;
        w.write_all(b"\n")?;
        Ok(())
    })
}

fn print_summary(r: &EpdResult, config: &EpdConfig) -> Result<()> {
    let mut o = io::stdout().lock();
    writeln!(
        o,
        "opal epd (factor set {}; high dose at {} mg/day)",
        crate::error::escape(&config.factors.name),
        config.version.mg()
    )?;
    let mut t = table(&[
        "month",
        "ICS",
        "practices",
        "total OME (kg)",
        "OME per 1000 patients (mg)",
        "high-dose items",
        "high-dose per 1000",
        "high-dose %",
    ]);
    for m in &r.ics {
        crate::write::output::add_row(
            &mut t,
            vec![
                m.month.clone(),
                m.code.clone(),
                m.practices.to_string(),
                format!("{:.2}", m.total_ome_mg / 1e6),
                m.ome_per_1000()
                    .map(|v| format!("{v:.0}"))
                    .unwrap_or_default(),
                format!("{}", m.high_dose_items),
                m.high_dose_per_1000()
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_default(),
                m.high_dose_percent()
                    .map(|v| format!("{v:.1}"))
                    .unwrap_or_default(),
            ],
        );
    }
    writeln!(o, "{t}")?;
    let a = &r.accounting;
    writeln!(
        o,
        "rows read {}: opioid {}, not opioid {}, excluded {}, unresolved {}, rejected {}",
        a.read, a.opioid, a.not_opioid, a.excluded, a.unresolved, a.rejected
    )?;
    Ok(())
}
