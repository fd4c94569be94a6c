//! The outputs of `opal epd`: the BNF codes' OME, the practice and ICS measures, the
//! unresolved and rejected rows, its manifest and what it prints.

use std::io::{self, Write};
use std::path::Path;

use anyhow::Result;

use crate::dictionary::PRODUCTS_CSV;
use crate::engine::epd::{EpdConfig, EpdResult};
use crate::epd::{BnfOme, Measures};
use crate::read::factors::hex_sha256;
use crate::write::audit::REJECTED;
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, CellOf, Column, Rows};
use crate::write::output::table;
use crate::write::table::Format;

/// Which of the measures tables a column is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Both,
    Practices,
    Icss,
}

impl Rows for Measures {
    type Row<'a> = Measures;
    type Tag = In;
}

const fn both(
    name: &'static str,
    kind: Kind,
    meaning: &'static str,
    cell: CellOf<Measures>,
) -> Column<Measures> {
    Column::<Measures>::tagged(In::Both, name, kind, meaning, cell)
}

/// The columns of `practice_measures` and `ics_measures`; each has those [`In`] it.
pub const MEASURES: &[Column<Measures>] = &[
    both("month", Kind::Text, "The EPD month (YYYY-MM).", |m| {
        Cell::Text(&m.month)
    }),
    Column::tagged(
        In::Icss,
        "ics_code",
        Kind::Text,
        "The ICS (ICB), as the EPD or --practices names it.",
        |m| Cell::Text(&m.code),
    ),
    Column::tagged(
        In::Practices,
        "practice_code",
        Kind::Text,
        "The practice.",
        |m| Cell::Text(&m.code),
    ),
    Column::tagged(
        In::Icss,
        "practices",
        Kind::Integer,
        "The ICS's practices with opioid items that month.",
        |m| Cell::Integer(Some(m.practices as i64)),
    ),
    Column::tagged(
        In::Practices,
        "practice_name",
        Kind::Text,
        "The practice's name.",
        |m| Cell::Text(&m.name),
    ),
    Column::tagged(
        In::Practices,
        "ics_code",
        Kind::Text,
        "The practice's ICS.",
        |m| Cell::Text(&m.ics_code),
    ),
    both(
        "total_ome_mg",
        Kind::Number,
        "The OME mg of every opioid item that month.",
        |m| Cell::Number(Some(m.total_ome_mg)),
    ),
    both(
        "list_size",
        Kind::Number,
        "Registered patients (--list-sizes), where known.",
        |m| Cell::Number(m.list_size),
    ),
    both(
        "ome_mg_per_1000_patients",
        Kind::Number,
        "OME mg per 1000 registered patients (practices with a list size).",
        |m| Cell::Number(m.ome_per_1000()),
    ),
    both(
        "high_dose_items",
        Kind::Number,
        "Items of a regular opioid whose quantity is above the high-dose threshold's OME over \
        28 days (METHOD.md §9).",
        |m| Cell::Number(Some(m.high_dose_items)),
    ),
    both(
        "regular_opioid_items",
        Kind::Number,
        "Items of the regular opioids OpenPrescribing's measure counts.",
        |m| Cell::Number(Some(m.regular_items)),
    ),
    both(
        "high_dose_items_per_1000",
        Kind::Number,
        "High-dose items per 1000 registered patients.",
        |m| Cell::Number(m.high_dose_per_1000()),
    ),
    both(
        "high_dose_percent",
        Kind::Number,
        "High-dose items as a percentage of the regular opioid items.",
        |m| Cell::Number(m.high_dose_percent()),
    ),
    both(
        "opioid_items",
        Kind::Number,
        "Every opioid item that month.",
        |m| Cell::Number(Some(m.opioid_items)),
    ),
];

/// The columns of the practices' (or the ICSs') measures.
pub fn measures_columns(is_ics: bool) -> impl Iterator<Item = &'static Column<Measures>> {
    MEASURES.iter().filter(move |c| match c.tag {
        In::Both => true,
        In::Practices => !is_ics,
        In::Icss => is_ics,
    })
}

impl Rows for BnfOme {
    type Row<'a> = BnfOme;
    type Tag = ();
}

/// The columns of `bnf_ome`.
pub const BNF_OME: &[Column<BnfOme>] = &[
    Column::new("month", Kind::Text, "The EPD month (YYYY-MM).", |b| {
        Cell::Text(&b.month)
    }),
    Column::new("bnf_code", Kind::Text, "The BNF presentation code.", |b| {
        Cell::Text(&b.bnf_code)
    }),
    Column::new(
        "description",
        Kind::Text,
        "The EPD's description of it.",
        |b| Cell::Text(&b.description),
    ),
    Column::new(
        "status",
        Kind::Text,
        "resolved, unresolved or not_opioid.",
        |b| Cell::Text(&b.status),
    ),
    Column::new(
        "matched_by",
        Kind::Text,
        "How it was resolved to a product (its code, or its name).",
        |b| Cell::Text(&b.matched_by),
    ),
    Column::new(
        "product_name",
        Kind::Text,
        "The product it resolved to.",
        |b| Cell::Text(&b.product_name),
    ),
    Column::new("ingredient", Kind::Text, "The product's opioid.", |b| {
        Cell::Text(&b.ingredient)
    }),
    Column::new(
        "factor",
        Kind::Number,
        "The conversion factor to oral morphine (the factor set's).",
        |b| Cell::Number(b.factor),
    ),
    Column::new(
        "items",
        Kind::Number,
        "Items of it issued that month.",
        |b| Cell::Number(Some(b.items)),
    ),
    Column::new(
        "total_quantity",
        Kind::Number,
        "Their total quantity, in the product's units.",
        |b| Cell::Number(Some(b.total_quantity)),
    ),
    Column::new(
        "ome_mg_per_unit",
        Kind::Number,
        "OME mg in one unit: strength times factor.",
        |b| Cell::Number(b.ome_mg_per_unit),
    ),
    Column::new(
        "total_ome_mg",
        Kind::Number,
        "The OME mg of the total quantity.",
        |b| Cell::Number(Some(b.total_ome_mg)),
    ),
    Column::new(
        "regular_opioid",
        Kind::Flag,
        "In OpenPrescribing's regular-opioid measure.",
        |b| Cell::Flag(Some(b.regular)),
    ),
    Column::new(
        "high_dose",
        Kind::Flag,
        "Its items count as high dose (METHOD.md §9).",
        |b| Cell::Flag(Some(b.high_dose)),
    ),
    Column::new(
        "reason",
        Kind::Text,
        "Why it is unresolved or not counted, where it is.",
        |b| Cell::Text(&b.reason),
    ),
];

/// The columns of opal epd's `unresolved`: those of `bnf_ome` that say what a row was and
/// why it could not be converted.
pub fn unresolved_columns() -> impl Iterator<Item = &'static Column<BnfOme>> {
    const KEPT: [&str; 6] = [
        "month",
        "bnf_code",
        "description",
        "items",
        "total_quantity",
        "reason",
    ];
    BNF_OME.iter().filter(|c| KEPT.contains(&c.name))
}

/// The tables; returns their file names (the manifest's `outputs`, which a later `--force`
/// run removes before it writes its own).
pub fn write_outputs(out: &Path, r: &EpdResult, format: Format) -> Result<Vec<String>> {
    let b = &r.bnf;
    let unresolved: Vec<&BnfOme> = b.iter().filter(|x| x.status == "unresolved").collect();
    let written = [
        write_rows(out, "bnf_ome", BNF_OME, b, format)?,
        write_rows(
            out,
            "practice_measures",
            measures_columns(false),
            &r.practices,
            format,
        )?,
        write_rows(out, "ics_measures", measures_columns(true), &r.ics, format)?,
        write_rows(out, "unresolved", unresolved_columns(), unresolved, format)?,
        write_rows(out, "rejected", REJECTED, &r.rejected, format)?,
    ];
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

/// What `opal epd`'s manifest records besides every manifest's part.
#[derive(Debug, serde::Serialize)]
pub struct EpdRecord<'a> {
    pub list_sizes: crate::write::manifest::OneOrMany<String>,
    pub months: Vec<MonthFile<'a>>,
    pub list_sizes_from_another_month: Vec<crate::write::manifest::ListSizesOf>,
    pub practices: Option<String>,
    pub ics_map: Option<String>,
    pub settings: EpdRunSettings,
}

/// An EPD month and the file it was read from.
#[derive(Debug, serde::Serialize)]
pub struct MonthFile<'a> {
    pub month: &'a str,
    pub file: &'a str,
}

/// `opal epd`'s settings.
#[derive(Debug, serde::Serialize)]
pub struct EpdRunSettings {
    pub threshold_mg_day: u32,
    pub format: &'static str,
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
    use crate::write::manifest::{FactorSetEntry, InputEntry, ListSizesOf, Manifest, OneOrMany};
    let record = EpdRecord {
        list_sizes: OneOrMany::of(
            args.list_sizes
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        ),
        months: r
            .months
            .iter()
            .map(|(month, file)| MonthFile { month, file })
            .collect(),
        list_sizes_from_another_month: r
            .list_size_months
            .iter()
            .map(|(month, from)| ListSizesOf {
                month: month.clone(),
                list_sizes_of: from.as_deref().unwrap_or("undated file").to_string(),
            })
            .collect(),
        practices: args.practices.map(|p| p.display().to_string()),
        ics_map: args.ics_map.map(|p| p.display().to_string()),
        settings: EpdRunSettings {
            threshold_mg_day: config.version.mg(),
            format: args.format.extension(),
        },
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
