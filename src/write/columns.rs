//! One way to declare an output table: a list of [`Column`]s, each a name, a kind, a one-line
//! meaning and the cell of a row. Every CSV, Parquet and xlsx table opal writes is declared
//! so, and written from its declaration by [`TableWriter`] (or, for the two largest, the
//! patient lists and items, by their own fast writers over the same declaration). The
//! meanings make the workbook's `columns` sheet and the README's column tables
//! ([`crate::write::catalogue`]; a test fails when the README disagrees).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::write::cells::{push_cell, Cell, Kind};
use crate::write::table::{write_atomically, write_parquet, Format, Table, Values};

/// A kind of row a table is made of: `Row<'a>` is one row, borrowing what it shows for `'a`
/// (an item row borrows its product and dose; a summary row is its own).
pub trait Rows {
    type Row<'a>;
    /// What else a column says, for its table's own use: which of the patient lists it is
    /// in, where an item's cell comes from, which summary has it. `()` for most tables.
    type Tag: Copy + 'static;
}

/// The cell of a row of `R`.
pub type CellOf<R> = for<'a> fn(&'a <R as Rows>::Row<'a>) -> Cell<'a>;

/// One column of a table of `R`.
pub struct Column<R: Rows> {
    pub name: &'static str,
    pub kind: Kind,
    /// What it holds, in a sentence.
    pub meaning: &'static str,
    pub tag: R::Tag,
    pub cell: CellOf<R>,
}

impl<R: Rows<Tag = ()>> Column<R> {
    pub const fn new(
        name: &'static str,
        kind: Kind,
        meaning: &'static str,
        cell: CellOf<R>,
    ) -> Column<R> {
        Column::tagged((), name, kind, meaning, cell)
    }
}

impl<R: Rows> Column<R> {
    pub const fn tagged(
        tag: R::Tag,
        name: &'static str,
        kind: Kind,
        meaning: &'static str,
        cell: CellOf<R>,
    ) -> Column<R> {
        Column {
            name,
            kind,
            meaning,
            tag,
            cell,
        }
    }
}

/// A column as the documentation shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnDoc {
    pub name: &'static str,
    pub kind: Kind,
    pub meaning: &'static str,
}

/// The documentation of some columns, in order.
pub fn docs<'c, R: Rows + 'c>(columns: impl IntoIterator<Item = &'c Column<R>>) -> Vec<ColumnDoc> {
    columns
        .into_iter()
        .map(|c| ColumnDoc {
            name: c.name,
            kind: c.kind,
            meaning: c.meaning,
        })
        .collect()
}

/// Whether a cell is of its column's kind (a text column may hold a number written as text,
/// as the counts of `--suppress` are).
fn fits(cell: &Cell, kind: Kind) -> bool {
    matches!(
        (cell, kind),
        (
            Cell::Text(_) | Cell::OptText(_) | Cell::NumberText(_),
            Kind::Text
        ) | (Cell::Number(_), Kind::Number)
            | (Cell::Integer(_), Kind::Integer)
            | (Cell::Flag(_), Kind::Flag)
            | (Cell::Date(_), Kind::Date)
    )
}

/// A row as CSV, with its line end.
fn push_row<'a, R: Rows>(
    bytes: &mut Vec<u8>,
    num: &mut String,
    columns: &[&Column<R>],
    row: &'a R::Row<'a>,
) {
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            bytes.push(b',');
        }
        let cell = (c.cell)(row);
        debug_assert!(fits(&cell, c.kind), "{}: a cell of another kind", c.name);
        push_cell(bytes, num, &cell);
    }
    bytes.push(b'\n');
}

/// The header line of some columns.
fn header<R: Rows>(columns: &[&Column<R>]) -> Vec<u8> {
    let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
    let mut bytes = names.join(",").into_bytes();
    bytes.push(b'\n');
    bytes
}

/// Rows written as CSV to a stream as they come (the answers `opal products` and `opal
/// dose` print, however many inputs they are given), a block of bytes at a time.
pub struct CsvStream<'c, R: Rows, W: std::io::Write> {
    columns: Vec<&'c Column<R>>,
    w: W,
    bytes: Vec<u8>,
    num: String,
}

impl<'c, R: Rows, W: std::io::Write> CsvStream<'c, R, W> {
    pub fn new(columns: impl IntoIterator<Item = &'c Column<R>>, w: W) -> Self {
        let columns: Vec<&Column<R>> = columns.into_iter().collect();
        CsvStream {
            bytes: header(&columns),
            columns,
            w,
            num: String::new(),
        }
    }

    pub fn row<'a>(&mut self, row: &'a R::Row<'a>) -> std::io::Result<()> {
        push_row(&mut self.bytes, &mut self.num, &self.columns, row);
        if self.bytes.len() >= 1 << 16 {
            self.w.write_all(&self.bytes)?;
            self.bytes.clear();
        }
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<()> {
        self.w.write_all(&self.bytes)?;
        self.w.flush()
    }
}

/// Rows on their way to a table file: formatted straight into CSV bytes (a trend's tables have
/// a row per practice, measure and month), or gathered into typed columns for Parquet.
pub struct TableWriter<'c, R: Rows> {
    columns: Vec<&'c Column<R>>,
    out: Out,
}

enum Out {
    Csv { bytes: Vec<u8>, num: String },
    Columns(Vec<Values>),
}

impl<'c, R: Rows> TableWriter<'c, R> {
    pub fn new(columns: impl IntoIterator<Item = &'c Column<R>>, format: Format) -> Self {
        let columns: Vec<&Column<R>> = columns.into_iter().collect();
        let out = match format {
            Format::Csv => Out::Csv {
                bytes: header(&columns),
                num: String::new(),
            },
            Format::Parquet => Out::Columns(
                columns
                    .iter()
                    .map(|c| match c.kind {
                        Kind::Text | Kind::Date => Values::Text(Vec::new()),
                        Kind::Number => Values::Number(Vec::new()),
                        Kind::Integer => Values::Integer(Vec::new()),
                        Kind::Flag => Values::Flag(Vec::new()),
                    })
                    .collect(),
            ),
        };
        TableWriter { columns, out }
    }

    /// Add a row.
    pub fn row<'a>(&mut self, row: &'a R::Row<'a>) {
        match &mut self.out {
            Out::Csv { bytes, num } => push_row(bytes, num, &self.columns, row),
            Out::Columns(values) => {
                for (c, v) in self.columns.iter().zip(values) {
                    let cell = (c.cell)(row);
                    debug_assert!(fits(&cell, c.kind), "{}: a cell of another kind", c.name);
                    match v {
                        Values::Text(v) => v.push(cell.text()),
                        Values::Number(v) => v.push(cell.number()),
                        Values::Integer(v) => v.push(cell.integer()),
                        Values::Flag(v) => v.push(cell.flag()),
                    }
                }
            }
        }
    }

    /// Add rows.
    pub fn rows<'a>(&mut self, rows: impl IntoIterator<Item = &'a R::Row<'a>>)
    where
        R: 'a,
    {
        for r in rows {
            self.row(r);
        }
    }

    /// Write `<dir>/<stem>.<csv|parquet>`; returns its path.
    pub fn write(self, dir: &Path, stem: &str) -> Result<PathBuf> {
        match self.out {
            Out::Csv { bytes, .. } => {
                let path = dir.join(format!("{stem}.csv"));
                write_atomically(&path, |w| {
                    use std::io::Write;
                    w.write_all(&bytes)?;
                    Ok(())
                })
                .with_context(|| format!("cannot write {}", path.display()))?;
                Ok(path)
            }
            Out::Columns(values) => {
                let table = Table {
                    columns: self
                        .columns
                        .iter()
                        .map(|c| c.name.to_string())
                        .zip(values)
                        .collect(),
                };
                write_parquet(dir, stem, &table)
            }
        }
    }
}

/// The typed table of some rows, as Parquet takes it.
pub fn table_of<'a, 'c, R: Rows + 'a + 'c>(
    columns: impl IntoIterator<Item = &'c Column<R>>,
    rows: &[&'a R::Row<'a>],
) -> Table {
    let mut w = TableWriter::new(columns, Format::Parquet);
    for r in rows {
        w.row(r);
    }
    let Out::Columns(values) = w.out else {
        unreachable!("a Parquet writer gathers columns")
    };
    Table {
        columns: w
            .columns
            .iter()
            .map(|c| c.name.to_string())
            .zip(values)
            .collect(),
    }
}

/// Write rows as `<dir>/<stem>.<csv|parquet>`; returns its path.
pub fn write_rows<'a, 'c, R: Rows + 'a + 'c>(
    dir: &Path,
    stem: &str,
    columns: impl IntoIterator<Item = &'c Column<R>>,
    rows: impl IntoIterator<Item = &'a R::Row<'a>>,
    format: Format,
) -> Result<PathBuf> {
    let mut w = TableWriter::new(columns, format);
    w.rows(rows);
    w.write(dir, stem)
}
