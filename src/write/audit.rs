//! The outputs of `opal audit`: the patient lists, the summaries, items (Parquet; items.csv is
//! written while reading, [`crate::write::items`]), the unresolved and rejected rows, the
//! optional outputs and the manifest. [`AuditWriter`] is the engine's [`AuditSink`] for the
//! outputs written while the audit runs, and writes the rest from the [`AuditRun`].

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Result;

use crate::engine::audit::{AuditRun, AuditSink};
use crate::engine::{
    day_text, AuditConfig, AuditResult, Completion, PatientRow, Rejected, ResolvedRow, Unresolved,
};
use crate::trend::{Computed, Series, TrendSettings};
use crate::values::Day;
use crate::write::cells::{Cell, Kind};
use crate::write::columns::{write_rows, Column, Rows};
use crate::write::items::ItemsWriter;
use crate::write::outdir::Staging;
use crate::write::patients::{patient_order, patient_table, write_patients_csv};
use crate::write::summary::write_summary;
use crate::write::table::{write_parquet_blocks, Format, PARQUET_BLOCK_ROWS};

/// review_list and patients.
pub fn write_patient_lists(
    out: &Path,
    patients: &[PatientRow],
    format: Format,
) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    let all = patient_order(patients);
    crate::timing::lap("sort patients");
    match format {
        // One row per current patient, a million or more for a region: written directly.
        Format::Csv => written.extend(write_patients_csv(out, &all)?),
        Format::Parquet => {
            let review: Vec<&PatientRow> = all.iter().copied().filter(|p| p.to_review()).collect();
            let current: Vec<&PatientRow> =
                all.iter().copied().filter(|p| p.measures.current).collect();
            for (stem, rows, with_exclusion) in [
                ("review_list", &review, false),
                ("patients", &current, true),
            ] {
                let tables = std::iter::once(&rows[..0])
                    .filter(|_| rows.is_empty())
                    .chain(rows.chunks(PARQUET_BLOCK_ROWS))
                    .map(|block| patient_table(block, with_exclusion).into_frame());
                written.push(write_parquet_blocks(out, stem, tables)?);
            }
        }
    }
    crate::timing::lap("write patients");
    Ok(written)
}

/// practice_summary and ics_summary.
pub fn write_summaries(
    out: &Path,
    r: &Completion,
    config: &AuditConfig,
    format: Format,
) -> Result<Vec<PathBuf>> {
    let written = vec![
        write_summary(
            out,
            "practice_summary",
            &r.practice_summaries,
            false,
            config.suppress,
            format,
        )?,
        write_summary(
            out,
            "ics_summary",
            &r.ics_summaries,
            true,
            config.suppress,
            format,
        )?,
    ];
    crate::timing::lap("write summaries");
    Ok(written)
}

/// items.parquet, from the rows (items.csv is written while the extracts are read).
pub fn write_items_parquet(out: &Path, r: &AuditResult, config: &AuditConfig) -> Result<PathBuf> {
    // A block of items at a time: a frame of one item's cells is many times its size.
    let blocks = r.items.chunks(PARQUET_BLOCK_ROWS);
    let tables = std::iter::once(&r.items[..0])
        .filter(|_| r.items.is_empty())
        .chain(blocks)
        .map(|items| crate::write::items::items_frame(r, items, config));
    let path = write_parquet_blocks(out, "items", tables)?;
    crate::timing::lap("write items");
    Ok(path)
}

/// A row of `resolved`: a patient off the list since the previous audit date.
pub struct ResolvedOut<'a> {
    pub row: &'a ResolvedRow,
    pub previous: &'a str,
}

impl Rows for ResolvedOut<'_> {
    type Row<'a> = ResolvedOut<'a>;
    type Tag = ();
}

/// The columns of `resolved`.
pub const RESOLVED: &[Column<ResolvedOut<'static>>] = &[
    Column::new(
        "patient_id",
        Kind::Text,
        "The patient, as the extract identifies them.",
        |r| Cell::Text(&r.row.patient_id),
    ),
    Column::new(
        "practice_code",
        Kind::Text,
        "Their practice at the previous audit date.",
        |r| Cell::Text(&r.row.practice_code),
    ),
    Column::new("ics_code", Kind::Text, "That practice's ICS.", |r| {
        Cell::Text(&r.row.ics_code)
    }),
    Column::new(
        "previous_as_of",
        Kind::Text,
        "The previous audit date (--previous-as-of).",
        |r| Cell::Text(r.previous),
    ),
    Column::new(
        "why",
        Kind::Text,
        "Why they are off the list: stopped, below the thresholds, or excluded.",
        |r| Cell::Text(r.row.why.as_str()),
    ),
    Column::new(
        "ome_mg_day_previous",
        Kind::Number,
        "OME mg a day (the window mean) at the previous audit date.",
        |r| Cell::Number(Some(r.row.ome_mg_day_previous)),
    ),
    Column::new(
        "ome_mg_day_now",
        Kind::Number,
        "OME mg a day (the window mean) at this audit date.",
        |r| Cell::Number(Some(r.row.ome_mg_day_now)),
    ),
    Column::new(
        "abrupt_stop",
        Kind::Flag,
        "For a patient who stopped: whether the stop was abrupt (METHOD.md §11).",
        |r| Cell::Flag(r.row.abrupt_stop),
    ),
    Column::new(
        "last_review_date",
        Kind::Date,
        "The date of their last review (--reviews), where it has one.",
        |r| Cell::Date(r.row.last_review.as_ref().and_then(|v| v.date)),
    ),
    Column::new(
        "last_review_outcome",
        Kind::Text,
        "What that review decided.",
        |r| Cell::OptText(r.row.last_review.as_ref().map(|v| v.outcome.as_str())),
    ),
];

/// resolved: the patients on the review list at the previous date and not now (§11).
pub fn write_resolved<'a>(
    out: &Path,
    x: impl IntoIterator<Item = &'a ResolvedRow>,
    previous: &str,
    format: Format,
) -> Result<PathBuf> {
    let rows: Vec<ResolvedOut> = x
        .into_iter()
        .map(|row| ResolvedOut { row, previous })
        .collect();
    write_rows(out, "resolved", RESOLVED, &rows, format)
}

impl Rows for Unresolved {
    type Row<'a> = Unresolved;
    type Tag = ();
}

/// The columns of the audit's `unresolved`.
pub const UNRESOLVED: &[Column<Unresolved>] = &[
    Column::new("file", Kind::Text, "The extract the item is in.", |x| {
        Cell::Text(&x.file)
    }),
    Column::new(
        "line",
        Kind::Integer,
        "Its line; the header is line 1.",
        |x| Cell::Integer(Some(x.line as i64)),
    ),
    Column::new(
        "practice_code",
        Kind::Text,
        "The practice that issued it.",
        |x| Cell::Text(&x.practice_code),
    ),
    Column::new(
        "drug_name",
        Kind::Text,
        "The drug as the extract names it.",
        |x| Cell::Text(&x.drug_name),
    ),
    Column::new(
        "dmd_code",
        Kind::Text,
        "Its dm+d code, where the extract has one.",
        |x| Cell::Text(&x.dmd_code),
    ),
    Column::new(
        "bnf_code",
        Kind::Text,
        "Its BNF code, where the extract has one.",
        |x| Cell::Text(&x.bnf_code),
    ),
    Column::new(
        "reason",
        Kind::Text,
        "Why it could not be converted to OME.",
        |x| Cell::Text(&x.reason),
    ),
];

impl Rows for Rejected {
    type Row<'a> = Rejected;
    type Tag = ();
}

/// The columns of `rejected` (`opal audit`, `opal trend` and `opal epd`).
pub const REJECTED: &[Column<Rejected>] = &[
    Column::new("file", Kind::Text, "The file the row is in.", |x| {
        Cell::Text(&x.file)
    }),
    Column::new(
        "line",
        Kind::Integer,
        "Its line; the header is line 1.",
        |x| Cell::Integer(Some(x.line as i64)),
    ),
    Column::new(
        "column",
        Kind::Text,
        "The column whose value could not be used.",
        |x| Cell::Text(&x.column),
    ),
    Column::new(
        "value",
        Kind::Text,
        "That value, as the file has it.",
        |x| Cell::Text(&x.value),
    ),
    Column::new("reason", Kind::Text, "Why the row was not used.", |x| {
        Cell::Text(&x.reason)
    }),
];

/// unresolved and rejected.
pub fn write_row_outputs(out: &Path, r: &AuditResult, format: Format) -> Result<Vec<PathBuf>> {
    Ok(vec![
        write_rows(out, "unresolved", UNRESOLVED, &r.unresolved, format)?,
        write_rows(out, "rejected", REJECTED, &r.rejected, format)?,
    ])
}

/// The outputs a user asks for besides the tables: `--xlsx`, `--report`, `--practice-packs`.
#[derive(Debug, Clone, Copy)]
pub struct Optional {
    pub xlsx: bool,
    pub report: bool,
    pub practice_packs: bool,
}

/// What the optional outputs wrote, what gave way on the way (a workbook's cut cells), and
/// each practice pack's folder.
#[derive(Debug, Default)]
pub struct OptionalWritten {
    pub written: Vec<PathBuf>,
    pub warnings: Vec<String>,
    pub practice_packs: Vec<(String, String)>,
}

/// Write the optional outputs: review_list.xlsx on a thread of its own (a large list's
/// workbook is seconds of CPU), while the report and the practice packs (themselves on two
/// threads) are written, with the audit's trend (`engine::trend::audit_trend`). Each file
/// in the order a run always lists it.
pub fn write_optional(
    out: &Path,
    r: &AuditResult,
    config: &AuditConfig,
    previous: &str,
    what: Optional,
    trend: (&[Series], Option<&Computed>, &TrendSettings),
) -> Result<OptionalWritten> {
    let mut done = OptionalWritten::default();
    let book = what
        .xlsx
        .then(|| crate::write::xlsx::ReviewWorkbook::new(r.as_of))
        .transpose()?;
    let (xlsx, rest) = std::thread::scope(|s| {
        let xlsx = book.as_ref().map(|book| {
            s.spawn(|| {
                let review: Vec<&PatientRow> = crate::write::patients::patient_order(&r.patients)
                    .into_iter()
                    .filter(|p| p.to_review())
                    .collect();
                let done = crate::write::xlsx::write_review_xlsx(out, &review, book);
                crate::timing::lap("review_list.xlsx written");
                done
            })
        });
        let rest = (|| -> Result<OptionalWritten> {
            let mut rest = OptionalWritten::default();
            if !(what.report || what.practice_packs) {
                return Ok(rest);
            }
            if what.report {
                rest.written
                    .push(crate::write::report::audit_report(out, r, config, trend)?);
                crate::timing::lap("report.html written");
            }
            if what.practice_packs {
                let packs = crate::write::packs::write_practice_packs(
                    out,
                    r,
                    config,
                    previous,
                    trend,
                    book.as_ref(),
                )?;
                rest.written.extend(packs.written);
                rest.warnings.extend(packs.warnings);
                rest.practice_packs = packs.folders;
            }
            Ok(rest)
        })();
        (xlsx.map(|h| h.join()), rest)
    });
    match xlsx {
        Some(Ok(x)) => {
            let (path, warnings) = x?;
            done.written.push(path);
            done.warnings.extend(
                warnings
                    .into_iter()
                    .map(|w| format!("review_list.xlsx: {w}")),
            );
        }
        Some(Err(e)) => std::panic::resume_unwind(e),
        None => {}
    }
    let rest = rest?;
    done.written.extend(rest.written);
    done.warnings.extend(rest.warnings);
    done.practice_packs = rest.practice_packs;
    Ok(done)
}

/// Which items `opal audit` writes (`--items`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemsWanted {
    All,
    Review,
    None,
}

/// `opal audit`'s outputs, written into the run's staging folder and moved into the output
/// folder when every one is written (write/outdir.rs).
pub struct AuditWriter {
    staging: Staging,
    /// `--out`, when given; else the folder is named by the audit date.
    out: Option<PathBuf>,
    force: bool,
    format: Format,
    items: ItemsWanted,
    /// The output folder, once the audit date is known.
    target: OnceLock<PathBuf>,
}

impl AuditWriter {
    /// Make the staging folder; a named output folder that would be overwritten without
    /// `--force` is refused first, before any work.
    pub fn create(
        out: Option<&Path>,
        force: bool,
        format: Format,
        items: ItemsWanted,
    ) -> Result<AuditWriter> {
        if let Some(out) = out {
            crate::write::table::check_out_dir(out, force)?;
        }
        let staging = Staging::create(out.unwrap_or(Path::new("opal-audit")))?;
        Ok(AuditWriter {
            staging,
            out: out.map(Path::to_path_buf),
            force,
            format,
            items,
            target: OnceLock::new(),
        })
    }

    fn dir(&self) -> &Path {
        self.staging.path()
    }

    /// Write the outputs of the completed audit (resolved, the unresolved and rejected rows,
    /// the optional outputs, the manifest), then move them all into the output folder, which
    /// is returned. The optional outputs' warnings join the run's.
    pub fn finish(
        self,
        run: &mut AuditRun,
        optional: Optional,
        manifest: crate::write::manifest::Settings<'_>,
    ) -> Result<PathBuf> {
        let out = self.dir();
        let (r, config) = (&run.result, &run.config);
        let previous = day_text(run.previous);
        let mut written = std::mem::take(&mut run.written);
        written.push(write_resolved(out, &r.resolved, &previous, self.format)?);
        written.extend(write_row_outputs(out, r, self.format)?);
        let (series, computed, settings) = &run.trend;
        let optional = write_optional(
            out,
            r,
            config,
            &previous,
            optional,
            (series, computed.as_ref(), settings),
        )?;
        written.extend(optional.written);
        run.result.warnings.extend(optional.warnings);
        let manifest = crate::write::manifest::Settings {
            practice_packs: &optional.practice_packs,
            ..manifest
        };
        crate::write::manifest::write_audit_manifest(
            out,
            &manifest,
            &run.files,
            &run.result,
            &run.config,
            &written,
        )?;
        let target = match self.target.get() {
            Some(t) => t.clone(),
            None => self.default_target(run.result.as_of),
        };
        self.staging.commit(&target, self.force)?;
        Ok(target)
    }

    fn default_target(&self, as_of: Day) -> PathBuf {
        self.out
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("opal-audit-{}", day_text(as_of))))
    }
}

impl AuditSink for AuditWriter {
    type Items = ItemsWriter;

    fn items_while_reading(&self, config: &AuditConfig) -> Result<Option<ItemsWriter>> {
        if self.format != Format::Csv || self.items != ItemsWanted::All {
            return Ok(None);
        }
        let temp = self
            .dir()
            .join(format!(".items.csv.{}.partial", std::process::id()));
        ItemsWriter::start(temp, config.clone()).map(Some)
    }

    fn audit_date(&self, as_of: Day) -> Result<()> {
        let target = self.default_target(as_of);
        if self.out.is_none() {
            crate::write::table::check_out_dir(&target, self.force)?;
        }
        let _ = self.target.set(target);
        Ok(())
    }

    fn items_after_reading(
        &self,
        r: &AuditResult,
        config: &AuditConfig,
    ) -> Result<Option<PathBuf>> {
        if self.format != Format::Parquet || self.items != ItemsWanted::All {
            return Ok(None);
        }
        write_items_parquet(self.dir(), r, config).map(Some)
    }

    fn review_items(
        &self,
        r: &AuditResult,
        patients: &[PatientRow],
        config: &AuditConfig,
    ) -> Result<Option<PathBuf>> {
        if self.items != ItemsWanted::Review {
            return Ok(None);
        }
        let on_list = crate::write::items::review_patients(r, patients);
        crate::write::items::write_review_items(self.dir(), r, &on_list, config, self.format)
            .map(Some)
    }

    fn patient_lists(&self, patients: &[PatientRow]) -> Result<Vec<PathBuf>> {
        write_patient_lists(self.dir(), patients, self.format)
    }

    fn summaries(&self, c: &Completion, config: &AuditConfig) -> Result<Vec<PathBuf>> {
        write_summaries(self.dir(), c, config, self.format)
    }

    fn finish_items(&self, items: ItemsWriter) -> Result<PathBuf> {
        let path = items.finish(&self.dir().join("items.csv"))?;
        crate::timing::lap("write items");
        Ok(path)
    }
}
