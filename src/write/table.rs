//! The typed columns Parquet takes (made only from a declaration of columns,
//! [`crate::write::columns`]), and writing files so that no half-written one looks complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use crate::write::output::push_num;

/// One column of values.
#[derive(Debug, Clone)]
pub enum Values {
    Text(Vec<Option<String>>),
    Number(Vec<Option<f64>>),
    Integer(Vec<Option<i64>>),
    Flag(Vec<Option<bool>>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Text(v) => v.len(),
            Values::Number(v) => v.len(),
            Values::Integer(v) => v.len(),
            Values::Flag(v) => v.len(),
        }
    }

    fn cell(&self, row: usize) -> String {
        let mut out = String::new();
        self.push_cell(row, &mut out);
        out
    }

    /// A cell as CSV writes it, appended to `out` (empty when absent).
    fn push_cell(&self, row: usize, out: &mut String) {
        use std::fmt::Write as _;
        match self {
            Values::Text(v) => out.push_str(&crate::write::output::csv_text(
                v[row].as_deref().unwrap_or(""),
            )),
            Values::Number(v) => {
                if let Some(x) = v[row] {
                    push_num(out, x);
                }
            }
            Values::Integer(v) => {
                if let Some(x) = v[row] {
                    let _ = write!(out, "{x}");
                }
            }
            Values::Flag(v) => {
                if let Some(b) = v[row] {
                    out.push_str(if b { "true" } else { "false" });
                }
            }
        }
    }
}

/// Named columns of equal length. Made only from a declaration of columns
/// ([`crate::write::columns`]), never by hand.
#[derive(Debug, Clone, Default)]
pub struct Table {
    pub(crate) columns: Vec<(String, Values)>,
}

impl Table {
    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |(_, v)| v.len())
    }

    pub fn header(&self) -> Vec<&str> {
        self.columns.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The cells of a row as text, as CSV writes them.
    pub fn row_cells(&self, row: usize) -> Vec<String> {
        self.columns.iter().map(|(_, v)| v.cell(row)).collect()
    }

    /// The table as a polars frame, its columns moved, not copied.
    pub fn into_frame(self) -> PolarsResult<DataFrame> {
        let cols: Vec<Column> = self
            .columns
            .into_iter()
            .map(|(name, v)| {
                let name = PlSmallStr::from(name.as_str());
                match v {
                    Values::Text(x) => Series::new(name, x).into(),
                    Values::Number(x) => Series::new(name, x).into(),
                    Values::Integer(x) => Series::new(name, x).into(),
                    Values::Flag(x) => Series::new(name, x).into(),
                }
            })
            .collect();
        DataFrame::new_infer_height(cols)
    }

    fn to_frame(&self) -> PolarsResult<DataFrame> {
        self.clone().into_frame()
    }
}

/// Output format of tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

/// Write a file so that no half-written file ever looks complete. Inside a run's staging
/// folder (write/outdir.rs) the file is written straight away: the folder is private to the
/// run and reaches the output folder only whole, synced once. Anywhere else (`opal synth
/// --out`) it is written under a temporary name and renamed into place.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> Result<()>,
) -> Result<()> {
    let staged = path.ancestors().skip(1).any(|a| {
        a.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(crate::interrupt::is_staging_name)
    });
    if staged {
        let file =
            File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        return Ok(());
    }
    let mut tmp = PathBuf::from(path);
    let name = format!(
        ".{}.partial",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("out")
    );
    tmp.set_file_name(name);
    let file = File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    crate::interrupt::register(&tmp);
    let written = (|| -> Result<()> {
        let mut w = BufWriter::new(file);
        write(&mut w)?;
        w.flush()?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
        std::fs::rename(&tmp, path)
            .with_context(|| format!("cannot move {} into place", path.display()))
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    crate::interrupt::unregister(&tmp);
    written
}

/// Write a table as `<dir>/<stem>.parquet`; returns the path. (CSV is written straight
/// from the rows: [`crate::write::columns::TableWriter`].)
pub fn write_parquet(dir: &Path, stem: &str, table: &Table) -> Result<PathBuf> {
    let path = dir.join(format!("{stem}.parquet"));
    write_atomically(&path, |w| {
        let mut df = table.to_frame()?;
        ParquetWriter::new(w).finish(&mut df)?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Rows per block of [`write_parquet_blocks`]: polars' own row-group size.
pub const PARQUET_BLOCK_ROWS: usize = 512 * 512;

/// Write `<dir>/<stem>.parquet` from frames of the same columns, one after another (each one
/// or more row groups), so that a large output is never whole in memory. `frames` gives at
/// least one frame, empty if there are no rows, for the columns' types.
pub fn write_parquet_blocks(
    dir: &Path,
    stem: &str,
    mut frames: impl Iterator<Item = PolarsResult<DataFrame>>,
) -> Result<PathBuf> {
    let path = dir.join(format!("{stem}.parquet"));
    write_atomically(&path, |w| {
        let Some(first) = frames.next() else {
            bail!("internal error: no columns for {stem}.parquet");
        };
        let first = first?;
        let mut writer = ParquetWriter::new(w).batched(first.schema())?;
        writer.write_batch(&first)?;
        drop(first);
        for frame in frames {
            writer.write_batch(&frame?)?;
        }
        writer.finish()?;
        Ok(())
    })
    .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

/// Refuse to write into an existing, non-empty output folder unless `--force`.
pub fn check_out_dir(out: &Path, force: bool) -> Result<()> {
    if out.exists() {
        // A folder holding nothing but opal's partial files (a run interrupted before it
        // could remove them) counts as empty: they are removed.
        let names: Option<Vec<String>> = std::fs::read_dir(out).ok().map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        });
        if let Some(names) = &names {
            if !names.is_empty() && names.iter().all(|n| crate::interrupt::is_partial_name(n)) {
                for n in names {
                    let path = out.join(n);
                    if crate::interrupt::is_staging_name(n) && path.is_dir() {
                        // A staging folder left by a run that was killed outright.
                        let _ = std::fs::remove_dir_all(path);
                    } else {
                        let _ = std::fs::remove_file(path);
                    }
                }
            }
        }
        let nonempty = std::fs::read_dir(out)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true);
        if nonempty && !force {
            return Err(crate::error::hinted(
                format!("the output folder {} already exists", out.display()),
                "choose another with --out, or pass \
                 --force to replace the outputs of the run before (files opal did not write \
                 are kept)",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::write::cells::{Cell, Kind};
    use crate::write::columns::{table_of, Column, Rows};

    struct Dose {
        id: String,
        dose: Option<f64>,
    }

    impl Rows for Dose {
        type Row<'a> = Dose;
        type Tag = ();
    }

    const COLUMNS: &[Column<Dose>] = &[
        Column::new("id", Kind::Text, "An id.", |r| Cell::Text(&r.id)),
        Column::new("dose", Kind::Number, "A dose.", |r| Cell::Number(r.dose)),
    ];

    fn block(ids: &[&str], doses: &[Option<f64>]) -> PolarsResult<DataFrame> {
        let rows: Vec<Dose> = ids
            .iter()
            .zip(doses)
            .map(|(id, &dose)| Dose {
                id: id.to_string(),
                dose,
            })
            .collect();
        let refs: Vec<&Dose> = rows.iter().collect();
        table_of(COLUMNS, &refs).into_frame()
    }

    /// Blocks written one after another read back as one table, rows in order; an empty first
    /// block (no rows) still gives the columns.
    #[test]
    fn parquet_blocks_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let frames = vec![
            block(&["a", "b"], &[Some(1.5), None]),
            block(&["c"], &[Some(120.0)]),
            block(&[], &[]),
            block(&["d,e"], &[Some(0.25)]),
        ];
        let path = write_parquet_blocks(dir.path(), "t", frames.into_iter()).unwrap();
        let df = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        let ids: Vec<Option<&str>> = df.column("id").unwrap().str().unwrap().iter().collect();
        assert_eq!(ids, [Some("a"), Some("b"), Some("c"), Some("d,e")]);
        let doses: Vec<Option<f64>> = df.column("dose").unwrap().f64().unwrap().iter().collect();
        assert_eq!(doses, [Some(1.5), None, Some(120.0), Some(0.25)]);

        let path =
            write_parquet_blocks(dir.path(), "empty", std::iter::once(block(&[], &[]))).unwrap();
        let df = ParquetReader::new(File::open(&path).unwrap())
            .finish()
            .unwrap();
        assert_eq!(df.height(), 0);
        assert_eq!(df.get_column_names(), ["id", "dose"]);
    }
}
