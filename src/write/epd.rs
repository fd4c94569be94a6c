//! The outputs of `opal epd`: the BNF codes' OME, the practice and ICS measures, the
//! unresolved and rejected rows, its manifest and what it prints.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use crate::dictionary::PRODUCTS_CSV;
use crate::engine::epd::{EpdConfig, EpdResult};
use crate::epd::Measures;
use crate::read::factors::hex_sha256;
use crate::write::output::table;
use crate::write::table::{write_table, Format, Table};

/// The measures of practices or ICSs as a table.
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
pub fn write_outputs(out: &Path, r: &EpdResult, format: Format) -> Result<Vec<String>> {
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
    written.push(write_table(
        out,
        "rejected",
        &crate::write::audit::rejected_table(&r.rejected),
        format,
    )?);
    Ok(written
        .iter()
        .filter_map(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .collect())
}

/// What the manifest records of the command line (the reference files and the format), and
/// the outputs asked for besides the tables.
pub struct EpdSettings<'a> {
    pub list_sizes: &'a [std::path::PathBuf],
    pub practices: Option<&'a Path>,
    pub ics_map: Option<&'a Path>,
    pub format: Format,
    /// `--report`: report/.
    pub report: bool,
    /// `--charts`: the levels whose charts are written as SVG files.
    pub charts: &'a [String],
}

/// Write every output of `opal epd` into a staging folder, then move them into `target`
/// (write/outdir.rs: all or nothing).
pub fn write_run(
    target: &Path,
    force: bool,
    what: &EpdSettings<'_>,
    files: &[crate::read::extract::FileInfo],
    r: &EpdResult,
    trend: &crate::engine::epd::EpdTrend,
    config: &EpdConfig,
) -> Result<()> {
    let staging = crate::write::outdir::Staging::create(target)?;
    let out = staging.path();
    let mut written = write_outputs(out, r, what.format)?;
    let mut extra = crate::write::epd_trend::write_tables(out, trend, what.format)?;
    if what.report {
        extra.extend(crate::write::epd_report::write(out, trend, config)?);
    }
    if !what.charts.is_empty() {
        extra.extend(crate::write::epd_report::write_charts(
            out,
            trend,
            config,
            what.charts,
        )?);
    }
    written.extend(extra.iter().filter_map(|p| {
        p.strip_prefix(out)
            .ok()
            .map(|p| p.to_string_lossy().into_owned())
    }));
    write_manifest(out, what, files, r, config, &written)?;
    staging.commit(target, force)
}

/// Write `<out>/manifest.json` of `opal epd`.
pub fn write_manifest(
    out: &Path,
    args: &EpdSettings<'_>,
    files: &[crate::read::extract::FileInfo],
    r: &EpdResult,
    config: &EpdConfig,
    written: &[String],
) -> Result<()> {
    use crate::write::manifest::{FactorSetEntry, InputEntry, Manifest};
    use serde_json::json;
    let record = json!({
        // One file as a string (as before), several as a list.
        "list_sizes": match args.list_sizes {
            [] => serde_json::Value::Null,
            [one] => json!(one.display().to_string()),
            many => json!(many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>()),
        },
        "months": r.months.iter().map(|(m, f)| json!({"month": m, "file": f})).collect::<Vec<_>>(),
        "list_sizes_from_another_month": r.list_size_months.iter().map(|(m, from)| json!({"month": m, "list_sizes_of": from.as_deref().unwrap_or("undated file")})).collect::<Vec<_>>(),
        "practices": args.practices.as_ref().map(|p| p.display().to_string()),
        "ics_map": args.ics_map.as_ref().map(|p| p.display().to_string()),
        "settings": {"threshold_mg_day": config.version.mg(), "format": args.format.extension()},
    });
    let serde_json::Value::Object(record) = record else {
        unreachable!("json! of an object is an object")
    };
    let manifest = Manifest {
        opal_version: env!("CARGO_PKG_VERSION"),
        command: "epd",
        // As every manifest records its inputs; an EPD file has no dates to read (its month
        // is YEAR_MONTH).
        inputs: files.iter().map(|f| InputEntry::of(f, None)).collect(),
        factor_set: FactorSetEntry::of(&config.factors),
        product_dictionary_sha256: hex_sha256(PRODUCTS_CSV.as_bytes()),
        rows: &r.accounting,
        rows_balance: "read = opioid + not_opioid + excluded + unresolved + rejected",
        outputs: written.to_vec(),
        record,
    };
    crate::write::manifest::write_manifest(out, &manifest)
}

/// What `opal epd` prints: the ICS measures per month and the row accounting.
pub fn print_summary(r: &EpdResult, config: &EpdConfig) -> Result<()> {
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
    // Over many months the latest only (42 ICSs a month would fill the screen); every month
    // is in ics_measures.
    let latest = r.ics.iter().map(|m| m.month.as_str()).max().unwrap_or("");
    let months = r.months.len();
    for m in r.ics.iter().filter(|m| months <= 1 || m.month == latest) {
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
    if months > 1 {
        writeln!(
            o,
            "(the latest of {months} months; every month is in ics_measures)"
        )?;
    }
    let a = &r.accounting;
    writeln!(
        o,
        "rows read {}: opioid {}, not opioid {}, excluded {}, unresolved {}, rejected {}",
        a.read, a.opioid, a.not_opioid, a.excluded, a.unresolved, a.rejected
    )?;
    Ok(())
}
